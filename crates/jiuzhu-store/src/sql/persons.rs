//! Persons: current facts, effective-dated history, search, reveal.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::json;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{
    AuditAction, DivisionCode, FieldError, Grant, IdNumber, Membership, Person, PersonFacts,
    PersonId, Scope, Sex, ValidationErrors, Version,
};

use super::divisions::existing_codes;
use super::rows::{
    self, date_text, get, PersonFactValues, MEMBERSHIP_SELECT, PERSON_FACT_COLS, PERSON_FACT_COUNT,
    PERSON_SELECT,
};
use super::{like_escape, page_bounds, Event, Sql, SqlStore, WriteTx};
use crate::data_key::DataKeys;
use crate::prelude::*;
use crate::{Page, PersonQuery, PersonSummary, Result, StoreError};

/// Longest accepted name, in characters (as the importer).
const MAX_NAME_CHARS: usize = 40;

/// `$from, $from+1, …` for `n` values.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn load_person(
    conn: &mut AnyConnection,
    keys: &DataKeys,
    scope: &Scope,
    id: PersonId,
) -> Result<Option<(Person, String)>> {
    let sql = format!(
        "SELECT {PERSON_SELECT} FROM persons p WHERE p.id = $1 AND p.residence_division LIKE $2"
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(scope.like_pattern())
        .fetch_optional(conn)
        .await?;
    row.map(|r| Ok((rows::person(&r, keys)?, get::<String>(&r, "recorded_by")?)))
        .transpose()
}

/// Checks the facts a form or API call supplies for a person with `id_number`.
fn check_facts(id_number: &IdNumber, f: &PersonFacts) -> Result<()> {
    let mut errors = ValidationErrors::default();
    let name = f.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "REQUIRED", "姓名不能为空"));
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            "name",
            "NAME_TOO_LONG",
            format!("姓名不能超过{MAX_NAME_CHARS}个字"),
        ));
    }
    if f.birth_date != id_number.birth_date() {
        errors.push(FieldError::new(
            "birth_date",
            "BIRTH_DATE_MISMATCH",
            format!(
                "出生日期与身份证号码不符(号码中为{})",
                date_text(id_number.birth_date())
            ),
        ));
    }
    if f.sex != id_number.sex() {
        errors.push(FieldError::new(
            "sex",
            "SEX_MISMATCH",
            format!(
                "性别与身份证号码不符(号码中为{})",
                match id_number.sex() {
                    Sex::Male => "男",
                    Sex::Female => "女",
                }
            ),
        ));
    }
    if let Some(d) = f.disability {
        if !(1..=4).contains(&d.grade) {
            errors.push(FieldError::new(
                "disability.grade",
                "DISABILITY_GRADE_INVALID",
                "残疾等级应为1至4级",
            ));
        }
    }
    errors.into_result().map_err(StoreError::Invalid)
}

/// A record's division must be in the actor's scope (else `OutOfScope`) and in the tree.
pub(crate) async fn check_division(
    tx: &mut WriteTx<'_, '_>,
    scope: &Scope,
    field: &str,
    code: &DivisionCode,
) -> Result<()> {
    if !scope.contains(code) {
        return Err(StoreError::OutOfScope(code.to_string()));
    }
    if existing_codes(tx.conn(), &[code.to_string()])
        .await?
        .is_empty()
    {
        return Err(super::invalid(
            field,
            "DIVISION_UNKNOWN",
            format!("区划“{code}”不在区划树中"),
        ));
    }
    Ok(())
}

impl SqlStore {
    pub(crate) async fn visible_person(
        &self,
        scope: &Scope,
        id: PersonId,
    ) -> Result<Option<Person>> {
        let mut conn = self.pool.acquire().await?;
        Ok(load_person(&mut conn, self.keys(), scope, id)
            .await?
            .map(|(p, _)| p))
    }

