//! Households: current facts, history, dated membership, snapshots as of a date.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::json;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ReadRegistry, WriteRegistry};
use jiuzhu_domain::{
    AuditAction, DivisionCode, Grant, Household, HouseholdFacts, HouseholdId, Member, Membership,
    MembershipId, PersonId, Relation, Scope, Version,
};

use super::persons::{check_division, load_person};
use super::rows::{self, date_text, get, HOUSEHOLD_SELECT, MEMBERSHIP_SELECT, PERSON_SELECT};
use super::{invalid, like_escape, page_bounds, Event, Sql, SqlStore, WriteTx};
use crate::data_key::DataKeys;
use crate::prelude::*;
use crate::{
    HouseholdQuery, HouseholdSnapshot, HouseholdSummary, NewHousehold, Page, Result, StoreError,
};

async fn load_household(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: HouseholdId,
) -> Result<Option<(Household, String)>> {
    let sql = format!(
        "SELECT {HOUSEHOLD_SELECT} FROM households h WHERE h.id = $1 AND h.division LIKE $2"
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(scope.like_pattern())
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((rows::household(&r)?, get::<String>(&r, "recorded_by")?)))
        .transpose()
}

fn not_found(kind: &'static str, id: i64) -> StoreError {
    StoreError::NotFound {
        kind,
        id: id.to_string(),
    }
}

/// Generated household codes: `H`, the division code, a 5-digit sequence per division.
pub(crate) fn generated_code(division: &DivisionCode, seq: i64) -> String {
    format!("H{division}{seq:05}")
}

/// Codes of the generated form are reserved, so that a hand-given code never takes one that the
/// sequence will hand out later.
fn is_reserved_code(code: &str) -> bool {
    code.len() > 1 && code.starts_with('H') && code[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The last sequence numbers used for generated codes, per division.
pub(crate) async fn code_seq(conn: &mut AnyConnection, division: &str) -> Result<i64> {
    let row = sqlx::query("SELECT last FROM household_code_seq WHERE division = $1")
        .bind(division)
        .fetch_optional(conn)
        .await?;
    row.map(|r| get::<i64>(&r, "last"))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

pub(crate) async fn set_code_seq(
    conn: &mut AnyConnection,
    division: &str,
    last: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO household_code_seq (division, last) VALUES ($1, $2) \
         ON CONFLICT (division) DO UPDATE SET last = excluded.last",
    )
    .bind(division)
    .bind(last)
    .execute(conn)
    .await?;
    Ok(())
}

/// Members active on `date`, with the person facts in force on that date where known.
async fn members_on(
    conn: &mut AnyConnection,
    keys: &DataKeys,
    household: HouseholdId,
    date: NaiveDate,
) -> Result<Vec<Member>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_SELECT}, {PERSON_SELECT} FROM memberships m \
         JOIN persons p ON p.id = m.person_id \
         WHERE m.household_id = $1 AND m.joined_on <= $2 AND (m.left_on IS NULL OR m.left_on > $2) \
         ORDER BY m.joined_on, m.id"
    );
    let day = date_text(date);
    let found = sqlx::query(&sql)
        .bind(household)
        .bind(day.as_str())
        .fetch_all(&mut *conn)
        .await?;
    let mut members = Vec::with_capacity(found.len());
    for r in &found {
        let mut person = rows::person(r, keys)?;
        if date < person.valid_from {
            let old = sqlx::query(
                "SELECT person_id, row_version, valid_from, facts FROM person_history \
                 WHERE person_id = $1 AND valid_from <= $2 AND valid_to > $2 \
                 ORDER BY valid_from DESC, id DESC LIMIT 1",
            )
            .bind(person.id)
            .bind(day.as_str())
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(old) = old {
                person.facts = rows::person_history_facts(&old, keys)?;
                person.valid_from = rows::parse_date(&get::<String>(&old, "valid_from")?)?;
            }
        }
        members.push(Member {
            membership: rows::membership(r)?,
            person,
        });
    }
    Ok(members)
}

