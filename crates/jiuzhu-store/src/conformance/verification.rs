//! Conformance cases of verification: deliveries (immutable provenance), the caseload read for
//! the comparison, runs with their warnings (scoped to the township) and closing warnings.

use jiuzhu_domain::access::{
    HandleWarnings, ImportCaseload, ImportFeeds, ReadAudit, RunVerification, WriteRegistry,
};
use jiuzhu_domain::{Area, AuditAction, HouseholdFacts, HouseholdId, Relation};

use super::{
    all_deliveries, clerk_a, clerk_b, code, date, facts, id_number, reads, register_test_sources,
    start_time, system, with_tree, Harness, TOWN_A, VILLAGE_A, VILLAGE_B,
};
use crate::prelude::*;
use crate::{
    AuditQuery, CloseWarning, NewDelivery, NewHousehold, NewRun, NewWarning, Rejection, RunPart,
    RunStart, StoreError, WarningQuery, WarningResult,
};

fn delivery(kind: &str, refused: bool) -> NewDelivery {
    NewDelivery {
        kind: kind.into(),
        source: "XX银行".into(),
        data_date: date(2026, 2, 28),
        sha256: "ab".repeat(32),
        bytes: 1234,
        rows_total: 10,
        rows_accepted: if refused { 0 } else { 8 },
        rows_rejected: 2,
        refused,
        rejection_policy: "keep_good_rows".into(),
        content_key: format!("feeds/{}.csv", "ab".repeat(32)),
        rejections: vec![
            Rejection {
                row: 3,
                column: Some("balance(余额)".into()),
                code: "MONEY_TOO_MANY_DECIMALS".into(),
                reason: "金额“1.005”超过两位小数".into(),
            },
            Rejection {
                row: 7,
                column: None,
                code: "COLUMN_COUNT".into(),
                reason: "列数不符".into(),
            },
        ],
    }
}

