//! Authentication, sessions, CSRF and the authorization extractor.
//!
//! The middleware resolves the session cookie once per request (token → SHA-256 → session →
//! idle check → user → `Actor`) and checks the CSRF token of every unsafe request. Handlers then
//! take [`Auth`] (any logged-in user) or [`Authorized<P>`] (a user whose role allows `P`), which
//! yields the typed grant the store requires. No handler checks roles or jurisdictions itself.

use std::marker::PhantomData;
use std::net::SocketAddr;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Multipart, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use jiuzhu_domain::{Actor, Grant, Permission, Session, User};
use jiuzhu_store::LoginOutcome;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, AppError, REQUEST_ID};
use crate::AppState;

pub const SESSION_COOKIE: &str = "jiuzhu_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

async fn verify_password_blocking(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

pub(crate) async fn hash_password_blocking(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Creates a staff account with a generated one-time password (must be changed at first login),
/// for the page and the API alike. Returns the user and the password to hand over once.
pub async fn create_user_with_one_time_password(
    state: &AppState,
    grant: &Grant<jiuzhu_domain::access::ManageUsers>,
    input: &crate::forms::UserInput,
) -> Result<(User, String), AppError> {
    let (username, display_name, role, department, division) = input.check()?;
    let password = generate_password();
    let password_hash = hash_password_blocking(password.clone()).await?;
    let user = state
        .store
        .create_user(
            grant,
            &jiuzhu_domain::NewUser {
                username,
                display_name,
                role,
                department,
                division,
                password_hash,
                must_change_password: true,
            },
        )
        .await?;
    Ok((user, password))
}

/// A one-time password without look-alike characters.
pub fn generate_password() -> String {
    use rand::Rng;
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::thread_rng();
    let mut pick = |set: &[u8], n: usize| -> String {
        (0..n)
            .map(|_| set[rng.gen_range(0..set.len())] as char)
            .collect()
    };
    format!(
        "{}{}-{}{}",
        pick(UPPER, 3),
        pick(LOWER, 4),
        pick(DIGIT, 4),
        pick(LOWER, 2)
    )
}

/// Minimum rules for a new password, with the reason in Chinese.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("新密码至少10个字符".into());
    }
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds < 3 {
        return Err("新密码须包含大写字母、小写字母、数字、符号中的至少三类".into());
    }
    Ok(())
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The logged-in user of a request, resolved once by the middleware.
#[derive(Clone)]
pub struct SessionCtx {
    pub user: User,
    pub actor: Actor,
    pub session: Session,
}

/// The request id, in the request's extensions.
#[derive(Clone)]
pub struct RequestId(pub String);

fn session_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

fn origin_of(req: &Request<Body>) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

async fn resolve_session(
    state: &AppState,
    token: &str,
    origin: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionCtx>, AppError> {
    let hash = token_hash(token);
    let Some(session) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    if now - session.last_seen > state.config.idle_timeout {
        state
            .store
            .delete_idle_sessions(now - state.config.idle_timeout)
            .await?;
        return Ok(None);
    }
    let Some(user) = state.store.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    state.store.touch_session(&hash, now).await?;
    let actor = user.actor(origin);
    Ok(Some(SessionCtx {
        user,
        actor,
        session,
    }))
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn reject(api: bool, err: AppError) -> Response {
    if api {
        ApiError(err).into_response()
    } else {
        crate::views::error_page(err)
    }
}

/// Paths that take unsafe requests without a session (nothing to protect yet).
fn csrf_exempt(path: &str) -> bool {
    matches!(path, "/login" | "/api/v1/login")
}

/// Reads the `_csrf` field from a buffered form or multipart body.
async fn csrf_from_body(content_type: &str, bytes: &axum::body::Bytes) -> Option<String> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(bytes);
        return pairs
            .into_iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v);
    }
    if content_type.starts_with("multipart/form-data") {
        let req = Request::builder()
            .method(Method::POST)
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(bytes.clone()))
            .ok()?;
        let mut mp = Multipart::from_request(req, &()).await.ok()?;
        while let Ok(Some(field)) = mp.next_field().await {
            if field.name() == Some(CSRF_FIELD) {
                return field.text().await.ok();
            }
        }
    }
    None
}

fn serde_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(bytes).unwrap_or_default()
}

/// Request id, tracing span, session resolution and the CSRF check.
pub async fn middleware(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let request_id = random_hex(8);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.uri().path()
    );
    let rid = request_id.clone();
    let fut = async move {
        let started = std::time::Instant::now();
        let mut response = handle(state, req, rid.clone(), next).await;
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request done"
        );
        if let Ok(v) = HeaderValue::from_str(&rid) {
            response.headers_mut().insert("x-request-id", v);
        }
        response
    };
    REQUEST_ID
        .scope(request_id, tracing::Instrument::instrument(fut, span))
        .await
}

