//! Changes of a running benefit (调整/暂停/恢复/停止, docs/cases.md): opening one on an approved
//! case (`POST /cases/{id}/changes`, `POST /api/v1/cases/{id}/changes`), reading a case's
//! benefit status and changes (`GET /api/v1/cases/{id}/changes`). Opening and deciding are the
//! application's (`jiuzhu_app::cases::changes`). The change case itself is an ordinary case of
//! the change workflow: the normal case page, step forms, timeline, letter and filing list.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::{
    BenefitStatus, CaseId, CaseRecord, ChangeKind, ChangeRecord, StopReason,
};
use jiuzhu_domain::access::{ActOnCase, ReadCases};
use jiuzhu_domain::case::CaseStatus;
use jiuzhu_domain::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::JsonBody;
use crate::auth::Authorized;
use crate::error::{ApiError, AppError, PageError};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/cases/{id}/changes", post(change_submit))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/cases/{id}/changes", post(api_open).get(api_list))
}

pub use jiuzhu_app::cases::changes::ChangeInput;

/// Opens a change (`jiuzhu_app::cases::changes::open`).
pub async fn open(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ActOnCase>,
    display_name: &str,
    parent_id: CaseId,
    input: &ChangeInput,
) -> Result<CaseRecord, AppError> {
    Ok(jiuzhu_app::cases::changes::open(&state.app, g, display_name, parent_id, input).await?)
}

/// A benefit as it stands, with its status and end reason in Chinese.
#[derive(Debug, Serialize, ToSchema)]
pub struct BenefitOut {
    pub case_id: CaseId,
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub household_id: jiuzhu_domain::HouseholdId,
    /// active | suspended | ended
    pub status: String,
    pub status_label: &'static str,
    pub monthly_amount: String,
    pub start_month: Option<String>,
    pub amount_from: Option<String>,
    pub suspended_from: Option<String>,
    pub last_paid_month: Option<String>,
    pub end_reason: Option<&'static str>,
    pub end_reason_label: Option<&'static str>,
    pub changed_by_case: Option<CaseId>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn benefit_out(b: &BenefitStatus) -> BenefitOut {
    BenefitOut {
        case_id: b.case_id,
        number: b.number.clone(),
        workflow: b.workflow.clone(),
        program: b.program.clone(),
        household_id: b.household_id,
        status: b.status.clone(),
        status_label: b.status_label(),
        monthly_amount: b.monthly_amount.to_string(),
        start_month: b.start_month.clone(),
        amount_from: b.amount_from.clone(),
        suspended_from: b.suspended_from.clone(),
        last_paid_month: b.last_paid_month.clone(),
        end_reason: b.end_reason.map(|r| r.as_str()),
        end_reason_label: b.end_reason.map(|r| r.label_zh()),
        changed_by_case: b.changed_by_case,
        updated_at: b.updated_at,
    }
}

/// A change case (调整/暂停/恢复/停止) with what it decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub case_id: CaseId,
    pub number: String,
    pub parent_case_id: CaseId,
    pub parent_number: String,
    pub household_id: jiuzhu_domain::HouseholdId,
    /// adjust | suspend | resume | stop
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub reason: String,
    pub stop_reason: Option<&'static str>,
    pub stop_reason_label: Option<&'static str>,
    pub warning_id: Option<i64>,
    pub status: String,
    pub status_label: &'static str,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
    pub outcome: Option<ChangeOutcomeOut>,
}

/// What an approved change decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOutcomeOut {
    pub decided_on: NaiveDate,
    pub effective_month: Option<String>,
    pub last_paid_month: Option<String>,
    pub amount_before: String,
    pub amount_after: String,
    pub letter_number: Option<String>,
}

fn change_out(c: &ChangeRecord) -> ChangeOut {
    ChangeOut {
        case_id: c.case_id,
        number: c.number.clone(),
        parent_case_id: c.parent_case_id,
        parent_number: c.parent_number.clone(),
        household_id: c.household_id,
        kind: c.kind.as_str(),
        kind_label: c.kind.label_zh(),
        reason: c.reason.clone(),
        stop_reason: c.stop_reason.map(|r| r.as_str()),
        stop_reason_label: c.stop_reason.map(|r| r.label_zh()),
        warning_id: c.warning_id,
        status: c.status.to_string(),
        status_label: c.status.label_zh(),
        created_at: c.created_at,
        created_by: c.created_by.clone(),
        outcome: c.outcome.as_ref().map(|o| ChangeOutcomeOut {
            decided_on: o.decided_on,
            effective_month: o.effective_month.clone(),
            last_paid_month: o.last_paid_month.clone(),
            amount_before: o.amount_before.to_string(),
            amount_after: o.amount_after.to_string(),
            letter_number: o.letter_number.clone(),
        }),
    }
}

