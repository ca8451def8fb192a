//! Each warning kind at its thresholds: just below, at, just above; dates on the month's last
//! day and the day after; one warning per kind per household, with its evidence.

mod common;

use common::{id, ingest, warned};
use jiuzhu_domain::Money;
use jiuzhu_verify::{EvidenceValue, FeedKind, WarningKind, Ymd};

fn deposits(rows: &[(u64, &str)]) -> String {
    let mut s = "id_number,institution_code,account_type,balance,as_of\n".to_string();
    for (n, bal) in rows {
        s += &format!("{},B001,savings,{bal},2024-06-30\n", id(*n));
    }
    s
}

#[test]
fn deposit_is_strictly_above_limit_times_members() {
    // Household 1 has two members: limit 60000.00.
    assert!(warned(&ingest(
        FeedKind::Deposits,
        &deposits(&[(1, "30000.00"), (2, "29999.99")])
    ))
    .is_empty());
    assert!(warned(&ingest(
        FeedKind::Deposits,
        &deposits(&[(1, "30000.00"), (2, "30000.00")])
    ))
    .is_empty());
    let o = ingest(
        FeedKind::Deposits,
        &deposits(&[(9, "99999.99"), (1, "30000.00"), (2, "30000.01")]),
    );
    assert_eq!(warned(&o), vec![1]);
    let w = &o.warnings[0];
    assert_eq!(w.kind, WarningKind::Deposit);
    assert_eq!(w.evidence.source, FeedKind::Deposits);
    assert_eq!(
        w.evidence.row, 3,
        "first contributing record (line 3: header, X, A)"
    );
    assert_eq!(w.evidence.person.as_str(), id(1));
    assert_eq!(
        w.evidence.value,
        EvidenceValue::Money(Money::from_fen(6_000_001))
    );
    assert_eq!(w.evidence.threshold, Some(Money::from_yuan(60000)));
    assert_eq!(w.evidence.records, 2);
    // Household 2 (one member): 30000.01 alone is over.
    assert_eq!(
        warned(&ingest(FeedKind::Deposits, &deposits(&[(3, "30000.01")]))),
        vec![2]
    );
}

fn wages(rows: &[(u64, &str, &str)]) -> String {
    let mut s = "id_number,employer_code,month,contribution_wage\n".to_string();
    for (n, month, w) in rows {
        s += &format!("{},E000001,{month},{w}\n", id(*n));
    }
    s
}

#[test]
fn income_is_at_or_above_standard_times_members() {
    // Household 2: rural, one member, standard 800.00.
    assert!(warned(&ingest(
        FeedKind::SocialInsurance,
        &wages(&[(3, "2024-06", "799.99")])
    ))
    .is_empty());
    assert_eq!(
        warned(&ingest(
            FeedKind::SocialInsurance,
            &wages(&[(3, "2024-06", "800.00")])
        )),
        vec![2]
    );
    assert_eq!(
        warned(&ingest(
            FeedKind::SocialInsurance,
            &wages(&[(3, "2024-06", "800.01")])
        )),
        vec![2]
    );
    // Other months do not count.
    assert!(warned(&ingest(
        FeedKind::SocialInsurance,
        &wages(&[(3, "2024-05", "9000.00"), (3, "2024-07", "9000.00")])
    ))
    .is_empty());
    // Household 3: urban, three members: 3000.00, summed across members.
    let o = ingest(
        FeedKind::SocialInsurance,
        &wages(&[(4, "2024-06", "1500.00"), (5, "2024-06", "1499.99")]),
    );
    assert!(warned(&o).is_empty());
    let o = ingest(
        FeedKind::SocialInsurance,
        &wages(&[(4, "2024-06", "1500.00"), (6, "2024-06", "1500.00")]),
    );
    assert_eq!(warned(&o), vec![3]);
    assert_eq!(
        o.warnings[0].evidence.threshold,
        Some(Money::from_yuan(3000))
    );
    assert_eq!(o.warnings[0].evidence.records, 2);
}

fn claims(rows: &[(u64, &str, &str)]) -> String {
    let mut s = "id_number,settlement_date,total_cost,out_of_pocket\n".to_string();
    for (n, d, oop) in rows {
        s += &format!("{},{d},99999.00,{oop}\n", id(*n));
    }
    s
}

#[test]
fn medical_is_strictly_above_the_line_within_the_month() {
    assert!(warned(&ingest(
        FeedKind::MedicalClaims,
        &claims(&[(1, "2024-06-15", "4000.00")])
    ))
    .is_empty());
    let o = ingest(
        FeedKind::MedicalClaims,
        &claims(&[(1, "2024-06-15", "4000.01")]),
    );
    assert_eq!(warned(&o), vec![1]);
    assert_eq!(
        o.warnings[0].evidence.value,
        EvidenceValue::Money(Money::from_fen(400_001))
    );
    assert_eq!(
        o.warnings[0].evidence.threshold,
        Some(Money::from_yuan(4000))
    );
    assert_eq!(
        warned(&ingest(
            FeedKind::MedicalClaims,
            &claims(&[(1, "2024-06-30", "5000.00")])
        )),
        vec![1]
    );
    assert_eq!(
        warned(&ingest(
            FeedKind::MedicalClaims,
            &claims(&[(1, "2024-06-01", "5000.00")])
        )),
        vec![1]
    );
    assert!(warned(&ingest(
        FeedKind::MedicalClaims,
        &claims(&[(1, "2024-07-01", "5000.00")])
    ))
    .is_empty());
    assert!(warned(&ingest(
        FeedKind::MedicalClaims,
        &claims(&[(1, "2024-05-31", "5000.00")])
    ))
    .is_empty());
}