async fn handle(state: AppState, mut req: Request<Body>, rid: String, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let api = is_api(&path);
    req.extensions_mut().insert(RequestId(rid));
    let origin = origin_of(&req);
    let now = state.clock.now();
    let ctx = match session_token(req.headers()) {
        Some(token) => match resolve_session(&state, &token, &origin, now).await {
            Ok(ctx) => ctx,
            Err(e) => return reject(api, e),
        },
        None => None,
    };
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !csrf_exempt(&path) {
        if let Some(ctx) = &ctx {
            let expected = ctx.session.csrf_token.clone();
            let header = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let ok = match header {
                Some(h) => constant_time_eq(&h, &expected),
                None => {
                    let content_type = req
                        .headers()
                        .get(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let (parts, body) = req.into_parts();
                    let bytes =
                        match axum::body::to_bytes(body, state.config.max_upload_bytes).await {
                            Ok(b) => b,
                            Err(_) => {
                                return reject(
                                    api,
                                    AppError::new(
                                        StatusCode::PAYLOAD_TOO_LARGE,
                                        "TOO_LARGE",
                                        "上传的内容过大",
                                    ),
                                )
                            }
                        };
                    let found = csrf_from_body(&content_type, &bytes).await;
                    req = Request::from_parts(parts, Body::from(bytes));
                    found.is_some_and(|f| constant_time_eq(&f, &expected))
                }
            };
            if !ok {
                tracing::warn!("CSRF token missing or wrong");
                return reject(api, AppError::csrf());
            }
        }
        // Without a session there is nothing to forge; the extractors refuse the request.
    }
    if let Some(ctx) = ctx {
        req.extensions_mut().insert(ctx);
    }
    next.run(req).await
}

/// The request path before any `nest` stripped its prefix.
fn full_path(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string())
}

/// Paths a user with a one-time password may still use.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(
        path,
        "/password" | "/logout" | "/api/v1/me" | "/api/v1/me/password" | "/api/v1/logout"
    )
}

/// Why an extractor refused: rendered as a redirect (pages) or an envelope (API).
pub struct AuthRejection {
    api: bool,
    err: AppError,
    redirect: Option<String>,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if let Some(to) = self.redirect {
            if !self.api {
                return Redirect::to(&to).into_response();
            }
        }
        reject(self.api, self.err)
    }
}

/// Any logged-in user (who has no pending password change, except on the pages that make it).
pub struct Auth(pub SessionCtx);

impl Auth {
    pub fn actor(&self) -> &Actor {
        &self.0.actor
    }
    pub fn user(&self) -> &User {
        &self.0.user
    }
    pub fn csrf(&self) -> &str {
        &self.0.session.csrf_token
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let full = full_path(parts);
        let path = full.as_str();
        let api = is_api(path);
        let Some(ctx) = parts.extensions.get::<SessionCtx>().cloned() else {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let redirect = if parts.method == Method::GET && next != "/" {
                format!("/login?next={}", urlencode(next))
            } else {
                "/login".to_string()
            };
            return Err(AuthRejection {
                api,
                err: AppError::unauthenticated(),
                redirect: Some(redirect),
            });
        };
        if ctx.user.must_change_password && !allowed_before_password_change(path) {
            return Err(AuthRejection {
                api,
                err: AppError::password_change_required(),
                redirect: Some("/password".into()),
            });
        }
        Ok(Auth(ctx))
    }
}

/// A logged-in user whose role allows `P`, with the grant (scoped to the user's jurisdiction).
pub struct Authorized<P: Permission> {
    pub auth: Auth,
    pub grant: Grant<P>,
    _p: PhantomData<P>,
}

impl<P: Permission> Authorized<P> {
    pub fn actor(&self) -> &Actor {
        self.auth.actor()
    }
    /// The grant for a user already resolved (a page that serves several roles differently).
    pub fn from_auth(auth: Auth) -> Result<Self, AppError> {
        let grant = auth.0.actor.grant::<P>()?;
        Ok(Authorized {
            auth,
            grant,
            _p: PhantomData,
        })
    }
}

impl<S: Send + Sync, P: Permission> FromRequestParts<S> for Authorized<P> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        match auth.0.actor.grant::<P>() {
            Ok(grant) => Ok(Authorized {
                auth,
                grant,
                _p: PhantomData,
            }),
            Err(denied) => Err(AuthRejection {
                api: is_api(&full_path(parts)),
                err: denied.into(),
                redirect: None,
            }),
        }
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Result of a login attempt.
pub enum LoginResult {
    /// Logged in: the cookie to set, the session and the user.
    Ok {
        cookie: HeaderValue,
        session: Box<Session>,
        user: Box<User>,
    },
    Failed(AppError),
}

