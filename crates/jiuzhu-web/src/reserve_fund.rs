//! The township reserve fund (备用金, R-LS-4): urgent temporary assistance is paid at once from it
//! (先行救助) and the approval completed after. `/reserve-fund` shows a township its balance,
//! ledger and the top-up / withdrawal / return forms, and a county every township's balance;
//! below the policy's minimum (`temporary.reserve_fund.minimum`) both show a warning.
//! `/api/v1/reserve-fund…` is the same as JSON.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::{ReserveEntry, ReserveFund};
use jiuzhu_domain::access::{ManageReserveFund, ReadCases};
use jiuzhu_domain::{Action, DivisionCode, Money};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::Authorized;
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, render_status, Nav};
use crate::AppState;

/// The warning shown when a township's balance is below the minimum.
pub use jiuzhu_app::reserve_fund::{below, parse_township, EntryInput, LOW_BALANCE_WARNING};

/// The minimum balance in force for a township today.
async fn minimum(state: &AppState, township: &DivisionCode) -> Result<Option<Money>, AppError> {
    Ok(jiuzhu_app::reserve_fund::minimum(&state.app, township).await?)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reserve-fund", get(page))
        .route("/reserve-fund/{township}/entries", post(entry_submit))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/reserve-fund", get(api_funds)).route(
        "/reserve-fund/{township}/entries",
        get(api_entries).post(api_record),
    )
}

/// A ledger entry as the API answers it (the payee's number masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryOut {
    pub id: i64,
    pub seq: i64,
    pub township: String,
    /// top_up | withdrawal | return
    pub kind: &'static str,
    pub kind_label: &'static str,
    #[schema(value_type = String)]
    pub amount: Money,
    #[schema(value_type = String)]
    pub balance_after: Money,
    pub case_id: Option<i64>,
    pub payee_name: Option<String>,
    pub payee_id_masked: Option<String>,
    pub reason: String,
    pub voucher: Option<String>,
    pub recorded_by: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub on: NaiveDate,
}

fn entry_out(e: &ReserveEntry) -> EntryOut {
    EntryOut {
        id: e.id,
        seq: e.seq,
        township: e.township.to_string(),
        kind: e.kind.as_str(),
        kind_label: e.kind.label_zh(),
        amount: e.amount,
        balance_after: e.balance_after,
        case_id: e.case_id,
        payee_name: e.payee_name.clone(),
        payee_id_masked: e.payee_id_masked.clone(),
        reason: e.reason.clone(),
        voucher: e.voucher.clone(),
        recorded_by: e.recorded_by.clone(),
        recorded_at: e.recorded_at,
        on: e.on,
    }
}

/// A township's fund: balance, the policy's minimum and the low-balance warning.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundOut {
    pub township: String,
    pub name: String,
    #[schema(value_type = String)]
    pub balance: Money,
    #[schema(value_type = Option<String>)]
    pub minimum: Option<Money>,
    pub below_minimum: bool,
    pub warning: Option<&'static str>,
    pub entries: i64,
    pub last_entry_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn fund_out(f: &ReserveFund, min: Option<Money>) -> FundOut {
    let low = below(f.balance, min);
    FundOut {
        township: f.township.to_string(),
        name: f.name.clone(),
        balance: f.balance,
        minimum: min,
        below_minimum: low,
        warning: low.then_some(LOW_BALANCE_WARNING),
        entries: f.entries,
        last_entry_at: f.last_entry_at,
    }
}

/// Every township's fund, as of `today`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundList {
    pub today: NaiveDate,
    pub items: Vec<FundOut>,
}

/// A township's fund with its ledger, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FundLedger {
    #[serde(flatten)]
    pub fund: FundOut,
    pub items: Vec<EntryOut>,
}

// ---- API --------------------------------------------------------------------------------------

