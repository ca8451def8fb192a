//! Machine access for departments' systems: OAuth2 client credentials (RFC 6749 §4.4), as the
//! DCI and G2P Connect interfaces authenticate registries to each other. A system is an account
//! of role `DepartmentSystem` (created by the system administrator, approved by the security
//! administrator, bound to its sources by the county manager; its username is the client id and
//! its secret is generated and shown once). `POST /api/v1/oauth/token` with
//! `grant_type=client_credentials` and the id and secret (HTTP Basic, or the form fields
//! `client_id` and `client_secret`) answers a bearer access token valid for the session idle
//! timeout; the system then calls the delivery API with `Authorization: Bearer …` and no cookie
//! or CSRF token. The role allows delivering and reading back its own deliveries only; disabling
//! the account or resetting its secret revokes it. Requests go through the login guard (per
//! address and per client id), and each token issued is a recorded login.

use axum::extract::{rejection::FormRejection, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{sign_in, Client, LoginResult, SignIn, TOKEN_PATH};
use crate::AppState;

pub fn api_routes() -> Router<AppState> {
    Router::new().route(TOKEN_PATH.trim_start_matches("/api/v1"), post(token))
}

/// The token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`
    pub grant_type: Option<String>,
    /// The system account's username (when not sent as HTTP Basic).
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Ignored: what a system may do is its account's role and sources.
    pub scope: Option<String>,
}

/// An access token (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// `Bearer`
    pub token_type: &'static str,
    /// Seconds the token is valid for.
    pub expires_in: i64,
}

/// An error of the token endpoint, in the form OAuth2 clients read (RFC 6749 §5.2), not the
/// platform's envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type` …
    pub error: &'static str,
    /// In Chinese, for the system's operators.
    pub error_description: String,
}

fn refuse(status: StatusCode, error: &'static str, description: impl Into<String>) -> Response {
    let mut r = (
        status,
        Json(TokenError {
            error,
            error_description: description.into(),
        }),
    )
        .into_response();
    no_store(r.headers_mut());
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"jiuzhu\""),
        );
    }
    r
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The client id and secret of an `Authorization: Basic` header (each form-urlencoded, as
/// RFC 6749 §2.3.1 says).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()
            .and_then(|mut v| v.pop())
            .map(|(_, v)| v)
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Issue a department system's access token (OAuth2 client credentials).
#[utoipa::path(post, path = "/api/v1/oauth/token", tag = "session",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = TokenResponse),
        (status = 400, description = "invalid_request or unsupported_grant_type", body = TokenError),
        (status = 401, description = "invalid_client", body = TokenError),
        (status = 403, description = "the account is disabled", body = TokenError),
        (status = 429, description = "too many attempts, with Retry-After", body = TokenError)))]
pub async fn token(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Ok(Form(req)) = form else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "请求须为 application/x-www-form-urlencoded 表单",
        );
    };
    if req.grant_type.as_deref() != Some("client_credentials") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "只支持 grant_type=client_credentials",
        );
    }
    let credentials = basic_credentials(&headers)
        .or_else(|| Some((req.client_id.clone()?, req.client_secret.clone()?)));
    let Some((id, secret)) = credentials else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "缺少客户端标识或密钥",
        );
    };
    match sign_in(&state, &id, &secret, client, SignIn::System).await {
        LoginResult::Ok { token, .. } => {
            let mut r = Json(TokenResponse {
                access_token: token,
                token_type: "Bearer",
                expires_in: state.config.idle_timeout.num_seconds(),
            })
            .into_response();
            no_store(r.headers_mut());
            r
        }
        LoginResult::Failed(e) => {
            let error = match e.status {
                StatusCode::UNAUTHORIZED => "invalid_client",
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    "temporarily_unavailable"
                }
                _ => "unauthorized_client",
            };
            let description = if e.status == StatusCode::UNAUTHORIZED {
                "客户端标识或密钥错误".to_string()
            } else {
                e.message.clone()
            };
            let mut r = refuse(e.status, error, description);
            if let Some(after) = e.retry_after {
                if let Ok(v) = HeaderValue::from_str(&after.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            r
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(token),
    components(schemas(TokenRequest, TokenResponse, TokenError))
)]
pub struct OAuthApiDoc;
