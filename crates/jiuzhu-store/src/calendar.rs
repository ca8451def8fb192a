//! Working-day calendar edits (migration 0008): overlays in the calendar file format that an
//! administrator records on top of the shipped `calendars/cn.toml`. The store keeps them
//! append-only and audited; it does not parse them — the web layer loads the calendar with the
//! new overlay before saving (jiuzhu_workflow::WorkCalendar::load), so a stored edit always
//! applies.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::DivisionCode;
use serde::{Deserialize, Serialize};

/// What an edit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarEditKind {
    /// A day off (放假) added, e.g. a local holiday.
    AddHoliday,
    /// A worked weekend day (调休上班) added.
    AddWorkday,
    /// A holiday or adjusted workday taken back to the Monday–Friday rule.
    Remove,
    /// A year's block from the State Council notice (replaces a provisional year).
    Year,
}

impl CalendarEditKind {
    pub const ALL: [CalendarEditKind; 4] = [
        CalendarEditKind::AddHoliday,
        CalendarEditKind::AddWorkday,
        CalendarEditKind::Remove,
        CalendarEditKind::Year,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarEditKind::AddHoliday => "add_holiday",
            CalendarEditKind::AddWorkday => "add_workday",
            CalendarEditKind::Remove => "remove",
            CalendarEditKind::Year => "year",
        }
    }
    pub fn parse(s: &str) -> Option<CalendarEditKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            CalendarEditKind::AddHoliday => "增加放假日",
            CalendarEditKind::AddWorkday => "增加调休上班日",
            CalendarEditKind::Remove => "恢复为常规日",
            CalendarEditKind::Year => "录入年度放假安排",
        }
    }
}

/// An edit to record. `overlay` is the calendar-format text (already checked to load).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCalendarEdit {
    pub kind: CalendarEditKind,
    pub date: Option<NaiveDate>,
    pub year: Option<i32>,
    pub name: String,
    pub overlay: String,
    pub reason: String,
}

/// A recorded edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEdit {
    pub seq: i64,
    pub kind: CalendarEditKind,
    pub date: Option<NaiveDate>,
    pub year: Option<i32>,
    pub name: String,
    pub overlay: String,
    pub reason: String,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub recorded_at: DateTime<Utc>,
    /// Where the edit applies: the recorder's jurisdiction; `None` for the whole country.
    pub division: Option<DivisionCode>,
}

impl CalendarEdit {
    /// Whether the edit moves days in `division` (it is national, or `division` lies in the
    /// jurisdiction it was recorded for).
    pub fn applies_in(&self, division: &DivisionCode) -> bool {
        self.division.as_ref().is_none_or(|d| d.contains(division))
    }

    /// The name of the overlay in calendar error messages and the admin page ("管理员调整#3").
    pub fn overlay_name(&self) -> String {
        format!("管理员调整#{}", self.seq)
    }
}
