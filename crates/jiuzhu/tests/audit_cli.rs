//! The attacks of the security test (等保 2.0 level 3) on the audit log, through the binary: a
//! database writer truncates or rebuilds the chain; `jiuzhu audit verify` must catch each one
//! against the signed checkpoints, and must never call the log intact without its key.

mod audit_helpers;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use audit_helpers::*;
use jiuzhu_domain::access::{RevealSensitive, WriteRegistry};
use jiuzhu_domain::{
    Actor, AuditAction, DivisionCode, IdNumber, PersonFacts, Role, Scope, SystemClock,
};
use jiuzhu_store::prelude::*;

#[tokio::test]
async fn truncating_the_log_is_caught_however_much_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    let out = ok(d, &["audit", "verify"]);
    // The divisions, the data key's and the audit keys' creation and 60 events.
    assert!(
        out.contains("审计链完好 (audit chain intact): 63 条事件"),
        "{out}"
    );
    // The verify itself is an event, checkpointed at once.
    assert_eq!(checkpoints(d).last().unwrap()["seq"], 64);

    cut_tail(d, 1).await;
    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("审计日志被截断 (audit log truncated)"), "{t}");
    assert!(t.contains("记录了 64 条事件,数据库中只有 63 条"), "{t}");

    cut_tail(d, 50).await;
    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("记录了 64 条事件,数据库中只有 13 条"), "{t}");

    cut_tail(d, 13).await;
    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("记录了 64 条事件,数据库中只有 0 条"), "{t}");
    // A failed verify writes no checkpoint (it would bless the truncated log).
    assert_eq!(checkpoints(d).last().unwrap()["seq"], 64);
}

#[tokio::test]
async fn a_tail_cut_with_audit_head_set_to_match_stays_caught_after_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    cut_tail(d, 3).await;
    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("记录了 63 条事件,数据库中只有 60 条"), "{t}");

    // The platform goes on writing from the shortened chain (seqs 60… again, no gap). Those
    // commands refuse to sign the new head, so the cut is never blessed.
    let out = ok(
        d,
        &[
            "user",
            "create",
            "--username",
            "a1",
            "--name",
            "测试",
            "--role",
            "audit_admin",
            "--division",
            "371002",
        ],
    );
    assert!(out.contains("审计检查点未写入"), "{out}");
    let t = fails(d, &["audit", "checkpoint"]);
    assert!(t.contains("审计链与最新检查点不符"), "{t}");
    assert!(t.contains("记录了 63 条事件,数据库中只有 61 条"), "{t}");
    // Past the signed seq the cut shows as a rewritten chain.
    append_events(d, 5).await;
    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("审计链被重写 (audit chain rewritten)"), "{t}");
    assert!(t.contains("事件 seq 63 的哈希与检查点 #2"), "{t}");
}

#[tokio::test]
async fn a_row_edited_and_every_later_hash_recomputed_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    rebuild_chain(d, |events| {
        events[9].entry.actor_name = "someone-else".into();
    })
    .await;
    // Without the checkpoints this chain is intact: every link and hash checks.
    let events = all_events(d).await;
    let mut chain = jiuzhu_domain::audit::ChainVerifier::default();
    events.iter().try_for_each(|r| chain.check(r)).unwrap();

    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("审计链被重写 (audit chain rewritten)"), "{t}");
    assert!(t.contains("事件 seq 63 的哈希与检查点 #2"), "{t}");
}

/// A window clerk of 环翠楼街道 who reveals identity numbers.
fn clerk() -> Actor {
    Actor {
        user_id: Some(7),
        username: "clerk_a".into(),
        role: Role::WindowClerk,
        department: None,
        scope: Scope::new(DivisionCode::parse("371002001").unwrap()),
        origin: "10.0.0.7".into(),
        pending_approval: false,
    }
}

