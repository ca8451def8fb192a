//! Authentication, sessions, CSRF and the authorization extractor.
//!
//! The middleware resolves the client's address (`client_ip`), applies the route's body limit
//! (`limits`), resolves the session cookie once per request (token → SHA-256 → session → idle
//! and absolute lifetime → user → `Actor`) and checks the CSRF token of every unsafe request.
//! Logins go through the `login_guard` (address rate limit, per-account-and-address throttle,
//! bounded hashing). Handlers then
//! take [`Auth`] (any logged-in user) or [`Authorized<P>`] (a user whose role allows `P`), which
//! yields the typed grant the store requires. No handler checks roles or jurisdictions itself.

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Multipart, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use jiuzhu_app::records::LoginOutcome;
use jiuzhu_domain::{Actor, Grant, Permission, Role, Session, User};
use sha2::{Digest, Sha256};

use crate::client_ip::{self, ClientIp};
use crate::error::{ApiError, AppError, REQUEST_ID};
use crate::{limits, AppState};

pub const SESSION_COOKIE: &str = "jiuzhu_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// Checks a password on the application's bounded hashing pool (503 when it is full).
async fn verify_pooled(state: &AppState, password: &str, hash: String) -> Result<bool, AppError> {
    Ok(state
        .app
        .password_matches(password.to_string(), hash)
        .await?)
}

/// A hash to check unknown names against, so that they cost what a real account costs and the
/// time of the answer does not tell them apart.
async fn decoy_hash(state: &AppState) -> Result<String, AppError> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(h) = DECOY.get() {
        return Ok(h.clone());
    }
    let h = state.app.hash_password(random_hex(16)).await?;
    Ok(DECOY.get_or_init(|| h).clone())
}

fn random_hex(bytes: usize) -> String {
    jiuzhu_app::accounts::password::random_hex(bytes)
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

/// How a request carries its session token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carrier {
    /// A person's browser: the session cookie, with its CSRF check.
    Cookie,
    /// A department system's access token (`Authorization: Bearer`), no CSRF token.
    Bearer,
}

/// The session a token opens, if it is current, its account active and of the kind the carrier
/// is for: a person's session is never a bearer token, and a system's token never a cookie
/// (which would open the pages and be renewed by use).
async fn resolve(
    state: &AppState,
    token: &str,
    carrier: Carrier,
    origin: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionCtx>, AppError> {
    let hash = token_hash(token);
    let Some(session) = state.app.session(&hash).await? else {
        return Ok(None);
    };
    let config = &state.config;
    let expired = match carrier {
        // Idle for too long, or too old however busy: a stolen cookie does not live forever.
        Carrier::Cookie => {
            now - session.last_seen > config.idle_timeout
                || now - session.created_at > config.session_lifetime
        }
        // Valid for the idle timeout from its issue: a system asks for a new one then.
        Carrier::Bearer => now - session.created_at > config.idle_timeout,
    };
    if expired {
        if carrier == Carrier::Cookie {
            state
                .app
                .delete_expired_sessions(now - config.idle_timeout, now - config.session_lifetime)
                .await?;
        }
        return Ok(None);
    }
    let Some(user) = state.app.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    let system = user.role == Role::DepartmentSystem;
    if !user.active || system != (carrier == Carrier::Bearer) {
        return Ok(None);
    }
    if carrier == Carrier::Cookie {
        state.app.touch_session(&hash, now).await?;
    }
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
    matches!(path, "/login" | "/api/v1/login" | TOKEN_PATH)
}

/// The OAuth2 token endpoint (client credentials) of departments' systems.
pub const TOKEN_PATH: &str = "/api/v1/oauth/token";

/// The bearer token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_string())
}

/// How much of a multipart body is read for its `_csrf` field (the forms put it first).
const CSRF_PREFIX_MAX: usize = 64 * 1024;

