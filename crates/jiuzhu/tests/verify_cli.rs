//! `jiuzhu import feed` and `jiuzhu verify run` on small hand-made files: a delivery with a bad
//! row is reported (and refused where the source's policy says so), kept by its SHA-256, and
//! the month's comparison raises the expected warnings for the expected households.

use std::path::Path;
use std::process::{Command, Output};

fn jiuzhu(db: &str, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env("JIUZHU_DATABASE", db)
        .env("JIUZHU_DATA_DIR", data)
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

/// A valid GB 11643 number from a 17-digit body.
fn id(body: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

fn json(o: &Output) -> serde_json::Value {
    let out = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(out.lines().last().unwrap_or("")).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", text(o));
    })
}

#[test]
fn feeds_are_kept_and_the_month_raises_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    let data = dir.path().join("data");
    let w = |name: &str, body: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let (a1, a2) = (id("37100219800101001"), id("37100219820202002"));
    let (b1, c1) = (id("37100219700303003"), id("37100219900404004"));
    let outsider = id("37100219950505005");

    let divisions = w("divisions.csv", "code,name\n371002,环翠区\n".into());
    let o = jiuzhu(&db, &data, &["import", "divisions", &divisions]);
    assert!(o.status.success(), "{}", text(&o));
    let households = w(
        "households.csv",
        "household_id,division_code,area\nH1,371002001201,urban\nH2,371002002201,rural\nH3,371002001201,urban\n".into(),
    );
    let members = w(
        "members.csv",
        format!(
            "household_id,id_number,name,relation\nH1,{a1},张一,head\nH1,{a2},李二,spouse\n\
             H2,{b1},王三,head\nH3,{c1},赵四,head\n"
        ),
    );
    let o = jiuzhu(
        &db,
        &data,
        &[
            "import",
            "caseload",
            &households,
            &members,
            "--valid-from",
            "2024-01-01",
            "--create-missing-divisions",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    // The county registers who delivers; an unregistered spelling is refused.
    for (kind, code, name) in [
        ("civil_deaths", "民政殡葬", "环翠区殡葬管理所"),
        ("deposits", "XX银行", "XX银行环翠支行"),
    ] {
        let o = jiuzhu(
            &db,
            &data,
            &[
                "verify",
                "add-source",
                "--kind",
                kind,
                "--code",
                code,
                "--name",
                name,
                "--division",
                "371002",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = jiuzhu(
        &db,
        &data,
        &[
            "verify",
            "add-source",
            "--kind",
            "deposits",
            "--code",
            "XX银行",
            "--name",
            "重复",
            "--division",
            "371002",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SOURCE_CODE_TAKEN"), "{}", text(&o));

    // Deaths refuse on any bad row: the whole delivery goes back, with the row and reason.
    let bad_deaths = w(
        "deaths_bad.csv",
        format!("id_number,death_date\n{a2},2024-06-10\n{outsider},2024-13-01\n"),
    );
    let o = jiuzhu(
        &db,
        &data,
        &[
            "import",
            "feed",
            "--kind",
            "civil_deaths",
            "--source",
            "民政殡葬",
            "--data-date",
            "2024-06-30",
            &bad_deaths,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["status"], "refused");
    assert_eq!(report["rows"], 2);
    assert_eq!(report["rejected"], 1);
    assert!(text(&o).contains("第 3 行"), "{}", text(&o));
    assert!(text(&o).contains("DATE_INVALID"), "{}", text(&o));

    let deaths = w(
        "deaths.csv",
        format!("id_number,death_date\n{a2},2024-06-10\n{outsider},2024-05-01\n"),
    );
    let o = jiuzhu(
        &db,
        &data,
        &[
            "import",
            "feed",
            "--kind",
            "civil_deaths",
            "--source",
            "民政殡葬",
            "--data-date",
            "2024-06-30",
            &deaths,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["status"], "accepted");
    let sha = report["sha256"].as_str().unwrap().to_string();
    let kept = data.join("feeds").join(format!("{sha}.csv"));
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        std::fs::read(&deaths).unwrap()
    );

    // Deposits keep the good rows: one bad amount is reported, the rest is used.
    let deposits = w(
        "deposits.csv",
        format!(
            "id_number,institution_code,account_type,balance,as_of\n\
             {b1},B001,savings,25000.00,2024-06-30\n{b1},B002,time,10000.50,2024-06-30\n\
             {c1},B001,savings,12.345,2024-06-30\n{c1},B001,savings,29000.00,2024-06-30\n"
        ),
    );
    let o = jiuzhu(
        &db,
        &data,
        &[
            "import",
            "feed",
            "--kind",
            "deposits",
            "--source",
            "XX银行",
            "--data-date",
            "2024-06-30",
            &deposits,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&o);
    assert_eq!(report["rows"], 4);
    assert_eq!(report["accepted"], 3);
    assert_eq!(report["rejected"], 1);
    assert!(text(&o).contains("第 4 行"), "{}", text(&o));
    assert!(text(&o).contains("MONEY_TOO_MANY_DECIMALS"), "{}", text(&o));

    // The month: H1 (a member died in June) and H2 (35000.50 > 30000 × 1); H3 (29000) none.
    // Without --division each household is judged by its county's policy (371002 inherits 30000
    // and 4000 from the national file), never by values written in code.
    let o = jiuzhu(&db, &data, &["verify", "run", "--month", "2024-06"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("演示阈值"), "{}", text(&o));
    let run = json(&o);
    assert_eq!(run["households"], 3);
    assert_eq!(run["warnings"], 2);
    assert_eq!(run["by_kind"]["DEATH"], 1);
    assert_eq!(run["by_kind"]["DEPOSIT"], 1);
    assert_eq!(run["found_by_township"]["371002001"], 1);
    assert_eq!(run["found_by_township"]["371002002"], 1);
    assert_eq!(run["deliveries"].as_array().unwrap().len(), 2);

    // May: the June deliveries are not used for an earlier month.
    let o = jiuzhu(&db, &data, &["verify", "run", "--month", "2024-05"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A month that has not come yet is not compared against the newest data.
    let o = jiuzhu(&db, &data, &["verify", "run", "--month", "2099-01"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2099-01 尚未到来,不能比对"),
        "{}",
        text(&o)
    );

    // Only township 371002002's households: its deposit is found again and stays the one open
    // warning it was, raised in June's first run.
    let o = jiuzhu(
        &db,
        &data,
        &[
            "verify",
            "run",
            "--month",
            "2024-06",
            "--division",
            "371002002",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let run = json(&o);
    assert_eq!(run["households"], 1);
    assert_eq!(run["warnings"], 0);
    assert_eq!(run["found_by_kind"]["DEPOSIT"], 1);
    assert!(run["found_by_kind"].get("DEATH").is_none());
    assert_eq!(run["still_open"]["DEPOSIT"]["count"], 1);
    assert_eq!(run["still_open"]["DEPOSIT"]["since"], "2024-06");
    assert!(run["still_open"].get("DEATH").is_none());

    // Issue 12, point 5: a township whose caseload was imported from July compares no one in
    // June, and the run says why instead of answering 0 warnings.
    let d1 = id("37100219600606006");
    let households = w(
        "households2.csv",
        "household_id,division_code,area\nH9,371002003201,urban\n".into(),
    );
    let members = w(
        "members2.csv",
        format!("household_id,id_number,name,relation\nH9,{d1},孙九,head\n"),
    );
    let o = jiuzhu(
        &db,
        &data,
        &[
            "import",
            "caseload",
            &households,
            &members,
            "--valid-from",
            "2024-07-01",
            "--create-missing-divisions",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = jiuzhu(
        &db,
        &data,
        &[
            "verify",
            "run",
            "--month",
            "2024-06",
            "--division",
            "371002003",
        ],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2024-06 无在册家庭可比对:本辖区在册数据自 2024-07-01 起"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("请比对 2024-07 或之后的月份"),
        "{}",
        text(&o)
    );
}
