//! `/calc`: staff pick a household from the registry (`/calc?household={id}`, read through the
//! store with their grant, so only households of their jurisdiction) or enter one, add the month's
//! incomes, expenses and assets, and see per program the amounts and "为什么是这个金额".
//!
//! Identity numbers and the sensitive facts (disability, serious illness) of registry members are
//! never put into the page: the form carries the person's id, shows the masked number, and the
//! server takes the facts from the store when it computes.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use jiuzhu_app::records::HouseholdSnapshot;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{
    Area, DisabilityKind, EducationStage, FieldError, Member, Relation, WorkAbility,
};
use jiuzhu_domain::{HouseholdEconomics, Money};
use jiuzhu_policy::input::MoneyText;
use jiuzhu_policy::Month;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::Authorized;
use crate::calc::{field_label, parse_month, result_view, ResultView};
use crate::error::{AppError, PageError};
use crate::views::{options, render, render_status, Nav, Options};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/calc", get(calc_form).post(calc_submit))
}

/// Blank member rows offered for entering people who are not (or not yet) in the registry.
const BLANK_ROWS_NEW: usize = 3;
const BLANK_ROWS_REGISTRY: usize = 1;

/// One member row of the form, as submitted (all text, validated by the engine).
#[derive(Debug, Clone, Default)]
struct MemberForm {
    /// A registry member: the person's id (facts come from the store).
    person: Option<i64>,
    /// Shown only: masked identity number and year of birth of a registry member (the date
    /// is read from the registry when computing, never put into the page).
    id_masked: String,
    birth_date: String,
    id_number: String,
    name: String,
    relation: String,
    income: String,
    medical: String,
    disability_expense: String,
    education_expense: String,
    employment_cost: String,
    /// A disability kind, "" (none) or "registry" (as registered).
    disability: String,
    grade: String,
    /// "registry", "yes" or "no".
    serious_illness: String,
    education: String,
    work_ability: String,
    tekun_status: String,
    tekun_centralised: bool,
    tekun_supporter: String,
    tekun_self_care: String,
}

impl MemberForm {
    fn is_blank(&self) -> bool {
        self.person.is_none() && self.id_number.trim().is_empty() && self.name.trim().is_empty()
    }
}

/// The whole form, as submitted.
#[derive(Debug, Clone, Default)]
struct CalcForm {
    household: Option<i64>,
    household_code: String,
    month: String,
    region: String,
    area: String,
    code: String,
    single_parent: bool,
    staff_relative: bool,
    financial: String,
    /// The registry household has financial assets recorded (not shown, see `from_snapshot`).
    financial_recorded: bool,
    dwellings: String,
    vehicles: String,
    business_registrations: String,
    temporary_kind: String,
    temporary_months: String,
    temporary_months_without_income: String,
    temporary_insured: bool,
    members: Vec<MemberForm>,
}

impl CalcForm {
    fn from_pairs(pairs: &[(String, String)]) -> CalcForm {
        let mut f = CalcForm::default();
        let mut members: HashMap<usize, MemberForm> = HashMap::new();
        for (k, v) in pairs {
            if let Some((i, field)) = member_key(k) {
                let m = members.entry(i).or_default();
                let t = v.clone();
                match field {
                    "person" => m.person = v.trim().parse().ok(),
                    "id_number" => m.id_number = t,
                    "name" => m.name = t,
                    "relation" => m.relation = t,
                    "income" => m.income = t,
                    "medical" => m.medical = t,
                    "disability_expense" => m.disability_expense = t,
                    "education_expense" => m.education_expense = t,
                    "employment_cost" => m.employment_cost = t,
                    "disability" => m.disability = t,
                    "grade" => m.grade = t,
                    "serious_illness" => m.serious_illness = t,
                    "education" => m.education = t,
                    "work_ability" => m.work_ability = t,
                    "tekun_status" => m.tekun_status = t,
                    "tekun_centralised" => m.tekun_centralised = true,
                    "tekun_supporter" => m.tekun_supporter = t,
                    "tekun_self_care" => m.tekun_self_care = t,
                    _ => {}
                }
                continue;
            }
            let t = v.clone();
            match k.as_str() {
                "household" => f.household = v.trim().parse().ok(),
                "month" => f.month = t,
                "region" => f.region = t,
                "area" => f.area = t,
                "code" => f.code = t,
                "single_parent" => f.single_parent = true,
                "staff_relative" => f.staff_relative = true,
                "financial" => f.financial = t,
                "dwellings" => f.dwellings = t,
                "vehicles" => f.vehicles = t,
                "business_registrations" => f.business_registrations = t,
                "temporary_kind" => f.temporary_kind = t,
                "temporary_months" => f.temporary_months = t,
                "temporary_months_without_income" => f.temporary_months_without_income = t,
                "temporary_insured" => f.temporary_insured = true,
                _ => {}
            }
        }
        let mut idx: Vec<usize> = members.keys().copied().collect();
        idx.sort_unstable();
        f.members = idx.into_iter().filter_map(|i| members.remove(&i)).collect();
        f
    }

