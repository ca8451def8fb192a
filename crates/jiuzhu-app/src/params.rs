//! The parameters every computation reads: the policy library (the files plus the stored
//! revisions) and the working-day calendars (the shipped file plus the stored edits). They are
//! built once and kept, and checked against the store at the start of every use-case
//! ([`jiuzhu_store::PolicyStore::parameter_seqs`], one small query): a revision recorded by another
//! server or by the command line is used by the next computation here, never after a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, DivisionCode};
use jiuzhu_policy::PolicyLibrary;
use jiuzhu_store::{CalendarEdit, ParameterSeqs, Store};
use jiuzhu_workflow::{CalendarError, WorkCalendar, CN_CALENDAR};

use crate::error::{Error, Result};

/// The parameters as of one moment: a use-case reads them once, at its start, and computes
/// everything with this one snapshot.
#[derive(Debug)]
pub struct Params {
    pub policies: Arc<PolicyLibrary>,
    pub calendars: Arc<Calendars>,
    /// The newest revision and edit these were built with.
    pub seqs: ParameterSeqs,
}

/// The stored calendar edits and the calendars built from them.
#[derive(Debug)]
pub struct Calendars {
    /// The national calendar: the shipped file and the edits that apply everywhere.
    pub calendar: Arc<WorkCalendar>,
    /// The seq of the newest edit (0 when none).
    pub latest: i64,
    pub edits: Vec<CalendarEdit>,
    /// Calendars by the set of edits they include (a handful: one per jurisdiction with edits).
    by_edits: Mutex<HashMap<Vec<i64>, Arc<WorkCalendar>>>,
}

impl Calendars {
    /// The calendars of the shipped file and `edits` (in seq order).
    pub fn new(edits: Vec<CalendarEdit>) -> Result<Calendars> {
        let national: Vec<CalendarEdit> = edits
            .iter()
            .filter(|e| e.division.is_none())
            .cloned()
            .collect();
        let calendar = build_calendar(&national, None)
            .map_err(|e| Error::internal_from("stored calendar edits do not apply", e))?;
        Ok(Calendars {
            calendar: Arc::new(calendar),
            latest: edits.last().map_or(0, |e| e.seq),
            edits,
            by_edits: Mutex::default(),
        })
    }

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
    pub fn for_division(&self, division: &DivisionCode) -> Result<Arc<WorkCalendar>> {
        let edits = self.edits_in(division);
        let key: Vec<i64> = edits.iter().map(|e| e.seq).collect();
        let mut map = self
            .by_edits
            .lock()
            .map_err(|_| Error::internal("calendar cache lock poisoned"))?;
        if let Some(c) = map.get(&key) {
            return Ok(c.clone());
        }
        let cal = Arc::new(
            build_calendar(&edits, None)
                .map_err(|e| Error::internal_from("stored calendar edits do not apply", e))?,
        );
        map.insert(key, cal.clone());
        Ok(cal)
    }
}

/// The shipped calendar plus `edits` (in order) plus, when given, one more overlay to check.
pub fn build_calendar(
    edits: &[CalendarEdit],
    extra: Option<&str>,
) -> Result<WorkCalendar, CalendarError> {
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

/// The kept parameters of one [`crate::App`] (shared by its clones).
#[derive(Default)]
pub(crate) struct ParamsCache {
    current: RwLock<Option<Arc<Params>>>,
}

impl ParamsCache {
    /// The parameters as the store has them now: the kept ones when no revision or edit was
    /// recorded since, else rebuilt (only the part that moved).
    pub(crate) async fn get(&self, store: &dyn Store, base: &PolicyLibrary) -> Result<Arc<Params>> {
        let now = store.parameter_seqs().await?;
        let kept = self
            .current
            .read()
            .map_err(|_| Error::internal("parameter cache lock poisoned"))?
            .clone();
        if let Some(p) = kept.as_ref().filter(|p| p.seqs == now) {
            return Ok(p.clone());
        }
        // Parameters are public within the service; reading them needs no user.
        let grant = Actor::system("parameters").grant::<ReadRegistry>()?;
        let (policies, policy_seq) = match kept.as_ref().filter(|p| p.seqs.policy == now.policy) {
            Some(p) => (p.policies.clone(), p.seqs.policy),
            None => {
                let revisions = store.policy_revisions(&grant, None).await?;
                let lib = base.with_revisions(&revisions).map_err(|errors| {
                    Error::internal(format!(
                        "stored policy revisions do not apply: {}",
                        errors
                            .iter()
                            .map(|e| e.message_zh())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                })?;
                (Arc::new(lib), revisions.last().map_or(0, |r| r.seq))
            }
        };
        let calendars = match kept.as_ref().filter(|p| p.seqs.calendar == now.calendar) {
            Some(p) => p.calendars.clone(),
            None => Arc::new(Calendars::new(store.calendar_edits(&grant).await?)?),
        };
        // The seqs of what was read (a write between the two reads is then seen next time).
        let seqs = ParameterSeqs {
            policy: policy_seq,
            calendar: calendars.latest,
        };
        let fresh = Arc::new(Params {
            policies,
            calendars,
            seqs,
        });
        let mut slot = self
            .current
            .write()
            .map_err(|_| Error::internal("parameter cache lock poisoned"))?;
        // Two rebuilds racing: keep whichever saw more.
        let newer = |a: &ParameterSeqs, b: &ParameterSeqs| {
            a.policy >= b.policy && a.calendar >= b.calendar && a != b
        };
        if let Some(cur) = slot.as_ref().filter(|c| newer(&c.seqs, &seqs)) {
            return Ok(cur.clone());
        }
        *slot = Some(fresh.clone());
        Ok(fresh)
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
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            division: division.map(|d| DivisionCode::parse(d).unwrap()),
        }
    }

    #[test]
    fn a_county_holiday_moves_days_in_the_county_only() {
        let cals = Calendars::new(vec![
            holiday(1, "2026-11-25", Some("371002")),
            holiday(2, "2026-11-26", None),
        ])
        .unwrap();
        let day = |div: &str, d: &str| {
            let cal = cals
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
        assert_eq!(cals.latest, 2);
    }
}
