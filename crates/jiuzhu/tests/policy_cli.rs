//! `jiuzhu policy` against a database: set, show, list, withdraw, and refusals.

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

#[test]
fn set_show_list_and_withdraw_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.sqlite").display());
    // Far enough ahead to be withdrawable whatever today is.
    let set = |value: &str| {
        jiuzhu(
            &db,
            &[
                "policy",
                "set",
                "371000",
                "--param",
                "dibao.standard.urban",
                "--from",
                "2099-01-01",
                "--value",
                value,
                "--document",
                "关于提高城乡低保标准的通知",
                "--number",
                "威民发〔2098〕1号",
                "--reason",
                "年度调标",
                "--expected-seq",
                "0",
            ],
        )
    };
    let bad = set("85o");
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("参数值(城市低保标准(元/人·月)):"),
        "{}",
        text(&bad)
    );

    let ok = set("850");
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("已记录调整 r1:371000 dibao.standard.urban 自 2099-01-01 起为 850.00")
    );

    let list = jiuzhu(&db, &["policy", "list"]);
    assert!(list.status.success(), "{}", text(&list));
    let t = text(&list);
    assert!(t.contains("当前调整序号 r1"));
    assert!(t.contains("371000\t威海市\t2020-12-09+r1"), "{t}");

    let show = jiuzhu(&db, &["policy", "show", "371000"]);
    let t = text(&show);
    assert!(t.contains("本地区最新调整序号 r1"), "{t}");
    assert!(
        t.contains("dibao.standard.urban\t城市低保标准(元/人·月)\t787.00"),
        "{t}"
    );
    assert!(t.contains("已排期:2099-01-01 起 850.00"), "{t}");
    assert!(
        t.contains("r1\t调整\tdibao.standard.urban\t2099-01-01 起\t850.00\tsystem:cli\t年度调标")
    );

    // A stale expectation is refused.
    let stale = jiuzhu(
        &db,
        &[
            "policy",
            "set",
            "371000",
            "--param",
            "dibao.standard.urban",
            "--from",
            "2099-01-01",
            "--value",
            "860",
            "--document",
            "x",
            "--reason",
            "y",
            "--expected-seq",
            "0",
        ],
    );
    assert!(!stale.status.success());

    // Without the revision it is based on, nothing is withdrawn: the field is named.
    let w = jiuzhu(&db, &["policy", "withdraw", "1", "--reason", "暂缓"]);
    assert!(!w.status.success());
    assert!(text(&w).contains("缺少 --expected-seq"), "{}", text(&w));
    let w = jiuzhu(
        &db,
        &[
            "policy",
            "withdraw",
            "1",
            "--reason",
            "暂缓",
            "--expected-seq",
            "1",
        ],
    );
    assert!(w.status.success(), "{}", text(&w));
    assert!(text(&w).contains("已撤回 r1(撤回记录 r2)"));
    let t = text(&jiuzhu(&db, &["policy", "show", "371000"]));
    assert!(!t.contains("已排期:2099-01-01"), "{t}");
    assert!(t.contains("r2\t撤回"));

    // A date in the past changes months already computed: only with its reason.
    let past = |extra: &[&str]| {
        let mut args = vec![
            "policy",
            "set",
            "371000",
            "--param",
            "dibao.standard.rural",
            "--from",
            "1990-01-01",
            "--value",
            "600",
            "--document",
            "关于调整农村低保标准的通知",
            "--reason",
            "补录",
            "--expected-seq",
            "2",
        ];
        args.extend_from_slice(extra);
        jiuzhu(&db, &args)
    };
    // Without --expected-seq the CLI does not take the newest revision for granted.
    let o = jiuzhu(
        &db,
        &[
            "policy",
            "set",
            "371000",
            "--param",
            "dibao.standard.rural",
            "--from",
            "2099-02-01",
            "--value",
            "600",
            "--document",
            "x",
            "--reason",
            "y",
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("缺少 --expected-seq"), "{}", text(&o));
    let o = past(&[]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("生效日期 1990-01-01 早于今天"),
        "{}",
        text(&o)
    );
    let o = past(&["--retroactive-reason", "补录1990年档案"]);
    assert!(o.status.success(), "{}", text(&o));
}
