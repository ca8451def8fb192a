//! Cases (see migrations/*/0004_cases.sql and docs/cases.md): registration, transitions with
//! optimistic locking, the append-only timeline and decisions, queues and the 低保-anywhere
//! check. A case is visible where its responsible division (the household's) or its filing
//! division (the window that took it, 一门受理) lies in the actor's scope, narrowed for
//! department officers and protected cases ([`Reach`]).

use async_trait::async_trait;
use chrono::Datelike;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ActOnCase, ReadCases, RegisterApplication};
use jiuzhu_domain::id_number::mask_id_str;
use jiuzhu_domain::{AuditAction, DivisionCode, Grant, Money, PersonId, Scope};

use super::reach::Reach;
use super::rows::{self, date_text, parse_date, parse_ts};
use super::{invalid, page_bounds, Event, Sql, SqlStore, WriteTx};
use crate::cases::{
    CaseDecision, CaseEvent, CaseFlags, CaseId, CaseQuery, CaseRecord, CaseSummary, CaseTransition,
    FilingEntry, NewCase, NewCaseEvent, NewDecision, NoticeEntry, OpenStepRow, TaskQuery, TaskRow,
};
use crate::prelude::*;
use crate::{Page, Result, StoreError};

const CASE_SELECT: &str = "c.id, c.number, c.workflow, c.program, c.household_id, \
    h.code AS household_code, h.address AS household_address, c.applicant_id, \
    p.name AS applicant_name, p.id_number AS applicant_id_number, c.division_filed, \
    c.division_responsible, c.department, c.hukou_elsewhere, c.staff_relative, c.urgent, \
    c.protected, c.status, c.state, c.revision, c.created_at, c.created_by, c.updated_at";
const CASE_FROM: &str = " FROM cases c JOIN households h ON h.id = c.household_id \
    JOIN persons p ON p.id = c.applicant_id";

fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(rows::get::<i64>(row, col)? != 0)
}

fn json_text(row: &AnyRow, col: &str) -> Result<Value> {
    let text: String = rows::get(row, col)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Database(format!("unreadable JSON in {col}: {e}")))
}

fn strings(row: &AnyRow, col: &str) -> Result<Vec<String>> {
    serde_json::from_value(json_text(row, col)?)
        .map_err(|e| StoreError::Database(format!("unreadable list in {col}: {e}")))
}

fn opt_date(row: &AnyRow, col: &str) -> Result<Option<chrono::NaiveDate>> {
    rows::get::<Option<String>>(row, col)?
        .map(|s| parse_date(&s))
        .transpose()
}

fn case(row: &AnyRow) -> Result<CaseRecord> {
    Ok(CaseRecord {
        id: rows::get(row, "id")?,
        number: rows::get(row, "number")?,
        workflow: rows::get(row, "workflow")?,
        program: rows::get(row, "program")?,
        household_id: rows::get(row, "household_id")?,
        household_code: rows::get(row, "household_code")?,
        applicant_id: rows::get(row, "applicant_id")?,
        applicant_name: rows::get(row, "applicant_name")?,
        applicant_id_masked: mask_id_str(&rows::get::<String>(row, "applicant_id_number")?),
        household_address: rows::get(row, "household_address")?,
        division_filed: rows::get(row, "division_filed")?,
        division_responsible: rows::get(row, "division_responsible")?,
        department: rows::get(row, "department")?,
        hukou_elsewhere: flag(row, "hukou_elsewhere")?,
        flags: CaseFlags {
            staff_relative: flag(row, "staff_relative")?,
            urgent: flag(row, "urgent")?,
            protected: flag(row, "protected")?,
        },
        status: rows::case_status(row, "status")?,
        state: json_text(row, "state")?,
        revision: rows::get(row, "revision")?,
        created_at: parse_ts(&rows::get::<String>(row, "created_at")?)?,
        created_by: rows::get(row, "created_by")?,
        updated_at: parse_ts(&rows::get::<String>(row, "updated_at")?)?,
    })
}

