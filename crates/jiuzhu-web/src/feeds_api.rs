//! Departments' deliveries over HTTP and the warnings of the monthly comparison (docs/feeds.md):
//! `POST /api/v1/feeds/{kind}` (the body is the CSV file), `GET /api/v1/feeds`,
//! `GET /api/v1/warnings`, `POST /api/v1/warnings/{id}/close`. Thin: the work is
//! `jiuzhu_app::verification`, shared with the CLI, so the pages to come can call the same functions.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use jiuzhu_app::records::FeedError;
use jiuzhu_app::records::{CloseWarning, FeedDelivery, Rejection, WarningRecord, WarningResult};
use jiuzhu_app::verification::{self as feeds, NewFeedFile};
use jiuzhu_domain::access::{HandleWarnings, ImportFeeds};
use jiuzhu_domain::Department;
use jiuzhu_verify::FeedKind;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use crate::api::JsonBody;
use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError};
use crate::AppState;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/feeds", get(list_feeds))
        .route("/feeds/{kind}", post(push_feed))
        .route("/feeds/deliveries/{id}", get(get_delivery))
        .route("/warnings", get(crate::warnings::api_list))
        .route("/warnings/{id}/close", post(close_warning))
}

/// The departments whose officers deliver `kind` (which source an officer delivers for is the
/// source's binding, checked by the store).
pub fn departments_of(kind: FeedKind) -> &'static [Department] {
    match kind {
        FeedKind::MedicalClaims => &[Department::MedicalInsurance],
        FeedKind::SocialInsurance | FeedKind::Pensions => &[Department::HumanResources],
        FeedKind::RealEstate => &[Department::NaturalResources, Department::Housing],
        FeedKind::HousingFund => &[Department::HousingFund, Department::Housing],
        FeedKind::CivilDeaths | FeedKind::Vehicles | FeedKind::HukouMoves => {
            &[Department::PublicSecurity]
        }
        FeedKind::Deposits => &[Department::Finance],
        FeedKind::Business => &[Department::MarketRegulation],
        FeedKind::Imprisonment => &[Department::Justice],
    }
}

/// Whether an officer of `department` delivers `kind`.
pub fn delivers(department: Option<Department>, kind: FeedKind) -> bool {
    department.is_some_and(|d| departments_of(kind).contains(&d))
}

pub(crate) fn feed_error(e: FeedError) -> AppError {
    match e {
        FeedError::Store(e) => e.into(),
        FeedError::Io { .. } => AppError::internal(e),
        FeedError::Invalid(m) => AppError::bad_request(m),
    }
}

/// Refuses a delivery over the largest one accepted, as soon as it gets there (the staged file
/// is removed when the request ends).
pub(crate) fn check_delivery_size(received: u64) -> Result<(), AppError> {
    if received > jiuzhu_verify::ingest::MAX_BYTES {
        let limit = jiuzhu_sheet::Limit::FileBytes(jiuzhu_verify::ingest::MAX_BYTES);
        return Err(AppError::limit(jiuzhu_sheet::LimitExceeded::new(limit)));
    }
    Ok(())
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PushParams {
    /// The delivering department or institution.
    source: Option<String>,
    /// The date the data describes, YYYY-MM-DD.
    data_date: Option<String>,
}

/// Delivers a data file (the request body, UTF-8 CSV; formats in docs/feeds.md). Department
/// officers may push their own department's kinds only. Returns the delivery's provenance and
/// its rejected rows; a delivery refused by the source's policy is recorded and returned with
/// status 422.
#[utoipa::path(post, path = "/api/v1/feeds/{kind}", tag = "verification",
    params(("kind" = String, Path, description = "feed kind, e.g. medical_claims"), PushParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = DeliveryOut),
        (status = 403, body = crate::error::ErrorEnvelope),
        (status = 422, description = "the source's policy refused the delivery (recorded as refused)",
            body = DeliveryOut)))]
pub async fn push_feed(
    State(state): State<AppState>,
    a: Authorized<ImportFeeds>,
    Path(kind): Path<String>,
    Query(p): Query<PushParams>,
    body: Body,
) -> Result<Response, ApiError> {
    let kind = FeedKind::parse(&kind).ok_or_else(AppError::not_found)?;
    let actor = a.grant.actor();
    if actor.role.is_department() && !delivers(actor.department, kind) {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "FEED_NOT_YOUR_DEPARTMENT",
            format!("本部门不能报送“{}”数据", kind.label_zh()),
        )
        .into());
    }
    let source = p
        .source
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| AppError::bad_request("缺少数据来源 source"))?;
    let data_date = p
        .data_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| AppError::bad_request("数据日期 data_date 应为 YYYY-MM-DD"))?;
    let staged = state.app.feeds().stage_new().map_err(feed_error)?;
    // The body goes to disk as it arrives: a delivery is never held in memory.
    let mut out = feeds::create_private_file(staged.path())
        .await
        .map_err(AppError::internal)?;
    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    let limit = crate::limits::upload_limit(&state.config, "/api/v1/feeds/");
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| crate::limits::body_error(e, limit))?
    {
        received += chunk.len() as u64;
        check_delivery_size(received)?;
        out.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    out.flush().await.map_err(AppError::internal)?;
    drop(out);
    let path = staged.into_path();
    let imported = feeds::import_feed(
        &state.app,
        &a.grant,
        &NewFeedFile {
            kind,
            source,
            data_date,
            path: path.clone(),
            staged: true,
        },
    )
    .await;
    let _ = std::fs::remove_file(&path);
    let imported = imported.map_err(feed_error)?;
    let d = &imported.delivery;
    let status = if d.status == "refused" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(DeliveryOut {
            delivery: d.clone(),
            rejected_rows: imported.rejections,
        }),
    )
        .into_response())
}

