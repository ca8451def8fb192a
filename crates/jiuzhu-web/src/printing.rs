//! What leaves the office on paper (docs/cases.md): the public notice (公示) of each village or
//! community, the decision letter (决定书) of each decided case, and the county filing list
//! (备案, R-PR-5) — as printable pages, PDFs through `jiuzhu-print`, and `/api/v1` JSON.
//!
//! Privacy of the notice (R-PR-7) is decided here, before anything reaches the printer:
//! identity numbers are masked, no fact beyond name, household size, program and amount is
//! shown, protected cases (HIV) never have a notice step (the workflow skips it, and the store's
//! list excludes them as a second guard), and a household whose applicant is a minor is left
//! off the public list entirely — the office sees how many were left off and why.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, NaiveDate};
use jiuzhu_domain::access::{ReadCases, ReadRegistry};
use jiuzhu_domain::{Actor, DivisionCode, Money};
use jiuzhu_print::{CjkFont, Decision, DecisionLetter, ExplanationLine, Notice, NoticeRow};
use jiuzhu_store::{CaseDecision, CaseRecord, FilingEntry, NoticeEntry};
use serde::Serialize;
use serde_json::Value;

use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, Nav};
use crate::AppState;

/// The font slot of `AppState`: loaded at the first print, or why it could not be.
pub type FontSlot = Result<Arc<CjkFont>, (&'static str, String)>;

/// Objections go to the township office or the government service hotline (12345).
const HOTLINE: &str = "12345（政务服务便民热线）";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notices", get(notices_page))
        .route("/notices/{division}", get(notice_page_or_pdf))
        .route("/cases/{id}/letter", get(letter_page))
        .route("/cases/{id}/letter.pdf", get(letter_pdf))
        .route("/filing", get(filing_page))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/notices", get(api_notices))
        .route("/notices/{division}", get(api_notice))
        .route("/cases/{id}/letter", get(api_letter))
        .route("/filing", get(api_filing))
}

/// The process's font, loaded once; a clear 503 naming the paths tried when there is none.
fn font(state: &AppState) -> Result<Arc<CjkFont>, AppError> {
    let slot = state.font.get_or_init(|| {
        CjkFont::locate(state.config.font.as_deref())
            .map(Arc::new)
            .map_err(|e| (e.code(), format!("{}({e})", e.message_zh())))
    });
    slot.clone()
        .map_err(|(code, msg)| AppError::new(StatusCode::SERVICE_UNAVAILABLE, code, msg))
}

fn print_error(e: jiuzhu_print::PrintError) -> AppError {
    AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.message_zh())
}

