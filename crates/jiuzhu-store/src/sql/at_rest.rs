//! The data keys a database knows (`data_keys`), and the start-up step that encrypts what is not
//! yet encrypted with the newest key: plaintext from before encryption at rest, or values of an
//! older key after a rotation (docs/security.md, "Encryption at rest"). Idempotent: a second
//! start finds nothing to do. Audited as `sensitive_data_encrypted` when it changed anything.

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::AnyPool;

use jiuzhu_domain::AuditAction;

use super::rows::{get, person_row, SEALED_HISTORY_FIELDS, SEALED_PERSON_FIELDS};
use super::{Backend, Event, SqlStore, Who, WriteTx};
use crate::data_key::{DataKeyError, DataKeys, Slot, PREFIX};
use crate::{Result, StoreError};

/// Values encrypted (or re-encrypted) at a start, by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AtRestCounts {
    /// `persons` rows whose illness note or bank account (or its blind index) was written.
    pub persons: u64,
    /// `person_history` rows whose facts were rewritten.
    pub person_history: u64,
}

impl AtRestCounts {
    pub fn is_empty(&self) -> bool {
        self.persons == 0 && self.person_history == 0
    }
}

/// The ids of the keys the database's values were encrypted with, oldest first.
pub(crate) async fn registered_keys(pool: &AnyPool) -> Result<Vec<String>> {
    sqlx::query("SELECT key_id FROM data_keys ORDER BY registered_at, key_id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| get::<String>(r, "key_id"))
        .collect()
}

fn mismatch(reason: String) -> DataKeyError {
    DataKeyError::Mismatch {
        path: Default::default(),
        reason,
    }
}

impl SqlStore {
    /// What a start runs after the key check until the newest key is marked complete: encrypts
    /// the stored values that are not yet ciphertexts of the newest key (idempotent, audited
    /// when it changed anything). Here it always looks; public for tools and tests that put
    /// plaintext into a database behind the store's back.
    pub async fn encrypt_stored_values(&self) -> Result<AtRestCounts> {
        self.adopt(true).await.map_err(|e| match e {
            DataKeyError::Store(e) => e,
            e => StoreError::Database(e.to_string()),
        })
    }

    /// Checks the keys against the database (every key it used is held, the same blind-index
    /// key), records the newest key, and encrypts what needs it — in one write transaction.
    /// Once every value is the newest key's, the key is marked `complete` and later starts only
    /// read `data_keys` (every write encrypts with the newest key, so it stays complete until a
    /// rotation adds a key).
    pub(crate) async fn adopt_keys(&self) -> std::result::Result<AtRestCounts, DataKeyError> {
        self.adopt(false).await
    }

    async fn adopt(&self, always: bool) -> std::result::Result<AtRestCounts, DataKeyError> {
        let keys = self.keys();
        let rows = sqlx::query("SELECT key_id, index_check, complete FROM data_keys")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from)?;
        let mut active_known = false;
        let mut complete = false;
        for r in &rows {
            let id: String = get(r, "key_id")?;
            let check: String = get(r, "index_check")?;
            if !keys.ids().contains(&id.as_str()) {
                return Err(mismatch(format!(
                    "数据库中的数据用密钥 {id} 加密,密钥文件中没有该密钥 (the key file lacks key {id})"
                )));
            }
            if check != keys.index_check() {
                return Err(mismatch(
                    "盲索引密钥不同 (another blind-index key)".to_string(),
                ));
            }
            if id == keys.active_id() {
                active_known = true;
                complete = get::<i64>(r, "complete")? != 0;
            }
        }
        if complete && !always {
            return Ok(AtRestCounts::default());
        }
        let mut tx = self.write().await?;
        if !active_known {
            sqlx::query(
                "INSERT INTO data_keys (key_id, index_check, registered_at, complete) \
                 VALUES ($1, $2, $3, 0)",
            )
            .bind(keys.active_id())
            .bind(keys.index_check())
            .bind(tx.now_text.clone())
            .execute(tx.conn())
            .await
            .map_err(StoreError::from)?;
        }
        let sqlite = self.backend == Backend::Sqlite;
        if sqlite {
            // The plaintext a row held is overwritten with zeros when the row grows into its
            // ciphertext, instead of staying behind in the page's free space.
            sqlx::query("PRAGMA secure_delete = ON")
                .execute(tx.conn())
                .await
                .map_err(StoreError::from)?;
        }
        let counts = AtRestCounts {
            persons: encrypt_persons(&mut tx, keys).await?,
            person_history: encrypt_person_history(&mut tx, keys).await?,
        };
        if sqlite {
            sqlx::query("PRAGMA secure_delete = OFF")
                .execute(tx.conn())
                .await
                .map_err(StoreError::from)?;
        }
        sqlx::query("UPDATE data_keys SET complete = 1 WHERE key_id = $1")
            .bind(keys.active_id())
            .execute(tx.conn())
            .await
            .map_err(StoreError::from)?;
        if !counts.is_empty() {
            let ev = Event::new(AuditAction::SensitiveDataEncrypted, "data_key")
                .record(keys.active_id())
                .detail(json!({ "key": keys.active_id(), "rows": counts }).to_string());
            let who = Who {
                user_id: None,
                name: "system",
                origin: "start-up",
                jurisdiction: None,
            };
            tx.audit(who, ev).await?;
        }
        tx.commit().await?;
        if !counts.is_empty() {
            self.purge_old_versions().await?;
            tracing::info!(
                persons = counts.persons,
                person_history = counts.person_history,
                key = keys.active_id(),
                "sensitive fields encrypted at rest"
            );
        }
        Ok(counts)
    }
}

