//! The one error type and its two renderings: the JSON envelope (API) and an error page (HTML).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiuzhu_app::records::StoreError;
use jiuzhu_domain::{AccessDenied, FieldError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

tokio::task_local! {
    /// The id of the request being handled (set by the middleware), for envelopes and logs.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| "-".to_string())
}

/// An error as the user or client sees it.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    /// Seconds after which the client may try again (`Retry-After`, for 429 and 503).
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }
    /// The same error with a `Retry-After` of `secs` seconds.
    pub fn retry_after(mut self, secs: u64) -> AppError {
        self.retry_after = Some(secs);
        self
    }
    /// The `Retry-After` header of an error that has one.
    pub fn add_retry_after(&self, response: &mut Response) {
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
    }
    pub fn unauthenticated() -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "请先登录")
    }
    pub fn not_found() -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "记录不存在或不在您的管辖范围内",
        )
    }
    pub fn csrf() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "CSRF",
            "请求缺少有效的安全令牌(CSRF),请刷新页面后重试",
        )
    }
    pub fn password_change_required() -> AppError {
        AppError::new(
            StatusCode::FORBIDDEN,
            "PASSWORD_CHANGE_REQUIRED",
            "请先修改一次性密码",
        )
    }
    pub fn invalid(fields: Vec<FieldError>) -> AppError {
        let message = match fields.first() {
            Some(f) if fields.len() == 1 => format!("输入有误:{}", f.message),
            Some(_) => format!("输入有误,共 {} 处", fields.len()),
            None => "输入有误".to_string(),
        };
        AppError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "INVALID",
            message,
            fields,
            retry_after: None,
        }
    }
    /// What a page lists of a refused form: each field's error as people read it, or the
    /// message when no field is named.
    pub fn messages_for_people(&self) -> Vec<String> {
        if self.fields.is_empty() {
            vec![self.message.clone()]
        } else {
            self.fields.iter().map(FieldError::for_people).collect()
        }
    }
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }
    /// Input over one of the documented limits (docs/security.md): 413 with the limit named.
    pub fn limit(e: jiuzhu_sheet::LimitExceeded) -> AppError {
        AppError::new(StatusCode::PAYLOAD_TOO_LARGE, e.code(), e.message_zh())
    }
    /// An internal failure: logged with the request id, shown generically.
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        let id = current_request_id();
        tracing::error!(request_id = %id, error = %detail, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!("系统内部错误,请稍后重试或联系管理员(请求编号 {id})"),
        )
    }
}

impl From<AccessDenied> for AppError {
    fn from(e: AccessDenied) -> Self {
        // A role that does not read the register (a department officer) finds nothing in it:
        // a person, household or search answers as a record outside the jurisdiction does.
        // The administrators of 三员分立 and accounts awaiting approval are told they may not.
        if e.action == jiuzhu_domain::Action::ReadRegistry
            && e.role == jiuzhu_domain::Role::DepartmentOfficer
            && e.code() == "DENIED"
        {
            return AppError::not_found();
        }
        AppError::new(StatusCode::FORBIDDEN, e.code(), e.message_zh())
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::invalid(e.0)
    }
}

fn kind_zh(kind: &str) -> &str {
    match kind {
        "person" => "人员",
        "household" => "家庭",
        "membership" => "家庭成员关系",
        "user" => "用户",
        "division" => "区划",
        "session" => "会话",
        "policy_region" => "地区的政策参数",
        "policy_revision" => "政策参数调整",
        "calendar" => "工作日历",
        "case" => "案件",
        "feed_source" => "数据来源",
        "household_economics" => "家庭经济状况",
        "outreach_lead" => "主动发现线索",
        "warning" => "预警",
        "document" => "材料",
        "reserve_fund" => "备用金台账",
        "verification_report" => "核对报告",
        // Every kind the store names has its word; an unknown one is still not shown as code.
        _ => "记录",
    }
}

