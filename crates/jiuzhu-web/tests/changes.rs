//! Changes of a running benefit over HTTP (docs/cases.md): 发起变更 on an approved case (API and
//! form), the change case through the normal step forms, the benefit status per case and
//! household, the change decision letter, and ended cases on the county filing list.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Clock, Relation, Role};
use serde_json::{json, Value};

async fn ok(app: &TestApp, s: &Session, case: &Value, body: Value) -> Value {
    let mut body = body;
    body["revision"] = case["revision"].clone();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{}/actions", case["id"]),
            Some(s),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text());
    r.json()
}

/// The first `n` household heads of township A: (household, person).
async fn heads(app: &TestApp, n: usize) -> Vec<(i64, i64)> {
    let sys = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let mut out = Vec::new();
    for m in &app.demo.batch.members {
        let hh = &app.demo.batch.households[m.household];
        if m.relation != Relation::Head || !hh.division.as_str().starts_with(TOWNSHIP_A) {
            continue;
        }
        let p = app
            .store
            .find_person_by_id_number(&sys, &m.id_number)
            .await
            .unwrap()
            .unwrap();
        out.push((app.household_of(&p).await, p.id));
        if out.len() == n {
            break;
        }
    }
    out
}

async fn record_economics(app: &TestApp, s: &Session, hh: i64) {
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let snap = app
        .store
        .household_as_of(&g, hh, app.clock.today())
        .await
        .unwrap()
        .unwrap();
    let members: Vec<Value> = snap
        .members
        .iter()
        .map(|m| json!({"person_id": m.person.id, "income": "0"}))
        .collect();
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/households/{hh}/economics"),
            Some(s),
            Some(json!({"valid_from": "2026-01-01", "economics": {
                "members": members, "assets": {"financial": "500", "dwellings": 1}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// An approved 低保 case of the household (protected procedure: no notice to wait for).
async fn approved(app: &TestApp, hh: i64, person: i64) -> Value {
    let clerk = app.login_as(&app.clerk_a()).await;
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    record_economics(app, &reviewer, hh).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "dibao", "household_id": hh, "applicant_id": person,
                "documents": ["id_card", "verification_authorisation"], "protected": true}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let case = r.json();
    let case = ok(
        app,
        &approver,
        &case,
        json!({"step": "verify", "action": "complete",
        "attachments": [{"kind": "verification_report", "id": "HD-1"}]}),
    )
    .await;
    let case = ok(app, &reviewer, &case, json!({"step": "survey", "action": "complete",
        "investigators": ["毕秀丽", "孙志强"], "attachments": [{"kind": "survey_record", "id": "RH-1"}]}))
    .await;
    let case = ok(
        app,
        &reviewer,
        &case,
        json!({"step": "review", "action": "complete",
        "attachments": [{"kind": "review_opinion", "id": "SH-1"}]}),
    )
    .await;
    let case = ok(
        app,
        &approver,
        &case,
        json!({"step": "confirm", "action": "complete",
        "attachments": [{"kind": "decision_letter", "id": "JD-1"}]}),
    )
    .await;
    assert_eq!(case["status"], "approved");
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_decided_lettered_and_filed() {
    let app = TestApp::new().await;
    assert_eq!(app.clock.today().to_string(), "2026-03-02");
    let hs = heads(&app, 1).await;
    let (hh, person) = hs[0];
    let parent = approved(&app, hh, person).await;
    let pid = parent["id"].as_i64().unwrap();
    let amount = parent["decisions"][0]["monthly_amount"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(amount, "0.00");
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;

    let r = app
        .get(&format!("/api/v1/cases/{pid}/changes"), Some(&reviewer))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    assert_eq!(b["benefit"]["status"], "active");
    assert_eq!(b["benefit"]["monthly_amount"], amount.as_str());
    assert_eq!(b["benefit"]["start_month"], "2026-04");
    assert_eq!(b["changes"], json!([]));
    let page = app.get(&format!("/cases/{pid}"), Some(&reviewer)).await;
    assert!(page.text().contains("正常发放") && page.text().contains("发起变更"));

    // Change workflows are not taken at the window.
    let clerk = app.login_as(&app.clerk_a()).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "dibao_change", "household_id": hh, "applicant_id": person,
                "documents": ["id_card", "verification_authorisation"]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "CASE_WORKFLOW_CHANGE"
    );

    let open = |body: Value| {
        let app = &app;
        let s = reviewer.clone();
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/cases/{pid}/changes"),
                Some(&s),
                Some(body),
            )
            .await
        }
    };
    let r = open(json!({"kind": "stop", "reason": "户主已死亡"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "CHANGE_STOP_REASON_REQUIRED"
    );
    let r = open(json!({"kind": "pause", "reason": "x"})).await;
    assert_eq!(r.json()["error"]["fields"][0]["field"], "kind");
    // Another township does not see the case.
    let clerk_b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{pid}/changes"),
            Some(&clerk_b),
            Some(json!({"kind": "stop", "stop_reason": "death", "reason": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = open(json!({"kind": "stop", "stop_reason": "death",
        "reason": "户主已于2026年2月死亡(民政殡葬数据)", "home_check": true}))
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let change = r.json();
    let cid = change["id"].as_i64().unwrap();
    assert_eq!(change["workflow"], "dibao_change");
    assert_eq!(change["program"], "低保变更");
    assert_eq!(change["events"][0]["step"], "propose");
    assert_eq!(
        change["events"][0]["opinion"],
        "户主已于2026年2月死亡(民政殡葬数据)"
    );
    assert_eq!(change["open_steps"][0]["step"], "survey");
    let r = open(json!({"kind": "suspend", "reason": "再次发起"})).await;
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "CHANGE_ALREADY_OPEN"
    );

    // The normal step forms: 入户核实 (two investigators), then the county's 审核确认.
    let change = ok(&app, &reviewer, &change, json!({"step": "survey", "action": "complete",
        "investigators": ["毕秀丽", "孙志强"], "attachments": [{"kind": "survey_record", "id": "HS-9"}]}))
    .await;
    assert_eq!(change["open_steps"][0]["step"], "confirm");
    let mut body = json!({"step": "confirm", "action": "complete", "revision": change["revision"],
        "attachments": [{"kind": "decision_letter", "id": "TB-1"}]});
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{cid}/actions"),
            Some(&reviewer),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    body["revision"] = change["revision"].clone();
    let change = ok(&app, &approver, &change, body).await;
    assert_eq!(change["status"], "approved");
    assert_eq!(change["decisions"][0]["monthly_amount"], "0.00");
    assert_eq!(change["decisions"][0]["reasons"][0], "停止原因:死亡");

    let b = app
        .get(&format!("/api/v1/cases/{pid}/changes"), Some(&reviewer))
        .await
        .json();
    assert_eq!(b["benefit"]["status"], "ended");
    assert_eq!(b["benefit"]["last_paid_month"], "2026-03");
    assert_eq!(b["benefit"]["end_reason"], "death");
    assert_eq!(b["changes"][0]["kind"], "stop");
    assert_eq!(b["changes"][0]["outcome"]["last_paid_month"], "2026-03");
    assert_eq!(b["changes"][0]["outcome"]["amount_before"], amount.as_str());
    let household = app.get(&format!("/households/{hh}"), Some(&reviewer)).await;
    assert!(
        household.text().contains("已停止"),
        "benefit status on the household page"
    );

    // The letter states the stop, the last month paid and the reasons.
    let r = app
        .get(&format!("/api/v1/cases/{cid}/letter"), Some(&reviewer))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let l = r.json();
    assert_eq!(l["change"]["title"], "停止低保决定书");
    assert!(l["change"]["statement"]
        .as_str()
        .unwrap()
        .contains("最后发放月份为 2026-03"));
    assert_eq!(l["change"]["last_paid_month"], "2026-03");
    assert_eq!(l["reasons"][1], "户主已于2026年2月死亡(民政殡葬数据)");
    assert_eq!(l["letter_number"], "环民救〔2026〕2号");
    let page = app
        .get(&format!("/cases/{cid}/letter"), Some(&reviewer))
        .await;
    assert!(page.text().contains("停止低保决定书"));

    // Filing: the new case and the ended one, each due 5 working days after its decision.
    let r = app.get("/api/v1/filing", Some(&approver)).await;
    let items = r.json()["items"].as_array().unwrap().clone();
    let ended = items
        .iter()
        .find(|i| i["case_id"] == cid)
        .expect("ended case filed");
    assert_eq!(ended["change_kind"], "stop");
    assert_eq!(ended["kind_label"], "停保");
    assert_eq!(ended["stop_reason_label"], "死亡");
    assert_eq!(ended["last_paid_month"], "2026-03");
    assert_eq!(ended["parent_case_id"], pid);
    assert_eq!(ended["filing_due"], "2026-03-09");
    let new = items.iter().find(|i| i["case_id"] == pid).unwrap();
    assert_eq!(new["kind_label"], "新增");
    let page = app.get("/filing", Some(&approver)).await;
    assert!(page.text().contains("停保") && page.text().contains("最后发放 2026-03"));

    // Ended: nothing more to change.
    let r = open(json!({"kind": "adjust", "reason": "收入变化"})).await;
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "CHANGE_KIND_NOT_APPLICABLE"
    );
    let doc = app.get("/api/openapi.json", None).await.json();
    assert!(doc["paths"]["/api/v1/cases/{id}/changes"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/cases/{id}/changes"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_adjust_recomputes_then_suspend_and_resume() {
    let app = TestApp::new().await;
    let hs = heads(&app, 2).await;
    let (hh, person) = hs[1];
    let parent = approved(&app, hh, person).await;
    let pid = parent["id"].as_i64().unwrap();
    let amount = parent["decisions"][0]["monthly_amount"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;

    // The form on the case page (CSRF-checked): a missing reason is shown on the page.
    let r = app
        .form(
            &format!("/cases/{pid}/changes"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("kind", "adjust"),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请填写变更理由"));
    let r = app
        .form(
            &format!("/cases/{pid}/changes"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("kind", "adjust"),
                ("reason", "家庭收入复核"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let cid: i64 = r.location().trim_start_matches("/cases/").parse().unwrap();
    let change = app
        .get(&format!("/api/v1/cases/{cid}"), Some(&reviewer))
        .await
        .json();
    assert_eq!(
        change["open_steps"][0]["step"], "confirm",
        "no home check asked for"
    );
    let page = app.get(&format!("/cases/{cid}"), Some(&reviewer)).await;
    assert!(page.text().contains("变更事项:调整救助金额") && page.text().contains("家庭收入复核"));
    let change = ok(
        &app,
        &approver,
        &change,
        json!({"step": "confirm", "action": "complete",
        "attachments": [{"kind": "decision_letter", "id": "TZ-1"}]}),
    )
    .await;
    // The engine recomputed from the same economic record: same amount, new explanation.
    assert_eq!(change["decisions"][0]["monthly_amount"], amount.as_str());
    assert!(!change["decisions"][0]["explanation"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(change["decisions"][0]["start_month"], "2026-04");
    let b = app
        .get(&format!("/api/v1/cases/{pid}/changes"), Some(&reviewer))
        .await
        .json();
    assert_eq!(b["benefit"]["status"], "active");
    assert_eq!(b["benefit"]["amount_from"], "2026-04");
    assert_eq!(b["changes"][0]["outcome"]["amount_after"], amount.as_str());

    // Suspend, then resume.
    for (kind, status, suspended) in [
        ("suspend", "suspended", json!("2026-04")),
        ("resume", "active", json!(null)),
    ] {
        let r = app
            .call(
                Method::POST,
                &format!("/api/v1/cases/{pid}/changes"),
                Some(&reviewer),
                Some(json!({"kind": kind, "reason": "核查存款线索"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let c = ok(
            &app,
            &approver,
            &r.json(),
            json!({"step": "confirm", "action": "complete",
            "attachments": [{"kind": "decision_letter", "id": "ZT-1"}]}),
        )
        .await;
        assert_eq!(c["decisions"][0]["monthly_amount"], amount.as_str());
        let b = app
            .get(&format!("/api/v1/cases/{pid}/changes"), Some(&reviewer))
            .await
            .json();
        assert_eq!(b["benefit"]["status"], status);
        assert_eq!(b["benefit"]["suspended_from"], suspended);
    }
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{pid}/changes"),
            Some(&reviewer),
            Some(json!({"kind": "resume", "reason": "x"})),
        )
        .await;
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "CHANGE_KIND_NOT_APPLICABLE"
    );
}

/// Issue 12, point 4: closing a warning as 调整救助金额 records the fact it revealed (the
/// household's monthly wages, pre-filled from the evidence) before the change case opens, so the
/// change decides a new amount instead of "369.00 → 369.00". Without the fact nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_closed_with_an_adjustment_updates_the_income_and_the_amount() {
    let app = TestApp::new().await;
    let hs = heads(&app, 3).await;
    let (hh, person) = hs[2];
    let parent = approved(&app, hh, person).await;
    let amount = parent["decisions"][0]["monthly_amount"]
        .as_str()
        .unwrap()
        .to_string();
    let sys = Actor::system("test");
    let head = app
        .store
        .get_person(&sys.grant().unwrap(), person)
        .await
        .unwrap()
        .unwrap();
    let masked = head.id_number.masked();
    app.store
        .store_run(
            &sys.grant().unwrap(),
            &jiuzhu_store::NewRun {
                month: "2026-02".into(),
                division: jiuzhu_domain::DivisionCode::parse("371002").unwrap(),
                started_at: app.clock.now(),
                delivery_ids: vec![],
                households: 1,
                due: app.clock.today(),
            },
            &[jiuzhu_store::NewWarning {
                household_id: hh,
                kind: "INCOME".into(),
                division: head.facts.residence_division.clone(),
                evidence: json!({"source": "social_insurance", "delivery": 1,
                    "data_date": "2026-02-28", "row": 2, "person": masked, "value": "600.00",
                    "threshold": "500.00", "records": 1})
                .to_string(),
                facts: jiuzhu_store::warning_facts(&masked, "600.00"),
            }],
        )
        .await
        .unwrap();
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let listed = app
        .get("/api/v1/warnings?kind=INCOME", Some(&reviewer))
        .await
        .json();
    let id = listed["items"][0]["id"].as_i64().unwrap();
    let page = app
        .get(&format!("/warnings/{id}"), Some(&reviewer))
        .await
        .text();
    assert!(page.contains("家庭月收入合计(元)"), "{page}");
    assert!(
        page.contains("name=\"fact_value\" value=\"600.00\""),
        "{page}"
    );
    assert!(page.contains(&format!("月救助金 {amount} 元")), "{page}");

    // No fact, no adjustment: refused before anything is written.
    let close = |fact: &str| {
        json!({"result": "adjust", "note": "入户核实:户主已就业,月工资600元", "row_version": 1,
            "fact_value": fact})
    };
    let url = format!("/api/v1/warnings/{id}/close");
    let r = app
        .call(Method::POST, &url, Some(&reviewer), Some(close(" ")))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["code"], "FACT_REQUIRED");
    let econ = app
        .get(
            &format!("/api/v1/households/{hh}/economics"),
            Some(&reviewer),
        )
        .await
        .json();
    assert_eq!(
        econ["record"]["economics"]["members"][0]["income"], "0.00",
        "{econ}"
    );

    let r = app
        .call(Method::POST, &url, Some(&reviewer), Some(close("600.00")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let change_id = r.json()["change_case_id"].as_i64().unwrap();
    let econ = app
        .get(
            &format!("/api/v1/households/{hh}/economics"),
            Some(&reviewer),
        )
        .await
        .json();
    let incomes: Vec<&str> = econ["record"]["economics"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["person_id"] == person)
        .map(|m| m["income"].as_str().unwrap())
        .collect();
    assert_eq!(incomes, vec!["600.00"], "{econ}");

    // The county confirms the change: the amount is computed from the recorded wages.
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let change = app
        .get(&format!("/api/v1/cases/{change_id}"), Some(&approver))
        .await
        .json();
    let change = ok(
        &app,
        &approver,
        &change,
        json!({"step": "confirm", "action": "complete",
        "attachments": [{"kind": "decision_letter", "id": "TZ-9"}]}),
    )
    .await;
    let after = change["decisions"][0]["monthly_amount"].as_str().unwrap();
    let (before, after): (f64, f64) = (amount.parse().unwrap(), after.parse().unwrap());
    assert!(after < before, "{amount} → {after}");
    let pid = parent["id"].as_i64().unwrap();
    let b = app
        .get(&format!("/api/v1/cases/{pid}/changes"), Some(&approver))
        .await
        .json();
    assert_eq!(b["changes"][0]["outcome"]["amount_before"], amount.as_str());
    assert_ne!(b["changes"][0]["outcome"]["amount_after"], amount.as_str());
}
