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
use chrono::NaiveDate;
use jiuzhu_app::records::FilingEntry;
use jiuzhu_domain::access::ReadCases;
use jiuzhu_domain::{DivisionCode, Money};
use jiuzhu_print::{CjkFont, Decision, DecisionLetter, ExplanationLine, Notice, NoticeRow};
use serde::Serialize;

use crate::auth::{Auth, Authorized};
use crate::error::{ApiError, AppError, PageError};
use crate::views::{render, Nav};
use crate::AppState;

/// The font slot of `AppState`: loaded at the first print, or why it could not be.
pub type FontSlot = Result<Arc<CjkFont>, (&'static str, String)>;

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
    jiuzhu_app::printing::division_name(&state.app, code).await
}

// ---- notices ----------------------------------------------------------------------------------

pub use jiuzhu_app::printing::{LetterChange, LetterOut, NoticeRowOut, VillageNotice};

/// The notices in the user's jurisdiction, one per village or community (under `division`).
pub async fn village_notices(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ReadCases>,
    division: Option<&DivisionCode>,
) -> Result<Vec<VillageNotice>, AppError> {
    Ok(jiuzhu_app::printing::village_notices(&state.app, g, division).await?)
}

async fn one_notice(
    state: &AppState,
    g: &jiuzhu_domain::Grant<ReadCases>,
    division: &str,
) -> Result<VillageNotice, AppError> {
    Ok(jiuzhu_app::printing::one_notice(&state.app, g, division).await?)
}

/// The letter of a case's decision; 404 `LETTER_NO_DECISION` before there is one.
async fn letter_of(state: &AppState, auth: &Auth, id: i64) -> Result<LetterOut, AppError> {
    jiuzhu_app::printing::letter_of(&state.app, auth.actor(), id)
        .await?
        .ok_or_else(|| {
            AppError::new(
                StatusCode::NOT_FOUND,
                "LETTER_NO_DECISION",
                "该案件尚未作出决定,没有决定书",
            )
        })
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
    } else if l.outcome == jiuzhu_domain::case::DecisionOutcome::Approved {
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
    let rows = state.app.filing_list(&a.grant).await?;
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
    let rows = state.app.filing_list(&a.grant).await?;
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
