//! Conformance case of the working-day calendar edits (migration 0008): county managers only,
//! seq order, optimistic concurrency, one audit event each, append-only rows.

use jiuzhu_domain::access::{ManageCalendar, ReadRegistry};
use jiuzhu_domain::{AuditAction, Role};

use super::{all_events, clerk_a, date, staff, start_time, verify_chain, Harness};
use crate::prelude::*;
use crate::{CalendarEditKind, NewCalendarEdit, StoreError};

fn local_holiday() -> NewCalendarEdit {
    NewCalendarEdit {
        kind: CalendarEditKind::AddHoliday,
        date: Some(date(2026, 11, 25)),
        year: None,
        name: "本地停工".into(),
        overlay: "[[add]]\ndate = \"2026-11-25\"\nkind = \"holiday\"\nname = \"本地停工\"\n".into(),
        reason: "台风停工通知".into(),
    }
}

pub async fn calendar_edits_record_list_conflict(h: Harness) {
    for role in Role::ALL.iter().filter(|r| **r != Role::CountyManager) {
        assert!(staff(7, "x", *role, "371000")
            .grant::<ManageCalendar>()
            .is_err());
    }
    let g = staff(11, "admin11", Role::CountyManager, "000000")
        .grant::<ManageCalendar>()
        .unwrap();
    let read = clerk_a().grant::<ReadRegistry>().unwrap();
    assert!(h.store.calendar_edits(&read).await.unwrap().is_empty());
    let n0 = all_events(&h.store).await.len();

    let e1 = h
        .store
        .record_calendar_edit(&g, 0, &local_holiday())
        .await
        .unwrap();
    assert_eq!(e1.seq, 1);
    assert_eq!(e1.kind, CalendarEditKind::AddHoliday);
    assert_eq!(e1.date, Some(date(2026, 11, 25)));
    assert_eq!(e1.user_name, "admin11");
    assert_eq!(e1.recorded_at, start_time());
    assert_eq!(e1.overlay_name(), "管理员调整#1");

    // A stale expectation: the overlay was checked against an older calendar.
    let err = h
        .store
        .record_calendar_edit(&g, 0, &local_holiday())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                kind: "calendar",
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );

    let year = NewCalendarEdit {
        kind: CalendarEditKind::Year,
        date: None,
        year: Some(2027),
        name: "国务院办公厅关于2027年部分节假日安排的通知".into(),
        overlay: "[[year]]\nyear = 2027\n".into(),
        reason: "通知已发布".into(),
    };
    let e2 = h.store.record_calendar_edit(&g, 1, &year).await.unwrap();
    assert_eq!((e2.seq, e2.year, e2.date), (2, Some(2027), None));

    // Required fields are named.
    let mut bad = local_holiday();
    bad.reason = " ".into();
    bad.date = None;
    match h.store.record_calendar_edit(&g, 2, &bad).await.unwrap_err() {
        StoreError::Invalid(v) => {
            let fields: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(fields, ["reason", "date"]);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let all = h.store.calendar_edits(&read).await.unwrap();
    assert_eq!(all, vec![e1.clone(), e2]);

    let events = all_events(&h.store).await;
    assert_eq!(events.len(), n0 + 2);
    let ev = &events[n0];
    assert_eq!(ev.entry.action, AuditAction::CalendarEdited);
    assert_eq!(ev.entry.record_kind, "calendar_edit");
    assert_eq!(ev.entry.record_id.as_deref(), Some("1"));
    assert_eq!(ev.entry.actor_user_id, Some(11));
    let after = ev.entry.after.as_ref().unwrap();
    assert_eq!(after["date"], "2026-11-25");
    assert_eq!(after["kind"], "add_holiday");
    assert_eq!(after["reason"], "台风停工通知");
    verify_chain(&events);

    for sql in [
        "UPDATE calendar_overlays SET name = 'x'",
        "DELETE FROM calendar_overlays",
    ] {
        assert!(
            h.store.execute_raw(sql).await.is_err(),
            "{sql} must be refused"
        );
    }
    assert_eq!(h.store.calendar_edits(&read).await.unwrap().len(), 2);
}

/// An edit applies in the jurisdiction of whoever recorded it: a county's local holiday is the
/// county's, an edit of a user bound to the nation is everyone's.
pub async fn calendar_edits_apply_in_their_jurisdiction(h: Harness) {
    let county = staff(12, "county12", Role::CountyManager, "371002")
        .grant::<ManageCalendar>()
        .unwrap();
    let nation = staff(11, "admin11", Role::CountyManager, "000000")
        .grant::<ManageCalendar>()
        .unwrap();
    let local = h
        .store
        .record_calendar_edit(&county, 0, &local_holiday())
        .await
        .unwrap();
    let here = jiuzhu_domain::DivisionCode::parse("371002001").unwrap();
    let elsewhere = jiuzhu_domain::DivisionCode::parse("371003").unwrap();
    assert_eq!(local.division.as_ref().map(|d| d.as_str()), Some("371002"));
    assert!(local.applies_in(&here));
    assert!(!local.applies_in(&elsewhere));
    let mut national = local_holiday();
    national.date = Some(date(2026, 11, 26));
    let everywhere = h
        .store
        .record_calendar_edit(&nation, 1, &national)
        .await
        .unwrap();
    assert_eq!(everywhere.division, None);
    assert!(everywhere.applies_in(&elsewhere));

    // Read back as recorded; the audit event carries the county, so its auditors see it.
    let read = clerk_a().grant::<ReadRegistry>().unwrap();
    assert_eq!(
        h.store.calendar_edits(&read).await.unwrap(),
        vec![local, everywhere]
    );
    let events = all_events(&h.store).await;
    let ev = events
        .iter()
        .find(|e| e.entry.action == AuditAction::CalendarEdited)
        .unwrap();
    assert_eq!(ev.entry.division.as_deref(), Some("371002"));
}

/// The seqs another process reads to know whether its parameters are stale: they move with
/// every policy revision and every calendar edit, and only with those.
pub async fn parameter_seqs_follow_writes(h: Harness) {
    let seqs = |policy, calendar| crate::ParameterSeqs { policy, calendar };
    assert_eq!(h.store.parameter_seqs().await.unwrap(), seqs(0, 0));
    let manager = staff(11, "admin11", Role::CountyManager, "000000");
    let g = manager.grant::<ManageCalendar>().unwrap();
    h.store
        .record_calendar_edit(&g, 0, &local_holiday())
        .await
        .unwrap();
    assert_eq!(h.store.parameter_seqs().await.unwrap(), seqs(0, 1));
    let g = manager
        .grant::<jiuzhu_domain::access::ManagePolicies>()
        .unwrap();
    let r1 = h
        .store
        .record_policy_revision(&g, 0, &super::weihai_850())
        .await
        .unwrap();
    assert_eq!(h.store.parameter_seqs().await.unwrap(), seqs(r1.seq, 1));
    let mut later = super::weihai_850();
    later.value = "900".into();
    let r2 = h
        .store
        .record_policy_revision(&g, r1.seq, &later)
        .await
        .unwrap();
    assert_eq!(h.store.parameter_seqs().await.unwrap(), seqs(r2.seq, 1));
}