/// The `_csrf` field among the complete fields at the start of a multipart body.
async fn csrf_in_multipart_prefix(content_type: &str, prefix: &[u8]) -> Option<String> {
    let req = Request::builder()
        .method(Method::POST)
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(prefix.to_vec()))
        .ok()?;
    let mut mp = Multipart::from_request(req, &()).await.ok()?;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some(CSRF_FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

/// Reads the `_csrf` field of a multipart form from the start of its body, without holding the
/// rest (an upload may be far larger than memory should take); returns the token and the body,
/// whole again, for the handler.
async fn csrf_from_multipart(content_type: &str, body: Body) -> (Option<String>, Body) {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut prefix: Vec<u8> = Vec::new();
    let mut ended = false;
    let mut failed = None;
    let mut found = None;
    while prefix.len() < CSRF_PREFIX_MAX {
        match stream.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => ended = true,
        }
        // A body may come as one large piece: only its start is parsed.
        let head = &prefix[..prefix.len().min(CSRF_PREFIX_MAX)];
        found = csrf_in_multipart_prefix(content_type, head).await;
        if found.is_some() || ended {
            break;
        }
    }
    let head = futures_util::stream::once(async move {
        match failed {
            Some(e) => Err(e),
            None => Ok(axum::body::Bytes::from(prefix)),
        }
    });
    (found, Body::from_stream(head.chain(stream)))
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
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = client_ip::resolve(peer, req.headers(), &state.config.trusted_proxies);
    req.extensions_mut().insert(client);
    let limit = limits::for_request(&state.config, req.method(), &path);
    let mut req = match limits::apply(req, limit) {
        Ok(r) => r,
        Err(e) => return reject(api, e),
    };
    let now = state.clock.now();
    // A department system's API call carries its bearer token and no cookie: nothing a
    // browser sends by itself, so there is no request to forge and no CSRF token to ask for.
    let bearer = if api {
        bearer_token(req.headers())
    } else {
        None
    };
    let resolved = match (&bearer, session_token(req.headers())) {
        (Some(token), _) => resolve(&state, token, Carrier::Bearer, &client.origin(), now).await,
        (None, Some(token)) => {
            resolve(&state, &token, Carrier::Cookie, &client.origin(), now).await
        }
        (None, None) => Ok(None),
    };
    let ctx = match resolved {
        Ok(ctx) => ctx,
        Err(e) => return reject(api, e),
    };
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !csrf_exempt(&path) && bearer.is_none() {
        if let Some(ctx) = &ctx {
            let (found, r) = match csrf_token_of(req, limit).await {
                Ok(x) => x,
                Err(e) => return reject(api, e),
            };
            req = r;
            if !found.is_some_and(|f| constant_time_eq(&f, &ctx.session.csrf_token)) {
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

/// The CSRF token a request carries: the `X-CSRF-Token` header, else the `_csrf` field of a
/// form (a multipart form is read only as far as its first fields).
async fn csrf_token_of(
    req: Request<Body>,
    limit: limits::Limit,
) -> Result<(Option<String>, Request<Body>), AppError> {
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Ok((Some(h.to_string()), req));
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (parts, body) = req.into_parts();
    if content_type.starts_with("multipart/form-data") {
        let (found, body) = csrf_from_multipart(&content_type, body).await;
        return Ok((found, Request::from_parts(parts, body)));
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((None, Request::from_parts(parts, body)));
    }
    let bytes = axum::body::to_bytes(body, limit.bytes as usize)
        .await
        .map_err(|_| limit.too_large())?;
    let found = serde_urlencoded_pairs(&bytes)
        .into_iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v);
    Ok((found, Request::from_parts(parts, Body::from(bytes))))
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
        /// The session token itself: the cookie's value, or a system's bearer access token.
        token: String,
        cookie: HeaderValue,
        session: Box<Session>,
        user: Box<User>,
    },
    Failed(AppError),
}

/// Who signs in where: people on the login page and `POST /api/v1/login`; a department's
/// system (`Role::DepartmentSystem`) only at the OAuth2 token endpoint, for a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    Person,
    System,
}

fn bad_credentials() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        "BAD_CREDENTIALS",
        "用户名或密码错误",
    )
}

