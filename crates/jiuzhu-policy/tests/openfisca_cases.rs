//! The OpenFisca YAML cases of shared/bench/dibao/dibao_of/tests/dibao.yaml, translated. They run
//! on 遵义市播州区 (520304), whose shipped file carries the benchmark's parameter values
//! (787/588 from 2020-07, rigid cap 1000, household assets < 60000, minimum wage 1720, rates).

mod common;
use common::*;
use jiuzhu_domain::{DivisionCode, Money};
use jiuzhu_policy::params::{Source, Value};
use serde_json::json;

fn dec(s: &str) -> rust_decimal::Decimal {
    s.parse().unwrap()
}

const R: &str = "520304";

#[test]
fn urban_couple_one_elderly_new_standard() {
    let mut p1 = member(65, "2020-07", 1);
    p1["income"] = json!("300");
    let mut p2 = member(40, "2020-07", 2);
    p2["income"] = json!(500);
    p2["expenses"] = json!({"medical": "200"});
    let mut h = household(R, "urban", vec![p1, p2]);
    h["assets"] = json!({"financial": "10000"});
    let r = run(&h, "2020-07").result;
    assert_eq!(r.dibao.net_income, Money::from_yuan(600));
    assert!(r.dibao.eligible);
    assert_eq!(r.dibao.base, Money::from_yuan(974));
    assert_eq!(r.members[0].supplement.unwrap().amount, dec("78.7"));
    assert!(r.members[1].supplement.is_none());
    assert_eq!(r.dibao.amount.fen(), fen("1052.70"));
}

#[test]
fn same_household_one_month_earlier_old_standard() {
    let mut p1 = member(65, "2020-06", 1);
    p1["income"] = json!("300");
    let mut p2 = member(40, "2020-06", 2);
    p2["income"] = json!(500);
    p2["expenses"] = json!({"medical": "200"});
    let mut h = household(R, "urban", vec![p1, p2]);
    h["assets"] = json!({"financial": "10000"});
    let r = run(&h, "2020-06").result;
    assert_eq!(r.dibao.base, Money::from_yuan(700));
    assert_eq!(r.dibao.supplements, Money::from_yuan(65));
}

#[test]
fn rural_severe_disability_takes_the_max_rate_not_the_sum() {
    let mut p1 = member(70, "2020-07", 1);
    p1["disability"] = json!({"kind": "physical", "grade": 1});
    p1["serious_illness"] = json!(true);
    let r = run(&household(R, "rural", vec![p1]), "2020-07").result;
    assert_eq!(r.dibao.base, Money::from_yuan(588));
    let s = r.members[0].supplement.unwrap();
    assert_eq!(s.rate, dec("0.3"));
    assert_eq!(s.applicable, 3);
    assert_eq!(r.dibao.supplements.fen(), fen("176.40"));
}

#[test]
fn assets_at_threshold_not_eligible() {
    let mut h = household(R, "urban", vec![member(30, "2020-07", 1)]);
    h["assets"] = json!({"financial": "60000"});
    let r = run(&h, "2020-07").result;
    assert!(!r.dibao.eligible);
    assert_eq!(r.dibao.amount, Money::ZERO);
}

#[test]
fn tekun_full_loss_rural_uses_urban_standard() {
    let mut p1 = member(80, "2020-07", 1);
    p1["income"] = json!("5000");
    p1["tekun"] = json!({"status": "recognised", "self_care": {"level": "full_loss"}});
    let r = run(&household(R, "rural", vec![p1]), "2020-07").result;
    let t = r.members[0].tekun.unwrap();
    assert_eq!(t.basic, dec("1023.1"));
    assert_eq!(t.care, dec("1720"));
    assert_eq!(r.total.fen(), fen("2743.10"));
}

#[test]
fn reform_urban_standard_850() {
    let lib = lib()
        .with_value(
            &DivisionCode::parse(R).unwrap(),
            "dibao.standard.urban",
            chrono::NaiveDate::from_ymd_opt(2020, 7, 1).unwrap(),
            Value::Money(Money::from_yuan(850)),
            Source {
                key: "reform".into(),
                title: "what-if".into(),
                number: None,
                issued: None,
            },
        )
        .unwrap();
    let h = household(R, "urban", vec![member(30, "2020-07", 1)]);
    let r = run_with(&lib, &h, "2020-07").unwrap().result;
    assert_eq!(r.dibao.base, Money::from_yuan(850));
}

#[test]
fn tekun_member_not_counted_in_dibao_household() {
    let mut p1 = member(75, "2020-07", 1);
    p1["tekun"] = json!({"status": "recognised", "self_care": {"level": "partial_loss"}});
    let mut p2 = member(40, "2020-07", 2);
    p2["income"] = json!("300");
    let r = run(&household(R, "urban", vec![p1, p2]), "2020-07").result;
    assert_eq!(r.dibao.members, 1);
    assert_eq!(r.dibao.base, Money::from_yuan(487));
    assert!(r.members[0].supplement.is_none() && r.members[1].supplement.is_none());
    assert_eq!(r.members[0].tekun.unwrap().amount.fen(), fen("2055.10"));
    assert_eq!(r.total.fen(), fen("2542.10"));
}
