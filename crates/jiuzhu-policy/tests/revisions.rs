//! Stored policy revisions applied on top of the shipped files.

mod common;
use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use jiuzhu_domain::policy_revision::{PolicyRevision, RevisionKind};
use jiuzhu_domain::DivisionCode;
use jiuzhu_policy::{validate_revision, PolicyLibrary};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn set(seq: i64, region: &str, param: &str, from: NaiveDate, value: &str) -> PolicyRevision {
    PolicyRevision {
        seq,
        region: code(region),
        param: param.into(),
        effective_from: from,
        value: value.into(),
        document: Some("关于提高城乡低保标准的通知".into()),
        number: Some("威民发〔2026〕12号".into()),
        article: Some("第二条".into()),
        reason: "年度调标".into(),
        kind: RevisionKind::Set,
        withdraws: None,
        user_id: Some(1),
        user_name: "admin".into(),
        recorded_at: Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap(),
    }
}

fn withdraw(seq: i64, of: &PolicyRevision) -> PolicyRevision {
    PolicyRevision {
        seq,
        kind: RevisionKind::Withdraw,
        withdraws: Some(of.seq),
        document: None,
        number: None,
        article: None,
        reason: "暂缓执行".into(),
        ..of.clone()
    }
}

/// One urban person without income in 环翠区 (威海市): 低保 = the urban standard.
fn single(region: &str) -> serde_json::Value {
    household(region, "urban", vec![member(40, "2027-01", 1)])
}

fn base(lib: &PolicyLibrary, region: &str, month: &str) -> String {
    run_with(lib, &single(region), month)
        .unwrap()
        .result
        .dibao
        .base
        .to_string()
}

#[test]
fn a_city_revision_applies_from_its_date_and_is_cited() {
    let builtin = lib();
    let r7 = set(
        7,
        "371000",
        "dibao.standard.urban",
        date(2027, 1, 1),
        "850.00",
    );
    let revised = builtin.with_revisions(&[r7]).unwrap();
    assert_eq!(revised.revision_level(), 7);
    assert_eq!(base(&revised, "371002", "2026-12"), "787.00");
    assert_eq!(base(&revised, "371002", "2027-01"), "850.00");
    assert_eq!(base(&builtin, "371002", "2027-01"), "787.00");

    let out = run_with(&revised, &single("371002"), "2027-01").unwrap();
    let cited: Vec<_> = out
        .explanation
        .iter()
        .flat_map(|s| s.sources.iter())
        .filter(|c| c.param == "dibao.standard.urban")
        .collect();
    assert!(!cited.is_empty());
    for c in cited {
        assert_eq!(c.value, "850.00");
        assert_eq!(c.document, "关于提高城乡低保标准的通知");
        assert_eq!(c.number.as_deref(), Some("威民发〔2026〕12号"));
        assert_eq!(c.clause.as_deref(), Some("第二条"));
        assert_eq!(
            c.note.as_deref(),
            Some("修订 r7:admin 于 2026-11-23 录入,原因:年度调标")
        );
        assert_eq!(c.from, date(2027, 1, 1));
    }
    // The result names the revision level and a digest that differs from the file's.
    let weihai = out.policy.iter().find(|p| p.region == "371000").unwrap();
    assert_eq!(weihai.version, "2020-12-09+r7");
    let file_digest = builtin.file(&code("371000")).unwrap().digest.clone();
    assert_ne!(weihai.digest, file_digest);
    assert_eq!(weihai.digest.len(), 16);
    // The same revisions give the same digest (reproducible).
    let again = builtin
        .with_revisions(&[set(
            7,
            "371000",
            "dibao.standard.urban",
            date(2027, 1, 1),
            "850.00",
        )])
        .unwrap();
    assert_eq!(again.file(&code("371000")).unwrap().digest, weihai.digest);
    // Files without revisions keep their version.
    let national = out.policy.iter().find(|p| p.region == "000000").unwrap();
    assert!(!national.version.contains("+r"), "{}", national.version);
}

#[test]
fn a_withdrawal_restores_the_previous_value() {
    let r1 = set(
        1,
        "371000",
        "dibao.standard.urban",
        date(2027, 1, 1),
        "850.00",
    );
    let r2 = withdraw(2, &r1);
    let lib = lib().with_revisions(&[r2.clone(), r1.clone()]).unwrap();
    assert_eq!(base(&lib, "371002", "2027-01"), "787.00");
    assert_eq!(lib.revision_level(), 2);
    let v = &lib.for_region_text("371002").unwrap().versions();
    assert_eq!(
        v.iter().find(|p| p.region == "371000").unwrap().version,
        "2020-12-09+r2"
    );
    // A later revision after the withdrawal applies again.
    let r3 = set(3, "371000", "dibao.standard.urban", date(2027, 1, 1), "830");
    let lib = super_lib(&[r1, r2, r3]);
    assert_eq!(base(&lib, "371002", "2027-01"), "830.00");
}

fn super_lib(revs: &[PolicyRevision]) -> PolicyLibrary {
    lib().with_revisions(revs).unwrap()
}

