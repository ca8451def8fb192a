//! Handling the monthly comparison's warnings (docs/feeds.md, "Handling"; POLICY.md R-DM-2/3):
//! the township inbox `/warnings` with bulk closing, a warning's evidence and handling form
//! `/warnings/{id}`, the villages' monthly zero reports `/warnings/zero-report`, and the month's
//! dashboard `/verification/dashboard`; the same as JSON under `/api/v1`. Also the warnings'
//! due date (`jiuzhu_app::verification::due`), shared by every caller of the monthly run.
//!
//! Reading needs `ReadVerification` (auditors read, handling nothing); closing and filing need
//! `HandleWarnings`. Evidence values that are bank or health data come from the store masked;
//! `POST /warnings/{id}/reveal` shows them to roles that may reveal, audited.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{Datelike, NaiveDate};
use jiuzhu_app::records::{
    CloseWarning, Dashboard, DashboardCell, DocumentQuery, InboxQuery, InboxStatus, NewZeroReport,
    OwnerKind, WarningRecord, WarningResult, ZeroReport, ZeroReportStatus,
};
use jiuzhu_domain::access::{
    HandleWarnings, ReadCases, ReadRegistry, ReadVerification, RevealSensitive,
};
use jiuzhu_domain::{Action, Actor, Division, DivisionCode, FieldError, Grant, Level};
use jiuzhu_verify::{FeedKind, FeedKindSchema, WarningKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, render_status, Nav};
use crate::AppState;