#[test]
fn death_on_or_before_month_end_once_per_household() {
    let csv =
        |d1: &str, d2: &str| format!("id_number,death_date\n{},{d1}\n{},{d2}\n", id(4), id(5));
    let o = ingest(FeedKind::CivilDeaths, &csv("2024-06-30", "2023-01-01"));
    assert_eq!(
        warned(&o),
        vec![3],
        "one warning for two deaths in household 3"
    );
    assert_eq!(o.warnings[0].evidence.row, 2);
    assert_eq!(o.warnings[0].evidence.person.as_str(), id(4));
    assert_eq!(
        o.warnings[0].evidence.value,
        EvidenceValue::Date(Ymd(20240630))
    );
    let o = ingest(FeedKind::CivilDeaths, &csv("2024-07-01", "2024-07-02"));
    assert!(warned(&o).is_empty());
}

#[test]
fn vehicle_excluding_disabled_mobility() {
    let csv = |t: &str, reg: &str| {
        format!(
            "id_number,plate_number,vehicle_type,registered_on,purchase_price\n{},鲁K00001,{t},{reg},50000.00\n",
            id(3)
        )
    };
    assert!(warned(&ingest(
        FeedKind::Vehicles,
        &csv("disabled_mobility", "2020-01-01")
    ))
    .is_empty());
    let o = ingest(FeedKind::Vehicles, &csv("car", "2024-06-30"));
    assert_eq!(warned(&o), vec![2]);
    assert_eq!(o.warnings[0].evidence.value, EvidenceValue::Code("car"));
    // Chinese label of the code table is accepted too.
    assert_eq!(
        warned(&ingest(FeedKind::Vehicles, &csv("摩托车", "2020-01-01"))),
        vec![2]
    );
    // Registered after the month: not yet in force for June.
    assert!(warned(&ingest(FeedKind::Vehicles, &csv("truck", "2024-07-01"))).is_empty());
}

#[test]
fn property_two_residential_or_any_commercial() {
    let csv = |rows: &[(u64, &str)]| {
        let mut s = "id_number,certificate_no,usage,area_sqm,registered_on\n".to_string();
        for (i, (n, u)) in rows.iter().enumerate() {
            s += &format!("{},RE{i},{u},90.50,2020-01-01\n", id(*n));
        }
        s
    };
    assert!(warned(&ingest(FeedKind::RealEstate, &csv(&[(1, "residential")]))).is_empty());
    let o = ingest(
        FeedKind::RealEstate,
        &csv(&[(1, "residential"), (9, "commercial"), (2, "residential")]),
    );
    assert_eq!(
        warned(&o),
        vec![1],
        "two homes across the household's members"
    );
    // Homes are counted over every source of the kind before judging, so the household's first
    // home is cited, with how many records were counted.
    assert_eq!(o.warnings[0].evidence.row, 2, "the household's first home");
    assert_eq!(o.warnings[0].evidence.records, 2);
    assert_eq!(
        o.warnings[0].evidence.value,
        EvidenceValue::Properties {
            residential: 2,
            commercial: 0
        }
    );
    let o = ingest(FeedKind::RealEstate, &csv(&[(3, "commercial")]));
    assert_eq!(warned(&o), vec![2]);
}

#[test]
fn business_only_when_active() {
    let csv = |status: &str| {
        format!(
            "id_number,credit_code,role,registered_capital,status\n{},91000000000000001X,legal_rep,100000.00,{status}\n",
            id(6)
        )
    };
    assert!(warned(&ingest(FeedKind::Business, &csv("revoked"))).is_empty());
    let o = ingest(FeedKind::Business, &csv("active"));
    assert_eq!(warned(&o), vec![3]);
    assert_eq!(
        o.warnings[0].evidence.value,
        EvidenceValue::Code("legal_rep")
    );
}

#[test]
fn non_recipients_never_warn_and_become_medical_leads_when_enabled() {
    let csv = claims(&[(9, "2024-06-10", "10000.01"), (9, "2024-06-11", "10000.00")]);
    assert!(warned(&ingest(FeedKind::MedicalClaims, &csv)).is_empty());
    let idx = common::index();
    let mut policy = jiuzhu_verify::VerifyPolicy::bench_default();
    policy.medical_outreach_line = Some(Money::from_yuan(10000));
    let o = jiuzhu_verify::ingest_reader(
        FeedKind::MedicalClaims,
        csv.as_bytes(),
        &idx,
        &jiuzhu_verify::Thresholds::from(policy.clone()),
        common::june(),
        Default::default(),
    )
    .unwrap();
    assert_eq!(o.leads.len(), 1);
    assert_eq!(o.leads[0].person.as_str(), id(9));
    assert_eq!(o.leads[0].row, 2);
    assert_eq!(o.leads[0].out_of_pocket, Money::from_fen(1_000_001));
}

