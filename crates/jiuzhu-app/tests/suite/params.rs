//! Parameters are shared through the database: what one server or the command line records, the
//! next computation of every other process uses (issue 13, drift "caches never revalidated").

use chrono::NaiveDate;
use jiuzhu_domain::access::{ManageCalendar, ManagePolicies};
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{Actor, DivisionCode, Role, Scope};
use jiuzhu_policy::{calc_json, Month};
use jiuzhu_store::{CalendarEditKind, NewCalendarEdit, NewPolicyRevision};
use jiuzhu_workflow::DayKind;

use jiuzhu_app::calendar::EditInput;
use jiuzhu_app::policy::{RevisionInput, WithdrawInput};
use jiuzhu_app::Error;

use super::Db;

fn county_manager() -> Actor {
    Actor {
        user_id: Some(11),
        username: "county11".into(),
        role: Role::CountyManager,
        department: None,
        scope: Scope::new(DivisionCode::parse("371000").unwrap()),
        origin: "127.0.0.1".into(),
        pending_approval: false,
    }
}

/// A Weihai household of one adult without income: its 低保 is the urban standard.
fn household_without_income() -> String {
    let body = "371002198001010011";
    let first17: [u8; 17] = body.as_bytes()[..17].try_into().unwrap();
    let id = format!("{}{}", &body[..17], check_char(&first17));
    format!(
        r#"{{"region":"371002","area":"urban","members":[{{"id_number":"{id}","relation":"head"}}]}}"#
    )
}

pub async fn two_apps_share_policy_revisions(db: Db) {
    let (a, b) = (db.open().await, db.open().await);
    let january = Month::parse("2027-01").unwrap();
    let amount = |lib| {
        calc_json(lib, &household_without_income(), january)
            .unwrap()
            .result
            .dibao
            .amount
            .to_string()
    };
    // B has computed, so it keeps parameters.
    let before = b.params().await.unwrap();
    assert_eq!(amount(&before.policies), "787.00");

    let g = county_manager().grant::<ManagePolicies>().unwrap();
    a.store()
        .record_policy_revision(
            &g,
            0,
            &NewPolicyRevision {
                region: DivisionCode::parse("371000").unwrap(),
                param: "dibao.standard.urban".into(),
                effective_from: january.first_day(),
                value: "850.00".into(),
                document: "关于提高城乡低保标准的通知".into(),
                number: Some("威民发〔2026〕12号".into()),
                article: Some("第二条".into()),
                reason: "年度调标".into(),
                previous_value: Some("787.00".into()),
                retroactive_reason: None,
            },
        )
        .await
        .unwrap();

    // B's next computation uses the revision A recorded; A's too.
    let seen_by_b = b.params().await.unwrap();
    assert_eq!(amount(&seen_by_b.policies), "850.00");
    let seen_by_a = a.params().await.unwrap();
    assert_eq!(amount(&seen_by_a.policies), "850.00");
    assert_eq!(seen_by_b.seqs.policy, 1);
    // Nothing moved since: the same parameters, not rebuilt.
    let again = b.params().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&seen_by_b.policies, &again.policies));
}

