//! The working-day calendar's administration (工作日历): checking an edit by loading the calendar
//! with it, recording it with its concurrency check, and the special days of a year — for the
//! `/calendar` page, its API and `jiuzhu calendar`.

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::access::ManageCalendar;
use jiuzhu_domain::{FieldError, Grant};
use jiuzhu_store::{CalendarEdit, CalendarEditKind, NewCalendarEdit};
use jiuzhu_workflow::{CalendarError, DayKind, WorkCalendar};
use serde::{Deserialize, Serialize};

use crate::params::build_calendar;
use crate::{App, Error, Result};

/// An edit as posted (JSON or form).
#[derive(Debug, Deserialize, Default, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EditInput {
    /// add_holiday | add_workday | remove | year
    pub kind: String,
    /// YYYY-MM-DD (add_holiday, add_workday, remove).
    pub date: String,
    /// The holiday's or workday's name ("本地停工"); for a year: the notice's title.
    pub name: String,
    /// The year (kind = year).
    pub year: Option<i32>,
    /// kind = year: the year's block in the calendar file format (`[[year]]` …).
    pub text: String,
    /// Why (the notice, the local decision); kept with the edit and in the audit log.
    pub reason: String,
    /// The `latest_seq` the client saw (0 when there is no edit); when someone edited the
    /// calendar meanwhile the answer is 409. Required: 422 `REQUIRED` without it.
    pub expected_seq: Option<i64>,
}

/// A holiday or adjusted workday.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DayOut))]
pub struct SpecialDay {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// holiday | workday
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    /// Where it is defined ("calendars/cn.toml:30", "管理员调整#1:1").
    pub defined_at: String,
}

