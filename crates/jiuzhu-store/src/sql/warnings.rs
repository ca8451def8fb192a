//! Handling warnings (migration 0011, docs/feeds.md "Handling"): the township inbox, the
//! communities' monthly zero reports and the month's dashboard. Closing a warning is
//! `verification.rs` (one code path for the single and the bulk close).

use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{HandleWarnings, ReadVerification};
use jiuzhu_domain::{AuditAction, DivisionCode, Grant, IdNumber, Level};

use super::rows::{self, date_text, get};
use super::verification::{and_in_month, in_month_runs};
use super::{invalid, like_escape, Event, Sql, SqlStore, Who};
use crate::prelude::*;
use crate::verification::WarningRecord;
use crate::warning_handling::{
    Dashboard, DashboardCell, InboxQuery, InboxStatus, NewZeroReport, ZeroReport, ZeroReportKind,
    ZeroReportStatus,
};
use crate::{Page, Result, StoreError};

const ZERO_SELECT: &str =
    "id, division, month, kind, warnings, note, filed_by_id, filed_by, filed_at";

fn zero_of(r: &AnyRow) -> Result<ZeroReport> {
    let kind: String = get(r, "kind")?;
    Ok(ZeroReport {
        id: get(r, "id")?,
        division: get(r, "division")?,
        month: get(r, "month")?,
        kind: ZeroReportKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown zero report kind {kind}")))?,
        warnings: get(r, "warnings")?,
        note: get(r, "note")?,
        filed_by: get(r, "filed_by")?,
        filed_at: rows::parse_ts(&get::<String>(r, "filed_at")?)?,
    })
}

/// `YYYY-MM` with a real month, or a field error naming `month`.
fn check_month(m: &str) -> Result<()> {
    let ok = m.len() == 7
        && NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok()
        && m.as_bytes()[4] == b'-';
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "month",
            "MONTH_INVALID",
            format!("月份“{m}”格式应为 YYYY-MM"),
        ))
    }
}

/// Every attachment must be a current (not withdrawn) document of the household or of one of
/// its members: a closure cannot cite another family's papers.
pub(super) async fn check_attachments(
    conn: &mut AnyConnection,
    household_id: i64,
    ids: &[i64],
) -> Result<()> {
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    if unique.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new("SELECT COUNT(*) FROM documents d WHERE d.id IN (");
    for (i, id) in unique.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind_int(*id);
    }
    sql.push(") AND ((d.owner_kind = 'household' AND d.owner_id = ")
        .bind_int(household_id)
        .push(
            ") OR (d.owner_kind = 'person' AND d.owner_id IN \
             (SELECT m.person_id FROM memberships m WHERE m.household_id = ",
        )
        .bind_int(household_id)
        .push(
            "))) AND NOT EXISTS (SELECT 1 FROM document_withdrawals x \
             WHERE x.document_id = d.id)",
        );
    let found = super::count_of(&sql.query().fetch_one(&mut *conn).await?)?;
    if found != unique.len() as i64 {
        return Err(invalid(
            "attachments",
            "ATTACHMENT_NOT_OF_HOUSEHOLD",
            "附件须为本户或本户成员的有效档案材料",
        ));
    }
    Ok(())
}

/// Under `division`: the warnings raised by `month`'s runs, and those open there that were first
/// raised in `month` or before.
async fn month_counts(
    conn: &mut AnyConnection,
    division: &DivisionCode,
    month: &str,
) -> Result<(i64, i64)> {
    // Open counts whichever run raised it (a warning is raised once and stays open across
    // months until it is handled); `month` is the month it was first raised.
    let row = sqlx::query(concat!(
        "SELECT COALESCE(SUM(CASE WHEN ",
        in_month_runs!("run_id", "$1"),
        " THEN 1 ELSE 0 END), 0) AS total, \
         COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0) AS open \
         FROM warnings WHERE month <= $1 AND division LIKE $2"
    ))
    .bind(month)
    .bind(format!("{}%", division.prefix()))
    .fetch_one(conn)
    .await?;
    Ok((get(&row, "total")?, get(&row, "open")?))
}

