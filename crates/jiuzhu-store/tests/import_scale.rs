//! Import throughput at province scale, run by hand (ignored by default):
//!
//! ```text
//! python3 shared/bench/verify/gen_feeds.py --out /tmp/feeds     # 400,000 households, 999,280 members
//! JIUZHU_CASELOAD_DIR=/tmp/feeds cargo test --release -p jiuzhu-store --test import_scale -- --ignored --nocapture
//! ```
//!
//! Set `JIUZHU_TEST_PG_URL` as well to time PostgreSQL too (a new database is created).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use jiuzhu_domain::access::{ImportCaseload, ManageDivisions};
use jiuzhu_domain::{Actor, DivisionCode, FixedClock};
use jiuzhu_store::conformance::start_time;
use jiuzhu_store::prelude::*;
use jiuzhu_store::SqlStore;

fn input(dir: &std::path::Path, name: &str) -> jiuzhu_import::Input {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jiuzhu_import::Input::new(name, bytes)
}

async fn import_into(store: &SqlStore, label: &str) {
    let dir =
        PathBuf::from(std::env::var("JIUZHU_CASELOAD_DIR").unwrap_or_else(|_| "/tmp/feeds".into()));
    let started = Instant::now();
    let batch = jiuzhu_import::caseload::parse(
        &input(&dir, "caseload_households.csv"),
        &input(&dir, "caseload_members.csv"),
        chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
        true,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .expect("valid caseload");
    let parsed = started.elapsed();
    let actor = Actor::system("bench");
    // The counties the generator uses; townships and villages are created by the import.
    let counties: Vec<(DivisionCode, String)> = [
        "371002", "371003", "371082", "371083", "520304", "430321", "341882", "330203",
    ]
    .iter()
    .map(|c| (DivisionCode::parse(c).unwrap(), format!("县{c}")))
    .collect();
    store
        .import_divisions(&actor.grant::<ManageDivisions>().unwrap(), &counties)
        .await
        .unwrap();
    let t = Instant::now();
    let summary = store
        .import_caseload(
            &actor.grant::<ImportCaseload>().unwrap(),
            &batch,
            &|_, _| {},
        )
        .await
        .expect("import");
    let written = t.elapsed();
    println!(
        "{label}: parsed {} households / {} members in {:.2} s; written in {:.2} s ({} divisions created)",
        batch.households.len(),
        batch.members.len(),
        parsed.as_secs_f64(),
        written.as_secs_f64(),
        summary.divisions_created
    );
    // A second import of the same batch is rejected: every member is registered.
    let t = Instant::now();
    let err = store
        .import_caseload(
            &actor.grant::<ImportCaseload>().unwrap(),
            &batch,
            &|_, _| {},
        )
        .await
        .unwrap_err();
    println!(
        "{label}: re-import rejected in {:.2} s ({err})",
        t.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the generated caseload files; run by hand"]
async fn province_scale_import() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("scale.sqlite").display());
    let store = jiuzhu_store::connect(
        &url,
        Arc::new(FixedClock::new(start_time())),
        jiuzhu_store::data_key::DataKeys::generate(),
    )
    .await
    .unwrap();
    import_into(&store, "sqlite").await;
    drop(store);

    if let Ok(server) = std::env::var("JIUZHU_TEST_PG_URL") {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
        let name = format!("jiuzhu_scale_{}", std::process::id());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let base = &server[..server.rfind('/').unwrap()];
        let store = jiuzhu_store::connect(
            &format!("{base}/{name}"),
            Arc::new(FixedClock::new(start_time())),
            jiuzhu_store::data_key::DataKeys::generate(),
        )
        .await
        .unwrap();
        import_into(&store, "postgres").await;
    }
}

/// The demo county's caseload import (about 5,000 households, 12,000 persons, with phones,
/// illness notes and bank accounts), the figure docs/security.md gives for encryption at rest:
///
/// ```text
/// cargo test --release -p jiuzhu-store --test import_scale demo_county -- --ignored --nocapture
/// ```
#[tokio::test]
#[ignore = "a timing, run by hand"]
async fn demo_county_import() {
    let demo = jiuzhu_import::demo::generate(20261123);
    let actor = Actor::system("bench");
    let mut times = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
        let store = jiuzhu_store::connect(
            &url,
            Arc::new(FixedClock::new(start_time())),
            jiuzhu_store::data_key::DataKeys::generate(),
        )
        .await
        .unwrap();
        store
            .import_divisions(&actor.grant::<ManageDivisions>().unwrap(), &demo.divisions)
            .await
            .unwrap();
        let t = Instant::now();
        store
            .import_caseload(
                &actor.grant::<ImportCaseload>().unwrap(),
                &demo.batch,
                &|_, _| {},
            )
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let facts = || demo.batch.members.iter().filter_map(|m| m.facts.as_ref());
    let accounts = facts().filter(|f| f.bank_account.is_some()).count();
    let notes = facts().filter(|f| f.illness_note.is_some()).count();
    println!("demo county: {accounts} bank accounts and {notes} illness notes encrypted");
    println!(
        "demo county: {} households / {} members; import in {:.3} s (median of 5; min {:.3}, max {:.3})",
        demo.batch.households.len(),
        demo.batch.members.len(),
        times[2],
        times[0],
        times[4]
    );
}

/// What one value costs: SM4-GCM encryption and decryption of a 19-digit account, and its
/// HMAC-SM3 blind index (docs/security.md):
///
/// ```text
/// cargo test --release -p jiuzhu-store --test import_scale field_crypto -- --ignored --nocapture
/// ```
#[test]
#[ignore = "a timing, run by hand"]
fn field_crypto_cost() {
    use jiuzhu_store::data_key::{DataKeys, Slot};
    let keys = DataKeys::generate();
    let slot = Slot {
        table: "persons",
        column: "bank_account",
        row: "123456/1",
    };
    const N: u32 = 100_000;
    let t = Instant::now();
    let mut sealed = String::new();
    for _ in 0..N {
        sealed = keys.encrypt(slot, "6222020200112233445");
    }
    let enc = t.elapsed() / N;
    let t = Instant::now();
    for _ in 0..N {
        assert_eq!(keys.decrypt(slot, &sealed).unwrap().len(), 19);
    }
    let dec = t.elapsed() / N;
    let t = Instant::now();
    for _ in 0..N {
        assert_eq!(keys.bank_account_index("6222020200112233445").len(), 32);
    }
    let idx = t.elapsed() / N;
    println!("per value: encrypt {enc:?}, decrypt {dec:?}, blind index {idx:?}");
}
