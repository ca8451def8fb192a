//! Deliveries, verification runs and warnings (migration 0006, docs/feeds.md).

use async_trait::async_trait;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{
    HandleWarnings, ImportFeeds, ReadVerification, RevealSensitive, RunVerification,
};
use jiuzhu_domain::{Actor, AuditAction, DivisionCode, FieldError, Grant, ValidationErrors};

use super::in_force::MonthInForce;
use super::rows::{self, date_text, get};
use super::{page_bounds, Backend, Event, Sql, SqlStore, Who, WriteTx};
use crate::verification::{
    CaseloadHouseholdRow, CloseWarning, DeliveryReader, FeedDelivery, NewDelivery, NewRun,
    NewWarning, Rejection, RunCarried, RunPart, RunStart, SourceStatus, SourceUse, StillOpen,
    VerificationRun, WarningQuery, WarningRecord, WarningResult, MAX_STORED_REJECTIONS,
};
use crate::{Page, Result, StoreError};

pub(super) const DELIVERY_SELECT: &str = "id, kind, source, data_date, sha256, bytes, rows_total, \
     rows_accepted, rows_rejected, status, rejection_policy, imported_by_id, imported_by, \
     imported_at, content_key";

pub(super) const WARNING_SELECT: &str =
    "w.id, w.run_id, w.month, w.household_id, h.code AS household_code, \
     w.kind, w.division, w.township, w.due, w.status, w.evidence, w.result, w.note, w.closed_by, \
     w.closed_at, w.row_version, w.visit_date, w.attachments, w.change_case_id, \
     (SELECT u.display_name FROM users u WHERE u.id = w.closed_by_id) AS closed_by_name";

/// Warnings per INSERT statement: few enough binds for either backend, many enough that the
/// statement overhead vanishes.
const WARNING_BATCH: usize = 4000;

/// The insert of a batch of warnings ([`warnings_json`] bound as `$1`, the first id `$2`, the
/// run `$3`, its month `$4`, the due date `$5`), completed by the rows of one backend.
macro_rules! insert_warnings {
    () => {
        "INSERT INTO warnings (id, run_id, month, household_id, kind, division, township, \
         due, status, evidence, facts, row_version) "
    };
}
macro_rules! sqlite_rows {
    () => {
        "SELECT $2 + key, $3, $4, value->>0, value->>1, value->>2, value->>3, $5, 'open', \
         value->>4, value->>5, 1 FROM json_each($1)"
    };
}
macro_rules! postgres_rows {
    () => {
        "SELECT $2 + t.ord - 1, $3, $4, (t.e->>0)::BIGINT, t.e->>1, t.e->>2, t.e->>3, $5, \
         'open', t.e->>4, (t.e->>5)::BIGINT, 1 \
         FROM json_array_elements($1::JSON) WITH ORDINALITY AS t(e, ord)"
    };
}
/// Leaves out a batch row (the elements of [`warnings_json`], typed for the backend) whose
/// household, kind and facts are already stored: an open warning stays as it is, a closed one is
/// not raised again.
macro_rules! not_stored {
    ($household:literal, $kind:literal, $facts:literal) => {
        concat!(
            " WHERE NOT EXISTS (SELECT 1 FROM warnings w WHERE w.household_id = ",
            $household,
            " AND w.kind = ",
            $kind,
            " AND w.facts = ",
            $facts,
            ")"
        )
    };
}

/// SQLite page cache (KiB) of the connection writing a month's run.
const RUN_CACHE_KIB: i64 = 64 * 1024;

/// `COL IN (the ids of the month's runs)`, the month bound as `PARAM`: a warning belongs to a
/// month through its run (migration 0013 keeps no month index on `warnings`).
macro_rules! in_month_runs {
    ($col:literal, $param:literal) => {
        concat!(
            $col,
            " IN (SELECT id FROM verification_runs WHERE month = ",
            $param,
            ")"
        )
    };
}
pub(super) use in_month_runs;

/// [`in_month_runs!`] on `w.run_id` as a condition of a query being built.
pub(super) fn and_in_month(filter: &mut Sql, month: &str) {
    filter
        .push(" AND w.run_id IN (SELECT id FROM verification_runs WHERE month = ")
        .bind_text(month)
        .push(")");
}

pub(crate) fn delivery_of(r: &AnyRow) -> Result<FeedDelivery> {
    Ok(FeedDelivery {
        id: get(r, "id")?,
        kind: get(r, "kind")?,
        source: get(r, "source")?,
        data_date: rows::parse_date(&get::<String>(r, "data_date")?)?,
        sha256: get(r, "sha256")?,
        bytes: get(r, "bytes")?,
        rows_total: get(r, "rows_total")?,
        rows_accepted: get(r, "rows_accepted")?,
        rows_rejected: get(r, "rows_rejected")?,
        status: get(r, "status")?,
        rejection_policy: get(r, "rejection_policy")?,
        imported_by_id: get(r, "imported_by_id")?,
        imported_by: get(r, "imported_by")?,
        imported_at: rows::parse_ts(&get::<String>(r, "imported_at")?)?,
        content_key: get(r, "content_key")?,
    })
}

/// A warning as readers get it: sensitive evidence masked.
pub(super) fn warning_of(r: &AnyRow) -> Result<WarningRecord> {
    let mut w = warning_unmasked(r)?;
    crate::warning_handling::mask_evidence(&mut w.evidence);
    Ok(w)
}

