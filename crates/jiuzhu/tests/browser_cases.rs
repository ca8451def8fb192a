//! The case procedure in a real headless Chromium (docs/cases.md), with the demo county and its
//! users (`jiuzhu serve --demo`): a 低保 application from the window to approval, notice and
//! decision letter; a refusal and its letter; an objection during the notice; an overdue step in
//! 我的待办. Time passes by stopping the server and starting it again on the same database with
//! a later `--today` — no test-only endpoints.
//!
//! Needs `chromium` and `chromedriver`; fails — never skips — when they are missing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{act, day, fetch_head, login, page_text, screenshot, start_browser, start_server};
use fantoccini::{Client, Locator};
use jiuzhu_domain::access::{ReadCases, ReadRegistry};
use jiuzhu_domain::{Actor, Clock, DivisionCode, FixedClock};

const CLERK: &str = "clerk_huancuilou";
const REVIEWER: &str = "reviewer_huancuilou";
const APPROVER: &str = "approver_huancui";
const ASSISTANT: &str = "assistant_xinweilu";

/// Monday; the demo cases are seeded on this day.
const DAY0: &str = "2026-11-23";
/// Wednesday after a notice posted on DAY0 ended (it runs 11-24 … 11-30).
const AFTER_NOTICE: &str = "2026-12-02";

/// A household of the clerk's township (under `under`) without a case, whose head is an adult
/// and for which the policy engine computes a positive 低保 amount — read from the server's
/// database the way the decision will compute it.
async fn eligible_household(db_url: &str, under: &str) -> (String, String) {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(
        day(DAY0).and_hms_opt(4, 0, 0).unwrap().and_utc(),
    ));
    let store: Arc<dyn jiuzhu_store::Store> = Arc::new(
        jiuzhu_store::connect_with_key_file(
            db_url,
            clock.clone(),
            &jiuzhu_store::data_key::default_path(db_url),
        )
        .await
        .unwrap()
        .0,
    );
    let sys = Actor::system("test");
    let read = sys.grant::<ReadRegistry>().unwrap();
    let cases = store
        .list_cases(
            &sys.grant::<ReadCases>().unwrap(),
            &jiuzhu_store::CaseQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let taken: Vec<String> = cases
        .items
        .iter()
        .map(|c| c.household_code.clone())
        .collect();
    let division = DivisionCode::parse(under).unwrap();
    let entries = store
        .caseload_as_of(&read, Some(&division), day(DAY0))
        .await
        .unwrap();
    let app = jiuzhu_app::App::new(store.clone(), clock).unwrap();
    let state = jiuzhu_web::AppState::with_app(app, jiuzhu_web::WebConfig::default());
    for e in entries.iter().filter(|e| e.economics.is_some()) {
        let code = &e.snapshot.household.code;
        if taken.contains(code) {
            continue;
        }
        let Some(head) = e
            .snapshot
            .members
            .iter()
            .find(|m| m.membership.relation == jiuzhu_domain::Relation::Head)
        else {
            continue;
        };
        if head.person.id_number.age_on(day(DAY0)) < 18 {
            continue;
        }
        let case = jiuzhu_store::CaseRecord {
            id: 0,
            number: String::new(),
            workflow: "dibao".into(),
            program: "低保".into(),
            household_id: e.snapshot.household.id,
            household_code: code.clone(),
            applicant_id: head.person.id,
            applicant_name: head.person.facts.name.clone(),
            applicant_id_masked: head.person.id_number.masked(),
            household_address: e.snapshot.facts.address.clone(),
            division_filed: under.into(),
            division_responsible: e.snapshot.facts.division.to_string(),
            department: None,
            hukou_elsewhere: false,
            flags: Default::default(),
            status: jiuzhu_domain::case::CaseStatus::Open,
            state: serde_json::json!(null),
            revision: 0,
            created_at: chrono::Utc::now(),
            created_by: String::new(),
            updated_at: chrono::Utc::now(),
        };
        if jiuzhu_app::cases::proposed_amount(&state.app, &sys, &case, day(AFTER_NOTICE))
            .await
            .is_some()
        {
            return (
                head.person.facts.name.clone(),
                head.person.id_number.as_str().to_string(),
            );
        }
    }
    panic!("no eligible household under {under}");
}

