//! Per-rule tests with hand-computed values and every boundary.

mod common;
use common::*;
use jiuzhu_domain::{DivisionCode, Money};
use jiuzhu_policy::calc::{DibaoRoute, MemberReason};
use jiuzhu_policy::params::{Source, Value};
use jiuzhu_policy::{first_payment_month, render_text_zh, what_if, Month, PolicyLibrary};
use serde_json::json;

const WEIHAI: &str = "371002"; // 环翠区, inherits 威海市
const BOZHOU: &str = "520304";

fn with_income(mut m: serde_json::Value, income: &str) -> serde_json::Value {
    m["income"] = json!(income);
    m
}

#[test]
fn date_switch_weihai_650_to_787() {
    let h = household(WEIHAI, "urban", vec![member(30, "2020-06", 1)]);
    assert_eq!(run(&h, "2020-06").result.dibao.base, Money::from_yuan(650));
    assert_eq!(run(&h, "2020-07").result.dibao.base, Money::from_yuan(787));
    let r = household(WEIHAI, "rural", vec![member(30, "2020-06", 1)]);
    assert_eq!(run(&r, "2020-06").result.dibao.base, Money::from_yuan(470));
    assert_eq!(run(&r, "2020-07").result.dibao.base, Money::from_yuan(588));
}

#[test]
fn income_test_is_strict() {
    // 2 members, standard 787: threshold 1574.00.
    let at = household(
        BOZHOU,
        "urban",
        vec![
            with_income(member(30, "2020-07", 1), "1574"),
            member(30, "2020-07", 2),
        ],
    );
    let r = run(&at, "2020-07").result;
    assert!(!r.dibao.income_ok && !r.dibao.eligible);
    let below = household(
        BOZHOU,
        "urban",
        vec![
            with_income(member(30, "2020-07", 1), "1573.99"),
            member(30, "2020-07", 2),
        ],
    );
    let r = run(&below, "2020-07").result;
    assert!(r.dibao.eligible);
    assert_eq!(r.dibao.base.fen(), 1);
}

#[test]
fn asset_limit_is_strict_and_per_capita_in_weihai() {
    let mut h = household(BOZHOU, "urban", vec![member(30, "2020-07", 1)]);
    h["assets"] = json!({"financial": "59999.99"});
    assert!(run(&h, "2020-07").result.dibao.eligible);
    // Weihai: 30000 per capita, two members -> limit 60000.
    let mut w = household(
        WEIHAI,
        "urban",
        vec![member(30, "2020-07", 1), member(30, "2020-07", 2)],
    );
    w["assets"] = json!({"financial": "60000"});
    let r = run(&w, "2020-07").result;
    assert_eq!(r.dibao.assets.financial_limit, Money::from_yuan(60000));
    assert!(!r.dibao.eligible);
    w["assets"] = json!({"financial": "59999.99", "dwellings": 2});
    let r = run(&w, "2020-07").result;
    assert!(r.dibao.assets.financial_ok && !r.dibao.assets.dwellings_ok && !r.dibao.eligible);
}

#[test]
fn rigid_and_employment_deductions_are_capped() {
    let mut m = with_income(member(30, "2020-07", 1), "2500");
    m["expenses"] = json!({"medical": "900", "disability": "400", "education": "200"});
    m["employment_cost"] = json!("500");
    let r = run(
        &household(BOZHOU, "urban", vec![m, member(30, "2020-07", 2)]),
        "2020-07",
    )
    .result;
    assert_eq!(r.dibao.rigid_expenses, Money::from_yuan(1500));
    assert_eq!(r.dibao.rigid_deduction, Money::from_yuan(1000));
    assert_eq!(r.dibao.employment_deduction, Money::from_yuan(300));
    assert_eq!(r.dibao.net_income, Money::from_yuan(1200));
    assert_eq!(r.dibao.base, Money::from_yuan(787 * 2 - 1200));
}

