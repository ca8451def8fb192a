//! `jiuzhu policy list | show REGION | set REGION … | withdraw SEQ …`: the policy parameters of
//! the database given by `--database` (the embedded files plus the stored revisions), and
//! recording or withdrawing revisions from the command line — the same validation, concurrency
//! check and audit event as the web page (docs/policy.md, "Revisions").

use anyhow::{anyhow, bail};
use jiuzhu_app::policy::{RevisionInput, WithdrawInput};
use jiuzhu_domain::access::{ManagePolicies, ReadRegistry};
use jiuzhu_domain::{Actor, DivisionCode};
use jiuzhu_policy::value_text;

#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// The policy regions and their versions (with the revision level).
    List,
    /// Every parameter of a region: in force today, scheduled, and the region's revisions.
    Show {
        /// Division code of county level or above (000000 for the nation).
        region: String,
    },
    /// Record a dated value for a parameter of a region.
    Set {
        region: String,
        #[arg(long)]
        param: String,
        /// Effective from, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: String,
        /// In the notation of the policy files (850.00, 0.30, 60, true, a choice word, tiers).
        #[arg(long)]
        value: String,
        /// Title of the deciding document.
        #[arg(long)]
        document: String,
        /// Its number (文号).
        #[arg(long)]
        number: Option<String>,
        /// Article / clause.
        #[arg(long)]
        article: Option<String>,
        #[arg(long)]
        reason: String,
        /// Why a date before today is right (追溯生效): months already computed change. Required
        /// for such a date; preview the change first with `jiuzhu whatif`.
        #[arg(long)]
        retroactive_reason: Option<String>,
        /// The newest revision of the region you based this on (`policy show` prints it; 0 when
        /// the region has none): a revision recorded meanwhile refuses this one.
        #[arg(long)]
        expected_seq: Option<i64>,
    },
    /// Withdraw a revision that is not in force yet.
    Withdraw {
        seq: i64,
        #[arg(long)]
        reason: String,
        /// The newest revision of the region you based this on (`policy show` prints it).
        #[arg(long)]
        expected_seq: Option<i64>,
    },
}

/// The optimistic-concurrency check of the page, on the command line too: the operator says
/// which revision the change is based on, never the newest one stored by default.
fn required_expected(expected_seq: Option<i64>) -> anyhow::Result<i64> {
    expected_seq.ok_or_else(|| {
        anyhow!(
            "缺少 --expected-seq:请填写本次调整所依据的本地区最新调整序号(见 jiuzhu policy show;\
             尚无调整时为 0),以免覆盖他人同时所作的调整 (expected_seq is required)"
        )
    })
}

async fn latest_seq(
    app: &jiuzhu_app::App,
    actor: &Actor,
    region: &DivisionCode,
) -> anyhow::Result<i64> {
    let revs = app
        .policy_revisions(&actor.grant::<ReadRegistry>()?, Some(region))
        .await?;
    Ok(revs.iter().map(|r| r.seq).max().unwrap_or(0))
}

pub async fn run(cmd: &PolicyCommand, app: &jiuzhu_app::App, actor: &Actor) -> anyhow::Result<()> {
    let clock = app.clock().as_ref();
    // The embedded files with every stored revision applied, as every computation uses them.
    let params = app.params().await?;
    let lib = params.policies.as_ref();
    match cmd {
        PolicyCommand::List => {
            println!("当前调整序号 r{}", lib.revision_level());
            for f in lib.files() {
                println!("{}\t{}\t{}", f.region, f.name, f.version);
            }
        }
        PolicyCommand::Show { region } => {
            let code = DivisionCode::parse(region).map_err(|e| anyhow!(e.message_zh()))?;
            let today = clock.today();
            println!("{code}(以 {today} 为今天)");
            println!(
                "本地区最新调整序号 r{}(记录或撤回调整时以 --expected-seq 给出)",
                latest_seq(app, actor, &code).await?
            );
            for s in lib.param_states(&code, today) {
                let current = s
                    .current
                    .as_ref()
                    .map(|e| format!("{}({} {} 起)", value_text(&e.value), e.region_name, e.from))
                    .unwrap_or_else(|| "未设定".into());
                let scheduled: Vec<String> = s
                    .scheduled
                    .iter()
                    .map(|e| format!("{} 起 {}", e.from, value_text(&e.value)))
                    .collect();
                print!("{}\t{}\t{current}", s.def.name, s.def.label_zh);
                if !scheduled.is_empty() {
                    print!("\t已排期:{}", scheduled.join(";"));
                }
                println!();
            }
            let revs = app
                .policy_revisions(&actor.grant::<ReadRegistry>()?, Some(&code))
                .await?;
            for r in revs {
                println!(
                    "r{}\t{}\t{}\t{} 起\t{}\t{}\t{}",
                    r.seq,
                    r.kind.label_zh(),
                    r.param,
                    r.effective_from,
                    r.value,
                    r.user_name,
                    r.reason
                );
            }
        }
        PolicyCommand::Set {
            region,
            param,
            from,
            value,
            document,
            number,
            article,
            reason,
            retroactive_reason,
            expected_seq,
        } => {
            let input = RevisionInput {
                expected_seq: Some(required_expected(*expected_seq)?),
                param: param.clone(),
                effective_from: from.clone(),
                value: value.clone(),
                document: document.clone(),
                number: number.clone(),
                article: article.clone(),
                reason: reason.clone(),
                retroactive_reason: retroactive_reason.clone(),
            };
            let grant = actor.grant::<ManagePolicies>()?;
            let rev = match app.record_policy_revision(&grant, region, &input).await {
                Ok(rev) => rev,
                Err(jiuzhu_app::Error::Invalid(errors)) => {
                    for e in &errors {
                        eprintln!("{}", e.message);
                    }
                    bail!("调整未保存 (revision rejected)");
                }
                Err(e) => return Err(e.into()),
            };
            println!(
                "已记录调整 r{}:{} {} 自 {} 起为 {}",
                rev.seq, rev.region, rev.param, rev.effective_from, rev.value
            );
        }
        PolicyCommand::Withdraw {
            seq,
            reason,
            expected_seq,
        } => {
            let grant = actor.grant::<ManagePolicies>()?;
            let input = WithdrawInput {
                expected_seq: Some(required_expected(*expected_seq)?),
                reason: reason.clone(),
            };
            let rev = app.withdraw_policy_revision(&grant, *seq, &input).await?;
            println!("已撤回 r{seq}(撤回记录 r{})", rev.seq);
        }
    }
    Ok(())
}
