//! The jiuzhu web application (axum).
//!
//! * Authentication: argon2 passwords hashed on a bounded pool, a random session token in the
//!   `jiuzhu_session` cookie (only its SHA-256 is stored), failed logins throttled per account
//!   and client address, idle timeout and absolute lifetime, one-time passwords that expire and
//!   must be changed, a password policy (docs/security.md).
//! * Request limits: a body limit on every route, header and idle-body timeouts in the server's
//!   own accept loop, optional TLS (rustls); security headers on every response.
//! * Authorization in one place: the [`auth::Authorized`] extractor turns the session into an
//!   `Actor` and a typed `Grant<P>`; handlers only pass grants to the use-cases (`jiuzhu_app`),
//!   whose store applies the jurisdiction scope. The web never reaches the store itself.
//! * CSRF: every unsafe request of a logged-in session must carry the session's token (`_csrf`
//!   form field or `X-CSRF-Token` header); checked once, in the middleware.
//! * Chinese server-rendered pages (askama, compiled in), the JSON API under `/api/v1` with its
//!   OpenAPI document at `/api/openapi.json`, one error envelope, background caseload imports.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use jiuzhu_domain::Clock;

mod accounts;
pub mod api;
mod assets;
mod audit_admin;
pub mod auth;
pub mod calc;
mod calc_page;
pub mod calendar_page;
pub mod cases;
pub mod changes;
pub mod client_ip;
mod documents;
mod economics_page;
pub mod error;
pub mod feed_pages;
pub mod feeds_api;
mod forms;
mod headers;
pub mod id_lookup;
pub mod jobs;
pub mod lead_pages;
pub mod limits;
pub mod login_guard;
mod month_page;
pub mod oauth;
pub mod openapi;
mod pages;
mod policy_pages;
pub mod printing;
mod reserve_fund;
mod server;
pub mod source_pages;
pub mod verification_report;
mod views;
pub mod warnings;
mod whatif_page;

pub use error::AppError;
pub use server::{load_tls, serve};

/// Settings of the web application.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// A session unused for this long is ended.
    pub idle_timeout: chrono::Duration,
    /// A session this old is ended however busy it is.
    pub session_lifetime: chrono::Duration,
    /// A one-time password (new user, reset) not changed within this time no longer logs in.
    pub one_time_password_lifetime: chrono::Duration,
    /// Mark the session cookie `Secure` and send HSTS (when served over HTTPS).
    pub secure_cookies: bool,
    /// Login rate limit and throttle.
    pub login: login_guard::LoginLimits,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Body limits of the routes.
    pub body_limits: limits::BodyLimits,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: std::time::Duration,
    /// Longest pause between two pieces of a request body (a slow but moving upload goes on).
    pub body_idle_timeout: std::time::Duration,
    /// Time a client has for the TLS handshake.
    pub tls_handshake_timeout: std::time::Duration,
    /// Serve HTTPS with this configuration (`--tls-cert`, `--tls-key`).
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    /// The CJK font for printed PDFs (`--font`); `None` searches jiuzhu-print's default paths.
    pub font: Option<std::path::PathBuf>,
    /// The one-person-one-file documents directory (`serve --files-dir`; the binary defaults it
    /// to `files` next to the SQLite database), content-addressed (docs/documents.md).
    pub files_dir: std::path::PathBuf,
    /// Largest accepted document, in bytes.
    pub max_document_bytes: u64,
    /// Document file types accepted, recognised by their first bytes.
    pub document_types: Vec<jiuzhu_app::documents::FileKind>,
    /// The data directory delivered feed files are kept in (`<dir>/feeds/<sha256>.csv`,
    /// docs/feeds.md); the binary defaults it to the SQLite file's directory.
    pub feeds_dir: std::path::PathBuf,
    /// The audit signing key and checkpoints `serve` uses, with which the audit administrator
    /// verifies and exports the log in the product; `None`: those answer 503.
    pub audit_seal: Option<jiuzhu_app::audit::SealPaths>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            idle_timeout: chrono::Duration::minutes(30),
            session_lifetime: chrono::Duration::hours(12),
            one_time_password_lifetime: chrono::Duration::hours(72),
            secure_cookies: false,
            login: login_guard::LoginLimits::default(),
            trusted_proxies: Vec::new(),
            body_limits: limits::BodyLimits::default(),
            header_read_timeout: std::time::Duration::from_secs(10),
            body_idle_timeout: std::time::Duration::from_secs(30),
            tls_handshake_timeout: std::time::Duration::from_secs(10),
            tls: None,
            font: None,
            files_dir: std::path::PathBuf::from("data/files"),
            max_document_bytes: 20 * 1024 * 1024,
            document_types: jiuzhu_app::documents::FileKind::ALL.to_vec(),
            feeds_dir: std::path::PathBuf::from("data"),
            audit_seal: None,
        }
    }
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    pub clock: Arc<dyn Clock>,
    pub config: Arc<WebConfig>,
    pub jobs: jobs::Jobs,
    /// Background feed uploads and verification runs (`feed_pages`).
    pub feed_jobs: feed_pages::FeedJobs,
    /// The use-cases, the workflows and the parameters (policy library and calendars, checked
    /// against the store at each use).
    pub app: jiuzhu_app::App,
    /// The CJK font for PDFs, loaded at the first print (so `serve` starts without one).
    pub font: Arc<std::sync::OnceLock<printing::FontSlot>>,
    /// Budgets of lookups by identity number (`id_lookup`).
    pub id_lookups: Arc<id_lookup::IdLookups>,
    /// Login rate limit and throttle.
    pub login: Arc<login_guard::LoginGuard>,
}

