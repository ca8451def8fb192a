//! Lines and deliveries over the limits: a long line is one rejected row wherever the chunks
//! fall and is never held whole; a long header refuses the delivery; arbitrary bytes never
//! panic the parser.

mod common;

use common::{id, index, june};
use jiuzhu_verify::FeedKindSchema;
use jiuzhu_verify::{DeliveryError, FeedIngest, FeedKind, IngestOptions, VerifyPolicy};
use proptest::prelude::*;

fn run(
    kind: FeedKind,
    bytes: &[u8],
    chunk: usize,
) -> Result<jiuzhu_verify::FeedOutcome, DeliveryError> {
    let idx = index();
    let policy = jiuzhu_verify::Thresholds::from(VerifyPolicy::bench_default());
    let mut e = FeedIngest::new(kind, &idx, &policy, june(), IngestOptions::default());
    for c in bytes.chunks(chunk.max(1)) {
        e.push(c)?;
    }
    e.finish()
}

#[test]
fn a_ten_megabyte_line_is_one_rejected_row_in_any_chunking() {
    let mut csv = format!("id_number,death_date\n{},2024-06-30\n", id(1)).into_bytes();
    csv.extend(std::iter::repeat_n(b'9', 10 << 20));
    csv.extend(format!("\n{},2024-06-01\n", id(3)).into_bytes());
    let mut reports = Vec::new();
    for chunk in [7, 4096, 1 << 20, csv.len()] {
        let o = run(FeedKind::CivilDeaths, &csv, chunk).unwrap();
        let r = o.report;
        assert_eq!(
            (r.rows, r.good_rows, r.bad_rows),
            (3, 2, 1),
            "chunk {chunk}"
        );
        assert_eq!(r.bad[0].row, 3);
        assert_eq!(r.bad[0].code, "LINE_TOO_LONG");
        assert_eq!(r.bad[0].reason_zh, "本行超过64 KB,未读取");
        reports.push((r.rows, r.bad.clone()));
    }
    assert!(reports.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_header_over_the_limit_refuses_the_delivery() {
    let mut csv = b"id_number,".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 100 << 10));
    csv.extend(b"\n");
    for chunk in [100, csv.len()] {
        match run(FeedKind::CivilDeaths, &csv, chunk) {
            Err(DeliveryError::Limit(e)) => {
                assert_eq!(e.code(), "LIMIT_LINE_LENGTH");
                assert_eq!(e.row, Some(1));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_rejected_text_is_quoted_short() {
    let long_date = "2".repeat(500);
    let csv = format!("id_number,death_date\n{},{long_date}\n", id(1));
    let o = run(FeedKind::CivilDeaths, csv.as_bytes(), 4096).unwrap();
    let reason = &o.report.bad[0].reason_zh;
    assert!(reason.chars().count() < 100, "{reason}");
    assert!(reason.contains('…'));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..600) {
        for kind in [FeedKind::CivilDeaths, FeedKind::Deposits] {
            let mut input = format!("{}\n", kind.schema().columns.iter().map(|c| c.name).collect::<Vec<_>>().join(",")).into_bytes();
            input.extend_from_slice(&bytes);
            let _ = run(kind, &input, chunk);
            let _ = run(kind, &bytes, chunk);
        }
    }

    #[test]
    fn chunking_never_changes_the_result(rows in proptest::collection::vec("[0-9Xx,\"\\r -]{0,60}", 0..30), chunk in 1usize..50) {
        let csv = format!("id_number,death_date\n{}", rows.join("\n"));
        let whole = run(FeedKind::CivilDeaths, csv.as_bytes(), csv.len());
        let pieces = run(FeedKind::CivilDeaths, csv.as_bytes(), chunk);
        match (whole, pieces) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a.report, b.report),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{a:?} vs {b:?}"),
        }
    }
}
