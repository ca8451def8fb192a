//! Case changes (migration 0009, docs/cases.md): opening a change case on an approved case
//! (from the case page, the API, or a warning's closure) as the application started it,
//! applying an approved change to the parent's benefit status in the decision's transaction, and
//! the reads.

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ActOnCase, ReadCases};
use jiuzhu_domain::{Actor, AuditAction, DivisionCode, Grant, HouseholdId, Money, Month, Scope};

use super::cases::{append_events, load_case, not_found, write_open_steps};
use super::reach::Reach;
use super::rows::{self, parse_date, parse_ts};
use super::{invalid, Event, Sql, SqlStore, Who, WriteTx};
use crate::cases::{CaseId, CaseRecord, NewDecision};
use crate::changes::{
    BenefitStatus, ChangeKind, ChangeOutcome, ChangeRecord, NewChange, StopReason,
};
use crate::prelude::*;
use crate::{Result, StoreError};

/// The parent's benefit status (`active` when no row exists: approved before tracking began).
async fn current_status(conn: &mut AnyConnection, parent: CaseId) -> Result<(String, Money)> {
    let row = sqlx::query("SELECT status, monthly_amount FROM benefit_status WHERE case_id = $1")
        .bind(parent)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => (
            rows::get(&r, "status")?,
            Money::from_fen(rows::get(&r, "monthly_amount")?),
        ),
        None => ("active".into(), Money::ZERO),
    })
}

pub(super) async fn open_change_of(
    conn: &mut AnyConnection,
    parent: CaseId,
) -> Result<Option<(CaseId, String)>> {
    let row = sqlx::query(
        "SELECT c.id, c.number FROM case_changes x JOIN cases c ON c.id = x.case_id \
         WHERE x.parent_case_id = $1 AND c.status = 'open' ORDER BY c.id LIMIT 1",
    )
    .bind(parent)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((rows::get(&r, "id")?, rows::get(&r, "number")?)))
        .transpose()
}