/// A warning with its evidence as stored: only for an audited reveal.
fn warning_unmasked(r: &AnyRow) -> Result<WarningRecord> {
    let evidence: String = get(r, "evidence")?;
    let result: Option<String> = get(r, "result")?;
    Ok(WarningRecord {
        id: get(r, "id")?,
        run_id: get(r, "run_id")?,
        month: get(r, "month")?,
        household_id: get(r, "household_id")?,
        household_code: get(r, "household_code")?,
        kind: get(r, "kind")?,
        division: get(r, "division")?,
        township: get(r, "township")?,
        due: rows::parse_date(&get::<String>(r, "due")?)?,
        status: get(r, "status")?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| StoreError::Database(format!("unreadable evidence: {e}")))?,
        result: result.as_deref().and_then(WarningResult::parse),
        note: get(r, "note")?,
        closed_by: get(r, "closed_by")?,
        closed_by_name: get(r, "closed_by_name")?,
        closed_at: get::<Option<String>>(r, "closed_at")?
            .map(|s| rows::parse_ts(&s))
            .transpose()?,
        row_version: get(r, "row_version")?,
        visit_date: get::<Option<String>>(r, "visit_date")?
            .map(|s| rows::parse_date(&s))
            .transpose()?,
        attachments: match get::<Option<String>>(r, "attachments")? {
            Some(t) => serde_json::from_str(&t)
                .map_err(|e| StoreError::Database(format!("unreadable attachments: {e}")))?,
            None => Vec::new(),
        },
        change_case_id: get(r, "change_case_id")?,
    })
}

pub(super) fn run_of(r: &AnyRow) -> Result<VerificationRun> {
    let bad = |e: serde_json::Error| StoreError::Database(format!("unreadable run: {e}"));
    Ok(VerificationRun {
        id: get(r, "id")?,
        month: get(r, "month")?,
        division: get(r, "division")?,
        started_at: rows::parse_ts(&get::<String>(r, "started_at")?)?,
        finished_at: rows::parse_ts(&get::<String>(r, "finished_at")?)?,
        delivery_ids: serde_json::from_str(&get::<String>(r, "deliveries")?).map_err(bad)?,
        counts: serde_json::from_str(&get::<String>(r, "counts")?).map_err(bad)?,
        households: get(r, "households")?,
        warnings: get(r, "warnings")?,
        run_by: get(r, "run_by")?,
        sources: serde_json::from_str(&get::<String>(r, "sources")?).map_err(bad)?,
        carried: serde_json::from_str(&get::<String>(r, "carried")?).map_err(bad)?,
    })
}

/// ` AND <alias>kind IN (…)` when the reader is limited to some kinds, where `alias` names the
/// deliveries table of the query (`""` or `"d."`).
fn readable_kinds(sql: &mut Sql, r: &DeliveryReader, alias: &str) {
    let Some(kinds) = r.kinds() else { return };
    let col = format!("{alias}kind");
    // A department officer reads the deliveries of the sources it delivers for (its own
    // department's), through every route.
    if let DeliveryReader::Deliverer { grant, .. } = r {
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM feed_sources s JOIN feed_source_accounts a \
             ON a.source_id = s.id WHERE s.kind = {col} AND s.code = {alias}source \
             AND a.user_id = "
        ));
        sql.bind_int(grant.actor().user_id.unwrap_or(-1));
        sql.push(")");
    }
    if kinds.is_empty() {
        sql.push(" AND 1 = 0");
        return;
    }
    sql.push(&format!(" AND {col} IN ("));
    for (i, k) in kinds.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind_text(k.as_str());
    }
    sql.push(")");
}

/// The township a warning goes to: the household's township, or its own node above that level.
fn township_of(d: &DivisionCode) -> String {
    d.township()
        .map(|t| t.to_string())
        .unwrap_or_else(|| d.to_string())
}

async fn load_warning(
    conn: &mut AnyConnection,
    scope: &str,
    id: i64,
) -> Result<Option<WarningRecord>> {
    let row = load_warning_row(conn, scope, id).await?;
    row.map(|r| warning_of(&r)).transpose()
}

async fn load_warning_row(
    conn: &mut AnyConnection,
    scope: &str,
    id: i64,
) -> Result<Option<AnyRow>> {
    let sql = format!(
        "SELECT {WARNING_SELECT} FROM warnings w JOIN households h ON h.id = w.household_id \
         WHERE w.id = $1 AND w.division LIKE $2"
    );
    Ok(sqlx::query(&sql)
        .bind(id)
        .bind(scope)
        .fetch_optional(conn)
        .await?)
}

