//! What the platform prints, with its privacy rules: the public notices (公示) of applications
//! per village or community — a minor applicant's household left off the public list, identity
//! numbers masked — and the decision letters (决定书) with the amount's explanation and the
//! remedy. The web lays them out as pages and PDFs; the data is the same for both.

use chrono::{Duration, NaiveDate};
use jiuzhu_domain::access::{ReadCases, ReadRegistry};
use jiuzhu_domain::{Actor, DivisionCode, Money};
use jiuzhu_store::{CaseDecision, CaseRecord, ChangeKind, ChangeRecord, NoticeEntry};
use serde::Serialize;
use serde_json::Value;

use crate::{App, Error, Result};

/// Objections go to the township office or the government service hotline (12345).
const HOTLINE: &str = "12345（政务服务便民热线）";

/// A division's name for printing (its code when it is not one, or not in the tree).
pub async fn division_name(app: &App, code: &str) -> String {
    match DivisionCode::parse(code) {
        Ok(c) => app.division_name(&c).await,
        Err(_) => code.to_string(),
    }
}

// ---- notices ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

async fn notice_row(app: &App, actor: &Actor, e: &NoticeEntry) -> Result<Option<NoticeRowOut>> {
    let reg = actor.grant::<ReadRegistry>()?;
    let snap = app
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
    let amount = crate::cases::proposed_amount(app, actor, &e.case, e.posted_on).await;
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
    app: &App,
    g: &jiuzhu_domain::Grant<ReadCases>,
    division: Option<&DivisionCode>,
) -> Result<Vec<VillageNotice>> {
    let entries = app.store.notice_list(g, division).await?;
    let mut out: Vec<VillageNotice> = Vec::new();
    for e in &entries {
        let Some(row) = notice_row(app, g.actor(), e).await? else {
            continue;
        };
        // Posted per village or community: a household registered in a grid (网格) is listed
        // on its village's notice.
        let responsible = &e.case.division_responsible;
        let village = level_of(responsible, DivisionCode::village);
        if out.last().map(|v| v.division != village).unwrap_or(true) {
            let township = level_of(responsible, DivisionCode::township);
            let office = format!("{}人民政府", division_name(app, &township).await);
            out.push(VillageNotice {
                division_name: division_name(app, &village).await,
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

/// The notice of one village or community.
pub async fn one_notice(
    app: &App,
    g: &jiuzhu_domain::Grant<ReadCases>,
    division: &str,
) -> Result<VillageNotice> {
    let code = DivisionCode::parse(division).map_err(|_| Error::NotFound)?;
    village_notices(app, g, Some(&code))
        .await?
        .into_iter()
        .find(|v| v.division == code.as_str())
        .ok_or(Error::NotFound)
}

// ---- decision letters -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    pub outcome: jiuzhu_domain::case::DecisionOutcome,
    pub monthly_amount: String,
    pub start_month: String,
    /// Explanation lines: [step, formula, value, source] each.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<String>>))]
    pub explanation: Vec<(String, String, String, String)>,
    pub reasons: Vec<String>,
    pub remedy: String,
    /// Refusals: the day the written reasons are due (3 working days), while not yet delivered.
    pub delivery_due: Option<NaiveDate>,
    /// The label of the after-decision step still open (告知 or 备案), with its due date.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub follow_up: Option<(String, NaiveDate)>,
    /// An approved change (调整/暂停/恢复/停止): its own title and decision sentence; the
    /// reasons are in `reasons`.
    pub change: Option<LetterChange>,
}

/// What a change decision letter says beyond an approval's fields.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The decision letter of a case's latest decision, as the actor may read it; `None` while no
/// decision has been made.
pub async fn letter_of(app: &App, actor: &Actor, id: i64) -> Result<Option<LetterOut>> {
    let read = actor.grant::<ReadCases>()?;
    let c: CaseRecord = app
        .store
        .get_case(&read, id)
        .await?
        .ok_or(Error::NotFound)?;
    let decisions = app.store.case_decisions(&read, id).await?;
    let Some(d) = decisions.last() else {
        return Ok(None);
    };
    let d: &CaseDecision = d;
    let cs: jiuzhu_workflow::CaseState =
        serde_json::from_value(c.state.clone()).map_err(Error::internal_json)?;
    // From the case row: a letter of a referral is read by its department, which does not
    // read the register.
    let masked = c.applicant_id_masked.clone();
    let county = level_of(&c.division_responsible, DivisionCode::county);
    let township = level_of(&c.division_responsible, DivisionCode::township);
    let issuing_office = if cs.confirm_level == jiuzhu_workflow::ActingLevel::Township {
        format!("{}人民政府", division_name(app, &township).await)
    } else {
        format!("{}民政局", division_name(app, &county).await)
    };
    let county_name = division_name(app, &county).await;
    let remedy = jiuzhu_print::default_remedy(
        Some(&format!("{county_name}人民政府")),
        Some(&format!("{county_name}人民法院")),
    );
    let refused = d.decision.outcome == jiuzhu_domain::case::DecisionOutcome::Refused;
    // The refusal's delivery due date is shown on its own; other follow-up steps (备案) here.
    let follow_up = cs
        .open
        .iter()
        .find(|o| o.step != "refusal_letter")
        .and_then(|o| o.due.map(|due| (o.label.clone(), due)));
    let change = match app.store.case_change(&read, c.id).await? {
        Some(ch) if !refused => {
            let parent_program = app
                .store
                .get_case(&read, ch.parent_case_id)
                .await?
                .map(|p| p.program)
                .unwrap_or_default();
            letter_change(&ch, &parent_program)
        }
        _ => None,
    };
    Ok(Some(LetterOut {
        change,
        case_id: c.id,
        case_number: c.number.clone(),
        letter_number: d.letter_number.clone().unwrap_or_default(),
        issuing_office,
        applicant_name: c.applicant_name.clone(),
        masked_id_number: masked,
        program: c.program.clone(),
        decided_on: d.decision.decided_on,
        outcome: d.decision.outcome,
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
    }))
}

/// The title and decision sentence of an approved change's letter.
pub fn letter_change(c: &ChangeRecord, parent_program: &str) -> Option<LetterChange> {
    let o = c.outcome.as_ref()?;
    let p = parent_program;
    let m = o.effective_month.clone().unwrap_or_default();
    let (title, statement) = match c.kind {
        ChangeKind::Stop => (
            format!("停止{p}决定书"),
            format!(
                "经调查核实和审核,本机关决定停止你家庭的{p}(原案件 {}),最后发放月份为 {},此后不再发放。理由如下:",
                c.parent_number,
                o.last_paid_month.as_deref().unwrap_or_default()
            ),
        ),
        ChangeKind::Suspend => (
            format!("暂停发放{p}决定书"),
            format!(
                "经审核,本机关决定自 {m} 起暂停发放你家庭的{p}(原案件 {}),待核查清楚后依法处理。理由如下:",
                c.parent_number
            ),
        ),
        ChangeKind::Resume => (
            format!("恢复发放{p}决定书"),
            format!(
                "经审核,本机关决定自 {m} 起恢复发放你家庭的{p}(原案件 {}),月救助金额为人民币 {} 元。理由如下:",
                c.parent_number, o.amount_after
            ),
        ),
        ChangeKind::Adjust => (
            format!("调整{p}救助金额决定书"),
            format!(
                "经调查核实和审核,本机关决定自 {m} 起将你家庭的{p}(原案件 {})月救助金额由人民币 {} 元调整为 {} 元。理由如下:",
                c.parent_number, o.amount_before, o.amount_after
            ),
        ),
    };
    Some(LetterChange {
        kind: c.kind.as_str().into(),
        title,
        statement,
        parent_number: c.parent_number.clone(),
        stop_reason: c.stop_reason.map(|r| r.label_zh().to_string()),
        last_paid_month: o.last_paid_month.clone(),
        effective_month: o.effective_month.clone(),
    })
}

/// The code at one level (county, township, village) of a stored division code, or the code
/// itself when it lies above that level (a case of a township is posted at the township).
fn level_of(code: &str, level: fn(&DivisionCode) -> Option<DivisionCode>) -> String {
    match DivisionCode::parse(code) {
        Ok(d) => level(&d).unwrap_or(d).to_string(),
        Err(_) => code.to_string(),
    }
}
