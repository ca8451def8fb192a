//! The signed export of a period of the audit log (GB/T 22239 level 3: audit records protected
//! and kept at least six months): made only from a log that verifies, checked with the public
//! key alone, and every edit of the file caught.

mod audit_helpers;

use std::path::Path;
use std::sync::Arc;

use audit_helpers::*;
use chrono::{TimeZone, Utc};
use jiuzhu_domain::access::{ManageDivisions, WriteRegistry};
use jiuzhu_domain::{Actor, AuditAction, DivisionCode, FixedClock, IdNumber, PersonFacts};
use jiuzhu_store::prelude::*;

/// Events stamped around the period 2026-06-01 … 2026-12-01 (Beijing time), then the keys.
async fn log_over_half_a_year(d: &Path) {
    let at = |y, m, day, h, min| Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap();
    let clock = FixedClock::new(at(2026, 5, 31, 2, 0));
    let store = open(d, Arc::new(clock.clone())).await;
    let system = Actor::system("test");
    let note = |detail: &'static str| {
        let store = &store;
        let system = &system;
        async move {
            store
                .append_audit(
                    system,
                    AuditAction::LoginFailed,
                    "session",
                    None,
                    None,
                    Some(detail),
                )
                .await
                .unwrap();
        }
    };
    note("2026-05-31 10:00, before the period").await; // seq 1
    clock.set(at(2026, 5, 31, 16, 30));
    note("2026-06-01 00:30 in Beijing, 05-31 in UTC: inside").await; // seq 2
    clock.set(at(2026, 7, 1, 2, 0));
    let divisions = [
        ("371002", "环翠区"),
        ("371002001", "环翠楼街道"),
        ("371002001201", "新威路社区"),
    ]
    .map(|(c, n)| (DivisionCode::parse(c).unwrap(), n.to_string()));
    store
        .import_divisions(&system.grant::<ManageDivisions>().unwrap(), &divisions)
        .await
        .unwrap(); // seq 3
    let id = IdNumber::parse("11010519491231002X").unwrap();
    let facts = PersonFacts::minimal(&id, "王芳", DivisionCode::parse("371002001201").unwrap());
    store
        .create_person(
            &system.grant::<WriteRegistry>().unwrap(),
            &id,
            &facts,
            chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        )
        .await
        .unwrap(); // seq 4
    clock.set(at(2026, 12, 1, 15, 30));
    note("2026-12-01 23:30, the period's last day").await; // seq 5
    clock.set(at(2026, 12, 1, 16, 10));
    note("2026-12-02 00:10, after the period").await; // seq 6
    store.pool().close().await;
    ok(d, &["audit", "checkpoint"]); // seq 7: the keys, created now
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test]
async fn a_period_is_exported_signed_and_checked_with_the_public_key_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    log_over_half_a_year(d).await;
    let out_file = d.join("audit-2026H2.jsonl");
    let out = ok(
        d,
        &[
            "audit",
            "export",
            "--from",
            "2026-06-01",
            "--to",
            "2026-12-01",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(out.contains("事件 seq 2–5 共 4 条"), "{out}");
    let file = lines(&out_file);
    assert_eq!(file.len(), 6, "header, four events, seal");
    let header: serde_json::Value = serde_json::from_str(&file[0]).unwrap();
    assert_eq!(header["format"], "jiuzhu-audit-export/1");
    assert_eq!(header["after_seq"], 1);
    assert_eq!(
        (header["first_seq"].clone(), header["last_seq"].clone()),
        (2.into(), 5.into())
    );
    let events = all_events(d).await;
    assert_eq!(header["after_hash"], events[0].hash.as_str());
    // Masked copies only: the identity number appears masked, never in full.
    let text = file.concat();
    assert!(!text.contains("11010519491231002X"));
    assert!(text.contains("110105************"), "{text}");
    // The export is itself an audited event.
    assert_eq!(
        events.last().unwrap().entry.action,
        AuditAction::AuditExported
    );

    // An auditor with the file and the public key, and no database, no private key.
    let auditor = tempfile::tempdir().unwrap();
    let a = auditor.path();
    let public = a.join("county.pub");
    std::fs::copy(d.join("audit-signing.pub"), &public).unwrap();
    let copy = |name: &str, content: &[String]| {
        let p = a.join(name);
        std::fs::write(&p, content.concat()).unwrap();
        p
    };
    let check = |file: &Path| {
        jiuzhu(
            a,
            &[
                "audit",
                "verify-export",
                file.to_str().unwrap(),
                "--public-key",
                public.to_str().unwrap(),
            ],
        )
    };
    let good = check(&copy("good.jsonl", &file));
    assert!(good.status.success(), "{}", text_of(&good));
    assert!(
        text_of(&good).contains(
            "导出文件完好 (export intact): 2026-06-01 至 2026-12-01,事件 seq 2–5 共 4 条"
        ),
        "{}",
        text_of(&good)
    );
    assert!(!a.join("t.sqlite").exists(), "no database was needed");

    let mut edited = file.clone();
    edited[3] = edited[3].replace("王芳", "李强");
    assert_fails(&check(&copy("edited.jsonl", &edited)), "第 4 行");
    let mut dropped = file.clone();
    dropped.remove(2);
    assert_fails(&check(&copy("dropped.jsonl", &dropped)), "第 3 行");
    let mut last_cut = file.clone();
    last_cut.remove(4);
    assert_fails(
        &check(&copy("last-cut.jsonl", &last_cut)),
        "文件内容与签名时不同",
    );
    assert_fails(
        &check(&copy("unsealed.jsonl", &file[..5])),
        "缺少末尾的签名行",
    );
    let other = tempfile::tempdir().unwrap();
    ok(other.path(), &["audit", "checkpoint"]);
    std::fs::copy(other.path().join("audit-signing.pub"), &public).unwrap();
    assert_fails(&check(&copy("good.jsonl", &file)), "另一把密钥");
}

fn text_of(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_fails(o: &std::process::Output, reason: &str) {
    let t = text_of(o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("导出文件未通过校验") && t.contains(reason),
        "{t}"
    );
    assert!(!t.contains("导出文件完好"), "{t}");
}

#[tokio::test]
async fn a_tampered_log_is_not_exported_and_no_file_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    log_over_half_a_year(d).await;
    let args = |out: &Path, from: &str, to: &str| {
        vec![
            "audit".to_string(),
            "export".into(),
            "--from".into(),
            from.into(),
            "--to".into(),
            to.into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let run = |a: Vec<String>| jiuzhu(d, &a.iter().map(String::as_str).collect::<Vec<_>>());

    let empty = run(args(&d.join("e.jsonl"), "2020-01-01", "2020-01-31"));
    assert!(!empty.status.success());
    assert!(
        text_of(&empty).contains("没有审计事件"),
        "{}",
        text_of(&empty)
    );

    let taken = d.join("taken.jsonl");
    std::fs::write(&taken, "kept\n").unwrap();
    let refused = run(args(&taken, "2026-06-01", "2026-12-01"));
    assert!(!refused.status.success());
    assert!(
        text_of(&refused).contains("已存在"),
        "{}",
        text_of(&refused)
    );
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "kept\n");

    rebuild_chain(d, |events| {
        events[3].entry.actor_name = "someone-else".into();
    })
    .await;
    let out = d.join("after-tamper.jsonl");
    let refused = run(args(&out, "2026-06-01", "2026-12-01"));
    assert!(!refused.status.success());
    let t = text_of(&refused);
    assert!(t.contains("未导出") && t.contains("审计链被重写"), "{t}");
    assert!(!out.exists());
}
