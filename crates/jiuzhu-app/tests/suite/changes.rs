//! Changes of a running benefit through the application: the change workflow starts on the
//! calendar and time limits of the parent's division (the store once rebuilt its own calendar
//! from every jurisdiction's edits), and a warning's closure opens the change in its own
//! transaction.

use chrono::NaiveDate;
use jiuzhu_app::calendar::EditInput;
use jiuzhu_app::cases::changes::{self, ChangeInput};
use jiuzhu_app::App;
use jiuzhu_domain::access::{
    ActOnCase, HandleWarnings, ImportCaseload, ManageCalendar, ManageDivisions, ReadCases,
    ReadRegistry, ReadVerification, RegisterApplication, RunVerification,
};
use jiuzhu_domain::caseload::{CaseloadBatch, ImportHousehold, ImportMember};
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{Actor, Area, DivisionCode, IdNumber, Money, Relation, Role, Scope};
use jiuzhu_store::{
    CaseFlags, CaseId, CaseTransition, ChangeKind, CloseWarning, NewCase, NewDecision, NewRun,
    NewWarning, StopReason, WarningQuery, WarningResult,
};
use serde_json::json;

use super::Db;

const VILLAGE: &str = "371002001001";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn staff(id: i64, username: &str, role: Role, division: &str) -> Actor {
    Actor {
        user_id: Some(id),
        username: username.into(),
        role,
        department: None,
        scope: Scope::new(DivisionCode::parse(division).unwrap()),
        origin: "127.0.0.1".into(),
        pending_approval: false,
    }
}

fn reviewer() -> Actor {
    staff(21, "reviewer", Role::TownshipReviewer, "371002001")
}

/// A one-member household of the village with a 低保 case approved at 500.00 a month from
/// 2026-04 (written to the store as an approval would be).
pub(super) async fn approved_case(app: &App, seq: u32) -> (jiuzhu_domain::HouseholdId, CaseId) {
    let (household, person) = imported_household(app, seq).await;
    (
        household,
        register_approved(app.store(), household, person, &DIBAO).await,
    )
}

/// A one-member household of the village, imported from a legacy caseload.
async fn imported_household(
    app: &App,
    seq: u32,
) -> (jiuzhu_domain::HouseholdId, jiuzhu_domain::PersonId) {
    let system = Actor::system("test");
    let body = format!("37100219800101{seq:03}");
    let first17: [u8; 17] = body.as_bytes().try_into().unwrap();
    let id = IdNumber::parse(&format!("{body}{}", check_char(&first17))).unwrap();
    let batch = CaseloadBatch {
        households: vec![ImportHousehold {
            row: 2,
            source_ref: format!("H{seq}"),
            division: DivisionCode::parse(VILLAGE).unwrap(),
            area: Area::Urban,
            address: "某路1号".into(),
        }],
        members: vec![ImportMember {
            row: 2,
            household: 0,
            id_number: id.clone(),
            name: "王某".into(),
            relation: Relation::Head,
            facts: None,
        }],
        valid_from: day(2026, 1, 1),
        create_missing_divisions: true,
        current_recipients: false,
        source: "test".into(),
    };
    let store = app.store();
    if seq == 1 {
        let counties = [(DivisionCode::parse("371002").unwrap(), "环翠区".to_string())];
        store
            .import_divisions(&system.grant::<ManageDivisions>().unwrap(), &counties)
            .await
            .unwrap();
    }
    store
        .import_caseload(
            &system.grant::<ImportCaseload>().unwrap(),
            &batch,
            &|_, _| {},
        )
        .await
        .unwrap();
    let read = system.grant::<ReadRegistry>().unwrap();
    let person = store
        .find_person_by_id_number(&read, &id)
        .await
        .unwrap()
        .unwrap();
    let household = store.person_memberships(&read, person.id).await.unwrap()[0].household_id;
    (household, person.id)
}

/// What an approval of a case is: its program and the decision written with it.
struct Approval {
    workflow: &'static str,
    program: &'static str,
    monthly_fen: i64,
    start_month: Option<&'static str>,
    /// The program has a change workflow: its benefit is tracked.
    starts_benefit: bool,
}