fn field_zh(field: &str) -> &str {
    match field {
        "id_number" => "身份证号码",
        "username" => "用户名",
        "code" | "household_code" => "户编号",
        "division" => "区划代码",
        other => other,
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => AppError::not_found(),
            StoreError::Conflict { kind, .. } => AppError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!(
                    "该{}已被他人修改,您的修改未保存。请查看最新内容后重新修改。",
                    kind_zh(kind)
                ),
            ),
            StoreError::Duplicate { field, value } => {
                let mut err = AppError::new(
                    StatusCode::CONFLICT,
                    "DUPLICATE",
                    format!("{}“{}”已存在", field_zh(field), mask_if_id(field, &value)),
                );
                err.fields.push(FieldError::new(
                    field,
                    "DUPLICATE",
                    format!("{}已存在", field_zh(field)),
                ));
                err
            }
            StoreError::OutOfScope(code) => {
                tracing::info!(division = %code, "write outside the actor's jurisdiction refused");
                AppError::new(
                    StatusCode::FORBIDDEN,
                    "OUT_OF_SCOPE",
                    "所填区划不在您的管辖范围内,不能在该区划登记或迁入",
                )
            }
            StoreError::Invalid(v) => AppError::invalid(v.0),
            StoreError::Denied(d) => d.into(),
            StoreError::Refused { code, message } => {
                AppError::new(StatusCode::FORBIDDEN, code, message)
            }
            StoreError::Database(detail) => AppError::internal(detail),
        }
    }
}

fn mask_if_id(field: &str, value: &str) -> String {
    if field == "id_number" {
        jiuzhu_domain::id_number::mask_id_str(value)
    } else {
        value.to_string()
    }
}

/// `{"error": {...}}`: the one shape of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code: UNAUTHENTICATED, BAD_CREDENTIALS, LOGIN_THROTTLED, RATE_LIMITED, BUSY,
    /// ONE_TIME_PASSWORD_EXPIRED, DENIED, PENDING_APPROVAL (the account awaits a security
    /// administrator's approval), separation-of-duties refusals (OWN_ACCOUNT, OWN_REQUEST,
    /// ADMIN_ROLE_FIXED, LAST_ADMINISTRATOR, NOT_PENDING, ASSIGNED_BY_SECURITY_ADMIN), CSRF,
    /// NOT_FOUND, CONFLICT, DUPLICATE, OUT_OF_SCOPE, INVALID, BAD_REQUEST, TOO_LARGE,
    /// TOO_MANY_ITEMS, ID_LOOKUP_LIMIT, LIMIT_* (an input over a documented limit),
    /// PASSWORD_CHANGE_REQUIRED, INTERNAL.
    pub code: String,
    /// Chinese message for people.
    pub message: String,
    pub fields: Vec<FieldErrorDto>,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDto {
    pub row: Option<usize>,
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An [`AppError`] rendered as the JSON envelope.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let retry = e.clone();
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: e.code.to_string(),
                message: e.message,
                fields: e
                    .fields
                    .into_iter()
                    .map(|f| FieldErrorDto {
                        row: f.row,
                        field: f.field,
                        code: f.code,
                        message: f.message,
                    })
                    .collect(),
                request_id: current_request_id(),
            },
        };
        let mut response = (e.status, Json(body)).into_response();
        retry.add_retry_after(&mut response);
        response
    }
}

/// An [`AppError`] rendered as a page (unauthenticated visitors are sent to the login page).
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        crate::views::error_page(self.0)
    }
}

impl From<jiuzhu_app::Error> for AppError {
    fn from(e: jiuzhu_app::Error) -> Self {
        use jiuzhu_app::Error;
        match e {
            Error::Store(e) => e.into(),
            Error::NotFound => AppError::not_found(),
            Error::Invalid(fields) => AppError::invalid(fields),
            Error::Denied(d) => d.into(),
            Error::Unserviceable(message) => AppError::bad_request(message),
            Error::Forbidden {
                code,
                message,
                fields,
            } => {
                let mut e = AppError::new(StatusCode::FORBIDDEN, code, message);
                e.fields = fields;
                e
            }
            Error::Rejected {
                code,
                message,
                fields,
            } => {
                let mut e = AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
                e.fields = fields;
                e
            }
            Error::TooLarge { limit, size } => crate::limits::too_large(limit, size),
            Error::Busy => AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "BUSY",
                "登录的人太多,系统繁忙,请稍后再试",
            )
            .retry_after(1),
            internal @ Error::Internal { .. } => AppError::internal(error_chain(&internal)),
        }
    }
}

/// An error and its causes, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full hashing pool is a 503 with the envelope's code and a Retry-After of one second.
    #[test]
    fn a_busy_application_is_503_with_retry_after() {
        let e = AppError::from(jiuzhu_app::Error::Busy);
        assert_eq!(
            (e.status, e.code, e.retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, "BUSY", Some(1))
        );
    }
}
