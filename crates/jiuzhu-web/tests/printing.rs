//! Notices, letters and the filing list over HTTP (docs/cases.md): who is posted (no protected
//! case, no minor applicant), masked identity numbers and the proposed amount, scope, the letter
//! of a decided case, and a clear 503 naming the font path when no CJK font can be loaded.

mod common;

use axum::http::{Method, StatusCode};
use chrono::Duration;
use common::*;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Clock, Role};
use jiuzhu_web::WebConfig;
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

/// Registers a 低保 case (protected or not) and takes it through verification, survey and
/// review; answers the case.
async fn to_notice(app: &TestApp, hh: i64, person: i64, protected: bool) -> Value {
    let clerk = app.login_as(&app.clerk_a()).await;
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "dibao", "household_id": hh, "applicant_id": person,
                "documents": ["id_card", "verification_authorisation"], "protected": protected}),
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
    ok(
        app,
        &reviewer,
        &case,
        json!({"step": "review", "action": "complete",
        "attachments": [{"kind": "review_opinion", "id": "SH-1"}]}),
    )
    .await
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_post_adults_only_and_letters_print_or_say_why_not() {
    let app = TestApp::with_config(WebConfig {
        font: Some("/nonexistent/jiuzhu-font.ttc".into()),
        ..WebConfig::default()
    })
    .await;
    let sys = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let today = app.clock.today();
    // Township A's persons: adults heading a household, and one minor member.
    let mut adults = Vec::new();
    let mut minor = None;
    for m in &app.demo.batch.members {
        if !app.demo.batch.households[m.household]
            .division
            .as_str()
            .starts_with(TOWNSHIP_A)
        {
            continue;
        }
        let p = app
            .store
            .find_person_by_id_number(&sys, &m.id_number)
            .await
            .unwrap()
            .unwrap();
        let hh = app.household_of(&p).await;
        if m.id_number.age_on(today) < 18 {
            if minor.is_none() && !adults.iter().any(|(h, _, _)| *h == hh) {
                minor = Some((hh, p.id));
            }
        } else if m.relation == jiuzhu_domain::Relation::Head && adults.len() < 2 {
            adults.push((hh, p.id, p.facts.name.clone()));
        }
    }
    let (hh_minor, minor_id) = minor.expect("a minor in township A");
    adults.retain(|(h, _, _)| *h != hh_minor);
    let (hh1, p1, name1) = adults[0].clone();
    let (hh2, p2, name2) = adults[1].clone();
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    record_economics(&app, &reviewer, hh1).await;

    let posted = to_notice(&app, hh1, p1, false).await;
    let hidden = to_notice(&app, hh2, p2, true).await;
    let by_minor = to_notice(&app, hh_minor, minor_id, false).await;
    assert_eq!(posted["open_steps"][0]["step"], "notice");
    // The protected procedure skips the notice (R-PR-7).
    assert_eq!(hidden["open_steps"][0]["step"], "confirm");
    assert_eq!(by_minor["open_steps"][0]["step"], "notice");

    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let r = app.get("/api/v1/notices", Some(&reviewer)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    let text = r.text();
    assert!(!text.contains(&name2), "protected case not posted");
    let items = body["items"].as_array().unwrap();
    let rows: Vec<&Value> = items
        .iter()
        .flat_map(|n| n["rows"].as_array().unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(rows[0]["name"], name1.as_str());
    assert!(rows[0]["masked_id_number"].as_str().unwrap().contains("**"));
    assert!(
        rows[0]["monthly_amount"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    let period_from = (today + Duration::days(1)).to_string();
    assert_eq!(rows[0]["period_from"], period_from.as_str());
    let withheld: u64 = items
        .iter()
        .map(|n| n["withheld_minors"].as_u64().unwrap())
        .sum();
    assert_eq!(withheld, 1, "the minor's household is counted, not listed");

    let village = items
        .iter()
        .find(|n| !n["rows"].as_array().unwrap().is_empty())
        .unwrap()["division"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(village.len(), 12, "one notice per village or community");
    let r = app
        .get(&format!("/api/v1/notices/{village}"), Some(&reviewer))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = app
        .get(&format!("/notices/{village}"), Some(&reviewer))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&name1) && page.text().contains("拟保障对象公示"));
    // No font: a clear 503 naming the path.
    let pdf = app
        .get(&format!("/notices/{village}.pdf"), Some(&reviewer))
        .await;
    assert_eq!(pdf.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        pdf.text().contains("/nonexistent/jiuzhu-font.ttc"),
        "{}",
        pdf.text()
    );

    // Another township sees no notice.
    let clerk_b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
    let r = app.get("/api/v1/notices", Some(&clerk_b)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
    let r = app
        .get(&format!("/api/v1/notices/{village}"), Some(&clerk_b))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // No decision, no letter; the protected case refused by the county gets one.
    let r = app
        .get(
            &format!("/api/v1/cases/{}/letter", hidden["id"]),
            Some(&reviewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "LETTER_NO_DECISION");
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    ok(&app, &approver, &hidden, json!({"step": "confirm", "action": "refuse",
        "reasons": ["家庭人均收入高于标准"], "attachments": [{"kind": "decision_letter", "id": "JD-1"}]}))
    .await;
    let r = app
        .get(
            &format!("/api/v1/cases/{}/letter", hidden["id"]),
            Some(&approver),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let l = r.json();
    assert_eq!(l["outcome"], "refused");
    assert_eq!(l["letter_number"], "环民救〔2026〕1号");
    assert_eq!(l["reasons"][0], "家庭人均收入高于标准");
    // Three working days after Mon 2026-03-02.
    assert_eq!(l["delivery_due"], "2026-03-05");
    let pdf = app
        .get(
            &format!("/cases/{}/letter.pdf", hidden["id"]),
            Some(&approver),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::SERVICE_UNAVAILABLE);
    // Refusals are not on the filing list.
    let r = app.get("/api/v1/filing", Some(&approver)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 0);
}