/// A delivery as recorded, with its rejected rows (row, column, code, Chinese reason).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub delivery: FeedDelivery,
    pub rejected_rows: Vec<Rejection>,
}

/// Deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<FeedDelivery>,
}

/// A delivery read back with the rejected rows the store keeps (the first 1,000; the delivery
/// counts them all).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryReadBack {
    pub delivery: FeedDelivery,
    pub rejected_rows: Vec<Rejection>,
    pub rejected_rows_kept: usize,
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct FeedListParams {
    kind: Option<String>,
    limit: Option<i64>,
}

/// Deliveries, newest first: every one for readers of the monthly comparison; a department
/// officer only those of its department's kinds.
#[utoipa::path(get, path = "/api/v1/feeds", tag = "verification", params(FeedListParams),
    responses((status = 200, body = DeliveryList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn list_feeds(
    State(state): State<AppState>,
    a: Auth,
    Query(p): Query<FeedListParams>,
) -> Result<Json<DeliveryList>, ApiError> {
    let reader = crate::feed_pages::delivery_reader(a.actor())?;
    let items = state
        .app
        .list_deliveries(&reader, p.kind.as_deref(), p.limit.unwrap_or(50))
        .await?;
    Ok(Json(DeliveryList { items }))
}

#[derive(Deserialize, ToSchema)]
pub struct CloseInput {
    /// no_effect | adjust | suspend | stop | refer
    result: String,
    /// What the check found (visit, documents).
    note: String,
    /// The warning's current `row_version` (409 when it moved).
    row_version: i64,
    /// The date of the home visit or check (YYYY-MM-DD, optional).
    #[serde(default)]
    visit_date: Option<String>,
    /// Documents of the household the closure cites (ids, optional).
    #[serde(default)]
    attachments: Vec<i64>,
    /// For `adjust`: the verified value of the fact the warning revealed (financial assets,
    /// homes, vehicles, business registrations, the household's monthly income, a medical
    /// cost), recorded in the household's economic record before the change case opens.
    #[serde(default)]
    fact_value: Option<String>,
}

/// Closes (销号) a warning with the check's result.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/close", tag = "verification",
    params(("id" = i64, Path)), request_body = CloseInput,
    responses((status = 200, body = WarningRecord), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn close_warning(
    State(state): State<AppState>,
    a: Authorized<HandleWarnings>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<CloseInput>,
) -> Result<Json<WarningRecord>, ApiError> {
    let result = WarningResult::parse(&input.result).ok_or_else(|| {
        AppError::invalid(vec![jiuzhu_domain::FieldError::new(
            "result",
            "RESULT_UNKNOWN",
            "核查结果应为 no_effect、adjust、suspend、stop 或 refer",
        )])
    })?;
    let visit_date = crate::warnings::parse_visit_date(&input.visit_date, state.clock.today())?;
    // adjust records the fact first; adjust/suspend/stop open a change case.
    let w = jiuzhu_app::verification::closing::close_warning(
        &state.app,
        &a.grant,
        id,
        input.row_version,
        CloseWarning {
            result,
            note: input.note,
            visit_date,
            attachments: input.attachments,
        },
        input.fact_value.as_deref(),
    )
    .await?;
    Ok(Json(w))
}

/// Reads back one delivery the caller reads (a department officer: one of its own sources') with
/// every rejected row the store kept (row, column, code, reason), so that a department's system
/// can check what was taken and what to correct. 404 for any other delivery.
#[utoipa::path(get, path = "/api/v1/feeds/deliveries/{id}", tag = "verification",
    params(("id" = i64, Path)),
    responses((status = 200, body = DeliveryReadBack), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn get_delivery(
    State(state): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> Result<Json<DeliveryReadBack>, ApiError> {
    let reader = crate::feed_pages::delivery_reader(a.actor())?;
    let delivery = state
        .app
        .get_delivery(&reader, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let rejected = state.app.delivery_rejections(&reader, id).await?;
    Ok(Json(DeliveryReadBack {
        delivery,
        rejected_rows_kept: rejected.len(),
        rejected_rows: rejected,
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(push_feed, list_feeds, close_warning, get_delivery),
    components(schemas(DeliveryOut, DeliveryList, DeliveryReadBack, FeedDelivery, Rejection))
)]
pub struct FeedsApiDoc;