    /// Prefilled from a registry household as of a date and its economic record then in force
    /// (incomes, expenses, 特困 status, assets). Not the financial amount: bank data is shown
    /// only through the household page's audited reveal, so the form leaves it to be typed.
    fn from_snapshot(
        snap: &HouseholdSnapshot,
        month: Month,
        econ: Option<&HouseholdEconomics>,
    ) -> CalcForm {
        let mut members: Vec<MemberForm> = snap
            .members
            .iter()
            .map(|m| member_from_registry(m, econ))
            .collect();
        // The head first, as the household page lists them.
        members.sort_by_key(|m| m.relation != Relation::Head.as_str());
        CalcForm {
            household: Some(snap.household.id),
            household_code: snap.household.code.clone(),
            month: month.to_string(),
            region: snap.facts.division.to_string(),
            area: snap.facts.area.as_str().to_string(),
            code: snap.household.code.clone(),
            financial_recorded: econ.is_some_and(|e| e.assets.financial != Money::ZERO),
            dwellings: econ
                .map(|e| e.assets.dwellings.to_string())
                .unwrap_or_else(|| "1".into()),
            vehicles: econ
                .map(|e| e.assets.vehicles.to_string())
                .unwrap_or_default(),
            business_registrations: econ
                .map(|e| e.assets.business_registrations.to_string())
                .unwrap_or_default(),
            members,
            ..CalcForm::default()
        }
    }
}

fn member_key(k: &str) -> Option<(usize, &str)> {
    let rest = k.strip_prefix('m')?;
    let (i, field) = rest.split_once('_')?;
    Some((i.parse().ok()?, field))
}

/// A registry member's row: the economics through the same mapping as the month's computation
/// (`jiuzhu_policy::registry::raw_member`).
fn member_from_registry(m: &Member, econ: Option<&HouseholdEconomics>) -> MemberForm {
    let p = &m.person;
    let raw = jiuzhu_policy::registry::raw_member(m, econ);
    let text = |t: &Option<MoneyText>| match t {
        Some(MoneyText::Text(s)) => s.clone(),
        Some(MoneyText::Number(n)) => n.to_string(),
        None => String::new(),
    };
    let tekun = raw.tekun.as_ref();
    MemberForm {
        income: text(&raw.income),
        medical: text(&raw.expenses.medical),
        disability_expense: text(&raw.expenses.disability),
        education_expense: text(&raw.expenses.education),
        employment_cost: text(&raw.employment_cost),
        tekun_status: tekun.map(|t| t.status.clone()).unwrap_or_default(),
        tekun_centralised: tekun.is_some_and(|t| t.centralised),
        tekun_supporter: tekun.and_then(|t| t.supporter.clone()).unwrap_or_default(),
        person: Some(p.id),
        id_masked: p.id_number.masked(),
        birth_date: format!("{}年", chrono::Datelike::year(&p.facts.birth_date)),
        name: p.facts.name.clone(),
        relation: m.membership.relation.as_str().to_string(),
        disability: "registry".into(),
        serious_illness: "registry".into(),
        education: p.facts.education.as_str().to_string(),
        work_ability: p.facts.work_ability.as_str().to_string(),
        ..MemberForm::default()
    }
}

