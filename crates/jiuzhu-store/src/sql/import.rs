//! Legacy caseload import: checked against the database, then written in one transaction with
//! multi-row inserts (the same statements on both backends).
//!
//! Throughput matters (a province imports a million members), so the rows are written as
//! `INSERT … VALUES (…), (…), …` in chunks below the bind-parameter limits (SQLite 32,766,
//! PostgreSQL 65,535). Each chunk size has one SQL text, so the prepared statement is reused.

use async_trait::async_trait;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use serde_json::json;
use sqlx::AnyConnection;

use jiuzhu_domain::access::ImportCaseload;
use jiuzhu_domain::caseload::ImportMember;
use jiuzhu_domain::{
    AuditAction, DivisionCode, FieldError, Grant, HouseholdId, Level, PersonFacts, ValidationErrors,
};

use super::divisions::{common_division, existing_codes, insert_divisions};
use super::households::generated_code;
use super::rows::{date_text, get, PersonFactValues, PERSON_FACT_COLS, PERSON_FACT_COUNT};
use super::{values_sql, Backend, Event, SqlStore, WriteTx};
use crate::data_key::DataKeys;
use crate::prelude::*;
use crate::{CaseloadBatch, ImportSummary, Progress, Result, StoreError};

/// Row errors listed before the rest are only counted (as the importer does).
const MAX_REPORTED_ERRORS: usize = 1000;

/// Rows per multi-row INSERT: large enough that statement overhead vanishes, small enough to
/// stay far below both backends' bind-parameter limits.
const HOUSEHOLD_ROWS: usize = 1000;
/// Households marked as recipients per statement.
const MARK_ROWS: usize = 1000;
const PERSON_ROWS: usize = 500;
const MEMBERSHIP_ROWS: usize = 2000;

/// SQLite page cache during an import (negative: KiB), so that the indexes being filled stay in
/// memory; the connection goes back to the default afterwards.
const IMPORT_CACHE_KIB: i64 = 512 * 1024;

struct RowErrors {
    list: Vec<FieldError>,
    suppressed: usize,
}

impl RowErrors {
    fn push(&mut self, e: FieldError) {
        if self.list.len() < MAX_REPORTED_ERRORS {
            self.list.push(e);
        } else {
            self.suppressed += 1;
        }
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty() && self.suppressed == 0
    }
    fn finish(mut self) -> ValidationErrors {
        if self.suppressed > 0 {
            self.list.push(FieldError::new(
                "",
                "TOO_MANY_ERRORS",
                format!(
                    "另有{}处错误未列出(最多列出{}处),请先改正以上错误后重新导入",
                    self.suppressed, MAX_REPORTED_ERRORS
                ),
            ));
        }
        ValidationErrors(self.list)
    }
}

/// The SQL for a chunk: the cached full-size text, or one made for the last, shorter chunk.
fn chunk_sql<'a>(
    full: &'a str,
    full_rows: usize,
    rows: usize,
    make: &dyn Fn(usize) -> String,
    partial: &'a mut String,
) -> &'a str {
    if rows == full_rows {
        full
    } else {
        *partial = make(rows);
        partial
    }
}

/// The file names the importer put into `source` ("households.csv + members.csv").
fn file_names(source: &str) -> (String, String) {
    match source.split_once(" + ") {
        Some((h, m)) => (h.to_string(), m.to_string()),
        None => (source.to_string(), source.to_string()),
    }
}

/// The chain of township, village and grid codes from below the county down to `code`.
fn chain_below_county(code: &DivisionCode) -> Vec<DivisionCode> {
    let mut chain: Vec<DivisionCode> = std::iter::once(code.clone())
        .chain(code.ancestors())
        .filter(|c| c.level() > Level::County)
        .collect();
    chain.reverse();
    chain
}

