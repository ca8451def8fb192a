//! A household's economic status (经济状况): the section on `/households/{id}`, the edit form
//! `/households/{id}/economics` (dated, optimistic concurrency, field errors shown again) and
//! `GET/PUT /api/v1/households/{id}/economics`.
//!
//! The financial-asset amount is bank data: every page, form and answer shows it as `***`
//! (docs/roles.md); a role that may reveal sensitive data gets 查看
//! (`POST /households/{id}/economics/reveal`, `POST /api/v1/households/{id}/economics/reveal`),
//! recorded in the audit log as `sensitive_revealed`. Incomes and expenses are not in the
//! sensitive list.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use jiuzhu_app::records::HouseholdSnapshot;
use jiuzhu_domain::access::{ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::economics::{
    AmountText, AssetsInput, ExpensesInput, MemberEconomicsInput, TekunInput, TekunState,
    TekunSupporter,
};
use jiuzhu_domain::{
    Action, EconomicsInput, EconomicsRecord, FieldError, Grant, HouseholdId, Member, Money,
    Relation,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::IntoParams;

use crate::auth::Authorized;
use crate::calc::field_label;
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, render_status, Nav};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/households/{id}/economics",
            get(edit_form).post(edit_submit),
        )
        .route("/households/{id}/economics/reveal", post(reveal_page))
}

const MASK: &str = "***";

/// The record in force, as the household page shows it.
pub(crate) struct EconomicsView {
    pub valid_from: String,
    pub row_version: i64,
    pub recorded_by: String,
    pub members: Vec<EconomicsMemberRow>,
    pub financial: String,
    pub dwellings: u32,
    pub vehicles: u32,
    pub business_registrations: u32,
    /// The amount is masked and the user may reveal it (查看).
    pub can_reveal: bool,
    /// The amount is shown: this page is an audited reveal.
    pub revealed: bool,
}

pub(crate) struct EconomicsMemberRow {
    pub name: String,
    pub income: String,
    pub medical: String,
    pub disability: String,
    pub education: String,
    pub employment_cost: String,
    pub tekun: String,
}

fn tekun_label(t: Option<&jiuzhu_domain::TekunFacts>) -> String {
    match t {
        None => String::new(),
        Some(t) => format!(
            "{}{},{}",
            t.status.label_zh(),
            if t.centralised { "·集中供养" } else { "" },
            t.supporter.label_zh()
        ),
    }
}

/// The view of the record in force on `as_of` (`None`: none recorded), the financial assets
/// masked — or shown, when `reveal` is given: then read through the store's audited reveal.
pub(crate) async fn view(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    snap: &HouseholdSnapshot,
    as_of: NaiveDate,
    reveal: Option<&Grant<RevealSensitive>>,
) -> Result<Option<EconomicsView>, AppError> {
    let id = snap.household.id;
    let rec = match reveal {
        Some(g) => state.app.reveal_economics(g, id, as_of).await?,
        None => state.app.economics_as_of(&a.grant, id, as_of).await?,
    };
    let Some(rec) = rec else {
        return Ok(None);
    };
    let revealed = reveal.is_some();
    let name_of = |pid: i64| {
        snap.members
            .iter()
            .find(|m| m.person.id == pid)
            .map(|m| m.person.facts.name.clone())
            .unwrap_or_else(|| format!("人员 {pid}(已不在户)"))
    };
    let e = &rec.economics;
    Ok(Some(EconomicsView {
        valid_from: rec.valid_from.to_string(),
        row_version: rec.row_version,
        recorded_by: rec.recorded_by.clone(),
        members: e
            .members
            .iter()
            .map(|m| EconomicsMemberRow {
                name: name_of(m.person_id),
                income: m.income.to_string(),
                medical: m.medical_expense.to_string(),
                disability: m.disability_expense.to_string(),
                education: m.education_expense.to_string(),
                employment_cost: m.employment_cost.to_string(),
                tekun: tekun_label(m.tekun.as_ref()),
            })
            .collect(),
        financial: if revealed {
            e.assets.financial.to_string()
        } else {
            MASK.into()
        },
        dwellings: e.assets.dwellings,
        vehicles: e.assets.vehicles,
        business_registrations: e.assets.business_registrations,
        can_reveal: !revealed && a.actor().may(Action::RevealSensitive),
        revealed,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RevealForm {
    as_of: Option<String>,
}

/// 查看: the household page with its financial assets shown, recorded in the audit log.
async fn reveal_page(
    State(state): State<AppState>,
    read: Authorized<ReadRegistry>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<HouseholdId>,
    Form(f): Form<RevealForm>,
) -> Result<Response, PageError> {
    let q = crate::pages::AsOfQuery { as_of: f.as_of };
    crate::pages::household_view(&state, &read, id, &q, Some(&a.grant)).await
}

// ---- API --------------------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AsOfParams {
    /// `YYYY-MM-DD` (default: today).
    pub as_of: Option<String>,
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(vec![FieldError::new(
            field,
            "DATE_INVALID",
            format!("日期“{s}”无效(格式:YYYY-MM-DD)"),
        )])
    })
}

/// The record as the API shows it: the financial amount masked unless `revealed` (an audited
/// reveal).
fn record_json(rec: &EconomicsRecord, revealed: bool) -> Result<Value, AppError> {
    let mut v = serde_json::to_value(rec).map_err(AppError::internal)?;
    if !revealed {
        if let Some(f) = v.pointer_mut("/economics/assets/financial") {
            *f = json!(MASK);
        }
    }
    Ok(v)
}

/// A household's economic record in force on a date (`record` is null when none is). In
/// `record.economics.assets.financial` the amount is `"***"` unless revealed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EconomicsAnswer {
    pub household_id: HouseholdId,
    /// `YYYY-MM-DD`
    pub as_of: String,
    #[schema(value_type = Option<EconomicsRecord>)]
    pub record: Option<Value>,
}

