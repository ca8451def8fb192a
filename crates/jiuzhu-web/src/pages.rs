//! The Chinese pages. Handlers are thin: they take the grant from the extractor, call the store,
//! and render a view.

use axum::extract::{FromRequestParts, Multipart, Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::{AuditQuery, HouseholdQuery, PersonQuery};
use jiuzhu_domain::access::{
    ImportCaseload, ManageDivisions, ReadAudit, ReadRegistry, RevealSensitive, WriteRegistry,
};
use jiuzhu_domain::{
    Action, Actor, Area, AuditAction, DisabilityKind, DivisionCode, EducationStage, Employment,
    FieldError, IdNumber, Level, PersonFacts, PersonView, Relation, Sex, WorkAbility,
};
use serde::Deserialize;

use crate::auth::{self, Auth, Authorized, Client, LoginResult, SessionCtx};
use crate::error::{ApiError, AppError, PageError};
use crate::forms::{
    DivisionInput, EndMemberInput, HouseholdInput, LoginInput, MemberInput, PasswordInput,
    PersonInput,
};
use crate::views::*;
use crate::AppState;

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/password", get(password_form).post(password_submit))
        .route("/search", get(search))
        .route("/persons/new", get(person_new_form).post(person_new_submit))
        .route("/persons/{id}", get(person_page))
        .route("/persons/{id}/reveal", post(person_reveal))
        .route(
            "/persons/{id}/edit",
            get(person_edit_form).post(person_edit_submit),
        )
        .route(
            "/households/new",
            get(household_new_form).post(household_new_submit),
        )
        .route("/households/{id}", get(household_page))
        .route(
            "/households/{id}/edit",
            get(household_edit_form).post(household_edit_submit),
        )
        .route("/households/{id}/members", post(member_add))
        .route("/households/{id}/members/{mid}/end", post(member_end))
        .route("/divisions", get(divisions_page).post(division_save))
        .route("/divisions/import", post(divisions_import))
        .route("/audit", get(audit_page))
        .route("/import", get(import_form).post(import_submit))
        .route("/import/jobs/{id}", get(import_job_page))
        .route("/import/jobs/{id}/progress", get(import_progress))
}

/// The session, when there is one (for the login page).
struct MaybeSession(Option<SessionCtx>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<SessionCtx>().cloned()))
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- login, logout, password ------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site relative targets, so the login page cannot be used to redirect elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login_form(MaybeSession(s): MaybeSession, Query(q): Query<NextQuery>) -> Response {
    if s.is_some() {
        return see_other("/");
    }
    render(&LoginPage {
        nav: Nav::anonymous("登录"),
        error: String::new(),
        username: String::new(),
        next: safe_next(q.next.as_deref()),
    })
}

async fn login_submit(
    State(state): State<AppState>,
    Client(client): Client,
    Form(input): Form<LoginInput>,
) -> Response {
    match auth::login(&state, &input.username, &input.password, client).await {
        LoginResult::Ok { cookie, user, .. } => {
            let to = if user.must_change_password {
                "/password".to_string()
            } else {
                safe_next(input.next.as_deref())
            };
            ([(SET_COOKIE, cookie)], Redirect::to(&to)).into_response()
        }
        LoginResult::Failed(e) => {
            let mut page = render_status(
                e.status,
                &LoginPage {
                    nav: Nav::anonymous("登录"),
                    error: e.message.clone(),
                    username: input.username,
                    next: safe_next(input.next.as_deref()),
                },
            );
            e.add_retry_after(&mut page);
            page
        }
    }
}

async fn logout(State(state): State<AppState>, a: Auth) -> PageResult {
    let cookie = auth::logout(&state, &a).await?;
    Ok(([cookie], Redirect::to("/login")).into_response())
}

async fn password_form(a: Auth) -> Response {
    render(&PasswordPage {
        forced: a.user().must_change_password,
        nav: Nav::new(&a, "修改密码"),
        errors: vec![],
        done: false,
    })
}