impl SqlStore {
    async fn store_run_on(
        &self,
        conn: &mut AnyConnection,
        g_run: &Grant<RunVerification>,
        g_import: Option<&Grant<ImportFeeds>>,
        run: &RunStart,
        mut parts: tokio::sync::mpsc::Receiver<RunPart>,
    ) -> Result<VerificationRun> {
        let mut tx = self.write_on(conn).await?;
        let mut writer = RunWriter::start(&mut tx, run).await?;
        while let Some(part) = parts.recv().await {
            match part {
                RunPart::Delivery { delivery, reply } => {
                    let g = g_import.ok_or_else(|| {
                        StoreError::Database("a run recording deliveries needs ImportFeeds".into())
                    })?;
                    let recorded = insert_delivery(&mut tx, g.actor(), &delivery).await?;
                    // The run goes on (and is rolled back below) if the other side is gone.
                    let _ = reply.send(recorded);
                }
                RunPart::Warnings(w) => writer.write(&mut tx, &w).await?,
                RunPart::Finish {
                    delivery_ids,
                    sources,
                    leads,
                    leads_stored,
                } => {
                    let stored = writer
                        .finish(&mut tx, g_run.actor(), run, &delivery_ids, sources)
                        .await?;
                    let lead_count = if leads.is_empty() {
                        0
                    } else {
                        let to = crate::outreach::LeadRun {
                            run_id: stored.id,
                            month: stored.month.clone(),
                            fallback_division: run.division.clone(),
                        };
                        super::outreach::write_leads(&mut tx, g_run, &to, &leads).await?
                    };
                    // The reading side awaits it; were it gone, the run would still commit here.
                    let _ = leads_stored.send(lead_count);
                    tx.commit().await?;
                    return Ok(stored);
                }
            }
        }
        Err(StoreError::Database(
            "the run ended before its last part; nothing of it was kept".into(),
        ))
    }

    /// The page of warnings `filter` selects (a `FROM warnings w JOIN households h … WHERE …`
    /// tail), by due date, with the count of all of them.
    pub(super) async fn warning_page(
        &self,
        filter: Sql,
        limit: i64,
        offset: i64,
    ) -> Result<Page<WarningRecord>> {
        let mut count = filter.clone();
        count.text = format!("SELECT COUNT(*){}", filter.text);
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;
        let (limit, offset) = page_bounds(limit, offset);
        let mut list = filter;
        list.text = format!("SELECT {WARNING_SELECT}{}", list.text);
        list.push(" ORDER BY w.due, w.id LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let rows = list.query().fetch_all(&self.pool).await?;
        Ok(Page {
            items: rows.iter().map(warning_of).collect::<Result<_>>()?,
            total,
        })
    }
}

/// Audit actions that change who is in the caseload or what the comparison reads of them.
/// The actions that change who a month's comparison covers: the registry, and the cases that
/// put a household in force (`in_force.rs`).
const REGISTRY_ACTIONS: &str = "'person_created', 'person_updated', 'household_created', \
     'household_updated', 'member_added', 'member_left', 'caseload_imported', 'demo_seeded', \
     'recipients_marked', 'case_registered', 'case_decided'";

/// A batch of warnings as the JSON array the insert unpacks:
/// `[[household_id, kind, division, township, evidence, facts], …]`.
fn warnings_json(chunk: &[NewWarning]) -> String {
    use std::io::Write as _;
    let mut out: Vec<u8> = Vec::with_capacity(chunk.len() * 320 + 2);
    out.push(b'[');
    for (i, w) in chunk.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = write!(out, "[{},", w.household_id);
        let township = township_of(&w.division);
        for text in [w.kind.as_str(), w.division.as_str(), township.as_str()] {
            serde_json::to_writer(&mut out, text).expect("a string serializes");
            out.push(b',');
        }
        serde_json::to_writer(&mut out, w.evidence.as_str()).expect("a string serializes");
        let _ = write!(out, ",{}]", w.facts);
    }
    out.push(b']');
    String::from_utf8(out).expect("JSON of strings is UTF-8")
}

// `sqlx::Row` brings `try_get_unchecked` into scope for the caseload stream.
use crate::prelude::*;
use sqlx::Row as _;

/// Inserts a delivery, its first rejected rows and its `feed_delivered` event in `tx`.
/// A delivery describes what has happened: its data date is not after today (Beijing time).
fn refuse_future_data_date(tx: &WriteTx<'_, '_>, d: &NewDelivery) -> Result<()> {
    let today = jiuzhu_domain::clock::beijing_date(tx.now);
    if d.data_date <= today {
        return Ok(());
    }
    Err(StoreError::Invalid(ValidationErrors(vec![FieldError::new(
        "data_date",
        "DATA_DATE_IN_FUTURE",
        format!(
            "数据日期 {} 晚于今天({today}):报送的数据只能反映已经发生的情况,请核对数据日期后重新报送",
            d.data_date
        ),
    )])))
}

/// The same file from the same source for the same kind, already kept and used, is not a new
/// delivery: the department is told which one it was (a refused earlier copy may be sent again).
async fn refuse_redelivery(tx: &mut WriteTx<'_, '_>, d: &NewDelivery) -> Result<()> {
    let earlier = sqlx::query(
        "SELECT id, imported_at FROM feed_deliveries \
         WHERE kind = $1 AND source = $2 AND sha256 = $3 AND status = 'accepted' \
         ORDER BY id LIMIT 1",
    )
    .bind(d.kind.as_str())
    .bind(d.source.as_str())
    .bind(d.sha256.as_str())
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = earlier else {
        return Ok(());
    };
    let id: i64 = get(&row, "id")?;
    let at: String = get(&row, "imported_at")?;
    Err(StoreError::Invalid(ValidationErrors(vec![
        FieldError::new(
            "file",
            "ALREADY_DELIVERED",
            format!(
            "“{}”已于 {} 报送过同一文件(第 {id} 号报送),不再重复登记;如需更正,请报送更正后的文件",
            d.source,
            jiuzhu_domain::audit::beijing_time(&at)
        ),
        ),
    ])))
}

