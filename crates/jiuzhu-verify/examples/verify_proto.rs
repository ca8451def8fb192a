//! Timing prototype of the monthly comparison over the benchmark's files:
//! `verify_proto --dir /tmp/feeds --month 2024-06 --out /tmp/w.csv [--threads 2] [--outreach]`.
//! Loads the caseload CSVs into the index (not timed as the job), then times the feed pass and
//! writes the sorted `household_id,KIND` list. Prints JSON.

use std::path::PathBuf;
use std::time::Instant;

use jiuzhu_domain::{Money, Month};
use jiuzhu_verify::{load, run_month, Delivery, FeedKind, IngestOptions, VerifyPolicy};
use sha2::{Digest, Sha256};

fn main() {
    let mut dir = PathBuf::from("/tmp/feeds");
    let mut month = "2024-06".to_string();
    let mut out: Option<PathBuf> = None;
    let mut threads = 2;
    let mut outreach = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next().expect("--dir DIR").into(),
            "--month" => month = args.next().expect("--month YYYY-MM"),
            "--out" => out = Some(args.next().expect("--out FILE").into()),
            "--threads" => threads = args.next().expect("n").parse().expect("number"),
            "--outreach" => outreach = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let month = Month::parse(&month).expect("month YYYY-MM");
    let t0 = Instant::now();
    let index = load::caseload_csv(
        std::fs::File::open(dir.join("caseload_households.csv")).expect("households"),
        std::fs::File::open(dir.join("caseload_members.csv")).expect("members"),
    )
    .expect("caseload");
    let load_s = t0.elapsed().as_secs_f64();
    let mut policy = VerifyPolicy::bench_default();
    if outreach {
        policy.medical_outreach_line = Some(Money::from_yuan(10000));
    }

    let t1 = Instant::now();
    let deliveries: Vec<Delivery<std::fs::File>> = FeedKind::BENCH
        .iter()
        .map(|&kind| {
            let path = dir.join(format!("{}.csv", kind.as_str()));
            let file = std::fs::File::open(&path).expect("feed file");
            let size_hint = file.metadata().map(|m| m.len()).unwrap_or(0);
            Delivery {
                kind,
                reader: file,
                size_hint,
                options: IngestOptions::default(),
                prehash: None,
            }
        })
        .collect();
    let run = run_month(
        &index,
        &jiuzhu_verify::Thresholds::from(policy.clone()),
        month,
        deliveries,
        threads,
    );
    let job_s = t1.elapsed().as_secs_f64();

    let lines = run.warning_lines();
    if let Some(out) = &out {
        std::fs::write(out, &lines).expect("write --out");
    }
    let mut by_kind = std::collections::BTreeMap::new();
    for w in &run.warnings {
        *by_kind.entry(w.kind.as_str()).or_insert(0u64) += 1;
    }
    let mut households: Vec<i64> = run.warnings.iter().map(|w| w.household_ref).collect();
    households.dedup();
    let deliveries: Vec<String> = run
        .outcomes
        .iter()
        .map(|(k, r)| match r {
            Ok(r) => format!(
                "{{\"kind\":\"{}\",\"sha256\":\"{}\",\"rows\":{},\"bad\":{},\"matched\":{},\"refused\":{}}}",
                k.as_str(), r.sha256, r.rows, r.bad_rows, r.matched_rows, r.refused
            ),
            Err(e) => format!("{{\"kind\":\"{}\",\"error\":\"{}\"}}", k.as_str(), e.code()),
        })
        .collect();
    println!(
        "{{\"month\":\"{month}\",\"households\":{},\"members\":{},\"load_seconds\":{load_s:.3},\
         \"warnings_by_kind\":{by_kind:?},\"households_with_any\":{},\"warnings\":{},\"leads\":{},\
         \"sha256\":\"{}\",\"seconds\":{job_s:.3},\"deliveries\":[{}]}}",
        index.households(),
        index.members(),
        households.len(),
        run.warnings.len(),
        run.leads.len(),
        hex::encode(Sha256::digest(lines.as_bytes())),
        deliveries.join(",")
    );
}
