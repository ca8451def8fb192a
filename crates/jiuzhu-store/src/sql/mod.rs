//! The SQL implementation of [`Store`](crate::Store) for SQLite and PostgreSQL.
//!
//! One code path serves both backends: sqlx's `Any` driver, `$n` placeholders (SQLite accepts
//! them too) and portable column types (see `migrations/*/0001_init.sql`). The few differences
//! (how a write transaction takes its lock, connection pragmas) are in this module.
//!
//! Every write runs in a [`WriteTx`]: writers are serialized (SQLite: an in-process gate plus
//! `BEGIN IMMEDIATE`; PostgreSQL: `SELECT … FOR UPDATE` on the one-row `audit_head` table, taken
//! first thing in the transaction so there is a single lock order and no deadlock), the audit
//! events of the change are appended in the same transaction, and ids are allocated as
//! `MAX(id) + 1` under that lock.

mod accounts;
mod at_rest;
mod audit;
mod calendar;
mod cases;
mod changes;
mod divisions;
mod documents;
mod economics;
mod feed_sources;
mod households;
mod import;
mod in_force;
mod outreach;
mod persons;
mod policies;
mod reach;
mod reserve;
mod rows;
mod unit;
mod users;
mod verification;
mod verification_reports;
mod warnings;

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Row, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use jiuzhu_domain::audit::{chain_hash, format_time, AuditEntry};
use jiuzhu_domain::{
    Actor, AuditAction, AuditRecord, Clock, DivisionCode, FieldError, ValidationErrors,
};

pub use at_rest::AtRestCounts;

use crate::data_key::{DataKeyError, DataKeys};
use crate::private_fs;
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pool: AnyPool,
    clock: Arc<dyn Clock>,
    backend: Backend,
    /// SQLite allows one writer at a time. Queuing writers here (instead of letting them wait in
    /// SQLite's busy handler) means a long import delays other writes instead of failing them.
    write_gate: Mutex<()>,
    /// The field-encryption keys (docs/security.md, "Encryption at rest").
    keys: Arc<DataKeys>,
    /// Who reads protected cases (`Store::use_protected_readers`).
    protected_readers: std::sync::RwLock<Arc<crate::ProtectedReaders>>,
}

impl SqlStore {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Who reads protected cases now.
    fn readers(&self) -> Arc<crate::ProtectedReaders> {
        self.protected_readers
            .read()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The connection pool, for tools and tests that need raw SQL (e.g. to show that the
    /// database itself refuses to change audit events). Application code goes through [`Store`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The data migrations a schema migration left to do (`pending_backfills`); `connect`
    /// runs them, tests call them after setting up an old database's state.
    pub async fn run_data_migrations(&self) -> Result<()> {
        run_backfills(&self.pool).await
    }

    /// Runs one raw SQL statement; for tests and operator tools.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(self.pool.execute(sql).await?.rows_affected())
    }

    /// Starts a serialized write transaction on a pool connection.
    async fn write(&self) -> Result<WriteTx<'static, '_>> {
        let gate = self.gate().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        WriteTx::start(tx, gate, self).await
    }

    /// Starts a serialized write transaction on a connection the caller holds (the import needs
    /// the connection again after the transaction, to reset its pragmas).
    async fn write_on<'c>(&'c self, conn: &'c mut AnyConnection) -> Result<WriteTx<'c, 'c>> {
        let gate = self.gate().await;
        let tx = match self.backend {
            Backend::Sqlite => sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?,
            Backend::Postgres => sqlx::Connection::begin(conn).await?,
        };
        WriteTx::start(tx, gate, self).await
    }

