//! Cases over HTTP: a 低保 application taken by the demo users through every step to approval
//! (amount from the policy engine, payment from the next month), a refusal, wrong roles, a stale
//! revision, an overdue step in the queue, and another township seeing nothing.

mod common;

use axum::http::{Method, StatusCode};
use chrono::Duration;
use common::*;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Clock, Role};
use jiuzhu_import::demo::DemoUser;
use jiuzhu_policy::registry::raw_household;
use jiuzhu_policy::{calc_json, first_payment_month, PolicyLibrary};
use serde_json::{json, Value};

struct Users {
    clerk: DemoUser,
    assistant: DemoUser,
    reviewer: DemoUser,
    approver: DemoUser,
}

fn users(app: &TestApp) -> Users {
    Users {
        clerk: app.clerk_a(),
        assistant: app.user(Role::VillageAssistant, "371002001001"),
        reviewer: app.user(Role::TownshipReviewer, TOWNSHIP_A),
        approver: app.user(Role::CountyApprover, "371002"),
    }
}

/// Households of township A, the ones under the assistant's village first.
async fn households_a(app: &TestApp) -> Vec<(i64, i64, String)> {
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let mut out = Vec::new();
    for (i, h) in app.demo.batch.households.iter().enumerate() {
        if !h.division.as_str().starts_with(TOWNSHIP_A) {
            continue;
        }
        let head = app
            .demo
            .batch
            .members
            .iter()
            .find(|m| m.household == i && m.relation == jiuzhu_domain::Relation::Head)
            .unwrap();
        let p = app
            .store
            .find_person_by_id_number(&g, &head.id_number)
            .await
            .unwrap()
            .unwrap();
        let hh = app.household_of(&p).await;
        out.push((hh, p.id, h.division.to_string()));
    }
    out.sort_by_key(|(_, _, d)| !d.starts_with("371002001001"));
    out
}

/// Records a low income for every member, so the household qualifies for 低保.
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
        .enumerate()
        .map(|(i, m)| json!({"person_id": m.person.id, "income": if i == 0 { "150.00" } else { "0" }}))
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

async fn act(app: &TestApp, s: &Session, case: &Value, body: Value) -> Resp {
    let mut body = body;
    if body.get("revision").is_none() {
        body["revision"] = case["revision"].clone();
    }
    app.call(
        Method::POST,
        &format!("/api/v1/cases/{}/actions", case["id"]),
        Some(s),
        Some(body),
    )
    .await
}

async fn ok(app: &TestApp, s: &Session, case: &Value, body: Value) -> Value {
    let r = act(app, s, case, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text());
    r.json()
}

