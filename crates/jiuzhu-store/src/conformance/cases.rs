//! Conformance cases of cases: registration, transitions with optimistic locking, scope, the
//! task queue, the append-only timeline and the 低保-anywhere check.

use jiuzhu_domain::access::{ActOnCase, ReadAudit, ReadCases, RegisterApplication, WriteRegistry};
use jiuzhu_domain::{
    Area, AuditAction, HouseholdFacts, HouseholdId, Money, PersonId, Relation, Role,
};
use serde_json::json;

use super::{
    clerk_a, clerk_b, code, date, facts, id_number, staff, with_tree, Harness, TOWN_A, TOWN_B,
    VILLAGE_A, VILLAGE_B,
};
use crate::prelude::*;
use crate::{
    AuditQuery, CaseFlags, CaseQuery, CaseTransition, NewCase, NewCaseEvent, NewDecision,
    NewHousehold, OpenStepRow, StoreError, TaskQuery,
};

pub(super) fn reviewer_a() -> jiuzhu_domain::Actor {
    staff(903, "reviewer_a", Role::TownshipReviewer, TOWN_A)
}

pub(super) fn approver() -> jiuzhu_domain::Actor {
    staff(904, "approver", Role::CountyApprover, "371002")
}

/// A household with one head in `division`; `hukou` is the head's hukou division.
pub(super) async fn household(
    h: &Harness,
    division: &str,
    seq: u32,
    hukou: &str,
) -> (HouseholdId, PersonId) {
    let actor = if division.starts_with(TOWN_A) {
        clerk_a()
    } else {
        clerk_b()
    };
    let w = actor.grant::<WriteRegistry>().unwrap();
    let hh = h
        .store
        .create_household(
            &w,
            &NewHousehold {
                code: None,
                facts: HouseholdFacts {
                    address: "案件路1号".into(),
                    division: code(division),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    let id = id_number("371002", "19650101", 500 + seq);
    let mut f = facts(&id, "申请人", division);
    f.hukou_division = Some(code(hukou));
    let p = h
        .store
        .create_person(&w, &id, &f, date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .add_member(&w, hh.id, p.id, Relation::Head, date(2025, 1, 1), None)
        .await
        .unwrap();
    (hh.id, p.id)
}

pub(super) fn step(id: &str, roles: &[&str], level: &str, due: (i32, u32, u32)) -> OpenStepRow {
    OpenStepRow {
        step: id.into(),
        label: format!("{id}环节"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        level: level.into(),
        also_levels: if id == "survey" {
            vec!["village".into()]
        } else {
            vec![]
        },
        department: None,
        opened_on: date(2026, 3, 1),
        due: Some(date(due.0, due.1, due.2)),
        not_before: None,
    }
}

pub(super) fn event(seq: i64, step: &str, action: &str) -> NewCaseEvent {
    NewCaseEvent {
        seq,
        step: step.into(),
        label: format!("{step}环节"),
        action: action.into(),
        display_name: "测试经办人".into(),
        on: date(2026, 3, 1),
        opinion: "同意".into(),
        investigators: if step == "survey" {
            vec!["甲".into(), "乙".into()]
        } else {
            vec![]
        },
        attachments: json!([{"kind": "survey_record", "id": "R1"}]),
        reasons: vec![],
        late: false,
    }
}

pub(super) fn new_case(hh: HouseholdId, person: PersonId) -> NewCase {
    NewCase {
        department: None,
        one_place_per_person: true,
        workflow: "dibao".into(),
        program: "低保".into(),
        household_id: hh,
        applicant_id: person,
        flags: CaseFlags {
            staff_relative: true,
            ..CaseFlags::default()
        },
        state: json!({"revision": 1, "marker": "start"}),
        revision: 1,
        open_steps: vec![step("verify", &["county_approver"], "county", (2026, 3, 6))],
        events: vec![event(1, "apply", "completed")],
    }
}

pub async fn cases_register_transition_conflict(h: Harness) {
    with_tree(&h).await;
    let (hh, person) = household(&h, VILLAGE_A, 1, "371002001").await;
    let g = clerk_a().grant::<RegisterApplication>().unwrap();
    let c = h
        .store
        .register_case(&g, &new_case(hh, person))
        .await
        .unwrap();
    assert_eq!(c.number, "371002-2026-000001");
    assert_eq!(c.division_filed, TOWN_A);
    assert_eq!(c.division_responsible, VILLAGE_A);
    assert!(!c.hukou_elsewhere);
    assert!(c.flags.staff_relative);
    assert_eq!(c.status, jiuzhu_domain::case::CaseStatus::Open);
    assert_eq!(c.revision, 1);
    assert_eq!(c.state["marker"], "start");
    assert_eq!(c.applicant_name, "申请人");
    // A second open case of the workflow for the household is refused.
    let err = h
        .store
        .register_case(&g, &new_case(hh, person))
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(v) if v.0[0].code == "CASE_ALREADY_OPEN"));

    let read = approver().grant::<ReadCases>().unwrap();
    let act = approver().grant::<ActOnCase>().unwrap();
    let t = CaseTransition {
        starts_benefit: true,
        state: json!({"revision": 2, "marker": "verified"}),
        revision: 2,
        status: jiuzhu_domain::case::CaseStatus::Open,
        open_steps: vec![step(
            "survey",
            &["township_reviewer", "village_assistant"],
            "township",
            (2026, 3, 13),
        )],
        events: vec![event(2, "verify", "completed")],
        decision: None,
    };
    let after = h.store.transition_case(&act, c.id, 1, &t).await.unwrap();
    assert_eq!(after.revision, 2);
    assert_eq!(after.state["marker"], "verified");
    // The same transition again is based on a stale revision: nothing is written.
    let err = h
        .store
        .transition_case(&act, c.id, 1, &t)
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict {
            kind,
            expected,
            actual,
            ..
        } => {
            assert_eq!((kind, expected, actual), ("case", 1, 2));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let events = h.store.case_events(&read, c.id).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].user_name, "clerk_a");
    assert_eq!(events[0].role, "window_clerk");
    assert_eq!(events[1].user_name, "approver");
    assert_eq!(events[1].step, "verify");

    // Approval with the engine's amount; status and decision are stored together.
    let t = CaseTransition {
        starts_benefit: true,
        state: json!({"revision": 3}),
        revision: 3,
        status: jiuzhu_domain::case::CaseStatus::Approved,
        open_steps: vec![step("filing", &["county_approver"], "county", (2026, 3, 8))],
        events: vec![event(3, "confirm", "approved")],
        decision: Some(NewDecision {
            outcome: jiuzhu_domain::case::DecisionOutcome::Approved,
            decided_on: date(2026, 3, 1),
            monthly_amount: Money::from_fen(123_456),
            start_month: Some("2026-04".into()),
            explanation: json!([{"step": 1}]),
            policy_versions: json!([{"name": "national", "version": "2020-12-09"}]),
            input_snapshot: json!({"code": "H1"}),
            reasons: vec![],
        }),
    };
    h.store.transition_case(&act, c.id, 2, &t).await.unwrap();
    let d = h.store.case_decisions(&read, c.id).await.unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].decision.monthly_amount, Money::from_fen(123_456));
    assert_eq!(d[0].decision.start_month.as_deref(), Some("2026-04"));
    assert_eq!(d[0].decision.policy_versions[0]["version"], "2020-12-09");
    assert_eq!(d[0].decided_by, "approver");
    let list = h
        .store
        .list_cases(
            &read,
            &CaseQuery {
                status: Some(jiuzhu_domain::case::CaseStatus::Approved),
                ..CaseQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0].open_steps[0].0, "filing环节");

    // Every write is audited in its transaction.
    let log = h
        .store
        .audit_log(
            &super::system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                record_kind: Some("case".into()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<AuditAction> = log.items.iter().map(|r| r.entry.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::CaseDecided,
            AuditAction::CaseStepRecorded,
            AuditAction::CaseRegistered
        ]
    );
    assert_eq!(
        log.items[0].entry.after.as_ref().unwrap()["decision"]["monthly_amount"],
        "1234.56"
    );
}

pub async fn cases_scope_and_queue(h: Harness) {
    with_tree(&h).await;
    let (hh_a, p_a) = household(&h, VILLAGE_A, 1, "371002001").await;
    let (hh_b, p_b) = household(&h, VILLAGE_B, 2, "371002002").await;
    let a = h
        .store
        .register_case(
            &clerk_a().grant::<RegisterApplication>().unwrap(),
            &new_case(hh_a, p_a),
        )
        .await
        .unwrap();
    // The clerk of B cannot register for A's household, nor see A's case.
    let err = h
        .store
        .register_case(
            &clerk_b().grant::<RegisterApplication>().unwrap(),
            &new_case(hh_a, p_a),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
    let b = h
        .store
        .register_case(
            &clerk_b().grant::<RegisterApplication>().unwrap(),
            &new_case(hh_b, p_b),
        )
        .await
        .unwrap();
    assert_eq!(b.number, "371002-2026-000002");
    let read_b = clerk_b().grant::<ReadCases>().unwrap();
    assert_eq!(h.store.get_case(&read_b, a.id).await.unwrap(), None);
    assert!(h.store.case_events(&read_b, a.id).await.unwrap().is_empty());
    let listed = h
        .store
        .list_cases(&read_b, &CaseQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].id, b.id);
    let err = h
        .store
        .transition_case(
            &clerk_b().grant::<ActOnCase>().unwrap(),
            a.id,
            1,
            &CaseTransition {
                starts_benefit: true,
                state: json!({}),
                revision: 2,
                status: jiuzhu_domain::case::CaseStatus::Open,
                open_steps: vec![],
                events: vec![],
                decision: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));

    // Queues: the county approver has both verifications; the township reviewer of A none,
    // until A's survey (township, village may help) opens and becomes overdue.
    let county = TaskQuery {
        level: "county".into(),
        department: None,
        below_level: Some("township".into()),
        overdue_before: date(2026, 3, 20),
    };
    let q = h
        .store
        .task_queue(&approver().grant::<ActOnCase>().unwrap(), &county)
        .await
        .unwrap();
    assert_eq!(
        q.iter()
            .map(|t| (t.case_id, t.step.as_str(), t.escalated))
            .collect::<Vec<_>>(),
        [(a.id, "verify", false), (b.id, "verify", false)]
    );
    assert_eq!(q[0].due, Some(date(2026, 3, 6)));
    let township = TaskQuery {
        level: "township".into(),
        department: None,
        below_level: Some("village".into()),
        overdue_before: date(2026, 3, 20),
    };
    let rev = reviewer_a().grant::<ActOnCase>().unwrap();
    assert!(h
        .store
        .task_queue(&rev, &township)
        .await
        .unwrap()
        .is_empty());
    h.store
        .transition_case(
            &approver().grant::<ActOnCase>().unwrap(),
            a.id,
            1,
            &CaseTransition {
                starts_benefit: true,
                state: json!({}),
                revision: 2,
                status: jiuzhu_domain::case::CaseStatus::Open,
                open_steps: vec![step(
                    "survey",
                    &["township_reviewer", "village_assistant"],
                    "township",
                    (2026, 3, 13),
                )],
                events: vec![event(2, "verify", "completed")],
                decision: None,
            },
        )
        .await
        .unwrap();
    let q = h.store.task_queue(&rev, &township).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].case_id, q[0].step.as_str()), (a.id, "survey"));
    assert_eq!(q[0].applicant_name, "申请人");
    // The village assistant of A's village may act on the survey too (also_levels).
    let assistant = staff(905, "assistant", Role::VillageAssistant, VILLAGE_A);
    let village = TaskQuery {
        level: "village".into(),
        department: None,
        below_level: None,
        overdue_before: date(2026, 3, 20),
    };
    let q = h
        .store
        .task_queue(&assistant.grant::<ActOnCase>().unwrap(), &village)
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    // Overdue at the township (due 3-13, today 3-20): escalated to the county.
    let q = h
        .store
        .task_queue(&approver().grant::<ActOnCase>().unwrap(), &county)
        .await
        .unwrap();
    assert_eq!(
        q.iter()
            .map(|t| (t.case_id, t.step.as_str(), t.escalated))
            .collect::<Vec<_>>(),
        [(b.id, "verify", false), (a.id, "survey", true)]
    );
}

