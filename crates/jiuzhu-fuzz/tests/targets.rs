//! Every fuzz target over random bytes and over its regression inputs: no panic, no abort.

use jiuzhu_fuzz::TARGETS;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Inputs found by fuzzing (or written by hand) that once broke a parser, one file each.
#[test]
fn regression_inputs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut tried = 0;
    for target in TARGETS {
        let dir = root.join(target.name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            (target.run)(&bytes);
            tried += 1;
        }
    }
    assert!(tried > 0, "the regression folders hold inputs");
}

#[test]
fn arbitrary_bytes() {
    for target in TARGETS {
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
                (target.run)(&bytes);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("target {}: {e}", target.name));
    }
}

/// Text close to what each parser expects, so that random cases get past the first check.
#[test]
fn almost_valid_text() {
    let seeds: &[(&str, &str)] = &[
        ("calc_json", r#"{"region":"371002","area":"urban","members":[{"id":"a","birth_date":"1980-01-01","relation":"head","income":{"wage":"100.00"}}]}"#),
        ("policy_toml", "region = \"371002\"\nname = \"x\"\n[dibao.standard.urban]\nvalues = [{ from = \"2020-01-01\", value = \"700.00\", source = \"x\" }]\n"),
        ("calendar_toml", "[years.2027]\nholidays = [\"2027-01-01\"]\nworkdays = []\n"),
        ("workflow_toml", "id = \"x\"\nname = \"x\"\n[[steps]]\nid = \"apply\"\n"),
        ("import_table", "household_id,id_number,name,relation\nH1,110101199003070011,甲,户主\n"),
        ("feed", "id_number,death_date\n110101199003070011,2026-01-05\n"),
    ];
    for (name, seed) in seeds {
        let target = TARGETS.iter().find(|t| t.name == *name).unwrap();
        let mut runner = TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        });
        let seed = seed.as_bytes().to_vec();
        let edits =
            proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..12);
        runner
            .run(&edits, |edits| {
                let mut bytes = seed.clone();
                for (at, byte, op) in edits {
                    let i = at.index(bytes.len() + 1);
                    match op {
                        0 if i < bytes.len() => bytes[i] = byte,
                        1 => bytes.insert(i, byte),
                        _ if i < bytes.len() => {
                            bytes.remove(i);
                        }
                        _ => {}
                    }
                }
                (target.run)(&bytes);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("target {name}: {e}"));
    }
}
