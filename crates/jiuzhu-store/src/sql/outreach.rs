//! Outreach leads (migration 0012) and the run list of the verification page.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};

use serde_json::json;
use sqlx::any::AnyRow;

use jiuzhu_domain::access::{HandleWarnings, ReadVerification, RunVerification};
use jiuzhu_domain::{AuditAction, DivisionCode, Grant, Money};

use super::rows::{self, date_text, get};
use super::{page_bounds, Event, Sql, SqlStore, Who, WriteTx};
use crate::outreach::{LeadQuery, LeadRecord, LeadRun, NewLead, RunSummary};
use crate::prelude::*;
use crate::{Page, Result, StoreError};

const LEAD_SELECT: &str =
    "l.id, l.run_id, l.month, l.division, l.person_id, p.name AS person_name, \
     l.person_masked, l.delivery_id, l.row_number, l.settlement_date, l.out_of_pocket_fen, \
     l.threshold_fen, h.note, h.handled_by, h.handled_at";

const LEAD_FROM: &str = " FROM outreach_leads l \
     LEFT JOIN outreach_lead_handlings h ON h.lead_id = l.id \
     LEFT JOIN persons p ON p.id = l.person_id";

/// Identity numbers per registry lookup: well under either backend's bind limit.
const LOOKUP_BATCH: usize = 500;

fn lead_of(r: &AnyRow) -> Result<LeadRecord> {
    let handled_at: Option<String> = get(r, "handled_at")?;
    Ok(LeadRecord {
        id: get(r, "id")?,
        run_id: get(r, "run_id")?,
        month: get(r, "month")?,
        division: get(r, "division")?,
        person_id: get(r, "person_id")?,
        person_name: get(r, "person_name")?,
        person: get(r, "person_masked")?,
        delivery_id: get(r, "delivery_id")?,
        row: get(r, "row_number")?,
        settlement_date: rows::parse_date(&get::<String>(r, "settlement_date")?)?,
        out_of_pocket: Money::from_fen(get(r, "out_of_pocket_fen")?),
        threshold: Money::from_fen(get(r, "threshold_fen")?),
        status: if handled_at.is_some() {
            "handled".into()
        } else {
            "open".into()
        },
        note: get(r, "note")?,
        handled_by: get(r, "handled_by")?,
        handled_at: handled_at.map(|s| rows::parse_ts(&s)).transpose()?,
    })
}

async fn load_lead(
    conn: &mut sqlx::AnyConnection,
    scope: &str,
    id: i64,
) -> Result<Option<LeadRecord>> {
    let sql = format!("SELECT {LEAD_SELECT}{LEAD_FROM} WHERE l.id = $1 AND l.division LIKE $2");
    sqlx::query(&sql)
        .bind(id)
        .bind(scope)
        .fetch_optional(conn)
        .await?
        .map(|r| lead_of(&r))
        .transpose()
}

