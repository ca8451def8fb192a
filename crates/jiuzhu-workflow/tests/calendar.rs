//! The working-day calendar, checked by hand around every 调休 of 2024–2026.

use chrono::NaiveDate;
use jiuzhu_workflow::{CalendarError, DayKind, WorkCalendar, CN_CALENDAR};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cal() -> WorkCalendar {
    WorkCalendar::china().expect("shipped calendar loads")
}

/// (start, n, expected) — each worked out on paper from the notices.
const CASES: &[(&str, u32, &str)] = &[
    // 2024 (国办发明电〔2023〕7号)
    ("2024-01-01", 5, "2024-01-08"), // 元旦 Mon off; Jan 2,3,4,5,8
    ("2024-02-02", 5, "2024-02-08"), // Sun 2/4 worked: 2/4,5,6,7,8
    ("2024-02-08", 5, "2024-02-21"), // 除夕 2/9 is worked; 2/10–17 off; Sun 2/18 worked: 9,18,19,20,21
    ("2024-04-03", 5, "2024-04-11"), // 清明 4/4–6 off; Sun 4/7 worked: 7,8,9,10,11
    ("2024-04-26", 5, "2024-05-07"), // Sun 4/28 worked; 5/1–5 off: 28,29,30,5/6,5/7
    ("2024-05-09", 5, "2024-05-15"), // Sat 5/11 worked: 10,11,13,14,15
    ("2024-06-07", 1, "2024-06-11"), // 端午 Mon 6/10 off
    ("2024-09-13", 5, "2024-09-23"), // Sat 9/14 worked; 9/15–17 off: 14,18,19,20,23
    ("2024-09-27", 5, "2024-10-10"), // Sun 9/29 worked; 10/1–7 off: 29,30,10/8,9,10
    ("2024-09-27", 7, "2024-10-12"), // … 10/11, Sat 10/12 worked
    // 2025 (国办发明电〔2024〕12号)
    ("2024-12-31", 5, "2025-01-08"), // across New Year: 1/1 off; 2,3,6,7,8
    ("2025-01-24", 5, "2025-02-07"), // Sun 1/26 worked; 1/28–2/4 off: 26,27,2/5,6,7
    ("2025-01-24", 6, "2025-02-08"), // Sat 2/8 worked
    ("2025-04-03", 1, "2025-04-07"), // 清明 4/4–6 off
    ("2025-04-25", 5, "2025-05-06"), // Sun 4/27 worked; 5/1–5 off: 27,28,29,30,5/6
    ("2025-05-30", 5, "2025-06-09"), // 端午 5/31–6/2 off: 6/3,4,5,6,9
    ("2025-09-26", 5, "2025-10-10"), // Sun 9/28 worked; 10/1–8 off: 28,29,30,10/9,10
    ("2025-09-26", 6, "2025-10-11"), // Sat 10/11 worked
    // 2026 (2025-11-04 notice)
    ("2025-12-30", 5, "2026-01-07"), // across New Year: 12/31; 1/1–3 off; Sun 1/4 worked; 5,6,7
    ("2026-02-13", 5, "2026-02-27"), // Sat 2/14 worked; 2/15–23 off: 14,24,25,26,27
    ("2026-02-13", 6, "2026-02-28"), // Sat 2/28 worked
    ("2026-04-02", 5, "2026-04-10"), // 清明 4/4–6 off: 3,7,8,9,10
    ("2026-04-30", 5, "2026-05-11"), // 5/1–5 off; Sat 5/9 worked: 6,7,8,9,11
    ("2026-06-18", 5, "2026-06-26"), // 端午 6/19–21 off
    ("2026-09-18", 5, "2026-09-24"), // Sun 9/20 worked: 20,21,22,23,24
    ("2026-09-18", 6, "2026-09-28"), // 中秋 9/25–27 off
    ("2026-09-30", 5, "2026-10-13"), // 10/1–7 off; Sat 10/10 worked: 8,9,10,12,13
];

#[test]
fn working_days_around_every_adjustment_2024_to_2026() {
    let c = cal();
    for (start, n, expected) in CASES {
        let got = c.add_working_days(d(start), *n).unwrap();
        assert_eq!(got, d(expected), "{n} working days after {start}");
        // And the count back is the same n.
        assert_eq!(
            c.working_days_between(d(start), got).unwrap(),
            i64::from(*n),
            "count {start}..{expected}"
        );
    }
}

#[test]
fn every_adjusted_workday_is_a_weekend_day_and_worked() {
    let c = cal();
    for s in [
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ] {
        use chrono::Datelike;
        let day = d(s);
        assert!(
            day.weekday().number_from_monday() >= 6,
            "{s} is a weekend day"
        );
        assert!(c.is_working_day(day).unwrap(), "{s} is worked");
        assert!(matches!(
            c.day(day).unwrap(),
            DayKind::AdjustedWorkday { .. }
        ));
    }
}

