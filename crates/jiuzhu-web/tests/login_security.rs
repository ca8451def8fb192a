//! The attacks of the security test on logins, sessions and passwords, kept as tests: an
//! account locked by anyone with five requests, answers that told known from unknown accounts,
//! an audit event per unknown-user login, sessions that outlived a password change and never
//! expired, one-time passwords that never expired, `Password12` accepted, and an administrator
//! able to deactivate himself.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use jiuzhu_domain::access::ManageUsers;
use jiuzhu_domain::{Actor, AuditAction, NewUser, Role};
use jiuzhu_web::WebConfig;
use serde_json::{json, Value};

/// The error body without its request id: what a client can compare between answers.
fn answer(r: &Resp) -> (StatusCode, Value, Option<String>) {
    let mut v = r.json();
    v["error"]["request_id"] = Value::Null;
    let retry = r
        .headers
        .get(header::RETRY_AFTER)
        .map(|h| h.to_str().unwrap().to_string());
    (r.status, v, retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_throttle_one_address_and_lock_out_nobody() {
    let app = TestApp::new().await;
    let clerk = app.clerk_a();
    let attacker = "203.0.113.66";
    // Before: five requests locked the account for everyone, its owner included.
    for i in 1..=5 {
        let r = app
            .login_from(&clerk.username, "guess-{i}", attacker, &[])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert_eq!(r.error_code(), "BAD_CREDENTIALS");
    }
    let r = app
        .login_from(&clerk.username, &clerk.password, attacker, &[])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert_eq!(r.error_code(), "LOGIN_THROTTLED");
    assert_eq!(r.headers[header::RETRY_AFTER], "1");
    assert_eq!(
        r.json()["error"]["message"],
        "用户名或密码错误次数过多,请 1 秒后再试"
    );
    // The login page says the same, with the same Retry-After.
    let page = app
        .send(from_peer(
            axum::http::Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "username={}&password=x",
                    clerk.username
                )))
                .unwrap(),
            attacker,
        ))
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.headers[header::RETRY_AFTER], "1");
    assert!(page
        .text()
        .contains("用户名或密码错误次数过多,请 1 秒后再试"));
    // The clerk at her own desk is not affected.
    let r = app
        .login_from(&clerk.username, &clerk.password, "10.8.1.20", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The wait doubles with each further failure: 1 s, then 2 s.
    app.clock.advance(chrono::Duration::seconds(1));
    let r = app
        .login_from(&clerk.username, "again", attacker, &[])
        .await;
    assert_eq!(r.error_code(), "BAD_CREDENTIALS");
    let r = app
        .login_from(&clerk.username, "again", attacker, &[])
        .await;
    assert_eq!(r.headers[header::RETRY_AFTER], "2");
    app.clock.advance(chrono::Duration::seconds(2));
    let r = app
        .login_from(&clerk.username, &clerk.password, attacker, &[])
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "after the wait the right password works"
    );

    // The store keeps the count for administrators and audits each failure, but never locks.
    let u = app
        .store
        .user_by_username(&clerk.username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.failed_logins, 0, "reset by the successful login");
    let events = app.store.audit_page(0, 10_000).await.unwrap();
    let failed = events
        .iter()
        .filter(|e| e.entry.action == AuditAction::LoginFailed && e.entry.origin == attacker)
        .count();
    assert_eq!(failed, 6);
    assert!(events
        .iter()
        .all(|e| e.entry.action != AuditAction::AccountLocked));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_and_unknown_accounts_get_identical_answers() {
    let app = TestApp::new().await;
    let clerk = app.clerk_a();
    let ip = "198.51.100.23";
    let mut known = vec![];
    let mut unknown = vec![];
    for i in 0..7 {
        let wrong = format!("wrong-{i}");
        known.push(answer(
            &app.login_from(&clerk.username, &wrong, ip, &[]).await,
        ));
        unknown.push(answer(
            &app.login_from("no_such_user", &wrong, ip, &[]).await,
        ));
    }
    assert_eq!(known, unknown);
    assert_eq!(known[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(known[6].0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_staff_behind_one_nat_address_log_in_within_a_minute() {
    let app = TestApp::new().await;
    let admin = Actor::system("test").grant::<ManageUsers>().unwrap();
    let hash = cheap_hash("Township-Staff-2026");
    for i in 0..200 {
        app.store
            .create_user(
                &admin,
                &NewUser {
                    username: format!("staff{i:03}"),
                    display_name: format!("乡镇工作人员{i}"),
                    role: Role::VillageAssistant,
                    department: None,
                    division: jiuzhu_domain::DivisionCode::parse(TOWNSHIP_A).unwrap(),
                    password_hash: hash.clone(),
                    must_change_password: false,
                },
            )
            .await
            .unwrap();
    }
    let nat = "10.77.0.1";
    // The test clock stands still: all 200 logins fall in the same minute.
    for i in 0..200 {
        let r = app
            .login_from(&format!("staff{i:03}"), "Township-Staff-2026", nat, &[])
            .await;
        assert_eq!(r.status, StatusCode::OK, "staff{i:03}: {}", r.text());
    }
    // A flood from one address runs into the address's limit, answered at once.
    let mut limited = None;
    for i in 0..200 {
        let r = app.login_from(&format!("x{i}"), "x", nat, &[]).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS && r.error_code() == "RATE_LIMITED" {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the address's login budget runs out");
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("登录请求过多"));
    // Other addresses still get in.
    let clerk = app.clerk_a();
    let r = app
        .login_from(&clerk.username, &clerk.password, "10.77.0.2", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_logins_are_audited_once_per_address_and_window() {
    let app = TestApp::new().await;
    let before = app.store.audit_page(0, 100_000).await.unwrap().len();
    for i in 0..60 {
        let r = app
            .login_from(&format!("guess{i}"), "x", "192.0.2.44", &[])
            .await;
        assert!(
            matches!(r.status.as_u16(), 401 | 429),
            "{}: {}",
            r.status,
            r.text()
        );
    }
    let events = app.store.audit_page(0, 100_000).await.unwrap();
    assert_eq!(events.len() - before, 1, "one event, not sixty");
    app.clock.advance(chrono::Duration::minutes(11));
    app.login_from("guess-late", "x", "192.0.2.44", &[]).await;
    let events = app.store.audit_page(0, 100_000).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.entry.action, AuditAction::LoginFailed);
    assert_eq!(last.entry.origin, "192.0.2.44");
    let detail: Value = serde_json::from_str(last.entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["attempts"], 60, "the 59 not audited and this one");
    assert_eq!(detail["unknown_username"], "guess-late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let app = TestApp::with_config(WebConfig {
        trusted_proxies: vec![jiuzhu_web::client_ip::parse_trusted_proxy("10.0.0.2").unwrap()],
        ..WebConfig::default()
    })
    .await;
    let clerk = app.clerk_a();
    let via = |client: &'static str| [("x-forwarded-for", client)];
    for _ in 0..5 {
        app.login_from(&clerk.username, "bad", "10.0.0.2", &via("198.51.100.7"))
            .await;
    }
    let r = app
        .login_from(
            &clerk.username,
            &clerk.password,
            "10.0.0.2",
            &via("198.51.100.7"),
        )
        .await;
    assert_eq!(r.error_code(), "LOGIN_THROTTLED");
    // Another client behind the same proxy is a different address.
    let r = app
        .login_from(
            &clerk.username,
            &clerk.password,
            "10.0.0.2",
            &via("198.51.100.8"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A client that is not the proxy cannot pick its address with the header…
    for _ in 0..5 {
        app.login_from(&clerk.username, "bad", "203.0.113.9", &via("198.51.100.99"))
            .await;
    }
    let r = app
        .login_from(
            &clerk.username,
            &clerk.password,
            "203.0.113.9",
            &via("198.51.100.77"),
        )
        .await;
    assert_eq!(
        r.error_code(),
        "LOGIN_THROTTLED",
        "throttled as 203.0.113.9"
    );
    // …and the audit log names the real client.
    let events = app.store.audit_page(0, 100_000).await.unwrap();
    let ok = events
        .iter()
        .rev()
        .find(|e| e.entry.action == AuditAction::LoginSucceeded)
        .unwrap();
    assert_eq!(ok.entry.origin, "198.51.100.8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_at_their_absolute_lifetime_however_busy() {
    let app = TestApp::new().await;
    let s = app.login_as(&app.clerk_a()).await;
    // Busy all day: a request every 20 minutes keeps the idle timeout away…
    for _ in 0..35 {
        app.clock.advance(chrono::Duration::minutes(20));
        assert_eq!(app.get("/api/v1/me", Some(&s)).await.status, StatusCode::OK);
    }
    // …but not past 12 hours.
    app.clock.advance(chrono::Duration::minutes(21));
    let r = app.get("/api/v1/me", Some(&s)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::new().await;
    let clerk = app.clerk_a();
    let desk = app.login_as(&clerk).await;
    let stolen = app.login_as(&clerk).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&desk),
            Some(json!({"current_password": clerk.password, "new_password": "Huancui-Window-77"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.get("/api/v1/me", Some(&desk)).await.status,
        StatusCode::OK
    );
    let r = app.get("/api/v1/me", Some(&stolen)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the other session is over"
    );
    let last = app.store.audit_page(0, 100_000).await.unwrap();
    let changed = last
        .iter()
        .rev()
        .find(|e| e.entry.action == AuditAction::PasswordChanged)
        .unwrap();
    assert!(changed
        .entry
        .detail
        .as_deref()
        .unwrap()
        .contains("\"sessions_ended\":1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_passwords_expire_after_72_hours() {
    let app = TestApp::new().await;
    let admin = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "late_starter", "display_name": "迟到", "role": "window_clerk", "division": TOWNSHIP_A})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["user_id"].as_i64().unwrap();
    let otp = r.json()["one_time_password"].as_str().unwrap().to_string();
    app.clock.advance(chrono::Duration::hours(73));
    let r = app.try_login("late_starter", &otp).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "ONE_TIME_PASSWORD_EXPIRED");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("72 小时"));
    // A reset gives a fresh one.
    let admin = app.login_as(&app.user(Role::SystemAdmin, "371002")).await;
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{id}/reset_password"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let otp = r.json()["one_time_password"].as_str().unwrap().to_string();
    app.login("late_starter", &otp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_passwords_are_refused_with_the_reason() {
    let app = TestApp::new().await;
    let clerk = app.clerk_a();
    let s = app.login_as(&clerk).await;
    let change = |new: &str| json!({"current_password": clerk.password, "new_password": new, "confirm_password": new});
    for (weak, reason) in [
        ("Password12", "至少12个字符"),
        ("Password1234", "过于常见"),
        ("P@ssw0rd-2026", "过于常见"),
        ("Woaini-1314!!", "过于常见"),
        ("longbutlowercase", "至少三类"),
        (&format!("{}-Desk-2026", clerk.username), "不能包含用户名"),
    ] {
        let r = app
            .call(
                Method::POST,
                "/api/v1/me/password",
                Some(&s),
                Some(change(weak)),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        let f = &r.json()["error"]["fields"][0];
        assert_eq!(f["field"], "new_password");
        assert_eq!(f["code"], "WEAK_PASSWORD");
        assert!(
            f["message"].as_str().unwrap().contains(reason),
            "{weak}: {f}"
        );
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/me/password",
            Some(&s),
            Some(change("Huancui-Window-77")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_cannot_deactivate_his_own_account() {
    let app = TestApp::new().await;
    let admin_user = app.user(Role::SystemAdmin, "371002");
    let admin = app.login_as(&admin_user).await;
    let me = app.get("/api/v1/me", Some(&admin)).await.json();
    let id = me["id"].as_i64().unwrap();
    let u = app
        .get(&format!("/api/v1/users/{id}"), Some(&admin))
        .await
        .json();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"row_version": u["row_version"], "active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "OWN_ACCOUNT");
    assert_eq!(
        app.get("/api/v1/me", Some(&admin)).await.status,
        StatusCode::OK
    );
    // Another administrator's account can be stopped, and its sessions end with it.
    let other = app.login_as(&app.clerk_a()).await;
    let clerk_id = app.get("/api/v1/me", Some(&other)).await.json()["id"]
        .as_i64()
        .unwrap();
    let c = app
        .get(&format!("/api/v1/users/{clerk_id}"), Some(&admin))
        .await
        .json();
    let r = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{clerk_id}"),
            Some(&admin),
            Some(json!({"row_version": c["row_version"], "active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        app.get("/api/v1/me", Some(&other)).await.status,
        StatusCode::UNAUTHORIZED
    );
}
