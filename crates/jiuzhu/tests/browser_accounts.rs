//! 三员分立 in a real headless Chromium with the demo county (`jiuzhu serve --demo`): the
//! system administrator creates a window clerk on 用户管理 and is shown its one-time password;
//! whoever logs in with it must replace it and then waits — the clerk's start page says so and
//! the registry is refused — until the security administrator approves the account on its list
//! of accounts waiting for approval; then the clerk reveals an identity number.
//!
//! Needs `chromium` and `chromedriver`; fails — never skips — when they are missing.

mod common;

use common::{fill, login, login_with, page_text, screenshot, start_browser, start_server, submit};
use fantoccini::Locator;

const DAY0: &str = "2026-11-23";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_clerk_waits_for_the_security_administrator_before_revealing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), DAY0).await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = &server.base;

    // The system administrator: its start page names its duty; it creates the clerk.
    login(c, base, "demo_admin").await;
    let page = page_text(c).await;
    assert!(page.contains("负责创建、停用账户和重置密码"), "{page}");
    assert!(!page.contains("辖区内在册家庭"), "{page}");
    c.goto(&format!("{base}/users")).await.unwrap();
    let form = "#create-user";
    fill(c, form, "username", "clerk_new").await;
    fill(c, form, "display_name", "孙丽").await;
    c.find(Locator::Css(&format!(
        "{form} select[name=role] option[value=window_clerk]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    fill(c, form, "division", "371002001").await;
    submit(c, form).await;
    let page = page_text(c).await;
    screenshot(c, "accounts-one-time-password.png").await;
    assert!(page.contains("须经安全管理员审核"), "{page}");
    let otp = page
        .split("一次性密码:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("one-time password shown: {page}"))
        .to_string();

    // Whoever holds the password logs in, must replace it, and then holds nothing.
    login_with(c, base, "clerk_new", &otp).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/password");
    fill(c, "form[action='/password']", "current_password", &otp).await;
    fill(
        c,
        "form[action='/password']",
        "new_password",
        "Sun-Li-2026!",
    )
    .await;
    fill(
        c,
        "form[action='/password']",
        "confirm_password",
        "Sun-Li-2026!",
    )
    .await;
    submit(c, "form[action='/password']").await;
    assert!(page_text(c).await.contains("密码已修改"));
    c.goto(&format!("{base}/")).await.unwrap();
    let page = page_text(c).await;
    screenshot(c, "accounts-pending-home.png").await;
    assert!(page.contains("正在等待安全管理员审核"), "{page}");
    c.goto(&format!("{base}/search?q=371002001")).await.unwrap();
    let page = page_text(c).await;
    assert!(page.contains("账户尚待安全管理员审核"), "{page}");

    // The security administrator sees it waiting, with its password already replaced, and
    // approves it; it cannot create accounts.
    login(c, base, "demo_secadmin").await;
    c.goto(&format!("{base}/users")).await.unwrap();
    assert!(c.find(Locator::Css("#create-user")).await.is_err());
    let row = c
        .find(Locator::XPath(
            "//div[@id='pending']//tr[td/a[text()='clerk_new']]",
        ))
        .await
        .unwrap_or_else(|_| panic!("clerk_new waiting for approval"));
    let text = row.text().await.unwrap();
    assert!(
        text.contains("窗口受理员") && text.contains("于建华(demo_admin)"),
        "{text}"
    );
    assert!(text.contains("本人已修改"), "{text}");
    screenshot(c, "accounts-pending-approval.png").await;
    row.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let page = page_text(c).await;
    assert!(page.contains("已审核"), "{page}");
    assert!(page.contains("谷春梅(demo_secadmin) 于"), "{page}");

    // The clerk now works: finds a person of the township and reveals the identity number.
    login_with(c, base, "clerk_new", "Sun-Li-2026!").await;
    c.goto(&format!("{base}/search?q=371002001")).await.unwrap();
    let href = c
        .find(Locator::Css("main table a[href^='/persons/']"))
        .await
        .unwrap_or_else(|_| panic!("a person found"))
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&format!("{base}{href}")).await.unwrap();
    submit(c, "form[action$='/reveal']").await;
    let page = page_text(c).await;
    screenshot(c, "accounts-approved-reveal.png").await;
    assert!(page.contains("已显示敏感信息原文"), "{page}");

    server.stop().await;
}
