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