/// 低保 at 500.00 a month from 2026-04.
const DIBAO: Approval = Approval {
    workflow: "dibao",
    program: "低保",
    monthly_fen: 50_000,
    start_month: Some("2026-04"),
    starts_benefit: true,
};

/// 临时救助, paid once: no benefit is tracked.
const TEMPORARY: Approval = Approval {
    workflow: "temporary",
    program: "临时救助",
    monthly_fen: 0,
    start_month: None,
    starts_benefit: false,
};

/// Registers a case for `person` of `household` and approves it on 2026-03-01, written to the
/// store as registering and deciding would.
async fn register_approved(
    store: &std::sync::Arc<dyn jiuzhu_store::Store>,
    household: jiuzhu_domain::HouseholdId,
    person: jiuzhu_domain::PersonId,
    a: &Approval,
) -> CaseId {
    let clerk = staff(20, "clerk", Role::WindowClerk, "371002001");
    let case = store
        .register_case(
            &clerk.grant::<RegisterApplication>().unwrap(),
            &NewCase {
                workflow: a.workflow.into(),
                program: a.program.into(),
                department: None,
                one_place_per_person: false,
                household_id: household,
                applicant_id: person,
                flags: CaseFlags::default(),
                state: json!({"revision": 1}),
                revision: 1,
                open_steps: vec![],
                events: vec![],
            },
        )
        .await
        .unwrap();
    let approver = staff(22, "approver", Role::CountyApprover, "371002");
    store
        .transition_case(
            &approver.grant::<ActOnCase>().unwrap(),
            case.id,
            1,
            &CaseTransition {
                state: json!({"revision": 2}),
                revision: 2,
                status: jiuzhu_domain::case::CaseStatus::Approved,
                open_steps: vec![],
                events: vec![],
                decision: Some(NewDecision {
                    outcome: jiuzhu_domain::case::DecisionOutcome::Approved,
                    decided_on: day(2026, 3, 1),
                    monthly_amount: Money::from_fen(a.monthly_fen),
                    start_month: a.start_month.map(String::from),
                    explanation: json!([]),
                    policy_versions: json!([]),
                    input_snapshot: json!(null),
                    reasons: vec![],
                }),
                starts_benefit: a.starts_benefit,
            },
        )
        .await
        .unwrap();
    case.id
}

fn stop_for_death() -> ChangeInput {
    ChangeInput {
        kind: "stop".into(),
        reason: "家庭成员已去世".into(),
        stop_reason: Some("death".into()),
        home_check: false,
    }
}

/// 变更发起 is done by the reviewer who proposes it; 审核确认 is the county's (not delegated),
/// due 10 working days after Sunday 2026-03-01 on the county's calendar — which a local holiday
/// of another county does not move, and one of its own does.
pub async fn a_change_starts_on_the_calendar_of_its_division(db: Db) {
    let app = db.open().await;
    let (_, parent) = approved_case(&app, 1).await;
    // A local holiday in Bozhou: not Weihai's.
    let holiday = |division: &str, seq| {
        let manager = staff(30, "manager", Role::CountyManager, division);
        let input = EditInput {
            kind: "add_holiday".into(),
            date: "2026-03-05".into(),
            name: "本地停工".into(),
            reason: "台风停工通知".into(),
            expected_seq: Some(seq),
            ..EditInput::default()
        };
        let app = app.clone();
        async move {
            app.record_calendar_edit(&manager.grant::<ManageCalendar>().unwrap(), &input)
                .await
                .unwrap();
        }
    };
    holiday("520304", 0).await;
    let act = reviewer().grant::<ActOnCase>().unwrap();
    let c = changes::open(&app, &act, "乡镇审核员甲", parent, &stop_for_death())
        .await
        .unwrap();
    assert_eq!(c.workflow, "dibao_change");
    assert_eq!(c.program, "低保变更");
    assert_eq!(c.division_filed, "371002001");
    let read = reviewer().grant::<ReadCases>().unwrap();
    let events = app.store().case_events(&read, c.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].step, "propose");
    assert_eq!(events[0].action, "completed");
    assert_eq!(events[0].opinion, "家庭成员已去世");
    assert_eq!(events[0].display_name, "乡镇审核员甲");
    assert_eq!(c.revision, 1);
    assert_eq!(c.state["open"][0]["step"], "confirm");
    assert_eq!(c.state["open"][0]["level"], "county");
    assert_eq!(c.state["open"][0]["due"], "2026-03-13");
    let ch = app.store().case_change(&read, c.id).await.unwrap().unwrap();
    assert_eq!(ch.stop_reason, Some(StopReason::Death));

    // The same change after a local holiday of Weihai's own: due a working day later. (The
    // first change is still open, so this one is opened on a second case.)
    holiday("371002", 1).await;
    let (_, second) = approved_case(&app, 2).await;
    let c = changes::open(&app, &act, "乡镇审核员甲", second, &stop_for_death())
        .await
        .unwrap();
    assert_eq!(c.state["open"][0]["due"], "2026-03-16");
}

