//! Shared helpers of the audit tests: the binary on a SQLite database in a temporary directory
//! (its audit keys and checkpoint file land beside it), events written through the Store API,
//! and what an attacker with write access to the database does behind the triggers' back.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use jiuzhu_domain::audit::{chain_hash, GENESIS_HASH};
use jiuzhu_domain::{Actor, AuditAction, AuditRecord, Clock, SystemClock};
use jiuzhu_store::prelude::*;
use jiuzhu_store::SqlStore;

pub fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("t.sqlite").display())
}

/// `jiuzhu ARGS` on the database in `dir`.
pub fn jiuzhu(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db_url(dir))
        .env("JIUZHU_LOG", "warn")
        .env_remove("JIUZHU_AUDIT_KEY")
        .env_remove("JIUZHU_AUDIT_CHECKPOINTS")
        .env_remove("JIUZHU_DATA_DIR")
        .env_remove("JIUZHU_DATA_KEY")
        .output()
        .expect("run jiuzhu")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs and expects success.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = jiuzhu(dir, args);
    assert!(out.status.success(), "jiuzhu {args:?}: {}", text(&out));
    text(&out)
}

/// Runs and expects failure; a failed verify must never call the log intact.
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let out = jiuzhu(dir, args);
    let t = text(&out);
    assert!(!out.status.success(), "jiuzhu {args:?} should fail: {t}");
    assert!(
        !t.contains("审计链完好") && !t.contains("audit chain intact"),
        "{t}"
    );
    t
}

pub fn key_path(dir: &Path) -> PathBuf {
    dir.join("audit-signing.key")
}

pub fn checkpoint_path(dir: &Path) -> PathBuf {
    dir.join("audit-checkpoints.jsonl")
}

/// The checkpoint file's records.
pub fn checkpoints(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(checkpoint_path(dir))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a checkpoint line is JSON"))
        .collect()
}

pub async fn open(dir: &Path, clock: Arc<dyn Clock>) -> SqlStore {
    // The key file the binary uses: the test and the binary open the same database.
    let url = db_url(dir);
    jiuzhu_store::connect_with_key_file(&url, clock, &jiuzhu_store::data_key::default_path(&url))
        .await
        .expect("open store")
        .0
}

/// Writes `n` events through the Store API (as a running platform would).
pub async fn append_events(dir: &Path, n: usize) {
    let store = open(dir, Arc::new(SystemClock)).await;
    for i in 0..n {
        store
            .append_audit(
                &Actor::system("test"),
                AuditAction::LoginFailed,
                "session",
                None,
                None,
                Some(&format!("attempt {i}")),
            )
            .await
            .unwrap();
    }
    store.pool().close().await;
}

pub async fn all_events(dir: &Path) -> Vec<AuditRecord> {
    let store = open(dir, Arc::new(SystemClock)).await;
    let events = store.audit_page(0, 100_000).await.unwrap();
    store.pool().close().await;
    events
}

/// A fresh database with keys (created by the first command that writes), 60 events and a
/// checkpoint covering them.
pub async fn sealed_log(dir: &Path) {
    std::fs::write(dir.join("div.csv"), DIVISIONS).unwrap();
    let first = ok(
        dir,
        &["import", "divisions", dir.join("div.csv").to_str().unwrap()],
    );
    assert!(first.contains("已生成审计签名密钥"), "{first}");
    append_events(dir, 60).await;
    let out = ok(dir, &["audit", "checkpoint"]);
    assert!(out.contains("已写入检查点"), "{out}");
}

pub const DIVISIONS: &str = "code,name\n370000,山东省\n371000,威海市\n371002,环翠区\n371002001,环翠楼街道\n371002001201,新威路社区\n";

pub async fn raw_sql(dir: &Path, statements: &[String]) {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::SqliteConnection::connect(&db_url(dir))
        .await
        .expect("open sqlite");
    for s in statements {
        conn.execute(s.as_str())
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    conn.close().await.ok();
}

/// What a database writer does first: remove the triggers that refuse UPDATE and DELETE.
pub async fn drop_audit_triggers(dir: &Path) {
    raw_sql(
        dir,
        &[
            "DROP TRIGGER IF EXISTS audit_events_no_update".to_string(),
            "DROP TRIGGER IF EXISTS audit_events_no_delete".to_string(),
        ],
    )
    .await;
}

/// Deletes the newest `n` events and sets `audit_head` to the event before them, so that the
/// next write continues the shortened chain without a gap.
pub async fn cut_tail(dir: &Path, n: i64) {
    drop_audit_triggers(dir).await;
    raw_sql(
        dir,
        &[
            format!(
                "DELETE FROM audit_events WHERE seq > (SELECT MAX(seq) FROM audit_events) - {n}"
            ),
            format!(
                "UPDATE audit_head SET seq = COALESCE((SELECT MAX(seq) FROM audit_events), 0), \
                 hash = COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), \
                 '{GENESIS_HASH}')"
            ),
        ],
    )
    .await;
}

fn sql_text(v: Option<&str>) -> String {
    v.map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

/// Rebuilds the chain as an attacker who knows the algorithm would: `edit` changes the list of
/// events, then every event is renumbered, every hash recomputed with SM3 and `audit_head` set,
/// so that the chain is internally intact again.
pub async fn rebuild_chain(dir: &Path, edit: impl FnOnce(&mut Vec<AuditRecord>)) {
    let mut events = all_events(dir).await;
    edit(&mut events);
    drop_audit_triggers(dir).await;
    let mut statements = vec!["DELETE FROM audit_events".to_string()];
    let mut prev = GENESIS_HASH.to_string();
    for (i, r) in events.iter().enumerate() {
        let seq = i as i64 + 1;
        let hash = chain_hash(&prev, seq, &r.entry);
        let e = &r.entry;
        statements.push(format!(
            "INSERT INTO audit_events (seq, at, actor_id, actor_name, origin, action, record_kind, \
             record_id, division, before_data, after_data, detail, prev_hash, hash) VALUES \
             ({seq}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, '{prev}', '{hash}')",
            sql_text(Some(&e.at)),
            e.actor_user_id.map_or("NULL".into(), |i| i.to_string()),
            sql_text(Some(&e.actor_name)),
            sql_text(Some(&e.origin)),
            sql_text(Some(e.action.as_str())),
            sql_text(Some(&e.record_kind)),
            sql_text(e.record_id.as_deref()),
            sql_text(e.division.as_deref()),
            sql_text(e.before.as_ref().map(|v| v.to_string()).as_deref()),
            sql_text(e.after.as_ref().map(|v| v.to_string()).as_deref()),
            sql_text(e.detail.as_deref()),
        ));
        prev = hash;
    }
    statements.push(format!(
        "UPDATE audit_head SET seq = {}, hash = '{prev}'",
        events.len()
    ));
    raw_sql(dir, &statements).await;
}
