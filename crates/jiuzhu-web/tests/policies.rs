//! Policy parameters through HTTP: the manager of reference data records a dated revision, calculations use it
//! from its date on and cite it, others may read but not change, every change is audited, stale
//! and invalid changes are refused with Chinese messages naming what is wrong.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::Role;
use serde_json::{json, Value};

const DOC: &str = "关于提高城乡低保标准的通知";

/// A national manager of reference data (the demo county's is bound to the county): policy
/// parameters moved off the administrator with 三员分立.
async fn national_admin(app: &TestApp) -> Session {
    app.account("padmin", Role::CountyManager, "000000").await
}

/// One urban adult without income in 环翠区 (威海市): 低保 = the urban standard.
fn weihai_household(month: &str) -> Value {
    let body = "37100219800101001";
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    json!({
        "region": TOWNSHIP_A, "area": "urban", "month": month,
        "members": [{"id_number": format!("{body}{}", check_char(&b)), "relation": "head", "income": "0"}]
    })
}

fn revision(expected: i64, value: &str) -> Value {
    json!({
        "expected_seq": expected, "param": "dibao.standard.urban", "effective_from": "2027-01-01",
        "value": value, "document": DOC, "number": "威民发〔2026〕12号", "article": "第二条",
        "reason": "年度调标"
    })
}

