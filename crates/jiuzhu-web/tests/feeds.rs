//! Departments push deliveries over HTTP; the township handles the month's warnings to closure.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use jiuzhu_app::verification::{self as feeds, MonthRequest, RunFeed};
use jiuzhu_domain::access::{ImportFeeds, RunVerification};
use jiuzhu_domain::{Actor, Month, Role};
use jiuzhu_store::kept::FeedFiles;
use serde_json::json;

async fn push(app: &TestApp, s: &Session, kind: &str, csv: &str) -> Resp {
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
    app.send(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officer_pushes_and_township_closes_the_warning() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let head = app.head_of(TOWNSHIP_A).await;
    let household = app.household_of(&head).await;
    let officer = app.login("officer_yibao", "Demo@2026-medins").await;

    // The medical insurance officer delivers claims: one bad row is reported, the rest kept.
    let csv = format!(
        "id_number,settlement_date,total_cost,out_of_pocket\n\
         {},2026-02-10,9000.00,5000.00\n{},2026-02-11,abc,1.00\n",
        head.id_number, head.id_number
    );
    let r = push(&app, &officer, "medical_claims", &csv).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["delivery"]["status"], "accepted");
    assert_eq!(v["delivery"]["rows_total"], 2);
    assert_eq!(v["delivery"]["rows_rejected"], 1);
    assert_eq!(v["delivery"]["imported_by"], "officer_yibao");
    assert_eq!(v["rejected_rows"][0]["row"], 3);
    assert_eq!(v["rejected_rows"][0]["code"], "MONEY_NOT_A_NUMBER");
    let sha = v["delivery"]["sha256"].as_str().unwrap();
    assert_eq!(
        std::fs::read_to_string(data.path().join("feeds").join(format!("{sha}.csv"))).unwrap(),
        csv
    );

    // Another department's kind is refused, and so is a clerk.
    let r = push(&app, &officer, "social_insurance", &csv).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "FEED_NOT_YOUR_DEPARTMENT");
    let clerk = app.login_as(&app.clerk_a()).await;
    let r = push(&app, &clerk, "medical_claims", &csv).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app.get("/api/v1/feeds", Some(&officer)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);

    // Issue 12, point 9: the department reads its delivery back with the rows to correct;
    // another department's officer is told nothing of it.
    let id = v["delivery"]["id"].as_i64().unwrap();
    let r = app
        .get(&format!("/api/v1/feeds/deliveries/{id}"), Some(&officer))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let back = r.json();
    assert_eq!(back["delivery"]["sha256"], v["delivery"]["sha256"]);
    assert_eq!(back["rejected_rows"][0]["row"], 3);
    assert_eq!(back["rejected_rows"][0]["code"], "MONEY_NOT_A_NUMBER");
    let banker = app.login("officer_bank", "Demo@2026-banker").await;
    let r = app
        .get(&format!("/api/v1/feeds/deliveries/{id}"), Some(&banker))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());

    // The county's month: its medical line (4000.00, inherited from the national file) raises
    // one warning.
    let system = Actor::system("test");
    let g = system.grant::<RunVerification>().unwrap();
    let month = Month::parse("2026-02").unwrap();
    let latest = app
        .store
        .deliveries_for_run(&g, g.scope().root(), month.last_day())
        .await
        .unwrap();
    let windows = jiuzhu_verify::FeedKind::ALL
        .iter()
        .map(|k| (*k, 31))
        .collect();
    let plan = feeds::plan_sources(latest, month, &windows);
    let report = feeds::run_from_store(
        app.store.as_ref(),
        &g,
        None::<&jiuzhu_domain::Grant<ImportFeeds>>,
        &FeedFiles::new(data.path()),
        &MonthRequest {
            month,
            division: None,
            policies: &jiuzhu_app::shipped_policies().unwrap(),
            threads: 2,
            started_at: chrono::DateTime::from_timestamp(1_772_420_000, 0).unwrap(),
            due: chrono::NaiveDate::from_ymd_opt(2026, 3, 23).unwrap(),
            sources: plan.sources,
        },
        plan.kept.into_iter().map(RunFeed::Kept).collect(),
    )
    .await
    .unwrap();
    assert_eq!(report.run.warnings, 1);
    assert_eq!(report.run.counts["MEDICAL"], 1);

    // Township A's reviewer lists and closes it; a stale version conflicts.
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let r = app
        .get("/api/v1/warnings?status=open&kind=MEDICAL", Some(&reviewer))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["total"], 1);
    let w = &v["items"][0];
    assert_eq!(w["household_id"], household);
    assert_eq!(w["township"], TOWNSHIP_A);
    assert_eq!(w["evidence"]["row"], 2);
    assert_eq!(w["evidence"]["data_date"], "2026-02-28");
    // An out-of-pocket medical cost is health data: masked in the answer, shown to a role
    // that may reveal through the audited reveal.
    assert_eq!(w["evidence"]["value"], "***");
    assert_eq!(w["evidence_masked"], true);
    let id = w["id"].as_i64().unwrap();
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/warnings/{id}/reveal"),
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["evidence"]["value"], "5000.00");
    assert_eq!(r.json()["evidence_masked"], false);
    let clerk_b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
    assert_eq!(
        app.get("/api/v1/warnings", Some(&clerk_b)).await.json()["total"],
        0
    );
    // The household has no benefit in force here: an adjustment is refused, not recorded.
    let adjust = json!({"result": "adjust", "note": "入户核实,调整救助金额", "row_version": 1});
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/warnings/{id}/close"),
            Some(&reviewer),
            Some(adjust),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "WARNING_RESULT_NEEDS_CASE"
    );
    let close = json!({"result": "refer", "note": "入户核实,转医疗救助", "row_version": 1});
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/warnings/{id}/close"),
            Some(&reviewer),
            Some(close.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "closed");
    assert_eq!(r.json()["result"], "refer");
    assert_eq!(r.json()["row_version"], 2);
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/warnings/{id}/close"),
            Some(&reviewer),
            Some(close),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
}
