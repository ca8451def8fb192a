//! The privacy findings of the security test outside the person page, each repeated as an
//! attack over HTTP (docs/security.md, "Privacy beyond the person page"):
//!
//! * a county medical-insurance officer opened every case of the county, protected ones
//!   included, and browsed the register, incomes and reserve fund;
//! * auditors got 403 on the monthly comparison's reads;
//! * warning evidence (deposit balances, medical costs) and a household's financial assets
//!   were shown without a reveal or an audit event;
//! * the audit events of feed deliveries carried no division, so county auditors never saw
//!   them.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::access::{ReadRegistry, RunVerification};
use jiuzhu_domain::{Actor, Clock, DivisionCode, Person, Role};
use jiuzhu_store::{HouseholdQuery, NewRun, NewWarning};
use serde_json::{json, Value};

const OFFICER: (&str, &str) = ("officer_yibao", "Demo@2026-medins");
/// The demo assistant's village (a community of township A).
const VILLAGE: &str = "371002001001";

/// The heads of the first `n` households under `division`, with their households.
async fn heads(app: &TestApp, division: &str, n: usize) -> Vec<(Person, i64)> {
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let page = app
        .store
        .search_households(
            &g,
            &HouseholdQuery {
                division: Some(DivisionCode::parse(division).unwrap()),
                limit: n as i64,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), n, "{n} households under {division}");
    let mut out = Vec::new();
    for h in page.items {
        let snap = app
            .store
            .household_as_of(&g, h.id, app.clock.now().date_naive())
            .await
            .unwrap()
            .unwrap();
        let head = snap
            .members
            .iter()
            .find(|m| m.membership.relation == jiuzhu_domain::Relation::Head)
            .unwrap();
        out.push((head.person.clone(), h.id));
    }
    out
}

