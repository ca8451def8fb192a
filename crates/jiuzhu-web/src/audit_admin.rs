//! The audit administrator's tools in the product (三员分立): verifying the audit log against its
//! signed checkpoints and exporting a signed period, as `jiuzhu audit verify` and `audit export`
//! do at the server — so that checking the log does not need whoever runs the server. Both need
//! the signing key `serve` was started with (`WebConfig::audit_seal`); both are audited with the
//! audit administrator as the actor and checkpointed (docs/security.md).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::audit::{AuditSeal, Verification};
use jiuzhu_app::records::ExportFailure;
use jiuzhu_domain::access::ExportAudit;
use jiuzhu_domain::audit::beijing_time;
use jiuzhu_domain::{Actor, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authorized;
use crate::error::{ApiError, AppError, ErrorEnvelope, PageError};
use crate::views::{render, MessagePage, Nav};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit/verify", post(verify_page))
        .route("/audit/export", get(export_page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/audit/verify", post(verify_api))
        .route("/audit/export", get(export_api))
}

/// The key `serve` signs checkpoints with. Its problems are the operator's to fix: the audit
/// administrator is told the key is unavailable, the log gets the paths.
fn open_seal(state: &AppState) -> Result<AuditSeal, AppError> {
    let unavailable = || {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "AUDIT_KEY_UNAVAILABLE",
            "审计签名密钥不可用,无法校验或导出审计日志;请联系服务器运维人员(见服务日志)",
        )
    };
    let paths = state.config.audit_seal.as_ref().ok_or_else(|| {
        tracing::error!("audit verification asked for, but serve was given no audit key");
        unavailable()
    })?;
    AuditSeal::open(paths).map_err(|e| {
        tracing::error!(error = %e, "audit signing key unavailable");
        unavailable()
    })
}

/// What a verification found, for people and programs.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyOut {
    pub intact: bool,
    /// Events whose links and hashes check.
    pub events: u64,
    /// The newest checkpoint: number, seq and Beijing time.
    pub newest_checkpoint: Option<String>,
    /// Events after the newest checkpoint (covered by the one this verification writes).
    pub window: i64,
    /// Why the log is not intact (the event or checkpoint named).
    pub problem: Option<String>,
}

fn verify_out(v: &Verification) -> VerifyOut {
    VerifyOut {
        intact: v.problem.is_none(),
        events: v.events,
        newest_checkpoint: v
            .newest
            .as_ref()
            .map(|c| format!("#{}: seq {},北京时间 {}", c.n, c.seq, beijing_time(&c.at))),
        window: v.window,
        problem: v.problem.as_ref().map(|p| p.to_string()),
    }
}

/// Verifies the whole chain; when intact, the verification is recorded for the actor and a
/// checkpoint written, like `jiuzhu audit verify`.
async fn verify(state: &AppState, actor: &Actor) -> Result<VerifyOut, AppError> {
    let seal = open_seal(state)?;
    let v = state.app.verify_audit(&seal).await.map_err(|e| {
        tracing::error!(error = %e, "audit verification failed to run");
        AppError::internal(e)
    })?;
    let out = verify_out(&v);
    if out.intact {
        if let Err(e) = state.app.record_audit_verified(&seal, actor, &v).await? {
            tracing::error!("审计检查点未写入 (audit checkpoint not written): {e}");
        }
    } else {
        tracing::error!(problem = ?out.problem, "audit log NOT intact (verified on the web)");
    }
    Ok(out)
}

async fn verify_page(
    State(state): State<AppState>,
    a: Authorized<ExportAudit>,
) -> Result<Response, PageError> {
    let out = verify(&state, a.actor()).await?;
    let mut lines = vec![format!("已校验事件 {} 条。", out.events)];
    if let Some(c) = &out.newest_checkpoint {
        lines.push(format!("最新检查点 {c};其后事件 {} 条。", out.window));
    }
    let heading = match &out.problem {
        None => "审计链完好".to_string(),
        Some(p) => {
            lines.push(p.clone());
            lines.push("请立即报告,并保留数据库、检查点文件和服务日志。".into());
            "审计日志未通过校验".to_string()
        }
    };
    Ok(render(&MessagePage {
        nav: Nav::new(&a.auth, "校验审计日志"),
        heading,
        lines,
        link: "/audit".into(),
        link_text: "返回审计日志".into(),
    }))
}