fn open_steps(case: &Value) -> Vec<String> {
    case["open_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_string())
        .collect()
}

async fn register(app: &TestApp, s: &Session, hh: i64, person: i64) -> Value {
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(s),
            Some(
                json!({"workflow": "dibao", "household_id": hh, "applicant_id": person,
                "documents": ["id_card", "verification_authorisation"], "opinion": "材料齐全"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// Sessions end after 30 idle minutes of the (moved) clock: log in again after moving it.
async fn sessions(app: &TestApp, u: &Users) -> (Session, Session, Session, Session) {
    (
        app.login_as(&u.clerk).await,
        app.login_as(&u.assistant).await,
        app.login_as(&u.reviewer).await,
        app.login_as(&u.approver).await,
    )
}

/// verify → survey → review → notice (clock moved past its end) → confirm is open.
async fn to_confirm(app: &TestApp, u: &Users, case: Value, survey_by_assistant: bool) -> Value {
    let case = to_notice(app, u, case, survey_by_assistant).await;
    app.clock.advance(Duration::days(8));
    let (_, _, reviewer, _) = sessions(app, u).await;
    let case = ok(
        app,
        &reviewer,
        &case,
        json!({"step": "notice", "action": "complete",
        "attachments": [{"kind": "notice_record", "id": "GS-001"}]}),
    )
    .await;
    assert_eq!(open_steps(&case), ["confirm"]);
    assert_eq!(case["open_steps"][0]["level"], "county");
    case
}

/// verify → survey → review: the notice (公示) is open.
async fn to_notice(app: &TestApp, u: &Users, case: Value, survey_by_assistant: bool) -> Value {
    let (_, assistant, reviewer, approver) = sessions(app, u).await;
    let case = if open_steps(&case) == ["verify"] {
        ok(
            app,
            &approver,
            &case,
            json!({"step": "verify", "action": "complete",
            "attachments": [{"kind": "verification_report", "id": "HD-2026-001"}]}),
        )
        .await
    } else {
        case
    };
    let surveyor = if survey_by_assistant {
        &assistant
    } else {
        &reviewer
    };
    let case = ok(
        app,
        surveyor,
        &case,
        json!({"step": "survey", "action": "complete",
        "opinion": "入户核实,情况属实", "investigators": ["毕秀丽", "孙志强"],
        "attachments": [{"kind": "survey_record", "id": "RH-001"}]}),
    )
    .await;
    let case = ok(
        app,
        &reviewer,
        &case,
        json!({"step": "review", "action": "complete",
        "opinion": "同意", "attachments": [{"kind": "review_opinion", "id": "SH-001"}]}),
    )
    .await;
    assert_eq!(open_steps(&case), ["notice"]);
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dibao_application_goes_from_intake_to_approval() {
    let app = TestApp::new().await;
    let u = users(&app);
    let hhs = households_a(&app).await;
    let (hh, person, division) = hhs[0].clone();
    let by_assistant = division.starts_with("371002001001");
    let (clerk, _, reviewer, approver) = sessions(&app, &u).await;
    record_economics(&app, &clerk, hh).await;

    // Intake at the window: 一证一书 received, so 申请受理 is done and verification opens.
    let case = register(&app, &clerk, hh, person).await;
    assert_eq!(case["number"], "371002-2026-000001");
    assert_eq!(case["status"], "open");
    assert_eq!(case["division_filed"], TOWNSHIP_A);
    assert_eq!(case["division_responsible"], division.as_str());
    assert_eq!(open_steps(&case), ["verify"]);
    // 5 working days after Mon 2026-03-02.
    assert_eq!(case["open_steps"][0]["due"], "2026-03-09");
    assert_eq!(case["events"][0]["step"], "apply");
    assert_eq!(
        case["events"][0]["display_name"],
        u.clerk.display_name.as_str()
    );
    assert_eq!(case["events"][0]["role"], "window_clerk");

    // A second open 低保 case for the household is refused.
    let again = app
        .call(Method::POST, "/api/v1/cases", Some(&clerk), Some(json!({"workflow": "dibao",
            "household_id": hh, "applicant_id": person, "documents": ["id_card", "verification_authorisation"]})))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.text()
    );
    assert!(
        again.text().contains("已有办理中的同类申请"),
        "{}",
        again.text()
    );

    // The wrong role gets the workflow's Chinese message.
    let wrong = act(
        &app,
        &reviewer,
        &case,
        json!({"step": "verify", "action": "complete",
        "attachments": [{"kind": "verification_report", "id": "X"}]}),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text());
    assert_eq!(wrong.error_code(), "CASE_NOT_YOUR_STEP");
    assert_eq!(
        wrong.json()["error"]["message"],
        "乡镇审核员无权办理“家庭经济状况核对”,应由县级审批员办理"
    );
    // The window clerk may not act on cases of other steps either; an auditor not at all.
    let auditor = app.login_as(&app.user(Role::Auditor, "371002")).await;
    let r = act(
        &app,
        &auditor,
        &case,
        json!({"step": "verify", "action": "complete"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "DENIED");

    let case = ok(
        &app,
        &approver,
        &case,
        json!({"step": "verify", "action": "complete",
        "attachments": [{"kind": "verification_report", "id": "HD-2026-001"}]}),
    )
    .await;
    assert_eq!(open_steps(&case), ["survey"]);

    // A home survey needs two investigators.
    let one = act(
        &app,
        &reviewer,
        &case,
        json!({"step": "survey", "action": "complete",
        "investigators": ["孙志强"], "attachments": [{"kind": "survey_record", "id": "RH-001"}]}),
    )
    .await;
    assert_eq!(
        one.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        one.text()
    );
    assert_eq!(
        one.json()["error"]["fields"][0]["code"],
        "too_few_investigators"
    );
    assert_eq!(one.json()["error"]["fields"][0]["field"], "investigators");

    // The rest of the way, with a stale revision on the way.
    let stale = case.clone();
    let case = to_confirm(&app, &u, case, by_assistant).await;
    let (_, _, reviewer, approver) = sessions(&app, &u).await;
    let r = act(
        &app,
        &reviewer,
        &stale,
        json!({"step": "review", "action": "complete"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.error_code(), "CONFLICT");
    let events = case["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    let survey = events.iter().find(|e| e["step"] == "survey").unwrap();
    assert_eq!(survey["investigators"], json!(["毕秀丽", "孙志强"]));
    assert_eq!(survey["attachments"][0]["kind"], "survey_record");

    // The county approves: the amount is the policy engine's, paid from next month.
    let case = ok(
        &app,
        &approver,
        &case,
        json!({"step": "confirm", "action": "complete",
        "opinion": "同意确认", "attachments": [{"kind": "decision_letter", "id": "JD-001"}]}),
    )
    .await;
    let today = app.clock.today();
    assert_eq!(case["status"], "approved");
    assert_eq!(open_steps(&case), ["filing"]);
    let d = &case["decisions"][0];
    assert_eq!(d["outcome"], "approved");
    let month = first_payment_month(today);
    assert_eq!(d["start_month"], month.to_string());
    assert_eq!(month.to_string(), "2026-04");

    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let snap = app
        .store
        .household_as_of(&g, hh, today)
        .await
        .unwrap()
        .unwrap();
    let econ = app
        .store
        .economics_as_of(&g, hh, today)
        .await
        .unwrap()
        .unwrap();
    let raw = raw_household(
        &snap.household.code,
        &snap.facts,
        &snap.members,
        Some(&econ.economics),
    )
    .unwrap();
    let lib = PolicyLibrary::builtin().unwrap();
    let expected = calc_json(&lib, &serde_json::to_string(&raw).unwrap(), month).unwrap();
    assert!(expected.result.dibao.amount.fen() > 0);
    assert_eq!(
        d["monthly_amount"],
        expected.result.dibao.amount.to_string(),
        "{d}"
    );
    assert_eq!(
        d["policy_versions"],
        serde_json::to_value(&expected.policy).unwrap()
    );
    assert!(!d["explanation"].as_array().unwrap().is_empty());
    assert_eq!(d["input_snapshot"]["code"], snap.household.code.as_str());
    // The engine's input as every case reader gets it: identity numbers masked, the financial
    // assets hidden in the input and in the asset test (they were shown in full).
    let answer = case.to_string();
    for m in &snap.members {
        assert!(!answer.contains(m.person.id_number.as_str()), "{answer}");
        assert!(answer.contains(&m.person.id_number.masked()));
    }
    assert_eq!(d["input_snapshot"]["assets"]["financial"], "***");
    assert!(answer.contains("金融资产 ***"));
    assert!(!answer.contains("金融资产 500.00"), "{answer}");

    // The case page shows the timeline and the decision.
    let page = app
        .get(&format!("/cases/{}", case["id"]), Some(&reviewer))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("371002-2026-000001"));
    assert!(text.contains("办理记录"));
    assert!(text.contains(&format!(
        "月救助金额 <b>{} 元</b>",
        expected.result.dibao.amount
    )));
    assert!(text.contains("自 2026-04 起发放"));

    // Now receiving 低保: a new 低保 application for the person is refused (R-PR-6).
    let (clerk, ..) = sessions(&app, &u).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(json!({"workflow": "dibao",
            "household_id": hh, "applicant_id": person, "documents": ["id_card"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "CASE_DIBAO_ELSEWHERE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_overdue_queue_and_other_townships() {
    let app = TestApp::new().await;
    let u = users(&app);
    let hhs = households_a(&app).await;
    let (clerk, _, _, _) = sessions(&app, &u).await;

    // A status the list does not know is said in Chinese, not answered with an empty list.
    let r = app.get("/api/v1/cases?status=closed", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["fields"][0]["code"], "CASE_STATUS");
    assert_eq!(
        r.json()["error"]["fields"][0]["message"],
        "案件状态无效,应为办理中、已确认、不予确认"
    );
    let r = app.get("/api/v1/cases?status=approved", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::OK);

    // A refusal needs written reasons; the refusal letter step then opens.
    let (hh, person, division) = hhs[1].clone();
    let case = register(&app, &clerk, hh, person).await;
    let case = to_confirm(&app, &u, case, division.starts_with("371002001001")).await;
    let (clerk, _, reviewer, approver) = sessions(&app, &u).await;
    let r = act(
        &app,
        &approver,
        &case,
        json!({"step": "confirm", "action": "refuse"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["fields"][0]["code"], "reasons_required");
    assert_eq!(
        r.json()["error"]["message"],
        "输入有误:不予确认必须书面说明理由"
    );
    let refused = ok(
        &app,
        &approver,
        &case,
        json!({"step": "confirm", "action": "refuse",
        "reasons": ["家庭人均收入高于当地低保标准"]}),
    )
    .await;
    assert_eq!(refused["status"], "refused");
    assert_eq!(open_steps(&refused), ["refusal_letter"]);
    assert_eq!(refused["decisions"][0]["outcome"], "refused");
    assert_eq!(
        refused["decisions"][0]["reasons"],
        json!(["家庭人均收入高于当地低保标准"])
    );
    assert_eq!(refused["decisions"][0]["monthly_amount"], "0.00");
    // The refusal letter is the township's: in the reviewer's queue.
    let tasks = app.get("/api/v1/tasks", Some(&reviewer)).await.json();
    assert!(tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["case_id"] == refused["id"] && t["step"] == "refusal_letter"));

    // A fresh case waits for verification; after its due date it is overdue in the queue.
    let (hh, person, _) = hhs[2].clone();
    let fresh = register(&app, &clerk, hh, person).await;
    let due = fresh["open_steps"][0]["due"].as_str().unwrap().to_string();
    let before = app.get("/api/v1/tasks", Some(&approver)).await.json();
    let item = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["case_id"] == fresh["id"])
        .cloned()
        .expect("in the approver's queue");
    assert_eq!(item["step"], "verify");
    assert_ne!(item["urgency"], "overdue");
    app.clock.advance(Duration::days(10));
    assert!(app.clock.today().to_string() > due);
    let (clerk, _, reviewer, approver) = sessions(&app, &u).await;
    let after = app.get("/api/v1/tasks", Some(&approver)).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text());
    let after = after.json();
    let item = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["case_id"] == fresh["id"])
        .cloned()
        .unwrap();
    assert_eq!(item["urgency"], "overdue");
    assert_eq!(item["urgency_label"], "已超期");
    assert_eq!(item["due"], due.as_str());
    assert_eq!(item["escalated"], false);
    // The township's overdue refusal letter is escalated to the county.
    let esc = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["case_id"] == refused["id"])
        .cloned()
        .expect("escalated to the county");
    assert_eq!(esc["step"], "refusal_letter");
    assert_eq!(esc["escalated"], true);
    assert_eq!(esc["urgency"], "overdue");
    // Not the reviewer's step, and the clerk has nothing left to do.
    let r = app.get("/api/v1/tasks", Some(&reviewer)).await.json();
    assert!(!r["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["case_id"] == fresh["id"]));
    let r = app.get("/api/v1/tasks", Some(&clerk)).await.json();
    assert_eq!(r["items"], json!([]));
    let page = app.get("/tasks", Some(&approver)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("已超期"));

    // The clerk of township B sees none of it.
    let b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
    let list = app.get("/api/v1/cases", Some(&b)).await.json();
    assert_eq!(list["total"], 0);
    let mine = app.get("/api/v1/cases", Some(&clerk)).await.json();
    assert_eq!(mine["total"], 2);
    for id in [&refused["id"], &fresh["id"]] {
        let r = app.get(&format!("/api/v1/cases/{id}"), Some(&b)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = app.get(&format!("/cases/{id}"), Some(&b)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let r = act(
        &app,
        &b,
        &fresh,
        json!({"step": "verify", "action": "complete"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/tasks", Some(&b)).await.json()["items"],
        json!([])
    );
    // Nor can B register for A's household.
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&b),
            Some(json!({"workflow": "tekun",
            "household_id": hh, "applicant_id": person})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_pages_register_and_act_in_the_browser_flow() {
    let app = TestApp::new().await;
    let u = users(&app);
    let hhs = households_a(&app).await;
    let (hh, person, _) = hhs[0].clone();
    let clerk = app.login_as(&u.clerk).await;
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let p = app.store.get_person(&g, person).await.unwrap().unwrap();

    let form = app
        .get(&format!("/cases/new?q={}", p.facts.name), Some(&clerk))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let text = form.text();
    assert!(text.contains(&format!("value=\"{person}:{hh}\"")), "{text}");
    assert!(text.contains(&p.id_number.masked()));
    assert!(!text.contains(p.id_number.as_str()));
    for label in ["低保", "特困", "临时救助", "低保边缘", "核对授权书(已签字)"]
    {
        assert!(text.contains(label), "{label}");
    }
    // Without the signed authorisation the intake step stays open.
    let applicant = format!("{person}:{hh}");
    let r = app
        .form(
            "/cases/new",
            Some(&clerk.cookie),
            &[
                ("_csrf", &clerk.csrf),
                ("applicant", &applicant),
                ("workflow", "dibao"),
                ("id_card", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let url = r.location();
    let id: i64 = url.trim_start_matches("/cases/").parse().unwrap();
    let case = app
        .get(&format!("/api/v1/cases/{id}"), Some(&clerk))
        .await
        .json();
    assert_eq!(open_steps(&case), ["apply"]);
    // The case page offers the clerk the intake step's form; a missing document is shown.
    let page = app.get(&url, Some(&clerk)).await.text();
    assert!(page.contains("申请受理"));
    assert!(page.contains("name=\"att_verification_authorisation\""));
    let r = app
        .form(
            &format!("{url}/act"),
            Some(&clerk.cookie),
            &[
                ("_csrf", &clerk.csrf),
                ("revision", &case["revision"].to_string()),
                ("step", "apply"),
                ("action", "complete"),
                ("att_id_card", "window:id_card"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("缺少材料"), "{}", r.text());
    let r = app
        .form(
            &format!("{url}/act"),
            Some(&clerk.cookie),
            &[
                ("_csrf", &clerk.csrf),
                ("revision", &case["revision"].to_string()),
                ("step", "apply"),
                ("action", "complete"),
                ("att_id_card", "window:id_card"),
                ("att_verification_authorisation", "SQ-2026-7"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // The same form again is stale: the page explains the conflict.
    let r = app
        .form(
            &format!("{url}/act"),
            Some(&clerk.cookie),
            &[
                ("_csrf", &clerk.csrf),
                ("revision", &case["revision"].to_string()),
                ("step", "apply"),
                ("action", "complete"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("该案件已被他人办理"));
    let list = app.get("/cases", Some(&clerk)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("家庭经济状况核对"));
}

/// An objection recorded through the API reads as the page records it: who raised it (匿名 when
/// nobody is named) and its content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_objection_through_the_api_names_who_raised_it() {
    let app = TestApp::new().await;
    let u = users(&app);
    let hhs = households_a(&app).await;
    let (hh, person, _) = hhs[0].clone();
    let (clerk, _, reviewer, _) = sessions(&app, &u).await;
    record_economics(&app, &clerk, hh).await;
    let case = register(&app, &clerk, hh, person).await;
    let case = to_notice(&app, &u, case, false).await;
    let case = ok(
        &app,
        &reviewer,
        &case,
        json!({"step": "notice", "action": "object", "opinion": "申请人家中有经营收入"}),
    )
    .await;
    let objection = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "notice")
        .expect("the objection on the timeline");
    assert_eq!(
        objection["opinion"],
        "异议人:匿名;异议内容:申请人家中有经营收入"
    );
}
