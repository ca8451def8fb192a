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
use jiuzhu_store::{SqlStore, Store};

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