fn quoted(s: &str) -> String {
    // A JSON string literal is a valid TOML basic string.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The field a calendar error is about, and its message with the field named.
fn field_error(kind: CalendarEditKind, e: &CalendarError) -> FieldError {
    let (field, label) = match (kind, e) {
        (CalendarEditKind::Year, _) => ("text", "年度放假安排"),
        (_, CalendarError::BadKind { .. }) => ("kind", "类型"),
        (_, CalendarError::Syntax { .. }) => ("name", "名称"),
        _ => ("date", "日期"),
    };
    FieldError::new(field, e.code(), format!("{label}:{}", e.message_zh()))
}

/// Turns an edit into its overlay and checks that the shipped calendar plus `edits` plus it
/// loads.
pub fn prepare_edit(edits: &[CalendarEdit], input: &EditInput) -> Result<NewCalendarEdit> {
    let mut errors = Vec::new();
    let Some(kind) = CalendarEditKind::parse(input.kind.trim()) else {
        return Err(Error::invalid(vec![FieldError::new(
            "kind",
            "CALENDAR_EDIT_KIND",
            format!(
                "类型:“{}”无效(add_holiday、add_workday、remove、year)",
                input.kind
            ),
        )]));
    };
    let name = input.name.trim();
    let date = if kind == CalendarEditKind::Year {
        None
    } else {
        let d = input.date.trim();
        let parsed = (d.len() == 10)
            .then(|| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .flatten();
        if parsed.is_none() {
            errors.push(FieldError::new(
                "date",
                "CALENDAR_BAD_DATE",
                format!("日期:“{d}”无法识别,应为 YYYY-MM-DD"),
            ));
        }
        parsed
    };
    if matches!(
        kind,
        CalendarEditKind::AddHoliday | CalendarEditKind::AddWorkday
    ) && name.is_empty()
    {
        errors.push(FieldError::new(
            "name",
            "REQUIRED",
            "名称:请填写(如“本地停工”“国庆节调休上班”)",
        ));
    }
    let year = if kind == CalendarEditKind::Year {
        if input.year.is_none() {
            errors.push(FieldError::new("year", "REQUIRED", "年度:请填写"));
        }
        if input.text.trim().is_empty() {
            errors.push(FieldError::new(
                "text",
                "REQUIRED",
                "年度放假安排:请按日历文件格式填写 [[year]] 段",
            ));
        }
        input.year
    } else {
        None
    };
    if input.reason.trim().is_empty() {
        errors.push(FieldError::new(
            "reason",
            "REQUIRED",
            "调整原因:请填写(依据的通知或决定)",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let overlay = match (kind, date) {
        (CalendarEditKind::AddHoliday | CalendarEditKind::AddWorkday, Some(d)) => format!(
            "[[add]]\ndate = \"{d}\"\nkind = \"{}\"\nname = {}\nnote = {}\n",
            if kind == CalendarEditKind::AddHoliday {
                "holiday"
            } else {
                "workday"
            },
            quoted(name),
            quoted(input.reason.trim())
        ),
        (CalendarEditKind::Remove, Some(d)) => format!(
            "[[remove]]\ndate = \"{d}\"\nnote = {}\n",
            quoted(input.reason.trim())
        ),
        _ => input.text.clone(),
    };
    let cal = build_calendar(edits, Some(&overlay))
        .map_err(|e| Error::invalid(vec![field_error(kind, &e)]))?;
    if let Some(y) = year {
        // The text must really be that year's notice, not some other block.
        let entered = cal
            .sources()
            .iter()
            .any(|s| s.year == y && s.file == "本次调整" && !s.provisional);
        let other = cal
            .sources()
            .iter()
            .any(|s| s.file == "本次调整" && s.year != y);
        if !entered || other {
            return Err(Error::invalid(vec![FieldError::new(
                "text",
                "CALENDAR_YEAR_MISMATCH",
                format!("年度放假安排:应恰好包含 {y} 年的一个正式(非暂定)[[year]] 段"),
            )]));
        }
    }
    let name = match (kind, year) {
        (CalendarEditKind::Year, Some(y)) => cal
            .sources()
            .iter()
            .find(|s| s.year == y)
            .map(|s| s.notice.clone())
            .unwrap_or_default(),
        _ => name.to_string(),
    };
    Ok(NewCalendarEdit {
        kind,
        date,
        year,
        name,
        overlay,
        reason: input.reason.trim().to_string(),
    })
}

impl App {
    /// Checks an edit against the calendar of the editor's jurisdiction, where it will apply,
    /// and against the calendar of every jurisdiction inside it that has edits of its own (a
    /// national workday on a county's local holiday would leave that county without a
    /// calendar), then records it. Every application sees it at its next use.
    pub async fn record_calendar_edit(
        &self,
        grant: &Grant<ManageCalendar>,
        input: &EditInput,
    ) -> Result<CalendarEdit> {
        let params = self.params().await?;
        let calendars = &params.calendars;
        let root = grant.scope().root();
        let new = prepare_edit(&calendars.edits_in(root), input)?;
        let mut below: Vec<_> = calendars
            .edits
            .iter()
            .filter_map(|e| e.division.as_ref())
            .filter(|d| *d != root && root.contains(d))
            .collect();
        below.sort();
        below.dedup();
        for division in below {
            if let Err(e) = build_calendar(&calendars.edits_in(division), Some(&new.overlay)) {
                let name = self.division_name(division).await;
                let mut conflict = field_error(new.kind, &e);
                conflict.code = "CALENDAR_LOCAL_CONFLICT".into();
                conflict.message = format!("与{name}的本地调整冲突:{}", conflict.message);
                return Err(Error::invalid(vec![conflict]));
            }
        }
        // The edit was checked against the calendar as its editor saw it: which edit that was is
        // part of the request, never assumed to be the newest stored.
        let expected = input.expected_seq.ok_or_else(|| {
            Error::invalid(vec![FieldError::new(
                "expected_seq",
                "REQUIRED",
                "所依据的日历调整序号:请填写(即页面显示的最新调整序号,尚无调整时为 0)",
            )])
        })?;
        Ok(self
            .store
            .record_calendar_edit(grant, expected, &new)
            .await?)
    }
}

/// The holidays and adjusted workdays of `year`, in date order.
pub fn special_days(cal: &WorkCalendar, year: i32) -> Vec<SpecialDay> {
    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return vec![];
    };
    first
        .iter_days()
        .take_while(|d| d.year() == year)
        .filter_map(|d| {
            let (kind, label, name) = match cal.day(d).ok()? {
                DayKind::Holiday { name } => ("holiday", "放假", name),
                DayKind::AdjustedWorkday { name } => ("workday", "调休上班", name),
                _ => return None,
            };
            Some(SpecialDay {
                date: d,
                kind: kind.into(),
                kind_label: label.into(),
                name,
                defined_at: cal
                    .defined_at(d)
                    .map(|(f, l)| format!("{f}:{l}"))
                    .unwrap_or_default(),
            })
        })
        .collect()
}