const PAGE_SIZE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/warnings", get(inbox_page))
        .route("/warnings/close", post(bulk_page))
        .route(
            "/warnings/zero-report",
            get(zero_page).post(zero_submit_page),
        )
        .route("/warnings/{id}", get(show_page))
        .route("/warnings/{id}/close", post(close_page))
        .route("/warnings/{id}/reveal", post(reveal_page))
        .route("/verification/dashboard", get(dashboard_page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/warnings/close", post(api_bulk_close))
        .route("/warnings/{id}", get(api_get))
        .route("/warnings/{id}/reveal", post(api_reveal))
        .route("/zero-reports", get(api_zero_list).post(api_zero_file))
        .route("/verification/dashboard", get(api_dashboard))
}

// ---- due date ---------------------------------------------------------------------------------

// ---- shared views ------------------------------------------------------------------------------

pub fn kind_label(kind: &str) -> String {
    FeedKind::ALL
        .iter()
        .map(|f| WarningKind::of_feed(*f))
        .find(|k| k.as_str() == kind)
        .map_or_else(|| kind.to_string(), |k| k.label_zh().to_string())
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    FeedKind::ALL
        .iter()
        .map(|f| WarningKind::of_feed(*f))
        .map(|k| (k.as_str(), k.label_zh()))
        .collect()
}

/// A feed kind's Chinese name (`deposits` → 存款及金融资产); an unknown code as it is.
pub(crate) fn source_label(source: &str) -> String {
    FeedKind::parse(source).map_or_else(|| source.to_string(), |k| k.label_zh().to_string())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The evidence's value as people read it: a code of the source's coded columns (a vehicle type,
/// a business role) by its Chinese label.
fn value_zh(e: &Value) -> String {
    let value = text_of(&e["value"]);
    jiuzhu_verify::FeedKind::parse(&text_of(&e["source"]))
        .and_then(|k| k.code_label_zh(&value))
        .map_or(value, str::to_string)
}

/// One line citing the finding and its source (R-VF-2): value vs threshold, source, data date.
pub fn evidence_summary(e: &Value) -> String {
    let mut parts = Vec::new();
    let value = value_zh(e);
    let threshold = text_of(&e["threshold"]);
    match (value.is_empty(), threshold.is_empty()) {
        (false, false) => parts.push(format!("{value}(阈值 {threshold})")),
        (false, true) => parts.push(value),
        _ => {}
    }
    let source = text_of(&e["source"]);
    if !source.is_empty() {
        let department = text_of(&e["department"]);
        if department.is_empty() {
            parts.push(format!("来源:{}", source_label(&source)));
        } else {
            parts.push(format!("来源:{}({department})", source_label(&source)));
        }
    }
    let date = text_of(&e["data_date"]);
    if !date.is_empty() {
        parts.push(format!("数据日期 {date}"));
    }
    parts.join(";")
}

fn overdue(w: &WarningRecord, today: NaiveDate) -> bool {
    w.status == "open" && w.due < today
}

/// The warning as the API shows it: the record plus labels and the overdue flag.
/// A warning as the API answers it: the record with the labels people read.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningOut {
    #[serde(flatten)]
    pub warning: WarningRecord,
    /// The kind in Chinese (存款超标, …).
    pub kind_label: String,
    /// Open and past its due date.
    pub overdue: bool,
    /// What the evidence says, in one Chinese line.
    pub evidence_summary: String,
    pub result_label: Option<&'static str>,
    /// The evidence's value is bank or health data, shown as `***` until revealed.
    pub evidence_masked: bool,
}

fn warning_out(w: &WarningRecord, today: NaiveDate) -> WarningOut {
    WarningOut {
        kind_label: kind_label(&w.kind),
        overdue: overdue(w, today),
        evidence_summary: evidence_summary(&w.evidence),
        result_label: w.result.map(|r| r.label_zh()),
        evidence_masked: is_masked(&w.evidence),
        warning: w.clone(),
    }
}

/// A page of warnings, the total and the day `overdue` was judged on.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningPage {
    pub items: Vec<WarningOut>,
    pub total: i64,
    pub today: NaiveDate,
}

/// Whether the evidence's value is shown masked (a sensitive source, not revealed).
fn is_masked(e: &Value) -> bool {
    jiuzhu_app::records::evidence_is_sensitive(e)
        && e["value"].as_str() == Some(jiuzhu_app::records::MASKED)
}

fn parse_month(m: &str) -> Result<String, AppError> {
    let ok = m.len() == 7 && NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok();
    if ok {
        Ok(m.to_string())
    } else {
        Err(AppError::invalid(vec![FieldError::new(
            "month",
            "MONTH_INVALID",
            format!("月份“{m}”格式应为 YYYY-MM"),
        )]))
    }
}

/// The month a dashboard or zero-report page opens on: the month before today's (the
/// comparison of month M runs once M's data is in).
fn default_month(today: NaiveDate) -> String {
    let first = today.with_day(1).expect("day 1 exists");
    let prev = first.pred_opt().expect("in range");
    format!("{:04}-{:02}", prev.year(), prev.month())
}

fn opt_text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn parse_division(s: &Option<String>) -> Result<Option<DivisionCode>, AppError> {
    opt_text(s)
        .map(|d| {
            DivisionCode::parse(&d).map_err(|_| {
                AppError::invalid(vec![FieldError::new(
                    "division",
                    "DIVISION_INVALID",
                    format!("区划代码“{d}”无效"),
                )])
            })
        })
        .transpose()
}

// ---- inbox query -------------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams, Clone)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct InboxParams {
    /// YYYY-MM
    month: Option<String>,
    /// DEATH, DEPOSIT, …
    kind: Option<String>,
    /// open | closed | overdue
    status: Option<String>,
    /// A township code.
    township: Option<String>,
    /// A village or community code (narrower than township).
    division: Option<String>,
    /// Household number, a member's identity number, or the masked number of the evidence.
    household: Option<String>,
    /// A run id.
    run: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn inbox_query(p: &InboxParams, today: NaiveDate) -> Result<InboxQuery, AppError> {
    let status = match opt_text(&p.status) {
        None => None,
        Some(s) => Some(InboxStatus::parse(&s).ok_or_else(|| {
            AppError::invalid(vec![FieldError::new(
                "status",
                "STATUS_INVALID",
                "状态应为 open、closed 或 overdue",
            )])
        })?),
    };
    let month = opt_text(&p.month).map(|m| parse_month(&m)).transpose()?;
    let division = match parse_division(&p.division)? {
        Some(d) => Some(d),
        None => parse_division(&p.township)?,
    };
    Ok(InboxQuery {
        month,
        kind: opt_text(&p.kind),
        status,
        division,
        household: opt_text(&p.household),
        run_id: p.run,
        today,
        limit: p.limit.unwrap_or(PAGE_SIZE),
        offset: p.offset.unwrap_or(0),
    })
}

/// Warnings of households in the caller's jurisdiction, by due date (the township inbox).
#[utoipa::path(get, operation_id = "list_warnings", path = "/api/v1/warnings", tag = "verification", params(InboxParams),
    responses((status = 200, body = WarningPage), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_list(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<InboxParams>,
) -> Result<Json<WarningPage>, ApiError> {
    let today = state.clock.today();
    let q = inbox_query(&p, today)?;
    let page = state.app.warning_inbox(&a.grant, &q).await?;
    Ok(Json(WarningPage {
        items: page.items.iter().map(|w| warning_out(w, today)).collect(),
        total: page.total,
        today,
    }))
}

/// One warning with its evidence, labels and overdue flag. Evidence values that are bank or
/// health data (deposits, medical costs) are `"***"`; `evidence_masked` says so.
#[utoipa::path(get, operation_id = "get_warning", path = "/api/v1/warnings/{id}", tag = "verification",
    params(("id" = i64, Path)),
    responses((status = 200, body = WarningOut), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_get(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Path(id): Path<i64>,
) -> Result<Json<WarningOut>, ApiError> {
    let w = state
        .app
        .get_warning(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(warning_out(&w, state.clock.today())))
}

/// The warning with its evidence unmasked, for roles that may reveal sensitive data (403 for
/// the others); each call is recorded in the audit log as `sensitive_revealed`.
#[utoipa::path(post, operation_id = "reveal_warning", path = "/api/v1/warnings/{id}/reveal", tag = "verification",
    params(("id" = i64, Path)),
    responses((status = 200, body = WarningOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_reveal(
    State(state): State<AppState>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<i64>,
) -> Result<Json<WarningOut>, ApiError> {
    let w = state.app.reveal_warning(&a.grant, id).await?;
    Ok(Json(warning_out(&w, state.clock.today())))
}

// ---- bulk close --------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct BulkCloseInput {
    items: Vec<BulkItem>,
    /// One note for all (what the check found).
    note: String,
    /// Optional date of the check (YYYY-MM-DD).
    #[serde(default)]
    visit_date: Option<String>,
}

use jiuzhu_app::verification::closing;
pub use jiuzhu_app::verification::closing::{BulkItem, BulkOutcome};

pub(crate) fn parse_visit_date(
    s: &Option<String>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, AppError> {
    match opt_text(s) {
        None => Ok(None),
        Some(t) => match NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
            Ok(d) if d <= today => Ok(Some(d)),
            Ok(_) => Err(AppError::invalid(vec![FieldError::new(
                "visit_date",
                "VISIT_DATE_FUTURE",
                "核查(入户)日期不能晚于今天",
            )])),
            Err(_) => Err(AppError::invalid(vec![FieldError::new(
                "visit_date",
                "VISIT_DATE_INVALID",
                "核查(入户)日期格式应为 YYYY-MM-DD",
            )])),
        },
    }
}

/// Closes each warning as 核实无影响 (`jiuzhu_app::verification::closing::close_many`).
async fn bulk_close(
    state: &AppState,
    grant: &jiuzhu_domain::Grant<HandleWarnings>,
    items: &[BulkItem],
    note: &str,
    visit_date: Option<NaiveDate>,
) -> Result<Vec<BulkOutcome>, AppError> {
    Ok(closing::close_many(&state.app, grant, items, note, visit_date).await?)
}

/// Closes several warnings as `no_effect` (核实无影响) with one note; reports each one's
/// outcome (`closed`, `conflict` when its version moved or it was closed already,
/// `not_found`, `invalid`).
#[utoipa::path(post, path = "/api/v1/warnings/close", tag = "verification",
    request_body = BulkCloseInput,
    responses((status = 200, body = BulkCloseOut), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_bulk_close(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    JsonBody(input): JsonBody<BulkCloseInput>,
) -> Result<Json<BulkCloseOut>, ApiError> {
    let visit = parse_visit_date(&input.visit_date, state.clock.today())?;
    let out = bulk_close(&state, &a.grant, &input.items, &input.note, visit).await?;
    let closed = out.iter().filter(|o| o.outcome == "closed").count();
    Ok(Json(BulkCloseOut {
        closed,
        failed: out.len() - closed,
        results: out,
    }))
}

/// What a bulk close did: how many closed, how many not, and each one's outcome.
#[derive(Serialize, ToSchema)]
pub struct BulkCloseOut {
    pub closed: usize,
    pub failed: usize,
    pub results: Vec<BulkOutcome>,
}

// ---- zero reports ------------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ZeroParams {
    /// YYYY-MM (default: the month before today's).
    month: Option<String>,
    /// Only villages under this division.
    division: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ZeroInput {
    /// The village or community code.
    division: String,
    /// YYYY-MM
    month: String,
    note: String,
}

/// A village's zero-report state for the month, with whether it filed and what.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZeroStatusOut {
    #[serde(flatten)]
    pub status: ZeroReportStatus,
    pub filed: bool,
    pub kind_label: Option<&'static str>,
}

fn zero_out(s: &ZeroReportStatus) -> ZeroStatusOut {
    ZeroStatusOut {
        filed: s.report.is_some(),
        kind_label: s.report.as_ref().map(|r| r.kind.label_zh()),
        status: s.clone(),
    }
}

/// The villages of the caller's jurisdiction and their zero reports for a month.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZeroList {
    pub month: String,
    pub divisions: usize,
    pub filed: usize,
    pub items: Vec<ZeroStatusOut>,
}

/// A zero report as filed, with its kind in Chinese.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZeroReportOut {
    #[serde(flatten)]
    pub report: ZeroReport,
    pub kind_label: &'static str,
}

/// Every village or community in the caller's jurisdiction with the month's warnings and its
/// zero report (filed or not).
#[utoipa::path(get, path = "/api/v1/zero-reports", tag = "verification", params(ZeroParams),
    responses((status = 200, body = ZeroList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_zero_list(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<ZeroParams>,
) -> Result<Json<ZeroList>, ApiError> {
    let month = match opt_text(&p.month) {
        Some(m) => parse_month(&m)?,
        None => default_month(state.clock.today()),
    };
    let under = parse_division(&p.division)?;
    let list = state
        .app
        .zero_report_status(&a.grant, &month, under.as_ref())
        .await?;
    let filed = list.iter().filter(|s| s.report.is_some()).count();
    Ok(Json(ZeroList {
        month,
        divisions: list.len(),
        filed,
        items: list.iter().map(zero_out).collect(),
    }))
}

fn zero_new(input: &ZeroInput) -> Result<NewZeroReport, AppError> {
    let division = DivisionCode::parse(input.division.trim()).map_err(|_| {
        AppError::invalid(vec![FieldError::new(
            "division",
            "DIVISION_INVALID",
            "请选择村(社区)",
        )])
    })?;
    Ok(NewZeroReport {
        division,
        month: parse_month(input.month.trim())?,
        note: input.note.trim().to_string(),
    })
}

/// Files a village's zero report (零报告) for a month: 422 `ZERO_REPORT_OPEN_WARNINGS` while
/// any of its warnings of the month is open, `ZERO_REPORT_EXISTS` when filed already.
#[utoipa::path(post, path = "/api/v1/zero-reports", tag = "verification", request_body = ZeroInput,
    responses((status = 201, body = ZeroReportOut), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_zero_file(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    JsonBody(input): JsonBody<ZeroInput>,
) -> Result<Response, ApiError> {
    let new = zero_new(&input)?;
    let r = state.app.file_zero_report(&a.grant, &new).await?;
    let out = ZeroReportOut {
        kind_label: r.kind.label_zh(),
        report: r,
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

// ---- dashboard ---------------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct DashboardParams {
    /// YYYY-MM (default: the month before today's).
    month: Option<String>,
}

/// A dashboard cell with its kind in Chinese.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardCellOut {
    #[serde(flatten)]
    pub cell: DashboardCell,
    pub kind_label: String,
}

/// Closures of one result, with its label.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResultCount {
    pub result: String,
    pub label: Option<&'static str>,
    pub count: i64,
}

/// The month's handling at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    pub month: String,
    pub today: NaiveDate,
    pub cells: Vec<DashboardCellOut>,
    /// Closed warnings by result code.
    pub results: BTreeMap<String, i64>,
    pub results_labeled: Vec<ResultCount>,
    pub zero_report_divisions: i64,
    pub zero_reports_filed: i64,
}

fn dashboard_out(d: &Dashboard) -> DashboardOut {
    DashboardOut {
        month: d.month.clone(),
        today: d.today,
        cells: d
            .cells
            .iter()
            .map(|c| DashboardCellOut {
                kind_label: kind_label(&c.kind),
                cell: c.clone(),
            })
            .collect(),
        results: d.results.clone(),
        results_labeled: d
            .results
            .iter()
            .map(|(k, n)| ResultCount {
                result: k.clone(),
                label: WarningResult::parse(k).map(|r| r.label_zh()),
                count: *n,
            })
            .collect(),
        zero_report_divisions: d.zero_report_divisions,
        zero_reports_filed: d.zero_reports_filed,
    }
}

/// The month's warnings by kind × township (total, open, overdue, closed on time, closed late),
/// closures by result, and zero-report coverage, in the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/verification/dashboard", tag = "verification",
    params(DashboardParams),
    responses((status = 200, body = DashboardOut), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_dashboard(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<DashboardParams>,
) -> Result<Json<DashboardOut>, ApiError> {
    let today = state.clock.today();
    let month = match opt_text(&p.month) {
        Some(m) => parse_month(&m)?,
        None => default_month(today),
    };
    let d = state
        .app
        .verification_dashboard(&a.grant, &month, today)
        .await?;
    Ok(Json(dashboard_out(&d)))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        api_list,
        api_get,
        api_reveal,
        api_bulk_close,
        api_zero_list,
        api_zero_file,
        api_dashboard
    ),
    components(schemas(
        WarningOut,
        WarningPage,
        WarningRecord,
        WarningResult,
        BulkCloseOut,
        BulkOutcome,
        ZeroList,
        ZeroStatusOut,
        ZeroReportOut,
        DashboardOut,
        DashboardCellOut,
        ResultCount
    ))
)]
pub struct WarningsApiDoc;

// ---- pages -------------------------------------------------------------------------------------

struct Row {
    id: i64,
    row_version: i64,
    month: String,
    household_id: i64,
    household_code: String,
    place: String,
    kind: String,
    evidence: String,
    due: String,
    overdue: bool,
    open: bool,
    result: String,
}

struct Opt {
    value: String,
    label: String,
    selected: bool,
    /// Shown but not choosable (a result that needs a benefit the household does not have).
    disabled: bool,
}

fn opts(items: Vec<(String, String)>, chosen: &str) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == chosen,
            value,
            label,
            disabled: false,
        })
        .collect()
}