async fn insert_delivery(
    tx: &mut WriteTx<'_, '_>,
    actor: &Actor,
    d: &NewDelivery,
) -> Result<(FeedDelivery, Vec<Rejection>)> {
    refuse_future_data_date(tx, d)?;
    super::feed_sources::check_delivery_source(tx, actor, &d.kind, &d.source).await?;
    let id = tx.next_id("feed_deliveries").await?;
    let status = if d.refused { "refused" } else { "accepted" };
    sqlx::query(&format!(
        "INSERT INTO feed_deliveries ({DELIVERY_SELECT}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(id)
    .bind(d.kind.as_str())
    .bind(d.source.as_str())
    .bind(date_text(d.data_date))
    .bind(d.sha256.as_str())
    .bind(d.bytes)
    .bind(d.rows_total)
    .bind(d.rows_accepted)
    .bind(d.rows_rejected)
    .bind(status)
    .bind(d.rejection_policy.as_str())
    .bind(actor.user_id)
    .bind(actor.username.as_str())
    .bind(tx.now_text.clone())
    .bind(d.content_key.as_str())
    .execute(tx.conn())
    .await?;
    let kept: Vec<Rejection> = d
        .rejections
        .iter()
        .take(MAX_STORED_REJECTIONS)
        .cloned()
        .collect();
    for (chunk_no, chunk) in kept.chunks(200).enumerate() {
        let sql = super::values_sql(
            tx.backend,
            "INSERT INTO delivery_rejections (delivery_id, seq, row_number, column_name, code, reason)",
            "?, ?, ?, ?, ?, ?",
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for (i, r) in chunk.iter().enumerate() {
            q = q
                .bind(id)
                .bind((chunk_no * 200 + i + 1) as i64)
                .bind(r.row)
                .bind(r.column.as_deref())
                .bind(r.code.as_str())
                .bind(r.reason.as_str());
        }
        q.execute(tx.conn()).await?;
    }
    let after = json!({
        "kind": d.kind, "source": d.source, "data_date": date_text(d.data_date),
        "sha256": d.sha256, "bytes": d.bytes, "rows_total": d.rows_total,
        "rows_accepted": d.rows_accepted, "rows_rejected": d.rows_rejected, "status": status,
    });
    tx.audit(
        Who::from(actor),
        Event::new(AuditAction::FeedDelivered, "feed_delivery")
            .record(id)
            .after(after)
            .detail(format!(
                "{} {} 数据日期 {}:{} 行,拒收 {} 行{}",
                d.source,
                jiuzhu_domain::FeedKind::parse(&d.kind).map_or(d.kind.as_str(), |k| k.label_zh()),
                d.data_date,
                d.rows_total,
                d.rows_rejected,
                if d.refused { ",整批退回" } else { "" }
            )),
    )
    .await?;
    let now = tx.now;
    Ok((
        FeedDelivery {
            id,
            kind: d.kind.clone(),
            source: d.source.clone(),
            data_date: d.data_date,
            sha256: d.sha256.clone(),
            bytes: d.bytes,
            rows_total: d.rows_total,
            rows_accepted: d.rows_accepted,
            rows_rejected: d.rows_rejected,
            status: status.into(),
            rejection_policy: d.rejection_policy.clone(),
            imported_by_id: actor.user_id,
            imported_by: actor.username.clone(),
            imported_at: now,
            content_key: d.content_key.clone(),
        },
        kept,
    ))
}

/// Writes a run's row and its warnings in a transaction: the row first (the warnings refer to
/// it), its counts when the run is finished.
struct RunWriter {
    id: i64,
    next_warning: i64,
    month: String,
    due: String,
    counts: BTreeMap<String, i64>,
    written: i64,
    /// Whether any warning was stored before this run: only then can a finding be one already
    /// stored (open, or closed on the same facts), which is then left as it is.
    prior: bool,
    found: BTreeMap<String, i64>,
}

impl RunWriter {
    async fn start(tx: &mut WriteTx<'_, '_>, run: &RunStart) -> Result<RunWriter> {
        let id = tx.next_id("verification_runs").await?;
        let next_warning = tx.next_id("warnings").await?;
        sqlx::query(
            "INSERT INTO verification_runs (id, month, division, started_at, finished_at, \
             deliveries, counts, households, warnings, run_by_id, run_by) \
             VALUES ($1, $2, $3, $4, $5, '[]', '{}', $6, 0, NULL, '')",
        )
        .bind(id)
        .bind(run.month.as_str())
        .bind(run.division.as_str())
        .bind(rows::ts_text(run.started_at))
        .bind(tx.now_text.clone())
        .bind(run.households)
        .execute(tx.conn())
        .await?;
        let prior = sqlx::query("SELECT 1 AS one FROM warnings LIMIT 1")
            .fetch_optional(tx.conn())
            .await?
            .is_some();
        Ok(RunWriter {
            id,
            next_warning,
            month: run.month.clone(),
            due: date_text(run.due),
            counts: BTreeMap::new(),
            written: 0,
            prior,
            found: BTreeMap::new(),
        })
    }

    async fn write(&mut self, tx: &mut WriteTx<'_, '_>, warnings: &[NewWarning]) -> Result<()> {
        for w in warnings {
            *self.found.entry(w.kind.clone()).or_default() += 1;
        }
        // A batch goes to the database as one JSON array bound as one parameter and unpacked
        // there (json_each / json_array_elements): binding 100k rows value by value costs the
        // driver more than the insert, and SQLite parses a JSON array far faster than the same
        // rows as a multi-row VALUES statement.
        let (sql, new_only) = match (tx.backend, self.prior) {
            (Backend::Sqlite, false) => (concat!(insert_warnings!(), sqlite_rows!()), ""),
            (Backend::Sqlite, true) => (
                concat!(
                    insert_warnings!(),
                    sqlite_rows!(),
                    " AS j",
                    not_stored!("j.value->>0", "j.value->>1", "j.value->>5")
                ),
                " RETURNING kind",
            ),
            (Backend::Postgres, false) => (concat!(insert_warnings!(), postgres_rows!()), ""),
            (Backend::Postgres, true) => (
                concat!(
                    insert_warnings!(),
                    postgres_rows!(),
                    not_stored!("(t.e->>0)::BIGINT", "t.e->>1", "(t.e->>5)::BIGINT")
                ),
                " RETURNING kind",
            ),
        };
        let sql = format!("{sql}{new_only}");
        let mut chunks = warnings.chunks(WARNING_BATCH);
        let mut first = self.next_warning;
        let mut next = chunks.next().map(warnings_json);
        while let Some(json) = next.take() {
            let query = sqlx::query(&sql)
                .bind(json.as_str())
                .bind(first)
                .bind(self.id)
                .bind(self.month.as_str())
                .bind(self.due.as_str());
            if self.prior {
                // Only what is not stored yet goes in; the kinds of what did are counted.
                for r in query.fetch_all(tx.conn()).await? {
                    *self.counts.entry(get(&r, "kind")?).or_default() += 1;
                    self.written += 1;
                }
                next = chunks.next().map(warnings_json);
            } else {
                // The next batch is built while the database runs this one (SQLite on the
                // driver's worker thread, PostgreSQL in the server): the first poll hands the
                // statement over, so building it costs no time of the run.
                let mut exec = std::pin::pin!(query.execute(tx.conn()));
                let early = std::future::poll_fn(|cx| {
                    std::task::Poll::Ready(std::future::Future::poll(exec.as_mut(), cx))
                })
                .await;
                next = chunks.next().map(warnings_json);
                match early {
                    std::task::Poll::Ready(r) => r?,
                    std::task::Poll::Pending => exec.await?,
                };
            }
            first += WARNING_BATCH as i64;
        }
        if !self.prior {
            for w in warnings {
                *self.counts.entry(w.kind.clone()).or_default() += 1;
            }
            self.written += warnings.len() as i64;
        }
        self.next_warning += warnings.len() as i64;
        Ok(())
    }

    /// The warnings of earlier runs still open in the run's region, by kind.
    async fn still_open(
        &self,
        tx: &mut WriteTx<'_, '_>,
        division: &DivisionCode,
    ) -> Result<BTreeMap<String, StillOpen>> {
        if !self.prior {
            return Ok(BTreeMap::new());
        }
        let scope = format!("{}%", division.prefix());
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS n, MIN(month) AS since FROM warnings \
             WHERE status = 'open' AND run_id <> $1 AND division LIKE $2 GROUP BY kind",
        )
        .bind(self.id)
        .bind(scope)
        .fetch_all(tx.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get::<String>(r, "kind")?,
                    StillOpen {
                        count: get(r, "n")?,
                        since: get(r, "since")?,
                    },
                ))
            })
            .collect()
    }

    async fn finish(
        self,
        tx: &mut WriteTx<'_, '_>,
        actor: &Actor,
        run: &RunStart,
        delivery_ids: &[i64],
        sources: Vec<SourceStatus>,
    ) -> Result<VerificationRun> {
        let deliveries = serde_json::to_string(delivery_ids).expect("ids serialize");
        let counts_text = serde_json::to_string(&self.counts).expect("counts serialize");
        let sources_text = serde_json::to_string(&sources).expect("sources serialize");
        let carried = RunCarried {
            still_open: self.still_open(tx, &run.division).await?,
            found: self.found.clone(),
        };
        let carried_text = serde_json::to_string(&carried).expect("carried serializes");
        sqlx::query(
            "UPDATE verification_runs SET finished_at = $1, deliveries = $2, counts = $3, \
             warnings = $4, run_by_id = $5, run_by = $6, sources = $8, carried = $9 WHERE id = $7",
        )
        .bind(tx.now_text.clone())
        .bind(deliveries.as_str())
        .bind(counts_text.as_str())
        .bind(self.written)
        .bind(actor.user_id)
        .bind(actor.username.as_str())
        .bind(self.id)
        .bind(sources_text.as_str())
        .bind(carried_text.as_str())
        .execute(tx.conn())
        .await?;
        let still_open: i64 = carried.still_open.values().map(|s| s.count).sum();
        let missing: Vec<&str> = sources
            .iter()
            .filter(|s| s.status != SourceUse::Used)
            .map(|s| s.code.as_str())
            .collect();
        tx.audit(
            Who::from(actor),
            Event::new(AuditAction::VerificationRun, "verification_run")
                .record(self.id)
                .division(&run.division)
                .after(json!({
                    "month": run.month, "deliveries": delivery_ids, "counts": self.counts,
                    "households": run.households, "sources_not_used": missing,
                    "found": carried.found, "still_open": still_open,
                }))
                .detail(format!(
                    "{} 一月一比对:{} 户,新预警 {} 条,此前预警仍未销号 {still_open} 条",
                    run.month, run.households, self.written
                )),
        )
        .await?;
        Ok(VerificationRun {
            id: self.id,
            month: run.month.clone(),
            division: run.division.to_string(),
            started_at: run.started_at,
            finished_at: tx.now,
            delivery_ids: delivery_ids.to_vec(),
            counts: self.counts,
            households: run.households,
            warnings: self.written,
            run_by: actor.username.clone(),
            sources,
            carried,
        })
    }
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn record_delivery(
        &self,
        g: &Grant<ImportFeeds>,
        d: &NewDelivery,
    ) -> Result<(FeedDelivery, Vec<Rejection>)> {
        let mut tx = self.write().await?;
        refuse_redelivery(&mut tx, d).await?;
        let recorded = insert_delivery(&mut tx, g.actor(), d).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn list_deliveries(
        &self,
        r: &DeliveryReader,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<FeedDelivery>> {
        let (limit, _) = page_bounds(limit, 0);
        let mut sql = Sql::new(&format!(
            "SELECT {DELIVERY_SELECT} FROM feed_deliveries WHERE 1 = 1"
        ));
        readable_kinds(&mut sql, r, "");
        if let Some(k) = kind {
            sql.push(" AND kind = ").bind_text(k);
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind_int(limit);
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(delivery_of).collect()
    }

    async fn delivery_rejections(&self, r: &DeliveryReader, id: i64) -> Result<Vec<Rejection>> {
        let mut sql = Sql::new(
            "SELECT x.row_number, x.column_name, x.code, x.reason FROM delivery_rejections x \
             JOIN feed_deliveries d ON d.id = x.delivery_id WHERE x.delivery_id = ",
        );
        sql.bind_int(id);
        readable_kinds(&mut sql, r, "d.");
        sql.push(" ORDER BY x.seq");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(Rejection {
                    row: get(r, "row_number")?,
                    column: get(r, "column_name")?,
                    code: get(r, "code")?,
                    reason: get(r, "reason")?,
                })
            })
            .collect()
    }

    async fn deliveries_for_run(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        region: &DivisionCode,
        up_to: NaiveDate,
    ) -> Result<Vec<crate::SourceLatest>> {
        if !g.scope().contains(region) {
            return Err(StoreError::OutOfScope(region.to_string()));
        }
        self.sources_latest_impl(region, up_to).await
    }

    async fn deliveries_for_report(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        region: &DivisionCode,
        up_to: NaiveDate,
    ) -> Result<Vec<crate::SourceLatest>> {
        if !g.scope().contains(region) {
            return Err(StoreError::OutOfScope(region.to_string()));
        }
        self.sources_latest_impl(region, up_to).await
    }

    async fn get_delivery(&self, r: &DeliveryReader, id: i64) -> Result<Option<FeedDelivery>> {
        let mut sql = Sql::new(&format!(
            "SELECT {DELIVERY_SELECT} FROM feed_deliveries WHERE id = "
        ));
        sql.bind_int(id);
        readable_kinds(&mut sql, r, "");
        let row = sql.query().fetch_optional(&self.pool).await?;
        row.map(|r| delivery_of(&r)).transpose()
    }

    /// The latest accepted delivery of each kind whose data date is on or before `up_to`
    /// (a later import of the same data date wins).
    async fn caseload_for_verification(
        &self,
        g: &Grant<RunVerification>,
        division: Option<&DivisionCode>,
        date: NaiveDate,
        on_row: &mut (dyn FnMut(CaseloadHouseholdRow) -> Result<()> + Send),
    ) -> Result<()> {
        let scope = g.scope().like_pattern();
        let filter = match division {
            Some(d) => format!("{}%", d.prefix()),
            None => scope.clone(),
        };
        let month = MonthInForce::new(date);
        // One set-based pass over the active memberships of the households in force in the
        // month, in household order (the index on memberships.household_id gives the order, so
        // the database needs no sort buffer), grouped here into one call per household;
        // streamed, never held as rows.
        let sql = format!(
            "SELECT h.id, h.source_ref, h.division, h.area, p.id_number \
             FROM memberships m JOIN households h ON h.id = m.household_id \
             JOIN persons p ON p.id = m.person_id \
             WHERE h.division LIKE $1 AND h.division LIKE $2 \
             AND m.joined_on <= $3 AND (m.left_on IS NULL OR m.left_on > $3) AND {} \
             ORDER BY m.household_id",
            MonthInForce::condition("h", 3)
        );
        let mut conn = self.pool.acquire().await?;
        let mut stream = sqlx::query(&sql)
            .bind(scope.as_str())
            .bind(filter.as_str())
            .bind(month.last_day.as_str())
            .bind(month.month.as_str())
            .bind(month.end.as_str())
            .bind(month.first_day.as_str())
            .fetch(&mut *conn);
        let mut current: Option<CaseloadHouseholdRow> = None;
        while let Some(r) = stream.try_next().await? {
            let id: i64 = r.try_get_unchecked(0)?;
            let number: String = r.try_get_unchecked(4)?;
            match &mut current {
                Some(c) if c.household_id == id => {
                    c.id_numbers.push(',');
                    c.id_numbers.push_str(&number);
                }
                _ => {
                    if let Some(done) = current.take() {
                        on_row(done)?;
                    }
                    current = Some(CaseloadHouseholdRow {
                        household_id: id,
                        source_ref: r.try_get_unchecked(1)?,
                        division: r.try_get_unchecked(2)?,
                        area: r.try_get_unchecked(3)?,
                        id_numbers: number,
                    });
                }
            }
        }
        if let Some(done) = current {
            on_row(done)?;
        }
        Ok(())
    }

    async fn registry_seq(&self) -> Result<i64> {
        // Scans back from the newest event to the first registry change: recent events are few.
        let row = sqlx::query(&format!(
            "SELECT seq FROM audit_events WHERE action IN ({REGISTRY_ACTIONS}) \
             ORDER BY seq DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => get(&r, "seq")?,
            None => 0,
        })
    }

    async fn first_registered_day(
        &self,
        g: &Grant<RunVerification>,
        division: Option<&DivisionCode>,
    ) -> Result<Option<NaiveDate>> {
        let scope = match division {
            Some(d) if g.scope().contains(d) => format!("{}%", d.prefix()),
            Some(d) => return Err(StoreError::OutOfScope(d.to_string())),
            None => g.scope().like_pattern(),
        };
        let row = sqlx::query(
            "SELECT MIN(m.joined_on) AS first FROM memberships m \
             JOIN households h ON h.id = m.household_id \
             WHERE h.division LIKE $1 AND m.left_on IS NULL",
        )
        .bind(scope)
        .fetch_one(&self.pool)
        .await?;
        get::<Option<String>>(&row, "first")?
            .map(|d| rows::parse_date(&d))
            .transpose()
    }

    async fn caseload_snapshot(
        &self,
        _g: &Grant<jiuzhu_domain::access::RunVerification>,
        key: &str,
        as_of: NaiveDate,
    ) -> Result<Option<(i64, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT registry_seq, data FROM caseload_snapshots WHERE scope = $1 AND as_of = $2",
        )
        .bind(key)
        .bind(date_text(as_of))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((get(&r, "registry_seq")?, get::<Vec<u8>>(&r, "data")?)))
            .transpose()
    }

    async fn save_caseload_snapshot(
        &self,
        _g: &Grant<jiuzhu_domain::access::RunVerification>,
        key: &str,
        as_of: NaiveDate,
        registry_seq: i64,
        counts: (i64, i64),
        data: &[u8],
    ) -> Result<()> {
        // Derived data, not a record: replaced without an audit event (the events it derives
        // from are audited).
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM caseload_snapshots WHERE scope = $1 AND as_of = $2")
            .bind(key)
            .bind(date_text(as_of))
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO caseload_snapshots (scope, as_of, registry_seq, households, members, \
             data, built_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key)
        .bind(date_text(as_of))
        .bind(registry_seq)
        .bind(counts.0)
        .bind(counts.1)
        .bind(data.to_vec())
        .bind(tx.now_text.clone())
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    async fn store_run(
        &self,
        g: &Grant<RunVerification>,
        run: &NewRun,
        warnings: &[NewWarning],
    ) -> Result<VerificationRun> {
        let mut tx = self.write().await?;
        let start = RunStart {
            month: run.month.clone(),
            division: run.division.clone(),
            started_at: run.started_at,
            households: run.households,
            due: run.due,
        };
        let mut writer = RunWriter::start(&mut tx, &start).await?;
        writer.write(&mut tx, warnings).await?;
        let stored = writer
            .finish(&mut tx, g.actor(), &start, &run.delivery_ids, Vec::new())
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn store_run_streamed(
        &self,
        g_run: &Grant<RunVerification>,
        g_import: Option<&Grant<ImportFeeds>>,
        run: &RunStart,
        parts: tokio::sync::mpsc::Receiver<RunPart>,
    ) -> Result<VerificationRun> {
        let mut conn = self.pool.acquire().await?;
        // A cache that holds the warnings' index while 100k rows go in; the only reference a
        // warning has is the run this transaction has just written; the checkpoint after it.
        self.begin_bulk_write(&mut conn, RUN_CACHE_KIB, true)
            .await?;
        let result = self
            .store_run_on(&mut conn, g_run, g_import, run, parts)
            .await;
        self.end_bulk_write(&mut conn, true).await;
        result
    }

    async fn get_run(
        &self,
        g: &Grant<ReadVerification>,
        id: i64,
    ) -> Result<Option<VerificationRun>> {
        sqlx::query("SELECT * FROM verification_runs WHERE id = $1 AND division LIKE $2")
            .bind(id)
            .bind(g.scope().like_pattern())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| run_of(&r))
            .transpose()
    }
}

