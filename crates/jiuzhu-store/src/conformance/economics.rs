//! Conformance cases of the household economics and the whole-caseload read.

use jiuzhu_domain::access::{ImportCaseload, ReadAudit, ReadRegistry, WriteRegistry};
use jiuzhu_domain::{
    Area, AuditAction, HouseholdEconomics, HouseholdFacts, HouseholdId, MemberEconomics, Money,
    PersonId, Relation,
};

use super::{
    clerk_a, clerk_b, code, date, facts, id_number, system, with_tree, Harness, TOWN_A, TOWN_B,
    VILLAGE_A, VILLAGE_B,
};
use crate::prelude::*;
use crate::{AuditQuery, ImportEconomics, NewHousehold, StoreError};

fn member(person_id: PersonId, income: i64) -> MemberEconomics {
    MemberEconomics {
        person_id,
        income: Money::from_yuan(income),
        medical_expense: Money::ZERO,
        disability_expense: Money::ZERO,
        education_expense: Money::ZERO,
        employment_cost: Money::ZERO,
        medical_costs: vec![],
        tekun: None,
    }
}

fn econ(members: Vec<MemberEconomics>, financial: i64) -> HouseholdEconomics {
    let mut e = HouseholdEconomics {
        members,
        ..Default::default()
    };
    e.assets.financial = Money::from_yuan(financial);
    e.assets.dwellings = 1;
    e
}

/// A household in `division` with a head (from 2025-01-01) and, when `second`, a spouse who
/// joins on 2026-02-01. Returns the household and the person ids.
async fn household(
    h: &Harness,
    division: &str,
    seq: u32,
    second: bool,
) -> (HouseholdId, Vec<PersonId>) {
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
                    address: "测试路1号".into(),
                    division: code(division),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    let n = if second { 2 } else { 1 };
    for k in 0..n {
        let id = id_number("371002", "19700101", seq * 10 + k);
        let p = h
            .store
            .create_person(&w, &id, &facts(&id, "测试", division), date(2025, 1, 1))
            .await
            .unwrap();
        let (rel, from) = if k == 0 {
            (Relation::Head, date(2025, 1, 1))
        } else {
            (Relation::Spouse, date(2026, 2, 1))
        };
        h.store
            .add_member(&w, hh.id, p.id, rel, from, None)
            .await
            .unwrap();
        ids.push(p.id);
    }
    (hh.id, ids)
}

pub async fn economics_save_as_of_history_conflict(h: Harness) {
    with_tree(&h).await;
    let (hh, people) = household(&h, VILLAGE_A, 1, true).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    assert_eq!(h.store.economics_current(&r, hh).await.unwrap(), None);

    // The spouse is not a member yet on 2026-01-01.
    let err = h
        .store
        .save_economics(
            &w,
            hh,
            None,
            &econ(vec![member(people[0], 300), member(people[1], 0)], 1000),
            date(2026, 1, 1),
        )
        .await
        .unwrap_err();
    match &err {
        StoreError::Invalid(v) => {
            assert_eq!(v.0[0].field, "members[1].person_id");
            assert_eq!(v.0[0].code, "MEMBER_NOT_IN_HOUSEHOLD");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let mut negative = econ(vec![member(people[0], 300)], 1000);
    negative.members[0].employment_cost = Money::from_fen(-1);
    let err = h
        .store
        .save_economics(&w, hh, None, &negative, date(2026, 1, 1))
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(v) if v.0[0].code == "MONEY_NEGATIVE"));

    let first = h
        .store
        .save_economics(
            &w,
            hh,
            None,
            &econ(vec![member(people[0], 300)], 1000),
            date(2026, 1, 1),
        )
        .await
        .unwrap();
    assert_eq!(first.row_version, 1);
    // A first record again (no version named) is a conflict, as is a stale version.
    let again = h
        .store
        .save_economics(
            &w,
            hh,
            None,
            &econ(vec![member(people[0], 1)], 0),
            date(2026, 2, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict { actual: 1, .. }));
    let second = h
        .store
        .save_economics(
            &w,
            hh,
            Some(1),
            &econ(vec![member(people[0], 500), member(people[1], 200)], 2000),
            date(2026, 2, 1),
        )
        .await
        .unwrap();
    assert_eq!(second.row_version, 2);
    let stale = h
        .store
        .save_economics(
            &w,
            hh,
            Some(1),
            &econ(vec![member(people[0], 9)], 0),
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        stale,
        StoreError::Conflict {
            expected: 1,
            actual: 2,
            ..
        }
    ));

    let jan = h
        .store
        .economics_as_of(&r, hh, date(2026, 1, 15))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(jan.economics.members.len(), 1);
    assert_eq!(jan.economics.members[0].income, Money::from_yuan(300));
    let feb = h
        .store
        .economics_as_of(&r, hh, date(2026, 2, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(feb.economics.members[1].income, Money::from_yuan(200));
    assert_eq!(feb.row_version, 2);
    assert_eq!(
        h.store
            .economics_as_of(&r, hh, date(2025, 12, 31))
            .await
            .unwrap(),
        None
    );
    let history = h.store.economics_history(&r, hh).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].valid_from, date(2026, 2, 1));
    assert_eq!(history[0].valid_to, None);
    assert_eq!(history[1].valid_to, Some(date(2026, 2, 1)));
    assert_eq!(history[1].data.assets.financial, Money::from_yuan(1000));
    assert_eq!(history[1].recorded_by, "clerk_a");

    // Audited, with the financial assets masked.
    let audit = system().grant::<ReadAudit>().unwrap();
    let log = h
        .store
        .audit_log(
            &audit,
            &AuditQuery {
                action: Some(AuditAction::EconomicsRecorded),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 2);
    let latest = &log.items[0].entry;
    assert_eq!(latest.record_id.as_deref(), Some(hh.to_string().as_str()));
    assert_eq!(latest.division.as_deref(), Some(VILLAGE_A));
    let after = latest.after.as_ref().unwrap();
    assert_eq!(after["assets"]["financial"], "***");
    assert_eq!(after["members"][0]["income"], "500.00");
    assert_eq!(
        latest.before.as_ref().unwrap()["members"][0]["income"],
        "300.00"
    );
}