async fn password_submit(
    State(state): State<AppState>,
    a: Auth,
    Form(input): Form<PasswordInput>,
) -> Response {
    let result = auth::change_password(
        &state,
        &a,
        &input.current_password,
        &input.new_password,
        input.confirm_password.as_deref(),
    )
    .await;
    match result {
        Ok(()) => {
            let mut nav = Nav::new(&a, "修改密码");
            // The one-time password is gone: the whole menu applies again.
            let actor = a.actor();
            nav.can_write = actor.may(Action::WriteRegistry);
            nav.can_import = actor.may(Action::ImportCaseload);
            nav.can_users = actor.may(Action::ReadUsers);
            nav.can_audit = actor.may(Action::ReadAudit);
            nav.can_search = actor.may(Action::ReadRegistry);
            nav.can_divisions = actor.may(Action::ReadRegistry);
            render(&PasswordPage {
                nav,
                forced: false,
                errors: vec![],
                done: true,
            })
        }
        Err(e) => render_status(
            e.status,
            &PasswordPage {
                forced: a.user().must_change_password,
                nav: Nav::new(&a, "修改密码"),
                errors: e.messages_for_people(),
                done: false,
            },
        ),
    }
}

// ---- home and search --------------------------------------------------------------------------

/// The start page of whoever holds no registry permission: an account waiting for approval, or
/// one of the three administrators (三员分立), who see no business data.
fn administration_home(a: &Auth) -> Response {
    let actor = a.actor();
    let (lines, link, link_text) = if actor.pending_approval {
        (
            vec![
                "您的账户已创建或重置,正在等待安全管理员审核。".to_string(),
                "审核通过前,您只能登录和修改自己的密码,不能查看或办理任何业务。".to_string(),
            ],
            "/password",
            "修改密码",
        )
    } else if actor.may(Action::ReadUsers) {
        let what = if actor.may(Action::AssignRoles) {
            "您负责审核新建和重置的账户,分配角色、辖区和部门;不能创建账户,也看不到业务数据。"
        } else {
            "您负责创建、停用账户和重置密码;账户须经安全管理员审核后才能使用。您看不到业务数据和审计日志。"
        };
        (vec![what.to_string()], "/users", "用户管理")
    } else if actor.may(Action::ReadAudit) {
        (
            vec!["您负责查阅、校验和导出审计日志;看不到业务数据。".to_string()],
            "/audit",
            "审计日志",
        )
    } else {
        (
            vec!["您的角色没有可用的功能。".to_string()],
            "/password",
            "修改密码",
        )
    };
    render(&MessagePage {
        nav: Nav::new(a, "首页"),
        heading: format!("{},您好({})", a.user().display_name, actor.role.label_zh()),
        lines,
        link: link.into(),
        link_text: link_text.into(),
    })
}

