//! Bad input gets an error naming the field (or file, line and parameter) and the reason — never
//! a panic, never a silent zero. Plus property tests.

mod common;
use common::*;
use jiuzhu_domain::Money;
use jiuzhu_policy::{PolicyError, PolicyLibrary};
use proptest::prelude::*;
use serde_json::json;

fn load(text: &str) -> Vec<PolicyError> {
    PolicyLibrary::from_texts([("bad.toml".to_string(), text.to_string())]).unwrap_err()
}

const HEAD: &str = "[policy]\nregion = \"520300\"\nname = \"x\"\nversion = \"1\"\n[sources.s]\ntitle = \"t\"\n[params]\n";

#[test]
fn invalid_policy_files_name_file_line_and_parameter() {
    let e = load(&format!("{HEAD}\"dibao.standard.urban\" = [{{ from = 2020-01-01, value = \"1.234\", source = \"s\" }}]\n"));
    match &e[0] {
        PolicyError::Invalid {
            file,
            line,
            param,
            message,
        } => {
            assert_eq!(
                (file.as_str(), *line, param.as_str()),
                ("bad.toml", 8, "dibao.standard.urban")
            );
            assert!(message.contains("两位小数"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let e = load(&format!(
        "{HEAD}\n\"dibao.no_such\" = [{{ from = 2020-01-01, value = 1, source = \"s\" }}]\n"
    ));
    assert!(
        matches!(&e[0], PolicyError::Invalid { line: 9, message, .. } if message == "未知参数")
    );
    let e = load(&format!("{HEAD}\"dibao.supplement.elderly\" = [{{ from = 2020-01-01, value = 0.1, source = \"s\" }}]\n"));
    assert!(matches!(&e[0], PolicyError::Invalid { message, .. } if message.contains("字符串")));
    let e = load(&format!(
        "{HEAD}\"dibao.grace.months\" = [{{ from = 2020-01-01, value = 3, source = \"nope\" }}]\n"
    ));
    assert!(matches!(&e[0], PolicyError::Invalid { message, .. } if message.contains("nope")));
    let e = load(&format!(
        "{HEAD}\"dibao.grace.months\" = [{{ from = 2020-01-01, value = 30, source = \"s\" }}]\n"
    ));
    assert!(matches!(&e[0], PolicyError::Invalid { message, .. } if message.contains("0–24")));
    let e = load(&format!("{HEAD}\"dibao.grace.months\" = [\n {{ from = 2021-01-01, value = 3, source = \"s\" }},\n {{ from = 2020-01-01, value = 4, source = \"s\" }},\n]\n"));
    assert!(
        matches!(&e[0], PolicyError::Invalid { line: 10, .. }),
        "{e:?}"
    );
    let e = load("[policy]\nregion = \"520300\"\nname = \"x\"\nversion = \"1\"\n[params\n");
    assert!(
        matches!(&e[0], PolicyError::Syntax { line: 5, .. }),
        "{e:?}"
    );
    let e = load("[policy]\nregion = \"52030\"\nname = \"x\"\nversion = \"1\"\n");
    assert!(
        matches!(&e[0], PolicyError::Invalid { line: 2, .. }),
        "{e:?}"
    );
    // Every shipped file is valid.
    assert!(PolicyLibrary::builtin().is_ok());
}

#[test]
fn unknown_region_and_missing_parameter_for_date() {
    let h = household("110101", "urban", vec![member(30, "2020-07", 1)]);
    let e = run_with(&lib(), &h, "2020-07").unwrap_err();
    assert_eq!(e.field_errors()[0].code, "POLICY_UNKNOWN_REGION");
    // Weihai has no standard before 2019.
    let h = household("371002", "urban", vec![member(30, "2018-07", 1)]);
    let e = run_with(&lib(), &h, "2018-07").unwrap_err();
    let f = &e.field_errors()[0];
    assert_eq!(
        (f.code.as_str(), f.field.as_str()),
        ("POLICY_PARAMETER_MISSING", "dibao.standard.urban")
    );
}

#[test]
fn bad_household_inputs_name_the_field() {
    let mut bad_id = member(30, "2020-07", 1);
    bad_id["id_number"] = json!("371002199001010010");
    let mut too_precise = member(30, "2020-07", 2);
    too_precise["income"] = json!("100.005");
    let mut neg = member(30, "2020-07", 3);
    neg["expenses"] = json!({"medical": "-1"});
    let h = household("371002", "urban", vec![bad_id, too_precise, neg]);
    let e = run_with(&lib(), &h, "2020-07").unwrap_err();
    let fields: Vec<(String, String)> = e
        .field_errors()
        .into_iter()
        .map(|f| (f.field, f.code))
        .collect();
    assert!(
        fields.contains(&("members[0].id_number".into(), "ID_CHECK_DIGIT".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("members[1].income".into(), "MONEY_TOO_MANY_DECIMALS".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&(
            "members[2].expenses.medical".into(),
            "MONEY_NEGATIVE".into()
        )),
        "{fields:?}"
    );
    let e = run_with(
        &lib(),
        &json!({"region": "371002", "area": "urban", "members": []}),
        "2020-07",
    )
    .unwrap_err();
    assert_eq!(e.field_errors()[0].code, "HOUSEHOLD_NO_MEMBERS");
    let e = run_with(
        &lib(),
        &json!({"region": "37100", "area": "city", "members": []}),
        "2020-07",
    )
    .unwrap_err();
    let fields: Vec<String> = e.field_errors().into_iter().map(|f| f.field).collect();
    assert!(fields.contains(&"region".into()) && fields.contains(&"area".into()));
    let e = jiuzhu_policy::calc_json(
        &lib(),
        "{not json",
        jiuzhu_policy::Month::parse("2020-07").unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.field_errors()[0].code, "INPUT_JSON");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn benefits_are_never_negative_and_more_income_never_raises_the_base(
        incomes in proptest::collection::vec(0i64..400_000, 1..5),
        extra in 1i64..100_000,
        medical in 0i64..200_000,
        urban in any::<bool>(),
        tekun_first in any::<bool>(),
        region in prop_oneof![Just("371002"), Just("520304"), Just("371003")],
    ) {
        let build = |bump: i64| {
            let members = incomes.iter().enumerate().map(|(i, inc)| {
                let mut m = member(20 + 10 * i as u32, "2020-07", i as u32 + 1);
                let v = if i == 0 { inc + bump } else { *inc };
                m["income"] = json!(Money::from_fen(v).to_string());
                m["expenses"] = json!({"medical": Money::from_fen(medical).to_string()});
                if i == 0 && tekun_first {
                    m["tekun"] = json!({"status": "applying", "supporter": "none"});
                }
                m
            }).collect();
            household(region, if urban { "urban" } else { "rural" }, members)
        };
        let a = run(&build(0), "2020-07").result;
        let b = run(&build(extra), "2020-07").result;
        for r in [&a, &b] {
            prop_assert!(!r.dibao.base.is_negative());
            prop_assert!(!r.dibao.amount.is_negative());
            prop_assert!(!r.tekun_total.is_negative());
            prop_assert!(!r.total.is_negative());
        }
        if a.dibao.route != jiuzhu_policy::calc::DibaoRoute::SinglePerson && b.dibao.route != jiuzhu_policy::calc::DibaoRoute::SinglePerson {
            prop_assert!(b.dibao.base <= a.dibao.base, "{} > {}", b.dibao.base, a.dibao.base);
        }
    }
}
