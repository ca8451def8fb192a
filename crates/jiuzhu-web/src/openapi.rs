//! `GET /api/openapi.json`: the OpenAPI document of `/api/v1`.

use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

/// The document as JSON text.
pub fn json() -> String {
    let mut doc = crate::api::ApiDoc::openapi();
    doc.merge(crate::accounts::AccountsApiDoc::openapi());
    doc.merge(crate::audit_admin::AuditAdminApiDoc::openapi());
    doc.merge(crate::policy_pages::PolicyApiDoc::openapi());
    doc.merge(crate::cases::CasesApiDoc::openapi());
    doc.merge(crate::verification_report::VerificationReportApiDoc::openapi());
    doc.merge(crate::changes::ChangesApiDoc::openapi());
    doc.merge(crate::printing::PrintingApiDoc::openapi());
    doc.merge(crate::documents::DocumentsApiDoc::openapi());
    doc.merge(crate::reserve_fund::ReserveFundApiDoc::openapi());
    doc.merge(crate::feeds_api::FeedsApiDoc::openapi());
    doc.merge(crate::calendar_page::CalendarApiDoc::openapi());
    doc.merge(crate::warnings::WarningsApiDoc::openapi());
    doc.merge(crate::feed_pages::FeedPagesApiDoc::openapi());
    doc.merge(crate::source_pages::SourcePagesApiDoc::openapi());
    doc.to_json().unwrap_or_else(|_| "{}".to_string())
}

pub async fn document() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json(),
    )
        .into_response()
}
