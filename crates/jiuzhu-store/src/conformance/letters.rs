//! Conformance cases of notices, decision letters and the county filing list (docs/cases.md,
//! migration 0007): the notice list is scoped and leaves out protected cases; every decision
//! gets the next number of its county's series; the prefix is configurable and audited; the
//! filing list shows due and filed cases.

use jiuzhu_domain::access::{
    ActOnCase, ManageDivisions, ReadAudit, ReadCases, RegisterApplication,
};
use jiuzhu_domain::{AuditAction, Money, Role};
use serde_json::json;

use super::cases::{approver, event, household, new_case, reviewer_a, step};
use super::{clerk_a, clerk_b, code, date, staff, with_tree, Harness, VILLAGE_A, VILLAGE_B};
use crate::prelude::*;
use crate::{AuditQuery, CaseFlags, CaseTransition, NewDecision, StoreError};
use jiuzhu_domain::case::DecisionOutcome;

fn decision(outcome: DecisionOutcome) -> NewDecision {
    let approved = outcome == DecisionOutcome::Approved;
    NewDecision {
        outcome,
        decided_on: date(2026, 3, 1),
        monthly_amount: Money::from_fen(if approved { 50_000 } else { 0 }),
        start_month: approved.then(|| "2026-04".to_string()),
        explanation: json!([]),
        policy_versions: json!([]),
        input_snapshot: json!(null),
        reasons: if outcome == jiuzhu_domain::case::DecisionOutcome::Refused {
            vec!["收入高于标准".into()]
        } else {
            vec![]
        },
    }
}

fn in_notice(rev: i64) -> CaseTransition {
    let mut notice = step("notice", &["township_reviewer"], "township", (2026, 3, 9));
    notice.not_before = Some(date(2026, 3, 9));
    CaseTransition {
        starts_benefit: true,
        state: json!({"revision": rev}),
        revision: rev,
        status: jiuzhu_domain::case::CaseStatus::Open,
        open_steps: vec![notice],
        events: vec![event(rev, "review", "completed")],
        decision: None,
    }
}

