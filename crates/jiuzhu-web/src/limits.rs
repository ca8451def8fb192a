//! Request body limits, one per route, and caps on bulk requests (docs/security.md, "Request
//! limits"). Every request gets a limit: forms and JSON a small one, the upload routes their
//! own, stated on their forms. A declared `Content-Length` over the limit is refused before a
//! byte is read, with the limit named in Chinese; a body without one is cut off at the limit.

use axum::body::Body;
use axum::http::{header::CONTENT_LENGTH, Method, Request, StatusCode};

use crate::error::AppError;
use crate::WebConfig;

const MIB: u64 = 1024 * 1024;

/// Limits of request bodies (`WebConfig::body_limits`), in bytes.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    /// Every form and JSON request without a limit of its own.
    pub default: u64,
    /// A what-if caseload (`/whatif`, `POST /api/v1/whatif`).
    pub whatif: u64,
    /// The two caseload files of `/import`.
    pub caseload_import: u64,
    /// A division file of `/divisions/import`.
    pub divisions_import: u64,
    /// A department's delivery (`/feeds`, `POST /api/v1/feeds/{kind}`); streamed to disk.
    pub feed: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            default: MIB,
            whatif: 32 * MIB,
            // Both files of a caseload of 250,000 members (jiuzhu_app::registry::CASELOAD_UPLOAD).
            caseload_import: 2 * (jiuzhu_app::registry::CASELOAD_UPLOAD.file_bytes / MIB) * MIB,
            divisions_import: jiuzhu_app::registry::DIVISIONS_UPLOAD.file_bytes,
            // The largest delivery the parser takes (at least 2 GB, ten million rows).
            feed: jiuzhu_verify::ingest::MAX_BYTES,
        }
    }
}

/// Most warnings one `POST /api/v1/warnings/close` (or the inbox form) may close.
pub use jiuzhu_app::verification::closing::MAX_BULK_CLOSE;

/// Room for the other fields and the multipart framing beside a file.
const FORM_OVERHEAD: u64 = MIB;

/// The limit of one request: bytes accepted and the size named in messages (the file's limit,
/// without the form's overhead).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bytes: u64,
    pub stated: u64,
}

impl Limit {
    fn upload(file: u64) -> Limit {
        Limit {
            bytes: file + FORM_OVERHEAD,
            stated: file,
        }
    }

    /// The error of a body over the limit.
    pub fn too_large(&self) -> AppError {
        too_large(self.stated, None)
    }
}

/// "文件超过 20 MB(本次 21 MB),请缩小后重新上传": the one message of an upload over its limit,
/// with the upload's size when it is known.
pub fn too_large(limit: u64, size: Option<u64>) -> AppError {
    let size = size
        .map(|n| format!("(本次 {})", crate::views::human_size(n)))
        .unwrap_or_default();
    let mut e = AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "TOO_LARGE",
        format!(
            "文件超过 {}{size},请缩小后重新上传",
            crate::views::human_size(limit)
        ),
    );
    e.fields.push(jiuzhu_domain::FieldError::new(
        "file",
        "TOO_LARGE",
        e.message.clone(),
    ));
    e
}

/// The limit of a request by method and path.
pub fn for_request(config: &WebConfig, method: &Method, path: &str) -> Limit {
    let l = &config.body_limits;
    let small = Limit {
        bytes: l.default,
        stated: l.default,
    };
    if method != Method::POST && method != Method::PUT {
        return small;
    }
    match path {
        "/documents" | "/api/v1/documents" => Limit::upload(config.max_document_bytes),
        "/import" => Limit::upload(l.caseload_import),
        "/divisions/import" => Limit::upload(l.divisions_import),
        "/whatif" | "/api/v1/whatif" => Limit::upload(l.whatif),
        "/feeds" => Limit::upload(l.feed),
        p if p.starts_with("/api/v1/feeds/") => Limit::upload(l.feed),
        _ => small,
    }
}

/// The limit of an upload route (for its handler's messages and its form).
pub fn upload_limit(config: &WebConfig, path: &str) -> Limit {
    for_request(config, &Method::POST, path)
}

/// Refuses a declared length over the limit; caps the body at the limit otherwise.
pub fn apply(req: Request<Body>, limit: Limit) -> Result<Request<Body>, AppError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > limit.bytes) {
        return Err(too_large(limit.stated, Some(n)));
    }
    let max = usize::try_from(limit.bytes).unwrap_or(usize::MAX);
    Ok(req.map(|b| Body::new(http_body_util::Limited::new(b, max))))
}

/// Maps an error met while streaming a body: over the limit is [`Limit::too_large`].
pub fn body_error(e: axum::Error, limit: Limit) -> AppError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return limit.too_large();
        }
        source = s.source();
    }
    AppError::bad_request(format!("上传内容无法读取:{e}"))
}

/// Maps an error met while reading a multipart body: over the limit is [`Limit::too_large`].
pub fn multipart_error(e: axum::extract::multipart::MultipartError, limit: Limit) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        limit.too_large()
    } else {
        AppError::bad_request(format!("上传内容无法读取:{}", e.body_text()))
    }
}