fn pdf(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A division's name for printing (its code when it is not one, or not in the tree).
pub(crate) async fn division_name(state: &AppState, code: &str) -> String {
    let Ok(c) = DivisionCode::parse(code) else {
        return code.to_string();
    };
    state.app.division_name(&c).await
}

// ---- notices ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeRowOut {
    pub case_id: i64,
    pub number: String,
    pub name: String,
    pub masked_id_number: String,
    pub household_size: u32,
    pub program: String,
    /// The proposed monthly amount in yuan ("1234.50"); `None` when the engine cannot compute it
    /// (e.g. no economic record) — shown as 待核定.
    pub monthly_amount: Option<String>,
    #[serde(skip)]
    pub amount: Option<Money>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// The first day the notice step may be closed.
    pub closable_from: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VillageNotice {
    pub division: String,
    pub division_name: String,
    pub office: String,
    pub program: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub rows: Vec<NoticeRowOut>,
    /// Households in notice left off the public list because the applicant is a minor.
    pub withheld_minors: u32,
    pub contact_phone: String,
    pub contact_address: String,
    pub objection_text: String,
}

async fn notice_row(
    state: &AppState,
    actor: &Actor,
    e: &NoticeEntry,
) -> Result<Option<NoticeRowOut>, AppError> {
    let reg = actor.grant::<ReadRegistry>()?;
    let snap = state
        .store
        .household_as_of(&reg, e.case.household_id, e.posted_on)
        .await?;
    let Some(snap) = snap else { return Ok(None) };
    let Some(applicant) = snap
        .members
        .iter()
        .find(|m| m.person.id == e.case.applicant_id)
    else {
        return Ok(None);
    };
    let id = &applicant.person.id_number;
    let period_from = e.posted_on + Duration::days(1);
    let period_to = e
        .not_before
        .map(|d| d - Duration::days(1))
        .unwrap_or(period_from);
    if id.age_on(e.posted_on) < 18 {
        return Ok(Some(NoticeRowOut {
            case_id: e.case.id,
            number: e.case.number.clone(),
            name: String::new(),
            masked_id_number: String::new(),
            household_size: 0,
            program: String::new(),
            monthly_amount: None,
            amount: None,
            period_from,
            period_to,
            closable_from: None,
        }));
    }
    let amount = crate::cases::proposed_amount(&state.app, actor, &e.case, e.posted_on).await;
    Ok(Some(NoticeRowOut {
        case_id: e.case.id,
        number: e.case.number.clone(),
        name: applicant.person.facts.name.clone(),
        masked_id_number: id.masked(),
        household_size: u32::try_from(snap.members.len()).unwrap_or(0),
        program: e.case.program.clone(),
        monthly_amount: amount.map(|m| m.to_string()),
        amount,
        period_from,
        period_to,
        closable_from: e.not_before,
    }))
}

/// The notices in the user's jurisdiction, one per village or community (under `division`).
pub async fn village_notices(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ReadCases>,
    division: Option<&DivisionCode>,
) -> Result<Vec<VillageNotice>, AppError> {
    let entries = state.store.notice_list(g, division).await?;
    let mut out: Vec<VillageNotice> = Vec::new();
    for e in &entries {
        let Some(row) = notice_row(state, g.actor(), e).await? else {
            continue;
        };
        // Posted per village or community: a household registered in a grid (网格) is listed
        // on its village's notice.
        let responsible = &e.case.division_responsible;
        let village = level_of(responsible, DivisionCode::village);
        if out.last().map(|v| v.division != village).unwrap_or(true) {
            let township = level_of(responsible, DivisionCode::township);
            let office = format!("{}人民政府", division_name(state, &township).await);
            out.push(VillageNotice {
                division_name: division_name(state, &village).await,
                contact_address: format!("{office}社会救助窗口（一门受理）"),
                objection_text: format!(
                    "公示期间，对公示对象有异议的，可以实名或匿名向{office}反映（当面、书面或电话），我们将及时核查并反馈。"
                ),
                office,
                division: village,
                program: String::new(),
                period_from: row.period_from,
                period_to: row.period_to,
                rows: vec![],
                withheld_minors: 0,
                contact_phone: HOTLINE.into(),
            });
        }
        let v = out.last_mut().expect("pushed above");
        if row.name.is_empty() {
            v.withheld_minors += 1;
            continue;
        }
        v.period_from = v.period_from.min(row.period_from);
        v.period_to = v.period_to.max(row.period_to);
        if !v.program.split('、').any(|p| p == row.program) {
            if !v.program.is_empty() {
                v.program.push('、');
            }
            v.program.push_str(&row.program);
        }
        v.rows.push(row);
    }
    Ok(out)
}

fn division_param(s: &str) -> Result<DivisionCode, AppError> {
    DivisionCode::parse(s).map_err(|_| AppError::not_found())
}

async fn one_notice(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ReadCases>,
    division: &str,
) -> Result<VillageNotice, AppError> {
    let code = division_param(division)?;
    village_notices(state, g, Some(&code))
        .await?
        .into_iter()
        .find(|v| v.division == code.as_str())
        .ok_or_else(AppError::not_found)
}

#[derive(Template)]
#[template(path = "notices/list.html")]
struct NoticesPage {
    nav: Nav,
    today: String,
    notices: Vec<VillageNotice>,
}

async fn notices_page(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
) -> Result<Response, PageError> {
    let notices = village_notices(&state, &a.grant, None).await?;
    Ok(render(&NoticesPage {
        nav: Nav::new(&a.auth, "公示"),
        today: state.clock.today().to_string(),
        notices,
    }))
}

#[derive(Template)]
#[template(path = "notices/print.html")]
struct NoticePrintPage {
    nav: Nav,
    n: VillageNotice,
    total_people: u32,
    total_amount: String,
}

async fn notice_page_or_pdf(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(division): Path<String>,
) -> Result<Response, PageError> {
    if let Some(code) = division.strip_suffix(".pdf") {
        let n = one_notice(&state, &a.grant, code).await?;
        let font = font(&state)?;
        let notice = Notice {
            issuing_office: n.office.clone(),
            village: n.division_name.clone(),
            program: n.program.clone(),
            period_from: n.period_from,
            period_to: n.period_to,
            rows: n
                .rows
                .iter()
                .map(|r| NoticeRow {
                    name: r.name.clone(),
                    masked_id_number: r.masked_id_number.clone(),
                    household_size: r.household_size,
                    program: r.program.clone(),
                    monthly_amount: r.amount.unwrap_or(Money::ZERO),
                })
                .collect(),
            contact_phone: n.contact_phone.clone(),
            contact_address: n.contact_address.clone(),
            objection_text: n.objection_text.clone(),
        };
        let bytes = jiuzhu_print::render_notice(&font, &notice).map_err(print_error)?;
        return Ok(pdf(bytes, &format!("notice-{code}.pdf")));
    }
    let n = one_notice(&state, &a.grant, &division).await?;
    let total_people = n.rows.iter().map(|r| r.household_size).sum();
    let total_amount = n
        .rows
        .iter()
        .filter_map(|r| r.amount)
        .fold(Money::ZERO, |a, b| a + b)
        .to_string();
    Ok(render(&NoticePrintPage {
        nav: Nav::new(&a.auth, &format!("{}公示", n.division_name)),
        total_people,
        total_amount,
        n,
    }))
}

/// The notices (公示) in the caller's jurisdiction, one per village or community: rows with
/// masked identity numbers, household size, program and proposed monthly amount, the period and
/// the objection contact. Minors' households are counted in `withheld_minors`, not listed;
/// protected cases never appear. The printable PDF of one is `GET /notices/{division}.pdf`.
#[utoipa::path(get, path = "/api/v1/notices", tag = "cases",
    responses((status = 200, body = NoticeList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_notices(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
) -> Result<Json<NoticeList>, ApiError> {
    let items = village_notices(&state, &a.grant, None).await?;
    Ok(Json(NoticeList {
        today: state.clock.today(),
        items,
    }))
}

/// The notices running in the caller's jurisdiction, as of `today`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeList {
    pub today: NaiveDate,
    pub items: Vec<VillageNotice>,
}

/// The notice of one village or community (404 when none is running there or it is out of the
/// caller's jurisdiction). PDF: `GET /notices/{division}.pdf` (503 `PRINT_FONT_NOT_FOUND` naming
/// the font paths tried when the server has no CJK font).
#[utoipa::path(get, path = "/api/v1/notices/{division}", tag = "cases",
    params(("division" = String, Path)),
    responses((status = 200, body = VillageNotice), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_notice(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(division): Path<String>,
) -> Result<Json<VillageNotice>, ApiError> {
    Ok(Json(one_notice(&state, &a.grant, &division).await?))
}

// ---- decision letters -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LetterOut {
    pub case_id: i64,
    pub case_number: String,
    pub letter_number: String,
    pub issuing_office: String,
    pub applicant_name: String,
    pub masked_id_number: String,
    pub program: String,
    pub decided_on: NaiveDate,
    /// approved | refused
    pub outcome: String,
    pub monthly_amount: String,
    pub start_month: String,
    /// Explanation lines: [step, formula, value, source] each.
    #[schema(value_type = Vec<Vec<String>>)]
    pub explanation: Vec<(String, String, String, String)>,
    pub reasons: Vec<String>,
    pub remedy: String,
    /// Refusals: the day the written reasons are due (3 working days), while not yet delivered.
    pub delivery_due: Option<NaiveDate>,
    /// The label of the after-decision step still open (告知 or 备案), with its due date.
    #[schema(value_type = Option<Vec<String>>)]
    pub follow_up: Option<(String, NaiveDate)>,
    /// An approved change (调整/暂停/恢复/停止): its own title and decision sentence; the
    /// reasons are in `reasons`.
    pub change: Option<LetterChange>,
}

/// What a change decision letter says beyond an approval's fields.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LetterChange {
    /// adjust | suspend | resume | stop
    pub kind: String,
    pub title: String,
    pub statement: String,
    pub parent_number: String,
    pub stop_reason: Option<String>,
    /// Stops: the last month paid (payment ends after it).
    pub last_paid_month: Option<String>,
    pub effective_month: Option<String>,
}

/// The explanation lines of a letter: the engine's steps that make the program's amount (the
/// low-income classes R-LI-* and the all-programs TOTAL are not part of this decision), with
/// consecutive steps of one rule (one per member, say) merged into one line.
fn explanation_lines(v: &Value) -> Vec<(String, String, String, String)> {
    let lines = all_explanation_lines(v)
        .into_iter()
        .filter(|(rule, ..)| !rule.starts_with("R-LI") && !rule.starts_with("TOTAL"));
    let mut out: Vec<(String, String, String, String)> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some(last) if last.0 == l.0 && last.3 == l.3 => {
                last.1 = format!("{};{}", last.1, l.1);
                last.2 = format!("{};{}", last.2, l.2);
            }
            _ => out.push(l),
        }
    }
    out
}