pub async fn letters_notices_and_filing(h: Harness) {
    with_tree(&h).await;
    let reg = clerk_a().grant::<RegisterApplication>().unwrap();
    let act = approver().grant::<ActOnCase>().unwrap();
    let (hh, p) = household(&h, VILLAGE_A, 31, "371002001").await;
    let a = h.store.register_case(&reg, &new_case(hh, p)).await.unwrap();
    let (hh2, p2) = household(&h, VILLAGE_A, 32, "371002001").await;
    let mut protected = new_case(hh2, p2);
    protected.flags = CaseFlags {
        protected: true,
        ..CaseFlags::default()
    };
    let b = h.store.register_case(&reg, &protected).await.unwrap();
    h.store
        .transition_case(&act, a.id, 1, &in_notice(2))
        .await
        .unwrap();
    h.store
        .transition_case(&act, b.id, 1, &in_notice(2))
        .await
        .unwrap();

    // The notice list: in scope, not protected, filtered by village.
    let read_a = reviewer_a().grant::<ReadCases>().unwrap();
    let list = h.store.notice_list(&read_a, None).await.unwrap();
    assert_eq!(list.len(), 1, "the protected case is never listed");
    assert_eq!(list[0].case.id, a.id);
    assert_eq!(list[0].posted_on, date(2026, 3, 1));
    assert_eq!(list[0].not_before, Some(date(2026, 3, 9)));
    let village = code(VILLAGE_A);
    assert_eq!(
        h.store
            .notice_list(&read_a, Some(&village))
            .await
            .unwrap()
            .len(),
        1
    );
    let other = code(VILLAGE_B);
    assert!(h
        .store
        .notice_list(&read_a, Some(&other))
        .await
        .unwrap()
        .is_empty());
    let read_b = clerk_b().grant::<ReadCases>().unwrap();
    assert!(h.store.notice_list(&read_b, None).await.unwrap().is_empty());

    // Approval: the first letter of the county's 2026 series, prefix from the county's name.
    let approve = CaseTransition {
        starts_benefit: true,
        state: json!({"revision": 3}),
        revision: 3,
        status: jiuzhu_domain::case::CaseStatus::Approved,
        open_steps: vec![step("filing", &["county_approver"], "county", (2026, 3, 6))],
        events: vec![event(3, "confirm", "approved")],
        decision: Some(decision(DecisionOutcome::Approved)),
    };
    h.store
        .transition_case(&act, a.id, 2, &approve)
        .await
        .unwrap();
    let read = approver().grant::<ReadCases>().unwrap();
    let d = h.store.case_decisions(&read, a.id).await.unwrap();
    assert_eq!(d[0].letter_number.as_deref(), Some("环民救〔2026〕1号"));
    assert!(h.store.notice_list(&read_a, None).await.unwrap().is_empty());

    // The filing list: due, not filed; then filed by the filing step.
    let filing = h.store.filing_list(&read).await.unwrap();
    assert_eq!(filing.len(), 1);
    assert_eq!(filing[0].case_id, a.id);
    assert_eq!(filing[0].filing_due, Some(date(2026, 3, 6)));
    assert_eq!(filing[0].filed_on, None);
    assert_eq!(filing[0].monthly_amount, Money::from_fen(50_000));
    assert_eq!(
        filing[0].letter_number.as_deref(),
        Some("环民救〔2026〕1号")
    );
    let filed = CaseTransition {
        starts_benefit: true,
        state: json!({"revision": 4}),
        revision: 4,
        status: jiuzhu_domain::case::CaseStatus::Approved,
        open_steps: vec![],
        events: vec![event(4, "filing", "completed")],
        decision: None,
    };
    h.store
        .transition_case(&act, a.id, 3, &filed)
        .await
        .unwrap();
    let filing = h.store.filing_list(&read).await.unwrap();
    assert_eq!(filing[0].filed_on, Some(date(2026, 3, 1)));
    assert_eq!(filing[0].filed_by.as_deref(), Some("测试经办人"));
    assert!(h.store.filing_list(&read_b).await.unwrap().is_empty());

    // A configured prefix: the series goes on with it; setting it is audited and scoped.
    let manager = staff(950, "manager", Role::CountyManager, "371002");
    let g = manager.grant::<ManageDivisions>().unwrap();
    h.store
        .set_letter_prefix(&g, &code("371002"), "威环民")
        .await
        .unwrap();
    let err = h
        .store
        .set_letter_prefix(&g, &code("371002"), " ")
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(v) if v.0[0].code == "LETTER_PREFIX"));
    let outside = staff(951, "manager_b", Role::CountyManager, "371003");
    let err = h
        .store
        .set_letter_prefix(
            &outside.grant::<ManageDivisions>().unwrap(),
            &code("371002"),
            "X",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
    let refuse = CaseTransition {
        starts_benefit: true,
        state: json!({"revision": 3}),
        revision: 3,
        status: jiuzhu_domain::case::CaseStatus::Refused,
        open_steps: vec![],
        events: vec![event(3, "confirm", "refused")],
        decision: Some(decision(DecisionOutcome::Refused)),
    };
    h.store
        .transition_case(&act, b.id, 2, &refuse)
        .await
        .unwrap();
    let d = h.store.case_decisions(&read, b.id).await.unwrap();
    assert_eq!(d[0].letter_number.as_deref(), Some("威环民〔2026〕2号"));
    // Refusals are not filed with the county.
    assert_eq!(h.store.filing_list(&read).await.unwrap().len(), 1);

    let audit = h
        .store
        .audit_log(
            &staff(952, "auditadmin", Role::AuditAdmin, "371002")
                .grant::<ReadAudit>()
                .unwrap(),
            &AuditQuery {
                action: Some(AuditAction::LetterPrefixSet),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
    assert_eq!(
        audit.items[0].entry.after.as_ref().unwrap()["prefix"],
        "威环民"
    );
}
