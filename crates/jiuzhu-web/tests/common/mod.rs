//! An in-process application on a temporary SQLite store with part of the demo county, driven
//! through `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::TimeZone;
use http_body_util::BodyExt;
use jiuzhu_domain::access::{ImportCaseload, ManageDivisions, ManageUsers, ReadRegistry};
use jiuzhu_domain::caseload::CaseloadBatch;
use jiuzhu_domain::{Actor, Clock, FixedClock, NewUser, Person, Relation};
use jiuzhu_import::demo::{DemoData, DemoUser};
use jiuzhu_store::{PersonQuery, Store};
use jiuzhu_web::{AppState, WebConfig};
use serde_json::Value;
use tower::ServiceExt;

pub const TOWNSHIP_A: &str = "371002001";
pub const TOWNSHIP_B: &str = "371002002";
const PER_TOWNSHIP: usize = 12;

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    pub clock: FixedClock,
    pub demo: DemoData,
    /// Demo households that were not imported (fresh identity numbers for creation tests).
    pub unused: CaseloadBatch,
    _dir: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// A logged-in client: the session cookie and its CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Keeps the households of `prefix` (first `n`) and their members.
fn take(batch: &CaseloadBatch, prefixes: &[&str], n: usize) -> (CaseloadBatch, CaseloadBatch) {
    // The test county moves in as the old system's recipients: every household is compared.
    let mut keep = CaseloadBatch {
        households: vec![],
        members: vec![],
        current_recipients: true,
        ..batch.clone()
    };
    let mut rest = keep.clone();
    let mut counts = vec![0usize; prefixes.len()];
    let mut map = std::collections::HashMap::new();
    let mut rest_map = std::collections::HashMap::new();
    for (i, h) in batch.households.iter().enumerate() {
        let slot = prefixes
            .iter()
            .position(|p| h.division.as_str().starts_with(p));
        match slot {
            Some(s) if counts[s] < n => {
                counts[s] += 1;
                map.insert(i, keep.households.len());
                let mut h = h.clone();
                h.row = keep.households.len() + 2;
                keep.households.push(h);
            }
            _ if rest.households.len() < 50 => {
                rest_map.insert(i, rest.households.len());
                rest.households.push(h.clone());
            }
            _ => {}
        }
    }
    for m in &batch.members {
        if let Some(&j) = map.get(&m.household) {
            let mut m = m.clone();
            m.household = j;
            m.row = keep.members.len() + 2;
            keep.members.push(m);
        } else if let Some(&j) = rest_map.get(&m.household) {
            let mut m = m.clone();
            m.household = j;
            rest.members.push(m);
        }
    }
    (keep, rest)
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(WebConfig::default()).await
    }

    pub async fn with_config(mut config: WebConfig) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        // Uploads and deliveries go to the test's directory unless the test chose one.
        let defaults = WebConfig::default();
        if config.files_dir == defaults.files_dir {
            config.files_dir = dir.path().join("files");
        }
        if config.feeds_dir == defaults.feeds_dir {
            config.feeds_dir = dir.path().to_path_buf();
        }
        let clock = FixedClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap());
        let clock_arc: Arc<dyn Clock> = Arc::new(clock.clone());
        let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
        let store: Arc<dyn Store> = Arc::new(
            jiuzhu_store::connect(
                &url,
                clock_arc.clone(),
                jiuzhu_store::data_key::DataKeys::generate(),
            )
            .await
            .expect("store opens"),
        );
        let demo = jiuzhu_import::demo::generate(20261123);
        let (batch, unused) = take(&demo.batch, &[TOWNSHIP_A, TOWNSHIP_B], PER_TOWNSHIP);
        let system = Actor::system("test");
        store
            .import_divisions(&system.grant::<ManageDivisions>().unwrap(), &demo.divisions)
            .await
            .unwrap();
        store
            .import_caseload(
                &system.grant::<ImportCaseload>().unwrap(),
                &batch,
                &|_, _| {},
            )
            .await
            .unwrap();
        let users = system.grant::<ManageUsers>().unwrap();
        let hashes: Vec<String> = {
            let pw: Vec<String> = demo.users.iter().map(|u| u.password.clone()).collect();
            tokio::task::spawn_blocking(move || {
                pw.iter()
                    .map(|p| jiuzhu_app::accounts::password::hash(p).unwrap())
                    .collect()
            })
            .await
            .unwrap()
        };
        for (u, hash) in demo.users.iter().zip(hashes) {
            store
                .create_user(
                    &users,
                    &NewUser {
                        username: u.username.clone(),
                        display_name: u.display_name.clone(),
                        role: u.role,
                        department: u.department,
                        division: u.division.clone(),
                        password_hash: hash,
                        must_change_password: false,
                    },
                )
                .await
                .unwrap();
        }
        let mut demo = demo;
        demo.batch = batch;
        let state = app_state(store.clone(), clock_arc, config);
        jiuzhu_app::demo::register_sources(&state.app)
            .await
            .unwrap();
        TestApp {
            router: jiuzhu_web::router(state),
            store,
            clock,
            demo,
            unused,
            _dir: dir,
        }
    }

    pub fn user(&self, role: jiuzhu_domain::Role, division: &str) -> DemoUser {
        self.demo
            .users
            .iter()
            .find(|u| u.role == role && u.division.as_str() == division)
            .unwrap_or_else(|| panic!("demo user {role:?} at {division}"))
            .clone()
    }

    pub fn clerk_a(&self) -> DemoUser {
        self.user(jiuzhu_domain::Role::WindowClerk, TOWNSHIP_A)
    }

    /// A person (the head of the first household) of a township, as stored.
    pub async fn head_of(&self, township: &str) -> Person {
        self.head_in(township).await
    }

    /// The head of the first household under a division (a township, a village), as stored.
    pub async fn head_in(&self, township: &str) -> Person {
        let system = Actor::system("test");
        let g = system.grant::<ReadRegistry>().unwrap();
        let (i, _) = self
            .demo
            .batch
            .households
            .iter()
            .enumerate()
            .find(|(_, h)| h.division.as_str().starts_with(township))
            .unwrap();
        let m = self
            .demo
            .batch
            .members
            .iter()
            .find(|m| m.household == i && m.relation == Relation::Head)
            .unwrap();
        self.store
            .find_person_by_id_number(&g, &m.id_number)
            .await
            .unwrap()
            .expect("head stored")
    }

    /// The id of the household a person belongs to.
    pub async fn household_of(&self, person: &Person) -> i64 {
        let system = Actor::system("test");
        let g = system.grant::<ReadRegistry>().unwrap();
        let page = self
            .store
            .search_persons(
                &g,
                &PersonQuery {
                    text: Some(person.id_number.to_string()),
                    id_prefix: None,
                    division: None,
                    limit: 5,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        page.items[0].household_id.expect("in a household")
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        session: Option<&Session>,
        json: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method.clone()).uri(path);
        if let Some(s) = session {
            b = b.header(header::COOKIE, &s.cookie);
            if method != Method::GET {
                b = b.header("x-csrf-token", &s.csrf);
            }
        }
        let body = match json {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Resp {
        self.call(Method::GET, path, session, None).await
    }

    /// A form post with the given fields (add `_csrf` yourself).
    pub async fn form(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Resp {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Resp {
        self.call(
            Method::POST,
            "/api/v1/login",
            None,
            Some(serde_json::json!({"username": username, "password": password})),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Session {
        let r = self.try_login(username, password).await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text());
        session_of(&r)
    }

    pub async fn login_as(&self, u: &DemoUser) -> Session {
        self.login(&u.username, &u.password).await
    }

    /// A new account of `role` bound to `division`, created by the system (so approved, as at a
    /// first start), logged in with the password `Test-account-1`.
    pub async fn account(
        &self,
        username: &str,
        role: jiuzhu_domain::Role,
        division: &str,
    ) -> Session {
        let g = Actor::system("test").grant::<ManageUsers>().unwrap();
        let hash =
            tokio::task::spawn_blocking(|| jiuzhu_app::accounts::password::hash("Test-account-1"))
                .await
                .unwrap()
                .unwrap();
        self.store
            .create_user(
                &g,
                &NewUser {
                    username: username.into(),
                    display_name: format!("测试{}", role.label_zh()),
                    role,
                    department: None,
                    division: jiuzhu_domain::DivisionCode::parse(division).unwrap(),
                    password_hash: hash,
                    must_change_password: false,
                },
            )
            .await
            .unwrap();
        self.login(username, "Test-account-1").await
    }
}

pub fn session_of(r: &Resp) -> Session {
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .expect("Set-Cookie")
        .to_str()
        .unwrap()
        .to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let csrf = r.json()["csrf_token"].as_str().unwrap_or("").to_string();
    Session { cookie, csrf }
}

/// A `multipart/form-data` body: text fields, then an optional file (name, content type, bytes).
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "jiuzhu-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, ct, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// Posts a multipart form (CSRF in the header).
    pub async fn upload(
        &self,
        path: &str,
        session: &Session,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> Resp {
        let (ct, body) = multipart(fields, file);
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }
}

/// A request as if it came over a socket from `ip` (the peer address the server sees).
pub fn from_peer(mut req: Request<Body>, ip: &str) -> Request<Body> {
    let addr: std::net::SocketAddr = format!("{ip}:40000").parse().expect("peer address");
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

/// An argon2id hash with small parameters, for tests that create many accounts: verification
/// takes its parameters from the hash, so logins stay real but quick.
pub fn cheap_hash(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let params = argon2::Params::new(1024, 1, 1, None).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string()
}

impl TestApp {
    /// `POST /api/v1/login` from the peer address `ip`, with optional extra headers.
    pub async fn login_from(
        &self,
        username: &str,
        password: &str,
        ip: &str,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/login")
            .header(header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        self.send(from_peer(b.body(Body::from(body)).unwrap(), ip))
            .await
    }
}

/// The web's state over `store`: the application with the shipped policies and workflows, its
/// deliveries kept where the configuration says.
pub fn app_state(
    store: std::sync::Arc<dyn jiuzhu_store::Store>,
    clock: std::sync::Arc<dyn jiuzhu_domain::Clock>,
    config: WebConfig,
) -> AppState {
    let app = jiuzhu_app::App::builder(store, clock)
        .feeds_dir(config.feeds_dir.clone())
        .build()
        .expect("shipped policies and workflows load");
    AppState::with_app(app, config)
}
