//! The working-day calendar: China's public holidays and adjusted workdays (调休) as data.
//!
//! Legal time limits in social assistance are counted in working days ("N个工作日内"), and which
//! days are worked changes every year by State Council notice. So the days are data
//! (`calendars/cn.toml`, embedded), editable by overlays (text an administrator keeps in the
//! store), and a date in a year the data does not cover is an error rather than a guess.
//!
//! Counting convention (Civil Code Art. 201: the day of the event is not counted; the seeds'
//! "N个工作日内" counts from the next working day): the due date of "N working days after D" is
//! the N-th working day strictly after D, and the act is on time if done on or before that day.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::line_of;

/// The calendar shipped with the platform.
pub const CN_CALENDAR: &str = include_str!("../../../calendars/cn.toml");
/// The name used for the shipped file in error messages.
pub const CN_CALENDAR_NAME: &str = "calendars/cn.toml";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: bad date {value:?} (expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)")]
    BadDate {
        file: String,
        line: usize,
        value: String,
    },
    #[error("{file}:{line}: {date} is both a holiday and an adjusted workday")]
    Conflict {
        file: String,
        line: usize,
        date: NaiveDate,
    },
    #[error("{file}:{line}: {date} is listed twice")]
    Duplicate {
        file: String,
        line: usize,
        date: NaiveDate,
    },
    #[error("{file}:{line}: year {year} is defined twice")]
    DuplicateYear {
        file: String,
        line: usize,
        year: i32,
    },
    #[error("{file}:{line}: {date} is in a year the calendar does not cover")]
    ChangeOutsideCoverage {
        file: String,
        line: usize,
        date: NaiveDate,
    },
    #[error("{file}:{line}: {date} is neither a holiday nor an adjusted workday")]
    NothingToRemove {
        file: String,
        line: usize,
        date: NaiveDate,
    },
    #[error("{file}:{line}: kind must be \"holiday\" or \"workday\", not {value:?}")]
    BadKind {
        file: String,
        line: usize,
        value: String,
    },
    #[error("{date} is outside the years the calendar covers ({covered})")]
    NotCovered { date: NaiveDate, covered: String },
}

impl CalendarError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::Syntax { .. } => "calendar_syntax",
            CalendarError::BadDate { .. } => "calendar_bad_date",
            CalendarError::Conflict { .. } => "calendar_conflict",
            CalendarError::Duplicate { .. } => "calendar_duplicate",
            CalendarError::DuplicateYear { .. } => "calendar_duplicate_year",
            CalendarError::ChangeOutsideCoverage { .. } => "calendar_change_outside_coverage",
            CalendarError::NothingToRemove { .. } => "calendar_nothing_to_remove",
            CalendarError::BadKind { .. } => "calendar_bad_kind",
            CalendarError::NotCovered { .. } => "calendar_not_covered",
        }
    }

    /// The message for users, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            CalendarError::Syntax {
                file,
                line,
                message,
            } => format!("工作日历 {file} 第{line}行格式错误:{message}"),
            CalendarError::BadDate { file, line, value } => format!(
                "工作日历 {file} 第{line}行日期“{value}”无法识别,应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"
            ),
            CalendarError::Conflict { file, line, date } => format!(
                "工作日历 {file} 第{line}行:{date} 同时出现在放假和调休上班两个列表中"
            ),
            CalendarError::Duplicate { file, line, date } => {
                format!("工作日历 {file} 第{line}行:{date} 重复列出")
            }
            CalendarError::DuplicateYear { file, line, year } => {
                format!("工作日历 {file} 第{line}行:{year}年已定义")
            }
            CalendarError::ChangeOutsideCoverage { file, line, date } => format!(
                "工作日历 {file} 第{line}行:{date} 所在年份尚未录入放假安排,请先录入该年度"
            ),
            CalendarError::NothingToRemove { file, line, date } => format!(
                "工作日历 {file} 第{line}行:{date} 既不是放假日也不是调休上班日,无可删除"
            ),
            CalendarError::BadKind { file, line, value } => format!(
                "工作日历 {file} 第{line}行:类型“{value}”无效,应为 holiday(放假)或 workday(调休上班)"
            ),
            CalendarError::NotCovered { date, covered } => format!(
                "{date} 超出工作日历覆盖的年份({covered}),请管理员录入该年度放假安排"
            ),
        }
    }
}

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// Monday–Friday, not a holiday.
    Workday,
    /// A weekend day worked in exchange for a holiday (调休上班).
    AdjustedWorkday { name: String },
    /// Saturday or Sunday.
    Weekend,
    /// A public holiday (including weekend days inside the break).
    Holiday { name: String },
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday { .. })
    }
    /// Why the day is not worked ("春节", "周末"), or `None` for a working day.
    pub fn rest_reason(&self) -> Option<&str> {
        match self {
            DayKind::Holiday { name } => Some(name),
            DayKind::Weekend => Some("周末"),
            _ => None,
        }
    }
}

