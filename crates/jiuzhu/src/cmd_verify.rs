//! `jiuzhu import feed` and `jiuzhu verify run`: departments' deliveries kept with their
//! provenance, and the monthly comparison (一月一比对) run from the store (docs/feeds.md).
//! Thin: the work is `jiuzhu_app::verification`, shared with the web API and the benchmark.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use jiuzhu_app::verification::{self as feeds, NewFeedFile};
use jiuzhu_app::App;
use jiuzhu_domain::access::{ImportFeeds, RunVerification};
use jiuzhu_domain::{Actor, DivisionCode, Month};
use jiuzhu_store::Store;
use jiuzhu_verify::FeedKind;

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
    /// Registers a data provider (数据来源) of a kind: every delivery names a registered source,
    /// and a run reads the latest delivery of each one.
    AddSource {
        /// Feed kind (as for `import feed --kind`).
        #[arg(long)]
        kind: String,
        /// Its code within the kind (letters, digits, `-`, `_`), e.g. ICBC-WH.
        #[arg(long)]
        code: String,
        /// Its name, e.g. 中国工商银行威海分行.
        #[arg(long)]
        name: String,
        /// The region that keeps it (its runs and those above and below count it).
        #[arg(long)]
        division: String,
    },
    /// Lists the registered data providers.
    Sources,
}

pub async fn import_feed(args: &FeedArgs, app: &App, actor: &Actor) -> anyhow::Result<ExitCode> {
    let kind = FeedKind::parse(&args.kind)
        .ok_or_else(|| anyhow!("未知的数据类别 (unknown feed kind) {:?}", args.kind))?;
    let g = actor.grant::<ImportFeeds>()?;
    app.feeds().remove_abandoned_staging()?;
    let imported = feeds::import_feed(
        app,
        &g,
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
            "status": d.status, "kept_as": app.feeds().path_of(&d.content_key).display().to_string(),
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

pub async fn run(cmd: &VerifyCommand, app: &App, actor: &Actor) -> anyhow::Result<ExitCode> {
    let store = app.store().as_ref();
    let (month, division) = match cmd {
        VerifyCommand::Run { month, division } => (month, division),
        VerifyCommand::AddSource {
            kind,
            code,
            name,
            division,
        } => return add_source(store, actor, kind, code, name, division).await,
        VerifyCommand::Sources => return list_sources(store, actor).await,
    };
    let month = Month::parse(month).ok_or_else(|| anyhow!("--month {month:?} 应为 YYYY-MM"))?;
    let division = division
        .as_deref()
        .map(|d| DivisionCode::parse(d).map_err(|e| anyhow!("--division {d:?}: {e}")))
        .transpose()?;
    let Some(report) = run_month(app, actor, month, division).await? else {
        eprintln!("没有可用的核对数据 (no accepted delivery up to the month's end)");
        return Ok(ExitCode::from(2));
    };
    println!(
        "{}",
        serde_json::json!({
            "run": report.run.id,
            "month": report.run.month,
            "households": report.run.households,
            "warnings": report.run.warnings,
            "by_kind": report.run.counts,
            "found_by_kind": report.run.carried.found,
            "found_by_township": report.found_by_township(),
            "still_open": report.run.carried.still_open,
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
    app: &App,
    actor: &Actor,
    month: Month,
    division: Option<DivisionCode>,
) -> anyhow::Result<Option<feeds::RunReport>> {
    let g = actor.grant::<RunVerification>()?;
    let planned = feeds::plan_run(app, &g, month, division)
        .await
        .map_err(|e| anyhow!("{}", app_error_text(&e)))?;
    for s in planned
        .plan
        .sources
        .iter()
        .filter(|s| s.status != jiuzhu_store::SourceUse::Used)
    {
        eprintln!("数据来源 {}({}):{}", s.name, s.code, s.status.label_zh());
    }
    if let Err(e) = planned.something_to_compare() {
        eprintln!("{}", app_error_text(&e));
        return Ok(None);
    }
    let report = feeds::run_planned(app, &g, planned)
        .await
        .context("monthly comparison")?;
    Ok(Some(report))
}

/// An application error as the operator reads it: each field's message, else the error's.
fn app_error_text(e: &jiuzhu_app::Error) -> String {
    match e {
        jiuzhu_app::Error::Invalid(fields) => fields
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    }
}

async fn add_source(
    store: &dyn Store,
    actor: &Actor,
    kind: &str,
    code: &str,
    name: &str,
    division: &str,
) -> anyhow::Result<ExitCode> {
    let division =
        DivisionCode::parse(division).map_err(|e| anyhow!("--division {division:?}: {e}"))?;
    let new = jiuzhu_store::NewFeedSource {
        kind: FeedKind::parse(kind)
            .map(|k| k.as_str().to_string())
            .unwrap_or_else(|| kind.to_string()),
        code: code.to_string(),
        name: name.to_string(),
        division,
        accounts: Vec::new(),
    };
    match store.register_feed_source(&actor.grant()?, &new).await {
        Ok(s) => {
            println!("已登记数据来源:{}({},{})", s.name, s.code, s.kind);
            Ok(ExitCode::SUCCESS)
        }
        Err(jiuzhu_store::StoreError::Invalid(errors)) => {
            eprintln!("数据来源未登记,共 {} 处错误:", errors.0.len());
            for e in &errors.0 {
                eprintln!("  {}:{}({})", e.field, e.message, e.code);
            }
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.into()),
    }
}

async fn list_sources(store: &dyn Store, actor: &Actor) -> anyhow::Result<ExitCode> {
    let reader = jiuzhu_store::DeliveryReader::Verification(actor.grant()?);
    for s in store.feed_sources(&reader).await? {
        let kind = FeedKind::parse(&s.kind).map_or(s.kind.as_str(), |k| k.label_zh());
        println!(
            "{kind}\t{}\t{}\t{}{}",
            s.code,
            s.name,
            s.division,
            if s.retired { "\t已停用" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
