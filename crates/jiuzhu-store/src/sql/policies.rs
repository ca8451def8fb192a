//! Policy revisions: append-only dated parameter values (see migrations/*/0002_policy_revisions.sql).
//! The values were validated against the parameter definitions by the policy crate before they
//! get here; the store checks what needs the database (concurrency, the withdrawn revision) and
//! the admin's scope.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ManagePolicies, ReadRegistry};
use jiuzhu_domain::{AuditAction, DivisionCode, Grant, Level};

use super::rows::{self, date_text, parse_date, parse_ts, ts_text};
use super::{invalid, Event, SqlStore};
use crate::prelude::*;
use crate::{NewPolicyRevision, PolicyRevision, Result, RevisionKind, StoreError};

const SELECT: &str = "seq, region, param, effective_from, value, document, doc_number, article, \
                      reason, kind, withdraws, user_id, user_name, recorded_at";

fn revision(row: &AnyRow) -> Result<PolicyRevision> {
    let region: String = rows::get(row, "region")?;
    let kind: String = rows::get(row, "kind")?;
    Ok(PolicyRevision {
        seq: rows::get(row, "seq")?,
        region: DivisionCode::parse(&region)
            .map_err(|_| StoreError::Database(format!("unreadable region {region:?}")))?,
        param: rows::get(row, "param")?,
        effective_from: parse_date(&rows::get::<String>(row, "effective_from")?)?,
        value: rows::get(row, "value")?,
        document: rows::get(row, "document")?,
        number: rows::get(row, "doc_number")?,
        article: rows::get(row, "article")?,
        reason: rows::get(row, "reason")?,
        kind: RevisionKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unreadable revision kind {kind:?}")))?,
        withdraws: rows::get(row, "withdraws")?,
        user_id: rows::get(row, "user_id")?,
        user_name: rows::get(row, "user_name")?,
        recorded_at: parse_ts(&rows::get::<String>(row, "recorded_at")?)?,
    })
}

/// The audit image of a revision.
fn audit_image(r: &PolicyRevision) -> Value {
    json!({
        "revision": format!("r{}", r.seq),
        "region": r.region.as_str(),
        "param": r.param,
        "effective_from": date_text(r.effective_from),
        "value": r.value,
        "document": r.document,
        "number": r.number,
        "article": r.article,
        "reason": r.reason,
    })
}

async fn latest_seq(conn: &mut AnyConnection, region: &DivisionCode) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) AS latest FROM policy_revisions WHERE region = $1",
    )
    .bind(region.as_str())
    .fetch_one(conn)
    .await?;
    rows::get(&row, "latest")
}

async fn load(conn: &mut AnyConnection, seq: i64) -> Result<Option<PolicyRevision>> {
    let sql = format!("SELECT {SELECT} FROM policy_revisions WHERE seq = $1");
    let row = sqlx::query(&sql).bind(seq).fetch_optional(conn).await?;
    row.map(|r| revision(&r)).transpose()
}