/// Writes a run's outreach leads in the transaction `tx` (the run's own): each under the
/// registered person's residence division when the number is registered in scope, else under the
/// run's division, masked; one already stored (open or handled) is not stored again; one
/// `outreach_leads_stored` event. How many were stored.
pub(super) async fn write_leads(
    tx: &mut WriteTx<'_, '_>,
    g: &Grant<RunVerification>,
    run: &LeadRun,
    leads: &[NewLead],
) -> Result<u64> {
    let scope = g.scope().like_pattern();
    if !run
        .fallback_division
        .as_str()
        .starts_with(g.scope().root().prefix())
    {
        return Err(StoreError::NotFound {
            kind: "division",
            id: run.fallback_division.to_string(),
        });
    }
    // A lead is its person (masked), settlement date and amount: one an earlier run stored
    // (open or handled) is not stored again, so re-runs and later deliveries neither double
    // nor reopen it.
    let mut stored: std::collections::HashSet<(String, String, i64)> =
        std::collections::HashSet::new();
    for r in sqlx::query(
        "SELECT person_masked, settlement_date, out_of_pocket_fen FROM outreach_leads \
             WHERE division LIKE $1 OR division = $2",
    )
    .bind(scope.as_str())
    .bind(run.fallback_division.as_str())
    .fetch_all(tx.conn())
    .await?
    {
        stored.insert((
            get(&r, "person_masked")?,
            get(&r, "settlement_date")?,
            get(&r, "out_of_pocket_fen")?,
        ));
    }
    let leads: Vec<&NewLead> = leads
        .iter()
        .filter(|l| {
            stored.insert((
                l.id_number.masked(),
                date_text(l.settlement_date),
                l.out_of_pocket.fen(),
            ))
        })
        .collect();
    if leads.is_empty() {
        return Ok(0);
    }
    // The person's residence decides who follows the lead up; only persons in the runner's
    // jurisdiction are looked up, others stay with the run's division.
    let mut known: HashMap<String, (i64, String)> = HashMap::new();
    let numbers: Vec<&str> = leads.iter().map(|l| l.id_number.as_str()).collect();
    for chunk in numbers.chunks(LOOKUP_BATCH) {
        let mut sql = Sql::new(
            "SELECT id, id_number, residence_division FROM persons WHERE residence_division LIKE ",
        );
        sql.bind_text(scope.as_str()).push(" AND id_number IN (");
        for (i, n) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_text(*n);
        }
        sql.push(")");
        for r in sql.query().fetch_all(tx.conn()).await? {
            known.insert(
                get(&r, "id_number")?,
                (get(&r, "id")?, get(&r, "residence_division")?),
            );
        }
    }
    let mut next = tx.next_id("outreach_leads").await?;
    let mut registered = 0u64;
    for chunk in leads.chunks(200) {
        let sql = super::values_sql(
            tx.backend,
            "INSERT INTO outreach_leads (id, run_id, month, division, person_id, \
                 person_masked, delivery_id, row_number, settlement_date, out_of_pocket_fen, \
                 threshold_fen, created_at)",
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for l in chunk {
            let hit = known.get(l.id_number.as_str());
            registered += u64::from(hit.is_some());
            let division = hit
                .map(|(_, d)| d.clone())
                .unwrap_or_else(|| run.fallback_division.to_string());
            q = q
                .bind(next)
                .bind(run.run_id)
                .bind(run.month.clone())
                .bind(division)
                .bind(hit.map(|(id, _)| *id))
                .bind(l.id_number.masked())
                .bind(l.delivery_id)
                .bind(l.row)
                .bind(date_text(l.settlement_date))
                .bind(l.out_of_pocket.fen())
                .bind(l.threshold.fen())
                .bind(tx.now_text.clone());
            next += 1;
        }
        q.execute(tx.conn()).await?;
    }
    tx.audit(
        Who::from(g.actor()),
        Event::new(AuditAction::OutreachLeadsStored, "verification_run")
            .record(run.run_id)
            .division(&run.fallback_division)
            .after(json!({"month": run.month, "leads": leads.len(), "registered": registered}))
            .detail(format!(
                "{} 政策找人线索 {} 条(其中登记在册 {} 人)",
                run.month,
                leads.len(),
                registered
            )),
    )
    .await?;
    Ok(leads.len() as u64)
}