fn opt(v: &str) -> Option<Value> {
    let v = v.trim();
    (!v.is_empty()).then(|| Value::String(v.to_string()))
}

fn insert_opt(o: &mut Map<String, Value>, key: &str, v: &str) {
    if let Some(v) = opt(v) {
        o.insert(key.to_string(), v);
    }
}

fn count_field(errors: &mut Vec<FieldError>, field: &str, v: &str, default: u32) -> u32 {
    let v = v.trim();
    if v.is_empty() {
        return default;
    }
    v.parse().unwrap_or_else(|_| {
        errors.push(FieldError::new(
            field,
            "NUMBER_INVALID",
            format!("“{v}”应为不小于 0 的整数"),
        ));
        default
    })
}

/// The calc input JSON of the form, with the facts of registry members taken from the store.
/// Returns the input, the member names in input order, and the form's own errors.
fn build_input(
    f: &CalcForm,
    snap: Option<&HouseholdSnapshot>,
) -> (Value, Vec<String>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut members = Vec::new();
    let mut names = Vec::new();
    for m in f.members.iter().filter(|m| !m.is_blank()) {
        let k = members.len();
        let mut o = Map::new();
        let registry = match (m.person, snap) {
            (Some(pid), Some(s)) => match s.members.iter().find(|x| x.person.id == pid) {
                Some(x) => Some(x),
                None => {
                    errors.push(FieldError::new(
                        format!("members[{k}]"),
                        "MEMBER_NOT_IN_HOUSEHOLD",
                        "该成员在所选月份不属于此家庭".to_string(),
                    ));
                    continue;
                }
            },
            (Some(_), None) => {
                errors.push(FieldError::new(
                    format!("members[{k}]"),
                    "MEMBER_NOT_IN_HOUSEHOLD",
                    "登记成员须从家庭选取".to_string(),
                ));
                continue;
            }
            (None, _) => None,
        };
        match registry {
            Some(x) => {
                o.insert("id_number".into(), json!(x.person.id_number.as_str()));
                o.insert("name".into(), json!(x.person.facts.name));
                o.insert(
                    "joined_on".into(),
                    json!(x.membership.joined_on.to_string()),
                );
                if let Some(l) = x.membership.left_on {
                    o.insert("left_on".into(), json!(l.to_string()));
                }
                names.push(x.person.facts.name.clone());
            }
            None => {
                o.insert("id_number".into(), json!(m.id_number.trim()));
                o.insert("name".into(), json!(m.name.trim()));
                names.push(m.name.trim().to_string());
            }
        }
        o.insert("relation".into(), json!(m.relation.trim()));
        insert_opt(&mut o, "income", &m.income);
        let mut exp = Map::new();
        insert_opt(&mut exp, "medical", &m.medical);
        insert_opt(&mut exp, "disability", &m.disability_expense);
        insert_opt(&mut exp, "education", &m.education_expense);
        if !exp.is_empty() {
            o.insert("expenses".into(), Value::Object(exp));
        }
        insert_opt(&mut o, "employment_cost", &m.employment_cost);
        let disability = match (m.disability.trim(), registry) {
            ("registry", Some(x)) => x
                .person
                .facts
                .disability
                .as_ref()
                .map(|d| json!({"kind": d.kind.as_str(), "grade": d.grade})),
            ("" | "registry", _) => None,
            (kind, _) => match m.grade.trim().parse::<u8>() {
                Ok(g) => Some(json!({"kind": kind, "grade": g})),
                Err(_) => {
                    errors.push(FieldError::new(
                        format!("members[{k}].disability.grade"),
                        "DISABILITY_GRADE",
                        "请选择残疾等级(1–4级)".to_string(),
                    ));
                    None
                }
            },
        };
        if let Some(d) = disability {
            o.insert("disability".into(), d);
        }
        let illness = match (m.serious_illness.as_str(), registry) {
            ("registry", Some(x)) => x.person.facts.serious_illness,
            (v, _) => v == "yes",
        };
        o.insert("serious_illness".into(), json!(illness));
        insert_opt(&mut o, "education", &m.education);
        insert_opt(&mut o, "work_ability", &m.work_ability);
        if let Some(status) = opt(&m.tekun_status) {
            let mut t = Map::new();
            t.insert("status".into(), status);
            t.insert("centralised".into(), json!(m.tekun_centralised));
            insert_opt(&mut t, "supporter", &m.tekun_supporter);
            if let Some(level) = opt(&m.tekun_self_care) {
                t.insert("self_care".into(), json!({ "level": level }));
            }
            o.insert("tekun".into(), Value::Object(t));
        }
        members.push(Value::Object(o));
    }
    let mut h = Map::new();
    h.insert("region".into(), json!(f.region.trim()));
    insert_opt(&mut h, "code", &f.code);
    h.insert("area".into(), json!(f.area.trim()));
    h.insert("single_parent".into(), json!(f.single_parent));
    h.insert("staff_relative".into(), json!(f.staff_relative));
    let mut assets = Map::new();
    insert_opt(&mut assets, "financial", &f.financial);
    for (key, v) in [
        ("dwellings", &f.dwellings),
        ("vehicles", &f.vehicles),
        ("business_registrations", &f.business_registrations),
    ] {
        let n = count_field(&mut errors, &format!("assets.{key}"), v, 0);
        assets.insert(key.into(), json!(n));
    }
    h.insert("assets".into(), Value::Object(assets));
    if let Some(kind) = opt(&f.temporary_kind) {
        let without = count_field(
            &mut errors,
            "temporary.months_without_income",
            &f.temporary_months_without_income,
            0,
        );
        h.insert(
            "temporary".into(),
            json!({
                "kind": kind,
                "months": f.temporary_months.trim(),
                "months_without_income": without,
                "insured": f.temporary_insured,
            }),
        );
    }
    h.insert("members".into(), Value::Array(members));
    (Value::Object(h), names, errors)
}