impl SqlStore {
    async fn import_on(
        &self,
        conn: &mut AnyConnection,
        g: &Grant<ImportCaseload>,
        batch: &CaseloadBatch,
        progress: Progress<'_>,
    ) -> Result<ImportSummary> {
        let total = (batch.households.len() + batch.members.len()) as u64;
        progress(0, total);
        if let Some(m) = batch
            .members
            .iter()
            .find(|m| m.household >= batch.households.len())
        {
            return Err(StoreError::Database(format!(
                "caseload batch member row {} points to no household",
                m.row
            )));
        }
        let mut tx = self.write_on(conn).await?;
        let mut errors = RowErrors {
            list: Vec::new(),
            suppressed: 0,
        };
        let to_create = check_divisions(&mut tx, g, batch, &mut errors).await?;
        check_id_numbers(&mut tx, batch, &mut errors).await?;
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors.finish()));
        }

        insert_divisions(&mut tx, &to_create).await?;
        let base_h = tx.next_id("households").await?;
        let base_p = tx.next_id("persons").await?;
        let base_m = tx.next_id("memberships").await?;
        let codes = household_codes(&mut tx, batch).await?;

        let valid_from = date_text(batch.valid_from);
        let now = tx.now_text.clone();
        let actor = g.actor().username.clone();
        let mut done = 0u64;

        let backend = tx.backend;
        // SQLite: OR FAIL instead of the default ABORT spares a statement journal, which for
        // inserts into randomly ordered indexes copies nearly every page each statement touches
        // (gigabytes over a large import). The guarantee is the same here: any failure rolls
        // back the whole transaction.
        let insert = match backend {
            Backend::Sqlite => "INSERT OR FAIL INTO",
            Backend::Postgres => "INSERT INTO",
        };
        // The values every row shares are bound in every row: SQLite's anonymous placeholders
        // cannot be referred to twice (see `values_sql`).
        {
            let head = format!(
                "{insert} households (id, code, address, division, area, source_ref, \
                 valid_from, recipient_from, row_version, created_at, updated_at, recorded_by)"
            );
            let make =
                |rows| values_sql(backend, &head, "?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?", rows);
            let recipient_from = batch.current_recipients.then_some(valid_from.as_str());
            let full = make(HOUSEHOLD_ROWS);
            let mut partial = String::new();
            for (c, chunk) in batch.households.chunks(HOUSEHOLD_ROWS).enumerate() {
                let sql = chunk_sql(&full, HOUSEHOLD_ROWS, chunk.len(), &make, &mut partial);
                let mut q = sqlx::query(sql);
                for (i, h) in chunk.iter().enumerate() {
                    let n = c * HOUSEHOLD_ROWS + i;
                    q = q
                        .bind(base_h + n as i64)
                        .bind(codes[n].as_str())
                        .bind(h.address.as_str())
                        .bind(h.division.as_str())
                        .bind(h.area.as_str())
                        .bind(h.source_ref.as_str())
                        .bind(valid_from.as_str())
                        .bind(recipient_from)
                        .bind(now.as_str())
                        .bind(now.as_str())
                        .bind(actor.as_str());
                }
                q.execute(tx.conn()).await?;
                done += chunk.len() as u64;
                progress(done, total);
            }
        }

        {
            let head = format!(
                "{insert} persons (id, id_number, {PERSON_FACT_COLS}, valid_from, row_version, \
                 created_at, updated_at, recorded_by)"
            );
            let row = format!(
                "?, ?, {}, ?, 1, ?, ?, ?",
                vec!["?"; PERSON_FACT_COUNT].join(", ")
            );
            let make = |rows| values_sql(backend, &head, &row, rows);
            let full = make(PERSON_ROWS);
            let mut partial = String::new();
            for (c, chunk) in batch.members.chunks(PERSON_ROWS).enumerate() {
                let first = base_p + (c * PERSON_ROWS) as i64;
                let values = chunk_values(self.keys(), batch, chunk, first);
                let sql = chunk_sql(&full, PERSON_ROWS, chunk.len(), &make, &mut partial);
                let mut q = sqlx::query(sql);
                for (i, (m, v)) in chunk.iter().zip(&values).enumerate() {
                    let n = c * PERSON_ROWS + i;
                    q = v
                        .bind(q.bind(base_p + n as i64).bind(m.id_number.as_str()))
                        .bind(valid_from.as_str())
                        .bind(now.as_str())
                        .bind(now.as_str())
                        .bind(actor.as_str());
                }
                q.execute(tx.conn()).await?;
                done += chunk.len() as u64;
                progress(done, total);
            }
        }

        {
            let head = format!(
                "{insert} memberships (id, household_id, person_id, relation, \
                 joined_on, left_on, join_reason, leave_reason, created_at, recorded_by)"
            );
            let make = |rows| {
                values_sql(
                    backend,
                    &head,
                    "?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?",
                    rows,
                )
            };
            let full = make(MEMBERSHIP_ROWS);
            let mut partial = String::new();
            for (c, chunk) in batch.members.chunks(MEMBERSHIP_ROWS).enumerate() {
                let sql = chunk_sql(&full, MEMBERSHIP_ROWS, chunk.len(), &make, &mut partial);
                let mut q = sqlx::query(sql);
                for (i, m) in chunk.iter().enumerate() {
                    let n = c * MEMBERSHIP_ROWS + i;
                    q = q
                        .bind(base_m + n as i64)
                        .bind(base_h + m.household as i64)
                        .bind(base_p + n as i64)
                        .bind(m.relation.as_str())
                        .bind(valid_from.as_str())
                        .bind(now.as_str())
                        .bind(actor.as_str());
                }
                q.execute(tx.conn()).await?;
            }
        }

        let summary = ImportSummary {
            households: batch.households.len() as u64,
            persons: batch.members.len() as u64,
            memberships: batch.members.len() as u64,
            divisions_created: to_create.len() as u64,
        };
        if summary.households > 0 {
            let division = common_division(batch.households.iter().map(|h| &h.division));
            let ev = Event::new(AuditAction::CaseloadImported, "caseload")
                .division(&division)
                .detail(
                    json!({
                        "source": batch.source,
                        "valid_from": valid_from,
                        "current_recipients": batch.current_recipients,
                        "households": summary.households,
                        "persons": summary.persons,
                        "memberships": summary.memberships,
                        "divisions_created": summary.divisions_created,
                        "first_household_id": base_h,
                        "first_person_id": base_p,
                    })
                    .to_string(),
                );
            tx.audit(g.actor().into(), ev).await?;
        }
        tx.commit().await?;
        progress(total, total);
        Ok(summary)
    }
}