/// Checks a person's credentials against the login guard and opens a session.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: ClientIp,
) -> LoginResult {
    sign_in(state, username, password, client, SignIn::Person).await
}

/// Checks credentials (a person's password, or a system's client id and secret) against the
/// login guard and opens a session: the same throttling, failure records and approval rules.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: ClientIp,
    who: SignIn,
) -> LoginResult {
    match login_inner(state, username.trim(), password, client, who).await {
        Ok(r) => r,
        Err(e) => LoginResult::Failed(e),
    }
}

async fn login_inner(
    state: &AppState,
    username: &str,
    password: &str,
    client: ClientIp,
    who: SignIn,
) -> Result<LoginResult, AppError> {
    let now = state.clock.now();
    let guard = &state.login;
    let (addr, origin) = (client.key(), client.origin());
    // Cheap refusals first: nothing below them is reached by a flood.
    guard.admit_address(addr, now)?;
    guard.check_throttle(username, addr, now)?;
    let user = state.app.user_by_username(username).await?;
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => decoy_hash(state).await?,
    };
    let matches = verify_pooled(state, password, hash).await?;
    let user = match user {
        Some(u) if matches => u,
        known => {
            guard.failed(username, addr, now);
            match known {
                Some(u) => {
                    state
                        .app
                        .record_login(u.id, &LoginOutcome::Failed, &origin)
                        .await?
                }
                None => {
                    if let Some(n) = guard.unknown_failure(addr, now) {
                        state.app.record_unknown_login(username, &origin, n).await?;
                    }
                }
            }
            return Ok(LoginResult::Failed(bad_credentials()));
        }
    };
    guard.succeeded(username, addr);
    // Only someone who knows the password learns these.
    let system = user.role == Role::DepartmentSystem;
    if system && who == SignIn::Person {
        return Ok(LoginResult::Failed(AppError::new(
            StatusCode::FORBIDDEN,
            "SYSTEM_ACCOUNT",
            "部门系统接口账户不能登录网页:请由部门系统以客户端凭据(OAuth2)获取访问令牌",
        )));
    }
    if !system && who == SignIn::System {
        return Ok(LoginResult::Failed(bad_credentials()));
    }
    if !user.active {
        return Ok(LoginResult::Failed(AppError::new(
            StatusCode::FORBIDDEN,
            "INACTIVE",
            "账户已停用,请联系管理员",
        )));
    }
    let otp_lifetime = state.config.one_time_password_lifetime;
    if user.one_time_password_expired(now, otp_lifetime) {
        return Ok(LoginResult::Failed(AppError::new(
            StatusCode::FORBIDDEN,
            "ONE_TIME_PASSWORD_EXPIRED",
            format!(
                "一次性密码已过期(有效期 {} 小时),请联系管理员重置密码",
                otp_lifetime.num_hours()
            ),
        )));
    }
    state
        .app
        .record_login(user.id, &LoginOutcome::Succeeded, &origin)
        .await?;
    let token = random_hex(32);
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_hex(32),
        created_at: now,
        last_seen: now,
        origin,
    };
    state.app.create_session(&session).await?;
    Ok(LoginResult::Ok {
        cookie: session_cookie(state, &token, false),
        token,
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
        .app
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
    let change = jiuzhu_app::accounts::PasswordChange {
        current,
        new,
        confirm,
    };
    state
        .app
        .change_own_password(
            &auth.0.actor,
            &auth.0.user,
            &auth.0.session.token_hash,
            change,
        )
        .await?;
    Ok(())
}

/// The client of a request (resolved by the middleware: the peer, or the address a trusted
/// proxy forwarded), for logins and their audit entries.
pub struct Client(pub ClientIp);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<ClientIp>()
                .copied()
                .unwrap_or(ClientIp(None)),
        ))
    }
}
