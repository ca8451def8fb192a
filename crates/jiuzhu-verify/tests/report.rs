//! The verification report of one household: rows kept per member with their file rows, the
//! totals in exact fen, each test at its threshold, "no record" and "no data" findings.

mod common;

use chrono::NaiveDate;
use common::id;
use jiuzhu_domain::{Area, IdNumber, Money};
use jiuzhu_verify::FeedKindSchema;
use jiuzhu_verify::{
    build_report, FeedKind, FindingStatus, RecordScanner, ReportInput, ReportMember, SourceRef,
    Verdict, VerificationReport, VerifyPolicy,
};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn members() -> Vec<ReportMember> {
    vec![
        ReportMember {
            name: "张三".into(),
            relation: "户主".into(),
            id: IdNumber::parse(&id(1)).unwrap(),
        },
        ReportMember {
            name: "李四".into(),
            relation: "配偶".into(),
            id: IdNumber::parse(&id(2)).unwrap(),
        },
    ]
}

/// Scans `csv` in chunks of 7 bytes (any split must give the same rows).
fn source(
    kind: FeedKind,
    id: i64,
    data_date: &str,
    csv: &str,
) -> (SourceRef, Vec<jiuzhu_verify::MatchedRecord>) {
    let ids: Vec<IdNumber> = members().into_iter().map(|m| m.id).collect();
    let mut s = RecordScanner::new(kind, &ids);
    for chunk in csv.as_bytes().chunks(7) {
        s.push(chunk).unwrap();
    }
    (
        SourceRef {
            kind,
            delivery_id: id,
            source: format!("{}部门", kind.label_zh()),
            data_date: day(data_date),
            sha256: "ab".repeat(32),
        },
        s.finish().unwrap(),
    )
}

fn report(sources: Vec<(SourceRef, Vec<jiuzhu_verify::MatchedRecord>)>) -> VerificationReport {
    let m = members();
    build_report(&ReportInput {
        as_of: day("2026-11-23"),
        area: Area::Urban,
        members: &m,
        policy: &VerifyPolicy::bench_default(),
        income_months: 6,
        sources,
    })
}

fn test<'a>(r: &'a VerificationReport, code: &str) -> &'a jiuzhu_verify::TestResult {
    r.tests.iter().find(|t| t.code == code).unwrap()
}

fn deposits(rows: &[(u64, &str)]) -> String {
    let mut s = "id_number,institution_code,account_type,balance,as_of\n".to_string();
    for (n, b) in rows {
        s += &format!("{},B001,savings,{b},2026-10-31\n", id(*n));
    }
    s
}

#[test]
fn scanner_keeps_members_rows_with_file_rows_and_skips_rejected_ones() {
    // Row 2: a non-member; row 3: blank line (numbered, skipped); row 4: member 2 quoted;
    // row 5: member 1 with a bad amount (rejected by the import, so never cited); row 6: member 1.
    let csv = format!(
        "\u{feff}身份证号码,机构代码,账户类型,余额,余额日期\r\n{},B9,savings,1.00,2026-10-31\r\n\r\n\
         \"{}\",\"B,2\",定期存款,200.50,2026-10-31\r\n{},B3,savings,1.005,2026-10-31\r\n{},B4,wealth,0.5,2026-10-31",
        id(9),
        id(2),
        id(1),
        id(1)
    );
    let (_, rows) = source(FeedKind::Deposits, 1, "2026-10-31", &csv);
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].member, rows[0].row), (1, 4));
    assert_eq!(rows[0].values[3], 20050);
    assert_eq!(rows[0].text[1], "B,2");
    assert_eq!((rows[1].member, rows[1].row), (0, 6));
    assert_eq!(rows[1].values[3], 50);
}