fn event(row: &AnyRow) -> Result<CaseEvent> {
    Ok(CaseEvent {
        case_id: rows::get(row, "case_id")?,
        seq: rows::get(row, "seq")?,
        step: rows::get(row, "step")?,
        label: rows::get(row, "label")?,
        action: rows::get(row, "action")?,
        user_id: rows::get(row, "user_id")?,
        user_name: rows::get(row, "user_name")?,
        display_name: rows::get(row, "display_name")?,
        role: rows::get(row, "role")?,
        at: parse_ts(&rows::get::<String>(row, "at")?)?,
        on: parse_date(&rows::get::<String>(row, "on_date")?)?,
        opinion: rows::get(row, "opinion")?,
        investigators: strings(row, "investigators")?,
        attachments: json_text(row, "attachments")?,
        reasons: strings(row, "reasons")?,
        late: flag(row, "late")?,
    })
}

fn decision(row: &AnyRow) -> Result<CaseDecision> {
    Ok(CaseDecision {
        id: rows::get(row, "id")?,
        case_id: rows::get(row, "case_id")?,
        decision: NewDecision {
            outcome: rows::decision_outcome(row, "outcome")?,
            decided_on: parse_date(&rows::get::<String>(row, "decided_on")?)?,
            monthly_amount: Money::from_fen(rows::get(row, "monthly_amount")?),
            start_month: rows::get(row, "start_month")?,
            explanation: json_text(row, "explanation")?,
            policy_versions: json_text(row, "policy_versions")?,
            input_snapshot: json_text(row, "input_snapshot")?,
            reasons: strings(row, "reasons")?,
        },
        decided_by: rows::get(row, "decided_by")?,
        recorded_at: parse_ts(&rows::get::<String>(row, "recorded_at")?)?,
        letter_number: rows::get(row, "letter_number")?,
    })
}

/// `,a,b,` so that `LIKE '%,a,%'` finds a member.
fn list_text(items: &[String]) -> String {
    format!(",{},", items.join(","))
}

/// The letter number of a new decision: the next of the county's series for the decision's
/// year, with the county's prefix (or one derived from its name: 环翠区 → 环民救).
async fn allocate_letter(
    tx: &mut WriteTx<'_, '_>,
    case_id: CaseId,
    decision_id: i64,
    division: &str,
    d: &NewDecision,
) -> Result<String> {
    let county = county_of(division);
    let year = i64::from(d.decided_on.year());
    let prefix = match sqlx::query("SELECT prefix FROM letter_prefixes WHERE county = $1")
        .bind(county.as_str())
        .fetch_optional(tx.conn())
        .await?
    {
        Some(r) => rows::get::<String>(&r, "prefix")?,
        None => {
            let name = sqlx::query("SELECT name FROM divisions WHERE code = $1")
                .bind(county.as_str())
                .fetch_optional(tx.conn())
                .await?
                .map(|r| rows::get::<String>(&r, "name"))
                .transpose()?
                .unwrap_or_default();
            format!("{}民救", name.chars().next().unwrap_or('县'))
        }
    };
    let last = sqlx::query("SELECT last FROM letter_counters WHERE county = $1 AND year = $2")
        .bind(county.as_str())
        .bind(year)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| rows::get::<i64>(&r, "last"))
        .transpose()?;
    let seq = last.unwrap_or(0) + 1;
    let sql = if last.is_some() {
        "UPDATE letter_counters SET last = $3 WHERE county = $1 AND year = $2"
    } else {
        "INSERT INTO letter_counters (county, year, last) VALUES ($1, $2, $3)"
    };
    sqlx::query(sql)
        .bind(county.as_str())
        .bind(year)
        .bind(seq)
        .execute(tx.conn())
        .await?;
    let number = format!("{prefix}〔{year}〕{seq}号");
    sqlx::query(
        "INSERT INTO case_letters (decision_id, case_id, county, year, seq, number) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(decision_id)
    .bind(case_id)
    .bind(county.as_str())
    .bind(year)
    .bind(seq)
    .bind(number.as_str())
    .execute(tx.conn())
    .await?;
    Ok(number)
}