/// Division names in the actor's scope, for labels and the filter selects.
async fn divisions(state: &AppState, actor: &Actor) -> Result<Vec<Division>, AppError> {
    let g = actor.grant::<ReadRegistry>()?;
    Ok(state.app.list_divisions(&g).await?)
}

fn place_of(names: &HashMap<String, String>, division: &str) -> String {
    let code = DivisionCode::parse(division).ok();
    let township = code.as_ref().and_then(|c| c.township());
    let village = code.as_ref().and_then(|c| c.village());
    let mut parts = Vec::new();
    if let Some(t) = township {
        parts.push(names.get(t.as_str()).cloned().unwrap_or(t.to_string()));
    }
    if let Some(v) = village {
        parts.push(names.get(v.as_str()).cloned().unwrap_or(v.to_string()));
    }
    if parts.is_empty() {
        division.to_string()
    } else {
        parts.join(" ")
    }
}

fn row_of(w: &WarningRecord, names: &HashMap<String, String>, today: NaiveDate) -> Row {
    Row {
        id: w.id,
        row_version: w.row_version,
        month: w.month.clone(),
        household_id: w.household_id,
        household_code: w.household_code.clone(),
        place: place_of(names, &w.division),
        kind: kind_label(&w.kind),
        evidence: evidence_summary(&w.evidence),
        due: w.due.to_string(),
        overdue: overdue(w, today),
        open: w.status == "open",
        result: w
            .result
            .map(|r| r.label_zh().to_string())
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "warnings/inbox.html")]
struct InboxPage {
    nav: Nav,
    rows: Vec<Row>,
    total: i64,
    month: String,
    household: String,
    kinds: Vec<Opt>,
    statuses: Vec<Opt>,
    townships: Vec<Opt>,
    villages: Vec<Opt>,
    prev: Option<String>,
    next: Option<String>,
    first: i64,
    last: i64,
    outcomes: Vec<BulkOutcome>,
    errors: Vec<String>,
    today: String,
    /// The user may close warnings (else the page only reads).
    can_handle: bool,
}