/// The clerk registers a 低保 application for the person with this identity number; answers
/// the case id.
async fn register(c: &Client, base: &str, id_number: &str) -> i64 {
    login(c, base, CLERK).await;
    c.goto(&format!("{base}/cases/new?q={id_number}"))
        .await
        .unwrap();
    c.find(Locator::Css("input[name=applicant]"))
        .await
        .expect("the applicant is found")
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("select[name=workflow] option[value=dibao]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for name in ["id_card", "authorisation"] {
        let b = c
            .find(Locator::Css(&format!("input[name={name}]")))
            .await
            .unwrap();
        if !b.is_selected().await.unwrap() {
            b.click().await.unwrap();
        }
    }
    c.find(Locator::XPath("//button[contains(., '登记受理')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = c.current_url().await.unwrap();
    let text = page_text(c).await;
    let id = url
        .path()
        .strip_prefix("/cases/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("on the new case page: {url} {text}"));
    assert!(
        text.contains("家庭经济状况核对"),
        "registered with 一证一书, verification open: {text}"
    );
    id
}

/// Verification (county), home survey and township review: the case then enters its notice.
async fn to_notice(c: &Client, base: &str, case: i64) {
    login(c, base, APPROVER).await;
    act(
        c,
        base,
        case,
        "verify",
        &[("att_verification_report", "核对报告-2026-88")],
        "complete",
    )
    .await;
    login(c, base, REVIEWER).await;
    act(
        c,
        base,
        case,
        "survey",
        &[
            ("investigators", "孙志强\n毕秀丽"),
            ("att_survey_record", "调查记录-2026-88"),
            ("opinion", "与申报一致"),
        ],
        "complete",
    )
    .await;
    act(
        c,
        base,
        case,
        "review",
        &[
            ("att_review_opinion", "审核意见-2026-88"),
            ("opinion", "同意"),
        ],
        "complete",
    )
    .await;
    let page = page_text(c).await;
    assert!(page.contains("公示中"), "the notice runs: {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dibao_from_the_window_to_approval_notice_and_letter() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let (name, id_number) = eligible_household(&server.db_url, "371002001").await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = server.base.clone();

    let case = register(c, &base, &id_number).await;
    to_notice(c, &base, case).await;

    // The notice of the village lists the applicant with a masked identity number.
    c.goto(&format!("{base}/notices")).await.unwrap();
    let list = page_text(c).await;
    assert!(list.contains(&name), "{list}");
    assert!(!list.contains(&id_number), "identity numbers are masked");
    c.find(Locator::XPath(&format!(
        "//div[contains(@class,'card')][contains(., '{name}')]//a[contains(., '打印页')]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let print = page_text(c).await;
    assert!(
        print.contains("拟保障对象公示") && print.contains(&name),
        "{print}"
    );
    assert!(print.contains("2026-11-24 至 2026-11-30"), "{print}");
    screenshot(c, "notice-page.png").await;
    let pdf = c.current_url().await.unwrap().path().to_string() + ".pdf";
    assert!(fetch_head(c, &pdf).await.starts_with("200 application/pdf"));

    // Closing the notice early is refused by the workflow.
    c.goto(&format!("{base}/cases/{case}")).await.unwrap();
    assert!(page_text(c).await.contains("公示中"));

    // A week later (restart on the same database with a later date).
    server.stop().await;
    let server = start_server(dir.path(), AFTER_NOTICE).await;
    let base = server.base.clone();
    login(c, &base, REVIEWER).await;
    act(
        c,
        &base,
        case,
        "notice",
        &[
            ("att_notice_record", "公示记录-2026-88"),
            ("opinion", "公示期满无异议"),
        ],
        "complete",
    )
    .await;
    login(c, &base, APPROVER).await;
    act(
        c,
        &base,
        case,
        "confirm",
        &[
            ("att_decision_letter", "决定书-2026-88"),
            ("opinion", "同意确认"),
        ],
        "complete",
    )
    .await;
    let page = page_text(c).await;
    assert!(
        page.contains("决定:确认") && page.contains("自 2027-01 起发放"),
        "{page}"
    );
    screenshot(c, "case-page.png").await;

    c.find(Locator::XPath("//a[.='决定书']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let letter = page_text(c).await;
    assert!(letter.contains("审核确认决定书"), "{letter}");
    assert!(letter.contains("环民救〔2026〕1号"), "{letter}");
    assert!(
        letter.contains("自 2027-01 起按月发放") && letter.contains(&name),
        "{letter}"
    );
    assert!(letter.contains("R-DB"), "explanation lines: {letter}");
    screenshot(c, "letter-page.png").await;
    let head = fetch_head(c, &format!("/cases/{case}/letter.pdf")).await;
    assert!(head.starts_with("200 application/pdf"), "{head}");

    // The county filing list shows the approved case, not yet filed; the approver files it.
    c.goto(&format!("{base}/filing")).await.unwrap();
    let filing = page_text(c).await;
    assert!(
        filing.contains(&name) && filing.contains("未备案"),
        "{filing}"
    );
    c.find(Locator::Css("input[name=att_filing_receipt]"))
        .await
        .unwrap()
        .send_keys("备案回执-2026-88")
        .await
        .unwrap();
    c.find(Locator::XPath("//button[.='备案']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.goto(&format!("{base}/filing")).await.unwrap();
    let filing = page_text(c).await;
    assert!(filing.contains("已备案 2026-12-02"), "{filing}");

    c.clone().close().await.unwrap();
    server.stop().await;
}

/// The demo case already in notice (seeded on DAY0): its id.
async fn demo_case_in_notice(c: &Client, base: &str) -> i64 {
    c.goto(&format!("{base}/notices")).await.unwrap();
    let href = c
        .find(Locator::Css("a[href^='/cases/']"))
        .await
        .expect("a case in notice")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    href.trim_start_matches("/cases/").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_with_reasons_and_its_letter() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    server.stop().await;
    let server = start_server(dir.path(), AFTER_NOTICE).await;
    let base = server.base.clone();
    let browser = start_browser().await;
    let c = &browser.client;

    login(c, &base, REVIEWER).await;
    let case = demo_case_in_notice(c, &base).await;
    act(
        c,
        &base,
        case,
        "notice",
        &[
            ("att_notice_record", "公示记录-演示"),
            ("opinion", "公示期满"),
        ],
        "complete",
    )
    .await;
    login(c, &base, APPROVER).await;
    act(
        c,
        &base,
        case,
        "confirm",
        &[
            ("att_decision_letter", "决定书-演示"),
            (
                "reasons",
                "家庭人均收入高于当地低保标准\n家庭成员名下有机动车辆",
            ),
        ],
        "refuse",
    )
    .await;
    let page = page_text(c).await;
    assert!(page.contains("决定:不予确认"), "{page}");
    assert!(
        page.contains("书面告知不予确认理由"),
        "the refusal letter step is open: {page}"
    );

    c.goto(&format!("{base}/cases/{case}/letter"))
        .await
        .unwrap();
    let letter = page_text(c).await;
    assert!(letter.contains("不予确认决定书"), "{letter}");
    assert!(letter.contains("家庭人均收入高于当地低保标准"), "{letter}");
    assert!(letter.contains("家庭成员名下有机动车辆"), "{letter}");
    assert!(letter.contains("行政复议"), "remedy sentence: {letter}");
    // Three working days after Wed 2026-12-02: Thu, Fri, Mon → 2026-12-07.
    assert!(letter.contains("须于 2026-12-07 前书面告知"), "{letter}");
    assert!(letter.contains("环民救〔2026〕"), "{letter}");
    screenshot(c, "refusal-letter-page.png").await;
    let head = fetch_head(c, &format!("/cases/{case}/letter.pdf")).await;
    assert!(head.starts_with("200 application/pdf"), "{head}");

    c.clone().close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objection_during_the_notice_leads_to_a_new_notice() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    server.stop().await;
    // Thursday, during the notice.
    let server = start_server(dir.path(), "2026-11-26").await;
    let base = server.base.clone();
    let browser = start_browser().await;
    let c = &browser.client;

    login(c, &base, REVIEWER).await;
    let case = demo_case_in_notice(c, &base).await;
    act(
        c,
        &base,
        case,
        "notice",
        &[
            ("objector", "村民王某"),
            ("opinion", "反映该户子女有稳定收入"),
        ],
        "object",
    )
    .await;
    let page = page_text(c).await;
    assert!(
        page.contains("异议人:村民王某;异议内容:反映该户子女有稳定收入"),
        "{page}"
    );
    assert!(
        page.contains("有争议"),
        "the case is flagged disputed: {page}"
    );

    // Re-investigation, democratic appraisal by the village, review, and a new notice.
    act(
        c,
        &base,
        case,
        "survey",
        &[
            ("investigators", "孙志强\n毕秀丽"),
            ("att_survey_record", "复查记录-1"),
            ("opinion", "子女在外务工,收入已计入"),
        ],
        "complete",
    )
    .await;
    login(c, &base, ASSISTANT).await;
    act(
        c,
        &base,
        case,
        "appraisal",
        &[
            ("att_appraisal_minutes", "评议记录-1"),
            ("opinion", "评议通过"),
        ],
        "complete",
    )
    .await;
    login(c, &base, REVIEWER).await;
    act(
        c,
        &base,
        case,
        "review",
        &[("att_review_opinion", "审核意见-2"), ("opinion", "同意")],
        "complete",
    )
    .await;
    c.goto(&format!("{base}/notices")).await.unwrap();
    let list = page_text(c).await;
    assert!(
        list.contains("2026-11-27 至 2026-12-03"),
        "the new notice runs from the day after: {list}"
    );

    c.clone().close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_step_shows_in_my_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let base = server.base.clone();
    let browser = start_browser().await;
    let c = &browser.client;
    // The demo seeds one application registered 20 days earlier: its verification (county, 5
    // working days) is overdue.
    login(c, &base, APPROVER).await;
    c.find(Locator::XPath("//a[.='我的待办']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let tasks = page_text(c).await;
    assert!(
        tasks.contains("家庭经济状况核对") && tasks.contains("已超期"),
        "{tasks}"
    );
    screenshot(c, "tasks-overdue.png").await;
    c.clone().close().await.unwrap();
    server.stop().await;
}
