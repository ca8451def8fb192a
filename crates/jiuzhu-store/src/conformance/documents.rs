//! Conformance cases of the one-person-one-file documents and the township reserve fund ledger:
//! append-only rows, withdrawal, scope, audited reveal; balance, refusal below zero, concurrent
//! withdrawals and the case link.

use jiuzhu_domain::access::{
    ManageReserveFund, ReadAudit, ReadCases, ReadRegistry, RegisterApplication, RevealSensitive,
    WriteRegistry,
};
use jiuzhu_domain::{Area, AuditAction, HouseholdFacts, Money, Relation, Role};
use serde_json::json;

use super::{
    clerk_a, clerk_b, code, date, facts, id_number, staff, with_tree, Harness, TOWN_A, TOWN_B,
    VILLAGE_A, VILLAGE_B,
};
use crate::prelude::*;
use crate::{
    AuditQuery, CaseFlags, DocumentQuery, NewCase, NewDocument, NewHousehold, NewReserveEntry,
    OwnerKind, ReserveEntryKind, StoreError,
};

fn reviewer(town: &str) -> jiuzhu_domain::Actor {
    staff(
        910,
        &format!("reviewer_{town}"),
        Role::TownshipReviewer,
        town,
    )
}

fn new_doc(kind: OwnerKind, owner: i64, doc_type: &str, sha_byte: char) -> NewDocument {
    let sha: String = std::iter::repeat_n(sha_byte, 64).collect();
    NewDocument {
        owner_kind: kind,
        owner_id: owner,
        doc_type: doc_type.into(),
        file_name: "扫描件.pdf".into(),
        content_type: "application/pdf".into(),
        size_bytes: 1234,
        storage_key: format!("sha256/{}/{}", &sha[..2], sha),
        sha256: sha,
        note: "窗口扫描".into(),
    }
}