fn query_string(p: &InboxParams, offset: i64) -> String {
    let pairs: Vec<(&str, String)> = [
        ("month", opt_text(&p.month)),
        ("kind", opt_text(&p.kind)),
        ("status", opt_text(&p.status)),
        ("township", opt_text(&p.township)),
        ("division", opt_text(&p.division)),
        ("household", opt_text(&p.household)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .chain(std::iter::once(("offset", offset.to_string())))
    .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn inbox_view(
    state: &AppState,
    auth: &Auth,
    g: &Grant<ReadVerification>,
    mut p: InboxParams,
    outcomes: Vec<BulkOutcome>,
    errors: Vec<String>,
) -> Result<InboxPage, AppError> {
    let today = state.clock.today();
    // The inbox opens on what needs doing.
    if p.status.is_none() {
        p.status = Some("open".into());
    }
    p.limit = Some(PAGE_SIZE);
    let q = inbox_query(&p, today)?;
    let page = state.app.warning_inbox(g, &q).await?;
    let divs = divisions(state, auth.actor()).await?;
    let names: HashMap<String, String> = divs
        .iter()
        .map(|d| (d.code.to_string(), d.name.clone()))
        .collect();
    let township = opt_text(&p.township).unwrap_or_default();
    let townships = divs
        .iter()
        .filter(|d| d.level == Level::Township)
        .map(|d| (d.code.to_string(), d.name.clone()))
        .collect();
    let villages = divs
        .iter()
        .filter(|d| d.level == Level::Village)
        .filter(|d| township.is_empty() || d.code.as_str().starts_with(&township))
        .map(|d| (d.code.to_string(), d.name.clone()))
        .collect();
    let offset = q.offset;
    let shown = page.items.len() as i64;
    Ok(InboxPage {
        rows: page
            .items
            .iter()
            .map(|w| row_of(w, &names, today))
            .collect(),
        total: page.total,
        month: opt_text(&p.month).unwrap_or_default(),
        household: opt_text(&p.household).unwrap_or_default(),
        kinds: opts(
            kinds()
                .into_iter()
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .collect(),
            &opt_text(&p.kind).unwrap_or_default(),
        ),
        statuses: opts(
            vec![
                ("open".into(), "待核查".into()),
                ("overdue".into(), "已超期".into()),
                ("closed".into(), "已销号".into()),
            ],
            &opt_text(&p.status).unwrap_or_default(),
        ),
        townships: opts(townships, &township),
        villages: opts(villages, &opt_text(&p.division).unwrap_or_default()),
        prev: (offset > 0).then(|| query_string(&p, (offset - PAGE_SIZE).max(0))),
        next: (offset + shown < page.total).then(|| query_string(&p, offset + PAGE_SIZE)),
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        outcomes,
        errors,
        today: today.to_string(),
        can_handle: auth.actor().may(Action::HandleWarnings),
        nav: Nav::new(auth, "预警核查"),
    })
}

async fn inbox_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<InboxParams>,
) -> Result<Response, PageError> {
    Ok(render(
        &inbox_view(&state, &a.auth, &a.grant, p, vec![], vec![]).await?,
    ))
}

/// The bulk form: checkboxes `sel` = `id:row_version`, one `note`, optional `visit_date`;
/// the filters ride along so the page comes back as it was.
async fn bulk_page(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut items = Vec::new();
    let mut note = String::new();
    let mut visit = None;
    let mut p = InboxParams::default();
    for (k, v) in fields {
        match k.as_str() {
            "sel" => {
                if let Some((id, ver)) = v.split_once(':') {
                    if let (Ok(id), Ok(row_version)) = (id.parse(), ver.parse()) {
                        items.push(BulkItem { id, row_version });
                    }
                }
            }
            "note" => note = v,
            "visit_date" => visit = Some(v),
            "month" => p.month = Some(v),
            "kind" => p.kind = Some(v),
            "status" => p.status = Some(v),
            "township" => p.township = Some(v),
            "division" => p.division = Some(v),
            "household" => p.household = Some(v),
            _ => {}
        }
    }
    let today = state.clock.today();
    let read = a.actor().grant::<ReadVerification>()?;
    let result = match parse_visit_date(&visit, today) {
        Ok(visit) => bulk_close(&state, &a.grant, &items, &note, visit).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(out) => Ok(render(
            &inbox_view(&state, &a.auth, &read, p, out, vec![]).await?,
        )),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = e.fields.iter().map(|f| f.message.clone()).collect();
            let view = inbox_view(&state, &a.auth, &read, p, vec![], errors).await?;
            Ok(render_status(e.status, &view))
        }
        Err(e) => Err(e.into()),
    }
}

struct EvidenceRow {
    label: &'static str,
    value: String,
}

struct DocOpt {
    id: i64,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "warnings/show.html")]
