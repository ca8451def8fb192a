//! `jiuzhu import feed` and `jiuzhu verify run`: departments' deliveries kept with their
//! provenance, and the monthly comparison (一月一比对) run from the store (docs/feeds.md).
//! Thin: the work is `jiuzhu_store::feeds`, shared with the web API and the benchmark.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use jiuzhu_domain::access::{ImportFeeds, RunVerification};
use jiuzhu_domain::{Actor, Clock, DivisionCode};
use jiuzhu_store::feeds::{self, FeedFiles, MonthRequest, NewFeedFile, RunFeed};
use jiuzhu_store::Store;
use jiuzhu_verify::{FeedKind, VerifyPolicy, YearMonth};

#[derive(clap::Args, Debug)]
pub struct FeedArgs {
    /// Feed kind: civil_deaths, vehicles, deposits, real_estate, business, social_insurance,
    /// medical_claims, pensions, housing_fund, imprisonment, hukou_moves.
    #[arg(long)]
    pub kind: String,
    /// The delivering department or institution, e.g. "XX银行".
    #[arg(long)]
    pub source: String,
    /// The date the data describes (YYYY-MM-DD).
    #[arg(long)]
    pub data_date: NaiveDate,
    pub file: PathBuf,
}

#[derive(clap::Subcommand, Debug)]
pub enum VerifyCommand {
    /// The monthly comparison: every recipient household against the latest accepted delivery
    /// of each kind with a data date up to the month's end; stores the warnings.
    Run {
        /// YYYY-MM
        #[arg(long)]
        month: String,
        /// Only the households under this division.
        #[arg(long)]
        division: Option<String>,
    },
}

pub async fn import_feed(
    args: &FeedArgs,
    store: &dyn Store,
    actor: &Actor,
    data_dir: &Path,
) -> anyhow::Result<ExitCode> {
    let kind = FeedKind::parse(&args.kind)
        .ok_or_else(|| anyhow!("未知的数据类别 (unknown feed kind) {:?}", args.kind))?;
    let g = actor.grant::<ImportFeeds>()?;
    let files = FeedFiles::new(data_dir);
    files.remove_abandoned_staging()?;
    let imported = feeds::import_feed(
        store,
        &g,
        &files,
        &NewFeedFile {
            kind,
            source: args.source.clone(),
            data_date: args.data_date,
            path: args.file.clone(),
            staged: false,
        },
    )
    .await?;
    let d = &imported.delivery;
    println!(
        "{}",
        serde_json::json!({
            "delivery": d.id, "kind": d.kind, "source": d.source,
            "data_date": d.data_date.to_string(), "sha256": d.sha256, "bytes": d.bytes,
            "rows": d.rows_total, "accepted": d.rows_accepted, "rejected": d.rows_rejected,
            "status": d.status, "kept_as": files.path_of(&d.content_key).display().to_string(),
        })
    );
    for r in imported.rejections.iter().take(20) {
        eprintln!(
            "  第 {} 行 {}:{} [{}]",
            r.row,
            r.column.as_deref().unwrap_or("整行"),
            r.reason,
            r.code
        );
    }
    if imported.rejections.len() > 20 {
        eprintln!("  … 共 {} 行被拒收", d.rows_rejected);
    }
    if d.status == "refused" {
        eprintln!("数据被整批退回,原因见上 (delivery refused, see the reasons above)");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run(
    cmd: &VerifyCommand,
    store: &dyn Store,
    actor: &Actor,
    clock: &dyn Clock,
    data_dir: &Path,
) -> anyhow::Result<ExitCode> {
    let VerifyCommand::Run { month, division } = cmd;
    let month = YearMonth::parse(month).ok_or_else(|| anyhow!("--month {month:?} 应为 YYYY-MM"))?;
    let division = division
        .as_deref()
        .map(|d| DivisionCode::parse(d).map_err(|e| anyhow!("--division {d:?}: {e}")))
        .transpose()?;
    let Some(report) = run_month(store, actor, clock, data_dir, month, division).await? else {
        eprintln!("没有可用的核对数据 (no accepted delivery up to the month's end)");
        return Ok(ExitCode::from(2));
    };
    let mut by_township: std::collections::BTreeMap<String, u64> = Default::default();
    for w in &report.warnings {
        let d = report.caseload.division(w.household);
        let t = d.township().unwrap_or_else(|| d.clone()).to_string();
        *by_township.entry(t).or_default() += 1;
    }
    println!(
        "{}",
        serde_json::json!({
            "run": report.run.id,
            "month": report.run.month,
            "households": report.run.households,
            "warnings": report.run.warnings,
            "by_kind": report.run.counts,
            "by_township": by_township,
            "leads": report.leads_stored,
            "deliveries": report.used.iter().map(|d| serde_json::json!({
                "id": d.id, "kind": d.kind, "data_date": d.data_date.to_string(),
                "sha256": d.sha256,
            })).collect::<Vec<_>>(),
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// The month's comparison over the latest accepted delivery of each kind, stored with its
/// warnings; `None` when there is no delivery to compare with. Shared with the demo's seeding.
pub async fn run_month(
    store: &dyn Store,
    actor: &Actor,
    clock: &dyn Clock,
    data_dir: &Path,
    month: YearMonth,
    division: Option<DivisionCode>,
) -> anyhow::Result<Option<feeds::RunReport>> {
    let g = actor.grant::<RunVerification>()?;
    let kept = store
        .deliveries_for_run(&g, feeds::month_end(month))
        .await?;
    if kept.is_empty() {
        return Ok(None);
    }
    // One policy per run: a run over several counties takes the thresholds of `--division`, or
    // the demo values of docs/feeds.md when none is given.
    let policy = match &division {
        Some(d) => {
            let lib = crate::cmd_policy::effective_library(store, actor).await?;
            jiuzhu_web::verify_params::verify_policy(&lib, d, feeds::month_end(month))?
        }
        None => {
            eprintln!("未指定 --division:使用演示阈值 (demo thresholds, docs/feeds.md)");
            VerifyPolicy::bench_default()
        }
    };
    // Warnings are due the policy's working days after today, on the effective calendar
    // (shipped file plus the administrators' stored edits).
    let lib = crate::cmd_policy::effective_library(store, actor).await?;
    let edits = store
        .calendar_edits(&actor.grant::<jiuzhu_domain::access::ReadRegistry>()?)
        .await?;
    let calendar = jiuzhu_web::calendar_cache::build(&edits, None)
        .map_err(|e| anyhow!("工作日历无法加载:{}", e.message_zh()))?;
    let due = jiuzhu_web::warnings::handling_due(&lib, &calendar, division.as_ref(), clock.today())
        .map_err(|e| anyhow!("预警到期日无法计算:{e}"))?;
    let files = FeedFiles::new(data_dir);
    let report = feeds::run_from_store(
        store,
        &g,
        None,
        &files,
        &MonthRequest {
            month,
            division,
            policy: &policy,
            threads: 2,
            started_at: clock.now(),
            due,
        },
        kept.into_iter().map(RunFeed::Kept).collect(),
    )
    .await
    .context("monthly comparison")?;
    Ok(Some(report))
}