/// A warning closed as 停止救助 on a household with a running case opens the stop, with the
/// reason the warning gives, in the closure's transaction.
pub async fn a_warning_closed_as_stop_opens_the_change(db: Db) {
    let app = db.open().await;
    let (household, parent) = approved_case(&app, 1).await;
    let run = Actor::system("test").grant::<RunVerification>().unwrap();
    app.store()
        .store_run(
            &run,
            &NewRun {
                month: "2026-02".into(),
                division: DivisionCode::parse("371002").unwrap(),
                started_at: super::start_time(),
                delivery_ids: vec![],
                households: 1,
                due: day(2026, 3, 22),
            },
            &[NewWarning {
                household_id: household,
                kind: "DEATH".into(),
                division: DivisionCode::parse(VILLAGE).unwrap(),
                evidence: "{}".into(),
                facts: jiuzhu_store::warning_facts("", "DEATH"),
            }],
        )
        .await
        .unwrap();
    let handler = staff(20, "clerk", Role::WindowClerk, "371002001");
    let g = handler.grant::<HandleWarnings>().unwrap();
    let w = app
        .store()
        .list_warnings(
            &handler.grant::<ReadVerification>().unwrap(),
            &WarningQuery::default(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    let closed = jiuzhu_app::verification::closing::close_warning(
        &app,
        &g,
        w.id,
        w.row_version,
        CloseWarning {
            result: WarningResult::Stop,
            note: "入户核实,户主已去世".into(),
            visit_date: None,
            attachments: vec![],
        },
        None,
    )
    .await
    .unwrap();
    let change_id = closed.change_case_id.expect("a change case was opened");
    let read = handler.grant::<ReadCases>().unwrap();
    let ch = app
        .store()
        .case_change(&read, change_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ch.kind, ChangeKind::Stop);
    assert_eq!(ch.parent_case_id, parent);
    assert_eq!(ch.warning_id, Some(w.id));
    assert_eq!(ch.stop_reason, Some(StopReason::Death));
    assert_eq!(ch.reason, "比对预警(2026-02 DEATH):入户核实,户主已去世");
    let c = app
        .store()
        .get_case(&read, change_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.state["open"][0]["step"], "confirm");
}

/// Approves a 临时救助 of `household` (paid once: no benefit is tracked).
async fn approved_temporary(app: &App, household: jiuzhu_domain::HouseholdId) -> CaseId {
    let read = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let members = app
        .store()
        .household_members(&read, household)
        .await
        .unwrap();
    register_approved(app.store(), household, members[0].person.id, &TEMPORARY).await
}

/// Closes the household's one warning as `result` with the clerk's note.
async fn close_its_warning(
    app: &App,
    household: jiuzhu_domain::HouseholdId,
    result: WarningResult,
) -> jiuzhu_store::WarningRecord {
    close_warning_of(app, household, "INCOME", result)
        .await
        .unwrap()
}

/// Stores a warning of `kind` about the household and closes it as `result` with the clerk's
/// note.
async fn close_warning_of(
    app: &App,
    household: jiuzhu_domain::HouseholdId,
    kind: &str,
    result: WarningResult,
) -> jiuzhu_app::Result<jiuzhu_store::WarningRecord> {
    let run = Actor::system("test").grant::<RunVerification>().unwrap();
    app.store()
        .store_run(
            &run,
            &NewRun {
                month: "2026-02".into(),
                division: DivisionCode::parse("371002").unwrap(),
                started_at: super::start_time(),
                delivery_ids: vec![],
                households: 1,
                due: day(2026, 3, 22),
            },
            &[NewWarning {
                household_id: household,
                kind: kind.into(),
                division: DivisionCode::parse(VILLAGE).unwrap(),
                evidence: "{}".into(),
                facts: jiuzhu_store::warning_facts("", kind),
            }],
        )
        .await
        .unwrap();
    let clerk = staff(20, "clerk", Role::WindowClerk, "371002001");
    let w = app
        .store()
        .list_warnings(
            &clerk.grant::<ReadVerification>().unwrap(),
            &WarningQuery::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|w| w.household_id == household && w.kind == kind && w.status == "open")
        .unwrap();
    jiuzhu_app::verification::closing::close_warning(
        app,
        &clerk.grant::<HandleWarnings>().unwrap(),
        w.id,
        w.row_version,
        CloseWarning {
            result,
            note: "入户核实".into(),
            visit_date: None,
            attachments: vec![],
        },
        None,
    )
    .await
}

/// A 临时救助 paid after the household's 低保 is no running benefit: a warning's suspension
/// changes the 低保. A household whose only approved case is such a payment closes the warning
/// all the same, and the note says why no change was opened (the closure once failed with a
/// conflict on every retry).
pub async fn a_warning_closure_changes_the_running_benefit_not_a_one_off_payment(db: Db) {
    let app = db.open().await;
    let (household, dibao) = approved_case(&app, 1).await;
    approved_temporary(&app, household).await;
    let closed = close_its_warning(&app, household, WarningResult::Suspend).await;
    let read = reviewer().grant::<ReadCases>().unwrap();
    let change = closed
        .change_case_id
        .unwrap_or_else(|| panic!("{:?}", closed.note));
    let ch = app
        .store()
        .case_change(&read, change)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ch.parent_case_id, ch.kind), (dibao, ChangeKind::Suspend));

    let (only_temporary, _) = imported_household(&app, 2).await;
    approved_temporary(&app, only_temporary).await;
    let closed = close_its_warning(&app, only_temporary, WarningResult::Suspend).await;
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.change_case_id, None);
    assert_eq!(
        closed.note.as_deref(),
        Some("入户核实(未发起变更:临时救助案件不办理调整、暂停、恢复或停止)")
    );
}