struct ShowPage {
    nav: Nav,
    w: Row,
    status: String,
    evidence: Vec<EvidenceRow>,
    raw: String,
    closed_by: String,
    closed_at: String,
    note: String,
    visit_date: String,
    attachments: Vec<i64>,
    change_case: Option<i64>,
    results: Vec<Opt>,
    docs: Vec<DocOpt>,
    errors: Vec<String>,
    form_note: String,
    form_visit: String,
    today: String,
    /// The user may close the warning (else the page only reads).
    can_handle: bool,
    /// The household's benefits in force ("编号 月救助金 N 元"), when the user reads cases.
    in_force: Option<Vec<String>>,
    /// The fact 调整救助金额 records first (none for warnings about members).
    fact: Option<jiuzhu_app::verification::closing::FactField>,
    /// The evidence's value is masked and the user may reveal it (查看).
    can_reveal: bool,
    /// The value is shown unmasked: this page is an audited reveal.
    revealed: bool,
}

fn evidence_rows(e: &Value) -> Vec<EvidenceRow> {
    let field = |k: &str| text_of(&e[k]);
    let mut rows = vec![
        EvidenceRow {
            label: "数据来源",
            value: source_label(&field("source")),
        },
        EvidenceRow {
            label: "报送单位",
            value: field("department"),
        },
        EvidenceRow {
            label: "数据日期",
            value: field("data_date"),
        },
        EvidenceRow {
            label: "报送批次",
            value: field("delivery"),
        },
        EvidenceRow {
            label: "数据行号",
            value: field("row"),
        },
        EvidenceRow {
            label: "涉及成员",
            value: field("person"),
        },
        EvidenceRow {
            label: "比对值",
            value: value_zh(e),
        },
        EvidenceRow {
            label: "预警阈值",
            value: field("threshold"),
        },
        EvidenceRow {
            label: "汇总记录数",
            value: field("records"),
        },
    ];
    rows.retain(|r| !r.value.is_empty());
    rows
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CloseForm {
    result: String,
    note: String,
    visit_date: Option<String>,
    row_version: i64,
    fact_value: String,
}

/// How the warning page shows a warning: read (masked), or one just revealed (audited).
enum Shown {
    Read(i64),
    Revealed(Box<WarningRecord>),
}

async fn show_view(
    state: &AppState,
    auth: &Auth,
    g: &Grant<ReadVerification>,
    shown: Shown,
    errors: Vec<String>,
    form: Option<(&str, &str, &str, Vec<i64>, &str)>,
) -> Result<ShowPage, AppError> {
    let today = state.clock.today();
    let (w, revealed) = match shown {
        Shown::Read(id) => (
            state
                .app
                .get_warning(g, id)
                .await?
                .ok_or_else(AppError::not_found)?,
            false,
        ),
        Shown::Revealed(w) => (*w, true),
    };
    let actor = auth.actor();
    let divs = divisions(state, actor).await?;
    let names: HashMap<String, String> = divs
        .iter()
        .map(|d| (d.code.to_string(), d.name.clone()))
        .collect();
    // The household's (current) documents, to cite as attachments; a role that may not read
    // the registry or close the warning simply gets none offered.
    let can_handle = actor.may(Action::HandleWarnings);
    let docs = match actor.grant::<ReadRegistry>() {
        Ok(g) if w.status == "open" && can_handle => {
            state
                .app
                .list_documents(
                    &g,
                    &DocumentQuery {
                        owner: Some((OwnerKind::Household, w.household_id)),
                        include_withdrawn: false,
                        limit: 100,
                        offset: 0,
                    },
                )
                .await?
                .items
        }
        _ => Vec::new(),
    };
    let (result, note, visit, checked, typed_fact) = form.unwrap_or(("", "", "", Vec::new(), ""));
    // The fact an adjustment updates, pre-filled from the evidence unless the user typed one.
    let fact = jiuzhu_app::verification::closing::field(&w).map(|mut f| {
        if !typed_fact.is_empty() {
            f.value = typed_fact.to_string();
        }
        f
    });
    // What a result could change: the household's benefits in force. A user who cannot read
    // cases is offered every result and the store refuses one that needs a benefit.
    let in_force = match actor.grant::<ReadCases>() {
        Ok(g) if w.status == "open" && can_handle => Some(
            state
                .app
                .household_benefits(&g, w.household_id)
                .await?
                .into_iter()
                .filter(|b| b.status != "ended")
                .map(|b| format!("{} 月救助金 {} 元", b.number, b.monthly_amount))
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    // Nothing is chosen for the user: a result is a finding, and a refused form that lost a
    // (now disabled) choice must not fall back to 核实无影响.
    let mut results = opts(
        std::iter::once((String::new(), "请选择".to_string()))
            .chain(
                WarningResult::ALL
                    .iter()
                    .map(|r| (r.as_str().to_string(), r.label_zh().to_string())),
            )
            .collect(),
        result,
    );
    if in_force.as_ref().is_some_and(Vec::is_empty) {
        for o in &mut results {
            if WarningResult::parse(&o.value).is_some_and(WarningResult::changes_benefit) {
                o.disabled = true;
                o.selected = false;
                o.label = format!("{}(本户无在保救助,不可选)", o.label);
            }
        }
    }
    Ok(ShowPage {
        status: if w.status == "open" {
            if overdue(&w, today) {
                "已超期".into()
            } else {
                "待核查".into()
            }
        } else {
            "已销号".into()
        },
        evidence: evidence_rows(&w.evidence),
        raw: serde_json::to_string_pretty(&w.evidence).unwrap_or_default(),
        closed_by: match (&w.closed_by_name, &w.closed_by) {
            (Some(name), Some(user)) => format!("{name}({user})"),
            (None, Some(user)) => user.clone(),
            _ => String::new(),
        },
        closed_at: w
            .closed_at
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        note: w.note.clone().unwrap_or_default(),
        visit_date: w.visit_date.map(|d| d.to_string()).unwrap_or_default(),
        attachments: w.attachments.clone(),
        change_case: w.change_case_id,
        results,
        in_force,
        fact,
        docs: docs
            .iter()
            .map(|d| DocOpt {
                id: d.id,
                label: format!(
                    "{} {}({})",
                    jiuzhu_app::records::document_type(&d.doc_type)
                        .map_or(d.doc_type.as_str(), |t| t.label_zh),
                    d.file_name,
                    d.uploaded_at.format("%Y-%m-%d")
                ),
                checked: checked.contains(&d.id),
            })
            .collect(),
        errors,
        form_note: note.to_string(),
        form_visit: visit.to_string(),
        today: today.to_string(),
        can_handle,
        can_reveal: is_masked(&w.evidence) && actor.may(Action::RevealSensitive),
        revealed,
        w: row_of(&w, &names, today),
        nav: Nav::new(auth, "预警详情"),
    })
}

async fn show_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    Ok(render(
        &show_view(&state, &a.auth, &a.grant, Shown::Read(id), vec![], None).await?,
    ))
}

/// 查看: the warning page with the evidence unmasked, recorded in the audit log.
async fn reveal_page(
    State(state): State<AppState>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let read = a.actor().grant::<ReadVerification>()?;
    let w = state.app.reveal_warning(&a.grant, id).await?;
    Ok(render(
        &show_view(
            &state,
            &a.auth,
            &read,
            Shown::Revealed(Box::new(w)),
            vec![],
            None,
        )
        .await?,
    ))
}

async fn close_page(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut f = CloseForm::default();
    let mut attachments: Vec<i64> = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "result" => f.result = v,
            "note" => f.note = v,
            "visit_date" => f.visit_date = Some(v),
            "row_version" => f.row_version = v.trim().parse().unwrap_or(0),
            "attachment" => attachments.extend(v.trim().parse::<i64>().ok()),
            "fact_value" => f.fact_value = v,
            _ => {}
        }
    }
    let today = state.clock.today();
    let attempt = async {
        let result = WarningResult::parse(&f.result).ok_or_else(|| {
            AppError::invalid(vec![FieldError::new(
                "result",
                "RESULT_UNKNOWN",
                "请选择核查结果",
            )])
        })?;
        let visit_date = parse_visit_date(&f.visit_date, today)?;
        jiuzhu_app::verification::closing::close_warning(
            &state.app,
            &a.grant,
            id,
            f.row_version,
            CloseWarning {
                result,
                note: f.note.clone(),
                visit_date,
                attachments: attachments.clone(),
            },
            Some(&f.fact_value),
        )
        .await
        .map_err(AppError::from)
    };
    match attempt.await {
        Ok(_) => Ok(Redirect::to(&format!("/warnings/{id}")).into_response()),
        Err(e)
            if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT =>
        {
            let errors = if e.fields.is_empty() {
                vec![e.message.clone()]
            } else {
                e.fields.iter().map(|f| f.message.clone()).collect()
            };
            let visit = f.visit_date.clone().unwrap_or_default();
            let read = a.actor().grant::<ReadVerification>()?;
            let view = show_view(
                &state,
                &a.auth,
                &read,
                Shown::Read(id),
                errors,
                Some((
                    &f.result,
                    &f.note,
                    &visit,
                    attachments.clone(),
                    &f.fact_value,
                )),
            )
            .await?;
            Ok(render_status(e.status, &view))
        }
        Err(e) => Err(e.into()),
    }
}