async fn calc(app: &TestApp, s: &Session, month: &str) -> Value {
    let r = app
        .call(
            Method::POST,
            "/api/v1/calc",
            Some(s),
            Some(weihai_household(month)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn urban_citations(out: &Value) -> Vec<Value> {
    out["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["sources"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["param"] == "dibao.standard.urban")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_revision_applies_from_its_date_and_is_cited_and_audited() {
    let app = TestApp::new().await;
    let admin = national_admin(&app).await;
    let clerk = app.login_as(&app.clerk_a()).await;

    let doc = app.get("/api/openapi.json", None).await.json();
    for path in [
        "/api/v1/policies",
        "/api/v1/policies/{region}",
        "/api/v1/policies/{region}/revisions",
        "/api/v1/policies/revisions/{seq}/withdraw",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} in the OpenAPI document"
        );
    }

    let before = calc(&app, &clerk, "2027-01").await;
    assert_eq!(before["result"]["dibao"]["standard"], "787.00");

    // A clerk may read but not change.
    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/371000/revisions",
            Some(&clerk),
            Some(revision(0, "850")),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error_code(), "DENIED");

    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/371000/revisions",
            Some(&admin),
            Some(revision(0, "850")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rev = r.json();
    assert_eq!(rev["revision"]["seq"], 1);
    assert_eq!(rev["revision"]["value"], "850.00");
    assert_eq!(rev["revision"]["user_name"], "padmin");
    assert_eq!(rev["version"], "2020-12-09+r1");

    // December still uses 787, January 850, citing the revision.
    let dec = calc(&app, &clerk, "2026-12").await;
    assert_eq!(dec["result"]["dibao"]["standard"], "787.00");
    assert_eq!(dec["result"]["dibao"]["base"], "787.00");
    let jan = calc(&app, &clerk, "2027-01").await;
    assert_eq!(jan["result"]["dibao"]["standard"], "850.00");
    assert_eq!(jan["result"]["dibao"]["base"], "850.00");
    let cited = urban_citations(&jan);
    assert!(!cited.is_empty(), "{jan}");
    for c in &cited {
        assert_eq!(c["document"], DOC);
        assert_eq!(c["number"], "威民发〔2026〕12号");
        assert_eq!(c["clause"], "第二条");
        assert_eq!(c["value"], "850.00");
        assert!(
            c["note"]
                .as_str()
                .unwrap()
                .starts_with("修订 r1:padmin 于 2026-03-02 录入"),
            "{c}"
        );
    }
    let weihai = jan["policy"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["region"] == "371000")
        .unwrap()
        .clone();
    assert_eq!(weihai["version"], "2020-12-09+r1");
    for c in urban_citations(&dec) {
        assert_ne!(c["document"], DOC);
    }

    // The region's page data: today's value, the scheduled one, the revision.
    let r = app.get("/api/v1/policies/371000", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["latest_seq"], 1);
    let urban = d["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "dibao.standard.urban")
        .unwrap()
        .clone();
    assert_eq!(urban["current"]["value"], "787.00");
    assert_eq!(urban["scheduled"][0]["value"], "850.00");
    assert_eq!(urban["scheduled"][0]["origin"], "r1");
    assert_eq!(d["revisions"][0]["reason"], "年度调标");
    let r = app.get("/api/v1/policies", Some(&clerk)).await;
    let regions = r.json();
    assert_eq!(regions["revision_level"], 1);
    assert!(regions["regions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["region"] == "371000"
            && x["name"] == "威海市"
            && x["version"] == "2020-12-09+r1"));

    // Audited, with the old and the new value (read by the audit administrator).
    let audit = app.account("auditadm", Role::AuditAdmin, "000000").await;
    let r = app
        .get("/api/v1/audit?action=policy_revised", Some(&audit))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let log = r.json();
    assert_eq!(log["total"], 1, "{log}");
    let ev = &log["items"][0];
    assert_eq!(ev["action"], "policy_revised");
    assert_eq!(ev["actor_name"], "padmin");
    assert_eq!(ev["division"], "371000");
    assert_eq!(ev["before"]["value"], "787.00");
    assert_eq!(ev["after"]["value"], "850.00");
    assert_eq!(ev["after"]["document"], DOC);

    // Someone else changed the region meanwhile: 409, nothing written.
    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/371000/revisions",
            Some(&admin),
            Some(revision(0, "860")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.error_code(), "CONFLICT");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("该地区的政策参数已被他人修改"));

    // Invalid values name the field.
    for bad in ["85o", "-850"] {
        let r = app
            .call(
                Method::POST,
                "/api/v1/policies/371000/revisions",
                Some(&admin),
                Some(revision(1, bad)),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text()
        );
        let e = r.json();
        assert_eq!(e["error"]["fields"][0]["field"], "value", "{e}");
        assert!(
            e["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("参数值(城市低保标准"),
            "{e}"
        );
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/371000/revisions",
            Some(&admin),
            Some(json!({"expected_seq": 1, "param": "dibao.nope", "effective_from": "2027-02-30", "value": "1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["effective_from", "param", "document", "reason"]);

    // Withdrawing the not-yet-effective revision restores 787 for January.
    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/revisions/1/withdraw",
            Some(&clerk),
            Some(json!({"expected_seq": 1, "reason": "暂缓"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/revisions/1/withdraw",
            Some(&admin),
            Some(json!({"expected_seq": 1, "reason": "文件暂缓执行"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["revision"]["withdraws"], 1);
    assert_eq!(r.json()["version"], "2020-12-09+r2");
    let jan = calc(&app, &clerk, "2027-01").await;
    assert_eq!(jan["result"]["dibao"]["standard"], "787.00");
    let r = app
        .get(
            "/api/v1/audit?action=policy_revision_withdrawn",
            Some(&audit),
        )
        .await;
    assert_eq!(r.json()["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_pages_show_values_and_let_only_managers_change_them() {
    let app = TestApp::new().await;
    let admin = national_admin(&app).await;
    let clerk = app.login_as(&app.clerk_a()).await;

    let r = app.get("/policies", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::OK);
    let t = r.text();
    for name in ["全国", "威海市", "威海市文登区", "/policies/520304"] {
        assert!(t.contains(name), "{name}: {t}");
    }
    assert!(t.contains("href=\"/policies\">政策参数</a>"));
    // The user's own county has no file of its own, and is reachable all the same.
    assert!(
        t.contains("本辖区:<a href=\"/policies/371002\">环翠区</a>"),
        "{t}"
    );

    let r = app.get("/policies/371000", Some(&clerk)).await;
    assert_eq!(r.status, StatusCode::OK);
    let t = r.text();
    assert!(t.contains("城市低保标准"));
    assert!(t.contains("787.00"));
    assert!(!t.contains("调整参数"), "no form for a clerk");
    assert_eq!(
        app.get("/policies/371002001", Some(&clerk)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/policies/110000", Some(&clerk)).await.status,
        StatusCode::NOT_FOUND
    );

    // The admin's form; an invalid value comes back with the fields filled in.
    let t = app.get("/policies/371000", Some(&admin)).await.text();
    assert!(t.contains("调整参数") && t.contains("先测算影响"));
    let fields = |value: &'static str, expected: &'static str| {
        vec![
            ("_csrf", admin.csrf.clone()),
            ("expected_seq", expected.to_string()),
            ("param", "dibao.standard.urban".to_string()),
            ("effective_from", "2027-01-01".to_string()),
            ("value", value.to_string()),
            ("document", DOC.to_string()),
            ("number", String::new()),
            ("article", "第二条".to_string()),
            ("reason", "年度调标".to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let app = &app;
        let cookie = admin.cookie.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.form("/policies/371000/revisions", Some(&cookie), &pairs)
                .await
        }
    };
    let r = post(fields("85o", "0")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(t.contains("参数值(城市低保标准"), "{t}");
    assert!(t.contains("value=\"85o\""));
    assert!(t.contains(&format!("value=\"{DOC}\"")));

    let r = post(fields("850", "0")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let t = r.text();
    assert!(t.contains("已记录调整 r1"), "{t}");
    assert!(t.contains("2020-12-09+r1"));
    assert!(
        t.contains("/policies/371000/revisions/1/withdraw"),
        "a future revision can be withdrawn"
    );

    // The same form, stale: the conflict message.
    let r = post(fields("860", "0")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("该地区的政策参数已被他人修改"));

    // Withdraw from the page.
    let r = app
        .form(
            "/policies/371000/revisions/1/withdraw",
            Some(&admin.cookie),
            &[
                ("_csrf", &admin.csrf),
                ("expected_seq", "1"),
                ("reason", "暂缓"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let t = r.text();
    assert!(t.contains("已撤回 r1"));
    assert!(t.contains("已由 r2 撤回"));

    // Issue 12, point 11: a date in the past (today is 2026-03-02) changes months already
    // computed: refused without a reason, with the what-if of the change offered; accepted
    // with one, which is kept with the revision.
    let mut past = fields("850", "2");
    past[3].1 = "1990-01-01".into();
    let r = post(past.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let t = r.text();
    assert!(t.contains("生效日期 1990-01-01 早于今天"), "{t}");
    assert!(t.contains("查看追溯影响测算(1990-01)"), "{t}");
    assert!(
        t.contains("name=\"changes\" value=\"dibao.standard.urban=850\""),
        "{t}"
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/policies/371000/revisions",
            Some(&admin),
            Some(json!({"expected_seq": 2, "param": "dibao.standard.urban",
                "effective_from": "2026-02-01", "value": "850", "document": DOC,
                "reason": "年度调标"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        r.json()["error"]["fields"][0]["code"],
        "REVISION_RETROACTIVE"
    );
    past[3].1 = "2026-02-01".into();
    past.push(("retroactive_reason", "省厅文件自2月起执行,补发差额".into()));
    let r = post(past).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text()
            .contains("年度调标(追溯生效:省厅文件自2月起执行,补发差额)"),
        "{}",
        r.text()
    );

    // "先测算影响" opens the what-if page prefilled.
    let r = app
        .get(
            "/whatif?changes=dibao.standard.urban%3D850&from=2027-01-01&region=371000&month=2027-01",
            Some(&clerk),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let t = r.text();
    assert!(t.contains(">dibao.standard.urban=850</textarea>"), "{t}");
    assert!(t.contains("value=\"2027-01-01\""));
    assert!(t.contains("value=\"371000\""));
}