// ---- the page ---------------------------------------------------------------------------------

/// One member row as rendered.
struct MemberRow {
    i: usize,
    person: String,
    from_registry: bool,
    id_masked: String,
    birth_date: String,
    id_number: String,
    name: String,
    relations: Options,
    income: String,
    medical: String,
    disability_expense: String,
    education_expense: String,
    employment_cost: String,
    disabilities: Options,
    grades: Options,
    illness: Options,
    educations: Options,
    work_abilities: Options,
    tekun_statuses: Options,
    tekun_centralised: bool,
    supporters: Options,
    self_care: Options,
}

fn choices(pairs: &[(&str, &str)], current: &str) -> Options {
    pairs
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string(), *v == current.trim()))
        .collect()
}

fn member_row(i: usize, m: &MemberForm) -> MemberRow {
    let from_registry = m.person.is_some();
    let mut disabilities: Options = Vec::new();
    if from_registry {
        disabilities.push((
            "registry".into(),
            "按登记信息".into(),
            m.disability == "registry",
        ));
    }
    disabilities.push(("".into(), "无".into(), m.disability.trim().is_empty()));
    disabilities.extend(options(
        DisabilityKind::ALL,
        DisabilityKind::parse(&m.disability),
        DisabilityKind::as_str,
        DisabilityKind::label_zh,
    ));
    let mut illness: Options = Vec::new();
    if from_registry {
        illness.push((
            "registry".into(),
            "按登记信息".into(),
            m.serious_illness == "registry",
        ));
    }
    illness.extend(choices(&[("no", "否"), ("yes", "是")], &m.serious_illness));
    let mut relations = options(
        Relation::ALL,
        Relation::parse(&m.relation),
        Relation::as_str,
        Relation::label_zh,
    );
    if Relation::parse(&m.relation).is_none() {
        relations.insert(0, (String::new(), "请选择".into(), true));
    }
    let mut educations = vec![(String::new(), "未填写".to_string(), m.education.is_empty())];
    educations.extend(options(
        EducationStage::ALL,
        EducationStage::parse(&m.education),
        EducationStage::as_str,
        EducationStage::label_zh,
    ));
    let mut work_abilities = vec![(
        String::new(),
        "未填写".to_string(),
        m.work_ability.is_empty(),
    )];
    work_abilities.extend(options(
        WorkAbility::ALL,
        WorkAbility::parse(&m.work_ability),
        WorkAbility::as_str,
        WorkAbility::label_zh,
    ));
    MemberRow {
        i,
        person: m.person.map(|p| p.to_string()).unwrap_or_default(),
        from_registry,
        id_masked: m.id_masked.clone(),
        birth_date: m.birth_date.clone(),
        id_number: m.id_number.clone(),
        name: m.name.clone(),
        relations,
        income: m.income.clone(),
        medical: m.medical.clone(),
        disability_expense: m.disability_expense.clone(),
        education_expense: m.education_expense.clone(),
        employment_cost: m.employment_cost.clone(),
        disabilities,
        grades: choices(
            &[
                ("", "—"),
                ("1", "一级"),
                ("2", "二级"),
                ("3", "三级"),
                ("4", "四级"),
            ],
            &m.grade,
        ),
        illness,
        educations,
        work_abilities,
        tekun_statuses: choices(
            &[
                ("", "不涉及"),
                ("recognised", "已认定"),
                ("applying", "申请认定"),
            ],
            &m.tekun_status,
        ),
        tekun_centralised: m.tekun_centralised,
        supporters: choices(
            &[
                ("", "未填写"),
                ("none", "无法定赡养人"),
                ("unable", "赡养人无能力"),
                ("able", "赡养人有能力"),
            ],
            &m.tekun_supporter,
        ),
        self_care: choices(
            &[
                ("", "未评估"),
                ("able", "具备生活自理能力"),
                ("partial_loss", "部分丧失"),
                ("full_loss", "完全丧失"),
            ],
            &m.tekun_self_care,
        ),
    }
}

