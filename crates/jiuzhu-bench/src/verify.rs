//! `jiuzhu-bench verify --dir DIR --month 2024-06 --out FILE`: the monthly comparison
//! (一月一比对) of shared/bench/verify through the product's own path.
//!
//! A fresh SQLite store in a temporary directory gets the caseload of DIR through the product's
//! caseload import (untimed: the platform's caseload is in its store before a month is run).
//! The job, timed as `seconds`, is `jiuzhu_app::verification::run_from_store`, as `jiuzhu verify run`
//! calls it: read the caseload index from the store, stream the seven feed files once (SHA-256,
//! row counts, bad rows and matching in one pass), keep each file in the data directory under
//! its SHA-256 (a hard link: the copy would cost more than the comparison), record the
//! deliveries and store the run's warnings. Then it writes the sorted `household_id,KIND` list
//! (the caseload file's household ids, kept by the import as the households' `source_ref`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use jiuzhu_app::verification::{self as feeds, MonthRequest, NewFeedFile, RunFeed};
use jiuzhu_domain::access::{ImportCaseload, ImportFeeds, ManageDivisions, RunVerification};
use jiuzhu_domain::{Actor, Clock, DivisionCode, Month, SystemClock};
use jiuzhu_store::prelude::*;
use jiuzhu_store::Store;
use jiuzhu_verify::{FeedKind, FeedKindSchema};
use sha2::{Digest, Sha256};

pub fn main() -> anyhow::Result<()> {
    let mut it = std::env::args().skip(2);
    let (mut dir, mut month, mut out) = (None, None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = it.next().map(PathBuf::from),
            "--month" => month = it.next(),
            "--out" => out = it.next().map(PathBuf::from),
            other => bail!("unknown argument {other}"),
        }
    }
    let usage = "usage: jiuzhu-bench verify --dir DIR --month YYYY-MM --out FILE";
    let dir = dir.context(usage)?;
    let month = month.context(usage)?;
    let month = Month::parse(&month).ok_or_else(|| anyhow!("--month {month:?} is not YYYY-MM"))?;
    let out = out.context(usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(dir, month, out))
}

/// The counties of the generator's caseload (shared/bench/verify/gen_feeds.py); the import
/// creates the townships and villages below them.
const COUNTIES: &[&str] = &[
    "371002", "371003", "371082", "371083", "520304", "430321", "341882", "330203",
];

/// The benchmark's thresholds (verify-policy/): the peer's values for every county of the
/// caseload, instead of the shipped policy files.
const BENCH_POLICIES: &[(&str, &str)] = &[
    (
        "000000-bench.toml",
        include_str!("../verify-policy/000000-bench.toml"),
    ),
    (
        "330000-bench.toml",
        include_str!("../verify-policy/330000-bench.toml"),
    ),
    (
        "340000-bench.toml",
        include_str!("../verify-policy/340000-bench.toml"),
    ),
    (
        "370000-bench.toml",
        include_str!("../verify-policy/370000-bench.toml"),
    ),
    (
        "430000-bench.toml",
        include_str!("../verify-policy/430000-bench.toml"),
    ),
    (
        "520000-bench.toml",
        include_str!("../verify-policy/520000-bench.toml"),
    ),
];

