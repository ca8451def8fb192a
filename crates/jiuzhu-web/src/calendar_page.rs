//! The working-day calendar in the product (工作日历): everyone logged in reads it — the covered
//! years with the notice each comes from (暂定 when only the statutory days are known), and for a
//! year its holidays and adjusted workdays (调休上班) with where each was defined; administrators
//! add a holiday, add an adjusted workday, take a date back to the Monday–Friday rule, or enter a
//! year's notice (a non-provisional year block replaces a provisional one). Page `/calendar`,
//! JSON `/api/v1/calendar`. Every edit is checked by loading the calendar with it before it is
//! stored (append-only, audited), and the effective calendar is rebuilt after it, so deadlines
//! computed from then on follow it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{Datelike, NaiveDate};
use jiuzhu_app::records::CalendarEdit;
use jiuzhu_domain::access::{ManageCalendar, ReadRegistry};
use jiuzhu_domain::Action;
use jiuzhu_domain::DivisionCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::Authorized;
use crate::error::{ApiError, AppError, ErrorEnvelope, PageError};
use crate::views::{render_status, Nav};
use crate::AppState;
use jiuzhu_app::calendar::{special_days, EditInput, SpecialDay};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(page))
        .route("/calendar/edits", post(edit_submit))
}

/// Nested under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(api_get))
        .route("/calendar/edits", post(api_edit))
}

// ---- shared logic -----------------------------------------------------------------------------

/// Checks an edit and records it (`App::record_calendar_edit`).
pub async fn record_edit(
    state: &AppState,
    a: &Authorized<ManageCalendar>,
    input: &EditInput,
) -> Result<CalendarEdit, AppError> {
    Ok(state.app.record_calendar_edit(&a.grant, input).await?)
}

/// A covered year and where its days come from.
#[derive(Serialize, ToSchema)]
pub struct YearOut {
    pub year: i32,
    pub notice: String,
    pub number: String,
    pub issued: String,
    /// The shipped file or the overlay ("管理员调整#3").
    pub source: String,
    /// Only the statutory days are known (no notice yet): deadlines in it are 暂定.
    pub provisional: bool,
}

/// A recorded edit.
#[derive(Serialize, ToSchema)]
pub struct EditOut {
    pub seq: i64,
    pub kind: String,
    pub kind_label: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    pub year: Option<i32>,
    pub name: String,
    pub overlay: String,
    pub reason: String,
    pub user_name: String,
    pub recorded_at: String,
    /// Where the edit applies: "全国" or the jurisdiction's name.
    pub applies_in: String,
}

/// The calendar: covered years, the special days of one year, the edits.
#[derive(Serialize, ToSchema)]
pub struct CalendarOut {
    pub years: Vec<YearOut>,
    pub year: i32,
    pub covered: bool,
    pub provisional: bool,
    pub days: Vec<SpecialDay>,
    /// The seq of the newest edit (send as `expected_seq`).
    pub latest_seq: i64,
    pub edits: Vec<EditOut>,
}

async fn edit_out(state: &AppState, e: &CalendarEdit) -> EditOut {
    let applies_in = match &e.division {
        None => "全国".to_string(),
        Some(d) => crate::printing::division_name(state, d.as_str()).await,
    };
    EditOut {
        applies_in,
        seq: e.seq,
        kind: e.kind.as_str().into(),
        kind_label: e.kind.label_zh().into(),
        date: e.date,
        year: e.year,
        name: e.name.clone(),
        overlay: e.overlay.clone(),
        reason: e.reason.clone(),
        user_name: e.user_name.clone(),
        recorded_at: jiuzhu_domain::audit::format_time(e.recorded_at),
    }
}

/// The calendar of the viewer's jurisdiction, with the edits that apply there and those
/// recorded for places inside it.
async fn calendar_out(
    state: &AppState,
    viewer: &DivisionCode,
    year: Option<i32>,
) -> Result<CalendarOut, AppError> {
    let eff = state.app.params().await?.calendars.clone();
    let cal = &eff.for_division(viewer)?;
    let mut edits = Vec::new();
    for e in eff
        .edits
        .iter()
        .filter(|e| e.applies_in(viewer) || e.division.as_ref().is_some_and(|d| viewer.contains(d)))
    {
        edits.push(edit_out(state, e).await);
    }
    let year = year.unwrap_or_else(|| state.clock.today().year());
    let covered = cal.years().any(|y| y == year);
    Ok(CalendarOut {
        years: cal
            .sources()
            .iter()
            .map(|s| YearOut {
                year: s.year,
                notice: s.notice.clone(),
                number: s.number.clone(),
                issued: s.issued.clone(),
                source: s.file.clone(),
                provisional: s.provisional,
            })
            .collect(),
        year,
        covered,
        provisional: covered
            && NaiveDate::from_ymd_opt(year, 1, 1).is_some_and(|d| cal.is_provisional(d)),
        days: if covered {
            special_days(cal, year)
        } else {
            vec![]
        },
        latest_seq: eff.latest,
        edits,
    })
}

