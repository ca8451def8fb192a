//! The verification report of an application (核对报告): two small feeds delivered, a 低保 case
//! registered with the signed authorisation, the county generates the report (exact fen, every
//! finding citing its delivery, row and data date), the verification step is completed with it;
//! without the authorisation it is refused.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use serde_json::{json, Value};

async fn push(app: &TestApp, s: &Session, kind: &str, csv: &str) -> Value {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/api/v1/feeds/{kind}?source={}&data_date=2026-02-28",
            jiuzhu_import::demo_feeds::source_of(kind).unwrap_or("x")
        ))
        .header(header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_string()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

async fn register(
    app: &TestApp,
    s: &Session,
    workflow: &str,
    hh: i64,
    person: i64,
    docs: Value,
) -> Value {
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(s),
            Some(
                json!({"workflow": workflow, "household_id": hh, "applicant_id": person,
                "documents": docs}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_generates_the_report_and_completes_verification_with_it() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;

    // Two deliveries: deposits (two accounts of the head, one row of someone else) and wages.
    let other = &app.unused.members[0].id_number;
    let deposits = push(
        &app,
        &approver,
        "deposits",
        &format!(
            "id_number,institution_code,account_type,balance,as_of\n\
             {h},B001,savings,12000.50,2026-02-28\n{other},B001,savings,99999.00,2026-02-28\n\
             {h},B002,time,300.25,2026-02-28\n",
            h = head.id_number
        ),
    )
    .await;
    let deposits_id = deposits["delivery"]["id"].as_i64().unwrap();
    let wages = push(
        &app,
        &approver,
        "social_insurance",
        &format!(
            "id_number,employer_code,month,contribution_wage\n\
             {h},E1,2026-01,1200.00\n{h},E1,2026-02,1200.01\n{h},E1,2025-02,5000.00\n",
            h = head.id_number
        ),
    )
    .await;
    let wages_id = wages["delivery"]["id"].as_i64().unwrap();

    let clerk = app.login_as(&app.clerk_a()).await;
    let case = register(
        &app,
        &clerk,
        "dibao",
        hh,
        head.id,
        json!(["id_card", "verification_authorisation"]),
    )
    .await;
    let id = case["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}/verification-report");

    // Nothing generated yet; the clerk does not act on the verification step.
    assert_eq!(
        app.get(&path, Some(&approver)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.call(Method::POST, &path, Some(&clerk), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "CASE_NOT_YOUR_STEP");

    let r = app.call(Method::POST, &path, Some(&approver), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["case_id"], id);
    assert_eq!(v["as_of"], "2026-03-02");
    assert_eq!(v["delivery_ids"], json!([deposits_id, wages_id]));
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    // Balances are bank data: the answer shows them masked, even to the approver who generated
    // it; the approver reveals them, and that is in the audit log.
    assert_eq!(v["masked"], true);
    assert_eq!(v["report"]["totals"]["deposits"], "***");
    assert!(!v.to_string().contains("12000.50"), "{v}");
    let r = app
        .call(
            Method::POST,
            &format!("{path}/reveal"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["masked"], false);
    let r = app
        .call(
            Method::POST,
            &format!("{path}/reveal"),
            Some(&village_assistant(&app).await),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let report = &v["report"];
    // 12000.50 + 300.25; the other person's 99999.00 is not the household's.
    assert_eq!(report["totals"]["deposits"], "12300.75");
    // Wages of the 12 months up to February 2026: (1200.00 + 1200.01) / 12 = 200.000833…
    assert_eq!(report["totals"]["wages_monthly"], "200.00");
    assert_eq!(report["totals"]["income_monthly"], "200.00");
    let members = report["members"].as_array().unwrap();
    let me = members
        .iter()
        .find(|m| m["id_masked"] == head.id_number.masked())
        .expect("the head is listed, masked");
    assert!(
        !v.to_string().contains(head.id_number.as_str()),
        "no full id in the report"
    );
    let dep: Vec<&Value> = me["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["cite"]["kind"] == "deposits")
        .collect();
    assert_eq!(dep.len(), 2);
    assert_eq!(dep[0]["amount"], "12000.50");
    assert_eq!(dep[0]["cite"]["row"], 2);
    assert_eq!(dep[1]["amount"], "300.25");
    assert_eq!(dep[1]["cite"]["row"], 4);
    assert_eq!(dep[1]["cite"]["delivery_id"], deposits_id);
    assert_eq!(dep[1]["cite"]["data_date"], "2026-02-28");
    assert_eq!(dep[1]["cite"]["source"], "威海市商业银行环翠支行");
    let old_wage = me["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cite"]["kind"] == "social_insurance" && f["cite"]["row"] == 4)
        .unwrap();
    assert_eq!(old_wage["counted"], false);
    // A kind without a delivery is "no data", never silently fine.
    let cars = me["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cite"]["kind"] == "vehicles")
        .unwrap();
    assert_eq!(cars["status"], "no_data");
    let test = |code: &str| {
        report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(test("DEPOSIT")["verdict"], "pass");
    assert_eq!(test("VEHICLE")["verdict"], "check");
    assert_eq!(v["verdict"], "check");
    // Other members of the household have no deposit record: found nothing, citing the delivery.
    for m in members
        .iter()
        .filter(|m| m["id_masked"] != head.id_number.masked())
    {
        let f = m["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["cite"]["kind"] == "deposits")
            .unwrap();
        assert_eq!(f["status"], "none");
        assert_eq!(f["text"], "未发现记录");
        assert_eq!(f["cite"]["data_date"], "2026-02-28");
    }

    // GET answers the latest with the history; the page shows it masked and printable.
    let got = app.get(&path, Some(&clerk)).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.json()["sha256"], v["sha256"]);
    assert_eq!(got.json()["history"].as_array().unwrap().len(), 1);
    let page = app
        .get(&format!("/cases/{id}/verification-report"), Some(&approver))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("家庭经济状况核对报告"));
    assert!(!html.contains("12300.75"));
    assert!(html.contains("查看原文"));
    let revealed = app
        .form(
            &format!("/cases/{id}/verification-report/reveal"),
            Some(&approver.cookie),
            &[("_csrf", approver.csrf.as_str())],
        )
        .await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.text());
    assert!(revealed.text().contains("12300.75"));
    // The village assistant reads the case's report masked and cannot reveal it; both reveals
    // above are audit events.
    let assistant = village_assistant(&app).await;
    let got = app.get(&path, Some(&assistant)).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert!(!got.text().contains("12000.50") && !got.text().contains("12300.75"));
    let page = app
        .get(
            &format!("/cases/{id}/verification-report"),
            Some(&assistant),
        )
        .await
        .text();
    assert!(!page.contains("12300.75") && !page.contains("查看原文"));
    let auditor = app
        .login_as(&app.user(jiuzhu_domain::Role::Auditor, "371002"))
        .await;
    let log = app
        .get("/api/v1/audit?action=sensitive_revealed", Some(&auditor))
        .await
        .json();
    let reports = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["record_kind"] == "verification_report")
        .count();
    assert_eq!(reports, 2, "{log}");
    assert!(html.contains(&head.id_number.masked()));
    assert!(!html.contains(head.id_number.as_str()));
    assert!(html.contains("第 4 行"));
    let case_page = app.get(&format!("/cases/{id}"), Some(&approver)).await;
    assert!(case_page.text().contains("生成核对报告"));

    // Completing the step without naming a report uses the generated one.
    let case_now = app
        .get(&format!("/api/v1/cases/{id}"), Some(&approver))
        .await
        .json();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(&approver),
            Some(json!({"revision": case_now["revision"], "step": "verify", "action": "complete"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let events = r.json()["events"].clone();
    let verify = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "verify")
        .unwrap()
        .clone();
    let att = &verify["attachments"][0];
    assert_eq!(att["kind"], "verification_report");
    assert_eq!(
        att["id"].as_str().unwrap(),
        format!(
            "核对报告#{}(SHA-256 {})",
            v["id"],
            &v["sha256"].as_str().unwrap()[..12]
        )
    );
    // The step is done: no more reports for this case.
    let r = app.call(Method::POST, &path, Some(&approver), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_code(), "REPORT_STEP_NOT_OPEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_signed_authorisation_no_report() {
    let app = TestApp::new().await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await;
    let clerk = app.login_as(&app.clerk_a()).await;
    // 临时救助 takes the application with the identity card alone; the authorisation must be on
    // file before verification.
    let case = register(&app, &clerk, "temporary", hh, head.id, json!(["id_card"])).await;
    let id = case["id"].as_i64().unwrap();
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/verification-report"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.error_code(), "AUTHORISATION_MISSING");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("核对授权书"));
    assert_eq!(
        app.get(
            &format!("/api/v1/cases/{id}/verification-report"),
            Some(&approver)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The page form shows the same refusal.
    let r = app
        .form(
            &format!("/cases/{id}/verification-report"),
            Some(&approver.cookie),
            &[("_csrf", &approver.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("未见申请人签字的家庭经济状况核对授权书"));
}

/// Deliveries kept as the departments sent them — an xlsx with a blank row between its rows, a
/// GBK CSV — are read for the report through the same conversion as their import (they made
/// the report fail with HTTP 500, "the header is not UTF-8"), and findings cite the sheet's
/// own rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_and_gbk_deliveries_are_read_for_the_report() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["身份证号码", "机构代码", "账户类型", "余额", "余额日期"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, balance) in [(1, 12000.5), (3, 300.25)] {
        sheet.write_string(r, 0, head.id_number.as_str()).unwrap();
        sheet.write_string(r, 1, "B001").unwrap();
        sheet.write_string(r, 2, "savings").unwrap();
        sheet.write_number(r, 3, balance).unwrap();
        sheet.write_string(r, 4, "2026-02-28").unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/feeds/deposits?source=WHCCB-HC&data_date=2026-02-28")
        .header(header::COOKIE, &approver.cookie)
        .header("x-csrf-token", &approver.csrf)
        .header(
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(Body::from(xlsx))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let deposits_id = r.json()["delivery"]["id"].as_i64().unwrap();

    let text = format!(
        "身份证号码,单位编号,缴费月份,缴费工资\r\n{h},E1,2026-01,1200.00\r\n{h},E1,2026-02,1200.00\r\n",
        h = head.id_number
    );
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/feeds/social_insurance?source=HC-SB&data_date=2026-02-28")
        .header(header::COOKIE, &approver.cookie)
        .header("x-csrf-token", &approver.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(gbk.into_owned()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let clerk = app.login_as(&app.clerk_a()).await;
    let case = register(
        &app,
        &clerk,
        "dibao",
        hh,
        head.id,
        json!(["id_card", "verification_authorisation"]),
    )
    .await;
    let path = format!(
        "/api/v1/cases/{}/verification-report",
        case["id"].as_i64().unwrap()
    );
    let r = app.call(Method::POST, &path, Some(&approver), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .call(
            Method::POST,
            &format!("{path}/reveal"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = &r.json()["report"];
    assert_eq!(report["totals"]["deposits"], "12300.75", "{report}");
    assert_eq!(report["totals"]["wages_monthly"], "200.00", "{report}");
    let me = report["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id_masked"] == head.id_number.masked())
        .expect("the head is listed")
        .clone();
    let rows: Vec<(i64, i64)> = me["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["cite"]["kind"] == "deposits")
        .map(|f| {
            (
                f["cite"]["delivery_id"].as_i64().unwrap(),
                f["cite"]["row"].as_i64().unwrap(),
            )
        })
        .collect();
    // The sheet's rows 2 and 4 (row 3 is blank).
    assert_eq!(rows, [(deposits_id, 2), (deposits_id, 4)]);
}

/// A user of the case's village who reads cases but may not reveal (the village assistant).
async fn village_assistant(app: &TestApp) -> Session {
    app.login_as(&app.user(jiuzhu_domain::Role::VillageAssistant, "371002001001"))
        .await
}