fn all_explanation_lines(v: &Value) -> Vec<(String, String, String, String)> {
    v.as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    let t = |k: &str| s[k].as_str().unwrap_or("").to_string();
                    let sources = s["sources"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|c| {
                                    let doc = c["document"].as_str().unwrap_or("");
                                    match c["number"].as_str() {
                                        Some(n) if n.starts_with(['(', '（']) => {
                                            format!("{doc}{n}")
                                        }
                                        Some(n) if !n.is_empty() => format!("{doc}（{n}）"),
                                        _ => doc.to_string(),
                                    }
                                })
                                .filter(|x| !x.is_empty())
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default();
                    let mut dedup: Vec<String> = Vec::new();
                    for x in sources {
                        if !dedup.contains(&x) {
                            dedup.push(x);
                        }
                    }
                    let source = if dedup.is_empty() {
                        rule_basis(&t("rule"))
                    } else {
                        dedup.join(";")
                    };
                    (
                        format!("{} {}", t("rule"), t("title")),
                        t("formula"),
                        t("value"),
                        source,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The basis printed for a step that cites no policy parameter. A letter goes to the family, so
/// it names the legal text where the rule has one (household composition: MLS-2021 Art.7), never
/// the platform's own rule book.
fn rule_basis(rule: &str) -> String {
    if rule.starts_with("R-HH-") {
        "《最低生活保障审核确认办法》（民发〔2021〕57号）第七条".to_string()
    } else {
        format!("本地规定（规则 {rule}）")
    }
}

async fn letter_of(state: &AppState, auth: &Auth, id: i64) -> Result<LetterOut, AppError> {
    let actor = auth.actor();
    let read = actor.grant::<ReadCases>()?;
    let c: CaseRecord = state
        .store
        .get_case(&read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let decisions = state.store.case_decisions(&read, id).await?;
    let d: &CaseDecision = decisions.last().ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            "LETTER_NO_DECISION",
            "该案件尚未作出决定,没有决定书",
        )
    })?;
    let cs: jiuzhu_workflow::CaseState =
        serde_json::from_value(c.state.clone()).map_err(AppError::internal)?;
    // From the case row: a letter of a referral is read by its department, which does not
    // read the register.
    let masked = c.applicant_id_masked.clone();
    let county = level_of(&c.division_responsible, DivisionCode::county);
    let township = level_of(&c.division_responsible, DivisionCode::township);
    let issuing_office = if cs.confirm_level == jiuzhu_workflow::ActingLevel::Township {
        format!("{}人民政府", division_name(state, &township).await)
    } else {
        format!("{}民政局", division_name(state, &county).await)
    };
    let county_name = division_name(state, &county).await;
    let remedy = jiuzhu_print::default_remedy(
        Some(&format!("{county_name}人民政府")),
        Some(&format!("{county_name}人民法院")),
    );
    let refused = d.decision.outcome == "refused";
    // The refusal's delivery due date is shown on its own; other follow-up steps (备案) here.
    let follow_up = cs
        .open
        .iter()
        .find(|o| o.step != "refusal_letter")
        .and_then(|o| o.due.map(|due| (o.label.clone(), due)));
    let change = match state.store.case_change(&read, c.id).await? {
        Some(ch) if !refused => {
            let parent_program = state
                .store
                .get_case(&read, ch.parent_case_id)
                .await?
                .map(|p| p.program)
                .unwrap_or_default();
            crate::changes::letter_change(&ch, &parent_program)
        }
        _ => None,
    };
    Ok(LetterOut {
        change,
        case_id: c.id,
        case_number: c.number.clone(),
        letter_number: d.letter_number.clone().unwrap_or_default(),
        issuing_office,
        applicant_name: c.applicant_name.clone(),
        masked_id_number: masked,
        program: c.program.clone(),
        decided_on: d.decision.decided_on,
        outcome: d.decision.outcome.clone(),
        monthly_amount: d.decision.monthly_amount.to_string(),
        start_month: d.decision.start_month.clone().unwrap_or_default(),
        explanation: explanation_lines(&d.decision.explanation),
        reasons: d.decision.reasons.clone(),
        remedy,
        delivery_due: if refused {
            cs.open
                .iter()
                .find(|o| o.step == "refusal_letter")
                .and_then(|o| o.due)
        } else {
            None
        },
        follow_up,
    })
}

