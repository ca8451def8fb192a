//! Mapping between rows and domain types, in one place for both backends.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use jiuzhu_domain::{
    Approval, Area, AuditAction, AuditEntry, AuditRecord, Department, Disability, DisabilityKind,
    DivisionCode, EducationStage, Employment, Household, HouseholdFacts, IdNumber, Membership,
    Person, PersonFacts, Relation, Role, SelfCareAssessment, Session, Sex, User, Version,
    WorkAbility,
};

use crate::data_key::{DataKeys, Slot};
use crate::{Result, StoreError};

pub(crate) fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get::<T, _>(col).map_err(StoreError::from)
}

/// A case's status as stored.
pub(crate) fn case_status(row: &AnyRow, col: &str) -> Result<jiuzhu_domain::case::CaseStatus> {
    let s: String = get(row, col)?;
    jiuzhu_domain::case::CaseStatus::parse(&s).ok_or_else(|| corrupt("case status", &s))
}

/// A decision's outcome as stored.
pub(crate) fn decision_outcome(
    row: &AnyRow,
    col: &str,
) -> Result<jiuzhu_domain::case::DecisionOutcome> {
    let s: String = get(row, col)?;
    jiuzhu_domain::case::DecisionOutcome::parse(&s).ok_or_else(|| corrupt("decision outcome", &s))
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("unreadable {what} in database: {value:?}"))
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("timestamp", s))
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| corrupt("date", s))
}

pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn ts_text(t: DateTime<Utc>) -> String {
    jiuzhu_domain::audit::format_time(t)
}

fn division(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|_| corrupt("division code", s))
}

fn opt_ts(row: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    get::<Option<String>>(row, col)?
        .map(|s| parse_ts(&s))
        .transpose()
}

fn date_col(row: &AnyRow, col: &str) -> Result<NaiveDate> {
    parse_date(&get::<String>(row, col)?)
}

fn ts_col(row: &AnyRow, col: &str) -> Result<DateTime<Utc>> {
    parse_ts(&get::<String>(row, col)?)
}

fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(get::<i64>(row, col)? != 0)
}

macro_rules! parse_code {
    ($ty:ty, $row:expr, $col:expr) => {{
        let s: String = get($row, $col)?;
        <$ty>::parse(&s).ok_or_else(|| corrupt($col, &s))?
    }};
}

// ---- persons -----------------------------------------------------------------------------------

/// The columns of `persons` that hold [`PersonFacts`], in binding order (with the bank
/// account's blind index).
pub(crate) const PERSON_FACT_COLS: &str = "name, sex, birth_date, hukou_division, \
    residence_division, phone, disability_kind, disability_grade, serious_illness, illness_note, \
    education, employment, work_ability, self_care, bank_account, bank_account_bidx";
pub(crate) const PERSON_FACT_COUNT: usize = 16;

/// Every column of `persons`, qualified with the alias `p`.
pub(crate) const PERSON_SELECT: &str = "p.id, p.id_number, p.name, p.sex, p.birth_date, \
    p.hukou_division, p.residence_division, p.phone, p.disability_kind, p.disability_grade, \
    p.serious_illness, p.illness_note, p.education, p.employment, p.work_ability, p.self_care, \
    p.bank_account, p.valid_from, p.row_version, p.created_at, p.updated_at, p.recorded_by";

/// The person facts stored encrypted in `persons` (docs/security.md, "Encryption at rest"):
/// the bank account and the illness note.
pub(crate) const SEALED_PERSON_FIELDS: [&str; 2] = ["illness_note", "bank_account"];

/// The person facts stored encrypted inside the JSON of `person_history`: the phone as well,
/// since a superseded phone has no use in plaintext (the current one is called).
pub(crate) const SEALED_HISTORY_FIELDS: [&str; 3] = ["phone", "illness_note", "bank_account"];

/// A person version's row identity in the ciphertexts' associated data: id and row version.
pub(crate) fn person_row(id: i64, row_version: i64) -> String {
    format!("{id}/{row_version}")
}

fn seal(keys: &DataKeys, table: &str, column: &str, row: &str, v: Option<&str>) -> Option<String> {
    v.map(|plain| keys.encrypt(Slot { table, column, row }, plain))
}

