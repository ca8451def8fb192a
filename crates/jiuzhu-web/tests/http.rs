//! In-process HTTP tests of the web application.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use serde_json::{json, Value};

fn masked_like(s: &str) -> bool {
    s.len() == 18 && s[6..].chars().all(|c| c == '*')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_idle_timeout_and_csrf() {
    let app = TestApp::new().await;
    let clerk = app.clerk_a();

    // Not logged in: pages go to the login page, the API answers with the envelope.
    let r = app.get("/", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"));
    let r = app.get("/api/v1/me", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");
    let r = app.get("/login", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(page.contains("name=\"username\"") && page.contains("name=\"password\""));
    assert!(page.contains("type=\"submit\""));

    // The login form sets a hardened session cookie.
    let r = app
        .form(
            "/login",
            None,
            &[("username", &clerk.username), ("password", &clerk.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("jiuzhu_session="));
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    assert!(!set.contains("Secure"));
    let cookie = set.split(';').next().unwrap().to_string();
    let home = app
        .send(
            axum::http::Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains(&clerk.display_name));

    // CSRF: a form without the token, or with a wrong one, is refused; with it, accepted.
    let r = app.form("/logout", Some(&cookie), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .form("/logout", Some(&cookie), &[("_csrf", "wrong")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let s = app.login_as(&clerk).await;
    let person = app.head_of(TOWNSHIP_A).await;
    let mut no_token = s.clone();
    no_token.csrf = String::new();
    let req = axum::http::Request::post(format!("/api/v1/persons/{}/reveal", person.id))
        .header(header::COOKIE, &s.cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "CSRF");
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/persons/{}/reveal", person.id),
            Some(&Session {
                cookie: s.cookie.clone(),
                csrf: "0".repeat(64),
            }),
            None,
        )
        .await;
    assert_eq!(r.error_code(), "CSRF");
    let me = app.get("/api/v1/me", Some(&s)).await.json();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let r = app.form("/logout", Some(&cookie), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The page session has its own token, shown in its forms.
    let page = app
        .send(
            axum::http::Request::get("/password")
                .header(header::COOKIE, &cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .text();
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(token, csrf);
    let r = app
        .form("/logout", Some(&cookie), &[("_csrf", &token)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .send(
            axum::http::Request::get("/")
                .header(header::COOKIE, &cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "logged out");

    // Idle timeout.
    assert_eq!(app.get("/api/v1/me", Some(&s)).await.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(app.get("/api/v1/me", Some(&s)).await.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        app.get("/api/v1/me", Some(&s)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A wrong password is 401 (throttling: tests/login_security.rs).
    let r = app.try_login(&clerk.username, "wrong-password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "BAD_CREDENTIALS");
    app.login_as(&clerk).await;

    // Unknown users get the same answer as a wrong password.
    let r = app.try_login("nobody", "x").await;
    assert_eq!(r.error_code(), "BAD_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_user_must_change_one_time_password() {
    let app = TestApp::new().await;
    let admin = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "newclerk", "display_name": "王新", "role": "window_clerk", "division": TOWNSHIP_A})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let otp = r.json()["one_time_password"].as_str().unwrap().to_string();
    // A system administrator cannot create users outside the county.
    let r = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "far", "display_name": "远", "role": "window_clerk", "division": "520304001"})),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 422), "{}", r.text());

    let s = app.login("newclerk", &otp).await;
    let r = app.get("/api/v1/persons?q=王", Some(&s)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "PASSWORD_CHANGE_REQUIRED");
    let r = app.get("/search", Some(&s)).await;
    let r2 = app
        .send(
            axum::http::Request::get("/search")
                .header(header::COOKIE, &s.cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, r2.status);
    assert_eq!(r2.status, StatusCode::SEE_OTHER);
    assert_eq!(r2.location(), "/password");

    let r = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&s),
            Some(json!({"current_password": otp, "new_password": "Password12"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["fields"][0]["field"], "new_password");
    let r = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&s),
            Some(json!({"current_password": otp, "new_password": "Neu-Passwort-2026"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let s = app.login("newclerk", "Neu-Passwort-2026").await;
    // Still waiting for a security administrator: no business permission yet.
    let r = app.get("/api/v1/persons?q=王", Some(&s)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "PENDING_APPROVAL");
    let security = app.login_as(&app.user(Role::SecurityAdmin, "371002")).await;
    let me = app.get("/api/v1/me", Some(&s)).await.json();
    let id = me["id"].as_i64().unwrap();
    let u = app
        .get(&format!("/api/v1/users/{id}"), Some(&security))
        .await
        .json();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/approve"),
            Some(&security),
            Some(json!({"row_version": u["row_version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get("/api/v1/persons?q=王", Some(&s)).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_numbers_are_masked_and_reveals_are_audited() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let person = app.head_of(TOWNSHIP_A).await;
    let full = person.id_number.to_string();

    let r = app
        .get(&format!("/api/v1/persons/{}", person.id), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["id_number"], person.id_number.masked());
    assert!(masked_like(v["id_number"].as_str().unwrap()));
    assert_eq!(v["disability"]["state"], "masked");
    assert_eq!(v["serious_illness"]["state"], "masked");
    assert!(!r.text().contains(&full));

    // Pages: masked in search results, person and household pages.
    let q = format!("/search?q={}", urlenc(&person.facts.name));
    let page = app.get(&q, Some(&clerk)).await.text();
    assert!(page.contains(&person.id_number.masked()), "{page}");
    assert!(!page.contains(&full));
    let page = app
        .get(&format!("/persons/{}", person.id), Some(&clerk))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&person.id_number.masked()));
    assert!(!page.text().contains(&full));
    assert!(page.text().contains("显示"));
    let hh = app.household_of(&person).await;
    let page = app.get(&format!("/households/{hh}"), Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains(&full));
    assert!(page.text().contains(&person.facts.name));

    // Reveal (API and page) shows the number and is audited.
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/persons/{}/reveal", person.id),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id_number"], full);
    assert_eq!(r.json()["revealed"], true);
    let r = app
        .form(
            &format!("/persons/{}/reveal", person.id),
            Some(&clerk.cookie),
            &[("_csrf", &page_csrf(&app, &clerk).await)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&full));

    let auditor = app.login_as(&app.user(Role::Auditor, "371002")).await;
    let r = app
        .get("/api/v1/audit?action=sensitive_revealed", Some(&auditor))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let items = r.json()["items"].as_array().unwrap().clone();
    let mine: Vec<&Value> = items
        .iter()
        .filter(|e| e["record_id"].as_str() == Some(person.id.to_string().as_str()))
        .collect();
    assert_eq!(mine.len(), 2, "{items:?}");
    assert!(mine
        .iter()
        .all(|e| e["actor_name"] == app.clerk_a().username));
    let page = app
        .get("/audit?action=sensitive_revealed", Some(&auditor))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("查看敏感信息"));
    // People read Beijing time and the record's kind in Chinese, not UTC and a code.
    let at = mine[0]["at"].as_str().unwrap();
    assert_eq!(&at[..19], "2026-03-02T02:00:00", "{at}");
    assert!(text.contains("<th>时间(北京时间)</th>"), "{text}");
    assert!(text.contains("<td>2026-03-02 10:00:00</td>"), "{text}");
    assert!(!text.contains("2026-03-02 02:00:00"), "{text}");
    assert!(
        text.contains(&format!("<td>人员 {}</td>", person.id)),
        "{text}"
    );

    // Roles that may not reveal are refused.
    let assistant = app
        .login_as(&app.user(Role::VillageAssistant, "371002001001"))
        .await;
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/persons/{}/reveal", person.id),
            Some(&assistant),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "DENIED");
    let manager = app.login_as(&app.user(Role::CountyManager, "371002")).await;
    let page = app
        .get(&format!("/persons/{}", person.id), Some(&manager))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.text().contains("action=\"/persons/"),
        "no reveal button for the county manager"
    );
}

fn urlenc(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

async fn page_csrf(app: &TestApp, s: &Session) -> String {
    let page = app.get("/password", Some(s)).await.text();
    page.split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_envelope_has_one_shape() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let check = |r: &Resp, status: u16, code: &str| {
        assert_eq!(r.status.as_u16(), status, "{}", r.text());
        let v = r.json();
        let e = &v["error"];
        assert_eq!(e["code"], code, "{v}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| c > '\u{2e80}'),
            "Chinese message: {v}"
        );
        assert!(e["fields"].is_array());
        let rid = e["request_id"].as_str().unwrap();
        assert_eq!(
            r.headers.get("x-request-id").unwrap().to_str().unwrap(),
            rid
        );
        v
    };
    check(
        &app.get("/api/v1/persons/999999", Some(&clerk)).await,
        404,
        "NOT_FOUND",
    );
    check(
        &app.get("/api/v1/nothing", Some(&clerk)).await,
        404,
        "NOT_FOUND",
    );
    check(&app.get("/api/v1/users", Some(&clerk)).await, 403, "DENIED");

    // Validation: every field named, with Chinese messages.
    let r = app
        .call(
            Method::POST,
            "/api/v1/persons",
            Some(&clerk),
            Some(json!({"id_number": "371002199001011234", "name": "", "residence_division": "3710"})),
        )
        .await;
    let v = check(&r, 422, "INVALID");
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"id_number") && fields.contains(&"residence_division"),
        "{fields:?}"
    );

    // Creation, duplicate, stale version.
    let fresh = &app.unused.members[0];
    let body = json!({"id_number": fresh.id_number.as_str(), "name": "测试人", "residence_division": "371002001001"});
    let r = app
        .call(
            Method::POST,
            "/api/v1/persons",
            Some(&clerk),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    assert!(masked_like(created["id_number"].as_str().unwrap()));
    let id = created["id"].as_i64().unwrap();
    let r = app
        .call(Method::POST, "/api/v1/persons", Some(&clerk), Some(body))
        .await;
    check(&r, 409, "DUPLICATE");
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/persons/{id}"),
            Some(&clerk),
            Some(json!({"row_version": created["row_version"], "name": "测试人甲", "valid_from": "2026-03-02"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/persons/{id}"),
            Some(&clerk),
            Some(json!({"row_version": created["row_version"], "name": "测试人乙"})),
        )
        .await;
    let v = check(&r, 409, "CONFLICT");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("已被他人修改"));
    let hist = app
        .get(&format!("/api/v1/persons/{id}/history"), Some(&clerk))
        .await;
    assert_eq!(hist.json().as_array().unwrap().len(), 2, "{}", hist.text());

    // Out of scope on create.
    let other = &app.unused.members[1];
    let r = app
        .call(
            Method::POST,
            "/api/v1/persons",
            Some(&clerk),
            Some(json!({"id_number": other.id_number.as_str(), "name": "外", "residence_division": "371002002001"})),
        )
        .await;
    check(&r, 403, "OUT_OF_SCOPE");

    // Malformed JSON is the envelope too.
    let req = axum::http::Request::post("/api/v1/persons")
        .header(header::COOKIE, &clerk.cookie)
        .header("x-csrf-token", &clerk.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    check(&app.send(req).await, 400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_openapi() {
    let app = TestApp::new().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/login",
        "/api/v1/me",
        "/api/v1/persons",
        "/api/v1/persons/{id}",
        "/api/v1/persons/{id}/reveal",
        "/api/v1/households",
        "/api/v1/households/{id}",
        "/api/v1/households/{id}/members",
        "/api/v1/households/{id}/as_of/{date}",
        "/api/v1/divisions",
        "/api/v1/users",
        "/api/v1/audit",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
}

/// Issue 12, point 10: the OpenAPI document passes a real validator (query parameters declared
/// as query parameters, operation ids unique) and says how calls are authenticated: the session
/// cookie, and the CSRF header on calls that change something. Needs `openapi-spec-validator`
/// (Python; `.ci/run` installs it) — fails, never skips, without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid_and_secured() {
    let app = TestApp::new().await;
    let text = app.get("/api/openapi.json", None).await.text();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let validator = std::env::var("JIUZHU_OPENAPI_VALIDATOR")
        .unwrap_or_else(|_| "openapi-spec-validator".into());
    let out = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!("{validator} is needed to check the OpenAPI document (pip install openapi-spec-validator): {e}")
        });
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "jiuzhu_session");
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(doc["security"][0]["session"], serde_json::json!([]));
    let close = &doc["paths"]["/api/v1/warnings/{id}/close"]["post"];
    assert!(close["security"][0].get("csrf").is_some(), "{close}");
    assert_eq!(
        doc["paths"]["/api/v1/login"]["post"]["security"],
        serde_json::json!([{}])
    );
    // Query parameters are query parameters.
    let params = doc["paths"]["/api/v1/warnings"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");

    // A department's system delivers with OAuth2 client credentials; the token endpoint needs
    // no session.
    let system = &schemes["department_system"];
    assert_eq!(system["type"], "oauth2");
    assert_eq!(
        system["flows"]["clientCredentials"]["tokenUrl"],
        "/api/v1/oauth/token"
    );
    let push = &doc["paths"]["/api/v1/feeds/{kind}"]["post"];
    assert_eq!(
        push["security"][1]["department_system"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["paths"]["/api/v1/oauth/token"]["post"]["security"],
        serde_json::json!([{}])
    );
    // Every request and success response is a typed record, never a bare `{type: object}`.
    let schema_of = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
            ["$ref"]
            .clone()
    };
    for (path, method, status, schema) in [
        ("/api/v1/feeds/{kind}", "post", "201", "DeliveryOut"),
        ("/api/v1/feeds", "get", "200", "DeliveryList"),
        (
            "/api/v1/feeds/deliveries/{id}",
            "get",
            "200",
            "DeliveryReadBack",
        ),
        ("/api/v1/verification/sources", "get", "200", "SourceList"),
        ("/api/v1/verification/leads", "get", "200", "LeadList"),
        (
            "/api/v1/verification/leads/{id}",
            "get",
            "200",
            "LeadDetail",
        ),
        ("/api/v1/verification/runs", "get", "200", "RunList"),
        ("/api/v1/oauth/token", "post", "200", "TokenResponse"),
    ] {
        assert_eq!(
            schema_of(path, method, status),
            format!("#/components/schemas/{schema}"),
            "{method} {path}"
        );
    }
    let mut untyped = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            if body["type"] == "object" && body["$ref"].is_null() {
                untyped.push(format!("{method} {path} request"));
            }
            for (status, r) in op["responses"].as_object().unwrap() {
                let schema = &r["content"]["application/json"]["schema"];
                if status.starts_with('2') && schema["type"] == "object" && schema["$ref"].is_null()
                {
                    untyped.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(untyped.is_empty(), "{untyped:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_work_for_every_role() {
    let app = TestApp::new().await;
    let person = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&person).await;
    let admin = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let security = app.login_as(&app.user(Role::SecurityAdmin, "371002")).await;
    let audit_admin = app.login_as(&app.user(Role::AuditAdmin, "371002")).await;
    let manager = app.login_as(&app.user(Role::CountyManager, "371002")).await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let auditor = app.login_as(&app.user(Role::Auditor, "371002")).await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;

    for (s, paths) in [
        (
            &clerk,
            vec![
                "/".to_string(),
                "/search".into(),
                format!("/search?q={}", TOWNSHIP_A),
                format!("/search?q={}", person.id_number),
                format!("/persons/{}", person.id),
                format!("/persons/{}/edit", person.id),
                "/persons/new".into(),
                format!("/households/{hh}"),
                format!("/households/{hh}?as_of=2025-06-01"),
                format!("/households/{hh}/edit"),
                "/households/new".into(),
                "/divisions".into(),
                "/password".into(),
            ],
        ),
        (
            &admin,
            vec!["/".into(), "/users".into(), "/password".into()],
        ),
        (&security, vec!["/".into(), "/users".into()]),
        (
            &audit_admin,
            vec![
                "/".into(),
                "/audit".into(),
                "/audit?action=login_succeeded&from=2026-01-01".into(),
            ],
        ),
        (
            &manager,
            vec![
                "/".into(),
                "/divisions".into(),
                "/import".into(),
                "/calendar".into(),
                "/policies".into(),
            ],
        ),
        (&auditor, vec!["/audit".into()]),
        (&approver, vec!["/import".into()]),
    ] {
        for p in paths {
            let r = app.get(&p, Some(s)).await;
            assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.text());
            assert!(r.text().contains("<html lang=\"zh-CN\">"));
        }
    }
    // Search by identity number finds the person, masked; by household code the household.
    let r = app
        .get(&format!("/search?q={}", person.id_number), Some(&clerk))
        .await
        .text();
    assert!(r.contains(&person.facts.name) && r.contains(&format!("/households/{hh}")));
    // Before the household existed: a clear 404.
    let r = app
        .get(&format!("/households/{hh}?as_of=2020-01-01"), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Clerks do not get administration pages.
    for p in ["/users", "/audit", "/import"] {
        assert_eq!(
            app.get(p, Some(&clerk)).await.status,
            StatusCode::FORBIDDEN,
            "{p}"
        );
    }

    // Edit a household through the form, then see the history and the as-of view.
    let csrf = page_csrf(&app, &clerk).await;
    let form = app
        .get(&format!("/households/{hh}/edit"), Some(&clerk))
        .await
        .text();
    let version = form
        .split("name=\"row_version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .form(
            &format!("/households/{hh}/edit"),
            Some(&clerk.cookie),
            &[
                ("_csrf", &csrf),
                ("row_version", &version),
                ("address", "新住址1号"),
                ("valid_from", "2026-03-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = app
        .get(&format!("/households/{hh}"), Some(&clerk))
        .await
        .text();
    assert!(page.contains("新住址1号"));
    let old = app
        .get(&format!("/households/{hh}?as_of=2025-06-01"), Some(&clerk))
        .await
        .text();
    assert!(!old.contains("<th>住址</th><td>新住址1号</td>") && old.contains("以下为 2025-06-01"));
    // The same form again (stale version): conflict, current values shown.
    let r = app
        .form(
            &format!("/households/{hh}/edit"),
            Some(&clerk.cookie),
            &[
                ("_csrf", &csrf),
                ("row_version", &version),
                ("address", "别的地址"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("已被他人修改") && r.text().contains("新住址1号"));

    // The county manager adds a division; the system administrator creates a user (one-time
    // password shown).
    let mcsrf = page_csrf(&app, &manager).await;
    let r = app
        .form(
            "/divisions",
            Some(&manager.cookie),
            &[
                ("_csrf", &mcsrf),
                ("code", "371002001099"),
                ("name", "测试社区"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("测试社区"));
    let acsrf = page_csrf(&app, &admin).await;
    let r = app
        .form(
            "/users",
            Some(&admin.cookie),
            &[
                ("_csrf", &acsrf),
                ("username", "page_user"),
                ("display_name", "页面用户"),
                ("role", "auditor"),
                ("division", "371002"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("一次性密码"));
    // A refused account keeps what was typed, the chosen role and department included.
    let r = app
        .form(
            "/users",
            Some(&admin.cookie),
            &[
                ("_csrf", &acsrf),
                ("username", "王 x"),
                ("display_name", "页面用户二"),
                ("role", "department_officer"),
                ("department", "housing"),
                ("division", "371002"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let page = r.text();
    assert!(page.contains("用户名只能包含字母"), "{page}");
    for kept in [
        r#"name="username" value="王 x""#,
        r#"name="display_name" value="页面用户二""#,
        r#"name="division" value="371002""#,
        r#"<option value="department_officer" selected>"#,
        r#"<option value="housing" selected>"#,
    ] {
        assert!(page.contains(kept), "{kept} not kept");
    }
}

fn multipart(fields: &[(&str, Option<&str>, &str)]) -> (String, Vec<u8>) {
    let boundary = "----jiuzhutestboundary";
    let mut body = Vec::new();
    for (name, file, content) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn run_import(app: &TestApp, s: &Session, households: &str, members: &str) -> Value {
    let csrf = page_csrf(app, s).await;
    let (ct, body) = multipart(&[
        ("_csrf", None, &csrf),
        ("households", Some("households.csv"), households),
        ("members", Some("members.csv"), members),
        ("valid_from", None, "2026-03-01"),
    ]);
    let req = axum::http::Request::post("/import")
        .header(header::COOKIE, &s.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let job = r.location();
    assert!(job.starts_with("/import/jobs/"));
    let page = app.get(&job, Some(s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("progress"));
    for _ in 0..200 {
        let st = app.get(&format!("{job}/progress"), Some(s)).await.json();
        if st["phase"] == "done" || st["phase"] == "failed" {
            return st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caseload_import_runs_in_the_background_all_or_nothing() {
    let app = TestApp::new().await;
    let approver_user = app.user(Role::CountyApprover, "371002");
    let approver = app.login_as(&approver_user).await;
    let ids: Vec<String> = app
        .unused
        .members
        .iter()
        .take(3)
        .map(|m| m.id_number.to_string())
        .collect();
    let households = "household_id,division_code,area,address\nX1,371002001001,urban,新威路1号\nX2,371002001002,urban,西门外2号\n";
    let members = format!(
        "household_id,id_number,name,relation\nX1,{},张一,户主\nX1,{},张二,配偶\nX2,{},李三,户主\n",
        ids[0], ids[1], ids[2]
    );
    // A bad row: nothing is written, each error is reported with its row.
    let bad_members = members.replace(&ids[2], "371002199001011234");
    let st = run_import(&app, &approver, households, &bad_members).await;
    assert_eq!(st["phase"], "failed", "{st}");
    let errors = st["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert_eq!(errors[0]["row"], 4, "{st}");
    assert!(st["message"].as_str().unwrap().contains("未写入"));
    let search = app
        .get(&format!("/api/v1/persons?q={}", ids[0]), Some(&approver))
        .await
        .json();
    assert_eq!(search["total"], 0, "nothing written: {search}");

    let st = run_import(&app, &approver, households, &members).await;
    assert_eq!(st["phase"], "done", "{st}");
    assert_eq!(st["households"], 2);
    assert_eq!(st["persons"], 3);
    assert_eq!(st["percent"], 100);
    let search = app
        .get(&format!("/api/v1/persons?q={}", ids[0]), Some(&approver))
        .await
        .json();
    assert_eq!(search["total"], 1, "{search}");

    // Another user cannot see the job; a clerk cannot import.
    let clerk = app.login_as(&app.clerk_a()).await;
    assert_eq!(
        app.get("/import/jobs/1/progress", Some(&clerk))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let manager = app.login_as(&app.user(Role::CountyManager, "371002")).await;
    assert_eq!(
        app.get("/import/jobs/1/progress", Some(&manager))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_edit_unlock_and_reset_users() {
    let app = TestApp::new().await;
    let admin = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let clerk = app.clerk_a();
    for _ in 0..5 {
        app.try_login(&clerk.username, "wrong").await;
    }
    assert_eq!(
        app.try_login(&clerk.username, &clerk.password)
            .await
            .error_code(),
        "LOGIN_THROTTLED"
    );
    let users = app.get("/api/v1/users", Some(&admin)).await.json();
    let u = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == clerk.username.as_str())
        .unwrap()
        .clone();
    assert!(
        u.get("password_hash").is_none(),
        "hashes never leave the server"
    );
    let page = app.get("/users", Some(&admin)).await.text();
    assert!(page.contains("登录受限"));
    let id = u["id"].as_i64().unwrap();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"row_version": u["row_version"], "unlock": true, "display_name": "林晓燕(窗口)"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["display_name"], "林晓燕(窗口)");
    app.login_as(&clerk).await;
    // A stale version is a conflict.
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"row_version": u["row_version"], "active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Reset: a one-time password that must be changed.
    let csrf = page_csrf(&app, &admin).await;
    let r = app
        .form(
            &format!("/users/{id}/reset"),
            Some(&admin.cookie),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    let otp = text
        .split("一次性密码:")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let s = app.login(&clerk.username, &otp).await;
    let me = app.get("/api/v1/me", Some(&s)).await.json();
    assert_eq!(me["must_change_password"], true);
    // Reset by the system administrator, who saw the password: waiting for approval again.
    assert_eq!(me["approval"], "pending_approval");
    assert_eq!(me["permissions"], json!([]));
    let page = app.get(&format!("/users/{id}"), Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("重置密码"));
    assert!(page.text().contains("待审核"));
}

/// The hand-computed household of the calc tests: 威海 (环翠区), 2020-07, urban standard 787.00.
fn calc_body() -> Value {
    json!({
        "month": "2020-07",
        "region": "371002001", "code": "H1", "area": "urban",
        "members": [
            {"id_number": "11010519491231002X", "name": "王芳", "relation": "head",
             "income": "300", "expenses": {"medical": "150"}},
            {"id_number": "110105201001010010", "name": "李小", "relation": "child",
             "education": "primary", "disability": {"kind": "physical", "grade": 2}}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calc_api_computes_and_explains_and_reports_bad_input_in_the_envelope() {
    let app = TestApp::new().await;
    let s = app.login_as(&app.clerk_a()).await;

    // Not logged in: the envelope.
    let r = app
        .call(Method::POST, "/api/v1/calc", None, Some(calc_body()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");

    // Head 70 (elderly +10 %), income 300, medical 150; child 10, disability grade 2 (+30 %).
    // Net income 300 − 150 = 150; base 787 × 2 − 150 = 1424.00; supplements 78.70 + 236.10.
    let r = app
        .call(Method::POST, "/api/v1/calc", Some(&s), Some(calc_body()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["month"], "2020-07");
    assert_eq!(v["region"], "371002001");
    let d = &v["result"]["dibao"];
    assert_eq!(d["standard"], "787.00");
    assert_eq!(d["net_income"], "150.00");
    assert_eq!(d["base"], "1424.00");
    assert_eq!(d["supplements"], "314.80");
    assert_eq!(d["amount"], "1738.80");
    assert_eq!(v["result"]["total"], "1738.80");
    assert_eq!(
        v["result"]["members"][0]["supplement"]["category"],
        "elderly"
    );
    assert_eq!(
        v["result"]["members"][1]["supplement"]["category"],
        "severe_disability"
    );
    let steps = v["explanation"].as_array().unwrap();
    let base = steps.iter().find(|s| s["rule"] == "R-DB-4").unwrap();
    assert_eq!(base["formula"], "787.00 × 2 − 150.00 = 1424.00");
    let standard = steps.iter().find(|s| s["rule"] == "R-DB-1").unwrap();
    assert_eq!(standard["sources"][0]["param"], "dibao.standard.urban");
    assert_eq!(standard["sources"][0]["region_name"], "威海市");
    assert_eq!(standard["sources"][0]["from"], "2020-07-01");
    assert_eq!(v["policy"][0]["region"], "371000");
    assert_eq!(v["input"]["code"], "H1");
    assert!(v["input"].get("month").is_none());

    // The same as `jiuzhu calc` would print: the library's output for the same input.
    let lib = jiuzhu_policy::PolicyLibrary::builtin().unwrap();
    let mut input = calc_body();
    input.as_object_mut().unwrap().remove("month");
    let direct = jiuzhu_policy::calc_json(
        &lib,
        &input.to_string(),
        jiuzhu_policy::Month::parse("2020-07").unwrap(),
    )
    .unwrap();
    assert_eq!(v, serde_json::to_value(&direct).unwrap());

    // Without a month: the current month (the test clock says 2026-03).
    let mut no_month = calc_body();
    no_month.as_object_mut().unwrap().remove("month");
    let r = app
        .call(Method::POST, "/api/v1/calc", Some(&s), Some(no_month))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["month"], "2026-03");

    // Bad input: every field at once, in the one envelope, 422.
    let bad = json!({
        "month": "2020-07", "region": "371002001", "area": "urban",
        "members": [{"id_number": "110105194912310021", "relation": "head", "income": "100.005"}]
    });
    let r = app
        .call(Method::POST, "/api/v1/calc", Some(&s), Some(bad))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let e = r.json();
    assert_eq!(e["error"]["code"], "INVALID");
    assert!(!e["error"]["request_id"].as_str().unwrap().is_empty());
    let fields: Vec<(String, String)> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(fields.contains(&("members[0].id_number".into(), "ID_CHECK_DIGIT".into())));
    assert!(fields.contains(&("members[0].income".into(), "MONEY_TOO_MANY_DECIMALS".into())));
    for (body, field, code) in [
        (
            json!({"region": "371002", "area": "urban", "members": []}),
            "members",
            "HOUSEHOLD_NO_MEMBERS",
        ),
        (
            json!({"month": "1990-01", "region": "371002", "area": "urban",
                   "members": [{"id_number": "11010519491231002X", "relation": "head"}]}),
            "", // the field is the parameter without a value in 1990
            "POLICY_PARAMETER_MISSING",
        ),
        (
            json!({"month": "2020-07", "region": "110105", "area": "urban",
                   "members": [{"id_number": "11010519491231002X", "relation": "head"}]}),
            "region",
            "POLICY_UNKNOWN_REGION",
        ),
        (
            json!({"month": "2020-13", "region": "371002", "area": "urban",
                   "members": [{"id_number": "11010519491231002X", "relation": "head"}]}),
            "month",
            "MONTH_INVALID",
        ),
        (json!(["not", "an", "object"]), "input", "INPUT_JSON"),
    ] {
        let r = app
            .call(Method::POST, "/api/v1/calc", Some(&s), Some(body.clone()))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        let e = r.json();
        assert_eq!(e["error"]["code"], "INVALID", "{body}");
        let f = e["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{body}: no {code} in {e}"));
        if field.is_empty() {
            let param = f["field"].as_str().unwrap();
            assert!(param.contains('.'), "{body}: {e}");
            assert!(f["message"].as_str().unwrap().contains(param), "{e}");
        } else {
            assert_eq!(f["field"], field, "{body}: {e}");
        }
    }

    // In the OpenAPI document.
    let doc = app.get("/api/openapi.json", None).await.json();
    assert!(doc["paths"]["/api/v1/calc"]["post"].is_object());
}

fn csrf_of(page: &str) -> String {
    page.split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calc_page_computes_entered_and_registry_households_with_chinese_explanations() {
    let app = TestApp::new().await;
    let s = app.login_as(&app.clerk_a()).await;

    // The empty form, linked from the navigation.
    let r = app.get("/calc", Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(page.contains("<a href=\"/calc\">计算待遇</a>"));
    assert!(page.contains("name=\"m0_id_number\"") && page.contains("name=\"m0_income\""));
    assert!(page.contains("value=\"2026-03\""));
    let csrf = csrf_of(&page);

    // An entered household: the hand-computed case.
    let fields: Vec<(&str, &str)> = vec![
        ("_csrf", &csrf),
        ("household", ""),
        ("month", "2020-07"),
        ("region", "371002001"),
        ("area", "urban"),
        ("code", "H1"),
        ("financial", "1000.00"),
        ("dwellings", "1"),
        ("vehicles", "0"),
        ("business_registrations", "0"),
        ("m0_id_number", "11010519491231002X"),
        ("m0_name", "王芳"),
        ("m0_relation", "head"),
        ("m0_income", "300"),
        ("m0_medical", "150"),
        ("m0_disability", ""),
        ("m0_serious_illness", "no"),
        ("m1_id_number", "110105201001010010"),
        ("m1_name", "李小"),
        ("m1_relation", "child"),
        ("m1_disability", "physical"),
        ("m1_grade", "2"),
        ("m1_serious_illness", "no"),
        ("m1_education", "primary"),
        ("m2_id_number", ""),
        ("m2_name", ""),
        ("m2_relation", "other"),
    ];
    let r = app.form("/calc", Some(&s.cookie), &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("<th id=\"total\">1738.80</th>"), "{page}");
    assert!(page.contains("为什么是这个金额"));
    assert!(page.contains("[R-DB-4] 补差低保金"), "{page}");
    assert!(page.contains("787.00 × 2 − 150.00 = 1424.00"));
    assert!(page.contains("dibao.standard.urban = 787.00(威海市 2020-07-01 起)"));
    assert!(page.contains("查看 JSON"));
    // The JSON on the page shows identity numbers masked.
    assert!(page.contains("<pre class=\"json\">"));
    assert!(page.contains("110105************"), "{page}");

    // Bad input re-shows the form with Chinese field names; what was typed stays.
    let mut bad = fields.clone();
    bad.retain(|(k, _)| *k != "m0_income" && *k != "m1_id_number" && *k != "dwellings");
    bad.push(("m0_income", "300.123"));
    bad.push(("m1_id_number", "110105201001010011"));
    bad.push(("dwellings", "一套"));
    let r = app.form("/calc", Some(&s.cookie), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text();
    assert!(
        page.contains("第1位成员(王芳)·月收入:金额“300.123”超过两位小数"),
        "{page}"
    );
    assert!(
        page.contains("第2位成员(李小)·身份证号码:身份证号码校验码错误"),
        "{page}"
    );
    assert!(page.contains("住房套数"), "{page}");
    assert!(page.contains("value=\"300.123\""));
    assert!(!page.contains("id=\"total\""));

    // A registry household: prefilled (masked numbers only), computed with the store's facts.
    let head = app.head_of(TOWNSHIP_A).await;
    let hid = app.household_of(&head).await;
    let r = app.get(&format!("/households/{hid}"), Some(&s)).await;
    assert!(r
        .text()
        .contains(&format!("/calc?household={hid}&amp;month=2026-03")));
    let r = app.get(&format!("/calc?household={hid}"), Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(page.contains(&head.id_number.masked()));
    assert!(!page.contains(head.id_number.as_str()));
    assert!(page.contains(&head.facts.name));
    assert!(page.contains(&format!("name=\"m0_person\" value=\"{}\"", head.id)));
    let r = app
        .form(
            "/calc",
            Some(&s.cookie),
            &[
                ("_csrf", &csrf),
                ("household", &hid.to_string()),
                ("month", "2026-03"),
                ("region", TOWNSHIP_A),
                ("area", "urban"),
                ("m0_person", &head.id.to_string()),
                ("m0_relation", "head"),
                ("m0_income", "0"),
                ("m0_disability", "registry"),
                ("m0_serious_illness", "registry"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("id=\"total\""), "{page}");
    assert!(page.contains("为什么是这个金额"));
    assert!(
        !page.contains(head.id_number.as_str()),
        "identity numbers stay masked"
    );

    // A household of another township is not found, on the page as everywhere.
    let other = app.head_of(TOWNSHIP_B).await;
    let ohid = app.household_of(&other).await;
    let r = app.get(&format!("/calc?household={ohid}"), Some(&s)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .form(
            "/calc",
            Some(&s.cookie),
            &[
                ("_csrf", &csrf),
                ("household", &ohid.to_string()),
                ("month", "2026-03"),
                ("region", TOWNSHIP_A),
                ("area", "urban"),
                ("m0_person", &other.id.to_string()),
                ("m0_relation", "head"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.text().contains(&other.facts.name));
}

/// The caseload of the CLI what-if test (crates/jiuzhu/tests/cli.rs): 2020-07, 威海 urban
/// standard 787.00; B2 has bad input.
const CASELOAD: &str = include_str!("../../jiuzhu/tests/whatif_caseload.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatif_api_reports_the_cost_difference_and_names_bad_fields() {
    let app = TestApp::new().await;
    let s = app.login_as(&app.clerk_a()).await;
    let households: Value = serde_json::from_str(CASELOAD).unwrap();
    let body = json!({
        "households": households, "changes": ["dibao.standard.urban=850"], "month": "2020-07"
    });

    let r = app
        .call(Method::POST, "/api/v1/whatif", None, Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "UNAUTHENTICATED");

    // 787 → 850 from 2020-07-01, as `jiuzhu whatif` computes it.
    let r = app
        .call(Method::POST, "/api/v1/whatif", Some(&s), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["month"], "2020-07");
    assert_eq!(v["change"][0]["param"], "dibao.standard.urban");
    assert_eq!(v["change"][0]["value"], "850");
    assert_eq!(v["change"][0]["region"], "371000");
    assert_eq!(v["change"][0]["from"], "2020-07-01");
    let t = &v["total"];
    assert_eq!(t["households"], 5);
    assert_eq!(t["base_cost"], "1012.00");
    assert_eq!(t["new_cost"], "1303.00");
    assert_eq!(t["cost_difference"], "291.00");
    assert_eq!(t["newly_eligible"], 2);
    assert_eq!(t["no_longer_eligible"], 0);
    let a = &v["by_township"]["371002001"];
    assert_eq!(a["cost_difference"], "165.00");
    assert_eq!(a["newly_eligible_households"], json!(["A1", "A2"]));
    assert_eq!(v["by_township"]["371002002"]["cost_difference"], "126.00");
    assert_eq!(v["failed"][0]["index"], 3);
    assert_eq!(v["failed"][0]["code"], "B2");
    assert_eq!(
        v["failed"][0]["errors"][0]["code"],
        "MONEY_TOO_MANY_DECIMALS"
    );

    // The change as an object, a later date and an explicit region: 787 → 700 from 2020-07-01.
    let r = app
        .call(
            Method::POST,
            "/api/v1/whatif",
            Some(&s),
            Some(json!({
                "households": households, "month": "2020-07", "from": "2020-07-01",
                "region": "371000",
                "changes": [{"param": "dibao.standard.urban", "value": 700}]
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["total"]["cost_difference"], "-124.00");
    assert_eq!(
        r.json()["total"]["no_longer_eligible_households"],
        json!(["B3"])
    );

    // A bad parameter name and a bad date: 422 in the envelope, naming the fields.
    let r = app
        .call(
            Method::POST,
            "/api/v1/whatif",
            Some(&s),
            Some(json!({
                "households": households, "month": "2020-07", "from": "2020-13-01",
                "changes": ["dibao.standard.urban=850", "dibao.nonsense=1"]
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.error_code(), "INVALID");
    let fields = r.json()["error"]["fields"].clone();
    assert_eq!(fields[0]["field"], "changes[1]", "{fields}");
    assert_eq!(fields[0]["code"], "PARAM_UNKNOWN");
    assert!(fields[0]["message"]
        .as_str()
        .unwrap()
        .contains("dibao.nonsense"));
    assert_eq!(fields[1]["field"], "from", "{fields}");

    // No households array.
    let r = app
        .call(
            Method::POST,
            "/api/v1/whatif",
            Some(&s),
            Some(json!({"changes": ["dibao.standard.urban=850.001"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "households");

    let doc = app.get("/api/openapi.json", None).await.json();
    assert!(doc["paths"]["/api/v1/whatif"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatif_page_shows_the_difference_by_township_and_chinese_errors() {
    let app = TestApp::new().await;
    let s = app.login_as(&app.clerk_a()).await;

    let r = app.get("/whatif", Some(&s)).await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    assert!(page.contains("<a href=\"/whatif\">政策测算</a>"));
    assert!(page.contains("enctype=\"multipart/form-data\""));
    let csrf = csrf_of(&page);

    let post = |fields: Vec<(&'static str, Option<&'static str>, String)>| {
        let fields: Vec<(&str, Option<&str>, String)> = fields;
        let refs: Vec<(&str, Option<&str>, &str)> = fields
            .iter()
            .map(|(n, f, c)| (*n, *f, c.as_str()))
            .collect();
        let (ct, body) = multipart(&refs);
        axum::http::Request::post("/whatif")
            .header(header::COOKIE, &s.cookie)
            .header(header::CONTENT_TYPE, ct)
            .body(axum::body::Body::from(body))
            .unwrap()
    };

    let r = app
        .send(post(vec![
            ("_csrf", None, csrf.clone()),
            ("caseload", Some("caseload.json"), CASELOAD.to_string()),
            ("changes", None, "dibao.standard.urban=850\n".into()),
            ("month", None, "2020-07".into()),
            ("from", None, "".into()),
            ("region", None, "".into()),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("id=\"townships\""), "{page}");
    assert!(
        page.contains("<tr><td>371002001</td><td>2</td><td>0.00</td><td>165.00</td><td>+165.00</td><td>2</td><td>0</td><td>A1、A2</td>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<td>371002002</td><td>3</td><td>1012.00</td><td>1138.00</td><td>+126.00</td>"
        ),
        "{page}"
    );
    assert!(
        page.contains("<th id=\"difference\">+291.00</th>"),
        "{page}"
    );
    assert!(
        page.contains("dibao.standard.urban = 850(地区 371000,自 2020-07-01 起)"),
        "{page}"
    );
    // The rejected household, in Chinese.
    assert!(page.contains("第4户(B2):第1位成员·月收入:"), "{page}");

    // Bad input: the form again, with Chinese errors, nothing computed.
    let r = app
        .send(post(vec![
            ("_csrf", None, csrf.clone()),
            ("caseload", Some("caseload.json"), CASELOAD.to_string()),
            ("changes", None, "dibao.nonsense=1".into()),
            ("month", None, "2020-7x".into()),
            ("from", None, "".into()),
            ("region", None, "".into()),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let page = r.text();
    assert!(
        page.contains("参数调整:未知的政策参数 dibao.nonsense"),
        "{page}"
    );
    assert!(page.contains("月份:"), "{page}");
    assert!(page.contains("dibao.nonsense=1</textarea>"), "{page}");
    assert!(!page.contains("id=\"townships\""));

    let r = app
        .send(post(vec![
            ("_csrf", None, csrf),
            ("caseload", Some("caseload.json"), "not json".into()),
            ("changes", None, "dibao.standard.urban=850".into()),
            ("month", None, "2020-07".into()),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("家庭数据文件:文件应为"), "{}", r.text());
}
