//! The working-day calendar in the product: the county manager's local holiday moves a case
//! step's due date by one working day; others may read but not edit; an invalid edit is a 422
//! naming the field; every edit is in the audit log; the page shows years, days and edits.

mod common;

use axum::http::{Method, StatusCode};
use chrono::TimeZone;
use common::*;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Role};
use serde_json::{json, Value};

/// The county manager keeps the calendar (三员分立 moved it off the administrator).
async fn manager(app: &TestApp) -> Session {
    app.account("cadmin", Role::CountyManager, "371002").await
}

async fn register_dibao(app: &TestApp, clerk: &Session, person: &jiuzhu_domain::Person) -> Value {
    let hh = app.household_of(person).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(clerk),
            Some(
                json!({"workflow": "dibao", "household_id": hh, "applicant_id": person.id,
                "documents": ["id_card", "verification_authorisation"]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_holiday_moves_due_dates_and_is_audited() {
    let app = TestApp::new().await;
    // Friday 2026-11-20, 10:00 in China.
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap());
    let manager = manager(&app).await;
    let clerk = app.login_as(&app.clerk_a()).await;

    let doc = app.get("/api/openapi.json", None).await.json();
    for path in ["/api/v1/calendar", "/api/v1/calendar/edits"] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} in the OpenAPI document"
        );
    }

    // Before: 5 working days after Fri 11/20 → 11/23, 24, 25, 26, 27.
    let head = app.head_of(TOWNSHIP_A).await;
    let before = register_dibao(&app, &clerk, &head).await;
    assert_eq!(before["open_steps"][0]["step"], "verify");
    assert_eq!(before["open_steps"][0]["due"], "2026-11-27");

    // Everyone logged in reads the calendar.
    let r = app.get("/api/v1/calendar?year=2026", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let cal = r.json();
    assert_eq!(cal["year"], 2026);
    assert_eq!(cal["latest_seq"], 0);
    assert!(cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2026-10-01" && d["kind"] == "holiday"));
    let y2027 = cal["years"]
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == 2027)
        .cloned()
        .expect("2027 shipped provisionally");
    assert_eq!(y2027["provisional"], true);

    // Not the county manager: 403, nothing written.
    let body = json!({"kind": "add_holiday", "date": "2026-11-25", "name": "本地停工",
        "reason": "台风停工通知"});
    let r = app
        .call(
            Method::POST,
            "/api/v1/calendar/edits",
            Some(&clerk),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Invalid edits name the field.
    for (bad, field, code) in [
        (
            json!({"kind": "add_holiday", "date": "2026-13-01", "name": "x", "reason": "r"}),
            "date",
            "CALENDAR_BAD_DATE",
        ),
        // 2026-10-10 is an adjusted workday (国庆节调休上班): it cannot also be a holiday.
        (
            json!({"kind": "add_holiday", "date": "2026-10-10", "name": "x", "reason": "r"}),
            "date",
            "calendar_conflict",
        ),
        (
            json!({"kind": "add_holiday", "date": "2030-05-06", "name": "x", "reason": "r"}),
            "date",
            "calendar_change_outside_coverage",
        ),
        (
            json!({"kind": "remove", "date": "2026-11-24", "reason": "r"}),
            "date",
            "calendar_nothing_to_remove",
        ),
        (
            json!({"kind": "add_holiday", "date": "2026-11-25", "name": "本地停工", "reason": " "}),
            "reason",
            "REQUIRED",
        ),
    ] {
        let r = app
            .call(
                Method::POST,
                "/api/v1/calendar/edits",
                Some(&manager),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text()
        );
        let v = r.json();
        let f = &v["error"]["fields"][0];
        assert_eq!(f["field"], field, "{bad}: {v}");
        assert_eq!(f["code"], code, "{bad}: {v}");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .starts_with(if field == "date" {
                    "日期:"
                } else {
                    "调整原因:"
                }),
            "{v}"
        );
    }

    // Without the edit it is based on, nothing is recorded: the field is named.
    let r = app
        .call(
            Method::POST,
            "/api/v1/calendar/edits",
            Some(&manager),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["field"], "expected_seq");
    assert_eq!(r.json()["error"]["fields"][0]["code"], "REQUIRED");

    // The county manager adds a local holiday on Wed 2026-11-25.
    let mut body = body;
    body["expected_seq"] = json!(0);
    let r = app
        .call(
            Method::POST,
            "/api/v1/calendar/edits",
            Some(&manager),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let edit = r.json();
    assert_eq!(edit["seq"], 1);
    assert_eq!(edit["kind"], "add_holiday");
    assert_eq!(edit["date"], "2026-11-25");
    assert_eq!(edit["user_name"], "cadmin");

    // A stale expectation is a conflict.
    let r = app
        .call(Method::POST, "/api/v1/calendar/edits", Some(&manager),
            Some(json!({"kind": "remove", "date": "2026-11-25", "reason": "撤销", "expected_seq": 0})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

    // After: the due date of a step opened now moves by one working day (11/27 → 11/30).
    let second = second_head(&app, &head).await;
    let after = register_dibao(&app, &clerk, &second).await;
    assert_eq!(after["open_steps"][0]["due"], "2026-11-30");
    // The case registered before keeps its stored due date.
    let r = app
        .get(&format!("/api/v1/cases/{}", before["id"]), Some(&clerk))
        .await;
    assert_eq!(r.json()["open_steps"][0]["due"], "2026-11-27");

    let cal = app
        .get("/api/v1/calendar?year=2026", Some(&clerk))
        .await
        .json();
    assert_eq!(cal["latest_seq"], 1);
    let day = cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2026-11-25")
        .cloned()
        .unwrap();
    assert_eq!(day["kind"], "holiday");
    assert_eq!(day["name"], "本地停工");
    assert_eq!(day["defined_at"], "管理员调整#1:2");

    // Audited, and read by the audit administrator (the calendar is the nation's).
    let audit = app.account("auditadm", Role::AuditAdmin, "000000").await;
    let r = app
        .get("/api/v1/audit?action=calendar_edited", Some(&audit))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let log = r.json();
    assert_eq!(log["total"], 1, "{log}");
    let ev = &log["items"][0];
    assert_eq!(ev["actor_name"], "cadmin");
    assert_eq!(ev["after"]["date"], "2026-11-25");
    assert_eq!(ev["after"]["reason"], "台风停工通知");

    // The page: every logged-in user reads it; only the county manager gets the forms.
    let page = app.get("/calendar?year=2026", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("本地停工") && html.contains("管理员调整#1"),
        "{html}"
    );
    assert!(html.contains("暂定"), "2027 is marked provisional");
    assert!(!html.contains("action=\"/calendar/edits\""));
    let page = app.get("/calendar", Some(&manager)).await.text();
    assert!(page.contains("action=\"/calendar/edits\""));
}

/// The head of another household of township A.
async fn second_head(app: &TestApp, first: &jiuzhu_domain::Person) -> jiuzhu_domain::Person {
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
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
        if p.id != first.id {
            return p;
        }
    }
    panic!("township A has two households");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_notice_replaces_the_provisional_year_from_the_page() {
    let app = TestApp::new().await;
    let manager = manager(&app).await;
    let csrf = manager.csrf.clone();
    let text = "[[year]]\nyear = 2027\nnotice = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\
                number = \"国办发明电〔2026〕9号\"\nissued = \"2026-11-10\"\n\
                holiday = [ { name = \"元旦\", dates = [\"2027-01-01..2027-01-03\"] } ]\n\
                workday = [ { name = \"元旦调休上班\", dates = [\"2027-01-09\"] } ]\n";
    let r = app
        .form(
            "/calendar/edits",
            Some(&manager.cookie),
            &[
                ("_csrf", &csrf),
                ("kind", "year"),
                ("year", "2027"),
                ("text", text),
                ("reason", "通知已发布"),
                ("expected_seq", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("已记录调整#1"), "{}", r.text());
    let cal = app
        .get("/api/v1/calendar?year=2027", Some(&manager))
        .await
        .json();
    assert_eq!(cal["provisional"], false, "{cal}");
    let y = cal["years"]
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == 2027)
        .unwrap();
    assert_eq!(y["number"], "国办发明电〔2026〕9号");
    assert_eq!(y["source"], "管理员调整#1");
    assert!(cal["days"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2027-01-09" && d["kind"] == "workday"));

    // A block of another year is refused, naming the text field.
    let r = app
        .form(
            "/calendar/edits",
            Some(&manager.cookie),
            &[
                ("_csrf", &csrf),
                ("kind", "year"),
                ("year", "2028"),
                ("text", text),
                ("reason", "x"),
                ("expected_seq", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("年度放假安排"), "{}", r.text());
}
