//! The month's comparison through the application: each household judged by its own county's
//! policy, read from the policy files and the stored revisions (issue 13, drift "thresholds
//! written in code").

use chrono::NaiveDate;
use jiuzhu_app::verification::{self, NewFeedFile};
use jiuzhu_app::App;
use jiuzhu_domain::access::{
    ImportCaseload, ImportFeeds, ManageDivisions, ManageFeedSources, ManagePolicies,
    RunVerification,
};
use jiuzhu_domain::caseload::{CaseloadBatch, ImportHousehold, ImportMember};
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{Actor, Area, DivisionCode, FeedKind, IdNumber, Month, Relation, Role, Scope};
use jiuzhu_store::kept::FeedError;
use jiuzhu_store::{NewFeedSource, NewPolicyRevision};

use super::Db;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A valid identity number of a person registered in `county`, born 1980-01-01.
fn id_in(county: &str, seq: u32) -> String {
    let body = format!("{county}19800101{seq:03}");
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!("{body}{}", check_char(&b))
}

/// One single-member urban household in each of `villages`, imported as current recipients
/// since 2026-01-01, and one bank's deposits of 40000.00 for each member (2026-02-28).
async fn caseload_with_deposits(app: &App, villages: &[&str]) -> Vec<String> {
    let system = Actor::system("test");
    let counties: Vec<(DivisionCode, String)> = villages
        .iter()
        .map(|v| (code(&v[..6]), format!("县{}", &v[..6])))
        .collect();
    app.store()
        .import_divisions(&system.grant::<ManageDivisions>().unwrap(), &counties)
        .await
        .unwrap();
    let ids: Vec<String> = villages
        .iter()
        .enumerate()
        .map(|(i, v)| id_in(&v[..6], i as u32 + 1))
        .collect();
    let batch = CaseloadBatch {
        households: villages
            .iter()
            .enumerate()
            .map(|(i, v)| ImportHousehold {
                row: i + 2,
                source_ref: format!("H{i}"),
                division: code(v),
                area: Area::Urban,
                address: "某路1号".into(),
            })
            .collect(),
        members: ids
            .iter()
            .enumerate()
            .map(|(i, id)| ImportMember {
                row: i + 2,
                household: i,
                id_number: IdNumber::parse(id).unwrap(),
                name: format!("成员{i}"),
                relation: Relation::Head,
                facts: None,
            })
            .collect(),
        valid_from: day(2026, 1, 1),
        create_missing_divisions: true,
        current_recipients: true,
        source: "test".into(),
    };
    app.store()
        .import_caseload(
            &system.grant::<ImportCaseload>().unwrap(),
            &batch,
            &|_, _| {},
        )
        .await
        .unwrap();
    app.store()
        .register_feed_source(
            &system.grant::<ManageFeedSources>().unwrap(),
            &NewFeedSource {
                kind: "deposits".into(),
                code: "BANK".into(),
                name: "某银行".into(),
                division: DivisionCode::nation(),
                accounts: Vec::new(),
            },
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deposits.csv");
    let mut csv = "id_number,institution_code,account_type,balance,as_of\n".to_string();
    for id in &ids {
        csv += &format!("{id},B001,savings,40000.00,2026-02-28\n");
    }
    std::fs::write(&path, csv).unwrap();
    verification::import_feed(
        app,
        &system.grant::<ImportFeeds>().unwrap(),
        &NewFeedFile {
            kind: FeedKind::Deposits,
            source: "BANK".into(),
            data_date: day(2026, 2, 28),
            path,
            staged: false,
        },
    )
    .await
    .unwrap();
    ids
}

async fn run_february(app: &App) -> Result<verification::RunReport, FeedError> {
    let g = Actor::system("test").grant::<RunVerification>().unwrap();
    let planned = verification::plan_run(app, &g, Month::parse("2026-02").unwrap(), None)
        .await
        .unwrap();
    verification::run_planned(app, &g, planned).await
}

pub async fn a_run_judges_each_household_by_its_county(db: Db) {
    let app = db.open().await;
    caseload_with_deposits(&app, &["371002001001", "520304001001"]).await;
    // Bozhou raises its deposit limit to 50000.00 a member from January; Weihai keeps the
    // national 30000.00.
    let manager = Actor {
        user_id: Some(11),
        username: "county11".into(),
        role: Role::CountyManager,
        department: None,
        scope: Scope::new(code("520304")),
        origin: "127.0.0.1".into(),
        pending_approval: false,
    };
    app.store()
        .record_policy_revision(
            &manager.grant::<ManagePolicies>().unwrap(),
            0,
            &NewPolicyRevision {
                region: code("520304"),
                param: "verify.deposit.limit_per_member".into(),
                effective_from: day(2026, 1, 1),
                value: "50000".into(),
                document: "关于调整存款核对标准的通知".into(),
                number: Some("亳民发〔2026〕3号".into()),
                article: Some("第一条".into()),
                reason: "年度调整".into(),
                previous_value: Some("30000.00".into()),
                retroactive_reason: Some("自年初起执行".into()),
            },
        )
        .await
        .unwrap();

    let report = run_february(&app).await.unwrap();
    assert_eq!(report.run.households, 2);
    assert_eq!(report.run.warnings, 1);
    let w = &report.warnings[0];
    assert_eq!(
        report.caseload.division(w.household).to_string(),
        "371002001001"
    );
    assert_eq!(
        w.evidence.threshold.map(|m| m.to_string()).as_deref(),
        Some("30000.00")
    );
}

pub async fn a_run_refuses_a_county_without_policy(db: Db) {
    let app = db.open().await;
    // No policy file covers Hunan's 430321.
    caseload_with_deposits(&app, &["371002001001", "430321001001"]).await;
    let err = match run_february(&app).await {
        Err(FeedError::Invalid(message)) => message,
        other => panic!(
            "expected a refusal, got {:?}",
            other.map(|r| r.run.warnings)
        ),
    };
    assert!(
        err.starts_with("以下县(市、区)没有可用的政策参数,不能比对:430321"),
        "{err}"
    );
}
