//! The screens of the monthly comparison: uploads of xlsx and GBK deliveries as background jobs
//! with their rejected rows at the department's row numbers, the month's run started over HTTP,
//! and the outreach leads it stores.

mod common;

use std::time::Duration;

use axum::http::{header, Method, Request, StatusCode};
use common::*;
use jiuzhu_domain::access::WriteRegistry;
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{Actor, IdNumber, PersonFacts};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn id(body: &str) -> IdNumber {
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    IdNumber::parse(&format!("{body}{}", check_char(&b))).unwrap()
}

async fn app_with_files() -> (TestApp, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    (app, data)
}

/// Polls a job's progress until it is no longer running.
async fn wait(app: &TestApp, s: &Session, url: &str) -> Value {
    for _ in 0..400 {
        let r = app.get(url, Some(s)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        if v["phase"] != "running" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {url} did not finish");
}

/// Uploads through the page's form and waits for the job: the finished status.
async fn upload(app: &TestApp, s: &Session, kind: &str, file: (&str, &str, &[u8])) -> Value {
    let r = app
        .upload(
            "/feeds",
            s,
            &[
                ("kind", kind),
                ("source", "HC-YB"),
                ("data_date", "2026-02-28"),
            ],
            Some(file),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let job = r.location();
    assert!(job.starts_with("/feeds/jobs/"), "{job}");
    let page = app.get(&job, Some(s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("progress"), "{}", page.text());
    let v = wait(app, s, &format!("{job}/progress")).await;
    assert_eq!(v["phase"], "done", "{v}");
    assert_eq!(v["percent"], 100);
    assert!(v["total"].as_u64().unwrap() > 0);
    assert_eq!(v["done"], v["total"]);
    v
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_and_gbk_uploads_show_rejected_rows_at_the_departments_row_numbers() {
    let (app, data) = app_with_files().await;
    let head = app.head_of(TOWNSHIP_A).await;
    let officer = app.login("officer_yibao", "Demo@2026-medins").await;

    // An xlsx as a department exports it: Chinese headers, numbers as numbers, a real date
    // cell, a blank row (row 3) and a bad amount on row 4.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["身份证号码", "结算日期", "医疗总费用", "个人自付"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, head.id_number.as_str()).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 2, 10).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_datetime_with_format(1, 1, &date, &fmt).unwrap();
    sheet.write_number(1, 2, 9000.5).unwrap();
    sheet.write_number(1, 3, 5000).unwrap();
    sheet.write_string(3, 0, head.id_number.as_str()).unwrap();
    sheet.write_string(3, 1, "2026-02-11").unwrap();
    sheet.write_string(3, 2, "abc").unwrap();
    sheet.write_number(3, 3, 1).unwrap();
    let xlsx = book.save_to_buffer().unwrap();

    let v = upload(
        &app,
        &officer,
        "medical_claims",
        ("claims.xlsx", "application/octet-stream", &xlsx),
    )
    .await;
    let d = &v["result"];
    assert_eq!(d["status"], "accepted");
    assert_eq!(d["rows_total"], 2);
    assert_eq!(d["rows_accepted"], 1);
    assert_eq!(d["rows_rejected"], 1);
    // Provenance is of what the department sent: the workbook's own bytes and hash.
    assert_eq!(d["sha256"], sha(&xlsx));
    assert_eq!(d["bytes"], xlsx.len());
    let kept = data
        .path()
        .join("feeds")
        .join(format!("{}.xlsx", sha(&xlsx)));
    assert_eq!(std::fs::read(&kept).unwrap(), xlsx);
    let link = v["link"].as_str().unwrap();
    let page = app.get(link, Some(&officer)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<td>4</td>"), "{html}");
    assert!(html.contains("不是数字"), "{html}");
    assert!(
        !html.contains("MONEY_NOT_A_NUMBER"),
        "people read the reason, not the code"
    );
    assert!(html.contains("Excel(xlsx)"), "{html}");
    assert!(html.contains(&sha(&xlsx)), "{html}");

    // A GBK CSV (Excel's "CSV" on a Chinese Windows), a bad date on row 3.
    let text = format!(
        "身份证号码,结算日期,医疗总费用,个人自付\r\n{},2026-02-12,300.00,100.00\r\n{},2026-13-01,10.00,1.00\r\n",
        head.id_number, head.id_number
    );
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    let gbk = gbk.into_owned();
    assert!(std::str::from_utf8(&gbk).is_err());
    let v = upload(
        &app,
        &officer,
        "medical_claims",
        ("claims.csv", "text/csv", &gbk),
    )
    .await;
    let d = &v["result"];
    assert_eq!(d["rows_total"], 2);
    assert_eq!(d["rows_rejected"], 1);
    assert_eq!(d["sha256"], sha(&gbk));
    assert_eq!(
        std::fs::read(
            data.path()
                .join("feeds")
                .join(format!("{}.gbk.csv", sha(&gbk)))
        )
        .unwrap(),
        gbk
    );
    let gbk_id = d["id"].as_i64().unwrap();
    let html = app
        .get(&format!("/feeds/{gbk_id}"), Some(&officer))
        .await
        .text();
    assert!(html.contains("<td>3</td>"), "{html}");
    assert!(html.contains("日期“2026-13-01”无效"), "{html}");
    assert!(html.contains("CSV(GBK)"), "{html}");

    // A delivery of a kind the officer may not push is neither listed nor shown to them.
    let approver = app.login("approver_huancui", "Demo@2026-approve").await;
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/feeds/deposits?source=WHCCB-HC&data_date=2026-02-28")
        .header(header::COOKIE, &approver.cookie)
        .header("x-csrf-token", &approver.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(axum::body::Body::from(format!(
            "id_number,institution_code,account_type,balance,as_of\n{},B1,savings,100.00,2026-02-28\n",
            head.id_number
        )))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let deposits_id = r.json()["delivery"]["id"].as_i64().unwrap();
    let list = app.get("/feeds", Some(&officer)).await.text();
    assert!(
        list.contains(&format!("href=\"/feeds/{gbk_id}\"")),
        "{list}"
    );
    assert!(
        !list.contains(&format!("href=\"/feeds/{deposits_id}\"")),
        "{list}"
    );
    assert_eq!(
        app.get(&format!("/feeds/{deposits_id}"), Some(&officer))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = app
        .get("/feeds?kind=deposits", Some(&approver))
        .await
        .text();
    assert!(
        list.contains(&format!("href=\"/feeds/{deposits_id}\"")),
        "{list}"
    );
    assert!(
        !list.contains(&format!("href=\"/feeds/{gbk_id}\"")),
        "{list}"
    );
    let list = app
        .get("/feeds?status=refused", Some(&approver))
        .await
        .text();
    assert!(list.contains("暂无数据"), "{list}");

    // The form refuses another department's kind before anything is read.
    let r = app
        .upload(
            "/feeds",
            &officer,
            &[
                ("kind", "pensions"),
                ("source", "x"),
                ("data_date", "2026-02-28"),
            ],
            Some(("p.csv", "text/csv", b"id_number\n")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("本部门不能报送"), "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_month_runs_over_http_and_stores_outreach_leads() {
    let (app, _data) = app_with_files().await;
    let head = app.head_of(TOWNSHIP_A).await;
    let household = app.household_of(&head).await;
    // A registered resident of township A who receives nothing, and someone unregistered.
    let resident = id("37100219500101001");
    let stranger = id("37100219550505002");
    let w = Actor::system("test").grant::<WriteRegistry>().unwrap();
    let person = app
        .store
        .create_person(
            &w,
            &resident,
            &PersonFacts::minimal(&resident, "赵某", head.facts.residence_division.clone()),
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        )
        .await
        .unwrap();

    let officer = app.login("officer_yibao", "Demo@2026-medins").await;
    // The insurer's file names each person and adds a column the platform does not read.
    let csv = format!(
        "id_number,settlement_date,total_cost,out_of_pocket,姓名,诊断\n\
         {},2026-02-10,9000.00,5000.00,户主,感冒\n{},2026-02-11,20000.00,12000.00,赵某,骨折\n\
         {},2026-02-12,30000.00,15000.50,钱某某,肺癌\n{},2026-02-13,3000.00,900.00,钱某某,复查\n",
        head.id_number, resident, stranger, stranger
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/feeds/medical_claims?source=HC-YB&data_date=2026-02-28")
        .header(header::COOKIE, &officer.cookie)
        .header("x-csrf-token", &officer.csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let delivery = r.json()["delivery"]["id"].as_i64().unwrap();

    // Only the county (approver, manager) starts a run.
    let clerk = app.login_as(&app.clerk_a()).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/verification/runs",
            Some(&clerk),
            Some(json!({"month": "2026-02"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let approver = app.login("approver_huancui", "Demo@2026-approve").await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/verification/runs",
            Some(&approver),
            Some(json!({"month": "2025-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["code"], "NO_DELIVERIES");
    let r = app
        .call(
            Method::POST,
            "/api/v1/verification/runs",
            Some(&approver),
            Some(json!({"month": "2026-13"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // A month after the current one (today is 2026-03-02) cannot be run; the current one can.
    let r = app
        .call(
            Method::POST,
            "/api/v1/verification/runs",
            Some(&approver),
            Some(json!({"month": "2026-04"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"][0]["code"], "MONTH_IN_FUTURE");

    let r = app
        .call(
            Method::POST,
            "/api/v1/verification/runs",
            Some(&approver),
            Some(json!({"month": "2026-02"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let status_url = r.json()["status_url"].as_str().unwrap().to_string();
    let v = wait(&app, &approver, &status_url).await;
    assert_eq!(v["phase"], "done", "{v}");
    let result = &v["result"];
    assert_eq!(result["run"]["month"], "2026-02");
    assert_eq!(result["run"]["counts"]["MEDICAL"], 1);
    assert_eq!(result["run"]["warnings"], 1);
    assert_eq!(result["found_by_township"][TOWNSHIP_A], 1);
    assert_eq!(result["leads"], 2);
    // Another user does not see the job.
    assert_eq!(
        app.get(&status_url, Some(&clerk)).await.status,
        StatusCode::FORBIDDEN
    );

    let runs = app
        .get("/api/v1/verification/runs", Some(&approver))
        .await
        .json();
    let run = &runs["items"][0];
    assert_eq!(run["month"], "2026-02");
    assert_eq!(run["counts"]["MEDICAL"], 1);
    assert_eq!(run["by_township"][TOWNSHIP_A], 1);
    assert_eq!(run["leads"], 2);
    let page = app.get("/verification/runs", Some(&approver)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("开始本月比对"), "{html}");
    assert!(html.contains("医疗"), "{html}");
    // Divisions by name, never by code; who ran it by name, not account.
    assert!(html.contains("环翠楼街道 1"), "{html}");
    assert!(html.contains("<td>曲文杰</td>"), "{html}");
    assert!(!html.contains("approver_huancui</td>"), "{html}");
    let feeds = app.get("/feeds", Some(&approver)).await.text();
    assert!(feeds.contains("<td>姜丽娜</td>"), "{feeds}");
    assert!(!feeds.contains("<td>officer_yibao</td>"), "{feeds}");
    assert!(!html.contains(&format!("{TOWNSHIP_A} 1")), "{html}");
    let w = app
        .get("/api/v1/warnings?kind=MEDICAL", Some(&approver))
        .await
        .json();
    assert_eq!(w["items"][0]["household_id"], household);

    // The page's button starts a run too (a second run of the month).
    let r = app
        .form(
            "/verification/runs",
            Some(&approver.cookie),
            &[("_csrf", &approver.csrf), ("month", "2026-02")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let v = wait(&app, &approver, &format!("{}/progress", r.location())).await;
    assert_eq!(v["phase"], "done", "{v}");
    // It finds the same claim and raises nothing new: the warning stays open once, counted as
    // still open since February.
    let run = &v["result"]["run"];
    assert_eq!(run["warnings"], 0, "{v}");
    assert_eq!(run["carried"]["found"]["MEDICAL"], 1, "{v}");
    assert_eq!(run["carried"]["still_open"]["MEDICAL"]["count"], 1, "{v}");
    assert_eq!(run["carried"]["still_open"]["MEDICAL"]["since"], "2026-02");
    let w = app
        .get("/api/v1/warnings?kind=MEDICAL", Some(&approver))
        .await
        .json();
    assert_eq!(w["total"], 1, "{w}");
    // Nor does it store the two leads again: they stay as the first run stored them.
    assert_eq!(v["result"]["leads"], 0, "{v}");
    let leads = app
        .get("/api/v1/verification/leads", Some(&approver))
        .await
        .json();
    assert_eq!(leads["total"], 2, "{leads}");
    let html = app.get("/verification/runs", Some(&approver)).await.text();
    assert!(html.contains("大额医疗自付费用 1(最早 2026-02)"), "{html}");
    assert!(
        html.contains("另有 1 条与已有预警事实相同,未重复预警"),
        "{html}"
    );

    // Leads: the registered resident belongs to township A, the stranger to the county.
    let leads = app
        .get("/api/v1/verification/leads?run=1", Some(&approver))
        .await
        .json();
    assert_eq!(leads["total"], 2);
    let first = &leads["items"][0];
    assert_eq!(first["person"], stranger.masked());
    assert_eq!(first["out_of_pocket"], "15000.50");
    assert_eq!(first["threshold"], "10000.00");
    assert_eq!(first["division"], "371002");
    assert_eq!(first["row"], 4);
    assert_eq!(first["delivery_id"], delivery);
    assert_eq!(first["person_id"], Value::Null);
    // Issue 12, point 6: the stranger's lead shows what the source row says — the name, the
    // costs, the number masked, never the column the platform does not read —, and the full
    // number only through an audited reveal.
    let stranger_lead = first["id"].as_i64().unwrap();
    let detail_url = format!("/api/v1/verification/leads/{stranger_lead}");
    let d = app.get(&detail_url, Some(&approver)).await.json();
    let source = &d["source"];
    assert_eq!(source["name"], "钱某某", "{d}");
    assert_eq!(source["id_number"], stranger.masked());
    assert_eq!(source["revealed"], false);
    assert_eq!(source["row"], 4);
    assert_eq!(source["delivery_id"], delivery);
    assert_eq!(source["source"], "威海市医疗保障局环翠分局");
    assert_eq!(
        source["cells"],
        json!([
            {"label": "结算日期", "text": "2026-02-12"},
            {"label": "医疗总费用", "text": "***"},
            {"label": "个人自付", "text": "15000.50"}
        ])
    );
    assert!(!d.to_string().contains(stranger.as_str()), "{d}");
    assert!(!d.to_string().contains("肺癌"), "{d}");
    let page = app
        .get(
            &format!("/verification/leads/{stranger_lead}"),
            Some(&approver),
        )
        .await
        .text();
    assert!(page.contains("钱某某"), "{page}");
    assert!(page.contains("查看完整号码(记入审计日志)"), "{page}");
    assert!(!page.contains(stranger.as_str()));
    assert!(!page.contains("肺癌"));
    // The township clerk does not see the county's lead.
    assert_eq!(
        app.get(&detail_url, Some(&clerk)).await.status,
        StatusCode::NOT_FOUND
    );
    let revealed = app
        .call(
            Method::POST,
            &format!("{detail_url}/reveal"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.text());
    let revealed = revealed.json();
    assert_eq!(revealed["source"]["id_number"], stranger.as_str());
    assert_eq!(revealed["source"]["revealed"], true);
    assert_eq!(revealed["source"]["cells"][1]["text"], "30000.00");
    let audit = app
        .store
        .audit_log(
            &Actor::system("test")
                .grant::<jiuzhu_domain::access::ReadAudit>()
                .unwrap(),
            &jiuzhu_store::AuditQuery {
                record_kind: Some("outreach_lead".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.total, 1);
    let event = &audit.items[0].entry;
    assert_eq!(event.action, jiuzhu_domain::AuditAction::SensitiveRevealed);
    assert_eq!(
        event.record_id.as_deref(),
        Some(stranger_lead.to_string().as_str())
    );
    assert_eq!(event.actor_name, "approver_huancui");
    // The page's button reveals too; a role that works with masked data may not.
    let r = app
        .form(
            &format!("/verification/leads/{stranger_lead}/reveal"),
            Some(&approver.cookie),
            &[("_csrf", &approver.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(stranger.as_str()));
    let manager = app.login("manager_huancui", "Demo@2026-manage").await;
    let r = app
        .call(
            Method::POST,
            &format!("{detail_url}/reveal"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let mine = app
        .get("/api/v1/verification/leads?run=1", Some(&clerk))
        .await
        .json();
    assert_eq!(mine["total"], 1);
    let lead = &mine["items"][0];
    assert_eq!(lead["person_id"], person.id);
    assert_eq!(lead["person"], resident.masked());
    assert_eq!(lead["row"], 3);
    assert_eq!(lead["settlement_date"], "2026-02-11");
    assert!(!lead.to_string().contains(resident.as_str()));
    let html = app.get("/verification/leads", Some(&clerk)).await.text();
    assert!(
        html.contains(&format!("/cases/new?person={}", person.id)),
        "{html}"
    );
    assert!(html.contains("转为申请"), "{html}");
    assert!(!html.contains(resident.as_str()));
    // The place by name, not by code.
    assert!(html.contains("<td>新威路社区"), "{html}");
    assert!(!html.contains("<td>371002"), "{html}");

    let lead_id = lead["id"].as_i64().unwrap();
    let url = format!("/api/v1/verification/leads/{lead_id}/handle");
    let r = app
        .call(
            Method::POST,
            &url,
            Some(&clerk),
            Some(json!({"note": "已电话联系,指导申请"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "handled");
    let r = app
        .call(
            Method::POST,
            &url,
            Some(&clerk),
            Some(json!({"note": "again"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let open = app
        .get("/api/v1/verification/leads?status=open&run=1", Some(&clerk))
        .await
        .json();
    assert_eq!(open["total"], 0);
}

/// Issue 12, point 1 on the screens: the county manager registers a bank as a source, binds a
/// bank officer and retires it; the upload form offers only the user's sources in service by
/// name, keeps the chosen one when refused, and the deliveries list names sources, not codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_are_registered_bound_retired_and_chosen_by_name() {
    let (app, _data) = app_with_files().await;
    let manager = app.login("manager_huancui", "Demo@2026-manage").await;
    let page = app.get("/verification/sources", Some(&manager)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("威海市商业银行环翠支行"), "{html}");
    assert!(html.contains("宋佳怡(officer_bank)"), "{html}");
    assert!(html.contains("登记数据来源"), "{html}");
    let listed = app
        .get("/api/v1/verification/sources", Some(&manager))
        .await
        .json();
    let bank_officer = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "WHCCB-HC")
        .unwrap()["accounts"][0]["user_id"]
        .as_i64()
        .unwrap()
        .to_string();

    // Every problem at once, and what was typed stays.
    let r = app
        .form(
            "/verification/sources",
            Some(&manager.cookie),
            &[
                ("_csrf", &manager.csrf),
                ("kind", ""),
                ("code", "建行 环翠"),
                ("name", "中国建设银行威海环翠支行"),
                ("account", &bank_officer),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("请选择数据类别"), "{html}");
    assert!(html.contains("来源代码应为"), "{html}");
    assert!(
        html.contains("value=\"中国建设银行威海环翠支行\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("value=\"{bank_officer}\" checked")),
        "{html}"
    );

    let r = app
        .form(
            "/verification/sources",
            Some(&manager.cookie),
            &[
                ("_csrf", &manager.csrf),
                ("kind", "deposits"),
                ("code", "CCB-HC"),
                ("name", "中国建设银行威海环翠支行"),
                ("account", &bank_officer),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Another spelling of the same code is the same source, not a second one.
    let r = app
        .form(
            "/verification/sources",
            Some(&manager.cookie),
            &[
                ("_csrf", &manager.csrf),
                ("kind", "deposits"),
                ("code", "ccb-hc"),
                ("name", "建设银行环翠支行"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains("已登记为“中国建设银行威海环翠支行”"),
        "{}",
        r.text()
    );

    // The bank's officer delivers for its two banks, by name; nothing of other departments.
    let banker = app.login("officer_bank", "Demo@2026-banker").await;
    let form = app.get("/feeds", Some(&banker)).await.text();
    assert!(form.contains("value=\"deposits:CCB-HC\""), "{form}");
    assert!(form.contains("value=\"deposits:WHCCB-HC\""), "{form}");
    assert!(form.contains("中国建设银行威海环翠支行"), "{form}");
    assert!(!form.contains("medical_claims:HC-YB"), "{form}");
    let csv = "身份证号码,机构代码,账户类型,余额,余额日期\n\
               371002198001010011,C1371000009,savings,1200.00,2026-02-27\n";
    let r = app
        .upload(
            "/feeds",
            &banker,
            &[
                ("source_ref", "deposits:CCB-HC"),
                ("data_date", "2026-02-28"),
            ],
            Some(("ccb.csv", "text/csv", csv.as_bytes())),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let v = wait(&app, &banker, &format!("{}/progress", r.location())).await;
    assert_eq!(v["phase"], "done", "{v}");
    assert_eq!(v["result"]["source"], "CCB-HC", "{v}");
    // Its one row is wrong (the check digit): a delivery with no usable row is refused as a
    // whole, so it can never replace the bank's earlier data as its latest delivery.
    assert_eq!(v["result"]["status"], "refused", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("全部 1 行均有错误,整批退回"),
        "{v}"
    );
    let list = app.get("/feeds", Some(&banker)).await.text();
    assert!(
        list.contains("<td>中国建设银行威海环翠支行</td>"),
        "deliveries by the source's name: {list}"
    );
    // A refused form keeps the chosen source and the date.
    let r = app
        .upload(
            "/feeds",
            &banker,
            &[
                ("source_ref", "deposits:WHCCB-HC"),
                ("data_date", "2026-02-20"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("请选择数据文件"), "{html}");
    assert!(
        html.contains("value=\"deposits:WHCCB-HC\" selected"),
        "{html}"
    );
    assert!(html.contains("value=\"2026-02-20\""), "{html}");

    // Retired: no longer offered. A change on a stale version is a conflict, not an overwrite.
    let listed = app
        .get("/api/v1/verification/sources", Some(&manager))
        .await
        .json();
    let ccb = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "CCB-HC")
        .unwrap()
        .clone();
    let (id, version) = (ccb["id"].as_i64().unwrap(), ccb["row_version"].to_string());
    let url = format!("/verification/sources/{id}");
    let retire = [
        ("_csrf", manager.csrf.as_str()),
        ("row_version", version.as_str()),
        ("name", "中国建设银行威海环翠支行"),
        ("account", bank_officer.as_str()),
        ("retired", "on"),
    ];
    let r = app.form(&url, Some(&manager.cookie), &retire).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.form(&url, Some(&manager.cookie), &retire).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let form = app.get("/feeds", Some(&banker)).await.text();
    assert!(!form.contains("value=\"deposits:CCB-HC\""), "{form}");
    assert!(form.contains("value=\"deposits:WHCCB-HC\""), "{form}");
    let html = app
        .get("/verification/sources", Some(&manager))
        .await
        .text();
    assert!(html.contains("已停用"), "{html}");

    // Only the county manager registers.
    let approver = app.login("approver_huancui", "Demo@2026-approve").await;
    let page = app
        .get("/verification/sources", Some(&approver))
        .await
        .text();
    assert!(!page.contains("登记数据来源"), "{page}");
    let r = app
        .call(
            Method::POST,
            "/api/v1/verification/sources",
            Some(&approver),
            Some(json!({"kind": "deposits", "code": "X-1", "name": "某银行"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // The county approver delivers for every source of the county (media handed over).
    let form = app.get("/feeds", Some(&approver)).await.text();
    assert!(form.contains("value=\"medical_claims:HC-YB\""), "{form}");
}