impl SqlStore {
    /// After plaintext was encrypted in place: SQLite's write-ahead log is checkpointed and
    /// truncated (it may hold the pages of before); PostgreSQL's tables are rewritten, since an
    /// UPDATE leaves the old row version in the table until a vacuum.
    async fn purge_old_versions(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
            Backend::Postgres => "VACUUM FULL persons, person_history",
        };
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }
}

/// A stored value as plaintext: decrypted when it is a ciphertext (of any key held), as it is
/// when it is plaintext from before encryption at rest.
fn plain_of(keys: &DataKeys, slot: Slot<'_>, stored: String) -> Result<String> {
    if stored.starts_with(PREFIX) {
        keys.decrypt(slot, &stored)
            .map_err(|e| StoreError::Database(e.to_string()))
    } else {
        Ok(stored)
    }
}

async fn encrypt_persons(tx: &mut WriteTx<'_, '_>, keys: &DataKeys) -> Result<u64> {
    let current = format!("{PREFIX}{}:%", keys.active_id());
    let rows = sqlx::query(
        "SELECT id, row_version, illness_note, bank_account, bank_account_bidx FROM persons \
         WHERE (illness_note IS NOT NULL AND illness_note NOT LIKE $1) \
            OR (bank_account IS NOT NULL AND (bank_account NOT LIKE $1 \
                                              OR bank_account_bidx IS NULL))",
    )
    .bind(&current)
    .fetch_all(tx.conn())
    .await?;
    for r in &rows {
        let id: i64 = get(r, "id")?;
        let ident = person_row(id, get(r, "row_version")?);
        let mut sealed = Vec::with_capacity(2);
        let mut bidx = None;
        for column in SEALED_PERSON_FIELDS {
            let slot = Slot {
                table: "persons",
                column,
                row: &ident,
            };
            let value = match get::<Option<String>>(r, column)? {
                Some(stored) => {
                    let plain = plain_of(keys, slot, stored)?;
                    if column == "bank_account" {
                        bidx = Some(keys.bank_account_index(&plain));
                    }
                    Some(keys.encrypt(slot, &plain))
                }
                None => None,
            };
            sealed.push(value);
        }
        sqlx::query(
            "UPDATE persons SET illness_note = $1, bank_account = $2, bank_account_bidx = $3 \
             WHERE id = $4",
        )
        .bind(sealed[0].as_deref())
        .bind(sealed[1].as_deref())
        .bind(bidx)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    Ok(rows.len() as u64)
}

async fn encrypt_person_history(tx: &mut WriteTx<'_, '_>, keys: &DataKeys) -> Result<u64> {
    // A row needs work when one of the sealed fields holds a string that is not a ciphertext
    // of the newest key (serde_json writes `"field":"value"` without spaces).
    let mut filter = Vec::new();
    for (i, column) in SEALED_HISTORY_FIELDS.iter().enumerate() {
        filter.push(format!(
            "(facts LIKE '%\"{column}\":\"%' AND facts NOT LIKE ${})",
            i + 1
        ));
    }
    let sql = format!(
        "SELECT id, person_id, row_version, facts FROM person_history WHERE {}",
        filter.join(" OR ")
    );
    let mut q = sqlx::query(&sql);
    for column in SEALED_HISTORY_FIELDS {
        q = q.bind(format!("%\"{column}\":\"{PREFIX}{}:%", keys.active_id()));
    }
    let rows = q.fetch_all(tx.conn()).await?;
    let mut changed = 0;
    for r in &rows {
        let text: String = get(r, "facts")?;
        let ident = person_row(get(r, "person_id")?, get(r, "row_version")?);
        let mut v: Value = serde_json::from_str(&text)
            .map_err(|_| StoreError::Database("unreadable person_history facts".into()))?;
        let mut touched = false;
        for column in SEALED_HISTORY_FIELDS {
            let Some(stored) = v[column].as_str().map(str::to_string) else {
                continue;
            };
            if keys.is_current(&stored) {
                continue;
            }
            let slot = Slot {
                table: "person_history",
                column,
                row: &ident,
            };
            let plain = plain_of(keys, slot, stored)?;
            v[column] = json!(keys.encrypt(slot, &plain));
            touched = true;
        }
        if touched {
            sqlx::query("UPDATE person_history SET facts = $1 WHERE id = $2")
                .bind(v.to_string())
                .bind(get::<i64>(r, "id")?)
                .execute(tx.conn())
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
