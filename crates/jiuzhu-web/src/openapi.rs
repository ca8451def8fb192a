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
    doc.merge(crate::lead_pages::LeadPagesApiDoc::openapi());
    doc.merge(crate::source_pages::SourcePagesApiDoc::openapi());
    doc.merge(crate::oauth::OAuthApiDoc::openapi());
    secure(&mut doc);
    doc.to_json().unwrap_or_else(|_| "{}".to_string())
}

/// How the API is authenticated: the session cookie of `POST /api/v1/login` on every call, and
/// with it the session's CSRF token in `x-csrf-token` on every call that changes something.
/// The delivery API (`/api/v1/feeds…`) also takes a department system's bearer token (OAuth2
/// client credentials, `crate::oauth`). Logging in and asking for a token need neither.
fn secure(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement,
        SecurityScheme,
    };
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "登录 (POST /api/v1/login) 后的会话 cookie",
        ))),
    );
    components.add_security_scheme(
        "csrf",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "x-csrf-token",
            "会话的 CSRF 令牌 (登录应答的 csrf),改变数据的请求须携带",
        ))),
    );
    components.add_security_scheme(
        "department_system",
        SecurityScheme::OAuth2(OAuth2::with_description(
            [Flow::ClientCredentials(ClientCredentials::new(
                crate::auth::TOKEN_PATH,
                Scopes::new(),
            ))],
            "部门系统接口账户以客户端凭据获取的访问令牌 (Authorization: Bearer),只用于数据报送",
        )),
    );
    let none: [&str; 0] = [];
    let session = || SecurityRequirement::new("session", none);
    let system = || SecurityRequirement::new("department_system", none);
    doc.security = Some(vec![session()]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let anonymous = path == "/api/v1/login" || path == crate::auth::TOKEN_PATH;
        let delivery = path.starts_with("/api/v1/feeds");
        if delivery {
            if let Some(op) = item.get.as_mut() {
                op.security = Some(vec![session(), system()]);
            }
        }
        let unsafe_ops = [
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for op in unsafe_ops.into_iter().flatten() {
            op.security = Some(if anonymous {
                vec![SecurityRequirement::default()]
            } else if delivery {
                vec![session().add("csrf", none), system()]
            } else {
                vec![session().add("csrf", none)]
            });
        }
    }
}

pub async fn document() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json(),
    )
        .into_response()
}
