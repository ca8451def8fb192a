//! Assist first (先行救助, R-LS-4): a window clerk registers an urgent 临时救助; the township
//! reviewer pays from the reserve fund from the case page with one click (the clerk may not pay,
//! seed 004/5); the case page shows the payment and the low-balance warning; a payment over the
//! balance is refused with the fund's message and the case stays registered; the approval-after
//! deadline appears once the assist step is recorded.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urgent_temporary_assistance_is_paid_from_the_case_page() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let reviewer_user = app.user(Role::TownshipReviewer, TOWNSHIP_A);
    let reviewer = app.login_as(&reviewer_user).await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await;

    // The clerk registers an urgent 临时救助: the assist step opens at the township.
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "temporary", "household_id": hh, "applicant_id": head.id,
                "documents": ["id_card"], "urgent": true, "opinion": "火灾,急需救助"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let case = r.json();
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["open_steps"][0]["step"], "assist", "{case}");

    // The fund: 31,000 yuan (minimum 30,000).
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/reserve-fund/{TOWNSHIP_A}/entries"),
            Some(&reviewer),
            Some(json!({"kind": "top_up", "amount": "31000", "reason": "县民政局拨付"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // The case page offers the reviewer the payment, prefilled with the applicant; not the clerk.
    let page = app
        .get(&format!("/cases/{id}"), Some(&reviewer))
        .await
        .text();
    assert!(page.contains("先行救助支付"), "{page}");
    assert!(
        page.contains(&format!("value=\"{}\"", head.facts.name)),
        "payee prefilled"
    );
    assert!(page.contains("31000.00"), "balance shown");
    let page = app.get(&format!("/cases/{id}"), Some(&clerk)).await.text();
    assert!(!page.contains(
        "action=\"/cases/{id}/assist-payment\""
            .replace("{id}", &id.to_string())
            .as_str()
    ));
    let r = app
        .form(
            &format!("/cases/{id}/assist-payment"),
            Some(&clerk.cookie),
            &[("_csrf", &clerk.csrf), ("amount", "2000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the clerk does not pay");

    // Over the balance: refused with the fund's message, the case is still there and open.
    let r = app
        .form(
            &format!("/cases/{id}/assist-payment"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("amount", "50000"),
                ("voucher", "PZ-0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text()
            .contains("备用金余额不足:当前余额 31000.00 元,支取 50000.00 元"),
        "{}",
        r.text()
    );
    let again = app
        .get(&format!("/api/v1/cases/{id}"), Some(&clerk))
        .await
        .json();
    assert_eq!(again["status"], "open");

    // One click pays 2,000 yuan, linked to the case; the fund drops below its minimum.
    let r = app
        .form(
            &format!("/cases/{id}/assist-payment"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("amount", "2000"),
                ("voucher", "PZ-2026-001"),
                ("payee_name", &head.facts.name),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let ledger = app
        .get(
            &format!("/api/v1/reserve-fund/{TOWNSHIP_A}/entries"),
            Some(&reviewer),
        )
        .await
        .json();
    assert_eq!(ledger["balance"], "29000.00");
    let pay = &ledger["items"][0];
    assert_eq!(pay["kind"], "withdrawal");
    assert_eq!(pay["case_id"], id);
    assert_eq!(pay["amount"], "2000.00");
    assert_eq!(pay["payee_name"], head.facts.name.as_str());
    assert_eq!(pay["payee_id_masked"], head.id_number.masked().as_str());

    let page = app.get(&format!("/cases/{id}"), Some(&clerk)).await.text();
    for s in [
        "2000.00",
        "29000.00",
        "PZ-2026-001",
        reviewer_user.username.as_str(),
        "备用金余额低于最低限额,请及时补充",
    ] {
        assert!(page.contains(s), "case page shows {s}: {page}");
    }

    // The reviewer records the assist step: the approval-after deadline opens and is shown.
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(&reviewer),
            Some(
                json!({"revision": case["revision"], "step": "assist", "action": "complete",
                "attachments": [{"kind": "emergency_proof", "id": "JN-1"},
                                {"kind": "payment_voucher", "id": "PZ-2026-001"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = r.json();
    let d = after["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "after_assist")
        .cloned()
        .unwrap_or_else(|| panic!("after_assist deadline: {after}"));
    // 10 working days after Mon 2026-03-02.
    assert_eq!(d["due"], "2026-03-16", "{d}");
    let page = app.get(&format!("/cases/{id}"), Some(&clerk)).await.text();
    assert!(
        page.contains("先行救助后补办审批时限") && page.contains("2026-03-16"),
        "{page}"
    );
}

/// A document of the file, recorded directly (no bytes needed: the step only references it).
async fn file_document(
    app: &TestApp,
    owner: jiuzhu_store::OwnerKind,
    owner_id: i64,
    name: &str,
) -> i64 {
    app.store
        .add_document(
            &jiuzhu_domain::Actor::system("test")
                .grant::<jiuzhu_domain::access::WriteRegistry>()
                .unwrap(),
            &jiuzhu_store::NewDocument {
                owner_kind: owner,
                owner_id,
                doc_type: "other".into(),
                file_name: name.into(),
                content_type: "application/pdf".into(),
                size_bytes: 10,
                sha256: "c".repeat(64),
                storage_key: format!("sha256/cc/{}", "c".repeat(64)),
                note: String::new(),
            },
        )
        .await
        .unwrap()
        .id
}

/// The assist step picks a filed document of the household for the emergency proof and takes
/// the voucher and amount of the reserve-fund payment from the ledger; a document of another
/// township (out of scope) or of another household is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assist_step_picks_filed_documents_and_carries_the_voucher() {
    use jiuzhu_store::OwnerKind;
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let reviewer = app
        .login_as(&app.user(Role::TownshipReviewer, TOWNSHIP_A))
        .await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "temporary", "household_id": hh, "applicant_id": head.id,
                "documents": ["id_card"], "urgent": true, "opinion": "火灾,急需救助"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();

    let own = file_document(&app, OwnerKind::Household, hh, "火灾证明-村委会.pdf").await;
    let mine_person = file_document(&app, OwnerKind::Person, head.id, "诊断证明.pdf").await;
    let head_b = app.head_of(TOWNSHIP_B).await;
    let hh_b = app.household_of(&head_b).await;
    let foreign = file_document(&app, OwnerKind::Household, hh_b, "外乡镇材料.pdf").await;
    // Another household of the same township: in scope, but not this case's file.
    let g = jiuzhu_domain::Actor::system("test")
        .grant::<jiuzhu_domain::access::ReadRegistry>()
        .unwrap();
    let other_hh = app
        .store
        .search_households(
            &g,
            &jiuzhu_store::HouseholdQuery {
                division: Some(jiuzhu_domain::DivisionCode::parse(TOWNSHIP_A).unwrap()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|h| h.id)
        .find(|h| *h != hh)
        .unwrap();
    let neighbour = file_document(&app, OwnerKind::Household, other_hh, "邻户材料.pdf").await;

    // Pay 2,000 yuan from the fund with voucher PZ-2026-009.
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/reserve-fund/{TOWNSHIP_A}/entries"),
            Some(&reviewer),
            Some(json!({"kind": "top_up", "amount": "40000", "reason": "县民政局拨付"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .form(
            &format!("/cases/{id}/assist-payment"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("amount", "2000"),
                ("voucher", "PZ-2026-009"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The step form offers the household's and the member's documents, not the others, and
    // prefills the voucher.
    let page = app
        .get(&format!("/cases/{id}"), Some(&reviewer))
        .await
        .text();
    assert!(
        page.contains(&format!(
            "name=\"doc_emergency_proof\" value=\"{own}\"> 其他 火灾证明-村委会.pdf("
        )),
        "{page}"
    );
    assert!(page.contains(&format!(
        "name=\"doc_emergency_proof\" value=\"{mine_person}\""
    )));
    assert!(!page.contains("外乡镇材料.pdf") && !page.contains("邻户材料.pdf"));
    assert!(
        page.contains("name=\"att_payment_voucher\" value=\"PZ-2026-009\""),
        "{page}"
    );

    // Forged ids: another township's document reads as nonexistent; a neighbour's is refused.
    let revision = app
        .get(&format!("/api/v1/cases/{id}"), Some(&reviewer))
        .await
        .json()["revision"]
        .clone();
    for (doc, code, msg) in [
        (
            foreign,
            "ATTACHMENT_DOCUMENT_NOT_FOUND",
            format!("材料 doc:{foreign} 不存在或不在您的管辖范围内,不能作为附件"),
        ),
        (
            neighbour,
            "ATTACHMENT_DOCUMENT_OTHER_FILE",
            format!("材料 doc:{neighbour}(其他 邻户材料.pdf("),
        ),
    ] {
        let r = app
            .call(
                Method::POST,
                &format!("/api/v1/cases/{id}/actions"),
                Some(&reviewer),
                Some(
                    json!({"revision": revision, "step": "assist", "action": "complete",
                    "attachments": [{"kind": "emergency_proof", "id": format!("doc:{doc}")}]}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let e = r.json();
        assert_eq!(e["error"]["fields"][0]["code"], code, "{e}");
        assert_eq!(
            e["error"]["fields"][0]["field"],
            "attachments.emergency_proof"
        );
        assert!(
            e["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with(&msg),
            "{e}"
        );
    }
    // The same through the page: the error is shown on the step, nothing is recorded.
    let r = app
        .form(
            &format!("/cases/{id}/act"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("revision", &revision.to_string()),
                ("step", "assist"),
                ("action", "complete"),
                ("doc_emergency_proof", &foreign.to_string()),
                ("att_payment_voucher", "PZ-2026-009"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .contains(&format!("材料 doc:{foreign} 不存在或不在您的管辖范围内")));

    // Picked on the page with the prefilled voucher: the timeline links the document and shows
    // the voucher with its amount.
    let r = app
        .form(
            &format!("/cases/{id}/act"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("revision", &revision.to_string()),
                ("step", "assist"),
                ("action", "complete"),
                ("att_emergency_proof", ""),
                ("doc_emergency_proof", &own.to_string()),
                ("att_payment_voucher", "PZ-2026-009"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let c = app
        .get(&format!("/api/v1/cases/{id}"), Some(&clerk))
        .await
        .json();
    let ev = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "assist")
        .cloned()
        .unwrap_or_else(|| panic!("assist event: {c}"));
    assert_eq!(
        ev["attachments"],
        json!([{"kind": "emergency_proof", "id": format!("doc:{own}")},
               {"kind": "payment_voucher", "id": "PZ-2026-009(备用金支付 2000.00 元)"}]),
        "{ev}"
    );
    let page = app.get(&format!("/cases/{id}"), Some(&clerk)).await.text();
    assert!(
        page.contains(&format!(
            "急难情况说明:<a href=\"/documents/{own}\">doc:{own} 其他 火灾证明-村委会.pdf("
        )),
        "{page}"
    );
    assert!(page.contains("先行救助发放凭证:PZ-2026-009(备用金支付 2000.00 元)"));

    // The neighbour's urgent case completed through the API without a voucher: the payment is
    // attached.
    let other_head = app
        .store
        .household_members(&g, other_hh)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.membership.relation == jiuzhu_domain::Relation::Head)
        .unwrap()
        .person
        .id;
    let r = app
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(
                json!({"workflow": "temporary", "household_id": other_hh, "applicant_id": other_head,
                "documents": ["id_card"], "urgent": true, "opinion": "再次急难"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let second = r.json();
    let id2 = second["id"].as_i64().unwrap();
    let r = app
        .form(
            &format!("/cases/{id2}/assist-payment"),
            Some(&reviewer.cookie),
            &[
                ("_csrf", &reviewer.csrf),
                ("amount", "350.50"),
                ("voucher", "PZ-2026-010"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id2}/actions"),
            Some(&reviewer),
            Some(
                json!({"revision": second["revision"], "step": "assist", "action": "complete",
                "attachments": [{"kind": "emergency_proof", "id": "JN-2"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let ev = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "assist")
        .cloned()
        .unwrap();
    assert_eq!(
        ev["attachments"],
        json!([{"kind": "emergency_proof", "id": "JN-2"},
               {"kind": "payment_voucher", "id": "PZ-2026-010(备用金支付 350.50 元)"}])
    );
}
