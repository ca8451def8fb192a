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

/// The server's database, opened by the test while the server is stopped, on `today`.
async fn open_store(db_url: &str, today: &str) -> jiuzhu_store::SqlStore {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(
        day(today).and_hms_opt(4, 0, 0).unwrap().and_utc(),
    ));
    jiuzhu_store::connect_with_key_file(
        db_url,
        clock,
        &jiuzhu_store::data_key::default_path(db_url),
    )
    .await
    .unwrap()
    .0
}

/// The identity number of the household's head, read from the server's database (pages show
/// it masked; a department's file carries it in full).
async fn head_id_number(db_url: &str, household: i64) -> String {
    let store = open_store(db_url, AFTER_NOTICE).await;
    let read = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let entries = jiuzhu_store::EconomicsStore::caseload_as_of(
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

/// The demo's case in public notice since DAY0, approved once the notice has ended (on
/// AFTER_NOTICE): its id and household. The server is left stopped.
async fn approved_demo_case(c: &Client, dir: &std::path::Path) -> (i64, i64, String) {
    // The demo's case in public notice since DAY0 …
    let server = start_server(dir, DAY0).await;
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
    let server = start_server(dir, AFTER_NOTICE).await;
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
    let db_url = server.db_url.clone();
    server.stop().await;
    (case, household, db_url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_death_warning_is_handled_to_a_stop_and_the_ended_case_is_filed() {
    let dir = tempfile::tempdir().unwrap();
    let browser = start_browser().await;
    let c = &browser.client;
    let (case, household, db_url) = approved_demo_case(c, dir.path()).await;
    let id_number = head_id_number(&db_url, household).await;

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

/// What the second test's deliveries are built from, read and prepared in the server's database
/// while it is stopped: the household's head, its size and division, and a registered resident
/// of its township who receives nothing (the outreach lead).
struct Household {
    head: String,
    members: i64,
    division: DivisionCode,
    resident: String,
}

async fn prepare(db_url: &str, household: i64) -> Household {
    let store = open_store(db_url, AFTER_NOTICE).await;
    let sys = Actor::system("test");
    let snapshot = jiuzhu_store::HouseholdStore::household_as_of(
        &store,
        &sys.grant::<ReadRegistry>().unwrap(),
        household,
        day(AFTER_NOTICE),
    )
    .await
    .unwrap()
    .unwrap();
    let head = snapshot
        .members
        .iter()
        .find(|m| m.membership.relation == jiuzhu_domain::Relation::Head)
        .or(snapshot.members.first())
        .unwrap();
    let resident = jiuzhu_domain::IdNumber::parse("371002195001010017").unwrap();
    jiuzhu_store::PersonStore::create_person(
        &store,
        &sys.grant::<jiuzhu_domain::access::WriteRegistry>().unwrap(),
        &resident,
        &jiuzhu_domain::PersonFacts::minimal(&resident, "赵桂兰", snapshot.facts.division.clone()),
        day("2025-01-01"),
    )
    .await
    .unwrap();
    Household {
        head: head.person.id_number.to_string(),
        members: snapshot.members.len() as i64,
        division: snapshot.facts.division.clone(),
        resident: resident.to_string(),
    }
}

/// Registers a household for the lead's resident (the server stopped), as the township would.
async fn house(db_url: &str, h: &Household) {
    let store = open_store(db_url, LATER).await;
    let sys = Actor::system("test");
    let w = sys.grant::<jiuzhu_domain::access::WriteRegistry>().unwrap();
    let resident = jiuzhu_domain::IdNumber::parse(&h.resident).unwrap();
    let person = jiuzhu_store::PersonStore::find_person_by_id_number(
        &store,
        &sys.grant::<ReadRegistry>().unwrap(),
        &resident,
    )
    .await
    .unwrap()
    .unwrap();
    let household = jiuzhu_store::HouseholdStore::create_household(
        &store,
        &w,
        &jiuzhu_store::NewHousehold {
            code: None,
            facts: jiuzhu_domain::HouseholdFacts {
                address: "环翠楼街道新威路18号".into(),
                division: h.division.clone(),
                area: jiuzhu_domain::Area::Urban,
            },
            valid_from: day(LATER),
        },
    )
    .await
    .unwrap();
    jiuzhu_store::HouseholdStore::add_member(
        &store,
        &w,
        household.id,
        person.id,
        jiuzhu_domain::Relation::Head,
        day(LATER),
        None,
    )
    .await
    .unwrap();
}

/// Uploads `csv` on /feeds as the logged-in user for a registered source (`kind:code`) and
/// waits for the job's result.
async fn deliver(c: &Client, base: &str, dir: &std::path::Path, source: &str, csv: &str) {
    c.goto(&format!("{base}/feeds")).await.unwrap();
    let file = dir.join(format!("{}.csv", source.replace(':', "-")));
    std::fs::write(&file, csv).unwrap();
    c.find(Locator::Css(&format!(
        "form[action='/feeds'] option[value='{source}']"
    )))
    .await
    .unwrap_or_else(|_| panic!("source {source} offered"))
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
    let page = wait_for(c, "查看结果").await;
    assert!(page.contains("导入完成"), "{source}: {page}");
}

/// Issue 12's screens end to end: two banks deliver their own files, each below the deposit
/// line and over it together; the month's run lists both as used and raises one DEPOSIT
/// warning; the township reviewer closes the INCOME warning as 调整救助金额 with the wage found
/// at the visit, and the county's change decision computes the new amount from it; a registered
/// resident's large medical bill becomes a lead that the window clerk turns into an application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_banks_an_adjustment_that_changes_the_amount_and_a_lead_to_an_application() {
    let dir = tempfile::tempdir().unwrap();
    let browser = start_browser().await;
    let c = &browser.client;
    let (_case, household, db_url) = approved_demo_case(c, dir.path()).await;
    let h = prepare(&db_url, household).await;
    let lib = jiuzhu_policy::PolicyLibrary::builtin().unwrap();
    let p =
        jiuzhu_app::verification::thresholds::verify_policy(&lib, &h.division, day(LATER)).unwrap();
    let times = |m: jiuzhu_domain::Money, n: i64| jiuzhu_domain::Money::from_fen(m.fen() * n);
    // 60 % of the household's deposit line in each bank: neither alone, both together over it.
    let share =
        jiuzhu_domain::Money::from_fen(p.deposit_limit_per_member.fen() * h.members * 6 / 10);
    let wage = times(p.urban_standard.max(p.rural_standard), h.members);

    let server = start_server(dir.path(), LATER).await;
    let base = server.base.clone();
    login(c, &base, "officer_bank").await;
    deliver(
        c,
        &base,
        dir.path(),
        "deposits:WHCCB-HC",
        &format!(
            "身份证号码,机构代码,账户类型,余额,余额日期\n{},C1371000001,savings,{share},2027-01-15\n",
            h.head
        ),
    )
    .await;
    login(c, &base, APPROVER).await;
    deliver(
        c,
        &base,
        dir.path(),
        "deposits:ICBC-HC",
        &format!(
            "身份证号码,机构代码,账户类型,余额,余额日期\n{},C1371000002,time,{share},2027-01-15\n",
            h.head
        ),
    )
    .await;
    deliver(
        c,
        &base,
        dir.path(),
        "social_insurance:HC-SB",
        &format!(
            "身份证号码,单位编号,缴费月份,缴费工资\n{},37100200381,2027-01,{wage}\n",
            h.head
        ),
    )
    .await;
    deliver(
        c,
        &base,
        dir.path(),
        "medical_claims:HC-YB",
        &format!(
            "身份证号码,结算日期,医疗总费用,个人自付\n{},2027-01-10,41300.00,15200.00\n",
            h.resident
        ),
    )
    .await;

    // The month's run: both banks used.
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
    c.find(Locator::Css("tr.run-sources summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = page_text(c).await;
    screenshot(c, "run-two-banks.png").await;
    for bank in ["威海市商业银行环翠支行", "中国工商银行威海环翠支行"] {
        let line = page
            .lines()
            .find(|l| l.contains(bank))
            .unwrap_or_else(|| panic!("{bank} listed: {page}"));
        assert!(line.contains("已采用"), "{line}");
    }

    // The township reviewer: one DEPOSIT warning from the two banks together, and the INCOME
    // warning closed with the wage verified at the visit.
    login(c, &base, REVIEWER).await;
    // (The demo's November warnings are still open beside them: the household's own are found
    // by its head's identity number.)
    c.goto(&format!(
        "{base}/warnings?kind=DEPOSIT&status=open&household={}",
        h.head
    ))
    .await
    .unwrap();
    let page = page_text(c).await;
    assert!(page.contains("家庭存款超过限额"), "{page}");
    c.goto(&format!(
        "{base}/warnings?kind=INCOME&status=open&household={}",
        h.head
    ))
    .await
    .unwrap();
    let href = c
        .find(Locator::Css("a[href^='/warnings/']:not([href*='zero'])"))
        .await
        .expect("the INCOME warning")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}{href}")).await.unwrap();
    let fact = c
        .find(Locator::Css("input[name=fact_value]"))
        .await
        .unwrap();
    assert_eq!(
        fact.prop("value").await.unwrap().as_deref(),
        Some(wage.to_string().as_str()),
        "pre-filled from the evidence"
    );
    fact.clear().await.unwrap();
    fact.send_keys("300.00").await.unwrap();
    c.find(Locator::Css("select[name=result] option[value=adjust]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("textarea[name=note]"))
        .await
        .unwrap()
        .send_keys("入户核实:户主打零工,社保缴费基数高于实际工资,实际月工资300元")
        .await
        .unwrap();
    screenshot(c, "warning-adjust.png").await;
    c.find(Locator::Css("form[action$='/close'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let closed = page_text(c).await;
    let change_href = c
        .find(Locator::LinkText("已开启变更案件"))
        .await
        .unwrap_or_else(|_| panic!("the change case: {closed}"))
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let change: i64 = change_href.trim_start_matches("/cases/").parse().unwrap();

    // The county confirms: the amount is computed from the recorded wage.
    login(c, &base, APPROVER).await;
    act(
        c,
        &base,
        change,
        "confirm",
        &[
            ("att_decision_letter", "调整决定书-2027-01"),
            ("opinion", "同意调整"),
        ],
        "complete",
    )
    .await;
    c.goto(&format!("{base}/cases/{change}")).await.unwrap();
    let page = page_text(c).await;
    screenshot(c, "change-adjusted.png").await;
    let line = page
        .lines()
        .find(|l| l.contains("月救助金额由"))
        .unwrap_or_else(|| panic!("the adjustment: {page}"));
    let amounts: Vec<f64> = line
        .split(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
        .filter(|t| t.contains('.'))
        .filter_map(|t| t.parse().ok())
        .collect();
    // The household's wages are now the 300.00 found at the visit (not what was recorded
    // before): the amount follows them.
    assert!(
        amounts.len() >= 2 && amounts[1] != amounts[0],
        "the amount changes: {line}"
    );

    // The window clerk follows the lead: 转为申请 names the resident, who must first be in a
    // household to apply …
    login(c, &base, "clerk_huancuilou").await;
    c.goto(&format!("{base}/verification/leads")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("赵桂兰"), "{page}");
    c.find(Locator::LinkText("转为申请"))
        .await
        .unwrap_or_else(|_| panic!("转为申请: {page}"))
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/cases/new"));
    let page = page_text(c).await;
    assert!(
        page.contains("赵桂兰 已登记为人员,但尚未属于任何家庭户"),
        "{page}"
    );
    server.stop().await;
    house(&db_url, &h).await;

    // … and once the household is registered, the lead's 转为申请 registers the application.
    let server = start_server(dir.path(), LATER).await;
    let base = server.base.clone();
    login(c, &base, "clerk_huancuilou").await;
    c.goto(&format!("{base}/verification/leads")).await.unwrap();
    c.find(Locator::LinkText("转为申请"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let chosen = c
        .find(Locator::Css("input[name=applicant]:checked"))
        .await
        .unwrap_or_else(|_| panic!("the resident chosen"));
    assert!(chosen.attr("value").await.unwrap().is_some());
    screenshot(c, "lead-to-application.png").await;
    c.find(Locator::XPath("//button[text()='登记受理']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = c.current_url().await.unwrap().path().to_string();
    let page = page_text(c).await;
    assert!(
        path.starts_with("/cases/") && !path.starts_with("/cases/new"),
        "the application is registered: {path} {page}"
    );
    assert!(page.contains("赵桂兰"), "{page}");

    server.stop().await;
}
