//! 三员分立, the finding of the 等保 2.0 level 3 test: "an administrator can create or reset a
//! window-clerk account, receive its one-time password and reveal identity numbers as that
//! clerk". Played through HTTP: a system administrator creates two accounts and logs in as each
//! with the passwords it was shown; neither can reveal, approve the other, change roles or read
//! the log, until a security administrator approves the clerk. And each administrator is refused
//! everything outside its duty, on every path of the API and on the business pages.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use serde_json::{json, Value};

/// Logs in with a one-time password and replaces it, as the person (or whoever holds the
/// password) must before anything else.
async fn first_login(app: &TestApp, username: &str, otp: &str, new: &str) -> Session {
    let s = app.login(username, otp).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&s),
            Some(json!({"current_password": otp, "new_password": new})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    app.login(username, new).await
}

async fn create(app: &TestApp, by: &Session, body: Value) -> (i64, String) {
    let r = app
        .call(Method::POST, "/api/v1/users", Some(by), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["approval"], "pending_approval", "{v}");
    (
        v["user_id"].as_i64().unwrap(),
        v["one_time_password"].as_str().unwrap().to_string(),
    )
}

async fn version(app: &TestApp, reader: &Session, id: i64) -> i64 {
    let r = app.get(&format!("/api/v1/users/{id}"), Some(reader)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["row_version"].as_i64().unwrap()
}

fn refused(r: &Resp, code: &str, what: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text());
    assert_eq!(r.error_code(), code, "{what}: {}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_who_creates_two_accounts_cannot_use_either_to_enable_the_other() {
    let app = TestApp::new().await;
    let system = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let security = app.login_as(&app.user(Role::SecurityAdmin, "371002")).await;
    let audit = app.login_as(&app.user(Role::AuditAdmin, "371002")).await;
    let person = app.head_of(TOWNSHIP_A).await;
    let reveal = format!("/api/v1/persons/{}/reveal", person.id);

    // The system administrator creates a window clerk and a second security administrator, and
    // is shown both one-time passwords.
    let (clerk_id, clerk_otp) = create(
        &app,
        &system,
        json!({"username": "x_clerk", "display_name": "冒名窗口", "role": "window_clerk",
            "division": TOWNSHIP_A}),
    )
    .await;
    let (sec_id, sec_otp) = create(
        &app,
        &system,
        json!({"username": "x_sec", "display_name": "冒名安全", "role": "security_admin",
            "division": "371002"}),
    )
    .await;
    // It logs in as each (they would let it, once the password is replaced).
    let clerk = first_login(&app, "x_clerk", &clerk_otp, "Taken-Over-2026a").await;
    let sec = first_login(&app, "x_sec", &sec_otp, "Taken-Over-2026b").await;
    for (s, who) in [(&clerk, "clerk"), (&sec, "second security administrator")] {
        let me = app.get("/api/v1/me", Some(s)).await.json();
        assert_eq!(me["approval"], "pending_approval", "{who}");
        assert_eq!(me["permissions"], json!([]), "{who}");
    }

    // Neither can reveal, approve the other, change roles, or read the log.
    refused(
        &app.call(Method::POST, &reveal, Some(&clerk), None).await,
        "PENDING_APPROVAL",
        "the pending clerk reveals",
    );
    let page = app
        .get(&format!("/persons/{}", person.id), Some(&clerk))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.text().contains("账户尚待安全管理员审核"),
        "{}",
        page.text()
    );
    let v = version(&app, &security, clerk_id).await;
    let approve_clerk = format!("/api/v1/users/{clerk_id}/approve");
    refused(
        &app.call(
            Method::POST,
            &approve_clerk,
            Some(&sec),
            Some(json!({"row_version": v})),
        )
        .await,
        "PENDING_APPROVAL",
        "the pending security administrator approves the clerk",
    );
    refused(
        &app.call(
            Method::PUT,
            &format!("/api/v1/users/{clerk_id}/access"),
            Some(&sec),
            Some(json!({"row_version": v, "role": "county_approver"})),
        )
        .await,
        "PENDING_APPROVAL",
        "the pending security administrator changes the clerk's role",
    );
    let vs = version(&app, &security, sec_id).await;
    refused(
        &app.call(
            Method::POST,
            &format!("/api/v1/users/{sec_id}/approve"),
            Some(&clerk),
            Some(json!({"row_version": vs})),
        )
        .await,
        "DENIED",
        "the clerk approves the security administrator",
    );
    refused(
        &app.call(
            Method::POST,
            &format!("/api/v1/users/{sec_id}/approve"),
            Some(&sec),
            Some(json!({"row_version": vs})),
        )
        .await,
        "PENDING_APPROVAL",
        "the security administrator approves itself",
    );
    for s in [&clerk, &sec] {
        assert_eq!(
            app.get("/api/v1/audit", Some(s)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/audit", Some(s)).await.status,
            StatusCode::FORBIDDEN
        );
    }

    // Nor can the system administrator itself: no approving, no role change (not even sent
    // along with a rename), no log, no registry.
    refused(
        &app.call(
            Method::POST,
            &approve_clerk,
            Some(&system),
            Some(json!({"row_version": v})),
        )
        .await,
        "DENIED",
        "the system administrator approves",
    );
    refused(
        &app.call(
            Method::PATCH,
            &format!("/api/v1/users/{clerk_id}"),
            Some(&system),
            Some(json!({"row_version": v, "display_name": "改名", "role": "county_approver"})),
        )
        .await,
        "ASSIGNED_BY_SECURITY_ADMIN",
        "the system administrator changes a role",
    );
    refused(
        &app.call(Method::POST, &reveal, Some(&system), None).await,
        "DENIED",
        "the system administrator reveals",
    );

    // A security administrator approves the clerk (as shown: version v); only now it reveals.
    let r = app
        .call(
            Method::POST,
            &approve_clerk,
            Some(&security),
            Some(json!({"row_version": v})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["approval"], "approved");
    let r = app.call(Method::POST, &reveal, Some(&clerk), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["id_number"], person.id_number.as_str());
    // The approved clerk still cannot enable the other account.
    let vs = version(&app, &security, sec_id).await;
    refused(
        &app.call(
            Method::POST,
            &format!("/api/v1/users/{sec_id}/approve"),
            Some(&clerk),
            Some(json!({"row_version": vs})),
        )
        .await,
        "DENIED",
        "the approved clerk approves the security administrator",
    );

    // The system administrator resets the clerk and is shown the new password: the account is
    // back to waiting, whoever logs in with it.
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{clerk_id}/reset_password"),
            Some(&system),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["approval"], "pending_approval");
    let otp = r.json()["one_time_password"].as_str().unwrap().to_string();
    let again = first_login(&app, "x_clerk", &otp, "Taken-Again-2026c").await;
    refused(
        &app.call(Method::POST, &reveal, Some(&again), None).await,
        "PENDING_APPROVAL",
        "the reset clerk reveals",
    );
    // An approval of what was shown before the reset does not enable it.
    let r = app
        .call(
            Method::POST,
            &approve_clerk,
            Some(&security),
            Some(json!({"row_version": v})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

    // Each step is in the log, which the audit administrator reads.
    let log = app
        .get("/api/v1/audit?action=user_approved", Some(&audit))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text());
    let log = log.json();
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(
        log["items"][0]["actor_name"],
        app.user(Role::SecurityAdmin, "371002").username.as_str()
    );
    let log = app
        .get("/api/v1/audit?action=user_created", Some(&audit))
        .await
        .json();
    let creators: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str().unwrap())
        .collect();
    let sys_name = app.user(Role::SystemAdmin, "371002").username;
    assert_eq!(
        creators.iter().filter(|n| **n == sys_name).count(),
        2,
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_administrator_approves_but_creates_and_resets_nothing() {
    let app = TestApp::new().await;
    let security = app.login_as(&app.user(Role::SecurityAdmin, "371002")).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&security),
            Some(
                json!({"username": "mine", "display_name": "自建", "role": "window_clerk",
                "division": TOWNSHIP_A}),
            ),
        )
        .await;
    refused(
        &r,
        "DENIED",
        "the security administrator creates an account",
    );
    let csrf = security.csrf.clone();
    let r = app
        .form(
            "/users",
            Some(&security.cookie),
            &[
                ("_csrf", &csrf),
                ("username", "mine"),
                ("display_name", "自建"),
                ("role", "window_clerk"),
                ("division", TOWNSHIP_A),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(app.store.user_by_username("mine").await.unwrap().is_none());
    let clerk = app
        .store
        .user_by_username(&app.clerk_a().username)
        .await
        .unwrap()
        .unwrap();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/reset_password", clerk.id),
            Some(&security),
            None,
        )
        .await;
    refused(&r, "DENIED", "the security administrator resets a password");
    // Its page offers approval and assignment, not creation or reset.
    let page = app.get("/users", Some(&security)).await.text();
    assert!(!page.contains("新建用户"), "{page}");
    let page = app
        .get(&format!("/users/{}", clerk.id), Some(&security))
        .await
        .text();
    assert!(
        page.contains("保存授权") && !page.contains("重置密码"),
        "{page}"
    );
    // No account changes into an administrator, and none changes itself.
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/users/{}/access", clerk.id),
            Some(&security),
            Some(json!({"row_version": clerk.row_version, "role": "security_admin"})),
        )
        .await;
    refused(
        &r,
        "ADMIN_ROLE_FIXED",
        "a clerk made security administrator",
    );
    let me = app.get("/api/v1/me", Some(&security)).await.json();
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/users/{}/access", me["id"]),
            Some(&security),
            Some(json!({"row_version": 1, "division": "000000"})),
        )
        .await;
    refused(
        &r,
        "OWN_ACCOUNT",
        "the security administrator widens its own jurisdiction",
    );
}

