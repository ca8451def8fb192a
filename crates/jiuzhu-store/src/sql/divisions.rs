//! The jurisdiction tree.

use async_trait::async_trait;
use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ManageDivisions, ReadRegistry};
use jiuzhu_domain::{AuditAction, Division, DivisionCode, FieldError, Grant, Level, Scope};

use super::rows::get;
use super::{invalid, values_sql, Event, SqlStore, WriteTx};
use crate::prelude::*;
use crate::{Result, StoreError};

/// The node a township, village or grid must hang under (county, township, village); `None` for
/// county level and above, which hang under whatever ancestor exists.
pub(crate) fn required_parent(code: &DivisionCode) -> Option<DivisionCode> {
    match code.level() {
        Level::Township | Level::Village | Level::Grid => code.ancestors().into_iter().next(),
        _ => None,
    }
}

/// The nearest ancestor of `code` among `existing`.
fn nearest_parent(code: &DivisionCode, existing: &HashSet<String>) -> Option<DivisionCode> {
    code.ancestors()
        .into_iter()
        .find(|a| existing.contains(a.as_str()))
}

/// The deepest division containing all of `codes` (the nation when they have nothing in common
/// or there are none): the division a batch's audit event is filed under, so that auditors
/// scoped to it see the event.
pub(crate) fn common_division<'a>(
    mut codes: impl Iterator<Item = &'a DivisionCode>,
) -> DivisionCode {
    let Some(first) = codes.next() else {
        return DivisionCode::nation();
    };
    let mut candidates: Vec<DivisionCode> = std::iter::once(first.clone())
        .chain(first.ancestors())
        .collect();
    for code in codes {
        while let Some(c) = candidates.first() {
            if c.contains(code) {
                break;
            }
            candidates.remove(0);
        }
    }
    candidates
        .into_iter()
        .next()
        .unwrap_or_else(DivisionCode::nation)
}

/// Which of `codes` exist (queried in chunks, so the list may be long).
pub(crate) async fn existing_codes(
    conn: &mut AnyConnection,
    codes: &[String],
) -> Result<HashMap<String, String>> {
    let mut found = HashMap::new();
    for chunk in codes.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT code, name FROM divisions WHERE code IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q.bind(c.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            found.insert(get::<String>(&row, "code")?, get::<String>(&row, "name")?);
        }
    }
    Ok(found)
}

