//! Deliveries: provenance (SHA-256, row counts), bad rows with row, column and Chinese reason,
//! the source's rejection policy, and the byte-level format variations departments send.

mod common;

use common::{id, index, ingest, ingest_with, june, warned};
use jiuzhu_verify::{
    ingest_reader, ingest_reader_prehashed, DeliveryError, FeedIngest, FeedKind, IngestError,
    IngestOptions, Prehash, RejectionPolicy, VerifyPolicy,
};

#[test]
fn sha256_and_row_counts_of_a_small_delivery() {
    let csv =
        "id_number,death_date\n371002198001010010,2024-06-30\n371002198001010096,2024-01-02\n";
    assert_eq!(id(1), "371002198001010010");
    let o = ingest(FeedKind::CivilDeaths, csv);
    let r = &o.report;
    // Checked with `sha256sum`.
    assert_eq!(
        r.sha256,
        "241f3653c412857a7bbc7e9fe360a8b955071840e4ee8a21486601ae8c1253fa"
    );
    assert_eq!(r.bytes, 81);
    assert_eq!(
        (r.rows, r.good_rows, r.bad_rows, r.matched_rows),
        (2, 2, 0, 1)
    );
    assert!(!r.refused);
    assert_eq!(warned(&o), vec![1]);
}

#[test]
fn any_chunking_gives_the_same_result() {
    let csv = format!(
        "id_number,death_date\r\n{},2024-06-30\r\n{},2024-06-01\r\n{},2024-01-02",
        id(1),
        id(3),
        id(9)
    );
    let whole = ingest(FeedKind::CivilDeaths, &csv);
    let idx = index();
    let policy = jiuzhu_verify::Thresholds::from(VerifyPolicy::bench_default());
    for size in [1, 2, 7, 19, 64] {
        let mut e = FeedIngest::new(
            FeedKind::CivilDeaths,
            &idx,
            &policy,
            june(),
            IngestOptions::default(),
        );
        for chunk in csv.as_bytes().chunks(size) {
            e.push(chunk).unwrap();
        }
        let o = e.finish().unwrap();
        assert_eq!(o.report, whole.report, "chunk size {size}");
        assert_eq!(o.warnings, whole.warnings);
    }
    assert_eq!(whole.report.rows, 3, "last line without a newline counts");
    assert_eq!(warned(&whole), vec![1, 2]);
}

#[test]
fn bad_rows_are_reported_with_row_column_and_reason_and_the_rest_kept() {
    let csv = format!(
        "id_number,institution_code,account_type,balance,as_of\n\
         {a},B001,savings,40000.00,2024-06-30\n\
         {a},B001,savings,100.005,2024-06-30\n\
         {a},B001,savings,100.00\n\
         {a},B001,savings,100.00,2024-02-30\n\
         371002198001010011,B001,savings,100.00,2024-06-30\n\
         37100219800101001,B001,savings,100.00,2024-06-30\n\
         {c},B001,bitcoin,100.00,2024-06-30\n\
         {c},,savings,100.00,2024-06-30\n\
         \n\
         {c},B002,time,30000.01,2024-06-30\n",
        a = id(1),
        c = id(3)
    );
    let o = ingest(FeedKind::Deposits, &csv);
    let r = &o.report;
    assert_eq!(
        (r.rows, r.good_rows, r.bad_rows),
        (9, 2, 7),
        "the blank line is not a row"
    );
    let got: Vec<(u64, Option<&str>, &str)> =
        r.bad.iter().map(|b| (b.row, b.column, b.code)).collect();
    assert_eq!(
        got,
        vec![
            (3, Some("balance"), "MONEY_TOO_MANY_DECIMALS"),
            (4, None, "COLUMN_COUNT"),
            (5, Some("as_of"), "DATE_INVALID"),
            (6, Some("id_number"), "ID_CHECK_DIGIT"),
            (7, Some("id_number"), "ID_LENGTH"),
            (8, Some("account_type"), "CODE_UNKNOWN"),
            (9, Some("institution_code"), "FIELD_EMPTY"),
        ]
    );
    assert_eq!(r.bad[0].reason_zh, "金额“100.005”超过两位小数");
    assert_eq!(r.bad[0].column_zh, Some("余额"));
    assert_eq!(r.bad[1].reason_zh, "列数不符:应为5列,实际为4列");
    assert_eq!(r.bad[2].reason_zh, "日期“2024-02-30”无效,应为YYYY-MM-DD");
    assert_eq!(
        r.bad[3].reason_zh,
        "身份证号码“371002************”校验码错误"
    );
    assert_eq!(
        r.bad[4].reason_zh,
        "身份证号码“371002***********”应为18位,实际为17位"
    );
    assert_eq!(r.bad[5].reason_zh, "取值“bitcoin”不在代码表中");
    assert_eq!(r.bad[6].reason_zh, "必填项为空");
    // Kept: household 1 has 40000.00 (≤ 60000.00), household 2 has 30000.01 (> 30000.00).
    assert_eq!(warned(&o), vec![2]);
    assert_eq!(
        o.warnings[0].evidence.row, 11,
        "line numbers count the blank line"
    );
}

