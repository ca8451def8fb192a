//! The conformance suite: what every backend must do, written once.
//!
//! Each case is an async function taking a fresh, empty store ([`Harness`]). A backend's test file
//! provides the factory and generates one `#[tokio::test]` per case with [`conformance_tests!`]:
//!
//! ```ignore
//! async fn fresh() -> jiuzhu_store::conformance::Harness { /* connect to a new database */ }
//! jiuzhu_store::conformance_tests!(fresh);
//! ```
//!
//! The clock is a [`FixedClock`], so every timestamp is known in advance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use jiuzhu_domain::access::{
    AssignRoles, ImportCaseload, ManageDivisions, ManageUsers, ReadAudit, ReadRegistry, ReadUsers,
    RevealSensitive, WriteRegistry,
};
use jiuzhu_domain::audit::{format_time, ChainVerifier};
use jiuzhu_domain::caseload::{CaseloadBatch, ImportHousehold, ImportMember};
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{
    Actor, Approval, Area, AuditAction, Disability, DisabilityKind, DivisionCode, FixedClock,
    HouseholdFacts, IdNumber, Level, NewUser, PersonFacts, Relation, Role, Scope, Session,
};

mod accounts;
pub use accounts::accounts_wait_for_a_security_administrator;
pub mod at_rest;
pub use at_rest::{
    moved_ciphertext_does_not_decrypt, plaintext_from_before_is_encrypted_at_start,
    sensitive_fields_are_encrypted_at_rest,
};
mod audit_seal;
pub use audit_seal::audit_checkpoints_catch_truncation_and_rebuild;
mod calendar;
pub use calendar::{
    calendar_edits_apply_in_their_jurisdiction, calendar_edits_record_list_conflict,
    parameter_seqs_follow_writes,
};
mod cases;
pub use cases::{
    cases_dibao_anywhere, cases_events_are_append_only, cases_register_transition_conflict,
    cases_scope_and_queue,
};
mod letters;
pub use letters::letters_notices_and_filing;
mod changes;
pub use changes::{changes_opened_by_warning_close, changes_stop_ends_benefit_and_is_filed};
mod documents;
pub use documents::{
    documents_append_only_withdraw_scope, reserve_fund_case_link,
    reserve_fund_concurrent_withdrawals, reserve_fund_ledger_balance_and_refusal,
};
mod economics;
mod in_force;
pub use in_force::households_in_force_are_the_ones_compared;
mod outreach;
pub use outreach::outreach_leads_scoped_and_handled;
mod verification;
mod warning_handling;
pub use economics::{
    caseload_as_of_reads_members_and_economics, economics_save_as_of_history_conflict,
    economics_scope,
};
pub use verification::{
    verification_deliveries_are_immutable,
    verification_deliveries_refuse_redelivery_and_future_dates,
    verification_sources_registered_and_latest_per_source,
    verification_streamed_run_commits_or_leaves_nothing, verification_warnings_scoped_and_closed,
};
pub use warning_handling::{
    warning_handling_dashboard_counts, warning_handling_due_inbox_and_zero_report,
    warning_handling_runs_build_on_each_other,
};
mod verification_reports;
pub use verification_reports::verification_reports_kept_scoped_and_append_only;
mod privacy;
pub use privacy::{
    privacy_cases_by_department_and_protection,
    privacy_deliveries_by_reader_and_audited_in_the_county,
    privacy_department_backfilled_from_the_workflows, privacy_evidence_masked_until_revealed,
    privacy_financial_assets_revealed_with_audit, privacy_verification_report_revealed_with_audit,
};

use crate::prelude::*;
use crate::{
    AccessPatch, AuditQuery, HouseholdQuery, LoginOutcome, NewHousehold, PersonQuery, SqlStore,
    Store, StoreError, UserPatch,
};

/// A fresh store on an empty database, with the clock it was opened with.
pub struct Harness {
    pub store: Arc<SqlStore>,
    pub clock: FixedClock,
    /// Whatever must live as long as the store (a temporary directory, say).
    pub keep: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Harness {
    /// A harness over `store`, which is told who reads protected cases as the workflow files
    /// of the suite's cases say ([`protected_readers`]).
    pub fn new(
        store: SqlStore,
        clock: FixedClock,
        keep: Option<Box<dyn std::any::Any + Send + Sync>>,
    ) -> Harness {
        store.use_protected_readers(protected_readers());
        Harness {
            store: Arc::new(store),
            clock,
            keep,
        }
    }
}

/// The roles acting on the steps of each workflow the cases use (as `workflows/*.toml` have
/// them), whose protected cases those roles read.
pub fn protected_readers() -> crate::ProtectedReaders {
    use jiuzhu_domain::Role;
    let local = [
        Role::WindowClerk,
        Role::VillageAssistant,
        Role::TownshipReviewer,
        Role::CountyApprover,
    ];
    let programs = ["dibao", "dibao_change", "marginal", "tekun", "temporary"];
    let referrals = [
        "referral_education",
        "referral_employment",
        "referral_housing",
        "referral_medical",
    ];
    let mut readers = std::collections::HashMap::new();
    for role in local {
        let mut workflows: Vec<String> = programs.iter().map(|w| w.to_string()).collect();
        if matches!(role, Role::WindowClerk | Role::TownshipReviewer) {
            workflows.extend(referrals.iter().map(|w| w.to_string()));
        }
        readers.insert(role, workflows);
    }
    readers.insert(
        Role::DepartmentOfficer,
        referrals.iter().map(|w| w.to_string()).collect(),
    );
    crate::ProtectedReaders(readers)
}

/// The instant every test starts at: 2026-03-01 10:00 in China (02:00 UTC).
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0)
        .single()
        .expect("valid time")
}

/// Generates one `#[tokio::test]` per conformance case, each with a fresh store from `$factory`
/// (an `async fn() -> Harness`).
#[cfg(feature = "testing")]
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::conformance_tests!(@cases $factory;
            divisions_tree_and_scope,
            division_import_reports_rows,
            person_create_get_search_update,
            person_history_and_as_of,
            household_members_and_as_of,
            household_search_and_codes,
            jurisdiction_hides_and_refuses,
            caseload_import_is_all_or_nothing,
            caseload_import_creates_missing_divisions,
            users_and_scope,
            login_records_and_sessions,
            password_change_ends_other_sessions,
            accounts_wait_for_a_security_administrator,
            audit_chain_verifies_and_is_append_only,
            audit_checkpoints_catch_truncation_and_rebuild,
            audit_log_is_scoped_and_filtered,
            reveal_is_audited,
            timestamps_come_from_the_clock,
            concurrent_writes_keep_one_chain,
            economics_save_as_of_history_conflict,
            economics_scope,
            caseload_as_of_reads_members_and_economics,
            policy_revisions_record_list_and_conflict,
            policy_revisions_retroactive_need_a_reason,
            policy_revisions_withdraw,
            cases_register_transition_conflict,
            cases_scope_and_queue,
            cases_events_are_append_only,
            cases_dibao_anywhere,
            verification_deliveries_are_immutable,
            verification_deliveries_refuse_redelivery_and_future_dates,
            verification_sources_registered_and_latest_per_source,
            verification_warnings_scoped_and_closed,
            verification_streamed_run_commits_or_leaves_nothing,
            households_in_force_are_the_ones_compared,
            verification_reports_kept_scoped_and_append_only,
            warning_handling_due_inbox_and_zero_report,
            warning_handling_dashboard_counts,
            warning_handling_runs_build_on_each_other,
            letters_notices_and_filing,
            changes_stop_ends_benefit_and_is_filed,
            changes_opened_by_warning_close,
            documents_append_only_withdraw_scope,
            reserve_fund_ledger_balance_and_refusal,
            reserve_fund_concurrent_withdrawals,
            reserve_fund_case_link,
            calendar_edits_record_list_conflict,
            calendar_edits_apply_in_their_jurisdiction,
            parameter_seqs_follow_writes,
            outreach_leads_scoped_and_handled,
            privacy_cases_by_department_and_protection,
            privacy_department_backfilled_from_the_workflows,
            privacy_evidence_masked_until_revealed,
            privacy_financial_assets_revealed_with_audit,
            privacy_deliveries_by_reader_and_audited_in_the_county,
            privacy_verification_report_revealed_with_audit,
            sensitive_fields_are_encrypted_at_rest,
            moved_ciphertext_does_not_decrypt,
            plaintext_from_before_is_encrypted_at_start,
        );
    };
    (@cases $factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::$case($factory().await).await;
            }
        )*
    };
}

// ---- fixtures ----------------------------------------------------------------------------------

pub fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).expect("valid division code")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A valid identity number from region, birth date (YYYYMMDD) and a 3-digit sequence.
pub fn id_number(region: &str, birth: &str, seq: u32) -> IdNumber {
    let body = format!("{region}{birth}{seq:03}");
    let bytes: [u8; 17] = body.as_bytes().try_into().expect("17 digits");
    IdNumber::parse(&format!("{body}{}", check_char(&bytes))).expect("valid id number")
}

const TOWN_A: &str = "371002001";
const VILLAGE_A: &str = "371002001201";
const GRID_A: &str = "371002001201001";
const TOWN_B: &str = "371002002";
const VILLAGE_B: &str = "371002002201";

