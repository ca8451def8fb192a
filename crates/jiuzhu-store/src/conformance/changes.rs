//! Conformance cases of case changes (调整/暂停/恢复/停止, migration 0009, docs/cases.md): a change
//! opens as the application started it, after the checks only the database can make; an
//! approved stop ends the parent's benefit with its last paid month and reason and lands on the
//! filing list; a warning closed with adjust/suspend/stop opens the prepared change in its own
//! transaction, or says why not. (What the change workflow does at the start is the
//! application's, tested in its use-case suite.)

use jiuzhu_domain::access::{
    ActOnCase, HandleWarnings, ReadAudit, ReadCases, RegisterApplication, RunVerification,
};
use jiuzhu_domain::{AuditAction, HouseholdId, Money, Role};
use serde_json::json;

use super::cases::{approver, event, household, new_case, reviewer_a, step};
use super::{
    clerk_a, code, date, reads, staff, start_time, system, with_tree, Harness, TOWN_B, VILLAGE_A,
};
use crate::prelude::*;
use crate::{
    AuditQuery, CaseId, CaseQuery, CaseTransition, ChangeKind, CloseWarning, NewChange,
    NewDecision, NewRun, NewWarning, StopReason, StoreError, WarningQuery, WarningResult,
};
use crate::{CaseOpening, NewCaseEvent};

fn code_of(e: &StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v.0[0].code.clone(),
        other => format!("{other:?}"),
    }
}

fn approval(amount: i64, reasons: Vec<String>, start_month: Option<&str>) -> NewDecision {
    NewDecision {
        outcome: jiuzhu_domain::case::DecisionOutcome::Approved,
        decided_on: date(2026, 3, 1),
        monthly_amount: Money::from_fen(amount),
        start_month: start_month.map(String::from),
        explanation: json!([]),
        policy_versions: json!([]),
        input_snapshot: json!(null),
        reasons,
    }
}

/// A household of village A with an approved 低保 case of 500.00 a month from 2026-04.
async fn approved_case(h: &Harness, seq: u32) -> (HouseholdId, CaseId) {
    let reg = clerk_a().grant::<RegisterApplication>().unwrap();
    let act = approver().grant::<ActOnCase>().unwrap();
    let (hh, p) = household(h, VILLAGE_A, seq, "371002001").await;
    let c = h.store.register_case(&reg, &new_case(hh, p)).await.unwrap();
    h.store
        .transition_case(
            &act,
            c.id,
            1,
            &CaseTransition {
                starts_benefit: true,
                state: json!({"revision": 2}),
                revision: 2,
                status: jiuzhu_domain::case::CaseStatus::Approved,
                open_steps: vec![step("filing", &["county_approver"], "county", (2026, 3, 6))],
                events: vec![event(2, "confirm", "approved")],
                decision: Some(approval(50_000, vec![], Some("2026-04"))),
            },
        )
        .await
        .unwrap();
    (hh, c.id)
}

/// A change of a 低保 case as the application opens it: 变更发起 done by the proposer, 审核确认
/// open at `confirm_level`, due 2026-03-13.
fn change_at(
    parent: CaseId,
    kind: ChangeKind,
    stop: Option<StopReason>,
    confirm_level: &str,
) -> NewChange {
    let reason = "家庭成员已去世";
    let confirm = step(
        "confirm",
        &["county_approver"],
        confirm_level,
        (2026, 3, 13),
    );
    NewChange {
        parent_case_id: parent,
        parent_workflow: "dibao".into(),
        kind,
        reason: reason.into(),
        stop_reason: stop,
        home_check: false,
        delegated: confirm_level == "township",
        opening: CaseOpening {
            workflow: "dibao_change".into(),
            department: None,
            state: json!({"revision": 1, "open": [
                {"step": "confirm", "level": confirm_level, "due": "2026-03-13"}
            ]}),
            revision: 1,
            open_steps: vec![crate::OpenStepRow {
                label: "审核确认".into(),
                ..confirm
            }],
            events: vec![NewCaseEvent {
                opinion: reason.into(),
                display_name: "乡镇审核员甲".into(),
                attachments: json!([]),
                ..event(1, "propose", "completed")
            }],
        },
    }
}

fn change(parent: CaseId, kind: ChangeKind, stop: Option<StopReason>) -> NewChange {
    change_at(parent, kind, stop, "county")
}

