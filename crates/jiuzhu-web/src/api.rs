//! The JSON API under `/api/v1`. Authentication is the session cookie (from `POST /login`);
//! writes carry the session's CSRF token in `X-CSRF-Token`. Errors are the one envelope.

use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::{HouseholdQuery, HouseholdSummary, Page, PersonQuery, PersonSummary};
use jiuzhu_domain::access::{
    ManageDivisions, ReadAudit, ReadRegistry, RevealSensitive, WriteRegistry,
};
use jiuzhu_domain::{
    Action, AuditRecord, Division, FieldError, Household, HouseholdFacts, Member, Membership,
    PersonView, User, Version,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{self, Auth, Authorized, Client, LoginResult};
use crate::error::{ApiError, AppError, ErrorEnvelope};
use crate::forms::{
    DivisionInput, EndMemberInput, HouseholdInput, LoginInput, MemberInput, PasswordInput,
    PersonInput,
};
use crate::pages::{resolve_person, split_query, AuditFilter, REVEAL_FIELDS};
use crate::AppState;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/persons", get(search_persons).post(create_person))
        .route("/persons/{id}", get(get_person).put(update_person))
        .route("/persons/{id}/reveal", post(reveal_person))
        .route("/persons/{id}/history", get(person_history))
        .route("/households", get(search_households).post(create_household))
        .route("/households/{id}", get(get_household).put(update_household))
        .route(
            "/households/{id}/members",
            get(household_members).post(add_member),
        )
        .route("/households/{id}/as_of/{date}", get(household_as_of))
        .route("/households/{id}/history", get(household_history))
        .route(
            "/households/{id}/economics",
            get(crate::economics_page::api_get_economics)
                .put(crate::economics_page::api_put_economics),
        )
        .route(
            "/households/{id}/economics/reveal",
            post(crate::economics_page::api_reveal_economics),
        )
        .route("/month", get(crate::month_page::api_month))
        .route("/memberships/{id}/end", post(end_membership))
        .route("/divisions", get(list_divisions).post(save_division))
        .route("/audit", get(audit))
        .route("/calc", post(calc))
        .route("/whatif", post(whatif))
        .merge(crate::policy_pages::api_routes())
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError(AppError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "接口不存在",
    ))
}

/// JSON bodies with the error envelope when they do not parse.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "TOO_LARGE",
                "请求内容超过本接口的大小上限",
            ))),
            Err(e) => Err(ApiError(AppError::bad_request(format!(
                "请求内容不是有效的 JSON:{}",
                e.body_text()
            )))),
        }
    }
}

// ---- DTOs -------------------------------------------------------------------------------------

/// The logged-in user.
#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub department: Option<String>,
    pub division: String,
    pub must_change_password: bool,
    /// `pending_approval` while a security administrator has not approved the account (it then
    /// holds no permission) or `approved`.
    pub approval: String,
    /// Send as `X-CSRF-Token` with every write.
    pub csrf_token: String,
    /// The actions of the role (see docs/roles.md).
    pub permissions: Vec<String>,
}