fn tree() -> Vec<(DivisionCode, String)> {
    [
        ("370000", "山东省"),
        ("371000", "威海市"),
        ("371002", "环翠区"),
        (TOWN_A, "环翠楼街道"),
        (VILLAGE_A, "新威路社区"),
        (GRID_A, "新威路社区第一网格"),
        (TOWN_B, "鲸园街道"),
        (VILLAGE_B, "塔山社区"),
    ]
    .into_iter()
    .map(|(c, n)| (code(c), n.to_string()))
    .collect()
}

fn system() -> Actor {
    Actor::system("test")
}

/// The read grant of the monthly comparison for the same actor as `g`.
fn reads<P: jiuzhu_domain::Permission>(
    g: &jiuzhu_domain::Grant<P>,
) -> jiuzhu_domain::Grant<jiuzhu_domain::access::ReadVerification> {
    g.actor().grant().expect("the actor reads the comparison")
}

/// Every delivery (what the comparison's readers see).
/// Registers a national source of `kind` with `code` (deliveries must name a registered source).
async fn register_source(store: &dyn Store, kind: &str, code: &str) -> crate::FeedSource {
    store
        .register_feed_source(
            &system().grant().expect("system"),
            &crate::NewFeedSource {
                kind: kind.into(),
                code: code.into(),
                name: format!("{code}(测试)"),
                division: jiuzhu_domain::DivisionCode::nation(),
                accounts: Vec::new(),
            },
        )
        .await
        .expect("source registers")
}

/// The sources the conformance cases deliver for: `XX银行`, `YY银行` and `数据来源` of every kind.
async fn register_test_sources(store: &dyn Store) {
    for kind in jiuzhu_domain::FeedKind::ALL {
        for code in ["XX银行", "YY银行", "数据来源"] {
            register_source(store, kind.as_str(), code).await;
        }
    }
}

fn all_deliveries() -> crate::DeliveryReader {
    crate::DeliveryReader::Verification(system().grant().expect("system"))
}

fn staff(id: i64, name: &str, role: Role, root: &str) -> Actor {
    Actor {
        user_id: Some(id),
        username: name.to_string(),
        role,
        department: None,
        scope: Scope::new(code(root)),
        origin: "127.0.0.1".to_string(),
        pending_approval: false,
    }
}

fn clerk_a() -> Actor {
    staff(901, "clerk_a", Role::WindowClerk, TOWN_A)
}

fn clerk_b() -> Actor {
    staff(902, "clerk_b", Role::WindowClerk, TOWN_B)
}

async fn with_tree(h: &Harness) {
    let g = system().grant::<ManageDivisions>().expect("grant");
    h.store.import_divisions(&g, &tree()).await.expect("tree");
}

fn facts(id: &IdNumber, name: &str, residence: &str) -> PersonFacts {
    PersonFacts::minimal(id, name, code(residence))
}

async fn all_events(store: &SqlStore) -> Vec<jiuzhu_domain::AuditRecord> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 7).await.expect("audit page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        out.extend(page);
    }
    out
}

fn verify_chain(events: &[jiuzhu_domain::AuditRecord]) {
    let mut v = ChainVerifier::default();
    for e in events {
        v.check(e)
            .unwrap_or_else(|b| panic!("audit chain broken: {b}"));
    }
    assert_eq!(v.checked as usize, events.len());
}

fn field_codes(e: &StoreError) -> Vec<(Option<usize>, String, String)> {
    match e {
        StoreError::Invalid(v) => {
            v.0.iter()
                .map(|f| (f.row, f.field.clone(), f.code.clone()))
                .collect()
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// ---- cases -------------------------------------------------------------------------------------

pub async fn divisions_tree_and_scope(h: Harness) {
    with_tree(&h).await;
    let all = h
        .store
        .list_divisions(&system().grant::<ReadRegistry>().unwrap())
        .await
        .unwrap();
    assert_eq!(all.len(), 8);
    let codes: Vec<&str> = all.iter().map(|d| d.code.as_str()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted, "ordered by code");
    let grid = all.iter().find(|d| d.code.as_str() == GRID_A).unwrap();
    assert_eq!(grid.level, Level::Grid);
    assert_eq!(grid.parent, Some(code(VILLAGE_A)));
    let county = all.iter().find(|d| d.code.as_str() == "371002").unwrap();
    assert_eq!(county.parent, Some(code("371000")));
    assert_eq!(
        all.iter()
            .find(|d| d.code.as_str() == "370000")
            .unwrap()
            .parent,
        None
    );

    // A township clerk sees its own subtree, with the parent above it still named.
    let mine = h
        .store
        .list_divisions(&clerk_a().grant::<ReadRegistry>().unwrap())
        .await
        .unwrap();
    let mine_codes: Vec<&str> = mine.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(mine_codes, [TOWN_A, VILLAGE_A, GRID_A]);
    assert_eq!(mine[0].parent, Some(code("371002")));
    let g = clerk_a().grant::<ReadRegistry>().unwrap();
    assert!(h
        .store
        .get_division(&g, &code(TOWN_B))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        h.store
            .get_division(&g, &code(VILLAGE_A))
            .await
            .unwrap()
            .unwrap()
            .name,
        "新威路社区"
    );

    // Saving: a village needs its township; a manager of one township cannot touch another.
    let admin = system().grant::<ManageDivisions>().unwrap();
    let v = h
        .store
        .save_division(&admin, &code("371002001202"), "古寨社区")
        .await
        .unwrap();
    assert_eq!(v.parent, Some(code(TOWN_A)));
    let err = h
        .store
        .save_division(&admin, &code("371002009201"), "无上级")
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "DIVISION_PARENT_MISSING");
    let town_admin = staff(903, "manager_a", Role::CountyManager, TOWN_A)
        .grant::<ManageDivisions>()
        .unwrap();
    let err = h
        .store
        .save_division(&town_admin, &code("371002002202"), "别处")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope(_)), "{err:?}");
    let renamed = h
        .store
        .save_division(&town_admin, &code(VILLAGE_A), "新威路社区居委会")
        .await
        .unwrap();
    assert_eq!(renamed.name, "新威路社区居委会");
    let events = all_events(&h.store).await;
    let last = events.last().unwrap();
    assert_eq!(last.entry.action, AuditAction::DivisionUpdated);
    assert_eq!(last.entry.record_id.as_deref(), Some(VILLAGE_A));
}

pub async fn division_import_reports_rows(h: Harness) {
    let admin = system().grant::<ManageDivisions>().unwrap();
    // Children before parents is fine.
    let mut rows = tree();
    rows.reverse();
    assert_eq!(h.store.import_divisions(&admin, &rows).await.unwrap(), 8);
    // Again: nothing changes, nothing is audited.
    let before = all_events(&h.store).await.len();
    assert_eq!(h.store.import_divisions(&admin, &rows).await.unwrap(), 0);
    assert_eq!(all_events(&h.store).await.len(), before);

    let bad = vec![
        (code("371002003"), "孙家疃街道".to_string()),
        (code("371002004201"), "缺上级".to_string()),
        (code("371002003"), "重复".to_string()),
        (code("371002003201"), " ".to_string()),
    ];
    let err = h.store.import_divisions(&admin, &bad).await.unwrap_err();
    let codes = field_codes(&err);
    assert!(
        codes.contains(&(
            None,
            "rows[1].code".into(),
            "DIVISION_PARENT_MISSING".into()
        )),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(None, "rows[2].code".into(), "DUPLICATE_DIVISION".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(None, "rows[3].name".into(), "REQUIRED".into())),
        "{codes:?}"
    );
    let all = h
        .store
        .list_divisions(&system().grant::<ReadRegistry>().unwrap())
        .await
        .unwrap();
    assert_eq!(all.len(), 8, "nothing of a rejected import is written");

    let town_admin = staff(903, "manager_a", Role::CountyManager, TOWN_A)
        .grant::<ManageDivisions>()
        .unwrap();
    let err = h
        .store
        .import_divisions(&town_admin, &[(code("371002002299"), "别处".into())])
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "DIVISION_OUT_OF_SCOPE");
}

