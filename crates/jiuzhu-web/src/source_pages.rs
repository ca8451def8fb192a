//! The registered data providers (数据来源, docs/feeds.md): `/verification/sources` lists every
//! source serving the reader's jurisdiction with its delivering accounts; the county manager
//! registers sources, renames them, binds accounts and retires them there, and through
//! `/api/v1/verification/sources`. Thin: the rules and the audit are the store's.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jiuzhu_app::records::{
    DeliveryReader, FeedSource, FeedSourceChange, NewFeedSource, SourceAccount,
};
use jiuzhu_domain::access::{ManageFeedSources, ReadVerification};
use jiuzhu_domain::Actor;
use jiuzhu_verify::FeedKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::JsonBody;
use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::pages::see_other;
use crate::views::{fmt_time, render_status, Nav};
use crate::warnings::source_label;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/verification/sources",
            get(sources_page).post(register_form),
        )
        .route("/verification/sources/{id}", post(change_form))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/verification/sources",
            get(api_list_sources).post(api_register_source),
        )
        .route("/verification/sources/{id}", post(api_change_source))
}

struct SourceRow {
    id: i64,
    kind_zh: String,
    code: String,
    name: String,
    retired: bool,
    row_version: i64,
    accounts: String,
    /// Candidate accounts with whether each is bound: (id, label, bound).
    choices: Vec<(i64, String, bool)>,
    created: String,
}

/// What the register form held (kept when it is refused).
#[derive(Default)]
struct Typed {
    kind: String,
    code: String,
    name: String,
    accounts: Vec<i64>,
}

#[derive(Template)]
#[template(path = "verification/sources.html")]
struct SourcesPage {
    nav: Nav,
    can_manage: bool,
    kinds: Vec<(String, String)>,
    candidates: Vec<(i64, String)>,
    typed: Typed,
    rows: Vec<SourceRow>,
    errors: Vec<String>,
}

fn account_label(a: &SourceAccount) -> String {
    format!("{}({})", a.display_name, a.username)
}

async fn page(
    state: &AppState,
    auth: &Auth,
    typed: Typed,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let actor = auth.actor();
    let reader = DeliveryReader::Verification(actor.grant::<ReadVerification>()?);
    let mut sources = state.app.feed_sources(&reader).await?;
    // In service first, then in the order of the kinds (as the forms list them), then by name.
    let rank = |kind: &str| FeedKind::ALL.iter().position(|k| k.as_str() == kind);
    sources.sort_by(|a, b| {
        (a.retired, rank(&a.kind), &a.name).cmp(&(b.retired, rank(&b.kind), &b.name))
    });
    let manage = actor.grant::<ManageFeedSources>().ok();
    let candidates = match &manage {
        Some(g) => state.app.source_account_candidates(g).await?,
        None => Vec::new(),
    };
    let rows = sources
        .iter()
        .map(|s| SourceRow {
            id: s.id,
            kind_zh: source_label(&s.kind),
            code: s.code.clone(),
            name: s.name.clone(),
            retired: s.retired,
            row_version: s.row_version,
            accounts: s
                .accounts
                .iter()
                .map(account_label)
                .collect::<Vec<_>>()
                .join("、"),
            choices: candidates
                .iter()
                .map(|c| {
                    let bound = s.accounts.iter().any(|a| a.user_id == c.user_id);
                    (c.user_id, account_label(c), bound)
                })
                .collect(),
            created: fmt_time(s.created_at),
        })
        .collect();
    let view = SourcesPage {
        nav: Nav::new(auth, "核对数据来源"),
        can_manage: manage.is_some(),
        kinds: FeedKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label_zh().to_string()))
            .collect(),
        candidates: candidates
            .iter()
            .map(|c| (c.user_id, account_label(c)))
            .collect(),
        typed,
        rows,
        errors,
    };
    Ok(render_status(status, &view))
}

async fn sources_page(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
) -> Result<Response, PageError> {
    page(&state, &a.auth, Typed::default(), vec![], StatusCode::OK).await
}