pub(crate) async fn insert_divisions(
    tx: &mut WriteTx<'_, '_>,
    nodes: &[(DivisionCode, String)],
) -> Result<()> {
    let full = values_sql(
        tx.backend,
        "INSERT INTO divisions (code, name, level, created_at, updated_at)",
        "?, ?, ?, ?, ?",
        1000,
    );
    for chunk in nodes.chunks(1000) {
        let partial;
        let sql = if chunk.len() == 1000 {
            &full
        } else {
            partial = values_sql(
                tx.backend,
                "INSERT INTO divisions (code, name, level, created_at, updated_at)",
                "?, ?, ?, ?, ?",
                chunk.len(),
            );
            &partial
        };
        let now = tx.now_text.clone();
        let mut q = sqlx::query(sql);
        for (code, name) in chunk {
            q = q
                .bind(code.as_str())
                .bind(name.as_str())
                .bind(code.level().as_str())
                .bind(now.clone())
                .bind(now.clone());
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

impl SqlStore {
    async fn existing_ancestors(&self, code: &DivisionCode) -> Result<HashSet<String>> {
        let ancestors: Vec<String> = code.ancestors().iter().map(|a| a.to_string()).collect();
        let mut conn = self.pool.acquire().await?;
        Ok(existing_codes(&mut conn, &ancestors)
            .await?
            .into_keys()
            .collect())
    }
}

#[async_trait]
impl DivisionStore for SqlStore {
    async fn list_divisions(&self, g: &Grant<ReadRegistry>) -> Result<Vec<Division>> {
        let scope = g.scope();
        let rows = sqlx::query("SELECT code, name FROM divisions WHERE code LIKE $1 ORDER BY code")
            .bind(scope.like_pattern())
            .fetch_all(&self.pool)
            .await?;
        let mut nodes = Vec::with_capacity(rows.len());
        for r in &rows {
            let code: String = get(r, "code")?;
            let code = DivisionCode::parse(&code)
                .map_err(|_| StoreError::Database(format!("bad division code {code:?}")))?;
            nodes.push((code, get::<String>(r, "name")?));
        }
        // Ancestors of an in-scope node are in scope or above the scope's root.
        let mut existing: HashSet<String> = nodes.iter().map(|(c, _)| c.to_string()).collect();
        existing.extend(self.existing_ancestors(scope.root()).await?);
        Ok(nodes
            .into_iter()
            .map(|(code, name)| Division {
                parent: nearest_parent(&code, &existing),
                level: code.level(),
                code,
                name,
            })
            .collect())
    }

    async fn get_division(
        &self,
        g: &Grant<ReadRegistry>,
        code: &DivisionCode,
    ) -> Result<Option<Division>> {
        if !g.scope().contains(code) {
            return Ok(None);
        }
        let row = sqlx::query("SELECT name FROM divisions WHERE code = $1 AND code LIKE $2")
            .bind(code.as_str())
            .bind(g.scope().like_pattern())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let existing = self.existing_ancestors(code).await?;
        Ok(Some(Division {
            code: code.clone(),
            name: get(&row, "name")?,
            level: code.level(),
            parent: nearest_parent(code, &existing),
        }))
    }

    async fn save_division(
        &self,
        g: &Grant<ManageDivisions>,
        code: &DivisionCode,
        name: &str,
    ) -> Result<Division> {
        let name = name.trim();
        if name.is_empty() {
            return Err(invalid("name", "REQUIRED", "区划名称不能为空"));
        }
        if !g.scope().contains(code) {
            return Err(StoreError::OutOfScope(code.to_string()));
        }
        let mut tx = self.write().await?;
        let mut wanted = vec![code.to_string()];
        if let Some(p) = required_parent(code) {
            wanted.push(p.to_string());
        }
        let found = existing_codes(tx.conn(), &wanted).await?;
        let event = match found.get(code.as_str()) {
            Some(old) if old == name => None,
            Some(old) => {
                sqlx::query("UPDATE divisions SET name = $1, updated_at = $2 WHERE code = $3")
                    .bind(name)
                    .bind(tx.now_text.clone())
                    .bind(code.as_str())
                    .execute(tx.conn())
                    .await?;
                Some(
                    Event::new(AuditAction::DivisionUpdated, "division")
                        .record(code)
                        .division(code)
                        .before(json!({ "name": old }))
                        .after(json!({ "name": name })),
                )
            }
            None => {
                if let Some(p) = required_parent(code) {
                    if !found.contains_key(p.as_str()) {
                        return Err(invalid(
                            "code",
                            "DIVISION_PARENT_MISSING",
                            format!("上级区划“{p}”不存在,请先添加上级区划"),
                        ));
                    }
                }
                insert_divisions(&mut tx, &[(code.clone(), name.to_string())]).await?;
                Some(
                    Event::new(AuditAction::DivisionCreated, "division")
                        .record(code)
                        .division(code)
                        .after(json!({ "name": name, "level": code.level().as_str() })),
                )
            }
        };
        if let Some(ev) = event {
            tx.audit(g.actor().into(), ev).await?;
        }
        let existing: HashSet<String> = existing_codes(
            tx.conn(),
            &code
                .ancestors()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
        )
        .await?
        .into_keys()
        .collect();
        tx.commit().await?;
        Ok(Division {
            code: code.clone(),
            name: name.to_string(),
            level: code.level(),
            parent: nearest_parent(code, &existing),
        })
    }

    async fn import_divisions(
        &self,
        g: &Grant<ManageDivisions>,
        rows: &[(DivisionCode, String)],
    ) -> Result<u64> {
        let scope: &Scope = g.scope();
        let mut errors = Vec::new();
        let mut first_index: HashMap<&str, usize> = HashMap::new();
        for (i, (code, name)) in rows.iter().enumerate() {
            let field = format!("rows[{i}].code");
            if !scope.contains(code) {
                errors.push(FieldError::new(
                    &field,
                    "DIVISION_OUT_OF_SCOPE",
                    format!("第{}个区划“{code}”不在您的管辖范围内", i + 1),
                ));
            }
            if name.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("rows[{i}].name"),
                    "REQUIRED",
                    format!("第{}个区划“{code}”的名称不能为空", i + 1),
                ));
            }
            if let Some(first) = first_index.insert(code.as_str(), i) {
                errors.push(FieldError::new(
                    &field,
                    "DUPLICATE_DIVISION",
                    format!("第{}个区划“{code}”与第{}个重复", i + 1, first + 1),
                ));
            }
        }
        let mut tx = self.write().await?;
        let mut wanted: Vec<String> = rows.iter().map(|(c, _)| c.to_string()).collect();
        wanted.extend(
            rows.iter()
                .filter_map(|(c, _)| required_parent(c).map(|p| p.to_string())),
        );
        wanted.sort();
        wanted.dedup();
        let found = existing_codes(tx.conn(), &wanted).await?;
        for (i, (code, _)) in rows.iter().enumerate() {
            if let Some(p) = required_parent(code) {
                if !found.contains_key(p.as_str()) && !first_index.contains_key(p.as_str()) {
                    errors.push(FieldError::new(
                        format!("rows[{i}].code"),
                        "DIVISION_PARENT_MISSING",
                        format!("第{}个区划“{code}”的上级区划“{p}”不存在", i + 1),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(jiuzhu_domain::ValidationErrors(errors)));
        }
        let mut created = Vec::new();
        let mut renamed = 0u64;
        for (code, name) in rows {
            let name = name.trim();
            match found.get(code.as_str()) {
                Some(old) if old == name => {}
                Some(_) => {
                    sqlx::query("UPDATE divisions SET name = $1, updated_at = $2 WHERE code = $3")
                        .bind(name)
                        .bind(tx.now_text.clone())
                        .bind(code.as_str())
                        .execute(tx.conn())
                        .await?;
                    renamed += 1;
                }
                None => created.push((code.clone(), name.to_string())),
            }
        }
        insert_divisions(&mut tx, &created).await?;
        let changed = created.len() as u64 + renamed;
        if changed > 0 {
            let ev = Event::new(AuditAction::DivisionsImported, "division")
                .division(&common_division(rows.iter().map(|(c, _)| c)))
                .detail(
                    json!({
                        "rows": rows.len(),
                        "created": created.len(),
                        "renamed": renamed,
                    })
                    .to_string(),
                );
            tx.audit(g.actor().into(), ev).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }
}
