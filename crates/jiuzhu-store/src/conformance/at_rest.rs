//! Conformance cases of encryption at rest (docs/security.md): the attack is someone who reads
//! the database (a copied file, a backup, a DBA's `SELECT`) looking for a bank account or an
//! illness note. Every text column of every table is searched with SQL on both backends; the
//! SQLite file's raw bytes are searched by `tests/sqlite.rs`.

use sqlx::Row;

use jiuzhu_domain::access::{ReadAudit, ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{AuditAction, PersonFacts};

use super::{all_events, clerk_a, date, facts, id_number, with_tree, Harness, VILLAGE_A};
use crate::prelude::*;
use crate::{AuditQuery, Backend, PersonQuery, SqlStore, StoreError};

/// The test's bank account and illness note (the brief of the security test), and a phone that
/// is superseded (the current phone is kept in plaintext; a superseded one is encrypted).
pub const ACCOUNT: &str = "6222020200112233445";
pub const ILLNESS: &str = "慢性肾功能衰竭尿毒症期";
pub const PHONE: &str = "13905318866";
pub const NEW_PHONE: &str = "13905318877";

/// Every (table, column) of the database, as text-castable names.
async fn columns(store: &SqlStore) -> Vec<(String, String)> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() \
             AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'character')"
        }
    };
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .expect("list columns")
        .iter()
        .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c")))
        .collect()
}

/// The (table, column)s whose text contains `needle`.
pub async fn columns_containing(store: &SqlStore, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (t, c) in columns(store).await {
        let sql = format!("SELECT COUNT(*) AS n FROM \"{t}\" WHERE CAST(\"{c}\" AS TEXT) LIKE $1");
        let row = sqlx::query(&sql)
            .bind(format!("%{needle}%"))
            .fetch_one(store.pool())
            .await
            .unwrap_or_else(|e| panic!("{t}.{c}: {e}"));
        if row.get::<i64, _>("n") > 0 {
            found.push(format!("{t}.{c}"));
        }
    }
    found
}

