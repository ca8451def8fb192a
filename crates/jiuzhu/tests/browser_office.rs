//! The office's housekeeping pages in a real headless Chromium, with the demo county
//! (`jiuzhu serve --demo`): the county manager adds a local holiday to the working-day calendar
//! (工作日历); a clerk files a scanned document into a person's file (一人一档) and previews it; a
//! township reviewer tops up and pays from the reserve fund (备用金), sees the warning below the
//! policy's minimum and has an overdraft refused.
//!
//! Needs `chromium` and `chromedriver`; fails — never skips — when they are missing.

mod common;

use std::time::Duration;

use common::{fetch_head, fill, login, page_text, screenshot, start_browser, start_server, submit};
use fantoccini::Locator;

const DAY0: &str = "2026-11-23";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_manager_adds_a_local_holiday_to_the_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = &server.base;

    // A clerk reads the calendar but has no form to change it.
    login(c, base, "clerk_huancuilou").await;
    c.goto(&format!("{base}/calendar?year=2026")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("工作日历"), "{page}");
    assert!(page.contains("国庆节"), "2026's holidays listed: {page}");
    assert!(c.find(Locator::Css("#day-form")).await.is_err());

    // The calendar moved off the system administrator (三员分立), who gets no calendar at all.
    login(c, base, "demo_admin").await;
    c.goto(&format!("{base}/calendar?year=2026")).await.unwrap();
    let page = page_text(c).await;
    assert!(!page.contains("国庆节"), "{page}");
    assert!(c.find(Locator::Css("#day-form")).await.is_err());

    login(c, base, "manager_huancui").await;
    c.goto(&format!("{base}/calendar?year=2026")).await.unwrap();
    c.find(Locator::Css(
        "#day-form select[name=kind] option[value=add_holiday]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    fill(c, "#day-form", "date", "2026-11-25").await;
    fill(c, "#day-form", "name", "台风停工").await;
    fill(c, "#day-form", "reason", "市政府停工通知").await;
    submit(c, "#day-form").await;
    screenshot(c, "calendar-local-holiday.png").await;
    let page = page_text(c).await;
    assert!(!page.contains("未保存"), "edit saved: {page}");
    // The day is listed in November as a holiday, and the edit is in the history with its
    // reason and who made it.
    assert!(page.contains("2026-11-25"), "{page}");
    assert!(page.contains("台风停工"), "{page}");
    assert!(page.contains("市政府停工通知"), "{page}");
    assert!(
        page.contains("王海燕") || page.contains("manager_huancui"),
        "{page}"
    );

    // A date that is not a date is refused with the field named, nothing stored.
    fill(c, "#day-form", "date", "2026-13-40").await;
    fill(c, "#day-form", "reason", "试错").await;
    submit(c, "#day-form").await;
    let page = page_text(c).await;
    assert!(page.contains("未保存"), "invalid date refused: {page}");
    assert!(!page.contains("试错\t"), "{page}");

    server.stop().await;
}

/// A one-page PDF, enough for the type sniffing (`%PDF-`) and a preview.
const SCAN_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_files_a_scanned_authorisation_and_previews_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = &server.base;

    login(c, base, "clerk_huancuilou").await;
    // A household of the clerk's village, reached the way a clerk does: searching by division.
    c.goto(&format!("{base}/search?q=371002001001"))
        .await
        .unwrap();
    let href = c
        .find(Locator::Css("table a[href^='/households/']"))
        .await
        .unwrap_or_else(|_| panic!("a household in the results"))
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}{href}")).await.unwrap();
    c.find(Locator::Css("a[href^='/documents?owner=household:']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(page_text(c).await.contains("尚无档案材料"));

    let scan = dir.path().join("授权书.pdf");
    std::fs::write(&scan, SCAN_PDF).unwrap();
    c.find(Locator::Css(
        "select[name=doc_type] option[value=authorisation]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Css("input[type=file][name=file]"))
        .await
        .unwrap()
        .send_keys(&scan.to_string_lossy())
        .await
        .unwrap();
    c.find(Locator::Css("input[name=note]"))
        .await
        .unwrap()
        .send_keys("户主签字")
        .await
        .unwrap();
    c.find(Locator::Css(
        "form[enctype='multipart/form-data'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    screenshot(c, "documents-uploaded.png").await;
    let page = page_text(c).await;
    assert!(!page.contains("上传未成功"), "{page}");
    assert!(page.contains("授权书.pdf"), "{page}");
    assert!(page.contains("户主签字"), "{page}");
    assert!(
        page.contains("林晓燕") || page.contains("clerk_huancuilou"),
        "{page}"
    );
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(SCAN_PDF))[..12].to_string()
    };
    assert!(page.contains(&sha), "SHA-256 {sha} shown: {page}");

    // The document's page previews the stored bytes as a PDF.
    c.find(Locator::LinkText("授权书.pdf"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = c.current_url().await.unwrap().path().to_string();
    let head = fetch_head(c, &format!("{path}/content")).await;
    assert_eq!(
        head,
        format!("200 application/pdf {}", SCAN_PDF.len()),
        "preview of {path}"
    );

    server.stop().await;
}

fn balance_on(page: &str) -> String {
    page.split("当前余额:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("balance on the page: {page}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_tops_up_pays_and_is_warned_below_the_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = &server.base;

    login(c, base, "reviewer_huancuilou").await;
    c.goto(&format!("{base}/reserve-fund?township=371002001"))
        .await
        .unwrap();
    let before: jiuzhu_domain::Money = balance_on(&page_text(c).await).parse().unwrap();

    let entry = |kind: &'static str, amount: String, reason: &'static str| async move {
        c.find(Locator::Css(&format!(
            "form[action$='/entries'] select[name=kind] option[value={kind}]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        fill(c, "form[action$='/entries']", "amount", &amount).await;
        fill(c, "form[action$='/entries']", "reason", reason).await;
        submit(c, "form[action$='/entries']").await;
        page_text(c).await
    };

    // Top up to exactly 31,000.00, then pay 2,000.00: 29,000.00 is below the 30,000 minimum.
    let top_up = jiuzhu_domain::Money::from_fen(3_100_000 - before.fen().min(3_000_000));
    let page = entry("top_up", top_up.to_string(), "县财政拨付").await;
    assert!(!page.contains("未登记"), "{page}");
    let after_top_up: jiuzhu_domain::Money = balance_on(&page).parse().unwrap();
    assert_eq!(after_top_up.fen(), before.fen() + top_up.fen());

    let page = entry("withdrawal", "2000.00".into(), "火灾先行救助").await;
    assert!(!page.contains("未登记"), "{page}");
    let after_pay: jiuzhu_domain::Money = balance_on(&page).parse().unwrap();
    assert_eq!(after_pay.fen(), after_top_up.fen() - 200_000);
    screenshot(c, "reserve-fund.png").await;
    if after_pay.fen() < 3_000_000 {
        assert!(page.contains("最低限额 30000.00"), "{page}");
        assert!(page.contains("低于"), "warning below the minimum: {page}");
    }
    assert!(page.contains("火灾先行救助"), "{page}");
    assert!(page.contains("县财政拨付"), "{page}");

    // Paying more than the balance is refused, the balance unchanged.
    let page = entry("withdrawal", "999999.00".into(), "超额支取").await;
    assert!(page.contains("未登记"), "overdraft refused: {page}");
    assert!(page.contains("余额"), "{page}");
    c.goto(&format!("{base}/reserve-fund?township=371002001"))
        .await
        .unwrap();
    let page = page_text(c).await;
    assert_eq!(balance_on(&page), after_pay.to_string());
    assert!(!page.contains("超额支取"), "{page}");

    server.stop().await;
}
