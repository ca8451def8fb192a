//! Staff accounts under 三员分立 (docs/roles.md, "Accounts"): the system administrator creates,
//! renames, deactivates, unlocks and resets accounts (and sees their one-time passwords); the
//! security administrator approves them and assigns role, jurisdiction and department. Pages
//! `/users…` and their `/api/v1/users…` twins; the rules themselves are the store's.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jiuzhu_domain::access::{AssignRoles, ManageUsers, ReadRegistry, ReadUsers};
use jiuzhu_domain::{Action, Actor, Approval, Department, DivisionCode, Role, User};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::JsonBody;
use crate::auth::Authorized;
use crate::error::{ApiError, AppError, ErrorEnvelope, PageError};
use crate::forms::{AccessInput, ApproveInput, UserInput, UserPatchInput};
use crate::views::{fmt_time, options, render, render_status, MessagePage, Nav, Options};
use crate::AppState;

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users_page).post(user_create))
        .route("/users/{id}", get(user_page).post(user_profile))
        .route("/users/{id}/access", post(user_access))
        .route("/users/{id}/approve", post(user_approve))
        .route("/users/{id}/unlock", post(user_unlock))
        .route("/users/{id}/reset", post(user_reset))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(api_list).post(api_create))
        .route("/users/{id}", get(api_get).patch(api_update))
        .route("/users/{id}/access", axum::routing::put(api_access))
        .route("/users/{id}/approve", post(api_approve))
        .route("/users/{id}/reset_password", post(api_reset))
}

// ---- display ---------------------------------------------------------------------------------

/// Division names for the codes shown. Names of administrative divisions are public (as on
/// printed notices), so they are read from the whole tree; the administrators themselves hold no
/// registry permission.
async fn division_names(state: &AppState, codes: &[&DivisionCode]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(g) = Actor::system("accounts").grant::<ReadRegistry>() else {
        return out;
    };
    for code in codes {
        if out.contains_key(code.as_str()) {
            continue;
        }
        let name = match state.app.get_division(&g, code).await {
            Ok(Some(d)) => d.name,
            _ if code.as_str() == DivisionCode::nation().as_str() => "全国".to_string(),
            _ => String::new(),
        };
        out.insert(code.to_string(), name);
    }
    out
}

fn place(names: &HashMap<String, String>, code: &DivisionCode) -> String {
    match names.get(code.as_str()).filter(|n| !n.is_empty()) {
        Some(n) => format!("{n}({code})"),
        None => code.to_string(),
    }
}

/// An account as people name it: the person, then the username.
fn person(u: &User) -> String {
    format!("{}({})", u.display_name, u.username)
}

/// Who an id names, for "requested by" and "approved by": a username in the list, or a
/// description when the account is the system's or outside the viewer's scope.
fn who(users: &HashMap<i64, String>, id: Option<i64>, none: &str) -> String {
    match id {
        None => none.to_string(),
        Some(id) => users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "其他辖区的管理员".to_string()),
    }
}

#[derive(Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub department: String,
    pub division: String,
    pub active: bool,
    pub locked: bool,
    pub must_change: bool,
    /// A department's system: its secret is a client secret, never changed by a person.
    pub system: bool,
    pub pending: bool,
    pub requested_by: String,
    pub row_version: i64,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub nav: Nav,
    pub rows: Vec<UserRow>,
    pub pending: Vec<UserRow>,
    pub can_create: bool,
    pub can_approve: bool,
    pub roles: Options,
    pub departments: Options,
    pub errors: Vec<String>,
    /// The new-account form as typed (kept when it is refused).
    pub form: UserInput,
}

#[derive(Template)]
#[template(path = "user_edit.html")]
pub struct UserEditPage {
    pub nav: Nav,
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub admin_role: bool,
    pub roles: Options,
    pub department: String,
    pub departments: Options,
    pub division: String,
    pub division_place: String,
    pub active: bool,
    pub locked: bool,
    pub failed_logins: i64,
    pub must_change: bool,
    pub pending: bool,
    pub approval: String,
    pub requested_by: String,
    pub approved: String,
    pub row_version: i64,
    pub can_manage: bool,
    pub can_assign: bool,
    pub errors: Vec<String>,
}

fn department_options(current: Option<Department>) -> Options {
    options(
        Department::ALL,
        current,
        Department::as_str,
        Department::label_zh,
    )
}

/// The roles an account of `role` may be given: business roles among themselves; an
/// administrator's role never changes.
fn assignable_roles(role: Role) -> Options {
    let business: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|r| !r.is_admin())
        .collect();
    options(&business, Some(role), Role::as_str, Role::label_zh)
}