struct ZeroRow {
    division: String,
    name: String,
    township_name: String,
    warnings: i64,
    open: i64,
    filed: bool,
    /// Filed, but a later run found warnings here since.
    superseded: bool,
    kind: String,
    filed_by: String,
    filed_at: String,
    note: String,
}

#[derive(Template)]
#[template(path = "warnings/zero_report.html")]
struct ZeroPage {
    nav: Nav,
    month: String,
    rows: Vec<ZeroRow>,
    filed: usize,
    errors: Vec<String>,
    notice: String,
    /// The user may file zero reports (else the page only reads).
    can_handle: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ZeroPageParams {
    month: Option<String>,
    done: Option<String>,
}

async fn zero_view(
    state: &AppState,
    auth: &Auth,
    g: &Grant<ReadVerification>,
    month: Option<String>,
    errors: Vec<String>,
    notice: String,
) -> Result<ZeroPage, AppError> {
    let month = match opt_text(&month) {
        Some(m) => parse_month(&m)?,
        None => default_month(state.clock.today()),
    };
    let list = state.app.zero_report_status(g, &month, None).await?;
    Ok(ZeroPage {
        filed: list.iter().filter(|s| s.report.is_some()).count(),
        rows: list
            .iter()
            .map(|s| ZeroRow {
                division: s.division.clone(),
                name: s.name.clone(),
                township_name: s.township_name.clone(),
                warnings: s.warnings,
                open: s.open,
                filed: s.report.is_some(),
                superseded: s.superseded,
                kind: s
                    .report
                    .as_ref()
                    .map(|r| r.kind.label_zh().to_string())
                    .unwrap_or_default(),
                filed_by: s
                    .report
                    .as_ref()
                    .map(|r| r.filed_by.clone())
                    .unwrap_or_default(),
                filed_at: s
                    .report
                    .as_ref()
                    .map(|r| r.filed_at.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                note: s
                    .report
                    .as_ref()
                    .map(|r| r.note.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        month,
        errors,
        notice,
        can_handle: auth.actor().may(Action::HandleWarnings),
        nav: Nav::new(auth, "零报告"),
    })
}

async fn zero_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<ZeroPageParams>,
) -> Result<Response, PageError> {
    let notice = if p.done.is_some() {
        "零报告已报送。".to_string()
    } else {
        String::new()
    };
    Ok(render(
        &zero_view(&state, &a.auth, &a.grant, p.month, vec![], notice).await?,
    ))
}

async fn zero_submit_page(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    Form(input): Form<ZeroInput>,
) -> Result<Response, PageError> {
    let result = match zero_new(&input) {
        Ok(new) => state
            .app
            .file_zero_report(&a.grant, &new)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(
            Redirect::to(&format!("/warnings/zero-report?month={}&done=1", r.month))
                .into_response(),
        ),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = e.fields.iter().map(|f| f.message.clone()).collect();
            let month = Some(input.month.clone()).filter(|m| parse_month(m).is_ok());
            let read = a.actor().grant::<ReadVerification>()?;
            let view = zero_view(&state, &a.auth, &read, month, errors, String::new()).await?;
            Ok(render_status(e.status, &view))
        }
        Err(e) => Err(e.into()),
    }
}

struct DashRow {
    kind: String,
    township: String,
    total: i64,
    open: i64,
    overdue: i64,
    on_time: i64,
    late: i64,
    /// Raised in earlier months and still open: "N(最早 YYYY-MM)", or "0".
    carried: String,
    carried_count: i64,
}

#[derive(Template)]
#[template(path = "warnings/dashboard.html")]
struct DashboardPage {
    nav: Nav,
    month: String,
    today: String,
    rows: Vec<DashRow>,
    totals: DashRow,
    results: Vec<(String, i64)>,
    zero_divisions: i64,
    zero_filed: i64,
}

async fn dashboard_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Query(p): Query<DashboardParams>,
) -> Result<Response, PageError> {
    let today = state.clock.today();
    let month = match opt_text(&p.month) {
        Some(m) => parse_month(&m)?,
        None => default_month(today),
    };
    let d = state
        .app
        .verification_dashboard(&a.grant, &month, today)
        .await?;
    let mut totals = DashRow {
        kind: "合计".into(),
        township: String::new(),
        total: 0,
        open: 0,
        overdue: 0,
        on_time: 0,
        late: 0,
        carried: String::new(),
        carried_count: 0,
    };
    let rows: Vec<DashRow> = d
        .cells
        .iter()
        .map(|c| {
            totals.total += c.total;
            totals.open += c.open;
            totals.overdue += c.overdue;
            totals.on_time += c.closed_on_time;
            totals.late += c.closed_late;
            totals.carried_count += c.carried_open;
            DashRow {
                kind: kind_label(&c.kind),
                township: c.township_name.clone(),
                total: c.total,
                open: c.open,
                overdue: c.overdue,
                on_time: c.closed_on_time,
                late: c.closed_late,
                carried: match &c.carried_since {
                    Some(since) => format!("{}(最早 {since})", c.carried_open),
                    None => "0".into(),
                },
                carried_count: c.carried_open,
            }
        })
        .collect();
    totals.carried = totals.carried_count.to_string();
    let by_result: BTreeMap<&str, i64> = d.results.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let results = WarningResult::ALL
        .iter()
        .map(|r| {
            (
                r.label_zh().to_string(),
                by_result.get(r.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(render(&DashboardPage {
        month,
        today: today.to_string(),
        rows,
        totals,
        results,
        zero_divisions: d.zero_report_divisions,
        zero_filed: d.zero_reports_filed,
        nav: Nav::new(&a.auth, "核查处置月报"),
    }))
}