/// Every township in the caller's jurisdiction: balance, minimum and the low-balance warning.
#[utoipa::path(get, path = "/api/v1/reserve-fund", tag = "reserve_fund",
    responses((status = 200, body = FundList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_funds(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
) -> Result<Json<FundList>, ApiError> {
    let funds = state.app.reserve_funds(&a.grant).await?;
    let mut items = Vec::new();
    for f in &funds {
        items.push(fund_out(f, minimum(&state, &f.township).await?));
    }
    Ok(Json(FundList {
        today: state.clock.today(),
        items,
    }))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct EntriesParams {
    /// At most this many entries, newest first (default 50).
    limit: Option<i64>,
}

/// A township's balance and ledger, newest first.
#[utoipa::path(get, path = "/api/v1/reserve-fund/{township}/entries", tag = "reserve_fund",
    params(("township" = String, Path, description = "township code"), EntriesParams),
    responses((status = 200, body = FundLedger), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_entries(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(township): Path<String>,
    Query(p): Query<EntriesParams>,
) -> Result<Json<FundLedger>, ApiError> {
    let township = parse_township(&township)?;
    let entries = state
        .app
        .reserve_fund_entries(&a.grant, &township, p.limit.unwrap_or(50))
        .await?;
    let fund = state
        .app
        .reserve_funds(&a.grant)
        .await?
        .into_iter()
        .find(|f| f.township == township)
        .ok_or_else(AppError::not_found)?;
    Ok(Json(FundLedger {
        fund: fund_out(&fund, minimum(&state, &township).await?),
        items: entries.iter().map(entry_out).collect(),
    }))
}

/// Records a top-up, withdrawal or return. A withdrawal over the balance is refused (422,
/// `RESERVE_INSUFFICIENT`).
#[utoipa::path(post, operation_id = "record_reserve_fund_entry", path = "/api/v1/reserve-fund/{township}/entries", tag = "reserve_fund",
    params(("township" = String, Path, description = "township code")), request_body = EntryInput,
    responses((status = 201, body = EntryOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_record(
    State(state): State<AppState>,
    a: Authorized<ManageReserveFund>,
    Path(township): Path<String>,
    JsonBody(input): JsonBody<EntryInput>,
) -> Result<Response, ApiError> {
    let e = jiuzhu_app::reserve_fund::record(&state.app, &a.grant, &township, &input).await?;
    Ok((StatusCode::CREATED, Json(entry_out(&e))).into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(api_funds, api_entries, api_record))]
pub struct ReserveFundApiDoc;

// ---- page -------------------------------------------------------------------------------------

struct FundRow {
    township: String,
    name: String,
    balance: String,
    minimum: String,
    low: bool,
    entries: i64,
}

struct EntryRow {
    seq: i64,
    on: String,
    kind: String,
    amount: String,
    balance_after: String,
    case_id: String,
    payee: String,
    reason: String,
    voucher: String,
    recorded_by: String,
}

#[derive(Template)]
#[template(path = "reserve/index.html")]
struct FundPage {
    nav: Nav,
    funds: Vec<FundRow>,
    any_low: bool,
    /// The township shown in detail, if any.
    detail: Option<FundRow>,
    entries: Vec<EntryRow>,
    can_manage: bool,
    errors: Vec<String>,
    prefill_case: String,
    today: String,
    warning: &'static str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageParams {
    township: Option<String>,
    case: Option<String>,
}

async fn fund_row(state: &AppState, f: &ReserveFund) -> Result<FundRow, AppError> {
    let min = minimum(state, &f.township).await?;
    Ok(FundRow {
        township: f.township.to_string(),
        name: f.name.clone(),
        balance: f.balance.to_string(),
        minimum: min
            .map(|m| m.to_string())
            .unwrap_or_else(|| "未规定".into()),
        low: below(f.balance, min),
        entries: f.entries,
    })
}

async fn page_view(
    state: &AppState,
    a: &Authorized<ReadCases>,
    township: Option<&str>,
    prefill_case: String,
    errors: Vec<String>,
) -> Result<FundPage, AppError> {
    let funds = state.app.reserve_funds(&a.grant).await?;
    let mut rows = Vec::new();
    for f in &funds {
        rows.push(fund_row(state, f).await?);
    }
    // A township user sees their own township in detail; others choose one.
    let chosen = match township {
        Some(t) => Some(parse_township(t)?),
        None if funds.len() == 1 => Some(funds[0].township.clone()),
        None => None,
    };
    let (detail, entries) = match chosen {
        Some(t) => {
            let entries = state.app.reserve_fund_entries(&a.grant, &t, 200).await?;
            let idx = funds
                .iter()
                .position(|f| f.township == t)
                .ok_or_else(AppError::not_found)?;
            let e = entries
                .iter()
                .map(|e| EntryRow {
                    seq: e.seq,
                    on: e.on.to_string(),
                    kind: e.kind.label_zh().to_string(),
                    amount: e.amount.to_string(),
                    balance_after: e.balance_after.to_string(),
                    case_id: e.case_id.map(|c| c.to_string()).unwrap_or_default(),
                    payee: [e.payee_name.clone(), e.payee_id_masked.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                    reason: e.reason.clone(),
                    voucher: e.voucher.clone().unwrap_or_default(),
                    recorded_by: e.recorded_by.clone(),
                })
                .collect();
            (Some(fund_row(state, &funds[idx]).await?), e)
        }
        None => (None, Vec::new()),
    };
    Ok(FundPage {
        any_low: rows.iter().any(|r| r.low),
        funds: rows,
        detail,
        entries,
        can_manage: a.actor().may(Action::ManageReserveFund),
        errors,
        prefill_case,
        today: state.clock.today().to_string(),
        warning: LOW_BALANCE_WARNING,
        nav: Nav::new(&a.auth, "临时救助备用金"),
    })
}

async fn page(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Query(p): Query<PageParams>,
) -> Result<Response, PageError> {
    let view = page_view(
        &state,
        &a,
        p.township.as_deref().filter(|t| !t.is_empty()),
        p.case.unwrap_or_default(),
        vec![],
    )
    .await?;
    Ok(render(&view))
}

async fn entry_submit(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(township): Path<String>,
    Form(input): Form<EntryInput>,
) -> Result<Response, PageError> {
    let grant = a.actor().grant::<ManageReserveFund>()?;
    let result = jiuzhu_app::reserve_fund::record(&state.app, &grant, &township, &input)
        .await
        .map_err(AppError::from);
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/reserve-fund?township={township}")).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors: Vec<String> = e.fields.iter().map(|f| f.message.clone()).collect();
            let view = page_view(
                &state,
                &a,
                Some(&township),
                input.case_id.clone().unwrap_or_default(),
                errors,
            )
            .await?;
            Ok(render_status(e.status, &view))
        }
        Err(e) => Err(e.into()),
    }
}