    /// SQLite settings of a connection about to do one big write (a caseload import, a month's
    /// run), set on the connection because the pragmas cannot change inside a transaction: a
    /// page cache of `cache_kib` so the indexes being filled stay in memory, and no
    /// foreign-key lookup per row (every reference such a write makes, it has checked or
    /// allocated itself). With `defer_checkpoint`, its commit does not checkpoint the
    /// write-ahead log either; [`SqlStore::end_bulk_write`] then starts one in the background.
    /// Nothing on PostgreSQL.
    async fn begin_bulk_write(
        &self,
        conn: &mut AnyConnection,
        cache_kib: i64,
        defer_checkpoint: bool,
    ) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let checkpoint = if defer_checkpoint {
            " PRAGMA wal_autocheckpoint = 0;"
        } else {
            ""
        };
        sqlx::query(&format!(
            "PRAGMA cache_size = -{cache_kib}; PRAGMA foreign_keys = OFF;{checkpoint}"
        ))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Gives the connection of [`SqlStore::begin_bulk_write`] its usual settings back (best
    /// effort: a failure leaves one pooled connection with a larger cache) and, when its
    /// checkpoint was deferred, checkpoints in the background: copying the write's pages into
    /// the database file need not delay the write, nor the next user's.
    async fn end_bulk_write(&self, conn: &mut AnyConnection, deferred_checkpoint: bool) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let reset = sqlx::query(&format!(
            "PRAGMA cache_size = -{DEFAULT_CACHE_KIB}; PRAGMA foreign_keys = ON; \
             PRAGMA wal_autocheckpoint = {DEFAULT_WAL_AUTOCHECKPOINT}"
        ))
        .execute(&mut *conn)
        .await;
        if let Err(e) = reset {
            tracing::warn!(error = %e, "could not reset SQLite settings after a bulk write");
        }
        if deferred_checkpoint {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "checkpoint after a bulk write failed");
                }
            });
        }
    }

    async fn gate(&self) -> Option<MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.lock().await),
            Backend::Postgres => None,
        }
    }

    pub(crate) fn keys(&self) -> &DataKeys {
        &self.keys
    }

    /// Today in China Standard Time, from the injected clock.
    fn today(&self) -> NaiveDate {
        self.clock.today()
    }
}