#[tokio::test]
async fn erasing_every_sensitive_reveal_and_rehashing_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    let store = open(d, Arc::new(SystemClock)).await;
    let write = clerk().grant::<WriteRegistry>().unwrap();
    let reveal = clerk().grant::<RevealSensitive>().unwrap();
    for (id, name) in [
        ("11010519491231002X", "王芳"),
        ("371002198001010010", "李强"),
    ] {
        let id = IdNumber::parse(id).unwrap();
        let facts = PersonFacts::minimal(&id, name, DivisionCode::parse("371002001201").unwrap());
        let p = store
            .create_person(
                &write,
                &id,
                &facts,
                chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            )
            .await
            .unwrap();
        store
            .reveal_person(&reveal, p.id, &["id_number"])
            .await
            .unwrap();
    }
    store.pool().close().await;
    ok(d, &["audit", "checkpoint"]);
    let reveals = |events: &[jiuzhu_domain::AuditRecord]| {
        events
            .iter()
            .filter(|e| e.entry.action == AuditAction::SensitiveRevealed)
            .count()
    };
    assert_eq!(reveals(&all_events(d).await), 2);

    rebuild_chain(d, |events| {
        events.retain(|e| e.entry.action != AuditAction::SensitiveRevealed)
    })
    .await;
    assert_eq!(reveals(&all_events(d).await), 0, "the attack removed them");
    let t = fails(d, &["audit", "verify"]);
    assert!(
        t.contains("审计日志被截断") || t.contains("审计链被重写"),
        "{t}"
    );
    assert!(t.contains("检查点 #3"), "{t}");
}

#[tokio::test]
async fn without_its_key_verify_fails_and_never_reports_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    let key = key_path(d);
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Moved away: no key, no verdict, and no new key is made in its place.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("jiuzhu-audit.key");
    std::fs::rename(&key, &moved).unwrap();
    let t = fails(d, &["audit", "verify"]);
    assert!(t.contains("找不到审计签名密钥"), "{t}");
    assert!(
        t.contains("audit signing key not found") || t.contains("the key is missing"),
        "{t}"
    );
    assert!(!key.exists());
    let out = ok(
        d,
        &[
            "user",
            "create",
            "--username",
            "a1",
            "--name",
            "测试",
            "--role",
            "audit_admin",
            "--division",
            "371002",
        ],
    );
    assert!(out.contains("不会生成新密钥"), "{out}");
    assert!(!key.exists(), "a writing command must not make a new key");

    // Named where it now is (flag or environment), it verifies again.
    std::fs::copy(
        d.join("audit-signing.pub"),
        elsewhere.path().join("jiuzhu-audit.pub"),
    )
    .unwrap();
    let out = ok(
        d,
        &["audit", "verify", "--audit-key", moved.to_str().unwrap()],
    );
    assert!(out.contains("审计链完好"), "{out}");

    // Readable by others: refused, with the fix named.
    std::fs::set_permissions(&moved, std::fs::Permissions::from_mode(0o644)).unwrap();
    let t = fails(
        d,
        &["audit", "verify", "--audit-key", moved.to_str().unwrap()],
    );
    assert!(t.contains("chmod 600"), "{t}");

    // Another installation's key: its checkpoints are not these.
    let other = tempfile::tempdir().unwrap();
    ok(other.path(), &["audit", "checkpoint"]);
    std::fs::copy(key_path(other.path()), &key).unwrap();
    std::fs::copy(
        other.path().join("audit-signing.pub"),
        d.join("audit-signing.pub"),
    )
    .unwrap();
    let t = fails(d, &["audit", "verify"]);
    assert!(
        t.contains("检查点文件第 1 行") && t.contains("另一把密钥"),
        "{t}"
    );
}

#[tokio::test]
async fn checkpoint_lines_rewritten_without_the_key_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    rebuild_chain(d, |events| {
        events.remove(30);
    })
    .await;
    // The attacker also edits the checkpoint file to name the rebuilt head.
    let head = all_events(d).await.pop().unwrap();
    let path = checkpoint_path(d);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last_mut().unwrap();
    last["seq"] = head.seq.into();
    last["hash"] = head.hash.into();
    let forged: String = lines.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&path, forged).unwrap();
    let t = fails(d, &["audit", "verify"]);
    assert!(
        t.contains("检查点文件第 2 行") && t.contains("签名无效"),
        "{t}"
    );
}

#[tokio::test]
async fn a_torn_last_checkpoint_line_is_recognised_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sealed_log(d).await;
    // A write cut short by a power loss: half a record, no newline.
    let path = checkpoint_path(d);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"n":3,"seq":61,"hash":"9f2c"#);
    std::fs::write(&path, bytes).unwrap();

    let out = ok(d, &["audit", "verify"]);
    assert!(out.contains("审计链完好"), "{out}");
    assert!(out.contains("末行写入时中断"), "{out}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    let records = checkpoints(d);
    assert_eq!(
        records
            .iter()
            .map(|c| c["n"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(records[2]["seq"], 64);
    let out = ok(d, &["audit", "verify"]);
    assert!(!out.contains("末行写入时中断"), "{out}");
}