/// The warning about to be closed, in the grant's scope, open and at `expected_version`, with the
/// closure's input checked (a note, no future visit, the household's own documents).
pub(super) async fn warning_to_close(
    tx: &mut WriteTx<'_, '_>,
    g: &Grant<HandleWarnings>,
    id: i64,
    expected_version: i64,
    c: &CloseWarning,
) -> Result<WarningRecord> {
    if c.note.trim().is_empty() {
        return Err(super::invalid(
            "note",
            "NOTE_REQUIRED",
            "请填写核查情况说明",
        ));
    }
    let scope = g.scope().like_pattern();
    let before =
        load_warning(tx.conn(), &scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "warning",
                id: id.to_string(),
            })?;
    if c.visit_date
        .is_some_and(|d| d > jiuzhu_domain::clock::beijing_date(tx.now))
    {
        return Err(super::invalid(
            "visit_date",
            "VISIT_DATE_FUTURE",
            "核查(入户)日期不能晚于今天",
        ));
    }
    super::warnings::check_attachments(tx.conn(), before.household_id, &c.attachments).await?;
    if before.row_version != expected_version || before.status != "open" {
        return Err(StoreError::Conflict {
            kind: "warning",
            id: id.to_string(),
            expected: expected_version,
            actual: before.row_version,
        });
    }
    Ok(before)
}

