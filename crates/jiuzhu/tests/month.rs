//! `jiuzhu month` and `jiuzhu whatif` on the store's caseload, checked against an independent
//! computation: every household of the same database computed one by one with `calc_json` and
//! summed here.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Money, SystemClock};
use jiuzhu_policy::{calc_json, Month, PolicyLibrary};
use jiuzhu_store::prelude::*;

fn jiuzhu(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db)
        .env("JIUZHU_LOG", "warn")
        .output()
        .expect("run jiuzhu")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

fn money(v: &serde_json::Value) -> Money {
    Money::parse(v.as_str().expect("money is a string")).expect("money")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn month_on_the_demo_store_matches_household_by_household_computation() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    assert!(jiuzhu(&db, &["demo"]).status.success());
    let report = json(&jiuzhu(&db, &["month", "--month", "2026-11", "--json"]));

    // Independently: the same households, each through calc_json.
    let store = jiuzhu_store::connect_with_key_file(
        &db,
        Arc::new(SystemClock),
        &jiuzhu_store::data_key::default_path(&db),
    )
    .await
    .unwrap()
    .0;
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let month = Month::parse("2026-11").unwrap();
    let as_of: chrono::NaiveDate = report["as_of"].as_str().unwrap().parse().unwrap();
    let entries = store.caseload_as_of(&g, None, as_of).await.unwrap();
    assert_eq!(entries.len(), 5000);
    let lib = PolicyLibrary::builtin().unwrap();
    let mut total = Money::ZERO;
    let mut households = 0u64;
    let mut dibao_households = 0u64;
    let mut by_township: BTreeMap<String, Money> = BTreeMap::new();
    for e in &entries {
        let s = &e.snapshot;
        let raw = jiuzhu_policy::registry::raw_household(
            &s.household.code,
            &s.facts,
            &s.members,
            e.economics.as_ref().map(|r| &r.economics),
        )
        .expect("every demo household has economics");
        let out = calc_json(&lib, &serde_json::to_string(&raw).unwrap(), month)
            .expect("demo household computes");
        households += 1;
        total += out.result.total;
        if serde_json::to_value(out.result.dibao.route).unwrap() != "none" {
            dibao_households += 1;
        }
        *by_township
            .entry(s.facts.division.as_str()[..9].to_string())
            .or_insert(Money::ZERO) += out.result.total;
    }
    assert_eq!(report["totals"]["households"], households);
    assert_eq!(money(&report["totals"]["total"]), total);
    assert!(total > Money::ZERO);
    // Most demo households are below the line, some are not.
    let eligible = report["totals"]["dibao_households"].as_u64().unwrap();
    assert!(eligible > 2500 && eligible < 5000, "{eligible}");
    assert_eq!(eligible, dibao_households);
    for (t, m) in &by_township {
        assert_eq!(money(&report["by_township"][t]["total"]), *m, "{t}");
    }
    assert_eq!(report["failed"].as_array().unwrap().len(), 0);

    // Text output: the totals line with the same total.
    let text = jiuzhu(&db, &["month", "--month", "2026-11"]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains(&format!("合计 {total} 元")), "{out}");
    assert!(out.contains("371002001 环翠楼街道"), "{out}");

    // A household without an economic record is reported, not computed as zero income.
    let first = entries[0].snapshot.household.clone();
    {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        conn.execute(
            format!(
                "DELETE FROM household_economics WHERE household_id = {}",
                first.id
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    let after = json(&jiuzhu(&db, &["month", "--month", "2026-11", "--json"]));
    assert_eq!(after["totals"]["households"], households - 1);
    let failed = after["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["household_id"], first.id);
    assert_eq!(failed[0]["code"], first.code.as_str());
    assert_eq!(failed[0]["errors"][0]["code"], "ECONOMICS_MISSING");
    assert_eq!(failed[0]["errors"][0]["message"], "缺少经济状况信息");

    // The what-if on the store: a higher urban standard costs more and makes households eligible.
    let w = json(&jiuzhu(
        &db,
        &[
            "whatif",
            "--month",
            "2026-11",
            "--set",
            "dibao.standard.urban=850",
            "--from",
            "2026-11-01",
        ],
    ));
    assert_eq!(w["total"]["households"], households - 1);
    assert_eq!(
        money(&w["total"]["base_cost"]),
        money(&after["totals"]["total"])
    );
    assert!(money(&w["total"]["cost_difference"]) > Money::ZERO);
    assert!(w["total"]["newly_eligible"].as_u64().unwrap() > 0);
    assert_eq!(w["total"]["no_longer_eligible"], 0);
    assert_eq!(w["change"][0]["region"], "371000");
    assert_eq!(w["failed"][0]["errors"][0]["code"], "ECONOMICS_MISSING");
}