/// Where a covered year's dates come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearSource {
    pub year: i32,
    pub notice: String,
    pub number: String,
    pub issued: String,
    /// The file or overlay the block was read from.
    pub file: String,
    /// Only the statutory days of the law, before the year's notice (with its 调休) is out.
    /// Deadlines that fall in such a year are shown as provisional (暂定); a later block for the
    /// same year that is not provisional replaces it.
    #[serde(default)]
    pub provisional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    /// Where it was defined, for conflict messages.
    file: String,
    line: usize,
}

/// A loaded, validated working-day calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeSet<i32>,
    sources: Vec<YearSource>,
    holidays: BTreeMap<NaiveDate, Entry>,
    workdays: BTreeMap<NaiveDate, Entry>,
}

// ---- file format -------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    calendar: Option<RawHeader>,
    #[serde(default)]
    year: Vec<RawYear>,
    #[serde(default)]
    add: Vec<RawAdd>,
    #[serde(default)]
    remove: Vec<RawRemove>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    #[allow(dead_code)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i32>,
    notice: String,
    number: String,
    issued: String,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    holiday: Vec<RawPeriod>,
    #[serde(default)]
    workday: Vec<RawPeriod>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeriod {
    name: String,
    dates: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdd {
    date: Spanned<String>,
    kind: Spanned<String>,
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemove {
    date: Spanned<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: String,
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    // Exactly YYYY-MM-DD: chrono alone would also accept "2026-1-4".
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A date or an inclusive range, as written in the file.
fn parse_dates(s: &str) -> Option<Vec<NaiveDate>> {
    let s = s.trim();
    match s.split_once("..") {
        None => parse_day(s).map(|d| vec![d]),
        Some((a, b)) => {
            let (a, b) = (parse_day(a.trim())?, parse_day(b.trim())?);
            if b < a || (b - a).num_days() > 366 {
                return None;
            }
            Some(a.iter_days().take_while(|d| *d <= b).collect())
        }
    }
}

impl WorkCalendar {
    /// The shipped calendar of mainland China, without overlays.
    pub fn china() -> Result<WorkCalendar, CalendarError> {
        WorkCalendar::load(CN_CALENDAR, &[])
    }

    /// The shipped calendar text plus overlays `(name, text)` applied in order. The name is used
    /// in error messages (e.g. "管理员调整#3").
    pub fn load(base: &str, overlays: &[(&str, &str)]) -> Result<WorkCalendar, CalendarError> {
        let mut cal = WorkCalendar {
            years: BTreeSet::new(),
            sources: Vec::new(),
            holidays: BTreeMap::new(),
            workdays: BTreeMap::new(),
        };
        cal.apply(CN_CALENDAR_NAME, base)?;
        for (name, text) in overlays {
            cal.apply(name, text)?;
        }
        Ok(cal)
    }

    fn apply(&mut self, file: &str, text: &str) -> Result<(), CalendarError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| CalendarError::Syntax {
            file: file.to_string(),
            line: e.span().map(|s| line_of(text, s)).unwrap_or(1),
            message: e.message().to_string(),
        })?;
        let _ = raw.calendar;
        let lines = crate::LineIndex::new(text);
        let at = |span: Range<usize>| lines.line(span);
        let dates_of = |v: &Spanned<String>| {
            parse_dates(v.get_ref()).ok_or_else(|| CalendarError::BadDate {
                file: file.to_string(),
                line: at(v.span()),
                value: v.get_ref().clone(),
            })
        };

        for y in &raw.year {
            let year = *y.year.get_ref();
            if !y.provisional && self.is_provisional_year(year) {
                // The notice is out: its block replaces the statutory-days-only one.
                self.sources.retain(|s| s.year != year);
                self.holidays.retain(|d, _| d.year() != year);
                self.workdays.retain(|d, _| d.year() != year);
                self.years.remove(&year);
            }
            if !self.years.insert(year) {
                return Err(CalendarError::DuplicateYear {
                    file: file.to_string(),
                    line: at(y.year.span()),
                    year,
                });
            }
            self.sources.push(YearSource {
                year,
                notice: y.notice.clone(),
                number: y.number.clone(),
                issued: y.issued.clone(),
                file: file.to_string(),
                provisional: y.provisional,
            });
            for (periods, is_holiday) in [(&y.holiday, true), (&y.workday, false)] {
                for p in periods {
                    for v in &p.dates {
                        let line = at(v.span());
                        for d in dates_of(v)? {
                            self.insert(d, is_holiday, &p.name, file, line, false)?;
                        }
                    }
                }
            }
        }
        for a in &raw.add {
            let line = at(a.date.span());
            let is_holiday = match a.kind.get_ref().as_str() {
                "holiday" | "放假" => true,
                "workday" | "调休上班" | "上班" => false,
                other => {
                    return Err(CalendarError::BadKind {
                        file: file.to_string(),
                        line: at(a.kind.span()),
                        value: other.to_string(),
                    })
                }
            };
            for d in dates_of(&a.date)? {
                if !self.years.contains(&d.year()) {
                    return Err(CalendarError::ChangeOutsideCoverage {
                        file: file.to_string(),
                        line,
                        date: d,
                    });
                }
                self.insert(d, is_holiday, &a.name, file, line, true)?;
            }
        }
        for r in &raw.remove {
            let line = at(r.date.span());
            for d in dates_of(&r.date)? {
                let removed =
                    self.holidays.remove(&d).is_some() | self.workdays.remove(&d).is_some();
                if !removed {
                    return Err(CalendarError::NothingToRemove {
                        file: file.to_string(),
                        line,
                        date: d,
                    });
                }
            }
        }
        Ok(())
    }

    fn insert(
        &mut self,
        d: NaiveDate,
        is_holiday: bool,
        name: &str,
        file: &str,
        line: usize,
        replace_same_kind: bool,
    ) -> Result<(), CalendarError> {
        let (own, other) = if is_holiday {
            (&mut self.holidays, &self.workdays)
        } else {
            (&mut self.workdays, &self.holidays)
        };
        if other.contains_key(&d) {
            return Err(CalendarError::Conflict {
                file: file.to_string(),
                line,
                date: d,
            });
        }
        let entry = Entry {
            name: name.to_string(),
            file: file.to_string(),
            line,
        };
        if own.insert(d, entry).is_some() && !replace_same_kind {
            return Err(CalendarError::Duplicate {
                file: file.to_string(),
                line,
                date: d,
            });
        }
        Ok(())
    }

    /// The years covered, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// The notices the covered years come from.
    pub fn sources(&self) -> &[YearSource] {
        &self.sources
    }

    fn is_provisional_year(&self, year: i32) -> bool {
        self.sources.iter().any(|s| s.year == year && s.provisional)
    }

    /// Whether `d` lies in a year known only provisionally (statutory days, no notice yet): a
    /// deadline on such a date is shown as 暂定 and may move when the notice is entered.
    pub fn is_provisional(&self, d: NaiveDate) -> bool {
        self.is_provisional_year(d.year())
    }

    pub fn covers(&self, d: NaiveDate) -> bool {
        self.years.contains(&d.year())
    }

    fn check(&self, d: NaiveDate) -> Result<(), CalendarError> {
        if self.covers(d) {
            Ok(())
        } else {
            let covered = self
                .years
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join("、");
            Err(CalendarError::NotCovered {
                date: d,
                covered: if covered.is_empty() {
                    "无".into()
                } else {
                    covered
                },
            })
        }
    }

    /// What kind of day `d` is.
    pub fn day(&self, d: NaiveDate) -> Result<DayKind, CalendarError> {
        self.check(d)?;
        if let Some(e) = self.holidays.get(&d) {
            return Ok(DayKind::Holiday {
                name: e.name.clone(),
            });
        }
        if let Some(e) = self.workdays.get(&d) {
            return Ok(DayKind::AdjustedWorkday {
                name: e.name.clone(),
            });
        }
        Ok(match d.weekday() {
            Weekday::Sat | Weekday::Sun => DayKind::Weekend,
            _ => DayKind::Workday,
        })
    }

    pub fn is_working_day(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.day(d)?.is_working())
    }

    /// Why `d` is not worked ("春节", "周末"), `None` if it is a working day.
    pub fn rest_reason(&self, d: NaiveDate) -> Result<Option<String>, CalendarError> {
        Ok(self.day(d)?.rest_reason().map(str::to_string))
    }

    /// The `n`-th working day strictly after `start` (`start` itself is never counted, even when
    /// it is a working day). `n = 0` gives `start`.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        self.check(start)?;
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// The number of working days `d` with `from < d <= to` (negative when `to < from`), so that
    /// `working_days_between(s, add_working_days(s, n)) == n`.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarError> {
        if to < from {
            return Ok(-self.working_days_between(to, from)?);
        }
        self.check(from)?;
        self.check(to)?;
        let mut n = 0;
        for d in from.iter_days().skip(1).take_while(|d| *d <= to) {
            if self.is_working_day(d)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// `start + n` calendar days, checked against coverage like the working-day functions so
    /// that a period never silently runs off the calendar.
    pub fn add_calendar_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        self.check(start)?;
        let d = start + Duration::days(i64::from(n));
        self.check(d)?;
        Ok(d)
    }

    /// The first working day on or after `d`.
    pub fn next_working_day_from(&self, d: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let mut d = d;
        while !self.is_working_day(d)? {
            d += Duration::days(1);
        }
        Ok(d)
    }

    /// Where a holiday or adjusted workday was defined (file and line), for the admin page.
    pub fn defined_at(&self, d: NaiveDate) -> Option<(String, usize)> {
        self.holidays
            .get(&d)
            .or_else(|| self.workdays.get(&d))
            .map(|e| (e.file.clone(), e.line))
    }
}