#[test]
fn the_source_policy_refuses_a_delivery_over_its_bad_row_limit() {
    let csv = format!(
        "id_number,death_date\n{},2024-06-01\n{},2024-13-01\n",
        id(1),
        id(3)
    );
    // Civil deaths refuse any bad row by default.
    let o = ingest(FeedKind::CivilDeaths, &csv);
    assert!(o.report.refused);
    assert_eq!(
        o.report.rejection,
        RejectionPolicy::RefuseAbove { max_bad_rows: 0 }
    );
    assert_eq!(o.report.bad_rows, 1);
    assert!(o.warnings.is_empty(), "a refused delivery raises nothing");
    // A source configured to tolerate one bad row keeps the good ones.
    let o = ingest_with(
        FeedKind::CivilDeaths,
        &csv,
        IngestOptions {
            rejection: Some(RejectionPolicy::RefuseAbove { max_bad_rows: 1 }),
            ..Default::default()
        },
    );
    assert!(!o.report.refused);
    assert_eq!(warned(&o), vec![1]);
}

#[test]
fn the_report_caps_stored_bad_rows_but_counts_all() {
    let mut csv = "id_number,death_date\n".to_string();
    for _ in 0..50 {
        csv += "x,2024-01-01\n";
    }
    let o = ingest_with(
        FeedKind::CivilDeaths,
        &csv,
        IngestOptions {
            rejection: Some(RejectionPolicy::KeepGoodRows),
            max_reported: 10,
        },
    );
    assert_eq!(o.report.bad_rows, 50);
    assert_eq!(o.report.bad.len(), 10);
    assert_eq!(o.report.bad[9].row, 11);
}

#[test]
fn bom_chinese_headers_reordered_and_quoted_fields() {
    let csv = format!(
        "\u{feff}结算日期,\"身份证号码\",个人自付,医疗总费用\n\"2024-06-03\",{},\"4,500.00\",9000\n2024-06-04,\"{}\",4500.5,9000\n",
        id(1),
        id(3)
    );
    let o = ingest(FeedKind::MedicalClaims, &csv);
    assert_eq!(o.report.rows, 2);
    assert_eq!(o.report.bad.len(), 1);
    assert_eq!(
        o.report.bad[0].code, "MONEY_NOT_A_NUMBER",
        "thousands separators are refused"
    );
    assert_eq!(o.report.bad[0].row, 2);
    assert_eq!(warned(&o), vec![2]);
}

#[test]
fn a_header_without_a_required_column_refuses_the_delivery() {
    let idx = index();
    let err = ingest_reader(
        FeedKind::Vehicles,
        "id_number,plate_number,registered_on\n".as_bytes(),
        &idx,
        &VerifyPolicy::bench_default().into(),
        june(),
        IngestOptions::default(),
    )
    .unwrap_err();
    match err {
        IngestError::Delivery(e) => {
            assert_eq!(e.code(), "HEADER_MISSING_COLUMN");
            assert_eq!(e.message_zh(), "表头缺少必需的列:“车辆类型”(vehicle_type)");
        }
        other => panic!("{other:?}"),
    }
    // Every missing column is named at once, not only the first.
    let err = ingest_reader(
        FeedKind::Vehicles,
        "id_number,plate\n".as_bytes(),
        &idx,
        &VerifyPolicy::bench_default().into(),
        june(),
        IngestOptions::default(),
    )
    .unwrap_err();
    match err {
        IngestError::Delivery(DeliveryError::MissingColumns(cols)) => {
            let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
            assert!(names.len() >= 2, "{names:?}");
            assert!(names.contains(&"vehicle_type"), "{names:?}");
        }
        other => panic!("{other:?}"),
    }
    let err = ingest_reader(
        FeedKind::Vehicles,
        "".as_bytes(),
        &idx,
        &VerifyPolicy::bench_default().into(),
        june(),
        IngestOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "DELIVERY_EMPTY");
}

#[test]
fn a_prehashed_start_gives_the_same_sha256_and_rows() {
    let csv =
        "id_number,death_date\n371002198001010010,2024-06-30\n371002198001010096,2024-01-02\n";
    let idx = index();
    let policy = VerifyPolicy::bench_default();
    let whole = ingest(FeedKind::CivilDeaths, csv);
    assert_eq!(
        whole.report.sha256,
        "241f3653c412857a7bbc7e9fe360a8b955071840e4ee8a21486601ae8c1253fa"
    );
    // Any prefix hashed ahead, read in any chunking: the pass hashes exactly the rest.
    for ahead in [0, 1, 20, 40, 81] {
        for size in [3, 16, 81] {
            let mut p = Prehash::new();
            p.update(&csv.as_bytes()[..ahead]);
            assert_eq!(p.bytes(), ahead as u64);
            let o = ingest_reader_prehashed(
                FeedKind::CivilDeaths,
                Chunked(csv.as_bytes(), size),
                &idx,
                &jiuzhu_verify::Thresholds::from(policy.clone()),
                june(),
                IngestOptions::default(),
                Some(p),
            )
            .unwrap();
            assert_eq!(
                o.report, whole.report,
                "{ahead} bytes ahead, chunks of {size}"
            );
            assert_eq!(o.warnings, whole.warnings);
        }
    }
    // A prehash longer than what the pass reads means the file changed in between.
    let mut p = Prehash::new();
    p.update(csv.as_bytes());
    p.update(b"371002198001010096,2024-01-03\n");
    let e = ingest_reader_prehashed(
        FeedKind::CivilDeaths,
        csv.as_bytes(),
        &idx,
        &jiuzhu_verify::Thresholds::from(policy.clone()),
        june(),
        IngestOptions::default(),
        Some(p),
    )
    .unwrap_err();
    assert_eq!(e.code(), "DELIVERY_CHANGED");
    assert_eq!(e.message_zh(), "读取过程中文件内容发生变化");
}

/// A reader returning at most `.1` bytes per read.
struct Chunked<'a>(&'a [u8], usize);

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
