//! Request limits and headers, kept as the attacks and findings of the security test: uploads
//! over 2 MB that failed with a CSRF error on every upload form, bodies without a limit, a bulk
//! close of 100,000 warnings, pages without CSP, frame-ancestors, nosniff or no-store.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use jiuzhu_web::WebConfig;
use serde_json::json;

/// A multipart form posted as a browser does: the session cookie and the `_csrf` field first,
/// no CSRF header.
async fn browser_upload(
    app: &TestApp,
    path: &str,
    s: &Session,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Resp {
    let mut all = vec![("_csrf", s.csrf.as_str())];
    all.extend_from_slice(fields);
    let (ct, body) = multipart(&all, file);
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, ct)
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

fn big(prefix: &[u8], len: usize) -> Vec<u8> {
    let mut v = prefix.to_vec();
    while v.len() < len {
        v.extend_from_slice(b"0123456789abcdef,0123456789abcdef\n");
    }
    v
}

fn assert_not_csrf(r: &Resp, form: &str) {
    assert_ne!(r.status, StatusCode::FORBIDDEN, "{form}: {}", r.text());
    assert!(!r.text().contains("CSRF"), "{form}: {}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_two_megabytes_pass_the_csrf_check_on_every_upload_form() {
    let app = TestApp::new().await;
    let three_mb = 3 * 1024 * 1024;
    let clerk = app.login_as(&app.clerk_a()).await;
    let household = app.household_of(&app.head_of(TOWNSHIP_A).await).await;
    let owner = format!("household:{household}");
    let pdf = big(b"%PDF-1.4\n", three_mb);
    let r = browser_upload(
        &app,
        "/documents",
        &clerk,
        &[("owner", &owner), ("doc_type", "id_card")],
        Some(("scan.pdf", "application/pdf", &pdf)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "documents: {}", r.text());

    let csv = big(b"code,name\n", three_mb);
    let admin = app.login_as(&app.user(Role::CountyManager, "371002")).await;
    let r = browser_upload(
        &app,
        "/divisions/import",
        &admin,
        &[],
        Some(("divisions.csv", "text/csv", &csv)),
    )
    .await;
    assert_not_csrf(&r, "divisions");

    let county = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let r = browser_upload(
        &app,
        "/feeds",
        &county,
        &[
            ("kind", "medical_claims"),
            ("source", "HC-YB"),
            ("data_date", "2026-02-28"),
        ],
        Some(("claims.csv", "text/csv", &csv)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "feeds: {}", r.text());

    // /import takes two files; the what-if one JSON file.
    let (ct, body) = multipart(
        &[
            ("_csrf", county.csrf.as_str()),
            ("valid_from", "2026-03-01"),
        ],
        Some(("households.csv", "text/csv", &csv)),
    );
    let body = String::from_utf8(body)
        .unwrap()
        .replace("name=\"file\"", "name=\"households\"");
    let req = Request::post("/import")
        .header(header::COOKIE, &county.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_not_csrf(&r, "import");
    assert!(r.text().contains("请选择成员表文件"), "{}", r.text());

    let json = big(b"[", three_mb);
    let r = browser_upload(
        &app,
        "/whatif",
        &clerk,
        &[
            ("source", "file"),
            ("changes", "dibao.standard.urban=850"),
            ("month", "2026-03"),
        ],
        Some(("caseload.json", "application/json", &json)),
    )
    .await;
    assert_not_csrf(&r, "whatif");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_its_limit_is_refused_naming_the_limit() {
    let app = TestApp::with_config(WebConfig {
        max_document_bytes: 2 * 1024 * 1024,
        body_limits: jiuzhu_web::limits::BodyLimits {
            feed: 1024 * 1024,
            ..Default::default()
        },
        ..WebConfig::default()
    })
    .await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let page = app
        .get(
            &format!(
                "/documents?owner=household:{}",
                app.household_of(&app.head_of(TOWNSHIP_A).await).await
            ),
            Some(&clerk),
        )
        .await;
    assert!(page.text().contains("单个文件不超过 2 MB"));
    let pdf = big(b"%PDF-1.4\n", 4 * 1024 * 1024);
    let r = browser_upload(
        &app,
        "/documents",
        &clerk,
        &[("owner", "household:1"), ("doc_type", "id_card")],
        Some(("scan.pdf", "application/pdf", &pdf)),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(r.text().contains("文件超过 2 MB"), "{}", r.text());

    // The feeds page states its limit; a delivery streamed without a length is cut at it.
    let county = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    assert!(app
        .get("/feeds", Some(&county))
        .await
        .text()
        .contains("文件不超过 1 MB"));
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b'7'; 64 * 1024])).collect();
    let req = Request::post("/api/v1/feeds/medical_claims?source=HC-YB&data_date=2026-02-28")
        .header(header::COOKIE, &county.cookie)
        .header("x-csrf-token", &county.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.error_code(), "TOO_LARGE");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("1 MB"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_form_bodies_have_a_small_limit() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let padding = "x".repeat(2 * 1024 * 1024);
    let r = app
        .call(
            Method::POST,
            "/api/v1/calc",
            Some(&clerk),
            Some(json!({"month": "2026-03", "padding": padding})),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.error_code(), "TOO_LARGE");
    // Unauthenticated, without a length: cut off at the limit all the same.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let req = Request::post("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_close_is_capped_at_a_thousand_warnings() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let items: Vec<_> = (1..=100_000)
        .map(|id| json!({"id": id, "row_version": 1}))
        .collect();
    // 100,000 items are over the JSON limit already; 1,001 are within it and over the cap.
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(json!({"items": items, "note": "核实无影响"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(json!({"items": items[..1001], "note": "核实无影响"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let f = &r.json()["error"]["fields"][0];
    assert_eq!(f["code"], "TOO_MANY_ITEMS");
    assert_eq!(
        f["message"],
        "一次最多批量销号 1000 条预警,本次提交了 1001 条,请分批处理"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    let r = app.get("/login", None).await;
    let h = |name: &str| {
        r.headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert_eq!(script_src.trim(), "script-src 'self'");
    assert_eq!(h("x-content-type-options"), "nosniff");
    assert_eq!(h("cache-control"), "no-store");
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("referrer-policy"), "same-origin");
    assert!(r.headers.get("strict-transport-security").is_none());

    let r = app.get("/api/v1/me", None).await;
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));

    // The pages have no inline script: their behaviour is the one script of this server.
    let clerk = app.login_as(&app.clerk_a()).await;
    let household = app.household_of(&app.head_of(TOWNSHIP_A).await).await;
    for page in [
        "/".to_string(),
        format!("/households/{household}"),
        "/warnings".into(),
        "/policies/371000".into(),
        "/cases".into(),
        "/calc".into(),
    ] {
        let r = app.get(&page, Some(&clerk)).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        let html = r.text();
        assert!(!html.contains("<script>"), "{page} has inline script");
        assert!(!html.contains(" onclick="), "{page} has an inline handler");
        assert!(html.contains("<script src=\"/assets/app.js\" defer></script>"));
        assert_eq!(r.headers["cache-control"], "no-store", "{page}");
    }
    let js = app.get("/assets/app.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    // HTTPS deployments (secure cookies) add HSTS.
    let app = TestApp::with_config(WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    })
    .await;
    let r = app.get("/login", None).await;
    assert_eq!(r.headers["strict-transport-security"], "max-age=31536000");
}
