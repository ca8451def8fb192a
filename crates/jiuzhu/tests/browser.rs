//! The platform in a real headless Chromium, started the way README tells a newcomer to start it
//! (`jiuzhu serve --demo`): a window clerk logs in, searches a household of her township, opens it,
//! and cannot open one of the neighbouring township.
//!
//! Needs `chromium` and `chromedriver` (Debian: chromium, chromium-driver). It fails — never
//! skips — when they are missing.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const DEMO_SEED: u64 = 20261123;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn find_program(names: &[&str]) -> String {
    for n in names {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = std::path::Path::new(dir).join(n);
            if p.is_file() {
                return p.to_string_lossy().into_owned();
            }
        }
    }
    panic!(
        "{} not found: install Debian packages chromium and chromium-driver \
         (apt-get install -y chromium chromium-driver)",
        names.join(" / ")
    );
}

struct Server {
    _child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("JIUZHU_DATABASE", &db)
        .env("JIUZHU_LOG", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start jiuzhu serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("http://").nth(1) {
                let addr = rest.split('/').next().unwrap();
                return format!("http://{addr}");
            }
        }
        panic!("jiuzhu serve exited before listening");
    })
    .await
    .expect("server started within 120 s");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        _child: child,
        base,
        _dir: dir,
    }
}

struct Browser {
    client: Client,
    _driver: Child,
}

async fn start_browser() -> Browser {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let driver_bin = find_program(&["chromedriver"]);
    let port = free_port();
    let driver = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,768",
                "--lang=zh-CN"
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_err = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Browser {
                    client,
                    _driver: driver,
                }
            }
            Err(e) => {
                last_err = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("could not connect to chromedriver: {last_err:?}");
}

async fn page_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

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

    let server = start_server().await;
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
}