pub async fn cases_events_are_append_only(h: Harness) {
    with_tree(&h).await;
    let (hh, p) = household(&h, VILLAGE_A, 1, "371002001").await;
    let c = h
        .store
        .register_case(
            &clerk_a().grant::<RegisterApplication>().unwrap(),
            &new_case(hh, p),
        )
        .await
        .unwrap();
    for sql in [
        "UPDATE case_events SET opinion = 'changed'".to_string(),
        "DELETE FROM case_events".to_string(),
    ] {
        let r = h.store.execute_raw(&sql).await;
        assert!(r.is_err(), "{sql} must be refused");
    }
    let read = clerk_a().grant::<ReadCases>().unwrap();
    let events = h.store.case_events(&read, c.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].opinion, "同意");
}

pub async fn cases_dibao_anywhere(h: Harness) {
    with_tree(&h).await;
    // B's household; its head's hukou is in another county (人户分离).
    let (hh_b, p_b) = household(&h, VILLAGE_B, 1, "371082001").await;
    let reg_b = clerk_b().grant::<RegisterApplication>().unwrap();
    let c = h
        .store
        .register_case(&reg_b, &new_case(hh_b, p_b))
        .await
        .unwrap();
    assert!(c.hukou_elsewhere);
    let reg_a = clerk_a().grant::<RegisterApplication>().unwrap();
    assert_eq!(
        h.store
            .receives_anywhere(&reg_a, p_b, "dibao")
            .await
            .unwrap(),
        None
    );
    h.store
        .transition_case(
            &approver().grant::<ActOnCase>().unwrap(),
            c.id,
            1,
            &CaseTransition {
                starts_benefit: true,
                state: json!({}),
                revision: 2,
                status: jiuzhu_domain::case::CaseStatus::Approved,
                open_steps: vec![],
                events: vec![event(2, "confirm", "approved")],
                decision: Some(NewDecision {
                    outcome: jiuzhu_domain::case::DecisionOutcome::Approved,
                    decided_on: date(2026, 3, 1),
                    monthly_amount: Money::from_fen(50_000),
                    start_month: Some("2026-04".into()),
                    explanation: json!([]),
                    policy_versions: json!([]),
                    input_snapshot: json!({}),
                    reasons: vec![],
                }),
            },
        )
        .await
        .unwrap();
    // Asked from township A (which cannot read B's case): yes, in county 371002 — nothing more.
    assert_eq!(
        h.store
            .receives_anywhere(&reg_a, p_b, "dibao")
            .await
            .unwrap(),
        Some("371002".to_string())
    );
    assert_eq!(
        h.store
            .get_case(&clerk_a().grant::<ReadCases>().unwrap(), c.id)
            .await
            .unwrap(),
        None
    );
    // A new 低保 case for the person is refused by the store itself.
    let err = h
        .store
        .register_case(&reg_b, &new_case(hh_b, p_b))
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(v) if v.0[0].code == "CASE_DIBAO_ELSEWHERE"));
    let _ = TOWN_B;
}
