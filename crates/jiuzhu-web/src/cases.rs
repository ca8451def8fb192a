//! Cases (docs/cases.md): intake at the one window, the case page with its timeline and step
//! actions, each user's task queue, and the decision that asks the policy engine — as pages and
//! as `/api/v1/cases…`, `/api/v1/tasks`.
//!
//! The procedure is `jiuzhu-workflow`'s: this module loads the case, runs the pure state machine
//! with the injected clock, the working-day calendar and the time limits of the policy in force,
//! and hands the result to `Store::transition_case`, which writes it only if nobody acted
//! meanwhile (revision). Role and level checks of a step are the workflow's, so its Chinese
//! messages are shown as they are.

use jiuzhu_domain::case::CaseStatus;
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::{
    CaseEvent, CaseFlags, CaseId, CaseQuery, CaseRecord, PersonQuery, TaskQuery, TaskRow,
};
use jiuzhu_domain::access::{ActOnCase, ReadCases, ReadRegistry, RegisterApplication};
use jiuzhu_domain::{Actor, DivisionCode, FieldError, HouseholdId, PersonId};
use jiuzhu_workflow::workflow::record_label;
use jiuzhu_workflow::{
    classify_due, ActingLevel, Attachment, CaseState, Urgency, WorkCalendar, Workflow,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, render_status, Nav};
use crate::AppState;

/// A step is "due soon" when at most this many working days remain.
const WARN_WORKING_DAYS: u32 = 2;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list_page))
        .route("/cases/new", get(new_page).post(new_submit))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/act", post(act_submit))
        .route("/cases/{id}/assist-payment", post(assist_payment_submit))
        .route("/tasks", get(tasks_page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(api_list).post(api_register))
        .route("/cases/{id}", get(api_get))
        .route("/cases/{id}/actions", post(api_act))
        .route("/tasks", get(api_tasks))
}

// ---- the procedure (jiuzhu_app::cases) ---------------------------------------------------------

pub use jiuzhu_app::cases::{
    acting_level, case_division, case_state, proposed_amount, workflow, ActionInput, IntakeInput,
};

/// Registers an application (`jiuzhu_app::cases::register`).
pub async fn register(
    state: &AppState,
    g: &jiuzhu_domain::Grant<RegisterApplication>,
    display_name: &str,
    input: &IntakeInput,
) -> Result<CaseRecord, AppError> {
    Ok(jiuzhu_app::cases::register(&state.app, g, display_name, input).await?)
}

/// Acts on a step (`jiuzhu_app::cases::act`).
pub async fn act(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ActOnCase>,
    display_name: &str,
    id: CaseId,
    input: &ActionInput,
) -> Result<CaseRecord, AppError> {
    Ok(jiuzhu_app::cases::act(&state.app, g, display_name, id, input).await?)
}

// ---- views ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenStepOut {
    pub step: String,
    pub label: String,
    pub level: String,
    pub level_label: String,
    pub opened_on: NaiveDate,
    pub due: Option<NaiveDate>,
    /// The due date lies in a year whose holidays are not yet announced (暂定).
    pub due_provisional: bool,
    pub not_before: Option<NaiveDate>,
    /// running | on_time | due_soon | overdue
    pub urgency: String,
    pub urgency_label: String,
    /// The time limit is the workflow file's default (no policy value).
    pub default_limit: bool,
    pub roles: Vec<String>,
    pub outcomes: Vec<String>,
    pub needs_attached: Vec<String>,
    pub min_investigators: u32,
}

fn urgency_of(
    cal: &WorkCalendar,
    due: Option<NaiveDate>,
    not_before: Option<NaiveDate>,
    today: NaiveDate,
) -> Urgency {
    let r = match (due, not_before) {
        (None, _) => Ok(Urgency::OnTime),
        (Some(_), Some(nb)) if today < nb => Ok(Urgency::Running),
        (Some(end), Some(_)) => cal
            .add_working_days(end, 1)
            .and_then(|close_by| classify_due(close_by, today, cal, WARN_WORKING_DAYS)),
        (Some(due), None) => classify_due(due, today, cal, WARN_WORKING_DAYS),
    };
    // A date the calendar does not cover cannot be classified; overdue is the safe side.
    r.unwrap_or(Urgency::Overdue)
}

