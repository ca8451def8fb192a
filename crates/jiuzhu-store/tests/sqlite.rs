//! The conformance suite on SQLite: each test gets a new database file in a temporary directory.

use std::sync::Arc;

use jiuzhu_domain::FixedClock;
use jiuzhu_store::conformance::{start_time, Harness};
use jiuzhu_store::data_key::DataKeys;
use jiuzhu_store::prelude::*;

async fn fresh() -> Harness {
    let dir = tempfile::tempdir().expect("temporary directory");
    // A nested path: connect creates missing directories.
    let url = format!(
        "sqlite://{}",
        dir.path().join("db").join("t.sqlite").display()
    );
    let clock = FixedClock::new(start_time());
    let store = jiuzhu_store::connect(&url, Arc::new(clock.clone()), DataKeys::generate())
        .await
        .expect("open SQLite store");
    Harness::new(store, clock, Some(Box::new(dir)))
}

jiuzhu_store::conformance_tests!(fresh);

mod upgrade;

#[tokio::test]
async fn an_upgrade_makes_administrators_system_administrators() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.sqlite").display()
    );
    upgrade::administrators_become_system_administrators(&url, "sqlite").await;
}

#[tokio::test]
async fn reopening_keeps_data_and_applies_no_migration_twice() {
    use jiuzhu_domain::access::ManageDivisions;
    use jiuzhu_domain::{Actor, DivisionCode};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let clock = Arc::new(FixedClock::new(start_time()));
    let g = Actor::system("test").grant::<ManageDivisions>().unwrap();
    let keys = DataKeys::generate();
    {
        let store = jiuzhu_store::connect(&url, clock.clone(), keys.clone())
            .await
            .unwrap();
        store
            .save_division(&g, &DivisionCode::parse("371002").unwrap(), "环翠区")
            .await
            .unwrap();
    }
    let store = jiuzhu_store::connect(&url, clock, keys).await.unwrap();
    let events = store.audit_page(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
}

// ---- encryption at rest: the raw bytes of the database files ------------------------------------

/// The forms a reader of the raw file would search for: UTF-8, GBK, UTF-16 (both byte orders).
fn forms(text: &str) -> Vec<(String, Vec<u8>)> {
    let utf16 = |be: bool| -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
            .collect()
    };
    vec![
        (format!("{text} UTF-8"), text.as_bytes().to_vec()),
        (
            format!("{text} GBK"),
            encoding_rs::GBK.encode(text).0.into_owned(),
        ),
        (format!("{text} UTF-16LE"), utf16(false)),
        (format!("{text} UTF-16BE"), utf16(true)),
    ]
}

/// Which forms of the test's accounts and illness note occur in the database file, its
/// write-ahead log and its shared memory. (Not the phone: the current phone is plaintext, so a
/// superseded one can linger in pages of before until they are reused.)
fn found_in_files(db: &std::path::Path) -> Vec<String> {
    use jiuzhu_store::conformance::at_rest::{ACCOUNT, ILLNESS};
    let mut needles = Vec::new();
    for t in [ACCOUNT, ILLNESS, "尿毒症", "6222020200112233999"] {
        needles.extend(forms(t));
    }
    let mut found = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        let bytes = std::fs::read(&path).unwrap_or_default();
        for (what, needle) in &needles {
            if bytes.windows(needle.len()).any(|w| w == needle.as_slice()) {
                found.push(format!("{what} in {path}"));
            }
        }
    }
    found
}

async fn harness_at(dir: &std::path::Path) -> (Harness, std::path::PathBuf) {
    let db = dir.join("t.sqlite");
    let clock = FixedClock::new(start_time());
    let store = jiuzhu_store::connect(
        &format!("sqlite://{}", db.display()),
        Arc::new(clock.clone()),
        DataKeys::generate(),
    )
    .await
    .unwrap();
    (Harness::new(store, clock, None), db)
}

#[tokio::test]
async fn the_database_files_hold_no_account_nor_illness_note() {
    let dir = tempfile::tempdir().unwrap();
    let (h, db) = harness_at(dir.path()).await;
    jiuzhu_store::conformance::at_rest::sensitive_person(&h).await;
    // Before a checkpoint the write-ahead log holds the new pages …
    let wal = std::fs::metadata(format!("{}-wal", db.display())).unwrap();
    assert!(wal.len() > 0, "the writes are in the log");
    assert_eq!(found_in_files(&db), Vec::<String>::new());
    // … after it the database file does.
    h.store
        .execute_raw("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    assert_eq!(found_in_files(&db), Vec::<String>::new());
}

#[tokio::test]
async fn plaintext_of_an_older_database_leaves_no_trace_in_its_files() {
    use jiuzhu_store::conformance::at_rest::{ACCOUNT, ILLNESS};
    let dir = tempfile::tempdir().unwrap();
    let (h, db) = harness_at(dir.path()).await;
    let id = jiuzhu_store::conformance::at_rest::sensitive_person(&h).await;
    // What an older version wrote, checkpointed into the database file.
    h.store
        .execute_raw(&format!(
            "UPDATE persons SET bank_account = '{ACCOUNT}', bank_account_bidx = NULL, \
             illness_note = '{ILLNESS}' WHERE id = {id}"
        ))
        .await
        .unwrap();
    h.store
        .execute_raw("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    assert!(!found_in_files(&db).is_empty(), "the plaintext is there");
    let counts = h.store.encrypt_stored_values().await.unwrap();
    assert_eq!(counts.persons, 1);
    assert_eq!(found_in_files(&db), Vec::<String>::new());
}

#[tokio::test]
async fn a_new_database_and_its_folder_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (h, db) = harness_at(&data).await;
    jiuzhu_store::conformance::at_rest::sensitive_person(&h).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

#[tokio::test]
async fn a_database_made_readable_is_made_private_again_when_opened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let keys = DataKeys::generate();
    let db = dir.path().join("t.sqlite");
    let url = format!("sqlite://{}", db.display());
    let clock = Arc::new(FixedClock::new(start_time()));
    drop(
        jiuzhu_store::connect(&url, clock.clone(), keys.clone())
            .await
            .unwrap(),
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = jiuzhu_store::connect(&url, clock, keys).await.unwrap();
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn the_key_file_is_made_once_and_a_missing_or_foreign_key_is_refused() {
    use jiuzhu_store::data_key::DataKeyError;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let key = dir.path().join("data-encryption.key");
    let clock = Arc::new(FixedClock::new(start_time()));
    let (store, opened) = jiuzhu_store::connect_with_key_file(&url, clock.clone(), &key)
        .await
        .unwrap();
    assert!(opened.created);
    drop(store);
    let (store, opened) = jiuzhu_store::connect_with_key_file(&url, clock.clone(), &key)
        .await
        .unwrap();
    assert!(!opened.created);
    drop(store);
    // The key file is gone: no new key for a database that has one.
    let moved = dir.path().join("elsewhere.key");
    std::fs::rename(&key, &moved).unwrap();
    let err = jiuzhu_store::connect_with_key_file(&url, clock.clone(), &key)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, DataKeyError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("--data-key"), "{err}");
    assert!(!key.exists(), "no new key was made");
    // Another database's key file.
    let other = dir.path().join("other.key");
    DataKeys::create(&other).unwrap();
    let err = jiuzhu_store::connect_with_key_file(&url, clock.clone(), &other)
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, DataKeyError::Mismatch { .. }), "{err}");
    // The right one, from where it was moved.
    assert!(jiuzhu_store::connect_with_key_file(&url, clock, &moved)
        .await
        .is_ok());
}