/// An approved case's benefit and its changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangesOut {
    pub benefit: Option<BenefitOut>,
    pub changes: Vec<ChangeOut>,
}

/// Opens a change (调整/暂停/恢复/停止) on an approved case: `{"kind", "reason", "stop_reason",
/// "home_check"}`. The township reviewer or window clerk who opens it completes 变更发起 at once;
/// 入户核实 follows when asked for, then 审核确认 at the confirming level. Answer 201: the change
/// case (as `GET /api/v1/cases/{id}`). 422 when the benefit's status does not allow the kind
/// (`CHANGE_KIND_NOT_APPLICABLE`), a change is already open (`CHANGE_ALREADY_OPEN`), the case is
/// not approved, or reason / stop reason are missing.
#[utoipa::path(post, path = "/api/v1/cases/{id}/changes", tag = "cases", params(("id" = i64, Path)),
    request_body = ChangeInput,
    responses((status = 201, body = crate::cases::CaseOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_open(
    State(state): State<AppState>,
    a: Authorized<ActOnCase>,
    Path(id): Path<CaseId>,
    JsonBody(input): JsonBody<ChangeInput>,
) -> Result<Response, ApiError> {
    let c = open(&state, &a.grant, &a.auth.user().display_name, id, &input).await?;
    let body = crate::cases::full_case(&state, &a.auth, c.id).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The benefit status of an approved case (`active` 正常发放 / `suspended` 暂停发放 / `ended`
/// 已停止, amount, months) and its changes: `{"benefit", "changes": [..]}`.
#[utoipa::path(get, operation_id = "list_case_changes", path = "/api/v1/cases/{id}/changes", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = ChangesOut), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_list(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(id): Path<CaseId>,
) -> Result<Json<ChangesOut>, ApiError> {
    state
        .app
        .get_case(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let benefit = state.app.benefit_status(&a.grant, id).await?;
    let changes = state.app.case_changes(&a.grant, id).await?;
    Ok(Json(ChangesOut {
        benefit: benefit.as_ref().map(benefit_out),
        changes: changes.iter().map(change_out).collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeForm {
    kind: String,
    reason: String,
    stop_reason: String,
    home_check: String,
}

async fn change_submit(
    State(state): State<AppState>,
    a: Authorized<ActOnCase>,
    Path(id): Path<CaseId>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, PageError> {
    let input = ChangeInput {
        kind: f.kind,
        reason: f.reason,
        stop_reason: Some(f.stop_reason),
        home_check: !f.home_check.is_empty(),
    };
    match open(&state, &a.grant, &a.auth.user().display_name, id, &input).await {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(e) if matches!(e.status.as_u16(), 403 | 422) => {
            let why = if e.fields.is_empty() {
                e.message.clone()
            } else {
                e.fields
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(";")
            };
            let msg = format!("变更未发起:{why}");
            let page = crate::cases::show(&state, &a.auth, id, None, msg).await?;
            Ok(crate::views::render_status(e.status, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(api_open, api_list), components(schemas(ChangeInput)))]
pub struct ChangesApiDoc;

// ---- the case page ----------------------------------------------------------------------------

pub struct BenefitRow {
    pub status: String,
    pub status_label: String,
    pub amount: String,
    pub start_month: String,
    pub amount_from: String,
    pub suspended_from: String,
    pub last_paid_month: String,
    pub end_reason: String,
}

impl BenefitRow {
    pub fn of(b: &BenefitStatus) -> BenefitRow {
        BenefitRow {
            status: b.status.clone(),
            status_label: b.status_label().into(),
            amount: b.monthly_amount.to_string(),
            start_month: b.start_month.clone().unwrap_or_default(),
            amount_from: b.amount_from.clone().unwrap_or_default(),
            suspended_from: b.suspended_from.clone().unwrap_or_default(),
            last_paid_month: b.last_paid_month.clone().unwrap_or_default(),
            end_reason: b
                .end_reason
                .map(|r| r.label_zh().to_string())
                .unwrap_or_default(),
        }
    }
}

pub struct ChangeRow {
    pub case_id: CaseId,
    pub number: String,
    pub kind_label: String,
    pub status_label: String,
    pub outcome: String,
}

pub struct ThisChange {
    pub kind_label: String,
    pub reason: String,
    pub stop_reason: String,
    pub parent_case_id: CaseId,
    pub parent_number: String,
    pub warning_id: Option<i64>,
    pub outcome: String,
}

/// What the case page shows about changes.
pub struct ChangeView {
    pub benefit: Option<BenefitRow>,
    pub changes: Vec<ChangeRow>,
    pub can_open: bool,
    pub kinds: Vec<(String, String)>,
    pub stop_reasons: Vec<(String, String)>,
    pub this_change: Option<ThisChange>,
}

/// One sentence for what an approved change decided.
pub fn outcome_text(c: &ChangeRecord) -> String {
    let Some(o) = &c.outcome else {
        return String::new();
    };
    let when = match (&o.last_paid_month, &o.effective_month) {
        (Some(last), _) => format!("最后发放月份 {last},此后停止发放"),
        (None, Some(m)) => match c.kind {
            ChangeKind::Adjust => format!(
                "月救助金额由 {} 元调整为 {} 元,自 {m} 起",
                o.amount_before, o.amount_after
            ),
            ChangeKind::Suspend => format!("自 {m} 起暂停发放"),
            _ => format!("自 {m} 起恢复发放,月救助金额 {} 元", o.amount_after),
        },
        (None, None) => String::new(),
    };
    format!(
        "{} 确认{}{when}",
        o.decided_on,
        o.letter_number
            .as_deref()
            .map(|n| format!("({n})"))
            .unwrap_or_default()
    )
}

pub async fn case_view(
    state: &AppState,
    actor: &Actor,
    c: &CaseRecord,
) -> Result<Option<ChangeView>, AppError> {
    let read = actor.grant::<ReadCases>()?;
    let this = state.app.case_change(&read, c.id).await?;
    let benefit = state.app.benefit_status(&read, c.id).await?;
    if this.is_none() && benefit.is_none() {
        return Ok(None);
    }
    let changes = state.app.case_changes(&read, c.id).await?;
    let can_open = benefit.as_ref().is_some_and(|b| b.status != "ended")
        && actor.may(jiuzhu_domain::Action::ActOnCase)
        && !changes.iter().any(|x| x.status == CaseStatus::Open);
    Ok(Some(ChangeView {
        benefit: benefit.as_ref().map(BenefitRow::of),
        changes: changes
            .iter()
            .map(|x| ChangeRow {
                case_id: x.case_id,
                number: x.number.clone(),
                kind_label: x.kind.label_zh().into(),
                status_label: x.status.label_zh().into(),
                outcome: outcome_text(x),
            })
            .collect(),
        can_open,
        kinds: ChangeKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label_zh().to_string()))
            .collect(),
        stop_reasons: StopReason::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label_zh().to_string()))
            .collect(),
        this_change: this.as_ref().map(|t| ThisChange {
            kind_label: t.kind.label_zh().into(),
            reason: t.reason.clone(),
            stop_reason: t
                .stop_reason
                .map(|r| r.label_zh().to_string())
                .unwrap_or_default(),
            parent_case_id: t.parent_case_id,
            parent_number: t.parent_number.clone(),
            warning_id: t.warning_id,
            outcome: outcome_text(t),
        }),
    }))
}

// ---- letters and the filing list ----------------------------------------------------------------

/// The filing list's labels of an entry: 新增 or the change (调整/暂停/恢复/停保), and for a
/// stop its reason.
pub fn filing_labels(f: &jiuzhu_app::records::FilingEntry) -> (String, String) {
    let kind = match f.change_kind.as_deref().and_then(ChangeKind::parse) {
        None => "新增".to_string(),
        Some(ChangeKind::Stop) => "停保".to_string(),
        Some(k) => k.label_zh().to_string(),
    };
    let stop = f
        .stop_reason
        .as_deref()
        .and_then(StopReason::parse)
        .map(|r| r.label_zh().to_string())
        .unwrap_or_default();
    (kind, stop)
}

/// The household page's benefit rows; empty for users who may not read cases.
pub async fn household_rows(
    state: &AppState,
    actor: &Actor,
    household: jiuzhu_domain::HouseholdId,
) -> Result<Vec<(i64, String, String, BenefitRow)>, AppError> {
    let Ok(read) = actor.grant::<ReadCases>() else {
        return Ok(Vec::new());
    };
    Ok(state
        .app
        .household_benefits(&read, household)
        .await?
        .iter()
        .map(|b| {
            (
                b.case_id,
                b.number.clone(),
                b.program.clone(),
                BenefitRow::of(b),
            )
        })
        .collect())
}