#[test]
fn a_county_override_wins_over_a_city_revision_unless_the_revision_is_for_the_county() {
    let param = "low_income.relative_poverty.multiplier";
    let from = date(2027, 1, 1);
    let at = |lib: &PolicyLibrary, region: &str| {
        lib.for_region_text(region)
            .unwrap()
            .at(from)
            .decimal(param)
            .unwrap()
            .value
            .to_string()
    };
    let city = set(1, "371000", param, from, "1.5");
    let lib = super_lib(std::slice::from_ref(&city));
    assert_eq!(at(&lib, "371003"), "1.2", "文登区's own value still wins");
    assert_eq!(
        at(&lib, "371002"),
        "1.5",
        "环翠区 inherits the city's revision"
    );
    let county = set(2, "371003", param, from, "1.4");
    let lib = super_lib(&[city, county]);
    assert_eq!(at(&lib, "371003"), "1.4");
    assert_eq!(at(&lib, "371002"), "1.5");
}

#[test]
fn a_region_without_a_file_gets_one() {
    // 环翠区 has no file of its own: a revision for it creates one, more specific than 威海市.
    let r = set(4, "371002", "dibao.standard.urban", date(2027, 1, 1), "900");
    let lib = super_lib(&[r]);
    assert_eq!(base(&lib, "371002001", "2027-01"), "900.00");
    assert_eq!(base(&lib, "371003", "2027-01"), "787.00");
    let v = lib.for_region_text("371002").unwrap().versions();
    assert_eq!(v[0].region, "371002");
    assert_eq!(v[0].version, "r4");
}

#[test]
fn param_states_show_current_scheduled_and_own_values() {
    let lib = super_lib(&[set(
        5,
        "371000",
        "dibao.standard.urban",
        date(2027, 1, 1),
        "850",
    )]);
    let states = lib.param_states(&code("371000"), date(2026, 11, 23));
    let urban = states
        .iter()
        .find(|s| s.def.name == "dibao.standard.urban")
        .unwrap();
    assert_eq!(
        urban.current.as_ref().unwrap().value,
        jiuzhu_policy::Value::Money(jiuzhu_domain::Money::from_yuan(787))
    );
    assert_eq!(urban.scheduled.len(), 1);
    assert_eq!(urban.scheduled[0].from, date(2027, 1, 1));
    assert_eq!(urban.own.len(), 3);
    // Inherited from the national file: a current value but no own values.
    let age = states
        .iter()
        .find(|s| s.def.name == "household.adult_age")
        .unwrap();
    assert!(age.current.is_some());
    assert!(age.own.is_empty());
}

fn fields(e: &[jiuzhu_domain::FieldError]) -> Vec<(&str, &str)> {
    e.iter()
        .map(|f| (f.field.as_str(), f.code.as_str()))
        .collect()
}

#[test]
fn validation_names_the_field_in_chinese() {
    let lib = lib();
    let ok =
        validate_revision(&lib, "371000", "dibao.standard.urban", "2027-01-01", "850").unwrap();
    assert_eq!(ok.text, "850.00");
    assert_eq!(ok.previous.as_deref(), Some("787.00"));
    assert_eq!(ok.param, "dibao.standard.urban");

    let e =
        validate_revision(&lib, "371000", "dibao.standard.urban", "2027-01-01", "85o").unwrap_err();
    assert_eq!(fields(&e), [("value", "PARAM_VALUE")]);
    assert!(
        e[0].message.starts_with("参数值(城市低保标准(元/人·月)):"),
        "{}",
        e[0].message
    );

    let e =
        validate_revision(&lib, "371000", "dibao.standard.urban", "2027-01-01", "-5").unwrap_err();
    assert_eq!(fields(&e), [("value", "PARAM_VALUE")]);

    let e =
        validate_revision(&lib, "371000", "dibao.grace.months", "2027-01-01", "30").unwrap_err();
    assert_eq!(fields(&e), [("value", "PARAM_VALUE")]);
    assert!(e[0].message.contains("0–24"), "{}", e[0].message);

    let e = validate_revision(&lib, "371000", "dibao.method", "2027-01-01", "0.5").unwrap_err();
    assert_eq!(fields(&e), [("value", "PARAM_VALUE")]);

    let e = validate_revision(&lib, "371000", "dibao.nothing", "2027-01-01", "1").unwrap_err();
    assert_eq!(fields(&e), [("param", "PARAM_UNKNOWN")]);
    assert!(e[0].message.contains("dibao.nothing"));

    let e =
        validate_revision(&lib, "110000", "dibao.standard.urban", "2027-13-01", "850").unwrap_err();
    assert_eq!(
        fields(&e),
        [
            ("region", "POLICY_UNKNOWN_REGION"),
            ("effective_from", "DATE_INVALID")
        ]
    );
    let e = validate_revision(
        &lib,
        "371002001",
        "dibao.standard.urban",
        "2027-01-01",
        "850",
    )
    .unwrap_err();
    assert_eq!(fields(&e), [("region", "POLICY_REGION_LEVEL")]);

    // The nation's own file can be revised; tiers are written as in the files.
    assert!(validate_revision(&lib, "000000", "household.adult_age", "2027-01-01", "18").is_ok());
    let tiers = validate_revision(
        &lib,
        "520304",
        "dibao.tiers",
        "2027-01-01",
        r#"[{ income_below = "200", per_person = "500" }, { income_below = "400", per_person = "300" }]"#,
    )
    .unwrap();
    assert_eq!(
        tiers.text,
        r#"[{ income_below = "200.00", per_person = "500.00" }, { income_below = "400.00", per_person = "300.00" }]"#
    );
    let e = validate_revision(&lib, "520304", "dibao.tiers", "2027-01-01", "[1, 2]").unwrap_err();
    assert_eq!(fields(&e), [("value", "PARAM_VALUE")]);
}