impl SqlStore {
    /// Adds to the month's cells the warnings of earlier months still open (a cell of its own
    /// where the month raised none of the kind in the township).
    async fn with_carried(
        &self,
        mut cells: Vec<DashboardCell>,
        month: &str,
        scope: &str,
    ) -> Result<Vec<DashboardCell>> {
        let rows = sqlx::query(
            "SELECT w.kind, w.township, COALESCE(d.name, w.township) AS township_name, \
             COUNT(*) AS n, MIN(w.month) AS since \
             FROM warnings w LEFT JOIN divisions d ON d.code = w.township \
             WHERE w.month < $1 AND w.division LIKE $2 AND w.status = 'open' \
             GROUP BY w.kind, w.township, d.name",
        )
        .bind(month)
        .bind(scope)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let (kind, township): (String, String) = (get(r, "kind")?, get(r, "township")?);
            let at = match cells
                .iter()
                .position(|c| c.kind == kind && c.township == township)
            {
                Some(at) => at,
                None => {
                    cells.push(DashboardCell {
                        kind,
                        township,
                        township_name: get(r, "township_name")?,
                        ..DashboardCell::default()
                    });
                    cells.len() - 1
                }
            };
            cells[at].carried_open = get(r, "n")?;
            cells[at].carried_since = Some(get(r, "since")?);
        }
        cells.sort_by(|a, b| (&a.kind, &a.township).cmp(&(&b.kind, &b.township)));
        Ok(cells)
    }
}

