//! The conformance suite on PostgreSQL. `JIUZHU_TEST_PG_URL` names a server (scripts/test.sh
//! starts a throw-away one); every test creates its own database there, so tests run in
//! parallel. Without the variable the tests fail: a backend that is not tested is not supported.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use jiuzhu_domain::FixedClock;
use jiuzhu_store::conformance::{start_time, Harness};
use sqlx::{Connection, Executor};

fn server_url() -> String {
    std::env::var("JIUZHU_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "JIUZHU_TEST_PG_URL is not set: the PostgreSQL conformance tests need a server \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres); scripts/test.sh starts a \
             throw-away cluster and sets it"
        )
    })
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A new, empty database on the test server; its URL.
async fn fresh_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let server = server_url();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "jiuzhu_t_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to JIUZHU_TEST_PG_URL: {e}"));
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    admin.close().await.ok();
    with_database(&server, &name)
}

async fn fresh() -> Harness {
    let clock = FixedClock::new(start_time());
    let store = jiuzhu_store::connect(
        &fresh_database().await,
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
    let url = fresh_database().await;
    upgrade::administrators_become_system_administrators(&url, "postgres").await;
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
        "postgres://u@h:5/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
}
