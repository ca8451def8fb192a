//! Conformance case of verification reports (核对报告): kept with the SHA-256 of the JSON text
//! stored, listed newest first through the case's scope, audited, append-only.

use jiuzhu_domain::access::{ActOnCase, ReadAudit, ReadCases, RegisterApplication};
use jiuzhu_domain::{AuditAction, Role};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::cases::{approver, household, new_case};
use super::{date, staff, start_time, system, with_tree, Harness, TOWN_B, VILLAGE_A};
use crate::prelude::*;
use crate::verification_reports::NewVerificationReport;
use crate::{AuditQuery, StoreError};

pub async fn verification_reports_kept_scoped_and_append_only(h: Harness) {
    with_tree(&h).await;
    let (hh, person) = household(&h, VILLAGE_A, 41, "371002001").await;
    let reg = super::clerk_a().grant::<RegisterApplication>().unwrap();
    let case = h
        .store
        .register_case(&reg, &new_case(hh, person))
        .await
        .unwrap();
    let act = approver().grant::<ActOnCase>().unwrap();
    let report = json!({"verdict": "fail", "totals": {"deposits": "60000.01"},
        "members": [{"name": "申请人", "id_masked": "371002************"}]});
    let new = NewVerificationReport {
        case_id: case.id,
        as_of: date(2026, 3, 1),
        delivery_ids: vec![3, 1],
        verdict: "fail".into(),
        report: report.clone(),
    };
    let first = h
        .store
        .record_verification_report(&act, &new)
        .await
        .unwrap();
    assert_eq!(first.id, 1);
    assert_eq!(first.case_id, case.id);
    assert_eq!(first.household_id, hh);
    assert_eq!(first.division, VILLAGE_A);
    assert_eq!(first.generated_by, "approver");
    assert_eq!(first.generated_by_id, Some(904));
    assert_eq!(first.generated_at, start_time());
    assert_eq!(first.delivery_ids, vec![3, 1]);
    assert_eq!(first.report, report);
    let text = serde_json::to_string(&report).unwrap();
    assert_eq!(first.sha256, hex::encode(Sha256::digest(text.as_bytes())));
    assert!(first.reference().starts_with("核对报告#1(SHA-256 "));

    // A bad verdict is refused; a second report is a new row, listed first.
    let err = h
        .store
        .record_verification_report(
            &act,
            &NewVerificationReport {
                verdict: "ok".into(),
                ..new.clone()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(v) if v.0[0].code == "REPORT_VERDICT"));
    let second = h
        .store
        .record_verification_report(
            &act,
            &NewVerificationReport {
                verdict: "pass".into(),
                ..new.clone()
            },
        )
        .await
        .unwrap();
    let read = approver().grant::<ReadCases>().unwrap();
    let listed = h.store.verification_reports(&read, case.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second.id, 1]
    );
    assert_eq!(listed[1], first);

    // Another township sees nothing and cannot add to the case.
    let other = staff(990, "clerk_b2", Role::TownshipReviewer, TOWN_B);
    assert!(h
        .store
        .verification_reports(&other.grant::<ReadCases>().unwrap(), case.id)
        .await
        .unwrap()
        .is_empty());
    let err = h
        .store
        .record_verification_report(&other.grant::<ActOnCase>().unwrap(), &new)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { kind: "case", .. }));

    // Audited with what was read and the result, not the findings.
    let log = h
        .store
        .audit_log(
            &system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                action: Some(AuditAction::VerificationReportGenerated),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 2);
    let ev = log
        .items
        .iter()
        .find(|e| e.entry.record_id.as_deref() == Some("1"))
        .unwrap();
    let after = ev.entry.after.as_ref().unwrap();
    assert_eq!(after["deliveries"], json!([3, 1]));
    assert_eq!(after["verdict"], "fail");
    assert_eq!(after["sha256"], first.sha256.as_str());
    assert!(after.get("totals").is_none());

    // The database itself refuses changes.
    for sql in [
        "UPDATE verification_reports SET verdict = 'pass' WHERE id = 1",
        "DELETE FROM verification_reports WHERE id = 1",
    ] {
        assert!(h.store.execute_raw(sql).await.is_err(), "{sql} was allowed");
    }
    assert_eq!(
        h.store.verification_reports(&read, case.id).await.unwrap()[1],
        first
    );
}