pub(crate) fn unseal(
    keys: &DataKeys,
    table: &str,
    column: &str,
    row: &str,
    v: Option<String>,
) -> Result<Option<String>> {
    v.map(|stored| {
        keys.decrypt(Slot { table, column, row }, &stored)
            .map_err(|e| StoreError::Database(e.to_string()))
    })
    .transpose()
}

/// `PersonFacts` as column values, in the order of [`PERSON_FACT_COLS`]: illness note and bank
/// account encrypted for the row (`persons`, id, row version).
pub(crate) struct PersonFactValues {
    name: String,
    sex: &'static str,
    birth_date: String,
    hukou_division: Option<String>,
    residence_division: String,
    phone: Option<String>,
    disability_kind: Option<&'static str>,
    disability_grade: Option<i64>,
    serious_illness: i64,
    illness_note: Option<String>,
    education: &'static str,
    employment: &'static str,
    work_ability: &'static str,
    self_care: Option<String>,
    bank_account: Option<String>,
    bank_account_bidx: Option<String>,
}

impl PersonFactValues {
    pub fn of(f: &PersonFacts, keys: &DataKeys, id: i64, row_version: i64) -> PersonFactValues {
        // Formatted only for a person with something to encrypt (an import of a million
        // persons without accounts or notes should not pay for it).
        let sealed = |column, v: &Option<String>| {
            v.as_deref().map(|plain| {
                let row = person_row(id, row_version);
                keys.encrypt(
                    Slot {
                        table: "persons",
                        column,
                        row: &row,
                    },
                    plain,
                )
            })
        };
        PersonFactValues {
            name: f.name.clone(),
            sex: f.sex.as_str(),
            birth_date: date_text(f.birth_date),
            hukou_division: f.hukou_division.as_ref().map(|d| d.to_string()),
            residence_division: f.residence_division.to_string(),
            phone: f.phone.clone(),
            disability_kind: f.disability.map(|d| d.kind.as_str()),
            disability_grade: f.disability.map(|d| i64::from(d.grade)),
            serious_illness: i64::from(f.serious_illness),
            illness_note: sealed("illness_note", &f.illness_note),
            education: f.education.as_str(),
            employment: f.employment.as_str(),
            work_ability: f.work_ability.as_str(),
            self_care: f
                .self_care
                .as_ref()
                .map(|s| serde_json::to_string(s).expect("plain struct serializes")),
            bank_account: sealed("bank_account", &f.bank_account),
            bank_account_bidx: f
                .bank_account
                .as_deref()
                .map(|a| keys.bank_account_index(a)),
        }
    }

    pub fn bind<'q>(
        &'q self,
        q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        q.bind(self.name.as_str())
            .bind(self.sex)
            .bind(self.birth_date.as_str())
            .bind(self.hukou_division.as_deref())
            .bind(self.residence_division.as_str())
            .bind(self.phone.as_deref())
            .bind(self.disability_kind)
            .bind(self.disability_grade)
            .bind(self.serious_illness)
            .bind(self.illness_note.as_deref())
            .bind(self.education)
            .bind(self.employment)
            .bind(self.work_ability)
            .bind(self.self_care.as_deref())
            .bind(self.bank_account.as_deref())
            .bind(self.bank_account_bidx.as_deref())
    }
}

