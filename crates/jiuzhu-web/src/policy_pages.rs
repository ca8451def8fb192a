//! Policy parameters in the product (政策参数): everyone logged in reads them — the regions, and
//! for a region every parameter with the value in force today, its source, the values scheduled
//! for later and the history (file values and stored revisions with who, when and why);
//! administrators record dated revisions and withdraw ones not yet in force. Pages under
//! `/policies`, JSON under `/api/v1/policies`. Every write goes through
//! [`record_revision`] / [`withdraw_revision`]: validation against the parameter definitions
//! (`jiuzhu_policy::validate_revision`), the store (optimistic concurrency on the region's newest
//! revision, audit event in the same transaction); every application uses the revision from its
//! next computation on (`jiuzhu_app::App::params`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::policy::{RevisionInput, WithdrawInput};
use jiuzhu_domain::access::{ManagePolicies, ReadRegistry};
use jiuzhu_domain::policy_revision::{PolicyRevision, RevisionKind};
use jiuzhu_domain::{Action, DivisionCode, Level};
use jiuzhu_policy::params::{Entry, PARAMS};
use jiuzhu_policy::{value_text, PolicyLibrary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::JsonBody;
use crate::auth::Authorized;
use crate::error::{ApiError, AppError, ErrorEnvelope, PageError};
use crate::views::{render_status, Nav};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies", get(regions_page))
        .route("/policies/{region}", get(region_page))
        .route("/policies/{region}/revisions", post(revision_submit))
        .route(
            "/policies/{region}/revisions/{seq}/withdraw",
            post(withdraw_submit),
        )
}

/// Nested under `/api/v1` by `crate::api::routes`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/policies", get(api_regions))
        .route("/policies/{region}", get(api_region))
        .route("/policies/{region}/revisions", post(api_record))
        .route("/policies/revisions/{seq}/withdraw", post(api_withdraw))
}

// ---- shared logic -----------------------------------------------------------------------------

/// A region that has or may get policy values: county level or above, and covered by the
/// library (the nation always is).
fn policy_region(lib: &PolicyLibrary, text: &str) -> Result<DivisionCode, AppError> {
    let code = DivisionCode::parse(text.trim()).map_err(|_| AppError::not_found())?;
    let covered = code.level() == Level::Nation || lib.for_region(&code).is_ok();
    if code.level() > Level::County || !covered {
        return Err(AppError::not_found());
    }
    Ok(code)
}

fn region_name(lib: &PolicyLibrary, code: &DivisionCode) -> String {
    named_region(lib, code, None)
}

/// A division's name from the jurisdiction tree: within the reader's scope, or one of the
/// nodes above the reader's own (the reader's own township's county and city are no secret to
/// it, though outside its scope); `None` for anything else or a code not in the tree.
async fn division_name(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    code: &DivisionCode,
) -> Result<Option<String>, AppError> {
    Ok(state.app.visible_division_name(&a.grant, code).await?)
}

/// The region's name: its policy file's, else the jurisdiction tree's (`known`), else the code.
fn named_region(lib: &PolicyLibrary, code: &DivisionCode, known: Option<&str>) -> String {
    match lib.file(code) {
        Some(f) if f.name != code.as_str() => f.name.clone(),
        _ if code.level() == Level::Nation => "全国".to_string(),
        _ => format!(
            "{}(无本级政策文件,沿用上级)",
            known.unwrap_or(code.as_str())
        ),
    }
}

/// Validates and records a revision (`App::record_policy_revision`).
pub async fn record_revision(
    state: &AppState,
    a: &Authorized<ManagePolicies>,
    region: &str,
    input: &RevisionInput,
) -> Result<PolicyRevision, AppError> {
    Ok(state
        .app
        .record_policy_revision(&a.grant, region, input)
        .await?)
}

/// Withdraws a revision not yet in force (`App::withdraw_policy_revision`).
pub async fn withdraw_revision(
    state: &AppState,
    a: &Authorized<ManagePolicies>,
    seq: i64,
    input: &WithdrawInput,
) -> Result<PolicyRevision, AppError> {
    Ok(state
        .app
        .withdraw_policy_revision(&a.grant, seq, input)
        .await?)
}