#[test]
fn supplement_is_the_highest_single_rate() {
    let mut a = member(8, "2020-07", 1);
    a["education"] = json!("primary");
    a["serious_illness"] = json!(true);
    let mut h = household(BOZHOU, "urban", vec![member(40, "2020-07", 2), a]);
    h["single_parent"] = json!(true);
    let r = run(&h, "2020-07").result;
    // child: ill 20 %, student 10 %, single parent 10 % -> 20 % only; head: single parent 10 %.
    assert_eq!(
        r.members[1].supplement.unwrap().amount,
        "157.4".parse().unwrap()
    );
    assert_eq!(
        r.members[0].supplement.unwrap().amount,
        "78.7".parse().unwrap()
    );
    assert_eq!(r.dibao.supplements.fen(), fen("236.10"));
    // Elderly boundary: 59 no, 60 yes.
    let r = run(
        &household(BOZHOU, "urban", vec![member(59, "2020-07", 1)]),
        "2020-07",
    )
    .result;
    assert!(r.members[0].supplement.is_none());
    let r = run(
        &household(BOZHOU, "urban", vec![member(60, "2020-07", 1)]),
        "2020-07",
    )
    .result;
    assert!(r.members[0].supplement.is_some());
}

#[test]
fn composition_dates_and_exclusions() {
    let mut left = member(30, "2020-07", 2);
    left["left_on"] = json!("2020-07-01");
    let mut joins = member(1, "2020-07", 3);
    joins["joined_on"] = json!("2020-07-02");
    let mut prison = member(35, "2020-07", 4);
    prison["exclusion"] = json!({"kind": "prison", "since": "2019-01-01"});
    let mut clergy_new = member(35, "2020-07", 5);
    clergy_new["exclusion"] = json!({"kind": "clergy", "since": "2017-07-02"});
    let mut clergy_old = member(35, "2020-07", 6);
    clergy_old["exclusion"] = json!({"kind": "clergy", "since": "2017-07-01"});
    let mut other = member(35, "2020-07", 7);
    other["relation"] = json!("other");
    let mut adult_child = member(20, "2020-07", 8);
    adult_child["relation"] = json!("child");
    adult_child["education"] = json!("undergraduate");
    let mut minor = member(17, "2020-07", 9);
    minor["relation"] = json!("child");
    let h = household(
        BOZHOU,
        "urban",
        vec![
            member(40, "2020-07", 1),
            left,
            joins,
            prison,
            clergy_new,
            clergy_old,
            other,
            adult_child,
            minor,
        ],
    );
    let r = run(&h, "2020-07").result;
    let reasons: Vec<MemberReason> = r.members.iter().map(|m| m.reason).collect();
    assert_eq!(reasons[1], MemberReason::Left);
    assert_eq!(reasons[2], MemberReason::NotYetJoined);
    assert!(matches!(reasons[3], MemberReason::Excluded(_)));
    assert_eq!(reasons[4], MemberReason::ClergyTooRecent);
    assert!(matches!(reasons[5], MemberReason::Excluded(_)));
    assert_eq!(reasons[6], MemberReason::NoSupportDuty);
    assert_eq!(reasons[7], MemberReason::DependentAdultChild);
    assert_eq!(reasons[8], MemberReason::MinorChild);
    assert_eq!(r.dibao.members, 4); // head, clergy_new, adult child, minor
}

#[test]
fn tekun_age_rules_are_versioned_and_in_school_extends() {
    // Weihai inherits the national rule: under 16 before 2021-07-01, under 18 from then.
    let t = json!({"status": "applying", "supporter": "none"});
    let mut m = member(17, "2021-06", 1);
    m["tekun"] = t.clone();
    let r = run(&household(WEIHAI, "urban", vec![m.clone()]), "2021-06").result;
    assert!(!r.members[0].tekun.unwrap().recognised);
    let r = run(&household(WEIHAI, "urban", vec![m]), "2021-07").result;
    assert!(r.members[0].tekun.unwrap().recognised);
    assert_eq!(r.members[0].reason, MemberReason::Tekun);
    // 18: no longer a minor; in senior secondary school and covered as a minor: still covered.
    let mut s = member(18, "2021-08", 2);
    s["tekun"] = json!({"status": "applying", "supporter": "none", "covered_as_minor": true});
    let r = run(&household(WEIHAI, "urban", vec![s.clone()]), "2021-08").result;
    assert!(!r.members[0].tekun.unwrap().recognised);
    s["education"] = json!("senior_secondary");
    let r = run(&household(WEIHAI, "urban", vec![s]), "2021-08").result;
    assert!(r.members[0].tekun.unwrap().recognised);
    // An able supporter or own income at the standard fails the conditions.
    let mut e = member(70, "2021-08", 3);
    e["tekun"] = json!({"status": "applying", "supporter": "able"});
    assert!(
        !run(&household(WEIHAI, "urban", vec![e]), "2021-08")
            .result
            .members[0]
            .tekun
            .unwrap()
            .recognised
    );
    // Grade 3 intellectual disability: unable to work from 2021-07 only.
    let mut d = member(40, "2021-06", 4);
    d["disability"] = json!({"kind": "intellectual", "grade": 3});
    d["tekun"] = json!({"status": "applying", "supporter": "none"});
    assert!(
        !run(&household(WEIHAI, "urban", vec![d.clone()]), "2021-06")
            .result
            .members[0]
            .tekun
            .unwrap()
            .recognised
    );
    assert!(
        run(&household(WEIHAI, "urban", vec![d]), "2021-07")
            .result
            .members[0]
            .tekun
            .unwrap()
            .recognised
    );
}