#[test]
fn deposit_test_is_strictly_above_limit_times_members() {
    // Two members: limit 60000.00.
    let at = report(vec![source(
        FeedKind::Deposits,
        7,
        "2026-10-31",
        &deposits(&[(1, "30000.00"), (2, "29999.99"), (2, "0.01")]),
    )]);
    assert_eq!(at.totals.deposits, Money::from_fen(6_000_000));
    let t = test(&at, "DEPOSIT");
    assert_eq!(t.verdict, Verdict::Pass);
    assert_eq!(t.threshold, "60000.00 元(30000.00 元/人 × 2 人)");
    assert_eq!(t.cites.len(), 3);
    assert_eq!(t.cites[0].delivery_id, Some(7));
    assert_eq!(t.cites[0].row, Some(2));
    assert_eq!(t.cites[0].data_date, Some(day("2026-10-31")));

    let above = report(vec![source(
        FeedKind::Deposits,
        7,
        "2026-10-31",
        &deposits(&[(1, "30000.00"), (2, "30000.01")]),
    )]);
    assert_eq!(above.totals.deposits.fen(), 6_000_001);
    assert_eq!(test(&above, "DEPOSIT").verdict, Verdict::Fail);
    assert_eq!(above.verdict, Verdict::Fail);
    assert_eq!(above.verdict_label, "不符合");
    let f = &above.members[1].findings;
    let dep: Vec<_> = f
        .iter()
        .filter(|x| x.cite.kind == FeedKind::Deposits)
        .collect();
    assert_eq!(dep.len(), 1);
    assert_eq!(dep[0].amount, Some(Money::from_fen(3_000_001)));
    assert_eq!(
        dep[0].text,
        "活期储蓄 余额 30000.01 元(机构 B001,余额日期 2026-10-31)"
    );
    assert_eq!(dep[0].cite.source, "存款及金融资产部门");
}

#[test]
fn no_record_and_no_data_are_findings_and_no_data_is_never_fine() {
    let r = report(vec![source(
        FeedKind::Deposits,
        3,
        "2026-10-31",
        &deposits(&[(1, "100.00")]),
    )]);
    // Member 2 has no deposit row: "未发现记录" citing the delivery and its data date.
    let none = r.members[1]
        .findings
        .iter()
        .find(|f| f.cite.kind == FeedKind::Deposits)
        .unwrap();
    assert_eq!(none.status, FindingStatus::None);
    assert_eq!(none.text, "未发现记录");
    assert_eq!(none.cite.delivery_id, Some(3));
    assert_eq!(none.cite.data_date, Some(day("2026-10-31")));
    assert_eq!(none.cite.row, None);
    // Every other kind has no delivery: one "无数据" finding per member and kind.
    for m in &r.members {
        assert_eq!(m.findings.len(), 11);
        let no_data = m
            .findings
            .iter()
            .filter(|f| f.status == FindingStatus::NoData)
            .count();
        assert_eq!(no_data, 10);
    }
    assert_eq!(
        r.members[0].id_masked,
        format!("{}************", &id(1)[..6])
    );
    assert_eq!(test(&r, "DEPOSIT").verdict, Verdict::Pass);
    let v = test(&r, "VEHICLE");
    assert_eq!(v.verdict, Verdict::Check);
    assert!(v.detail.starts_with("机动车登记无数据"), "{}", v.detail);
    assert_eq!(r.verdict, Verdict::Check);
    assert_eq!(r.sources.len(), 11);
    assert_eq!(r.sources[2].status, "used");
    assert_eq!(r.sources[0].status, "no_data");
}

fn all_clear() -> Vec<(SourceRef, Vec<jiuzhu_verify::MatchedRecord>)> {
    let header = |k: FeedKind| {
        k.schema()
            .columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(",")
            + "\n"
    };
    FeedKind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| source(*k, i as i64 + 1, "2026-10-31", &header(*k)))
        .collect()
}