#[derive(Template)]
#[template(path = "calc.html")]
struct CalcPage {
    nav: Nav,
    household: String,
    household_code: String,
    month: String,
    region: String,
    areas: Options,
    code: String,
    single_parent: bool,
    staff_relative: bool,
    financial: String,
    financial_recorded: bool,
    dwellings: String,
    vehicles: String,
    business_registrations: String,
    temporary_kinds: Options,
    temporary_months: String,
    temporary_months_without_income: String,
    temporary_insured: bool,
    members: Vec<MemberRow>,
    errors: Vec<String>,
    result: Option<ResultView>,
}

fn page(nav: Nav, f: &CalcForm, errors: Vec<String>, result: Option<ResultView>) -> CalcPage {
    let mut rows = f.members.clone();
    let blanks = if f.household.is_some() {
        BLANK_ROWS_REGISTRY
    } else {
        BLANK_ROWS_NEW
    };
    while rows.iter().rev().take_while(|m| m.is_blank()).count() < blanks {
        rows.push(MemberForm::default());
    }
    if f.household.is_none() && rows.iter().all(|m| m.relation.is_empty()) {
        rows[0].relation = Relation::Head.as_str().into();
    }
    CalcPage {
        nav,
        household: f.household.map(|h| h.to_string()).unwrap_or_default(),
        household_code: f.household_code.clone(),
        month: f.month.clone(),
        region: f.region.clone(),
        areas: options(
            Area::ALL,
            Area::parse(&f.area).or(Some(Area::Urban)),
            Area::as_str,
            Area::label_zh,
        ),
        code: f.code.clone(),
        single_parent: f.single_parent,
        staff_relative: f.staff_relative,
        financial: f.financial.clone(),
        financial_recorded: f.financial_recorded,
        dwellings: f.dwellings.clone(),
        vehicles: f.vehicles.clone(),
        business_registrations: f.business_registrations.clone(),
        temporary_kinds: choices(
            &[
                ("", "不申请"),
                ("emergency", "急难型"),
                ("expenditure", "支出型"),
                ("migrant", "失业外来务工人员"),
            ],
            &f.temporary_kind,
        ),
        temporary_months: f.temporary_months.clone(),
        temporary_months_without_income: f.temporary_months_without_income.clone(),
        temporary_insured: f.temporary_insured,
        members: rows
            .iter()
            .enumerate()
            .map(|(i, m)| member_row(i, m))
            .collect(),
        errors,
        result,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CalcQuery {
    household: Option<String>,
    month: Option<String>,
}

async fn snapshot(
    state: &AppState,
    a: &Authorized<ReadRegistry>,
    id: i64,
    month: Month,
) -> Result<HouseholdSnapshot, AppError> {
    state
        .app
        .household_as_of(&a.grant, id, month.as_of(state.clock.today()))
        .await?
        .ok_or_else(AppError::not_found)
}

async fn calc_form(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Query(q): Query<CalcQuery>,
) -> Result<Response, PageError> {
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => parse_month(m).map_err(|e| AppError::invalid(vec![e]))?,
        None => Month::of(state.clock.today()),
    };
    let form = match q
        .household
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        Some(h) => {
            let id: i64 = h.parse().map_err(|_| AppError::not_found())?;
            let snap = snapshot(&state, &a, id, month).await?;
            let econ = state.app.economics_as_of(&a.grant, id, snap.as_of).await?;
            CalcForm::from_snapshot(&snap, month, econ.as_ref().map(|r| &r.economics))
        }
        None => CalcForm {
            month: month.to_string(),
            region: a.auth.user().division.to_string(),
            area: Area::Urban.as_str().into(),
            dwellings: "1".into(),
            ..CalcForm::default()
        },
    };
    Ok(render(&page(
        Nav::new(&a.auth, "计算待遇"),
        &form,
        vec![],
        None,
    )))
}