/// Data migrations a SQL migration cannot do (computing digests): a migration leaves a row in
/// `pending_backfills`, and the first start after it does the work and removes the row, in one
/// transaction. Each is idempotent, so two processes starting at
/// once do no harm.
async fn run_backfills(pool: &AnyPool) -> Result<()> {
    let pending = sqlx::query("SELECT name FROM pending_backfills ORDER BY name")
        .fetch_all(pool)
        .await?;
    for row in &pending {
        let name: String = rows::get(row, "name")?;
        let mut tx = pool.begin().await?;
        match name.as_str() {
            // Migration 0021: warnings stored before it get the digest of their facts.
            "warning_facts" => {
                // A batch of rows at a time, each batch one statement: a province's warnings
                // are never all in memory, nor updated one statement each.
                let mut after = 0i64;
                loop {
                    let rows = sqlx::query(
                        "SELECT id, evidence FROM warnings WHERE facts = 0 AND id > $1 \
                         ORDER BY id LIMIT 2000",
                    )
                    .bind(after)
                    .fetch_all(&mut *tx)
                    .await?;
                    let Some(last) = rows.last() else { break };
                    after = rows::get(last, "id")?;
                    let mut cases = String::new();
                    let mut ids = Vec::with_capacity(rows.len());
                    for r in &rows {
                        let evidence: String = rows::get(r, "evidence")?;
                        let e: serde_json::Value =
                            serde_json::from_str(&evidence).unwrap_or_default();
                        let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                        let id: i64 = rows::get(r, "id")?;
                        let facts = crate::warning_facts(&text("person"), &text("value"));
                        // Integers only: written into the statement.
                        cases.push_str(&format!(" WHEN {id} THEN {facts}"));
                        ids.push(id.to_string());
                    }
                    sqlx::query(&format!(
                        "UPDATE warnings SET facts = CASE id{cases} END WHERE id IN ({})",
                        ids.join(", ")
                    ))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            other => {
                return Err(StoreError::Database(format!(
                    "unknown data migration {other:?}: this binary is older than the database"
                )))
            }
        }
        sqlx::query("DELETE FROM pending_backfills WHERE name = $1")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// SQLite's page cache (KiB) on a pooled connection, and its default: checkpoint the
/// write-ahead log when it passes 1000 pages.
const DEFAULT_CACHE_KIB: i64 = 2000;
const DEFAULT_WAL_AUTOCHECKPOINT: i64 = 1000;

/// Opens (creating if needed) the database at `url` (`sqlite://PATH` or `postgres://…`),
/// applies the migrations and takes `keys` as its data keys: they must hold every key the
/// database's values were encrypted with, and values not yet encrypted with the newest one are
/// encrypted now (see [`connect_with_key_file`] for the binary's key file).
pub async fn connect(url: &str, clock: Arc<dyn Clock>, keys: DataKeys) -> Result<SqlStore> {
    let (pool, backend) = open_pool(url).await?;
    let store = SqlStore::new(pool, clock, backend, keys);
    store
        .adopt_keys()
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(store)
}

/// What [`connect_with_key_file`] did with the key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFileOpened {
    /// A new key file was made (a database without encrypted data and no key file).
    pub created: bool,
    /// The id of the key that encrypts.
    pub active_id: String,
    /// Values encrypted (or re-encrypted with the newest key) at this start.
    pub encrypted: AtRestCounts,
}

/// [`connect`] with the data keys of the key file at `key_path`. Without the file, a new one is
/// made only for a database that holds nothing encrypted; a database that does gets
/// [`DataKeyError::Missing`], never a new key.
pub async fn connect_with_key_file(
    url: &str,
    clock: Arc<dyn Clock>,
    key_path: &Path,
) -> std::result::Result<(SqlStore, KeyFileOpened), DataKeyError> {
    let (pool, backend) = open_pool(url).await?;
    let registered = at_rest::registered_keys(&pool).await?;
    let (keys, created) = match DataKeys::load(key_path) {
        Ok(keys) => (keys, false),
        Err(e) if e.is_not_found() && registered.is_empty() => (DataKeys::create(key_path)?, true),
        Err(e) if e.is_not_found() => {
            return Err(DataKeyError::Missing {
                path: key_path.to_path_buf(),
                ids: registered.join(", "),
            })
        }
        Err(e) => return Err(e),
    };
    let store = SqlStore::new(pool, clock, backend, keys);
    let encrypted = store.adopt_keys().await.map_err(|e| match e {
        DataKeyError::Mismatch { reason, .. } => DataKeyError::Mismatch {
            path: key_path.to_path_buf(),
            reason,
        },
        e => e,
    })?;
    let active_id = store.keys.active_id().to_string();
    Ok((
        store,
        KeyFileOpened {
            created,
            active_id,
            encrypted,
        },
    ))
}

impl SqlStore {
    fn new(pool: AnyPool, clock: Arc<dyn Clock>, backend: Backend, keys: DataKeys) -> SqlStore {
        SqlStore {
            pool,
            clock,
            backend,
            write_gate: Mutex::new(()),
            keys: Arc::new(keys),
            protected_readers: Default::default(),
        }
    }
}

async fn open_pool(url: &str) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Backend::Postgres
    } else {
        return Err(StoreError::Database(
            "unsupported database URL: use sqlite://PATH or postgres://…".into(),
        ));
    };
    if backend == Backend::Sqlite {
        create_sqlite_file(url)?;
    }
    let options = AnyConnectOptions::from_str(url)?
        // Statements are logged only at trace level: import statements are long, and the
        // application logs what it does itself.
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(10));
    let pool = match backend {
        Backend::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL: readers never wait for the writer. NORMAL is durable in WAL mode
                        // except for the last transactions on power loss.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; \
                             PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?
        }
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(10)
                .connect_with(options)
                .await?
        }
    };
    let migrated = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
    };
    migrated.map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
    run_backfills(&pool).await?;
    if backend == Backend::Sqlite {
        // Made before this version, or by SQLite under a wide umask: the database, its
        // write-ahead log and shared memory are the service's alone.
        for path in sqlite_files(url) {
            private_fs::tighten_one(&path)
                .map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?;
        }
    }
    Ok((pool, backend))
}

/// The SQLite database file of `url` with its `-wal` and `-shm`.
fn sqlite_files(url: &str) -> Vec<std::path::PathBuf> {
    let path = sqlite_path(url);
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{path}{suffix}")))
        .collect()
}

fn sqlite_path(url: &str) -> &str {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.split('?').next().unwrap_or(rest)
}

