//! One outreach lead (政策找人) with the row of the medical delivery it comes from:
//! `/verification/leads/{id}` and `GET /api/v1/verification/leads/{id}` show what that row says —
//! the name where the file gives one, the values, the identity number masked; `POST …/reveal`
//! shows the full number to a user who may reveal sensitive data, audited before it is shown
//! (the person may be unknown to the registry, so the delivery is the only place it is).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiuzhu_domain::access::{ReadVerification, RevealSensitive};
use jiuzhu_domain::{Action, Actor, Grant};

use crate::auth::Authorized;
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, Nav};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verification/leads/{id}", get(lead_page))
        .route("/verification/leads/{id}/reveal", post(reveal_form))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/verification/leads/{id}", get(api_lead))
        .route("/verification/leads/{id}/reveal", post(api_reveal))
}

pub use jiuzhu_app::verification::leads::{LeadDetail, SourceCellView, SourceRowView};

/// The lead with its source row (`jiuzhu_app::verification::leads::detail`).
async fn detail(
    state: &AppState,
    g: &Grant<ReadVerification>,
    id: i64,
    reveal: Option<&Grant<RevealSensitive>>,
) -> Result<LeadDetail, AppError> {
    Ok(jiuzhu_app::verification::leads::detail(&state.app, g, id, reveal).await?)
}

/// A lead with the row of the delivery it comes from, the identity number masked.
#[utoipa::path(get, path = "/api/v1/verification/leads/{id}", tag = "verification",
    params(("id" = i64, Path)),
    responses((status = 200, body = LeadDetail), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_lead(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Path(id): Path<i64>,
) -> Result<Json<LeadDetail>, ApiError> {
    Ok(Json(detail(&state, &a.grant, id, None).await?))
}

/// The same with the full identity number from the delivery; the reveal is audited.
#[utoipa::path(post, path = "/api/v1/verification/leads/{id}/reveal", tag = "verification",
    params(("id" = i64, Path)),
    responses((status = 200, body = LeadDetail), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_reveal(
    State(state): State<AppState>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<i64>,
) -> Result<Json<LeadDetail>, ApiError> {
    let read = a
        .actor()
        .grant::<ReadVerification>()
        .map_err(AppError::from)?;
    Ok(Json(detail(&state, &read, id, Some(&a.grant)).await?))
}

#[derive(Template)]
#[template(path = "verification/lead.html")]
struct LeadPage {
    nav: Nav,
    d: LeadDetail,
    may_reveal: bool,
    may_apply: bool,
    can_handle: bool,
}

fn page(a_nav: Nav, actor: &Actor, d: LeadDetail) -> Response {
    render(&LeadPage {
        nav: a_nav,
        may_reveal: actor.may(Action::RevealSensitive),
        may_apply: actor.may(Action::RegisterApplication),
        can_handle: actor.may(Action::HandleWarnings),
        d,
    })
}

async fn lead_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let d = detail(&state, &a.grant, id, None).await?;
    Ok(page(Nav::new(&a.auth, "政策找人线索"), a.actor(), d))
}

async fn reveal_form(
    State(state): State<AppState>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let read = a
        .actor()
        .grant::<ReadVerification>()
        .map_err(AppError::from)?;
    let d = detail(&state, &read, id, Some(&a.grant)).await?;
    Ok(page(Nav::new(&a.auth, "政策找人线索"), a.actor(), d))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_lead, api_reveal),
    components(schemas(LeadDetail, SourceRowView, SourceCellView))
)]
pub struct LeadPagesApiDoc;