/// Creates a person with the account, illness note and phone, updates all three (a history
/// row with the old values), reveals them, and returns the person's id.
pub async fn sensitive_person(h: &Harness) -> i64 {
    with_tree(h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let id = id_number("371002", "19660606", 71);
    let mut f = facts(&id, "耿秀兰", VILLAGE_A);
    f.bank_account = Some(ACCOUNT.into());
    f.serious_illness = true;
    f.illness_note = Some(ILLNESS.into());
    f.phone = Some(PHONE.into());
    let p = h
        .store
        .create_person(&w, &id, &f, date(2025, 1, 1))
        .await
        .unwrap();
    // The update moves the old values into person_history.
    let mut g = f.clone();
    g.bank_account = Some("6222020200112233999".into());
    g.illness_note = Some(format!("{ILLNESS},透析中"));
    g.phone = Some(NEW_PHONE.into());
    let p = h
        .store
        .update_person(&w, p.id, p.row_version, &g, date(2025, 6, 1))
        .await
        .unwrap();
    let r = clerk_a().grant::<RevealSensitive>().unwrap();
    let shown = h
        .store
        .reveal_person(&r, p.id, &["bank_account", "illness_note", "phone"])
        .await
        .unwrap();
    assert_eq!(shown.facts, g);
    p.id
}

pub async fn sensitive_fields_are_encrypted_at_rest(h: Harness) {
    let id = sensitive_person(&h).await;
    let read = clerk_a().grant::<ReadRegistry>().unwrap();
    // Readable through the store: the current version and the superseded one.
    let history = h.store.person_history(&read, id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[1].data.bank_account.as_deref(),
        Some(ACCOUNT),
        "the old account, from person_history"
    );
    assert_eq!(history[1].data.illness_note.as_deref(), Some(ILLNESS));
    let then: PersonFacts = h
        .store
        .person_as_of(&read, id, date(2025, 3, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(then.phone.as_deref(), Some(PHONE));

    // Nowhere in the database: current rows, history, audit copies, any table.
    for needle in [ACCOUNT, "6222020200112233999", "尿毒症", PHONE] {
        let found = columns_containing(&h.store, needle).await;
        assert!(found.is_empty(), "{needle:?} found in {found:?}");
    }
    // The current phone is plaintext in the current row only (docs/security.md).
    assert_eq!(
        columns_containing(&h.store, NEW_PHONE).await,
        ["persons.phone"]
    );
    // The audit copies say that the fields changed, not their values.
    let audit = h
        .store
        .audit_log(
            &jiuzhu_domain::Actor::system("test")
                .grant::<ReadAudit>()
                .unwrap(),
            &AuditQuery {
                action: Some(AuditAction::PersonUpdated),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let after = audit.items[0].entry.after.as_ref().unwrap();
    assert_eq!(after["bank_account"], "***");
    assert_eq!(after["illness_note"], "***");
    assert_eq!(after["phone"], "139****8877");
    assert_eq!(
        audit.items[0].entry.before.as_ref().unwrap()["phone"],
        "139****8866"
    );

    // Found by the exact account through its blind index, with or without spaces.
    for text in ["6222020200112233999", "6222 0202 0011 2233 999"] {
        let hits = h
            .store
            .search_persons(
                &read,
                &PersonQuery {
                    text: Some(text.into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(hits.items.iter().map(|p| p.id).collect::<Vec<_>>(), [id]);
    }
    // The old account is no longer the person's.
    let old = h
        .store
        .search_persons(
            &read,
            &PersonQuery {
                text: Some(ACCOUNT.into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(old.total, 0);
}

/// A database writer copies one person's encrypted account over another's, to redirect a
/// payment: the associated data (table, column, person, version) makes it unreadable instead.
pub async fn moved_ciphertext_does_not_decrypt(h: Harness) {
    let victim = sensitive_person(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let other = id_number("371002", "19700101", 72);
    let p = h
        .store
        .create_person(
            &w,
            &other,
            &facts(&other, "柳强", VILLAGE_A),
            date(2025, 1, 1),
        )
        .await
        .unwrap();
    let copied = h
        .store
        .execute_raw(&format!(
            "UPDATE persons SET bank_account = (SELECT bank_account FROM persons WHERE id = {victim}) \
             WHERE id = {}",
            p.id
        ))
        .await
        .unwrap();
    assert_eq!(copied, 1);
    let read = clerk_a().grant::<ReadRegistry>().unwrap();
    let err = h.store.get_person(&read, p.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Database(m) if m.contains("persons.bank_account")),
        "{err:?}"
    );
    // The victim still reads.
    assert!(h.store.get_person(&read, victim).await.unwrap().is_some());
}

/// A database from before encryption at rest (plaintext in persons and person_history) is
/// encrypted by the start-up step, audited once; a second run finds nothing to do.
pub async fn plaintext_from_before_is_encrypted_at_start(h: Harness) {
    let id = sensitive_person(&h).await;
    // What an older version stored.
    h.store
        .execute_raw(&format!(
            "UPDATE persons SET bank_account = '{}', bank_account_bidx = NULL, \
             illness_note = '{ILLNESS}' WHERE id = {id}",
            "6222020200112233999"
        ))
        .await
        .unwrap();
    let facts_json = serde_json::json!({
        "name": "耿秀兰", "sex": "female", "birth_date": "1966-06-06",
        "hukou_division": null, "residence_division": VILLAGE_A, "phone": PHONE,
        "disability": null, "serious_illness": true, "illness_note": ILLNESS,
        "education": "not_in_school", "employment": "not_in_labour_force",
        "work_ability": "able", "self_care": null, "bank_account": ACCOUNT
    });
    h.store
        .execute_raw(&format!(
            "UPDATE person_history SET facts = '{facts_json}' WHERE person_id = {id}"
        ))
        .await
        .unwrap();
    assert!(!columns_containing(&h.store, ACCOUNT).await.is_empty());

    let counts = h.store.encrypt_stored_values().await.unwrap();
    assert_eq!((counts.persons, counts.person_history), (1, 1));
    for needle in [ACCOUNT, "6222020200112233999", "尿毒症", PHONE] {
        let found = columns_containing(&h.store, needle).await;
        assert!(found.is_empty(), "{needle:?} still in {found:?}");
    }
    let read = clerk_a().grant::<ReadRegistry>().unwrap();
    let history = h.store.person_history(&read, id).await.unwrap();
    assert_eq!(
        history[0].data.bank_account.as_deref(),
        Some("6222020200112233999")
    );
    assert_eq!(history[1].data.bank_account.as_deref(), Some(ACCOUNT));
    assert_eq!(history[1].data.illness_note.as_deref(), Some(ILLNESS));
    let found = h
        .store
        .search_persons(
            &read,
            &PersonQuery {
                text: Some("6222020200112233999".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1, "the blind index was filled in");
    let encrypted: Vec<_> = all_events(&h.store)
        .await
        .into_iter()
        .filter(|e| e.entry.action == AuditAction::SensitiveDataEncrypted)
        .collect();
    assert_eq!(encrypted.len(), 1);
    let detail = encrypted[0].entry.detail.as_deref().unwrap();
    assert!(detail.contains("\"persons\":1"), "{detail}");

    // Idempotent: nothing left, nothing audited.
    let again = h.store.encrypt_stored_values().await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    let events = all_events(&h.store).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.entry.action == AuditAction::SensitiveDataEncrypted)
            .count(),
        1
    );
}