/// Opens a change case inside `tx`: the checks only the database can make, the case row as the
/// application started it, the change row and the audit event.
pub(super) async fn open_change_tx(
    tx: &mut WriteTx<'_, '_>,
    actor: &Actor,
    scope: &Scope,
    today: NaiveDate,
    new: &NewChange,
    warning_id: Option<i64>,
) -> Result<CaseRecord> {
    let reason = new.reason.trim();
    if reason.is_empty() {
        return Err(invalid(
            "reason",
            "CHANGE_REASON_REQUIRED",
            "请填写变更理由",
        ));
    }
    let stop_reason = match new.kind {
        ChangeKind::Stop => Some(new.stop_reason.ok_or_else(|| {
            invalid(
                "stop_reason",
                "CHANGE_STOP_REASON_REQUIRED",
                "停止救助须选择停止原因",
            )
        })?),
        _ => None,
    };
    let reach = Reach::of(actor, &tx.readers);
    let parent = load_case(tx.conn(), &reach, new.parent_case_id)
        .await?
        .ok_or_else(|| not_found(new.parent_case_id))?;
    if parent.status != jiuzhu_domain::case::CaseStatus::Approved {
        return Err(invalid(
            "parent_case_id",
            "CHANGE_PARENT_NOT_APPROVED",
            "只能对已确认的救助案件发起变更",
        ));
    }
    if parent.workflow != new.parent_workflow {
        return Err(StoreError::Conflict {
            kind: "case",
            id: parent.number.clone(),
            expected: parent.revision,
            actual: parent.revision,
        });
    }
    let (status, _) = current_status(tx.conn(), parent.id).await?;
    let refusal = match (status.as_str(), new.kind) {
        ("ended", _) => Some("该救助已停止,不能再变更"),
        ("suspended", ChangeKind::Suspend) => Some("该救助已暂停发放"),
        ("active", ChangeKind::Resume) => Some("该救助正常发放,无需恢复"),
        _ => None,
    };
    if let Some(m) = refusal {
        return Err(invalid("kind", "CHANGE_KIND_NOT_APPLICABLE", m));
    }
    if let Some((_, number)) = open_change_of(tx.conn(), parent.id).await? {
        return Err(invalid(
            "parent_case_id",
            "CHANGE_ALREADY_OPEN",
            format!("该案件已有办理中的变更 {number}"),
        ));
    }
    let opening = &new.opening;

    let responsible = DivisionCode::parse(&parent.division_responsible)
        .map_err(|e| StoreError::Database(format!("division of case {}: {e}", parent.id)))?;
    let county = responsible
        .county()
        .unwrap_or_else(|| responsible.clone())
        .to_string();
    let filed = if actor.is_system() {
        responsible.township().unwrap_or(responsible).to_string()
    } else {
        scope.root().to_string()
    };
    let prefix = format!("{county}-{}-", today.year());
    let row = sqlx::query("SELECT COUNT(*) FROM cases WHERE number LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_one(tx.conn())
        .await?;
    let number = format!("{prefix}{:06}", super::count_of(&row)? + 1);
    let id = tx.next_id("cases").await?;
    let program = format!("{}变更", parent.program);
    sqlx::query(
        "INSERT INTO cases (id, number, workflow, program, household_id, applicant_id, \
         division_filed, division_responsible, hukou_elsewhere, staff_relative, urgent, \
         protected, status, state, revision, created_at, created_by, updated_at, department) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14, $15, $16, $15, $17)",
    )
    .bind(id)
    .bind(number.as_str())
    .bind(opening.workflow.as_str())
    .bind(program.as_str())
    .bind(parent.household_id)
    .bind(parent.applicant_id)
    .bind(filed.as_str())
    .bind(parent.division_responsible.as_str())
    .bind(i64::from(parent.hukou_elsewhere))
    .bind(i64::from(parent.flags.staff_relative))
    .bind(0_i64)
    .bind(i64::from(parent.flags.protected))
    .bind(opening.state.to_string())
    .bind(opening.revision)
    .bind(tx.now_text.clone())
    .bind(actor.username.as_str())
    .bind(opening.department.map(|d| d.as_str()))
    .execute(tx.conn())
    .await?;
    write_open_steps(tx, id, &parent.division_responsible, &opening.open_steps).await?;
    let evs = &opening.events;
    append_events(tx, actor, id, evs).await?;
    sqlx::query(
        "INSERT INTO case_changes (case_id, parent_case_id, household_id, kind, reason, \
         stop_reason, warning_id, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(parent.id)
    .bind(parent.household_id)
    .bind(new.kind.as_str())
    .bind(reason)
    .bind(stop_reason.map(|r| r.as_str()))
    .bind(warning_id)
    .bind(tx.now_text.clone())
    .bind(actor.username.as_str())
    .execute(tx.conn())
    .await?;
    let rec = load_case(tx.conn(), &Reach::everything(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let division = DivisionCode::parse(&rec.division_responsible)
        .map_err(|_| StoreError::Database("bad case division".into()))?;
    // No reason text in the audit copy: it may describe the household's circumstances.
    tx.audit(
        Who::from(actor),
        Event::new(AuditAction::CaseChangeOpened, "case")
            .record(id)
            .division(&division)
            .after(json!({
                "number": rec.number, "workflow": rec.workflow, "parent_case_id": parent.id,
                "parent_number": parent.number, "kind": new.kind.as_str(),
                "stop_reason": stop_reason.map(|r| r.as_str()), "warning_id": warning_id,
                "home_check": new.home_check, "delegated": new.delegated,
                "steps": evs.iter().map(|e| json!({"step": e.step, "action": e.action})).collect::<Vec<_>>(),
            }))
            .detail(format!(
                "{} {}:{}",
                rec.number,
                new.kind.label_zh(),
                parent.number
            )),
    )
    .await?;
    Ok(rec)
}

/// After a decision is written: an approval of a changeable program starts its benefit status;
/// an approved change updates its parent's status and records what it decided.
pub(super) async fn after_decision(
    tx: &mut WriteTx<'_, '_>,
    case: &CaseRecord,
    decision_id: i64,
    d: &NewDecision,
    starts_benefit: bool,
) -> Result<()> {
    if d.outcome != jiuzhu_domain::case::DecisionOutcome::Approved {
        return Ok(());
    }
    let change = sqlx::query(
        "SELECT parent_case_id, kind, stop_reason FROM case_changes WHERE case_id = $1",
    )
    .bind(case.id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(change) = change else {
        if starts_benefit {
            sqlx::query(
                "INSERT INTO benefit_status (case_id, household_id, program, status, \
                 monthly_amount, start_month, amount_from, updated_at) \
                 VALUES ($1, $2, $3, 'active', $4, $5, $5, $6)",
            )
            .bind(case.id)
            .bind(case.household_id)
            .bind(case.program.as_str())
            .bind(d.monthly_amount.fen())
            .bind(d.start_month.as_deref())
            .bind(tx.now_text.clone())
            .execute(tx.conn())
            .await?;
        }
        return Ok(());
    };
    let parent: CaseId = rows::get(&change, "parent_case_id")?;
    let kind_text: String = rows::get(&change, "kind")?;
    let kind = ChangeKind::parse(&kind_text)
        .ok_or_else(|| StoreError::Database(format!("unknown change kind {kind_text}")))?;
    let stop_reason: Option<String> = rows::get(&change, "stop_reason")?;
    let exists = sqlx::query("SELECT status FROM benefit_status WHERE case_id = $1")
        .bind(parent)
        .fetch_optional(tx.conn())
        .await?
        .is_some();
    if !exists {
        // Approved before status tracking: start from the parent's approval.
        let p = sqlx::query(
            "SELECT c.household_id, c.program, d.monthly_amount, d.start_month FROM cases c \
             JOIN case_decisions d ON d.case_id = c.id AND d.outcome = 'approved' \
             WHERE c.id = $1 ORDER BY d.id LIMIT 1",
        )
        .bind(parent)
        .fetch_one(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO benefit_status (case_id, household_id, program, status, monthly_amount, \
             start_month, amount_from, updated_at) VALUES ($1, $2, $3, 'active', $4, $5, $5, $6)",
        )
        .bind(parent)
        .bind(rows::get::<i64>(&p, "household_id")?)
        .bind(rows::get::<String>(&p, "program")?)
        .bind(rows::get::<i64>(&p, "monthly_amount")?)
        .bind(rows::get::<Option<String>>(&p, "start_month")?)
        .bind(tx.now_text.clone())
        .execute(tx.conn())
        .await?;
    }
    let (_, before) = current_status(tx.conn(), parent).await?;
    let next = Month::of(d.decided_on).next().to_string();
    let (after, effective, last_paid) = match kind {
        ChangeKind::Adjust => (
            d.monthly_amount,
            Some(d.start_month.clone().unwrap_or(next)),
            None,
        ),
        ChangeKind::Suspend | ChangeKind::Resume => (before, Some(next), None),
        ChangeKind::Stop => (Money::ZERO, None, Some(Month::of(d.decided_on).to_string())),
    };
    let now = tx.now_text.clone();
    let q = match kind {
        ChangeKind::Adjust => sqlx::query(
            "UPDATE benefit_status SET monthly_amount = $2, amount_from = $3, \
             changed_by_case = $4, updated_at = $5 WHERE case_id = $1",
        )
        .bind(parent)
        .bind(after.fen())
        .bind(effective.clone()),
        ChangeKind::Suspend => sqlx::query(
            "UPDATE benefit_status SET status = 'suspended', suspended_from = $2, \
             changed_by_case = $3, updated_at = $4 WHERE case_id = $1",
        )
        .bind(parent)
        .bind(effective.clone()),
        ChangeKind::Resume => sqlx::query(
            "UPDATE benefit_status SET status = 'active', suspended_from = NULL, \
             changed_by_case = $2, updated_at = $3 WHERE case_id = $1",
        )
        .bind(parent),
        ChangeKind::Stop => sqlx::query(
            "UPDATE benefit_status SET status = 'ended', last_paid_month = $2, end_reason = $3, \
             changed_by_case = $4, updated_at = $5 WHERE case_id = $1",
        )
        .bind(parent)
        .bind(last_paid.clone())
        .bind(stop_reason.clone()),
    };
    q.bind(case.id).bind(now).execute(tx.conn()).await?;
    sqlx::query(
        "INSERT INTO change_outcomes (decision_id, case_id, parent_case_id, kind, effective_month, \
         last_paid_month, stop_reason, amount_before, amount_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(decision_id)
    .bind(case.id)
    .bind(parent)
    .bind(kind.as_str())
    .bind(effective)
    .bind(last_paid)
    .bind(stop_reason)
    .bind(before.fen())
    .bind(after.fen())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The running case of a household: approved, not itself a change, its benefit not ended; a
/// case with a tracked benefit before one without (a 临时救助 paid once is no running benefit),
/// the newest first.
const RUNNING_CASES: &str =
    "SELECT c.id FROM cases c LEFT JOIN benefit_status b ON b.case_id = c.id \
     WHERE c.household_id = $1 AND c.status = 'approved' \
     AND c.id NOT IN (SELECT case_id FROM case_changes) \
     AND (b.case_id IS NULL OR b.status <> 'ended') \
     ORDER BY CASE WHEN b.case_id IS NULL THEN 1 ELSE 0 END, c.id DESC";

pub(super) async fn running_case_id(
    conn: &mut AnyConnection,
    household: HouseholdId,
) -> Result<Option<CaseId>> {
    let row = sqlx::query(RUNNING_CASES)
        .bind(household)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| rows::get::<CaseId>(&r, "id")).transpose()
}

const CHANGE_SELECT: &str =
    "SELECT x.case_id, c.number, x.parent_case_id, pc.number AS parent_number, \
    pc.workflow AS parent_workflow, x.household_id, x.kind, x.reason, x.stop_reason, x.warning_id, \
    c.status, x.created_at, x.created_by, d.id AS decision_id, d.decided_on, o.effective_month, \
    o.last_paid_month, o.amount_before, o.amount_after, l.number AS letter_number \
    FROM case_changes x JOIN cases c ON c.id = x.case_id JOIN cases pc ON pc.id = x.parent_case_id \
    LEFT JOIN change_outcomes o ON o.case_id = x.case_id \
    LEFT JOIN case_decisions d ON d.id = o.decision_id \
    LEFT JOIN case_letters l ON l.decision_id = o.decision_id WHERE 1 = 1";

fn change_record(r: &AnyRow) -> Result<ChangeRecord> {
    let kind: String = rows::get(r, "kind")?;
    let stop: Option<String> = rows::get(r, "stop_reason")?;
    let stop_reason = stop.as_deref().and_then(StopReason::parse);
    let decision_id: Option<i64> = rows::get(r, "decision_id")?;
    let outcome = match decision_id {
        None => None,
        Some(id) => Some(ChangeOutcome {
            decision_id: id,
            decided_on: parse_date(&rows::get::<String>(r, "decided_on")?)?,
            effective_month: rows::get(r, "effective_month")?,
            last_paid_month: rows::get(r, "last_paid_month")?,
            stop_reason,
            amount_before: Money::from_fen(rows::get(r, "amount_before")?),
            amount_after: Money::from_fen(rows::get(r, "amount_after")?),
            letter_number: rows::get(r, "letter_number")?,
        }),
    };
    Ok(ChangeRecord {
        case_id: rows::get(r, "case_id")?,
        number: rows::get(r, "number")?,
        parent_case_id: rows::get(r, "parent_case_id")?,
        parent_number: rows::get(r, "parent_number")?,
        parent_workflow: rows::get(r, "parent_workflow")?,
        household_id: rows::get(r, "household_id")?,
        kind: ChangeKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown change kind {kind}")))?,
        reason: rows::get(r, "reason")?,
        stop_reason,
        warning_id: rows::get(r, "warning_id")?,
        status: rows::case_status(r, "status")?,
        created_at: parse_ts(&rows::get::<String>(r, "created_at")?)?,
        created_by: rows::get(r, "created_by")?,
        outcome,
    })
}

const BENEFIT_SELECT: &str = "SELECT b.*, c.number, c.workflow FROM benefit_status b \
    JOIN cases c ON c.id = b.case_id WHERE 1 = 1";

fn benefit(r: &AnyRow) -> Result<BenefitStatus> {
    let end: Option<String> = rows::get(r, "end_reason")?;
    Ok(BenefitStatus {
        case_id: rows::get(r, "case_id")?,
        number: rows::get(r, "number")?,
        workflow: rows::get(r, "workflow")?,
        program: rows::get(r, "program")?,
        household_id: rows::get(r, "household_id")?,
        status: rows::get(r, "status")?,
        monthly_amount: Money::from_fen(rows::get(r, "monthly_amount")?),
        start_month: rows::get(r, "start_month")?,
        amount_from: rows::get(r, "amount_from")?,
        suspended_from: rows::get(r, "suspended_from")?,
        last_paid_month: rows::get(r, "last_paid_month")?,
        end_reason: end.as_deref().and_then(StopReason::parse),
        changed_by_case: rows::get(r, "changed_by_case")?,
        updated_at: parse_ts(&rows::get::<String>(r, "updated_at")?)?,
    })
}

#[async_trait]
impl ChangeStore for SqlStore {
    async fn open_change_case(&self, g: &Grant<ActOnCase>, new: &NewChange) -> Result<CaseRecord> {
        let today = self.today();
        let mut tx = self.write().await?;
        let rec = open_change_tx(&mut tx, g.actor(), g.scope(), today, new, None).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn running_case(
        &self,
        g: &Grant<ReadCases>,
        household: HouseholdId,
    ) -> Result<Option<CaseRecord>> {
        let mut conn = self.pool.acquire().await?;
        let Some(id) = running_case_id(&mut conn, household).await? else {
            return Ok(None);
        };
        load_case(&mut conn, &Reach::of(g.actor(), &self.readers()), id).await
    }

    async fn case_change(
        &self,
        g: &Grant<ReadCases>,
        case_id: CaseId,
    ) -> Result<Option<ChangeRecord>> {
        let mut sql = Sql::new(CHANGE_SELECT);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" AND x.case_id = ").bind_int(case_id);
        let row = sql.query().fetch_optional(&self.pool).await?;
        row.map(|r| change_record(&r)).transpose()
    }

    async fn case_changes(
        &self,
        g: &Grant<ReadCases>,
        parent_case_id: CaseId,
    ) -> Result<Vec<ChangeRecord>> {
        let mut sql = Sql::new(CHANGE_SELECT);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" AND x.parent_case_id = ")
            .bind_int(parent_case_id)
            .push(" ORDER BY x.case_id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(change_record).collect()
    }

    async fn benefit_status(
        &self,
        g: &Grant<ReadCases>,
        case_id: CaseId,
    ) -> Result<Option<BenefitStatus>> {
        let mut sql = Sql::new(BENEFIT_SELECT);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" AND b.case_id = ").bind_int(case_id);
        let row = sql.query().fetch_optional(&self.pool).await?;
        row.map(|r| benefit(&r)).transpose()
    }

    async fn household_benefits(
        &self,
        g: &Grant<ReadCases>,
        household_id: HouseholdId,
    ) -> Result<Vec<BenefitStatus>> {
        let mut sql = Sql::new(BENEFIT_SELECT);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" AND b.household_id = ")
            .bind_int(household_id)
            .push(" ORDER BY b.case_id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(benefit).collect()
    }
}
