//! The spreadsheet that once aborted the server (two cells, `A1` and `XFD1048576`, 1.5 KB), a
//! gigabyte shared string and an endless line, sent through every upload route: each is
//! refused with a Chinese message naming the limit, and the server goes on serving.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use jiuzhu_sheet::testing;
use serde_json::Value;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A multipart body of text fields and files (field, file name, bytes).
fn form(texts: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "jiuzhu-hostile-boundary";
    let mut body = Vec::new();
    for (k, v) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (field, name, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {XLSX}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(app: &TestApp, s: &Session, path: &str, body: (String, Vec<u8>)) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .header(header::CONTENT_TYPE, body.0)
        .body(Body::from(body.1))
        .unwrap();
    app.send(req).await
}

async fn finished(app: &TestApp, s: &Session, job: &str) -> Value {
    for _ in 0..400 {
        let st = app.get(&format!("{job}/progress"), Some(s)).await.json();
        if st["phase"] == "done" || st["phase"] == "failed" {
            return st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{job} did not finish");
}

/// The service still answers the user (its deliveries: every role here delivers).
async fn still_serving(app: &TestApp, s: &Session) {
    let r = app.get("/api/v1/feeds", Some(s)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_push_of_the_corner_workbook_is_refused_by_its_column() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let officer = app.login("officer_yibao", "Demo@2026-medins").await;
    for (bytes, code, words) in [
        (testing::corner_cells(), "LIMIT_COLUMNS", "列数上限 256 列"),
        (
            testing::huge_shared_string_to(std::io::Cursor::new(Vec::new()), 1 << 30)
                .unwrap()
                .into_inner(),
            "LIMIT_XML_TOKEN",
            "单个 XML 标记或文本长度上限 1 MB",
        ),
        (
            vec![b'9'; 10 << 20],
            "LIMIT_LINE_LENGTH",
            "每行长度上限 64 KB",
        ),
    ] {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/feeds/medical_claims?source=HC-YB&data_date=2026-02-28")
            .header(header::COOKIE, &officer.cookie)
            .header("x-csrf-token", &officer.csrf)
            .header(header::CONTENT_TYPE, XLSX)
            .body(Body::from(bytes))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let v = r.json();
        assert_eq!(v["delivery"]["status"], "refused");
        assert_eq!(v["rejected_rows"][0]["code"], code, "{v}");
        let reason = v["rejected_rows"][0]["reason"].as_str().unwrap();
        assert!(reason.contains(words), "{reason}");
    }
    still_serving(&app, &officer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_uploads_of_hostile_files_fail_with_the_limit_named() {
    let data = tempfile::tempdir().unwrap();
    let app = TestApp::with_config(jiuzhu_web::WebConfig {
        feeds_dir: data.path().to_path_buf(),
        ..Default::default()
    })
    .await;
    let manager = app.login_as(&app.user(Role::CountyManager, "371002")).await;
    let corner = testing::corner_cells();

    // 区划导入: the page answers with the error, nothing imported.
    let r = post_form(
        &app,
        &manager,
        "/divisions/import",
        form(&[], &[("file", "区划.xlsx", &corner)]),
    )
    .await;
    assert!(r.text().contains("列数上限 256 列"), "{}", r.text());

    // 存量导入: the background job fails naming the limit.
    let approver = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let members =
        testing::corner_cell_after_header(&["household_id", "id_number", "name", "relation"]);
    let households = "household_id,division_code,area\nX1,371002001001,urban\n";
    let r = post_form(
        &app,
        &approver,
        "/import",
        form(
            &[("valid_from", "2026-03-01")],
            &[
                ("households", "h.csv", households.as_bytes()),
                ("members", "成员.xlsx", &members),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let st = finished(&app, &approver, &r.location()).await;
    assert_eq!(st["phase"], "failed", "{st}");
    assert_eq!(st["errors"][0]["code"], "LIMIT_COLUMNS", "{st}");

    // 核对数据 upload: the delivery is recorded as refused with the reason.
    let r = post_form(
        &app,
        &manager,
        "/feeds",
        form(
            &[
                ("kind", "deposits"),
                ("source", "WHCCB-HC"),
                ("data_date", "2026-02-28"),
            ],
            &[("file", "存款.xlsx", &corner)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let st = finished(&app, &manager, &r.location()).await;
    assert_eq!(st["result"]["status"], "refused", "{st}");
    // The progress names the limit, not "0 rows, 0 rejected".
    let message = st["message"].as_str().unwrap();
    assert!(
        message.starts_with("文件未能读取,整批退回:") && message.contains("列数上限 256 列"),
        "{message}"
    );
    let page = app.get(st["link"].as_str().unwrap(), Some(&manager)).await;
    let text = page.text();
    assert!(text.contains("列数上限 256 列"), "{text}");
    // The refusal is about the file (no line "1", no rule about keeping good rows), and people
    // are not shown the program's code.
    assert!(text.contains("<td>整个文件</td>"), "{text}");
    assert!(text.contains("文件无法按该数据类型读取,整批退回"), "{text}");
    assert!(!text.contains("拒收错误行,采用其余行"), "{text}");
    assert!(!text.contains("LIMIT_COLUMNS"), "{text}");

    still_serving(&app, &approver).await;
}