/// The household's economic record (家庭经济状况) in force on a date.
///
/// Answer: `{"household_id", "as_of", "record": null | {"household_id", "economics": {"members":
/// [{"person_id", "income", "medical_expense", "disability_expense", "education_expense",
/// "employment_cost", "medical_costs", "tekun"}], "assets": {"financial", "dwellings", "vehicles",
/// "business_registrations"}, "dibao_history"}, "valid_from", "row_version", "recorded_by"}}`.
/// `assets.financial` (bank data) is `"***"`; `POST …/economics/reveal` shows it.
#[utoipa::path(get, path = "/api/v1/households/{id}/economics", tag = "households",
    params(("id" = i64, Path), AsOfParams),
    responses((status = 200, body = EconomicsAnswer), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_get_economics(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Path(id): Path<HouseholdId>,
    Query(p): Query<AsOfParams>,
) -> Result<Json<EconomicsAnswer>, ApiError> {
    let as_of = match p.as_of.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_date("as_of", s)?,
        None => state.clock.today(),
    };
    let rec = state.app.economics_as_of(&a.grant, id, as_of).await?;
    Ok(Json(EconomicsAnswer {
        household_id: id,
        as_of: as_of.to_string(),
        record: rec.map(|r| record_json(&r, false)).transpose()?,
    }))
}

/// The economic record in force on a date (as `GET` answers) with `assets.financial` shown,
/// for roles that may reveal sensitive data (403 for the others); each call is recorded in the
/// audit log as `sensitive_revealed`.
#[utoipa::path(post, path = "/api/v1/households/{id}/economics/reveal", tag = "households",
    params(("id" = i64, Path), AsOfParams),
    responses((status = 200, body = EconomicsAnswer), (status = 403, body = crate::error::ErrorEnvelope),
        (status = 404, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_reveal_economics(
    State(state): State<AppState>,
    a: Authorized<RevealSensitive>,
    Path(id): Path<HouseholdId>,
    Query(p): Query<AsOfParams>,
) -> Result<Json<EconomicsAnswer>, ApiError> {
    let as_of = match p.as_of.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_date("as_of", s)?,
        None => state.clock.today(),
    };
    let rec = state.app.reveal_economics(&a.grant, id, as_of).await?;
    Ok(Json(EconomicsAnswer {
        household_id: id,
        as_of: as_of.to_string(),
        record: rec.map(|r| record_json(&r, true)).transpose()?,
    }))
}

/// Body of `PUT /api/v1/households/{id}/economics`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EconomicsPut {
    /// The current record's version; `null` or absent for the first record.
    pub row_version: Option<i64>,
    /// `YYYY-MM-DD` (default: today).
    pub valid_from: Option<String>,
    #[serde(default)]
    pub economics: EconomicsInput,
}