fn me_out(user: &User, csrf: &str) -> MeOut {
    let actor = user.actor("");
    MeOut {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().into(),
        role_label: user.role.label_zh().into(),
        department: user.department.map(|d| d.as_str().to_string()),
        division: user.division.to_string(),
        must_change_password: user.must_change_password,
        approval: user.approval.as_str().into(),
        csrf_token: csrf.to_string(),
        permissions: Action::ALL
            .iter()
            .filter(|a| actor.may(**a))
            .map(|a| {
                serde_json::to_value(a)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// A person in a result list (identity number masked).
#[derive(Serialize, ToSchema)]
pub struct PersonSummaryOut {
    pub id: i64,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    /// The year of birth; the full date is shown only in a revealed person (`POST
    /// /api/v1/persons/{id}/reveal`).
    pub birth_year: i32,
    pub residence_division: String,
    pub household_id: Option<i64>,
    pub household_code: Option<String>,
}

impl From<&PersonSummary> for PersonSummaryOut {
    fn from(p: &PersonSummary) -> Self {
        PersonSummaryOut {
            id: p.id,
            id_number: p.id_number.masked(),
            name: p.name.clone(),
            sex: p.sex.as_str().into(),
            birth_year: chrono::Datelike::year(&p.birth_date),
            residence_division: p.residence_division.to_string(),
            household_id: p.household_id,
            household_code: p.household_code.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PageOut<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
}

/// A household member: the membership and the person's masked view.
#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    pub membership: Membership,
    pub person: PersonView,
}

fn members_out(ms: &[Member]) -> Vec<MemberOut> {
    ms.iter()
        .map(|m| MemberOut {
            membership: m.membership.clone(),
            person: PersonView::masked(&m.person),
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdOut {
    pub household: Household,
    pub as_of: NaiveDate,
    pub members: Vec<MemberOut>,
}

/// A version of a person's facts, with the sensitive fields masked.
#[derive(Serialize, ToSchema)]
pub struct PersonVersionOut {
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub recorded_by: String,
    pub facts: PersonView,
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Name, identity number, bank account number (exact, through its blind index), household
    /// code, address, or a division code.
    pub q: Option<String>,
    /// Restrict to this division and below.
    pub division: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl SearchParams {
    fn parts(
        &self,
    ) -> Result<
        (
            Option<String>,
            Option<jiuzhu_domain::DivisionCode>,
            i64,
            i64,
        ),
        AppError,
    > {
        let (text, mut division) = split_query(self.q.as_deref().unwrap_or(""));
        if let Some(d) = self.division.as_deref().filter(|d| !d.trim().is_empty()) {
            let mut c = crate::forms::Check::default();
            division = c.division("division", Some(d));
            c.finish()?;
        }
        Ok((
            text,
            division,
            self.limit.unwrap_or(50).clamp(1, 500),
            self.offset.unwrap_or(0).max(0),
        ))
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// An audit action, e.g. `sensitive_revealed`.
    pub action: String,
    pub actor: String,
    pub kind: String,
    pub record: String,
    /// YYYY-MM-DD
    pub from: String,
    /// YYYY-MM-DD
    pub to: String,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn date_param(s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(vec![FieldError::new(
            "date",
            "DATE",
            format!("日期“{s}”无效(格式:YYYY-MM-DD)"),
        )])
    })
}

// ---- session ----------------------------------------------------------------------------------

/// Log in; sets the `jiuzhu_session` cookie and returns the CSRF token for writes. Failed
/// logins are throttled per (name, client address); see docs/security.md.
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginInput,
    responses((status = 200, body = MeOut),
        (status = 401, description = "BAD_CREDENTIALS", body = ErrorEnvelope),
        (status = 403, description = "INACTIVE or ONE_TIME_PASSWORD_EXPIRED", body = ErrorEnvelope),
        (status = 429, description = "LOGIN_THROTTLED or RATE_LIMITED, with Retry-After", body = ErrorEnvelope),
        (status = 503, description = "BUSY: the password hashing queue is full, with Retry-After", body = ErrorEnvelope)))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    JsonBody(input): JsonBody<LoginInput>,
) -> Result<Response, ApiError> {
    match auth::login(&state, &input.username, &input.password, client).await {
        LoginResult::Ok {
            cookie,
            session,
            user,
            ..
        } => Ok((
            [(SET_COOKIE, cookie)],
            Json(me_out(&user, &session.csrf_token)),
        )
            .into_response()),
        LoginResult::Failed(e) => Err(ApiError(e)),
    }
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session",
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
async fn logout(State(state): State<AppState>, a: Auth) -> Result<Response, ApiError> {
    let cookie = auth::logout(&state, &a).await?;
    Ok(([cookie], StatusCode::NO_CONTENT).into_response())
}

/// The logged-in user, its permissions and the CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = MeOut), (status = 401, body = ErrorEnvelope)))]
async fn me(a: Auth) -> Json<MeOut> {
    Json(me_out(a.user(), a.csrf()))
}

/// Change one's own password.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordInput,
    responses((status = 204), (status = 422, body = ErrorEnvelope)))]
async fn change_password(
    State(state): State<AppState>,
    a: Auth,
    JsonBody(input): JsonBody<PasswordInput>,
) -> Result<StatusCode, ApiError> {
    auth::change_password(
        &state,
        &a,
        &input.current_password,
        &input.new_password,
        input.confirm_password.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- persons ----------------------------------------------------------------------------------

/// Search persons in the caller's jurisdiction (identity numbers masked).
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", params(SearchParams),
    responses((status = 200, body = PageOut<PersonSummaryOut>), (status = 401, body = ErrorEnvelope)))]
async fn search_persons(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(p): Query<SearchParams>,
) -> ApiResult<PageOut<PersonSummaryOut>> {
    let (text, division, limit, offset) = p.parts()?;
    let terms = crate::id_lookup::search_terms(&state, a.auth.actor(), text)?;
    let page = state
        .app
        .search_persons(
            &a.grant,
            &PersonQuery {
                text: terms.text,
                id_prefix: terms.id_prefix,
                division,
                limit,
                offset,
            },
        )
        .await?;
    let ids: Vec<i64> = page.items.iter().map(|p| p.id).collect();
    let route = "/api/v1/persons";
    crate::id_lookup::audit(&state, a.auth.actor(), &terms.query, route, "person", &ids).await?;
    Ok(Json(PageOut {
        items: page.items.iter().map(PersonSummaryOut::from).collect(),
        total: page.total,
    }))
}

/// Register a person.
#[utoipa::path(post, path = "/api/v1/persons", tag = "persons", request_body = PersonInput,
    responses((status = 201, body = PersonView, description = "PersonView (masked)"), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_person(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    JsonBody(input): JsonBody<PersonInput>,
) -> Result<(StatusCode, Json<PersonView>), ApiError> {
    let (id, facts, valid_from) = input.to_new(state.clock.today())?;
    let p = crate::id_lookup::create_person(&state, &a, &id, &facts, valid_from).await?;
    Ok((StatusCode::CREATED, Json(PersonView::masked(&p))))
}

/// A person (sensitive fields masked).
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons", params(("id" = i64, Path)),
    responses((status = 200, body = PersonView, description = "PersonView (masked)"), (status = 404, body = ErrorEnvelope)))]
async fn get_person(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> ApiResult<PersonView> {
    let p = state
        .app
        .get_person(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(PersonView::masked(&p)))
}

/// Update a person's facts from `valid_from` on; `row_version` must be current (else 409).
#[utoipa::path(put, path = "/api/v1/persons/{id}", tag = "persons", params(("id" = i64, Path)), request_body = PersonInput,
    responses((status = 200, body = PersonView, description = "PersonView (masked)"), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_person(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<PersonInput>,
) -> ApiResult<PersonView> {
    let current = state
        .app
        .get_person(&read.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (version, facts, valid_from) = input.to_update(&current.facts, state.clock.today())?;
    let p = state
        .app
        .update_person(&a.grant, id, version, &facts, valid_from)
        .await?;
    Ok(Json(PersonView::masked(&p)))
}

/// A person unmasked; the access is written to the audit log.
#[utoipa::path(post, path = "/api/v1/persons/{id}/reveal", tag = "persons", params(("id" = i64, Path)),
    responses((status = 200, body = PersonView, description = "PersonView (revealed)"), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn reveal_person(
    State(state): State<AppState>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<i64>,
) -> ApiResult<PersonView> {
    let p = state.app.reveal_person(&a.grant, id, REVEAL_FIELDS).await?;
    Ok(Json(PersonView::revealed(&p, &a.grant)))
}

/// All versions of a person's facts, newest first (masked).
#[utoipa::path(get, path = "/api/v1/persons/{id}/history", tag = "persons", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PersonVersionOut>), (status = 404, body = ErrorEnvelope)))]
async fn person_history(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> ApiResult<Vec<PersonVersionOut>> {
    let p = state
        .app
        .get_person(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let versions: Vec<Version<jiuzhu_domain::PersonFacts>> =
        state.app.person_history(&a.grant, id).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|v| {
                let snapshot = jiuzhu_domain::Person {
                    facts: v.data,
                    valid_from: v.valid_from,
                    ..p.clone()
                };
                PersonVersionOut {
                    valid_from: v.valid_from,
                    valid_to: v.valid_to,
                    recorded_at: v.recorded_at,
                    recorded_by: v.recorded_by,
                    facts: PersonView::masked(&snapshot),
                }
            })
            .collect(),
    ))
}

// ---- households -------------------------------------------------------------------------------

/// Search households in the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/households", tag = "households", params(SearchParams),
    responses((status = 200, body = Page<HouseholdSummary>, description = "{items: [HouseholdSummary], total}"), (status = 401, body = ErrorEnvelope)))]
async fn search_households(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(p): Query<SearchParams>,
) -> ApiResult<Page<HouseholdSummary>> {
    let (text, division, limit, offset) = p.parts()?;
    let terms = crate::id_lookup::search_terms(&state, a.auth.actor(), text)?;
    let page = state
        .app
        .search_households(
            &a.grant,
            &HouseholdQuery {
                text: terms.household_text,
                division,
                limit,
                offset,
            },
        )
        .await?;
    let ids: Vec<i64> = page.items.iter().map(|h| h.id).collect();
    let route = "/api/v1/households";
    crate::id_lookup::audit(
        &state,
        a.auth.actor(),
        &terms.query,
        route,
        "household",
        &ids,
    )
    .await?;
    Ok(Json(page))
}

/// Register a household.
#[utoipa::path(post, path = "/api/v1/households", tag = "households", request_body = HouseholdInput,
    responses((status = 201, body = Household), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_household(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    JsonBody(input): JsonBody<HouseholdInput>,
) -> Result<(StatusCode, Json<Household>), ApiError> {
    let new = input.to_new(state.clock.today())?;
    let h = state.app.create_household(&a.grant, &new).await?;
    Ok((StatusCode::CREATED, Json(h)))
}

/// A household today, with its current members (masked).
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path)),
    responses((status = 200, body = HouseholdOut), (status = 404, body = ErrorEnvelope)))]
async fn get_household(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> ApiResult<HouseholdOut> {
    snapshot(&state, &a, id, state.clock.today()).await
}

async fn snapshot(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    id: i64,
    date: NaiveDate,
) -> ApiResult<HouseholdOut> {
    let s = state
        .app
        .household_as_of(&a.grant, id, date)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut household = s.household;
    household.facts = s.facts;
    Ok(Json(HouseholdOut {
        household,
        as_of: s.as_of,
        members: members_out(&s.members),
    }))
}

/// Update a household's facts from `valid_from` on; `row_version` must be current (else 409).
#[utoipa::path(put, path = "/api/v1/households/{id}", tag = "households", params(("id" = i64, Path)), request_body = HouseholdInput,
    responses((status = 200, body = Household), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn update_household(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<HouseholdInput>,
) -> ApiResult<Household> {
    let current = state
        .app
        .get_household(&read.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (version, facts, valid_from) = input.to_update(&current.facts, state.clock.today())?;
    Ok(Json(
        state
            .app
            .update_household(&a.grant, id, version, &facts, valid_from)
            .await?,
    ))
}

/// Every membership the household ever had (masked persons).
#[utoipa::path(get, path = "/api/v1/households/{id}/members", tag = "households", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<MemberOut>), (status = 404, body = ErrorEnvelope)))]
async fn household_members(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> ApiResult<Vec<MemberOut>> {
    state
        .app
        .get_household(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ms = state.app.household_members(&a.grant, id).await?;
    Ok(Json(members_out(&ms)))
}

/// Add a registered person (by `person_id` or `id_number`) to the household.
#[utoipa::path(post, path = "/api/v1/households/{id}/members", tag = "households", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 201, body = Membership), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn add_member(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<MemberInput>,
) -> Result<(StatusCode, Json<Membership>), ApiError> {
    let spec = input.check(state.clock.today())?;
    let person = resolve_person(&state, &read, spec.person_id, spec.id_number.as_ref()).await?;
    let m = state
        .app
        .add_member(
            &a.grant,
            id,
            person,
            spec.relation,
            spec.joined_on,
            spec.reason.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// The household as it was on `date`: the facts then in force and the members then active.
#[utoipa::path(get, path = "/api/v1/households/{id}/as_of/{date}", tag = "households",
    params(("id" = i64, Path), ("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = HouseholdOut), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn household_as_of(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path((id, date)): Path<(i64, String)>,
) -> ApiResult<HouseholdOut> {
    let date = date_param(&date)?;
    snapshot(&state, &a, id, date).await
}

/// All versions of the household's facts, newest first.
#[utoipa::path(get, path = "/api/v1/households/{id}/history", tag = "households", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<HouseholdVersionOut>), (status = 404, body = ErrorEnvelope)))]
async fn household_history(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> ApiResult<Vec<HouseholdVersionOut>> {
    state
        .app
        .get_household(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let versions = state.app.household_history(&a.grant, id).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|v| HouseholdVersionOut {
                valid_from: v.valid_from,
                valid_to: v.valid_to,
                recorded_at: v.recorded_at,
                recorded_by: v.recorded_by,
                facts: v.data,
            })
            .collect(),
    ))
}

/// A version of a household's facts (`valid_to` is absent for the version in force).
#[derive(Serialize, ToSchema)]
pub struct HouseholdVersionOut {
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub recorded_by: String,
    /// Serialised as `data`, as the history has always been answered.
    #[serde(rename = "data")]
    pub facts: HouseholdFacts,
}

/// End a membership (the person leaves the household on `left_on`).
#[utoipa::path(post, path = "/api/v1/memberships/{id}/end", tag = "households", params(("id" = i64, Path)), request_body = EndMemberInput,
    responses((status = 200, body = Membership), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn end_membership(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<EndMemberInput>,
) -> ApiResult<Membership> {
    let (left_on, reason) = input.check(state.clock.today())?;
    Ok(Json(
        state
            .app
            .end_membership(&a.grant, id, left_on, reason.as_deref())
            .await?,
    ))
}

// ---- divisions --------------------------------------------------------------------------------

/// The jurisdiction nodes in the caller's scope, ordered by code.
#[utoipa::path(get, path = "/api/v1/divisions", tag = "divisions",
    responses((status = 200, body = Vec<Division>), (status = 401, body = ErrorEnvelope)))]
async fn list_divisions(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
) -> ApiResult<Vec<Division>> {
    Ok(Json(state.app.list_divisions(&a.grant).await?))
}

/// Create or rename a node (administrators).
#[utoipa::path(post, path = "/api/v1/divisions", tag = "divisions", request_body = DivisionInput,
    responses((status = 200, body = Division), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn save_division(
    State(state): State<AppState>,
    a: Authorized<ManageDivisions>,
    JsonBody(input): JsonBody<DivisionInput>,
) -> ApiResult<Division> {
    let (code, name) = input.check()?;
    Ok(Json(state.app.save_division(&a.grant, &code, &name).await?))
}

// ---- calculation ------------------------------------------------------------------------------

/// Compute one household's benefits for a month with the policy engine and explain them.
///
/// The body is the calculation input of docs/calc.md (`region`, `area`, `members`, …) with an
/// optional `"month": "YYYY-MM"` (default: the current month). The answer is the result with its
/// explanation, the policy versions and the input snapshot, as `jiuzhu calc` prints it. Bad input
/// (an invalid identity number, no members, money with more than two decimals, an unknown region,
/// no parameter in force for the month) is a 422 naming every field.
#[utoipa::path(post, path = "/api/v1/calc", tag = "calc",
    request_body = CalcRequest,
    responses((status = 200, body = CalcAnswer, description = "docs/calc.md"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn calc(
    State(state): State<AppState>,
    _a: Authorized<ReadRegistry>,
    JsonBody(mut body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let Some(obj) = body.as_object_mut() else {
        return Err(AppError::invalid(vec![FieldError::new(
            "input",
            "INPUT_JSON",
            "计算输入应为 JSON 对象(见 docs/calc.md)",
        )])
        .into());
    };
    let month = match obj.remove("month") {
        None | Some(Value::Null) => jiuzhu_policy::Month::of(state.clock.today()),
        Some(Value::String(m)) => {
            crate::calc::parse_month(&m).map_err(|e| AppError::invalid(vec![e]))?
        }
        Some(other) => {
            return Err(AppError::invalid(vec![FieldError::new(
                "month",
                "MONTH_INVALID",
                format!("月份 {other} 无效(应为 \"YYYY-MM\" 字符串)"),
            )])
            .into())
        }
    };
    let lib = state.app.params().await?.policies.clone();
    let out = crate::calc::calculate(&lib, &body, month)?;
    Ok(Json(
        serde_json::to_value(&out).map_err(AppError::internal)?,
    ))
}

/// The body of `POST /api/v1/calc`: the calculation input of docs/calc.md and the month.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // The handler validates the JSON itself, naming every bad field at once.
pub struct CalcRequest {
    #[serde(flatten)]
    household: jiuzhu_policy::input::RawHousehold,
    /// `YYYY-MM` (default: the current month).
    month: Option<String>,
}

/// The body of `POST /api/v1/whatif`: a caseload (`households`, or `source: "store"` for the
/// caller's registered households), the changes and when they apply.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // The handler validates the JSON itself, naming every bad field at once.
pub struct WhatIfRequestBody {
    households: Option<Vec<jiuzhu_policy::input::RawHousehold>>,
    /// `store`: every household of the caller's jurisdiction with its economic record.
    source: Option<String>,
    /// `PARAM=VALUE` each (or `{"param", "value"}` objects), e.g. `dibao.standard.urban=850`.
    changes: Vec<String>,
    /// `YYYY-MM` (default: the current month).
    month: Option<String>,
    /// `YYYY-MM-DD` (default: the month's first day).
    from: Option<String>,
    /// The region whose policy file gets the changes.
    region: Option<String>,
    /// With `source: store`: only the households of this division (within the caller's
    /// jurisdiction), as `jiuzhu whatif --division` does.
    division: Option<String>,
}

/// The answer of `POST /api/v1/calc`, as `jiuzhu calc` prints it (docs/calc.md): the result
/// with its explanation, the policy files used and the input snapshot (identity numbers masked).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // The schema of the JSON the engine's `CalcOutput` serialises to.
pub struct CalcAnswer {
    /// `YYYY-MM`
    month: String,
    region: String,
    policy: Vec<jiuzhu_policy::params::PolicyVersion>,
    /// Amounts per program and member (`dibao`, `tekun_total`, `low_income`, `temporary`,
    /// `total`, …), money as text.
    #[schema(value_type = Object)]
    result: (),
    /// Each step: rule, inputs, formula, value, source clause, Chinese text.
    #[schema(value_type = Vec<Object>)]
    explanation: (),
    /// The input as validated.
    #[schema(value_type = Object)]
    input: (),
}

/// What-if: the cost and eligibility difference a policy change makes for a caseload.
///
/// Body: `{"households": [calc inputs of docs/calc.md, each with its township or village as
/// "region"], "changes": ["dibao.standard.urban=850", …] (or `{"param", "value"}` objects),
/// "month": "YYYY-MM" (default: the current month), "from": "YYYY-MM-DD" (default: the first day
/// of the month), "region": "371000" (optional: the region whose policy file gets the change)}`.
/// The answer is the report of `jiuzhu whatif`: `{month, change, total, by_township, failed}`.
/// With `"source": "store"` (and no `households`) the caseload is every household of the
/// caller's jurisdiction as registered (as of the month's last day, not after today) with its
/// economic record; households without one are in `failed` (`ECONOMICS_MISSING`).
/// Households with invalid input are listed in `failed`; a bad request (unknown parameter, value
/// of the wrong kind, bad month/date/region) is a 422 naming the field (`changes[i]`, …).
#[utoipa::path(post, path = "/api/v1/whatif", tag = "calc",
    request_body = WhatIfRequestBody,
    responses((status = 200, body = jiuzhu_policy::caseload::WhatIfOutput, description = "docs/calc.md"),
        (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn whatif(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let mut errors = Vec::new();
    let text_of = |v: Option<&Value>, field: &str, errors: &mut Vec<FieldError>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => {
            errors.push(FieldError::new(
                field,
                "NOT_A_STRING",
                format!("{other} 应为字符串"),
            ));
            String::new()
        }
    };
    // "source": "store" — the caller's jurisdiction's households as registered, with their
    // economic records, instead of a posted caseload.
    let from_store = match body.get("source") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "store" => true,
        Some(Value::String(s)) if s == "households" => false,
        Some(other) => {
            errors.push(FieldError::new(
                "source",
                "VALUE_UNKNOWN",
                format!("{other} 无效,应为 \"store\"(本辖区在册家庭)或 \"households\""),
            ));
            false
        }
    };
    let households = match body.get("households") {
        Some(Value::Array(items)) => items.clone(),
        None if from_store => Vec::new(),
        _ => {
            errors.push(FieldError::new(
                "households",
                "REQUIRED",
                "households 应为家庭计算输入的数组(见 docs/calc.md)",
            ));
            Vec::new()
        }
    };
    let mut changes = Vec::new();
    match body.get("changes") {
        Some(Value::Array(items)) => {
            for (i, c) in items.iter().enumerate() {
                let value_text = |v: &Value| match v {
                    Value::String(t) => t.clone(),
                    other => other.to_string(),
                };
                match c {
                    Value::String(t) => changes.push(t.clone()),
                    Value::Object(o) => match (o.get("param"), o.get("value")) {
                        (Some(Value::String(p)), Some(v)) => {
                            changes.push(format!("{p}={}", value_text(v)))
                        }
                        _ => errors.push(FieldError::new(
                            format!("changes[{i}]"),
                            "CHANGE_FORMAT",
                            "应为 \"参数=值\" 或 {\"param\": …, \"value\": …}",
                        )),
                    },
                    _ => errors.push(FieldError::new(
                        format!("changes[{i}]"),
                        "CHANGE_FORMAT",
                        "应为 \"参数=值\" 或 {\"param\": …, \"value\": …}",
                    )),
                }
            }
        }
        _ => errors.push(FieldError::new(
            "changes",
            "REQUIRED",
            "changes 应为参数调整的数组,例如 [\"dibao.standard.urban=850\"]",
        )),
    }
    let mut month = text_of(body.get("month"), "month", &mut errors);
    if month.trim().is_empty() {
        month = jiuzhu_policy::Month::of(state.clock.today()).to_string();
    }
    let from = text_of(body.get("from"), "from", &mut errors);
    let region = text_of(body.get("region"), "region", &mut errors);
    let division_text = text_of(body.get("division"), "division", &mut errors);
    let division = a
        .grant
        .scope()
        .division_in("division", &division_text)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(AppError::invalid(errors).into());
    }
    let lib = state.app.params().await?.policies.clone();
    let req = crate::calc::WhatIfRequest {
        households: &households,
        changes: &changes,
        month: &month,
        from: &from,
        region: &region,
    };
    let stored = if from_store {
        jiuzhu_app::month::read_for_month(&state.app, &a.grant, &month, division.as_ref()).await?
    } else {
        None
    };
    let out = match stored {
        Some(read) => crate::calc::what_if_read(&lib, &req, read)?,
        None => crate::calc::what_if(&lib, &req)?,
    };
    Ok(Json(
        serde_json::to_value(&out).map_err(AppError::internal)?,
    ))
}

// ---- audit ------------------------------------------------------------------------------------

/// Audit events in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Page<AuditRecord>), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn audit(
    State(state): State<AppState>,
    a: Authorized<ReadAudit>,
    Query(p): Query<AuditParams>,
) -> ApiResult<Page<AuditRecord>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AuditFilter {
        action: p.action,
        actor: p.actor,
        kind: p.kind,
        record: p.record,
        from: p.from,
        to: p.to,
        page: None,
    };
    let mut q = filter.query(limit)?;
    q.offset = p.offset.unwrap_or(0).max(0);
    Ok(Json(state.app.audit_log(&a.grant, &q).await?))
}

/// The OpenAPI document of this API.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "jiuzhu 救助信息平台 API",
        description = "Session-cookie authentication (POST /api/v1/login); writes need the X-CSRF-Token header. Errors: {\"error\": {code, message, fields, request_id}}."
    ),
    paths(
        login,
        logout,
        me,
        change_password,
        search_persons,
        create_person,
        get_person,
        update_person,
        reveal_person,
        person_history,
        search_households,
        create_household,
        get_household,
        update_household,
        household_members,
        add_member,
        household_as_of,
        household_history,
        end_membership,
        list_divisions,
        save_division,
        audit,
        calc,
        whatif,
        crate::month_page::api_month,
        crate::economics_page::api_get_economics,
        crate::economics_page::api_reveal_economics,
        crate::economics_page::api_put_economics
    ),
    components(schemas(ErrorEnvelope, crate::error::ErrorBody, crate::error::FieldErrorDto))
)]
pub struct ApiDoc;
