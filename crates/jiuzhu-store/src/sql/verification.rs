//! Deliveries, verification runs and warnings (migration 0006, docs/feeds.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{HandleWarnings, ImportFeeds, RunVerification};
use jiuzhu_domain::{AuditAction, DivisionCode, Grant};

use super::rows::{self, date_text, get};
use super::{page_bounds, Event, Sql, SqlStore, Who};
use crate::verification::{
    CaseloadHouseholdRow, CloseWarning, FeedDelivery, NewDelivery, NewRun, NewWarning, Rejection,
    VerificationRun, WarningQuery, WarningRecord, WarningResult, MAX_STORED_REJECTIONS,
};
use crate::{Page, Result, StoreError};

pub(super) const DELIVERY_SELECT: &str = "id, kind, source, data_date, sha256, bytes, rows_total, \
     rows_accepted, rows_rejected, status, rejection_policy, imported_by_id, imported_by, \
     imported_at, content_key";

pub(super) const WARNING_SELECT: &str =
    "w.id, w.run_id, w.month, w.household_id, h.code AS household_code, \
     w.kind, w.division, w.township, w.due, w.status, w.evidence, w.result, w.note, w.closed_by, \
     w.closed_at, w.row_version, w.visit_date, w.attachments, w.change_case_id";

/// Warnings per INSERT statement: few enough binds for either backend, many enough that the
/// statement overhead vanishes.
const WARNING_BATCH: usize = 4000;

pub(super) fn delivery_of(r: &AnyRow) -> Result<FeedDelivery> {
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

pub(super) fn warning_of(r: &AnyRow) -> Result<WarningRecord> {
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
    })
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
    let sql = format!(
        "SELECT {WARNING_SELECT} FROM warnings w JOIN households h ON h.id = w.household_id \
         WHERE w.id = $1 AND w.division LIKE $2"
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(scope)
        .fetch_optional(conn)
        .await?
        .map(|r| warning_of(&r))
        .transpose()
}

