//! The platform in a real headless Chromium, started the way README tells a newcomer to start it
//! (`jiuzhu serve --demo`): a window clerk logs in, searches a household of her township, opens it,
//! and cannot open one of the neighbouring township.
//!
//! Needs `chromium` and `chromedriver` (Debian: chromium, chromium-driver). It fails — never
//! skips — when they are missing.

mod common;

use std::time::Duration;

use common::{page_text, start_browser, start_server_at, DEMO_SEED};
use fantoccini::Locator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_logs_in_searches_a_household_and_opens_it() {
    let demo = jiuzhu_import::demo::generate(DEMO_SEED);
    let clerk = demo
        .users
        .iter()
        .find(|u| u.role == jiuzhu_domain::Role::WindowClerk && u.division.as_str() == "371002001")
        .expect("a demo clerk of township 371002001");
    // A household of the clerk's township and its head.
    let (hh_index, household) = demo
        .batch
        .households
        .iter()
        .enumerate()
        .find(|(_, h)| h.division.as_str().starts_with("371002001"))
        .expect("a household in 371002001");
    let head = demo
        .batch
        .members
        .iter()
        .find(|m| m.household == hh_index && m.relation == jiuzhu_domain::Relation::Head)
        .expect("its head");

    let dir = tempfile::tempdir().unwrap();
    let server = start_server_at(dir.path(), None).await;
    let browser = start_browser().await;
    let c = &browser.client;

    // Not logged in: the platform sends the clerk to the login page.
    c.goto(&format!("{}/", server.base)).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    c.find(Locator::Css("input[name=username]"))
        .await
        .unwrap()
        .send_keys(&clerk.username)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(&clerk.password)
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let home = page_text(c).await;
    assert!(
        home.contains(&clerk.display_name),
        "home page greets the clerk: {home}"
    );

    // Search by the head's name.
    c.goto(&format!("{}/search", server.base)).await.unwrap();
    let q = c.find(Locator::Css("input[name=q]")).await.unwrap();
    q.send_keys(&head.name).await.unwrap();
    c.find(Locator::Css(
        "form.search button[type=submit], form button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let results = page_text(c).await;
    assert!(
        results.contains(&head.name),
        "results list the head: {results}"
    );
    assert!(
        !results.contains(head.id_number.as_str()),
        "identity numbers are masked in results"
    );
    assert!(
        results.contains(&head.id_number.masked()),
        "masked id shown: {results}"
    );

    // Open the household.
    let link = c
        .find(Locator::XPath(&format!(
            "//a[contains(@href, '/households/')][contains(., '{}') or ancestor::tr[contains(., '{}')]]",
            head.name, head.name
        )))
        .await
        .expect("a link to the household");
    link.click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.path().starts_with("/households/"),
        "on a household page: {url}"
    );
    let page = page_text(c).await;
    assert!(page.contains(&head.name), "{page}");
    assert!(page.contains(&household.address), "address shown: {page}");
    assert!(page.contains(&head.id_number.masked()), "{page}");
    let shot = c.screenshot().await.unwrap();
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-household.png"),
        shot,
    )
    .unwrap();

    // A household of township 371002002 is out of her jurisdiction: refused, nothing shown.
    let other_index = demo
        .batch
        .households
        .iter()
        .position(|h| h.division.as_str().starts_with("371002002"))
        .expect("a household in 371002002");
    let other_head = demo
        .batch
        .members
        .iter()
        .find(|m| m.household == other_index && m.relation == jiuzhu_domain::Relation::Head)
        .unwrap();
    c.goto(&format!(
        "{}/search?q={}",
        server.base,
        other_head.id_number.as_str()
    ))
    .await
    .unwrap();
    let results = page_text(c).await;
    assert!(
        !results.contains(&other_head.name),
        "other township's people are not found"
    );

    c.clone().close().await.unwrap();
    server.stop().await;
}

/// A test that fails without closing its session still leaves no browser behind: dropping the
/// `Browser` (as unwinding does) kills chromedriver's process group, Chromium included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_dropped_without_closing_leaves_no_process() {
    let browser = start_browser().await;
    browser.client.goto("about:blank").await.unwrap();
    let group = browser.process_group();
    assert!(
        common::processes_in_group(group) >= 2,
        "chromedriver and Chromium run"
    );
    drop(browser);
    for _ in 0..50 {
        if common::processes_in_group(group) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{} processes of the browser are still running",
        common::processes_in_group(group)
    );
}