fn row(
    u: &User,
    throttled: &std::collections::HashSet<String>,
    names: &HashMap<String, String>,
    users: &HashMap<i64, String>,
) -> UserRow {
    UserRow {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.label_zh().into(),
        department: u.department.map(|d| d.label_zh()).unwrap_or("").into(),
        division: place(names, &u.division),
        active: u.active,
        // Logins are throttled per (account, address), never locked: "受限" while some address
        // must wait.
        locked: throttled.contains(&crate::login_guard::normalise_account(&u.username)),
        must_change: u.must_change_password,
        system: u.role == Role::DepartmentSystem,
        pending: u.approval == Approval::PendingApproval,
        requested_by: who(users, u.requested_by, "系统(服务器控制台)"),
        row_version: u.row_version,
    }
}

// ---- pages -----------------------------------------------------------------------------------

async fn users_render(
    state: &AppState,
    a: &Authorized<ReadUsers>,
    errors: Vec<String>,
    status: StatusCode,
    form: UserInput,
) -> PageResult {
    let typed = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let role = Role::parse(&typed(&form.role));
    let department = Department::parse(&typed(&form.department));
    let throttled = state.login.throttled_accounts(state.clock.now());
    let users = state.app.list_users(&a.grant).await?;
    let divisions: Vec<&DivisionCode> = users.iter().map(|u| &u.division).collect();
    let names = division_names(state, &divisions).await;
    let by_id: HashMap<i64, String> = users.iter().map(|u| (u.id, person(u))).collect();
    let rows: Vec<UserRow> = users
        .iter()
        .map(|u| row(u, &throttled, &names, &by_id))
        .collect();
    let actor = a.actor();
    Ok(render_status(
        status,
        &UsersPage {
            nav: Nav::new(&a.auth, "用户管理"),
            pending: rows
                .iter()
                .filter(|r| r.pending && r.active)
                .cloned()
                .collect(),
            rows,
            can_create: actor.may(Action::ManageUsers),
            can_approve: actor.may(Action::AssignRoles),
            roles: options(Role::ALL, role, Role::as_str, Role::label_zh),
            departments: department_options(department),
            errors,
            form,
        },
    ))
}

async fn users_page(State(state): State<AppState>, a: Authorized<ReadUsers>) -> PageResult {
    users_render(&state, &a, vec![], StatusCode::OK, UserInput::default()).await
}

fn one_time_password_page(nav: Nav, user: &User, password: &str, what: &str) -> Response {
    let username = &user.username;
    let lines = if user.role == jiuzhu_domain::Role::DepartmentSystem {
        vec![
            format!("客户端标识(client_id):{username}"),
            format!("客户端密钥(client_secret):{password}"),
            "请通过安全渠道交给部门系统的运维人员,由其配置在部门系统中。密钥只显示这一次;遗失或泄露时重置密钥,旧密钥随即失效。"
                .into(),
            "部门系统以 OAuth2 客户端凭据向 /api/v1/oauth/token 获取访问令牌后报送数据;账户须经安全管理员审核通过,并由县级业务管理员绑定到数据来源。"
                .into(),
        ]
    } else {
        vec![
            format!("一次性密码:{password}"),
            "请将此密码当面或通过安全渠道交给用户。此密码只显示这一次,用户首次登录后须修改。"
                .into(),
            "账户须经安全管理员审核通过后才能办理业务;审核前只能登录和修改密码。".into(),
        ]
    };
    render(&MessagePage {
        nav,
        heading: format!("{what}:{username}"),
        lines,
        link: "/users".into(),
        link_text: "返回用户列表".into(),
    })
}

async fn user_create(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    read: Authorized<ReadUsers>,
    Form(input): Form<UserInput>,
) -> PageResult {
    match create(&state, &a.grant, &input).await {
        Ok((user, password)) => Ok(one_time_password_page(
            Nav::new(&a.auth, "用户已创建"),
            &user,
            &password,
            "已创建用户",
        )),
        Err(e) => users_render(&state, &read, e.messages_for_people(), e.status, input).await,
    }
}