pub async fn economics_scope(h: Harness) {
    with_tree(&h).await;
    let (hh, people) = household(&h, VILLAGE_A, 1, false).await;
    let wa = clerk_a().grant::<WriteRegistry>().unwrap();
    h.store
        .save_economics(
            &wa,
            hh,
            None,
            &econ(vec![member(people[0], 100)], 0),
            date(2026, 1, 1),
        )
        .await
        .unwrap();
    let rb = clerk_b().grant::<ReadRegistry>().unwrap();
    let wb = clerk_b().grant::<WriteRegistry>().unwrap();
    assert!(matches!(
        h.store.economics_as_of(&rb, hh, date(2026, 2, 1)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.economics_history(&rb, hh).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store
            .save_economics(
                &wb,
                hh,
                Some(1),
                &econ(vec![member(people[0], 1)], 0),
                date(2026, 2, 1)
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let seen = h
        .store
        .caseload_as_of(&rb, None, date(2026, 2, 1))
        .await
        .unwrap();
    assert!(seen.is_empty());
}

pub async fn caseload_as_of_reads_members_and_economics(h: Harness) {
    with_tree(&h).await;
    let (a, pa) = household(&h, VILLAGE_A, 1, true).await;
    let (b, _pb) = household(&h, VILLAGE_B, 2, false).await;
    let (c, pc) = household(&h, VILLAGE_A, 3, false).await;
    let wa = clerk_a().grant::<WriteRegistry>().unwrap();
    h.store
        .save_economics(
            &wa,
            a,
            None,
            &econ(vec![member(pa[0], 300)], 0),
            date(2026, 1, 1),
        )
        .await
        .unwrap();
    h.store
        .save_economics(
            &wa,
            a,
            Some(1),
            &econ(vec![member(pa[0], 400), member(pa[1], 100)], 0),
            date(2026, 2, 1),
        )
        .await
        .unwrap();
    // Household c gets its record only from March.
    h.store
        .save_economics(
            &wa,
            c,
            None,
            &econ(vec![member(pc[0], 50)], 0),
            date(2026, 3, 1),
        )
        .await
        .unwrap();
    let sys = system().grant::<ReadRegistry>().unwrap();
    let jan = h
        .store
        .caseload_as_of(&sys, None, date(2026, 1, 31))
        .await
        .unwrap();
    let ids: Vec<HouseholdId> = jan.iter().map(|e| e.snapshot.household.id).collect();
    assert_eq!(ids, vec![a, b, c]);
    assert_eq!(jan[0].snapshot.members.len(), 1);
    let ea = jan[0].economics.as_ref().unwrap();
    assert_eq!(ea.economics.members[0].income, Money::from_yuan(300));
    assert_eq!(jan[1].economics, None);
    assert_eq!(jan[2].economics, None);

    let feb = h
        .store
        .caseload_as_of(&sys, Some(&code(TOWN_A)), date(2026, 2, 28))
        .await
        .unwrap();
    let ids: Vec<HouseholdId> = feb.iter().map(|e| e.snapshot.household.id).collect();
    assert_eq!(ids, vec![a, c]);
    let members: Vec<PersonId> = feb[0]
        .snapshot
        .members
        .iter()
        .map(|m| m.person.id)
        .collect();
    assert_eq!(members, pa);
    let ea = feb[0].economics.as_ref().unwrap();
    assert_eq!(ea.row_version, 2);
    assert_eq!(ea.economics.members[1].income, Money::from_yuan(100));
    assert_eq!(feb[1].economics, None);
    let mar = h
        .store
        .caseload_as_of(&sys, Some(&code(TOWN_A)), date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(
        mar[1].economics.as_ref().unwrap().economics.members[0].income,
        Money::from_yuan(50)
    );

    // A clerk of township B sees only B; the same as the filter on B for the system.
    let rb = clerk_b().grant::<ReadRegistry>().unwrap();
    let only_b = h
        .store
        .caseload_as_of(&rb, None, date(2026, 2, 28))
        .await
        .unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0].snapshot.household.id, b);
    // A filter outside the scope yields nothing rather than widening it.
    let outside = h
        .store
        .caseload_as_of(&rb, Some(&code(TOWN_A)), date(2026, 2, 28))
        .await
        .unwrap();
    assert!(outside.is_empty());
    let _ = TOWN_B;

    // Bulk import of first records, by household code and identity number.
    let imp = system().grant::<ImportCaseload>().unwrap();
    let code_b = only_b[0].snapshot.household.code.clone();
    let n = h
        .store
        .import_economics(
            &imp,
            date(2026, 1, 1),
            &[ImportEconomics {
                household_code: code_b.clone(),
                id_numbers: vec![only_b[0].snapshot.members[0].person.id_number.clone()],
                economics: econ(vec![member(0, 700)], 0),
            }],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let got = h
        .store
        .economics_as_of(&rb, b, date(2026, 2, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.economics.members[0].person_id, _pb[0]);
    assert_eq!(got.economics.members[0].income, Money::from_yuan(700));
    let again = h
        .store
        .import_economics(
            &imp,
            date(2026, 1, 1),
            &[ImportEconomics {
                household_code: code_b,
                id_numbers: vec![],
                economics: econ(vec![], 0),
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Invalid(v) if v.0[0].code == "ECONOMICS_EXISTS"));
}
