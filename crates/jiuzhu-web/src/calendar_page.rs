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
use jiuzhu_domain::access::{ManageCalendar, ReadRegistry};
use jiuzhu_domain::DivisionCode;
use jiuzhu_domain::{Action, FieldError};
use jiuzhu_store::{CalendarEdit, CalendarEditKind, NewCalendarEdit};
use jiuzhu_workflow::{CalendarError, DayKind, WorkCalendar};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::Authorized;
use crate::error::{ApiError, AppError, ErrorEnvelope, PageError};
use crate::views::{render_status, Nav};
use crate::AppState;
use jiuzhu_app::params::build_calendar as build;

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

/// An edit as posted (JSON or form).
#[derive(Deserialize, ToSchema, Default, Clone)]
#[serde(default)]
pub struct EditInput {
    /// add_holiday | add_workday | remove | year
    pub kind: String,
    /// YYYY-MM-DD (add_holiday, add_workday, remove).
    pub date: String,
    /// The holiday's or workday's name ("本地停工"); for a year: the notice's title.
    pub name: String,
    /// The year (kind = year).
    pub year: Option<i32>,
    /// kind = year: the year's block in the calendar file format (`[[year]]` …).
    pub text: String,
    /// Why (the notice, the local decision); kept with the edit and in the audit log.
    pub reason: String,
    /// The `latest_seq` the client saw (0 when there is no edit); when someone edited the
    /// calendar meanwhile the answer is 409. Required: 422 `REQUIRED` without it.
    pub expected_seq: Option<i64>,
}

