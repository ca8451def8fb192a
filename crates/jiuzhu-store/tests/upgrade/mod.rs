//! Upgrading a database made before 三员分立 (migrations up to 0014), shared by the SQLite and
//! PostgreSQL tests: migration 0017 turns the one administrator role into the system
//! administrator's and leaves existing accounts approved.

use std::path::Path;
use std::sync::Arc;

use jiuzhu_domain::access::{
    ManagePolicies, ManageUsers, ReadAudit, ReadRegistry, RevealSensitive,
};
use jiuzhu_domain::{Approval, FixedClock, Role};
use jiuzhu_store::conformance::start_time;
use jiuzhu_store::prelude::*;

/// The migrations of `backend` before 0015, copied to `into`.
fn migrations_before_0015(backend: &str, into: &Path) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let version: u32 = name[..4].parse().unwrap();
        if version < 15 {
            std::fs::copy(&path, into.join(&name)).unwrap();
        }
    }
}

/// `url` names an empty database of `backend` ("sqlite" or "postgres").
pub async fn administrators_become_system_administrators(url: &str, backend: &str) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let old = tempfile::tempdir().unwrap();
    migrations_before_0015(backend, old.path());
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let at = "2026-03-02T02:00:00.000000Z";
    for (id, username, role, division) in [
        (1, "admin", "admin", "000000"),
        (2, "clerk_a", "window_clerk", "371002001"),
    ] {
        pool.execute(
            format!(
                "INSERT INTO users (id, username, display_name, role, department, division, \
                 password_hash, must_change_password, failed_logins, locked_until, active, \
                 row_version, created_at, updated_at) VALUES ({id}, '{username}', '旧账户', \
                 '{role}', NULL, '{division}', 'x', 0, 0, NULL, 1, 1, '{at}', '{at}')"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    pool.close().await;

    let store = jiuzhu_store::connect(
        url,
        Arc::new(FixedClock::new(start_time())),
        jiuzhu_store::data_key::DataKeys::generate(),
    )
    .await
    .expect("the upgrade applies");
    let admin = store.user_by_username("admin").await.unwrap().unwrap();
    assert_eq!(
        (admin.role, admin.approval),
        (Role::SystemAdmin, Approval::Approved)
    );
    // It keeps managing accounts and loses business data, policies and the log.
    let a = admin.actor("x");
    assert!(a.grant::<ManageUsers>().is_ok());
    assert!(a.grant::<ReadRegistry>().is_err());
    assert!(a.grant::<ManagePolicies>().is_err());
    assert!(a.grant::<ReadAudit>().is_err());
    // Working accounts keep working.
    let clerk = store.user_by_username("clerk_a").await.unwrap().unwrap();
    assert_eq!(clerk.approval, Approval::Approved);
    assert!(clerk.actor("x").grant::<RevealSensitive>().is_ok());
    // The approval column takes only its two states.
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let bad = pool
        .execute("UPDATE users SET approval = 'approved_by_me' WHERE id = 2")
        .await;
    assert!(bad.is_err(), "the CHECK constraint holds");
    pool.close().await;
}
