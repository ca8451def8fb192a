//! The township reserve fund ledger (备用金, R-LS-4). Entries are append-only; each carries the
//! balance after it. The balance is read and the entry written inside one serialized write
//! transaction, so two withdrawals at once are applied one after the other and the second sees
//! the first's balance.

use async_trait::async_trait;
use jiuzhu_domain::access::{ManageReserveFund, ReadCases};
use jiuzhu_domain::{AuditAction, CaseReach, DivisionCode, Grant, Level, Money};
use serde_json::json;
use sqlx::any::AnyRow;

use super::{invalid, rows, Event, SqlStore, Who};
use crate::documents::{NewReserveEntry, ReserveEntry, ReserveEntryKind, ReserveFund};
use crate::prelude::*;
use crate::{Result, StoreError};

fn not_found(township: &DivisionCode) -> StoreError {
    StoreError::NotFound {
        kind: "reserve_fund",
        id: township.to_string(),
    }
}

fn entry(row: &AnyRow) -> Result<ReserveEntry> {
    let township: String = rows::get(row, "township")?;
    let kind: String = rows::get(row, "kind")?;
    Ok(ReserveEntry {
        id: rows::get(row, "id")?,
        township: DivisionCode::parse(&township)
            .map_err(|_| StoreError::Database(format!("bad township {township:?}")))?,
        seq: rows::get(row, "seq")?,
        kind: ReserveEntryKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("bad entry kind {kind:?}")))?,
        amount: Money::from_fen(rows::get(row, "amount_fen")?),
        balance_after: Money::from_fen(rows::get(row, "balance_after")?),
        case_id: rows::get(row, "case_id")?,
        payee_name: rows::get(row, "payee_name")?,
        payee_id_masked: rows::get(row, "payee_id_masked")?,
        reason: rows::get(row, "reason")?,
        voucher: rows::get(row, "voucher")?,
        recorded_by_id: rows::get(row, "recorded_by_id")?,
        recorded_by: rows::get(row, "recorded_by")?,
        recorded_at: rows::parse_ts(&rows::get::<String>(row, "recorded_at")?)?,
        on: rows::parse_date(&rows::get::<String>(row, "on_date")?)?,
    })
}

/// The fund pays the township's cases of every program: an actor bound to one department
/// (docs/roles.md) reads none of it.
fn bound_to_department(g: &Grant<ReadCases>) -> Result<()> {
    match g.actor().case_reach() {
        CaseReach::Jurisdiction => Ok(()),
        _ => Err(StoreError::NotFound {
            kind: "reserve_fund",
            id: g.scope().root().to_string(),
        }),
    }
}

fn yuan(m: Money) -> String {
    m.to_string()
}

/// Withdrawals minus returns, of one case or of the whole township.
async fn outstanding_withdrawals(
    w: &mut super::WriteTx<'_, '_>,
    township: &DivisionCode,
    case_id: Option<i64>,
) -> Result<Money> {
    let mut sql = String::from(
        // Cast: PostgreSQL sums BIGINT into NUMERIC.
        "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'withdrawal' THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS out_fen, \
         CAST(COALESCE(SUM(CASE WHEN kind = 'return' THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS back_fen \
         FROM reserve_fund_entries WHERE township = $1",
    );
    if case_id.is_some() {
        sql.push_str(" AND case_id = $2");
    }
    let mut q = sqlx::query(&sql).bind(township.as_str());
    if let Some(c) = case_id {
        q = q.bind(c);
    }
    let r = q.fetch_one(&mut *w.tx).await?;
    let out: i64 = rows::get(&r, "out_fen")?;
    let back: i64 = rows::get(&r, "back_fen")?;
    Ok(Money::from_fen(out - back))
}

