//! `jiuzhu calendar` against a database: add a local holiday, list it, refusals name the field.

use jiuzhu_store::prelude::*;
use std::process::{Command, Output};

fn jiuzhu(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db)
        .env("JIUZHU_LOG", "warn")
        .output()
        .expect("run jiuzhu")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn add_list_and_refuse_calendar_edits() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let holiday = |extra: &[&str]| {
        let mut args = vec![
            "calendar",
            "add-holiday",
            "2026-11-25",
            "--name",
            "本地停工",
            "--reason",
            "台风停工通知",
        ];
        args.extend_from_slice(extra);
        jiuzhu(&db, &args)
    };
    // Without the edit it is based on, nothing is recorded: the field is named.
    let missing = holiday(&[]);
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("缺少 --expected-seq"),
        "{}",
        text(&missing)
    );
    let ok = holiday(&["--expected-seq", "0"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("已记录调整#1:增加放假日 2026-11-25 本地停工"),
        "{}",
        text(&ok)
    );

    // 2026-10-10 is an adjusted workday: it cannot also be a holiday.
    let bad = jiuzhu(
        &db,
        &[
            "calendar",
            "add-holiday",
            "2026-10-10",
            "--name",
            "x",
            "--reason",
            "r",
            "--expected-seq",
            "1",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("date: 日期:") && text(&bad).contains("calendar_conflict"),
        "{}",
        text(&bad)
    );

    let list = jiuzhu(&db, &["calendar", "list", "--year", "2026"]);
    assert!(list.status.success(), "{}", text(&list));
    let out = text(&list);
    assert!(out.contains("最新调整序号 #1"), "{out}");
    assert!(
        out.contains("2026-11-25\t放假\t本地停工\t管理员调整#1:2"),
        "{out}"
    );
    assert!(out.contains("2027\t") && out.contains("暂定"), "{out}");
    assert!(
        out.contains("#1\t增加放假日\t2026-11-25\t本地停工\t台风停工通知"),
        "{out}"
    );

    let rm = jiuzhu(
        &db,
        &[
            "calendar",
            "remove",
            "2026-11-25",
            "--reason",
            "复工",
            "--expected-seq",
            "1",
        ],
    );
    assert!(rm.status.success(), "{}", text(&rm));
    let list = text(&jiuzhu(&db, &["calendar", "list", "--year", "2026"]));
    assert!(!list.contains("2026-11-25\t放假"), "{list}");
}

/// A county's local holiday applies in that county only: the command line, acting for the
/// nation, lists it among the edits with its county but not as a national day off.
#[test]
fn a_county_holiday_is_not_a_national_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    // A county manager of 371002 records it (as the /calendar page does).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use jiuzhu_domain::access::ManageCalendar;
        use jiuzhu_domain::{Actor, DivisionCode, Role, Scope, SystemClock};
        use jiuzhu_store::{CalendarEditKind, NewCalendarEdit};
        let (store, _) = jiuzhu_store::connect_with_key_file(
            &db,
            std::sync::Arc::new(SystemClock),
            &dir.path().join("data-encryption.key"),
        )
        .await
        .unwrap();
        let manager = Actor {
            user_id: Some(7),
            username: "manager".into(),
            role: Role::CountyManager,
            department: None,
            scope: Scope::new(DivisionCode::parse("371002").unwrap()),
            origin: "127.0.0.1".into(),
            pending_approval: false,
        };
        store
            .record_calendar_edit(
                &manager.grant::<ManageCalendar>().unwrap(),
                0,
                &NewCalendarEdit {
                    kind: CalendarEditKind::AddHoliday,
                    date: chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
                    year: None,
                    name: "本地停工".into(),
                    overlay:
                        "[[add]]\ndate = \"2026-11-25\"\nkind = \"holiday\"\nname = \"本地停工\"\n"
                            .into(),
                    reason: "台风停工通知".into(),
                },
            )
            .await
            .unwrap();
    });
    let list = jiuzhu(&db, &["calendar", "list", "--year", "2026"]);
    assert!(list.status.success(), "{}", text(&list));
    let out = text(&list);
    assert!(!out.contains("2026-11-25\t放假"), "{out}");
    assert!(
        out.contains("#1\t增加放假日\t2026-11-25\t本地停工\t台风停工通知\tmanager\t仅 371002"),
        "{out}"
    );
}