#[test]
fn pensions_housing_fund_imprisonment_and_moves() {
    let p = format!(
        "id_number,pension_kind,month,amount\n{},resident,2024-06,799.99\n{},resident,2024-06,800.00\n",
        id(3),
        id(1)
    );
    // Household 2 (rural, 1 member): 799.99 < 800.00; household 1 (urban, 2): 800.00 < 2000.00.
    assert!(warned(&ingest(FeedKind::Pensions, &p)).is_empty());
    let p = format!(
        "id_number,pension_kind,month,amount\n{},employee,2024-06,800.00\n",
        id(3)
    );
    assert_eq!(warned(&ingest(FeedKind::Pensions, &p)), vec![2]);

    let hf = format!(
        "id_number,employer_code,month,monthly_deposit,balance\n{},G1,2024-06,0.00,500.00\n{},G1,2024-06,320.00,\n",
        id(1),
        id(4)
    );
    let o = ingest(FeedKind::HousingFund, &hf);
    assert_eq!(warned(&o), vec![3]);
    assert_eq!(o.warnings[0].kind, WarningKind::HousingFund);

    let imp = format!(
        "id_number,institution_code,start_date,end_date\n{},P1,2020-01-01,2024-05-31\n{},P1,2024-06-30,\n",
        id(1),
        id(3)
    );
    assert_eq!(warned(&ingest(FeedKind::Imprisonment, &imp)), vec![2]);

    let mv = format!(
        "id_number,move_type,move_date,from_division,to_division\n{},in,2024-06-10,,\n{},out,2024-07-01,,\n{},out,2024-06-30,371002,110105\n",
        id(1),
        id(3),
        id(5)
    );
    let o = ingest(FeedKind::HukouMoves, &mv);
    assert_eq!(warned(&o), vec![3]);
    assert_eq!(o.warnings[0].evidence.value, EvidenceValue::Code("out"));
}

/// A run over two counties judges each household by its own county's policy: the same deposit
/// per member is over one county's limit and within the other's; a medical cost likewise.
#[test]
fn each_household_is_judged_by_its_class_of_thresholds() {
    let idx = common::index();
    let low = jiuzhu_verify::VerifyPolicy::bench_default();
    let high = jiuzhu_verify::VerifyPolicy {
        deposit_limit_per_member: Money::from_yuan(50000),
        medical_line: Money::from_yuan(6000),
        ..low.clone()
    };
    // Households 1 and 3 in the county with the higher limits, household 2 in the other.
    let thresholds = jiuzhu_verify::Thresholds::PerHousehold {
        classes: vec![low, high],
        of: vec![1, 0, 1],
    };
    let run = |kind, csv: &str| {
        let o = jiuzhu_verify::ingest_reader(
            kind,
            csv.as_bytes(),
            &idx,
            &thresholds,
            common::june(),
            Default::default(),
        )
        .unwrap();
        warned(&o)
    };
    // 40000 a member: over 30000 (household 2), within 50000 (households 1 and 3).
    let d = deposits(&[
        (1, "40000.00"),
        (2, "40000.00"),
        (3, "40000.00"),
        (4, "120000.00"),
    ]);
    assert_eq!(run(FeedKind::Deposits, &d), vec![2]);
    let d = deposits(&[(4, "150000.01")]);
    assert_eq!(run(FeedKind::Deposits, &d), vec![3]);
    // 5000 out of pocket: over 4000 (household 2), within 6000 (household 1).
    let m = claims(&[(1, "2024-06-10", "5000.00"), (3, "2024-06-10", "5000.00")]);
    assert_eq!(run(FeedKind::MedicalClaims, &m), vec![2]);
}

/// Leads are about people outside the caseload, who have no county yet: collected only when every
/// county of the run has outreach on at the same line.
#[test]
fn outreach_only_where_every_class_agrees() {
    let on = jiuzhu_verify::VerifyPolicy {
        medical_outreach_line: Some(Money::from_yuan(10000)),
        ..jiuzhu_verify::VerifyPolicy::bench_default()
    };
    let higher = jiuzhu_verify::VerifyPolicy {
        medical_outreach_line: Some(Money::from_yuan(12000)),
        ..on.clone()
    };
    let off = jiuzhu_verify::VerifyPolicy::bench_default();
    let classes = |c: Vec<jiuzhu_verify::VerifyPolicy>| jiuzhu_verify::Thresholds::PerHousehold {
        of: vec![0; 3],
        classes: c,
    };
    assert_eq!(
        jiuzhu_verify::Thresholds::from(on.clone()).outreach_line(),
        Some(Money::from_yuan(10000))
    );
    assert_eq!(
        classes(vec![on.clone(), on.clone()]).outreach_line(),
        Some(Money::from_yuan(10000))
    );
    assert_eq!(classes(vec![on.clone(), higher]).outreach_line(), None);
    assert_eq!(classes(vec![on, off]).outreach_line(), None);
}