impl SqlStore {
    pub(crate) async fn record_delivery_impl(
        &self,
        g: &Grant<ImportFeeds>,
        d: &NewDelivery,
    ) -> Result<(FeedDelivery, Vec<Rejection>)> {
        let mut tx = self.write().await?;
        let id = tx.next_id("feed_deliveries").await?;
        let actor = g.actor();
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
                    d.kind,
                    d.data_date,
                    d.rows_total,
                    d.rows_rejected,
                    if d.refused { ",整批退回" } else { "" }
                )),
        )
        .await?;
        let now = tx.now;
        tx.commit().await?;
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

    pub(crate) async fn list_deliveries_impl(
        &self,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<FeedDelivery>> {
        let (limit, _) = page_bounds(limit, 0);
        let mut sql = Sql::new(&format!("SELECT {DELIVERY_SELECT} FROM feed_deliveries"));
        if let Some(k) = kind {
            sql.push(" WHERE kind = ").bind_text(k);
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind_int(limit);
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(delivery_of).collect()
    }

    pub(crate) async fn delivery_rejections_impl(&self, id: i64) -> Result<Vec<Rejection>> {
        let rows = sqlx::query(
            "SELECT row_number, column_name, code, reason FROM delivery_rejections \
             WHERE delivery_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
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

    /// The latest accepted delivery of each kind whose data date is on or before `up_to`
    /// (a later import of the same data date wins).
    pub(crate) async fn deliveries_for_run_impl(
        &self,
        up_to: NaiveDate,
    ) -> Result<Vec<FeedDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_SELECT} FROM feed_deliveries WHERE status = 'accepted' \
             AND data_date <= $1 ORDER BY kind, data_date DESC, id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(date_text(up_to))
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<FeedDelivery> = Vec::new();
        for r in &rows {
            let d = delivery_of(r)?;
            if out.last().map(|l| l.kind != d.kind).unwrap_or(true) {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub(crate) async fn caseload_for_verification_impl(
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
        let day = date_text(date);
        // One set-based pass over the active memberships in household order (the index on
        // memberships.household_id gives the order, so the database needs no sort buffer),
        // grouped here into one call per household; streamed, never held as rows.
        let sql = "SELECT h.id, h.source_ref, h.division, h.area, p.id_number \
             FROM memberships m JOIN households h ON h.id = m.household_id \
             JOIN persons p ON p.id = m.person_id \
             WHERE h.division LIKE $1 AND h.division LIKE $2 \
             AND m.joined_on <= $3 AND (m.left_on IS NULL OR m.left_on > $3) \
             ORDER BY m.household_id";
        let mut conn = self.pool.acquire().await?;
        let mut stream = sqlx::query(sql)
            .bind(scope.as_str())
            .bind(filter.as_str())
            .bind(day.as_str())
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

    pub(crate) async fn store_run_impl(
        &self,
        g: &Grant<RunVerification>,
        run: &NewRun,
        warnings: &[NewWarning],
    ) -> Result<VerificationRun> {
        let mut tx = self.write().await?;
        let id = tx.next_id("verification_runs").await?;
        let first = tx.next_id("warnings").await?;
        let actor = g.actor();
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for w in warnings {
            *counts.entry(w.kind.clone()).or_default() += 1;
        }
        let deliveries = serde_json::to_string(&run.delivery_ids).expect("ids serialize");
        let counts_text = serde_json::to_string(&counts).expect("counts serialize");
        sqlx::query(
            "INSERT INTO verification_runs (id, month, division, started_at, finished_at, \
             deliveries, counts, households, warnings, run_by_id, run_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(run.month.as_str())
        .bind(run.division.as_str())
        .bind(rows::ts_text(run.started_at))
        .bind(tx.now_text.clone())
        .bind(deliveries.as_str())
        .bind(counts_text.as_str())
        .bind(run.households)
        .bind(warnings.len() as i64)
        .bind(actor.user_id)
        .bind(actor.username.as_str())
        .execute(tx.conn())
        .await?;

        let due = date_text(run.due);
        // Written as literals in a few big unprepared statements: numbers, dates, division codes
        // (digits), kind codes, and the evidence JSON quoted with `sql_literal` (the only escape
        // a standard SQL string literal needs, on both backends). Binding 100k values costs the
        // driver more than the database's whole insert.
        let month_lit = sql_literal(&run.month);
        let due_lit = sql_literal(&due);
        let mut n = first;
        let mut chunks = warnings.chunks(WARNING_BATCH);
        let mut build = |chunk: &[NewWarning]| {
            use std::fmt::Write as _;
            let mut sql = String::with_capacity(chunk.len() * 300 + 200);
            sql.push_str(
                "INSERT INTO warnings (id, run_id, month, household_id, kind, division, township, \
                 due, status, evidence, row_version) VALUES ",
            );
            for (i, w) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "({n}, {id}, {month_lit}, {}, ", w.household_id);
                push_literal(&mut sql, &w.kind);
                sql.push_str(", ");
                push_literal(&mut sql, w.division.as_str());
                sql.push_str(", ");
                push_literal(&mut sql, &township_of(&w.division));
                let _ = write!(sql, ", {due_lit}, 'open', ");
                push_literal(&mut sql, &w.evidence);
                sql.push_str(", 1)");
                n += 1;
            }
            sql
        };
        let mut next = chunks.next().map(&mut build);
        while let Some(sql) = next.take() {
            // The next statement is built while the database runs this one (SQLite on the
            // driver's worker thread, PostgreSQL in the server): the first poll hands the
            // statement over, so building it costs no time of the run.
            let mut exec = std::pin::pin!(sqlx::Executor::execute(tx.conn(), sql.as_str()));
            let early = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(std::future::Future::poll(exec.as_mut(), cx))
            })
            .await;
            next = chunks.next().map(&mut build);
            match early {
                std::task::Poll::Ready(r) => r?,
                std::task::Poll::Pending => exec.await?,
            };
        }
        tx.audit(
            Who::from(actor),
            Event::new(AuditAction::VerificationRun, "verification_run")
                .record(id)
                .division(&run.division)
                .after(json!({
                    "month": run.month, "deliveries": run.delivery_ids, "counts": counts,
                    "households": run.households,
                }))
                .detail(format!(
                    "{} 一月一比对:{} 户,预警 {} 条",
                    run.month,
                    run.households,
                    warnings.len()
                )),
        )
        .await?;
        let finished = tx.now;
        tx.commit().await?;
        Ok(VerificationRun {
            id,
            month: run.month.clone(),
            division: run.division.to_string(),
            started_at: run.started_at,
            finished_at: finished,
            delivery_ids: run.delivery_ids.clone(),
            counts,
            households: run.households,
            warnings: warnings.len() as i64,
            run_by: actor.username.clone(),
        })
    }

    pub(crate) async fn get_run_impl(&self, id: i64) -> Result<Option<VerificationRun>> {
        sqlx::query("SELECT * FROM verification_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| run_of(&r))
            .transpose()
    }

    pub(crate) async fn list_warnings_impl(
        &self,
        g: &Grant<HandleWarnings>,
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
            filter.push(" AND w.month = ").bind_text(m.as_str());
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
        let mut count = filter.clone();
        count.text = format!("SELECT COUNT(*){}", filter.text);
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;
        let (limit, offset) = page_bounds(q.limit, q.offset);
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

    pub(crate) async fn get_warning_impl(
        &self,
        g: &Grant<HandleWarnings>,
        id: i64,
    ) -> Result<Option<WarningRecord>> {
        let mut conn = self.pool.acquire().await?;
        load_warning(&mut conn, &g.scope().like_pattern(), id).await
    }

    pub(crate) async fn close_warning_impl(
        &self,
        g: &Grant<HandleWarnings>,
        id: i64,
        expected_version: i64,
        c: &CloseWarning,
        settings: &crate::ProcedureSettings,
    ) -> Result<WarningRecord> {
        let note = c.note.trim();
        if note.is_empty() {
            return Err(super::invalid(
                "note",
                "NOTE_REQUIRED",
                "请填写核查情况说明",
            ));
        }
        let scope = g.scope().like_pattern();
        let mut tx = self.write().await?;
        let before =
            load_warning(tx.conn(), &scope, id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    kind: "warning",
                    id: id.to_string(),
                })?;
        if c.visit_date.is_some_and(|d| d > tx.now.date_naive()) {
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
        let actor = g.actor();
        sqlx::query(
            "UPDATE warnings SET status = 'closed', result = $1, note = $2, closed_by_id = $3, \
             closed_by = $4, closed_at = $5, row_version = row_version + 1, visit_date = $8, \
             attachments = $9 WHERE id = $6 AND row_version = $7",
        )
        .bind(c.result.as_str())
        .bind(note)
        .bind(actor.user_id)
        .bind(actor.username.as_str())
        .bind(tx.now_text.clone())
        .bind(id)
        .bind(expected_version)
        .bind(c.visit_date.map(date_text))
        .bind(
            (!c.attachments.is_empty())
                .then(|| serde_json::to_string(&c.attachments).expect("ids serialize")),
        )
        .execute(tx.conn())
        .await?;
        // adjust/suspend/stop open the matching change case in this same transaction.
        let (change_case, note_more) =
            super::changes::open_for_warning(&mut tx, actor, &before, c.result, note, settings)
                .await?;
        if change_case.is_some() || note_more.is_some() {
            sqlx::query("UPDATE warnings SET change_case_id = $1, note = $2 WHERE id = $3")
                .bind(change_case)
                .bind(format!("{note}{}", note_more.unwrap_or_default()))
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
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
                    "status": "closed", "result": c.result.as_str(), "note": note,
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
        tx.commit().await?;
        Ok(after)
    }
}

/// Audit actions that change who is in the caseload or what the comparison reads of them.
const REGISTRY_ACTIONS: &str = "'person_created', 'person_updated', 'household_created', \
     'household_updated', 'member_added', 'member_left', 'caseload_imported', 'demo_seeded'";

impl SqlStore {
    pub(crate) async fn registry_seq_impl(&self) -> Result<i64> {
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

    pub(crate) async fn caseload_snapshot_impl(
        &self,
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

    pub(crate) async fn save_caseload_snapshot_impl(
        &self,
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
}

/// [`sql_literal`] appended to `out`, without a temporary string per value.
fn push_literal(out: &mut String, s: &str) {
    out.push('\'');
    if s.contains('\'') {
        out.push_str(&s.replace('\'', "''"));
    } else {
        out.push_str(s);
    }
    out.push('\'');
}

/// A quoted SQL string literal, for values generated by the store itself.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

// `sqlx::Row` brings `try_get_unchecked` into scope for the caseload stream.
use sqlx::Row as _;