pub(super) fn not_found(id: CaseId) -> StoreError {
    StoreError::NotFound {
        kind: "case",
        id: id.to_string(),
    }
}

/// A case the reach allows, or `None`.
pub(super) async fn load_case(
    conn: &mut AnyConnection,
    reach: &Reach,
    id: CaseId,
) -> Result<Option<CaseRecord>> {
    let mut sql = Sql::new(&format!("SELECT {CASE_SELECT}{CASE_FROM} WHERE c.id = "));
    sql.bind_int(id);
    reach.and(&mut sql, "c");
    let row = sql.query().fetch_optional(conn).await?;
    row.map(|r| case(&r)).transpose()
}

/// The county of an approved, still running 低保 case of the person (as applicant or current
/// member of the case's household), if any.
pub(crate) async fn receiving_county(
    conn: &mut AnyConnection,
    person: PersonId,
    workflow: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT c.division_responsible FROM cases c \
         WHERE c.workflow = $2 AND c.status = 'approved' \
         AND NOT EXISTS (SELECT 1 FROM benefit_status b WHERE b.case_id = c.id AND b.status = 'ended') \
         AND (c.applicant_id = $1 OR \
         c.household_id IN (SELECT m.household_id FROM memberships m \
                            WHERE m.person_id = $1 AND m.left_on IS NULL)) \
         ORDER BY c.id LIMIT 1",
    )
    .bind(person)
    .bind(workflow)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|r| rows::get::<String>(&r, "division_responsible"))
        .transpose()?
        .map(|d| county_of(&d)))
}

