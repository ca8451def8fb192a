//! The effective working-day calendar of the running service: the shipped `calendars/cn.toml`
//! plus the stored administrator edits in seq order, built on first use and rebuilt after every
//! edit this process records (like [`crate::policy_cache`]).

use std::sync::{Arc, RwLock};

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::Actor;
use jiuzhu_store::{CalendarEdit, Store};
use jiuzhu_workflow::{CalendarError, WorkCalendar, CN_CALENDAR};

use crate::error::AppError;

/// The effective calendar with the seq of the newest edit it includes.
#[derive(Debug)]
pub struct Effective {
    pub calendar: Arc<WorkCalendar>,
    pub latest: i64,
    pub edits: Vec<CalendarEdit>,
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
    /// The effective calendar, loading the edits from the store the first time.
    pub async fn get(&self, store: &dyn Store) -> Result<Arc<WorkCalendar>, AppError> {
        Ok(self.effective(store).await?.calendar.clone())
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
        let calendar = build(&edits, None)
            .map_err(|e| AppError::internal(format!("stored calendar edits do not apply: {e}")))?;
        let eff = Arc::new(Effective {
            calendar: Arc::new(calendar),
            latest: edits.last().map_or(0, |e| e.seq),
            edits,
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
