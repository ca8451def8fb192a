//! Databases for tests, of this crate and of those above it. `JIUZHU_TEST_PG_URL` names a
//! PostgreSQL server (scripts/test.sh starts a throw-away one); every test creates its own
//! database there, so tests run in parallel. Without the variable a test that needs it fails: a
//! backend that is not tested is not supported.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};

pub fn postgres_server_url() -> String {
    std::env::var("JIUZHU_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "JIUZHU_TEST_PG_URL is not set: the PostgreSQL tests need a server \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres); scripts/test.sh starts a \
             throw-away cluster and sets it"
        )
    })
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
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
pub async fn fresh_postgres_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let server = postgres_server_url();
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