pub async fn two_apps_share_calendar_edits(db: Db) {
    let (a, b) = (db.open().await, db.open().await);
    // A Wednesday.
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let is_holiday = |cal: &jiuzhu_workflow::WorkCalendar| {
        matches!(cal.day(day).unwrap(), DayKind::Holiday { .. })
    };
    assert!(!is_holiday(&b.params().await.unwrap().calendars.calendar));

    let g = county_manager().grant::<ManageCalendar>().unwrap();
    a.store()
        .record_calendar_edit(
            &g,
            0,
            &NewCalendarEdit {
                kind: CalendarEditKind::AddHoliday,
                date: Some(day),
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

    let params = b.params().await.unwrap();
    assert_eq!(params.seqs.calendar, 1);
    // Recorded by a manager of the city, it applies in the city's counties, not elsewhere.
    let weihai = params
        .calendars
        .for_division(&DivisionCode::parse("371002001").unwrap())
        .unwrap();
    assert!(is_holiday(&weihai));
    let elsewhere = params
        .calendars
        .for_division(&DivisionCode::parse("520304").unwrap())
        .unwrap();
    assert!(!is_holiday(&elsewhere));
}

/// A national edit that a county's own edits contradict is refused, naming the county: recorded,
/// it would leave that county without a calendar (every deadline there failing).
pub async fn a_national_edit_may_not_break_a_local_calendar(db: Db) {
    let app = db.open().await;
    let local = county_manager().grant::<ManageCalendar>().unwrap();
    let holiday = |expected_seq| EditInput {
        kind: "add_holiday".into(),
        date: "2026-11-25".into(),
        name: "本地停工".into(),
        reason: "台风停工通知".into(),
        expected_seq: Some(expected_seq),
        ..EditInput::default()
    };
    let recorded = app.record_calendar_edit(&local, &holiday(0)).await.unwrap();
    assert_eq!(recorded.seq, 1);

    let national = Actor::system("console").grant::<ManageCalendar>().unwrap();
    let workday = EditInput {
        kind: "add_workday".into(),
        name: "调休上班".into(),
        ..holiday(1)
    };
    let refused = app.record_calendar_edit(&national, &workday).await;
    let Err(Error::Invalid(fields)) = refused else {
        panic!("a national edit contradicting a local one: {refused:?}");
    };
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].code, "CALENDAR_LOCAL_CONFLICT");
    assert!(
        fields[0]
            .message
            .starts_with("与371000的本地调整冲突:日期:"),
        "{}",
        fields[0].message
    );
    // Nothing was recorded, and the county's calendar still loads.
    let params = app.params().await.unwrap();
    assert_eq!(params.seqs.calendar, 1);
    assert!(params
        .calendars
        .for_division(&DivisionCode::parse("371002001").unwrap())
        .is_ok());
    // Without the expected seq an edit is refused before anything is written.
    let unsure = EditInput {
        expected_seq: None,
        date: "2026-11-26".into(),
        ..holiday(0)
    };
    let Err(Error::Invalid(fields)) = app.record_calendar_edit(&local, &unsure).await else {
        panic!("an edit without its expected seq was recorded");
    };
    assert_eq!(fields[0].field, "expected_seq");
}

/// A revision without its legal basis, reason or expected seq is refused with each named, from
/// every front door (the command line once took an empty document).
pub async fn a_revision_names_everything_it_lacks(db: Db) {
    let app = db.open().await;
    let g = county_manager().grant::<ManagePolicies>().unwrap();
    let input = RevisionInput {
        expected_seq: None,
        param: "dibao.standard.urban".into(),
        effective_from: "2027-01-01".into(),
        value: "850.00".into(),
        document: " ".into(),
        reason: String::new(),
        ..RevisionInput::default()
    };
    let refused = app.record_policy_revision(&g, "371002", &input).await;
    let Err(Error::Invalid(fields)) = refused else {
        panic!("an incomplete revision: {refused:?}");
    };
    let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["expected_seq", "document", "reason"]);
    assert_eq!(app.params().await.unwrap().seqs.policy, 0);

    let complete = RevisionInput {
        expected_seq: Some(0),
        document: "关于提高城乡低保标准的通知".into(),
        reason: "年度调标".into(),
        ..input
    };
    let rev = app
        .record_policy_revision(&g, "371002", &complete)
        .await
        .unwrap();
    assert_eq!((rev.seq, rev.value.as_str()), (1, "850.00"));
    let withdrawn = app
        .withdraw_policy_revision(
            &g,
            rev.seq,
            &WithdrawInput {
                expected_seq: Some(1),
                reason: "文件撤回".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(withdrawn.seq, 2);
}
