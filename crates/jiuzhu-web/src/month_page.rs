//! `/month` (月度测算) and `GET /api/v1/month`: the month for every household of the user's
//! jurisdiction, computed from the store (`jiuzhu_app::month::report`), with the figures by
//! township and the households that could not be computed, each linked to its page. Computed on
//! request: the demo county (5,000 households) takes well under a second.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{DivisionCode, FieldError};
use jiuzhu_policy::caseload::Totals;
use jiuzhu_policy::Month;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authorized;
use crate::calc::{field_label, parse_month};
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, Nav};
use crate::AppState;
use jiuzhu_app::month::{self, township_names, MonthOutput};

pub fn routes() -> Router<AppState> {
    Router::new().route("/month", get(month_page))
}

/// Failed households shown on the page (all are in the JSON).
const FAILED_SHOWN: usize = 200;

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct MonthParams {
    /// `YYYY-MM` (default: the current month).
    pub month: Option<String>,
    /// Only this division and below (within the caller's jurisdiction).
    pub division: Option<String>,
}

fn parse(state: &AppState, p: &MonthParams) -> Result<(Month, Option<DivisionCode>), AppError> {
    let mut errors = Vec::new();
    let month = match p.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => parse_month(m).map_err(|e| errors.push(e)).ok(),
        None => Some(Month::of(state.clock.today())),
    };
    let division = match p
        .division
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => DivisionCode::parse(d)
            .map_err(|e| {
                errors.push(FieldError::new(
                    "division",
                    "DIVISION_INVALID",
                    format!("“{d}”{}", e.message_zh()),
                ))
            })
            .ok(),
        None => None,
    };
    match month {
        Some(m) if errors.is_empty() => Ok((m, division)),
        _ => Err(AppError::invalid(errors)),
    }
}

async fn compute(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    month: Month,
    division: Option<&DivisionCode>,
) -> Result<MonthOutput, AppError> {
    Ok(month::report(&state.app, &a.grant, month, division).await?)
}

/// The month for every household of the caller's jurisdiction, from the store.
///
/// Every household in scope (under `division` if given) is read as of the month's last day (not
/// after today) with its economic record (家庭经济状况) and computed with the effective policies.
/// The answer: `{month, as_of, division, totals, by_township, failed}` — totals and each
/// township with `households`, `dibao_households`, `dibao_persons`, `dibao_base`,
/// `dibao_supplements`, `dibao`, `tekun`, `total` (money as decimal strings); `failed` lists
/// households that could not be computed (`household_id`, `code`, `errors`), e.g. code
/// `ECONOMICS_MISSING` (缺少经济状况信息).
#[utoipa::path(get, path = "/api/v1/month", tag = "calc", params(MonthParams),
    responses((status = 200, body = MonthOutput, description = "docs/calc.md"),
        (status = 401, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_month(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(p): Query<MonthParams>,
) -> Result<Json<MonthOutput>, ApiError> {
    let (month, division) = parse(&state, &p)?;
    Ok(Json(compute(&state, &a, month, division.as_ref()).await?))
}

struct TotalsRow {
    township: String,
    name: String,
    households: u64,
    dibao_households: u64,
    dibao_persons: u64,
    dibao_base: String,
    dibao_supplements: String,
    dibao: String,
    tekun: String,
    total: String,
}

fn row(township: &str, name: &str, t: &Totals) -> TotalsRow {
    TotalsRow {
        township: township.to_string(),
        name: name.to_string(),
        households: t.households,
        dibao_households: t.dibao_households,
        dibao_persons: t.dibao_persons,
        dibao_base: t.dibao_base.to_string(),
        dibao_supplements: t.dibao_supplements.to_string(),
        dibao: t.dibao.to_string(),
        tekun: t.tekun.to_string(),
        total: t.total.to_string(),
    }
}

struct FailedRow {
    id: i64,
    code: String,
    reasons: String,
}

#[derive(Template)]
#[template(path = "month.html")]
struct MonthPage {
    nav: Nav,
    month: String,
    division: String,
    as_of: String,
    total: TotalsRow,
    townships: Vec<TotalsRow>,
    failed_count: usize,
    failed: Vec<FailedRow>,
}

async fn month_page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(p): Query<MonthParams>,
) -> Result<Response, PageError> {
    let (month, division) = parse(&state, &p)?;
    let out = compute(&state, &a, month, division.as_ref()).await?;
    let names = township_names(&state.app, &a.grant).await?;
    let name = |c: &str| names.get(c).cloned().unwrap_or_default();
    Ok(render(&MonthPage {
        nav: Nav::new(&a.auth, "月度测算"),
        month: month.to_string(),
        division: division.map(|d| d.to_string()).unwrap_or_default(),
        as_of: out.as_of.to_string(),
        total: row("合计", "", &out.totals),
        townships: out
            .by_township
            .iter()
            .map(|(t, x)| row(t, &name(t), x))
            .collect(),
        failed_count: out.failed.len(),
        failed: out
            .failed
            .iter()
            .take(FAILED_SHOWN)
            .map(|f| FailedRow {
                id: f.household_id,
                code: f.code.clone(),
                reasons: f
                    .errors
                    .iter()
                    .map(|e| {
                        if e.field == "economics" {
                            e.message.clone()
                        } else {
                            format!("{}:{}", field_label(&e.field, &[]), e.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
            })
            .collect(),
    }))
}
