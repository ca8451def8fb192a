//! A small month end to end: caseload CSVs, the seven feeds in parallel, the sorted
//! `household_id,KIND` list computed by hand.

use jiuzhu_domain::Month;
use jiuzhu_verify::{load, parse, run_month, Delivery, FeedKind, IngestOptions, VerifyPolicy};

fn id(n: u64) -> String {
    String::from_utf8(parse::id_from_key(37100219800101000 + n).to_vec()).unwrap()
}

#[test]
fn a_month_over_seven_feeds() {
    // 10 urban 2 members (1, 2); 20 rural 1 member (3); 30 urban 3 members (4, 5, 6); 40 rural (7).
    let households = "household_id,division_code,area\n10,371002001201,urban\n20,371002001202,rural\n30,371002001203,urban\n40,371002001204,rural\n";
    let members = format!(
        "household_id,id_number,name,relation\n10,{},甲,head\n10,{},乙,spouse\n20,{},丙,head\n30,{},丁,head\n30,{},戊,spouse\n30,{},己,child\n40,{},庚,head\n",
        id(1), id(2), id(3), id(4), id(5), id(6), id(7)
    );
    let index = load::caseload_csv(households.as_bytes(), members.as_bytes()).unwrap();
    assert_eq!((index.households(), index.members()), (4, 7));

    let feeds: Vec<(FeedKind, String)> = vec![
        (FeedKind::CivilDeaths, format!(
            "id_number,death_date\n{},2024-06-30\n{},2024-07-01\n", id(7), id(3))),
        (FeedKind::Vehicles, format!(
            "id_number,plate_number,vehicle_type,registered_on,purchase_price\n{},鲁K1,disabled_mobility,2020-01-01,1.00\n{},鲁K2,car,2020-01-01,1.00\n", id(3), id(5))),
        (FeedKind::Deposits, format!(
            "id_number,institution_code,account_type,balance,as_of\n{},B1,savings,30000.00,2024-06-30\n{},B1,time,30000.01,2024-06-30\n{},B1,savings,60000.00,2024-06-30\n", id(1), id(2), id(3))),
        (FeedKind::RealEstate, format!(
            "id_number,certificate_no,usage,area_sqm,registered_on\n{},R1,residential,80,2010-01-01\n{},R2,residential,80,2010-01-01\n{},R3,residential,80,2010-01-01\n", id(1), id(4), id(6))),
        (FeedKind::Business, format!(
            "id_number,credit_code,role,registered_capital,status\n{},C1,shareholder,1.00,revoked\n{},C2,legal_rep,1.00,active\n", id(1), id(7))),
        (FeedKind::SocialInsurance, format!(
            "id_number,employer_code,month,contribution_wage\n{},E1,2024-06,800.00\n{},E1,2024-06,2999.99\n{},E1,2024-05,5000.00\n", id(3), id(4), id(1))),
        (FeedKind::MedicalClaims, format!(
            "id_number,settlement_date,total_cost,out_of_pocket\n{},2024-06-30,9000.00,4000.01\n{},2024-06-30,9000.00,4000.00\n", id(2), id(6))),
    ];
    let deliveries = feeds
        .iter()
        .map(|(kind, csv)| Delivery {
            kind: *kind,
            reader: csv.as_bytes(),
            size_hint: csv.len() as u64,
            options: IngestOptions::default(),
            prehash: None,
        })
        .collect();
    let run = run_month(
        &index,
        &VerifyPolicy::bench_default().into(),
        Month::parse("2024-06").unwrap(),
        deliveries,
        2,
    );
    assert!(run
        .outcomes
        .iter()
        .all(|(_, r)| r.as_ref().is_ok_and(|r| r.bad_rows == 0)));
    // By hand:
    // 10: DEPOSIT 60000.01 > 60000.00; MEDICAL 4000.01 > 4000.00. (2024-05 wages do not count.)
    // 20: DEPOSIT 60000.00 > 30000.00; INCOME 800.00 ≥ 800.00. (death on 07-01 is after June;
    //     disabled_mobility does not count.)
    // 30: VEHICLE car; PROPERTY two homes (members 4 and 6). (2999.99 < 3000.00; 4000.00 not >.)
    // 40: BUSINESS active legal rep; DEATH on 06-30.
    assert_eq!(
        run.warning_lines(),
        "10,DEPOSIT\n10,MEDICAL\n20,DEPOSIT\n20,INCOME\n30,PROPERTY\n30,VEHICLE\n40,BUSINESS\n40,DEATH\n"
    );
    let medical = run
        .warnings
        .iter()
        .find(|w| w.kind.as_str() == "MEDICAL")
        .unwrap();
    assert_eq!(medical.evidence.person.as_str(), id(2));
    assert_eq!(medical.evidence.row, 2);
}

/// Two banks' deposits are one household total; two insurers' claims both count; a refused
/// delivery adds nothing; each warning cites the delivery that holds its record.
#[test]
fn the_deliveries_of_several_sources_of_a_kind_add_up() {
    let households =
        "household_id,division_code,area\n10,371002001201,urban\n20,371002001202,rural\n";
    let members = format!(
        "household_id,id_number,name,relation\n10,{},甲,head\n10,{},乙,spouse\n20,{},丙,head\n",
        id(1),
        id(2),
        id(3)
    );
    let index = load::caseload_csv(households.as_bytes(), members.as_bytes()).unwrap();
    let header = "id_number,institution_code,account_type,balance,as_of\n";
    let bank_a = format!("{header}{},B1,savings,40000.00,2024-06-30\n", id(1));
    let bank_b = format!("{header}{},B2,savings,20000.01,2024-06-30\n", id(2));
    let medical_header = "id_number,settlement_date,total_cost,out_of_pocket\n";
    let insurer_a = format!("{medical_header}{},2024-06-01,100.00,10.00\n", id(1));
    let insurer_b = format!("{medical_header}{},2024-06-02,9000.00,4500.00\n", id(3));
    let feeds = [
        (FeedKind::Deposits, bank_a.as_str()),
        (FeedKind::MedicalClaims, insurer_a.as_str()),
        (FeedKind::Deposits, bank_b.as_str()),
        (FeedKind::MedicalClaims, insurer_b.as_str()),
    ];
    let deliveries = feeds
        .iter()
        .map(|(kind, csv)| Delivery {
            kind: *kind,
            reader: csv.as_bytes(),
            size_hint: csv.len() as u64,
            options: IngestOptions::default(),
            prehash: None,
        })
        .collect();
    let run = run_month(
        &index,
        &VerifyPolicy::bench_default().into(),
        Month::parse("2024-06").unwrap(),
        deliveries,
        2,
    );
    // 10: 40000.00 + 20000.01 > 2 × 30000.00, though neither bank alone is over the limit.
    assert_eq!(run.warning_lines(), "10,DEPOSIT\n20,MEDICAL\n");
    let deposit = &run.warnings[0].evidence;
    assert_eq!(deposit.value.to_string(), "60000.01");
    assert_eq!((deposit.delivery, deposit.row, deposit.records), (0, 2, 2));
    assert_eq!(
        run.warnings[1].evidence.delivery, 3,
        "the second insurer's file"
    );
}