fn conflict(region: &DivisionCode, expected: i64, actual: i64) -> StoreError {
    StoreError::Conflict {
        kind: "policy_region",
        id: region.to_string(),
        expected,
        actual,
    }
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Revision numbers are global (a library's level is one number), allocated under the writer lock.
async fn next_seq(tx: &mut super::WriteTx<'_, '_>) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM policy_revisions")
        .fetch_one(tx.conn())
        .await?;
    rows::get(&row, "next")
}

async fn insert(tx: &mut super::WriteTx<'_, '_>, r: &PolicyRevision) -> Result<()> {
    let sql = format!(
        "INSERT INTO policy_revisions ({SELECT}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    sqlx::query(&sql)
        .bind(r.seq)
        .bind(r.region.as_str())
        .bind(r.param.as_str())
        .bind(date_text(r.effective_from))
        .bind(r.value.as_str())
        .bind(r.document.as_deref())
        .bind(r.number.as_deref())
        .bind(r.article.as_deref())
        .bind(r.reason.as_str())
        .bind(r.kind.as_str())
        .bind(r.withdraws)
        .bind(r.user_id)
        .bind(r.user_name.as_str())
        .bind(ts_text(r.recorded_at))
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[async_trait]
impl PolicyStore for SqlStore {
    async fn record_policy_revision(
        &self,
        g: &Grant<ManagePolicies>,
        expected_latest: i64,
        new: &NewPolicyRevision,
    ) -> Result<PolicyRevision> {
        let mut errors = Vec::new();
        if new.region.level() > Level::County {
            errors.push(jiuzhu_domain::FieldError::new(
                "region",
                "POLICY_REGION_LEVEL",
                format!(
                    "政策地区须为全国、省、市或县级区划,{} 是{}",
                    new.region,
                    new.region.level().label_zh()
                ),
            ));
        }
        for (field, text, message) in [
            ("param", &new.param, "请选择参数"),
            ("value", &new.value, "请填写参数值"),
            ("document", &new.document, "请填写依据文件名称"),
            ("reason", &new.reason, "请填写调整原因"),
        ] {
            if text.trim().is_empty() {
                errors.push(jiuzhu_domain::FieldError::new(field, "REQUIRED", message));
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(jiuzhu_domain::ValidationErrors(errors)));
        }
        if !g.scope().contains(&new.region) {
            return Err(StoreError::OutOfScope(new.region.to_string()));
        }
        let mut tx = self.write().await?;
        // A date before today (Beijing) changes months already computed and paid: only as an
        // explicit choice with its reason, kept with the revision.
        let today = jiuzhu_domain::clock::beijing_date(tx.now);
        let retroactive = new.effective_from < today;
        let why = trimmed(&new.retroactive_reason);
        if retroactive && why.is_none() {
            return Err(StoreError::Invalid(jiuzhu_domain::ValidationErrors(vec![
                jiuzhu_domain::FieldError::new(
                    "effective_from",
                    "REVISION_RETROACTIVE",
                    format!(
                        "生效日期 {} 早于今天({today}):追溯调整会改变已计算的月份,\
                         须确认追溯生效并填写追溯理由",
                        new.effective_from
                    ),
                ),
            ])));
        }
        let actual = latest_seq(tx.conn(), &new.region).await?;
        if actual != expected_latest {
            return Err(conflict(&new.region, expected_latest, actual));
        }
        let seq = next_seq(&mut tx).await?;
        let actor = g.actor();
        let rev = PolicyRevision {
            seq,
            region: new.region.clone(),
            param: new.param.trim().to_string(),
            effective_from: new.effective_from,
            value: new.value.trim().to_string(),
            document: Some(new.document.trim().to_string()),
            number: trimmed(&new.number),
            article: trimmed(&new.article),
            reason: match (&why, retroactive) {
                (Some(why), true) => format!("{}(追溯生效:{why})", new.reason.trim()),
                _ => new.reason.trim().to_string(),
            },
            kind: RevisionKind::Set,
            withdraws: None,
            user_id: actor.user_id,
            user_name: actor.username.clone(),
            recorded_at: tx.now,
        };
        insert(&mut tx, &rev).await?;
        let before = json!({
            "region": rev.region.as_str(),
            "param": rev.param,
            "effective_from": date_text(rev.effective_from),
            "value": new.previous_value,
        });
        tx.audit(
            actor.into(),
            Event::new(AuditAction::PolicyRevised, "policy_revision")
                .record(seq)
                .division(&rev.region)
                .before(before)
                .after(audit_image(&rev))
                .detail(format!(
                    "{} {} 自 {} 起:{} → {}",
                    rev.region,
                    rev.param,
                    rev.effective_from,
                    new.previous_value.as_deref().unwrap_or("(无)"),
                    rev.value
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(rev)
    }

    async fn withdraw_policy_revision(
        &self,
        g: &Grant<ManagePolicies>,
        expected_latest: i64,
        seq: i64,
        reason: &str,
    ) -> Result<PolicyRevision> {
        if reason.trim().is_empty() {
            return Err(invalid("reason", "REQUIRED", "请填写撤回原因"));
        }
        let not_found = || StoreError::NotFound {
            kind: "policy_revision",
            id: seq.to_string(),
        };
        let today = self.today();
        let mut tx = self.write().await?;
        let target = load(tx.conn(), seq).await?.ok_or_else(not_found)?;
        if !g.scope().contains(&target.region) {
            return Err(StoreError::OutOfScope(target.region.to_string()));
        }
        if target.kind != RevisionKind::Set {
            return Err(invalid(
                "seq",
                "POLICY_REVISION_NOT_SET",
                format!("r{seq} 本身是撤回记录,不能再撤回"),
            ));
        }
        let actual = latest_seq(tx.conn(), &target.region).await?;
        if actual != expected_latest {
            return Err(conflict(&target.region, expected_latest, actual));
        }
        if target.effective_from <= today {
            return Err(invalid(
                "seq",
                "POLICY_REVISION_IN_FORCE",
                format!(
                    "r{seq} 已于 {} 生效,不能撤回;如需更正,请录入新的调整",
                    target.effective_from
                ),
            ));
        }
        let already = sqlx::query("SELECT seq FROM policy_revisions WHERE withdraws = $1")
            .bind(seq)
            .fetch_optional(tx.conn())
            .await?;
        if already.is_some() {
            return Err(invalid(
                "seq",
                "POLICY_REVISION_WITHDRAWN",
                format!("r{seq} 已被撤回"),
            ));
        }
        let new_seq = next_seq(&mut tx).await?;
        let actor = g.actor();
        let rev = PolicyRevision {
            seq: new_seq,
            region: target.region.clone(),
            param: target.param.clone(),
            effective_from: target.effective_from,
            value: target.value.clone(),
            document: None,
            number: None,
            article: None,
            reason: reason.trim().to_string(),
            kind: RevisionKind::Withdraw,
            withdraws: Some(seq),
            user_id: actor.user_id,
            user_name: actor.username.clone(),
            recorded_at: tx.now,
        };
        insert(&mut tx, &rev).await?;
        tx.audit(
            actor.into(),
            Event::new(AuditAction::PolicyRevisionWithdrawn, "policy_revision")
                .record(seq)
                .division(&rev.region)
                .before(audit_image(&target))
                .after(json!({
                    "revision": format!("r{new_seq}"),
                    "withdraws": format!("r{seq}"),
                    "reason": rev.reason,
                }))
                .detail(format!(
                    "撤回 r{seq}:{} {} 自 {} 起 {}",
                    rev.region, rev.param, rev.effective_from, rev.value
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(rev)
    }

    async fn policy_revisions(
        &self,
        _g: &Grant<ReadRegistry>,
        region: Option<&DivisionCode>,
    ) -> Result<Vec<PolicyRevision>> {
        let rows = match region {
            Some(r) => {
                let sql =
                    format!("SELECT {SELECT} FROM policy_revisions WHERE region = $1 ORDER BY seq");
                sqlx::query(&sql)
                    .bind(r.as_str())
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("SELECT {SELECT} FROM policy_revisions ORDER BY seq");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(revision).collect()
    }

    async fn parameter_seqs(&self) -> Result<crate::ParameterSeqs> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM policy_revisions) AS policy, \
                    (SELECT COALESCE(MAX(seq), 0) FROM calendar_overlays) AS calendar",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(crate::ParameterSeqs {
            policy: rows::get(&row, "policy")?,
            calendar: rows::get(&row, "calendar")?,
        })
    }
}
