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
use jiuzhu_app::verification as feeds;
use jiuzhu_domain::access::{ReadVerification, RevealSensitive};
use jiuzhu_domain::id_number::mask_id_str;
use jiuzhu_domain::{Action, Actor, AuditAction, DivisionCode, Grant};
use jiuzhu_store::kept::FeedFiles;
use jiuzhu_store::{DeliveryReader, LeadQuery, LeadRecord};
use jiuzhu_verify::parse;
use jiuzhu_verify::source_row::SourceRow;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Authorized;
use crate::error::{ApiError, AppError, PageError};
use crate::feed_pages::source_names;
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

/// A cell of the source row: the column's Chinese label and the value delivered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceCellView {
    pub label: String,
    pub text: String,
}

/// The delivery row a lead comes from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceRowView {
    pub delivery_id: i64,
    /// The registered source (the medical insurance office or insurer) by name.
    pub source: String,
    pub data_date: String,
    /// The department's own line or sheet row.
    pub row: i64,
    /// The name the row gives, if the delivery has a 姓名 column.
    pub name: Option<String>,
    /// The identity number: masked unless revealed.
    pub id_number: String,
    pub revealed: bool,
    /// The schema's columns other than the name and number, as delivered.
    pub cells: Vec<SourceCellView>,
}

const MASK: &str = "***";

/// Whether a delivery row is the claim the lead was raised on: the same masked person, the same
/// settlement date and the same out-of-pocket amount.
fn same_claim(row: &SourceRow, lead: &LeadRecord, full_number: &str) -> bool {
    let date = row
        .get("settlement_date")
        .and_then(|d| parse::date(d.as_bytes()).ok());
    let lead_date = parse::date(lead.settlement_date.to_string().as_bytes()).ok();
    let amount = row
        .get("out_of_pocket")
        .and_then(|a| parse::fen(a.as_bytes()).ok());
    mask_id_str(full_number) == lead.person
        && date.is_some()
        && date == lead_date
        && amount == Some(lead.out_of_pocket.fen())
}

/// A lead and its source row (`source` is absent when the delivery is not kept or the row can no
/// longer be read; `source_missing` says why).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeadDetail {
    pub lead: LeadRecord,
    pub source: Option<SourceRowView>,
    pub source_missing: Option<String>,
}

async fn lead_of(
    state: &AppState,
    g: &Grant<ReadVerification>,
    id: i64,
) -> Result<LeadRecord, AppError> {
    let q = LeadQuery {
        id: Some(id),
        limit: 1,
        ..LeadQuery::default()
    };
    let page = state.store.list_outreach_leads(g, &q).await?;
    page.items
        .into_iter()
        .next()
        .ok_or_else(AppError::not_found)
}

/// The lead with its source row; with `reveal`, the full number, the reveal audited first.
async fn detail(
    state: &AppState,
    actor: &Actor,
    g: &Grant<ReadVerification>,
    id: i64,
    reveal: Option<&Grant<RevealSensitive>>,
) -> Result<LeadDetail, AppError> {
    let lead = lead_of(state, g, id).await?;
    let missing = |why: &str| LeadDetail {
        lead: lead.clone(),
        source: None,
        source_missing: Some(why.to_string()),
    };
    let Some(delivery_id) = lead.delivery_id else {
        return Ok(missing("该线索未记录来源批次"));
    };
    let reader = DeliveryReader::Verification(g.actor().grant()?);
    let Some(d) = state.store.get_delivery(&reader, delivery_id).await? else {
        return Ok(missing("来源批次不在您的查看范围内"));
    };
    let files = FeedFiles::new(&state.config.feeds_dir);
    let (kept, row) = (d.clone(), lead.row);
    let read = tokio::task::spawn_blocking(move || feeds::read_kept_row(&files, &kept, row))
        .await
        .map_err(AppError::internal)?;
    let row = match read {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(missing("来源批次中该行已无法读取")),
        Err(e) => {
            tracing::warn!(delivery = d.id, error = %e, "a lead's source row is unreadable");
            return Ok(missing("来源批次文件无法读取,请联系系统管理员"));
        }
    };
    let full = row.get("id_number").unwrap_or_default().to_string();
    // The kept file is addressed by its hash; a row about someone else would be a fault of ours.
    // The masked number tells little (its region), so the claim's date and amount must match too.
    if !same_claim(&row, &lead, &full) {
        return Ok(missing("来源行与线索不符"));
    }
    if let Some(g) = reveal {
        let division = DivisionCode::parse(&lead.division).map_err(AppError::internal)?;
        state
            .store
            .append_audit(
                g.actor(),
                AuditAction::SensitiveRevealed,
                "outreach_lead",
                Some(&id.to_string()),
                Some(&division),
                Some(&format!(
                    "outreach_lead id_number (delivery {delivery_id} row {})",
                    lead.row
                )),
            )
            .await?;
    }
    let names = source_names(state, actor).await?;
    let source = names
        .get(&(d.kind.clone(), d.source.clone()))
        .cloned()
        .unwrap_or_else(|| d.source.clone());
    Ok(LeadDetail {
        source: Some(SourceRowView {
            delivery_id,
            source,
            data_date: d.data_date.to_string(),
            row: lead.row,
            name: row.get("name").map(str::to_string),
            id_number: if reveal.is_some() {
                full
            } else {
                lead.person.clone()
            },
            revealed: reveal.is_some(),
            cells: row
                .cells
                .iter()
                .filter(|c| c.column != "id_number" && c.column != "name" && !c.text.is_empty())
                .map(|c| SourceCellView {
                    label: c.label_zh.to_string(),
                    // Health data: the costs beyond what the lead states (its out-of-pocket
                    // amount) are shown by the audited reveal only.
                    text: if reveal.is_none() && c.column == "total_cost" {
                        MASK.to_string()
                    } else {
                        c.text.clone()
                    },
                })
                .collect(),
        }),
        source_missing: None,
        lead,
    })
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
    Ok(Json(detail(&state, a.actor(), &a.grant, id, None).await?))
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
    Ok(Json(
        detail(&state, a.actor(), &read, id, Some(&a.grant)).await?,
    ))
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
    let d = detail(&state, a.actor(), &a.grant, id, None).await?;
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
    let d = detail(&state, a.actor(), &read, id, Some(&a.grant)).await?;
    Ok(page(Nav::new(&a.auth, "政策找人线索"), a.actor(), d))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_lead, api_reveal),
    components(schemas(LeadDetail, SourceRowView, SourceCellView))
)]
pub struct LeadPagesApiDoc;