async fn household(h: &Harness, division: &str, seq: u32) -> HouseholdId {
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
                    area: Area::Rural,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    let id = id_number("371002", "19700101", seq);
    let p = h
        .store
        .create_person(&w, &id, &facts(&id, "测试", division), date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .add_member(&w, hh.id, p.id, Relation::Head, date(2025, 1, 1), None)
        .await
        .unwrap();
    // A recipient household, as the month's comparison covers.
    let import = system().grant::<ImportCaseload>().unwrap();
    h.store
        .mark_current_recipients(&import, date(2025, 1, 1), &[hh.id])
        .await
        .unwrap();
    hh.id
}

pub async fn verification_deliveries_are_immutable(h: Harness) {
    register_test_sources(h.store.as_ref()).await;
    let g = system().grant::<ImportFeeds>().unwrap();
    let (d, rejections) = h
        .store
        .record_delivery(&g, &delivery("deposits", false))
        .await
        .unwrap();
    assert_eq!(d.id, 1);
    assert_eq!(d.status, "accepted");
    assert_eq!(d.imported_by, "system:test");
    assert_eq!(d.imported_at, start_time());
    assert_eq!(rejections.len(), 2);
    let (refused, _) = h
        .store
        .record_delivery(&g, &delivery("civil_deaths", true))
        .await
        .unwrap();
    assert_eq!(refused.status, "refused");

    let all = h
        .store
        .list_deliveries(&all_deliveries(), None, 10)
        .await
        .unwrap();
    assert_eq!(all.iter().map(|d| d.id).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(all[1], d);
    let deposits = h
        .store
        .list_deliveries(&all_deliveries(), Some("deposits"), 10)
        .await
        .unwrap();
    assert_eq!(deposits.len(), 1);
    let listed = h
        .store
        .delivery_rejections(&all_deliveries(), 1)
        .await
        .unwrap();
    assert_eq!(listed[0].row, 3);
    assert_eq!(listed[0].code, "MONEY_TOO_MANY_DECIMALS");
    assert_eq!(listed[1].column, None);

    // The run reads each source's latest accepted delivery.
    let r = system().grant::<RunVerification>().unwrap();
    let latest = |up_to| {
        let (store, r) = (h.store.clone(), &r);
        async move {
            store
                .deliveries_for_run(r, &code("371002"), up_to)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|s| s.latest.map(|d| (s.source.kind, s.source.code, d.id)))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        latest(date(2026, 3, 31)).await,
        vec![("deposits".to_string(), "XX银行".to_string(), 1)]
    );
    assert!(latest(date(2026, 2, 27)).await.is_empty());

    // Provenance is append-only in the database itself.
    for sql in [
        "UPDATE feed_deliveries SET sha256 = 'x' WHERE id = 1",
        "DELETE FROM feed_deliveries WHERE id = 2",
        "UPDATE delivery_rejections SET reason = 'x'",
        "DELETE FROM delivery_rejections",
    ] {
        assert!(h.store.execute_raw(sql).await.is_err(), "{sql} was allowed");
    }
    assert_eq!(
        h.store
            .delivery_rejections(&all_deliveries(), 1)
            .await
            .unwrap(),
        listed
    );

    let a = system().grant::<ReadAudit>().unwrap();
    let log = h
        .store
        .audit_log(
            &a,
            &AuditQuery {
                action: Some(AuditAction::FeedDelivered),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 2);
}

/// What a department must correct is refused, not kept: the same file again from the same
/// source (accepted three times before), and a data date after today (2027-06-30 was accepted).
pub async fn verification_deliveries_refuse_redelivery_and_future_dates(h: Harness) {
    register_test_sources(h.store.as_ref()).await;
    let g = system().grant::<ImportFeeds>().unwrap();
    let (first, _) = h
        .store
        .record_delivery(&g, &delivery("deposits", false))
        .await
        .unwrap();
    let again = h
        .store
        .record_delivery(&g, &delivery("deposits", false))
        .await
        .unwrap_err();
    match again {
        StoreError::Invalid(v) => {
            assert_eq!(v.0[0].code, "ALREADY_DELIVERED");
            assert!(
                v.0[0].message.contains(&format!("第 {} 号报送", first.id)),
                "{}",
                v.0[0].message
            );
        }
        other => panic!("{other:?}"),
    }
    // Another source's identical bytes, or the same source for another kind, are their own.
    let mut other_bank = delivery("deposits", false);
    other_bank.source = "YY银行".into();
    h.store.record_delivery(&g, &other_bank).await.unwrap();
    // A refused copy may be sent again once corrected (here: the same bytes, refused before).
    let mut refused = delivery("civil_deaths", true);
    h.store.record_delivery(&g, &refused).await.unwrap();
    refused.refused = false;
    h.store.record_delivery(&g, &refused).await.unwrap();

    // Today is 2026-03-01 (Beijing): data of tomorrow does not exist yet.
    let mut future = delivery("medical_claims", false);
    future.sha256 = "cd".repeat(32);
    future.data_date = date(2026, 3, 2);
    match h.store.record_delivery(&g, &future).await.unwrap_err() {
        StoreError::Invalid(v) => {
            assert_eq!(v.0[0].field, "data_date");
            assert_eq!(v.0[0].code, "DATA_DATE_IN_FUTURE");
            assert!(v.0[0].message.contains("2026-03-02"), "{}", v.0[0].message);
        }
        other => panic!("{other:?}"),
    }
    future.data_date = date(2026, 3, 1);
    h.store.record_delivery(&g, &future).await.unwrap();
    let all = h
        .store
        .list_deliveries(&all_deliveries(), None, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
}

pub async fn verification_warnings_scoped_and_closed(h: Harness) {
    with_tree(&h).await;
    let ha = household(&h, VILLAGE_A, 1).await;
    let hb = household(&h, VILLAGE_B, 2).await;
    let r = system().grant::<RunVerification>().unwrap();

    // The caseload read: one row per household with its members' numbers.
    let mut rows = Vec::new();
    h.store
        .caseload_for_verification(&r, None, date(2026, 3, 31), &mut |row| {
            rows.push(row);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].household_id, ha);
    assert_eq!(rows[0].area, "rural");
    assert_eq!(
        rows[0].id_numbers,
        id_number("371002", "19700101", 1).as_str()
    );
    let mut only_b = Vec::new();
    h.store
        .caseload_for_verification(&r, Some(&code(VILLAGE_B)), date(2026, 3, 31), &mut |row| {
            only_b.push(row.household_id);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(only_b, vec![hb]);

    let evidence = r#"{"source":"deposits","delivery":1,"row":2,"person":"371002********0013"}"#;
    let warnings: Vec<NewWarning> = [
        (ha, VILLAGE_A, "DEPOSIT"),
        (ha, VILLAGE_A, "DEATH"),
        (hb, VILLAGE_B, "DEPOSIT"),
    ]
    .into_iter()
    .map(|(hh, d, k)| NewWarning {
        household_id: hh,
        kind: k.into(),
        division: code(d),
        evidence: evidence.into(),
        facts: crate::warning_facts("", k),
    })
    .collect();
    let run = h
        .store
        .store_run(
            &r,
            &NewRun {
                month: "2026-03".into(),
                division: code("371002"),
                started_at: start_time(),
                delivery_ids: vec![1],
                households: 2,
                due: date(2026, 3, 22),
            },
            &warnings,
        )
        .await
        .unwrap();
    assert_eq!(run.warnings, 3);
    assert_eq!(run.counts["DEPOSIT"], 2);
    assert_eq!(
        h.store.get_run(&reads(&r), run.id).await.unwrap(),
        Some(run.clone())
    );

    // Township A's clerk sees A's warnings only, and none of B's.
    let ga = clerk_a().grant::<HandleWarnings>().unwrap();
    let gb = clerk_b().grant::<HandleWarnings>().unwrap();
    let a_list = h
        .store
        .list_warnings(&reads(&ga), &WarningQuery::default())
        .await
        .unwrap();
    assert_eq!(a_list.total, 2);
    assert!(a_list.items.iter().all(|w| w.household_id == ha));
    assert_eq!(a_list.items[0].township, TOWN_A);
    assert_eq!(a_list.items[0].due, date(2026, 3, 22));
    assert_eq!(a_list.items[0].evidence["row"], 2);
    let b_list = h
        .store
        .list_warnings(
            &reads(&gb),
            &WarningQuery {
                kind: Some("DEPOSIT".into()),
                status: Some("open".into()),
                month: Some("2026-03".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(b_list.total, 1);
    assert_eq!(b_list.items[0].household_id, hb);
    let target = a_list.items[0].clone();
    assert_eq!(
        h.store.get_warning(&reads(&gb), target.id).await.unwrap(),
        None
    );

    // B's clerk cannot close A's warning: it is not there for them.
    // Refer: the household has no case here, so a result that changes a benefit is refused.
    let close = CloseWarning {
        result: WarningResult::Refer,
        note: "入户核实存款属实".into(),
        visit_date: None,
        attachments: vec![],
    };
    let err = h
        .store
        .close_warning(&gb, target.id, target.row_version, &close)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

    let closed = h
        .store
        .close_warning(&ga, target.id, target.row_version, &close)
        .await
        .unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.result, Some(WarningResult::Refer));
    assert_eq!(closed.closed_by.as_deref(), Some("clerk_a"));
    assert_eq!(closed.closed_at, Some(start_time()));
    assert_eq!(closed.row_version, target.row_version + 1);

    // A stale version (or a second close) conflicts.
    let err = h
        .store
        .close_warning(&ga, target.id, target.row_version, &close)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let open_a = h
        .store
        .list_warnings(
            &reads(&ga),
            &WarningQuery {
                status: Some("open".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open_a.total, 1);

    let a = system().grant::<ReadAudit>().unwrap();
    let log = h
        .store
        .audit_log(
            &a,
            &AuditQuery {
                action: Some(AuditAction::WarningClosed),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].entry.division.as_deref(), Some(VILLAGE_A));
}

/// A run written while it reads: deliveries and warnings arrive as parts and are kept only when
/// the run finishes; a run abandoned half way leaves nothing behind.
pub async fn verification_streamed_run_commits_or_leaves_nothing(h: Harness) {
    register_test_sources(h.store.as_ref()).await;
    with_tree(&h).await;
    let ha = household(&h, VILLAGE_A, 11).await;
    let hb = household(&h, VILLAGE_B, 12).await;
    let r = system().grant::<RunVerification>().unwrap();
    let g = system().grant::<ImportFeeds>().unwrap();
    let start = RunStart {
        month: "2026-03".into(),
        division: code("371002"),
        started_at: start_time(),
        households: 2,
        due: date(2026, 3, 22),
    };
    let warning = |hh: HouseholdId, division: &str, kind: &str, delivery: i64| NewWarning {
        household_id: hh,
        kind: kind.into(),
        division: code(division),
        // A quote and non-ASCII text: the batch travels as JSON, the evidence must come back
        // byte for byte.
        evidence: format!(
            r#"{{"source":"deposits","department":"XX银行 \"营业部\"","delivery":{delivery},"row":5}}"#
        ),
        facts: crate::warning_facts("", kind),
    };

    // Abandoned: a delivery and a warning sent, then the sender dropped without Finish.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let sender = async move {
        let (reply, recorded) = tokio::sync::oneshot::channel();
        tx.send(RunPart::Delivery {
            delivery: delivery("deposits", false),
            reply,
        })
        .await
        .unwrap();
        let (d, _) = recorded.await.unwrap();
        tx.send(RunPart::Warnings(vec![warning(
            ha, VILLAGE_A, "DEPOSIT", d.id,
        )]))
        .await
        .unwrap();
    };
    let (abandoned, ()) =
        tokio::join!(h.store.store_run_streamed(&r, Some(&g), &start, rx), sender);
    assert!(
        matches!(abandoned, Err(StoreError::Database(_))),
        "{abandoned:?}"
    );
    assert!(h
        .store
        .list_deliveries(&all_deliveries(), None, 10)
        .await
        .unwrap()
        .is_empty());
    let all = system().grant::<HandleWarnings>().unwrap();
    let none = h
        .store
        .list_warnings(&reads(&all), &WarningQuery::default())
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    // Finished: two deliveries (one refused: recorded, nothing concluded from it), warnings in
    // two parts, committed together.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let sender = async move {
        let mut ids = Vec::new();
        for (kind, refused) in [("deposits", false), ("civil_deaths", true)] {
            let (reply, recorded) = tokio::sync::oneshot::channel();
            tx.send(RunPart::Delivery {
                delivery: delivery(kind, refused),
                reply,
            })
            .await
            .unwrap();
            let (d, rejections) = recorded.await.unwrap();
            assert_eq!(rejections.len(), 2);
            ids.push(d.id);
        }
        tx.send(RunPart::Warnings(vec![warning(
            ha, VILLAGE_A, "DEPOSIT", ids[0],
        )]))
        .await
        .unwrap();
        tx.send(RunPart::Warnings(vec![warning(
            hb, VILLAGE_B, "DEPOSIT", ids[0],
        )]))
        .await
        .unwrap();
        // Its outreach lead goes in with it, in the same transaction.
        let (reply, leads_stored) = tokio::sync::oneshot::channel();
        tx.send(RunPart::Finish {
            delivery_ids: ids.clone(),
            sources: Vec::new(),
            leads: vec![crate::NewLead {
                id_number: super::id_number("371002", "19650505", 42),
                delivery_id: Some(ids[0]),
                row: 7,
                settlement_date: date(2026, 3, 9),
                out_of_pocket: jiuzhu_domain::Money::from_yuan(12000),
                threshold: jiuzhu_domain::Money::from_yuan(10000),
            }],
            leads_stored: reply,
        })
        .await
        .unwrap();
        assert_eq!(leads_stored.await.unwrap(), 1);
        ids
    };
    let (run, ids) = tokio::join!(h.store.store_run_streamed(&r, Some(&g), &start, rx), sender);
    let run = run.unwrap();
    let leads = h
        .store
        .list_outreach_leads(
            &reads(&r),
            &crate::LeadQuery {
                run_id: Some(run.id),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(leads.total, 1);
    assert_eq!(leads.items[0].division, "371002");
    assert_eq!(run.warnings, 2);
    assert_eq!(run.counts["DEPOSIT"], 2);
    assert_eq!(run.delivery_ids, ids);
    assert_eq!(run.run_by, "system:test");
    assert_eq!(
        h.store.get_run(&reads(&r), run.id).await.unwrap(),
        Some(run.clone())
    );
    let statuses: Vec<String> = h
        .store
        .list_deliveries(&all_deliveries(), None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(statuses, vec!["refused", "accepted"]);
    let kept = h
        .store
        .list_warnings(
            &reads(&all),
            &WarningQuery {
                month: Some("2026-03".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(kept.total, 2);
    assert_eq!(kept.items[0].township, TOWN_A);
    assert_eq!(kept.items[0].due, date(2026, 3, 22));
    assert_eq!(kept.items[0].status, "open");
    assert_eq!(kept.items[0].evidence["department"], "XX银行 \"营业部\"");
    assert_eq!(kept.items[0].evidence["delivery"], ids[0]);
    // Another month's filter finds none of them (months go through the runs).
    let other = h
        .store
        .list_warnings(
            &reads(&all),
            &WarningQuery {
                month: Some("2026-04".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(other.total, 0);

    // The audit log has the run and its two deliveries, not the abandoned one's.
    let a = system().grant::<ReadAudit>().unwrap();
    for (action, n) in [
        (AuditAction::FeedDelivered, 2),
        (AuditAction::VerificationRun, 1),
    ] {
        let log = h
            .store
            .audit_log(
                &a,
                &AuditQuery {
                    action: Some(action),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(log.total, n, "{action:?}");
    }
}

/// Data providers are registered per kind (issue: a second bank's deposits replaced the first
/// bank's): a delivery must name a registered source in service, each source's latest
/// delivery is what a run reads, and the registry refuses a taken code with every error at once.
pub async fn verification_sources_registered_and_latest_per_source(h: Harness) {
    with_tree(&h).await;
    let manager = super::staff(930, "manager", jiuzhu_domain::Role::CountyManager, "371002");
    let m = manager.grant().unwrap();
    let bank = |source: &str, name: &str, division: &str| crate::NewFeedSource {
        kind: "deposits".into(),
        code: source.into(),
        name: name.into(),
        division: code(division),
        accounts: Vec::new(),
    };
    let a = h
        .store
        .register_feed_source(&m, &bank("WHBANK", "威海市商业银行", "371002"))
        .await
        .unwrap();
    assert_eq!(
        (a.kind.as_str(), a.row_version, a.retired),
        ("deposits", 1, false)
    );
    let b = h
        .store
        .register_feed_source(&m, &bank("ICBC", "工商银行", "371002"))
        .await
        .unwrap();
    // A taken code, a bad kind, an empty name and a division outside the county: all at once.
    let mut wrong = bank("WHBANK", " ", "371003");
    wrong.kind = "savings".into();
    let mut wrong2 = bank("WHBANK", " ", "371003");
    wrong2.accounts = vec![99999];
    for (new, codes) in [
        (
            wrong,
            vec![
                "SOURCE_KIND_UNKNOWN",
                "SOURCE_NAME_INVALID",
                "SOURCE_DIVISION_OUT_OF_SCOPE",
            ],
        ),
        (
            wrong2,
            vec![
                "SOURCE_NAME_INVALID",
                "SOURCE_DIVISION_OUT_OF_SCOPE",
                "SOURCE_CODE_TAKEN",
                "SOURCE_ACCOUNT_INVALID",
            ],
        ),
    ] {
        match h.store.register_feed_source(&m, &new).await.unwrap_err() {
            StoreError::Invalid(v) => {
                assert_eq!(
                    v.0.iter().map(|e| e.code.as_str()).collect::<Vec<_>>(),
                    codes
                )
            }
            other => panic!("{other:?}"),
        }
    }
    // A clerk registers nothing.
    assert!(clerk_a()
        .grant::<jiuzhu_domain::access::ManageFeedSources>()
        .is_err());

    // Deliveries: an unregistered spelling is refused; both banks' files are kept.
    let g = system().grant::<ImportFeeds>().unwrap();
    let mut d = delivery("deposits", false);
    d.source = "威海商行".into();
    match h.store.record_delivery(&g, &d).await.unwrap_err() {
        StoreError::Invalid(v) => assert_eq!(v.0[0].code, "SOURCE_UNREGISTERED"),
        other => panic!("{other:?}"),
    }
    let deliver = |source: &str, day: u32, sha: &str| {
        let mut d = delivery("deposits", false);
        d.source = source.into();
        d.data_date = date(2026, 2, day);
        d.sha256 = sha.repeat(32);
        d
    };
    let (a1, _) = h
        .store
        .record_delivery(&g, &deliver("WHBANK", 1, "a1"))
        .await
        .unwrap();
    let (a2, _) = h
        .store
        .record_delivery(&g, &deliver("WHBANK", 20, "a2"))
        .await
        .unwrap();
    let (b1, _) = h
        .store
        .record_delivery(&g, &deliver("ICBC", 10, "b1"))
        .await
        .unwrap();
    assert!(a1.id < a2.id);
    let r = system().grant::<RunVerification>().unwrap();
    let latest = h
        .store
        .deliveries_for_run(&r, &code("371002"), date(2026, 2, 28))
        .await
        .unwrap();
    let got: Vec<(String, Option<i64>)> = latest
        .iter()
        .map(|s| (s.source.code.clone(), s.latest.as_ref().map(|d| d.id)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ICBC".to_string(), Some(b1.id)),
            ("WHBANK".to_string(), Some(a2.id))
        ]
    );
    // The neighbouring county's run does not count this county's banks.
    assert!(h
        .store
        .deliveries_for_run(&r, &code("371003"), date(2026, 2, 28))
        .await
        .unwrap()
        .is_empty());

    // Retired: not read, not delivered to; a stale change is a conflict.
    let change = crate::FeedSourceChange {
        name: "工商银行威海分行".into(),
        accounts: Vec::new(),
        retired: true,
        row_version: b.row_version,
    };
    let retired = h.store.change_feed_source(&m, b.id, &change).await.unwrap();
    assert!(retired.retired);
    assert_eq!(retired.name, "工商银行威海分行");
    assert!(matches!(
        h.store.change_feed_source(&m, b.id, &change).await,
        Err(StoreError::Conflict { .. })
    ));
    match h
        .store
        .record_delivery(&g, &deliver("ICBC", 21, "b2"))
        .await
        .unwrap_err()
    {
        StoreError::Invalid(v) => assert_eq!(v.0[0].code, "SOURCE_RETIRED"),
        other => panic!("{other:?}"),
    }
    let latest = h
        .store
        .deliveries_for_run(&r, &code("371002"), date(2026, 2, 28))
        .await
        .unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].source.code, "WHBANK");

    let a = system().grant::<ReadAudit>().unwrap();
    let log = h
        .store
        .audit_log(
            &a,
            &AuditQuery {
                action: Some(AuditAction::FeedSourceChanged),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 3);

    // Back in service: read again.
    let back = crate::FeedSourceChange {
        retired: false,
        row_version: retired.row_version,
        ..change
    };
    assert!(
        !h.store
            .change_feed_source(&m, b.id, &back)
            .await
            .unwrap()
            .retired
    );
    let latest = h
        .store
        .deliveries_for_run(&r, &code("371002"), date(2026, 2, 28))
        .await
        .unwrap();
    assert_eq!(latest.len(), 2);
}
