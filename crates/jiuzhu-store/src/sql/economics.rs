//! Household economics (家庭经济状况): current record + history per household, and the
//! whole-caseload read as of a date that a month's computation needs.

use async_trait::async_trait;
use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{json, Value};
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ImportCaseload, ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{
    AuditAction, DivisionCode, EconomicsRecord, Grant, HouseholdEconomics, HouseholdFacts,
    HouseholdId, Member, PersonFacts, PersonId, Scope, Version,
};

use super::rows::{self, date_text, get, HOUSEHOLD_SELECT, MEMBERSHIP_SELECT, PERSON_SELECT};
use super::{invalid, values_sql, Backend, Event, SqlStore, WriteTx};
use crate::prelude::*;
use crate::{CaseloadEntry, HouseholdSnapshot, ImportEconomics, Result, StoreError};

const ECONOMICS_ROWS: usize = 500;

fn not_found(id: HouseholdId) -> StoreError {
    StoreError::NotFound {
        kind: "household",
        id: id.to_string(),
    }
}

/// The household's division, if it is in the scope.
async fn household_division(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: HouseholdId,
) -> Result<Option<String>> {
    let row = sqlx::query("SELECT division FROM households WHERE id = $1 AND division LIKE $2")
        .bind(id)
        .bind(scope.like_pattern())
        .fetch_optional(conn)
        .await?;
    row.map(|r| get::<String>(&r, "division")).transpose()
}

fn economics_json(s: &str) -> Result<HouseholdEconomics> {
    serde_json::from_str(s)
        .map_err(|_| StoreError::Database("unreadable household economics in database".into()))
}

/// A record from a row with `household_id`, `facts`, `valid_from`, `row_version`, `recorded_by`.
fn record(r: &sqlx::any::AnyRow) -> Result<EconomicsRecord> {
    Ok(EconomicsRecord {
        household_id: get(r, "household_id")?,
        economics: economics_json(&get::<String>(r, "facts")?)?,
        valid_from: rows::parse_date(&get::<String>(r, "valid_from")?)?,
        row_version: get(r, "row_version")?,
        recorded_by: get(r, "recorded_by")?,
    })
}

async fn current(conn: &mut AnyConnection, id: HouseholdId) -> Result<Option<EconomicsRecord>> {
    let row = sqlx::query(
        "SELECT household_id, facts, valid_from, row_version, recorded_by, updated_at \
         FROM household_economics WHERE household_id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| record(&r)).transpose()
}

/// The economics as the audit log keeps them: amounts as recorded, except the financial assets,
/// which are bank data and, like other bank data, only marked as present.
fn audit_json(e: &HouseholdEconomics, valid_from: NaiveDate) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Some(fin) = v.pointer_mut("/assets/financial") {
        *fin = json!("***");
    }
    if let Some(o) = v.as_object_mut() {
        o.insert("valid_from".into(), json!(date_text(valid_from)));
    }
    v
}