    async fn visible_person_or_404(&self, scope: &Scope, id: PersonId) -> Result<(Person, String)> {
        let mut conn = self.pool.acquire().await?;
        load_person(&mut conn, self.keys(), scope, id)
            .await?
            .ok_or_else(|| not_found(id))
    }
}

/// Whether a search text looks like a bank account number: 10 to 32 digits, spaces and dashes
/// allowed between them.
fn is_account_number(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (10..=32).contains(&digits)
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
}

fn not_found(id: PersonId) -> StoreError {
    StoreError::NotFound {
        kind: "person",
        id: id.to_string(),
    }
}

#[async_trait]
impl PersonStore for SqlStore {
    async fn search_persons(
        &self,
        g: &Grant<ReadRegistry>,
        q: &PersonQuery,
    ) -> Result<Page<PersonSummary>> {
        let today = date_text(self.today());
        let mut from = Sql::new(
            " FROM persons p \
             LEFT JOIN memberships m ON m.person_id = p.id AND m.joined_on <= ",
        );
        from.bind_text(today.clone())
            .push(" AND (m.left_on IS NULL OR m.left_on > ")
            .bind_text(today)
            .push(") LEFT JOIN households h ON h.id = m.household_id WHERE p.residence_division LIKE ")
            .bind_text(g.scope().like_pattern());
        if let Some(d) = &q.division {
            from.push(" AND p.residence_division LIKE ")
                .bind_text(format!("{}%", d.prefix()));
        }
        if let Some(prefix) = q
            .id_prefix
            .as_deref()
            .map(str::trim)
            .filter(|p| p.len() >= 6 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            from.push(" AND p.id_number LIKE ")
                .bind_text(format!("{}%", prefix.to_uppercase()));
        }
        if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let exact = IdNumber::parse(text)
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|_| text.to_string());
            from.push(" AND (p.name LIKE ")
                .bind_text(format!("%{}%", like_escape(text)))
                .push(" ESCAPE '\\' OR p.id_number = ")
                .bind_text(exact)
                .push(" OR h.code = ")
                .bind_text(text);
            if is_account_number(text) {
                // Found by its blind index: the account itself is stored encrypted.
                from.push(" OR p.bank_account_bidx = ")
                    .bind_text(self.keys().bank_account_index(text));
            }
            from.push(")");
        }
        let mut count = Sql::new("SELECT COUNT(*)");
        count.text.push_str(&from.text);
        count.args = from.args.clone();
        let total = super::count_of(&count.query().fetch_one(&self.pool).await?)?;

        let (limit, offset) = page_bounds(q.limit, q.offset);
        let mut page = Sql::new(
            "SELECT p.id, p.id_number, p.name, p.sex, p.birth_date, p.residence_division, \
             h.id AS household_id, h.code AS household_code",
        );
        page.text.push_str(&from.text);
        page.args = from.args;
        page.push(" ORDER BY p.id LIMIT ")
            .bind_int(limit)
            .push(" OFFSET ")
            .bind_int(offset);
        let mut items = Vec::new();
        for r in page.query().fetch_all(&self.pool).await? {
            let id_number: String = get(&r, "id_number")?;
            let sex: String = get(&r, "sex")?;
            let residence: String = get(&r, "residence_division")?;
            items.push(PersonSummary {
                id: get(&r, "id")?,
                id_number: IdNumber::parse(&id_number)
                    .map_err(|_| StoreError::Database("bad id_number in database".into()))?,
                name: get(&r, "name")?,
                sex: Sex::parse(&sex)
                    .ok_or_else(|| StoreError::Database("bad sex in database".into()))?,
                birth_date: rows::parse_date(&get::<String>(&r, "birth_date")?)?,
                residence_division: DivisionCode::parse(&residence)
                    .map_err(|_| StoreError::Database("bad division in database".into()))?,
                household_id: get(&r, "household_id")?,
                household_code: get(&r, "household_code")?,
            });
        }
        Ok(Page { items, total })
    }

    async fn get_person(&self, g: &Grant<ReadRegistry>, id: PersonId) -> Result<Option<Person>> {
        self.visible_person(g.scope(), id).await
    }

    async fn find_person_by_id_number(
        &self,
        g: &Grant<ReadRegistry>,
        id_number: &IdNumber,
    ) -> Result<Option<Person>> {
        let sql = format!(
            "SELECT {PERSON_SELECT} FROM persons p \
             WHERE p.id_number = $1 AND p.residence_division LIKE $2"
        );
        let row = sqlx::query(&sql)
            .bind(id_number.as_str())
            .bind(g.scope().like_pattern())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| rows::person(&r, self.keys())).transpose()
    }

    async fn person_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Version<PersonFacts>>> {
        let (current, recorded_by) = self.visible_person_or_404(g.scope(), id).await?;
        let mut out = vec![Version {
            valid_from: current.valid_from,
            valid_to: None,
            recorded_at: current.updated_at,
            recorded_by,
            data: current.facts,
        }];
        let rows = sqlx::query(
            "SELECT person_id, row_version, valid_from, valid_to, facts, recorded_at, recorded_by \
             FROM person_history WHERE person_id = $1 ORDER BY valid_from DESC, id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            out.push(rows::person_history_version(r, self.keys())?);
        }
        Ok(out)
    }

    async fn person_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
        date: NaiveDate,
    ) -> Result<Option<PersonFacts>> {
        let Some(current) = self.visible_person(g.scope(), id).await? else {
            return Ok(None);
        };
        if date >= current.valid_from {
            return Ok(Some(current.facts));
        }
        let row = sqlx::query(
            "SELECT person_id, row_version, facts FROM person_history \
             WHERE person_id = $1 AND valid_from <= $2 AND valid_to > $2 \
             ORDER BY valid_from DESC, id DESC LIMIT 1",
        )
        .bind(id)
        .bind(date_text(date))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| rows::person_history_facts(&r, self.keys()))
            .transpose()
    }

    async fn create_person(
        &self,
        g: &Grant<WriteRegistry>,
        id_number: &IdNumber,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person> {
        check_facts(id_number, facts)?;
        if !g.scope().contains(&facts.residence_division) {
            return Err(StoreError::OutOfScope(facts.residence_division.to_string()));
        }
        let mut tx = self.write().await?;
        check_division(
            &mut tx,
            g.scope(),
            "residence_division",
            &facts.residence_division,
        )
        .await?;
        let taken = sqlx::query("SELECT id FROM persons WHERE id_number = $1")
            .bind(id_number.as_str())
            .fetch_optional(tx.conn())
            .await?;
        if taken.is_some() {
            return Err(StoreError::Duplicate {
                field: "id_number",
                value: id_number.masked(),
            });
        }
        let id = tx.next_id("persons").await?;
        let sql = format!(
            "INSERT INTO persons (id, id_number, {PERSON_FACT_COLS}, valid_from, row_version, \
             created_at, updated_at, recorded_by) VALUES ({})",
            placeholders(1, PERSON_FACT_COUNT + 7)
        );
        let values = PersonFactValues::of(facts, self.keys(), id, 1);
        let now = tx.now_text.clone();
        let q = sqlx::query(&sql).bind(id).bind(id_number.as_str());
        values
            .bind(q)
            .bind(date_text(valid_from))
            .bind(1_i64)
            .bind(now.as_str())
            .bind(now.as_str())
            .bind(g.actor().username.as_str())
            .execute(tx.conn())
            .await?;
        let ev = Event::new(AuditAction::PersonCreated, "person")
            .record(id)
            .division(&facts.residence_division)
            .after(rows::person_audit(id_number, facts));
        tx.audit(g.actor().into(), ev).await?;
        let person = Person {
            id,
            id_number: id_number.clone(),
            facts: facts.clone(),
            valid_from,
            row_version: 1,
            created_at: tx.now,
            updated_at: tx.now,
        };
        tx.commit().await?;
        Ok(person)
    }

    async fn update_person(
        &self,
        g: &Grant<WriteRegistry>,
        id: PersonId,
        expected_version: i64,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person> {
        let mut tx = self.write().await?;
        let (current, recorded_by) = load_person(tx.conn(), self.keys(), g.scope(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if current.row_version != expected_version {
            return Err(StoreError::Conflict {
                kind: "person",
                id: id.to_string(),
                expected: expected_version,
                actual: current.row_version,
            });
        }
        check_facts(&current.id_number, facts)?;
        if valid_from < current.valid_from {
            return Err(super::invalid(
                "valid_from",
                "VALID_FROM_BEFORE_CURRENT",
                format!(
                    "生效日期不能早于当前信息的生效日期({})",
                    date_text(current.valid_from)
                ),
            ));
        }
        check_division(
            &mut tx,
            g.scope(),
            "residence_division",
            &facts.residence_division,
        )
        .await?;
        sqlx::query(
            "INSERT INTO person_history (person_id, valid_from, valid_to, facts, row_version, \
             recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(date_text(current.valid_from))
        .bind(date_text(valid_from))
        .bind(rows::person_history_text(
            &current.facts,
            self.keys(),
            id,
            current.row_version,
        ))
        .bind(current.row_version)
        .bind(rows::ts_text(current.updated_at))
        .bind(recorded_by)
        .execute(tx.conn())
        .await?;
        let sets: Vec<String> = PERSON_FACT_COLS
            .split(',')
            .enumerate()
            .map(|(i, c)| format!("{} = ${}", c.trim(), i + 1))
            .collect();
        let n = PERSON_FACT_COUNT;
        let sql = format!(
            "UPDATE persons SET {}, valid_from = ${}, row_version = row_version + 1, \
             updated_at = ${}, recorded_by = ${} WHERE id = ${} AND row_version = ${}",
            sets.join(", "),
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5
        );
        let values = PersonFactValues::of(facts, self.keys(), id, expected_version + 1);
        let now = tx.now_text.clone();
        let done = values
            .bind(sqlx::query(&sql))
            .bind(date_text(valid_from))
            .bind(now.as_str())
            .bind(g.actor().username.as_str())
            .bind(id)
            .bind(expected_version)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Database("person update touched no row".into()));
        }
        let changed = rows::changed_fields(&current.facts, facts);
        let ev = Event::new(AuditAction::PersonUpdated, "person")
            .record(id)
            .division(&facts.residence_division)
            .before(rows::person_audit(&current.id_number, &current.facts))
            .after(rows::person_audit(&current.id_number, facts))
            .detail(json!({ "changed": changed, "valid_from": date_text(valid_from) }).to_string());
        tx.audit(g.actor().into(), ev).await?;
        let person = Person {
            facts: facts.clone(),
            valid_from,
            row_version: current.row_version + 1,
            updated_at: tx.now,
            ..current
        };
        tx.commit().await?;
        Ok(person)
    }

    async fn reveal_person(
        &self,
        g: &Grant<RevealSensitive>,
        id: PersonId,
        fields: &[&str],
    ) -> Result<Person> {
        let mut tx = self.write().await?;
        let (person, _) = load_person(tx.conn(), self.keys(), g.scope(), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let ev = Event::new(AuditAction::SensitiveRevealed, "person")
            .record(id)
            .division(&person.facts.residence_division)
            .detail(json!({ "fields": fields }).to_string());
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(person)
    }

    async fn person_memberships(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Membership>> {
        self.visible_person_or_404(g.scope(), id).await?;
        let sql = format!(
            "SELECT {MEMBERSHIP_SELECT} FROM memberships m WHERE m.person_id = $1 \
             ORDER BY m.joined_on, m.id"
        );
        sqlx::query(&sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::membership)
            .collect()
    }
}