fn urgency_code(u: Urgency) -> String {
    serde_json::to_value(u)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn open_steps_out(
    state: &AppState,
    cal: &WorkCalendar,
    wf: &Workflow,
    cs: &CaseState,
) -> Vec<OpenStepOut> {
    let today = state.clock.today();
    cs.open
        .iter()
        .map(|o| {
            let def = wf.step(&o.step);
            let u = urgency_of(cal, o.due, o.not_before, today);
            OpenStepOut {
                step: o.step.clone(),
                label: o.label.clone(),
                level: o.level.as_str().into(),
                level_label: o.level.label_zh().into(),
                opened_on: o.opened_on,
                due: o.due,
                due_provisional: o.due.is_some_and(|d| cal.is_provisional(d)),
                not_before: o.not_before,
                urgency: urgency_code(u),
                urgency_label: u.label_zh().into(),
                default_limit: o.limit.as_ref().is_some_and(|l| l.fallback),
                roles: def
                    .map(|d| d.roles.iter().map(|r| r.as_str().to_string()).collect())
                    .unwrap_or_default(),
                outcomes: def
                    .map(|d| {
                        d.outcomes
                            .iter()
                            .filter_map(|x| {
                                serde_json::to_value(x)
                                    .ok()
                                    .and_then(|v| v.as_str().map(String::from))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                needs_attached: def.map(|d| d.needs_attached.clone()).unwrap_or_default(),
                min_investigators: def.map(|d| d.min_investigators).unwrap_or(0),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskOut {
    pub case_id: CaseId,
    pub number: String,
    pub program: String,
    pub applicant_name: String,
    pub division: String,
    pub step: String,
    pub label: String,
    pub level: String,
    pub opened_on: NaiveDate,
    pub due: Option<NaiveDate>,
    pub due_provisional: bool,
    /// running | on_time | due_soon | overdue
    pub urgency: String,
    pub urgency_label: String,
    /// An overdue step of the level below, listed for escalation (not the user's own step).
    pub escalated: bool,
}

fn level_below(l: ActingLevel) -> Option<ActingLevel> {
    match l {
        ActingLevel::County => Some(ActingLevel::Township),
        ActingLevel::Township => Some(ActingLevel::Village),
        _ => None,
    }
}

pub async fn tasks(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ActOnCase>,
) -> Result<Vec<TaskOut>, AppError> {
    let actor = g.actor();
    let level = acting_level(actor)?;
    let today = state.clock.today();
    // Each task on the calendar of its case's place (local holidays are local).
    let calendars = state.app.params().await?.calendars.clone();
    let rows: Vec<TaskRow> = state
        .app
        .task_queue(
            g,
            &TaskQuery {
                level: level.as_str().into(),
                department: actor.department.map(|d| d.as_str().to_string()),
                below_level: level_below(level).map(|l| l.as_str().to_string()),
                overdue_before: today,
            },
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let cal = match DivisionCode::parse(&r.division) {
                Ok(d) => calendars.for_division(&d).ok()?,
                Err(_) => calendars.calendar.clone(),
            };
            let u = urgency_of(&cal, r.due, r.not_before, today);
            // Escalation lists only what is really overdue (a notice has a day to be closed).
            if r.escalated && u != Urgency::Overdue {
                return None;
            }
            Some(TaskOut {
                case_id: r.case_id,
                number: r.number,
                program: r.program,
                applicant_name: r.applicant_name,
                division: r.division,
                step: r.step,
                label: r.label,
                level: r.level,
                opened_on: r.opened_on,
                due: r.due,
                due_provisional: r.due.is_some_and(|d| cal.is_provisional(d)),
                urgency: urgency_code(u),
                urgency_label: u.label_zh().into(),
                escalated: r.escalated,
            })
        })
        .collect())
}

// ---- API --------------------------------------------------------------------------------------

/// A case as the API answers it: the summary, the open steps with due dates and urgency, the
/// case-level deadlines, the timeline and the decisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseOut {
    pub id: CaseId,
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub household_id: HouseholdId,
    pub household_code: String,
    pub applicant_id: PersonId,
    pub applicant_name: String,
    pub applicant_id_masked: String,
    pub division_filed: String,
    pub division_responsible: String,
    pub department: Option<String>,
    pub hukou_elsewhere: bool,
    pub flags: CaseFlags,
    /// open | approved | refused
    pub status: String,
    pub status_label: &'static str,
    pub revision: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
    pub open_steps: Vec<OpenStepOut>,
    /// Case-level deadlines: `{id, label, started_on, due, limit, met_on}` each.
    #[schema(value_type = Vec<Object>)]
    pub deadlines: Vec<jiuzhu_workflow::DeadlineState>,
    /// Flags set by the steps so far (e.g. `disputed`).
    pub flags_active: Vec<String>,
    pub events: Vec<CaseEvent>,
    pub decisions: Vec<DecisionOut>,
}

/// A decision with what it was computed on: the identity numbers in its input snapshot masked,
/// disability, serious illness and financial assets as `***` (as the asset test's amount in its
/// explanation).
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    /// approved | refused
    pub outcome: String,
    pub decided_on: NaiveDate,
    pub monthly_amount: String,
    pub start_month: Option<String>,
    pub reasons: Vec<String>,
    /// The policy files and revisions the decision used.
    #[schema(value_type = Object)]
    pub policy_versions: Value,
    /// The engine's explanation steps (docs/calc.md).
    #[schema(value_type = Vec<Object>)]
    pub explanation: Value,
    /// The engine input the decision was made on (docs/calc.md), masked.
    #[schema(value_type = Object)]
    pub input_snapshot: Value,
    pub decided_by: String,
}

/// Registers an application at the one window (一门受理). Window clerks only.
///
/// Body: `{"workflow": "dibao", "household_id", "applicant_id", "documents": ["id_card",
/// "verification_authorisation"], "staff_relative", "urgent", "protected", "opinion"}`. With
/// all the intake step's documents (一证一书) the intake step is completed at once and
/// verification opens. Answer: the case (see `GET /api/v1/cases/{id}`).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = IntakeInput,
    responses((status = 201, body = CaseOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_register(
    State(state): State<AppState>,
    a: Authorized<RegisterApplication>,
    JsonBody(input): JsonBody<IntakeInput>,
) -> Result<Response, ApiError> {
    let c = register(&state, &a.grant, &a.auth.user().display_name, &input).await?;
    let body = full_case(&state, &a.auth, c.id).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct CaseListParams {
    /// Workflow id (dibao, tekun, …).
    pub workflow: Option<String>,
    /// open | approved | refused
    pub status: Option<String>,
    /// Responsible division prefix.
    pub division: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn case_query(p: &CaseListParams) -> Result<CaseQuery, AppError> {
    let division = match p
        .division
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(d) => Some(DivisionCode::parse(d).map_err(|_| {
            AppError::invalid(vec![FieldError::new(
                "division",
                "DIVISION_INVALID",
                format!("区划代码“{d}”无效"),
            )])
        })?),
        None => None,
    };
    let status = match p.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(CaseStatus::parse(s).ok_or_else(|| {
            AppError::invalid(vec![FieldError::new(
                "status",
                "CASE_STATUS",
                format!(
                    "案件状态无效,应为{}",
                    CaseStatus::ALL
                        .iter()
                        .map(|c| c.label_zh())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            )])
        })?),
        None => None,
    };
    Ok(CaseQuery {
        workflow: p.workflow.clone().filter(|s| !s.is_empty()),
        status,
        division,
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    })
}

/// Cases in the caller's jurisdiction (responsible or filing division), newest first.
///
/// Answer: `{"items": [{"id", "number", "workflow", "program", "applicant_name",
/// "household_code", "division_responsible", "status", "status_label", "created_at",
/// "open_steps": [{"label", "due"}]}], "total"}`.
#[utoipa::path(get, operation_id = "list_cases", path = "/api/v1/cases", tag = "cases", params(CaseListParams),
    responses((status = 200, body = CaseList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_list(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Query(p): Query<CaseListParams>,
) -> Result<Json<CaseList>, ApiError> {
    let page = state.app.list_cases(&a.grant, &case_query(&p)?).await?;
    let items = page
        .items
        .iter()
        .map(|c| CaseListItem {
            id: c.id,
            number: c.number.clone(),
            workflow: c.workflow.clone(),
            program: c.program.clone(),
            applicant_name: c.applicant_name.clone(),
            household_code: c.household_code.clone(),
            division_responsible: c.division_responsible.clone(),
            status: c.status.to_string(),
            status_label: c.status.label_zh(),
            created_at: c.created_at,
            open_steps: c
                .open_steps
                .iter()
                .map(|(label, due)| StepDue {
                    label: label.clone(),
                    due: *due,
                })
                .collect(),
        })
        .collect();
    Ok(Json(CaseList {
        items,
        total: page.total,
    }))
}

/// A case as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseListItem {
    pub id: CaseId,
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub applicant_name: String,
    pub household_code: String,
    pub division_responsible: String,
    pub status: String,
    pub status_label: &'static str,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub open_steps: Vec<StepDue>,
}

/// An open step's label and due date.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepDue {
    pub label: String,
    pub due: Option<NaiveDate>,
}

/// A page of cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseListItem>,
    pub total: i64,
}

const MASK: &str = "***";

/// A decision's engine input as a case's readers get it: identity numbers masked, disability,
/// serious illness and the financial assets as `***` — the same data the person and household
/// pages show only through an audited reveal.
fn masked_snapshot(v: &Value) -> Value {
    let mut v = v.clone();
    for m in v["members"].as_array_mut().into_iter().flatten() {
        if let Some(id) = m["id_number"].as_str() {
            m["id_number"] = json!(jiuzhu_domain::id_number::mask_id_str(id));
        }
        for k in ["disability", "serious_illness"] {
            if !m[k].is_null() {
                m[k] = json!(MASK);
            }
        }
    }
    if !v["assets"]["financial"].is_null() {
        v["assets"]["financial"] = json!(MASK);
    }
    v
}

/// A decision's explanation with the asset test's financial amount as `***` (its input, formula
/// and sentence); the decision letter states it to the applicant.
fn masked_explanation(v: &Value) -> Value {
    let mut v = v.clone();
    for step in v.as_array_mut().into_iter().flatten() {
        let Some(amount) = step["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["name"] == "financial_assets")
            .and_then(|i| i["value"].as_str())
            .map(String::from)
        else {
            continue;
        };
        for i in step["inputs"].as_array_mut().into_iter().flatten() {
            if i["name"] == "financial_assets" {
                i["value"] = json!(MASK);
            }
        }
        for k in ["formula", "text"] {
            if let Some(t) = step[k].as_str() {
                step[k] =
                    json!(t.replace(&format!("金融资产 {amount}"), &format!("金融资产 {MASK}")));
            }
        }
    }
    v
}

pub(crate) async fn full_case(
    state: &AppState,
    auth: &Auth,
    id: CaseId,
) -> Result<CaseOut, AppError> {
    let read = auth.actor().grant::<ReadCases>()?;
    let c = state
        .app
        .get_case(&read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let wf = workflow(&state.app, &c.workflow)?;
    let cs = case_state(&c)?;
    let events = state.app.case_events(&read, id).await?;
    let decisions = state.app.case_decisions(&read, id).await?;
    let cal = state
        .app
        .params()
        .await?
        .calendars
        .for_division(&case_division(&c)?)?;
    Ok(CaseOut {
        open_steps: open_steps_out(state, &cal, wf, &cs),
        deadlines: cs.deadlines.clone(),
        flags_active: cs.flags.iter().cloned().collect(),
        events,
        decisions: decisions
            .iter()
            .map(|d| DecisionOut {
                outcome: d.decision.outcome.as_str().to_string(),
                decided_on: d.decision.decided_on,
                monthly_amount: d.decision.monthly_amount.to_string(),
                start_month: d.decision.start_month.clone(),
                reasons: d.decision.reasons.clone(),
                policy_versions: d.decision.policy_versions.clone(),
                explanation: masked_explanation(&d.decision.explanation),
                input_snapshot: masked_snapshot(&d.decision.input_snapshot),
                decided_by: d.decided_by.clone(),
            })
            .collect(),
        id: c.id,
        number: c.number.clone(),
        workflow: c.workflow.clone(),
        program: c.program.clone(),
        household_id: c.household_id,
        household_code: c.household_code.clone(),
        applicant_id: c.applicant_id,
        applicant_name: c.applicant_name.clone(),
        applicant_id_masked: c.applicant_id_masked.clone(),
        division_filed: c.division_filed.clone(),
        division_responsible: c.division_responsible.clone(),
        department: c.department.clone(),
        hukou_elsewhere: c.hukou_elsewhere,
        flags: c.flags,
        status: c.status.to_string(),
        status_label: c.status.label_zh(),
        revision: c.revision,
        created_at: c.created_at,
        created_by: c.created_by.clone(),
    })
}

/// A case: summary, open steps with due dates and urgency, the timeline and the decisions.
///
/// Answer: the case fields plus `"open_steps": [{"step", "label", "level", "due",
/// "due_provisional", "urgency", …}], "deadlines", "events": [{"seq", "step", "label",
/// "action", "user_name", "display_name", "role", "at", "on", "opinion", "investigators",
/// "attachments", "reasons", "late"}], "decisions": [{"outcome", "monthly_amount",
/// "start_month", "policy_versions", "explanation", "input_snapshot", "reasons"}]`; in the
/// input snapshot identity numbers are masked and disability, serious illness and financial
/// assets are `"***"`, as is the asset test's amount in the explanation.
#[utoipa::path(get, operation_id = "get_case", path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseOut), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_get(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(id): Path<CaseId>,
) -> Result<Json<CaseOut>, ApiError> {
    Ok(Json(full_case(&state, &a.auth, id).await?))
}

/// Acts on an open step: `{"revision", "step", "action": "complete|refuse|return|object",
/// "opinion", "investigators": [..], "attachments": [{"kind", "id"}], "reasons": [..],
/// "set_flags": [..]}`; an attachment id `doc:<id>` picks a filed document of the case's household
/// or its members (checked against the user's scope). Completing the decision step approves: the amount comes from the policy
/// engine and payment starts the month after (R-DB-8). A step of another role or level is a 403,
/// a workflow refusal a 422 with its Chinese message, a stale `revision` a 409.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", params(("id" = i64, Path)),
    request_body = ActionInput,
    responses((status = 200, body = CaseOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 409, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_act(
    State(state): State<AppState>,
    a: Authorized<ActOnCase>,
    Path(id): Path<CaseId>,
    JsonBody(input): JsonBody<ActionInput>,
) -> Result<Json<CaseOut>, ApiError> {
    act(&state, &a.grant, &a.auth.user().display_name, id, &input).await?;
    Ok(Json(full_case(&state, &a.auth, id).await?))
}

/// The caller's queue: open steps they may act on, by due date, with `urgency` (`due_soon`
/// 即将到期, `overdue` 已超期); for township and county users also the overdue steps of the
/// level below (`escalated: true`). Answer: `{"today", "items": [TaskOut]}`.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "cases",
    responses((status = 200, body = TaskList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_tasks(
    State(state): State<AppState>,
    a: Authorized<ActOnCase>,
) -> Result<Json<TaskList>, ApiError> {
    let items = tasks(&state, &a.grant).await?;
    Ok(Json(TaskList {
        today: state.clock.today(),
        items,
    }))
}

/// The caller's queue as of `today`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub today: NaiveDate,
    pub items: Vec<TaskOut>,
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(api_register, api_list, api_get, api_act, api_tasks))]
pub struct CasesApiDoc;

// ---- pages ------------------------------------------------------------------------------------

fn workflow_options(state: &AppState, selected: &str) -> Vec<(String, String, bool)> {
    state
        .app
        .workflows()
        .iter()
        .filter(|w| w.changes.is_empty())
        .map(|w| (w.id.clone(), w.program.clone(), w.id == selected))
        .collect()
}

struct CaseRow {
    id: CaseId,
    number: String,
    program: String,
    applicant: String,
    household: String,
    division: String,
    status: String,
    steps: String,
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<CaseRow>,
    total: i64,
    workflows: Vec<(String, String, bool)>,
    statuses: Vec<(String, String, bool)>,
    can_register: bool,
}

async fn list_page(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Query(p): Query<CaseListParams>,
) -> Result<Response, PageError> {
    let page = state.app.list_cases(&a.grant, &case_query(&p)?).await?;
    let status = p.status.clone().unwrap_or_default();
    Ok(render(&ListPage {
        nav: Nav::new(&a.auth, "案件"),
        rows: page
            .items
            .into_iter()
            .map(|c| CaseRow {
                id: c.id,
                number: c.number,
                program: c.program,
                applicant: c.applicant_name,
                household: c.household_code,
                division: c.division_responsible,
                status: c.status.label_zh().into(),
                steps: c
                    .open_steps
                    .iter()
                    .map(|(l, d)| match d {
                        Some(d) => format!("{l}({d} 前)"),
                        None => l.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
            })
            .collect(),
        total: page.total,
        workflows: workflow_options(&state, p.workflow.as_deref().unwrap_or("")),
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.to_string(),
                    s.label_zh().to_string(),
                    s.as_str() == status,
                )
            })
            .collect(),
        can_register: a.actor().may(jiuzhu_domain::Action::RegisterApplication),
    }))
}

struct Candidate {
    person_id: PersonId,
    name: String,
    id_number: String,
    household_id: HouseholdId,
    household_code: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewPage {
    nav: Nav,
    q: String,
    candidates: Vec<Candidate>,
    searched: bool,
    workflows: Vec<(String, String, bool)>,
    errors: Vec<String>,
    id_card: bool,
    authorisation: bool,
    staff_relative: bool,
    urgent: bool,
    protected: bool,
    opinion: String,
    /// The person an outreach lead named (转为申请) when no household holds them yet: their name.
    unhoused: Option<String>,
}

/// The applicant a link names (`?person=`, from an outreach lead's 转为申请): the person as the
/// one candidate, chosen, when a household holds them; else their name, to register one first.
async fn named_candidate(
    state: &AppState,
    actor: &Actor,
    id: PersonId,
) -> Result<(Vec<Candidate>, Option<String>), AppError> {
    let read = actor.grant::<ReadRegistry>()?;
    let Some(person) = state.app.get_person(&read, id).await? else {
        return Ok((Vec::new(), None));
    };
    let page = state
        .app
        .search_persons(
            &read,
            &PersonQuery {
                text: Some(person.id_number.to_string()),
                id_prefix: None,
                division: None,
                limit: 5,
                offset: 0,
            },
        )
        .await?;
    let housed: Vec<Candidate> = page
        .items
        .into_iter()
        .filter(|p| p.id == id)
        .filter_map(|p| candidate(p, true))
        .collect();
    let unhoused = housed.is_empty().then(|| person.facts.name.clone());
    Ok((housed, unhoused))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewParams {
    q: String,
    person: Option<PersonId>,
}

async fn candidates(
    state: &AppState,
    actor: &Actor,
    q: &str,
    selected: Option<PersonId>,
) -> Result<Vec<Candidate>, AppError> {
    if q.trim().is_empty() {
        return Ok(vec![]);
    }
    let read = actor.grant::<ReadRegistry>()?;
    let terms = crate::id_lookup::search_terms(state, actor, Some(q.trim().to_string()))?;
    let page = state
        .app
        .search_persons(
            &read,
            &PersonQuery {
                text: terms.text,
                id_prefix: terms.id_prefix,
                division: None,
                limit: 20,
                offset: 0,
            },
        )
        .await?;
    let ids: Vec<i64> = page.items.iter().map(|p| p.id).collect();
    crate::id_lookup::audit(state, actor, &terms.query, "/cases/new", "person", &ids).await?;
    Ok(page
        .items
        .into_iter()
        .filter_map(|p| {
            let chosen = Some(p.id) == selected;
            candidate(p, chosen)
        })
        .collect())
}

/// A person found as an applicant: only one a household holds can apply (with it).
fn candidate(p: jiuzhu_app::records::PersonSummary, selected: bool) -> Option<Candidate> {
    Some(Candidate {
        person_id: p.id,
        name: p.name,
        id_number: p.id_number.masked(),
        household_id: p.household_id?,
        household_code: p.household_code.unwrap_or_default(),
        selected,
    })
}

async fn new_page(
    State(state): State<AppState>,
    a: Authorized<RegisterApplication>,
    Query(p): Query<NewParams>,
) -> Result<Response, PageError> {
    let (candidates, unhoused) = match p.person {
        Some(id) if p.q.trim().is_empty() => named_candidate(&state, a.actor(), id).await?,
        _ => (candidates(&state, a.actor(), &p.q, p.person).await?, None),
    };
    Ok(render(&NewPage {
        unhoused,
        nav: Nav::new(&a.auth, "受理申请"),
        searched: !p.q.trim().is_empty(),
        q: p.q,
        candidates,
        workflows: workflow_options(&state, "dibao"),
        errors: vec![],
        id_card: true,
        authorisation: true,
        staff_relative: false,
        urgent: false,
        protected: false,
        opinion: String::new(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewForm {
    q: String,
    /// `person_id:household_id`
    applicant: String,
    workflow: String,
    id_card: Option<String>,
    authorisation: Option<String>,
    staff_relative: Option<String>,
    urgent: Option<String>,
    protected: Option<String>,
    opinion: String,
}

async fn new_submit(
    State(state): State<AppState>,
    a: Authorized<RegisterApplication>,
    Form(f): Form<NewForm>,
) -> Result<Response, PageError> {
    let mut documents = Vec::new();
    if f.id_card.is_some() {
        documents.push("id_card".to_string());
    }
    if f.authorisation.is_some() {
        documents.push("verification_authorisation".to_string());
    }
    let pick = f
        .applicant
        .split_once(':')
        .and_then(|(p, h)| Some((p.parse::<PersonId>().ok()?, h.parse::<HouseholdId>().ok()?)));
    let result = match pick {
        None => Err(AppError::invalid(vec![FieldError::new(
            "applicant",
            "REQUIRED",
            "请先查询并选择申请人",
        )])),
        Some((person, household)) => {
            let input = IntakeInput {
                workflow: f.workflow.clone(),
                household_id: household,
                applicant_id: person,
                documents,
                staff_relative: f.staff_relative.is_some(),
                urgent: f.urgent.is_some(),
                protected: f.protected.is_some(),
                opinion: f.opinion.clone(),
            };
            register(&state, &a.grant, &a.auth.user().display_name, &input).await
        }
    };
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(e) if e.status == StatusCode::INTERNAL_SERVER_ERROR => Err(e.into()),
        Err(e) => {
            let selected = pick.map(|(p, _)| p);
            // A form opened from a lead (no search) keeps its applicant too.
            let (candidates, unhoused) = match selected {
                Some(id) if f.q.trim().is_empty() => named_candidate(&state, a.actor(), id).await?,
                _ => (candidates(&state, a.actor(), &f.q, selected).await?, None),
            };
            let mut errors = vec![e.message.clone()];
            errors.extend(e.fields.iter().skip(1).map(|x| x.message.clone()));
            Ok(render_status(
                e.status,
                &NewPage {
                    unhoused,
                    nav: Nav::new(&a.auth, "受理申请"),
                    searched: !f.q.trim().is_empty(),
                    q: f.q,
                    candidates,
                    workflows: workflow_options(&state, &f.workflow),
                    errors,
                    id_card: f.id_card.is_some(),
                    authorisation: f.authorisation.is_some(),
                    staff_relative: f.staff_relative.is_some(),
                    urgent: f.urgent.is_some(),
                    protected: f.protected.is_some(),
                    opinion: f.opinion,
                },
            ))
        }
    }
}

struct EventRow {
    seq: i64,
    label: String,
    action: String,
    who: String,
    at: String,
    opinion: String,
    investigators: String,
    attachments: Vec<AttachmentRow>,
    reasons: String,
    late: bool,
}

/// An attachment on the timeline; a filed document links to its page.
struct AttachmentRow {
    label: String,
    text: String,
    href: Option<String>,
}

struct StepForm {
    step: String,
    label: String,
    due: String,
    provisional: bool,
    urgency: String,
    urgency_label: String,
    level_label: String,
    roles: String,
    /// The current user's role is among the step's roles.
    mine: bool,
    can_complete: bool,
    can_refuse: bool,
    can_return: bool,
    can_object: bool,
    /// (kind, label, prefilled reference)
    records: Vec<(String, String, String)>,
    min_investigators: u32,
    error: String,
}

struct DecisionRow {
    outcome: String,
    decided_on: String,
    amount: String,
    start_month: String,
    reasons: String,
    policies: String,
    letter_number: String,
}

#[derive(Template)]
#[template(path = "cases/show.html")]
pub(crate) struct ShowPage {
    nav: Nav,
    c: CaseRecord,
    status: String,
    applicant_id_number: String,
    address: String,
    flags: Vec<String>,
    steps: Vec<StepForm>,
    events: Vec<EventRow>,
    decisions: Vec<DecisionRow>,
    deadlines: Vec<(String, String, String)>,
    message: String,
    /// 临时救助 only: the assist-first payments from the township's reserve fund.
    assist: Option<AssistView>,
    /// Filed documents of the case's household and members the user may pick on a step.
    docs: Vec<jiuzhu_app::cases::attachments::DocOption>,
    /// Benefit status and changes (调整/暂停/恢复/停止) of an approved case, or what a change
    /// case changes.
    change: Option<crate::changes::ChangeView>,
}

struct PaymentRow {
    kind: String,
    amount: String,
    balance_after: String,
    payee: String,
    voucher: String,
    who: String,
    on: String,
    at: String,
}

/// The reserve fund (备用金) as a 临时救助 case page shows it (R-LS-4).
struct AssistView {
    township: String,
    balance: String,
    minimum: String,
    low: bool,
    warning: &'static str,
    payments: Vec<PaymentRow>,
    /// The user may pay from the fund (township reviewer, county approver).
    can_pay: bool,
    payee: String,
    reason: String,
}

/// The assist-first payments of a 临时救助 case and its township's fund.
async fn assist_view(
    state: &AppState,
    actor: &Actor,
    c: &CaseRecord,
) -> Result<Option<AssistView>, AppError> {
    // Only a program the reserve fund pays first (the workflow file's `assist_first`).
    if !state
        .app
        .workflows()
        .get(&c.workflow)
        .is_some_and(|w| w.assist_first)
    {
        return Ok(None);
    }
    let Some(township) = DivisionCode::parse(&c.division_filed)
        .ok()
        .and_then(|d| d.township())
    else {
        return Ok(None);
    };
    let read = actor.grant::<ReadCases>()?;
    let funds = match state.app.reserve_funds(&read).await {
        // An actor bound to a department reads no fund.
        Err(jiuzhu_app::Error::Store(jiuzhu_app::records::StoreError::NotFound { .. })) => {
            return Ok(None)
        }
        other => other?,
    };
    let Some(fund) = funds.into_iter().find(|f| f.township == township) else {
        // A county or department user may see the case without the township's ledger.
        return Ok(None);
    };
    let min = jiuzhu_app::reserve_fund::minimum(&state.app, &township).await?;
    let entries = state
        .app
        .reserve_fund_entries(&read, &township, 1000)
        .await?;
    Ok(Some(AssistView {
        township: township.to_string(),
        balance: fund.balance.to_string(),
        minimum: min
            .map(|m| m.to_string())
            .unwrap_or_else(|| "未规定".into()),
        low: jiuzhu_app::reserve_fund::below(fund.balance, min),
        warning: jiuzhu_app::reserve_fund::LOW_BALANCE_WARNING,
        payments: entries
            .iter()
            .filter(|e| e.case_id == Some(c.id))
            .map(|e| PaymentRow {
                kind: e.kind.label_zh().into(),
                amount: e.amount.to_string(),
                balance_after: e.balance_after.to_string(),
                payee: format!(
                    "{} {}",
                    e.payee_name.as_deref().unwrap_or(""),
                    e.payee_id_masked.as_deref().unwrap_or("")
                )
                .trim()
                .to_string(),
                voucher: e.voucher.clone().unwrap_or_default(),
                who: e.recorded_by.clone(),
                on: e.on.to_string(),
                at: jiuzhu_domain::audit::format_time(e.recorded_at),
            })
            .collect(),
        can_pay: c.status == CaseStatus::Open
            && actor.may(jiuzhu_domain::Action::ManageReserveFund),
        payee: c.applicant_name.clone(),
        reason: format!("先行救助:案件 {}", c.number),
    }))
}

fn role_label(r: &str) -> String {
    jiuzhu_domain::Role::parse(r)
        .map(|r| r.label_zh().to_string())
        .unwrap_or_else(|| r.to_string())
}

fn action_label(a: &str) -> &'static str {
    match a {
        "completed" => "完成",
        "approved" => "确认",
        "refused" => "不予确认",
        "returned" => "退回",
        "objected" => "异议",
        _ => "",
    }
}

pub(crate) async fn show(
    state: &AppState,
    auth: &Auth,
    id: CaseId,
    error: Option<(&str, String)>,
    message: String,
) -> Result<ShowPage, AppError> {
    let actor = auth.actor();
    let read = actor.grant::<ReadCases>()?;
    let c = state
        .app
        .get_case(&read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let wf = workflow(&state.app, &c.workflow)?;
    let cs = case_state(&c)?;
    // The applicant as the case row has it (masked): the page needs no read of the register,
    // so a department officer sees the persons of the cases referred to it and nothing else.
    let reg = actor.grant::<ReadRegistry>().ok();
    let events = state.app.case_events(&read, id).await?;
    let decisions = state.app.case_decisions(&read, id).await?;
    let may_act = actor.may(jiuzhu_domain::Action::ActOnCase);
    let cal = state
        .app
        .params()
        .await?
        .calendars
        .for_division(&case_division(&c)?)?;
    let docs = if may_act && reg.is_some() {
        jiuzhu_app::cases::attachments::offered(&state.app, actor, &c).await?
    } else {
        vec![]
    };
    // The assist step's voucher is prefilled with the latest reserve-fund payment of the case.
    let voucher = jiuzhu_app::cases::attachments::assist_payments(&state.app, &read, &c)
        .await?
        .pop()
        .map(|(v, _)| v)
        .unwrap_or_default();
    let doc_links = doc_links(state, reg.as_ref(), &events).await?;
    let steps = step_forms(state, actor, (&cal, wf, &cs), error.as_ref(), &voucher);
    let mut flags: Vec<String> = cs
        .flags
        .iter()
        .map(|f| jiuzhu_workflow::workflow::flag_label(f).to_string())
        .collect();
    if c.hukou_elsewhere {
        flags.push("人户分离(已核查未在他处享受低保)".into());
    }
    let change = crate::changes::case_view(state, actor, &c).await?;
    Ok(ShowPage {
        change,
        nav: Nav::new(auth, &format!("案件 {}", c.number)),
        status: c.status.label_zh().into(),
        applicant_id_number: c.applicant_id_masked.clone(),
        address: c.household_address.clone(),
        flags,
        steps,
        events: event_rows(wf, &events, &doc_links),
        decisions: decisions.iter().map(decision_row).collect(),
        deadlines: cs
            .deadlines
            .iter()
            .map(|d| {
                (
                    d.label.clone(),
                    d.due.to_string(),
                    d.met_on
                        .map(|m| format!("{m} 完成"))
                        .unwrap_or_else(|| "进行中".into()),
                )
            })
            .collect(),
        message,
        assist: assist_view(state, actor, &c).await?,
        docs,
        c,
    })
}

/// The labels of the documents the timeline cites, by id (empty for one the reader may not see).
async fn doc_links(
    state: &AppState,
    reg: Option<&jiuzhu_domain::Grant<ReadRegistry>>,
    events: &[CaseEvent],
) -> Result<BTreeMap<i64, String>, AppError> {
    let mut doc_links: BTreeMap<i64, String> = BTreeMap::new();
    for e in events {
        for x in e.attachments.as_array().into_iter().flatten() {
            let Some(id) = x["id"]
                .as_str()
                .and_then(|i| i.strip_prefix(jiuzhu_app::cases::attachments::DOC_PREFIX))
                .and_then(|i| i.trim().parse::<i64>().ok())
            else {
                continue;
            };
            if let std::collections::btree_map::Entry::Vacant(slot) = doc_links.entry(id) {
                let doc = match reg {
                    Some(g) => state.app.get_document(g, id).await?,
                    None => None,
                };
                slot.insert(
                    doc.map(|d| jiuzhu_app::cases::attachments::doc_label(&d))
                        .unwrap_or_default(),
                );
            }
        }
    }
    Ok(doc_links)
}

/// The forms of the open steps: what the actor may do on each, with the step's error if the last
/// action on it was refused.
fn step_forms(
    state: &AppState,
    actor: &Actor,
    (cal, wf, cs): (&WorkCalendar, &Workflow, &CaseState),
    error: Option<&(&str, String)>,
    voucher: &str,
) -> Vec<StepForm> {
    let may_act = actor.may(jiuzhu_domain::Action::ActOnCase);
    open_steps_out(state, cal, wf, cs)
        .into_iter()
        .map(|o| {
            let mine = may_act && o.roles.iter().any(|r| r == actor.role.as_str());
            let has = |x: &str| mine && o.outcomes.iter().any(|y| y == x);
            StepForm {
                error: match error {
                    Some((s, m)) if *s == o.step => m.clone(),
                    _ => String::new(),
                },
                due: o.due.map(|d| d.to_string()).unwrap_or_default(),
                provisional: o.due_provisional,
                urgency: o.urgency.clone(),
                urgency_label: o.urgency_label.clone(),
                level_label: o.level_label.clone(),
                roles: o
                    .roles
                    .iter()
                    .map(|r| role_label(r))
                    .collect::<Vec<_>>()
                    .join("、"),
                can_complete: has("complete"),
                can_refuse: has("refuse"),
                can_return: has("return"),
                can_object: has("object"),
                records: o
                    .needs_attached
                    .iter()
                    .map(|k| {
                        let value = if k == jiuzhu_app::cases::attachments::VOUCHER_RECORD {
                            voucher.to_string()
                        } else {
                            String::new()
                        };
                        (k.clone(), record_label(k).to_string(), value)
                    })
                    .collect(),
                min_investigators: o.min_investigators,
                mine,
                step: o.step,
                label: o.label,
            }
        })
        .collect()
}

/// The timeline as the page shows it.
fn event_rows(
    wf: &Workflow,
    events: &[CaseEvent],
    doc_links: &BTreeMap<i64, String>,
) -> Vec<EventRow> {
    events
        .iter()
        .map(|e| EventRow {
            seq: e.seq,
            label: e.label.clone(),
            // A department's answer to a referral (转介) is its feedback, not a confirmation.
            action: match (wf.department.is_some(), e.action.as_str()) {
                (true, "approved") => "办结反馈(予以救助)",
                (true, "refused") => "办结反馈(不予救助)",
                _ => action_label(&e.action),
            }
            .into(),
            who: format!("{}({})", e.display_name, role_label(&e.role)),
            at: format!("{}", e.on),
            opinion: e.opinion.clone(),
            investigators: e.investigators.join("、"),
            attachments: e
                .attachments
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    let kind = x["kind"].as_str().unwrap_or("");
                    let id = x["id"].as_str().unwrap_or("");
                    let doc = id
                        .strip_prefix(jiuzhu_app::cases::attachments::DOC_PREFIX)
                        .and_then(|i| i.trim().parse::<i64>().ok());
                    AttachmentRow {
                        label: record_label(kind).to_string(),
                        text: match doc.and_then(|d| doc_links.get(&d)) {
                            Some(l) if !l.is_empty() => format!("{id} {l}"),
                            _ => id.to_string(),
                        },
                        href: doc.map(|d| format!("/documents/{d}")),
                    }
                })
                .collect(),
            reasons: e.reasons.join(";"),
            late: e.late,
        })
        .collect()
}

/// A decision as the page shows it.
fn decision_row(d: &jiuzhu_app::records::CaseDecision) -> DecisionRow {
    DecisionRow {
        outcome: if d.decision.outcome == jiuzhu_domain::case::DecisionOutcome::Approved {
            "确认".into()
        } else {
            "不予确认".into()
        },
        decided_on: d.decision.decided_on.to_string(),
        letter_number: d.letter_number.clone().unwrap_or_default(),
        amount: d.decision.monthly_amount.to_string(),
        start_month: d.decision.start_month.clone().unwrap_or_default(),
        reasons: d.decision.reasons.join(";"),
        policies: d
            .decision
            .policy_versions
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        format!(
                            "{} {}",
                            p["name"].as_str().unwrap_or(""),
                            p["version"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default(),
    }
}

async fn case_page(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(id): Path<CaseId>,
) -> Result<Response, PageError> {
    Ok(render(
        &show(&state, &a.auth, id, None, String::new()).await?,
    ))
}

/// Form field lists: one per line (or separated by 、 , ;).
fn split_list(s: &str) -> Vec<String> {
    s.split(['\n', '、', ',', ',', ';', ';'])
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

async fn act_submit(
    State(state): State<AppState>,
    a: Authorized<ActOnCase>,
    Path(id): Path<CaseId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let f = |k: &str| {
        pairs
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let step = f("step");
    // Free text (`att_<kind>`, paper records) and picked filed documents (`doc_<kind>` = id).
    let attachments = pairs
        .iter()
        .filter_map(|(k, v)| {
            if let Some(kind) = k.strip_prefix("att_") {
                Some(Attachment::new(kind, v.trim()))
            } else {
                k.strip_prefix("doc_").map(|kind| {
                    Attachment::new(
                        kind,
                        &format!("{}{}", jiuzhu_app::cases::attachments::DOC_PREFIX, v.trim()),
                    )
                })
            }
        })
        .filter(|a| !a.id.trim().is_empty() && a.id != jiuzhu_app::cases::attachments::DOC_PREFIX)
        .collect();
    let input = ActionInput {
        revision: f("revision").parse().unwrap_or(-1),
        step: step.clone(),
        action: f("action"),
        opinion: f("opinion"),
        objector: Some(f("objector")),
        investigators: split_list(&f("investigators")),
        attachments,
        reasons: split_list(&f("reasons")),
        set_flags: if f("disputed").is_empty() {
            vec![]
        } else {
            vec!["disputed".into()]
        },
    };
    match act(&state, &a.grant, &a.auth.user().display_name, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) if matches!(e.status.as_u16(), 403 | 409 | 422) => {
            let msg = if e.status == StatusCode::CONFLICT {
                "该案件已被他人办理,您的操作未保存。页面已更新为最新内容,请核对后重新操作。"
                    .to_string()
            } else {
                e.message.clone()
            };
            let page = show(&state, &a.auth, id, Some((&step, msg.clone())), msg).await?;
            Ok(render_status(e.status, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// The one-click assist-first payment (先行救助支付) from a 临时救助 case page: a withdrawal
/// from the case's township fund, linked to the case, payee the applicant unless named.
type AssistPaymentForm = jiuzhu_app::reserve_fund::AssistPayment;

async fn assist_payment_submit(
    State(state): State<AppState>,
    a: Authorized<jiuzhu_domain::access::ManageReserveFund>,
    Path(id): Path<CaseId>,
    Form(f): Form<AssistPaymentForm>,
) -> Result<Response, PageError> {
    match assist_payment(&state, &a, id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let msg = if e.fields.is_empty() {
                e.message.clone()
            } else {
                e.fields
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(";")
            };
            let page = show(
                &state,
                &a.auth,
                id,
                None,
                format!("先行救助支付未保存:{msg}"),
            )
            .await?;
            Ok(render_status(e.status, &page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn assist_payment(
    state: &AppState,
    a: &Authorized<jiuzhu_domain::access::ManageReserveFund>,
    id: CaseId,
    f: &AssistPaymentForm,
) -> Result<(), AppError> {
    jiuzhu_app::reserve_fund::assist_payment(&state.app, &a.grant, id, f).await?;
    Ok(())
}

#[derive(Template)]
#[template(path = "cases/tasks.html")]
struct TasksPage {
    nav: Nav,
    today: String,
    own: Vec<TaskOut>,
    escalated: Vec<TaskOut>,
}

async fn tasks_page(
    State(state): State<AppState>,
    a: Authorized<ActOnCase>,
) -> Result<Response, PageError> {
    let all = tasks(&state, &a.grant).await?;
    let (escalated, own) = all.into_iter().partition(|t| t.escalated);
    Ok(render(&TasksPage {
        nav: Nav::new(&a.auth, "我的待办"),
        today: state.clock.today().to_string(),
        own,
        escalated,
    }))
}
