//! Shared helpers of the browser tests: the real binary (`jiuzhu serve --demo`) on a temporary
//! SQLite database, headless Chromium through chromedriver, and the few page actions every
//! test needs. Chromium and chromedriver are required: a missing one is a failure, never a skip.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const DEMO_SEED: u64 = 20261123;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn find_program(names: &[&str]) -> String {
    for n in names {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(n);
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

pub struct Server {
    child: Child,
    pub base: String,
    pub db_url: String,
}

impl Server {
    /// Stops the server and waits until it has exited (so the next one can open the database).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// `jiuzhu serve --demo --today <today>` on the database in `dir` (created on first start).
pub async fn start_server(dir: &Path, today: &str) -> Server {
    start_server_at(dir, Some(today)).await
}

/// `jiuzhu serve --demo`, with the real clock when `today` is `None` (as README tells a
/// newcomer to start it).
pub async fn start_server_at(dir: &Path, today: Option<&str>) -> Server {
    let db: PathBuf = dir.join("demo.sqlite");
    let db_url = format!("sqlite://{}", db.display());
    let mut args = vec!["serve", "--demo", "--listen", "127.0.0.1:0"];
    if let Some(today) = today {
        args.extend(["--today", today]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(&args)
        .env("JIUZHU_DATABASE", &db_url)
        .env("JIUZHU_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        child,
        base,
        db_url,
    }
}

/// Headless Chromium behind its own chromedriver. Dropping it — at the end of a test, or while
/// a failing test unwinds — kills chromedriver's whole process group, Chromium and its helper
/// processes with it, so that no test leaves a browser running.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// The process group of chromedriver and Chromium.
    pub fn process_group(&self) -> u32 {
        self.driver.id().expect("chromedriver running")
    }
}

/// Live processes of a process group (Linux: /proc/<pid>/stat, whose fifth field is the group).
pub fn processes_in_group(group: u32) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // The command name (field 2) is in parentheses and may contain spaces.
            let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            // fields[0] is the state; zombies are already gone for this purpose.
            fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
        })
        .count()
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            // SAFETY: kill(2) on the process group this Browser created; no memory is touched.
            unsafe {
                libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
            }
        }
    }
}

pub async fn start_browser() -> Browser {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let driver_bin = find_program(&["chromedriver"]);
    let port = free_port();
    let driver = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: Chromium joins it, and Drop kills the group.
        .process_group(0)
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
                "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                "--lang=zh-CN"
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_err = None;
    for _ in 0..50 {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Browser { client, driver },
            Err(e) => {
                last_err = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("could not connect to chromedriver: {last_err:?}");
}

pub async fn page_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

/// The demo password of a demo user.
pub fn password(username: &str) -> String {
    jiuzhu_import::demo::generate(DEMO_SEED)
        .users
        .into_iter()
        .find(|u| u.username == username)
        .unwrap_or_else(|| panic!("demo user {username}"))
        .password
}

/// Logs in through the login form (after dropping any previous session).
pub async fn login(c: &Client, base: &str, username: &str) {
    login_with(c, base, username, &password(username)).await
}

/// Logs in with a password of one's own (a one-time password, a changed one).
pub async fn login_with(c: &Client, base: &str, username: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("input[name=username]"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..50 {
        if !c.current_url().await.unwrap().path().starts_with("/login") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let path = c.current_url().await.unwrap().path().to_string();
    assert!(
        !path.starts_with("/login"),
        "{username} logged in: {}",
        page_text(c).await
    );
}

/// Fills and submits the form of an open step on the case page (`fields`: input or textarea
/// name and value), pressing the button of `action` (complete, refuse, return, object).
pub async fn act(
    c: &Client,
    base: &str,
    case: i64,
    step: &str,
    fields: &[(&str, &str)],
    action: &str,
) {
    c.goto(&format!("{base}/cases/{case}")).await.unwrap();
    let form = match c
        .find(Locator::XPath(&format!(
            "//form[.//input[@name='step' and @value='{step}']]"
        )))
        .await
    {
        Ok(f) => f,
        Err(_) => panic!("a form for step {step}: {}", page_text(c).await),
    };
    for (name, value) in fields {
        form.find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap_or_else(|_| panic!("field {name} of step {step}"))
            .send_keys(value)
            .await
            .unwrap();
    }
    form.find(Locator::Css(&format!("button[value='{action}']")))
        .await
        .unwrap_or_else(|_| panic!("button {action} of step {step}"))
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let page = page_text(c).await;
    assert!(
        !page.contains("输入有误") && !page.contains("无权办理") && !page.contains("已被他人办理"),
        "step {step} {action} accepted: {page}"
    );
}

/// A date of the tests' calendar.
pub fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// Types `value` into the field `name` of the form `form` (a CSS selector), replacing its text.
pub async fn fill(c: &Client, form: &str, name: &str, value: &str) {
    let field = c
        .find(Locator::Css(&format!("{form} [name='{name}']")))
        .await
        .unwrap_or_else(|_| panic!("field {name} in {form}"));
    field.clear().await.ok();
    field.send_keys(value).await.unwrap();
}

/// Presses the submit button of the form `form` and lets the next page load.
pub async fn submit(c: &Client, form: &str) {
    c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap_or_else(|_| panic!("submit button of {form}"))
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Fetches `path` from inside the page (with the session) and answers `status content-type`.
pub async fn fetch_head(c: &Client, path: &str) -> String {
    let v = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.arrayBuffer().then(b =>
               done(r.status + ' ' + r.headers.get('content-type') + ' ' + b.byteLength)))
             .catch(e => done('error ' + e));",
            vec![serde_json::json!(path)],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

pub async fn screenshot(c: &Client, name: &str) {
    let shot = c.screenshot().await.unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(dir.join(name), shot).unwrap();
    if let Ok(d) = std::env::var("JIUZHU_SHOTS") {
        let _ = std::fs::create_dir_all(&d);
        let _ = std::fs::copy(dir.join(name), Path::new(&d).join(name));
    }
}
