//! Conformance case of outreach leads (政策找人, R-LI-4): stored per run, scoped to the
//! registered person's residence (else the run's division), masked, append-only, handled once.

use jiuzhu_domain::access::{HandleWarnings, ReadAudit, RunVerification, WriteRegistry};
use jiuzhu_domain::{AuditAction, Money, Role};

use super::{
    clerk_a, clerk_b, code, date, facts, id_number, reads, staff, start_time, system, with_tree,
    Harness, VILLAGE_A,
};
use crate::prelude::*;
use crate::{AuditQuery, LeadQuery, LeadRun, NewLead, NewRun, StoreError};

pub async fn outreach_leads_scoped_and_handled(h: Harness) {
    with_tree(&h).await;
    // One lead is a registered (non-recipient) resident of village A; the other is unknown.
    let known = id_number("371002", "19600101", 41);
    let unknown = id_number("371002", "19650505", 42);
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let person = h
        .store
        .create_person(
            &w,
            &known,
            &facts(&known, "王某", VILLAGE_A),
            date(2025, 1, 1),
        )
        .await
        .unwrap();

    let r = system().grant::<RunVerification>().unwrap();
    let run = h
        .store
        .store_run(
            &r,
            &NewRun {
                month: "2026-02".into(),
                division: code("371002"),
                started_at: start_time(),
                delivery_ids: vec![],
                households: 0,
                due: date(2026, 3, 20),
            },
            &[],
        )
        .await
        .unwrap();
    let lead = |id: &jiuzhu_domain::IdNumber, row: i64, yuan: i64| NewLead {
        id_number: id.clone(),
        delivery_id: Some(7),
        row,
        settlement_date: date(2026, 2, 10),
        out_of_pocket: Money::from_yuan(yuan),
        threshold: Money::from_yuan(10000),
    };
    let n = h
        .store
        .store_outreach_leads(
            &r,
            &LeadRun {
                run_id: run.id,
                month: "2026-02".into(),
                fallback_division: code("371002"),
            },
            &[lead(&known, 3, 12000), lead(&unknown, 5, 15000)],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);

    // The county sees both, the biggest cost first; numbers are masked.
    let county = staff(905, "approver", Role::CountyApprover, "371002");
    let gc = county.grant::<HandleWarnings>().unwrap();
    let all = h
        .store
        .list_outreach_leads(&reads(&gc), &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.items[0].division, "371002");
    assert_eq!(all.items[0].person_id, None);
    assert_eq!(all.items[0].out_of_pocket, Money::from_yuan(15000));
    assert_eq!(all.items[0].person, unknown.masked());
    assert_ne!(all.items[0].person, unknown.as_str());
    assert_eq!(all.items[1].division, VILLAGE_A);
    assert_eq!(all.items[1].person_id, Some(person.id));
    assert_eq!(all.items[1].person_name.as_deref(), Some("王某"));
    assert_eq!(all.items[1].row, 3);
    assert_eq!(all.items[1].delivery_id, Some(7));
    assert_eq!(all.items[1].threshold, Money::from_yuan(10000));
    assert_eq!(all.items[1].settlement_date, date(2026, 2, 10));

    // Township A sees its resident only; township B nothing.
    let ga = clerk_a().grant::<HandleWarnings>().unwrap();
    let gb = clerk_b().grant::<HandleWarnings>().unwrap();
    let a = h
        .store
        .list_outreach_leads(&reads(&ga), &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(a.total, 1);
    assert_eq!(a.items[0].status, "open");
    let id = a.items[0].id;
    let b = h
        .store
        .list_outreach_leads(&reads(&gb), &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(b.total, 0);

    // Handling: not found outside the scope, a note required, once only.
    assert!(matches!(
        h.store.handle_outreach_lead(&gb, id, "已联系").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.handle_outreach_lead(&ga, id, "  ").await,
        Err(StoreError::Invalid(_))
    ));
    let done = h
        .store
        .handle_outreach_lead(&ga, id, "已电话联系,引导申请低保")
        .await
        .unwrap();
    assert_eq!(done.status, "handled");
    assert_eq!(done.handled_by.as_deref(), Some("clerk_a"));
    assert_eq!(done.handled_at, Some(start_time()));
    assert!(matches!(
        h.store.handle_outreach_lead(&ga, id, "again").await,
        Err(StoreError::Conflict { .. })
    ));
    let open = h
        .store
        .list_outreach_leads(
            &reads(&gc),
            &LeadQuery {
                status: Some("open".into()),
                run_id: Some(run.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(open.items[0].person_id, None);
    // One lead by its id, within the reader's scope only.
    let one = |grant, id| {
        let store = h.store.clone();
        async move {
            store
                .list_outreach_leads(
                    &grant,
                    &LeadQuery {
                        id: Some(id),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .items
        }
    };
    let lead = open.items[0].id;
    assert_eq!(one(reads(&gc), lead).await[0].id, lead);
    assert_eq!(one(reads(&gc), lead + 1000).await.len(), 0);
    assert_eq!(one(reads(&gb), lead).await.len(), 0);

    // The run list counts the leads in the reader's scope.
    let runs = h.store.list_runs(&reads(&r), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].leads, 2);
    assert_eq!(runs[0].run.id, run.id);

    // Leads and their handling are append-only.
    for sql in [
        "UPDATE outreach_leads SET division = '371002002'",
        "DELETE FROM outreach_leads",
        "UPDATE outreach_lead_handlings SET note = 'x'",
        "DELETE FROM outreach_lead_handlings",
    ] {
        assert!(h.store.execute_raw(sql).await.is_err(), "{sql} was allowed");
    }

    // Both writes are audited.
    let audit = system().grant::<ReadAudit>().unwrap();
    for action in [
        AuditAction::OutreachLeadsStored,
        AuditAction::OutreachLeadHandled,
    ] {
        let page = h
            .store
            .audit_log(
                &audit,
                &AuditQuery {
                    action: Some(action),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 1, "{action:?}");
    }
}