pub(super) async fn write_open_steps(
    tx: &mut WriteTx<'_, '_>,
    id: CaseId,
    division: &str,
    steps: &[OpenStepRow],
) -> Result<()> {
    sqlx::query("DELETE FROM case_open_steps WHERE case_id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    for s in steps {
        sqlx::query(
            "INSERT INTO case_open_steps (case_id, step, label, roles, level, also_levels, \
             department, division, opened_on, due, not_before) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(s.step.as_str())
        .bind(s.label.as_str())
        .bind(list_text(&s.roles))
        .bind(s.level.as_str())
        .bind(list_text(&s.also_levels))
        .bind(s.department.as_deref())
        .bind(division)
        .bind(date_text(s.opened_on))
        .bind(s.due.map(date_text))
        .bind(s.not_before.map(date_text))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub(super) async fn append_events(
    tx: &mut WriteTx<'_, '_>,
    g_actor: &jiuzhu_domain::Actor,
    id: CaseId,
    events: &[NewCaseEvent],
) -> Result<()> {
    for e in events {
        sqlx::query(
            "INSERT INTO case_events (case_id, seq, step, label, action, user_id, user_name, \
             display_name, role, at, on_date, opinion, investigators, attachments, reasons, late) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(id)
        .bind(e.seq)
        .bind(e.step.as_str())
        .bind(e.label.as_str())
        .bind(e.action.as_str())
        .bind(g_actor.user_id)
        .bind(g_actor.username.as_str())
        .bind(e.display_name.as_str())
        .bind(g_actor.role.as_str())
        .bind(tx.now_text.clone())
        .bind(date_text(e.on))
        .bind(e.opinion.as_str())
        .bind(json!(e.investigators).to_string())
        .bind(e.attachments.to_string())
        .bind(json!(e.reasons).to_string())
        .bind(i64::from(e.late))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// What the audit log keeps of a transition: no personal data beyond ids, and no opinions
/// (they may describe the household's circumstances).
fn audit_after(c: &CaseRecord, events: &[NewCaseEvent], d: Option<&NewDecision>) -> Value {
    json!({
        "number": c.number,
        "workflow": c.workflow,
        "status": c.status,
        "revision": c.revision,
        "steps": events.iter().map(|e| json!({"step": e.step, "action": e.action, "on": date_text(e.on),
            "investigators": e.investigators.len()})).collect::<Vec<_>>(),
        "decision": d.map(|d| json!({"outcome": d.outcome, "monthly_amount": d.monthly_amount.to_string(),
            "start_month": d.start_month, "policy_versions": d.policy_versions})),
    })
}

/// The county of a stored division code, or the code itself above county level.
fn county_of(code: &str) -> String {
    match DivisionCode::parse(code) {
        Ok(d) => d.county().unwrap_or(d).to_string(),
        Err(_) => code.to_string(),
    }
}

#[async_trait]
impl CaseStore for SqlStore {
    async fn register_case(
        &self,
        g: &Grant<RegisterApplication>,
        new: &NewCase,
    ) -> Result<CaseRecord> {
        let scope = g.scope();
        let mut tx = self.write().await?;
        let hh = sqlx::query("SELECT division FROM households WHERE id = $1 AND division LIKE $2")
            .bind(new.household_id)
            .bind(scope.like_pattern())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "household",
                id: new.household_id.to_string(),
            })?;
        let responsible: String = rows::get(&hh, "division")?;
        let member = sqlx::query(
            "SELECT p.hukou_division FROM memberships m JOIN persons p ON p.id = m.person_id \
             WHERE m.household_id = $1 AND m.person_id = $2 AND m.left_on IS NULL",
        )
        .bind(new.household_id)
        .bind(new.applicant_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| {
            invalid(
                "applicant_id",
                "CASE_APPLICANT_NOT_MEMBER",
                "申请人不是该户的现有成员",
            )
        })?;
        let hukou: Option<String> = rows::get(&member, "hukou_division")?;
        let county = county_of(&responsible);
        let hukou_elsewhere = hukou.as_deref().is_some_and(|h| !h.starts_with(&county));
        if new.one_place_per_person {
            if let Some(c) = receiving_county(tx.conn(), new.applicant_id, &new.workflow).await? {
                return Err(invalid(
                    "applicant_id",
                    "CASE_DIBAO_ELSEWHERE",
                    format!("申请人已在 {c} 享受{},不能重复申请(R-PR-6)", new.program),
                ));
            }
        }
        let open = sqlx::query(
            "SELECT number FROM cases WHERE household_id = $1 AND workflow = $2 AND status = 'open'",
        )
        .bind(new.household_id)
        .bind(new.workflow.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if let Some(row) = open {
            let number: String = rows::get(&row, "number")?;
            return Err(invalid(
                "workflow",
                "CASE_ALREADY_OPEN",
                format!("该户已有办理中的同类申请 {number}"),
            ));
        }
        let actor = g.actor();
        let filed = if actor.is_system() {
            DivisionCode::parse(&responsible)
                .ok()
                .and_then(|d| d.township())
                .map_or(responsible.clone(), |t| t.to_string())
        } else {
            scope.root().to_string()
        };
        let year = self.today().year();
        let prefix = format!("{county}-{year}-");
        let row = sqlx::query("SELECT COUNT(*) FROM cases WHERE number LIKE $1")
            .bind(format!("{prefix}%"))
            .fetch_one(tx.conn())
            .await?;
        let number = format!("{prefix}{:06}", super::count_of(&row)? + 1);
        let id = tx.next_id("cases").await?;
        sqlx::query(
            "INSERT INTO cases (id, number, workflow, program, household_id, applicant_id, \
             division_filed, division_responsible, hukou_elsewhere, staff_relative, urgent, \
             protected, status, state, revision, created_at, created_by, updated_at, department) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14, $15, $16, $15, $17)",
        )
        .bind(id)
        .bind(number.as_str())
        .bind(new.workflow.as_str())
        .bind(new.program.as_str())
        .bind(new.household_id)
        .bind(new.applicant_id)
        .bind(filed.as_str())
        .bind(responsible.as_str())
        .bind(i64::from(hukou_elsewhere))
        .bind(i64::from(new.flags.staff_relative))
        .bind(i64::from(new.flags.urgent))
        .bind(i64::from(new.flags.protected))
        .bind(new.state.to_string())
        .bind(new.revision)
        .bind(tx.now_text.clone())
        .bind(actor.username.as_str())
        .bind(new.department.map(|d| d.as_str()))
        .execute(tx.conn())
        .await?;
        write_open_steps(&mut tx, id, &responsible, &new.open_steps).await?;
        append_events(&mut tx, actor, id, &new.events).await?;
        let rec = load_case(tx.conn(), &Reach::everything(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let division = DivisionCode::parse(&responsible)
            .map_err(|_| StoreError::Database(format!("bad division {responsible}")))?;
        let mut after = audit_after(&rec, &new.events, None);
        after["household_id"] = json!(new.household_id);
        after["applicant_id"] = json!(new.applicant_id);
        after["division_filed"] = json!(filed);
        after["hukou_elsewhere"] = json!(hukou_elsewhere);
        after["flags"] = json!(new.flags);
        tx.audit(
            actor.into(),
            Event::new(AuditAction::CaseRegistered, "case")
                .record(id)
                .division(&division)
                .after(after)
                .detail(format!("{} {}", number, new.program)),
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn get_case(&self, g: &Grant<ReadCases>, id: CaseId) -> Result<Option<CaseRecord>> {
        let mut conn = self.pool.acquire().await?;
        load_case(&mut conn, &Reach::of(g.actor(), &self.readers()), id).await
    }

    async fn case_events(&self, g: &Grant<ReadCases>, id: CaseId) -> Result<Vec<CaseEvent>> {
        let mut sql = Sql::new(
            "SELECT e.* FROM case_events e JOIN cases c ON c.id = e.case_id WHERE e.case_id = ",
        );
        sql.bind_int(id);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" ORDER BY e.seq");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(event).collect()
    }

    async fn case_decisions(&self, g: &Grant<ReadCases>, id: CaseId) -> Result<Vec<CaseDecision>> {
        let mut sql = Sql::new(
            "SELECT d.*, l.number AS letter_number FROM case_decisions d \
             JOIN cases c ON c.id = d.case_id LEFT JOIN case_letters l ON l.decision_id = d.id \
             WHERE d.case_id = ",
        );
        sql.bind_int(id);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" ORDER BY d.id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(decision).collect()
    }

    async fn list_cases(&self, g: &Grant<ReadCases>, q: &CaseQuery) -> Result<Page<CaseSummary>> {
        let mut from = Sql::new(CASE_FROM);
        from.push(" WHERE 1 = 1");
        Reach::of(g.actor(), &self.readers()).and(&mut from, "c");
        if let Some(w) = q.workflow.as_deref().filter(|s| !s.is_empty()) {
            from.push(" AND c.workflow = ").bind_text(w);
        }
        if let Some(s) = q.status {
            from.push(" AND c.status = ").bind_text(s.as_str());
        }
        if let Some(d) = &q.division {
            from.push(" AND c.division_responsible LIKE ")
                .bind_text(format!("{}%", d.prefix()));
        }
        let mut count = Sql::new("SELECT COUNT(*)");
        count.args = from.args.clone();
        count.push(&from.text);
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;
        let (limit, offset) = page_bounds(q.limit, q.offset);
        let mut list = Sql::new(&format!("SELECT {CASE_SELECT}"));
        list.args = from.args.clone();
        list.push(&from.text);
        list.push(" ORDER BY c.id DESC LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let rows = list.query().fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = case(r)?;
            let steps = sqlx::query(
                "SELECT label, due FROM case_open_steps WHERE case_id = $1 ORDER BY opened_on, step",
            )
            .bind(c.id)
            .fetch_all(&self.pool)
            .await?;
            let open_steps = steps
                .iter()
                .map(|s| Ok((rows::get::<String>(s, "label")?, opt_date(s, "due")?)))
                .collect::<Result<Vec<_>>>()?;
            items.push(CaseSummary {
                id: c.id,
                number: c.number,
                workflow: c.workflow,
                program: c.program,
                applicant_name: c.applicant_name,
                household_code: c.household_code,
                division_responsible: c.division_responsible,
                status: c.status,
                created_at: c.created_at,
                open_steps,
            });
        }
        Ok(Page { items, total })
    }

    async fn transition_case(
        &self,
        g: &Grant<ActOnCase>,
        id: CaseId,
        expected_revision: i64,
        t: &CaseTransition,
    ) -> Result<CaseRecord> {
        let mut tx = self.write().await?;
        let before = load_case(tx.conn(), &Reach::of(g.actor(), &self.readers()), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if before.revision != expected_revision {
            return Err(StoreError::Conflict {
                kind: "case",
                id: before.number,
                expected: expected_revision,
                actual: before.revision,
            });
        }
        sqlx::query(
            "UPDATE cases SET state = $1, revision = $2, status = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(t.state.to_string())
        .bind(t.revision)
        .bind(t.status.as_str())
        .bind(tx.now_text.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
        write_open_steps(&mut tx, id, &before.division_responsible, &t.open_steps).await?;
        let actor = g.actor();
        append_events(&mut tx, actor, id, &t.events).await?;
        let mut letter = None;
        if let Some(d) = &t.decision {
            let did = tx.next_id("case_decisions").await?;
            sqlx::query(
                "INSERT INTO case_decisions (id, case_id, outcome, decided_on, monthly_amount, \
                 start_month, explanation, policy_versions, input_snapshot, reasons, decided_by, \
                 recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(did)
            .bind(id)
            .bind(d.outcome.as_str())
            .bind(date_text(d.decided_on))
            .bind(d.monthly_amount.fen())
            .bind(d.start_month.as_deref())
            .bind(d.explanation.to_string())
            .bind(d.policy_versions.to_string())
            .bind(d.input_snapshot.to_string())
            .bind(json!(d.reasons).to_string())
            .bind(actor.username.as_str())
            .bind(tx.now_text.clone())
            .execute(tx.conn())
            .await?;
            letter =
                Some(allocate_letter(&mut tx, id, did, &before.division_responsible, d).await?);
            super::changes::after_decision(&mut tx, &before, did, d, t.starts_benefit).await?;
        }
        let rec = load_case(tx.conn(), &Reach::everything(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let division = DivisionCode::parse(&rec.division_responsible)
            .map_err(|_| StoreError::Database("bad case division".into()))?;
        let action = if t.decision.is_some() {
            AuditAction::CaseDecided
        } else {
            AuditAction::CaseStepRecorded
        };
        let detail = t
            .events
            .iter()
            .map(|e| format!("{} {}", e.label, e.action))
            .collect::<Vec<_>>()
            .join("; ");
        tx.audit(
            actor.into(),
            Event::new(action, "case")
                .record(id)
                .division(&division)
                .before(json!({"revision": before.revision, "status": before.status}))
                .after({
                    let mut after = audit_after(&rec, &t.events, t.decision.as_ref());
                    if let Some(n) = &letter {
                        after["decision"]["letter_number"] = json!(n);
                    }
                    after
                })
                .detail(format!("{} {detail}", rec.number)),
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn task_queue(&self, g: &Grant<ActOnCase>, q: &TaskQuery) -> Result<Vec<TaskRow>> {
        const SELECT: &str = "SELECT c.id AS case_id, c.number, c.workflow, c.program, \
            p.name AS applicant_name, s.division, s.step, s.label, s.level, s.opened_on, s.due, \
            s.not_before FROM case_open_steps s JOIN cases c ON c.id = s.case_id \
            JOIN persons p ON p.id = c.applicant_id WHERE s.division LIKE ";
        let reach = Reach::of(g.actor(), &self.readers());
        let mut own = Sql::new(SELECT);
        own.bind_text(g.scope().like_pattern())
            .push(" AND s.roles LIKE ")
            .bind_text(format!("%,{},%", g.actor().role.as_str()))
            .push(" AND (s.level = ")
            .bind_text(q.level.as_str())
            .push(" OR s.also_levels LIKE ")
            .bind_text(format!("%,{},%", q.level))
            .push(")");
        if let Some(d) = &q.department {
            own.push(" AND (s.department IS NULL OR s.department = ")
                .bind_text(d.as_str())
                .push(")");
        }
        reach.and(&mut own, "c");
        let mut out = Vec::new();
        let task = |r: &AnyRow, escalated: bool| -> Result<TaskRow> {
            Ok(TaskRow {
                case_id: rows::get(r, "case_id")?,
                number: rows::get(r, "number")?,
                workflow: rows::get(r, "workflow")?,
                program: rows::get(r, "program")?,
                applicant_name: rows::get(r, "applicant_name")?,
                division: rows::get(r, "division")?,
                step: rows::get(r, "step")?,
                label: rows::get(r, "label")?,
                level: rows::get(r, "level")?,
                opened_on: parse_date(&rows::get::<String>(r, "opened_on")?)?,
                due: opt_date(r, "due")?,
                not_before: opt_date(r, "not_before")?,
                escalated,
            })
        };
        for r in own.query().fetch_all(&self.pool).await? {
            out.push(task(&r, false)?);
        }
        if let Some(below) = &q.below_level {
            let mut esc = Sql::new(SELECT);
            esc.bind_text(g.scope().like_pattern())
                .push(" AND s.level = ")
                .bind_text(below.as_str())
                .push(" AND s.due < ")
                .bind_text(date_text(q.overdue_before));
            reach.and(&mut esc, "c");
            for r in esc.query().fetch_all(&self.pool).await? {
                let t = task(&r, true)?;
                if !out
                    .iter()
                    .any(|o| o.case_id == t.case_id && o.step == t.step)
                {
                    out.push(t);
                }
            }
        }
        out.sort_by(|a, b| {
            (a.due.is_none(), a.due, a.case_id, &a.step).cmp(&(
                b.due.is_none(),
                b.due,
                b.case_id,
                &b.step,
            ))
        });
        Ok(out)
    }

    async fn receives_anywhere(
        &self,
        _g: &Grant<jiuzhu_domain::access::RegisterApplication>,
        person: PersonId,
        workflow: &str,
    ) -> Result<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        receiving_county(&mut conn, person, workflow).await
    }

    async fn notice_list(
        &self,
        g: &Grant<ReadCases>,
        division: Option<&DivisionCode>,
    ) -> Result<Vec<NoticeEntry>> {
        // Only notice steps carry `not_before` (the day a notice may be closed).
        let mut sql = Sql::new(&format!(
            "SELECT {CASE_SELECT}, s.opened_on AS s_opened_on, s.not_before AS s_not_before, \
             s.due AS s_due{CASE_FROM} JOIN case_open_steps s ON s.case_id = c.id \
             WHERE s.not_before IS NOT NULL AND c.protected = 0"
        ));
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        if let Some(d) = division {
            sql.push(" AND c.division_responsible LIKE ")
                .bind_text(Scope::new(d.clone()).like_pattern());
        }
        sql.push(" ORDER BY c.division_responsible, s.opened_on, c.id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(NoticeEntry {
                    case: case(r)?,
                    posted_on: parse_date(&rows::get::<String>(r, "s_opened_on")?)?,
                    not_before: opt_date(r, "s_not_before")?,
                    due: opt_date(r, "s_due")?,
                })
            })
            .collect()
    }

    fn use_protected_readers(&self, readers: crate::ProtectedReaders) {
        if let Ok(mut r) = self.protected_readers.write() {
            *r = std::sync::Arc::new(readers);
        }
    }

    async fn filing_list(&self, g: &Grant<ReadCases>) -> Result<Vec<FilingEntry>> {
        let mut sql = Sql::new(
            "SELECT c.id, c.number, c.program, p.name AS applicant_name, c.division_responsible, \
             c.revision, d.decided_on, d.monthly_amount, l.number AS letter_number, \
             s.due AS filing_due, e.on_date AS filed_on, e.display_name AS filed_by, \
             x.kind AS change_kind, x.parent_case_id, o.stop_reason, o.last_paid_month, \
             o.effective_month \
             FROM cases c JOIN persons p ON p.id = c.applicant_id \
             JOIN case_decisions d ON d.case_id = c.id AND d.outcome = 'approved' \
             LEFT JOIN case_letters l ON l.decision_id = d.id \
             LEFT JOIN case_open_steps s ON s.case_id = c.id AND s.step = 'filing' \
             LEFT JOIN case_events e ON e.case_id = c.id AND e.step = 'filing' \
             LEFT JOIN case_changes x ON x.case_id = c.id \
             LEFT JOIN change_outcomes o ON o.decision_id = d.id \
             WHERE (s.case_id IS NOT NULL OR e.case_id IS NOT NULL)",
        );
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(
            " ORDER BY (CASE WHEN e.case_id IS NULL THEN 0 ELSE 1 END), s.due, \
             d.decided_on DESC, c.id",
        );
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(FilingEntry {
                    case_id: rows::get(r, "id")?,
                    number: rows::get(r, "number")?,
                    program: rows::get(r, "program")?,
                    applicant_name: rows::get(r, "applicant_name")?,
                    division_responsible: rows::get(r, "division_responsible")?,
                    decided_on: parse_date(&rows::get::<String>(r, "decided_on")?)?,
                    monthly_amount: Money::from_fen(rows::get(r, "monthly_amount")?),
                    letter_number: rows::get(r, "letter_number")?,
                    revision: rows::get(r, "revision")?,
                    filing_due: opt_date(r, "filing_due")?,
                    filed_on: opt_date(r, "filed_on")?,
                    filed_by: rows::get(r, "filed_by")?,
                    change_kind: rows::get(r, "change_kind")?,
                    parent_case_id: rows::get(r, "parent_case_id")?,
                    stop_reason: rows::get(r, "stop_reason")?,
                    last_paid_month: rows::get(r, "last_paid_month")?,
                    effective_month: rows::get(r, "effective_month")?,
                })
            })
            .collect()
    }

    async fn set_letter_prefix(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageDivisions>,
        county: &DivisionCode,
        prefix: &str,
    ) -> Result<()> {
        let prefix = prefix.trim();
        if county.as_str().len() != 6 {
            return Err(invalid("county", "LETTER_COUNTY", "须为6位区县代码"));
        }
        if prefix.is_empty() || prefix.chars().count() > 20 {
            return Err(invalid(
                "prefix",
                "LETTER_PREFIX",
                "文号前缀不能为空,且不超过20个字",
            ));
        }
        if !g.scope().contains(county) {
            return Err(StoreError::NotFound {
                kind: "division",
                id: county.to_string(),
            });
        }
        let mut tx = self.write().await?;
        let before = sqlx::query("SELECT prefix FROM letter_prefixes WHERE county = $1")
            .bind(county.as_str())
            .fetch_optional(tx.conn())
            .await?
            .map(|r| rows::get::<String>(&r, "prefix"))
            .transpose()?;
        let sql = if before.is_some() {
            "UPDATE letter_prefixes SET prefix = $2, updated_at = $3, updated_by = $4 WHERE county = $1"
        } else {
            "INSERT INTO letter_prefixes (county, prefix, updated_at, updated_by) VALUES ($1, $2, $3, $4)"
        };
        let actor = g.actor();
        sqlx::query(sql)
            .bind(county.as_str())
            .bind(prefix)
            .bind(tx.now_text.clone())
            .bind(actor.username.as_str())
            .execute(tx.conn())
            .await?;
        tx.audit(
            actor.into(),
            Event::new(AuditAction::LetterPrefixSet, "letter_prefix")
                .record(county.as_str())
                .division(county)
                .before(json!({"prefix": before}))
                .after(json!({"prefix": prefix}))
                .detail(format!("{county} {prefix}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