#[async_trait]
impl InboxStore for SqlStore {
    async fn warning_inbox(
        &self,
        g: &Grant<ReadVerification>,
        q: &InboxQuery,
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
        if let Some(k) = &q.kind {
            filter.push(" AND w.kind = ").bind_text(k.as_str());
        }
        if let Some(r) = q.run_id {
            filter.push(" AND w.run_id = ").bind_int(r);
        }
        match q.status {
            Some(InboxStatus::Open) => {
                filter.push(" AND w.status = 'open'");
            }
            Some(InboxStatus::Closed) => {
                filter.push(" AND w.status = 'closed'");
            }
            Some(InboxStatus::Overdue) => {
                filter
                    .push(" AND w.status = 'open' AND w.due < ")
                    .bind_text(date_text(q.today));
            }
            None => {}
        }
        if let Some(text) = q
            .household
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if let Ok(n) = IdNumber::parse(text) {
                // A full number: the household it is a member of (any time), not a text match.
                filter
                    .push(
                        " AND w.household_id IN (SELECT m.household_id FROM memberships m \
                         JOIN persons p ON p.id = m.person_id WHERE p.id_number = ",
                    )
                    .bind_text(n.as_str())
                    .push(")");
            } else if text.contains('*') {
                // The masked number the evidence carries (the only form a list shows).
                filter
                    .push(" AND w.evidence LIKE ")
                    .bind_text(format!("%\"person\":\"{}\"%", like_escape(text)))
                    .push(" ESCAPE '\\'");
            } else {
                filter
                    .push(" AND h.code LIKE ")
                    .bind_text(format!("%{}%", like_escape(text)))
                    .push(" ESCAPE '\\'");
            }
        }
        self.warning_page(filter, q.limit, q.offset).await
    }

    async fn file_zero_report(
        &self,
        g: &Grant<HandleWarnings>,
        r: &NewZeroReport,
    ) -> Result<ZeroReport> {
        check_month(&r.month)?;
        if r.division.level() != Level::Village {
            return Err(invalid(
                "division",
                "ZERO_REPORT_LEVEL",
                "零报告由村(社区)按月报送,请选择村(社区)",
            ));
        }
        let not_found = || StoreError::NotFound {
            kind: "division",
            id: r.division.to_string(),
        };
        if !g.scope().contains(&r.division) {
            return Err(not_found());
        }
        let note = r.note.trim();
        let mut tx = self.write().await?;
        if r.month.as_str() > tx.now.format("%Y-%m").to_string().as_str() {
            return Err(invalid(
                "month",
                "MONTH_FUTURE",
                format!("{} 尚未到来,不能报送零报告", r.month),
            ));
        }
        let name: String = match sqlx::query("SELECT name FROM divisions WHERE code = $1")
            .bind(r.division.as_str())
            .fetch_optional(tx.conn())
            .await?
        {
            Some(row) => get(&row, "name")?,
            None => return Err(not_found()),
        };
        let (total, open) = month_counts(tx.conn(), &r.division, &r.month).await?;
        if open > 0 {
            return Err(invalid(
                "division",
                "ZERO_REPORT_OPEN_WARNINGS",
                format!(
                    "{name} {} 尚有 {open} 条预警未核查销号,处理完毕后才能报送零报告",
                    r.month
                ),
            ));
        }
        // The newest report of the month stands unless a later run found warnings here since it
        // was filed (all handled by now, as checked above): then the village reports again.
        let latest = sqlx::query(
            "SELECT warnings FROM zero_reports WHERE division = $1 AND month = $2 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(r.division.as_str())
        .bind(r.month.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if let Some(row) = latest {
            if total <= get::<i64>(&row, "warnings")? {
                return Err(invalid(
                    "month",
                    "ZERO_REPORT_EXISTS",
                    format!("{name} {} 已报送零报告", r.month),
                ));
            }
        }
        let kind = if total == 0 {
            ZeroReportKind::NoWarnings
        } else {
            ZeroReportKind::AllHandled
        };
        let id = tx.next_id("zero_reports").await?;
        let actor = g.actor();
        sqlx::query(&format!(
            "INSERT INTO zero_reports ({ZERO_SELECT}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(id)
        .bind(r.division.as_str())
        .bind(r.month.as_str())
        .bind(kind.as_str())
        .bind(total)
        .bind(note)
        .bind(actor.user_id)
        .bind(actor.username.as_str())
        .bind(tx.now_text.clone())
        .execute(tx.conn())
        .await?;
        tx.audit(
            Who::from(actor),
            Event::new(AuditAction::ZeroReportFiled, "zero_report")
                .record(id)
                .division(&r.division)
                .after(json!({
                    "month": r.month, "kind": kind.as_str(), "warnings": total, "note": note,
                }))
                .detail(format!("{name} {} 零报告:{}", r.month, kind.label_zh())),
        )
        .await?;
        let filed_at = tx.now;
        tx.commit().await?;
        Ok(ZeroReport {
            id,
            division: r.division.to_string(),
            month: r.month.clone(),
            kind,
            warnings: total,
            note: note.to_string(),
            filed_by: actor.username.clone(),
            filed_at,
        })
    }

    async fn zero_report_status(
        &self,
        g: &Grant<ReadVerification>,
        month: &str,
        under: Option<&DivisionCode>,
    ) -> Result<Vec<ZeroReportStatus>> {
        check_month(month)?;
        let scope = g.scope().like_pattern();
        let under = under.map_or_else(|| scope.clone(), |d| format!("{}%", d.prefix()));
        let villages = sqlx::query(
            "SELECT v.code, v.name, t.name AS township_name FROM divisions v \
             LEFT JOIN divisions t ON t.code = SUBSTR(v.code, 1, 9) \
             WHERE v.level = 'village' AND v.code LIKE $1 AND v.code LIKE $2 ORDER BY v.code",
        )
        .bind(scope.as_str())
        .bind(under.as_str())
        .fetch_all(&self.pool)
        .await?;
        // As `month_counts`: open whichever run raised it.
        let counts = sqlx::query(concat!(
            "SELECT SUBSTR(division, 1, 12) AS village, \
             SUM(CASE WHEN ",
            in_month_runs!("run_id", "$1"),
            " THEN 1 ELSE 0 END) AS total, \
             SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS open \
             FROM warnings WHERE month <= $1 AND division LIKE $2 AND division LIKE $3 \
             AND LENGTH(division) >= 12 GROUP BY SUBSTR(division, 1, 12)"
        ))
        .bind(month)
        .bind(scope.as_str())
        .bind(under.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut by_village: HashMap<String, (i64, i64)> = HashMap::new();
        for r in &counts {
            by_village.insert(get(r, "village")?, (get(r, "total")?, get(r, "open")?));
        }
        let reports = sqlx::query(&format!(
            "SELECT {ZERO_SELECT} FROM zero_reports WHERE month = $1 AND division LIKE $2 \
             AND division LIKE $3 ORDER BY id"
        ))
        .bind(month)
        .bind(scope.as_str())
        .bind(under.as_str())
        .fetch_all(&self.pool)
        .await?;
        // In filing order, so a division's newest report is the one kept.
        let mut by_division: HashMap<String, ZeroReport> = HashMap::new();
        for r in &reports {
            let z = zero_of(r)?;
            by_division.insert(z.division.clone(), z);
        }
        villages
            .iter()
            .map(|v| {
                let code: String = get(v, "code")?;
                let (warnings, open) = by_village.get(&code).copied().unwrap_or((0, 0));
                let township = DivisionCode::parse(&code)
                    .ok()
                    .and_then(|d| d.township())
                    .map_or_else(|| code.clone(), |t| t.to_string());
                let report = by_division.remove(&code);
                let superseded = report
                    .as_ref()
                    .is_some_and(|r| warnings > r.warnings || open > 0);
                Ok(ZeroReportStatus {
                    name: get(v, "name")?,
                    township_name: get::<Option<String>>(v, "township_name")?
                        .unwrap_or_else(|| township.clone()),
                    township,
                    warnings,
                    open,
                    report,
                    superseded,
                    division: code,
                })
            })
            .collect()
    }

    async fn verification_dashboard(
        &self,
        g: &Grant<ReadVerification>,
        month: &str,
        today: NaiveDate,
    ) -> Result<Dashboard> {
        check_month(month)?;
        let scope = g.scope().like_pattern();
        // The closure's day is the UTC date of closed_at (as `due` was set from the store's
        // clock): a closure on the due day counts as on time.
        let rows = sqlx::query(concat!(
            "SELECT w.kind, w.township, COALESCE(d.name, w.township) AS township_name, \
             COUNT(*) AS total, \
             SUM(CASE WHEN w.status = 'open' THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN w.status = 'open' AND w.due < $3 THEN 1 ELSE 0 END) AS overdue, \
             SUM(CASE WHEN w.status = 'closed' AND SUBSTR(w.closed_at, 1, 10) <= w.due \
                 THEN 1 ELSE 0 END) AS on_time, \
             SUM(CASE WHEN w.status = 'closed' AND SUBSTR(w.closed_at, 1, 10) > w.due \
                 THEN 1 ELSE 0 END) AS late \
             FROM warnings w LEFT JOIN divisions d ON d.code = w.township \
             WHERE ",
            in_month_runs!("w.run_id", "$1"),
            " AND w.division LIKE $2 \
             GROUP BY w.kind, w.township, d.name ORDER BY w.kind, w.township"
        ))
        .bind(month)
        .bind(scope.as_str())
        .bind(date_text(today))
        .fetch_all(&self.pool)
        .await?;
        let cells = rows
            .iter()
            .map(|r| {
                Ok(DashboardCell {
                    kind: get(r, "kind")?,
                    township: get(r, "township")?,
                    township_name: get(r, "township_name")?,
                    total: get(r, "total")?,
                    open: get(r, "open")?,
                    overdue: get(r, "overdue")?,
                    closed_on_time: get(r, "on_time")?,
                    closed_late: get(r, "late")?,
                    carried_open: 0,
                    carried_since: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let cells = self.with_carried(cells, month, scope.as_str()).await?;
        let res = sqlx::query(concat!(
            "SELECT result, COUNT(*) AS n FROM warnings \
             WHERE ",
            in_month_runs!("run_id", "$1"),
            " AND division LIKE $2 AND status = 'closed' GROUP BY result"
        ))
        .bind(month)
        .bind(scope.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut results = BTreeMap::new();
        for r in &res {
            let k: Option<String> = get(r, "result")?;
            results.insert(k.unwrap_or_default(), get::<i64>(r, "n")?);
        }
        let cov = sqlx::query(
            "SELECT COUNT(*) AS villages, \
             SUM(CASE WHEN EXISTS (SELECT 1 FROM zero_reports z WHERE z.division = v.code \
                 AND z.month = $2) THEN 1 ELSE 0 END) AS filed \
             FROM divisions v WHERE v.level = 'village' AND v.code LIKE $1",
        )
        .bind(scope.as_str())
        .bind(month)
        .fetch_one(&self.pool)
        .await?;
        Ok(Dashboard {
            month: month.to_string(),
            today,
            cells,
            results,
            zero_report_divisions: get(&cov, "villages")?,
            zero_reports_filed: get::<Option<i64>>(&cov, "filed")?.unwrap_or(0),
        })
    }
}