/// Creates the SQLite file and its directory, so that `sqlite://data/x.sqlite` just works.
fn create_sqlite_file(url: &str) -> Result<()> {
    let path = sqlite_path(url);
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(StoreError::Database(
            "an in-memory SQLite database is not supported (each pool connection would get its own); use a file".into(),
        ));
    }
    let path = Path::new(path);
    let io = |e: std::io::Error| StoreError::Database(format!("creating {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            private_fs::create_dir(dir).map_err(io)?;
        }
    }
    // SQLite gives its -wal and -shm the database file's mode.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(private_fs::FILE_MODE)
        .open(path)
        .map_err(io)?;
    Ok(())
}

// ---- transactions and the audit chain ----------------------------------------------------------

/// Who an audit event names: an actor, or a user logging in (no actor yet).
#[derive(Clone, Copy)]
pub(crate) struct Who<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
    pub origin: &'a str,
    /// The actor's jurisdiction: the division of an event about no record of one (a delivery,
    /// an import), so that the auditors of that jurisdiction see it.
    pub jurisdiction: Option<&'a DivisionCode>,
}

impl<'a> From<&'a Actor> for Who<'a> {
    fn from(a: &'a Actor) -> Self {
        Who {
            user_id: a.user_id,
            name: &a.username,
            origin: &a.origin,
            jurisdiction: Some(a.scope.root()),
        }
    }
}

/// An audit event about to be appended.
pub(crate) struct Event {
    pub action: AuditAction,
    pub record_kind: String,
    pub record_id: Option<String>,
    pub division: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(action: AuditAction, record_kind: impl Into<String>) -> Event {
        Event {
            action,
            record_kind: record_kind.into(),
            record_id: None,
            division: None,
            before: None,
            after: None,
            detail: None,
        }
    }
    pub fn record(mut self, id: impl ToString) -> Event {
        self.record_id = Some(id.to_string());
        self
    }
    pub fn division(mut self, d: &DivisionCode) -> Event {
        self.division = Some(d.to_string());
        self
    }
    pub fn before(mut self, v: serde_json::Value) -> Event {
        self.before = Some(v);
        self
    }
    pub fn after(mut self, v: serde_json::Value) -> Event {
        self.after = Some(v);
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Event {
        self.detail = Some(d.into());
        self
    }
}

/// A write transaction holding the writer lock, with the audit chain head it read and one
/// timestamp for everything it writes.
pub(crate) struct WriteTx<'c, 'g> {
    pub tx: Transaction<'c, Any>,
    _gate: Option<MutexGuard<'g, ()>>,
    head_seq: i64,
    head_hash: String,
    head_moved: bool,
    /// The transaction's time, truncated to what is stored (microseconds).
    pub now: DateTime<Utc>,
    pub now_text: String,
    pub backend: Backend,
    /// Who reads protected cases, as the store had it when the transaction began.
    pub readers: Arc<crate::ProtectedReaders>,
}

impl<'c, 'g> WriteTx<'c, 'g> {
    async fn start(
        mut tx: Transaction<'c, Any>,
        gate: Option<MutexGuard<'g, ()>>,
        store: &SqlStore,
    ) -> Result<WriteTx<'c, 'g>> {
        let sql = match store.backend {
            Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
            // The lock that serializes writers on PostgreSQL, taken before anything else.
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        };
        let row = sqlx::query(sql).fetch_one(&mut *tx).await?;
        let now_text = format_time(store.clock.now());
        let now = rows::parse_ts(&now_text)?;
        Ok(WriteTx {
            tx,
            _gate: gate,
            head_seq: rows::get(&row, "seq")?,
            head_hash: rows::get(&row, "hash")?,
            head_moved: false,
            now,
            now_text,
            backend: store.backend,
            readers: store.readers(),
        })
    }

    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends an audit event in this transaction.
    pub async fn audit(&mut self, who: Who<'_>, ev: Event) -> Result<AuditRecord> {
        // The audit log is read by division (`audit_log`): an event of no division is seen by
        // national auditors only. One about no record in the tree takes the actor's
        // jurisdiction; a national actor's stays without (the same readers).
        let division = ev.division.or_else(|| {
            who.jurisdiction
                .filter(|d| d.level() != jiuzhu_domain::Level::Nation)
                .map(|d| d.to_string())
        });
        let entry = AuditEntry {
            at: self.now_text.clone(),
            actor_user_id: who.user_id,
            actor_name: who.name.to_string(),
            origin: who.origin.to_string(),
            action: ev.action,
            record_kind: ev.record_kind,
            record_id: ev.record_id,
            division,
            before: ev.before,
            after: ev.after,
            detail: ev.detail,
        };
        let seq = self.head_seq + 1;
        let hash = chain_hash(&self.head_hash, seq, &entry);
        sqlx::query(
            "INSERT INTO audit_events (seq, at, actor_id, actor_name, origin, action, record_kind, \
             record_id, division, before_data, after_data, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(seq)
        .bind(&entry.at)
        .bind(entry.actor_user_id)
        .bind(&entry.actor_name)
        .bind(&entry.origin)
        .bind(entry.action.as_str())
        .bind(&entry.record_kind)
        .bind(entry.record_id.as_deref())
        .bind(entry.division.as_deref())
        .bind(entry.before.as_ref().map(|v| v.to_string()))
        .bind(entry.after.as_ref().map(|v| v.to_string()))
        .bind(entry.detail.as_deref())
        .bind(&self.head_hash)
        .bind(&hash)
        .execute(&mut *self.tx)
        .await?;
        let record = AuditRecord {
            seq,
            entry,
            prev_hash: std::mem::replace(&mut self.head_hash, hash.clone()),
            hash,
        };
        self.head_seq = seq;
        self.head_moved = true;
        Ok(record)
    }

    pub async fn commit(mut self) -> Result<()> {
        if self.head_moved {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(self.head_seq)
                .bind(&self.head_hash)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    /// The next free id of `table` (ids are allocated under the writer lock).
    pub async fn next_id(&mut self, table: &'static str) -> Result<i64> {
        let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM {table}");
        let row = sqlx::query(&sql).fetch_one(&mut *self.tx).await?;
        rows::get(&row, "next")
    }
}

// ---- dynamic queries -------------------------------------------------------------------------

/// An owned bind value, for queries whose conditions depend on the request.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

/// SQL text with `$n` placeholders and the values for them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }
    pub fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }
    /// Appends a placeholder for `v`.
    pub fn bind_text(&mut self, v: impl Into<String>) -> &mut Sql {
        self.args.push(Arg::Text(Some(v.into())));
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }
    pub fn bind_int(&mut self, v: i64) -> &mut Sql {
        self.args.push(Arg::Int(Some(v)));
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }
    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_deref()),
            };
        }
        q
    }
}

