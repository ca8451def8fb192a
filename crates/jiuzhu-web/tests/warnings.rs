//! Handling the month's warnings over HTTP: due dates on the working-day calendar, the township
//! inbox with its filters, bulk closing with per-warning outcomes, the detail page's handling
//! form, zero reports and the month's dashboard.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{NaiveDate, TimeZone};
use common::*;
use jiuzhu_domain::access::{ReadRegistry, RunVerification};
use jiuzhu_domain::{Actor, Clock, DivisionCode, Level, Role};
use jiuzhu_store::{HouseholdQuery, HouseholdSummary, NewRun, NewWarning};
use serde_json::{json, Value};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The due date the product computes: the policy's working days on the shipped calendar.
fn due_after(run_day: NaiveDate) -> NaiveDate {
    let lib = jiuzhu_policy::PolicyLibrary::builtin().unwrap();
    let cal = jiuzhu_app::params::build_calendar(&[], None).unwrap();
    jiuzhu_app::verification::due::handling_due(
        &lib,
        &cal,
        Some(&DivisionCode::parse("371002").unwrap()),
        run_day,
    )
    .unwrap()
}

async fn households(app: &TestApp, township: &str, n: usize) -> Vec<HouseholdSummary> {
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let page = app
        .store
        .search_households(
            &g,
            &HouseholdQuery {
                text: None,
                division: Some(DivisionCode::parse(township).unwrap()),
                limit: n as i64,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), n);
    page.items
}

fn warning(h: &HouseholdSummary, kind: &str, source: &str) -> NewWarning {
    NewWarning {
        household_id: h.id,
        kind: kind.into(),
        division: h.division.clone(),
        evidence: json!({
            "source": source, "delivery": 1, "data_date": "2026-02-28", "row": 2,
            "person": "371002********0013", "value": "95000.00", "threshold": "30000.00",
            "records": 3,
        })
        .to_string(),
        facts: jiuzhu_store::warning_facts("371002********0013", "95000.00"),
    }
}

async fn store_run(app: &TestApp, warnings: &[NewWarning]) {
    let run_day = app.clock.now().date_naive();
    app.store
        .store_run(
            &Actor::system("test").grant::<RunVerification>().unwrap(),
            &NewRun {
                month: "2026-02".into(),
                division: DivisionCode::parse("371002").unwrap(),
                started_at: app.clock.now(),
                delivery_ids: vec![1],
                households: 100,
                due: due_after(run_day),
            },
            warnings,
        )
        .await
        .unwrap();
}

