//! The pages under their Content-Security-Policy in a real headless Chromium: no inline script
//! is allowed, so everything the pages do comes from `/assets/app.js` — 全选 in the warning
//! inbox, 先测算影响 on the policy page, the error page's back link — and a throttled login is
//! told to wait. Needs `chromium` and `chromedriver`; fails — never skips — when they are missing.

mod common;

use std::time::Duration;

use common::{fill, login, page_text, start_browser, start_server};
use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_behaviour_runs_under_the_csp() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), "2026-11-23").await;
    let browser = start_browser().await;
    let c = &browser.client;
    let base = &server.base;

    // The page's CSP as the browser received it: scripts from this server only.
    login(c, base, "clerk_huancuilou").await;
    let csp = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/warnings').then(r => done(r.headers.get('content-security-policy')));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        csp.as_str().unwrap().contains("script-src 'self';"),
        "{csp}"
    );

    // 全选 ticks every warning of the page.
    c.goto(&format!("{base}/warnings?status=open"))
        .await
        .unwrap();
    let count =
        |js: &'static str| async move { c.execute(js, vec![]).await.unwrap().as_u64().unwrap() };
    let boxes = count("return document.querySelectorAll(\"input[name='sel']\").length;").await;
    assert!(
        boxes > 1,
        "the demo's month has open warnings: {}",
        page_text(c).await
    );
    c.find(Locator::Css("input[data-select-all]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ticked =
        count("return document.querySelectorAll(\"input[name='sel']:checked\").length;").await;
    assert_eq!(ticked, boxes);

    // The error page's 返回上一页 goes back.
    c.goto(&format!("{base}/search?q=王")).await.unwrap();
    c.goto(&format!("{base}/households/999999999"))
        .await
        .unwrap();
    assert!(page_text(c).await.contains("记录不存在"));
    c.find(Locator::Css("a[data-back]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/search");

    // 先测算影响 opens the what-if of the revision being entered.
    login(c, base, "manager_huancui").await;
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
    fill(c, form, "value", "850.00").await;
    c.find(Locator::Css("#whatif-first"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/whatif");
    assert!(url.query().unwrap().contains("region=371002"), "{url}");

    // Six wrong passwords from this browser: the login page asks it to wait.
    c.goto(&format!("{base}/login")).await.unwrap();
    c.delete_all_cookies().await.unwrap();
    for _ in 0..6 {
        c.goto(&format!("{base}/login")).await.unwrap();
        fill(c, "form", "username", "clerk_huancuilou").await;
        fill(c, "form", "password", "not-her-password").await;
        c.find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = page_text(c).await;
    assert!(page.contains("用户名或密码错误次数过多"), "{page}");
    server.stop().await;
}