impl AppState {
    pub fn with_app(app: jiuzhu_app::App, config: WebConfig) -> AppState {
        // Where documents and deliveries are kept are the server's options, applied to the
        // application.
        let app = app
            .with_documents(jiuzhu_app::documents::DocumentSettings {
                dir: config.files_dir.clone(),
                max_bytes: config.max_document_bytes,
                types: config.document_types.clone(),
            })
            .with_feeds_dir(config.feeds_dir.clone());
        AppState {
            login: Arc::new(login_guard::LoginGuard::new(config.login.clone())),
            clock: app.clock().clone(),
            config: Arc::new(config),
            jobs: jobs::Jobs::default(),
            feed_jobs: feed_pages::FeedJobs::default(),
            app,
            font: Arc::default(),
            id_lookups: Arc::default(),
        }
    }
}

/// The whole application as a router (for `serve` and for in-process tests).
pub fn router(state: AppState) -> Router {
    let secure = state.config.secure_cookies;
    Router::new()
        .merge(pages::routes())
        .merge(accounts::routes())
        .merge(audit_admin::routes())
        .merge(calc_page::routes())
        .merge(month_page::routes())
        .merge(economics_page::routes())
        .merge(whatif_page::routes())
        .merge(policy_pages::routes())
        .merge(cases::routes())
        .merge(verification_report::routes())
        .merge(changes::routes())
        .merge(documents::routes())
        .merge(reserve_fund::routes())
        .merge(printing::routes())
        .merge(calendar_page::routes())
        .merge(warnings::routes())
        .merge(feed_pages::routes())
        .merge(lead_pages::routes())
        .merge(source_pages::routes())
        .nest(
            "/api/v1",
            api::routes()
                .merge(accounts::api_routes())
                .merge(audit_admin::api_routes())
                .merge(cases::api_routes())
                .merge(verification_report::api_routes())
                .merge(changes::api_routes())
                .merge(documents::api_routes())
                .merge(reserve_fund::api_routes())
                .merge(feeds_api::api_routes())
                .merge(printing::api_routes())
                .merge(calendar_page::api_routes())
                .merge(warnings::api_routes())
                .merge(feed_pages::api_routes())
                .merge(lead_pages::api_routes())
                .merge(oauth::api_routes())
                .merge(source_pages::api_routes()),
        )
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(healthz))
        .merge(assets::routes())
        // The middleware caps every body at its route's limit (`limits`); the extractors' own
        // 2 MB default would refuse the larger uploads before their handlers could say why.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::middleware,
        ))
        .layer(headers::layer(secure))
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    match state.app.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
        }
    }
}