#[test]
fn holidays_and_reasons() {
    let c = cal();
    assert_eq!(
        c.rest_reason(d("2026-02-17")).unwrap().as_deref(),
        Some("春节")
    );
    assert_eq!(
        c.rest_reason(d("2026-02-15")).unwrap().as_deref(),
        Some("春节")
    ); // a Sunday inside the break
    assert_eq!(
        c.rest_reason(d("2026-11-21")).unwrap().as_deref(),
        Some("周末")
    );
    assert_eq!(c.rest_reason(d("2026-11-23")).unwrap(), None);
    assert_eq!(
        c.rest_reason(d("2025-10-06")).unwrap().as_deref(),
        Some("国庆节、中秋节")
    );
    // 2024: 除夕 was only "encouraged" off — a working day.
    assert!(c.is_working_day(d("2024-02-09")).unwrap());
    assert_eq!(
        c.day(d("2026-02-14")).unwrap(),
        DayKind::AdjustedWorkday {
            name: "春节调休上班".into()
        }
    );
    assert_eq!(c.years().collect::<Vec<_>>(), vec![2024, 2025, 2026, 2027]);
    assert_eq!(c.sources()[0].number, "国办发明电〔2023〕7号");
    assert_eq!(c.sources()[1].number, "国办发明电〔2024〕12号");
}

#[test]
fn working_days_in_2026_counted_by_hand() {
    // 261 weekdays − 19 weekday holidays + 6 adjusted Saturdays/Sundays = 248.
    let c = cal();
    assert_eq!(
        c.working_days_between(d("2025-12-31"), d("2026-12-31"))
            .unwrap(),
        248
    );
    assert_eq!(
        c.working_days_between(d("2026-10-13"), d("2026-09-30"))
            .unwrap(),
        -5
    );
    assert_eq!(
        c.add_working_days(d("2026-10-01"), 0).unwrap(),
        d("2026-10-01")
    );
    // Start on a holiday: the first working day after it is day 1.
    assert_eq!(
        c.add_working_days(d("2026-10-03"), 1).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        c.next_working_day_from(d("2026-10-03")).unwrap(),
        d("2026-10-08")
    );
    assert_eq!(
        c.add_calendar_days(d("2026-03-12"), 7).unwrap(),
        d("2026-03-19")
    );
}

#[test]
fn dates_outside_the_covered_years_are_errors() {
    let c = cal();
    let e = c.is_working_day(d("2023-12-29")).unwrap_err();
    assert_eq!(e.code(), "calendar_not_covered");
    // Counting off the end of 2027 does not guess 2028.
    let e = c.add_working_days(d("2027-12-28"), 5).unwrap_err();
    assert_eq!(
        e,
        CalendarError::NotCovered {
            date: d("2028-01-01"),
            covered: "2024、2025、2026、2027".into()
        }
    );
    assert!(e.message_zh().contains("2028-01-01"));
    assert!(c.add_working_days(d("2027-12-28"), 3).is_ok());
}

#[test]
fn the_year_before_its_notice_is_provisional_statutory_days_only() {
    let c = cal();
    assert!(!c.is_provisional(d("2026-12-31")));
    assert!(c.is_provisional(d("2027-01-04")));
    // 12/29, 12/30, 12/31, (1/1 元旦, 1/2–1/3 weekend) 1/4, 1/5.
    assert_eq!(
        c.add_working_days(d("2026-12-28"), 5).unwrap(),
        d("2027-01-05")
    );
    // 春节: 除夕 2/5 (Fri) to 初三 2/8 (Mon); no 调休 is assumed.
    assert_eq!(
        c.rest_reason(d("2027-02-08")).unwrap().as_deref(),
        Some("春节")
    );
    assert!(c.is_working_day(d("2027-02-09")).unwrap());
    assert_eq!(
        c.add_working_days(d("2027-02-04"), 1).unwrap(),
        d("2027-02-09")
    );
    // The notice, entered as an overlay, replaces the provisional year whole.
    let notice = r#"
[[year]]
year = 2027
notice = "国务院办公厅关于2027年部分节假日安排的通知"
number = "测试"
issued = "2026-11-20"
holiday = [{ name = "春节", dates = ["2027-02-05..2027-02-11"] }]
workday = [{ name = "春节调休上班", dates = ["2027-02-13"] }]
"#;
    let c = WorkCalendar::load(CN_CALENDAR, &[("2027年通知", notice)]).unwrap();
    assert!(!c.is_provisional(d("2027-02-09")));
    assert!(!c.is_working_day(d("2027-02-09")).unwrap());
    assert!(c.is_working_day(d("2027-02-13")).unwrap());
    // 元旦 of the provisional block is gone with it: only the notice's days count now.
    assert!(c.is_working_day(d("2027-01-01")).unwrap());
    assert_eq!(c.sources().iter().filter(|s| s.year == 2027).count(), 1);
}