#[test]
fn weihai_care_is_annual_over_twelve_and_self_care_assessment_counts() {
    let mut m = member(80, "2020-07", 1);
    m["tekun"] = json!({"status": "recognised", "self_care": {"eating": false, "dressing": false, "bed_transfer": false, "toileting": false, "walking_indoors": true, "bathing": true}});
    let r = run(&household(WEIHAI, "urban", vec![m.clone()]), "2020-07").result;
    // 4 of 6 unable -> full loss: 1.3 × 787 + 10990 / 12 = 1023.10 + 915.8333… -> 1938.93
    assert_eq!(r.tekun_total.fen(), fen("1938.93"));
    m["tekun"]["self_care"]["toileting"] = json!(true);
    let r = run(&household(WEIHAI, "urban", vec![m]), "2020-07").result;
    // 3 unable -> partial: 1023.10 + 5495 / 12 (457.9166…) -> 1481.02
    assert_eq!(r.tekun_total.fen(), fen("1481.02"));
}

#[test]
fn bozhou_self_care_dispersed_gets_no_care_amount_centralised_20_percent() {
    let mut m = member(80, "2020-07", 1);
    m["tekun"] = json!({"status": "recognised"});
    assert_eq!(
        run(&household(BOZHOU, "urban", vec![m.clone()]), "2020-07")
            .result
            .tekun_total
            .fen(),
        fen("1023.10")
    );
    m["tekun"]["centralised"] = json!(true);
    assert_eq!(
        run(&household(BOZHOU, "urban", vec![m]), "2020-07")
            .result
            .tekun_total
            .fen(),
        fen("1367.10")
    );
}

#[test]
fn county_override_relative_poverty() {
    // 2 members, net 1700: 1.2 × 1574 = 1888.8 (Wendeng: poor), 1.5 × 1574 = 2361 (Rongcheng: poor);
    // net 2000: Wendeng no, Rongcheng yes; the city itself has no pilot.
    let h = |region: &str, income: &str| {
        household(
            region,
            "urban",
            vec![
                with_income(member(30, "2020-07", 1), income),
                member(30, "2020-07", 2),
            ],
        )
    };
    assert_eq!(
        run(&h("371003", "1700"), "2020-07")
            .result
            .low_income
            .relative_poverty,
        Some(true)
    );
    assert_eq!(
        run(&h("371003", "2000"), "2020-07")
            .result
            .low_income
            .relative_poverty,
        Some(false)
    );
    assert_eq!(
        run(&h("371082", "2000"), "2020-07")
            .result
            .low_income
            .relative_poverty,
        Some(true)
    );
    assert_eq!(
        run(&h("371002", "2000"), "2020-07")
            .result
            .low_income
            .relative_poverty,
        None
    );
    // A township code uses its county's chain.
    assert_eq!(
        run(&h("371003001", "1700"), "2020-07")
            .result
            .low_income
            .relative_poverty,
        Some(true)
    );
}

#[test]
fn edge_family_is_strictly_below_one_and_a_half() {
    let h = |income: &str| {
        household(
            BOZHOU,
            "urban",
            vec![with_income(member(30, "2020-07", 1), income)],
        )
    };
    let r = run(&h("1180.49"), "2020-07").result;
    assert!(!r.dibao.eligible && r.low_income.edge);
    assert!(!run(&h("1180.50"), "2020-07").result.low_income.edge);
    assert!(!run(&h("500"), "2020-07").result.low_income.edge); // dibao instead
}

