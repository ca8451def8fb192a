//! Conformance cases of privacy beyond the person page (docs/security.md): department-bound
//! actors read the cases referred to their department only, protected cases (R-PR-7) only the
//! roles that handle them and auditors, sensitive evidence and financial assets come masked
//! until an audited reveal, and events about no record carry the actor's jurisdiction.

use jiuzhu_domain::access::{
    ActOnCase, ImportCaseload, ImportFeeds, ReadAudit, ReadCases, ReadRegistry, ReadVerification,
    RegisterApplication, RevealSensitive, RunVerification, WriteRegistry,
};
use jiuzhu_domain::{Actor, AuditAction, Department, HouseholdEconomics, HouseholdId, Money, Role};
use serde_json::json;

use super::cases::{household, new_case, step};
use super::{
    all_deliveries, clerk_a, clerk_b, date, new_user, register_test_sources, staff, system,
    with_tree, Harness, TOWN_A, VILLAGE_A, VILLAGE_B,
};
use crate::prelude::*;
use crate::{
    AuditQuery, CaseId, CaseQuery, CaseRecord, DeliveryReader, DocumentQuery, NewDelivery,
    NewDocument, NewRun, NewWarning, OpenStepRow, OwnerKind, StoreError, TaskQuery, WarningQuery,
};

fn officer(department: Option<Department>) -> Actor {
    let mut a = staff(910, "officer", Role::DepartmentOfficer, "371002");
    a.department = department;
    a
}

/// Registers a case of `workflow` for a new household of `division`.
async fn case_of(
    h: &Harness,
    seq: u32,
    division: &str,
    workflow: &str,
    protected: bool,
) -> CaseRecord {
    let (hh, person) = household(h, division, seq, TOWN_A).await;
    let mut c = new_case(hh, person);
    c.workflow = workflow.into();
    c.flags.protected = protected;
    if let Some(d) = workflow.strip_prefix("referral_") {
        c.program = format!("{d}转介");
        let department = match d {
            "medical" => "medical_insurance",
            "employment" => "human_resources",
            other => other,
        };
        c.department = jiuzhu_domain::Department::parse(department);
        c.open_steps = vec![OpenStepRow {
            department: Some(department.into()),
            ..step(
                "handle",
                &["department_officer"],
                "department",
                (2026, 3, 13),
            )
        }];
    }
    let clerk = if division.starts_with(TOWN_A) {
        clerk_a()
    } else {
        clerk_b()
    };
    let g = clerk.grant::<RegisterApplication>().unwrap();
    h.store.register_case(&g, &c).await.unwrap()
}

/// Which of `cases` the actor reads: by get, timeline, and the list.
async fn readable(h: &Harness, actor: &Actor, cases: &[&CaseRecord]) -> Vec<CaseId> {
    let r = actor.grant::<ReadCases>().unwrap();
    let mut got = Vec::new();
    for c in cases {
        let one = h.store.get_case(&r, c.id).await.unwrap();
        let events = h.store.case_events(&r, c.id).await.unwrap();
        assert_eq!(one.is_some(), !events.is_empty(), "{}", c.number);
        if one.is_some() {
            got.push(c.id);
        }
    }
    let mut listed: Vec<CaseId> = h
        .store
        .list_cases(
            &r,
            &CaseQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.id)
        .filter(|id| cases.iter().any(|c| c.id == *id))
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, got, "the list and single reads agree");
    got
}

