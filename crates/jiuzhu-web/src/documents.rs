//! One person, one file (一人一档, docs/documents.md): uploading scans and records to a person's,
//! household's or case's file, listing them, previewing them and withdrawing them — as pages
//! (`/documents…`) and as `/api/v1/documents…`.
//!
//! Files are checked, stored content-addressed and recorded by `jiuzhu_app::documents` (size
//! limit, type by magic bytes; the store checks that the owner is in the uploader's
//! jurisdiction). Identity cards, medical and disability documents
//! are listed like the others, but their content is served only with `RevealSensitive`, and
//! each view is audited.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jiuzhu_app::records::DOCUMENT_TYPES;
use jiuzhu_app::records::{Document, DocumentId, DocumentQuery, OwnerKind};
use jiuzhu_domain::access::{ReadRegistry, WriteRegistry};
use jiuzhu_domain::{FieldError, Grant};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::views::human_size;
use crate::views::{render, render_status, Nav};
use crate::AppState;
use jiuzhu_app::documents::FileKind;
use jiuzhu_app::documents::{allowed_list, type_label, Upload};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents", get(list_page).post(upload_page))
        .route("/documents/{id}", get(show_page))
        .route("/documents/{id}/content", get(content))
        .route("/documents/{id}/withdraw", post(withdraw_page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/documents", get(api_list).post(api_upload))
        .route("/documents/{id}", get(api_get))
        .route("/documents/{id}/content", get(content))
        .route("/documents/{id}/withdraw", post(api_withdraw))
}

// ---- upload -----------------------------------------------------------------------------------

fn field_error(field: &str, code: &str, message: impl Into<String>) -> AppError {
    AppError::invalid(vec![FieldError::new(field, code, message)])
}

/// Reads the form; the file is kept only up to the limit (its size is still counted, for the
/// message).
async fn read_upload(state: &AppState, mut mp: Multipart) -> Result<Upload, AppError> {
    let max = state.app.documents().max_bytes;
    let limit = crate::limits::upload_limit(&state.config, "/documents");
    let bad = |e| crate::limits::multipart_error(e, limit);
    let mut up = Upload::default();
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            up.file_name = Some(field.file_name().unwrap_or("").to_string());
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                up.size += chunk.len() as u64;
                if up.size <= max {
                    up.bytes.extend_from_slice(&chunk);
                }
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        match name.as_str() {
            "owner_kind" => up.owner_kind = text,
            "owner_id" => up.owner_id = text,
            "doc_type" => up.doc_type = text,
            "note" => up.note = text,
            // "owner" = "household:12", as the page's form sends it.
            "owner" => {
                if let Some((k, id)) = text.split_once(':') {
                    up.owner_kind = k.to_string();
                    up.owner_id = id.to_string();
                }
            }
            _ => {}
        }
    }
    Ok(up)
}

/// Validates the upload, stores the file and records the document
/// (`jiuzhu_app::documents::upload`).
async fn upload(
    state: &AppState,
    grant: &Grant<WriteRegistry>,
    up: Upload,
) -> Result<Document, AppError> {
    Ok(jiuzhu_app::documents::upload(&state.app, grant, up).await?)
}

/// A document as the API answers it (never its storage key).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    pub id: i64,
    /// person | household | case
    pub owner_kind: &'static str,
    pub owner_id: i64,
    pub division: String,
    pub doc_type: String,
    pub doc_type_label: String,
    /// Its type is sensitive (health, disability, bank): reading the content needs a reveal.
    pub sensitive: bool,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    pub note: String,
    pub withdrawn: Option<WithdrawalOut>,
    pub content_url: String,
}

/// Who withdrew a document, when and why (it stays on file).
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalOut {
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

/// A page of documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub items: Vec<DocumentOut>,
    pub total: i64,
}

fn to_out(d: &Document) -> DocumentOut {
    DocumentOut {
        id: d.id,
        owner_kind: d.owner_kind.as_str(),
        owner_id: d.owner_id,
        division: d.division.to_string(),
        doc_type: d.doc_type.clone(),
        doc_type_label: type_label(&d.doc_type).to_string(),
        sensitive: d.is_sensitive(),
        file_name: d.file_name.clone(),
        content_type: d.content_type.clone(),
        size_bytes: d.size_bytes,
        sha256: d.sha256.clone(),
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: d.uploaded_at,
        note: d.note.clone(),
        withdrawn: d.withdrawn.as_ref().map(|w| WithdrawalOut {
            by: w.by.clone(),
            at: w.at,
            reason: w.reason.clone(),
        }),
        content_url: format!("/api/v1/documents/{}/content", d.id),
    }
}

// ---- content ----------------------------------------------------------------------------------