// ---- API --------------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct YearQuery {
    /// The year whose days to list (default: this year).
    year: Option<i32>,
}

/// The working-day calendar (everyone logged in): covered years with their notices, the
/// holidays and adjusted workdays of `year`, and the administrator's edits.
#[utoipa::path(get, operation_id = "get_calendar", path = "/api/v1/calendar", tag = "calendar", params(YearQuery),
    responses((status = 200, body = CalendarOut), (status = 401, body = ErrorEnvelope)))]
async fn api_get(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(q): Query<YearQuery>,
) -> Result<Json<CalendarOut>, ApiError> {
    let viewer = a.grant.scope().root().clone();
    Ok(Json(calendar_out(&state, &viewer, q.year).await?))
}

/// Edit the calendar (administrators only): add a holiday, add an adjusted workday, remove a
/// date, or enter a year's notice. The edit is checked by loading the calendar with it (422
/// naming the field: a bad date, a date in both lists, a date outside the covered years);
/// deadlines computed afterwards follow it.
#[utoipa::path(post, path = "/api/v1/calendar/edits", tag = "calendar",
    request_body = EditInput,
    responses((status = 201, body = EditOut), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
async fn api_edit(
    State(state): State<AppState>,
    a: Authorized<ManageCalendar>,
    JsonBody(input): JsonBody<EditInput>,
) -> Result<(StatusCode, Json<EditOut>), ApiError> {
    let rec = record_edit(&state, &a, &input).await?;
    Ok((StatusCode::CREATED, Json(edit_out(&state, &rec).await)))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_get, api_edit),
    components(schemas(CalendarOut, YearOut, SpecialDay, EditOut, EditInput))
)]
pub struct CalendarApiDoc;

// ---- page -------------------------------------------------------------------------------------

struct MonthView {
    label: String,
    days: Vec<SpecialDay>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    nav: Nav,
    out: CalendarOut,
    months: Vec<MonthView>,
    can_edit: bool,
    notice: String,
    errors: Vec<String>,
    form: FormView,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct FormView {
    kind: String,
    date: String,
    name: String,
    year: String,
    text: String,
    reason: String,
    expected_seq: String,
}

async fn render_page(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    year: Option<i32>,
    notice: String,
    errors: Vec<String>,
    form: FormView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut out = calendar_out(state, a.grant.scope().root(), year).await?;
    let mut months: Vec<MonthView> = Vec::new();
    for d in std::mem::take(&mut out.days) {
        let label = format!("{}月", d.date.month());
        match months.last_mut() {
            Some(m) if m.label == label => m.days.push(d),
            _ => months.push(MonthView {
                label,
                days: vec![d],
            }),
        }
    }
    let page = CalendarPage {
        nav: Nav::new(&a.auth, "工作日历"),
        out,
        months,
        can_edit: a.auth.actor().may(Action::ManageCalendar),
        notice,
        errors,
        form,
    };
    Ok(render_status(status, &page))
}

async fn page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    render_page(
        &state,
        &a,
        q.year,
        String::new(),
        vec![],
        FormView::default(),
        StatusCode::OK,
    )
    .await
}

async fn edit_submit(
    State(state): State<AppState>,
    m: Authorized<ManageCalendar>,
    read: Authorized<ReadRegistry>,
    Form(f): Form<FormView>,
) -> Result<Response, PageError> {
    let year: Option<i32> = f.year.trim().parse().ok();
    let input = EditInput {
        kind: f.kind.clone(),
        date: f.date.clone(),
        name: f.name.clone(),
        year,
        text: f.text.clone(),
        reason: f.reason.clone(),
        expected_seq: f.expected_seq.trim().parse().ok(),
    };
    let shown = year.or_else(|| f.date.get(..4).and_then(|y| y.parse().ok()));
    match record_edit(&state, &m, &input).await {
        Ok(rec) => {
            let what = rec
                .date
                .map(|d| d.to_string())
                .or(rec.year.map(|y| format!("{y}年")))
                .unwrap_or_default();
            let notice = format!(
                "已记录调整#{}:{} {} {}",
                rec.seq,
                rec.kind.label_zh(),
                what,
                rec.name
            );
            render_page(
                &state,
                &read,
                shown,
                notice,
                vec![],
                FormView::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let errors = if e.fields.is_empty() {
                vec![e.message.clone()]
            } else {
                e.fields.iter().map(|f| f.message.clone()).collect()
            };
            render_page(&state, &read, shown, String::new(), errors, f, e.status).await
        }
        Err(e) => Err(e.into()),
    }
}