async fn calc_submit(
    State(state): State<AppState>,
    a: Authorized<ReadRegistry>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut form = CalcForm::from_pairs(&pairs);
    let nav = Nav::new(&a.auth, "计算待遇");
    let month = match parse_month(&form.month) {
        Ok(m) => m,
        Err(e) => {
            let msg = format!("{}:{}", field_label("month", &[]), e.message);
            return Ok(render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &page(nav, &form, vec![msg], None),
            ));
        }
    };
    let snap = match form.household {
        Some(id) => Some(snapshot(&state, &a, id, month).await?),
        None => None,
    };
    // Registry rows show the registry's masked number, name and birth date again.
    if let Some(s) = &snap {
        for m in form.members.iter_mut() {
            if let Some(x) = m
                .person
                .and_then(|pid| s.members.iter().find(|x| x.person.id == pid))
            {
                m.id_masked = x.person.id_number.masked();
                m.birth_date = format!("{}年", chrono::Datelike::year(&x.person.facts.birth_date));
                m.name = x.person.facts.name.clone();
            }
        }
        form.household_code = s.household.code.clone();
    }
    let (input, names, mut errors) = build_input(&form, snap.as_ref());
    let lib = state.app.params().await?.policies.clone();
    let outcome = crate::calc::calculate(&lib, &input, month);
    let result = match outcome {
        Ok(out) if errors.is_empty() => Some(result_view(&out)?),
        Ok(_) => None,
        Err(e) if e.fields.is_empty() => return Err(e.into()),
        Err(e) => {
            errors.extend(e.fields);
            None
        }
    };
    if result.is_none() {
        let messages = errors
            .iter()
            .map(|e| format!("{}:{}", field_label(&e.field, &names), e.message))
            .collect();
        return Ok(render_status(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            &page(nav, &form, messages, None),
        ));
    }
    Ok(render(&page(nav, &form, vec![], result)))
}