impl SqlStore {
    pub(crate) async fn visible_household(
        &self,
        scope: &Scope,
        id: HouseholdId,
    ) -> Result<Option<Household>> {
        let mut conn = self.pool.acquire().await?;
        Ok(load_household(&mut conn, scope, id).await?.map(|(h, _)| h))
    }
}

#[async_trait]
impl HouseholdStore for SqlStore {
    async fn search_households(
        &self,
        g: &Grant<ReadRegistry>,
        q: &HouseholdQuery,
    ) -> Result<Page<HouseholdSummary>> {
        let mut from = Sql::new(" FROM households h WHERE h.division LIKE ");
        from.bind_text(g.scope().like_pattern());
        if let Some(d) = &q.division {
            from.push(" AND h.division LIKE ")
                .bind_text(format!("{}%", d.prefix()));
        }
        if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let exact = jiuzhu_domain::IdNumber::parse(text)
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|_| text.to_string());
            let pattern = format!("%{}%", like_escape(text));
            from.push(" AND (h.code LIKE ")
                .bind_text(pattern.clone())
                .push(" ESCAPE '\\' OR h.address LIKE ")
                .bind_text(pattern.clone())
                .push(
                    " ESCAPE '\\' OR EXISTS (SELECT 1 FROM memberships mm \
                     JOIN persons pp ON pp.id = mm.person_id \
                     WHERE mm.household_id = h.id AND (pp.name LIKE ",
                )
                .bind_text(pattern)
                .push(" ESCAPE '\\' OR pp.id_number = ")
                .bind_text(exact)
                .push(")))");
        }
        let mut count = Sql::new("SELECT COUNT(*)");
        count.text.push_str(&from.text);
        count.args = from.args.clone();
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;

        let today = date_text(self.today());
        let (limit, offset) = page_bounds(q.limit, q.offset);
        let mut page = Sql {
            text: String::new(),
            args: from.args.clone(),
        };
        page.push(&format!(
            "SELECT {HOUSEHOLD_SELECT}, \
             (SELECT p.name FROM memberships m JOIN persons p ON p.id = m.person_id \
              WHERE m.household_id = h.id AND m.relation = 'head' AND m.joined_on <= "
        ))
        .bind_text(today.clone())
        .push(" AND (m.left_on IS NULL OR m.left_on > ")
        .bind_text(today.clone())
        .push(
            ") ORDER BY m.joined_on DESC LIMIT 1) AS head_name, \
             (SELECT COUNT(*) FROM memberships m WHERE m.household_id = h.id AND m.joined_on <= ",
        )
        .bind_text(today.clone())
        .push(" AND (m.left_on IS NULL OR m.left_on > ")
        .bind_text(today)
        .push(")) AS member_count");
        page.text.push_str(&from.text);
        page.push(" ORDER BY h.id LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let mut items = Vec::new();
        for r in page.query().fetch_all(&self.pool).await? {
            let h = rows::household(&r)?;
            items.push(HouseholdSummary {
                id: h.id,
                code: h.code,
                division: h.facts.division,
                area: h.facts.area,
                address: h.facts.address,
                head_name: get(&r, "head_name")?,
                member_count: get(&r, "member_count")?,
            });
        }
        Ok(Page { items, total })
    }

    async fn get_household(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Option<Household>> {
        self.visible_household(g.scope(), id).await
    }

    async fn household_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Version<HouseholdFacts>>> {
        let mut conn = self.pool.acquire().await?;
        let (current, recorded_by) = load_household(&mut conn, g.scope(), id)
            .await?
            .ok_or_else(|| not_found("household", id))?;
        let mut out = vec![Version {
            valid_from: current.valid_from,
            valid_to: None,
            recorded_at: current.updated_at,
            recorded_by,
            data: current.facts,
        }];
        let rows = sqlx::query(
            "SELECT valid_from, valid_to, facts, recorded_at, recorded_by FROM household_history \
             WHERE household_id = $1 ORDER BY valid_from DESC, id DESC",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            out.push(rows::history_version(r)?);
        }
        Ok(out)
    }

    async fn household_members(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Member>> {
        let mut conn = self.pool.acquire().await?;
        load_household(&mut conn, g.scope(), id)
            .await?
            .ok_or_else(|| not_found("household", id))?;
        let sql = format!(
            "SELECT {MEMBERSHIP_SELECT}, {PERSON_SELECT} FROM memberships m \
             JOIN persons p ON p.id = m.person_id WHERE m.household_id = $1 \
             ORDER BY m.joined_on, m.id"
        );
        let found = sqlx::query(&sql).bind(id).fetch_all(&mut *conn).await?;
        found
            .iter()
            .map(|r| {
                Ok(Member {
                    membership: rows::membership(r)?,
                    person: rows::person(r, self.keys())?,
                })
            })
            .collect()
    }

    async fn household_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<HouseholdSnapshot>> {
        let mut conn = self.pool.acquire().await?;
        let Some((household, _)) = load_household(&mut conn, g.scope(), id).await? else {
            return Ok(None);
        };
        let facts = if date >= household.valid_from {
            household.facts.clone()
        } else {
            let row = sqlx::query(
                "SELECT facts FROM household_history \
                 WHERE household_id = $1 AND valid_from <= $2 AND valid_to > $2 \
                 ORDER BY valid_from DESC, id DESC LIMIT 1",
            )
            .bind(id)
            .bind(date_text(date))
            .fetch_optional(&mut *conn)
            .await?;
            match row {
                Some(r) => rows::json_facts(&r)?,
                // The household's record starts later.
                None => return Ok(None),
            }
        };
        let members = members_on(&mut conn, self.keys(), id, date).await?;
        Ok(Some(HouseholdSnapshot {
            household,
            as_of: date,
            facts,
            members,
        }))
    }

    async fn create_household(
        &self,
        g: &Grant<WriteRegistry>,
        new: &NewHousehold,
    ) -> Result<Household> {
        let facts = HouseholdFacts {
            address: new.facts.address.trim().to_string(),
            ..new.facts.clone()
        };
        if !g.scope().contains(&facts.division) {
            return Err(StoreError::OutOfScope(facts.division.to_string()));
        }
        let given = new.code.as_deref().map(str::trim);
        match given {
            Some("") => return Err(invalid("code", "REQUIRED", "户编号不能为空")),
            Some(c) if is_reserved_code(c) => {
                return Err(invalid(
                    "code",
                    "HOUSEHOLD_CODE_RESERVED",
                    "“H”加数字形式的户编号由系统生成,请留空或使用其他编号",
                ))
            }
            Some(c) if c.chars().count() > 64 => {
                return Err(invalid("code", "CODE_TOO_LONG", "户编号不能超过64个字符"))
            }
            _ => {}
        }
        let mut tx = self.write().await?;
        check_division(&mut tx, g.scope(), "division", &facts.division).await?;
        let code = match given {
            Some(c) => {
                let taken = sqlx::query("SELECT id FROM households WHERE code = $1")
                    .bind(c)
                    .fetch_optional(tx.conn())
                    .await?;
                if taken.is_some() {
                    return Err(StoreError::Duplicate {
                        field: "code",
                        value: c.to_string(),
                    });
                }
                c.to_string()
            }
            None => {
                let seq = code_seq(tx.conn(), facts.division.as_str()).await? + 1;
                set_code_seq(tx.conn(), facts.division.as_str(), seq).await?;
                generated_code(&facts.division, seq)
            }
        };
        let id = tx.next_id("households").await?;
        let now = tx.now_text.clone();
        sqlx::query(
            "INSERT INTO households (id, code, address, division, area, source_ref, valid_from, \
             row_version, created_at, updated_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, 1, $7, $7, $8)",
        )
        .bind(id)
        .bind(code.as_str())
        .bind(facts.address.as_str())
        .bind(facts.division.as_str())
        .bind(facts.area.as_str())
        .bind(date_text(new.valid_from))
        .bind(now.as_str())
        .bind(g.actor().username.as_str())
        .execute(tx.conn())
        .await?;
        let household = Household {
            id,
            code,
            facts,
            valid_from: new.valid_from,
            row_version: 1,
            source_ref: None,
            created_at: tx.now,
            updated_at: tx.now,
        };
        let ev = Event::new(AuditAction::HouseholdCreated, "household")
            .record(id)
            .division(&household.facts.division)
            .after(rows::household_audit(&household));
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(household)
    }

    async fn update_household(
        &self,
        g: &Grant<WriteRegistry>,
        id: HouseholdId,
        expected_version: i64,
        facts: &HouseholdFacts,
        valid_from: NaiveDate,
    ) -> Result<Household> {
        let facts = HouseholdFacts {
            address: facts.address.trim().to_string(),
            ..facts.clone()
        };
        let mut tx = self.write().await?;
        let (current, recorded_by) = load_household(tx.conn(), g.scope(), id)
            .await?
            .ok_or_else(|| not_found("household", id))?;
        if current.row_version != expected_version {
            return Err(StoreError::Conflict {
                kind: "household",
                id: id.to_string(),
                expected: expected_version,
                actual: current.row_version,
            });
        }
        if valid_from < current.valid_from {
            return Err(invalid(
                "valid_from",
                "VALID_FROM_BEFORE_CURRENT",
                format!(
                    "生效日期不能早于当前信息的生效日期({})",
                    date_text(current.valid_from)
                ),
            ));
        }
        check_division(&mut tx, g.scope(), "division", &facts.division).await?;
        sqlx::query(
            "INSERT INTO household_history (household_id, valid_from, valid_to, facts, \
             row_version, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(date_text(current.valid_from))
        .bind(date_text(valid_from))
        .bind(rows::to_json_text(&current.facts))
        .bind(current.row_version)
        .bind(rows::ts_text(current.updated_at))
        .bind(recorded_by)
        .execute(tx.conn())
        .await?;
        let now = tx.now_text.clone();
        sqlx::query(
            "UPDATE households SET address = $1, division = $2, area = $3, valid_from = $4, \
             row_version = row_version + 1, updated_at = $5, recorded_by = $6 \
             WHERE id = $7 AND row_version = $8",
        )
        .bind(facts.address.as_str())
        .bind(facts.division.as_str())
        .bind(facts.area.as_str())
        .bind(date_text(valid_from))
        .bind(now.as_str())
        .bind(g.actor().username.as_str())
        .bind(id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?;
        let updated = Household {
            facts,
            valid_from,
            row_version: current.row_version + 1,
            updated_at: tx.now,
            ..current.clone()
        };
        let ev = Event::new(AuditAction::HouseholdUpdated, "household")
            .record(id)
            .division(&updated.facts.division)
            .before(rows::household_audit(&current))
            .after(rows::household_audit(&updated))
            .detail(
                json!({
                    "changed": rows::changed_fields(&current.facts, &updated.facts),
                    "valid_from": date_text(valid_from),
                })
                .to_string(),
            );
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn add_member(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        person: PersonId,
        relation: Relation,
        joined_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership> {
        let mut tx = self.write().await?;
        let (h, _) = load_household(tx.conn(), g.scope(), household)
            .await?
            .ok_or_else(|| not_found("household", household))?;
        load_person(tx.conn(), self.keys(), g.scope(), person)
            .await?
            .ok_or_else(|| not_found("person", person))?;
        let day = date_text(joined_on);
        // A membership that is open or ends after the new one starts overlaps it.
        let overlapping = sqlx::query(
            "SELECT h.code FROM memberships m JOIN households h ON h.id = m.household_id \
             WHERE m.person_id = $1 AND (m.left_on IS NULL OR m.left_on > $2) LIMIT 1",
        )
        .bind(person)
        .bind(day.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if let Some(r) = overlapping {
            let code: String = get(&r, "code")?;
            return Err(invalid(
                "person_id",
                "MEMBERSHIP_ACTIVE",
                format!("该人员在{day}仍是家庭(户编号{code})的成员,请先办理退出"),
            ));
        }
        if relation == Relation::Head {
            let head = sqlx::query(
                "SELECT 1 AS one FROM memberships WHERE household_id = $1 AND relation = 'head' \
                 AND (left_on IS NULL OR left_on > $2) LIMIT 1",
            )
            .bind(household)
            .bind(day.as_str())
            .fetch_optional(tx.conn())
            .await?;
            if head.is_some() {
                return Err(invalid(
                    "relation",
                    "HEAD_EXISTS",
                    "该家庭已有户主,请先办理原户主退出",
                ));
            }
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let id = tx.next_id("memberships").await?;
        let now = tx.now_text.clone();
        let inserted = sqlx::query(
            "INSERT INTO memberships (id, household_id, person_id, relation, joined_on, left_on, \
             join_reason, leave_reason, created_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, NULL, $7, $8)",
        )
        .bind(id)
        .bind(household)
        .bind(person)
        .bind(relation.as_str())
        .bind(day.as_str())
        .bind(reason)
        .bind(now.as_str())
        .bind(g.actor().username.as_str())
        .execute(tx.conn())
        .await;
        match inserted {
            Err(e) if super::is_unique_violation(&e) => {
                return Err(invalid(
                    "person_id",
                    "MEMBERSHIP_ACTIVE",
                    "该人员已是其他家庭的成员,请先办理退出",
                ))
            }
            other => {
                other?;
            }
        }
        let m = Membership {
            id,
            household_id: household,
            person_id: person,
            relation,
            joined_on,
            left_on: None,
            join_reason: reason.map(str::to_string),
            leave_reason: None,
        };
        let ev = Event::new(AuditAction::MemberAdded, "membership")
            .record(id)
            .division(&h.facts.division)
            .after(rows::membership_audit(&m));
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(m)
    }

    async fn end_membership(
        &self,
        g: &Grant<WriteRegistry>,
        membership: MembershipId,
        left_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership> {
        let mut tx: WriteTx = self.write().await?;
        let sql = format!(
            "SELECT {MEMBERSHIP_SELECT}, h.division AS h_division FROM memberships m \
             JOIN households h ON h.id = m.household_id \
             WHERE m.id = $1 AND h.division LIKE $2"
        );
        let row = sqlx::query(&sql)
            .bind(membership)
            .bind(g.scope().like_pattern())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| not_found("membership", membership))?;
        let current = rows::membership(&row)?;
        let division: String = get(&row, "h_division")?;
        if let Some(l) = current.left_on {
            return Err(invalid(
                "membership_id",
                "MEMBERSHIP_ENDED",
                format!("该成员已于{}退出", date_text(l)),
            ));
        }
        if left_on < current.joined_on {
            return Err(invalid(
                "left_on",
                "LEFT_BEFORE_JOINED",
                format!("退出日期不能早于加入日期({})", date_text(current.joined_on)),
            ));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        sqlx::query("UPDATE memberships SET left_on = $1, leave_reason = $2 WHERE id = $3")
            .bind(date_text(left_on))
            .bind(reason)
            .bind(membership)
            .execute(tx.conn())
            .await?;
        let ended = Membership {
            left_on: Some(left_on),
            leave_reason: reason.map(str::to_string),
            ..current.clone()
        };
        let mut ev = Event::new(AuditAction::MemberLeft, "membership")
            .record(membership)
            .before(rows::membership_audit(&current))
            .after(rows::membership_audit(&ended));
        ev.division = Some(division);
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(ended)
    }
}
