//! Reading the audit log, and events that are not part of another write.

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};

use jiuzhu_domain::access::ReadAudit;
use jiuzhu_domain::{Actor, AuditAction, AuditRecord, ChainHead, DivisionCode, Grant, Level};

use super::rows::{self, AUDIT_SELECT};
use super::{page_bounds, Event, Sql, SqlStore};
use crate::prelude::*;
use crate::{AuditQuery, Page, Result};

/// The start of a calendar day in China Standard Time, as a stored (UTC) timestamp.
fn cst_day_start(d: NaiveDate) -> String {
    let utc = d.and_hms_opt(0, 0, 0).expect("midnight exists") - Duration::hours(8);
    rows::ts_text(utc.and_utc())
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn audit_log(&self, g: &Grant<ReadAudit>, q: &AuditQuery) -> Result<Page<AuditRecord>> {
        let scope = g.scope();
        let mut filter = Sql::new(" FROM audit_events WHERE (division LIKE ");
        filter.bind_text(scope.like_pattern());
        if scope.root().level() == Level::Nation {
            filter.push(" OR division IS NULL");
        }
        filter.push(")");
        if let Some(a) = q.action {
            filter.push(" AND action = ").bind_text(a.as_str());
        }
        if let Some(n) = q
            .actor_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            filter.push(" AND actor_name = ").bind_text(n);
        }
        if let Some(k) = q.record_kind.as_deref().filter(|k| !k.is_empty()) {
            filter.push(" AND record_kind = ").bind_text(k);
        }
        if let Some(id) = q.record_id.as_deref().filter(|i| !i.is_empty()) {
            filter.push(" AND record_id = ").bind_text(id);
        }
        if let Some(from) = q.from {
            filter.push(" AND at >= ").bind_text(cst_day_start(from));
        }
        if let Some(to) = q.to.and_then(|t| t.succ_opt()) {
            filter.push(" AND at < ").bind_text(cst_day_start(to));
        }
        let mut count = Sql::new("SELECT COUNT(*)");
        count.text.push_str(&filter.text);
        count.args = filter.args.clone();
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;

        let (limit, offset) = page_bounds(q.limit, q.offset);
        let mut page = Sql::new(&format!("SELECT {AUDIT_SELECT}"));
        page.text.push_str(&filter.text);
        page.args = filter.args;
        page.push(" ORDER BY seq DESC LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let items = page
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::audit_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total })
    }

    async fn audit_page(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRecord>> {
        let limit = limit.clamp(1, 100_000);
        let sql =
            format!("SELECT {AUDIT_SELECT} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        sqlx::query(&sql)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::audit_record)
            .collect()
    }

    async fn chain_head(&self) -> Result<ChainHead> {
        let row = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(ChainHead {
                seq: rows::get(&row, "seq")?,
                hash: rows::get(&row, "hash")?,
            }),
            None => Ok(ChainHead::genesis()),
        }
    }

    async fn append_audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        record_kind: &str,
        record_id: Option<&str>,
        division: Option<&DivisionCode>,
        detail: Option<&str>,
    ) -> Result<AuditRecord> {
        let mut tx = self.write().await?;
        let mut ev = Event::new(action, record_kind);
        ev.record_id = record_id.map(str::to_string);
        ev.division = division.map(|d| d.to_string());
        ev.detail = detail.map(str::to_string);
        let record = tx.audit(actor.into(), ev).await?;
        tx.commit().await?;
        Ok(record)
    }
}