async fn total(app: &TestApp, s: &Session, path: impl AsRef<str>) -> i64 {
    let path = path.as_ref();
    let r = app.get(path, Some(s)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    r.json()["total"].as_i64().unwrap()
}

fn set_today(app: &TestApp, d: NaiveDate) {
    app.clock
        .set(chrono::Utc.from_utc_datetime(&d.and_hms_opt(2, 0, 0).unwrap()));
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn due_dates_count_working_days_on_the_calendar() {
    // 15 working days (national 演示值) after Monday 2026-03-02: no holiday in between.
    assert_eq!(due_after(day(2026, 3, 2)), day(2026, 3, 23));
    // Across 国庆节 (10-01..07 off, Saturday 10-10 a working day): 2026-10-23, not 10-19.
    assert_eq!(due_after(day(2026, 9, 28)), day(2026, 10, 23));
    // The demo's today.
    assert_eq!(due_after(day(2026, 11, 23)), day(2026, 12, 14));
    // No region (a nation-wide run), or a county no local file covers: the national value.
    let lib = jiuzhu_policy::PolicyLibrary::builtin().unwrap();
    let cal = jiuzhu_app::params::build_calendar(&[], None).unwrap();
    let due = |region: Option<&str>| {
        let region = region.map(|r| DivisionCode::parse(r).unwrap());
        jiuzhu_app::verification::due::handling_due(&lib, &cal, region.as_ref(), day(2026, 3, 2))
            .unwrap()
    };
    assert_eq!(due(None), day(2026, 3, 23));
    assert_eq!(due(Some("110101")), day(2026, 3, 23));
    // A day the calendar does not cover is an error, not a guess.
    assert!(
        jiuzhu_app::verification::due::handling_due(&lib, &cal, None, day(2031, 1, 6)).is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_filters_bulk_close_and_detail_form() {
    let app = TestApp::new().await;
    let a = households(&app, TOWNSHIP_A, 3).await;
    let b = households(&app, TOWNSHIP_B, 1).await;
    store_run(
        &app,
        &[
            warning(&a[0], "DEPOSIT", "deposits"),
            warning(&a[0], "VEHICLE", "vehicles"),
            warning(&a[1], "DEPOSIT", "deposits"),
            warning(&a[2], "MEDICAL", "medical_claims"),
            warning(&b[0], "DEPOSIT", "deposits"),
        ],
    )
    .await;
    let clerk = app.login_as(&app.clerk_a()).await;

    let r = app.get("/api/v1/warnings?status=open", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["total"], 4);
    let first = &v["items"][0];
    assert_eq!(first["due"], "2026-03-23");
    assert_eq!(first["overdue"], false);
    assert_eq!(first["household_id"], a[0].id);
    assert_eq!(first["kind_label"], "家庭存款超过限额");
    // A deposit balance is bank data: masked for everyone until an audited reveal.
    assert_eq!(
        first["evidence_summary"],
        "***(阈值 30000.00);来源:存款及金融资产;数据日期 2026-02-28"
    );
    let all = ids(&v);
    assert_eq!(
        total(&app, &clerk, "/api/v1/warnings?kind=DEPOSIT").await,
        2
    );
    assert_eq!(
        total(
            &app,
            &clerk,
            format!("/api/v1/warnings?household={}", a[0].code)
        )
        .await,
        2
    );
    assert_eq!(
        total(
            &app,
            &clerk,
            format!(
                "/api/v1/warnings?household={}",
                urlencode("371002********0013")
            )
        )
        .await,
        4
    );
    assert_eq!(
        total(&app, &clerk, "/api/v1/warnings?status=overdue").await,
        0
    );
    assert_eq!(
        total(
            &app,
            &clerk,
            "/api/v1/warnings?month=2026-02&limit=2&offset=2"
        )
        .await,
        4
    );
    let r = app.get("/api/v1/warnings?status=late", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_code(&r), "STATUS_INVALID");

    // The day after the due date all four are overdue, in the list and on the page.
    set_today(&app, day(2026, 3, 24));
    // (Three weeks on, the session has timed out.)
    let clerk = app.login_as(&app.clerk_a()).await;
    assert_eq!(
        total(&app, &clerk, "/api/v1/warnings?status=overdue").await,
        4
    );
    let page = app.get("/warnings?status=overdue", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_eq!(
        html.matches("<span class=\"tag warn\">已超期</span>")
            .count(),
        4
    );
    assert!(html.contains(&a[2].code));
    assert!(html.contains("大额医疗自付费用"));
    assert!(html.contains("href=\"/warnings\""), "nav link");

    // Bulk close: two of A's, and B's warning, which township A cannot see.
    let b_warning = {
        let clerk_b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
        ids(&app.get("/api/v1/warnings", Some(&clerk_b)).await.json())[0]
    };
    let bulk = |items: Value, note: &str| json!({"items": items, "note": note});
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(bulk(
                json!([
                    {"id": all[0], "row_version": 1},
                    {"id": all[1], "row_version": 1},
                    {"id": b_warning, "row_version": 1},
                ]),
                "入户核实,对救助无影响",
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["closed"], 2);
    assert_eq!(v["failed"], 1);
    let outcomes: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["closed", "closed", "not_found"]);
    // Again with the old version: a conflict, reported with the current version.
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(bulk(json!([{"id": all[0], "row_version": 1}]), "重复")),
        )
        .await;
    assert_eq!(r.json()["results"][0]["outcome"], "conflict");
    assert_eq!(r.json()["results"][0]["row_version"], 2);
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(bulk(json!([{"id": all[2], "row_version": 1}]), "  ")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_code(&r), "NOTE_REQUIRED");

    // The page's bulk form (checkbox values are id:row_version).
    let sel = format!("{}:1", all[2]);
    let r = app
        .form(
            "/warnings/close",
            Some(&clerk.cookie),
            &[
                ("_csrf", clerk.csrf.as_str()),
                ("sel", sel.as_str()),
                ("note", "电话核实,无影响"),
                ("visit_date", "2026-03-20"),
                ("status", "open"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("批量销号结果"));
    assert!(r.text().contains("已销号(核实无影响)"));
    let open = app
        .get("/api/v1/warnings?status=open", Some(&clerk))
        .await
        .json();
    assert_eq!(open["total"], 1);
    let last = ids(&open)[0];
    assert_eq!(last, all[3]);
    let closed = app
        .get(&format!("/api/v1/warnings/{}", all[2]), Some(&clerk))
        .await
        .json();
    assert_eq!(closed["result"], "no_effect");
    assert_eq!(closed["visit_date"], "2026-03-20");
    assert_eq!(closed["closed_by"], app.clerk_a().username);
    assert_eq!(closed["closed_by_name"], app.clerk_a().display_name);
    // The closed warning's page names who closed it, by name and account.
    let html = app
        .get(&format!("/warnings/{}", all[2]), Some(&clerk))
        .await
        .text();
    let who = format!("{}({})", app.clerk_a().display_name, app.clerk_a().username);
    assert!(html.contains(&who), "销号人 {who} on the page");

    // The detail page: evidence and the handling form; the note is required.
    let page = app.get(&format!("/warnings/{last}"), Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for s in [
        "比对依据",
        "医疗费用结算",
        "2026-02-28",
        "查看比对值原文",
        "提交并销号",
        "已超期",
    ] {
        assert!(html.contains(s), "detail page lacks {s}");
    }
    // The medical cost itself is health data: not on the page, raw record included.
    assert!(!html.contains("95000.00"));
    let path = format!("/warnings/{last}/close");
    let r = app
        .form(
            &path,
            Some(&clerk.cookie),
            &[
                ("_csrf", clerk.csrf.as_str()),
                ("result", "refer"),
                ("note", ""),
                ("row_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请填写核查情况说明"));
    // Issue 12, point 4: the household has no benefit in force, so a stop cannot be chosen on
    // the page, and one posted all the same is refused; the warning stays open, the note kept.
    assert!(html.contains("本户无在保救助,不可选"), "{html}");
    // Nothing is chosen for the reviewer.
    assert!(
        html.contains("<option value=\"\" selected>请选择</option>"),
        "{html}"
    );
    assert!(html.contains("value=\"stop\" disabled"), "{html}");
    let r = app
        .form(
            &path,
            Some(&clerk.cookie),
            &[
                ("_csrf", clerk.csrf.as_str()),
                ("result", "stop"),
                ("note", "户主已去世"),
                ("row_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let text = r.text();
    assert!(text.contains("不能选择“停止救助”"), "{text}");
    assert!(text.contains("户主已去世"), "{text}");
    let r = app
        .form(
            &path,
            Some(&clerk.cookie),
            &[
                ("_csrf", clerk.csrf.as_str()),
                ("result", "refer"),
                ("note", "因病支出大,转医疗救助"),
                ("visit_date", "2026-03-23"),
                ("row_version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), format!("/warnings/{last}"));
    let html = app
        .get(&format!("/warnings/{last}"), Some(&clerk))
        .await
        .text();
    assert!(html.contains("转办"));
    assert!(html.contains("因病支出大,转医疗救助"));
    let v = app
        .get(&format!("/api/v1/warnings/{last}"), Some(&clerk))
        .await
        .json();
    assert_eq!(v["status"], "closed");
    assert_eq!(v["result"], "refer");
    assert_eq!(v["visit_date"], "2026-03-23");
    assert_eq!(v["overdue"], false);
    assert_eq!(
        app.get("/api/v1/warnings?status=open", Some(&clerk))
            .await
            .json()["total"],
        0
    );

    // Another township's warning is not found, page or API.
    assert_eq!(
        app.get(&format!("/warnings/{b_warning}"), Some(&clerk))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/warnings/{b_warning}"), Some(&clerk))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// The machine code of the first field error of a 422.
fn field_code(r: &Resp) -> String {
    r.json()["error"]["fields"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn urlencode(s: &str) -> String {
    s.replace('*', "%2A")
}

fn villages_under(app: &TestApp, prefix: &str) -> Vec<String> {
    app.demo
        .divisions
        .iter()
        .filter(|(c, _)| c.level() == Level::Village && c.as_str().starts_with(prefix))
        .map(|(c, _)| c.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_reports_and_the_month_dashboard() {
    let app = TestApp::new().await;
    let a = households(&app, TOWNSHIP_A, 1).await;
    let b = households(&app, TOWNSHIP_B, 1).await;
    store_run(
        &app,
        &[
            warning(&a[0], "DEPOSIT", "deposits"),
            warning(&a[0], "DEATH", "civil_deaths"),
            warning(&b[0], "DEPOSIT", "deposits"),
        ],
    )
    .await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let village_a = a[0].division.as_str()[..12].to_string();
    let quiet_village = villages_under(&app, TOWNSHIP_A)
        .into_iter()
        .find(|v| *v != village_a)
        .unwrap();
    let file =
        |division: &str| json!({"division": division, "month": "2026-02", "note": "本月无变化"});

    // Refused while the village has open warnings.
    let r = app
        .call(
            Method::POST,
            "/api/v1/zero-reports",
            Some(&clerk),
            Some(file(&village_a)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(field_code(&r), "ZERO_REPORT_OPEN_WARNINGS");
    let r = app
        .call(
            Method::POST,
            "/api/v1/zero-reports",
            Some(&clerk),
            Some(file(&quiet_village)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["kind"], "no_warnings");
    assert_eq!(r.json()["kind_label"], "本月无预警");

    // One closed on time (today, due 03-23), one late (03-25).
    let open = ids(&app.get("/api/v1/warnings", Some(&clerk)).await.json());
    assert_eq!(open.len(), 2);
    let close = |id: i64| json!({"items": [{"id": id, "row_version": 1}], "note": "核实无影响"});
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(close(open[0])),
        )
        .await;
    assert_eq!(r.json()["closed"], 1);
    set_today(&app, day(2026, 3, 25));
    let clerk = app.login_as(&app.clerk_a()).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/warnings/close",
            Some(&clerk),
            Some(close(open[1])),
        )
        .await;
    assert_eq!(r.json()["closed"], 1);
    // Now the village may file (through the page's form).
    let r = app
        .form(
            "/warnings/zero-report",
            Some(&clerk.cookie),
            &[
                ("_csrf", clerk.csrf.as_str()),
                ("division", village_a.as_str()),
                ("month", "2026-02"),
                ("note", "预警均已核查"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .form(
            "/warnings/zero-report",
            Some(&clerk.cookie),
            &[
                ("_csrf", clerk.csrf.as_str()),
                ("division", village_a.as_str()),
                ("month", "2026-02"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("已报送零报告"));

    let villages_a = villages_under(&app, TOWNSHIP_A).len();
    let v = app
        .get("/api/v1/zero-reports?month=2026-02", Some(&clerk))
        .await
        .json();
    assert_eq!(v["divisions"], villages_a);
    assert_eq!(v["filed"], 2);
    let mine = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["division"] == village_a.as_str())
        .unwrap();
    assert_eq!(mine["kind_label"], "预警已全部处理");
    assert_eq!(mine["warnings"], 2);
    assert_eq!(mine["open"], 0);
    let page = app
        .get("/warnings/zero-report?month=2026-02", Some(&clerk))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"filed\">2<"));

    // The county's dashboard: both townships.
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let r = app
        .get(
            "/api/v1/verification/dashboard?month=2026-02",
            Some(&approver),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    let cells: Vec<(String, String, [i64; 5])> = d["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_i64().unwrap();
            (
                c["kind_label"].as_str().unwrap().to_string(),
                c["township"].as_str().unwrap().to_string(),
                [
                    n("total"),
                    n("open"),
                    n("overdue"),
                    n("closed_on_time"),
                    n("closed_late"),
                ],
            )
        })
        .collect();
    // Which of A's two closed on time depends on list order (by due, then id): DEPOSIT first.
    assert_eq!(
        cells,
        vec![
            ("成员已死亡".into(), TOWNSHIP_A.into(), [1, 0, 0, 0, 1]),
            (
                "家庭存款超过限额".into(),
                TOWNSHIP_A.into(),
                [1, 0, 0, 1, 0]
            ),
            (
                "家庭存款超过限额".into(),
                TOWNSHIP_B.into(),
                [1, 1, 1, 0, 0]
            ),
        ]
    );
    assert_eq!(d["results"], json!({"no_effect": 2}));
    assert_eq!(
        d["zero_report_divisions"],
        villages_under(&app, "371002").len()
    );
    assert_eq!(d["zero_reports_filed"], 2);
    let html = app
        .get("/verification/dashboard?month=2026-02", Some(&approver))
        .await
        .text();
    for s in [
        "id=\"sum-total\">3<",
        "id=\"sum-open\">1<",
        "id=\"sum-overdue\">1<",
        "id=\"sum-on-time\">1<",
        "id=\"sum-late\">1<",
        "id=\"zero-filed\">2<",
    ] {
        assert!(html.contains(s), "dashboard lacks {s}");
    }

    // The API is documented.
    let doc = app.get("/api/openapi.json", None).await.json();
    for p in [
        "/api/v1/warnings",
        "/api/v1/warnings/{id}",
        "/api/v1/warnings/close",
        "/api/v1/zero-reports",
        "/api/v1/verification/dashboard",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing from OpenAPI");
    }
}

/// People read a coded value of the source (a vehicle type) by its Chinese label, on the list
/// and on the detail page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coded_evidence_is_shown_in_chinese() {
    let app = TestApp::new().await;
    let a = households(&app, TOWNSHIP_A, 1).await;
    let mut w = warning(&a[0], "VEHICLE", "vehicles");
    w.evidence = json!({"source": "vehicles", "delivery": 1, "data_date": "2026-02-28",
        "row": 2, "person": "371002********0013", "value": "motorcycle", "records": 1})
    .to_string();
    w.facts = jiuzhu_store::warning_facts("371002********0013", "motorcycle");
    store_run(&app, &[w]).await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let list = app.get("/warnings?kind=VEHICLE", Some(&clerk)).await.text();
    assert!(list.contains("摩托车"), "{list}");
    let id = ids(&app
        .get("/api/v1/warnings?kind=VEHICLE", Some(&clerk))
        .await
        .json())[0];
    let page = app
        .get(&format!("/warnings/{id}"), Some(&clerk))
        .await
        .text();
    assert!(page.contains("<td>摩托车</td>"), "{page}");
}