/// A case's documents the actor lists, and whether it reads one of them.
async fn docs_of(h: &Harness, a: &Actor, case: CaseId, doc: i64) -> (i64, bool) {
    let g = a.grant::<ReadRegistry>().unwrap();
    let listed = h
        .store
        .list_documents(
            &g,
            &DocumentQuery {
                owner: Some((OwnerKind::Case, case)),
                include_withdrawn: true,
                limit: 10,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .total;
    (
        listed,
        h.store.get_document(&g, doc).await.unwrap().is_some(),
    )
}

/// The divisions of the `feed_delivered` events an auditor bound to `root` reads.
async fn deliveries_seen(h: &Harness, root: &str) -> Vec<String> {
    let auditor = staff(913, "auditor", Role::Auditor, root);
    h.store
        .audit_log(
            &auditor.grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                action: Some(AuditAction::FeedDelivered),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.entry.division.clone().unwrap_or_default())
        .collect()
}

pub async fn privacy_cases_by_department_and_protection(h: Harness) {
    with_tree(&h).await;
    let dibao = case_of(&h, 31, VILLAGE_A, "dibao", false).await;
    let medical = case_of(&h, 32, VILLAGE_A, "referral_medical", false).await;
    let education = case_of(&h, 33, VILLAGE_A, "referral_education", false).await;
    let hidden_dibao = case_of(&h, 34, VILLAGE_A, "dibao", true).await;
    let hidden_medical = case_of(&h, 35, VILLAGE_A, "referral_medical", true).await;
    let all = [&dibao, &medical, &education, &hidden_dibao, &hidden_medical];
    // The department comes from the workflow file; the applicant's number comes masked.
    assert_eq!(medical.department.as_deref(), Some("medical_insurance"));
    assert_eq!(education.department.as_deref(), Some("education"));
    assert_eq!(dibao.department, None);
    assert_eq!(medical.applicant_id_masked, "371002************");
    assert_eq!(medical.household_address, "案件路1号");

    // A county medical-insurance officer: the medical referrals, protected or not; nothing else.
    let med = officer(Some(Department::MedicalInsurance));
    assert_eq!(
        readable(&h, &med, &all).await,
        vec![medical.id, hidden_medical.id]
    );
    let r = med.grant::<ReadCases>().unwrap();
    assert!(h
        .store
        .case_decisions(&r, dibao.id)
        .await
        .unwrap()
        .is_empty());
    assert!(h.store.notice_list(&r, None).await.unwrap().is_empty());
    assert!(h.store.filing_list(&r).await.unwrap().is_empty());
    assert!(matches!(
        h.store.reserve_funds(&r).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store
            .reserve_fund_entries(&r, &super::code(TOWN_A), 10)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(h
        .store
        .household_benefits(&r, dibao.household_id)
        .await
        .unwrap()
        .is_empty());
    let queue = h
        .store
        .task_queue(
            &med.grant::<ActOnCase>().unwrap(),
            &TaskQuery {
                level: "department".into(),
                department: Some("medical_insurance".into()),
                below_level: None,
                overdue_before: date(2026, 3, 2),
            },
        )
        .await
        .unwrap();
    let mut queued: Vec<CaseId> = queue.iter().map(|t| t.case_id).collect();
    queued.sort_unstable();
    assert_eq!(queued, vec![medical.id, hidden_medical.id]);
    // Another department's officer reads its own referral only; one of no department nothing.
    assert_eq!(
        readable(&h, &officer(Some(Department::Education)), &all).await,
        vec![education.id]
    );
    assert!(readable(&h, &officer(None), &all).await.is_empty());

    // Protected cases: the roles acting on the workflow (in the responsible division) and
    // auditors. Village assistants and county approvers do not act on a medical referral.
    let assistant = staff(911, "assistant", Role::VillageAssistant, VILLAGE_A);
    let approver = staff(912, "approver", Role::CountyApprover, "371002");
    let auditor = staff(913, "auditor", Role::Auditor, "371002");
    let ids = |cs: &[&CaseRecord]| cs.iter().map(|c| c.id).collect::<Vec<_>>();
    let open = [&dibao, &medical, &education];
    assert_eq!(
        readable(&h, &assistant, &all).await,
        ids(&[&dibao, &medical, &education, &hidden_dibao])
    );
    assert_eq!(
        readable(&h, &approver, &all).await,
        ids(&[&dibao, &medical, &education, &hidden_dibao])
    );
    assert_eq!(readable(&h, &auditor, &all).await, ids(&all));
    assert_eq!(readable(&h, &clerk_a(), &all).await, ids(&all));
    // Outside the jurisdiction nothing, protected or not.
    assert!(readable(&h, &clerk_b(), &open).await.is_empty());

    // A protected case's documents are as hidden as the case.
    let doc = h
        .store
        .add_document(
            &system().grant::<WriteRegistry>().unwrap(),
            &NewDocument {
                owner_kind: OwnerKind::Case,
                owner_id: hidden_medical.id,
                doc_type: "medical".into(),
                file_name: "住院病历.pdf".into(),
                content_type: "application/pdf".into(),
                size_bytes: 10,
                sha256: "c".repeat(64),
                storage_key: format!("sha256/cc/{}", "c".repeat(64)),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let case = hidden_medical.id;
    assert_eq!(docs_of(&h, &assistant, case, doc.id).await, (0, false));
    assert_eq!(docs_of(&h, &clerk_a(), case, doc.id).await, (1, true));
    assert_eq!(docs_of(&h, &auditor, case, doc.id).await, (1, true));
}

pub async fn privacy_department_backfilled_from_the_workflows(h: Harness) {
    with_tree(&h).await;
    let housing = case_of(&h, 41, VILLAGE_A, "referral_housing", false).await;
    let dibao = case_of(&h, 42, VILLAGE_A, "dibao", false).await;
    // A database from before migration 0018: no department on any case, the work pending.
    h.store
        .execute_raw("UPDATE cases SET department = NULL")
        .await
        .unwrap();
    h.store
        .execute_raw("INSERT INTO pending_backfills (name) VALUES ('case_department')")
        .await
        .unwrap();
    let officer = officer(Some(Department::Housing));
    assert!(readable(&h, &officer, &[&housing]).await.is_empty());
    // Migration 0023 does the work of the backfill (the same text in both trees).
    let migration = include_str!("../../migrations/sqlite/0023_case_department_backfill.sql");
    let statements: Vec<String> = migration
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(statements.len(), 5);
    for sql in &statements {
        h.store.execute_raw(sql).await.unwrap();
    }
    assert_eq!(
        readable(&h, &officer, &[&housing, &dibao]).await,
        vec![housing.id]
    );
    let r = system().grant::<ReadCases>().unwrap();
    let back = h.store.get_case(&r, housing.id).await.unwrap().unwrap();
    assert_eq!(back.department.as_deref(), Some("housing"));
    let left = h.store.get_case(&r, dibao.id).await.unwrap().unwrap();
    assert_eq!(left.department, None);
    let pending: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM pending_backfills")
            .fetch_one(h.store.pool())
            .await
            .unwrap(),
        "n",
    )
    .unwrap();
    assert_eq!(pending, 0);
    // Nothing is left for the start to do.
    h.store.run_data_migrations().await.unwrap();
}

fn warning(hh: HouseholdId, division: &str, kind: &str, source: &str, value: &str) -> NewWarning {
    NewWarning {
        household_id: hh,
        kind: kind.into(),
        division: super::code(division),
        evidence: json!({"source": source, "delivery": 1, "data_date": "2026-02-28", "row": 2,
            "person": "371002************", "value": value, "threshold": "30000.00",
            "records": 3})
        .to_string(),
        facts: crate::warning_facts("371002************", value),
    }
}

fn value_of(h: &crate::WarningRecord) -> String {
    h.evidence["value"].as_str().unwrap_or_default().to_string()
}

pub async fn privacy_evidence_masked_until_revealed(h: Harness) {
    with_tree(&h).await;
    let (a, _) = household(&h, VILLAGE_A, 51, TOWN_A).await;
    let (b, _) = household(&h, VILLAGE_B, 52, TOWN_A).await;
    h.store
        .store_run(
            &system().grant::<RunVerification>().unwrap(),
            &NewRun {
                month: "2026-02".into(),
                division: super::code("371002"),
                started_at: super::start_time(),
                delivery_ids: vec![1],
                households: 2,
                due: date(2026, 3, 20),
            },
            &[
                warning(a, VILLAGE_A, "DEPOSIT", "deposits", "95000.00"),
                warning(a, VILLAGE_A, "MEDICAL", "medical_claims", "5000.00"),
                warning(a, VILLAGE_A, "VEHICLE", "vehicles", "car"),
                warning(b, VILLAGE_B, "DEPOSIT", "deposits", "88000.00"),
            ],
        )
        .await
        .unwrap();
    // Every read masks the bank and health values, whoever reads.
    let read = clerk_a().grant::<ReadVerification>().unwrap();
    let list = h
        .store
        .list_warnings(&read, &WarningQuery::default())
        .await
        .unwrap();
    let by_kind = |k: &str| list.items.iter().find(|w| w.kind == k).unwrap().clone();
    assert_eq!(value_of(&by_kind("DEPOSIT")), "***");
    assert_eq!(value_of(&by_kind("MEDICAL")), "***");
    assert_eq!(value_of(&by_kind("VEHICLE")), "car");
    assert_eq!(by_kind("DEPOSIT").evidence["threshold"], "30000.00");
    let deposit = by_kind("DEPOSIT").id;
    let auditor = staff(913, "auditor", Role::Auditor, "371002");
    let one = h
        .store
        .get_warning(&auditor.grant().unwrap(), deposit)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value_of(&one), "***");

    // The reveal shows the value and is in the audit log; outside the scope it is not found
    // and leaves no event.
    let shown = h
        .store
        .reveal_warning(&clerk_a().grant::<RevealSensitive>().unwrap(), deposit)
        .await
        .unwrap();
    assert_eq!(value_of(&shown), "95000.00");
    assert!(matches!(
        h.store
            .reveal_warning(&clerk_b().grant::<RevealSensitive>().unwrap(), deposit)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let log = h
        .store
        .audit_log(
            &auditor.grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                action: Some(AuditAction::SensitiveRevealed),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    let e = &log.items[0].entry;
    assert_eq!(e.actor_name, "clerk_a");
    assert_eq!(e.record_kind, "warning");
    assert_eq!(e.record_id, Some(deposit.to_string()));
    assert_eq!(e.division.as_deref(), Some(VILLAGE_A));
    assert!(!serde_json::to_string(&log.items).unwrap().contains("95000"));
}

pub async fn privacy_financial_assets_revealed_with_audit(h: Harness) {
    with_tree(&h).await;
    let (hh, person) = household(&h, VILLAGE_A, 61, TOWN_A).await;
    let mut e = HouseholdEconomics::default();
    e.members.push(jiuzhu_domain::MemberEconomics {
        person_id: person,
        income: Money::from_yuan(300),
        medical_expense: Money::ZERO,
        disability_expense: Money::ZERO,
        education_expense: Money::ZERO,
        employment_cost: Money::ZERO,
        medical_costs: vec![],
        tekun: None,
    });
    e.assets.financial = Money::from_yuan(12_345);
    h.store
        .save_economics(
            &clerk_a().grant::<WriteRegistry>().unwrap(),
            hh,
            None,
            &e,
            date(2026, 1, 1),
        )
        .await
        .unwrap();
    let shown = h
        .store
        .reveal_economics(
            &clerk_a().grant::<RevealSensitive>().unwrap(),
            hh,
            date(2026, 3, 1),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.economics.assets.financial, Money::from_yuan(12_345));
    assert!(matches!(
        h.store
            .reveal_economics(
                &clerk_b().grant::<RevealSensitive>().unwrap(),
                hh,
                date(2026, 3, 1)
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let log = h
        .store
        .audit_log(
            &system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                action: Some(AuditAction::SensitiveRevealed),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    let ev = &log.items[0].entry;
    assert_eq!(ev.record_kind, "household_economics");
    assert_eq!(ev.record_id, Some(hh.to_string()));
    assert_eq!(ev.division.as_deref(), Some(VILLAGE_A));
    assert!(!serde_json::to_string(&log.items).unwrap().contains("12345"));
}

fn delivery(kind: &str) -> NewDelivery {
    NewDelivery {
        kind: kind.into(),
        source: "数据来源".into(),
        data_date: date(2026, 2, 28),
        sha256: kind.len().to_string().repeat(64)[..64].to_string(),
        bytes: 10,
        rows_total: 2,
        rows_accepted: 1,
        rows_rejected: 1,
        refused: false,
        rejection_policy: "keep_good_rows".into(),
        content_key: format!("feeds/{kind}.csv"),
        rejections: vec![crate::Rejection {
            row: 2,
            column: None,
            code: "COLUMN_COUNT".into(),
            reason: "列数不符".into(),
        }],
    }
}

pub async fn privacy_deliveries_by_reader_and_audited_in_the_county(h: Harness) {
    with_tree(&h).await;
    register_test_sources(h.store.as_ref()).await;
    // The county approver delivers deposits, the medical officer claims for the source its
    // account is bound to.
    let approver = staff(912, "approver", Role::CountyApprover, "371002");
    let user = h
        .store
        .create_user(
            &system().grant().unwrap(),
            &crate::NewUser {
                department: Some(Department::MedicalInsurance),
                ..new_user("officer", Role::DepartmentOfficer, "371002")
            },
        )
        .await
        .unwrap();
    let mut med = officer(Some(Department::MedicalInsurance));
    med.user_id = Some(user.id);
    let sources = h.store.feed_sources(&all_deliveries()).await.unwrap();
    let claims_source = sources
        .iter()
        .find(|s| s.kind == "medical_claims" && s.code == "数据来源")
        .unwrap();
    h.store
        .change_feed_source(
            &system().grant().unwrap(),
            claims_source.id,
            &crate::FeedSourceChange {
                name: claims_source.name.clone(),
                accounts: vec![user.id],
                retired: false,
                row_version: claims_source.row_version,
            },
        )
        .await
        .unwrap();
    // An officer delivers for its own sources only.
    match h
        .store
        .record_delivery(&med.grant().unwrap(), &delivery("deposits"))
        .await
        .unwrap_err()
    {
        StoreError::Invalid(v) => assert_eq!(v.0[0].code, "SOURCE_NOT_YOURS"),
        other => panic!("{other:?}"),
    }
    let (deposits, _) = h
        .store
        .record_delivery(
            &approver.grant::<ImportFeeds>().unwrap(),
            &delivery("deposits"),
        )
        .await
        .unwrap();
    let (claims, _) = h
        .store
        .record_delivery(
            &med.grant::<ImportFeeds>().unwrap(),
            &delivery("medical_claims"),
        )
        .await
        .unwrap();
    // A deliverer limited to its kinds reads nothing of another's delivery.
    let mine = DeliveryReader::Deliverer {
        grant: med.grant().unwrap(),
        kinds: vec!["medical_claims".into()],
    };
    let listed: Vec<i64> = h
        .store
        .list_deliveries(&mine, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, vec![claims.id]);
    assert!(h
        .store
        .get_delivery(&mine, deposits.id)
        .await
        .unwrap()
        .is_none());
    assert!(h
        .store
        .delivery_rejections(&mine, deposits.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        h.store
            .delivery_rejections(&mine, claims.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        h.store
            .list_deliveries(&all_deliveries(), None, 10)
            .await
            .unwrap()
            .len(),
        2
    );

    // Both events carry the county (the actors' jurisdiction): the county's auditor sees them,
    // a township's does not. So does an import of economic records.
    h.store
        .import_economics(
            &approver.grant::<ImportCaseload>().unwrap(),
            date(2026, 1, 1),
            &[],
        )
        .await
        .unwrap();
    let imported = h
        .store
        .audit_log(
            &staff(913, "auditor", Role::Auditor, "371002")
                .grant::<ReadAudit>()
                .unwrap(),
            &AuditQuery {
                action: Some(AuditAction::EconomicsRecorded),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(imported.total, 1);
    assert_eq!(imported.items[0].entry.division.as_deref(), Some("371002"));
    assert_eq!(
        deliveries_seen(&h, "371002").await,
        vec!["371002", "371002"]
    );
    assert!(deliveries_seen(&h, TOWN_A).await.is_empty());
    // A national actor's event about no record stays without a division: national auditors.
    h.store
        .record_delivery(
            &system().grant::<ImportFeeds>().unwrap(),
            &delivery("vehicles"),
        )
        .await
        .unwrap();
    assert_eq!(deliveries_seen(&h, "371002").await.len(), 2);
    assert_eq!(deliveries_seen(&h, "000000").await.len(), 3);
}

pub async fn privacy_verification_report_revealed_with_audit(h: Harness) {
    with_tree(&h).await;
    let case = case_of(&h, 71, VILLAGE_A, "dibao", false).await;
    let report = h
        .store
        .record_verification_report(
            &staff(912, "approver", Role::CountyApprover, "371002")
                .grant::<ActOnCase>()
                .unwrap(),
            &crate::verification_reports::NewVerificationReport {
                case_id: case.id,
                as_of: date(2026, 3, 1),
                delivery_ids: vec![1],
                verdict: "fail".into(),
                report: json!({"totals": {"deposits": "60000.01"}}),
            },
        )
        .await
        .unwrap();
    let shown = h
        .store
        .reveal_verification_report(
            &clerk_a().grant::<RevealSensitive>().unwrap(),
            case.id,
            report.id,
        )
        .await
        .unwrap();
    assert_eq!(shown.report["totals"]["deposits"], "60000.01");
    // Another township's clerk: not found, and no event.
    assert!(matches!(
        h.store
            .reveal_verification_report(
                &clerk_b().grant::<RevealSensitive>().unwrap(),
                case.id,
                report.id
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let log = h
        .store
        .audit_log(
            &system().grant::<ReadAudit>().unwrap(),
            &AuditQuery {
                action: Some(AuditAction::SensitiveRevealed),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    let e = &log.items[0].entry;
    assert_eq!(e.record_kind, "verification_report");
    assert_eq!(e.record_id, Some(report.id.to_string()));
    assert_eq!(e.division.as_deref(), Some(VILLAGE_A));
    assert!(!serde_json::to_string(&log.items).unwrap().contains("60000"));
}
