//! Parser throughput on one delivery held in memory, against an empty caseload (no matches):
//! `parse_bench FILE KIND [repeats]`. Prints MB/s and ns per row.

use std::time::Instant;

use jiuzhu_domain::Month;
use jiuzhu_verify::{CaseloadBuilder, FeedIngest, FeedKind, IngestOptions, VerifyPolicy};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("FILE");
    let kind = FeedKind::parse(&args.next().expect("KIND")).expect("feed kind");
    let repeats: usize = args.next().map_or(3, |s| s.parse().expect("repeats"));
    let data = std::fs::read(&path).expect("read");
    let index = CaseloadBuilder::new(16).build();
    let policy = jiuzhu_verify::Thresholds::from(VerifyPolicy::bench_default());
    let month = Month::parse("2024-06").unwrap();
    for _ in 0..repeats {
        let t = Instant::now();
        let mut e = FeedIngest::new(kind, &index, &policy, month, IngestOptions::default());
        for chunk in data.chunks(256 << 10) {
            e.push(chunk).expect("push");
        }
        let o = e.finish().expect("finish");
        let s = t.elapsed().as_secs_f64();
        println!(
            "{} rows in {s:.3}s: {:.0} MB/s, {:.1} ns/row",
            o.report.rows,
            data.len() as f64 / s / 1e6,
            s * 1e9 / o.report.rows as f64
        );
    }
}