#[derive(Template)]
#[template(path = "notices/letter.html")]
struct LetterPage {
    nav: Nav,
    l: LetterOut,
}

async fn letter_page(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let l = letter_of(&state, &a.auth, id).await?;
    Ok(render(&LetterPage {
        nav: Nav::new(&a.auth, &format!("决定书 {}", l.letter_number)),
        l,
    }))
}

async fn letter_pdf(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let l = letter_of(&state, &a.auth, id).await?;
    let font = font(&state)?;
    let decision = if let Some(ch) = &l.change {
        Decision::Change {
            title: ch.title.clone(),
            statement: ch.statement.clone(),
            reasons: l.reasons.clone(),
            remedy: Some(l.remedy.clone()),
        }
    } else if l.outcome == "approved" {
        let start = NaiveDate::parse_from_str(&format!("{}-01", l.start_month), "%Y-%m-%d")
            .unwrap_or(l.decided_on);
        Decision::Approval {
            monthly_amount: Money::parse(&l.monthly_amount).unwrap_or(Money::ZERO),
            start_month: start,
            explanation: l
                .explanation
                .iter()
                .map(|(rule, formula, value, source)| ExplanationLine {
                    rule: rule.clone(),
                    formula: formula.clone(),
                    value: value.clone(),
                    source: source.clone(),
                })
                .collect(),
        }
    } else {
        Decision::Refusal {
            reasons: l.reasons.clone(),
            remedy: Some(l.remedy.clone()),
        }
    };
    let letter = DecisionLetter {
        letter_number: l.letter_number.clone(),
        issuing_office: l.issuing_office.clone(),
        applicant_name: l.applicant_name.clone(),
        masked_id_number: l.masked_id_number.clone(),
        program: l.program.clone(),
        decision_date: l.decided_on,
        decision,
    };
    let bytes = jiuzhu_print::render_decision_letter(&font, &letter).map_err(print_error)?;
    Ok(pdf(bytes, &format!("letter-{}.pdf", l.case_number)))
}