#[test]
fn single_person_coverage_within_150_percent() {
    // Household of 2, net 1800 >= 1574 (not eligible) and <= 2361 (within 150 %).
    let mut sick = member(50, "2020-07", 2);
    sick["disability"] = json!({"kind": "physical", "grade": 2});
    sick["income"] = json!("100");
    let h = household(
        BOZHOU,
        "urban",
        vec![with_income(member(30, "2020-07", 1), "1700"), sick],
    );
    let r = run(&h, "2020-07").result;
    assert_eq!(r.dibao.route, DibaoRoute::SinglePerson);
    assert_eq!(r.dibao.base, Money::from_yuan(687));
    assert_eq!(r.dibao.supplements.fen(), fen("236.10"));
    // Above 150 %: nothing.
    let mut sick = member(50, "2020-07", 2);
    sick["serious_illness"] = json!(true);
    let h = household(
        BOZHOU,
        "urban",
        vec![with_income(member(30, "2020-07", 1), "2362"), sick],
    );
    assert_eq!(run(&h, "2020-07").result.dibao.route, DibaoRoute::None);
}

#[test]
fn grace_exit_counts_months_from_the_first_month_above() {
    let mut h = household(
        BOZHOU,
        "urban",
        vec![with_income(member(30, "2020-07", 1), "2000")],
    );
    h["dibao_history"] = json!({"monthly_amount": "487.00", "income_exceeded_since": "2020-03", "reason": "employment"});
    let r = run(&h, "2020-08").result; // 6th month of 6
    assert_eq!(r.dibao.route, DibaoRoute::Grace);
    assert_eq!(r.dibao.amount, Money::from_yuan(487));
    let r = run(&h, "2020-09").result; // 7th month
    assert_eq!(r.dibao.route, DibaoRoute::None);
    assert_eq!(r.dibao.amount, Money::ZERO);
    h["dibao_history"]["reason"] = json!("other");
    assert_eq!(run(&h, "2020-08").result.dibao.route, DibaoRoute::None);
}

#[test]
fn temporary_assistance_ranges() {
    let mut h = household(WEIHAI, "rural", vec![member(30, "2020-07", 1)]);
    h["temporary"] = json!({"kind": "emergency", "months": 12});
    assert_eq!(
        run(&h, "2020-07").result.temporary.unwrap().amount,
        Money::from_yuan(588 * 12)
    );
    h["temporary"] = json!({"kind": "expenditure", "months": "2.5"});
    let e = run_with(&lib(), &h, "2020-07").unwrap_err();
    assert_eq!(e.field_errors()[0].code, "TEMPORARY_MONTHS_OUT_OF_RANGE");
    assert_eq!(e.field_errors()[0].field, "temporary.months");
    // Bozhou: 1–6 × the urban standard, also for rural households.
    let mut b = household(BOZHOU, "rural", vec![member(30, "2020-07", 1)]);
    b["temporary"] = json!({"kind": "emergency", "months": 6});
    assert_eq!(
        run(&b, "2020-07").result.temporary.unwrap().amount,
        Money::from_yuan(787 * 6)
    );
    b["temporary"] = json!({"kind": "emergency", "months": 7});
    assert!(run_with(&lib(), &b, "2020-07").is_err());
    b["temporary"] = json!({"kind": "migrant", "months": 3, "months_without_income": 3});
    assert_eq!(
        run_with(&lib(), &b, "2020-07").unwrap_err().field_errors()[0].code,
        "TEMPORARY_KIND_NOT_IN_POLICY"
    );
    // Weihai migrant: at most 3 × the urban standard, needs 3 months without income and no insurance.
    h["temporary"] = json!({"kind": "migrant", "months": 3, "months_without_income": 3});
    assert_eq!(
        run(&h, "2020-07").result.temporary.unwrap().amount,
        Money::from_yuan(787 * 3)
    );
    h["temporary"] = json!({"kind": "migrant", "months": 3, "months_without_income": 2});
    assert_eq!(
        run(&h, "2020-07").result.temporary.unwrap().amount,
        Money::ZERO
    );
    h["temporary"] = json!({"kind": "migrant", "months": "3.5", "months_without_income": 3});
    assert!(run_with(&lib(), &h, "2020-07").is_err());
}

#[test]
fn medical_warning_lines() {
    let mut poor = member(30, "2020-07", 1);
    poor["medical_costs"] = json!(["4000.01", "4000"]);
    let r = run(&household(BOZHOU, "urban", vec![poor]), "2020-07").result;
    assert_eq!(r.members[0].medical_warnings.len(), 1);
    let mut rich = with_income(member(30, "2020-07", 1), "5000");
    rich["medical_costs"] = json!(["9999.99", "10000.01"]);
    let r = run(&household(BOZHOU, "urban", vec![rich]), "2020-07").result;
    assert_eq!(r.members[0].medical_warnings.len(), 1);
    assert_eq!(
        r.members[0].medical_warnings[0].line,
        Money::from_yuan(10000)
    );
}