/// Verify the whole audit log against its signed checkpoints (audit administrator). When intact,
/// the verification is recorded and a checkpoint written.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyOut), (status = 403, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
async fn verify_api(
    State(state): State<AppState>,
    a: Authorized<ExportAudit>,
) -> Result<Json<VerifyOut>, ApiError> {
    Ok(Json(verify(&state, a.actor()).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// First day, Beijing time (YYYY-MM-DD).
    pub from: String,
    /// Last day, included.
    pub to: String,
}

impl ExportParams {
    fn period(&self) -> Result<(NaiveDate, NaiveDate), AppError> {
        let mut fields = Vec::new();
        let mut day = |field: &str, label: &str, v: &str| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| {
                    fields.push(FieldError::new(
                        field,
                        "DATE",
                        format!("{label}“{v}”无效(格式:YYYY-MM-DD)"),
                    ))
                })
                .ok()
        };
        let from = day("from", "起始日期", &self.from);
        let to = day("to", "截止日期", &self.to);
        match (from, to) {
            (Some(f), Some(t)) => Ok((f, t)),
            _ => Err(AppError::invalid(fields)),
        }
    }
}

fn export_error(e: ExportFailure) -> AppError {
    match e {
        ExportFailure::NotIntact(p) => {
            tracing::error!(problem = %p, "audit export refused: the log does not verify");
            AppError::new(
                StatusCode::CONFLICT,
                "AUDIT_NOT_INTACT",
                format!("审计日志未通过校验,未导出:{p}"),
            )
        }
        e @ (ExportFailure::Empty { .. } | ExportFailure::BadPeriod { .. }) => {
            AppError::invalid(vec![FieldError::new("to", "PERIOD", e.to_string())])
        }
        // Key, file and database problems name server paths: logged, not shown.
        other => AppError::internal(other),
    }
}

/// Exports the period to a file beside the checkpoints, reads it back once and removes it;
/// records `audit_exported` for the actor and checkpoints.
async fn export(state: &AppState, actor: &Actor, p: &ExportParams) -> Result<Response, AppError> {
    let (from, to) = p.period()?;
    let seal = open_seal(state)?;
    let dir = seal
        .paths()
        .checkpoints
        .parent()
        .map(|d| d.to_path_buf())
        .unwrap_or_default();
    let out = dir.join(format!(
        ".audit-export-{}-{}",
        std::process::id(),
        jiuzhu_app::accounts::password::random_hex(8)
    ));
    let made = state.app.export_audit(&seal, (from, to), &out).await;
    let read = match &made {
        Ok(_) => tokio::fs::read(&out).await.map_err(AppError::internal),
        Err(_) => Ok(Vec::new()),
    };
    let _ = std::fs::remove_file(&out);
    let exported = made.map_err(export_error)?;
    let bytes = read?;
    // Recorded once the file is in hand, as it is handed over.
    let name = format!("jiuzhu-audit-{from}-{to}.jsonl");
    let recorded = state
        .app
        .record_audit_export(&seal, actor, &exported, &format!("downloaded as {name}"))
        .await?;
    if let Err(e) = recorded {
        tracing::error!("审计检查点未写入 (audit checkpoint not written): {e}");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

async fn export_page(
    State(state): State<AppState>,
    a: Authorized<ExportAudit>,
    Query(p): Query<ExportParams>,
) -> Result<Response, PageError> {
    Ok(export(&state, a.actor(), &p).await?)
}

/// A period's events (as stored: masked copies) signed with SM2, made only from a log that
/// verifies (audit administrator): the file `jiuzhu audit verify-export` checks with the public
/// key alone. Recorded as `audit_exported`.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(ExportParams),
    responses((status = 200, description = "the signed export file", content_type = "application/x-ndjson"),
        (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope), (status = 503, body = ErrorEnvelope)))]
async fn export_api(
    State(state): State<AppState>,
    a: Authorized<ExportAudit>,
    Query(p): Query<ExportParams>,
) -> Result<Response, ApiError> {
    Ok(export(&state, a.actor(), &p).await?)
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(verify_api, export_api), components(schemas(VerifyOut)))]
pub struct AuditAdminApiDoc;