/// A household with one head, in `division`.
async fn household(h: &Harness, division: &str, seq: u32) -> (i64, i64) {
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
                    address: "档案路1号".into(),
                    division: code(division),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    let id = id_number("371002", "19700101", 700 + seq);
    let p = h
        .store
        .create_person(&w, &id, &facts(&id, "档案人", division), date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .add_member(&w, hh.id, p.id, Relation::Head, date(2025, 1, 1), None)
        .await
        .unwrap();
    (hh.id, p.id)
}

pub async fn documents_append_only_withdraw_scope(h: Harness) {
    with_tree(&h).await;
    let (hh_a, p_a) = household(&h, VILLAGE_A, 1).await;
    let (hh_b, _) = household(&h, VILLAGE_B, 2).await;
    let wa = clerk_a().grant::<WriteRegistry>().unwrap();
    let ra = clerk_a().grant::<ReadRegistry>().unwrap();

    let d1 = h
        .store
        .add_document(&wa, &new_doc(OwnerKind::Household, hh_a, "home_visit", 'a'))
        .await
        .unwrap();
    assert_eq!(d1.division, code(VILLAGE_A));
    assert_eq!(d1.uploaded_by, "clerk_a");
    assert_eq!(d1.uploaded_at, super::start_time());
    assert_eq!(d1.size_bytes, 1234);
    assert!(!d1.is_sensitive());
    let d2 = h
        .store
        .add_document(&wa, &new_doc(OwnerKind::Person, p_a, "id_card", 'b'))
        .await
        .unwrap();
    assert!(d2.is_sensitive());
    // B's household is not found for A's clerk, and an unknown type is refused by field.
    let err = h
        .store
        .add_document(&wa, &new_doc(OwnerKind::Household, hh_b, "photo", 'c'))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                kind: "household",
                ..
            }
        ),
        "{err:?}"
    );
    let err = h
        .store
        .add_document(&wa, &new_doc(OwnerKind::Household, hh_a, "passport", 'c'))
        .await
        .unwrap_err();
    assert_eq!(super::field_codes(&err)[0].1, "doc_type");

    let of_household = h
        .store
        .list_documents(
            &ra,
            &DocumentQuery {
                owner: Some((OwnerKind::Household, hh_a)),
                ..DocumentQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(of_household.total, 1);
    assert_eq!(of_household.items[0].id, d1.id);
    let all_a = h
        .store
        .list_documents(&ra, &DocumentQuery::default())
        .await
        .unwrap();
    assert_eq!(
        all_a.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        [d2.id, d1.id]
    );
    // Township B sees none of A's documents.
    let rb = clerk_b().grant::<ReadRegistry>().unwrap();
    assert_eq!(
        h.store
            .list_documents(&rb, &DocumentQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(h.store.get_document(&rb, d1.id).await.unwrap().is_none());
    let wb = clerk_b().grant::<WriteRegistry>().unwrap();
    assert!(matches!(
        h.store.withdraw_document(&wb, d1.id, "越界").await,
        Err(StoreError::NotFound { .. })
    ));

    // Withdrawal: a reason is required; the row stays, hidden from the default list.
    let err = h
        .store
        .withdraw_document(&wa, d1.id, " ")
        .await
        .unwrap_err();
    assert_eq!(super::field_codes(&err)[0].1, "reason");
    let w = h
        .store
        .withdraw_document(&wa, d1.id, "上传错了")
        .await
        .unwrap();
    let wd = w.withdrawn.expect("withdrawn");
    assert_eq!(
        (wd.by.as_str(), wd.reason.as_str()),
        ("clerk_a", "上传错了")
    );
    assert!(h.store.withdraw_document(&wa, d1.id, "再撤").await.is_err());
    let visible = h
        .store
        .list_documents(
            &ra,
            &DocumentQuery {
                owner: Some((OwnerKind::Household, hh_a)),
                ..DocumentQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(visible.total, 0);
    let with_withdrawn = h
        .store
        .list_documents(
            &ra,
            &DocumentQuery {
                owner: Some((OwnerKind::Household, hh_a)),
                include_withdrawn: true,
                ..DocumentQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(with_withdrawn.total, 1);
    assert!(h
        .store
        .get_document(&ra, d1.id)
        .await
        .unwrap()
        .unwrap()
        .withdrawn
        .is_some());

    // Reveal of a sensitive scan is audited; out of scope it is not found.
    let rv = clerk_a().grant::<RevealSensitive>().unwrap();
    let seen = h.store.reveal_document(&rv, d2.id).await.unwrap();
    assert_eq!(seen.sha256, d2.sha256);
    let rvb = clerk_b().grant::<RevealSensitive>().unwrap();
    assert!(matches!(
        h.store.reveal_document(&rvb, d2.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let log = h
        .store
        .audit_log(
            &super::system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                record_kind: Some("document".into()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<AuditAction> = log.items.iter().map(|r| r.entry.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::SensitiveRevealed,
            AuditAction::DocumentWithdrawn,
            AuditAction::DocumentUploaded,
            AuditAction::DocumentUploaded,
        ]
    );
    assert_eq!(
        log.items[0].entry.record_id.as_deref(),
        Some(d2.id.to_string().as_str())
    );
    // The log never holds the file name.
    assert!(log
        .items
        .iter()
        .all(|r| !serde_json::to_string(&r.entry).unwrap().contains("扫描件")));

    // The database refuses to change or delete documents and withdrawals.
    for sql in [
        format!("UPDATE documents SET note = 'x' WHERE id = {}", d1.id),
        format!("DELETE FROM documents WHERE id = {}", d1.id),
        format!(
            "UPDATE document_withdrawals SET reason = 'x' WHERE document_id = {}",
            d1.id
        ),
        format!(
            "DELETE FROM document_withdrawals WHERE document_id = {}",
            d1.id
        ),
    ] {
        let r = h.store.execute_raw(&sql).await;
        assert!(r.is_err(), "{sql} must be refused");
    }
    assert_eq!(
        h.store
            .list_documents(
                &ra,
                &DocumentQuery {
                    include_withdrawn: true,
                    ..DocumentQuery::default()
                }
            )
            .await
            .unwrap()
            .total,
        2
    );
}

fn entry(town: &str, kind: ReserveEntryKind, yuan: i64) -> NewReserveEntry {
    NewReserveEntry {
        township: code(town),
        kind,
        amount: Money::from_yuan(yuan),
        case_id: None,
        assist_first_workflows: vec!["temporary".into()],
        payee_name: None,
        payee_id_masked: None,
        reason: "测试".into(),
        voucher: Some("记-001".into()),
        on: date(2026, 3, 1),
    }
}

pub async fn reserve_fund_ledger_balance_and_refusal(h: Harness) {
    with_tree(&h).await;
    let g = reviewer(TOWN_A).grant::<ManageReserveFund>().unwrap();
    let read = reviewer(TOWN_A).grant::<ReadCases>().unwrap();
    let e1 = h
        .store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::TopUp, 30_000))
        .await
        .unwrap();
    assert_eq!((e1.seq, e1.balance_after), (1, Money::from_yuan(30_000)));
    let e2 = h
        .store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::Withdrawal, 1_200))
        .await
        .unwrap();
    assert_eq!((e2.seq, e2.balance_after), (2, Money::from_yuan(28_800)));
    let e3 = h
        .store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::Return, 200))
        .await
        .unwrap();
    assert_eq!(e3.balance_after, Money::from_yuan(29_000));
    assert_eq!(e3.recorded_by, "reviewer_371002001");
    // Over the balance: refused with the balance named, nothing written.
    let err = h
        .store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::Withdrawal, 29_001))
        .await
        .unwrap_err();
    match &err {
        StoreError::Invalid(v) => {
            assert_eq!(v.0[0].code, "RESERVE_INSUFFICIENT");
            assert_eq!(v.0[0].field, "amount");
            assert!(v.0[0].message.contains("29000.00"), "{}", v.0[0].message);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let mut zero = entry(TOWN_A, ReserveEntryKind::TopUp, 0);
    zero.amount = Money::ZERO;
    assert!(h.store.record_reserve_entry(&g, &zero).await.is_err());
    // The whole balance may be taken.
    let e4 = h
        .store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::Withdrawal, 29_000))
        .await
        .unwrap();
    assert_eq!(e4.balance_after, Money::ZERO);

    let ledger = h
        .store
        .reserve_fund_entries(&read, &code(TOWN_A), 50)
        .await
        .unwrap();
    assert_eq!(
        ledger.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [4, 3, 2, 1]
    );
    let funds = h.store.reserve_funds(&read).await.unwrap();
    assert_eq!(funds.len(), 1);
    assert_eq!((funds[0].balance, funds[0].entries), (Money::ZERO, 4));
    // The county sees both townships, B with no ledger at balance 0.
    let county = staff(920, "approver", Role::CountyApprover, "371002");
    let all = h
        .store
        .reserve_funds(&county.grant::<ReadCases>().unwrap())
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|f| (f.township.to_string(), f.entries))
            .collect::<Vec<_>>(),
        [(TOWN_A.to_string(), 4), (TOWN_B.to_string(), 0)]
    );

    // Township A's reviewer cannot touch or read B's fund; a village is no township.
    assert!(matches!(
        h.store
            .record_reserve_entry(&g, &entry(TOWN_B, ReserveEntryKind::TopUp, 100))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.reserve_fund_entries(&read, &code(TOWN_B), 50).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(h
        .store
        .record_reserve_entry(&g, &entry(VILLAGE_A, ReserveEntryKind::TopUp, 100))
        .await
        .is_err());

    // Every entry is audited with the balance before and after.
    let log = h
        .store
        .audit_log(
            &super::system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                record_kind: Some("reserve_fund".into()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 4);
    assert_eq!(
        log.items[0].entry.before.as_ref().unwrap()["balance"],
        "29000.00"
    );
    assert_eq!(
        log.items[0].entry.after.as_ref().unwrap()["balance"],
        "0.00"
    );

    // The ledger is append-only in the database too.
    for sql in [
        "UPDATE reserve_fund_entries SET amount_fen = 1".to_string(),
        "DELETE FROM reserve_fund_entries".to_string(),
    ] {
        assert!(
            h.store.execute_raw(&sql).await.is_err(),
            "{sql} must be refused"
        );
    }
}

pub async fn reserve_fund_concurrent_withdrawals(h: Harness) {
    with_tree(&h).await;
    let g = reviewer(TOWN_A).grant::<ManageReserveFund>().unwrap();
    h.store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::TopUp, 1_000))
        .await
        .unwrap();
    // Two withdrawals of 600 at once: only one fits.
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let store = h.store.clone();
        let g = reviewer(TOWN_A).grant::<ManageReserveFund>().unwrap();
        tasks.push(tokio::spawn(async move {
            store
                .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::Withdrawal, 600))
                .await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(e) => {
                ok += 1;
                assert_eq!(e.balance_after, Money::from_yuan(400));
            }
            Err(StoreError::Invalid(v)) => {
                refused += 1;
                assert_eq!(v.0[0].code, "RESERVE_INSUFFICIENT");
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, refused), (1, 1));
    // Three of 300 at once all fit, one after the other.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let store = h.store.clone();
        let g = reviewer(TOWN_A).grant::<ManageReserveFund>().unwrap();
        tasks.push(tokio::spawn(async move {
            store
                .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::TopUp, 300))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let read = reviewer(TOWN_A).grant::<ReadCases>().unwrap();
    let ledger = h
        .store
        .reserve_fund_entries(&read, &code(TOWN_A), 50)
        .await
        .unwrap();
    assert_eq!(ledger.len(), 5);
    assert_eq!(ledger[0].balance_after, Money::from_yuan(1_300));
    // Each entry's balance follows from the one before it.
    let mut balance = Money::ZERO;
    for e in ledger.iter().rev() {
        balance = match e.kind {
            ReserveEntryKind::Withdrawal => balance - e.amount,
            _ => balance + e.amount,
        };
        assert_eq!(e.balance_after, balance, "entry {}", e.seq);
    }
}

pub async fn reserve_fund_case_link(h: Harness) {
    with_tree(&h).await;
    let (hh, person) = household(&h, VILLAGE_A, 3).await;
    let reg = clerk_a().grant::<RegisterApplication>().unwrap();
    let case = |workflow: &str| NewCase {
        department: None,
        one_place_per_person: false,
        workflow: workflow.into(),
        program: "临时救助".into(),
        household_id: hh,
        applicant_id: person,
        flags: CaseFlags {
            urgent: true,
            ..CaseFlags::default()
        },
        state: json!({"revision": 1}),
        revision: 1,
        open_steps: vec![],
        events: vec![],
    };
    let temporary = h
        .store
        .register_case(&reg, &case("temporary"))
        .await
        .unwrap();
    let tekun = h.store.register_case(&reg, &case("tekun")).await.unwrap();
    let g = reviewer(TOWN_A).grant::<ManageReserveFund>().unwrap();
    h.store
        .record_reserve_entry(&g, &entry(TOWN_A, ReserveEntryKind::TopUp, 5_000))
        .await
        .unwrap();
    let mut pay = entry(TOWN_A, ReserveEntryKind::Withdrawal, 800);
    pay.case_id = Some(temporary.id);
    pay.payee_name = Some("档案人".into());
    pay.payee_id_masked = Some("371002************".into());
    let e = h.store.record_reserve_entry(&g, &pay).await.unwrap();
    assert_eq!(e.case_id, Some(temporary.id));
    assert_eq!(e.payee_id_masked.as_deref(), Some("371002************"));
    // A case of another program, a case that does not exist and (below) a case of another
    // township get the same answer: the form cannot be used to probe for cases.
    pay.case_id = Some(tekun.id);
    let not_temporary = h.store.record_reserve_entry(&g, &pay).await.unwrap_err();
    pay.case_id = Some(9999);
    let missing = h.store.record_reserve_entry(&g, &pay).await.unwrap_err();
    assert_eq!(super::field_codes(&missing)[0].2, "RESERVE_CASE_UNKNOWN");
    assert_eq!(
        super::field_codes(&not_temporary)[0].2,
        "RESERVE_CASE_UNKNOWN"
    );
    // Only what went out can come back: 800 was paid for the case.
    let mut back = entry(TOWN_A, ReserveEntryKind::Return, 801);
    back.case_id = Some(temporary.id);
    let err = h.store.record_reserve_entry(&g, &back).await.unwrap_err();
    assert_eq!(super::field_codes(&err)[0].2, "RESERVE_RETURN_EXCEEDS");
    back.amount = Money::from_yuan(800);
    h.store.record_reserve_entry(&g, &back).await.unwrap();
    // The case of township A cannot be paid from township B's fund.
    let gb = reviewer(TOWN_B).grant::<ManageReserveFund>().unwrap();
    h.store
        .record_reserve_entry(&gb, &entry(TOWN_B, ReserveEntryKind::TopUp, 5_000))
        .await
        .unwrap();
    let mut other = entry(TOWN_B, ReserveEntryKind::Withdrawal, 100);
    other.case_id = Some(temporary.id);
    let err = h.store.record_reserve_entry(&gb, &other).await.unwrap_err();
    assert_eq!(super::field_codes(&err)[0].2, "RESERVE_CASE_UNKNOWN");
    let msg = |e: &StoreError| match e {
        StoreError::Invalid(v) => v.0[0].message.replace(&temporary.id.to_string(), "N"),
        other => panic!("{other:?}"),
    };
    assert_eq!(msg(&err), msg(&missing).replace("9999", "N"));
    // A return of five million with nothing withdrawn is refused.
    let err = h
        .store
        .record_reserve_entry(&gb, &entry(TOWN_B, ReserveEntryKind::Return, 5_000_000))
        .await
        .unwrap_err();
    assert_eq!(super::field_codes(&err)[0].2, "RESERVE_RETURN_EXCEEDS");
}