/// Closes the warning read by [`warning_to_close`], linking the change case the closure opened
/// (if any) and adding `note_more` to the note, with its `warning_closed` audit event.
pub(super) async fn close_on(
    tx: &mut WriteTx<'_, '_>,
    g: &Grant<HandleWarnings>,
    before: &WarningRecord,
    c: &CloseWarning,
    change_case: Option<crate::CaseId>,
    note_more: Option<&str>,
) -> Result<WarningRecord> {
    let note = format!("{}{}", c.note.trim(), note_more.unwrap_or_default());
    let actor = g.actor();
    let id = before.id;
    sqlx::query(
        "UPDATE warnings SET status = 'closed', result = $1, note = $2, closed_by_id = $3, \
         closed_by = $4, closed_at = $5, row_version = row_version + 1, visit_date = $8, \
         attachments = $9, change_case_id = $10 WHERE id = $6 AND row_version = $7",
    )
    .bind(c.result.as_str())
    .bind(note.as_str())
    .bind(actor.user_id)
    .bind(actor.username.as_str())
    .bind(tx.now_text.clone())
    .bind(id)
    .bind(before.row_version)
    .bind(c.visit_date.map(date_text))
    .bind(
        (!c.attachments.is_empty())
            .then(|| serde_json::to_string(&c.attachments).expect("ids serialize")),
    )
    .bind(change_case)
    .execute(tx.conn())
    .await?;
    let scope = g.scope().like_pattern();
    let after = load_warning(tx.conn(), &scope, id)
        .await?
        .ok_or_else(|| StoreError::Database("closed warning vanished".into()))?;
    let division = DivisionCode::parse(&before.division)
        .map_err(|_| StoreError::Database("unreadable warning division".into()))?;
    tx.audit(
        Who::from(actor),
        Event::new(AuditAction::WarningClosed, "warning")
            .record(id)
            .division(&division)
            .before(json!({"status": before.status, "row_version": before.row_version}))
            .after(json!({
                "status": "closed", "result": c.result.as_str(), "note": c.note.trim(),
                "row_version": after.row_version, "visit_date": c.visit_date,
                "change_case_id": after.change_case_id,
                "attachments": c.attachments,
            }))
            .detail(format!(
                "{} 户 {} 预警销号:{}",
                before.household_code,
                before.kind,
                c.result.label_zh()
            )),
    )
    .await?;
    Ok(after)
}

