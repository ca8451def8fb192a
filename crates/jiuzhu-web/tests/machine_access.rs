//! Issue 12, point 9: a department's system delivers over the API with OAuth2 client
//! credentials — no browser session, no CSRF token, no 30-minute idle cookie —, scoped to its
//! department's kinds and bound sources, revocable and audited.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine as _;
use common::*;
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::Role;
use serde_json::{json, Value};

fn basic(id: &str, secret: &str) -> String {
    let raw = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn ask_token(app: &TestApp, authorization: Option<&str>, form: &str) -> Resp {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/oauth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(a) = authorization {
        b = b.header(header::AUTHORIZATION, a);
    }
    app.send(b.body(Body::from(form.to_string())).unwrap())
        .await
}

async fn with_bearer(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<String>,
) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if body.is_some() {
        b = b.header(header::CONTENT_TYPE, "text/csv");
    }
    app.send(b.body(Body::from(body.unwrap_or_default())).unwrap())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_system_delivers_with_client_credentials_and_is_revoked() {
    let app = TestApp::new().await;
    let system_admin = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let security = app.login_as(&app.user(Role::SecurityAdmin, "371002")).await;
    let manager = app.login("manager_huancui", "Demo@2026-manage").await;

    // The system administrator creates the account; its secret is shown once and never needs
    // changing.
    let r = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&system_admin),
            Some(
                json!({"username": "yibao_gateway", "display_name": "医保结算前置系统",
                "role": "department_system", "department": "medical_insurance",
                "division": "371002"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    let id = created["user_id"].as_i64().unwrap();
    let secret = created["one_time_password"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 48);
    assert_eq!(created["must_change_password"], false, "{created}");

    // A token before approval works for nothing.
    let r = ask_token(
        &app,
        Some(&basic("yibao_gateway", &secret)),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let pending = r.json()["access_token"].as_str().unwrap().to_string();
    let body = b"37100219550505002";
    let person = format!("{}{}", std::str::from_utf8(body).unwrap(), check_char(body));
    let csv = format!(
        "id_number,settlement_date,total_cost,out_of_pocket\n{person},2026-02-12,30000.00,15000.50\n"
    );
    let deliver = "/api/v1/feeds/medical_claims?source=HC-YB&data_date=2026-02-28";
    let r = with_bearer(&app, Method::POST, deliver, &pending, Some(csv.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Approved by the security administrator, bound to the insurer's source by the manager.
    let v = app
        .get(&format!("/api/v1/users/{id}"), Some(&security))
        .await
        .json()["row_version"]
        .as_i64()
        .unwrap();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/approve"),
            Some(&security),
            Some(json!({"row_version": v})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A system account never turns into a person's (its secret is no password).
    let v = r.json()["row_version"].as_i64().unwrap();
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/users/{id}/access"),
            Some(&security),
            Some(json!({"row_version": v, "role": "department_officer"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "SYSTEM_ROLE_FIXED");
    let sources = app
        .get("/api/v1/verification/sources", Some(&manager))
        .await
        .json();
    let source = sources["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "HC-YB")
        .unwrap()
        .clone();
    let mut accounts: Vec<Value> = source["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user_id"].clone())
        .collect();
    accounts.push(json!(id));
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/verification/sources/{}", source["id"]),
            Some(&manager),
            Some(
                json!({"row_version": source["row_version"], "name": source["name"],
                "retired": false, "accounts": accounts}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The token: HTTP Basic or the form fields; not cached.
    let r = ask_token(
        &app,
        None,
        &format!("grant_type=client_credentials&client_id=yibao_gateway&client_secret={secret}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 1800);
    let token = t["access_token"].as_str().unwrap().to_string();

    // It delivers with the bearer token alone (no cookie, no CSRF token) and reads it back.
    let r = with_bearer(&app, Method::POST, deliver, &token, Some(csv.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let delivery = r.json()["delivery"]["id"].as_i64().unwrap();
    let back = with_bearer(
        &app,
        Method::GET,
        &format!("/api/v1/feeds/deliveries/{delivery}"),
        &token,
        None,
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert_eq!(back.json()["delivery"]["imported_by"], "yibao_gateway");
    // Its department's kinds only, and nothing but deliveries.
    let r = with_bearer(
        &app,
        Method::POST,
        "/api/v1/feeds/deposits?source=WHCCB-HC&data_date=2026-02-28",
        &token,
        Some("id_number,account_type,balance\n".into()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    for path in [
        "/api/v1/warnings",
        "/api/v1/persons?q=1",
        "/api/v1/me/cases",
    ] {
        let r = with_bearer(&app, Method::GET, path, &token, None).await;
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
            "{path}: {} {}",
            r.status,
            r.text()
        );
    }

    // Wrong secret, wrong grant, a person's credentials, a person's session as a bearer token.
    let r = ask_token(
        &app,
        Some(&basic("yibao_gateway", "not-the-secret")),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(r.json()["error"], "invalid_client");
    assert_eq!(r.json()["error_description"], "客户端标识或密钥错误");
    let r = ask_token(
        &app,
        Some(&basic("yibao_gateway", &secret)),
        "grant_type=password",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    let r = ask_token(
        &app,
        Some(&basic("manager_huancui", "Demo@2026-manage")),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let person_token = manager
        .cookie
        .split_once('=')
        .map(|(_, v)| v.split(';').next().unwrap().to_string())
        .unwrap();
    let r = with_bearer(&app, Method::GET, "/api/v1/feeds", &person_token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    // Nor is the system's token a session cookie (which would open the pages and be renewed).
    let r = app
        .send(
            Request::builder()
                .uri("/api/v1/me")
                .header(header::COOKIE, format!("jiuzhu_session={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    // The system account cannot log in to the pages.
    let r = app.try_login("yibao_gateway", &secret).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "SYSTEM_ACCOUNT");

    // Disabling the account revokes its token at once.
    let v = app
        .get(&format!("/api/v1/users/{id}"), Some(&system_admin))
        .await
        .json()["row_version"]
        .as_i64()
        .unwrap();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&system_admin),
            Some(json!({"row_version": v, "active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = with_bearer(&app, Method::GET, "/api/v1/feeds", &token, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
}
