//! Data at rest through the binary (docs/security.md, "Encryption at rest" and "File
//! permissions"): the data key made on the first start and never again, a database whose key is
//! missing refused, rotation, and the modes of everything kept on disk — the attacks of the
//! 等保 test: another account reading the database, its log, the kept files or the key.

mod audit_helpers;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use audit_helpers::*;
use jiuzhu_domain::access::{ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{Actor, DivisionCode, IdNumber, PersonFacts, SystemClock};
use jiuzhu_store::data_key::DATA_KEY_FILE;
use jiuzhu_store::prelude::*;
use jiuzhu_store::Store;
use tokio::io::{AsyncBufReadExt, BufReader};

const ACCOUNT: &str = "6222020200112233445";
const ILLNESS: &str = "慢性肾功能衰竭尿毒症期";

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// The first command makes the key file beside the database (and says so on stderr).
fn first_command(dir: &Path) -> String {
    std::fs::write(dir.join("div.csv"), DIVISIONS).unwrap();
    ok(
        dir,
        &["import", "divisions", dir.join("div.csv").to_str().unwrap()],
    )
}

/// A person with the account and the illness note, written through the store as the pages do.
async fn person_with_account(dir: &Path) -> i64 {
    let store = open(dir, Arc::new(SystemClock)).await;
    let actor = Actor::system("test");
    let id = IdNumber::parse("371002196606060716").unwrap();
    let mut f = PersonFacts::minimal(&id, "耿秀兰", DivisionCode::parse("371002001201").unwrap());
    f.bank_account = Some(ACCOUNT.into());
    f.serious_illness = true;
    f.illness_note = Some(ILLNESS.into());
    let p = store
        .create_person(
            &actor.grant::<WriteRegistry>().unwrap(),
            &id,
            &f,
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        )
        .await
        .unwrap();
    store.pool().close().await;
    p.id
}

#[tokio::test]
async fn the_data_key_is_made_once_and_a_database_without_its_key_does_not_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = first_command(dir);
    assert!(out.contains("已生成数据加密密钥"), "{out}");
    let key = dir.join(DATA_KEY_FILE);
    assert_eq!(mode(&key), 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("jiuzhu-data-key/1\n"), "{text}");
    let id = person_with_account(dir).await;

    // The second command uses the same key and says nothing about it.
    let out = ok(dir, &["user", "list"]);
    assert!(!out.contains("数据加密密钥"), "{out}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);

    // The key file is moved away: refused, naming the flag; no new key is made.
    let moved = tmp.path().join("moved.key");
    std::fs::rename(&key, &moved).unwrap();
    let out = jiuzhu(dir, &["user", "list"]);
    let said = text_of(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("找不到数据加密密钥") && said.contains("--data-key"),
        "{said}"
    );
    assert!(!key.exists(), "no new key was made");

    // Another database's key: refused.
    let other = tempfile::tempdir().unwrap();
    first_command(other.path());
    let foreign = other.path().join(DATA_KEY_FILE);
    let out = jiuzhu(
        dir,
        &["--data-key", foreign.to_str().unwrap(), "user", "list"],
    );
    assert!(!out.status.success());
    assert!(text_of(&out).contains("与数据库不符"), "{}", text_of(&out));

    // A key others may read: refused.
    chmod(&moved, 0o644);
    let out = jiuzhu(
        dir,
        &["--data-key", moved.to_str().unwrap(), "user", "list"],
    );
    assert!(text_of(&out).contains("chmod 600"), "{}", text_of(&out));
    chmod(&moved, 0o600);

    // The right key, named by the flag: the account reads back.
    ok(
        dir,
        &["--data-key", moved.to_str().unwrap(), "user", "list"],
    );
    std::fs::rename(&moved, &key).unwrap();
    let store = open(dir, Arc::new(SystemClock)).await;
    let read = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let p = store.get_person(&read, id).await.unwrap().unwrap();
    assert_eq!(p.facts.bank_account.as_deref(), Some(ACCOUNT));
    assert_eq!(p.facts.illness_note.as_deref(), Some(ILLNESS));
}

fn text_of(o: &std::process::Output) -> String {
    text(o)
}

#[tokio::test]
async fn rotation_re_encrypts_with_a_new_key_and_keeps_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    first_command(dir);
    let id = person_with_account(dir).await;
    let key = dir.join(DATA_KEY_FILE);
    let old_id = key_ids(&key)[0].clone();

    let out = ok(dir, &["data-key", "rotate"]);
    assert!(out.contains("已启用新数据密钥"), "{out}");
    let ids = key_ids(&key);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], old_id);
    assert_eq!(mode(&key), 0o600);

    // Every value is now the new key's, and still reads.
    let store = open(dir, Arc::new(SystemClock)).await;
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT bank_account FROM persons WHERE bank_account IS NOT NULL")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].0.starts_with(&format!("sm4gcm:{}:", ids[1])),
        "{}",
        rows[0].0
    );
    let reveal = Actor::system("test").grant::<RevealSensitive>().unwrap();
    let p = store
        .reveal_person(&reveal, id, &["bank_account"])
        .await
        .unwrap();
    assert_eq!(p.facts.bank_account.as_deref(), Some(ACCOUNT));
    let events = store.audit_page(0, 1000).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(actions.contains(&"data_key_added"), "{actions:?}");
    assert!(actions.contains(&"sensitive_data_encrypted"), "{actions:?}");
}

