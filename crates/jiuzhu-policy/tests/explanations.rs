//! Kept explanations (compact traces rendered on demand) and computing into a reused result.

mod common;
use common::*;
use jiuzhu_domain::DivisionCode;
use jiuzhu_policy::explain::{explain, TraceStep};
use jiuzhu_policy::input::RawHousehold;
use jiuzhu_policy::params::{Source, Value};
use jiuzhu_policy::{calculate_into, calculate_with, HouseholdResult, Month, MonthParams};
use rust_decimal::Decimal;
use serde_json::json;

const WEIHAI: &str = "371002";

fn month() -> Month {
    Month::parse("2020-07").unwrap()
}

/// Weihai with the rigid-expense hardship test (R-LI-2) switched on.
fn rigid_lib() -> jiuzhu_policy::PolicyLibrary {
    let region = DivisionCode::parse("371000").unwrap();
    let from = month().first_day();
    let src = || Source {
        key: "test".into(),
        title: "测试".into(),
        number: None,
        issued: None,
    };
    let mut lib = lib();
    for (param, value) in [
        ("low_income.rigid.enabled", Value::Bool(true)),
        (
            "low_income.rigid.prev_year_disposable_income",
            Value::Money(jiuzhu_domain::Money::from_yuan(40000)),
        ),
        (
            "low_income.rigid.expense_share",
            Value::Decimal(Decimal::new(5, 1)),
        ),
        ("low_income.rigid.valid_months", Value::Int(12)),
    ] {
        lib = lib.with_value(&region, param, from, value, src()).unwrap();
    }
    lib
}

fn households() -> Vec<serde_json::Value> {
    let mut named = household(
        WEIHAI,
        "urban",
        vec![member(70, "2020-07", 1), member(10, "2020-07", 2)],
    );
    named["members"][0]["name"] = json!("张三");
    named["members"][1]["relation"] = json!("child");
    let mut rigid = household(WEIHAI, "rural", vec![member(40, "2020-07", 3)]);
    rigid["members"][0]["income"] = json!("2000");
    rigid["income_12m"] = json!("24000");
    rigid["rigid_expenses_12m"] = json!("15000");
    let mut tekun = household(
        WEIHAI,
        "urban",
        vec![member(75, "2020-07", 4), member(45, "2020-07", 5)],
    );
    tekun["members"][0]["tekun"] =
        json!({"status": "applying", "self_care": {"level": "partial_loss"}});
    tekun["members"][1]["income"] = json!("5000");
    tekun["temporary"] = json!({"kind": "emergency", "months": "4"});
    vec![named, rigid, tekun]
}

fn resolve(
    lib: &jiuzhu_policy::PolicyLibrary,
    raw: &serde_json::Value,
) -> (MonthParams, jiuzhu_policy::HouseholdInput) {
    let hh = RawHousehold::from_json(&raw.to_string())
        .unwrap()
        .validate()
        .unwrap();
    let set = lib.for_region(&hh.region).unwrap();
    (MonthParams::resolve(&set, month()).unwrap(), hh)
}

#[test]
fn a_kept_trace_renders_what_calc_shows() {
    let lib = rigid_lib();
    for raw in households() {
        let out = run_with(&lib, &raw, "2020-07").unwrap();
        let (mp, hh) = resolve(&lib, &raw);
        let r = calculate_with(&mp, &hh).unwrap();
        let kept = explain(&mp, &r);
        assert_eq!(kept.len(), out.explanation.len());
        assert_eq!(kept.steps(&mp), out.explanation);
        let rules: Vec<&str> = kept.trace().iter().map(|s| s.rule()).collect();
        let shown: Vec<&str> = out.explanation.iter().map(|s| s.rule).collect();
        assert_eq!(rules, shown);
    }
}

#[test]
fn rigid_hardship_step_has_its_formula_and_sources() {
    let lib = rigid_lib();
    let out = run_with(&lib, &households()[1], "2020-07").unwrap();
    let s = out
        .explanation
        .iter()
        .find(|s| s.rule == "R-LI-2")
        .expect("R-LI-2 step");
    assert_eq!(
        s.formula,
        "24000.00 < 40000.00 且 15000.00 > 0.5 × 24000.00"
    );
    assert_eq!(s.value, "是");
    assert!(s.text.contains("有效期至 2021-06"));
    assert!(s
        .sources
        .iter()
        .any(|c| c.param == "low_income.rigid.expense_share" && c.value == "0.5"));
}

#[test]
fn names_and_ages_are_in_member_steps() {
    let out = run(&households()[0], "2020-07");
    let s = &out.explanation[0];
    assert_eq!(s.subject, "member[0]");
    assert!(s.text.starts_with("成员1 张三(70岁)"), "{}", s.text);
}

#[test]
fn trace_steps_are_small() {
    assert!(std::mem::size_of::<TraceStep>() <= 16);
}

#[test]
fn computing_into_a_reused_result_equals_a_fresh_one() {
    let lib = rigid_lib();
    let mut reused = HouseholdResult::blank(month(), 0);
    // Bigger households first, then smaller: every slot must be overwritten.
    for raw in households().iter().rev().chain(households().iter()) {
        let (mp, hh) = resolve(&lib, raw);
        calculate_into(&mp, &hh, &mut reused).unwrap();
        assert_eq!(reused, calculate_with(&mp, &hh).unwrap());
    }
}

/// A decision computes the household it read from the registry as it is, without writing it to
/// JSON text and parsing it back: the result must be the one the text round trip gave.
#[test]
fn computing_a_read_household_equals_computing_its_json() {
    let lib = rigid_lib();
    for value in households() {
        let raw = RawHousehold::from_json(&value.to_string()).unwrap();
        let text = serde_json::to_string(&raw).unwrap();
        let direct = jiuzhu_policy::calc_raw(&lib, raw, month()).unwrap();
        let round_trip = jiuzhu_policy::calc_json(&lib, &text, month()).unwrap();
        assert_eq!(
            serde_json::to_value(&direct).unwrap(),
            serde_json::to_value(&round_trip).unwrap()
        );
        assert_eq!(direct.result, round_trip.result);
    }
}