/// The decision letter of a decided case: letter number (per county and year), office,
/// applicant (masked identity number), the amount, first month and explanation lines of an
/// approval, or the numbered reasons, remedy sentence and delivery due date of a refusal.
/// PDF: `GET /cases/{id}/letter.pdf`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/letter", tag = "cases",
    params(("id" = i64, Path)),
    responses((status = 200, body = LetterOut), (status = 404, body = crate::error::ErrorEnvelope)))]
pub async fn api_letter(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
    Path(id): Path<i64>,
) -> Result<Json<LetterOut>, ApiError> {
    Ok(Json(letter_of(&state, &a.auth, id).await?))
}

// ---- the county filing list -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "notices/filing.html")]
struct FilingPage {
    nav: Nav,
    today: NaiveDate,
    rows: Vec<FilingEntry>,
    /// Per row: 新增 or the change's kind, and for stops the reason.
    labels: Vec<(String, String)>,
    can_file: bool,
}

async fn filing_page(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
) -> Result<Response, PageError> {
    let rows = state.store.filing_list(&a.grant).await?;
    let actor = a.auth.actor();
    Ok(render(&FilingPage {
        nav: Nav::new(&a.auth, "报县备案"),
        today: state.clock.today(),
        can_file: actor.may(jiuzhu_domain::Action::ActOnCase),
        labels: rows.iter().map(crate::changes::filing_labels).collect(),
        rows,
    }))
}