/// Records the household's economics from `valid_from` on.
///
/// Body: `{"row_version": null | N, "valid_from": "YYYY-MM-DD", "economics": {"members":
/// [{"person_id", "income": "300.00", "expenses": {"medical", "disability", "education"},
/// "employment_cost", "medical_costs": [], "tekun": {"status": "recognised|applying",
/// "centralised", "supporter": "none|unable|able"}}], "assets": {"financial", "dwellings",
/// "vehicles", "business_registrations"}, "dibao_history": {"monthly_amount",
/// "income_exceeded_since": "YYYY-MM", "reason": "employment|other"}}}`. Money as strings with at
/// most two decimals. A stale `row_version` is a 409; bad amounts or a person who is not a member
/// on `valid_from` are a 422 naming the field (`members[0].income`).
#[utoipa::path(put, path = "/api/v1/households/{id}/economics", tag = "households",
    params(("id" = i64, Path)), request_body = EconomicsPut,
    responses((status = 200, body = EconomicsRecord, description = "the record as saved, `assets.financial` as `***`"), (status = 404, body = crate::error::ErrorEnvelope),
        (status = 409, body = crate::error::ErrorEnvelope), (status = 422, body = crate::error::ErrorEnvelope)))]
pub async fn api_put_economics(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    Path(id): Path<HouseholdId>,
    crate::api::JsonBody(body): crate::api::JsonBody<EconomicsPut>,
) -> Result<Json<Value>, ApiError> {
    let valid_from = match body.valid_from.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_date("valid_from", s)?,
        None => state.clock.today(),
    };
    let economics = body.economics.parse().map_err(|e| AppError::invalid(e.0))?;
    let rec = state
        .app
        .save_economics(&a.grant, id, body.row_version, &economics, valid_from)
        .await?;
    Ok(Json(record_json(&rec, false)?))
}

// ---- the edit form ----------------------------------------------------------------------------

struct MemberRow {
    i: usize,
    person: i64,
    name: String,
    relation: String,
    income: String,
    medical: String,
    disability: String,
    education: String,
    employment_cost: String,
    tekun_statuses: Vec<(String, String, bool)>,
    tekun_centralised: bool,
    supporters: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "economics_edit.html")]
struct EditPage {
    nav: Nav,
    id: HouseholdId,
    code: String,
    row_version: String,
    valid_from: String,
    members: Vec<MemberRow>,
    financial: String,
    financial_hidden: bool,
    dwellings: String,
    vehicles: String,
    business_registrations: String,
    errors: Vec<String>,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    current: Option<T>,
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    none: &str,
) -> Vec<(String, String, bool)> {
    let mut out = vec![(String::new(), none.to_string(), current.is_none())];
    out.extend(all.iter().map(|x| {
        (
            code(*x).to_string(),
            label(*x).to_string(),
            Some(*x) == current,
        )
    }));
    out
}

fn money_text(m: Money) -> String {
    if m == Money::ZERO {
        String::new()
    } else {
        m.to_string()
    }
}