#[async_trait]
impl ReserveFundStore for SqlStore {
    async fn reserve_funds(&self, g: &Grant<ReadCases>) -> Result<Vec<ReserveFund>> {
        bound_to_department(g)?;
        // Every township in scope, with or without a ledger: a township that never had a fund
        // is exactly the one the county must see (balance 0, below any minimum).
        let rows = sqlx::query(
            "SELECT d.code, d.name, \
             (SELECT e.balance_after FROM reserve_fund_entries e WHERE e.township = d.code \
              ORDER BY e.seq DESC LIMIT 1) AS balance, \
             (SELECT COUNT(*) FROM reserve_fund_entries e WHERE e.township = d.code) AS entries, \
             (SELECT MAX(e.recorded_at) FROM reserve_fund_entries e WHERE e.township = d.code) AS last_at \
             FROM divisions d WHERE d.level = $1 AND d.code LIKE $2 ORDER BY d.code",
        )
        .bind(Level::Township.as_str())
        .bind(g.scope().like_pattern())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let code: String = rows::get(r, "code")?;
                Ok(ReserveFund {
                    township: DivisionCode::parse(&code)
                        .map_err(|_| StoreError::Database(format!("bad code {code:?}")))?,
                    name: rows::get(r, "name")?,
                    balance: Money::from_fen(rows::get::<Option<i64>>(r, "balance")?.unwrap_or(0)),
                    entries: rows::get(r, "entries")?,
                    last_entry_at: rows::get::<Option<String>>(r, "last_at")?
                        .map(|s| rows::parse_ts(&s))
                        .transpose()?,
                })
            })
            .collect()
    }

    async fn reserve_fund_entries(
        &self,
        g: &Grant<ReadCases>,
        township: &DivisionCode,
        limit: i64,
    ) -> Result<Vec<ReserveEntry>> {
        bound_to_department(g)?;
        if township.level() != Level::Township || !g.scope().contains(township) {
            return Err(not_found(township));
        }
        let exists = sqlx::query("SELECT code FROM divisions WHERE code = $1")
            .bind(township.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Err(not_found(township));
        }
        let (limit, _) = super::page_bounds(limit, 0);
        let rows = sqlx::query(
            "SELECT * FROM reserve_fund_entries WHERE township = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(township.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }

    async fn record_reserve_entry(
        &self,
        g: &Grant<ManageReserveFund>,
        new: &NewReserveEntry,
    ) -> Result<ReserveEntry> {
        let township = &new.township;
        if township.level() != Level::Township || !g.scope().contains(township) {
            return Err(not_found(township));
        }
        if new.amount.fen() <= 0 {
            return Err(invalid("amount", "RESERVE_AMOUNT", "金额必须大于零"));
        }
        if new.reason.trim().is_empty() {
            return Err(invalid("reason", "RESERVE_REASON", "请填写事由"));
        }
        if new.case_id.is_some() && new.kind == ReserveEntryKind::TopUp {
            return Err(invalid(
                "case_id",
                "RESERVE_CASE_ON_TOP_UP",
                "补充备用金不关联案件",
            ));
        }
        let mut w = self.write().await?;
        let name = sqlx::query("SELECT name FROM divisions WHERE code = $1")
            .bind(township.as_str())
            .fetch_optional(&mut *w.tx)
            .await?
            .map(|r| rows::get::<String>(&r, "name"))
            .transpose()?
            .ok_or_else(|| not_found(township))?;
        if let Some(case_id) = new.case_id {
            // The assist-first payment of a case of this township, of a program the fund pays
            // first. A case that does not exist, lies in another jurisdiction or is of another
            // program gets the same answer, so that the form cannot be used to probe for cases.
            let row = sqlx::query(
                "SELECT workflow FROM cases WHERE id = $1 AND division_responsible LIKE $2",
            )
            .bind(case_id)
            .bind(format!("{}%", township.prefix()))
            .fetch_optional(&mut *w.tx)
            .await?;
            let paid_first = match row {
                Some(r) => new
                    .assist_first_workflows
                    .contains(&rows::get::<String>(&r, "workflow")?),
                None => false,
            };
            if !paid_first {
                return Err(invalid(
                    "case_id",
                    "RESERVE_CASE_UNKNOWN",
                    format!("本乡镇(街道)没有编号为 {case_id} 的先行救助案件"),
                ));
            }
        }
        if new.kind == ReserveEntryKind::Return {
            // Only money that went out can come back: the withdrawals not yet returned, of the
            // case when one is named, else of the township.
            let outstanding = outstanding_withdrawals(&mut w, township, new.case_id).await?;
            if new.amount > outstanding {
                return Err(invalid(
                    "amount",
                    "RESERVE_RETURN_EXCEEDS",
                    format!(
                        "退回金额 {} 元超过尚未退回的支取金额 {} 元",
                        yuan(new.amount),
                        yuan(outstanding)
                    ),
                ));
            }
        }
        let last = sqlx::query(
            "SELECT seq, balance_after FROM reserve_fund_entries WHERE township = $1 \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(township.as_str())
        .fetch_optional(&mut *w.tx)
        .await?;
        let (seq, balance) = match last {
            Some(r) => (
                rows::get::<i64>(&r, "seq")?,
                Money::from_fen(rows::get(&r, "balance_after")?),
            ),
            None => {
                sqlx::query(
                    "INSERT INTO reserve_funds (township, name, created_at) VALUES ($1, $2, $3)",
                )
                .bind(township.as_str())
                .bind(&name)
                .bind(&w.now_text)
                .execute(&mut *w.tx)
                .await?;
                (0, Money::ZERO)
            }
        };
        let after = match new.kind {
            ReserveEntryKind::TopUp | ReserveEntryKind::Return => balance + new.amount,
            ReserveEntryKind::Withdrawal => {
                if new.amount > balance {
                    return Err(invalid(
                        "amount",
                        "RESERVE_INSUFFICIENT",
                        format!(
                            "备用金余额不足:当前余额 {} 元,支取 {} 元",
                            yuan(balance),
                            yuan(new.amount)
                        ),
                    ));
                }
                balance - new.amount
            }
        };
        let id = w.next_id("reserve_fund_entries").await?;
        let actor = g.actor();
        let opt = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        sqlx::query(
            "INSERT INTO reserve_fund_entries (id, township, seq, kind, amount_fen, balance_after, \
             case_id, payee_name, payee_id_masked, reason, voucher, recorded_by_id, recorded_by, \
             recorded_at, on_date) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(id)
        .bind(township.as_str())
        .bind(seq + 1)
        .bind(new.kind.as_str())
        .bind(new.amount.fen())
        .bind(after.fen())
        .bind(new.case_id)
        .bind(opt(&new.payee_name))
        .bind(opt(&new.payee_id_masked))
        .bind(new.reason.trim())
        .bind(opt(&new.voucher))
        .bind(actor.user_id)
        .bind(&actor.username)
        .bind(&w.now_text)
        .bind(rows::date_text(new.on))
        .execute(&mut *w.tx)
        .await?;
        w.audit(
            Who::from(actor),
            Event::new(AuditAction::ReserveFundEntryRecorded, "reserve_fund")
                .record(format!("{}#{}", township, seq + 1))
                .division(township)
                .before(json!({"balance": yuan(balance)}))
                .after(json!({
                    "kind": new.kind.as_str(),
                    "amount": yuan(new.amount),
                    "balance": yuan(after),
                    "case_id": new.case_id,
                    "voucher": opt(&new.voucher),
                })),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM reserve_fund_entries WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?;
        let stored = entry(&row)?;
        w.commit().await?;
        Ok(stored)
    }
}