/// A delivery of `kind` pushed by `s` (CSV): its id.
async fn push(app: &TestApp, s: &Session, kind: &str, id: &str) -> i64 {
    let csv = match kind {
        "medical_claims" => format!(
            "id_number,settlement_date,total_cost,out_of_pocket\n{id},2026-02-10,9000.00,5000.00\n"
        ),
        _ => format!(
            "id_number,institution_code,account_type,balance,as_of\n{id},B001,savings,100.00,2026-02-28\n"
        ),
    };
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/api/v1/feeds/{kind}?source={}&data_date=2026-02-28",
            jiuzhu_import::demo_feeds::source_of(kind).unwrap_or("x")
        ))
        .header(axum::http::header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(axum::http::header::CONTENT_TYPE, "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["delivery"]["id"].as_i64().unwrap()
}

/// Registers an application at township A's window; the case's id.
async fn register(app: &TestApp, clerk: &Session, workflow: &str, p: &(Person, i64)) -> i64 {
    register_with(app, clerk, workflow, p, false).await
}

async fn register_with(
    app: &TestApp,
    clerk: &Session,
    workflow: &str,
    p: &(Person, i64),
    protected: bool,
) -> i64 {
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(clerk),
            Some(
                json!({"workflow": workflow, "household_id": p.1, "applicant_id": p.0.id,
                "documents": ["id_card", "verification_authorisation"], "protected": protected}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{workflow}: {}", r.text());
    r.json()["id"].as_i64().unwrap()
}

/// One action on a case as `s` (the case's current revision).
async fn act(app: &TestApp, s: &Session, case: i64, step: &str, atts: Value) -> Resp {
    let rev = app
        .get(&format!("/api/v1/cases/{case}"), Some(s))
        .await
        .json()["revision"]
        .clone();
    app.call(
        Method::POST,
        &format!("/api/v1/cases/{case}/actions"),
        Some(s),
        Some(json!({"revision": rev, "step": step, "action": "complete",
            "opinion": "同意", "attachments": atts})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_reads_its_referrals_and_nothing_else() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let people = heads(&app, TOWNSHIP_A, 4).await;
    let medical = register(&app, &clerk, "referral_medical", &people[0]).await;
    let dibao = register(&app, &clerk, "dibao", &people[1]).await;
    let protected = register_with(&app, &clerk, "dibao", &people[2], true).await;
    let education = register(&app, &clerk, "referral_education", &people[3]).await;
    let officer = app.login(OFFICER.0, OFFICER.1).await;

    // The referral: the case page and its API, the applicant masked, without the register.
    let (p, household) = &people[0];
    let page = app.get(&format!("/cases/{medical}"), Some(&officer)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains(&p.facts.name));
    assert!(html.contains(&p.id_number.masked()));
    assert!(!html.contains(p.id_number.as_str()));
    // No way into the register from there.
    assert!(!html.contains("href=\"/households/") && !html.contains("href=\"/documents"));
    let v = app
        .get(&format!("/api/v1/cases/{medical}"), Some(&officer))
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.json()["department"], "medical_insurance");
    assert_eq!(v.json()["applicant_id_masked"], p.id_number.masked());
    let listed = app.get("/api/v1/cases", Some(&officer)).await.json();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], medical);

    // It handles the referral once the township routes it: the queue, then the feedback.
    let r = act(
        &app,
        &clerk,
        medical,
        "route",
        json!([{"kind": "referral_form", "id": "转介单 2026-001"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let tasks = app.get("/api/v1/tasks", Some(&officer)).await.json();
    let queued: Vec<i64> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["case_id"].as_i64().unwrap())
        .collect();
    assert_eq!(queued, vec![medical]);
    let r = act(
        &app,
        &officer,
        medical,
        "handle",
        json!([{"kind": "department_feedback", "id": "医保反馈 2026-001"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "approved");
    let letter = app
        .get(&format!("/api/v1/cases/{medical}/letter"), Some(&officer))
        .await;
    assert_eq!(letter.status, StatusCode::OK, "{}", letter.text());
    assert_eq!(letter.json()["masked_id_number"], p.id_number.masked());

    // Everything else is not found: other programs' cases, a protected case, another
    // department's referral, the register, the economics, the reserve fund and search.
    let (q, other_household) = &people[1];
    for path in [
        format!("/cases/{dibao}"),
        format!("/api/v1/cases/{dibao}"),
        format!("/cases/{protected}"),
        format!("/api/v1/cases/{protected}"),
        format!("/cases/{education}"),
        format!("/api/v1/cases/{education}"),
        format!("/cases/{dibao}/letter"),
        format!("/cases/{dibao}/verification-report"),
        format!("/persons/{}", p.id),
        format!("/api/v1/persons/{}", q.id),
        format!("/households/{household}"),
        format!("/api/v1/households/{other_household}"),
        format!("/api/v1/households/{household}/economics"),
        format!("/calc?household={household}"),
        "/reserve-fund".to_string(),
        format!("/reserve-fund?township={TOWNSHIP_A}"),
        "/api/v1/reserve-fund".to_string(),
        format!("/search?q={}", q.id_number),
        format!("/api/v1/persons?q={}", q.id_number),
        "/api/v1/households?q=H".to_string(),
        "/month".to_string(),
        "/api/v1/month?month=2026-02".to_string(),
    ] {
        let r = app.get(&path, Some(&officer)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
        let text = r.text();
        assert!(!text.contains(&q.facts.name), "{path} names the applicant");
        assert!(!text.contains(&people[2].0.facts.name), "{path}");
    }
    // The lists it keeps name none of the others.
    for path in [
        "/cases",
        "/api/v1/cases",
        "/tasks",
        "/notices",
        "/filing",
        "/",
    ] {
        let r = app.get(path, Some(&officer)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        for (other, _) in &people[1..] {
            assert!(!r.text().contains(&other.facts.name), "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_cases_are_read_by_their_handlers_and_auditors_only() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let people = heads(&app, VILLAGE, 1).await;
    // A protected medical referral: the medical officer handles it; the village assistant and
    // the county approver act on no step of a referral.
    let case = register_with(&app, &clerk, "referral_medical", &people[0], true).await;
    let name = &people[0].0.facts.name;
    for (user, visible) in [
        (app.clerk_a(), true),
        (app.user(Role::TownshipReviewer, TOWNSHIP_A), true),
        (app.user(Role::Auditor, "371002"), true),
        (app.user(Role::VillageAssistant, VILLAGE), false),
        (app.user(Role::CountyApprover, "371002"), false),
    ] {
        let s = app.login_as(&user).await;
        let r = app.get(&format!("/api/v1/cases/{case}"), Some(&s)).await;
        let want = if visible {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(r.status, want, "{:?}: {}", user.role, r.text());
        let list = app.get("/cases", Some(&s)).await.text();
        assert_eq!(list.contains(name.as_str()), visible, "{:?}", user.role);
    }
    let officer = app.login(OFFICER.0, OFFICER.1).await;
    let r = app.get(&format!("/cases/{case}"), Some(&officer)).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// A month's run over households of the assistant's village: a deposit balance, a medical
/// cost and a vehicle; the warnings' ids by kind.
async fn run_with_evidence(app: &TestApp, households: &[(Person, i64)]) -> Vec<(String, i64)> {
    let ev = |source: &str, value: &str| {
        json!({"source": source, "department": "数据来源", "delivery": 1,
            "data_date": "2026-02-28", "row": 2, "person": "371002************",
            "value": value, "threshold": "30000.00", "records": 2})
        .to_string()
    };
    let division = DivisionCode::parse(VILLAGE).unwrap();
    let warnings = [
        ("DEPOSIT", "deposits", "95000.00"),
        ("MEDICAL", "medical_claims", "5000.00"),
        ("VEHICLE", "vehicles", "car"),
    ]
    .iter()
    .zip(households)
    .map(|((kind, source, value), (_, hh))| NewWarning {
        household_id: *hh,
        kind: kind.to_string(),
        division: division.clone(),
        evidence: ev(source, value),
        facts: jiuzhu_store::warning_facts("", value),
    })
    .collect::<Vec<_>>();
    let run = app
        .store
        .store_run(
            &Actor::system("test").grant::<RunVerification>().unwrap(),
            &NewRun {
                month: "2026-02".into(),
                division: DivisionCode::parse("371002").unwrap(),
                started_at: app.clock.now(),
                delivery_ids: vec![1],
                households: 3,
                due: chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
            },
            &warnings,
        )
        .await
        .unwrap();
    let g = Actor::system("test")
        .grant::<jiuzhu_domain::access::ReadVerification>()
        .unwrap();
    app.store
        .list_warnings(
            &g,
            &jiuzhu_store::WarningQuery {
                run_id: Some(run.id),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .iter()
        .map(|w| (w.kind.clone(), w.id))
        .collect()
}

fn id_of(ws: &[(String, i64)], kind: &str) -> i64 {
    ws.iter().find(|(k, _)| k == kind).unwrap().1
}

async fn reveals(app: &TestApp, kind: &str) -> Vec<Value> {
    let auditor = app.login_as(&app.user(Role::Auditor, "371002")).await;
    let log = app
        .get(
            "/api/v1/audit?action=sensitive_revealed&limit=50",
            Some(&auditor),
        )
        .await
        .json();
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["record_kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_amounts_are_shown_only_through_an_audited_reveal() {
    let app = TestApp::new().await;
    let households = heads(&app, VILLAGE, 3).await;
    let ws = run_with_evidence(&app, &households).await;
    let deposit = id_of(&ws, "DEPOSIT");
    let medical = id_of(&ws, "MEDICAL");
    let vehicle = id_of(&ws, "VEHICLE");

    // The village assistant handles the warnings but never sees the balance or the cost.
    let assistant = app
        .login_as(&app.user(Role::VillageAssistant, VILLAGE))
        .await;
    for path in [
        "/warnings".to_string(),
        "/api/v1/warnings".to_string(),
        format!("/warnings/{deposit}"),
        format!("/api/v1/warnings/{deposit}"),
        format!("/warnings/{medical}"),
        format!("/api/v1/warnings/{medical}"),
    ] {
        let r = app.get(&path, Some(&assistant)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let t = r.text();
        assert!(
            !t.contains("95000") && !t.contains("5000.00"),
            "{path}: {t}"
        );
        assert!(t.contains("***"), "{path}");
    }
    let page = app
        .get(&format!("/warnings/{deposit}"), Some(&assistant))
        .await
        .text();
    assert!(
        !page.contains("查看比对值原文"),
        "no reveal for the assistant"
    );
    // What is not bank or health data stays shown.
    let v = app
        .get(&format!("/api/v1/warnings/{vehicle}"), Some(&assistant))
        .await
        .json();
    assert_eq!(v["evidence"]["value"], "car");
    assert_eq!(v["evidence_masked"], false);
    for path in [
        format!("/api/v1/warnings/{deposit}/reveal"),
        format!("/warnings/{deposit}/reveal"),
    ] {
        let r = app.call(Method::POST, &path, Some(&assistant), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!r.text().contains("95000"));
    }
    assert!(reveals(&app, "warning").await.is_empty());

    // The clerk sees it masked until 查看, which the audit log records.
    let clerk = app.login_as(&app.clerk_a()).await;
    let page = app
        .get(&format!("/warnings/{deposit}"), Some(&clerk))
        .await
        .text();
    assert!(!page.contains("95000"));
    assert!(page.contains("查看比对值原文"));
    let r = app
        .form(
            &format!("/warnings/{deposit}/reveal"),
            Some(&clerk.cookie),
            &[("_csrf", clerk.csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("95000.00"));
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/warnings/{medical}/reveal"),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(r.json()["evidence"]["value"], "5000.00");
    let log = reveals(&app, "warning").await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log
        .iter()
        .all(|e| e["actor_name"] == app.clerk_a().username));
    let ids: Vec<String> = log
        .iter()
        .map(|e| e["record_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&deposit.to_string()) && ids.contains(&medical.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn financial_assets_are_shown_only_through_an_audited_reveal() {
    let app = TestApp::new().await;
    let (p, hh) = heads(&app, VILLAGE, 1).await.remove(0);
    let clerk = app.login_as(&app.clerk_a()).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/households/{hh}/economics"),
            Some(&clerk),
            Some(json!({"valid_from": "2026-01-01", "economics": {
                "members": [{"person_id": p.id, "income": "300.00"}],
                "assets": {"financial": "12345.00", "dwellings": 1}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["economics"]["assets"]["financial"], "***");

    // Neither the assistant, nor the clerk, nor the auditor is shown the amount by reading.
    for user in [
        app.user(Role::VillageAssistant, VILLAGE),
        app.clerk_a(),
        app.user(Role::Auditor, "371002"),
    ] {
        let s = app.login_as(&user).await;
        let api = app
            .get(&format!("/api/v1/households/{hh}/economics"), Some(&s))
            .await;
        assert_eq!(api.status, StatusCode::OK);
        assert_eq!(
            api.json()["record"]["economics"]["assets"]["financial"],
            "***",
            "{:?}",
            user.role
        );
        let mut pages = vec![format!("/households/{hh}"), format!("/calc?household={hh}")];
        if user.role != Role::Auditor {
            pages.push(format!("/households/{hh}/economics"));
        }
        for path in pages {
            let r = app.get(&path, Some(&s)).await;
            assert_eq!(r.status, StatusCode::OK, "{:?} {path}", user.role);
            assert!(!r.text().contains("12345"), "{:?} {path}", user.role);
        }
    }
    // The assistant may not reveal.
    let assistant = app
        .login_as(&app.user(Role::VillageAssistant, VILLAGE))
        .await;
    let page = app
        .get(&format!("/households/{hh}"), Some(&assistant))
        .await
        .text();
    assert!(!page.contains("reveal-financial"));
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/households/{hh}/economics/reveal"),
            Some(&assistant),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(reveals(&app, "household_economics").await.is_empty());

    // The clerk reveals on the page and through the API; each is an audit event.
    let page = app
        .get(&format!("/households/{hh}"), Some(&clerk))
        .await
        .text();
    assert!(page.contains("reveal-financial"));
    let r = app
        .form(
            &format!("/households/{hh}/economics/reveal"),
            Some(&clerk.cookie),
            &[("_csrf", clerk.csrf.as_str()), ("as_of", "2026-03-02")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("12345.00"));
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/households/{hh}/economics/reveal"),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["record"]["economics"]["assets"]["financial"],
        "12345.00"
    );
    let log = reveals(&app, "household_economics").await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log
        .iter()
        .all(|e| e["record_id"] == json!(hh.to_string())
            && e["actor_name"] == app.clerk_a().username));
    assert!(!serde_json::to_string(&log).unwrap().contains("12345"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_read_the_comparison_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let households = heads(&app, VILLAGE, 3).await;
    let ws = run_with_evidence(&app, &households).await;
    let warning = id_of(&ws, "DEPOSIT");
    // A delivery by the medical officer, and an outreach lead of someone not registered.
    let officer = app.login(OFFICER.0, OFFICER.1).await;
    let stranger = app.unused.members[0].id_number.clone();
    let delivery = push(&app, &officer, "medical_claims", stranger.as_str()).await;
    app.store
        .store_outreach_leads(
            &Actor::system("test").grant::<RunVerification>().unwrap(),
            &jiuzhu_store::LeadRun {
                run_id: 1,
                month: "2026-02".into(),
                fallback_division: DivisionCode::parse("371002").unwrap(),
            },
            &[jiuzhu_store::NewLead {
                id_number: stranger.clone(),
                delivery_id: Some(delivery),
                row: 2,
                settlement_date: chrono::NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(),
                out_of_pocket: jiuzhu_domain::Money::from_yuan(9000),
                threshold: jiuzhu_domain::Money::from_yuan(8000),
            }],
        )
        .await
        .unwrap();

    let auditor = app.login_as(&app.user(Role::Auditor, "371002")).await;
    let lead = stranger.masked();
    for (path, marker) in [
        ("/api/v1/warnings".to_string(), "DEPOSIT"),
        (format!("/api/v1/warnings/{warning}"), "DEPOSIT"),
        ("/warnings".to_string(), "家庭存款超过限额"),
        (format!("/warnings/{warning}"), "比对依据"),
        ("/api/v1/verification/runs".to_string(), "2026-02"),
        ("/verification/runs".to_string(), "2026-02"),
        ("/api/v1/feeds".to_string(), "medical_claims"),
        ("/feeds".to_string(), "医疗费用结算"),
        (format!("/feeds/{delivery}"), "医疗费用结算"),
        ("/api/v1/verification/leads".to_string(), lead.as_str()),
        ("/verification/leads".to_string(), lead.as_str()),
        ("/api/v1/zero-reports?month=2026-02".to_string(), "2026-02"),
        ("/warnings/zero-report?month=2026-02".to_string(), "零报告"),
        (
            "/api/v1/verification/dashboard?month=2026-02".to_string(),
            "DEPOSIT",
        ),
        (
            "/verification/dashboard?month=2026-02".to_string(),
            "家庭存款超过限额",
        ),
    ] {
        let r = app.get(&path, Some(&auditor)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        let t = r.text();
        assert!(t.contains(marker), "{path} lacks {marker}");
        // Read-only: no form to close, file, run, upload or mark.
        for form in [
            "提交并销号",
            "选中的预警核实无影响",
            "报送零报告",
            "开始本月比对",
            "上传并校验",
            "标记已处理",
        ] {
            assert!(!t.contains(form), "{path} offers {form}");
        }
        // Outreach leads name registered persons only by a masked number.
        assert!(!t.contains(stranger.as_str()), "{path}");
    }
    let before = app
        .get(&format!("/api/v1/warnings/{warning}"), Some(&auditor))
        .await
        .json();
    for (path, body) in [
        (
            format!("/api/v1/warnings/{warning}/close"),
            json!({"result": "no_effect", "note": "审计", "row_version": 1}),
        ),
        (
            "/api/v1/warnings/close".to_string(),
            json!({"items": [{"id": warning, "row_version": 1}], "note": "审计"}),
        ),
        (
            "/api/v1/zero-reports".to_string(),
            json!({"division": VILLAGE, "month": "2026-02"}),
        ),
        (
            "/api/v1/verification/runs".to_string(),
            json!({"month": "2026-02"}),
        ),
        (
            "/api/v1/verification/leads/1/handle".to_string(),
            json!({"note": "审计"}),
        ),
    ] {
        let r = app
            .call(Method::POST, &path, Some(&auditor), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text());
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/feeds/deposits?source=WHCCB-HC&data_date=2026-02-28",
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let after = app
        .get(&format!("/api/v1/warnings/{warning}"), Some(&auditor))
        .await
        .json();
    assert_eq!(before, after);

    // The delivery's audit event carries the county: the county's auditor sees it.
    let log = app
        .get("/api/v1/audit?action=feed_delivered", Some(&auditor))
        .await
        .json();
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(log["items"][0]["division"], "371002");
    assert_eq!(log["items"][0]["actor_name"], OFFICER.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_reads_its_own_departments_deliveries_only() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let officer = app.login(OFFICER.0, OFFICER.1).await;
    let id = app.unused.members[0].id_number.clone();
    let deposits = push(&app, &approver, "deposits", id.as_str()).await;
    let claims = push(&app, &officer, "medical_claims", id.as_str()).await;
    let listed = app.get("/api/v1/feeds", Some(&officer)).await.json();
    let ids: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![claims]);
    assert_eq!(
        app.get(&format!("/feeds/{deposits}"), Some(&officer))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/feeds/{claims}"), Some(&officer))
            .await
            .status,
        StatusCode::OK
    );
    let page = app.get("/feeds", Some(&officer)).await.text();
    assert!(!page.contains("存款及金融资产</td>"));
    // The county reads both.
    let all = app.get("/api/v1/feeds", Some(&approver)).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
}
