//! The conformance suite on SQLite: each test gets a new database file in a temporary directory.

use std::sync::Arc;

use jiuzhu_domain::FixedClock;
use jiuzhu_store::conformance::{start_time, Harness};

async fn fresh() -> Harness {
    let dir = tempfile::tempdir().expect("temporary directory");
    // A nested path: connect creates missing directories.
    let url = format!(
        "sqlite://{}",
        dir.path().join("db").join("t.sqlite").display()
    );
    let clock = FixedClock::new(start_time());
    let store = jiuzhu_store::connect(&url, Arc::new(clock.clone()))
        .await
        .expect("open SQLite store");
    Harness {
        store: Arc::new(store),
        clock,
        keep: Some(Box::new(dir)),
    }
}

jiuzhu_store::conformance_tests!(fresh);

mod upgrade;

#[tokio::test]
async fn an_upgrade_makes_administrators_system_administrators() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.sqlite").display()
    );
    upgrade::administrators_become_system_administrators(&url, "sqlite").await;
}

#[tokio::test]
async fn reopening_keeps_data_and_applies_no_migration_twice() {
    use jiuzhu_domain::access::ManageDivisions;
    use jiuzhu_domain::{Actor, DivisionCode};
    use jiuzhu_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let clock = Arc::new(FixedClock::new(start_time()));
    let g = Actor::system("test").grant::<ManageDivisions>().unwrap();
    {
        let store = jiuzhu_store::connect(&url, clock.clone()).await.unwrap();
        store
            .save_division(&g, &DivisionCode::parse("371002").unwrap(), "环翠区")
            .await
            .unwrap();
    }
    let store = jiuzhu_store::connect(&url, clock).await.unwrap();
    let events = store.audit_page(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
}