pub async fn changes_stop_ends_benefit_and_is_filed(h: Harness) {
    with_tree(&h).await;
    let (hh, parent) = approved_case(&h, 61).await;
    let read = reviewer_a().grant::<ReadCases>().unwrap();
    let b = h
        .store
        .benefit_status(&read, parent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.status, "active");
    assert_eq!(b.monthly_amount, Money::from_fen(50_000));
    assert_eq!(b.start_month.as_deref(), Some("2026-04"));
    assert_eq!(b.household_id, hh);

    let act_a = reviewer_a().grant::<ActOnCase>().unwrap();
    // A stop needs its coded reason; a resume needs a suspended benefit.
    let err = h
        .store
        .open_change_case(&act_a, &change(parent, ChangeKind::Stop, None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "CHANGE_STOP_REASON_REQUIRED");
    let err = h
        .store
        .open_change_case(&act_a, &change(parent, ChangeKind::Resume, None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "CHANGE_KIND_NOT_APPLICABLE");
    // Another township's reviewer does not see the case.
    let act_b = staff(905, "reviewer_b", Role::TownshipReviewer, TOWN_B)
        .grant::<ActOnCase>()
        .unwrap();
    let err = h
        .store
        .open_change_case(
            &act_b,
            &change(parent, ChangeKind::Stop, Some(StopReason::Death)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

    // An opening computed for another program's case is refused: the parent is not what the
    // application read.
    let err = h
        .store
        .open_change_case(
            &act_a,
            &NewChange {
                parent_workflow: "tekun".into(),
                ..change(parent, ChangeKind::Stop, Some(StopReason::Death))
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { kind: "case", .. }),
        "{err:?}"
    );
    let c = h
        .store
        .open_change_case(
            &act_a,
            &change(parent, ChangeKind::Stop, Some(StopReason::Death)),
        )
        .await
        .unwrap();
    assert_eq!(c.workflow, "dibao_change");
    assert_eq!(c.program, "低保变更");
    assert_eq!(c.status, jiuzhu_domain::case::CaseStatus::Open);
    assert_eq!(c.household_id, hh);
    assert_eq!(c.division_filed, "371002001");
    // The reviewer completed 变更发起 with the reason; 审核确认 is the county's (not delegated),
    // due 10 working days after Sunday 2026-03-01.
    let events = h.store.case_events(&read, c.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].step, "propose");
    assert_eq!(events[0].action, "completed");
    assert_eq!(events[0].opinion, "家庭成员已去世");
    assert_eq!(events[0].display_name, "乡镇审核员甲");
    assert_eq!(c.revision, 1);
    assert_eq!(c.state["open"][0]["step"], "confirm");
    assert_eq!(c.state["open"][0]["level"], "county");
    assert_eq!(c.state["open"][0]["due"], "2026-03-13");
    let listed = h
        .store
        .list_cases(
            &read,
            &CaseQuery {
                workflow: Some("dibao_change".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(
        listed.items[0].open_steps,
        vec![("审核确认".to_string(), Some(date(2026, 3, 13)))]
    );

    let ch = h.store.case_change(&read, c.id).await.unwrap().unwrap();
    assert_eq!(ch.parent_case_id, parent);
    assert_eq!(ch.kind, ChangeKind::Stop);
    assert_eq!(ch.stop_reason, Some(StopReason::Death));
    assert_eq!(ch.warning_id, None);
    assert_eq!(ch.outcome, None);
    assert_eq!(h.store.case_change(&read, parent).await.unwrap(), None);

    // One change at a time per case.
    let err = h
        .store
        .open_change_case(&act_a, &change(parent, ChangeKind::Suspend, None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "CHANGE_ALREADY_OPEN");

    // The county approves the stop: the benefit ends after March, the decision is filed.
    let act = approver().grant::<ActOnCase>().unwrap();
    h.store
        .transition_case(
            &act,
            c.id,
            1,
            &CaseTransition {
                starts_benefit: true,
                state: json!({"revision": 2}),
                revision: 2,
                status: jiuzhu_domain::case::CaseStatus::Approved,
                open_steps: vec![step("filing", &["county_approver"], "county", (2026, 3, 6))],
                events: vec![event(2, "confirm", "approved")],
                decision: Some(approval(
                    0,
                    vec!["停止原因:死亡".into(), "家庭成员已去世".into()],
                    None,
                )),
            },
        )
        .await
        .unwrap();
    let b = h
        .store
        .benefit_status(&read, parent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.status, "ended");
    assert_eq!(b.last_paid_month.as_deref(), Some("2026-03"));
    assert_eq!(b.end_reason, Some(StopReason::Death));
    assert_eq!(b.changed_by_case, Some(c.id));
    assert_eq!(
        b.monthly_amount,
        Money::from_fen(50_000),
        "the last amount paid"
    );
    let ch = h.store.case_change(&read, c.id).await.unwrap().unwrap();
    let o = ch.outcome.expect("decided");
    assert_eq!(o.last_paid_month.as_deref(), Some("2026-03"));
    assert_eq!(o.amount_before, Money::from_fen(50_000));
    assert_eq!(o.amount_after, Money::ZERO);
    assert!(o.letter_number.is_some());
    assert_eq!(h.store.case_changes(&read, parent).await.unwrap().len(), 1);
    assert_eq!(
        h.store
            .household_benefits(&read, hh)
            .await
            .unwrap()
            .iter()
            .map(|b| (b.case_id, b.status.clone()))
            .collect::<Vec<_>>(),
        vec![(parent, "ended".to_string())]
    );

    let filing = h.store.filing_list(&read).await.unwrap();
    assert_eq!(filing.len(), 2);
    let ended = filing.iter().find(|f| f.case_id == c.id).unwrap();
    assert_eq!(ended.change_kind.as_deref(), Some("stop"));
    assert_eq!(ended.parent_case_id, Some(parent));
    assert_eq!(ended.stop_reason.as_deref(), Some("death"));
    assert_eq!(ended.last_paid_month.as_deref(), Some("2026-03"));
    assert_eq!(ended.filing_due, Some(date(2026, 3, 6)));
    assert_eq!(ended.letter_number, o.letter_number);
    let new = filing.iter().find(|f| f.case_id == parent).unwrap();
    assert_eq!(new.change_kind, None);
    assert_eq!(new.monthly_amount, Money::from_fen(50_000));

    // Stopped with March the last month paid: compared through March, not from April on —
    // even as one the legacy caseload recorded as a current recipient.
    let import = super::system()
        .grant::<jiuzhu_domain::access::ImportCaseload>()
        .unwrap();
    h.store
        .mark_current_recipients(&import, date(2025, 1, 1), &[hh])
        .await
        .unwrap();
    let compared = |last_day| {
        let store = h.store.clone();
        async move {
            let r = super::system()
                .grant::<jiuzhu_domain::access::RunVerification>()
                .unwrap();
            let mut ids = Vec::new();
            store
                .caseload_for_verification(&r, None, last_day, &mut |row| {
                    ids.push(row.household_id);
                    Ok(())
                })
                .await
                .unwrap();
            ids.contains(&hh)
        }
    };
    assert!(compared(date(2026, 3, 31)).await);
    assert!(!compared(date(2026, 4, 30)).await);

    // Ended: nothing more to change, and no longer 低保 anywhere (R-PR-6).
    let err = h
        .store
        .open_change_case(&act_a, &change(parent, ChangeKind::Adjust, None))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "CHANGE_KIND_NOT_APPLICABLE");
    let reg = clerk_a().grant::<RegisterApplication>().unwrap();
    let applicant = h
        .store
        .get_case(&read, parent)
        .await
        .unwrap()
        .unwrap()
        .applicant_id;
    assert_eq!(
        h.store
            .receives_anywhere(&reg, applicant, "dibao")
            .await
            .unwrap(),
        None
    );

    for sql in [
        "UPDATE change_outcomes SET last_paid_month = '2026-12'",
        "DELETE FROM change_outcomes",
    ] {
        assert!(h.store.execute_raw(sql).await.is_err(), "{sql} was allowed");
    }
    let a = system().grant::<ReadAudit>().unwrap();
    let log = h
        .store
        .audit_log(
            &a,
            &AuditQuery {
                action: Some(AuditAction::CaseChangeOpened),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    let after = log.items[0].entry.after.clone().unwrap();
    assert_eq!(after["kind"], "stop");
    assert_eq!(after["stop_reason"], "death");
    assert_eq!(after["parent_case_id"], parent);
    assert!(
        after.get("reason").is_none(),
        "no reason text in the audit copy"
    );
}

/// What an adjustment's closure writes in its unit (as the application composes it).
struct Adjustment<'a> {
    grant: &'a jiuzhu_domain::Grant<HandleWarnings>,
    write: &'a jiuzhu_domain::Grant<jiuzhu_domain::access::WriteRegistry>,
    found: &'a jiuzhu_domain::HouseholdEconomics,
    version: Option<i64>,
    change: &'a NewChange,
    household: HouseholdId,
    parent: CaseId,
}

impl Adjustment<'_> {
    async fn apply(
        &self,
        unit: &mut dyn crate::WriteUnit,
        w: &crate::WarningRecord,
    ) -> crate::WarningRecord {
        let close = CloseWarning {
            result: WarningResult::Adjust,
            note: "入户核实,收入已超过标准".into(),
            visit_date: None,
            attachments: vec![],
        };
        let closing = unit
            .warning_to_close(self.grant, w.id, w.row_version, &close)
            .await
            .unwrap();
        unit.save_economics(
            self.write,
            self.household,
            self.version,
            self.found,
            date(2026, 3, 1),
        )
        .await
        .unwrap();
        assert_eq!(
            unit.running_case_id(self.household).await.unwrap(),
            Some(self.parent)
        );
        assert_eq!(unit.open_change_on(self.parent).await.unwrap(), None);
        let change = unit
            .open_change_for_warning(self.grant, self.change, w.id)
            .await
            .unwrap();
        // Reads in the unit see its own writes.
        assert_eq!(
            unit.open_change_on(self.parent)
                .await
                .unwrap()
                .map(|(id, _)| id),
            Some(change.id)
        );
        unit.close_warning(self.grant, &closing, &close, Some(change.id), None)
            .await
            .unwrap()
    }
}

/// A warning's closure as the application composes it on a [`crate::WriteUnit`]: the fact it
/// found, the change it opens and the closure itself are kept together, or none of them.
pub async fn changes_opened_by_warning_close(h: Harness) {
    with_tree(&h).await;
    let (ha, parent) = approved_case(&h, 71).await;
    let (hb, _) = household(&h, VILLAGE_A, 72, "371002001").await;
    let (hc, parent_c) = approved_case(&h, 73).await;
    let r = system().grant::<RunVerification>().unwrap();
    let warnings: Vec<NewWarning> = [
        (ha, "INCOME"),
        (ha, "DEPOSIT"),
        (hb, "DEATH"),
        (hc, "VEHICLE"),
    ]
    .into_iter()
    .map(|(hh, k)| NewWarning {
        household_id: hh,
        kind: k.into(),
        division: code(VILLAGE_A),
        evidence: "{}".into(),
        facts: crate::warning_facts("", k),
    })
    .collect();
    h.store
        .store_run(
            &r,
            &NewRun {
                month: "2026-02".into(),
                division: code("371002"),
                started_at: start_time(),
                delivery_ids: vec![],
                households: 2,
                due: date(2026, 3, 22),
            },
            &warnings,
        )
        .await
        .unwrap();
    let g = clerk_a().grant::<HandleWarnings>().unwrap();
    let list = h
        .store
        .list_warnings(&reads(&g), &WarningQuery::default())
        .await
        .unwrap();
    let find = |hh: HouseholdId, kind: &str| {
        list.items
            .iter()
            .find(|w| w.household_id == hh && w.kind == kind)
            .unwrap()
            .clone()
    };
    let close = |result| CloseWarning {
        result,
        note: "入户核实,收入已超过标准".into(),
        visit_date: None,
        attachments: vec![],
    };

    // The adjustment the application prepares for the household's running case.
    assert_eq!(
        h.store
            .running_case(&clerk_a().grant::<ReadCases>().unwrap(), ha)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(parent)
    );
    let found_income = NewChange {
        reason: "比对预警(2026-02 INCOME):入户核实,收入已超过标准".into(),
        ..change_at(parent, ChangeKind::Adjust, None, "township")
    };
    let registry = clerk_a()
        .grant::<jiuzhu_domain::access::ReadRegistry>()
        .unwrap();
    let write = clerk_a()
        .grant::<jiuzhu_domain::access::WriteRegistry>()
        .unwrap();
    let economics_of = |hh: HouseholdId| {
        let (h, registry) = (&h, &registry);
        async move {
            h.store
                .economics_as_of(registry, hh, date(2026, 3, 1))
                .await
                .unwrap()
        }
    };
    let before = economics_of(ha).await;
    let found = jiuzhu_domain::HouseholdEconomics::default();
    let w = find(ha, "INCOME");

    // A stale closure: refused before anything is written.
    let mut unit = h.store.begin().await.unwrap();
    let stale = unit
        .warning_to_close(&g, w.id, w.row_version + 1, &close(WarningResult::Adjust))
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            StoreError::Conflict {
                kind: "warning",
                ..
            }
        ),
        "{stale:?}"
    );
    drop(unit);

    // The fact, the change and the closure written, then the unit dropped: nothing is kept.
    let adjust = Adjustment {
        grant: &g,
        write: &write,
        found: &found,
        version: before.as_ref().map(|r| r.row_version),
        change: &found_income,
        household: ha,
        parent,
    };
    let mut unit = h.store.begin().await.unwrap();
    adjust.apply(unit.as_mut(), &w).await;
    drop(unit);
    assert_eq!(economics_of(ha).await, before);
    let read = clerk_a().grant::<ReadCases>().unwrap();
    assert!(h
        .store
        .case_changes(&read, parent)
        .await
        .unwrap()
        .is_empty());
    let still = h
        .store
        .get_warning(&reads(&g), w.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (still.status.as_str(), still.change_case_id),
        ("open", None)
    );

    // Committed: all of it.
    let mut unit = h.store.begin().await.unwrap();
    let closed = adjust.apply(unit.as_mut(), &w).await;
    unit.commit().await.unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.note.as_deref(), Some("入户核实,收入已超过标准"));
    let change_id = closed.change_case_id.expect("a change case was opened");
    assert_ne!(economics_of(ha).await, before);
    let ch = h
        .store
        .case_change(&read, change_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ch.kind, ChangeKind::Adjust);
    assert_eq!(ch.parent_case_id, parent);
    assert_eq!(ch.warning_id, Some(w.id));
    assert!(ch.reason.contains("INCOME"), "{}", ch.reason);
    let c = h.store.get_case(&read, change_id).await.unwrap().unwrap();
    // As the application opened it: 变更发起 done, the township confirms (delegated).
    assert_eq!(c.state["open"][0]["step"], "confirm");
    assert_eq!(c.state["open"][0]["level"], "township");
    assert_eq!(
        h.store
            .get_warning(&reads(&g), w.id)
            .await
            .unwrap()
            .unwrap()
            .change_case_id,
        Some(change_id)
    );

    // A second warning of the household finds the change open and links it, with a note.
    let w2 = find(ha, "DEPOSIT");
    let mut unit = h.store.begin().await.unwrap();
    let closing = unit
        .warning_to_close(&g, w2.id, w2.row_version, &close(WarningResult::Suspend))
        .await
        .unwrap();
    let (open, number) = unit.open_change_on(parent).await.unwrap().unwrap();
    assert_eq!(open, change_id);
    let note = format!("(该户已有办理中的变更 {number})");
    let closed = unit
        .close_warning(
            &g,
            &closing,
            &close(WarningResult::Suspend),
            Some(open),
            Some(&note),
        )
        .await
        .unwrap();
    unit.commit().await.unwrap();
    assert_eq!(closed.change_case_id, Some(change_id));
    assert!(closed.note.unwrap().contains("已有办理中的变更"));

    // No running case in the store for a household without an approved case; a case the
    // change cannot be opened on is refused as Invalid, and the unit goes on.
    let w3 = find(hb, "DEATH");
    let mut unit = h.store.begin().await.unwrap();
    unit.warning_to_close(&g, w3.id, w3.row_version, &close(WarningResult::Stop))
        .await
        .unwrap();
    assert_eq!(unit.running_case_id(hb).await.unwrap(), None);
    drop(unit);
    let w4 = find(hc, "VEHICLE");
    let mut unit = h.store.begin().await.unwrap();
    let closing = unit
        .warning_to_close(&g, w4.id, w4.row_version, &close(WarningResult::Suspend))
        .await
        .unwrap();
    let unknown_parent = NewChange {
        reason: "比对预警(2026-02 VEHICLE):入户核实".into(),
        ..change_at(parent_c + 1000, ChangeKind::Suspend, None, "township")
    };
    assert!(unit
        .open_change_for_warning(&g, &unknown_parent, w4.id)
        .await
        .is_err());
    let closed = unit
        .close_warning(
            &g,
            &closing,
            &close(WarningResult::Suspend),
            None,
            Some("(未发起变更)"),
        )
        .await
        .unwrap();
    unit.commit().await.unwrap();
    assert_eq!(closed.change_case_id, None);
    assert_eq!(
        closed.note.as_deref(),
        Some("入户核实,收入已超过标准(未发起变更)")
    );

    // Without a unit, only a closure that changes no benefit.
    let w5 = find(hb, "DEATH");
    let err = h
        .store
        .close_warning(&g, w5.id, w5.row_version, &close(WarningResult::Stop))
        .await
        .unwrap_err();
    match &err {
        StoreError::Invalid(v) => assert_eq!(v.0[0].code, "WARNING_RESULT_NEEDS_CHANGE"),
        other => panic!("{other:?}"),
    }
    let closed = h
        .store
        .close_warning(&g, w5.id, w5.row_version, &close(WarningResult::Refer))
        .await
        .unwrap();
    assert_eq!(closed.result, Some(WarningResult::Refer));
    let a = system().grant::<ReadAudit>().unwrap();
    let log = h
        .store
        .audit_log(
            &a,
            &AuditQuery {
                action: Some(AuditAction::CaseChangeOpened),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
}
