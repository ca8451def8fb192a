//! The audit administrator verifies and exports the audit log in the product (三员分立), with the
//! key `serve` signs checkpoints with: an intact log is recorded as verified and checkpointed, a
//! log without checkpoints is reported as not intact and not exported, an export checks with the
//! public key alone; nobody else may do either, and without the key both are a 503 that names no
//! path.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use jiuzhu_store::audit_seal::{AuditSeal, SealPaths};
use serde_json::Value;

async fn app_with_key(dir: &std::path::Path) -> (TestApp, SealPaths) {
    let paths = SealPaths::new(dir, None, None);
    AuditSeal::open_or_create(&paths).unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        audit_seal: Some(paths.clone()),
        ..Default::default()
    })
    .await;
    (app, paths)
}

async fn events(app: &TestApp, audit: &Session, action: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/audit?action={action}"), Some(audit))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_administrator_verifies_and_exports_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (app, paths) = app_with_key(dir.path()).await;
    let audit_user = app.user(Role::AuditAdmin, "371002");
    let audit = app.login_as(&audit_user).await;

    // No checkpoint yet: truncation cannot be ruled out, so the log is not called intact.
    let r = app
        .call(Method::POST, "/api/v1/audit/verify", Some(&audit), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["intact"], false, "{v}");
    assert!(v["problem"].as_str().unwrap().contains("没有检查点"), "{v}");
    let r = app
        .get(
            "/api/v1/audit/export?from=2026-03-01&to=2026-03-02",
            Some(&audit),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.error_code(), "AUDIT_NOT_INTACT");

    // As serve does at start: a checkpoint. Then the log verifies and the check is recorded.
    let seal = AuditSeal::open(&paths).unwrap();
    seal.checkpoint(app.store.as_ref(), &app.clock)
        .await
        .unwrap();
    let r = app
        .call(Method::POST, "/api/v1/audit/verify", Some(&audit), None)
        .await;
    let v = r.json();
    assert_eq!(v["intact"], true, "{v}");
    assert!(v["events"].as_u64().unwrap() > 10, "{v}");
    let verified = events(&app, &audit, "audit_verified").await;
    assert_eq!(verified["total"], 1, "{verified}");
    assert_eq!(
        verified["items"][0]["actor_name"],
        audit_user.username.as_str()
    );
    // The page does the same and says so in Chinese.
    let r = app
        .form(
            "/audit/verify",
            Some(&audit.cookie),
            &[("_csrf", audit.csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("审计链完好"), "{}", r.text());

    // A signed export of the period, which checks with the public key alone.
    let r = app
        .get(
            "/api/v1/audit/export?from=2026-03-01&to=2026-03-02",
            Some(&audit),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.headers.get(header::CONTENT_DISPOSITION).unwrap(),
        "attachment; filename=\"jiuzhu-audit-2026-03-01-2026-03-02.jsonl\""
    );
    let file = dir.path().join("downloaded.jsonl");
    std::fs::write(&file, &r.body).unwrap();
    let checked = jiuzhu_store::audit_export::verify_export(&file, &paths.public_key).unwrap();
    assert!(checked.header.events > 10, "{:?}", checked.header);
    let exported = events(&app, &audit, "audit_exported").await;
    assert_eq!(exported["total"], 1, "{exported}");
    assert!(exported["items"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("downloaded as jiuzhu-audit-2026-03-01-2026-03-02.jsonl"));
    // Nothing of it is left on the server.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("export"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A period without events, and a date that is not one: 422 naming the field.
    let r = app
        .get(
            "/api/v1/audit/export?from=2020-01-01&to=2020-01-31",
            Some(&audit),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = app
        .get(
            "/api/v1/audit/export?from=2026-02-30&to=2026-03-02",
            Some(&audit),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "from");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_audit_administrator_verifies_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app_with_key(dir.path()).await;
    for role in [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::Auditor,
        Role::CountyManager,
    ] {
        let s = app.login_as(&app.user(role, "371002")).await;
        let r = app
            .call(Method::POST, "/api/v1/audit/verify", Some(&s), None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
        let r = app
            .get(
                "/api/v1/audit/export?from=2026-03-01&to=2026-03-02",
                Some(&s),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    // The business auditor reads the log but gets no verification buttons.
    let auditor = app.login_as(&app.user(Role::Auditor, "371002")).await;
    let page = app.get("/audit", Some(&auditor)).await.text();
    assert!(!page.contains("id=\"audit-verify\""), "{page}");
    let audit = app.login_as(&app.user(Role::AuditAdmin, "371002")).await;
    let page = app.get("/audit", Some(&audit)).await.text();
    assert!(
        page.contains("id=\"audit-verify\"") && page.contains("id=\"audit-export\""),
        "{page}"
    );

    // Without the key: 503, the operator's problem, no path of the server shown.
    let bare = TestApp::new().await;
    let audit = bare.login_as(&bare.user(Role::AuditAdmin, "371002")).await;
    let r = bare
        .call(Method::POST, "/api/v1/audit/verify", Some(&audit), None)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.error_code(), "AUDIT_KEY_UNAVAILABLE");
    assert!(!r.text().contains("audit-signing"), "{}", r.text());
}