/// The form's fields: repeated `account` boxes, so read as pairs.
fn read_form(fields: Vec<(String, String)>) -> (Typed, bool, i64) {
    let mut t = Typed::default();
    let (mut retired, mut row_version) = (false, 0);
    for (k, v) in fields {
        match k.as_str() {
            "kind" => t.kind = v,
            "code" => t.code = v.trim().to_string(),
            "name" => t.name = v.trim().to_string(),
            "account" => t.accounts.extend(v.trim().parse::<i64>().ok()),
            "retired" => retired = v == "on" || v == "1",
            "row_version" => row_version = v.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    (t, retired, row_version)
}

fn new_source(actor: &Actor, t: &Typed) -> NewFeedSource {
    NewFeedSource {
        kind: t.kind.clone(),
        code: t.code.clone(),
        name: t.name.clone(),
        // Registered at the manager's own level: a county's sources are the county's.
        division: actor.scope.root().clone(),
        accounts: t.accounts.clone(),
    }
}

async fn register_form(
    State(state): State<AppState>,
    a: Authorized<ManageFeedSources>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (typed, _, _) = read_form(fields);
    let new = new_source(a.actor(), &typed);
    match state.app.register_feed_source(&a.grant, &new).await {
        Ok(_) => Ok(see_other("/verification/sources")),
        Err(e) => {
            let e = AppError::from(e);
            page(&state, &a.auth, typed, e.messages_for_people(), e.status).await
        }
    }
}

async fn change_form(
    State(state): State<AppState>,
    a: Authorized<ManageFeedSources>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (typed, retired, row_version) = read_form(fields);
    let change = FeedSourceChange {
        name: typed.name,
        accounts: typed.accounts,
        retired,
        row_version,
    };
    match state.app.change_feed_source(&a.grant, id, &change).await {
        Ok(_) => Ok(see_other("/verification/sources")),
        Err(e) => {
            let e = AppError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                return Err(e.into());
            }
            page(
                &state,
                &a.auth,
                Typed::default(),
                e.messages_for_people(),
                e.status,
            )
            .await
        }
    }
}

/// A source to register: its kind (`deposits`, …), its code within the kind and its name; it
/// is kept at the caller's own level.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SourceInput {
    pub kind: String,
    pub code: String,
    pub name: String,
    /// Ids of the department officers' accounts that deliver for it.
    #[serde(default)]
    pub accounts: Vec<i64>,
}

/// A registered source as the API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceOut {
    pub id: i64,
    pub kind: String,
    /// The kind in Chinese (存款及金融资产, …).
    pub kind_label: String,
    pub code: String,
    pub name: String,
    /// The region that keeps it.
    pub division: String,
    pub retired: bool,
    /// The accounts (people or systems) that deliver for it.
    pub accounts: Vec<SourceAccount>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub row_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceList {
    pub items: Vec<SourceOut>,
}

fn source_out(s: &FeedSource) -> SourceOut {
    SourceOut {
        id: s.id,
        kind: s.kind.clone(),
        kind_label: source_label(&s.kind),
        code: s.code.clone(),
        name: s.name.clone(),
        division: s.division.to_string(),
        retired: s.retired,
        accounts: s.accounts.clone(),
        created_by: s.created_by.clone(),
        created_at: s.created_at,
        row_version: s.row_version,
    }
}

/// The registered sources serving the caller's jurisdiction (retired ones too).
#[utoipa::path(get, path = "/api/v1/verification/sources", tag = "verification",
    responses((status = 200, body = SourceList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_list_sources(
    State(state): State<AppState>,
    a: Authorized<ReadVerification>,
) -> Result<Json<SourceList>, ApiError> {
    let sources = state
        .app
        .feed_sources(&DeliveryReader::Verification(a.grant))
        .await?;
    Ok(Json(SourceList {
        items: sources.iter().map(source_out).collect(),
    }))
}

/// Registers a source (county manager); 422 with every field's problem at once.
#[utoipa::path(post, path = "/api/v1/verification/sources", tag = "verification",
    request_body = SourceInput,
    responses((status = 201, body = SourceOut), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_register_source(
    State(state): State<AppState>,
    a: Authorized<ManageFeedSources>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<(StatusCode, Json<SourceOut>), ApiError> {
    let typed = Typed {
        kind: input.kind,
        code: input.code,
        name: input.name,
        accounts: input.accounts,
    };
    let s = state
        .app
        .register_feed_source(&a.grant, &new_source(a.actor(), &typed))
        .await?;
    Ok((StatusCode::CREATED, Json(source_out(&s))))
}

/// Renames a source, replaces its accounts or retires it; 409 when it changed since
/// `row_version` was read.
#[utoipa::path(post, path = "/api/v1/verification/sources/{id}", tag = "verification",
    params(("id" = i64, Path)),
    request_body = FeedSourceChange,
    responses((status = 200, body = SourceOut), (status = 409, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_change_source(
    State(state): State<AppState>,
    a: Authorized<ManageFeedSources>,
    Path(id): Path<i64>,
    JsonBody(change): JsonBody<FeedSourceChange>,
) -> Result<Json<SourceOut>, ApiError> {
    let s = state.app.change_feed_source(&a.grant, id, &change).await?;
    Ok(Json(source_out(&s)))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_list_sources, api_register_source, api_change_source),
    components(schemas(SourceOut, SourceList, SourceAccount, FeedSourceChange))
)]
pub struct SourcePagesApiDoc;
