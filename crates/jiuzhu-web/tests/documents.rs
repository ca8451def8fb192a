//! One person, one file (documents) and the township reserve fund, over HTTP in process.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use jiuzhu_domain::access::ReadAudit;
use jiuzhu_domain::{Actor, AuditAction, Role};
use jiuzhu_store::AuditQuery;
use jiuzhu_web::WebConfig;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A 1×1 grey PNG (signature, IHDR, IDAT, IEND with their CRCs).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A one-page PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n\
2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n\
3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 72 72]>> endobj\n\
trailer <</Root 1 0 R>>\n%%EOF\n";

const VILLAGE_OF_ASSISTANT: &str = "371002001001";

async fn app_with_files() -> (TestApp, tempfile::TempDir) {
    let files = tempfile::tempdir().unwrap();
    let config = WebConfig {
        files_dir: files.path().join("files"),
        ..WebConfig::default()
    };
    (TestApp::with_config(config).await, files)
}

/// A household of the village assistant's village and its head (as stored).
async fn village_household(app: &TestApp) -> (i64, i64) {
    let (i, _) = app
        .demo
        .batch
        .households
        .iter()
        .enumerate()
        .find(|(_, h)| h.division.as_str().starts_with(VILLAGE_OF_ASSISTANT))
        .expect("a demo household in the assistant's village");
    let head = app
        .demo
        .batch
        .members
        .iter()
        .find(|m| m.household == i && m.relation == jiuzhu_domain::Relation::Head)
        .unwrap();
    let g = Actor::system("test")
        .grant::<jiuzhu_domain::access::ReadRegistry>()
        .unwrap();
    let person = app
        .store
        .find_person_by_id_number(&g, &head.id_number)
        .await
        .unwrap()
        .unwrap();
    (app.household_of(&person).await, person.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_upload_preview_limits_and_sensitive_reveal() {
    let (app, files) = app_with_files().await;
    let doc = app.get("/api/openapi.json", None).await.json();
    for p in [
        "/api/v1/documents",
        "/api/v1/documents/{id}",
        "/api/v1/documents/{id}/content",
        "/api/v1/documents/{id}/withdraw",
        "/api/v1/reserve-fund",
        "/api/v1/reserve-fund/{township}/entries",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} in the OpenAPI document");
    }
    let clerk = app.login_as(&app.clerk_a()).await;
    let (household, person) = village_household(&app).await;
    let hh = household.to_string();
    let pid = person.to_string();

    // A photo of the household (PNG) and the applicant's identity card (PDF).
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "household"),
                ("owner_id", &hh),
                ("doc_type", "photo"),
                ("note", "住房照片"),
            ],
            Some(("房屋.png", "image/png", PNG)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let photo = r.json();
    assert_eq!(photo["size_bytes"], PNG.len());
    assert_eq!(photo["sha256"], hex::encode(Sha256::digest(PNG)));
    assert_eq!(photo["content_type"], "image/png");
    assert_eq!(photo["doc_type_label"], "照片");
    assert_eq!(photo["sensitive"], false);
    assert_eq!(photo["uploaded_by"], app.clerk_a().username);
    let photo_id = photo["id"].as_i64().unwrap();
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "person"),
                ("owner_id", &pid),
                ("doc_type", "id_card"),
            ],
            Some(("身份证.pdf", "application/pdf", PDF)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id_card = r.json();
    assert_eq!(id_card["sensitive"], true);
    assert_eq!(id_card["content_type"], "application/pdf");
    let id_card_id = id_card["id"].as_i64().unwrap();

    // The same content again is one file on disk.
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "person"),
                ("owner_id", &pid),
                ("doc_type", "other"),
            ],
            Some(("copy.png", "image/png", PNG)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["sha256"], photo["sha256"]);
    let sha = photo["sha256"].as_str().unwrap();
    let dir = files.path().join("files").join("sha256").join(&sha[..2]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    assert_eq!(std::fs::read(dir.join(sha)).unwrap(), PNG);

    // An .exe renamed .pdf is refused by its content, naming the field.
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "household"),
                ("owner_id", &hh),
                ("doc_type", "income_proof"),
            ],
            Some((
                "setup.pdf",
                "application/pdf",
                b"MZ\x90\x00\x03\x00\x00\x00PE\x00\x00",
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let e = r.json();
    assert_eq!(e["error"]["fields"][0]["field"], "file");
    assert_eq!(
        e["error"]["fields"][0]["message"],
        "文件“setup.pdf”类型不允许,仅支持 PDF、JPG、PNG"
    );
    // Too large: 21 MB against the default 20 MB.
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(21 * 1024 * 1024, b' ');
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "household"),
                ("owner_id", &hh),
                ("doc_type", "medical"),
            ],
            Some(("病历.pdf", "application/pdf", &big)),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    // The whole body is over the route's limit: refused as it arrives, its size unknown.
    assert_eq!(
        r.json()["error"]["message"],
        "文件超过 20 MB,请缩小后重新上传"
    );
    assert_eq!(r.json()["error"]["fields"][0]["field"], "file");
    // An unknown type and a missing file name their fields.
    let r = app
        .upload(
            "/api/v1/documents",
            &clerk,
            &[
                ("owner_kind", "household"),
                ("owner_id", &hh),
                ("doc_type", "passport"),
            ],
            Some(("a.png", "image/png", PNG)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["fields"][0]["field"], "doc_type");

    // Listing.
    let r = app
        .get(
            &format!("/api/v1/documents?owner_kind=household&owner_id={hh}"),
            Some(&clerk),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 1);
    assert_eq!(r.json()["items"][0]["id"], photo_id);

    // The village assistant sees the photo but not the identity card (403); the clerk sees it,
    // and that view is audited.
    let assistant = app
        .login_as(&app.user(Role::VillageAssistant, VILLAGE_OF_ASSISTANT))
        .await;
    let r = app
        .get(
            &format!("/api/v1/documents/{photo_id}/content"),
            Some(&assistant),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, PNG);
    let r = app
        .get(&format!("/api/v1/documents/{id_card_id}"), Some(&assistant))
        .await;
    assert_eq!(r.status, StatusCode::OK, "metadata is listed");
    let r = app
        .get(
            &format!("/api/v1/documents/{id_card_id}/content"),
            Some(&assistant),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("身份证"));
    let audit = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .audit_log(
                    &Actor::system("t").grant::<ReadAudit>().unwrap(),
                    &AuditQuery {
                        action: Some(AuditAction::SensitiveRevealed),
                        record_kind: Some("document".into()),
                        ..AuditQuery::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(audit(&app).await.total, 0);
    let r = app
        .get(&format!("/documents/{id_card_id}/content"), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, PDF);
    let h = |name: header::HeaderName| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
    assert_eq!(h(header::CONTENT_DISPOSITION), "inline");
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(h(header::CONTENT_SECURITY_POLICY).starts_with("default-src 'none'"));
    let log = audit(&app).await;
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].entry.actor_name, app.clerk_a().username);
    assert_eq!(log.items[0].entry.record_id, Some(id_card_id.to_string()));

    // Pages: the household page links to its file; the file page lists and previews.
    let r = app.get(&format!("/households/{hh}"), Some(&clerk)).await;
    assert!(r
        .text()
        .contains(&format!("/documents?owner=household:{hh}")));
    let r = app
        .get(&format!("/documents?owner=household:{hh}"), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    assert!(
        text.contains("房屋.png") && text.contains(&sha[..12]),
        "{text}"
    );
    let r = app
        .get(&format!("/documents/{photo_id}"), Some(&clerk))
        .await;
    assert!(r
        .text()
        .contains(&format!("<img src=\"/documents/{photo_id}/content\"")));
    // A page upload with a wrong type shows the message on the page.
    let (ct, body) = multipart(
        &[
            ("_csrf", &clerk.csrf),
            ("owner", &format!("household:{hh}")),
            ("doc_type", "photo"),
        ],
        Some(("x.exe", "application/octet-stream", b"MZ\x90\x00")),
    );
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/documents")
        .header(header::COOKIE, &clerk.cookie)
        .header(header::CONTENT_TYPE, ct)
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .contains("文件“x.exe”类型不允许,仅支持 PDF、JPG、PNG"));

    // Withdrawal keeps the record and the file.
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/documents/{photo_id}/withdraw"),
            Some(&clerk),
            Some(json!({"reason": "照片不清晰"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["withdrawn"]["reason"], "照片不清晰");
    let r = app
        .get(
            &format!("/api/v1/documents?owner_kind=household&owner_id={hh}"),
            Some(&clerk),
        )
        .await;
    assert_eq!(r.json()["total"], 0);
    let r = app
        .get(
            &format!("/api/v1/documents/{photo_id}/content"),
            Some(&clerk),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(dir.join(sha).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_fund_top_up_withdrawal_refusal_and_warning() {
    let app = TestApp::new().await;
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let path = format!("/api/v1/reserve-fund/{TOWNSHIP_A}/entries");
    // The national demo minimum is 30,000 yuan: 20,000 is below it.
    let r = app
        .call(
            Method::POST,
            &path,
            Some(&reviewer),
            Some(json!({"kind": "top_up", "amount": "20000", "reason": "县民政局拨付", "voucher": "拨-2026-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["balance_after"], "20000.00");
    let r = app.get(&path, Some(&reviewer)).await;
    assert_eq!(r.json()["below_minimum"], true);
    assert_eq!(r.json()["minimum"], "30000.00");
    assert_eq!(r.json()["warning"], "备用金余额低于最低限额,请及时补充");
    let r = app.get("/reserve-fund", Some(&reviewer)).await;
    assert!(r.text().contains("备用金余额低于最低限额,请及时补充"));

    let r = app
        .call(
            Method::POST,
            &path,
            Some(&reviewer),
            Some(json!({"kind": "top_up", "amount": "15000.00", "reason": "补足"})),
        )
        .await;
    assert_eq!(r.json()["balance_after"], "35000.00");
    // An urgent payment, payee identity number masked in the ledger.
    let payee = app.head_of(TOWNSHIP_A).await;
    let r = app
        .call(
            Method::POST,
            &path,
            Some(&reviewer),
            Some(
                json!({"kind": "withdrawal", "amount": "1200.50", "reason": "火灾急难救助",
                "payee_name": payee.facts.name, "payee_id_number": payee.id_number.as_str()}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["balance_after"], "33799.50");
    assert_eq!(r.json()["payee_id_masked"], payee.id_number.masked());
    assert!(!r.text().contains(payee.id_number.as_str()));
    // Over the balance: refused in Chinese, nothing written.
    let r = app
        .call(
            Method::POST,
            &path,
            Some(&reviewer),
            Some(json!({"kind": "withdrawal", "amount": "40000", "reason": "超额"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "RESERVE_INSUFFICIENT"
    );
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("备用金余额不足"));
    let r = app.get(&path, Some(&reviewer)).await;
    let v = r.json();
    assert_eq!(v["balance"], "33799.50");
    assert_eq!(v["below_minimum"], false);
    assert!(v["warning"].is_null());
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    assert_eq!(v["items"][0]["kind"], "withdrawal");

    // A window clerk reads but does not pay.
    let clerk = app.login_as(&app.clerk_a()).await;
    let r = app
        .call(
            Method::POST,
            &path,
            Some(&clerk),
            Some(json!({"kind": "withdrawal", "amount": "1", "reason": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&path, Some(&clerk)).await.status, StatusCode::OK);

    // The county sees every township; B has no fund and shows the warning.
    let county = app
        .login_as(&app.user(Role::CountyApprover, "371002"))
        .await;
    let r = app.get("/api/v1/reserve-fund", Some(&county)).await;
    let items = r.json()["items"].as_array().unwrap().clone();
    let a = items.iter().find(|f| f["township"] == TOWNSHIP_A).unwrap();
    let b = items.iter().find(|f| f["township"] == TOWNSHIP_B).unwrap();
    assert_eq!(a["balance"], "33799.50");
    assert_eq!(a["below_minimum"], false);
    assert_eq!(b["balance"], "0.00");
    assert_eq!(b["warning"], "备用金余额低于最低限额,请及时补充");
    let r = app.get("/reserve-fund", Some(&county)).await;
    let text = r.text();
    assert!(text.contains("33799.50") && text.contains("备用金余额低于最低限额,请及时补充"));
    // The page form: a top-up of B by the county approver.
    let r = app
        .form(
            &format!("/reserve-fund/{TOWNSHIP_B}/entries"),
            Some(&county.cookie),
            &[
                ("_csrf", &county.csrf),
                ("kind", "top_up"),
                ("amount", "30000"),
                ("reason", "初始拨付"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .get(
            &format!("/reserve-fund?township={TOWNSHIP_B}"),
            Some(&county),
        )
        .await;
    assert!(r.text().contains("初始拨付"));
}