pub fn bench_policies() -> anyhow::Result<jiuzhu_policy::PolicyLibrary> {
    jiuzhu_policy::PolicyLibrary::from_texts(
        BENCH_POLICIES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string())),
    )
    .map_err(|errors| {
        anyhow!(
            "the benchmark's policy files: {}",
            errors
                .iter()
                .map(|e| e.message_zh())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

async fn run(dir: PathBuf, month: Month, out: PathBuf) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir().context("temporary directory")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let url = format!("sqlite://{}", tmp.path().join("bench.sqlite").display());
    let store = jiuzhu_store::connect(
        &url,
        clock.clone(),
        jiuzhu_store::data_key::DataKeys::generate(),
    )
    .await?;
    let actor = Actor::system("bench");
    // SQLite's page cache is process-wide memory: the caseload import asks for a large cache
    // (fast, for a one-off), and the bench's peak memory would be that cache. A soft heap limit
    // makes SQLite recycle pages instead; the import is untimed.
    store
        .execute_raw("PRAGMA soft_heap_limit = 67108864")
        .await?;

    // Untimed: the caseload into the store, the way `jiuzhu import caseload` does it.
    let t_import = Instant::now();
    let counties: Vec<(DivisionCode, String)> = COUNTIES
        .iter()
        .map(|c| {
            Ok((
                DivisionCode::parse(c).map_err(|e| anyhow!("{e}"))?,
                format!("县{c}"),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    store
        .import_divisions(&actor.grant::<ManageDivisions>()?, &counties)
        .await?;
    import_caseload_in_parts(&store, &actor, &dir, month).await?;
    // As after any caseload import: the store's snapshot of the caseload for the month.
    feeds::refresh_caseload_snapshot(
        &store,
        &actor.grant::<RunVerification>()?,
        None,
        month.last_day(),
    )
    .await?;
    report_peak("caseload imported and snapshot taken");
    // The store at rest before the job: nothing left in the write-ahead log.
    store.execute_raw("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    // One registered source per kind: the seven files are one delivery each.
    let register = actor.grant::<jiuzhu_domain::access::ManageFeedSources>()?;
    for kind in FeedKind::BENCH {
        store
            .register_feed_source(
                &register,
                &jiuzhu_store::NewFeedSource {
                    kind: kind.as_str().into(),
                    code: bench_source(*kind),
                    name: kind.schema().source_zh.into(),
                    division: DivisionCode::nation(),
                    accounts: Vec::new(),
                },
            )
            .await?;
    }
    let import_s = t_import.elapsed().as_secs_f64();

    // The job.
    let data_date = month.last_day();
    let new_files: Vec<RunFeed> = FeedKind::BENCH
        .iter()
        .map(|&kind| {
            RunFeed::New(NewFeedFile {
                kind,
                source: bench_source(kind),
                data_date,
                path: dir.join(format!("{}.csv", kind.as_str())),
                staged: false,
            })
        })
        .collect();
    // Untimed: the application with the benchmark's thresholds, its parameters read.
    let store: Arc<dyn Store> = Arc::new(store);
    let app = jiuzhu_app::App::builder(store.clone(), clock.clone())
        .policies(bench_policies()?)
        .feeds_dir(tmp.path())
        .build()?;
    let params = app.params().await?;
    let g_run = actor.grant::<RunVerification>()?;
    let g_import = actor.grant::<ImportFeeds>()?;
    let cpu_before = process_cpu_seconds();
    let t = Instant::now();
    let report = feeds::run_from_store(
        store.as_ref(),
        &g_run,
        Some(&g_import),
        app.feeds(),
        &MonthRequest {
            month,
            division: None,
            policies: &params.policies,
            threads: 2,
            started_at: clock.now(),
            // A fixed due date: the benchmark has no calendar and does not handle warnings.
            due: clock.today() + chrono::Days::new(21),
            sources: Vec::new(),
        },
        new_files,
    )
    .await?;
    let seconds = t.elapsed().as_secs_f64();
    let cpu_seconds = match (cpu_before, process_cpu_seconds()) {
        (Some(a), Some(b)) => Some(((b - a) * 100.0).round() / 100.0),
        _ => None,
    };

    let mut lines: Vec<String> = report
        .warnings
        .iter()
        .map(|w| {
            format!(
                "{},{}",
                report.caseload.source_ref(w.household),
                w.kind.as_str()
            )
        })
        .collect();
    // The check list is sorted by household number, then kind.
    lines.sort_unstable_by(|a, b| {
        let key = |l: &str| {
            let (h, k) = l.split_once(',').unwrap_or((l, ""));
            (h.parse::<i64>().ok(), h.to_string(), k.to_string())
        };
        key(a).cmp(&key(b))
    });
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    let mut households: Vec<i64> = report.warnings.iter().map(|w| w.household_ref).collect();
    households.dedup();
    let deliveries: Vec<serde_json::Value> = report
        .imported
        .iter()
        .map(|i| {
            serde_json::json!({
                "id": i.delivery.id, "kind": i.delivery.kind, "sha256": i.delivery.sha256,
                "rows": i.delivery.rows_total, "rejected": i.delivery.rows_rejected,
                "status": i.delivery.status, "kept_as": i.delivery.content_key,
            })
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "month": month.to_string(),
            "caseload_households": report.caseload.index.households(),
            "caseload_members": report.caseload.index.members(),
            "import_seconds": (import_s * 1000.0).round() / 1000.0,
            "warnings_by_kind": feeds::counts_by_kind(&report.warnings),
            "households": households.len(),
            "warnings": report.warnings.len(),
            "run_id": report.run.id,
            "sha256": hex::encode(Sha256::digest(text.as_bytes())),
            "seconds": (seconds * 1000.0).round() / 1000.0,
            // User + system time of the job on all threads: what the two cores had to do.
            "cpu_seconds": cpu_seconds,
            "deliveries": deliveries,
        })
    );
    drop(store);
    Ok(())
}

/// Households per import batch. The product's import validates a whole batch in memory before
/// writing it in one transaction; cutting the province-sized caseload into batches of whole
/// households keeps the process's peak memory at one batch instead of the whole caseload.
const IMPORT_PART: usize = 20_000;

/// The caseload files of DIR through `jiuzhu_import::caseload::parse` and
/// `Store::import_caseload`, in parts of whole households (the members file lists households in
/// the order of the households file, as the generator writes it; checked).
async fn import_caseload_in_parts(
    store: &jiuzhu_store::SqlStore,
    actor: &Actor,
    dir: &std::path::Path,
    month: Month,
) -> anyhow::Result<()> {
    let valid_from = month.first_day();
    use std::io::BufRead;
    let open = |name: &str| -> anyhow::Result<std::io::Lines<std::io::BufReader<std::fs::File>>> {
        let p = dir.join(name);
        let f = std::fs::File::open(&p).with_context(|| format!("reading {}", p.display()))?;
        Ok(std::io::BufReader::new(f).lines())
    };
    let mut h_lines = open("caseload_households.csv")?;
    let mut m_lines = open("caseload_members.csv")?;
    let h_header = h_lines.next().context("households file is empty")??;
    let m_header = m_lines.next().context("members file is empty")??;
    let mut pending: Option<String> = None;
    let grant = actor.grant::<ImportCaseload>()?;
    loop {
        let part: Vec<String> = h_lines
            .by_ref()
            .take(IMPORT_PART)
            .collect::<std::io::Result<_>>()?;
        if part.is_empty() {
            break;
        }
        let mut h_text = h_header.clone();
        let mut m_text = m_header.clone();
        for h in &part {
            h_text.push('\n');
            h_text.push_str(h);
            let id = h.split(',').next().unwrap_or("");
            loop {
                let m = match pending.take() {
                    Some(m) => m,
                    None => match m_lines.next() {
                        Some(m) => m?,
                        None => break,
                    },
                };
                if m.split(',').next() != Some(id) {
                    pending = Some(m);
                    break;
                }
                m_text.push('\n');
                m_text.push_str(&m);
            }
        }
        let batch = jiuzhu_import::caseload::parse(
            &jiuzhu_import::Input::new("caseload_households.csv", h_text.into_bytes()),
            &jiuzhu_import::Input::new("caseload_members.csv", m_text.into_bytes()),
            valid_from,
            true,
            jiuzhu_import::caseload::Limits::COMMAND_LINE,
        )
        .map_err(|e| {
            anyhow!(
                "caseload rejected: {} errors, first {:?}",
                e.0.len(),
                e.0.first()
            )
        })?;
        store.import_caseload(&grant, &batch, &|_, _| {}).await?;
        report_peak("part imported");
    }
    if pending.is_some() || m_lines.next().is_some() {
        bail!("caseload_members.csv lists households out of the households file's order");
    }
    Ok(())
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`; clock ticks of
/// 1/100 s), or `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// With `JIUZHU_VERIFY_TIMING` set, prints the process's peak memory so far (Linux `VmHWM`)
/// after `what`.
fn report_peak(what: &str) {
    if std::env::var_os("JIUZHU_VERIFY_TIMING").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let hwm = status
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .unwrap_or("");
        eprintln!("{what}: {hwm}");
    }
}

/// The registered source code of a kind's benchmark file.
fn bench_source(kind: FeedKind) -> String {
    format!("bench-{}", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiuzhu_domain::Money;

    /// Every county of the caseload resolves to the peer's thresholds (shared/bench/README.md),
    /// on which the check value rests; none to the shipped policies.
    #[test]
    fn every_bench_county_has_the_peer_thresholds() {
        let lib = bench_policies().unwrap();
        let day = Month::parse("2024-06").unwrap().last_day();
        for county in COUNTIES {
            let p = jiuzhu_app::verification::thresholds::verify_policy(
                &lib,
                &DivisionCode::parse(county).unwrap(),
                day,
            )
            .unwrap();
            assert_eq!(
                p,
                jiuzhu_verify::VerifyPolicy {
                    urban_standard: Money::from_yuan(1000),
                    rural_standard: Money::from_yuan(800),
                    deposit_limit_per_member: Money::from_yuan(30000),
                    medical_line: Money::from_yuan(4000),
                    medical_outreach_line: None,
                    excluded_vehicle_types: vec!["disabled_mobility".into()],
                    residential_allowed: 1,
                },
                "{county}"
            );
        }
    }
}
