//! The monthly comparison handled to closure in a real headless Chromium (docs/feeds.md), with
//! the demo county: a demo application is approved, the county uploads the civil-affairs deaths
//! file on /feeds, starts the month's comparison on /verification/runs, the township reviewer
//! opens the DEATH warning in the inbox, records 停止救助 after a visit — which closes the
//! warning (销号) and opens the stop case — and the county confirms the stop, which ends the
//! benefit with its last paid month and puts the ended case on the filing list.
//!
//! Needs `chromium` and `chromedriver`; fails — never skips — when they are missing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{act, day, login, page_text, screenshot, start_browser, start_server};
use fantoccini::{Client, Locator};
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Clock, DivisionCode, FixedClock};

const REVIEWER: &str = "reviewer_huancuilou";
const APPROVER: &str = "approver_huancui";
const DAY0: &str = "2026-11-23";
/// After the notice posted on DAY0 ended; the approval is made on this day (paid from 2027-01).
const AFTER_NOTICE: &str = "2026-12-02";
/// A month and a half later: the household has been paid for 2027-01 when the death is reported.
const LATER: &str = "2027-01-18";

/// Polls the page until `needle` shows (background jobs report by polling).
async fn wait_for(c: &Client, needle: &str) -> String {
    for _ in 0..100 {
        // The page may be replaced while it is read (the job page moves on when done).
        let page = match c.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if page.contains(needle) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{needle:?} never showed: {}", page_text(c).await);
}

/// The identity number of the household's head, read from the server's database (pages show
/// it masked; a department's file carries it in full).
async fn head_id_number(db_url: &str, household: i64) -> String {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(
        day(AFTER_NOTICE).and_hms_opt(4, 0, 0).unwrap().and_utc(),
    ));
    let store = jiuzhu_store::connect_with_key_file(
        db_url,
        clock,
        &jiuzhu_store::data_key::default_path(db_url),
    )
    .await
    .unwrap()
    .0;
    let read = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let entries = jiuzhu_store::Store::caseload_as_of(
        &store,
        &read,
        Some(&DivisionCode::parse("371002001").unwrap()),
        day(AFTER_NOTICE),
    )
    .await
    .unwrap();
    let entry = entries
        .iter()
        .find(|e| e.snapshot.household.id == household)
        .expect("the case's household in the caseload");
    let head = entry
        .snapshot
        .members
        .iter()
        .find(|m| m.membership.relation == jiuzhu_domain::Relation::Head)
        .or(entry.snapshot.members.first())
        .unwrap();
    head.person.id_number.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_death_warning_is_handled_to_a_stop_and_the_ended_case_is_filed() {
    let dir = tempfile::tempdir().unwrap();
    let browser = start_browser().await;
    let c = &browser.client;

    // The demo's case in public notice since DAY0 …
    let server = start_server(dir.path(), DAY0).await;
    login(c, &server.base, REVIEWER).await;
    c.goto(&format!("{}/notices", server.base)).await.unwrap();
    let href = c
        .find(Locator::Css("a[href^='/cases/']"))
        .await
        .expect("a case in notice")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let case: i64 = href.trim_start_matches("/cases/").parse().unwrap();
    server.stop().await;

    // … is approved once the notice has ended.
    let server = start_server(dir.path(), AFTER_NOTICE).await;
    let base = server.base.clone();
    login(c, &base, REVIEWER).await;
    act(
        c,
        &base,
        case,
        "notice",
        &[
            ("att_notice_record", "公示记录-2026-90"),
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
            ("att_decision_letter", "决定书-2026-90"),
            ("opinion", "同意确认"),
        ],
        "complete",
    )
    .await;
    let page = page_text(c).await;
    assert!(page.contains("决定:确认"), "{page}");
    let household: i64 = c
        .find(Locator::XPath(
            "//tr[th='家庭']//a[starts-with(@href, '/households/')]",
        ))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap()
        .trim_start_matches("/households/")
        .parse()
        .unwrap();
    let id_number = head_id_number(&server.db_url, household).await;
    server.stop().await;

    let server = start_server(dir.path(), LATER).await;
    let base = server.base.clone();
    login(c, &base, APPROVER).await;

    // The county uploads the deaths file of the civil-affairs funeral office.
    c.goto(&format!("{base}/feeds")).await.unwrap();
    let file = dir.path().join("殡葬数据.csv");
    std::fs::write(
        &file,
        format!("身份证号码,死亡日期\n{id_number},2027-01-05\n"),
    )
    .unwrap();
    // The source is chosen from the registered ones, by name.
    c.find(Locator::Css(
        "form[action='/feeds'] option[value='civil_deaths:HC-BZ']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Css("form[action='/feeds'] input[type=file]"))
        .await
        .unwrap()
        .send_keys(&file.to_string_lossy())
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/feeds'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "查看结果").await;
    let result = c
        .find(Locator::Css("#link"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}{result}")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("威海市环翠区民政局殡葬管理所"), "{page}");
    assert!(page.contains("已采用"), "delivery accepted: {page}");

    // The month's comparison, started from the page.
    c.goto(&format!("{base}/verification/runs")).await.unwrap();
    let month = c.find(Locator::Css("input[name=month]")).await.unwrap();
    month.clear().await.unwrap();
    month.send_keys("2027-01").await.unwrap();
    c.find(Locator::Css(
        "form[action='/verification/runs'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for(c, "查看结果").await;
    c.goto(&format!("{base}/verification/runs")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("2027-01"), "the run is listed: {page}");

    // The township reviewer finds the warning in the inbox and handles it after a visit.
    login(c, &base, REVIEWER).await;
    c.goto(&format!("{base}/warnings?kind=DEATH&status=open"))
        .await
        .unwrap();
    let page = page_text(c).await;
    assert!(page.contains("成员已死亡"), "{page}");
    screenshot(c, "warnings-inbox.png").await;
    let warning_href = c
        .find(Locator::Css("a[href^='/warnings/']:not([href*='zero'])"))
        .await
        .expect("a warning in the inbox")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}{warning_href}")).await.unwrap();
    let page = page_text(c).await;
    assert!(
        page.contains("威海市环翠区民政局殡葬管理所"),
        "evidence cites the source by its registered name: {page}"
    );
    assert!(page.contains("2027-01-05"), "{page}");
    c.find(Locator::Css("select[name=result] option[value=stop]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("textarea[name=note]"))
        .await
        .unwrap()
        .send_keys("入户核实:户主已于2027-01-05死亡,家属确认")
        .await
        .unwrap();
    c.find(Locator::Css("form[action$='/close'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let page = page_text(c).await;
    screenshot(c, "warning-closed.png").await;
    assert!(page.contains("已销号") || page.contains("已关闭"), "{page}");
    assert!(page.contains("户主已于2027-01-05死亡"), "{page}");
    let change_href = c
        .find(Locator::LinkText("已开启变更案件"))
        .await
        .unwrap_or_else(|_| panic!("the stop case it opened: {page}"))
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let change: i64 = change_href.trim_start_matches("/cases/").parse().unwrap();

    // The stop case points at the approved case, and the county confirms it.
    c.goto(&format!("{base}/cases/{change}")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("停止"), "{page}");
    assert!(page.contains("死亡"), "{page}");
    assert!(
        page.contains(&format!("/cases/{case}")) || page.contains("原案件"),
        "{page}"
    );
    login(c, &base, APPROVER).await;
    act(
        c,
        &base,
        change,
        "confirm",
        &[
            ("att_decision_letter", "停保决定书-2026-91"),
            ("opinion", "同意停止"),
        ],
        "complete",
    )
    .await;
    c.goto(&format!("{base}/cases/{case}")).await.unwrap();
    let page = page_text(c).await;
    screenshot(c, "case-ended.png").await;
    assert!(page.contains("2027-01"), "last paid month shown: {page}");

    // The ended case is on the county's filing list, with its reason and last paid month.
    c.goto(&format!("{base}/filing")).await.unwrap();
    let page = page_text(c).await;
    screenshot(c, "filing-ended.png").await;
    assert!(page.contains("死亡"), "{page}");
    assert!(page.contains("2027-01"), "{page}");

    server.stop().await;
}