#[test]
fn tiers_method_from_a_policy_file() {
    let text = r#"
[policy]
region = "520300"
name = "分档示例市"
version = "t"
[sources.s]
title = "示例"
[params]
"dibao.method" = [{ from = 2019-01-01, value = "tiers", source = "s" }]
"dibao.tiers" = [{ from = 2019-01-01, source = "s", value = [
  { income_below = "200", per_person = "500" },
  { income_below = "787", per_person = "300" },
] }]
"#;
    let mut texts: Vec<(String, String)> = jiuzhu_policy::params::BUILTIN
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    texts.push(("tiers.toml".into(), text.into()));
    let lib = PolicyLibrary::from_texts(texts).unwrap();
    let h = |inc: &str| {
        household(
            "520304",
            "urban",
            vec![
                with_income(member(30, "2020-07", 1), inc),
                member(30, "2020-07", 2),
            ],
        )
    };
    let r = run_with(&lib, &h("399.99"), "2020-07").unwrap().result;
    assert_eq!(
        (r.dibao.tier, r.dibao.base),
        (Some(0), Money::from_yuan(1000))
    );
    let r = run_with(&lib, &h("400"), "2020-07").unwrap().result;
    assert_eq!(
        (r.dibao.tier, r.dibao.base),
        (Some(1), Money::from_yuan(600))
    );
}

#[test]
fn explanation_names_rules_formulas_and_sources_in_chinese() {
    let out = run(
        &household(
            WEIHAI,
            "urban",
            vec![with_income(member(65, "2020-07", 1), "300")],
        ),
        "2020-07",
    );
    let base = out.explanation.iter().find(|s| s.rule == "R-DB-4").unwrap();
    assert_eq!(base.formula, "787.00 × 1 − 300.00 = 487.00");
    assert!(base
        .sources
        .iter()
        .any(|c| c.param == "dibao.standard.urban" && c.clause.as_deref() == Some("三(一)")));
    let text = render_text_zh(&out.result, &out.explanation, &out.policy);
    assert!(text.contains("为什么是这个金额"));
    assert!(text.contains("补差"));
    assert!(text.contains("威海市"));
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["result"]["total"], "565.70");
    assert_eq!(json["policy"][0]["region"], "371000");
}

#[test]
fn staff_relative_and_payment_start() {
    let mut h = household(WEIHAI, "urban", vec![member(30, "2020-07", 1)]);
    h["staff_relative"] = json!(true);
    let out = run(&h, "2020-07");
    assert!(out.result.staff_relative_review);
    assert!(out.explanation.iter().any(|s| s.rule == "R-DB-10"));
    let d = chrono::NaiveDate::from_ymd_opt(2020, 12, 15).unwrap();
    assert_eq!(first_payment_month(d), Month::parse("2021-01").unwrap());
}

#[test]
fn what_if_reports_cost_and_eligibility_changes_by_township() {
    let hhs: Vec<_> = [
        ("371002001", "800"),
        ("371002002", "300"),
        ("371002002", "900"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (region, inc))| {
        let mut v = household(
            region,
            "urban",
            vec![with_income(member(30, "2020-07", i as u32 + 1), inc)],
        );
        v["code"] = json!(format!("H{i}"));
        jiuzhu_policy::RawHousehold::from_json(&v.to_string())
            .unwrap()
            .validate()
            .unwrap()
    })
    .collect();
    let base = lib();
    let changed = base
        .with_value(
            &DivisionCode::parse("371000").unwrap(),
            "dibao.standard.urban",
            chrono::NaiveDate::from_ymd_opt(2020, 7, 1).unwrap(),
            Value::Money(Money::from_yuan(850)),
            Source {
                key: "w".into(),
                title: "what-if".into(),
                number: None,
                issued: None,
            },
        )
        .unwrap();
    let rep = what_if(&base, &changed, &hhs, Month::parse("2020-07").unwrap());
    assert_eq!(rep.total.newly_eligible, 1); // income 800: 800 < 850
    assert_eq!(rep.total.newly_eligible_households, vec!["H0".to_string()]);
    // H0 +50, H1 +63, H2 no change (900 ≥ 850).
    assert_eq!(rep.total.cost_difference, Money::from_yuan(113));
    assert_eq!(rep.by_township["371002001"].newly_eligible, 1);
    assert_eq!(
        rep.by_township["371002002"].cost_difference,
        Money::from_yuan(63)
    );
    assert!(rep.failed.is_empty());
}