pub async fn person_create_get_search_update(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    let id = id_number("371002", "19800101", 1);
    let mut f = facts(&id, "王芳", VILLAGE_A);
    f.phone = Some("13800001111".into());
    let p = h
        .store
        .create_person(&w, &id, &f, date(2025, 1, 1))
        .await
        .unwrap();
    assert_eq!(p.row_version, 1);
    assert_eq!(p.facts, f);
    assert_eq!(h.store.get_person(&r, p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        h.store.find_person_by_id_number(&r, &id).await.unwrap(),
        Some(p.clone())
    );
    assert!(h.store.get_person(&r, p.id + 1000).await.unwrap().is_none());

    // The same identity number again is a duplicate, whoever registers it.
    let err = h
        .store
        .create_person(&w, &id, &facts(&id, "王芳芳", GRID_A), date(2025, 1, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                field: "id_number",
                ..
            }
        ),
        "{err:?}"
    );
    // Facts must agree with the identity number.
    let mut wrong = facts(&id_number("371002", "19900101", 3), "李四", VILLAGE_A);
    wrong.birth_date = date(1990, 1, 2);
    let err = h
        .store
        .create_person(
            &w,
            &id_number("371002", "19900101", 3),
            &wrong,
            date(2025, 1, 1),
        )
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].1, "birth_date");

    let id2 = id_number("371002", "19850505", 2);
    let p2 = h
        .store
        .create_person(&w, &id2, &facts(&id2, "王强", GRID_A), date(2025, 1, 1))
        .await
        .unwrap();

    let search = |text: &str| PersonQuery {
        text: Some(text.to_string()),
        ..PersonQuery::default()
    };
    let found = h.store.search_persons(&r, &search("王")).await.unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(found.items.len(), 2);
    let found = h
        .store
        .search_persons(&r, &search(id2.as_str()))
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [p2.id]
    );
    // LIKE wildcards in the text are taken literally.
    assert_eq!(
        h.store
            .search_persons(&r, &search("%"))
            .await
            .unwrap()
            .total,
        0
    );
    let paged = h
        .store
        .search_persons(
            &r,
            &PersonQuery {
                limit: 1,
                offset: 1,
                ..PersonQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((paged.total, paged.items.len()), (2, 1));
    assert_eq!(paged.items[0].id, p2.id);
    let in_grid = h
        .store
        .search_persons(
            &r,
            &PersonQuery {
                division: Some(code(GRID_A)),
                ..PersonQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        in_grid.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        [p2.id]
    );

    // Optimistic concurrency: an update based on a stale version is refused and writes nothing.
    let mut f2 = f.clone();
    f2.name = "王芳华".into();
    let updated = h
        .store
        .update_person(&w, p.id, 1, &f2, date(2025, 6, 1))
        .await
        .unwrap();
    assert_eq!(updated.row_version, 2);
    let mut f3 = f.clone();
    f3.name = "覆盖".into();
    let err = h
        .store
        .update_person(&w, p.id, 1, &f3, date(2025, 7, 1))
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
    let now = h.store.get_person(&r, p.id).await.unwrap().unwrap();
    assert_eq!(now.facts.name, "王芳华");
    assert_eq!(now.row_version, 2);
    // An update may not start before the current version.
    let err = h
        .store
        .update_person(&w, p.id, 2, &f3, date(2025, 5, 1))
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "VALID_FROM_BEFORE_CURRENT");
}

pub async fn person_history_and_as_of(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    let id = id_number("371002", "19700315", 5);
    let v1 = facts(&id, "赵敏", VILLAGE_A);
    let p = h
        .store
        .create_person(&w, &id, &v1, date(2025, 1, 1))
        .await
        .unwrap();
    let mut v2 = v1.clone();
    v2.disability = Some(Disability {
        kind: DisabilityKind::Physical,
        grade: 2,
    });
    v2.residence_division = code(GRID_A);
    h.clock.advance(Duration::days(200));
    h.store
        .update_person(&w, p.id, 1, &v2, date(2025, 7, 1))
        .await
        .unwrap();
    let mut v3 = v2.clone();
    v3.phone = Some("0631-5201234".into());
    h.store
        .update_person(&w, p.id, 2, &v3, date(2026, 1, 1))
        .await
        .unwrap();

    let as_of = |d| h.store.person_as_of(&r, p.id, d);
    assert_eq!(as_of(date(2024, 12, 31)).await.unwrap(), None);
    assert_eq!(as_of(date(2025, 1, 1)).await.unwrap(), Some(v1.clone()));
    assert_eq!(as_of(date(2025, 6, 30)).await.unwrap(), Some(v1.clone()));
    assert_eq!(as_of(date(2025, 7, 1)).await.unwrap(), Some(v2.clone()));
    assert_eq!(as_of(date(2025, 12, 31)).await.unwrap(), Some(v2.clone()));
    assert_eq!(as_of(date(2026, 5, 1)).await.unwrap(), Some(v3.clone()));

    let history = h.store.person_history(&r, p.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].data, v3);
    assert_eq!(history[0].valid_to, None);
    assert_eq!(history[1].data, v2);
    assert_eq!(history[1].valid_from, date(2025, 7, 1));
    assert_eq!(history[1].valid_to, Some(date(2026, 1, 1)));
    assert_eq!(history[2].data, v1);
    assert_eq!(history[2].valid_to, Some(date(2025, 7, 1)));
    assert_eq!(history[2].recorded_at, start_time());
    assert_eq!(history[2].recorded_by, "clerk_a");

    // The audit log has before and after, with the identity number masked and the sensitive
    // change named but not shown.
    let events = all_events(&h.store).await;
    let upd = events
        .iter()
        .find(|e| e.entry.action == AuditAction::PersonUpdated)
        .unwrap();
    let before = upd.entry.before.as_ref().unwrap();
    assert_eq!(before["id_number"], id.masked());
    assert_eq!(upd.entry.after.as_ref().unwrap()["disability"], "***");
    let detail = upd.entry.detail.as_deref().unwrap();
    assert!(
        detail.contains("disability") && detail.contains("residence_division"),
        "{detail}"
    );
    assert!(!serde_json::to_string(upd).unwrap().contains(id.as_str()));
}

