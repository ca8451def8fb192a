//! Data at rest through HTTP (docs/security.md): what the platform keeps on disk is the service
//! account's alone ("File permissions": an uploaded document and a pushed delivery, with every
//! folder made for them; this test process keeps the ordinary umask 0022, so only explicit modes
//! pass it), and a bank account stored encrypted is still found by its exact number ("The blind
//! index").

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Every file under `dir` with its mode, and every folder (the root included).
fn modes(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    out.push((dir.display().to_string(), true, mode(dir)));
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            modes(&p, out);
        } else {
            out.push((p.display().to_string(), false, mode(&p)));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_deliveries_are_kept_private() {
    let tmp = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        files_dir: tmp.path().join("files"),
        feeds_dir: tmp.path().join("data"),
        ..Default::default()
    })
    .await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await.to_string();
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "household"),
                ("owner_id", &hh),
                ("doc_type", "photo"),
            ],
            Some(("房屋.png", "image/png", PNG)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let officer = app.login("officer_yibao", "Demo@2026-medins").await;
    let csv = format!(
        "id_number,settlement_date,total_cost,out_of_pocket\n{},2026-02-10,9000.00,5000.00\n",
        head.id_number
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/feeds/medical_claims?source=HC-YB&data_date=2026-02-28")
        .header(header::COOKIE, &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let mut all = Vec::new();
    modes(&tmp.path().join("files"), &mut all);
    modes(&tmp.path().join("data"), &mut all);
    assert!(
        all.iter().filter(|(_, dir, _)| !dir).count() >= 2,
        "{all:?}"
    );
    for (path, dir, m) in &all {
        let want = if *dir { 0o700 } else { 0o600 };
        assert_eq!(*m, want, "{path} is {m:o}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_bank_account_is_found_by_its_number_and_shown_masked() {
    use jiuzhu_domain::access::WriteRegistry;
    let app = TestApp::new().await;
    let head = app.head_of(TOWNSHIP_A).await;
    let mut facts = head.facts.clone();
    facts.bank_account = Some("6222020200112233445".into());
    let w = jiuzhu_domain::Actor::system("test")
        .grant::<WriteRegistry>()
        .unwrap();
    app.store
        .update_person(&w, head.id, head.row_version, &facts, head.valid_from)
        .await
        .unwrap();
    let clerk = app.login_as(&app.clerk_a()).await;
    for q in ["6222020200112233445", "6222%200202%200011%202233%20445"] {
        let r = app
            .get(&format!("/api/v1/persons?q={q}"), Some(&clerk))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        let ids: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [head.id], "{q}: {v}");
    }
    // Another township's clerk does not find it: the blind index is searched in scope.
    let other = app
        .login_as(&app.user(jiuzhu_domain::Role::WindowClerk, TOWNSHIP_B))
        .await;
    let r = app
        .get("/api/v1/persons?q=6222020200112233445", Some(&other))
        .await;
    assert_eq!(r.json()["total"], 0);
    // Shown masked until revealed.
    let r = app
        .get(&format!("/api/v1/persons/{}", head.id), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(!r.text().contains("6222020200112233445"), "{}", r.text());
}
