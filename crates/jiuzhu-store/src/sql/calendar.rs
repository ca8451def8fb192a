//! Working-day calendar edits: append-only overlays (see migrations/*/0008_calendar_overlays.sql).

use async_trait::async_trait;
use serde_json::json;
use sqlx::any::AnyRow;

use jiuzhu_domain::access::{ManageCalendar, ReadRegistry};
use jiuzhu_domain::{AuditAction, DivisionCode, Grant};

use super::rows::{self, date_text, parse_date, parse_ts, ts_text};
use super::{Event, SqlStore};
use crate::calendar::{CalendarEdit, CalendarEditKind, NewCalendarEdit};
use crate::prelude::*;
use crate::{Result, StoreError};

const SELECT: &str =
    "seq, kind, day, year, name, overlay, reason, user_id, user_name, recorded_at, division";

fn edit(row: &AnyRow) -> Result<CalendarEdit> {
    let kind: String = rows::get(row, "kind")?;
    let day: Option<String> = rows::get(row, "day")?;
    let year: Option<i64> = rows::get(row, "year")?;
    Ok(CalendarEdit {
        seq: rows::get(row, "seq")?,
        kind: CalendarEditKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unreadable calendar edit {kind:?}")))?,
        date: day.as_deref().map(parse_date).transpose()?,
        year: year.and_then(|y| i32::try_from(y).ok()),
        name: rows::get(row, "name")?,
        overlay: rows::get(row, "overlay")?,
        reason: rows::get(row, "reason")?,
        user_id: rows::get(row, "user_id")?,
        user_name: rows::get(row, "user_name")?,
        recorded_at: parse_ts(&rows::get::<String>(row, "recorded_at")?)?,
        division: {
            let d: String = rows::get(row, "division")?;
            if d.is_empty() {
                None
            } else {
                Some(DivisionCode::parse(&d).map_err(|e| StoreError::Database(e.to_string()))?)
            }
        },
    })
}

#[async_trait]
impl CalendarStore for SqlStore {
    async fn record_calendar_edit(
        &self,
        g: &Grant<ManageCalendar>,
        expected_latest: i64,
        new: &NewCalendarEdit,
    ) -> Result<CalendarEdit> {
        let mut errors = Vec::new();
        for (field, text, message) in [
            ("overlay", &new.overlay, "调整内容为空"),
            ("reason", &new.reason, "请填写调整原因或依据"),
        ] {
            if text.trim().is_empty() {
                errors.push(jiuzhu_domain::FieldError::new(field, "REQUIRED", message));
            }
        }
        if new.kind != CalendarEditKind::Year && new.date.is_none() {
            errors.push(jiuzhu_domain::FieldError::new(
                "date",
                "REQUIRED",
                "请填写日期",
            ));
        }
        if new.kind == CalendarEditKind::Year && new.year.is_none() {
            errors.push(jiuzhu_domain::FieldError::new(
                "year",
                "REQUIRED",
                "请填写年度",
            ));
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(jiuzhu_domain::ValidationErrors(errors)));
        }
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS latest FROM calendar_overlays")
            .fetch_one(tx.conn())
            .await?;
        let actual: i64 = rows::get(&row, "latest")?;
        if actual != expected_latest {
            // The overlay was checked against a calendar that has changed since.
            return Err(StoreError::Conflict {
                kind: "calendar",
                id: "calendar".into(),
                expected: expected_latest,
                actual,
            });
        }
        let actor = g.actor();
        // The recorder's jurisdiction: a county's edit is the county's.
        let root = g.scope().root();
        let division = (root.level() != jiuzhu_domain::Level::Nation).then(|| root.clone());
        let rec = CalendarEdit {
            seq: actual + 1,
            kind: new.kind,
            date: new.date,
            year: new.year,
            name: new.name.trim().to_string(),
            overlay: new.overlay.clone(),
            reason: new.reason.trim().to_string(),
            user_id: actor.user_id,
            user_name: actor.username.clone(),
            recorded_at: tx.now,
            division,
        };
        let sql = format!(
            "INSERT INTO calendar_overlays ({SELECT}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        sqlx::query(&sql)
            .bind(rec.seq)
            .bind(rec.kind.as_str())
            .bind(rec.date.map(date_text))
            .bind(rec.year.map(i64::from))
            .bind(rec.name.as_str())
            .bind(rec.overlay.as_str())
            .bind(rec.reason.as_str())
            .bind(rec.user_id)
            .bind(rec.user_name.as_str())
            .bind(ts_text(rec.recorded_at))
            .bind(rec.division.as_ref().map_or("", |d| d.as_str()))
            .execute(tx.conn())
            .await?;
        let what = match (rec.date, rec.year) {
            (Some(d), _) => d.to_string(),
            (None, Some(y)) => format!("{y}年"),
            (None, None) => String::new(),
        };
        tx.audit(
            actor.into(),
            Event::new(AuditAction::CalendarEdited, "calendar_edit")
                .record(rec.seq)
                .division(root)
                .after(json!({
                    "edit": rec.seq,
                    "kind": rec.kind.as_str(),
                    "date": rec.date.map(date_text),
                    "year": rec.year,
                    "name": rec.name,
                    "overlay": rec.overlay,
                    "reason": rec.reason,
                    "applies_in": rec.division.as_ref().map(|d| d.to_string()),
                }))
                .detail(format!(
                    "{} {what} {}:{}",
                    rec.kind.label_zh(),
                    rec.name,
                    rec.reason
                )),
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn calendar_edits(&self, _g: &Grant<ReadRegistry>) -> Result<Vec<CalendarEdit>> {
        let sql = format!("SELECT {SELECT} FROM calendar_overlays ORDER BY seq");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(edit).collect()
    }
}