/// A second warning of a household whose change is already open links that change (and says so
/// in its note); a household without a running benefit cannot be closed as stopped, and its
/// warning stays open for a result that fits.
pub async fn a_warning_closure_links_the_open_change_or_is_refused_without_a_benefit(db: Db) {
    let app = db.open().await;
    let (household, dibao) = approved_case(&app, 1).await;
    let first = close_warning_of(&app, household, "INCOME", WarningResult::Suspend)
        .await
        .unwrap();
    let change = first.change_case_id.expect("the suspension opened");
    let second = close_warning_of(&app, household, "DEPOSIT", WarningResult::Stop)
        .await
        .unwrap();
    assert_eq!(second.change_case_id, Some(change));
    let note = second.note.unwrap();
    assert!(note.starts_with("入户核实(该户已有办理中的变更 "), "{note}");
    let read = reviewer().grant::<ReadCases>().unwrap();
    let changes = app.store().case_changes(&read, dibao).await.unwrap();
    assert_eq!(changes.len(), 1);

    let (without, _) = imported_household(&app, 2).await;
    let err = close_warning_of(&app, without, "DEATH", WarningResult::Stop)
        .await
        .unwrap_err();
    match err {
        jiuzhu_app::Error::Invalid(fields) => {
            assert_eq!(fields[0].code, "WARNING_RESULT_NEEDS_CASE");
            assert!(
                fields[0].message.contains("停止救助"),
                "{}",
                fields[0].message
            );
        }
        other => panic!("{other:?}"),
    }
    let clerk = staff(20, "clerk", Role::WindowClerk, "371002001");
    let open = app
        .store()
        .list_warnings(
            &clerk.grant::<ReadVerification>().unwrap(),
            &WarningQuery::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|w| w.household_id == without)
        .unwrap();
    assert_eq!((open.status.as_str(), open.change_case_id), ("open", None));
}