/// The facts of a `persons` row (`row`: its [`person_row`]).
pub(crate) fn person_facts(row: &AnyRow, keys: &DataKeys, ident: &str) -> Result<PersonFacts> {
    let disability = match get::<Option<String>>(row, "disability_kind")? {
        Some(kind) => Some(Disability {
            kind: DisabilityKind::parse(&kind).ok_or_else(|| corrupt("disability_kind", &kind))?,
            grade: u8::try_from(get::<Option<i64>>(row, "disability_grade")?.unwrap_or(0))
                .map_err(|_| corrupt("disability_grade", "out of range"))?,
        }),
        None => None,
    };
    let self_care = match get::<Option<String>>(row, "self_care")? {
        Some(s) => Some(
            serde_json::from_str::<SelfCareAssessment>(&s).map_err(|_| corrupt("self_care", &s))?,
        ),
        None => None,
    };
    let opened = |column| unseal(keys, "persons", column, ident, get(row, column)?);
    Ok(PersonFacts {
        name: get(row, "name")?,
        sex: {
            let s: String = get(row, "sex")?;
            Sex::parse(&s).ok_or_else(|| corrupt("sex", &s))?
        },
        birth_date: date_col(row, "birth_date")?,
        hukou_division: get::<Option<String>>(row, "hukou_division")?
            .map(|s| division(&s))
            .transpose()?,
        residence_division: division(&get::<String>(row, "residence_division")?)?,
        phone: get(row, "phone")?,
        disability,
        serious_illness: flag(row, "serious_illness")?,
        illness_note: opened("illness_note")?,
        education: parse_code!(EducationStage, row, "education"),
        employment: parse_code!(Employment, row, "employment"),
        work_ability: parse_code!(WorkAbility, row, "work_ability"),
        self_care,
        bank_account: opened("bank_account")?,
    })
}