async fn user_render(
    state: &AppState,
    a: &Authorized<ReadUsers>,
    id: i64,
    errors: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let u = state
        .app
        .get_user(&a.grant, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let names = division_names(state, &[&u.division]).await;
    let ids: Vec<i64> = [u.requested_by, u.approved_by]
        .into_iter()
        .flatten()
        .collect();
    let mut by_id = HashMap::new();
    for i in ids {
        if let Some(other) = state.app.get_user(&a.grant, i).await? {
            by_id.insert(i, person(&other));
        }
    }
    let actor = a.actor();
    let own = actor.user_id == Some(u.id);
    let approved = match (u.approval, u.approved_at) {
        (Approval::Approved, Some(at)) => format!(
            "{} 于 {}",
            who(&by_id, u.approved_by, "系统(服务器控制台)"),
            fmt_time(at)
        ),
        _ => String::new(),
    };
    Ok(render_status(
        status,
        &UserEditPage {
            nav: Nav::new(&a.auth, "账户"),
            id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.label_zh().into(),
            admin_role: u.role.is_admin(),
            roles: assignable_roles(u.role),
            department: u.department.map(|d| d.label_zh()).unwrap_or("").into(),
            departments: department_options(u.department),
            division: u.division.to_string(),
            division_place: place(&names, &u.division),
            active: u.active,
            locked: state
                .login
                .throttled_accounts(state.clock.now())
                .contains(&crate::login_guard::normalise_account(&u.username)),
            failed_logins: u.failed_logins,
            must_change: u.must_change_password,
            pending: u.approval == Approval::PendingApproval,
            approval: u.approval.label_zh().into(),
            requested_by: who(&by_id, u.requested_by, "系统(服务器控制台)"),
            approved,
            row_version: u.row_version,
            can_manage: !own && actor.may(Action::ManageUsers),
            can_assign: !own && actor.may(Action::AssignRoles),
            errors,
        },
    ))
}

async fn user_page(
    State(state): State<AppState>,
    a: Authorized<ReadUsers>,
    Path(id): Path<i64>,
) -> PageResult {
    user_render(&state, &a, id, vec![], StatusCode::OK).await
}

/// After a change: back to the account, or the account with the reason it was refused.
async fn after(
    state: &AppState,
    read: &Authorized<ReadUsers>,
    id: i64,
    result: Result<(), AppError>,
) -> PageResult {
    match result {
        Ok(()) => Ok(crate::pages::see_other(&format!("/users/{id}"))),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) => user_render(state, read, id, e.messages_for_people(), e.status).await,
    }
}

async fn user_profile(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    read: Authorized<ReadUsers>,
    Path(id): Path<i64>,
    Form(input): Form<UserPatchInput>,
) -> PageResult {
    let result = async {
        let (version, patch) = input.check()?;
        state.app.update_user(&a.grant, id, version, &patch).await?;
        Ok(())
    }
    .await;
    after(&state, &read, id, result).await
}

async fn user_unlock(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    read: Authorized<ReadUsers>,
    Path(id): Path<i64>,
    Form(input): Form<UserPatchInput>,
) -> PageResult {
    let patch = jiuzhu_app::records::UserPatch {
        unlock: true,
        ..Default::default()
    };
    let version = input.row_version.unwrap_or_default();
    let result = state
        .app
        .update_user(&a.grant, id, version, &patch)
        .await
        // The throttle lives in this process: lift it from every address.
        .map(|u| state.login.clear_account(&u.username))
        .map_err(AppError::from);
    after(&state, &read, id, result).await
}

async fn user_access(
    State(state): State<AppState>,
    a: Authorized<AssignRoles>,
    read: Authorized<ReadUsers>,
    Path(id): Path<i64>,
    Form(input): Form<AccessInput>,
) -> PageResult {
    let result = async {
        let (version, patch) = input.check()?;
        state.app.assign_user(&a.grant, id, version, &patch).await?;
        Ok(())
    }
    .await;
    after(&state, &read, id, result).await
}

async fn user_approve(
    State(state): State<AppState>,
    a: Authorized<AssignRoles>,
    read: Authorized<ReadUsers>,
    Path(id): Path<i64>,
    Form(input): Form<ApproveInput>,
) -> PageResult {
    let result = async {
        let version = input.check()?;
        state.app.approve_user(&a.grant, id, version).await?;
        Ok(())
    }
    .await;
    after(&state, &read, id, result).await
}

/// Creates the account the form describes, with its one-time secret.
async fn create(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ManageUsers>,
    input: &UserInput,
) -> Result<(User, String), AppError> {
    let (username, display_name, role, department, division) = input.check()?;
    let account = jiuzhu_app::accounts::NewAccount {
        username,
        display_name,
        role,
        department,
        division,
    };
    Ok(state.app.create_account(g, account).await?)
}

/// Sets a new one-time password; the account then waits for approval again and its failed
/// logins are cleared (in the store and in this process's throttle), so that the new password
/// can be used. Returns the account as it now is, and the password.
async fn reset(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ManageUsers>,
    read: &jiuzhu_domain::Grant<ReadUsers>,
    id: i64,
) -> Result<(User, String), AppError> {
    let (user, password) = state.app.reset_password(g, read, id).await?;
    state.login.clear_account(&user.username);
    Ok((user, password))
}

