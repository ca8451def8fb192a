//! Policy parameters edited in the product, in a real headless Chromium with the demo county
//! (`jiuzhu serve --demo`, today fixed): the county manager raises 环翠区's urban 低保
//! standard (inherited from 威海市) from a future date on 政策参数; it shows as scheduled with its source, the calculation of a
//! household uses the old standard before that date and the new one from it, citing the
//! revision, and the change is in the audit log (read by the audit administrator). A clerk reads
//! the parameters but has no form.
//!
//! Needs `chromium` and `chromedriver`; fails — never skips — when they are missing.

mod common;

use common::{fill, login, page_text, screenshot, start_browser, start_server, submit};
use fantoccini::{Client, Locator};

const DAY0: &str = "2026-11-23";

/// A one-person urban household in 环翠区 with no income, calculated for `month` on /calc;
/// answers the 低保 row of the result table and the page text.
async fn calc_one_person(c: &Client, base: &str, month: &str) -> (String, String) {
    c.goto(&format!("{base}/calc")).await.unwrap();
    let form = "form[action='/calc']";
    // A date field takes what is typed in the browser's own order; set the value directly.
    c.execute(
        "document.querySelector(\"form[action='/calc'] [name='month']\").value = arguments[0];",
        vec![serde_json::json!(month)],
    )
    .await
    .unwrap();
    fill(c, form, "region", "371002001").await;
    c.find(Locator::Css(&format!(
        "{form} select[name=area] option[value=urban]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    fill(c, form, "m0_id_number", "371002198001010010").await;
    fill(c, form, "m0_name", "测试户主").await;
    fill(c, form, "m0_income", "0.00").await;
    submit(c, form).await;
    let page = page_text(c).await;
    assert!(!page.contains("输入有误"), "calculation accepted: {page}");
    let row = c
        .find(Locator::XPath(
            "//div[@id='result']//tr[td[1][contains(., '低保')]]",
        ))
        .await
        .unwrap_or_else(|_| panic!("a 低保 row: {page}"))
        .text()
        .await
        .unwrap();
    (row, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_manager_schedules_a_new_standard_and_calculations_follow_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = &server.base;

    // A clerk reads the county's parameters, with their sources, but cannot change them.
    login(c, base, "clerk_huancuilou").await;
    c.goto(&format!("{base}/policies/371002")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("dibao.standard.urban"), "{page}");
    assert!(page.contains("787.00"), "{page}");
    assert!(c.find(Locator::Css("#revision-form")).await.is_err());

    // Before any change: 787 a month for one person in November and in December.
    let (nov, _) = calc_one_person(c, base, "2026-11").await;
    assert!(nov.contains("787.00"), "{nov}");
    let (dec, _) = calc_one_person(c, base, "2026-12").await;
    assert!(dec.contains("787.00"), "{dec}");

    // The county manager (not the system administrator, since 三员分立) overrides the city's
    // value for the county alone.
    login(c, base, "manager_huancui").await;
    c.goto(&format!("{base}/policies/371000")).await.unwrap();
    assert!(
        c.find(Locator::Css("#revision-form")).await.is_err(),
        "the city's parameters are outside the county manager's jurisdiction"
    );
    c.goto(&format!("{base}/policies/371002")).await.unwrap();
    let form = "#revision-form";
    c.find(Locator::Css(&format!(
        "{form} select[name=param] option[value='dibao.standard.urban']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.execute(
        "document.querySelector(\"#revision-form [name='effective_from']\").value = '2026-12-01';",
        vec![],
    )
    .await
    .unwrap();
    fill(c, form, "value", "850.00").await;
    fill(c, form, "document", "关于提高城乡低保标准的通知").await;
    fill(c, form, "number", "威民发〔2026〕30号").await;
    fill(c, form, "article", "第一条").await;
    fill(c, form, "reason", "年度标准调整").await;
    submit(c, form).await;
    screenshot(c, "policy-revision-scheduled.png").await;
    let page = page_text(c).await;
    assert!(!page.contains("未保存"), "revision saved: {page}");
    assert!(
        page.contains("政策参数:环翠区"),
        "the county named from the jurisdiction tree: {page}"
    );
    // Today (2026-11-23) still 787; 850 scheduled from 2026-12-01 with its document.
    let row = c
        .find(Locator::Css("tr[id='dibao.standard.urban']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("787.00"), "{row}");
    assert!(row.contains("850.00 自 2026-12-01 起"), "{row}");
    assert!(row.contains("威民发〔2026〕30号"), "{row}");
    assert!(row.contains("年度标准调整"), "{row}");

    // The calculation follows the date: November 787, December 850, citing the revision.
    let (nov, _) = calc_one_person(c, base, "2026-11").await;
    assert!(nov.contains("787.00"), "{nov}");
    let (dec, page) = calc_one_person(c, base, "2026-12").await;
    screenshot(c, "policy-revision-calc-december.png").await;
    assert!(dec.contains("850.00"), "{dec}");
    assert!(
        page.contains("威民发〔2026〕30号"),
        "the step cites the revision: {page}"
    );

    // Audited: who changed which parameter, from what to what.
    login(c, base, "demo_auditadmin").await;
    c.goto(&format!("{base}/audit")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("dibao.standard.urban"), "{page}");
    assert!(page.contains("manager_huancui"), "{page}");
    // And checks the chain against the checkpoints serve signs, with serve's key.
    submit(c, "#audit-verify").await;
    let page = page_text(c).await;
    assert!(page.contains("审计链完好"), "{page}");
}
