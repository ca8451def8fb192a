//! Conformance case of who a month's comparison covers (docs/feeds.md, "Who is compared"):
//! households imported as current recipients, with an application in progress, or with a
//! benefit in force in the month — never a household only registered.

use jiuzhu_domain::access::{ActOnCase, ImportCaseload, RegisterApplication, RunVerification};
use jiuzhu_domain::{HouseholdId, Money};
use serde_json::json;

use super::cases::{approver, event, household, new_case, step};
use super::{clerk_a, date, system, with_tree, Harness, VILLAGE_A};
use crate::prelude::*;
use crate::{CaseTransition, NewDecision};

async fn compared(h: &Harness, last_day: (i32, u32, u32)) -> Vec<HouseholdId> {
    let r = system().grant::<RunVerification>().unwrap();
    let mut ids = Vec::new();
    h.store
        .caseload_for_verification(
            &r,
            None,
            date(last_day.0, last_day.1, last_day.2),
            &mut |row| {
                ids.push(row.household_id);
                Ok(())
            },
        )
        .await
        .unwrap();
    ids
}

pub async fn households_in_force_are_the_ones_compared(h: Harness) {
    with_tree(&h).await;
    let (registered, _) = household(&h, VILLAGE_A, 1, VILLAGE_A).await;
    let (applicant_household, applicant) = household(&h, VILLAGE_A, 2, VILLAGE_A).await;
    let (recipient, _) = household(&h, VILLAGE_A, 3, VILLAGE_A).await;
    // Registered households receive nothing and apply for nothing: no one is compared.
    assert_eq!(compared(&h, (2026, 2, 28)).await, Vec::<HouseholdId>::new());

    // The old system's roster from 2026-02-01 (the legacy import's marker).
    let import = system().grant::<ImportCaseload>().unwrap();
    let marked = h
        .store
        .mark_current_recipients(&import, date(2026, 2, 1), &[recipient, recipient])
        .await
        .unwrap();
    assert_eq!(marked, 1);
    // Marking again keeps the first day.
    let again = h
        .store
        .mark_current_recipients(&import, date(2026, 3, 1), &[recipient])
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(compared(&h, (2026, 1, 31)).await, Vec::<HouseholdId>::new());
    assert_eq!(compared(&h, (2026, 2, 28)).await, vec![recipient]);

    // An application registered on 2026-03-01 (Beijing) is in progress in March, not before;
    // the registration changes what a snapshot of the caseload holds.
    let seq = h.store.registry_seq().await.unwrap();
    let g = clerk_a().grant::<RegisterApplication>().unwrap();
    let case = h
        .store
        .register_case(&g, &new_case(applicant_household, applicant))
        .await
        .unwrap();
    assert!(h.store.registry_seq().await.unwrap() > seq);
    assert_eq!(compared(&h, (2026, 2, 28)).await, vec![recipient]);
    assert_eq!(
        compared(&h, (2026, 3, 31)).await,
        vec![applicant_household, recipient]
    );

    // Approved on 2026-03-01 with payment from 2026-04: in force from then on.
    let act = approver().grant::<ActOnCase>().unwrap();
    let approve = CaseTransition {
        starts_benefit: true,
        state: json!({"revision": 2}),
        revision: 2,
        status: jiuzhu_domain::case::CaseStatus::Approved,
        open_steps: vec![step("filing", &["county_approver"], "county", (2026, 3, 8))],
        events: vec![event(2, "confirm", "approved")],
        decision: Some(NewDecision {
            outcome: jiuzhu_domain::case::DecisionOutcome::Approved,
            decided_on: date(2026, 3, 1),
            monthly_amount: Money::from_fen(36_900),
            start_month: Some("2026-04".into()),
            explanation: json!([]),
            policy_versions: json!([]),
            input_snapshot: json!({}),
            reasons: vec![],
        }),
    };
    h.store
        .transition_case(&act, case.id, 1, &approve)
        .await
        .unwrap();
    assert_eq!(
        compared(&h, (2026, 3, 31)).await,
        vec![applicant_household, recipient]
    );
    assert_eq!(
        compared(&h, (2026, 6, 30)).await,
        vec![applicant_household, recipient]
    );
    assert!(!compared(&h, (2026, 6, 30)).await.contains(&registered));
}