/// The facts a member is imported with: those the importer built, or the minimal ones derived
/// from the identity number with the household's division as residence.
fn member_facts<'a>(batch: &CaseloadBatch, m: &'a ImportMember) -> Cow<'a, PersonFacts> {
    match &m.facts {
        Some(f) => Cow::Borrowed(f),
        None => Cow::Owned(PersonFacts::minimal(
            &m.id_number,
            &m.name,
            batch.households[m.household].division.clone(),
        )),
    }
}

/// The column values of a chunk of members (ids from `first`), bank accounts and illness notes
/// encrypted (about 2.6 µs a value, and 1.5 µs for an account's blind index).
fn chunk_values(
    keys: &DataKeys,
    batch: &CaseloadBatch,
    chunk: &[ImportMember],
    first: i64,
) -> Vec<PersonFactValues> {
    (first..)
        .zip(chunk)
        .map(|(id, m)| PersonFactValues::of(&member_facts(batch, m), keys, id, 1))
        .collect()
}

/// Checks every division the batch uses (scope, existence) and returns the nodes to create.
async fn check_divisions(
    tx: &mut WriteTx<'_, '_>,
    g: &Grant<ImportCaseload>,
    batch: &CaseloadBatch,
    errors: &mut RowErrors,
) -> Result<Vec<(DivisionCode, String)>> {
    let (h_file, m_file) = file_names(&batch.source);
    let scope = g.scope();
    let mut used: BTreeSet<&DivisionCode> = batch.households.iter().map(|h| &h.division).collect();
    used.extend(
        batch
            .members
            .iter()
            .filter_map(|m| m.facts.as_ref().map(|f| &f.residence_division)),
    );
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for code in &used {
        wanted.insert(code.to_string());
        for a in code.ancestors() {
            if a.level() >= Level::County {
                wanted.insert(a.to_string());
            }
        }
    }
    let wanted: Vec<String> = wanted.into_iter().collect();
    let existing = existing_codes(tx.conn(), &wanted).await?;

    // For each used code: None if usable, else the error (code, message).
    let mut problems: HashMap<&DivisionCode, (&'static str, String)> = HashMap::new();
    let mut create: BTreeSet<DivisionCode> = BTreeSet::new();
    for code in &used {
        if !scope.contains(code) {
            problems.insert(
                code,
                (
                    "DIVISION_OUT_OF_SCOPE",
                    format!("区划代码“{code}”不在您的管辖范围内"),
                ),
            );
            continue;
        }
        if existing.contains_key(code.as_str()) {
            continue;
        }
        if !batch.create_missing_divisions {
            problems.insert(
                code,
                (
                    "DIVISION_UNKNOWN",
                    format!("区划代码“{code}”不在区划树中(可先导入区划,或选择自动创建缺少的乡镇和村社区节点)"),
                ),
            );
            continue;
        }
        match code.county() {
            Some(county) if existing.contains_key(county.as_str()) => {
                create.extend(
                    chain_below_county(code)
                        .into_iter()
                        .filter(|c| !existing.contains_key(c.as_str()) && scope.contains(c)),
                );
            }
            county => {
                let county = county.map(|c| c.to_string()).unwrap_or_default();
                problems.insert(
                    code,
                    (
                        "DIVISION_UNKNOWN",
                        format!("区划代码“{code}”所属区县“{county}”不在区划树中,请先导入区划"),
                    ),
                );
            }
        }
    }
    if !problems.is_empty() {
        for h in &batch.households {
            if let Some((code, msg)) = problems.get(&h.division) {
                errors.push(
                    FieldError::new("division_code", *code, format!("{msg}(文件:{h_file})"))
                        .at_row(h.row),
                );
            }
        }
        for m in &batch.members {
            let Some(f) = &m.facts else { continue };
            if f.residence_division == batch.households[m.household].division {
                continue;
            }
            if let Some((code, msg)) = problems.get(&f.residence_division) {
                errors.push(
                    FieldError::new("residence_division", *code, format!("{msg}(文件:{m_file})"))
                        .at_row(m.row),
                );
            }
        }
    }
    // Named by their code, as documented; a later division import renames them.
    Ok(create
        .into_iter()
        .map(|c| {
            let name = c.to_string();
            (c, name)
        })
        .collect())
}

/// Reports every member whose identity number is already registered.
async fn check_id_numbers(
    tx: &mut WriteTx<'_, '_>,
    batch: &CaseloadBatch,
    errors: &mut RowErrors,
) -> Result<()> {
    let (_, m_file) = file_names(&batch.source);
    let stored = super::count_of(
        &sqlx::query("SELECT COUNT(*) FROM persons")
            .fetch_one(tx.conn())
            .await?,
    )?;
    if stored == 0 || batch.members.is_empty() {
        return Ok(());
    }
    let mut registered: HashSet<String> = HashSet::new();
    if stored as usize <= batch.members.len() * 4 {
        // Reading every stored number is cheaper than probing for each member.
        let rows = sqlx::query("SELECT id_number FROM persons")
            .fetch_all(tx.conn())
            .await?;
        for r in &rows {
            registered.insert(get::<String>(r, "id_number")?);
        }
    } else {
        for chunk in batch.members.chunks(500) {
            let sql = format!(
                "SELECT id_number FROM persons WHERE id_number IN ({})",
                super::persons::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for m in chunk {
                q = q.bind(m.id_number.as_str());
            }
            for r in q.fetch_all(tx.conn()).await? {
                registered.insert(get::<String>(&r, "id_number")?);
            }
        }
    }
    for m in &batch.members {
        if registered.contains(m.id_number.as_str()) {
            errors.push(
                FieldError::new(
                    "id_number",
                    "ID_NUMBER_REGISTERED",
                    format!(
                        "身份证号码“{}”已登记,不能重复导入(文件:{m_file})",
                        m.id_number
                    ),
                )
                .at_row(m.row),
            );
        }
    }
    Ok(())
}

/// Generated codes for the batch's households, continuing each division's sequence; the
/// sequences are advanced in the same transaction.
async fn household_codes(tx: &mut WriteTx<'_, '_>, batch: &CaseloadBatch) -> Result<Vec<String>> {
    let divisions: Vec<String> = batch
        .households
        .iter()
        .map(|h| h.division.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut last: HashMap<String, i64> = HashMap::new();
    for chunk in divisions.chunks(500) {
        let sql = format!(
            "SELECT division, last FROM household_code_seq WHERE division IN ({})",
            super::persons::placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for d in chunk {
            q = q.bind(d.as_str());
        }
        for r in q.fetch_all(tx.conn()).await? {
            last.insert(get(&r, "division")?, get(&r, "last")?);
        }
    }
    let mut codes = Vec::with_capacity(batch.households.len());
    for h in &batch.households {
        let seq = last.entry(h.division.to_string()).or_insert(0);
        *seq += 1;
        codes.push(generated_code(&h.division, *seq));
    }
    let rows: Vec<(&String, &i64)> = last.iter().collect();
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "{} ON CONFLICT (division) DO UPDATE SET last = excluded.last",
            values_sql(
                tx.backend,
                "INSERT INTO household_code_seq (division, last)",
                "?, ?",
                chunk.len()
            )
        );
        let mut q = sqlx::query(&sql);
        for (d, l) in chunk {
            q = q.bind(d.as_str()).bind(**l);
        }
        q.execute(tx.conn()).await?;
    }
    Ok(codes)
}

#[async_trait]
impl CaseloadImportStore for SqlStore {
    async fn import_caseload(
        &self,
        g: &Grant<ImportCaseload>,
        batch: &CaseloadBatch,
        progress: Progress<'_>,
    ) -> Result<ImportSummary> {
        let mut conn = self.pool.acquire().await?;
        // Every reference the import writes was checked by it (divisions) or is an id it
        // allocated itself, and the per-row foreign-key lookups would cost a quarter of it.
        self.begin_bulk_write(&mut conn, IMPORT_CACHE_KIB, false)
            .await?;
        let result = self.import_on(&mut conn, g, batch, progress).await;
        self.end_bulk_write(&mut conn, false).await;
        result
    }

    async fn mark_current_recipients(
        &self,
        g: &Grant<ImportCaseload>,
        from: NaiveDate,
        households: &[HouseholdId],
    ) -> Result<u64> {
        let mut tx = self.write().await?;
        let scope = g.scope().like_pattern();
        let mut marked = 0;
        // Ids are integers: written into the statement, a chunk at a time.
        for chunk in households.chunks(MARK_ROWS) {
            let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let done = sqlx::query(&format!(
                "UPDATE households SET recipient_from = $1 WHERE recipient_from IS NULL \
                 AND division LIKE $2 AND id IN ({})",
                ids.join(", ")
            ))
            .bind(date_text(from))
            .bind(scope.as_str())
            .execute(tx.conn())
            .await?;
            marked += done.rows_affected();
        }
        if marked > 0 {
            let ev = Event::new(AuditAction::RecipientsMarked, "caseload")
                .division(g.scope().root())
                .detail(json!({ "from": date_text(from), "households": marked }).to_string());
            tx.audit(g.actor().into(), ev).await?;
        }
        tx.commit().await?;
        Ok(marked)
    }
}
