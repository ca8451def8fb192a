//! `jiuzhu demo` seeds departments' deliveries and the previous month's comparison, so the
//! verification screens have content: warnings by kind in the demo township, outreach leads and
//! a rejected-row report. Seeding twice adds nothing; `jiuzhu verify run` over the same month
//! gives the same counts.

use std::collections::BTreeMap;
use std::process::{Command, Output};

fn jiuzhu(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db)
        .env("JIUZHU_LOG", "warn")
        .output()
        .expect("run jiuzhu")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn rows(url: &str, sql: &str) -> Vec<(String, String, i64)> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_as::<_, (String, String, i64)>(sql)
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

async fn scalar(url: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn demo_seeds_deliveries_and_a_month_of_warnings_for_the_township_reviewer() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.sqlite").display());
    let out = jiuzhu(&db, &["demo"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("已生成演示核对数据") && printed.contains("比对预警 11 条"),
        "{printed}"
    );

    // Seven deliveries, all accepted; the deposits file has its two bad rows reported.
    let deliveries = rows(
        &db,
        "SELECT kind, status, rows_rejected FROM feed_deliveries ORDER BY kind",
    )
    .await;
    assert_eq!(deliveries.len(), 7, "{deliveries:?}");
    assert!(
        deliveries.iter().all(|d| d.1 == "accepted"),
        "{deliveries:?}"
    );
    let rejected: Vec<_> = deliveries.iter().filter(|d| d.2 > 0).collect();
    assert_eq!(
        rejected,
        vec![&("deposits".to_string(), "accepted".to_string(), 2)]
    );
    let codes = rows(
        &db,
        "SELECT code, COALESCE(column_name, ''), row_number FROM delivery_rejections \
         ORDER BY row_number",
    )
    .await;
    assert_eq!(
        codes
            .iter()
            .map(|c| (c.0.as_str(), c.2))
            .collect::<Vec<_>>(),
        vec![("MONEY_TOO_MANY_DECIMALS", 6), ("ID_CHECK_DIGIT", 7)]
    );

    // The warnings by kind and township: deaths outside the reviewer's township, the rest in it.
    let warnings = rows(
        &db,
        "SELECT kind, township, COUNT(*) FROM warnings GROUP BY kind, township ORDER BY kind",
    )
    .await;
    let expected: Vec<(String, String, i64)> = [
        ("BUSINESS", "371002001", 1),
        ("DEATH", "371002002", 2),
        ("DEPOSIT", "371002001", 2),
        ("INCOME", "371002001", 1),
        ("MEDICAL", "371002001", 1),
        ("PROPERTY", "371002001", 2),
        ("VEHICLE", "371002001", 2),
    ]
    .iter()
    .map(|(k, t, n)| (k.to_string(), t.to_string(), *n))
    .collect();
    assert_eq!(warnings, expected);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM warnings WHERE status = 'open'").await,
        11
    );
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM outreach_leads").await, 2);
    let month = rows(
        &db,
        "SELECT month, COALESCE(division, ''), households FROM verification_runs",
    )
    .await;
    assert_eq!(month.len(), 1, "{month:?}");
    assert_eq!(month[0].1, "371002");
    // Of the 5,000 households, the 4,111 the policy grants 低保 or 特困 are the county's
    // recipients; the others are registered only and not compared.
    assert_eq!(month[0].2, 4111);
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM households WHERE recipient_from = '2025-01-01'"
        )
        .await,
        4111
    );
    let month = month[0].0.clone();

    // A second start seeds nothing more.
    let again = jiuzhu(&db, &["demo"]);
    assert!(again.status.success());
    assert!(!stdout(&again).contains("已生成演示核对数据"));
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM feed_deliveries").await, 7);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM verification_runs").await,
        1
    );

    // The operator's run over the same month and county finds the same, raises none of it again
    // (each is open once, since the demo's run) and stores none of the demo run's leads again.
    let run = jiuzhu(
        &db,
        &["verify", "run", "--month", &month, "--division", "371002"],
    );
    assert!(run.status.success(), "{}", stdout(&run));
    let v: serde_json::Value = serde_json::from_str(stdout(&run).trim()).unwrap();
    let found: BTreeMap<String, i64> = serde_json::from_value(v["found_by_kind"].clone()).unwrap();
    let want: BTreeMap<String, i64> = expected.iter().map(|(k, _, n)| (k.clone(), *n)).collect();
    assert_eq!(found, want);
    let still_open: BTreeMap<String, i64> = want
        .keys()
        .map(|k| (k.clone(), v["still_open"][k]["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(still_open, want);
    assert_eq!(v["warnings"], 0);
    assert_eq!(v["by_kind"], serde_json::json!({}));
    assert_eq!(v["leads"], 0);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM outreach_leads").await, 2);
    assert_eq!(v["found_by_township"]["371002001"], 9);
    assert_eq!(v["found_by_township"]["371002002"], 2);
}