/// `head VALUES (row), (row), …` with `rows` copies of `row`, whose `?` marks are the bind
/// placeholders (other text, such as literals, is copied as is).
///
/// SQLite gets anonymous `?` placeholders: it looks named ones (`$n`) up by a linear scan per
/// parameter, which makes a statement with thousands of them quadratic. PostgreSQL needs `$n`.
pub(crate) fn values_sql(backend: Backend, head: &str, row: &str, rows: usize) -> String {
    let marks = row.matches('?').count();
    let mut sql = String::with_capacity(head.len() + rows * (row.len() + marks * 6 + 4));
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0usize;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in row.chars() {
            if c == '?' && backend == Backend::Postgres {
                n += 1;
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push(c);
            }
        }
        sql.push(')');
    }
    sql
}

/// Escapes user text for `LIKE … ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `LIMIT`/`OFFSET` within sane bounds (a missing limit means one page of 50).
pub(crate) fn page_bounds(limit: i64, offset: i64) -> (i64, i64) {
    let limit = if limit <= 0 { 50 } else { limit.min(1000) };
    (limit, offset.max(0))
}

pub(crate) fn invalid(field: &str, code: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(ValidationErrors::from(FieldError::new(
        field, code, message,
    )))
}

/// Distinguishes a unique-constraint violation (a race the pre-checks did not see, or data
/// inserted behind the store's back) from other database errors.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation),
        _ => false,
    }
}

pub(crate) fn count_of(row: &AnyRow) -> Result<i64> {
    row.try_get::<i64, _>(0).map_err(StoreError::from)
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Box<dyn crate::WriteUnit + '_>> {
        self.begin_unit().await
    }
}