/// The landing page: the jurisdiction and, for roles that read the register, its size; a
/// department officer (no register) gets its work: the cases referred to its department. The
/// administrators and accounts waiting for approval get their own start page.
async fn home(State(state): State<AppState>, a: Auth) -> PageResult {
    if a.actor().pending_approval || a.actor().role.is_admin() {
        return Ok(administration_home(&a));
    }
    let app = &state.app;
    // Names of administrative divisions are public (as on printed notices).
    let names = Actor::system("names").grant::<ReadRegistry>()?;
    let division_name = app
        .get_division(&names, &a.user().division)
        .await?
        .map(|d| d.name)
        .unwrap_or_default();
    let (households, persons) = match a.actor().grant::<ReadRegistry>() {
        Ok(g) => {
            let households = app
                .search_households(
                    &g,
                    &HouseholdQuery {
                        limit: 1,
                        ..Default::default()
                    },
                )
                .await?
                .total;
            let persons = app
                .search_persons(
                    &g,
                    &PersonQuery {
                        limit: 1,
                        ..Default::default()
                    },
                )
                .await?
                .total;
            (Some(households), Some(persons))
        }
        Err(_) => (None, None),
    };
    Ok(render(&HomePage {
        nav: Nav::new(&a, "首页"),
        division_name,
        households,
        persons,
        department: a.actor().department.map(|d| d.label_zh()).unwrap_or(""),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    q: String,
}

/// A search text is either a division code (6, 9, 12 or 15 digits) or free text.
pub(crate) fn split_query(q: &str) -> (Option<String>, Option<DivisionCode>) {
    let q = q.trim();
    if q.is_empty() {
        return (None, None);
    }
    if matches!(q.len(), 6 | 9 | 12 | 15) && q.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(code) = DivisionCode::parse(q) {
            return (None, Some(code));
        }
    }
    // Identity numbers are stored upper case.
    let text = if q.len() == 18 {
        q.to_uppercase()
    } else {
        q.to_string()
    };
    (Some(text), None)
}

async fn search(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let (text, division) = split_query(&q.q);
    let searched = text.is_some() || division.is_some();
    let (mut persons, mut persons_total, mut households, mut households_total) =
        (vec![], 0, vec![], 0);
    let mut prefix_refused = false;
    if searched {
        let terms = crate::id_lookup::search_terms(&state, a.auth.actor(), text)?;
        prefix_refused = terms.prefix_refused;
        let p = state
            .app
            .search_persons(
                &a.grant,
                &PersonQuery {
                    text: terms.text.clone(),
                    id_prefix: terms.id_prefix.clone(),
                    division: division.clone(),
                    limit: 100,
                    offset: 0,
                },
            )
            .await?;
        let ids: Vec<i64> = p.items.iter().map(|p| p.id).collect();
        crate::id_lookup::audit(
            &state,
            a.auth.actor(),
            &terms.query,
            "/search",
            "person",
            &ids,
        )
        .await?;
        persons_total = p.total;
        persons = p.items.iter().map(PersonRow::from).collect();
        let h = state
            .app
            .search_households(
                &a.grant,
                &HouseholdQuery {
                    text: terms.household_text,
                    division,
                    limit: 100,
                    offset: 0,
                },
            )
            .await?;
        households_total = h.total;
        households = h.items.iter().map(HouseholdRow::from).collect();
    }
    Ok(render(&SearchPage {
        nav: Nav::new(&a.auth, "查询"),
        q: q.q,
        searched,
        prefix_refused,
        persons,
        persons_total,
        households,
        households_total,
    }))
}

// ---- persons ----------------------------------------------------------------------------------

async fn person_page_with(
    state: &AppState,
    read: &Authorized<ReadRegistry>,
    id: i64,
    view: PersonView,
) -> PageResult {
    let history = state.app.person_history(&read.grant, id).await?;
    let memberships = state.app.person_memberships(&read.grant, id).await?;
    Ok(render(&PersonPage {
        nav: Nav::new(&read.auth, &format!("人员 {}", view.name)),
        id,
        name: view.name.clone(),
        revealed: view.revealed,
        facts: person_facts(&view),
        history: history.iter().map(PersonVersionRow::from).collect(),
        memberships: memberships
            .iter()
            .map(|m| PersonMembershipRow {
                household_id: m.household_id,
                relation: m.relation.label_zh().into(),
                joined_on: m.joined_on.to_string(),
                left_on: m.left_on.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
    }))
}

async fn person_page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> PageResult {
    let person = state
        .app
        .get_person(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    person_page_with(&state, &a, id, PersonView::masked(&person)).await
}

pub(crate) const REVEAL_FIELDS: &[&str] = &[
    "id_number",
    "phone",
    "disability",
    "serious_illness",
    "illness_note",
    "bank_account",
];

async fn person_reveal(
    State(state): State<AppState>,
    reveal: Authorized<RevealSensitive>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> PageResult {
    let person = state
        .app
        .reveal_person(&reveal.grant, id, REVEAL_FIELDS)
        .await?;
    let view = PersonView::revealed(&person, &reveal.grant);
    person_page_with(&state, &read, id, view).await
}

#[allow(clippy::too_many_arguments)]
fn person_edit_page(
    nav: Nav,
    id: Option<i64>,
    id_number: String,
    f: Option<&PersonFacts>,
    residence: String,
    valid_from: NaiveDate,
    row_version: i64,
    errors: Vec<String>,
) -> PersonEditPage {
    PersonEditPage {
        nav,
        id,
        errors,
        id_number,
        name: f.map(|f| f.name.clone()).unwrap_or_default(),
        sex: options(Sex::ALL_SEXES, f.map(|f| f.sex), Sex::as_str, Sex::label_zh),
        // The stored date is never put into the form: it is half of the identity number's
        // hidden part. Left empty, it stays as it is.
        birth_date: String::new(),
        birth_year: f
            .map(|f| chrono::Datelike::year(&f.birth_date).to_string())
            .unwrap_or_default(),
        hukou_division: f
            .and_then(|f| f.hukou_division.as_ref())
            .map(|d| d.to_string())
            .unwrap_or_default(),
        residence_division: f
            .map(|f| f.residence_division.to_string())
            .unwrap_or(residence),
        education: options(
            EducationStage::ALL,
            f.map(|f| f.education),
            EducationStage::as_str,
            EducationStage::label_zh,
        ),
        employment: options(
            Employment::ALL,
            f.map(|f| f.employment),
            Employment::as_str,
            Employment::label_zh,
        ),
        work_ability: options(
            WorkAbility::ALL,
            f.map(|f| f.work_ability),
            WorkAbility::as_str,
            WorkAbility::label_zh,
        ),
        disability_kinds: options(
            DisabilityKind::ALL,
            None,
            DisabilityKind::as_str,
            DisabilityKind::label_zh,
        ),
        valid_from: valid_from.to_string(),
        row_version,
    }
}

trait AllSexes {
    const ALL_SEXES: &'static [Sex];
}
impl AllSexes for Sex {
    const ALL_SEXES: &'static [Sex] = &[Sex::Male, Sex::Female];
}

async fn person_new_form(State(state): State<AppState>, a: Authorized<WriteRegistry>) -> Response {
    render(&person_edit_page(
        Nav::new(&a.auth, "登记新人员"),
        None,
        String::new(),
        None,
        a.auth.user().division.to_string(),
        state.clock.today(),
        0,
        vec![],
    ))
}

async fn person_new_submit(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Form(input): Form<PersonInput>,
) -> Response {
    let today = state.clock.today();
    let result = async {
        let (id, facts, valid_from) = input.to_new(today)?;
        crate::id_lookup::create_person(&state, &a, &id, &facts, valid_from).await
    }
    .await;
    match result {
        Ok(p) => see_other(&format!("/persons/{}", p.id)),
        Err(e) => render_status(
            e.status,
            &PersonEditPage {
                name: input.name.clone().unwrap_or_default(),
                birth_date: input.birth_date.clone().unwrap_or_default(),
                hukou_division: input.hukou_division.clone().unwrap_or_default(),
                ..person_edit_page(
                    Nav::new(&a.auth, "登记新人员"),
                    None,
                    input.id_number.clone().unwrap_or_default(),
                    None,
                    input.residence_division.clone().unwrap_or_default(),
                    today,
                    0,
                    e.messages_for_people(),
                )
            },
        ),
    }
}

async fn person_edit_form(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> PageResult {
    let p = state
        .app
        .get_person(&read.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(render(&person_edit_page(
        Nav::new(&a.auth, "修改人员信息"),
        Some(id),
        p.id_number.masked(),
        Some(&p.facts),
        String::new(),
        state.clock.today(),
        p.row_version,
        vec![],
    )))
}

async fn person_edit_submit(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    Form(input): Form<PersonInput>,
) -> PageResult {
    let today = state.clock.today();
    let current = state
        .app
        .get_person(&read.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let result = async {
        let (version, facts, valid_from) = input.to_update(&current.facts, today)?;
        Ok::<_, AppError>(
            state
                .app
                .update_person(&a.grant, id, version, &facts, valid_from)
                .await?,
        )
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/persons/{id}"))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            // On a conflict the form shows the current values and version; otherwise what was
            // entered, with the reasons.
            let conflict = e.code == "CONFLICT";
            let facts = if conflict {
                current.facts.clone()
            } else {
                let mut c = crate::forms::Check::default();
                input.apply(&mut c, &current.facts)
            };
            Ok(render_status(
                e.status,
                &person_edit_page(
                    Nav::new(&a.auth, "修改人员信息"),
                    Some(id),
                    current.id_number.masked(),
                    Some(&facts),
                    String::new(),
                    today,
                    current.row_version,
                    e.messages_for_people(),
                ),
            ))
        }
    }
}

// ---- households -------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AsOfQuery {
    pub as_of: Option<String>,
}

async fn household_page(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> PageResult {
    household_view(&state, &a, id, &q, None).await
}

/// The household page; with `reveal`, its financial assets shown (an audited reveal).
pub(crate) async fn household_view(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    id: i64,
    q: &AsOfQuery,
    reveal: Option<&jiuzhu_domain::Grant<RevealSensitive>>,
) -> PageResult {
    let today = state.clock.today();
    let as_of = match q.as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            AppError::invalid(vec![FieldError::new(
                "as_of",
                "DATE",
                format!("日期“{s}”无效(格式:YYYY-MM-DD)"),
            )])
        })?,
        None => today,
    };
    let app = &state.app;
    let Some(snap) = app.household_as_of(&a.grant, id, as_of).await? else {
        return match app.get_household(&a.grant, id).await? {
            Some(h) => Err(AppError::new(
                StatusCode::NOT_FOUND,
                "NOT_YET",
                format!("家庭 {} 在 {as_of} 尚未登记", h.code),
            )
            .into()),
            None => Err(AppError::not_found().into()),
        };
    };
    let all = app.household_members(&a.grant, id).await?;
    let history = app.household_history(&a.grant, id).await?;
    let division_name = app
        .get_division(&a.grant, &snap.facts.division)
        .await?
        .map(|d| d.name)
        .unwrap_or_default();
    let economics = crate::economics_page::view(state, a, &snap, as_of, reveal).await?;
    let benefits = crate::changes::household_rows(state, a.auth.actor(), id).await?;
    let h = &snap.household;
    Ok(render(&HouseholdPage {
        benefits,
        nav: Nav::new(&a.auth, &format!("家庭 {}", h.code)),
        id,
        code: h.code.clone(),
        as_of: as_of.to_string(),
        month: as_of.format("%Y-%m").to_string(),
        is_today: as_of == today,
        address: snap.facts.address.clone(),
        division: snap.facts.division.to_string(),
        division_name,
        area: snap.facts.area.label_zh().into(),
        valid_from: history
            .iter()
            .find(|v| v.valid_from <= as_of && v.valid_to.is_none_or(|t| as_of < t))
            .map(|v| v.valid_from)
            .unwrap_or(h.valid_from)
            .to_string(),
        row_version: h.row_version,
        source_ref: h.source_ref.clone().unwrap_or_default(),
        members: snap
            .members
            .iter()
            .map(|m| MembershipRow::from_member(m, as_of))
            .collect(),
        all_memberships: all
            .iter()
            .map(|m| MembershipRow::from_member(m, today))
            .collect(),
        history: history
            .iter()
            .map(|v| HouseholdVersionRow {
                valid_from: v.valid_from.to_string(),
                valid_to: v
                    .valid_to
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "至今".into()),
                recorded_at: fmt_time(v.recorded_at),
                recorded_by: v.recorded_by.clone(),
                address: v.data.address.clone(),
                division: v.data.division.to_string(),
                area: v.data.area.label_zh().into(),
            })
            .collect(),
        relations: options(Relation::ALL, None, Relation::as_str, Relation::label_zh),
        today: today.to_string(),
        economics,
    }))
}

fn household_edit_page(
    nav: Nav,
    id: Option<i64>,
    input: &HouseholdInput,
    today: NaiveDate,
    errors: Vec<String>,
) -> HouseholdEditPage {
    HouseholdEditPage {
        nav,
        id,
        errors,
        code: input.code.clone().unwrap_or_default(),
        address: input.address.clone().unwrap_or_default(),
        division: input.division.clone().unwrap_or_default(),
        areas: options(
            Area::ALL,
            input.area.as_deref().and_then(Area::parse),
            Area::as_str,
            Area::label_zh,
        ),
        valid_from: input
            .valid_from
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.to_string()),
        row_version: input.row_version.unwrap_or_default(),
    }
}

async fn household_new_form(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
) -> Response {
    let input = HouseholdInput {
        division: Some(a.auth.user().division.to_string()),
        ..Default::default()
    };
    render(&household_edit_page(
        Nav::new(&a.auth, "登记新家庭"),
        None,
        &input,
        state.clock.today(),
        vec![],
    ))
}

async fn household_new_submit(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Form(input): Form<HouseholdInput>,
) -> Response {
    let today = state.clock.today();
    let result = async {
        let new = input.to_new(today)?;
        Ok::<_, AppError>(state.app.create_household(&a.grant, &new).await?)
    }
    .await;
    match result {
        Ok(h) => see_other(&format!("/households/{}", h.id)),
        Err(e) => render_status(
            e.status,
            &household_edit_page(
                Nav::new(&a.auth, "登记新家庭"),
                None,
                &input,
                today,
                e.messages_for_people(),
            ),
        ),
    }
}

async fn household_edit_form(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
) -> PageResult {
    let h = state
        .app
        .get_household(&read.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let input = HouseholdInput {
        code: Some(h.code.clone()),
        address: Some(h.facts.address.clone()),
        division: Some(h.facts.division.to_string()),
        area: Some(h.facts.area.as_str().to_string()),
        valid_from: None,
        row_version: Some(h.row_version),
    };
    Ok(render(&household_edit_page(
        Nav::new(&a.auth, "修改家庭信息"),
        Some(id),
        &input,
        state.clock.today(),
        vec![],
    )))
}

async fn household_edit_submit(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    Form(mut input): Form<HouseholdInput>,
) -> PageResult {
    let today = state.clock.today();
    let current = state
        .app
        .get_household(&read.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let result = async {
        let (version, facts, valid_from) = input.to_update(&current.facts, today)?;
        Ok::<_, AppError>(
            state
                .app
                .update_household(&a.grant, id, version, &facts, valid_from)
                .await?,
        )
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/households/{id}"))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => {
            input.code = Some(current.code.clone());
            if e.code == "CONFLICT" {
                input.address = Some(current.facts.address.clone());
                input.division = Some(current.facts.division.to_string());
                input.area = Some(current.facts.area.as_str().into());
            }
            input.row_version = Some(current.row_version);
            Ok(render_status(
                e.status,
                &household_edit_page(
                    Nav::new(&a.auth, "修改家庭信息"),
                    Some(id),
                    &input,
                    today,
                    e.messages_for_people(),
                ),
            ))
        }
    }
}

async fn member_add(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<i64>,
    Form(input): Form<MemberInput>,
) -> PageResult {
    let spec = input.check(state.clock.today())?;
    let person_id = resolve_person(&state, &read, spec.person_id, spec.id_number.as_ref()).await?;
    state
        .app
        .add_member(
            &a.grant,
            id,
            person_id,
            spec.relation,
            spec.joined_on,
            spec.reason.as_deref(),
        )
        .await?;
    Ok(see_other(&format!("/households/{id}")))
}

/// The person named by id or identity number (within the actor's scope).
pub(crate) async fn resolve_person(
    state: &AppState,
    read: &Authorized<ReadRegistry>,
    person_id: Option<i64>,
    id_number: Option<&IdNumber>,
) -> Result<i64, AppError> {
    if let Some(id) = person_id {
        return Ok(id);
    }
    let Some(n) = id_number else {
        return Err(AppError::invalid(vec![FieldError::new(
            "id_number",
            "REQUIRED",
            "请填写成员的身份证号码",
        )]));
    };
    // A lookup by number like any other: counted for roles that may not reveal, audited.
    let query = state.id_lookups.admit(
        read.auth.actor(),
        crate::id_lookup::IdQuery::Exact(n.clone()),
        state.clock.now(),
    )?;
    let found = state.app.find_person_by_id_number(&read.grant, n).await?;
    let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
    let route = "/households/{id}/members";
    crate::id_lookup::audit(state, read.auth.actor(), &query, route, "person", &ids).await?;
    match found {
        Some(p) => Ok(p.id),
        None => Err(AppError::invalid(vec![FieldError::new(
            "id_number",
            "PERSON_NOT_FOUND",
            "未找到该身份证号码对应的人员(请先登记该人员,或确认其在您的管辖范围内)",
        )])),
    }
}

async fn member_end(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Path((id, mid)): Path<(i64, i64)>,
    Form(input): Form<EndMemberInput>,
) -> PageResult {
    let (left_on, reason) = input.check(state.clock.today())?;
    state
        .app
        .end_membership(&a.grant, mid, left_on, reason.as_deref())
        .await?;
    Ok(see_other(&format!("/households/{id}")))
}

// ---- divisions --------------------------------------------------------------------------------

async fn divisions_render(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    notice: String,
    errors: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let list = state.app.list_divisions(&a.grant).await?;
    let top = list.iter().map(|d| d.level).min().unwrap_or(Level::Nation);
    let depth = |l: Level| (l as usize).saturating_sub(top as usize);
    let rows = list
        .iter()
        .map(|d| DivisionRow {
            code: d.code.to_string(),
            name: d.name.clone(),
            level: d.level.label_zh().into(),
            depth: depth(d.level),
        })
        .collect();
    Ok(render_status(
        status,
        &DivisionsPage {
            nav: Nav::new(&a.auth, "行政区划"),
            max_upload: crate::views::human_size(
                crate::limits::upload_limit(&state.config, "/divisions/import").stated,
            ),
            rows,
            can_manage: a.actor().may(Action::ManageDivisions),
            errors,
            notice,
        },
    ))
}

async fn divisions_page(State(state): State<AppState>, a: Authorized<ReadRegistry>) -> PageResult {
    divisions_render(&state, &a, String::new(), vec![], StatusCode::OK).await
}

async fn division_save(
    State(state): State<AppState>,
    m: Authorized<ManageDivisions>,
    read: Authorized<ReadRegistry>,
    Form(input): Form<DivisionInput>,
) -> PageResult {
    let result = async {
        let (code, name) = input.check()?;
        Ok::<_, AppError>(state.app.save_division(&m.grant, &code, &name).await?)
    }
    .await;
    match result {
        Ok(d) => {
            let notice = format!("已保存:{} {}", d.code, d.name);
            divisions_render(&state, &read, notice, vec![], StatusCode::OK).await
        }
        Err(e) => {
            divisions_render(
                &state,
                &read,
                String::new(),
                e.messages_for_people(),
                e.status,
            )
            .await
        }
    }
}

/// Reads the named file fields and the text fields of a multipart form.
pub(crate) async fn read_multipart(
    mut mp: Multipart,
    limit: crate::limits::Limit,
) -> Result<(Vec<jiuzhu_app::registry::Input>, Vec<(String, String)>), AppError> {
    let bad = |e| crate::limits::multipart_error(e, limit);
    let mut files = Vec::new();
    let mut texts = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            let bytes = field.bytes().await.map_err(bad)?;
            let mut input = jiuzhu_app::registry::Input::new(file_name, bytes.to_vec());
            // Keep the form field name reachable for the caller.
            input.name = format!("{name}\u{0}{}", input.name);
            files.push(input);
        } else {
            let text = field.text().await.map_err(bad)?;
            texts.push((name, text));
        }
    }
    Ok((files, texts))
}

/// Takes the file uploaded in form field `field`.
pub(crate) fn take_file(
    files: &mut Vec<jiuzhu_app::registry::Input>,
    field: &str,
) -> Option<jiuzhu_app::registry::Input> {
    let pos = files
        .iter()
        .position(|f| f.name.split('\u{0}').next() == Some(field))?;
    let mut f = files.remove(pos);
    f.name = f.name.split('\u{0}').nth(1).unwrap_or_default().to_string();
    (f.bytes().is_some_and(|b| !b.is_empty()) || !f.name.is_empty()).then_some(f)
}

async fn divisions_import(
    State(state): State<AppState>,
    m: Authorized<ManageDivisions>,
    read: Authorized<ReadRegistry>,
    mp: Multipart,
) -> PageResult {
    let result = async {
        let limit = crate::limits::upload_limit(&state.config, "/divisions/import");
        let (mut files, _) = read_multipart(mp, limit).await?;
        let file = take_file(&mut files, "file").ok_or_else(|| {
            AppError::invalid(vec![FieldError::new("file", "REQUIRED", "请选择区划文件")])
        })?;
        let limits = jiuzhu_app::registry::DIVISIONS_UPLOAD;
        let imported = jiuzhu_app::registry::import_divisions(&state.app, &m.grant, file, limits);
        Ok::<_, AppError>(imported.await?)
    }
    .await;
    match result {
        Ok(n) => {
            divisions_render(
                &state,
                &read,
                format!("已导入 {n} 个区划节点"),
                vec![],
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            divisions_render(
                &state,
                &read,
                String::new(),
                e.messages_for_people(),
                e.status,
            )
            .await
        }
    }
}

// ---- audit ------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AuditFilter {
    pub action: String,
    pub actor: String,
    pub kind: String,
    pub record: String,
    pub from: String,
    pub to: String,
    pub page: Option<i64>,
}

impl AuditFilter {
    pub fn query(&self, limit: i64) -> Result<AuditQuery, AppError> {
        let mut c = crate::forms::Check::default();
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let action = c.code(
            "action",
            "操作",
            opt(&self.action).as_deref(),
            AuditAction::parse,
        );
        let from = c.date("from", "起始日期", opt(&self.from).as_deref());
        let to = c.date("to", "截止日期", opt(&self.to).as_deref());
        c.finish()?;
        let page = self.page.unwrap_or(1).max(1);
        Ok(AuditQuery {
            action,
            actor_name: opt(&self.actor),
            record_kind: opt(&self.kind),
            record_id: opt(&self.record),
            from,
            to,
            limit,
            offset: (page - 1) * limit,
        })
    }
}

async fn audit_page(
    State(state): State<AppState>,
    a: Authorized<ReadAudit>,
    Query(f): Query<AuditFilter>,
) -> PageResult {
    const PAGE: i64 = 50;
    let q = f.query(PAGE)?;
    let log = state.app.audit_log(&a.grant, &q).await?;
    let pages = ((log.total + PAGE - 1) / PAGE).max(1);
    let query_base = serde_urlencoded::to_string([
        ("action", &f.action),
        ("actor", &f.actor),
        ("kind", &f.kind),
        ("record", &f.record),
        ("from", &f.from),
        ("to", &f.to),
    ])
    .unwrap_or_default();
    Ok(render(&AuditPage {
        nav: Nav::new(&a.auth, "审计日志"),
        can_export: a.actor().may(Action::ExportAudit),
        rows: log.items.iter().map(AuditRow::from).collect(),
        total: log.total,
        actions: options(
            AuditAction::ALL,
            q.action,
            AuditAction::as_str,
            AuditAction::label_zh,
        ),
        actor: f.actor.clone(),
        kinds: crate::views::AUDIT_RECORD_KINDS
            .iter()
            .map(|(k, zh)| (k.to_string(), zh.to_string(), f.kind.trim() == *k))
            .collect(),
        record: f.record.clone(),
        from: f.from.clone(),
        to: f.to.clone(),
        page: f.page.unwrap_or(1).max(1),
        pages,
        query_base,
    }))
}

// ---- caseload import --------------------------------------------------------------------------

async fn import_form(State(state): State<AppState>, a: Authorized<ImportCaseload>) -> Response {
    render(&ImportPage {
        nav: Nav::new(&a.auth, "存量导入"),
        max_upload: crate::views::human_size(
            crate::limits::upload_limit(&state.config, "/import").stated,
        ),
        today: state.clock.today().to_string(),
        errors: vec![],
    })
}

async fn import_submit(
    State(state): State<AppState>,
    a: Authorized<ImportCaseload>,
    mp: Multipart,
) -> Response {
    let today = state.clock.today();
    let nav = Nav::new(&a.auth, "存量导入");
    let result = async {
        let limit = crate::limits::upload_limit(&state.config, "/import");
        let (mut files, texts) = read_multipart(mp, limit).await?;
        let text = |k: &str| {
            texts
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut c = crate::forms::Check::default();
        let households = take_file(&mut files, "households");
        let members = take_file(&mut files, "members");
        if households.is_none() {
            c.err("households", "REQUIRED", "请选择家庭表文件");
        }
        if members.is_none() {
            c.err("members", "REQUIRED", "请选择成员表文件");
        }
        let valid_from = c
            .date("valid_from", "生效日期", text("valid_from").as_deref())
            .unwrap_or(today);
        let create_missing = text("create_missing_divisions").is_some();
        c.finish()?;
        Ok::<_, AppError>((
            households.unwrap_or_else(|| jiuzhu_app::registry::Input::new("", vec![])),
            members.unwrap_or_else(|| jiuzhu_app::registry::Input::new("", vec![])),
            valid_from,
            create_missing,
        ))
    }
    .await;
    match result {
        Ok((h, m, valid_from, create_missing)) => {
            let id = state
                .jobs
                .start(state.app.clone(), a.grant, h, m, valid_from, create_missing);
            see_other(&format!("/import/jobs/{id}"))
        }
        Err(e) => render_status(
            e.status,
            &ImportPage {
                nav,
                max_upload: crate::views::human_size(
                    crate::limits::upload_limit(&state.config, "/import").stated,
                ),
                today: today.to_string(),
                errors: e.messages_for_people(),
            },
        ),
    }
}

async fn import_job_page(
    State(state): State<AppState>,
    a: Authorized<ImportCaseload>,
    Path(id): Path<u64>,
) -> PageResult {
    let user = a.auth.user().id;
    state
        .jobs
        .status(id, user)
        .ok_or_else(AppError::not_found)?;
    Ok(render(&ImportJobPage {
        nav: Nav::new(&a.auth, "导入进度"),
        id,
    }))
}

/// The progress of an import job, as JSON for the page's script.
async fn import_progress(
    State(state): State<AppState>,
    a: Authorized<ImportCaseload>,
    Path(id): Path<u64>,
) -> Result<Json<crate::jobs::JobStatus>, ApiError> {
    state
        .jobs
        .status(id, a.auth.user().id)
        .map(Json)
        .ok_or_else(|| ApiError(AppError::not_found()))
}