// ---- JSON -------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct RegionOut {
    pub region: String,
    pub name: String,
    pub level: String,
    /// File version with the revision level, e.g. `2020-12-09+r7`.
    pub version: String,
    pub digest: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegionsOut {
    /// The highest revision applied in the service's library.
    pub revision_level: i64,
    pub regions: Vec<RegionOut>,
}

/// A dated value and where it comes from.
#[derive(Serialize, ToSchema)]
pub struct ValueOut {
    pub value: String,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    pub region: String,
    pub region_name: String,
    pub document: String,
    pub number: Option<String>,
    pub clause: Option<String>,
    pub note: Option<String>,
    /// `r<seq>` when the value is a stored revision, else the policy file.
    pub origin: String,
}

fn value_out(e: &Entry) -> ValueOut {
    ValueOut {
        value: value_text(&e.value),
        from: e.from,
        region: e.region.clone(),
        region_name: e.region_name.clone(),
        document: e.source.title.clone(),
        number: e.source.number.clone(),
        clause: e.clause.clone(),
        note: e.note.clone(),
        origin: if e.line == 0 {
            e.source.key.clone()
        } else {
            format!("{}:{}", e.file, e.line)
        },
    }
}

#[derive(Serialize, ToSchema)]
pub struct ParamOut {
    pub name: String,
    pub label: String,
    /// In force today (from this region's file or an ancestor's).
    pub current: Option<ValueOut>,
    /// In force later, by date.
    pub scheduled: Vec<ValueOut>,
    /// This region's own values (file and revisions), by date.
    pub values: Vec<ValueOut>,
}

#[derive(Serialize, ToSchema)]
pub struct RegionDetailOut {
    pub region: String,
    pub name: String,
    #[schema(value_type = String, format = Date)]
    pub today: NaiveDate,
    /// Send as `expected_seq` with a revision of this region.
    pub latest_seq: i64,
    pub params: Vec<ParamOut>,
    /// Every stored revision of the region (including withdrawals), by seq.
    #[schema(value_type = Vec<Object>)]
    pub revisions: Vec<PolicyRevision>,
}

struct RegionData {
    lib: Arc<PolicyLibrary>,
    code: DivisionCode,
    /// The region's name for headings (see [`named_region`]).
    name: String,
    today: NaiveDate,
    revisions: Vec<PolicyRevision>,
}

impl RegionData {
    async fn load(
        state: &AppState,
        a: &Authorized<ReadRegistry>,
        region: &str,
    ) -> Result<RegionData, AppError> {
        let lib = state.app.params().await?.policies.clone();
        let code = policy_region(&lib, region)?;
        let revisions = state.app.policy_revisions(&a.grant, Some(&code)).await?;
        let known = division_name(state, a, &code).await?;
        let name = named_region(&lib, &code, known.as_deref());
        Ok(RegionData {
            lib,
            code,
            name,
            today: state.clock.today(),
            revisions,
        })
    }
    fn latest_seq(&self) -> i64 {
        self.revisions.iter().map(|r| r.seq).max().unwrap_or(0)
    }
}

fn regions_out(lib: &PolicyLibrary) -> RegionsOut {
    RegionsOut {
        revision_level: lib.revision_level(),
        regions: lib
            .files()
            .map(|f| RegionOut {
                region: f.region.to_string(),
                name: region_name(lib, &f.region),
                level: f.region.level().label_zh().to_string(),
                version: f.version.clone(),
                digest: f.digest.clone(),
            })
            .collect(),
    }
}

/// The policy regions (one per policy file, national first) with their versions.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    responses((status = 200, body = RegionsOut), (status = 401, body = ErrorEnvelope)))]
async fn api_regions(
    State(state): State<AppState>,
    _a: Authorized<ReadRegistry>,
) -> Result<Json<RegionsOut>, ApiError> {
    let lib = state.app.params().await?.policies.clone();
    Ok(Json(regions_out(&lib)))
}

/// Every parameter of a region: in force today, scheduled, own values, and the region's stored
/// revisions. `region` is a division code of county level or above (`000000` for the nation).
#[utoipa::path(get, path = "/api/v1/policies/{region}", tag = "policies",
    params(("region" = String, Path, description = "Division code, county level or above")),
    responses((status = 200, body = RegionDetailOut), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope)))]
