//! The `jiuzhu` binary as an operator uses it: imports, users, and the audit chain check.

use std::path::Path;
use std::process::{Command, Output};

fn jiuzhu(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db)
        .env("JIUZHU_LOG", "warn")
        .output()
        .expect("run jiuzhu")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("t.sqlite").display())
}

async fn raw_sql(url: &str, statements: &[&str]) {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open sqlite");
    for s in statements {
        conn.execute(*s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

async fn count(url: &str, table: &str) -> i64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open sqlite");
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get::<i64, _>(0)
}

async fn drop_audit_triggers(url: &str) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open sqlite");
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("triggers")
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    assert!(
        !names.is_empty(),
        "audit_events should be protected by triggers"
    );
    drop(conn);
    let drops: Vec<String> = names.iter().map(|n| format!("DROP TRIGGER {n}")).collect();
    let refs: Vec<&str> = drops.iter().map(String::as_str).collect();
    raw_sql(url, &refs).await;
}

const DIVISIONS: &str = "code,name\n370000,山东省\n371000,威海市\n371002,环翠区\n371002001,环翠楼街道\n371002001201,新威路社区\n";

#[tokio::test]
async fn caseload_import_is_all_or_nothing_and_reports_each_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    let out = jiuzhu(
        &db,
        &[
            "import",
            "divisions",
            dir.path().join("div.csv").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let households =
        "household_id,division_code,area\n1,371002001201,urban\n2,371002001201,rural\n";
    std::fs::write(dir.path().join("h.csv"), households).unwrap();
    // Row 3 has a wrong check character (…0021 instead of …002X).
    let bad_members = "household_id,id_number,name,relation\n1,11010519491231002X,王芳,head\n2,110105194912310021,李强,head\n";
    std::fs::write(dir.path().join("m.csv"), bad_members).unwrap();
    let h = dir.path().join("h.csv");
    let m = dir.path().join("m.csv");
    let out = jiuzhu(
        &db,
        &[
            "import",
            "caseload",
            h.to_str().unwrap(),
            m.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("第3行"), "{msg}");
    assert!(msg.contains("校验码"), "{msg}");
    assert_eq!(count(&db, "persons").await, 0, "nothing may be written");
    assert_eq!(count(&db, "households").await, 0, "nothing may be written");

    let good_members = "household_id,id_number,name,relation\n1,11010519491231002X,王芳,head\n2,371002198001010010,李强,head\n";
    std::fs::write(&m, good_members).unwrap();
    let out = jiuzhu(
        &db,
        &[
            "import",
            "caseload",
            h.to_str().unwrap(),
            m.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("summary JSON on stdout");
    assert_eq!(summary["households"], 2);
    assert_eq!(summary["persons"], 2);
    assert_eq!(count(&db, "persons").await, 2);

    // The same file again: every identity number is already registered; nothing changes.
    let out = jiuzhu(
        &db,
        &[
            "import",
            "caseload",
            h.to_str().unwrap(),
            m.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(count(&db, "persons").await, 2);
}

#[tokio::test]
async fn audit_verify_names_the_first_row_changed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    let out = jiuzhu(
        &db,
        &[
            "import",
            "divisions",
            dir.path().join("div.csv").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    for (name, role) in [("sys_a", "system_admin"), ("sec_a", "security_admin")] {
        let out = jiuzhu(
            &db,
            &[
                "user",
                "create",
                "--username",
                name,
                "--name",
                "测试",
                "--role",
                role,
                "--division",
                "371002001",
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("一次性密码"));
    }
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("审计链完好"), "{}", text(&out));

    // The log is append-only: an ordinary UPDATE is refused by the database itself.
    {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        let refused = conn
            .execute("UPDATE audit_events SET detail = 'x' WHERE seq = 2")
            .await;
        assert!(refused.is_err(), "audit_events must reject UPDATE");
    }

    // A DBA who removes the protection and edits a row is caught by the hash chain.
    drop_audit_triggers(&db).await;
    raw_sql(
        &db,
        &["UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = 2"],
    )
    .await;
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("seq 2"), "{}", text(&out));
}

#[tokio::test]
async fn audit_verify_detects_a_deleted_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    jiuzhu(
        &db,
        &[
            "import",
            "divisions",
            dir.path().join("div.csv").to_str().unwrap(),
        ],
    );
    for name in ["a1", "a2", "a3"] {
        let out = jiuzhu(
            &db,
            &[
                "user",
                "create",
                "--username",
                name,
                "--name",
                "测试",
                "--role",
                "audit_admin",
                "--division",
                "371002",
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
    }
    drop_audit_triggers(&db).await;
    raw_sql(&db, &["DELETE FROM audit_events WHERE seq = 3"]).await;
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("seq 4"), "{}", text(&out));
}

/// Runs a command that needs no database (calc, whatif).
fn jiuzhu_pure(args: &[&str]) -> Output {
    jiuzhu("sqlite:///nonexistent/never-opened.sqlite", args)
}

fn stdout_json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

#[test]
fn calc_prints_the_result_and_its_explanation_with_exact_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("household.json");
    // 威海 (环翠区 inherits 威海市), 2020-07, urban standard 787.00. Head born 1949 (70, elderly
    // +10 %), income 300, medical expense 150; child born 2010, physical disability grade 2
    // (severe, +30 %), no income.
    std::fs::write(
        &input,
        r#"{"region": "371002001", "code": "H1", "area": "urban", "members": [
            {"id_number": "11010519491231002X", "name": "王芳", "relation": "head",
             "income": "300", "expenses": {"medical": "150"}},
            {"id_number": "110105201001010010", "name": "李小", "relation": "child",
             "education": "primary", "disability": {"kind": "physical", "grade": 2}}]}"#,
    )
    .unwrap();
    let path = input.to_str().unwrap();
    let v = stdout_json(&jiuzhu_pure(&[
        "calc", "--input", path, "--month", "2020-07",
    ]));
    let d = &v["result"]["dibao"];
    assert_eq!(v["month"], "2020-07");
    assert_eq!(d["standard"], "787.00");
    assert_eq!(d["gross_income"], "300.00");
    assert_eq!(d["rigid_deduction"], "150.00");
    assert_eq!(d["net_income"], "150.00"); // 300 − 150
    assert_eq!(d["threshold"], "1574.00"); // 787 × 2
    assert_eq!(d["base"], "1424.00"); // 1574 − 150
    assert_eq!(d["supplements"], "314.80"); // 78.70 + 236.10, one rate each
    assert_eq!(d["amount"], "1738.80");
    assert_eq!(v["result"]["total"], "1738.80");
    let steps = v["explanation"].as_array().unwrap();
    let base = steps.iter().find(|s| s["rule"] == "R-DB-4").unwrap();
    assert_eq!(base["value"], "1424.00");
    assert_eq!(base["formula"], "787.00 × 2 − 150.00 = 1424.00");
    assert_eq!(steps.last().unwrap()["rule"], "TOTAL");
    assert_eq!(v["policy"][0]["region"], "371000");
    assert_eq!(v["input"]["code"], "H1");

    let out = jiuzhu_pure(&["calc", "--input", path, "--month", "2020-07", "--text"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("合计:1738.80 元"), "{t}");
    assert!(t.contains("为什么是这个金额"), "{t}");

    // Bad input names the field and the reason; nothing is printed on stdout.
    std::fs::write(
        &input,
        r#"{"region": "371002", "area": "urban", "members": [
            {"id_number": "110105194912310021", "relation": "head", "income": "100.005"}]}"#,
    )
    .unwrap();
    let out = jiuzhu_pure(&["calc", "--input", path, "--month", "2020-07"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let t = text(&out);
    assert!(
        t.contains("members[0].id_number") && t.contains("ID_CHECK_DIGIT"),
        "{t}"
    );
    assert!(
        t.contains("members[0].income") && t.contains("MONEY_TOO_MANY_DECIMALS"),
        "{t}"
    );
}

/// The what-if caseload: 2020-07, 威海 urban standard 787.00, rural 588.00 (shared with the web
/// what-if tests in crates/jiuzhu-web/tests/http.rs).
const CASELOAD: &str = include_str!("whatif_caseload.json");

#[test]
fn whatif_reports_cost_difference_and_eligibility_changes_by_township() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("caseload.json");
    std::fs::write(&input, CASELOAD).unwrap();
    let path = input.to_str().unwrap();

    // 787 → 850 from 2020-07-01 (in 威海市's file, where the value in force comes from).
    // Before: A1 0 (800 ≥ 787), A2 0, B1 487.00, B3 37.00, B4 488.00 (rural) = 1012.00.
    // After:  A1 50 + 85.00 (elderly 10 % of 850) = 135.00, A2 30.00, B1 550.00, B3 100.00,
    //         B4 488.00 = 1303.00.
    let v = stdout_json(&jiuzhu_pure(&[
        "whatif",
        "--input",
        path,
        "--month",
        "2020-07",
        "--set",
        "dibao.standard.urban=850",
    ]));
    assert_eq!(v["month"], "2020-07");
    assert_eq!(v["change"][0]["param"], "dibao.standard.urban");
    assert_eq!(v["change"][0]["region"], "371000");
    assert_eq!(v["change"][0]["from"], "2020-07-01");
    let t = &v["total"];
    assert_eq!(t["households"], 5);
    assert_eq!(t["base_cost"], "1012.00");
    assert_eq!(t["new_cost"], "1303.00");
    assert_eq!(t["cost_difference"], "291.00");
    assert_eq!(t["newly_eligible"], 2);
    assert_eq!(t["no_longer_eligible"], 0);
    let a = &v["by_township"]["371002001"];
    assert_eq!(a["households"], 2);
    assert_eq!(a["base_cost"], "0.00");
    assert_eq!(a["new_cost"], "165.00");
    assert_eq!(a["cost_difference"], "165.00");
    assert_eq!(
        a["newly_eligible_households"],
        serde_json::json!(["A1", "A2"])
    );
    let b = &v["by_township"]["371002002"];
    assert_eq!(b["households"], 3);
    assert_eq!(b["base_cost"], "1012.00");
    assert_eq!(b["new_cost"], "1138.00");
    assert_eq!(b["cost_difference"], "126.00");
    assert_eq!(b["newly_eligible"], 0);
    // The household with bad input is reported (with its position in the file), not counted.
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["index"], 3);
    assert_eq!(failed[0]["code"], "B2");
    assert_eq!(failed[0]["errors"][0]["code"], "MONEY_TOO_MANY_DECIMALS");

    // 787 → 700: B3 (income 750) is no longer eligible; B1 gets 400.00.
    let out = jiuzhu_pure(&[
        "whatif",
        "--input",
        path,
        "--month",
        "2020-07",
        "--set",
        "dibao.standard.urban=700",
        "--region",
        "371000",
        "--text",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        t.contains("合计:5 户;现行 1012.00 元,调整后 888.00 元,差额 -124.00 元;新增符合低保 0 户,不再符合 1 户"),
        "{t}"
    );
    assert!(t.contains("不再符合:B3"), "{t}");
    assert!(
        t.contains("第4户(B2)") && t.contains("members[0].income"),
        "{t}"
    );

    // An unknown parameter or a value of the wrong kind is refused before anything is computed.
    let out = jiuzhu_pure(&[
        "whatif",
        "--input",
        path,
        "--month",
        "2020-07",
        "--set",
        "dibao.nonsense=1",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("dibao.nonsense"), "{}", text(&out));
    let out = jiuzhu_pure(&[
        "whatif",
        "--input",
        path,
        "--month",
        "2020-07",
        "--set",
        "dibao.standard.urban=850.001",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("850.001"), "{}", text(&out));
}

#[tokio::test]
async fn letter_prefix_is_set_per_county_and_refused_for_a_bad_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    let div = dir.path().join("div.csv");
    let out = jiuzhu(&db, &["import", "divisions", div.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let out = jiuzhu(&db, &["letter-prefix", "371002", "环民救"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("环民救"), "{}", text(&out));
    assert_eq!(count(&db, "letter_prefixes").await, 1);
    let out = jiuzhu(&db, &["letter-prefix", "371002001", "环民救"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("须为6位区县代码"), "{}", text(&out));
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// 三员分立 at the console: administrators are created (approved: nobody could approve them yet)
/// and recovered here; business accounts are refused, since created or reset at the console they
/// would skip the security administrator's approval.
#[tokio::test]
async fn the_console_creates_and_resets_administrators_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    std::fs::write(dir.path().join("div.csv"), DIVISIONS).unwrap();
    let div = dir.path().join("div.csv");
    assert!(jiuzhu(&db, &["import", "divisions", div.to_str().unwrap()])
        .status
        .success());
    let user = |name: &str, role: &str, division: &str| {
        jiuzhu(
            &db,
            &[
                "user",
                "create",
                "--username",
                name,
                "--name",
                "测试",
                "--role",
                role,
                "--division",
                division,
            ],
        )
    };
    let out = user("clerk_a", "window_clerk", "371002001");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("命令行只处理三员账户"),
        "{}",
        text(&out)
    );
    assert_eq!(count(&db, "users").await, 0);

    let out = user("sec1", "security_admin", "000000");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("(安全管理员),一次性密码"),
        "{}",
        text(&out)
    );
    let out = jiuzhu(&db, &["user", "list"]);
    let listed = text(&out);
    assert!(
        listed.contains("sec1") && listed.contains("安全管理员"),
        "{listed}"
    );
    assert!(!listed.contains("待审核"), "{listed}");
    let out = jiuzhu(&db, &["user", "reset-password", "sec1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&jiuzhu(&db, &["user", "list"])).contains("待审核"));

    // A business account (as the web makes it) is not reset here.
    {
        use jiuzhu_domain::access::ManageUsers;
        use jiuzhu_domain::{Actor, DivisionCode, NewUser, Role, SystemClock};
        let store = jiuzhu_store::connect_with_key_file(
            &db,
            std::sync::Arc::new(SystemClock),
            &jiuzhu_store::data_key::default_path(&db),
        )
        .await
        .unwrap()
        .0;
        jiuzhu_store::UserStore::create_user(
            &store,
            &Actor::system("test").grant::<ManageUsers>().unwrap(),
            &NewUser {
                username: "clerk_a".into(),
                display_name: "测试".into(),
                role: Role::WindowClerk,
                department: None,
                division: DivisionCode::parse("371002001").unwrap(),
                password_hash: "x".into(),
                must_change_password: true,
            },
        )
        .await
        .unwrap();
        store.pool().close().await;
    }
    let out = jiuzhu(&db, &["user", "reset-password", "clerk_a"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("由系统管理员在网页上创建或重置"),
        "{}",
        text(&out)
    );
    let out = jiuzhu(&db, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
}