#[async_trait]
impl OutreachStore for SqlStore {
    async fn list_runs(&self, g: &Grant<ReadVerification>, limit: i64) -> Result<Vec<RunSummary>> {
        let (limit, _) = page_bounds(limit, 0);
        let scope = g.scope().like_pattern();
        let rows = sqlx::query(
            "SELECT * FROM verification_runs WHERE division LIKE $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(scope.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let runs = rows
            .iter()
            .map(super::verification::run_of)
            .collect::<Result<Vec<_>>>()?;
        // One pass over the listed runs' warnings (reads by run scan the table, migration 0021).
        let (low, high) = (
            runs.iter().map(|r| r.id).min().unwrap_or(0),
            runs.iter().map(|r| r.id).max().unwrap_or(0),
        );
        let mut by_run: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
        for t in sqlx::query(
            "SELECT run_id, township, COUNT(*) AS n FROM warnings \
             WHERE run_id >= $1 AND run_id <= $2 AND division LIKE $3 GROUP BY run_id, township",
        )
        .bind(low)
        .bind(high)
        .bind(scope.as_str())
        .fetch_all(&self.pool)
        .await?
        {
            by_run
                .entry(get(&t, "run_id")?)
                .or_default()
                .insert(get(&t, "township")?, get::<i64>(&t, "n")?);
        }
        // The names of the jurisdiction's counties and townships (codes of up to 9 digits).
        let mut division_names = BTreeMap::new();
        for d in sqlx::query(
            "SELECT code, name FROM divisions WHERE LENGTH(code) <= 9 \
             AND (code LIKE $1 OR $2 LIKE code || '%')",
        )
        .bind(scope.as_str())
        .bind(scope.trim_end_matches('%'))
        .fetch_all(&self.pool)
        .await?
        {
            division_names.insert(get::<String>(&d, "code")?, get::<String>(&d, "name")?);
        }
        let mut out = Vec::with_capacity(runs.len());
        for run in runs {
            let by_township = by_run.remove(&run.id).unwrap_or_default();
            let names: BTreeMap<String, String> = by_township
                .keys()
                .chain(std::iter::once(&run.division))
                .filter_map(|c| division_names.get(c).map(|n| (c.clone(), n.clone())))
                .collect();
            let leads = super::count_of(
                &sqlx::query(
                    "SELECT COUNT(*) FROM outreach_leads WHERE run_id = $1 AND division LIKE $2",
                )
                .bind(run.id)
                .bind(scope.as_str())
                .fetch_one(&self.pool)
                .await?,
            )?;
            out.push(RunSummary {
                run,
                by_township,
                leads,
                names,
            });
        }
        Ok(out)
    }

    async fn store_outreach_leads(
        &self,
        g: &Grant<RunVerification>,
        run: &LeadRun,
        leads: &[NewLead],
    ) -> Result<u64> {
        let mut tx = self.write().await?;
        let stored = write_leads(&mut tx, g, run, leads).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn list_outreach_leads(
        &self,
        g: &Grant<ReadVerification>,
        q: &LeadQuery,
    ) -> Result<Page<LeadRecord>> {
        let mut filter = Sql::new(LEAD_FROM);
        filter
            .push(" WHERE l.division LIKE ")
            .bind_text(g.scope().like_pattern());
        if let Some(d) = &q.division {
            filter
                .push(" AND l.division LIKE ")
                .bind_text(format!("{}%", d.prefix()));
        }
        if let Some(id) = q.id {
            filter.push(" AND l.id = ").bind_int(id);
        }
        if let Some(r) = q.run_id {
            filter.push(" AND l.run_id = ").bind_int(r);
        }
        if let Some(m) = &q.month {
            filter.push(" AND l.month = ").bind_text(m.as_str());
        }
        match q.status.as_deref() {
            Some("open") => {
                filter.push(" AND h.lead_id IS NULL");
            }
            Some("handled") => {
                filter.push(" AND h.lead_id IS NOT NULL");
            }
            _ => {}
        }
        let mut count = filter.clone();
        count.text = format!("SELECT COUNT(*){}", filter.text);
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;
        let (limit, offset) = page_bounds(q.limit, q.offset);
        let mut list = filter;
        list.text = format!("SELECT {LEAD_SELECT}{}", list.text);
        list.push(" ORDER BY l.out_of_pocket_fen DESC, l.id LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let rows = list.query().fetch_all(&self.pool).await?;
        Ok(Page {
            items: rows.iter().map(lead_of).collect::<Result<_>>()?,
            total,
        })
    }

    async fn handle_outreach_lead(
        &self,
        g: &Grant<HandleWarnings>,
        id: i64,
        note: &str,
    ) -> Result<LeadRecord> {
        let note = note.trim();
        if note.is_empty() {
            return Err(super::invalid(
                "note",
                "NOTE_REQUIRED",
                "请填写处理情况说明",
            ));
        }
        let scope = g.scope().like_pattern();
        let mut tx = self.write().await?;
        let before =
            load_lead(tx.conn(), &scope, id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    kind: "outreach_lead",
                    id: id.to_string(),
                })?;
        if before.status != "open" {
            // Handled once: the handling row is append-only, so a second one is a conflict.
            return Err(StoreError::Conflict {
                kind: "outreach_lead",
                id: id.to_string(),
                expected: 1,
                actual: 2,
            });
        }
        let actor = g.actor();
        sqlx::query(
            "INSERT INTO outreach_lead_handlings (lead_id, note, handled_by_id, handled_by, \
             handled_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(note)
        .bind(actor.user_id)
        .bind(actor.username.as_str())
        .bind(tx.now_text.clone())
        .execute(tx.conn())
        .await?;
        let after = load_lead(tx.conn(), &scope, id)
            .await?
            .ok_or_else(|| StoreError::Database("handled lead vanished".into()))?;
        let division = DivisionCode::parse(&before.division)
            .map_err(|_| StoreError::Database("unreadable lead division".into()))?;
        tx.audit(
            Who::from(actor),
            Event::new(AuditAction::OutreachLeadHandled, "outreach_lead")
                .record(id)
                .division(&division)
                .before(json!({"status": "open"}))
                .after(json!({"status": "handled", "note": note}))
                .detail(format!("政策找人线索 {} 已处理", before.person)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}