fn key_ids(key: &Path) -> Vec<String> {
    std::fs::read_to_string(key)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("key "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn everything_a_command_keeps_is_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o755);
    first_command(&dir);
    person_with_account(&dir).await;
    // A department's delivery that others may read: kept as a link (no copy of a large file),
    // and the one file is made private.
    let delivery = tmp.path().join("deaths.csv");
    std::fs::write(
        &delivery,
        "id_number,death_date\n371002196606060716,2024-06-10\n",
    )
    .unwrap();
    chmod(&delivery, 0o644);
    ok(
        &dir,
        &[
            "verify",
            "add-source",
            "--kind",
            "civil_deaths",
            "--code",
            "民政殡葬",
            "--name",
            "殡葬管理所",
            "--division",
            "371002",
        ],
    );
    ok(
        &dir,
        &[
            "import",
            "feed",
            "--kind",
            "civil_deaths",
            "--source",
            "民政殡葬",
            "--data-date",
            "2024-06-30",
            delivery.to_str().unwrap(),
        ],
    );
    assert_eq!(mode(&delivery), 0o600);
    let feeds = dir.join("feeds");
    let kept: Vec<_> = std::fs::read_dir(&feeds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::metadata(&kept[0]).unwrap().ino(),
        std::fs::metadata(&delivery).unwrap().ino(),
        "a link to the operator's file"
    );

    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&feeds), 0o700);
    // Open, so that the write-ahead log and shared memory exist (the last connection to close
    // removes them); SQLite makes them with the database file's mode.
    let store = open(&dir, Arc::new(SystemClock)).await;
    store.ping().await.unwrap();
    for f in [
        dir.join("t.sqlite"),
        dir.join("t.sqlite-wal"),
        dir.join("t.sqlite-shm"),
        dir.join(DATA_KEY_FILE),
        dir.join("audit-signing.key"),
        dir.join("audit-signing.pub"),
        dir.join("audit-checkpoints.jsonl"),
        kept[0].clone(),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

/// An installation from before: folders 0755 and files 0644, as a default umask made them.
/// `serve` tightens them at start.
#[tokio::test]
async fn serve_makes_an_older_data_directory_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    first_command(dir);
    let files = dir.join("files");
    let scan = files.join("sha256").join("ab");
    std::fs::create_dir_all(&scan).unwrap();
    let doc = scan.join("ab".repeat(32));
    std::fs::write(&doc, b"%PDF-1.4 scan").unwrap();
    let feeds = dir.join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    let delivery = feeds.join(format!("{}.csv", "cd".repeat(32)));
    std::fs::write(&delivery, b"id_number,death_date\n").unwrap();
    for d in [dir, &files, &files.join("sha256"), &scan, &feeds] {
        chmod(d, 0o755);
    }
    for f in [
        doc.clone(),
        delivery.clone(),
        dir.join("t.sqlite"),
        dir.join("audit-checkpoints.jsonl"),
    ] {
        chmod(&f, 0o644);
    }

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("JIUZHU_DATABASE", db_url(dir))
        .env("JIUZHU_LOG", "warn")
        .env_remove("JIUZHU_AUDIT_KEY")
        .env_remove("JIUZHU_AUDIT_CHECKPOINTS")
        .env_remove("JIUZHU_DATA_DIR")
        .env_remove("JIUZHU_DATA_KEY")
        .env_remove("JIUZHU_FILES_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start jiuzhu serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("jiuzhu 已启动") {
                return;
            }
        }
        panic!("serve exited before listening");
    })
    .await
    .expect("serve started");
    child.kill().await.unwrap();

    for d in [dir, &files, &files.join("sha256"), &scan, &feeds] {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
    for f in [
        doc,
        delivery,
        dir.join("t.sqlite"),
        dir.join("audit-checkpoints.jsonl"),
    ] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}