fn bad_credentials() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "BAD_CREDENTIALS",
        "用户名或密码错误",
    )
}

fn locked(until: DateTime<Utc>) -> AppError {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    AppError::new(
        StatusCode::FORBIDDEN,
        "LOCKED",
        format!(
            "登录失败次数过多,账户已锁定至 {},请稍后再试或联系管理员解锁",
            until.with_timezone(&cst).format("%Y-%m-%d %H:%M")
        ),
    )
}

/// Checks the credentials, applies the lockout rule and opens a session.
pub async fn login(state: &AppState, username: &str, password: &str, origin: &str) -> LoginResult {
    match login_inner(state, username.trim(), password, origin).await {
        Ok(r) => r,
        Err(e) => LoginResult::Failed(e),
    }
}

async fn login_inner(
    state: &AppState,
    username: &str,
    password: &str,
    origin: &str,
) -> Result<LoginResult, AppError> {
    let now = state.clock.now();
    let Some(user) = state.store.user_by_username(username).await? else {
        state.store.record_unknown_login(username, origin).await?;
        // Spend the same time as a real check, so timing does not reveal usernames.
        let _ = hash_password_blocking(password.to_string()).await;
        return Ok(LoginResult::Failed(bad_credentials()));
    };
    if let Some(until) = user.locked_until.filter(|_| user.is_locked(now)) {
        return Ok(LoginResult::Failed(locked(until)));
    }
    let ok = verify_password_blocking(password.to_string(), user.password_hash.clone()).await;
    if !ok || !user.active {
        if !ok {
            let lock_until = (user.failed_logins + 1 >= state.config.max_failed_logins)
                .then(|| now + state.config.lockout);
            state
                .store
                .record_login(user.id, &LoginOutcome::Failed { lock_until }, origin)
                .await?;
            if let Some(until) = lock_until {
                return Ok(LoginResult::Failed(locked(until)));
            }
            return Ok(LoginResult::Failed(bad_credentials()));
        }
        return Ok(LoginResult::Failed(AppError::new(
            StatusCode::FORBIDDEN,
            "INACTIVE",
            "账户已停用,请联系管理员",
        )));
    }
    state
        .store
        .record_login(user.id, &LoginOutcome::Succeeded, origin)
        .await?;
    let token = random_hex(32);
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_hex(32),
        created_at: now,
        last_seen: now,
        origin: origin.to_string(),
    };
    state.store.create_session(&session).await?;
    Ok(LoginResult::Ok {
        cookie: session_cookie(state, &token, false),
        session: Box::new(session),
        user: Box::new(user),
    })
}

/// The `Set-Cookie` value for the session token (or for removing it).
pub fn session_cookie(state: &AppState, token: &str, clear: bool) -> HeaderValue {
    let mut c = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    if clear {
        c.push_str("; Max-Age=0");
    }
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie is ASCII")
}

/// Ends the session and returns the header that clears the cookie.
pub async fn logout(
    state: &AppState,
    auth: &Auth,
) -> Result<(axum::http::HeaderName, HeaderValue), AppError> {
    state
        .store
        .delete_session(&auth.0.session.token_hash, &auth.0.actor)
        .await?;
    Ok((SET_COOKIE, session_cookie(state, "", true)))
}

/// Changes the user's own password after checking the current one.
pub async fn change_password(
    state: &AppState,
    auth: &Auth,
    current: &str,
    new: &str,
    confirm: Option<&str>,
) -> Result<(), AppError> {
    let mut fields = Vec::new();
    if !verify_password_blocking(current.to_string(), auth.0.user.password_hash.clone()).await {
        fields.push(jiuzhu_domain::FieldError::new(
            "current_password",
            "WRONG_PASSWORD",
            "当前密码不正确",
        ));
    }
    if let Err(m) = check_new_password(new) {
        fields.push(jiuzhu_domain::FieldError::new(
            "new_password",
            "WEAK_PASSWORD",
            m,
        ));
    } else if new == current {
        fields.push(jiuzhu_domain::FieldError::new(
            "new_password",
            "SAME_PASSWORD",
            "新密码不能与当前密码相同",
        ));
    }
    if confirm.is_some_and(|c| c != new) {
        fields.push(jiuzhu_domain::FieldError::new(
            "confirm_password",
            "MISMATCH",
            "两次输入的新密码不一致",
        ));
    }
    if !fields.is_empty() {
        return Err(AppError::invalid(fields));
    }
    let hash = hash_password_blocking(new.to_string()).await?;
    state
        .store
        .change_own_password(&auth.0.actor, &hash)
        .await?;
    Ok(())
}

/// The origin (client address) of a request, for login audit entries.
pub struct Origin(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Origin(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_string()),
        ))
    }
}
