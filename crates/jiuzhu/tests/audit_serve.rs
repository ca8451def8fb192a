//! `jiuzhu serve` and the audit checkpoints: keys made on first start and printed, a
//! checkpoint at start, while events are written, and after a graceful stop.

mod audit_helpers;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use audit_helpers::*;
use jiuzhu_domain::SystemClock;
use jiuzhu_store::prelude::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `jiuzhu serve` on the database in `dir`; returns once it listens, with what it printed.
async fn start(dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("JIUZHU_DATABASE", db_url(dir))
        .env("JIUZHU_LOG", "warn")
        .env_remove("JIUZHU_AUDIT_KEY")
        .env_remove("JIUZHU_AUDIT_CHECKPOINTS")
        .env_remove("JIUZHU_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start jiuzhu serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            printed.push_str(&line);
            printed.push('\n');
            if line.contains("jiuzhu 已启动") {
                return;
            }
        }
        panic!("serve exited before listening: {printed}");
    })
    .await
    .expect("serve did not start");
    (child, printed)
}

/// SIGTERM, as a service manager stops it, and wait for the graceful exit.
async fn stop(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("serve stops after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}

async fn head_seq(dir: &Path) -> i64 {
    let store = open(dir, Arc::new(SystemClock)).await;
    let seq = store.chain_head().await.unwrap().seq;
    store.pool().close().await;
    seq
}

fn newest_checkpoint_seq(dir: &Path) -> i64 {
    checkpoints(dir)
        .last()
        .and_then(|c| c["seq"].as_i64())
        .unwrap_or(-1)
}

#[tokio::test]
async fn serve_makes_its_keys_on_first_start_and_checkpoints_at_start_and_graceful_exit() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (child, printed) = start(d, &[]).await;
    assert!(printed.contains("已生成审计签名密钥"), "{printed}");
    let key = std::fs::canonicalize(key_path(d)).unwrap();
    assert!(printed.contains(&key.display().to_string()), "{printed}");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // 三员分立: the first start creates the three administrators, each with its own one-time
    // password, printed once.
    for (role, username) in [
        ("系统管理员", "admin"),
        ("安全管理员", "secadmin"),
        ("审计管理员", "auditadmin"),
    ] {
        assert!(
            printed.contains(&format!(
                "{role} 用户名 username: {username}  一次性密码 one-time password: "
            )),
            "{printed}"
        );
    }
    // The start is checkpointed: the data key's and the audit keys' creation and the three
    // administrators.
    assert_eq!(newest_checkpoint_seq(d), head_seq(d).await);
    assert_eq!(head_seq(d).await, 5);

    // Events written while it runs (as its requests would) are covered when it stops.
    append_events(d, 3).await;
    stop(child).await;
    assert_eq!(head_seq(d).await, 8);
    assert_eq!(newest_checkpoint_seq(d), 8);
    let out = ok(d, &["audit", "verify"]);
    assert!(
        out.contains(
            "检查点之后的事件 (events after it, not covered by a checkpoint until now): 0 条"
        ),
        "{out}"
    );

    // A second start finds its key and makes none, nor accounts.
    let (child, printed) = start(d, &[]).await;
    assert!(!printed.contains("已生成审计签名密钥"), "{printed}");
    assert!(!printed.contains("一次性密码"), "{printed}");
    stop(child).await;
}

#[tokio::test]
async fn serve_checkpoints_while_events_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (child, _) = start(d, &["--checkpoint-seconds", "1"]).await;
    append_events(d, 4).await;
    let head = head_seq(d).await;
    // Polled, not timed: the assertion is that a checkpoint appears while serve runs.
    let mut waited = 0;
    while newest_checkpoint_seq(d) < head {
        assert!(waited < 600, "no checkpoint of seq {head} while serve ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(newest_checkpoint_seq(d), head);
    stop(child).await;
}