pub async fn household_members_and_as_of(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    let mk = |name: &str, birth: &str, seq| {
        let id = id_number("371002", birth, seq);
        let f = facts(&id, name, VILLAGE_A);
        (id, f)
    };
    let mut people = Vec::new();
    for (name, birth, seq) in [
        ("张伟", "19600101", 11),
        ("李娜", "19620202", 12),
        ("张小明", "20100303", 13),
    ] {
        let (id, f) = mk(name, birth, seq);
        people.push(
            h.store
                .create_person(&w, &id, &f, date(2025, 1, 1))
                .await
                .unwrap(),
        );
    }
    let hh = h
        .store
        .create_household(
            &w,
            &NewHousehold {
                code: None,
                facts: HouseholdFacts {
                    address: "新威路1号".into(),
                    division: code(VILLAGE_A),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    assert_eq!(hh.code, format!("H{VILLAGE_A}00001"));
    let other = h
        .store
        .create_household(
            &w,
            &NewHousehold {
                code: None,
                facts: HouseholdFacts {
                    address: "新威路2号".into(),
                    division: code(VILLAGE_A),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    assert_eq!(other.code, format!("H{VILLAGE_A}00002"));

    let head = h
        .store
        .add_member(
            &w,
            hh.id,
            people[0].id,
            Relation::Head,
            date(2025, 1, 1),
            Some("新登记"),
        )
        .await
        .unwrap();
    h.store
        .add_member(
            &w,
            hh.id,
            people[1].id,
            Relation::Spouse,
            date(2025, 1, 1),
            None,
        )
        .await
        .unwrap();
    let child = h
        .store
        .add_member(
            &w,
            hh.id,
            people[2].id,
            Relation::Child,
            date(2025, 1, 1),
            None,
        )
        .await
        .unwrap();
    // A person active in one household cannot join another.
    let err = h
        .store
        .add_member(
            &w,
            other.id,
            people[0].id,
            Relation::Head,
            date(2025, 2, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "MEMBERSHIP_ACTIVE");
    let (id4, f4) = mk("张大伟", "19590101", 14);
    let p4 = h
        .store
        .create_person(&w, &id4, &f4, date(2025, 1, 1))
        .await
        .unwrap();
    let err = h
        .store
        .add_member(&w, hh.id, p4.id, Relation::Head, date(2025, 3, 1), None)
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "HEAD_EXISTS");

    // One active membership per person: the child moves to the other household on 2025-09-01.
    let err = h
        .store
        .add_member(
            &w,
            other.id,
            people[2].id,
            Relation::Head,
            date(2025, 9, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "MEMBERSHIP_ACTIVE");
    let err = h
        .store
        .end_membership(&w, child.id, date(2024, 12, 1), None)
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "LEFT_BEFORE_JOINED");
    let ended = h
        .store
        .end_membership(&w, child.id, date(2025, 9, 1), Some("分户"))
        .await
        .unwrap();
    assert_eq!(ended.left_on, Some(date(2025, 9, 1)));
    let err = h
        .store
        .end_membership(&w, child.id, date(2025, 10, 1), None)
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "MEMBERSHIP_ENDED");
    // Joining before the old membership ended would overlap it.
    let err = h
        .store
        .add_member(
            &w,
            other.id,
            people[2].id,
            Relation::Head,
            date(2025, 8, 1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "MEMBERSHIP_ACTIVE");
    h.store
        .add_member(
            &w,
            other.id,
            people[2].id,
            Relation::Head,
            date(2025, 9, 1),
            Some("分户"),
        )
        .await
        .unwrap();

    // The household moves address from 2025-10-01.
    let moved = HouseholdFacts {
        address: "新威路9号".into(),
        ..hh.facts.clone()
    };
    let err = h
        .store
        .update_household(&w, hh.id, 7, &moved, date(2025, 10, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let hh2 = h
        .store
        .update_household(&w, hh.id, 1, &moved, date(2025, 10, 1))
        .await
        .unwrap();
    assert_eq!(hh2.row_version, 2);

    let snap = h
        .store
        .household_as_of(&r, hh.id, date(2025, 6, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snap.facts.address, "新威路1号");
    assert_eq!(snap.members.len(), 3);
    assert_eq!(snap.members[0].membership.id, head.id);
    assert_eq!(snap.members[0].person.facts.name, "张伟");
    let snap = h
        .store
        .household_as_of(&r, hh.id, date(2025, 12, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snap.facts.address, "新威路9号");
    assert_eq!(snap.members.len(), 2, "the child left on 2025-09-01");
    assert!(h
        .store
        .household_as_of(&r, hh.id, date(2024, 12, 31))
        .await
        .unwrap()
        .is_none());
    let snap = h
        .store
        .household_as_of(&r, other.id, date(2025, 9, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snap.members.len(), 1);

    let all = h.store.household_members(&r, hh.id).await.unwrap();
    assert_eq!(all.len(), 3, "members who left are still listed");
    let history = h.store.household_history(&r, hh.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].valid_to, Some(date(2025, 10, 1)));
    let ms = h.store.person_memberships(&r, people[2].id).await.unwrap();
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0].leave_reason.as_deref(), Some("分户"));
    assert_eq!(ms[1].household_id, other.id);
}

pub async fn household_search_and_codes(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    let new = |code: Option<&str>, address: &str| NewHousehold {
        code: code.map(str::to_string),
        facts: HouseholdFacts {
            address: address.into(),
            division: code_of(GRID_A),
            area: Area::Rural,
        },
        valid_from: date(2025, 1, 1),
    };
    fn code_of(s: &str) -> DivisionCode {
        code(s)
    }
    let a = h
        .store
        .create_household(&w, &new(Some("HZ-001"), "东山路5号"))
        .await
        .unwrap();
    assert_eq!(a.code, "HZ-001");
    let err = h
        .store
        .create_household(&w, &new(Some("HZ-001"), "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate { field: "code", .. }),
        "{err:?}"
    );
    let err = h
        .store
        .create_household(&w, &new(Some("H37100200120100199"), "x"))
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "HOUSEHOLD_CODE_RESERVED");
    let b = h
        .store
        .create_household(&w, &new(None, "西山路7号"))
        .await
        .unwrap();
    assert_eq!(b.code, format!("H{GRID_A}00001"));

    let id = id_number("371002", "19551111", 21);
    let p = h
        .store
        .create_person(&w, &id, &facts(&id, "孙立", GRID_A), date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .add_member(&w, b.id, p.id, Relation::Head, date(2025, 1, 1), None)
        .await
        .unwrap();

    let q = |text: &str| HouseholdQuery {
        text: Some(text.into()),
        ..HouseholdQuery::default()
    };
    let by_name = h.store.search_households(&r, &q("孙")).await.unwrap();
    assert_eq!(by_name.total, 1);
    assert_eq!(by_name.items[0].id, b.id);
    assert_eq!(by_name.items[0].head_name.as_deref(), Some("孙立"));
    assert_eq!(by_name.items[0].member_count, 1);
    let by_id = h
        .store
        .search_households(&r, &q(id.as_str()))
        .await
        .unwrap();
    assert_eq!(by_id.items.len(), 1);
    let by_address = h.store.search_households(&r, &q("东山路")).await.unwrap();
    assert_eq!(by_address.items[0].id, a.id);
    assert_eq!(by_address.items[0].head_name, None);
    let by_code = h.store.search_households(&r, &q("HZ-0")).await.unwrap();
    assert_eq!(by_code.items[0].id, a.id);
    let all = h
        .store
        .search_households(&r, &HouseholdQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);

    // Persons found by household code carry it.
    let persons = h
        .store
        .search_persons(
            &r,
            &PersonQuery {
                text: Some(b.code.clone()),
                ..PersonQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(persons.items.len(), 1);
    assert_eq!(persons.items[0].household_id, Some(b.id));
    assert_eq!(
        persons.items[0].household_code.as_deref(),
        Some(b.code.as_str())
    );
}

pub async fn jurisdiction_hides_and_refuses(h: Harness) {
    with_tree(&h).await;
    let wa = clerk_a().grant::<WriteRegistry>().unwrap();
    let id = id_number("371002", "19800808", 31);
    let p = h
        .store
        .create_person(&wa, &id, &facts(&id, "周杰", VILLAGE_A), date(2025, 1, 1))
        .await
        .unwrap();
    let hh = h
        .store
        .create_household(
            &wa,
            &NewHousehold {
                code: None,
                facts: HouseholdFacts {
                    address: "a".into(),
                    division: code(VILLAGE_A),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap();
    let m = h
        .store
        .add_member(&wa, hh.id, p.id, Relation::Head, date(2025, 1, 1), None)
        .await
        .unwrap();

    // Clerk B (another township) sees nothing of it.
    let rb = clerk_b().grant::<ReadRegistry>().unwrap();
    let wb = clerk_b().grant::<WriteRegistry>().unwrap();
    assert!(h.store.get_person(&rb, p.id).await.unwrap().is_none());
    assert!(h
        .store
        .find_person_by_id_number(&rb, &id)
        .await
        .unwrap()
        .is_none());
    assert!(h
        .store
        .person_as_of(&rb, p.id, date(2025, 6, 1))
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        h.store.person_history(&rb, p.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        h.store.person_memberships(&rb, p.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let s = h
        .store
        .search_persons(&rb, &PersonQuery::default())
        .await
        .unwrap();
    assert_eq!((s.total, s.items.len()), (0, 0));
    let s = h
        .store
        .search_persons(
            &rb,
            &PersonQuery {
                text: Some(id.as_str().into()),
                division: Some(code(VILLAGE_A)),
                ..PersonQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(s.total, 0);
    assert!(h.store.get_household(&rb, hh.id).await.unwrap().is_none());
    assert!(h
        .store
        .household_as_of(&rb, hh.id, date(2025, 6, 1))
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        h.store.household_members(&rb, hh.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        h.store
            .search_households(&rb, &HouseholdQuery::default())
            .await
            .unwrap()
            .total,
        0
    );

    // Writes: records it cannot see are not found; placing anything in A's township is out of
    // scope.
    let err = h
        .store
        .update_person(
            &wb,
            p.id,
            1,
            &facts(&id, "周杰", VILLAGE_B),
            date(2025, 2, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let id2 = id_number("371002", "19810909", 32);
    let err = h
        .store
        .create_person(&wb, &id2, &facts(&id2, "吴磊", VILLAGE_A), date(2025, 1, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope(_)), "{err:?}");
    let err = h
        .store
        .create_household(
            &wb,
            &NewHousehold {
                code: None,
                facts: HouseholdFacts {
                    address: "b".into(),
                    division: code(VILLAGE_A),
                    area: Area::Urban,
                },
                valid_from: date(2025, 1, 1),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope(_)), "{err:?}");
    let err = h
        .store
        .end_membership(&wb, m.id, date(2025, 5, 1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let rv = clerk_b().grant::<RevealSensitive>().unwrap();
    assert!(matches!(
        h.store.reveal_person(&rv, p.id, &["id_number"]).await,
        Err(StoreError::NotFound { .. })
    ));
    // A's own clerk cannot move the person out of A's township.
    let err = h
        .store
        .update_person(
            &wa,
            p.id,
            1,
            &facts(&id, "周杰", VILLAGE_B),
            date(2025, 2, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope(_)), "{err:?}");
    // The county sees both townships.
    let county = staff(904, "approver", Role::CountyApprover, "371002")
        .grant::<ReadRegistry>()
        .unwrap();
    assert!(h.store.get_person(&county, p.id).await.unwrap().is_some());
}

fn batch_of(
    households: &[(&str, &str)],
    members: &[(usize, IdNumber, &str, Relation)],
) -> CaseloadBatch {
    CaseloadBatch {
        households: households
            .iter()
            .enumerate()
            .map(|(i, (source, division))| ImportHousehold {
                row: i + 2,
                source_ref: source.to_string(),
                division: code(division),
                area: Area::Rural,
                address: format!("地址{i}"),
            })
            .collect(),
        members: members
            .iter()
            .enumerate()
            .map(|(i, (household, id, name, relation))| ImportMember {
                row: i + 2,
                household: *household,
                id_number: id.clone(),
                name: name.to_string(),
                relation: *relation,
                facts: None,
            })
            .collect(),
        valid_from: date(2025, 1, 1),
        create_missing_divisions: false,
        current_recipients: true,
        source: "h.csv + m.csv".into(),
    }
}

pub async fn caseload_import_is_all_or_nothing(h: Harness) {
    with_tree(&h).await;
    let approver = staff(905, "approver", Role::CountyApprover, "371002");
    let g = approver.grant::<ImportCaseload>().unwrap();
    let r = approver.grant::<ReadRegistry>().unwrap();
    let registered = id_number("371002", "19500101", 41);
    h.store
        .create_person(
            &clerk_a().grant::<WriteRegistry>().unwrap(),
            &registered,
            &facts(&registered, "已登记", VILLAGE_A),
            date(2025, 1, 1),
        )
        .await
        .unwrap();
    let events_before = all_events(&h.store).await.len();

    let ids: Vec<IdNumber> = (0..6)
        .map(|i| id_number("371002", "19700101", 50 + i))
        .collect();
    let bad = batch_of(
        &[
            ("1", VILLAGE_A),
            ("2", "371003001201"), // another county: outside the approver's scope
            ("3", "371002001299"), // not in the tree
            ("4", VILLAGE_B),
        ],
        &[
            (0, ids[0].clone(), "甲", Relation::Head),
            (0, registered.clone(), "乙", Relation::Spouse),
            (1, ids[1].clone(), "丙", Relation::Head),
            (2, ids[2].clone(), "丁", Relation::Head),
            (3, ids[3].clone(), "戊", Relation::Head),
        ],
    );
    let err = h
        .store
        .import_caseload(&g, &bad, &|_, _| {})
        .await
        .unwrap_err();
    let codes = field_codes(&err);
    assert_eq!(
        codes,
        [
            (
                Some(3),
                "division_code".to_string(),
                "DIVISION_OUT_OF_SCOPE".to_string()
            ),
            (
                Some(4),
                "division_code".to_string(),
                "DIVISION_UNKNOWN".to_string()
            ),
            (
                Some(3),
                "id_number".to_string(),
                "ID_NUMBER_REGISTERED".to_string()
            ),
        ]
    );
    if let StoreError::Invalid(v) = &err {
        assert!(v.0[2].message.contains("m.csv"), "{}", v.0[2].message);
        assert!(v.0[0].message.contains("h.csv"), "{}", v.0[0].message);
    }
    let persons = h
        .store
        .search_persons(&r, &PersonQuery::default())
        .await
        .unwrap();
    assert_eq!(persons.total, 1, "nothing of a rejected import is written");
    assert_eq!(
        h.store
            .search_households(&r, &HouseholdQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(all_events(&h.store).await.len(), events_before);

    let good = batch_of(
        &[("1", VILLAGE_A), ("4", VILLAGE_B), ("5", VILLAGE_A)],
        &[
            (0, ids[0].clone(), "甲", Relation::Head),
            (0, ids[4].clone(), "乙", Relation::Spouse),
            (1, ids[3].clone(), "戊", Relation::Head),
            (2, ids[5].clone(), "己", Relation::Head),
        ],
    );
    let seen = std::sync::Mutex::new(Vec::new());
    let summary = h
        .store
        .import_caseload(&g, &good, &|done, total| {
            seen.lock().unwrap().push((done, total))
        })
        .await
        .unwrap();
    assert_eq!(
        (
            summary.households,
            summary.persons,
            summary.memberships,
            summary.divisions_created
        ),
        (3, 4, 4, 0)
    );
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.last(), Some(&(7, 7)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));

    let found = h
        .store
        .search_households(&r, &HouseholdQuery::default())
        .await
        .unwrap();
    assert_eq!(found.total, 3);
    let first = &found.items[0];
    assert_eq!(first.code, format!("H{VILLAGE_A}00001"));
    assert_eq!(first.member_count, 2);
    assert_eq!(first.head_name.as_deref(), Some("甲"));
    assert_eq!(found.items[2].code, format!("H{VILLAGE_A}00002"));
    let hh = h.store.get_household(&r, first.id).await.unwrap().unwrap();
    assert_eq!(hh.source_ref.as_deref(), Some("1"));
    let p = h
        .store
        .find_person_by_id_number(&r, &ids[4])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p.facts,
        PersonFacts::minimal(&ids[4], "乙", code(VILLAGE_A))
    );
    let ms = h.store.person_memberships(&r, p.id).await.unwrap();
    assert_eq!(
        (ms[0].household_id, ms[0].relation),
        (first.id, Relation::Spouse)
    );

    // One audit event for the whole batch, filed under the county.
    let events = all_events(&h.store).await;
    assert_eq!(events.len(), events_before + 1);
    let ev = events.last().unwrap();
    assert_eq!(ev.entry.action, AuditAction::CaseloadImported);
    assert_eq!(ev.entry.division.as_deref(), Some("371002"));
    verify_chain(&events);

    // The same batch again: every member is registered already.
    let err = h
        .store
        .import_caseload(&g, &good, &|_, _| {})
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err).len(), 4);
}

pub async fn caseload_import_creates_missing_divisions(h: Harness) {
    with_tree(&h).await;
    let g = system().grant::<ImportCaseload>().unwrap();
    let ids: Vec<IdNumber> = (0..3)
        .map(|i| id_number("371002", "19900101", 60 + i))
        .collect();
    let mut batch = batch_of(
        &[
            ("a", "371002005201"),
            ("b", "371002005201001"),
            ("c", "371099001201"),
        ],
        &[
            (0, ids[0].clone(), "甲", Relation::Head),
            (1, ids[1].clone(), "乙", Relation::Head),
            (2, ids[2].clone(), "丙", Relation::Head),
        ],
    );
    batch.create_missing_divisions = true;
    // The county of the third household is not in the tree: that is still an error.
    let err = h
        .store
        .import_caseload(&g, &batch, &|_, _| {})
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(&err),
        [(
            Some(4),
            "division_code".to_string(),
            "DIVISION_UNKNOWN".to_string()
        )]
    );
    batch.households.pop();
    batch.members.pop();
    let summary = h
        .store
        .import_caseload(&g, &batch, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(summary.divisions_created, 3, "township, village and grid");
    let r = system().grant::<ReadRegistry>().unwrap();
    let grid = h
        .store
        .get_division(&r, &code("371002005201001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grid.name, "371002005201001");
    assert_eq!(grid.parent, Some(code("371002005201")));
}

fn new_user(username: &str, role: Role, division: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: "测试用户".into(),
        role,
        department: None,
        division: code(division),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        must_change_password: true,
    }
}

pub async fn users_and_scope(h: Harness) {
    with_tree(&h).await;
    let root = system().grant::<ManageUsers>().unwrap();
    assert_eq!(h.store.count_users().await.unwrap(), 0);
    // The nation node needs no tree (first administrator). The system creates approved
    // accounts: at the console there is nobody else to approve them.
    let admin = h
        .store
        .create_user(&root, &new_user("root_admin", Role::SystemAdmin, "000000"))
        .await
        .unwrap();
    assert_eq!(admin.division, DivisionCode::nation());
    assert_eq!(
        (admin.approval, admin.requested_by),
        (Approval::Approved, None)
    );
    let a = h
        .store
        .create_user(&root, &new_user("clerk_a", Role::WindowClerk, TOWN_A))
        .await
        .unwrap();
    assert!(a.must_change_password && a.active);
    let err = h
        .store
        .create_user(&root, &new_user("clerk_a", Role::WindowClerk, TOWN_B))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
    let err = h
        .store
        .create_user(&root, &new_user("nowhere", Role::WindowClerk, "371002009"))
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "DIVISION_UNKNOWN");
    let err = h
        .store
        .create_user(
            &root,
            &new_user("officer", Role::DepartmentOfficer, "371002"),
        )
        .await
        .unwrap_err();
    assert_eq!(field_codes(&err)[0].2, "DEPARTMENT_REQUIRED");

    // A township's system administrator manages only its township's accounts.
    let town_admin = h
        .store
        .create_user(&root, &new_user("admin_a", Role::SystemAdmin, TOWN_A))
        .await
        .unwrap();
    let ta = town_admin
        .actor("127.0.0.1")
        .grant::<ManageUsers>()
        .unwrap();
    let ta_read = town_admin.actor("127.0.0.1").grant::<ReadUsers>().unwrap();
    let err = h
        .store
        .create_user(&ta, &new_user("clerk_b", Role::WindowClerk, TOWN_B))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope(_)), "{err:?}");
    let b = h
        .store
        .create_user(&root, &new_user("clerk_b", Role::WindowClerk, TOWN_B))
        .await
        .unwrap();
    let names: Vec<String> = h
        .store
        .list_users(&ta_read)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["admin_a", "clerk_a"]);
    assert!(h.store.get_user(&ta_read, b.id).await.unwrap().is_none());
    assert_eq!(h.store.count_users().await.unwrap(), 4);

    // Updates are versioned; a stale version is a conflict.
    let patch = UserPatch {
        display_name: Some("王窗口".into()),
        ..UserPatch::default()
    };
    let a2 = h.store.update_user(&ta, a.id, 1, &patch).await.unwrap();
    assert_eq!((a2.row_version, a2.display_name.as_str()), (2, "王窗口"));
    let err = h.store.update_user(&ta, a.id, 1, &patch).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");

    // Role and jurisdiction are the security administrator's, scoped the same way.
    let sec = h
        .store
        .create_user(&root, &new_user("sec_a", Role::SecurityAdmin, TOWN_A))
        .await
        .unwrap();
    let sa = sec.actor("127.0.0.1").grant::<AssignRoles>().unwrap();
    let role = AccessPatch {
        role: Some(Role::TownshipReviewer),
        ..AccessPatch::default()
    };
    let a3 = h.store.assign_user(&sa, a.id, 2, &role).await.unwrap();
    assert_eq!((a3.row_version, a3.role), (3, Role::TownshipReviewer));
    let err = h.store.assign_user(&sa, a.id, 2, &role).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    let away = AccessPatch {
        division: Some(code(TOWN_B)),
        ..AccessPatch::default()
    };
    let err = h.store.assign_user(&sa, a.id, 3, &away).await.unwrap_err();
    assert!(matches!(err, StoreError::OutOfScope(_)), "{err:?}");

    // A reset by the system administrator, who learns the password: the account waits for
    // approval again, and the version moves.
    h.store
        .reset_password(&ta, a.id, "new-hash", true)
        .await
        .unwrap();
    let a4 = h.store.user_by_id(a.id).await.unwrap().unwrap();
    assert_eq!((a4.password_hash.as_str(), a4.row_version), ("new-hash", 4));
    assert_eq!(
        (a4.approval, a4.requested_by),
        (Approval::PendingApproval, Some(town_admin.id))
    );
    // Waiting for approval, one still changes one's own password.
    h.store
        .change_own_password(&a4.actor("10.0.0.1"), "own-hash", "")
        .await
        .unwrap();
    let a5 = h.store.user_by_username("clerk_a").await.unwrap().unwrap();
    assert_eq!(a5.password_hash, "own-hash");
    assert!(!a5.must_change_password);
    assert!(h.store.user_by_username("nobody").await.unwrap().is_none());
}

pub async fn login_records_and_sessions(h: Harness) {
    with_tree(&h).await;
    let root = system().grant::<ManageUsers>().unwrap();
    let u = h
        .store
        .create_user(&root, &new_user("clerk_a", Role::WindowClerk, TOWN_A))
        .await
        .unwrap();
    assert_eq!(u.password_changed_at, start_time());
    // Failures are counted and audited, never a lock: throttling is the web layer's.
    for n in 1..=7 {
        h.store
            .record_login(u.id, &LoginOutcome::Failed, "10.0.0.9")
            .await
            .unwrap();
        let now = h.store.user_by_id(u.id).await.unwrap().unwrap();
        assert_eq!(now.failed_logins, n);
        assert_eq!(
            now.row_version, u.row_version,
            "logins do not move the version"
        );
    }
    let events = all_events(&h.store).await;
    let last = events.last().unwrap();
    assert_eq!(last.entry.action, AuditAction::LoginFailed);
    assert_eq!(last.entry.origin, "10.0.0.9");
    assert!(events
        .iter()
        .all(|e| e.entry.action != AuditAction::AccountLocked));

    // An admin clears the count; a success resets it too.
    let current = h.store.user_by_id(u.id).await.unwrap().unwrap();
    h.store
        .update_user(
            &root,
            u.id,
            current.row_version,
            &UserPatch {
                unlock: true,
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let unlocked = h.store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(unlocked.failed_logins, 0);
    h.store
        .record_login(u.id, &LoginOutcome::Failed, "10.0.0.9")
        .await
        .unwrap();
    h.store
        .record_login(u.id, &LoginOutcome::Succeeded, "10.0.0.9")
        .await
        .unwrap();
    assert_eq!(
        h.store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_logins,
        0
    );
    // A password reset clears the failed logins too, in its own transaction and event: the new
    // password must be usable, whoever resets it.
    for _ in 0..3 {
        h.store
            .record_login(u.id, &LoginOutcome::Failed, "10.0.0.9")
            .await
            .unwrap();
    }
    h.store
        .reset_password(&root, u.id, "otp-hash", true)
        .await
        .unwrap();
    assert_eq!(
        h.store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_logins,
        0
    );
    let reset = all_events(&h.store).await.pop().unwrap();
    assert_eq!(reset.entry.action, AuditAction::PasswordChanged);
    assert!(
        reset
            .entry
            .detail
            .as_deref()
            .unwrap()
            .contains("\"unlocked\":true"),
        "{:?}",
        reset.entry.detail
    );
    // Unknown usernames: one event for an aggregate of attempts.
    h.store
        .record_unknown_login("ghost", "10.0.0.8", 37)
        .await
        .unwrap();
    let last = all_events(&h.store).await.pop().unwrap();
    assert_eq!(last.entry.action, AuditAction::LoginFailed);
    let detail = last.entry.detail.unwrap();
    assert!(
        detail.contains("ghost") && detail.contains("\"attempts\":37"),
        "{detail}"
    );
    assert!(matches!(
        h.store.record_login(9999, &LoginOutcome::Failed, "x").await,
        Err(StoreError::NotFound { .. })
    ));

    // Sessions, by token hash.
    let t0 = h.clock.now_utc();
    let s = Session {
        token_hash: "a".repeat(64),
        user_id: u.id,
        csrf_token: "csrf".into(),
        created_at: t0,
        last_seen: t0,
        origin: "10.0.0.9".into(),
    };
    h.store.create_session(&s).await.unwrap();
    assert_eq!(
        h.store.session(&s.token_hash).await.unwrap(),
        Some(s.clone())
    );
    let later = t0 + Duration::minutes(10);
    h.store.touch_session(&s.token_hash, later).await.unwrap();
    assert_eq!(
        h.store
            .session(&s.token_hash)
            .await
            .unwrap()
            .unwrap()
            .last_seen,
        later
    );
    let idle = Session {
        token_hash: "b".repeat(64),
        ..s.clone()
    };
    h.store.create_session(&idle).await.unwrap();
    let old = Session {
        token_hash: "c".repeat(64),
        created_at: t0 - Duration::hours(13),
        last_seen: later,
        ..s.clone()
    };
    h.store.create_session(&old).await.unwrap();
    assert_eq!(
        h.store
            .delete_expired_sessions(t0 + Duration::minutes(5), t0 - Duration::hours(12))
            .await
            .unwrap(),
        2,
        "the idle one and the one past its absolute lifetime"
    );
    assert!(h.store.session(&idle.token_hash).await.unwrap().is_none());
    assert!(h.store.session(&old.token_hash).await.unwrap().is_none());
    let user = h.store.user_by_id(u.id).await.unwrap().unwrap();
    h.store
        .delete_session(&s.token_hash, &user.actor("10.0.0.9"))
        .await
        .unwrap();
    assert!(h.store.session(&s.token_hash).await.unwrap().is_none());
    let last = all_events(&h.store).await.pop().unwrap();
    assert_eq!(last.entry.action, AuditAction::Logout);
    assert_eq!(last.entry.division.as_deref(), Some(TOWN_A));
}

pub async fn password_change_ends_other_sessions(h: Harness) {
    with_tree(&h).await;
    let root = system().grant::<ManageUsers>().unwrap();
    let u = h
        .store
        .create_user(&root, &new_user("clerk_a", Role::WindowClerk, TOWN_A))
        .await
        .unwrap();
    let other = h
        .store
        .create_user(&root, &new_user("clerk_b", Role::WindowClerk, TOWN_B))
        .await
        .unwrap();
    let t0 = h.clock.now_utc();
    let session = |c: char, user: i64| Session {
        token_hash: c.to_string().repeat(64),
        user_id: user,
        csrf_token: "csrf".into(),
        created_at: t0,
        last_seen: t0,
        origin: "10.0.0.9".into(),
    };
    for s in [
        session('a', u.id),
        session('b', u.id),
        session('c', other.id),
    ] {
        h.store.create_session(&s).await.unwrap();
    }
    h.clock.advance(Duration::minutes(3));
    let ended = h
        .store
        .change_own_password(&u.actor("10.0.0.9"), "new-hash", &"a".repeat(64))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert!(h.store.session(&"a".repeat(64)).await.unwrap().is_some());
    assert!(h.store.session(&"b".repeat(64)).await.unwrap().is_none());
    assert!(h.store.session(&"c".repeat(64)).await.unwrap().is_some());
    let changed = h.store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(
        changed.password_changed_at,
        start_time() + Duration::minutes(3)
    );
    let last = all_events(&h.store).await.pop().unwrap();
    assert_eq!(last.entry.action, AuditAction::PasswordChanged);
    assert!(last.entry.detail.unwrap().contains("\"sessions_ended\":1"));

    // An administrator's reset ends all of them; so does deactivating the account.
    h.store
        .reset_password(&root, u.id, "otp-hash", true)
        .await
        .unwrap();
    assert!(h.store.session(&"a".repeat(64)).await.unwrap().is_none());
    h.store
        .update_user(
            &root,
            other.id,
            other.row_version,
            &UserPatch {
                active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(h.store.session(&"c".repeat(64)).await.unwrap().is_none());

    // Nobody deactivates his own account.
    let admin = h
        .store
        .create_user(&root, &new_user("admin_a", Role::SystemAdmin, "371002"))
        .await
        .unwrap();
    let own = admin.actor("10.0.0.1").grant::<ManageUsers>().unwrap();
    let err = h
        .store
        .update_user(
            &own,
            admin.id,
            admin.row_version,
            &UserPatch {
                active: Some(false),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Refused {
                code: "OWN_ACCOUNT",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(h.store.user_by_id(admin.id).await.unwrap().unwrap().active);
}

pub async fn audit_chain_verifies_and_is_append_only(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let n0 = all_events(&h.store).await.len();
    assert_eq!(n0, 1, "the tree import is one event");
    let id = id_number("371002", "19661212", 71);
    let p = h
        .store
        .create_person(&w, &id, &facts(&id, "钱多", VILLAGE_A), date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .update_person(
            &w,
            p.id,
            1,
            &facts(&id, "钱少", VILLAGE_A),
            date(2025, 2, 1),
        )
        .await
        .unwrap();
    // A refused write leaves no event.
    let _ = h
        .store
        .update_person(
            &w,
            p.id,
            1,
            &facts(&id, "钱无", VILLAGE_A),
            date(2025, 3, 1),
        )
        .await
        .unwrap_err();
    let rec = h
        .store
        .append_audit(
            &system(),
            AuditAction::AuditVerified,
            "audit",
            None,
            None,
            Some("ok"),
        )
        .await
        .unwrap();
    let events = all_events(&h.store).await;
    assert_eq!(events.len(), 4);
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(events[3], rec);
    assert_eq!(events[1].entry.action, AuditAction::PersonCreated);
    assert_eq!(events[1].entry.record_id, Some(p.id.to_string()));
    assert_eq!(events[1].entry.actor_user_id, Some(901));
    assert_eq!(events[1].entry.division.as_deref(), Some(VILLAGE_A));
    verify_chain(&events);

    // The database refuses to change or remove events.
    let upd = h
        .store
        .execute_raw("UPDATE audit_events SET detail = 'x' WHERE seq = 2")
        .await;
    assert!(upd.is_err(), "UPDATE on audit_events must be rejected");
    let del = h
        .store
        .execute_raw("DELETE FROM audit_events WHERE seq = 2")
        .await;
    assert!(del.is_err(), "DELETE on audit_events must be rejected");
    let events_after = all_events(&h.store).await;
    assert_eq!(events_after, events);

    // Behind the triggers' back an edit is caught by the chain, at that row.
    let drop = match h.store.backend() {
        crate::Backend::Sqlite => "DROP TRIGGER audit_events_no_update",
        crate::Backend::Postgres => "DROP TRIGGER audit_events_no_update ON audit_events",
    };
    h.store.execute_raw(drop).await.unwrap();
    h.store
        .execute_raw("UPDATE audit_events SET actor_name = 'someone' WHERE seq = 3")
        .await
        .unwrap();
    let tampered = all_events(&h.store).await;
    let mut v = ChainVerifier::default();
    let broken = tampered.iter().try_for_each(|e| v.check(e)).unwrap_err();
    assert_eq!(broken.seq(), 3);
}

pub async fn audit_log_is_scoped_and_filtered(h: Harness) {
    with_tree(&h).await;
    let wa = clerk_a().grant::<WriteRegistry>().unwrap();
    let wb = clerk_b().grant::<WriteRegistry>().unwrap();
    let ia = id_number("371002", "19710101", 81);
    let ib = id_number("371002", "19720202", 82);
    h.store
        .create_person(&wa, &ia, &facts(&ia, "甲", VILLAGE_A), date(2025, 1, 1))
        .await
        .unwrap();
    h.clock.advance(Duration::days(2));
    h.store
        .create_person(&wb, &ib, &facts(&ib, "乙", VILLAGE_B), date(2025, 1, 1))
        .await
        .unwrap();
    h.store
        .record_unknown_login("ghost", "10.0.0.1", 1)
        .await
        .unwrap();

    let town_auditor = staff(906, "auditor_a", Role::Auditor, TOWN_A)
        .grant::<ReadAudit>()
        .unwrap();
    let page = h
        .store
        .audit_log(&town_auditor, &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].entry.actor_name, "clerk_a");

    let national = system().grant::<ReadAudit>().unwrap();
    let page = h
        .store
        .audit_log(&national, &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 4, "tree import, two persons, unknown login");
    let seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [4, 3, 2, 1], "newest first");

    let county = staff(907, "auditor", Role::Auditor, "371002")
        .grant::<ReadAudit>()
        .unwrap();
    let q = AuditQuery {
        action: Some(AuditAction::PersonCreated),
        ..AuditQuery::default()
    };
    assert_eq!(h.store.audit_log(&county, &q).await.unwrap().total, 2);
    let q = AuditQuery {
        actor_name: Some("clerk_b".into()),
        ..AuditQuery::default()
    };
    assert_eq!(h.store.audit_log(&county, &q).await.unwrap().total, 1);
    // Dates are calendar days in China: the first person was created on 2026-03-01.
    let q = AuditQuery {
        from: Some(date(2026, 3, 1)),
        to: Some(date(2026, 3, 1)),
        ..AuditQuery::default()
    };
    let day1 = h.store.audit_log(&county, &q).await.unwrap();
    // The tree import is filed under the province, outside the county auditor's scope.
    assert_eq!(day1.total, 1, "only the first person");
    assert_eq!(day1.items[0].entry.actor_name, "clerk_a");
    let q = AuditQuery {
        record_kind: Some("person".into()),
        limit: 1,
        offset: 1,
        ..AuditQuery::default()
    };
    let paged = h.store.audit_log(&county, &q).await.unwrap();
    assert_eq!((paged.total, paged.items.len()), (2, 1));
    assert_eq!(paged.items[0].entry.actor_name, "clerk_a");
}

pub async fn reveal_is_audited(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let id = id_number("371002", "19880808", 91);
    let mut f = facts(&id, "冯敏", VILLAGE_A);
    f.bank_account = Some("6217000011112222333".into());
    let p = h
        .store
        .create_person(&w, &id, &f, date(2025, 1, 1))
        .await
        .unwrap();
    let g = clerk_a().grant::<RevealSensitive>().unwrap();
    let shown = h
        .store
        .reveal_person(&g, p.id, &["id_number", "bank_account"])
        .await
        .unwrap();
    assert_eq!(shown.id_number, id);
    assert_eq!(shown.facts.bank_account, f.bank_account);
    let ev = all_events(&h.store).await.pop().unwrap();
    assert_eq!(ev.entry.action, AuditAction::SensitiveRevealed);
    assert_eq!(ev.entry.record_kind, "person");
    assert_eq!(ev.entry.record_id, Some(p.id.to_string()));
    assert_eq!(ev.entry.actor_name, "clerk_a");
    let detail = ev.entry.detail.unwrap();
    assert!(
        detail.contains("id_number") && detail.contains("bank_account"),
        "{detail}"
    );
    // No event leaks the bank account.
    for e in all_events(&h.store).await {
        assert!(!serde_json::to_string(&e)
            .unwrap()
            .contains("6217000011112222333"));
    }
    assert!(matches!(
        h.store.reveal_person(&g, p.id + 100, &["id_number"]).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn timestamps_come_from_the_clock(h: Harness) {
    with_tree(&h).await;
    let w = clerk_a().grant::<WriteRegistry>().unwrap();
    let at = Utc.with_ymd_and_hms(2031, 7, 9, 3, 4, 5).single().unwrap()
        + Duration::microseconds(123_456);
    h.clock.set(at);
    let id = id_number("371002", "19770707", 95);
    let p = h
        .store
        .create_person(&w, &id, &facts(&id, "褚时", VILLAGE_A), date(2031, 1, 1))
        .await
        .unwrap();
    assert_eq!(p.created_at, at);
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    assert_eq!(
        h.store
            .get_person(&r, p.id)
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        at
    );
    let ev = all_events(&h.store).await.pop().unwrap();
    assert_eq!(ev.entry.at, format_time(at));
    assert_eq!(ev.entry.at, "2031-07-09T03:04:05.123456Z");
    h.store.ping().await.unwrap();
}

pub async fn concurrent_writes_keep_one_chain(h: Harness) {
    with_tree(&h).await;
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let store = h.store.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let w = clerk_a().grant::<WriteRegistry>().unwrap();
            let id = id_number("371002", "19900101", 100 + i);
            store
                .create_person(&w, &id, &facts(&id, "并发", VILLAGE_A), date(2025, 1, 1))
                .await
                .unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 24);
    let events = all_events(&h.store).await;
    assert_eq!(events.len(), 25);
    verify_chain(&events);
    let r = clerk_a().grant::<ReadRegistry>().unwrap();
    let all = h
        .store
        .search_persons(&r, &PersonQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 24);
}

/// A clock reading without going through the trait object (tests only).
trait NowUtc {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for FixedClock {
    fn now_utc(&self) -> DateTime<Utc> {
        jiuzhu_domain::Clock::now(self)
    }
}

// ---- policy revisions --------------------------------------------------------------------------

fn admin_at(id: i64, root: &str) -> Actor {
    staff(id, &format!("admin{id}"), Role::CountyManager, root)
}

pub(crate) fn weihai_850() -> crate::NewPolicyRevision {
    crate::NewPolicyRevision {
        region: code("371000"),
        param: "dibao.standard.urban".into(),
        effective_from: date(2027, 1, 1),
        value: "850.00".into(),
        document: "关于提高城乡低保标准的通知".into(),
        number: Some("威民发〔2026〕12号".into()),
        article: Some("第二条".into()),
        reason: "年度调标".into(),
        previous_value: Some("787.00".into()),
        retroactive_reason: None,
    }
}

/// Issue 12, point 11: a revision dated before today changes months already computed: refused
/// without a reason for it, recorded with it.
pub async fn policy_revisions_retroactive_need_a_reason(h: Harness) {
    use jiuzhu_domain::access::ManagePolicies;
    let g = admin_at(12, "370000").grant::<ManagePolicies>().unwrap();
    let mut past = weihai_850();
    past.effective_from = date(1990, 1, 1);
    let err = h
        .store
        .record_policy_revision(&g, 0, &past)
        .await
        .unwrap_err();
    match &err {
        StoreError::Invalid(v) => {
            assert_eq!(v.0[0].field, "effective_from");
            assert_eq!(v.0[0].code, "REVISION_RETROACTIVE");
            assert!(v.0[0].message.contains("1990-01-01"), "{}", v.0[0].message);
        }
        other => panic!("{other:?}"),
    }
    // Yesterday is in the past too; today is not.
    past.effective_from = date(2026, 2, 28);
    past.retroactive_reason = Some("  ".into());
    assert!(h.store.record_policy_revision(&g, 0, &past).await.is_err());
    past.retroactive_reason = Some("省厅通知自2月起执行,补发差额".into());
    let rev = h.store.record_policy_revision(&g, 0, &past).await.unwrap();
    assert_eq!(
        rev.reason,
        "年度调标(追溯生效:省厅通知自2月起执行,补发差额)"
    );
    let mut today = weihai_850();
    today.param = "dibao.standard.rural".into();
    today.effective_from = date(2026, 3, 1);
    h.store
        .record_policy_revision(&g, rev.seq, &today)
        .await
        .unwrap();
}

pub async fn policy_revisions_record_list_and_conflict(h: Harness) {
    use jiuzhu_domain::access::ManagePolicies;
    use jiuzhu_domain::policy_revision::RevisionKind;

    // Only county managers may change policies.
    for role in Role::ALL.iter().filter(|r| **r != Role::CountyManager) {
        assert!(staff(7, "x", *role, "371000")
            .grant::<ManagePolicies>()
            .is_err());
    }
    let admin = admin_at(11, "000000");
    let g = admin.grant::<ManagePolicies>().unwrap();
    let read = clerk_a().grant::<ReadRegistry>().unwrap();
    let n0 = all_events(&h.store).await.len();

    let r1 = h
        .store
        .record_policy_revision(&g, 0, &weihai_850())
        .await
        .unwrap();
    assert_eq!(r1.seq, 1);
    assert_eq!(r1.kind, RevisionKind::Set);
    assert_eq!(r1.value, "850.00");
    assert_eq!(r1.user_id, Some(11));
    assert_eq!(r1.user_name, "admin11");
    assert_eq!(r1.recorded_at, start_time());
    assert_eq!(r1.number.as_deref(), Some("威民发〔2026〕12号"));

    // Another region has its own sequence of expectations.
    let mut bozhou = weihai_850();
    bozhou.region = code("520304");
    bozhou.value = "700".into();
    let r2 = h
        .store
        .record_policy_revision(&g, 0, &bozhou)
        .await
        .unwrap();
    assert_eq!(r2.seq, 2);

    // A stale expectation is a conflict and writes nothing.
    let mut again = weihai_850();
    again.value = "860".into();
    let err = h
        .store
        .record_policy_revision(&g, 0, &again)
        .await
        .unwrap_err();
    match err {
        StoreError::Conflict {
            kind,
            id,
            expected,
            actual,
        } => {
            assert_eq!(
                (kind, id.as_str(), expected, actual),
                ("policy_region", "371000", 0, 1)
            );
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let r3 = h.store.record_policy_revision(&g, 1, &again).await.unwrap();
    assert_eq!(r3.seq, 3);

    // Lists: everything (anyone may read policies), or one region, in seq order.
    let all = h.store.policy_revisions(&read, None).await.unwrap();
    assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[0], r1);
    let weihai = h
        .store
        .policy_revisions(&read, Some(&code("371000")))
        .await
        .unwrap();
    assert_eq!(
        weihai.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(),
        ["850.00", "860"]
    );

    // Each revision is one audit event with the old and the new value.
    let events = all_events(&h.store).await;
    assert_eq!(events.len(), n0 + 3);
    let ev = &events[n0];
    assert_eq!(ev.entry.action, AuditAction::PolicyRevised);
    assert_eq!(ev.entry.record_kind, "policy_revision");
    assert_eq!(ev.entry.record_id.as_deref(), Some("1"));
    assert_eq!(ev.entry.division.as_deref(), Some("371000"));
    assert_eq!(ev.entry.actor_user_id, Some(11));
    let before = ev.entry.before.as_ref().unwrap();
    let after = ev.entry.after.as_ref().unwrap();
    assert_eq!(before["value"], "787.00");
    assert_eq!(after["value"], "850.00");
    assert_eq!(after["param"], "dibao.standard.urban");
    assert_eq!(after["effective_from"], "2027-01-01");
    assert_eq!(after["revision"], "r1");
    verify_chain(&events);

    // An administrator of another province may not change 威海's policy; a township is no
    // policy region; required fields are named.
    let guizhou = admin_at(12, "520000").grant::<ManagePolicies>().unwrap();
    let err = h
        .store
        .record_policy_revision(&guizhou, 3, &weihai_850())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::OutOfScope(ref c) if c == "371000"),
        "{err:?}"
    );
    let mut township = weihai_850();
    township.region = code(TOWN_A);
    township.reason = " ".into();
    let err = h
        .store
        .record_policy_revision(&g, 0, &township)
        .await
        .unwrap_err();
    let codes = field_codes(&err);
    assert!(codes.contains(&(None, "region".into(), "POLICY_REGION_LEVEL".into())));
    assert!(codes.contains(&(None, "reason".into(), "REQUIRED".into())));
    assert_eq!(all_events(&h.store).await.len(), n0 + 3);

    // The table is append-only.
    assert!(h
        .store
        .execute_raw("UPDATE policy_revisions SET value = '1' WHERE seq = 1")
        .await
        .is_err());
    assert!(h
        .store
        .execute_raw("DELETE FROM policy_revisions WHERE seq = 1")
        .await
        .is_err());
    assert_eq!(
        h.store.policy_revisions(&read, None).await.unwrap().len(),
        3
    );
}

pub async fn policy_revisions_withdraw(h: Harness) {
    use jiuzhu_domain::access::ManagePolicies;
    use jiuzhu_domain::policy_revision::RevisionKind;

    let g = admin_at(11, "370000").grant::<ManagePolicies>().unwrap();
    let read = system().grant::<ReadRegistry>().unwrap();
    let future = h
        .store
        .record_policy_revision(&g, 0, &weihai_850())
        .await
        .unwrap();
    let mut now = weihai_850();
    now.param = "dibao.standard.rural".into();
    now.effective_from = date(2026, 3, 1);
    now.value = "600".into();
    let in_force = h
        .store
        .record_policy_revision(&g, future.seq, &now)
        .await
        .unwrap();
    let n0 = all_events(&h.store).await.len();

    // In force already (today is 2026-03-01): refused, a correction is a new revision.
    let err = h
        .store
        .withdraw_policy_revision(&g, in_force.seq, in_force.seq, "录错")
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(&err),
        [(None, "seq".into(), "POLICY_REVISION_IN_FORCE".into())]
    );
    // Stale expectation: conflict.
    let err = h
        .store
        .withdraw_policy_revision(&g, future.seq, future.seq, "文件暂缓执行")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { actual: 2, .. }),
        "{err:?}"
    );
    // Unknown revision.
    let err = h
        .store
        .withdraw_policy_revision(&g, in_force.seq, 99, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

    let w = h
        .store
        .withdraw_policy_revision(&g, in_force.seq, future.seq, "文件暂缓执行")
        .await
        .unwrap();
    assert_eq!(w.seq, 3);
    assert_eq!(w.kind, RevisionKind::Withdraw);
    assert_eq!(w.withdraws, Some(future.seq));
    assert_eq!(w.param, "dibao.standard.urban");
    assert_eq!(w.value, "850.00");
    assert_eq!(w.reason, "文件暂缓执行");
    assert_eq!(w.document, None);
    // Not twice, and a withdrawal is not itself withdrawable.
    let err = h
        .store
        .withdraw_policy_revision(&g, w.seq, future.seq, "again")
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(&err),
        [(None, "seq".into(), "POLICY_REVISION_WITHDRAWN".into())]
    );
    let err = h
        .store
        .withdraw_policy_revision(&g, w.seq, w.seq, "again")
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(&err),
        [(None, "seq".into(), "POLICY_REVISION_NOT_SET".into())]
    );

    let events = all_events(&h.store).await;
    assert_eq!(events.len(), n0 + 1);
    let ev = &events[n0];
    assert_eq!(ev.entry.action, AuditAction::PolicyRevisionWithdrawn);
    assert_eq!(ev.entry.record_id.as_deref(), Some("1"));
    assert_eq!(ev.entry.before.as_ref().unwrap()["value"], "850.00");
    assert_eq!(ev.entry.after.as_ref().unwrap()["withdraws"], "r1");
    verify_chain(&events);
    let list = h.store.policy_revisions(&read, None).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[2], w);
}
