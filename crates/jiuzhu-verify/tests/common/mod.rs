#![allow(dead_code)]
//! A small caseload and helpers shared by the tests.
//!
//! Households (store id, area, members):
//!   1 urban: A=id(1), B=id(2)        2 rural: C=id(3)        3 urban: D=id(4), E=id(5), F=id(6)
//! Non-recipient: X=id(9).

use jiuzhu_domain::{Area, IdNumber, Month};
use jiuzhu_verify::{
    ingest_reader, parse, CaseloadBuilder, CaseloadIndex, FeedKind, FeedOutcome, IngestOptions,
    VerifyPolicy,
};

/// A valid identity number (birth 1980-01-01, sequence n).
pub fn id(n: u64) -> String {
    String::from_utf8(parse::id_from_key(37100219800101000 + n).to_vec()).unwrap()
}

pub fn index() -> CaseloadIndex {
    let mut b = CaseloadBuilder::new(8);
    b.add_household(1, Area::Urban).unwrap();
    b.add_household(2, Area::Rural).unwrap();
    b.add_household(3, Area::Urban).unwrap();
    for (h, n) in [(1, 1), (1, 2), (2, 3), (3, 4), (3, 5), (3, 6)] {
        b.add_member(h, &IdNumber::parse(&id(n)).unwrap()).unwrap();
    }
    b.build()
}

pub fn june() -> Month {
    Month::parse("2024-06").unwrap()
}

pub fn ingest(kind: FeedKind, csv: &str) -> FeedOutcome {
    ingest_with(kind, csv, IngestOptions::default())
}

pub fn ingest_with(kind: FeedKind, csv: &str, options: IngestOptions) -> FeedOutcome {
    let idx = index();
    ingest_reader(
        kind,
        csv.as_bytes(),
        &idx,
        &VerifyPolicy::bench_default().into(),
        june(),
        options,
    )
    .unwrap()
}

/// The store ids of the households warned, in order.
pub fn warned(o: &FeedOutcome) -> Vec<i64> {
    o.warnings.iter().map(|w| w.household_ref).collect()
}