/// The record in force on `date` (the household's scope is the caller's check).
async fn as_of(
    conn: &mut AnyConnection,
    id: HouseholdId,
    date: NaiveDate,
) -> Result<Option<EconomicsRecord>> {
    let Some(cur) = current(&mut *conn, id).await? else {
        return Ok(None);
    };
    if date >= cur.valid_from {
        return Ok(Some(cur));
    }
    let row = sqlx::query(
        "SELECT household_id, facts, valid_from, row_version, recorded_by \
         FROM household_economics_history \
         WHERE household_id = $1 AND valid_from <= $2 AND valid_to > $2 \
         ORDER BY valid_from DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .bind(date_text(date))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| record(&r)).transpose()
}

/// A new version of a household's economic record, written in `tx` with its
/// `economics_recorded` event: [`SqlStore::save_economics_impl`], or a use-case that writes it
/// with more (a warning's closure).
pub(super) async fn save_economics_on(
    tx: &mut WriteTx<'_, '_>,
    g: &Grant<WriteRegistry>,
    id: HouseholdId,
    expected_version: Option<i64>,
    economics: &HouseholdEconomics,
    valid_from: NaiveDate,
) -> Result<EconomicsRecord> {
    let division = household_division(tx.conn(), g.scope(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let day = date_text(valid_from);
    let members: Vec<PersonId> = sqlx::query(
        "SELECT person_id FROM memberships WHERE household_id = $1 AND joined_on <= $2 \
             AND (left_on IS NULL OR left_on > $2)",
    )
    .bind(id)
    .bind(day.as_str())
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| get::<i64>(r, "person_id"))
    .collect::<Result<_>>()?;
    economics.validate(&members)?;
    let before = current(tx.conn(), id).await?;
    let conflict = |actual: i64| StoreError::Conflict {
        kind: "household_economics",
        id: id.to_string(),
        expected: expected_version.unwrap_or(0),
        actual,
    };
    let now = tx.now_text.clone();
    let facts = rows::to_json_text(economics);
    let actor = g.actor().username.clone();
    let row_version = match (&before, expected_version) {
        (None, None) => {
            sqlx::query(
                "INSERT INTO household_economics (household_id, facts, valid_from, \
                     row_version, created_at, updated_at, recorded_by) \
                     VALUES ($1, $2, $3, 1, $4, $4, $5)",
            )
            .bind(id)
            .bind(facts.as_str())
            .bind(day.as_str())
            .bind(now.as_str())
            .bind(actor.as_str())
            .execute(tx.conn())
            .await?;
            1
        }
        (None, Some(_)) => return Err(conflict(0)),
        (Some(cur), v) if v != Some(cur.row_version) => return Err(conflict(cur.row_version)),
        (Some(cur), _) => {
            if valid_from < cur.valid_from {
                return Err(invalid(
                    "valid_from",
                    "VALID_FROM_BEFORE_CURRENT",
                    format!(
                        "生效日期不能早于当前经济状况的生效日期({})",
                        date_text(cur.valid_from)
                    ),
                ));
            }
            let recorded_at: String = get(
                &sqlx::query("SELECT updated_at FROM household_economics WHERE household_id = $1")
                    .bind(id)
                    .fetch_one(tx.conn())
                    .await?,
                "updated_at",
            )?;
            sqlx::query(
                "INSERT INTO household_economics_history (household_id, valid_from, \
                     valid_to, facts, row_version, recorded_at, recorded_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(date_text(cur.valid_from))
            .bind(day.as_str())
            .bind(rows::to_json_text(&cur.economics))
            .bind(cur.row_version)
            .bind(recorded_at)
            .bind(cur.recorded_by.as_str())
            .execute(tx.conn())
            .await?;
            sqlx::query(
                "UPDATE household_economics SET facts = $1, valid_from = $2, \
                     row_version = row_version + 1, updated_at = $3, recorded_by = $4 \
                     WHERE household_id = $5 AND row_version = $6",
            )
            .bind(facts.as_str())
            .bind(day.as_str())
            .bind(now.as_str())
            .bind(actor.as_str())
            .bind(id)
            .bind(cur.row_version)
            .execute(tx.conn())
            .await?;
            cur.row_version + 1
        }
    };
    let mut ev = Event::new(AuditAction::EconomicsRecorded, "household_economics")
        .record(id)
        .after(audit_json(economics, valid_from));
    ev.division = Some(division);
    if let Some(b) = &before {
        ev = ev.before(audit_json(&b.economics, b.valid_from));
    }
    tx.audit(g.actor().into(), ev).await?;
    Ok(EconomicsRecord {
        household_id: id,
        economics: economics.clone(),
        valid_from,
        row_version,
        recorded_by: actor,
    })
}

#[async_trait]
impl EconomicsStore for SqlStore {
    async fn economics_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<EconomicsRecord>> {
        let mut conn = self.pool.acquire().await?;
        if household_division(&mut conn, g.scope(), id)
            .await?
            .is_none()
        {
            return Err(not_found(id));
        }
        as_of(&mut conn, id, date).await
    }

    async fn reveal_economics(
        &self,
        g: &Grant<RevealSensitive>,
        id: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<EconomicsRecord>> {
        let mut tx = self.write().await?;
        let division = household_division(tx.conn(), g.scope(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let rec = as_of(tx.conn(), id, date).await?;
        let mut ev = Event::new(AuditAction::SensitiveRevealed, "household_economics")
            .record(id)
            .after(
                json!({"fields": ["assets.financial"], "as_of": date_text(date),
                "row_version": rec.as_ref().map(|r| r.row_version)}),
            )
            .detail("household_economics:assets.financial".to_string());
        ev.division = Some(division);
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn economics_current(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Option<EconomicsRecord>> {
        let mut conn = self.pool.acquire().await?;
        if household_division(&mut conn, g.scope(), id)
            .await?
            .is_none()
        {
            return Err(not_found(id));
        }
        current(&mut conn, id).await
    }

    async fn economics_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Version<HouseholdEconomics>>> {
        let mut conn = self.pool.acquire().await?;
        if household_division(&mut conn, g.scope(), id)
            .await?
            .is_none()
        {
            return Err(not_found(id));
        }
        let mut out = Vec::new();
        let row = sqlx::query(
            "SELECT facts, valid_from, updated_at, recorded_by FROM household_economics \
             WHERE household_id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row {
            out.push(Version {
                valid_from: rows::parse_date(&get::<String>(&r, "valid_from")?)?,
                valid_to: None,
                recorded_at: rows::parse_ts(&get::<String>(&r, "updated_at")?)?,
                recorded_by: get(&r, "recorded_by")?,
                data: economics_json(&get::<String>(&r, "facts")?)?,
            });
        }
        let found = sqlx::query(
            "SELECT valid_from, valid_to, facts, recorded_at, recorded_by \
             FROM household_economics_history WHERE household_id = $1 \
             ORDER BY valid_from DESC, id DESC",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        for r in &found {
            out.push(rows::history_version(r)?);
        }
        Ok(out)
    }

    async fn save_economics(
        &self,
        g: &Grant<WriteRegistry>,
        id: HouseholdId,
        expected_version: Option<i64>,
        economics: &HouseholdEconomics,
        valid_from: NaiveDate,
    ) -> Result<EconomicsRecord> {
        let mut tx = self.write().await?;
        let saved =
            save_economics_on(&mut tx, g, id, expected_version, economics, valid_from).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn import_economics(
        &self,
        g: &Grant<ImportCaseload>,
        valid_from: NaiveDate,
        items: &[ImportEconomics],
    ) -> Result<u64> {
        let mut tx = self.write().await?;
        let day = date_text(valid_from);
        // Households of the scope and their members on the date, by code and identity number.
        let found = sqlx::query(
            "SELECT h.id AS hid, h.code, h.source_ref, p.id AS pid, p.id_number, \
             (SELECT COUNT(*) FROM household_economics e WHERE e.household_id = h.id) AS recorded \
             FROM households h JOIN memberships m ON m.household_id = h.id \
             JOIN persons p ON p.id = m.person_id \
             WHERE h.division LIKE $1 AND m.joined_on <= $2 \
             AND (m.left_on IS NULL OR m.left_on > $2)",
        )
        .bind(g.scope().like_pattern())
        .bind(day.as_str())
        .fetch_all(tx.conn())
        .await?;
        let mut households: HashMap<String, (HouseholdId, bool, HashMap<String, PersonId>)> =
            HashMap::new();
        for r in &found {
            let code: String = get(r, "code")?;
            let source: Option<String> = get(r, "source_ref")?;
            for key in std::iter::once(code).chain(source) {
                let e = households.entry(key).or_insert((
                    get(r, "hid")?,
                    get::<i64>(r, "recorded")? > 0,
                    HashMap::new(),
                ));
                e.2.insert(get(r, "id_number")?, get(r, "pid")?);
            }
        }
        let mut errors = jiuzhu_domain::ValidationErrors::default();
        let mut resolved = Vec::with_capacity(items.len());
        for (row, item) in items.iter().enumerate() {
            let err = |field: &str, code: &str, msg: String| {
                jiuzhu_domain::FieldError::new(field, code, msg).at_row(row + 1)
            };
            let Some((hid, recorded, members)) = households.get(&item.household_code) else {
                errors.push(err(
                    "household_code",
                    "HOUSEHOLD_UNKNOWN",
                    format!("户编号 {} 不存在或不在本辖区", item.household_code),
                ));
                continue;
            };
            if *recorded {
                errors.push(err(
                    "household_code",
                    "ECONOMICS_EXISTS",
                    format!("户编号 {} 已登记经济状况", item.household_code),
                ));
                continue;
            }
            let mut e = item.economics.clone();
            for (i, (m, n)) in e.members.iter_mut().zip(&item.id_numbers).enumerate() {
                match members.get(n.as_str()) {
                    Some(pid) => m.person_id = *pid,
                    None => errors.push(err(
                        &format!("members[{i}]"),
                        "MEMBER_NOT_IN_HOUSEHOLD",
                        format!("{} 在 {day} 不是该家庭的成员", n.masked()),
                    )),
                }
            }
            let ids: Vec<PersonId> = members.values().copied().collect();
            if let Err(v) = e.validate(&ids) {
                for x in v.0 {
                    errors.push(x.at_row(row + 1));
                }
            }
            resolved.push((*hid, e));
        }
        errors.into_result()?;
        let now = tx.now_text.clone();
        let actor = g.actor().username.clone();
        let insert = match self.backend {
            Backend::Sqlite => "INSERT OR FAIL INTO",
            Backend::Postgres => "INSERT INTO",
        };
        let head = format!(
            "{insert} household_economics (household_id, facts, valid_from, row_version, \
             created_at, updated_at, recorded_by)"
        );
        for chunk in resolved.chunks(ECONOMICS_ROWS) {
            let sql = values_sql(self.backend, &head, "?, ?, ?, 1, ?, ?, ?", chunk.len());
            let texts: Vec<String> = chunk.iter().map(|(_, e)| rows::to_json_text(e)).collect();
            let mut q = sqlx::query(&sql);
            for ((hid, _), t) in chunk.iter().zip(&texts) {
                q = q
                    .bind(*hid)
                    .bind(t.as_str())
                    .bind(day.as_str())
                    .bind(now.as_str())
                    .bind(now.as_str())
                    .bind(actor.as_str());
            }
            q.execute(tx.conn()).await?;
        }
        let ev = Event::new(AuditAction::EconomicsRecorded, "household_economics").detail(
            json!({"households": resolved.len(), "valid_from": day, "import": true}).to_string(),
        );
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(resolved.len() as u64)
    }

    async fn caseload_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        division: Option<&DivisionCode>,
        date: NaiveDate,
    ) -> Result<Vec<CaseloadEntry>> {
        let scope = g.scope().like_pattern();
        // Inside the scope and inside the filter: both prefixes must match.
        let filter = match division {
            Some(d) => format!("{}%", d.prefix()),
            None => scope.clone(),
        };
        let day = date_text(date);
        let mut conn = self.pool.acquire().await?;
        let in_scope = "h.division LIKE $1 AND h.division LIKE $2";

        let sql =
            format!("SELECT {HOUSEHOLD_SELECT} FROM households h WHERE {in_scope} ORDER BY h.id");
        let households = sqlx::query(&sql)
            .bind(scope.as_str())
            .bind(filter.as_str())
            .fetch_all(&mut *conn)
            .await?;

        // Household facts superseded since the date.
        let old_facts = sqlx::query(&format!(
            "SELECT hh.household_id, hh.facts FROM household_history hh \
             JOIN households h ON h.id = hh.household_id \
             WHERE {in_scope} AND h.valid_from > $3 AND hh.valid_from <= $3 AND hh.valid_to > $3 \
             ORDER BY hh.valid_from, hh.id"
        ))
        .bind(scope.as_str())
        .bind(filter.as_str())
        .bind(day.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut facts_then: HashMap<HouseholdId, HouseholdFacts> = HashMap::new();
        for r in &old_facts {
            facts_then.insert(get(r, "household_id")?, rows::json_facts(r)?);
        }

        let members = sqlx::query(&format!(
            "SELECT {MEMBERSHIP_SELECT}, {PERSON_SELECT} FROM memberships m \
             JOIN households h ON h.id = m.household_id JOIN persons p ON p.id = m.person_id \
             WHERE {in_scope} AND m.joined_on <= $3 AND (m.left_on IS NULL OR m.left_on > $3) \
             ORDER BY m.household_id, m.joined_on, m.id"
        ))
        .bind(scope.as_str())
        .bind(filter.as_str())
        .bind(day.as_str())
        .fetch_all(&mut *conn)
        .await?;

        // Person facts superseded since the date, for the members on the date.
        let old_persons = sqlx::query(&format!(
            "SELECT ph.person_id, ph.row_version, ph.valid_from, ph.facts FROM person_history ph \
             JOIN persons p ON p.id = ph.person_id \
             JOIN memberships m ON m.person_id = p.id \
             JOIN households h ON h.id = m.household_id \
             WHERE {in_scope} AND m.joined_on <= $3 AND (m.left_on IS NULL OR m.left_on > $3) \
             AND p.valid_from > $3 AND ph.valid_from <= $3 AND ph.valid_to > $3 \
             ORDER BY ph.valid_from, ph.id"
        ))
        .bind(scope.as_str())
        .bind(filter.as_str())
        .bind(day.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut persons_then: HashMap<PersonId, (NaiveDate, PersonFacts)> = HashMap::new();
        for r in &old_persons {
            persons_then.insert(
                get(r, "person_id")?,
                (
                    rows::parse_date(&get::<String>(r, "valid_from")?)?,
                    rows::person_history_facts(r, self.keys())?,
                ),
            );
        }

        let econ_now = sqlx::query(&format!(
            "SELECT e.household_id, e.facts, e.valid_from, e.row_version, e.recorded_by \
             FROM household_economics e JOIN households h ON h.id = e.household_id \
             WHERE {in_scope} AND e.valid_from <= $3"
        ))
        .bind(scope.as_str())
        .bind(filter.as_str())
        .bind(day.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let econ_old = sqlx::query(&format!(
            "SELECT x.household_id, x.facts, x.valid_from, x.row_version, x.recorded_by \
             FROM household_economics_history x \
             JOIN household_economics e ON e.household_id = x.household_id \
             JOIN households h ON h.id = x.household_id \
             WHERE {in_scope} AND e.valid_from > $3 AND x.valid_from <= $3 AND x.valid_to > $3 \
             ORDER BY x.valid_from, x.id"
        ))
        .bind(scope.as_str())
        .bind(filter.as_str())
        .bind(day.as_str())
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut economics: HashMap<HouseholdId, EconomicsRecord> = HashMap::new();
        for r in econ_now.iter().chain(&econ_old) {
            let rec = record(r)?;
            economics.insert(rec.household_id, rec);
        }

        let mut by_household: HashMap<HouseholdId, Vec<Member>> = HashMap::new();
        for r in &members {
            let membership = rows::membership(r)?;
            let mut person = rows::person(r, self.keys())?;
            if let Some((from, facts)) = persons_then.get(&person.id) {
                person.valid_from = *from;
                person.facts = facts.clone();
            }
            by_household
                .entry(membership.household_id)
                .or_default()
                .push(Member { membership, person });
        }

        let mut out = Vec::with_capacity(households.len());
        for r in &households {
            let household = rows::household(r)?;
            let facts = if date >= household.valid_from {
                household.facts.clone()
            } else {
                match facts_then.remove(&household.id) {
                    Some(f) => f,
                    // The household's record starts later.
                    None => continue,
                }
            };
            let id = household.id;
            out.push(CaseloadEntry {
                snapshot: HouseholdSnapshot {
                    household,
                    as_of: date,
                    facts,
                    members: by_household.remove(&id).unwrap_or_default(),
                },
                economics: economics.remove(&id),
            });
        }
        Ok(out)
    }
}