/// The county filing list (R-PR-5): approved cases with the filing due date (5 working days)
/// or when and by whom they were filed. Filing itself is the `filing` step of the case:
/// `POST /api/v1/cases/{id}/actions` with `{"step": "filing", "action": "complete",
/// "attachments": [{"kind": "filing_receipt", "id": …}]}`.
#[utoipa::path(get, path = "/api/v1/filing", tag = "cases",
    responses((status = 200, body = FilingList), (status = 403, body = crate::error::ErrorEnvelope)))]
pub async fn api_filing(
    State(state): State<AppState>,
    a: Authorized<ReadCases>,
) -> Result<Json<FilingList>, ApiError> {
    let rows = state.store.filing_list(&a.grant).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let (kind_label, stop_label) = crate::changes::filing_labels(&r);
            FilingOut {
                kind_label,
                stop_reason_label: (!stop_label.is_empty()).then_some(stop_label),
                entry: r,
            }
        })
        .collect();
    Ok(Json(FilingList {
        today: state.clock.today(),
        items,
    }))
}

/// A case on the filing list with its kind (新增 or the change) and stop reason in Chinese.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingOut {
    #[serde(flatten)]
    pub entry: FilingEntry,
    pub kind_label: String,
    pub stop_reason_label: Option<String>,
}

/// The county filing list as of `today`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingList {
    pub today: NaiveDate,
    pub items: Vec<FilingOut>,
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(api_notices, api_notice, api_letter, api_filing))]
pub struct PrintingApiDoc;

/// The code at one level (county, township, village) of a stored division code, or the code
/// itself when it lies above that level (a case of a township is posted at the township).
fn level_of(code: &str, level: fn(&DivisionCode) -> Option<DivisionCode>) -> String {
    match DivisionCode::parse(code) {
        Ok(d) => level(&d).unwrap_or(d).to_string(),
        Err(_) => code.to_string(),
    }
}