pub(crate) fn person(row: &AnyRow, keys: &DataKeys) -> Result<Person> {
    let id_number: String = get(row, "id_number")?;
    let id: i64 = get(row, "id")?;
    let row_version: i64 = get(row, "row_version")?;
    Ok(Person {
        id,
        id_number: IdNumber::parse(&id_number).map_err(|_| corrupt("id_number", "invalid"))?,
        facts: person_facts(row, keys, &person_row(id, row_version))?,
        valid_from: date_col(row, "valid_from")?,
        row_version,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

/// A superseded version of a person's facts as `person_history.facts` stores it: JSON whose
/// sealed fields are ciphertexts for (`person_history`, person id, the version's row version).
pub(crate) fn person_history_text(
    f: &PersonFacts,
    keys: &DataKeys,
    person_id: i64,
    row_version: i64,
) -> String {
    let mut v = serde_json::to_value(f).expect("domain types serialize");
    let row = person_row(person_id, row_version);
    for column in SEALED_HISTORY_FIELDS {
        if let Some(plain) = v[column].as_str() {
            let sealed = seal(keys, "person_history", column, &row, Some(plain));
            v[column] = json!(sealed);
        }
    }
    v.to_string()
}

/// The facts of a `person_history` row (columns `person_id`, `row_version`, `facts`).
pub(crate) fn person_history_facts(row: &AnyRow, keys: &DataKeys) -> Result<PersonFacts> {
    let text: String = get(row, "facts")?;
    let ident = person_row(get(row, "person_id")?, get(row, "row_version")?);
    let mut v: Value =
        serde_json::from_str(&text).map_err(|_| corrupt("history facts", "invalid JSON"))?;
    for column in SEALED_HISTORY_FIELDS {
        if let Some(stored) = v[column].as_str() {
            let plain = unseal(
                keys,
                "person_history",
                column,
                &ident,
                Some(stored.to_string()),
            )?;
            v[column] = json!(plain);
        }
    }
    serde_json::from_value(v).map_err(|_| corrupt("history facts", "invalid facts"))
}

/// A superseded version of a person (columns of [`history_version`] plus `person_id` and
/// `row_version`).
pub(crate) fn person_history_version(
    row: &AnyRow,
    keys: &DataKeys,
) -> Result<Version<PersonFacts>> {
    Ok(Version {
        valid_from: parse_date(&get::<String>(row, "valid_from")?)?,
        valid_to: Some(parse_date(&get::<String>(row, "valid_to")?)?),
        recorded_at: parse_ts(&get::<String>(row, "recorded_at")?)?,
        recorded_by: get(row, "recorded_by")?,
        data: person_history_facts(row, keys)?,
    })
}

/// Facts stored as JSON in the history tables.
pub(crate) fn json_facts<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T> {
    let s: String = get(row, "facts")?;
    serde_json::from_str(&s).map_err(|_| corrupt("history facts", "invalid JSON"))
}

/// A superseded version from a history table (`valid_from`, `valid_to`, `facts`, `recorded_at`,
/// `recorded_by`).
pub(crate) fn history_version<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<Version<T>> {
    Ok(Version {
        valid_from: parse_date(&get::<String>(row, "valid_from")?)?,
        valid_to: Some(parse_date(&get::<String>(row, "valid_to")?)?),
        recorded_at: parse_ts(&get::<String>(row, "recorded_at")?)?,
        recorded_by: get(row, "recorded_by")?,
        data: json_facts(row)?,
    })
}

pub(crate) fn to_json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain types serialize")
}

/// A person as the audit log shows it: identity number and phone masked as pages mask them,
/// the birth date as its year, and every sensitive field `***` whether it holds a value or not
/// (`null` beside `***` would tell a reader of the log who has health or bank data). Which
/// fields changed is recorded by name beside the copies.
pub(crate) fn person_audit(id_number: &IdNumber, f: &PersonFacts) -> Value {
    let hidden = |_present: bool| json!("***");
    json!({
        "id_number": id_number.masked(),
        "name": f.name,
        "sex": f.sex.as_str(),
        "birth_year": chrono::Datelike::year(&f.birth_date),
        "hukou_division": f.hukou_division.as_ref().map(|d| d.to_string()),
        "residence_division": f.residence_division.to_string(),
        "phone": f.phone.as_deref().map(jiuzhu_domain::id_number::mask_phone),
        "disability": hidden(f.disability.is_some()),
        "serious_illness": hidden(f.serious_illness),
        "illness_note": hidden(f.illness_note.is_some()),
        "education": f.education.as_str(),
        "employment": f.employment.as_str(),
        "work_ability": f.work_ability.as_str(),
        "self_care": f.self_care,
        "bank_account": hidden(f.bank_account.is_some()),
    })
}

/// Names of the top-level fields whose values differ (computed on the full, unmasked values, so
/// that a change of a sensitive field is recorded even though its value is not).
pub(crate) fn changed_fields<T: serde::Serialize>(before: &T, after: &T) -> Vec<String> {
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

// ---- households and memberships ----------------------------------------------------------------

pub(crate) const HOUSEHOLD_SELECT: &str = "h.id, h.code, h.address, h.division, h.area, \
    h.source_ref, h.valid_from, h.row_version, h.created_at, h.updated_at, h.recorded_by";

pub(crate) fn household_facts(row: &AnyRow) -> Result<HouseholdFacts> {
    Ok(HouseholdFacts {
        address: get(row, "address")?,
        division: division(&get::<String>(row, "division")?)?,
        area: parse_code!(Area, row, "area"),
    })
}

pub(crate) fn household(row: &AnyRow) -> Result<Household> {
    Ok(Household {
        id: get(row, "id")?,
        code: get(row, "code")?,
        facts: household_facts(row)?,
        valid_from: date_col(row, "valid_from")?,
        row_version: get(row, "row_version")?,
        source_ref: get(row, "source_ref")?,
        created_at: ts_col(row, "created_at")?,
        updated_at: ts_col(row, "updated_at")?,
    })
}

pub(crate) fn household_audit(h: &Household) -> Value {
    json!({
        "code": h.code,
        "address": h.facts.address,
        "division": h.facts.division.to_string(),
        "area": h.facts.area.as_str(),
        "valid_from": date_text(h.valid_from),
    })
}

/// Columns of `memberships` under the alias `m`; the names are prefixed `m_` so that they can
/// be selected together with a person's columns.
pub(crate) const MEMBERSHIP_SELECT: &str = "m.id AS m_id, m.household_id AS m_household_id, \
    m.person_id AS m_person_id, m.relation AS m_relation, m.joined_on AS m_joined_on, \
    m.left_on AS m_left_on, m.join_reason AS m_join_reason, m.leave_reason AS m_leave_reason";

pub(crate) fn membership(row: &AnyRow) -> Result<Membership> {
    Ok(Membership {
        id: get(row, "m_id")?,
        household_id: get(row, "m_household_id")?,
        person_id: get(row, "m_person_id")?,
        relation: parse_code!(Relation, row, "m_relation"),
        joined_on: date_col(row, "m_joined_on")?,
        left_on: get::<Option<String>>(row, "m_left_on")?
            .map(|s| parse_date(&s))
            .transpose()?,
        join_reason: get(row, "m_join_reason")?,
        leave_reason: get(row, "m_leave_reason")?,
    })
}

pub(crate) fn membership_audit(m: &Membership) -> Value {
    json!({
        "household_id": m.household_id,
        "person_id": m.person_id,
        "relation": m.relation.as_str(),
        "joined_on": date_text(m.joined_on),
        "left_on": m.left_on.map(date_text),
        "join_reason": m.join_reason,
        "leave_reason": m.leave_reason,
    })
}

// ---- users and sessions ------------------------------------------------------------------------

pub(crate) const USER_SELECT: &str = "id, username, display_name, role, department, division, \
    password_hash, must_change_password, failed_logins, password_changed_at, active, approval, \
    requested_by, approved_by, approved_at, row_version, created_at";

pub(crate) fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: get(row, "id")?,
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        role: {
            let s: String = get(row, "role")?;
            Role::parse(&s).ok_or_else(|| corrupt("role", &s))?
        },
        department: match get::<Option<String>>(row, "department")? {
            Some(s) => Some(Department::parse(&s).ok_or_else(|| corrupt("department", &s))?),
            None => None,
        },
        division: division(&get::<String>(row, "division")?)?,
        password_hash: get(row, "password_hash")?,
        must_change_password: flag(row, "must_change_password")?,
        failed_logins: get(row, "failed_logins")?,
        // Rows from before migration 0015 have no time of their last password change.
        password_changed_at: match opt_ts(row, "password_changed_at")? {
            Some(t) => t,
            None => ts_col(row, "created_at")?,
        },
        active: flag(row, "active")?,
        approval: {
            let s: String = get(row, "approval")?;
            Approval::parse(&s).ok_or_else(|| corrupt("approval", &s))?
        },
        requested_by: get(row, "requested_by")?,
        approved_by: get(row, "approved_by")?,
        approved_at: opt_ts(row, "approved_at")?,
        row_version: get(row, "row_version")?,
        created_at: ts_col(row, "created_at")?,
    })
}