/// Every path of the API for the three administrators and a pending account: only the
/// administrator's own operations are open, everything else is 403 and carries no data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_administrator_is_refused_everything_outside_its_duty() {
    let app = TestApp::new().await;
    let person = app.head_of(TOWNSHIP_A).await;
    let household = app.household_of(&person).await;
    let markers = [
        person.id_number.to_string(),
        person.id_number.masked(),
        person.facts.name.clone(),
    ];
    let system = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let (_, otp) = create(
        &app,
        &system,
        json!({"username": "waiting", "display_name": "待审", "role": "county_approver",
            "division": "371002"}),
    )
    .await;
    let pending = first_login(&app, "waiting", &otp, "Pending-Review-7q").await;
    let sessions: Vec<(&str, Session, &[&str])> = vec![
        (
            "system_admin",
            system.clone(),
            &["GET /api/v1/users", "GET /api/v1/users/{id}"],
        ),
        (
            "security_admin",
            app.login_as(&app.user(Role::SecurityAdmin, "371002")).await,
            &["GET /api/v1/users", "GET /api/v1/users/{id}"],
        ),
        (
            "audit_admin",
            app.login_as(&app.user(Role::AuditAdmin, "371002")).await,
            &["GET /api/v1/audit"],
        ),
        ("pending county approver", pending, &[]),
    ];
    let own_writes = [
        ("system_admin", "POST /api/v1/users"),
        ("system_admin", "PATCH /api/v1/users/{id}"),
        ("system_admin", "POST /api/v1/users/{id}/reset_password"),
        ("security_admin", "PUT /api/v1/users/{id}/access"),
        ("security_admin", "POST /api/v1/users/{id}/approve"),
        ("audit_admin", "POST /api/v1/audit/verify"),
        ("audit_admin", "GET /api/v1/audit/export"),
    ];
    let clerk_id = app
        .store
        .user_by_username(&app.clerk_a().username)
        .await
        .unwrap()
        .unwrap()
        .id;

    let doc = app.get("/api/openapi.json", None).await.json();
    let mut called = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if matches!(
            template.as_str(),
            "/api/v1/login"
                | "/api/v1/oauth/token"
                | "/api/v1/logout"
                | "/api/v1/me"
                | "/api/v1/me/password"
        ) {
            continue;
        }
        for (method, _) in item.as_object().unwrap() {
            let m: Method = method.to_uppercase().parse().unwrap();
            let id = if template.starts_with("/api/v1/users") {
                clerk_id
            } else if template.starts_with("/api/v1/households") {
                household
            } else {
                person.id
            };
            let path = template
                .replace("{id}", &id.to_string())
                .replace("{date}", "2025-06-01")
                .replace("{region}", "371000")
                .replace("{seq}", "1")
                .replace("{township}", TOWNSHIP_A)
                .replace("{kind}", "medical_claims")
                .replace("{division}", "371002001001");
            let op = format!("{} {template}", m.as_str());
            for (who, session, open) in &sessions {
                if own_writes.contains(&(*who, op.as_str())) {
                    continue; // played through in the tests above and in audit_admin.rs
                }
                let body = (m != Method::GET).then(|| json!({}));
                let r = app.call(m.clone(), &path, Some(session), body).await;
                called += 1;
                let text = r.text();
                if open.contains(&op.as_str()) {
                    assert_eq!(r.status, StatusCode::OK, "{who} {op}: {text}");
                } else {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {op}: {text}");
                    let code = r.error_code();
                    assert!(
                        code == "DENIED" || code == "PENDING_APPROVAL",
                        "{who} {op}: {text}"
                    );
                }
                for marker in &markers {
                    assert!(
                        !text.contains(marker.as_str()),
                        "{who} {op} revealed {marker}"
                    );
                }
            }
        }
    }
    assert!(called > 150, "called {called} operations");

    // The pages: business pages are 403 for every administrator, the log for all but the audit
    // administrator, accounts for all but the system and security administrators.
    let business = [
        "/search".to_string(),
        format!("/persons/{}", person.id),
        format!("/households/{household}"),
        "/persons/new".into(),
        "/cases".into(),
        "/tasks".into(),
        "/notices".into(),
        "/filing".into(),
        "/reserve-fund".into(),
        "/calc".into(),
        "/month".into(),
        "/whatif".into(),
        "/policies".into(),
        "/calendar".into(),
        "/divisions".into(),
        "/import".into(),
        "/feeds".into(),
        "/verification/runs".into(),
        "/verification/dashboard".into(),
        "/warnings".into(),
    ];
    for (who, session, _) in &sessions {
        for p in &business {
            let r = app.get(p, Some(session)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {p}");
            for marker in &markers {
                assert!(!r.text().contains(marker.as_str()), "{who} {p}");
            }
        }
        let audit = app.get("/audit", Some(session)).await.status;
        let users = app.get("/users", Some(session)).await.status;
        let expected = match *who {
            "audit_admin" => (StatusCode::OK, StatusCode::FORBIDDEN),
            "system_admin" | "security_admin" => (StatusCode::FORBIDDEN, StatusCode::OK),
            _ => (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
        };
        assert_eq!((audit, users), expected, "{who}");
        // The start page names the duty instead of the county's figures.
        let home = app.get("/", Some(session)).await;
        assert_eq!(home.status, StatusCode::OK, "{who}");
        assert!(
            !home.text().contains("辖区内在册家庭"),
            "{who}: {}",
            home.text()
        );
    }
}