#[async_trait]
impl WarningStore for SqlStore {
    async fn list_warnings(
        &self,
        g: &Grant<ReadVerification>,
        q: &WarningQuery,
    ) -> Result<Page<WarningRecord>> {
        let mut filter = Sql::new(" FROM warnings w JOIN households h ON h.id = w.household_id");
        filter
            .push(" WHERE w.division LIKE ")
            .bind_text(g.scope().like_pattern());
        if let Some(d) = &q.division {
            filter
                .push(" AND w.division LIKE ")
                .bind_text(format!("{}%", d.prefix()));
        }
        if let Some(m) = &q.month {
            and_in_month(&mut filter, m);
        }
        if let Some(r) = q.run_id {
            filter.push(" AND w.run_id = ").bind_int(r);
        }
        if let Some(k) = &q.kind {
            filter.push(" AND w.kind = ").bind_text(k.as_str());
        }
        if let Some(s) = &q.status {
            filter.push(" AND w.status = ").bind_text(s.as_str());
        }
        self.warning_page(filter, q.limit, q.offset).await
    }

    async fn get_warning(
        &self,
        g: &Grant<ReadVerification>,
        id: i64,
    ) -> Result<Option<WarningRecord>> {
        let mut conn = self.pool.acquire().await?;
        load_warning(&mut conn, &g.scope().like_pattern(), id).await
    }