/// The file, inline, with its recognised content type. Sensitive types need `RevealSensitive`
/// and each view is audited; others need `ReadRegistry` within scope.
async fn content(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<DocumentId>,
) -> Result<Response, ApiError> {
    let (doc, bytes) = jiuzhu_app::documents::content(&state.app, auth.actor(), id).await?;
    // The type is the one recognised at upload, never the client's.
    let ct = FileKind::from_content_type(&doc.content_type)
        .map(|k| k.content_type())
        .unwrap_or("application/octet-stream");
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A stored file is data, never a page: no scripts, no requests, framed only by us.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; object-src 'self'; plugin-types application/pdf; \
             frame-ancestors 'self'; sandbox",
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

// ---- API --------------------------------------------------------------------------------------

/// Multipart form of `POST /api/v1/documents`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// person | household | case
    owner_kind: String,
    owner_id: i64,
    /// id_card | authorisation | home_visit | appraisal | income_proof | disability_cert |
    /// medical | photo | other
    doc_type: String,
    note: Option<String>,
    /// PDF, JPEG or PNG (checked by content), at most the configured size (20 MB by default).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a document to a person's, household's or case's file.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = DocumentOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 413, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_upload(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    mp: Multipart,
) -> Result<Response, ApiError> {
    let up = read_upload(&state, mp).await?;
    let doc = upload(&state, &a.grant, up).await?;
    Ok((StatusCode::CREATED, Json(to_out(&doc))).into_response())
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ListParams {
    /// person | household | case (with owner_id)
    owner_kind: Option<String>,
    owner_id: Option<i64>,
    include_withdrawn: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn owner_of(kind: Option<&str>, id: Option<i64>) -> Result<Option<(OwnerKind, i64)>, AppError> {
    match (kind.map(str::trim).filter(|k| !k.is_empty()), id) {
        (None, None) => Ok(None),
        (Some(k), Some(id)) => OwnerKind::parse(k).map(|k| Some((k, id))).ok_or_else(|| {
            field_error("owner_kind", "DOCUMENT_OWNER_KIND", "材料所属对象类型无效")
        }),
        _ => Err(field_error(
            "owner_id",
            "DOCUMENT_OWNER",
            "owner_kind 与 owner_id 须同时给出",
        )),
    }
}

/// Documents in the caller's jurisdiction, newest first (of one owner when given).
#[utoipa::path(get, operation_id = "list_documents", path = "/api/v1/documents", tag = "documents", params(ListParams),
    responses((status = 200, body = DocumentList), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_list(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(p): Query<ListParams>,
) -> Result<Json<DocumentList>, ApiError> {
    let q = DocumentQuery {
        owner: owner_of(p.owner_kind.as_deref(), p.owner_id)?,
        include_withdrawn: p.include_withdrawn.unwrap_or(false),
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    };
    let page = state.app.list_documents(&a.grant, &q).await?;
    Ok(Json(DocumentList {
        items: page.items.iter().map(to_out).collect(),
        total: page.total,
    }))
}

#[utoipa::path(get, operation_id = "get_document", path = "/api/v1/documents/{id}", tag = "documents", params(("id" = i64, Path)),
    responses((status = 200, body = DocumentOut), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_get(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<DocumentId>,
) -> Result<Json<DocumentOut>, ApiError> {
    let doc = state
        .app
        .get_document(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(to_out(&doc)))
}

/// The file itself, inline (sensitive types: `RevealSensitive`, audited).
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "documents",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the file (PDF, JPEG or PNG)"),
        (status = 403, body = crate::error::ErrorEnvelope), (status = 404, body = crate::error::ErrorEnvelope)))]
#[allow(dead_code)]
async fn api_content_doc() {}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct WithdrawInput {
    /// Why the document is withdrawn (required).
    reason: String,
}

/// Withdraws a document from the file; the record and the file are kept.
#[utoipa::path(post, operation_id = "withdraw_document", path = "/api/v1/documents/{id}/withdraw", tag = "documents",
    params(("id" = i64, Path)), request_body = WithdrawInput,
    responses((status = 200, body = DocumentOut), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_withdraw(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Path(id): Path<DocumentId>,
    JsonBody(input): JsonBody<WithdrawInput>,
) -> Result<Json<DocumentOut>, ApiError> {
    let doc = state
        .app
        .withdraw_document(&a.grant, id, &input.reason)
        .await?;
    Ok(Json(to_out(&doc)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(api_upload, api_list, api_get, api_content_doc, api_withdraw))]
pub struct DocumentsApiDoc;

// ---- pages ------------------------------------------------------------------------------------

struct Row {
    id: DocumentId,
    type_label: String,
    sensitive: bool,
    file_name: String,
    size: String,
    sha_short: String,
    uploaded_by: String,
    uploaded_at: String,
    note: String,
    withdrawn: Option<String>,
}

fn row(d: &Document) -> Row {
    Row {
        id: d.id,
        type_label: type_label(&d.doc_type).to_string(),
        sensitive: d.is_sensitive(),
        file_name: d.file_name.clone(),
        size: human_size(d.size_bytes.max(0) as u64),
        sha_short: d.sha256.chars().take(12).collect(),
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: d
            .uploaded_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        note: d.note.clone(),
        withdrawn: d
            .withdrawn
            .as_ref()
            .map(|w| format!("{} 撤回:{}", w.by, w.reason)),
    }
}

fn owner_link(kind: OwnerKind, id: i64) -> String {
    match kind {
        OwnerKind::Person => format!("/persons/{id}"),
        OwnerKind::Household => format!("/households/{id}"),
        OwnerKind::Case => format!("/cases/{id}"),
    }
}

#[derive(Template)]
#[template(path = "documents/list.html")]
struct ListPage {
    nav: Nav,
    owner: String,
    owner_label: String,
    owner_link: String,
    rows: Vec<Row>,
    types: Vec<(&'static str, &'static str)>,
    errors: Vec<String>,
    max_size: String,
    allowed: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OwnerParam {
    owner: String,
}

fn parse_owner(s: &str) -> Result<(OwnerKind, i64), AppError> {
    s.split_once(':')
        .and_then(|(k, id)| Some((OwnerKind::parse(k)?, id.parse().ok()?)))
        .ok_or_else(|| AppError::bad_request("缺少或无效的 owner 参数(如 household:12)"))
}

async fn list_view(
    state: &AppState,
    a: &Auth,
    owner: (OwnerKind, i64),
    errors: Vec<String>,
) -> Result<ListPage, AppError> {
    if !jiuzhu_app::documents::owner_visible(&state.app, a.actor(), owner.0, owner.1).await? {
        return Err(AppError::not_found());
    }
    let read = a.actor().grant::<ReadRegistry>()?;
    let page = state
        .app
        .list_documents(
            &read,
            &DocumentQuery {
                owner: Some(owner),
                include_withdrawn: true,
                limit: 200,
                offset: 0,
            },
        )
        .await?;
    let nav = Nav::new(a, "档案材料");
    Ok(ListPage {
        nav,
        owner: format!("{}:{}", owner.0.as_str(), owner.1),
        owner_label: format!("{} #{}", owner.0.label_zh(), owner.1),
        owner_link: owner_link(owner.0, owner.1),
        rows: page.items.iter().map(row).collect(),
        types: DOCUMENT_TYPES
            .iter()
            .map(|t| (t.code, t.label_zh))
            .collect(),
        errors,
        max_size: human_size(state.app.documents().max_bytes),
        allowed: allowed_list(&state.app.documents().types),
    })
}

async fn list_page(
    State(state): State<AppState>,
    a: Auth,
    Query(p): Query<OwnerParam>,
) -> Result<Response, PageError> {
    let owner = parse_owner(&p.owner)?;
    Ok(render(&list_view(&state, &a, owner, vec![]).await?))
}

async fn upload_page(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    mp: Multipart,
) -> Result<Response, PageError> {
    let up = read_upload(&state, mp).await?;
    let owner = parse_owner(&format!("{}:{}", up.owner_kind, up.owner_id.trim()))?;
    match upload(&state, &a.grant, up).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/documents?owner={}:{}",
            owner.0.as_str(),
            owner.1
        ))
        .into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            let mut errors: Vec<String> = e.fields.iter().map(|f| f.message.clone()).collect();
            if errors.is_empty() {
                errors.push(e.message.clone());
            }
            let page = list_view(&state, &a.auth, owner, errors).await?;
            Ok(render_status(e.status, &page))
        }
    }
}

