//! The `jiuzhu` binary as an operator uses it: imports, users, and the audit chain check.

use std::path::Path;
use std::process::{Command, Output};

fn jiuzhu(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db)
        .env("JIUZHU_LOG", "warn")
        .output()
        .expect("run jiuzhu")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("t.sqlite").display())
}

async fn raw_sql(url: &str, statements: &[&str]) {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("open sqlite");
    for s in statements {
        conn.execute(*s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

async fn count(url: &str, table: &str) -> i64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("open sqlite");
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get::<i64, _>(0)
}

async fn drop_audit_triggers(url: &str) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("open sqlite");
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("triggers")
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(!names.is_empty(), "audit_events should be protected by triggers");
    drop(conn);
    let drops: Vec<String> = names.iter().map(|n| format!("DROP TRIGGER {n}")).collect();
    let refs: Vec<&str> = drops.iter().map(String::as_str).collect();
    raw_sql(url, &refs).await;
}

const DIVISIONS: &str = "code,name\n370000,山东省\n371000,威海市\n371002,环翠区\n371002001,环翠楼街道\n371002001201,新威路社区\n";

#[tokio::test]
async fn caseload_import_is_all_or_nothing_and_reports_each_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    let out = jiuzhu(&db, &["import", "divisions", dir.path().join("div.csv").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    let households = "household_id,division_code,area\n1,371002001201,urban\n2,371002001201,rural\n";
    std::fs::write(dir.path().join("h.csv"), households).unwrap();
    // Row 3 has a wrong check character (…0021 instead of …002X).
    let bad_members = "household_id,id_number,name,relation\n1,11010519491231002X,王芳,head\n2,110105194912310021,李强,head\n";
    std::fs::write(dir.path().join("m.csv"), bad_members).unwrap();
    let h = dir.path().join("h.csv");
    let m = dir.path().join("m.csv");
    let out = jiuzhu(&db, &["import", "caseload", h.to_str().unwrap(), m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("第3行"), "{msg}");
    assert!(msg.contains("校验码"), "{msg}");
    assert_eq!(count(&db, "persons").await, 0, "nothing may be written");
    assert_eq!(count(&db, "households").await, 0, "nothing may be written");

    let good_members = "household_id,id_number,name,relation\n1,11010519491231002X,王芳,head\n2,371002198001010010,李强,head\n";
    std::fs::write(&m, good_members).unwrap();
    let out = jiuzhu(&db, &["import", "caseload", h.to_str().unwrap(), m.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("summary JSON on stdout");
    assert_eq!(summary["households"], 2);
    assert_eq!(summary["persons"], 2);
    assert_eq!(count(&db, "persons").await, 2);

    // The same file again: every identity number is already registered; nothing changes.
    let out = jiuzhu(&db, &["import", "caseload", h.to_str().unwrap(), m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(count(&db, "persons").await, 2);
}

#[tokio::test]
async fn audit_verify_names_the_first_row_changed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    let out = jiuzhu(&db, &["import", "divisions", dir.path().join("div.csv").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    for (name, role) in [("clerk_a", "window_clerk"), ("reviewer_a", "township_reviewer")] {
        let out = jiuzhu(
            &db,
            &["user", "create", "--username", name, "--name", "测试", "--role", role, "--division", "371002001"],
        );
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("一次性密码"));
    }
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("审计链完好"), "{}", text(&out));

    // The log is append-only: an ordinary UPDATE is refused by the database itself.
    {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        let refused = conn
            .execute("UPDATE audit_events SET detail = 'x' WHERE seq = 2")
            .await;
        assert!(refused.is_err(), "audit_events must reject UPDATE");
    }

    // A DBA who removes the protection and edits a row is caught by the hash chain.
    drop_audit_triggers(&db).await;
    raw_sql(&db, &["UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = 2"]).await;
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("seq 2"), "{}", text(&out));
}

#[tokio::test]
async fn audit_verify_detects_a_deleted_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    jiuzhu(&db, &["import", "divisions", dir.path().join("div.csv").to_str().unwrap()]);
    for name in ["a1", "a2", "a3"] {
        let out = jiuzhu(
            &db,
            &["user", "create", "--username", name, "--name", "测试", "--role", "auditor", "--division", "371002"],
        );
        assert!(out.status.success(), "{}", text(&out));
    }
    drop_audit_triggers(&db).await;
    raw_sql(&db, &["DELETE FROM audit_events WHERE seq = 3"]).await;
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("seq 4"), "{}", text(&out));
}
