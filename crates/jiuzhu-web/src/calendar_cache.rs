//! The effective working-day calendar of the running service: the shipped `calendars/cn.toml`
//! plus the stored edits in seq order, built on first use and rebuilt after every edit this
//! process records (like [`crate::policy_cache`]). An edit applies in the jurisdiction it was
//! recorded for, so the calendar of a place is the shipped file plus the national edits and
//! those of the place's county (or township …): [`Effective::for_division`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, DivisionCode};
use jiuzhu_store::{CalendarEdit, Store};
use jiuzhu_workflow::{CalendarError, WorkCalendar, CN_CALENDAR};

use crate::error::AppError;

/// The stored edits with the seq of the newest, and the calendars built from them.
#[derive(Debug)]
pub struct Effective {
    /// The national calendar: the shipped file and the edits that apply everywhere.
    pub calendar: Arc<WorkCalendar>,
    pub latest: i64,
    pub edits: Vec<CalendarEdit>,
    /// Calendars by the set of edits they include (a handful: one per jurisdiction with edits).
    by_edits: Mutex<HashMap<Vec<i64>, Arc<WorkCalendar>>>,
}

impl Effective {
    /// The edits that apply in `division`.
    pub fn edits_in(&self, division: &DivisionCode) -> Vec<CalendarEdit> {
        self.edits
            .iter()
            .filter(|e| e.applies_in(division))
            .cloned()
            .collect()
    }

    /// The calendar of `division`: the shipped file, the national edits and those of the
    /// jurisdictions that contain it.
    pub fn for_division(&self, division: &DivisionCode) -> Result<Arc<WorkCalendar>, AppError> {
        let edits = self.edits_in(division);
        let key: Vec<i64> = edits.iter().map(|e| e.seq).collect();
        let mut map = self
            .by_edits
            .lock()
            .map_err(|_| AppError::internal("calendar cache lock poisoned"))?;
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
        let cal =
            Arc::new(build(&edits, None).map_err(|e| {
                AppError::internal(format!("stored calendar edits do not apply: {e}"))
            })?);
        map.insert(key, cal.clone());
        Ok(cal)
    }
}

/// Shared by all handlers (cheap to clone).
#[derive(Clone, Default)]
pub struct CalendarCache {
    current: Arc<RwLock<Option<Arc<Effective>>>>,
}

/// The shipped calendar plus `edits` (in order) plus, when given, one more overlay to check.
pub fn build(edits: &[CalendarEdit], extra: Option<&str>) -> Result<WorkCalendar, CalendarError> {
    let names: Vec<String> = edits.iter().map(CalendarEdit::overlay_name).collect();
    let mut overlays: Vec<(&str, &str)> = names
        .iter()
        .zip(edits)
        .map(|(n, e)| (n.as_str(), e.overlay.as_str()))
        .collect();
    if let Some(text) = extra {
        overlays.push(("本次调整", text));
    }
    WorkCalendar::load(CN_CALENDAR, &overlays)
}

impl CalendarCache {
    /// The calendar of `division`, loading the edits from the store the first time.
    pub async fn get(
        &self,
        store: &dyn Store,
        division: &DivisionCode,
    ) -> Result<Arc<WorkCalendar>, AppError> {
        self.effective(store).await?.for_division(division)
    }

    /// The effective calendar with its edits.
    pub async fn effective(&self, store: &dyn Store) -> Result<Arc<Effective>, AppError> {
        let cached = self
            .current
            .read()
            .map_err(|_| AppError::internal("calendar cache lock poisoned"))?
            .clone();
        match cached {
            Some(e) => Ok(e),
            None => self.reload(store).await,
        }
    }

    /// Rebuilds from the shipped file and every stored edit (after an edit is recorded; also
    /// usable at start-up to fail early).
    pub async fn reload(&self, store: &dyn Store) -> Result<Arc<Effective>, AppError> {
        // The calendar is public within the service; reading it needs no user.
        let grant = Actor::system("calendar").grant::<ReadRegistry>()?;
        let edits = store.calendar_edits(&grant).await?;
        let national: Vec<CalendarEdit> = edits
            .iter()
            .filter(|e| e.division.is_none())
            .cloned()
            .collect();
        let calendar = build(&national, None)
            .map_err(|e| AppError::internal(format!("stored calendar edits do not apply: {e}")))?;
        let eff = Arc::new(Effective {
            calendar: Arc::new(calendar),
            latest: edits.last().map_or(0, |e| e.seq),
            edits,
            by_edits: Mutex::default(),
        });
        let mut slot = self
            .current
            .write()
            .map_err(|_| AppError::internal("calendar cache lock poisoned"))?;
        // Two reloads racing: keep whichever saw more edits.
        if let Some(cur) = slot.as_ref() {
            if cur.latest > eff.latest {
                return Ok(cur.clone());
            }
        }
        *slot = Some(eff.clone());
        Ok(eff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiuzhu_store::CalendarEditKind;
    use jiuzhu_workflow::DayKind;

    fn holiday(seq: i64, date: &str, division: Option<&str>) -> CalendarEdit {
        CalendarEdit {
            seq,
            kind: CalendarEditKind::AddHoliday,
            date: chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            year: None,
            name: "停工".into(),
            overlay: format!("[[add]]\ndate = \"{date}\"\nkind = \"holiday\"\nname = \"停工\"\n"),
            reason: "通知".into(),
            user_id: None,
            user_name: "x".into(),
            recorded_at: chrono::Utc::now(),
            division: division.map(|d| DivisionCode::parse(d).unwrap()),
        }
    }

    #[test]
    fn a_county_holiday_moves_days_in_the_county_only() {
        let edits = vec![
            holiday(1, "2026-11-25", Some("371002")),
            holiday(2, "2026-11-26", None),
        ];
        let eff = Effective {
            calendar: Arc::new(build(&edits[1..], None).unwrap()),
            latest: 2,
            edits,
            by_edits: Mutex::default(),
        };
        let day = |div: &str, d: &str| {
            let cal = eff
                .for_division(&DivisionCode::parse(div).unwrap())
                .unwrap();
            matches!(
                cal.day(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
                    .unwrap(),
                DayKind::Holiday { .. }
            )
        };
        assert!(day("371002001", "2026-11-25"));
        assert!(!day("371003001", "2026-11-25"));
        assert!(day("371003001", "2026-11-26"));
        assert!(day("371002", "2026-11-26"));
    }
}