fn quoted(s: &str) -> String {
    // A JSON string literal is a valid TOML basic string.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The field a calendar error is about, and its message with the field named.
fn field_error(kind: CalendarEditKind, e: &CalendarError) -> FieldError {
    let (field, label) = match (kind, e) {
        (CalendarEditKind::Year, _) => ("text", "年度放假安排"),
        (_, CalendarError::BadKind { .. }) => ("kind", "类型"),
        (_, CalendarError::Syntax { .. }) => ("name", "名称"),
        _ => ("date", "日期"),
    };
    FieldError::new(field, e.code(), format!("{label}:{}", e.message_zh()))
}

/// Turns an edit into its overlay and checks that the shipped calendar plus `edits` plus it
/// loads (used by the page, the API and `jiuzhu calendar`).
pub fn prepare_edit(
    edits: &[CalendarEdit],
    input: &EditInput,
) -> Result<NewCalendarEdit, AppError> {
    let mut errors = Vec::new();
    let Some(kind) = CalendarEditKind::parse(input.kind.trim()) else {
        return Err(AppError::invalid(vec![FieldError::new(
            "kind",
            "CALENDAR_EDIT_KIND",
            format!(
                "类型:“{}”无效(add_holiday、add_workday、remove、year)",
                input.kind
            ),
        )]));
    };
    let name = input.name.trim();
    let date = if kind == CalendarEditKind::Year {
        None
    } else {
        let d = input.date.trim();
        let parsed = (d.len() == 10)
            .then(|| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .flatten();
        if parsed.is_none() {
            errors.push(FieldError::new(
                "date",
                "CALENDAR_BAD_DATE",
                format!("日期:“{d}”无法识别,应为 YYYY-MM-DD"),
            ));
        }
        parsed
    };
    if matches!(
        kind,
        CalendarEditKind::AddHoliday | CalendarEditKind::AddWorkday
    ) && name.is_empty()
    {
        errors.push(FieldError::new(
            "name",
            "REQUIRED",
            "名称:请填写(如“本地停工”“国庆节调休上班”)",
        ));
    }
    let year = if kind == CalendarEditKind::Year {
        if input.year.is_none() {
            errors.push(FieldError::new("year", "REQUIRED", "年度:请填写"));
        }
        if input.text.trim().is_empty() {
            errors.push(FieldError::new(
                "text",
                "REQUIRED",
                "年度放假安排:请按日历文件格式填写 [[year]] 段",
            ));
        }
        input.year
    } else {
        None
    };
    if input.reason.trim().is_empty() {
        errors.push(FieldError::new(
            "reason",
            "REQUIRED",
            "调整原因:请填写(依据的通知或决定)",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let overlay = match (kind, date) {
        (CalendarEditKind::AddHoliday | CalendarEditKind::AddWorkday, Some(d)) => format!(
            "[[add]]\ndate = \"{d}\"\nkind = \"{}\"\nname = {}\nnote = {}\n",
            if kind == CalendarEditKind::AddHoliday {
                "holiday"
            } else {
                "workday"
            },
            quoted(name),
            quoted(input.reason.trim())
        ),
        (CalendarEditKind::Remove, Some(d)) => format!(
            "[[remove]]\ndate = \"{d}\"\nnote = {}\n",
            quoted(input.reason.trim())
        ),
        _ => input.text.clone(),
    };
    let cal =
        build(edits, Some(&overlay)).map_err(|e| AppError::invalid(vec![field_error(kind, &e)]))?;
    if let Some(y) = year {
        // The text must really be that year's notice, not some other block.
        let entered = cal
            .sources()
            .iter()
            .any(|s| s.year == y && s.file == "本次调整" && !s.provisional);
        let other = cal
            .sources()
            .iter()
            .any(|s| s.file == "本次调整" && s.year != y);
        if !entered || other {
            return Err(AppError::invalid(vec![FieldError::new(
                "text",
                "CALENDAR_YEAR_MISMATCH",
                format!("年度放假安排:应恰好包含 {y} 年的一个正式(非暂定)[[year]] 段"),
            )]));
        }
    }
    let name = match (kind, year) {
        (CalendarEditKind::Year, Some(y)) => cal
            .sources()
            .iter()
            .find(|s| s.year == y)
            .map(|s| s.notice.clone())
            .unwrap_or_default(),
        _ => name.to_string(),
    };
    Ok(NewCalendarEdit {
        kind,
        date,
        year,
        name,
        overlay,
        reason: input.reason.trim().to_string(),
    })
}

/// Checks an edit against the effective calendar and records it (every application sees it at
/// its next use).
pub async fn record_edit(
    state: &AppState,
    a: &Authorized<ManageCalendar>,
    input: &EditInput,
) -> Result<CalendarEdit, AppError> {
    let eff = state.app.params().await?.calendars.clone();
    // Checked against the calendar of the editor's jurisdiction, where it will apply.
    let new = prepare_edit(&eff.edits_in(a.grant.scope().root()), input)?;
    // The edit was checked against the calendar as its editor saw it: which edit that was is
    // part of the request, never assumed to be the newest stored.
    let expected = input.expected_seq.ok_or_else(|| {
        AppError::invalid(vec![FieldError::new(
            "expected_seq",
            "REQUIRED",
            "所依据的日历调整序号:请填写(即页面显示的最新调整序号,尚无调整时为 0)",
        )])
    })?;
    let rec = state
        .store
        .record_calendar_edit(&a.grant, expected, &new)
        .await?;
    Ok(rec)
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

/// A holiday or adjusted workday.
#[derive(Serialize, ToSchema)]
pub struct DayOut {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// holiday | workday
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    /// Where it is defined ("calendars/cn.toml:30", "管理员调整#1:1").
    pub defined_at: String,
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
    pub days: Vec<DayOut>,
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

/// The holidays and adjusted workdays of `year`, in date order.
pub fn days_of(cal: &WorkCalendar, year: i32) -> Vec<DayOut> {
    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return vec![];
    };
    first
        .iter_days()
        .take_while(|d| d.year() == year)
        .filter_map(|d| {
            let (kind, label, name) = match cal.day(d).ok()? {
                DayKind::Holiday { name } => ("holiday", "放假", name),
                DayKind::AdjustedWorkday { name } => ("workday", "调休上班", name),
                _ => return None,
            };
            Some(DayOut {
                date: d,
                kind: kind.into(),
                kind_label: label.into(),
                name,
                defined_at: cal
                    .defined_at(d)
                    .map(|(f, l)| format!("{f}:{l}"))
                    .unwrap_or_default(),
            })
        })
        .collect()
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
        days: if covered { days_of(cal, year) } else { vec![] },
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
    components(schemas(CalendarOut, YearOut, DayOut, EditOut, EditInput))
)]
pub struct CalendarApiDoc;

// ---- page -------------------------------------------------------------------------------------

struct MonthView {
    label: String,
    days: Vec<DayOut>,
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
