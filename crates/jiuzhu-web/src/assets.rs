//! The pages' one script, compiled in and served from this server: the Content-Security-Policy
//! of the pages allows no inline script.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

const APP_JS: &str = include_str!("../assets/app.js");

pub fn routes() -> Router<AppState> {
    Router::new().route("/assets/app.js", get(app_js))
}

async fn app_js() -> Response {
    let mut r = APP_JS.into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // Small, and it changes with the binary: revalidated rather than cached stale.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
