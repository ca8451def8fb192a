//! The household economics API and the month / what-if on the store, over HTTP.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{Actor, Clock, Money, Role};
use jiuzhu_policy::{calc_json, Month, PolicyLibrary};
use serde_json::{json, Value};

fn money(v: &Value) -> Money {
    Money::parse(v.as_str().expect("money string")).expect("money")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn economics_recorded_over_the_api_make_the_month_and_the_what_if() {
    let app = TestApp::new().await;
    let clerk = app.login_as(&app.clerk_a()).await;
    let head = app.head_of(TOWNSHIP_A).await;
    let hh = app.household_of(&head).await;
    let g = Actor::system("test").grant::<ReadRegistry>().unwrap();
    let today = app.clock.today();
    let snap = app
        .store
        .household_as_of(&g, hh, today)
        .await
        .unwrap()
        .unwrap();
    let people: Vec<i64> = snap.members.iter().map(|m| m.person.id).collect();

    // Before: no record; every household of A fails with 缺少经济状况信息.
    let r = app
        .get(&format!("/api/v1/households/{hh}/economics"), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["record"], Value::Null);
    let before = app.get("/api/v1/month?month=2026-03", Some(&clerk)).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text());
    let before = before.json();
    assert_eq!(before["totals"]["households"], 0);
    let failed_before = before["failed"].as_array().unwrap().len();
    assert!(failed_before > 0);
    assert_eq!(
        before["failed"][0]["errors"][0]["message"],
        "缺少经济状况信息"
    );

    // Bad input is named by field; then a valid record.
    let members: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"person_id": p, "income": if i == 0 { "100.50" } else { "0" }}))
        .collect();
    let bad = app
        .call(
            Method::PUT,
            &format!("/api/v1/households/{hh}/economics"),
            Some(&clerk),
            Some(json!({"valid_from": "2026-03-01", "economics": {
                "members": [{"person_id": people[0], "income": "100.005"}]}})),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert_eq!(
        bad.json()["error"]["fields"][0]["field"],
        "members[0].income"
    );
    let put = app
        .call(
            Method::PUT,
            &format!("/api/v1/households/{hh}/economics"),
            Some(&clerk),
            Some(json!({"valid_from": "2026-03-01", "economics": {
                "members": members, "assets": {"financial": "1000", "dwellings": 1}}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.json()["row_version"], 1);
    let stale = app
        .call(
            Method::PUT,
            &format!("/api/v1/households/{hh}/economics"),
            Some(&clerk),
            Some(json!({"row_version": null, "valid_from": "2026-03-01",
                        "economics": {"members": []}})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    let got = app
        .get(
            &format!("/api/v1/households/{hh}/economics?as_of=2026-03-01"),
            Some(&clerk),
        )
        .await
        .json();
    assert_eq!(got["record"]["economics"]["members"][0]["income"], "100.50");

    // The month: this household computed with exactly the engine's amount.
    let raw = jiuzhu_policy::registry::raw_household(
        &snap.household.code,
        &snap.facts,
        &snap.members,
        Some(
            &app.store
                .economics_as_of(&g, hh, today)
                .await
                .unwrap()
                .unwrap()
                .economics,
        ),
    )
    .unwrap();
    let lib = PolicyLibrary::builtin().unwrap();
    let expected = calc_json(
        &lib,
        &serde_json::to_string(&raw).unwrap(),
        Month::parse("2026-03").unwrap(),
    )
    .unwrap();
    assert!(expected.result.dibao.eligible);
    let month = app
        .get("/api/v1/month?month=2026-03", Some(&clerk))
        .await
        .json();
    assert_eq!(month["totals"]["households"], 1);
    assert_eq!(month["totals"]["dibao_households"], 1);
    assert_eq!(money(&month["totals"]["total"]), expected.result.total);
    assert_eq!(
        money(&month["totals"]["dibao_base"]),
        expected.result.dibao.base
    );
    assert!(expected.result.total > Money::ZERO);
    assert_eq!(month["failed"].as_array().unwrap().len(), failed_before - 1);
    let township = &snap.facts.division.as_str()[..9];
    assert_eq!(
        money(&month["by_township"][township]["total"]),
        expected.result.total
    );

    // The page: the same total, failed households linked to their pages.
    let page = app.get("/month?month=2026-03", Some(&clerk)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&expected.result.total.to_string()), "{html}");
    assert!(html.contains("缺少经济状况信息"));
    let failed_id = month["failed"][0]["household_id"].as_i64().unwrap();
    assert!(html.contains(&format!("href=\"/households/{failed_id}\"")));
    // The household page shows the section.
    let hp = app
        .get(&format!("/households/{hh}"), Some(&clerk))
        .await
        .text();
    assert!(hp.contains("经济状况") && hp.contains("100.50"), "{hp}");

    // What-if on the store: raising the standard of the household's area costs more.
    let param = format!("dibao.standard.{}", snap.facts.area.as_str());
    let w = app
        .call(
            Method::POST,
            "/api/v1/whatif",
            Some(&clerk),
            Some(
                json!({"source": "store", "changes": [format!("{param}=2000")],
                        "month": "2026-03"}),
            ),
        )
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text());
    let w = w.json();
    assert_eq!(w["total"]["households"], 1);
    assert_eq!(money(&w["total"]["base_cost"]), expected.result.total);
    assert!(money(&w["total"]["cost_difference"]) > Money::ZERO);
    assert_eq!(w["failed"].as_array().unwrap().len(), failed_before - 1);
    // Limited to a division, as `jiuzhu whatif --division` is: the household's own counts; a
    // division outside the clerk's township is refused, naming the field.
    let whatif_in = |division: String| {
        json!({"source": "store", "changes": [format!("{param}=2000")], "month": "2026-03",
               "division": division})
    };
    let w = app
        .call(
            Method::POST,
            "/api/v1/whatif",
            Some(&clerk),
            Some(whatif_in(snap.facts.division.to_string())),
        )
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text());
    assert_eq!(w.json()["total"]["households"], 1);
    assert!(w.json()["failed"].as_array().unwrap().len() < failed_before);
    let w = app
        .call(
            Method::POST,
            "/api/v1/whatif",
            Some(&clerk),
            Some(whatif_in(TOWNSHIP_B.to_string())),
        )
        .await;
    assert_eq!(w.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", w.text());
    assert_eq!(w.json()["error"]["fields"][0]["field"], "division");
    assert_eq!(w.json()["error"]["fields"][0]["code"], "DIVISION_INVALID");

    // A clerk of township B sees only B: nothing of A's household or totals.
    let clerk_b = app.login_as(&app.user(Role::WindowClerk, TOWNSHIP_B)).await;
    let mb = app
        .get("/api/v1/month?month=2026-03", Some(&clerk_b))
        .await
        .json();
    assert_eq!(mb["totals"]["households"], 0);
    for f in mb["failed"].as_array().unwrap() {
        assert_ne!(f["household_id"].as_i64().unwrap(), hh);
        assert!(f["code"].as_str().unwrap().contains(TOWNSHIP_B), "{f}");
    }
    assert_eq!(
        app.get(
            &format!("/api/v1/households/{hh}/economics"),
            Some(&clerk_b)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}
