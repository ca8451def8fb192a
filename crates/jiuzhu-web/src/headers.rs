//! Security headers on every response (docs/security.md, "TLS and headers"). A handler that
//! sets one itself (a stored document's own CSP, an asset's caching) keeps its value.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower_http::set_header::response::SetMultipleResponseHeadersLayer;
use tower_http::set_header::HeaderMetadata;

/// Pages: scripts only from this server (`/assets/app.js`, no inline script), styles inline
/// (the templates carry them), PDFs and images of stored documents from this server, never
/// framed by anyone.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
    'unsafe-inline'; img-src 'self' data:; object-src 'self'; frame-src 'self'; connect-src \
    'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Everything else (JSON, PDFs, files): nothing to run, nothing to frame it.
pub const DATA_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

fn csp(res: &Response) -> Option<HeaderValue> {
    let html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    Some(HeaderValue::from_static(if html {
        PAGE_CSP
    } else {
        DATA_CSP
    }))
}

/// The layer; `https` adds HSTS (served over TLS, or behind a TLS proxy with secure cookies).
pub fn layer(https: bool) -> SetMultipleResponseHeadersLayer<Response> {
    let fixed = |name: HeaderName, value: &'static str| -> HeaderMetadata<Response> {
        (name, HeaderValue::from_static(value)).into()
    };
    let mut headers = vec![
        (
            CONTENT_SECURITY_POLICY,
            csp as fn(&Response) -> Option<HeaderValue>,
        )
            .into(),
        fixed(X_CONTENT_TYPE_OPTIONS, "nosniff"),
        fixed(X_FRAME_OPTIONS, "DENY"),
        fixed(REFERRER_POLICY, "same-origin"),
        // Pages and API answers carry personal data: no copies in caches or the back button.
        fixed(CACHE_CONTROL, "no-store"),
        fixed(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    if https {
        headers.push(fixed(STRICT_TRANSPORT_SECURITY, "max-age=31536000"));
    }
    SetMultipleResponseHeadersLayer::if_not_present(headers)
}
