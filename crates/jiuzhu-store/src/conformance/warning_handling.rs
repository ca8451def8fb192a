//! Conformance cases of handling warnings (migration 0011): due dates as the caller computed
//! them, the inbox filters, closing with a visit date, zero reports refused while warnings are
//! open, and the month's dashboard counts.

use chrono::{Duration, TimeZone, Utc};
use jiuzhu_domain::access::{HandleWarnings, ReadAudit, RunVerification, WriteRegistry};
use jiuzhu_domain::{Area, AuditAction, HouseholdFacts, HouseholdId, Relation, Role};

use super::{
    clerk_a, clerk_b, code, date, facts, id_number, reads, staff, start_time, system, with_tree,
    Harness, TOWN_A, TOWN_B, VILLAGE_A, VILLAGE_B,
};
use crate::prelude::*;
use crate::{
    AuditQuery, CloseWarning, InboxQuery, InboxStatus, NewHousehold, NewRun, NewWarning,
    NewZeroReport, StoreError, WarningQuery, ZeroReportKind,
};

fn county() -> jiuzhu_domain::Actor {
    staff(903, "county_c", Role::CountyApprover, "371002")
}

/// A household under `division` whose head has identity number `seq`; returns its id and code.
async fn household(h: &Harness, division: &str, seq: u32) -> (HouseholdId, String) {
    let w = system().grant::<WriteRegistry>().unwrap();
    let hh = h
        .store
        .create_household(
            &w,
            &NewHousehold {
                code: None,
                facts: HouseholdFacts {
                    address: "测试路2号".into(),
                    division: code(division),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    let id = id_number("371002", "19800101", seq);
    let p = h
        .store
        .create_person(&w, &id, &facts(&id, "成员", division), date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .add_member(&w, hh.id, p.id, Relation::Head, date(2025, 1, 1), None)
        .await
        .unwrap();
    (hh.id, hh.code)
}

fn warning(household_id: HouseholdId, division: &str, kind: &str, person: &str) -> NewWarning {
    NewWarning {
        household_id,
        kind: kind.into(),
        division: code(division),
        evidence: format!(
            r#"{{"source":"deposits","delivery":1,"data_date":"2026-02-28","row":2,"person":"{person}","value":"95000.00","threshold":"30000.00","records":1}}"#
        ),
        facts: crate::warning_facts(person, "95000.00"),
    }
}

async fn run(h: &Harness, month: &str, due: chrono::NaiveDate, warnings: &[NewWarning]) {
    let r = system().grant::<RunVerification>().unwrap();
    h.store
        .store_run(
            &r,
            &NewRun {
                month: month.into(),
                division: code("371002"),
                started_at: start_time(),
                delivery_ids: vec![],
                households: 3,
                due,
            },
            warnings,
        )
        .await
        .unwrap();
}

fn inbox(today: chrono::NaiveDate) -> InboxQuery {
    InboxQuery {
        month: None,
        kind: None,
        status: None,
        division: None,
        household: None,
        run_id: None,
        today,
        limit: 50,
        offset: 0,
    }
}

async fn total(h: &Harness, g: &jiuzhu_domain::Grant<HandleWarnings>, q: InboxQuery) -> i64 {
    h.store.warning_inbox(&reads(g), &q).await.unwrap().total
}

fn no_effect(note: &str) -> CloseWarning {
    CloseWarning {
        result: crate::WarningResult::NoEffect,
        note: note.into(),
        visit_date: None,
        attachments: vec![],
    }
}

fn code_of(e: &StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v.0[0].code.clone(),
        other => format!("{other:?}"),
    }
}

pub async fn warning_handling_due_inbox_and_zero_report(h: Harness) {
    with_tree(&h).await;
    let (ha, _) = household(&h, VILLAGE_A, 11).await;
    let (hb, hb_code) = household(&h, VILLAGE_B, 12).await;
    let ha_id = id_number("371002", "19800101", 11);

    // The due dates are the caller's (computed on the working-day calendar), stored as given.
    run(
        &h,
        "2026-01",
        date(2026, 2, 10),
        &[warning(ha, VILLAGE_A, "VEHICLE", "371002********0111")],
    )
    .await;
    run(
        &h,
        "2026-02",
        date(2026, 3, 13),
        &[
            warning(ha, VILLAGE_A, "DEPOSIT", "371002********0111"),
            warning(ha, VILLAGE_A, "DEATH", "371002********0111"),
            warning(hb, VILLAGE_B, "DEPOSIT", "371002********0122"),
        ],
    )
    .await;
    let gc = county().grant::<HandleWarnings>().unwrap();
    let today = date(2026, 3, 1);
    let all = h
        .store
        .warning_inbox(&reads(&gc), &inbox(today))
        .await
        .unwrap();
    assert_eq!(all.total, 4);
    let dues: Vec<_> = all
        .items
        .iter()
        .map(|w| (w.month.as_str(), w.due))
        .collect();
    assert_eq!(
        dues,
        vec![
            ("2026-01", date(2026, 2, 10)),
            ("2026-02", date(2026, 3, 13)),
            ("2026-02", date(2026, 3, 13)),
            ("2026-02", date(2026, 3, 13)),
        ]
    );

    // Filters: overdue (open and past due on `today`), month, village, household number,
    // masked number of the evidence, a member's full identity number.
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                status: Some(InboxStatus::Overdue),
                ..inbox(today)
            }
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                status: Some(InboxStatus::Overdue),
                ..inbox(date(2026, 2, 10))
            }
        )
        .await,
        0,
        "a warning is not overdue on its due day"
    );
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                month: Some("2026-02".into()),
                ..inbox(today)
            }
        )
        .await,
        3
    );
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                division: Some(code(VILLAGE_B)),
                ..inbox(today)
            }
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                household: Some(hb_code.clone()),
                ..inbox(today)
            }
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                household: Some("371002********0111".into()),
                ..inbox(today)
            }
        )
        .await,
        3
    );
    assert_eq!(
        total(
            &h,
            &gc,
            InboxQuery {
                household: Some(ha_id.as_str().into()),
                kind: Some("DEPOSIT".into()),
                ..inbox(today)
            }
        )
        .await,
        1
    );
    // A township sees its own only.
    let gb = clerk_b().grant::<HandleWarnings>().unwrap();
    let b_list = h
        .store
        .warning_inbox(&reads(&gb), &inbox(today))
        .await
        .unwrap();
    assert_eq!(b_list.total, 1);
    assert_eq!(b_list.items[0].household_id, hb);

    // Zero report: refused while the village has an open warning of the month.
    let zero = |division: &str, month: &str| NewZeroReport {
        division: code(division),
        month: month.into(),
        note: "经核查无变化".into(),
    };
    let err = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B, "2026-02"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ZERO_REPORT_OPEN_WARNINGS");

    // Closing checks the visit date and the attachments, and keeps them.
    let target = &b_list.items[0];
    let err = h
        .store
        .close_warning(
            &gb,
            target.id,
            target.row_version,
            &CloseWarning {
                visit_date: Some(date(2026, 3, 2)),
                ..no_effect("入户核实")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "VISIT_DATE_FUTURE");
    let err = h
        .store
        .close_warning(
            &gb,
            target.id,
            target.row_version,
            &CloseWarning {
                attachments: vec![999],
                ..no_effect("入户核实")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ATTACHMENT_NOT_OF_HOUSEHOLD");
    // "Today" is Beijing's: at 02:00 on 2 March in Beijing (18:00 UTC on 1 March) a visit that
    // day is not in the future.
    let before = jiuzhu_domain::Clock::now(&h.clock);
    h.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 1, 18, 0, 0)
            .single()
            .unwrap(),
    );
    let closed = h
        .store
        .close_warning(
            &gb,
            target.id,
            target.row_version,
            &CloseWarning {
                visit_date: Some(date(2026, 3, 2)),
                ..no_effect("入户核实,存款为代管的亲属款项")
            },
        )
        .await
        .unwrap();
    h.clock.set(before);
    assert_eq!(closed.visit_date, Some(date(2026, 3, 2)));
    assert!(closed.attachments.is_empty());

    let filed = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B, "2026-02"))
        .await
        .unwrap();
    assert_eq!(filed.kind, ZeroReportKind::AllHandled);
    assert_eq!(filed.warnings, 1);
    assert_eq!(filed.filed_by, "clerk_b");
    assert_eq!(filed.filed_at, start_time());
    let err = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B, "2026-02"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ZERO_REPORT_EXISTS");
    // Outside the scope: not found; not a village: refused; a month to come: refused.
    let ga = clerk_a().grant::<HandleWarnings>().unwrap();
    let err = h
        .store
        .file_zero_report(&ga, &zero(VILLAGE_B, "2026-01"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let err = h
        .store
        .file_zero_report(&ga, &zero(TOWN_A, "2026-02"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ZERO_REPORT_LEVEL");
    let err = h
        .store
        .file_zero_report(&ga, &zero(VILLAGE_A, "2026-04"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "MONTH_FUTURE");
    let quiet = h
        .store
        .file_zero_report(&ga, &zero(VILLAGE_A, "2025-12"))
        .await
        .unwrap();
    assert_eq!(quiet.kind, ZeroReportKind::NoWarnings);
    assert_eq!(quiet.warnings, 0);

    // Who has filed for February: B (all handled), not A (February's two open, and January's
    // vehicle, open still).
    let status = h
        .store
        .zero_report_status(&reads(&gc), "2026-02", None)
        .await
        .unwrap();
    let brief: Vec<_> = status
        .iter()
        .map(|s| {
            (
                s.division.as_str(),
                s.township_name.as_str(),
                s.warnings,
                s.open,
                s.report.as_ref().map(|r| r.kind),
            )
        })
        .collect();
    assert_eq!(
        brief,
        vec![
            (VILLAGE_A, "环翠楼街道", 2, 3, None),
            (
                VILLAGE_B,
                "鲸园街道",
                1,
                0,
                Some(ZeroReportKind::AllHandled)
            ),
        ]
    );
    let a_only = h
        .store
        .zero_report_status(&reads(&ga), "2026-02", None)
        .await
        .unwrap();
    assert_eq!(a_only.len(), 1);

    // Append-only in the database itself; each filing audited.
    for sql in [
        "UPDATE zero_reports SET note = 'x'",
        "DELETE FROM zero_reports",
    ] {
        assert!(h.store.execute_raw(sql).await.is_err(), "{sql} was allowed");
    }
    let log = h
        .store
        .audit_log(
            &system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                action: Some(AuditAction::ZeroReportFiled),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 2);
    assert_eq!(log.items[1].entry.division.as_deref(), Some(VILLAGE_B));

    // A later run of February finds a new warning in B: B's report stays on file as filed but
    // no longer holds.
    run(
        &h,
        "2026-02",
        date(2026, 3, 25),
        &[warning(hb, VILLAGE_B, "VEHICLE", "371002********0122")],
    )
    .await;
    let status = h
        .store
        .zero_report_status(&reads(&gc), "2026-02", None)
        .await
        .unwrap();
    let b = status.iter().find(|s| s.division == VILLAGE_B).unwrap();
    assert_eq!((b.warnings, b.open), (2, 1));
    assert_eq!(b.report.as_ref().map(|r| r.warnings), Some(1));
    assert!(b.superseded);
    assert!(
        !status
            .iter()
            .find(|s| s.division == VILLAGE_A)
            .unwrap()
            .superseded
    );
    // Not again while the new warning is open; once it is handled, B reports anew, and then
    // once only.
    let err = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B, "2026-02"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ZERO_REPORT_OPEN_WARNINGS");
    let new = h
        .store
        .list_warnings(
            &reads(&gb),
            &WarningQuery {
                status: Some("open".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .remove(0);
    h.store
        .close_warning(&gb, new.id, new.row_version, &no_effect("车辆已于上月过户"))
        .await
        .unwrap();
    let again = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B, "2026-02"))
        .await
        .unwrap();
    assert_eq!(
        (again.kind, again.warnings),
        (ZeroReportKind::AllHandled, 2)
    );
    let err = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B, "2026-02"))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ZERO_REPORT_EXISTS");
    let status = h
        .store
        .zero_report_status(&reads(&gc), "2026-02", None)
        .await
        .unwrap();
    let b = status.iter().find(|s| s.division == VILLAGE_B).unwrap();
    assert_eq!(b.report.as_ref().map(|r| r.id), Some(again.id));
    assert!(!b.superseded);
}

pub async fn warning_handling_dashboard_counts(h: Harness) {
    with_tree(&h).await;
    let (ha, _) = household(&h, VILLAGE_A, 21).await;
    let (hb, _) = household(&h, VILLAGE_B, 22).await;
    run(
        &h,
        "2026-02",
        date(2026, 3, 5),
        &[
            warning(ha, VILLAGE_A, "DEPOSIT", "371002********0211"),
            warning(ha, VILLAGE_A, "DEATH", "371002********0211"),
            warning(hb, VILLAGE_B, "DEPOSIT", "371002********0222"),
            warning(hb, VILLAGE_B, "VEHICLE", "371002********0222"),
        ],
    )
    .await;
    // Another month's warning never counts in February's dashboard.
    run(
        &h,
        "2026-01",
        date(2026, 2, 5),
        &[warning(hb, VILLAGE_B, "DEPOSIT", "371002********0222")],
    )
    .await;
    let gc = county().grant::<HandleWarnings>().unwrap();
    let feb = |kind: &str, division: &str| InboxQuery {
        month: Some("2026-02".into()),
        kind: Some(kind.into()),
        division: Some(code(division)),
        ..inbox(date(2026, 3, 1))
    };
    let a_dep = h
        .store
        .warning_inbox(&reads(&gc), &feb("DEPOSIT", TOWN_A))
        .await
        .unwrap()
        .items
        .remove(0);
    let b_dep = h
        .store
        .warning_inbox(&reads(&gc), &feb("DEPOSIT", TOWN_B))
        .await
        .unwrap()
        .items
        .remove(0);
    // On time: closed on 2026-03-01, due 03-05. Late: closed on 03-10.
    h.store
        .close_warning(&gc, a_dep.id, a_dep.row_version, &no_effect("核实无影响"))
        .await
        .unwrap();
    h.clock
        .set(Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).single().unwrap());
    h.store
        .close_warning(
            &gc,
            b_dep.id,
            b_dep.row_version,
            &CloseWarning {
                result: crate::WarningResult::Refer,
                ..no_effect("转民政局核查")
            },
        )
        .await
        .unwrap();
    h.clock.advance(Duration::hours(1));

    let d = h
        .store
        .verification_dashboard(&reads(&gc), "2026-02", date(2026, 3, 10))
        .await
        .unwrap();
    let cells: Vec<_> = d
        .cells
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.township.as_str(),
                c.township_name.as_str(),
                [c.total, c.open, c.overdue, c.closed_on_time, c.closed_late],
            )
        })
        .collect();
    assert_eq!(
        cells,
        vec![
            ("DEATH", TOWN_A, "环翠楼街道", [1, 1, 1, 0, 0]),
            ("DEPOSIT", TOWN_A, "环翠楼街道", [1, 0, 0, 1, 0]),
            ("DEPOSIT", TOWN_B, "鲸园街道", [1, 0, 0, 0, 1]),
            ("VEHICLE", TOWN_B, "鲸园街道", [1, 1, 1, 0, 0]),
        ]
    );
    assert_eq!(d.results.len(), 2);
    assert_eq!(d.results["no_effect"], 1);
    assert_eq!(d.results["refer"], 1);
    assert_eq!((d.zero_report_divisions, d.zero_reports_filed), (2, 0));
    // Before the due date nothing is overdue.
    let early = h
        .store
        .verification_dashboard(&reads(&gc), "2026-02", date(2026, 3, 5))
        .await
        .unwrap();
    assert_eq!(early.cells.iter().map(|c| c.overdue).sum::<i64>(), 0);

    // A township's dashboard is its own; its village files and is counted.
    let ga = clerk_a().grant::<HandleWarnings>().unwrap();
    let a = h
        .store
        .verification_dashboard(&reads(&ga), "2026-02", date(2026, 3, 10))
        .await
        .unwrap();
    assert_eq!(a.cells.len(), 2);
    assert!(a.cells.iter().all(|c| c.township == TOWN_A));
    assert_eq!(a.results.get("refer"), None);
    assert_eq!((a.zero_report_divisions, a.zero_reports_filed), (1, 0));
    let gb = clerk_b().grant::<HandleWarnings>().unwrap();
    let open_b = h
        .store
        .warning_inbox(
            &reads(&gb),
            &InboxQuery {
                month: Some("2026-02".into()),
                status: Some(InboxStatus::Open),
                ..inbox(date(2026, 3, 10))
            },
        )
        .await
        .unwrap();
    assert_eq!(open_b.total, 1);
    let v = &open_b.items[0];
    h.store
        .close_warning(&gb, v.id, v.row_version, &no_effect("车辆已过户"))
        .await
        .unwrap();
    h.store
        .file_zero_report(
            &gb,
            &NewZeroReport {
                division: code(VILLAGE_B),
                month: "2026-02".into(),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let d = h
        .store
        .verification_dashboard(&reads(&gc), "2026-02", date(2026, 3, 10))
        .await
        .unwrap();
    assert_eq!((d.zero_report_divisions, d.zero_reports_filed), (2, 1));
    assert_eq!(d.results["no_effect"], 2);
}

/// A run stored with `warnings` for `month`, returning the run.
async fn run_of(h: &Harness, month: &str, warnings: &[NewWarning]) -> crate::VerificationRun {
    h.store
        .store_run(
            &system().grant::<RunVerification>().unwrap(),
            &NewRun {
                month: month.into(),
                division: code("371002"),
                started_at: start_time(),
                delivery_ids: vec![],
                households: 2,
                due: date(2026, 3, 31),
            },
            warnings,
        )
        .await
        .unwrap()
}

/// Issue 12, point 3: a warning is (household, kind, facts). Running a month again doubles
/// nothing; what was closed on the same facts is not raised again; changed facts are; what is
/// open from an earlier month is counted as still open and keeps the village from a zero report.
pub async fn warning_handling_runs_build_on_each_other(h: Harness) {
    with_tree(&h).await;
    let (ha, _) = household(&h, VILLAGE_A, 31).await;
    let (hb, _) = household(&h, VILLAGE_B, 32).await;
    let deposit = warning(ha, VILLAGE_A, "DEPOSIT", "371002********0311");
    let death = warning(hb, VILLAGE_B, "DEATH", "371002********0322");
    let first = run_of(&h, "2026-01", &[deposit.clone(), death.clone()]).await;
    assert_eq!(first.warnings, 2);

    // The same month again: both found, neither raised again, both still open since January.
    let again = run_of(&h, "2026-01", &[deposit.clone(), death.clone()]).await;
    assert_eq!((again.warnings, again.counts.len()), (0, 0));
    assert_eq!(again.carried.found["DEPOSIT"], 1);
    assert_eq!(again.carried.found["DEATH"], 1);
    let open = |k: &str| {
        let s = &again.carried.still_open[k];
        (s.count, s.since.clone())
    };
    assert_eq!(open("DEPOSIT"), (1, "2026-01".to_string()));
    assert_eq!(open("DEATH"), (1, "2026-01".to_string()));
    let gc = county().grant::<HandleWarnings>().unwrap();
    let today = date(2026, 3, 1);
    assert_eq!(total(&h, &gc, inbox(today)).await, 2, "nothing doubled");

    // Warnings stored before migration 0021 get their facts at the next start, and are then
    // recognised like any other.
    h.store
        .execute_raw("UPDATE warnings SET facts = 0")
        .await
        .unwrap();
    h.store
        .execute_raw("INSERT INTO pending_backfills (name) VALUES ('warning_facts')")
        .await
        .unwrap();
    h.store.run_data_migrations().await.unwrap();
    let after_upgrade = run_of(&h, "2026-01", &[deposit.clone(), death.clone()]).await;
    assert_eq!(after_upgrade.warnings, 0);

    // The death is handled; February finds the same death and the deposit again, and a deposit
    // of another amount.
    let death_warning = h
        .store
        .warning_inbox(
            &reads(&gc),
            &InboxQuery {
                kind: Some("DEATH".into()),
                ..inbox(today)
            },
        )
        .await
        .unwrap()
        .items
        .remove(0);
    h.store
        .close_warning(
            &gc,
            death_warning.id,
            death_warning.row_version,
            &no_effect("已核实"),
        )
        .await
        .unwrap();
    let mut larger = warning(ha, VILLAGE_A, "DEPOSIT", "371002********0311");
    larger.facts = crate::warning_facts("371002********0311", "120000.00");
    let february = run_of(&h, "2026-02", &[deposit.clone(), death.clone(), larger]).await;
    assert_eq!(february.warnings, 1, "only the changed deposit is new");
    assert_eq!(february.counts["DEPOSIT"], 1);
    assert!(!february.counts.contains_key("DEATH"), "closed, same facts");
    assert_eq!(february.carried.found["DEPOSIT"], 2);
    assert_eq!(february.carried.still_open["DEPOSIT"].count, 1);
    assert!(!february.carried.still_open.contains_key("DEATH"));
    assert_eq!(total(&h, &gc, inbox(today)).await, 3);

    // The dashboard of February: the new deposit, and January's still open.
    let d = h
        .store
        .verification_dashboard(&reads(&gc), "2026-02", today)
        .await
        .unwrap();
    let cells: Vec<_> = d
        .cells
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.township.as_str(),
                c.total,
                c.open,
                c.carried_open,
                c.carried_since.as_deref(),
            )
        })
        .collect();
    assert_eq!(cells, vec![("DEPOSIT", TOWN_A, 1, 1, 1, Some("2026-01"))]);

    // Village B's only warning is closed: it reports February as without warnings. Village A
    // may not while January's deposit is open, although it was raised by another month's run.
    let zero = |division: &str| NewZeroReport {
        division: code(division),
        month: "2026-02".into(),
        note: "经核查无变化".into(),
    };
    let gb = clerk_b().grant::<HandleWarnings>().unwrap();
    let filed = h
        .store
        .file_zero_report(&gb, &zero(VILLAGE_B))
        .await
        .unwrap();
    assert_eq!(filed.kind, ZeroReportKind::NoWarnings);
    let ga = clerk_a().grant::<HandleWarnings>().unwrap();
    let err = h
        .store
        .file_zero_report(&ga, &zero(VILLAGE_A))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "ZERO_REPORT_OPEN_WARNINGS");
    let status = h
        .store
        .zero_report_status(&reads(&gc), "2026-02", None)
        .await
        .unwrap();
    let a = status.iter().find(|s| s.division == VILLAGE_A).unwrap();
    assert_eq!((a.warnings, a.open), (1, 2));
}