#[derive(Template)]
#[template(path = "documents/show.html")]
struct ShowPage {
    nav: Nav,
    d: Row,
    owner_label: String,
    owner_link: String,
    owner: String,
    is_pdf: bool,
    /// Sensitive documents are not embedded: opening one is an audited act of its own.
    embed: bool,
    can_open: bool,
}

async fn show_page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<DocumentId>,
) -> Result<Response, PageError> {
    let doc = state
        .app
        .get_document(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let nav = Nav::new(&a.auth, "档案材料");
    let can_open = !doc.is_sensitive() || nav.can_reveal;
    Ok(render(&ShowPage {
        owner_label: format!("{} #{}", doc.owner_kind.label_zh(), doc.owner_id),
        owner_link: owner_link(doc.owner_kind, doc.owner_id),
        owner: format!("{}:{}", doc.owner_kind.as_str(), doc.owner_id),
        is_pdf: doc.content_type == "application/pdf",
        embed: !doc.is_sensitive(),
        can_open,
        d: row(&doc),
        nav,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WithdrawForm {
    reason: String,
}

async fn withdraw_page(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Path(id): Path<DocumentId>,
    Form(f): Form<WithdrawForm>,
) -> Result<Response, PageError> {
    let doc = state.app.withdraw_document(&a.grant, id, &f.reason).await?;
    Ok(Redirect::to(&format!(
        "/documents?owner={}:{}",
        doc.owner_kind.as_str(),
        doc.owner_id
    ))
    .into_response())
}
