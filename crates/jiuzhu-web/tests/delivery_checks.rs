//! What a department must correct is refused with the reason, through the push API a
//! department's system uses: a negative amount (a −900.00 medical cost was accepted), a data
//! date in the future (2027-06-30 was accepted), a header without rows (accepted as 已采用 with
//! 0 rows), the same file again from the same source (accepted three times), and a wrong header
//! (only the first missing column was named).

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use serde_json::Value;

async fn push(app: &TestApp, s: &Session, data_date: &str, csv: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/api/v1/feeds/medical_claims?source=HC-YB&data_date={data_date}"
        ))
        .header(header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_string()))
        .unwrap();
    let r = app.send(req).await;
    (r.status, r.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_a_department_must_correct_are_refused_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let head = app.head_of(TOWNSHIP_A).await;
    let officer = app.login("officer_yibao", "Demo@2026-medins").await;
    let header_line = "身份证号码,结算日期,医疗总费用,个人自付\n";

    // A negative cost is a rejected row, the other row is kept.
    let csv = format!(
        "{header_line}{h},2026-02-10,-900.00,0.00\n{h},2026-02-11,300.00,100.00\n",
        h = head.id_number
    );
    let (status, v) = push(&app, &officer, "2026-02-28", &csv).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["delivery"]["rows_accepted"], 1, "{v}");
    assert_eq!(v["rejected_rows"][0]["row"], 2, "{v}");
    assert_eq!(v["rejected_rows"][0]["code"], "AMOUNT_NEGATIVE", "{v}");
    let first = v["delivery"]["id"].as_i64().unwrap();

    // The same file again from the same source: not a second delivery.
    let (status, v) = push(&app, &officer, "2026-02-28", &csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["fields"][0]["code"], "ALREADY_DELIVERED", "{v}");
    let message = v["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("第 {first} 号报送")), "{message}");

    // Data of a day after today (the test's today is 2026-03-02).
    let csv = format!(
        "{header_line}{h},2026-02-12,50.00,10.00\n",
        h = head.id_number
    );
    let (status, v) = push(&app, &officer, "2027-06-30", &csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"][0]["code"], "DATA_DATE_IN_FUTURE",
        "{v}"
    );

    // A header and nothing under it.
    let (status, v) = push(&app, &officer, "2026-02-28", header_line).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["delivery"]["status"], "refused", "{v}");
    assert_eq!(v["rejected_rows"][0]["code"], "NO_DATA_ROWS", "{v}");

    // A wrong header names every missing column at once.
    let (status, v) = push(
        &app,
        &officer,
        "2026-02-28",
        &format!(
            "身份证号码,日期,金额\n{},2026-02-12,50.00\n",
            head.id_number
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let reason = v["rejected_rows"][0]["reason"].as_str().unwrap();
    for column in ["结算日期", "医疗总费用", "个人自付"] {
        assert!(reason.contains(column), "{reason}");
    }

    // Only the first delivery is kept as accepted.
    let list = app.get("/api/v1/feeds", Some(&officer)).await.json();
    let accepted: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "accepted")
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(accepted, [first], "{list}");
}