#[test]
fn income_assets_and_household_changes_at_their_thresholds() {
    let mut s = all_clear();
    let set =
        |s: &mut Vec<(SourceRef, Vec<jiuzhu_verify::MatchedRecord>)>, k: FeedKind, csv: String| {
            let i = s.iter().position(|x| x.0.kind == k).unwrap();
            s[i] = source(k, 100 + i as i64, "2026-10-31", &csv);
        };
    // Wages: window 2026-05..2026-10 (6 months); 2026-04 is outside. 6000.01 / 6 = 1000.0016…
    set(
        &mut s,
        FeedKind::SocialInsurance,
        format!(
            "id_number,employer_code,month,contribution_wage\n{a},E1,2026-04,9999.00\n{a},E1,2026-05,3000.00\n{a},E1,2026-10,3000.01\n",
            a = id(1)
        ),
    );
    // Pensions: only the latest month counts (999.99), once.
    set(
        &mut s,
        FeedKind::Pensions,
        format!(
            "id_number,pension_kind,month,amount\n{b},resident,2026-09,999.99\n{b},resident,2026-10,999.99\n",
            b = id(2)
        ),
    );
    // A disabled person's vehicle does not count; a car registered after the report day neither.
    set(
        &mut s,
        FeedKind::Vehicles,
        format!(
            "id_number,plate_number,vehicle_type,registered_on\n{a},鲁K1,disabled_mobility,2020-01-01\n{a},鲁K2,car,2026-12-01\n",
            a = id(1)
        ),
    );
    // One residential dwelling is allowed (bench value).
    set(
        &mut s,
        FeedKind::RealEstate,
        format!(
            "id_number,certificate_no,usage,area_sqm,registered_on\n{a},C1,residential,75.50,2010-01-01\n",
            a = id(1)
        ),
    );
    // A cancelled business does not count.
    set(
        &mut s,
        FeedKind::Business,
        format!(
            "id_number,credit_code,role,registered_capital,status\n{b},91X,shareholder,10000.00,cancelled\n",
            b = id(2)
        ),
    );
    // Medical: 4000.00 is at the line (not above); the total is a rigid expense.
    set(
        &mut s,
        FeedKind::MedicalClaims,
        format!(
            "id_number,settlement_date,total_cost,out_of_pocket\n{b},2026-06-01,9000.00,4000.00\n{b},2026-07-01,100.00,20.00\n",
            b = id(2)
        ),
    );
    let r = report(s.clone());
    assert_eq!(r.totals.wages_monthly, Money::from_fen(100_000)); // 600001 / 6 = 100000.17
    assert_eq!(r.totals.pensions_monthly, Money::from_fen(99_999));
    assert_eq!(r.totals.income_monthly, Money::from_fen(199_999));
    // Urban standard 1000.00 × 2 = 2000.00: 1999.99 is below.
    let t = test(&r, "INCOME");
    assert_eq!(t.verdict, Verdict::Pass, "{t:?}");
    assert_eq!(t.threshold, "2000.00 元(1000.00 元/人·月 × 2 人)");
    // Two wages, one pension month, and the housing-fund delivery (no record) itself.
    assert_eq!(t.cites.len(), 4);
    assert_eq!(t.cites[3].kind, FeedKind::HousingFund);
    assert_eq!(t.cites[3].row, None);
    assert_eq!(test(&r, "VEHICLE").verdict, Verdict::Pass);
    assert_eq!(r.totals.vehicles, 0);
    assert_eq!(test(&r, "PROPERTY").verdict, Verdict::Pass);
    assert_eq!(r.totals.residential_area, "75.50");
    assert_eq!(test(&r, "BUSINESS").verdict, Verdict::Pass);
    assert_eq!(test(&r, "MEDICAL").verdict, Verdict::Pass);
    assert_eq!(r.totals.medical_out_of_pocket, Money::from_fen(402_000));
    assert_eq!(r.totals.medical_monthly, Money::from_fen(67_000));
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(
        r.sources[5].months,
        Some(("2026-05".into(), "2026-10".into()))
    );
    let wage_out = r.members[0]
        .findings
        .iter()
        .find(|f| f.cite.kind == FeedKind::SocialInsurance)
        .unwrap();
    assert!(!wage_out.counted);
    assert_eq!(wage_out.cite.row, Some(2));

    // One fen more of pension reaches the standard: 需核实; a second dwelling, an active business,
    // a medical cost above the line, a death, custody on the day and a move out.
    let mut s2 = s;
    set(
        &mut s2,
        FeedKind::Pensions,
        format!(
            "id_number,pension_kind,month,amount\n{b},resident,2026-10,1000.00\n",
            b = id(2)
        ),
    );
    set(
        &mut s2,
        FeedKind::RealEstate,
        format!(
            "id_number,certificate_no,usage,area_sqm,registered_on\n{a},C1,residential,75.50,2010-01-01\n{b},C2,住宅,60.25,2015-01-01\n",
            a = id(1),
            b = id(2)
        ),
    );
    set(
        &mut s2,
        FeedKind::CivilDeaths,
        format!("id_number,death_date\n{b},2026-11-01\n", b = id(2)),
    );
    set(
        &mut s2,
        FeedKind::Imprisonment,
        format!(
            "id_number,institution_code,start_date,end_date\n{a},J1,2026-01-01,\n",
            a = id(1)
        ),
    );
    let r = report(s2);
    assert_eq!(r.totals.income_monthly, Money::from_fen(200_000));
    assert_eq!(test(&r, "INCOME").verdict, Verdict::Check);
    let p = test(&r, "PROPERTY");
    assert_eq!(p.verdict, Verdict::Fail);
    assert_eq!(
        p.value,
        "住宅 2 套(135.75 平方米),商业用房 0 套(0.00 平方米)"
    );
    assert_eq!(test(&r, "DEATH").verdict, Verdict::Check);
    assert_eq!(test(&r, "IMPRISONED").verdict, Verdict::Check);
    assert_eq!(test(&r, "HUKOU_MOVE").verdict, Verdict::Pass);
    assert_eq!(r.verdict, Verdict::Fail);
}