    async fn reveal_warning(&self, g: &Grant<RevealSensitive>, id: i64) -> Result<WarningRecord> {
        let mut tx = self.write().await?;
        let row = load_warning_row(tx.conn(), &g.scope().like_pattern(), id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "warning",
                id: id.to_string(),
            })?;
        let w = warning_unmasked(&row)?;
        let division = DivisionCode::parse(&w.division)
            .map_err(|_| StoreError::Database("unreadable warning division".into()))?;
        tx.audit(
            Who::from(g.actor()),
            Event::new(AuditAction::SensitiveRevealed, "warning")
                .record(id)
                .division(&division)
                .after(json!({"fields": ["evidence.value"], "kind": w.kind,
                    "household_id": w.household_id}))
                .detail(format!("warning:{} evidence.value", w.kind)),
        )
        .await?;
        tx.commit().await?;
        Ok(w)
    }

    async fn close_warning(
        &self,
        g: &Grant<HandleWarnings>,
        id: i64,
        expected_version: i64,
        close: &CloseWarning,
    ) -> Result<WarningRecord> {
        if close.result.changes_benefit() {
            return Err(super::invalid(
                "result",
                "WARNING_RESULT_NEEDS_CHANGE",
                format!(
                    "“{}”须同时发起救助变更,请通过预警处理办理",
                    close.result.label_zh()
                ),
            ));
        }
        let mut tx = self.write().await?;
        let before = warning_to_close(&mut tx, g, id, expected_version, close).await?;
        let after = close_on(&mut tx, g, &before, close, None, None).await?;
        tx.commit().await?;
        Ok(after)
    }
}