async fn user_reset(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    read: Authorized<ReadUsers>,
    Path(id): Path<i64>,
) -> PageResult {
    match reset(&state, &a.grant, &read.grant, id).await {
        Ok((user, password)) => Ok(one_time_password_page(
            Nav::new(&a.auth, "密码已重置"),
            &user,
            &password,
            "已重置密码",
        )),
        Err(e) => after(&state, &read, id, Err(e)).await,
    }
}

// ---- API -------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct OneTimePasswordOut {
    pub user_id: i64,
    pub username: String,
    /// Shown once; a person must change it at first login. For a department system
    /// (`department_system`) it is the OAuth2 client secret, kept as it is.
    pub one_time_password: String,
    pub must_change_password: bool,
    /// `pending_approval` until a security administrator approves the account.
    pub approval: String,
}

/// Accounts bound to nodes in the caller's scope (system and security administrators).
#[utoipa::path(get, operation_id = "list_users", path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorEnvelope)))]
async fn api_list(
    State(state): State<AppState>,
    a: Authorized<ReadUsers>,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.app.list_users(&a.grant).await?))
}

/// Create an account (system administrator); returns its one-time password. The account waits
/// for a security administrator's approval and holds no permission until then.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = OneTimePasswordOut), (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn api_create(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    JsonBody(input): JsonBody<UserInput>,
) -> Result<(StatusCode, Json<OneTimePasswordOut>), ApiError> {
    let (u, password) = create(&state, &a.grant, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(OneTimePasswordOut {
            user_id: u.id,
            username: u.username,
            one_time_password: password,
            must_change_password: u.must_change_password,
            approval: u.approval.as_str().into(),
        }),
    ))
}

/// An account.
#[utoipa::path(get, operation_id = "get_user", path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn api_get(
    State(state): State<AppState>,
    a: Authorized<ReadUsers>,
    Path(id): Path<i64>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        state
            .app
            .get_user(&a.grant, id)
            .await?
            .ok_or_else(AppError::not_found)?,
    ))
}

/// Rename, deactivate, reactivate (the account then waits for approval again) or unlock an
/// account (system administrator). Role, department and division are refused here: they are
/// the security administrator's (`PUT /api/v1/users/{id}/access`).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatchInput,
    responses((status = 200, body = User), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn api_update(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<UserPatchInput>,
) -> Result<Json<User>, ApiError> {
    let (version, patch) = input.check()?;
    let user = state.app.update_user(&a.grant, id, version, &patch).await?;
    if patch.unlock {
        state.login.clear_account(&user.username);
    }
    Ok(Json(user))
}

/// Assign an account's role, department or division (security administrator; not one's own,
/// and never into, out of or between the administrator roles).
#[utoipa::path(put, path = "/api/v1/users/{id}/access", tag = "users", params(("id" = i64, Path)), request_body = AccessInput,
    responses((status = 200, body = User), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn api_access(
    State(state): State<AppState>,
    a: Authorized<AssignRoles>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<AccessInput>,
) -> Result<Json<User>, ApiError> {
    let (version, patch) = input.check()?;
    Ok(Json(
        state.app.assign_user(&a.grant, id, version, &patch).await?,
    ))
}

/// Approve an account waiting for approval, as it stands at `row_version` (security
/// administrator; not one's own, nor one the caller created or reset).
#[utoipa::path(post, path = "/api/v1/users/{id}/approve", tag = "users", params(("id" = i64, Path)), request_body = ApproveInput,
    responses((status = 200, body = User), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn api_approve(
    State(state): State<AppState>,
    a: Authorized<AssignRoles>,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<ApproveInput>,
) -> Result<Json<User>, ApiError> {
    let version = input.check()?;
    Ok(Json(state.app.approve_user(&a.grant, id, version).await?))
}

/// Set a new one-time password (system administrator); the account then waits for approval
/// again.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset_password", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = OneTimePasswordOut), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn api_reset(
    State(state): State<AppState>,
    a: Authorized<ManageUsers>,
    read: Authorized<ReadUsers>,
    Path(id): Path<i64>,
) -> Result<Json<OneTimePasswordOut>, ApiError> {
    let (u, password) = reset(&state, &a.grant, &read.grant, id).await?;
    Ok(Json(OneTimePasswordOut {
        user_id: u.id,
        username: u.username,
        one_time_password: password,
        must_change_password: u.must_change_password,
        approval: u.approval.as_str().into(),
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        api_list,
        api_create,
        api_get,
        api_update,
        api_access,
        api_approve,
        api_reset
    ),
    components(schemas(
        UserInput,
        UserPatchInput,
        AccessInput,
        ApproveInput,
        OneTimePasswordOut
    ))
)]
pub struct AccountsApiDoc;