async fn api_region(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(region): Path<String>,
) -> Result<Json<RegionDetailOut>, ApiError> {
    let d = RegionData::load(&state, &a, &region).await?;
    let params = d
        .lib
        .param_states(&d.code, d.today)
        .into_iter()
        .map(|s| ParamOut {
            name: s.def.name.to_string(),
            label: s.def.label_zh.to_string(),
            current: s.current.as_deref().map(value_out),
            scheduled: s.scheduled.iter().map(|e| value_out(e)).collect(),
            values: s.own.iter().map(|e| value_out(e)).collect(),
        })
        .collect();
    Ok(Json(RegionDetailOut {
        region: d.code.to_string(),
        name: d.name.clone(),
        today: d.today,
        latest_seq: d.latest_seq(),
        params,
        revisions: d.revisions,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RevisionOut {
    #[schema(value_type = Object)]
    pub revision: PolicyRevision,
    /// The region's policy version after the change, e.g. `2020-12-09+r7`.
    pub version: String,
}

fn revision_out(state_lib: &PolicyLibrary, rev: PolicyRevision) -> RevisionOut {
    let version = state_lib
        .file(&rev.region)
        .map(|f| f.version.clone())
        .unwrap_or_default();
    RevisionOut {
        revision: rev,
        version,
    }
}

/// Record a dated parameter value for the region (administrators only). `expected_seq` is the
/// region's `latest_seq` the client saw: when someone else changed the region meanwhile the
/// answer is 409 and nothing is written. Invalid input (unknown parameter, wrong kind, out of
/// range, bad date, missing document or reason) is a 422 naming each field.
#[utoipa::path(post, operation_id = "record_policy_revision", path = "/api/v1/policies/{region}/revisions", tag = "policies",
    params(("region" = String, Path, description = "Division code, county level or above")),
    request_body = RevisionInput,
    responses((status = 201, body = RevisionOut), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn api_record(
    State(state): State<AppState>,
    a: Authorized<ManagePolicies>,
    Path(region): Path<String>,
    JsonBody(input): JsonBody<RevisionInput>,
) -> Result<(StatusCode, Json<RevisionOut>), ApiError> {
    let rev = record_revision(&state, &a, &region, &input).await?;
    let lib = state.app.params().await?.policies.clone();
    Ok((StatusCode::CREATED, Json(revision_out(&lib, rev))))
}

/// Withdraw a revision that is not in force yet (administrators only); concurrency as for
/// recording, on the withdrawn revision's region.
#[utoipa::path(post, operation_id = "withdraw_policy_revision", path = "/api/v1/policies/revisions/{seq}/withdraw", tag = "policies",
    params(("seq" = i64, Path, description = "The revision to withdraw")),
    request_body = WithdrawInput,
    responses((status = 201, body = RevisionOut), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn api_withdraw(
    State(state): State<AppState>,
    a: Authorized<ManagePolicies>,
    Path(seq): Path<i64>,
    JsonBody(input): JsonBody<WithdrawInput>,
) -> Result<(StatusCode, Json<RevisionOut>), ApiError> {
    let rev = withdraw_revision(&state, &a, seq, &input).await?;
    let lib = state.app.params().await?.policies.clone();
    Ok((StatusCode::CREATED, Json(revision_out(&lib, rev))))
}

/// The OpenAPI paths of this module (merged into the document by `crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(api_regions, api_region, api_record, api_withdraw),
    components(schemas(
        RegionsOut,
        RegionOut,
        RegionDetailOut,
        ParamOut,
        ValueOut,
        RevisionInput,
        WithdrawInput,
        RevisionOut
    ))
)]
pub struct PolicyApiDoc;

// ---- pages ------------------------------------------------------------------------------------

struct RegionRow {
    code: String,
    name: String,
    level: String,
    version: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct RegionsPage {
    nav: Nav,
    rows: Vec<RegionRow>,
    revision_level: i64,
    /// The user's own county when it has no policy file of its own (it inherits, and its
    /// page is where its own revisions are made): (code, name).
    own_county: Option<(String, String)>,
}

async fn regions_page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
) -> Result<Response, PageError> {
    let lib = state.app.params().await?.policies.clone();
    let out = regions_out(&lib);
    let rows = out
        .regions
        .into_iter()
        .map(|r| RegionRow {
            code: r.region,
            name: r.name,
            level: r.level,
            version: r.version,
        })
        .collect::<Vec<RegionRow>>();
    let own_county = match a.auth.actor().scope.root().county() {
        Some(c) if !rows.iter().any(|r| r.code == c.as_str()) => {
            let name = division_name(&state, &a, &c)
                .await?
                .unwrap_or_else(|| c.to_string());
            Some((c.to_string(), name))
        }
        _ => None,
    };
    Ok(render_status(
        StatusCode::OK,
        &RegionsPage {
            nav: Nav::new(&a.auth, "政策参数"),
            rows,
            revision_level: out.revision_level,
            own_county,
        },
    ))
}

/// One dated value on the page.
struct ValueView {
    value: String,
    from: String,
    region_name: String,
    citation: String,
}

fn value_view(e: &Entry) -> ValueView {
    ValueView {
        value: value_text(&e.value),
        from: e.from.to_string(),
        region_name: e.region_name.clone(),
        citation: e.citation_zh(),
    }
}

/// A stored revision on the page.
struct RevisionView {
    seq: i64,
    kind: String,
    from: String,
    value: String,
    source: String,
    who: String,
    when: String,
    reason: String,
    withdrawn_by: Option<i64>,
    withdrawable: bool,
}

struct ParamRow {
    name: String,
    label: String,
    current: Option<ValueView>,
    scheduled: Vec<ValueView>,
    file_values: Vec<ValueView>,
    revisions: Vec<RevisionView>,
}

/// The revision form's fields, shown again after an error.
#[derive(Default)]
struct FormView {
    param: String,
    effective_from: String,
    value: String,
    document: String,
    number: String,
    article: String,
    reason: String,
    retroactive_reason: String,
    /// Refused as retroactive without a reason: the page offers the what-if of the change from
    /// its first month (`YYYY-MM`).
    retroactive_month: Option<String>,
}

struct ParamOption {
    name: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "policy_region.html")]
struct RegionPage {
    nav: Nav,
    code: String,
    name: String,
    version: String,
    today: String,
    latest_seq: i64,
    can_manage: bool,
    notice: String,
    errors: Vec<String>,
    form: FormView,
    options: Vec<ParamOption>,
    rows: Vec<ParamRow>,
}

fn revision_view(r: &PolicyRevision, all: &[PolicyRevision], today: NaiveDate) -> RevisionView {
    let withdrawn_by = all
        .iter()
        .find(|w| w.withdraws == Some(r.seq))
        .map(|w| w.seq);
    let mut source = r
        .document
        .clone()
        .map(|d| format!("《{d}》"))
        .unwrap_or_default();
    if let Some(n) = &r.number {
        source.push_str(&format!("({n})"));
    }
    if let Some(c) = &r.article {
        source.push_str(&format!(" {c}"));
    }
    if let Some(w) = r.withdraws {
        source = format!("撤回 r{w}");
    }
    RevisionView {
        seq: r.seq,
        kind: r.kind.label_zh().to_string(),
        from: r.effective_from.to_string(),
        value: r.value.clone(),
        source,
        who: r.user_name.clone(),
        // Offices work by China Standard Time.
        when: r
            .recorded_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        reason: r.reason.clone(),
        withdrawn_by,
        withdrawable: r.kind == RevisionKind::Set
            && withdrawn_by.is_none()
            && r.effective_from > today,
    }
}

async fn region_render(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    region: &str,
    notice: String,
    errors: Vec<String>,
    form: FormView,
    status: StatusCode,
) -> Result<Response, PageError> {
    let d = RegionData::load(state, a, region).await?;
    let builtin = state.app.base_policies();
    let file_values = |param: &str| -> Vec<ValueView> {
        builtin
            .file(&d.code)
            .and_then(|f| f.params.get(param))
            .map(|list| list.iter().map(|e| value_view(e)).collect())
            .unwrap_or_default()
    };
    let rows = d
        .lib
        .param_states(&d.code, d.today)
        .into_iter()
        .map(|s| ParamRow {
            name: s.def.name.to_string(),
            label: s.def.label_zh.to_string(),
            current: s.current.as_deref().map(value_view),
            scheduled: s.scheduled.iter().map(|e| value_view(e)).collect(),
            file_values: file_values(s.def.name),
            revisions: d
                .revisions
                .iter()
                .filter(|r| r.param == s.def.name)
                .map(|r| revision_view(r, &d.revisions, d.today))
                .collect(),
        })
        .collect();
    let version = d
        .lib
        .file(&d.code)
        .map(|f| f.version.clone())
        .unwrap_or_default();
    Ok(render_status(
        status,
        &RegionPage {
            nav: Nav::new(&a.auth, "政策参数"),
            code: d.code.to_string(),
            name: d.name.clone(),
            version,
            today: d.today.to_string(),
            latest_seq: d.latest_seq(),
            can_manage: a.actor().may(Action::ManagePolicies) && a.actor().scope.contains(&d.code),
            notice,
            errors,
            form,
            options: PARAMS
                .iter()
                .map(|p| ParamOption {
                    name: p.name,
                    label: p.label_zh,
                })
                .collect(),
            rows,
        },
    ))
}

async fn region_page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(region): Path<String>,
) -> Result<Response, PageError> {
    region_render(
        &state,
        &a,
        &region,
        String::new(),
        vec![],
        FormView::default(),
        StatusCode::OK,
    )
    .await
}

fn messages(e: &AppError) -> Vec<String> {
    if e.fields.is_empty() {
        vec![e.message.clone()]
    } else {
        e.fields.iter().map(|f| f.message.clone()).collect()
    }
}

/// The form posts text; an empty `expected_seq` is "none seen".
#[derive(Deserialize, Default)]
#[serde(default)]
struct RevisionForm {
    expected_seq: String,
    param: String,
    effective_from: String,
    value: String,
    document: String,
    number: String,
    article: String,
    reason: String,
    retroactive_reason: String,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

async fn revision_submit(
    State(state): State<AppState>,
    m: Authorized<ManagePolicies>,
    read: Authorized<ReadRegistry>,
    Path(region): Path<String>,
    Form(f): Form<RevisionForm>,
) -> Result<Response, PageError> {
    let input = RevisionInput {
        expected_seq: f.expected_seq.trim().parse().ok(),
        param: f.param.clone(),
        effective_from: f.effective_from.clone(),
        value: f.value.clone(),
        document: f.document.clone(),
        number: opt(&f.number),
        article: opt(&f.article),
        reason: f.reason.clone(),
        retroactive_reason: opt(&f.retroactive_reason),
    };
    match record_revision(&state, &m, &region, &input).await {
        Ok(rev) => {
            let notice = format!(
                "已记录调整 r{}:{} 自 {} 起为 {}",
                rev.seq, rev.param, rev.effective_from, rev.value
            );
            region_render(
                &state,
                &read,
                &region,
                notice,
                vec![],
                FormView::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let retroactive = e.fields.iter().any(|x| x.code == "REVISION_RETROACTIVE");
            let form = FormView {
                retroactive_month: retroactive
                    .then(|| f.effective_from.get(..7).unwrap_or_default().to_string()),
                param: f.param,
                effective_from: f.effective_from,
                value: f.value,
                document: f.document,
                number: f.number,
                article: f.article,
                reason: f.reason,
                retroactive_reason: f.retroactive_reason,
            };
            region_render(
                &state,
                &read,
                &region,
                String::new(),
                messages(&e),
                form,
                e.status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WithdrawForm {
    expected_seq: String,
    reason: String,
}

async fn withdraw_submit(
    State(state): State<AppState>,
    m: Authorized<ManagePolicies>,
    read: Authorized<ReadRegistry>,
    Path((region, seq)): Path<(String, i64)>,
    Form(f): Form<WithdrawForm>,
) -> Result<Response, PageError> {
    let input = WithdrawInput {
        expected_seq: f.expected_seq.trim().parse().ok(),
        reason: f.reason,
    };
    let (notice, errors, status) = match withdraw_revision(&state, &m, seq, &input).await {
        Ok(rev) => (
            format!("已撤回 r{seq}(撤回记录 r{})", rev.seq),
            vec![],
            StatusCode::OK,
        ),
        Err(e) if e.status.is_client_error() => (String::new(), messages(&e), e.status),
        Err(e) => return Err(e.into()),
    };
    region_render(
        &state,
        &read,
        &region,
        notice,
        errors,
        FormView::default(),
        status,
    )
    .await
}
