//! The jurisdiction sweep: every path of the OpenAPI document, called by a window clerk of
//! township A (371002001) with records of township B (371002002), is refused — and nothing of B
//! comes back or is changed.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Role};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_of_township_a_gets_nothing_of_township_b() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let system = Actor::system("test");
    let read = system.grant::<ReadRegistry>().unwrap();

    // Records of township B.
    let b_person = app.head_of(TOWNSHIP_B).await;
    let b_household = app.household_of(&b_person).await;
    let b_members = app
        .store
        .household_members(&read, b_household)
        .await
        .unwrap();
    let b_membership = b_members[0].membership.id;
    let b_user = app
        .store
        .user_by_username(&app.user(Role::WindowClerk, TOWNSHIP_B).username)
        .await
        .unwrap()
        .unwrap();
    let b_household_before = app.store.get_household(&read, b_household).await.unwrap();
    let b_person_before = app.store.get_person(&read, b_person.id).await.unwrap();
    // Markers that must never appear in an answer to the clerk.
    let mut markers: Vec<String> = vec![TOWNSHIP_B.to_string()];
    for m in &b_members {
        markers.push(m.person.id_number.to_string());
        markers.push(m.person.id_number.masked());
        markers.push(m.person.facts.name.clone());
    }
    markers.push(b_household_before.as_ref().unwrap().facts.address.clone());
    let fresh = &app.unused.members[0];
    // A case of township B, registered at B's window.
    let clerk_b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
    let b_case = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk_b),
            Some(json!({"workflow": "dibao", "household_id": b_household,
                "applicant_id": b_person.id, "documents": ["id_card", "verification_authorisation"]})),
        )
        .await;
    assert_eq!(b_case.status, StatusCode::CREATED, "{}", b_case.text());
    let b_case = b_case.json();
    let b_case_id = b_case["id"].as_i64().unwrap();
    // A document of B's household and B's reserve fund (recorded directly: no file is needed,
    // the clerk never gets that far).
    let b_doc = app
        .store
        .add_document(
            &system
                .grant::<jiuzhu_domain::access::WriteRegistry>()
                .unwrap(),
            &jiuzhu_store::NewDocument {
                owner_kind: jiuzhu_store::OwnerKind::Household,
                owner_id: b_household,
                doc_type: "home_visit".into(),
                file_name: "鲸园入户调查记录.pdf".into(),
                content_type: "application/pdf".into(),
                size_bytes: 10,
                sha256: "b".repeat(64),
                storage_key: format!("sha256/bb/{}", "b".repeat(64)),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    markers.push(b_doc.file_name.clone());
    let b_fund_entry = app
        .store
        .record_reserve_entry(
            &system
                .grant::<jiuzhu_domain::access::ManageReserveFund>()
                .unwrap(),
            &jiuzhu_store::NewReserveEntry {
                township: jiuzhu_domain::DivisionCode::parse(TOWNSHIP_B).unwrap(),
                kind: jiuzhu_store::ReserveEntryKind::TopUp,
                amount: jiuzhu_domain::Money::from_yuan(12_345),
                case_id: None,
                assist_first_workflows: vec![],
                payee_name: None,
                payee_id_masked: None,
                reason: "鲸园拨付".into(),
                voucher: None,
                on: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            },
        )
        .await
        .unwrap();
    markers.push(b_fund_entry.reason.clone());
    // A warning of the monthly comparison on B's household.
    let b_run = app
        .store
        .store_run(
            &system
                .grant::<jiuzhu_domain::access::RunVerification>()
                .unwrap(),
            &jiuzhu_store::NewRun {
                month: "2026-02".into(),
                division: jiuzhu_domain::DivisionCode::parse("371002").unwrap(),
                started_at: chrono::DateTime::from_timestamp(1_772_300_000, 0).unwrap(),
                delivery_ids: vec![],
                households: 1,
                due: chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
            },
            &[jiuzhu_store::NewWarning {
                household_id: b_household,
                kind: "DEPOSIT".into(),
                division: b_household_before.as_ref().unwrap().facts.division.clone(),
                evidence: r#"{"source":"deposits","value":"鲸园预警证据"}"#.into(),
                facts: jiuzhu_store::warning_facts("", "鲸园预警证据"),
            }],
        )
        .await
        .unwrap();
    markers.push("鲸园预警证据".into());
    let b_warning = app
        .store
        .list_warnings(
            &system
                .grant::<jiuzhu_domain::access::ReadVerification>()
                .unwrap(),
            &jiuzhu_store::WarningQuery {
                run_id: Some(b_run.id),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items[0]
        .id;

    let doc = app.get("/api/openapi.json", None).await.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(
        paths.len() >= 15,
        "the document lists the API: {}",
        paths.len()
    );

    let mut called = 0;
    for (template, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            let m = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            // Session endpoints concern only the caller's own account (or sign a system in).
            if matches!(
                template.as_str(),
                "/api/v1/login"
                    | "/api/v1/oauth/token"
                    | "/api/v1/logout"
                    | "/api/v1/me"
                    | "/api/v1/me/password"
            ) {
                continue;
            }
            let id = if template.starts_with("/api/v1/persons") {
                b_person.id
            } else if template.starts_with("/api/v1/households") {
                b_household
            } else if template.starts_with("/api/v1/memberships") {
                b_membership
            } else if template.starts_with("/api/v1/users") {
                b_user.id
            } else if template.starts_with("/api/v1/cases") {
                b_case_id
            } else if template.starts_with("/api/v1/documents") {
                b_doc.id
            } else if template.starts_with("/api/v1/warnings") {
                b_warning
            } else {
                0
            };
            let mut path = template
                .replace("{id}", &id.to_string())
                .replace("{date}", "2025-06-01")
                // Policies belong to regions, not to townships: B's city is A's city.
                .replace("{region}", "371000")
                .replace("{seq}", "1")
                .replace("{township}", TOWNSHIP_B)
                .replace("{kind}", "medical_claims")
                // B's village or community (its notice).
                .replace(
                    "{division}",
                    b_case["division_responsible"].as_str().unwrap(),
                );
            assert!(!path.contains('{'), "unknown parameter in {template}");
            let has_param = template.contains('{');
            if m == Method::GET && !has_param {
                // Collections: ask for B outright.
                path = match template.as_str() {
                    "/api/v1/audit" => format!("{path}?record={}", b_person.id),
                    "/api/v1/documents" => {
                        format!("{path}?owner_kind=household&owner_id={b_household}")
                    }
                    // The clerk's own township's fund is listed; B's must not be.
                    "/api/v1/reserve-fund" => path,
                    "/api/v1/divisions" | "/api/v1/users" => path,
                    _ => format!("{path}?q={}", b_person.id_number),
                };
            }
            let body: Option<Value> = match (method.as_str(), template.as_str()) {
                ("get", _) => None,
                ("post", "/api/v1/persons") => Some(json!({
                    "id_number": fresh.id_number.as_str(), "name": "越界", "residence_division": "371002002001"
                })),
                ("put", "/api/v1/persons/{id}") => Some(json!({
                    "row_version": b_person.row_version, "name": "越界改名"
                })),
                ("post", "/api/v1/households") => Some(json!({
                    "address": "越界地址", "division": "371002002001", "area": "urban"
                })),
                ("put", "/api/v1/households/{id}") => Some(json!({
                    "row_version": b_household_before.as_ref().unwrap().row_version, "address": "越界地址",
                    "division": "371002001001"
                })),
                ("post", "/api/v1/households/{id}/members") => Some(json!({
                    "person_id": app.head_of(TOWNSHIP_A).await.id, "relation": "other"
                })),
                ("post", "/api/v1/memberships/{id}/end") => Some(json!({"left_on": "2026-03-01"})),
                ("post", "/api/v1/divisions") => {
                    Some(json!({"code": "371002002099", "name": "越界"}))
                }
                ("post", "/api/v1/users") => Some(json!({
                    "username": "intruder", "display_name": "越界", "role": "system_admin", "division": TOWNSHIP_B
                })),
                // A calculation reads no record: it gets a household of the clerk's own township.
                ("post", "/api/v1/calc") => Some(json!({
                    "region": TOWNSHIP_A, "area": "urban", "month": "2020-07",
                    "members": [{"id_number": "11010519491231002X", "relation": "head", "income": "300"}]
                })),
                // A what-if reads no record either: an uploaded caseload of township A.
                ("post", "/api/v1/whatif") => Some(json!({
                    "month": "2020-07", "changes": ["dibao.standard.urban=850"],
                    "households": [{"region": TOWNSHIP_A, "area": "urban", "code": "A1",
                        "members": [{"id_number": "11010519491231002X", "relation": "head", "income": "800"}]}]
                })),
                ("post", "/api/v1/cases") => Some(json!({
                    "workflow": "dibao", "household_id": b_household, "applicant_id": b_person.id,
                    "documents": ["id_card", "verification_authorisation"]
                })),
                ("post", "/api/v1/cases/{id}/actions") => Some(json!({
                    "revision": b_case["revision"], "step": "verify", "action": "complete"
                })),
                ("post", "/api/v1/cases/{id}/changes") => Some(json!({
                    "kind": "stop", "stop_reason": "death", "reason": "越界停保"
                })),
                ("post", "/api/v1/warnings/{id}/close") => Some(json!({
                    "result": "no_effect", "note": "越界销号", "row_version": 1
                })),
                ("post", "/api/v1/zero-reports") => Some(json!({
                    "division": "371002002001", "month": "2026-10", "note": "越界零报告"
                })),
                ("post", "/api/v1/warnings/close") => Some(json!({
                    "items": [{"id": b_warning, "row_version": 1}], "note": "越界批量销号"
                })),
                ("post", "/api/v1/verification/leads/{id}/handle") => Some(json!({
                    "note": "越界处理"
                })),
                ("patch", "/api/v1/users/{id}") => {
                    Some(json!({"row_version": b_user.row_version, "active": false}))
                }
                _ => Some(json!({})),
            };
            let r = if m == Method::POST && template == "/api/v1/documents" {
                // An upload (multipart) to B's household.
                app.upload(
                    &path,
                    &clerk,
                    &[
                        ("owner_kind", "household"),
                        ("owner_id", &b_household.to_string()),
                        ("doc_type", "photo"),
                    ],
                    Some(("b.png", "image/png", b"\x89PNG\r\n\x1a\n0000")),
                )
                .await
            } else {
                app.call(m.clone(), &path, Some(&clerk), body).await
            };
            called += 1;
            let text = r.text();
            for marker in &markers {
                assert!(
                    !text.contains(marker.as_str()),
                    "{method} {path} revealed B data ({marker}): {text}"
                );
            }
            let collection_read = m == Method::GET && !has_param;
            if template == "/api/v1/calc" {
                assert_eq!(r.status, StatusCode::OK, "{method} {path}: {text}");
                assert_eq!(r.json()["result"]["total"], "565.70", "{text}");
            } else if template == "/api/v1/whatif" {
                assert_eq!(r.status, StatusCode::OK, "{method} {path}: {text}");
                assert_eq!(r.json()["total"]["cost_difference"], "135.00", "{text}");
            } else if template == "/api/v1/policies/{region}" {
                // Policy parameters are read by everyone logged in; they hold no registry data.
                assert_eq!(r.status, StatusCode::OK, "{method} {path}: {text}");
                assert_eq!(r.json()["region"], "371000", "{text}");
            } else if template == "/api/v1/warnings/close" {
                // A batch answers per warning: B's is "not found", and nothing was closed.
                assert_eq!(r.status, StatusCode::OK, "{method} {path}: {text}");
                assert_eq!(r.json()["closed"], 0, "{text}");
                assert_eq!(r.json()["results"][0]["outcome"], "not_found", "{text}");
            } else if collection_read {
                assert!(
                    r.status.is_success()
                        || matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{method} {path}: {} {text}",
                    r.status
                );
                if r.status.is_success() {
                    let v = r.json();
                    let items = v
                        .get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .or_else(|| v.as_array().cloned())
                        .unwrap_or_default();
                    if ![
                        "/api/v1/divisions",
                        "/api/v1/reserve-fund",
                        "/api/v1/zero-reports",
                        // The county's registered data providers: reference data, not B's.
                        "/api/v1/verification/sources",
                    ]
                    .contains(&template.as_str())
                    {
                        assert!(items.is_empty(), "{method} {path} found B records: {text}");
                    }
                }
            } else {
                assert!(
                    matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{method} {path} must be refused, got {}: {text}",
                    r.status
                );
                let code = r.json()["error"]["code"].as_str().unwrap_or("").to_string();
                assert!(!code.is_empty(), "{method} {path}: envelope");
            }
        }
    }
    assert!(called >= 22, "called {called} operations");

    // The pages refuse too.
    for p in [
        format!("/persons/{}", b_person.id),
        format!("/persons/{}/edit", b_person.id),
        format!("/households/{b_household}"),
        format!("/households/{b_household}?as_of=2025-06-01"),
        format!("/households/{b_household}/edit"),
        format!("/calc?household={b_household}"),
        format!("/calc?household={b_household}&month=2025-06"),
        format!("/search?q={}", b_person.id_number),
        format!("/search?q={TOWNSHIP_B}"),
        format!("/cases/{b_case_id}"),
        format!("/cases/{b_case_id}/letter"),
        format!("/cases/{b_case_id}/letter.pdf"),
        format!(
            "/notices/{}",
            b_case["division_responsible"].as_str().unwrap()
        ),
        format!(
            "/notices/{}.pdf",
            b_case["division_responsible"].as_str().unwrap()
        ),
        format!("/documents/{}", b_doc.id),
        format!("/documents/{}/content", b_doc.id),
        format!("/documents?owner=household:{b_household}"),
        format!("/reserve-fund?township={TOWNSHIP_B}"),
    ] {
        let r = app.get(&p, Some(&clerk)).await;
        let text = r.text();
        if p.starts_with("/search") {
            // The query itself is echoed in the search box; the results must be empty.
            assert_eq!(r.status, StatusCode::OK, "{p}");
            assert_eq!(text.matches("没有找到").count(), 2, "{p}: {text}");
            assert!(!text.contains(&format!("/persons/{}\"", b_person.id)));
            assert!(!text.contains(&format!("/households/{b_household}\"")));
        } else {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{p}");
            for marker in &markers {
                assert!(!text.contains(marker.as_str()), "{p} revealed {marker}");
            }
        }
    }
    let r = app
        .form(
            &format!("/persons/{}/reveal", b_person.id),
            Some(&clerk.cookie),
            &[("_csrf", &clerk.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Nothing of B changed.
    assert_eq!(
        app.store.get_household(&read, b_household).await.unwrap(),
        b_household_before
    );
    assert_eq!(
        app.store.get_person(&read, b_person.id).await.unwrap(),
        b_person_before
    );
    assert!(app
        .store
        .find_person_by_id_number(&read, &fresh.id_number)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        app.store
            .household_members(&read, b_household)
            .await
            .unwrap(),
        b_members
    );
    let b_case_after = app
        .store
        .get_case(
            &system.grant::<jiuzhu_domain::access::ReadCases>().unwrap(),
            b_case_id,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(json!(b_case_after.revision), b_case["revision"]);
    let b_doc_after = app
        .store
        .get_document(&read, b_doc.id)
        .await
        .unwrap()
        .unwrap();
    assert!(b_doc_after.withdrawn.is_none());
    let b_ledger = app
        .store
        .reserve_fund_entries(
            &system.grant::<jiuzhu_domain::access::ReadCases>().unwrap(),
            &jiuzhu_domain::DivisionCode::parse(TOWNSHIP_B).unwrap(),
            10,
        )
        .await
        .unwrap();
    assert_eq!(b_ledger, vec![b_fund_entry]);
}

/// The same sweep for a county medical-insurance officer, whose jurisdiction is the whole
/// county but whose business is the cases referred to its department: every operation of the
/// API, called with township A's records and an application that is not a medical referral,
/// is refused or answers nothing of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_gets_nothing_beyond_its_referrals() {
    let app = TestApp::new().await;
    let officer = app.login("officer_yibao", "Demo@2026-medins").await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let system = Actor::system("test");
    let person = app.head_of(TOWNSHIP_A).await;
    let household = app.household_of(&person).await;
    let members = app
        .store
        .household_members(&system.grant::<ReadRegistry>().unwrap(), household)
        .await
        .unwrap();
    let case = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(json!({"workflow": "dibao", "household_id": household,
                "applicant_id": person.id, "documents": ["id_card", "verification_authorisation"]})),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text());
    let case = case.json();
    let mut markers = vec![
        person.id_number.to_string(),
        person.id_number.masked(),
        person.facts.name.clone(),
        case["number"].as_str().unwrap().to_string(),
    ];
    markers.extend(members.iter().map(|m| m.person.facts.name.clone()));

    let doc = app.get("/api/openapi.json", None).await.json();
    let mut called = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            let m = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            if matches!(
                template.as_str(),
                "/api/v1/login"
                    | "/api/v1/oauth/token"
                    | "/api/v1/logout"
                    | "/api/v1/me"
                    | "/api/v1/me/password"
            ) {
                continue;
            }
            let id = if template.starts_with("/api/v1/persons") {
                person.id
            } else if template.starts_with("/api/v1/households") {
                household
            } else if template.starts_with("/api/v1/memberships") {
                members[0].membership.id
            } else if template.starts_with("/api/v1/cases") {
                case["id"].as_i64().unwrap()
            } else {
                1
            };
            let mut path = template
                .replace("{id}", &id.to_string())
                .replace("{date}", "2025-06-01")
                .replace("{region}", "371000")
                .replace("{seq}", "1")
                .replace("{township}", TOWNSHIP_A)
                // A kind of another department.
                .replace("{kind}", "deposits")
                .replace("{division}", case["division_responsible"].as_str().unwrap());
            if m == Method::GET && !template.contains('{') {
                path = format!("{path}?q={}", person.id_number);
            }
            // Writes on the case get well-formed bodies, so that only access can refuse them;
            // elsewhere an empty body may also be refused as malformed (400/422), which
            // answers nothing about records either.
            let body = match (method.as_str(), template.as_str()) {
                ("get", _) => None,
                ("post", "/api/v1/cases/{id}/actions") => Some(json!({
                    "revision": case["revision"], "step": "verify", "action": "complete"
                })),
                ("post", "/api/v1/cases/{id}/changes") => Some(json!({
                    "kind": "stop", "stop_reason": "death", "reason": "越界停保"
                })),
                _ => Some(json!({})),
            };
            let shaped = body.as_ref().is_some_and(|b| b != &json!({}));
            let r = app.call(m.clone(), &path, Some(&officer), body).await;
            called += 1;
            let text = r.text();
            for marker in &markers {
                assert!(
                    !text.contains(marker.as_str()),
                    "{method} {path} revealed {marker}: {text}"
                );
            }
            if r.status.is_success() {
                // Only reads of what is its own: its cases, tasks, deliveries, policies.
                assert_eq!(m, Method::GET, "{method} {path} was done: {text}");
            } else {
                let malformed = !shaped
                    && matches!(
                        r.status,
                        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                    );
                assert!(
                    malformed || matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{method} {path} must be refused, got {}: {text}",
                    r.status
                );
                assert!(!r.error_code().is_empty(), "{method} {path}: envelope");
            }
        }
    }
    assert!(called >= 40, "called {called} operations");
    // The case is unchanged.
    let after = app
        .store
        .get_case(
            &system.grant::<jiuzhu_domain::access::ReadCases>().unwrap(),
            case["id"].as_i64().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(json!(after.revision), case["revision"]);
}