fn field(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn member_rows(
    members: &[Member],
    rec: Option<&EconomicsRecord>,
    pairs: Option<&[(String, String)]>,
) -> Vec<MemberRow> {
    let mut ms: Vec<&Member> = members.iter().collect();
    ms.sort_by_key(|m| m.membership.relation != Relation::Head);
    ms.iter()
        .enumerate()
        .map(|(i, m)| {
            let e = rec.and_then(|r| r.economics.member(m.person.id));
            let (income, medical, disability, education, cost, status, central, supporter) =
                match pairs {
                    Some(p) => {
                        let f = |k: &str| field(p, &format!("m{i}_{k}"));
                        (
                            f("income"),
                            f("medical"),
                            f("disability"),
                            f("education"),
                            f("employment_cost"),
                            TekunState::parse(&f("tekun_status")),
                            !f("tekun_centralised").is_empty(),
                            TekunSupporter::parse(&f("tekun_supporter")),
                        )
                    }
                    None => (
                        e.map(|e| money_text(e.income)).unwrap_or_default(),
                        e.map(|e| money_text(e.medical_expense)).unwrap_or_default(),
                        e.map(|e| money_text(e.disability_expense))
                            .unwrap_or_default(),
                        e.map(|e| money_text(e.education_expense))
                            .unwrap_or_default(),
                        e.map(|e| money_text(e.employment_cost)).unwrap_or_default(),
                        e.and_then(|e| e.tekun).map(|t| t.status),
                        e.and_then(|e| e.tekun).is_some_and(|t| t.centralised),
                        e.and_then(|e| e.tekun).map(|t| t.supporter),
                    ),
                };
            MemberRow {
                i,
                person: m.person.id,
                name: m.person.facts.name.clone(),
                relation: m.membership.relation.label_zh().to_string(),
                income,
                medical,
                disability,
                education,
                employment_cost: cost,
                tekun_statuses: choices(
                    TekunState::ALL,
                    status,
                    TekunState::as_str,
                    TekunState::label_zh,
                    "不涉及",
                ),
                tekun_centralised: central,
                supporters: choices(
                    TekunSupporter::ALL,
                    supporter,
                    TekunSupporter::as_str,
                    TekunSupporter::label_zh,
                    "未填写",
                ),
            }
        })
        .collect()
}

async fn edit_form(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<HouseholdId>,
) -> Result<Response, PageError> {
    let today = state.clock.today();
    let snap = state
        .app
        .household_as_of(&read.grant, id, today)
        .await?
        .ok_or_else(AppError::not_found)?;
    let rec = state.app.economics_current(&read.grant, id).await?;
    let assets = rec.as_ref().map(|r| r.economics.assets.clone());
    Ok(render(&EditPage {
        nav: Nav::new(&a.auth, "登记经济状况"),
        id,
        code: snap.household.code.clone(),
        row_version: rec
            .as_ref()
            .map(|r| r.row_version.to_string())
            .unwrap_or_default(),
        valid_from: today.to_string(),
        members: member_rows(&snap.members, rec.as_ref(), None),
        // Bank data: never prefilled (only the household page's audited reveal shows it).
        financial: String::new(),
        financial_hidden: assets.is_some(),
        dwellings: assets
            .as_ref()
            .map(|x| x.dwellings.to_string())
            .unwrap_or_else(|| "1".into()),
        vehicles: assets
            .as_ref()
            .map(|x| x.vehicles.to_string())
            .unwrap_or_else(|| "0".into()),
        business_registrations: assets
            .as_ref()
            .map(|x| x.business_registrations.to_string())
            .unwrap_or_else(|| "0".into()),
        errors: vec![],
    }))
}

fn amount(s: String) -> Option<AmountText> {
    (!s.is_empty()).then_some(AmountText::Text(s))
}

fn count(errors: &mut Vec<FieldError>, name: &str, v: &str) -> u32 {
    if v.is_empty() {
        return 0;
    }
    v.parse().unwrap_or_else(|_| {
        errors.push(FieldError::new(
            name,
            "NUMBER_INVALID",
            format!("“{v}”应为不小于 0 的整数"),
        ));
        0
    })
}

async fn edit_submit(
    State(state): State<AppState>,
    a: Authorized<WriteRegistry>,
    read: Authorized<ReadRegistry>,
    Path(id): Path<HouseholdId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let today = state.clock.today();
    let f = |k: &str| field(&pairs, k);
    let mut errors = Vec::new();
    let valid_from = NaiveDate::parse_from_str(&f("valid_from"), "%Y-%m-%d")
        .map_err(|_| {
            errors.push(FieldError::new(
                "valid_from",
                "DATE_INVALID",
                format!("日期“{}”无效(格式:YYYY-MM-DD)", f("valid_from")),
            ))
        })
        .unwrap_or(today);
    let expected = f("row_version").parse::<i64>().ok();
    let current = state.app.economics_current(&read.grant, id).await?;
    let mut members = Vec::new();
    let mut i = 0;
    while let Ok(person) = f(&format!("m{i}_person")).parse::<i64>() {
        let g = |k: &str| f(&format!("m{i}_{k}"));
        let status = g("tekun_status");
        members.push(MemberEconomicsInput {
            person_id: person,
            income: amount(g("income")),
            expenses: ExpensesInput {
                medical: amount(g("medical")),
                disability: amount(g("disability")),
                education: amount(g("education")),
            },
            employment_cost: amount(g("employment_cost")),
            // Single medical costs are not on this form; keep what was recorded.
            medical_costs: current
                .as_ref()
                .and_then(|r| r.economics.member(person))
                .map(|m| {
                    m.medical_costs
                        .iter()
                        .map(|c| AmountText::Text(c.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            tekun: (!status.is_empty()).then(|| TekunInput {
                status,
                centralised: !g("tekun_centralised").is_empty(),
                supporter: Some(g("tekun_supporter")).filter(|s| !s.is_empty()),
            }),
        });
        i += 1;
    }
    // The form never shows the financial amount: left empty, the amount recorded stays.
    let financial = match (f("financial"), &current) {
        (s, Some(c)) if s.is_empty() => {
            Some(AmountText::Text(c.economics.assets.financial.to_string()))
        }
        (s, _) => amount(s),
    };
    let input = EconomicsInput {
        members,
        assets: AssetsInput {
            financial,
            dwellings: count(&mut errors, "assets.dwellings", &f("dwellings")),
            vehicles: count(&mut errors, "assets.vehicles", &f("vehicles")),
            business_registrations: count(
                &mut errors,
                "assets.business_registrations",
                &f("business_registrations"),
            ),
        },
        dibao_history: current
            .as_ref()
            .and_then(|c| c.economics.dibao_history.as_ref())
            .map(|h| jiuzhu_domain::economics::DibaoHistoryInput {
                monthly_amount: AmountText::Text(h.monthly_amount.to_string()),
                income_exceeded_since: h.income_exceeded_since.format("%Y-%m").to_string(),
                reason: h.reason.as_str().to_string(),
            }),
    };
    let outcome = match input.parse() {
        Ok(e) if errors.is_empty() => state
            .app
            .save_economics(&a.grant, id, expected, &e, valid_from)
            .await
            .map_err(AppError::from),
        Ok(_) => Err(AppError::invalid(errors.clone())),
        Err(mut v) => {
            v.0.extend(errors.clone());
            Err(AppError::invalid(v.0))
        }
    };
    let e = match outcome {
        Ok(_) => return Ok(crate::pages::see_other(&format!("/households/{id}"))),
        Err(e) if e.status.is_client_error() && e.status.as_u16() != 404 => e,
        Err(e) => return Err(e.into()),
    };
    let snap = state
        .app
        .household_as_of(&read.grant, id, today)
        .await?
        .ok_or_else(AppError::not_found)?;
    let mut sorted: Vec<&Member> = snap.members.iter().collect();
    sorted.sort_by_key(|m| m.membership.relation != Relation::Head);
    let names: Vec<String> = sorted.iter().map(|m| m.person.facts.name.clone()).collect();
    let conflict = e.status == axum::http::StatusCode::CONFLICT;
    let messages = if e.fields.is_empty() {
        vec![if conflict {
            "经济状况已被他人修改,以下为最新登记内容,请核对后重新提交".to_string()
        } else {
            e.message.clone()
        }]
    } else {
        e.fields
            .iter()
            .map(|x| format!("{}:{}", field_label(&x.field, &names), x.message))
            .collect()
    };
    // On a conflict the form shows the current record (and its version); otherwise what was
    // submitted.
    let rec = if conflict {
        state.app.economics_current(&read.grant, id).await?
    } else {
        current
    };
    let members = if conflict {
        member_rows(&snap.members, rec.as_ref(), None)
    } else {
        member_rows(&snap.members, rec.as_ref(), Some(&pairs))
    };
    let page = EditPage {
        nav: Nav::new(&a.auth, "登记经济状况"),
        id,
        code: snap.household.code.clone(),
        row_version: if conflict {
            rec.as_ref()
                .map(|r| r.row_version.to_string())
                .unwrap_or_default()
        } else {
            f("row_version")
        },
        valid_from: f("valid_from"),
        members,
        // What the user typed, or nothing: the recorded amount is not shown.
        financial: f("financial"),
        financial_hidden: rec.is_some(),
        dwellings: f("dwellings"),
        vehicles: f("vehicles"),
        business_registrations: f("business_registrations"),
        errors: messages,
    };
    Ok(render_status(e.status, &page).into_response())
}