/// A user as the audit log shows it (never the password hash).
pub(crate) fn user_audit(u: &User) -> Value {
    json!({
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.as_str(),
        "department": u.department.map(|d| d.as_str()),
        "division": u.division.to_string(),
        "active": u.active,
        "approval": u.approval.as_str(),
        "must_change_password": u.must_change_password,
    })
}

pub(crate) fn session(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        token_hash: get(row, "token_hash")?,
        user_id: get(row, "user_id")?,
        csrf_token: get(row, "csrf_token")?,
        created_at: ts_col(row, "created_at")?,
        last_seen: ts_col(row, "last_seen")?,
        origin: get(row, "origin")?,
    })
}

// ---- audit -------------------------------------------------------------------------------------

pub(crate) const AUDIT_SELECT: &str = "seq, at, actor_id, actor_name, origin, action, \
    record_kind, record_id, division, before_data, after_data, detail, prev_hash, hash";

fn json_col(row: &AnyRow, col: &str) -> Result<Option<Value>> {
    match get::<Option<String>>(row, col)? {
        // A value that no longer parses was edited by hand; keep it as a string so that the
        // chain check reports the row instead of the read failing.
        Some(s) => Ok(Some(serde_json::from_str(&s).unwrap_or(Value::String(s)))),
        None => Ok(None),
    }
}

pub(crate) fn audit_record(row: &AnyRow) -> Result<AuditRecord> {
    let action: String = get(row, "action")?;
    Ok(AuditRecord {
        seq: get(row, "seq")?,
        entry: AuditEntry {
            at: get(row, "at")?,
            actor_user_id: get(row, "actor_id")?,
            actor_name: get(row, "actor_name")?,
            origin: get(row, "origin")?,
            action: AuditAction::parse(&action).ok_or_else(|| corrupt("audit action", &action))?,
            record_kind: get(row, "record_kind")?,
            record_id: get(row, "record_id")?,
            division: get(row, "division")?,
            before: json_col(row, "before_data")?,
            after: json_col(row, "after_data")?,
            detail: get(row, "detail")?,
        },
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}
