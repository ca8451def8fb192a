//! The conformance suite on PostgreSQL. `JIUZHU_TEST_PG_URL` names a server (scripts/test.sh
//! starts a throw-away one); every test creates its own database there, so tests run in
//! parallel. Without the variable the tests fail: a backend that is not tested is not supported.

use std::sync::Arc;

use jiuzhu_domain::FixedClock;
use jiuzhu_store::conformance::{start_time, Harness};

async fn fresh() -> Harness {
    let clock = FixedClock::new(start_time());
    let store = jiuzhu_store::connect(
        &jiuzhu_store::test_db::fresh_postgres_database().await,
        Arc::new(clock.clone()),
        jiuzhu_store::data_key::DataKeys::generate(),
    )
    .await
    .expect("open PostgreSQL store");
    Harness::new(store, clock, None)
}

jiuzhu_store::conformance_tests!(fresh);

mod upgrade;

#[tokio::test]
async fn an_upgrade_makes_administrators_system_administrators() {
    let url = jiuzhu_store::test_db::fresh_postgres_database().await;
    upgrade::administrators_become_system_administrators(&url, "postgres").await;
}

#[test]
fn database_name_is_replaced() {
    use jiuzhu_store::test_db::with_database;
    assert_eq!(
        with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
        "postgres://u@h:5/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
}

mod schema;

/// The two migration trees make one schema: a fresh SQLite database and a fresh PostgreSQL one
/// have the same tables, columns, keys, unique constraints, indexes and triggers.
#[tokio::test]
async fn the_two_backends_have_one_schema() {
    assert_eq!(
        schema::migration_files("sqlite"),
        schema::migration_files("postgres"),
        "every migration exists for both backends, under the same name"
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("s.sqlite").display());
    let postgres = jiuzhu_store::test_db::fresh_postgres_database().await;
    for url in [&sqlite, &postgres] {
        jiuzhu_store::connect(
            url,
            Arc::new(FixedClock::new(start_time())),
            jiuzhu_store::data_key::DataKeys::generate(),
        )
        .await
        .expect("migrate");
    }
    let (lite, pg) = (
        schema::sqlite(&sqlite).await,
        schema::postgres(&postgres).await,
    );
    // Something of each is compared (the catalogue queries found them).
    assert!(lite.tables.len() > 30 && !lite.unique.is_empty());
    assert!(lite.indexes.len() > 10 && lite.triggers.len() > 10);
    assert_eq!(
        lite.tables.keys().collect::<Vec<_>>(),
        pg.tables.keys().collect::<Vec<_>>()
    );
    for (t, cols) in &lite.tables {
        assert_eq!(cols, &pg.tables[t], "columns of {t}");
    }
    assert_eq!(lite.primary_keys, pg.primary_keys);
    assert_eq!(lite.unique, pg.unique);
    assert_eq!(lite.indexes, pg.indexes);
    assert_eq!(lite.triggers, pg.triggers);
}