#[test]
fn overlays_add_and_remove_dates_and_years() {
    let overlay = r#"
[[add]]
date = "2026-11-25"
kind = "holiday"
name = "本地停工"
note = "台风"

[[remove]]
date = "2026-05-09"

[[year]]
year = 2027
notice = "测试"
number = "测试"
issued = "2026-11-01"
holiday = [{ name = "元旦", dates = ["2027-01-01"] }]
"#;
    let c = WorkCalendar::load(CN_CALENDAR, &[("管理员调整#1", overlay)]).unwrap();
    assert!(!c.is_working_day(d("2026-11-25")).unwrap());
    assert_eq!(
        c.rest_reason(d("2026-11-25")).unwrap().as_deref(),
        Some("本地停工")
    );
    assert_eq!(
        c.defined_at(d("2026-11-25")),
        Some(("管理员调整#1".into(), 3))
    );
    // 5/9 back to an ordinary Saturday.
    assert_eq!(
        c.rest_reason(d("2026-05-09")).unwrap().as_deref(),
        Some("周末")
    );
    // 2027 is now covered: 12/29, 12/30, 12/31, (1/1 off) 1/4, 1/5.
    assert_eq!(
        c.add_working_days(d("2026-12-28"), 5).unwrap(),
        d("2027-01-05")
    );
}

#[test]
fn a_date_in_both_lists_is_an_error_naming_the_line() {
    let overlay = "# adjust\n[[add]]\ndate = \"2026-02-14\"\nkind = \"holiday\"\nname = \"x\"\n";
    let e = WorkCalendar::load(CN_CALENDAR, &[("调整", overlay)]).unwrap_err();
    assert_eq!(
        e,
        CalendarError::Conflict {
            file: "调整".into(),
            line: 3,
            date: d("2026-02-14")
        }
    );
    assert!(e.message_zh().contains("第3行"));

    let base = "[[year]]\nyear = 2030\nnotice = \"n\"\nnumber = \"n\"\nissued = \"x\"\n\
                holiday = [{ name = \"a\", dates = [\"2030-02-01..2030-02-03\"] }]\n\
                workday = [{ name = \"b\", dates = [\"2030-02-02\"] }]\n";
    let e = WorkCalendar::load(base, &[]).unwrap_err();
    assert_eq!(e.code(), "calendar_conflict");
    assert!(
        matches!(e, CalendarError::Conflict { line: 7, .. }),
        "{e:?}"
    );
}

#[test]
fn bad_input_is_reported_with_its_line() {
    let e = WorkCalendar::load(
        CN_CALENDAR,
        &[(
            "o",
            "[[add]]\ndate = \"2026-2-14\"\nkind = \"holiday\"\nname = \"x\"\n",
        )],
    )
    .unwrap_err();
    assert_eq!(
        e,
        CalendarError::BadDate {
            file: "o".into(),
            line: 2,
            value: "2026-2-14".into()
        }
    );
    let e = WorkCalendar::load(
        CN_CALENDAR,
        &[(
            "o",
            "[[add]]\ndate = \"2026-12-14\"\nkind = \"day_off\"\nname = \"x\"\n",
        )],
    )
    .unwrap_err();
    assert!(matches!(e, CalendarError::BadKind { line: 3, .. }), "{e:?}");
    let e = WorkCalendar::load(
        CN_CALENDAR,
        &[(
            "o",
            "[[add]]\ndate = \"2028-01-03\"\nkind = \"holiday\"\nname = \"x\"\n",
        )],
    )
    .unwrap_err();
    assert_eq!(e.code(), "calendar_change_outside_coverage");
    let e = WorkCalendar::load(CN_CALENDAR, &[("o", "[[remove]]\ndate = \"2026-11-24\"\n")])
        .unwrap_err();
    assert!(matches!(e, CalendarError::NothingToRemove { line: 2, .. }));
    let e = WorkCalendar::load(
        CN_CALENDAR,
        &[(
            "o",
            "[[year]]\nyear = 2026\nnotice = \"n\"\nnumber = \"n\"\nissued = \"x\"\n",
        )],
    )
    .unwrap_err();
    assert!(matches!(
        e,
        CalendarError::DuplicateYear {
            line: 2,
            year: 2026,
            ..
        }
    ));
    let e = WorkCalendar::load(CN_CALENDAR, &[("o", "[[add]]\ndate = 5\n")]).unwrap_err();
    assert!(matches!(e, CalendarError::Syntax { line: 2, .. }), "{e:?}");
}
