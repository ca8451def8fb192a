//! The calendar month: the period of every monthly computation, comparison and payment. One type
//! for the whole platform, written `YYYY-MM` on the wire and in files.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|first| Month { first })
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            first: date.with_day(1).expect("day 1 exists"),
        }
    }

    /// `YYYY-MM` (also `YYYY/MM` and `YYYYMM`, as departments' files and older clients write
    /// it), surrounding blanks ignored.
    pub fn parse(s: &str) -> Option<Month> {
        let s = s.trim();
        if !s.is_ascii() {
            return None;
        }
        let (y, m) = match s.len() {
            7 if matches!(s.as_bytes()[4], b'-' | b'/') => (&s[..4], &s[5..]),
            6 => s.split_at(4),
            _ => return None,
        };
        if !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn year(self) -> i32 {
        self.first.year()
    }

    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.first.month()
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first - chrono::Duration::days(1)
    }

    pub fn next(self) -> Month {
        self.plus(1)
    }

    pub fn previous(self) -> Month {
        self.plus(-1)
    }

    pub fn plus(self, months: i32) -> Month {
        Month::from_index(self.index() + months)
    }

    /// Months since year 0, January: consecutive months have consecutive indexes.
    pub fn index(self) -> i32 {
        self.first.year() * 12 + self.first.month0() as i32
    }

    pub fn from_index(index: i32) -> Month {
        Month::new(index.div_euclid(12), (index.rem_euclid(12) + 1) as u32).expect("valid month")
    }

    /// Whole months from `earlier` to `self` (0 for the same month).
    pub fn since(self, earlier: Month) -> i32 {
        self.index() - earlier.index()
    }

    /// The day a month's registry is read at: its last day, but never after today.
    pub fn as_of(self, today: NaiveDate) -> NaiveDate {
        self.last_day().min(today)
    }

    /// `yyyymm` as a number, as the departments' files write months.
    pub fn yyyymm(self) -> u32 {
        self.year() as u32 * 100 + self.month()
    }

    /// The first day as the number `yyyymmdd`.
    pub fn first_yyyymmdd(self) -> u32 {
        self.yyyymm() * 100 + 1
    }

    /// The last day as the number `yyyymmdd`.
    pub fn last_yyyymmdd(self) -> u32 {
        self.yyyymm() * 100 + self.last_day().day()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

/// The month is not written `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("月份应为 YYYY-MM:{0:?}")]
pub struct MonthError(pub String);

impl FromStr for Month {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Month, MonthError> {
        Month::parse(s).ok_or_else(|| MonthError(s.to_string()))
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Month, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_year_and_month() {
        for good in [" 2024-06 ", "2024/06", "202406"] {
            assert_eq!(
                Month::parse(good).map(|m| m.to_string()),
                Some("2024-06".into())
            );
        }
        for bad in [
            "2024-6",
            "2024.06",
            "2024-13",
            "2024-00",
            "24-06",
            "2024-0a",
            "2024-06-01",
            "ab\u{e9}c-0",
            "",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_and_numbers() {
        let feb = Month::parse("2024-02").unwrap();
        assert_eq!(
            feb.last_day(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(feb.first_yyyymmdd(), 20240201);
        assert_eq!(feb.last_yyyymmdd(), 20240229);
        assert_eq!(feb.yyyymm(), 202402);
        assert_eq!(feb.previous().to_string(), "2024-01");
        assert_eq!(
            Month::parse("2024-12").unwrap().next().to_string(),
            "2025-01"
        );
        let today = NaiveDate::from_ymd_opt(2024, 2, 10).unwrap();
        assert_eq!(feb.as_of(today), today);
        assert_eq!(
            feb.previous().as_of(today),
            NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()
        );
    }

    proptest! {
        #[test]
        fn display_parses_back(index in 1000 * 12..9999 * 12i32, step in -400..400i32) {
            let m = Month::from_index(index);
            prop_assert_eq!(Month::parse(&m.to_string()), Some(m));
            prop_assert_eq!(m.plus(step).since(m), step);
            prop_assert_eq!(m.next().previous(), m);
        }
    }
}
