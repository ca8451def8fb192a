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
    Harness {
        store: Arc::new(store),
        clock,
        keep: None,
    }
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
