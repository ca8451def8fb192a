//! Verification reports of cases (核对报告): append-only rows, scoped through their case.

use async_trait::async_trait;
use jiuzhu_domain::access::{ActOnCase, ReadCases, RevealSensitive};
use jiuzhu_domain::{AuditAction, DivisionCode, Grant};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use super::reach::Reach;
use super::rows::{self, date_text, get};
use super::{invalid, Event, Sql, SqlStore, Who};
use crate::prelude::*;
use crate::verification_reports::{NewVerificationReport, VerificationReportRecord};
use crate::{Result, StoreError};

const SELECT: &str = "SELECT r.id, r.case_id, r.household_id, r.division, r.as_of, \
     r.generated_at, r.generated_by_id, r.generated_by, r.delivery_ids, r.verdict, r.report, \
     r.sha256 FROM verification_reports r JOIN cases c ON c.id = r.case_id";

fn record(r: &AnyRow) -> Result<VerificationReportRecord> {
    let ids: String = get(r, "delivery_ids")?;
    let report: String = get(r, "report")?;
    Ok(VerificationReportRecord {
        id: get(r, "id")?,
        case_id: get(r, "case_id")?,
        household_id: get(r, "household_id")?,
        division: get(r, "division")?,
        as_of: rows::parse_date(&get::<String>(r, "as_of")?)?,
        generated_at: rows::parse_ts(&get::<String>(r, "generated_at")?)?,
        generated_by_id: get(r, "generated_by_id")?,
        generated_by: get(r, "generated_by")?,
        delivery_ids: serde_json::from_str(&ids)
            .map_err(|e| StoreError::Database(format!("report deliveries: {e}")))?,
        verdict: get(r, "verdict")?,
        report: serde_json::from_str(&report)
            .map_err(|e| StoreError::Database(format!("report JSON: {e}")))?,
        sha256: get(r, "sha256")?,
    })
}

#[async_trait]
impl VerificationReportStore for SqlStore {
    async fn record_verification_report(
        &self,
        g: &Grant<ActOnCase>,
        new: &NewVerificationReport,
    ) -> Result<VerificationReportRecord> {
        if !matches!(new.verdict.as_str(), "pass" | "check" | "fail") {
            return Err(invalid(
                "verdict",
                "REPORT_VERDICT",
                format!("核对结论“{}”无效", new.verdict),
            ));
        }
        // The text stored is the text hashed: a reader can re-hash the column and compare.
        let text = serde_json::to_string(&new.report)
            .map_err(|e| StoreError::Database(format!("report JSON: {e}")))?;
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let ids = serde_json::to_string(&new.delivery_ids)
            .map_err(|e| StoreError::Database(format!("report deliveries: {e}")))?;
        let mut w = self.write().await?;
        let mut find =
            Sql::new("SELECT c.household_id, c.division_responsible FROM cases c WHERE c.id = ");
        find.bind_int(new.case_id);
        Reach::of(g.actor(), &self.readers()).and(&mut find, "c");
        let case = find
            .query()
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "case",
                id: new.case_id.to_string(),
            })?;
        let household_id: i64 = get(&case, "household_id")?;
        let division: String = get(&case, "division_responsible")?;
        let id = w.next_id("verification_reports").await?;
        let actor = g.actor();
        sqlx::query(
            "INSERT INTO verification_reports (id, case_id, household_id, division, as_of, \
             generated_at, generated_by_id, generated_by, delivery_ids, verdict, report, sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(new.case_id)
        .bind(household_id)
        .bind(&division)
        .bind(date_text(new.as_of))
        .bind(&w.now_text)
        .bind(actor.user_id)
        .bind(&actor.username)
        .bind(&ids)
        .bind(&new.verdict)
        .bind(&text)
        .bind(&sha256)
        .execute(&mut *w.tx)
        .await?;
        let mut ev = Event::new(
            AuditAction::VerificationReportGenerated,
            "verification_report",
        )
        .record(id)
        // The copy names what was read and the result, not the findings: the report holds
        // balances and records the audit log must not become a way around.
        .after(json!({
            "case_id": new.case_id,
            "household_id": household_id,
            "as_of": date_text(new.as_of),
            "deliveries": new.delivery_ids,
            "verdict": new.verdict,
            "sha256": sha256,
        }));
        if let Ok(d) = DivisionCode::parse(&division) {
            ev = ev.division(&d);
        }
        w.audit(Who::from(actor), ev).await?;
        let row = sqlx::query(&format!("{SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?;
        let rec = record(&row)?;
        w.commit().await?;
        Ok(rec)
    }

    async fn reveal_verification_report(
        &self,
        g: &Grant<RevealSensitive>,
        case_id: i64,
        report_id: i64,
    ) -> Result<VerificationReportRecord> {
        let mut w = self.write().await?;
        let mut sql = Sql::new(&format!("{SELECT} WHERE r.case_id = "));
        sql.bind_int(case_id)
            .push(" AND r.id = ")
            .bind_int(report_id);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        let row = sql
            .query()
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "verification_report",
                id: report_id.to_string(),
            })?;
        let rec = record(&row)?;
        let mut ev = Event::new(AuditAction::SensitiveRevealed, "verification_report")
            .record(report_id)
            .after(json!({"case_id": case_id, "fields": ["deposits", "medical_claims"]}))
            .detail(format!("verification_report:{report_id}"));
        if let Ok(d) = DivisionCode::parse(&rec.division) {
            ev = ev.division(&d);
        }
        w.audit(Who::from(g.actor()), ev).await?;
        w.commit().await?;
        Ok(rec)
    }

    async fn verification_reports(
        &self,
        g: &Grant<ReadCases>,
        case_id: i64,
    ) -> Result<Vec<VerificationReportRecord>> {
        let mut sql = Sql::new(&format!("{SELECT} WHERE r.case_id = "));
        sql.bind_int(case_id);
        Reach::of(g.actor(), &self.readers()).and(&mut sql, "c");
        sql.push(" ORDER BY r.id DESC");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(record).collect()
    }
}
