//! Signed checkpoints over the chain of either backend: the head the store reports, and a
//! database writer who removes the tail behind the triggers' back.

use std::sync::atomic::{AtomicU32, Ordering};

use jiuzhu_domain::audit_seal::SealBreak;
use jiuzhu_domain::{Actor, AuditAction, ChainHead};

use super::{all_events, Harness};
use crate::audit_seal::{AuditSeal, Problem, SealError, SealPaths};
use crate::prelude::*;
use crate::Backend;

/// A directory of its own under the system's temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "jiuzhu-seal-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn note(h: &Harness, detail: &str) {
    h.store
        .append_audit(
            &Actor::system("test"),
            AuditAction::AuditVerified,
            "audit",
            None,
            None,
            Some(detail),
        )
        .await
        .expect("append");
}

pub async fn audit_checkpoints_catch_truncation_and_rebuild(h: Harness) {
    let dir = TempDir::new();
    let paths = SealPaths::new(&dir.0, None, None);
    assert_eq!(h.store.chain_head().await.unwrap(), ChainHead::genesis());
    for i in 0..3 {
        note(&h, &format!("e{i}")).await;
    }
    let events = all_events(&h.store).await;
    let head = h.store.chain_head().await.unwrap();
    assert_eq!(head.seq, 3);
    assert_eq!(head.hash, events[2].hash, "the newest event's hash");

    let (seal, created) = AuditSeal::open_or_create(&paths).unwrap();
    assert!(created);
    let cp = seal
        .checkpoint(h.store.as_ref(), &h.clock)
        .await
        .unwrap()
        .expect("a first checkpoint");
    assert_eq!(
        (cp.n, cp.seq, cp.at.as_str()),
        (1, 3, "2026-03-01T02:00:00.000000Z")
    );
    assert!(
        seal.checkpoint(h.store.as_ref(), &h.clock)
            .await
            .unwrap()
            .is_none(),
        "nothing new, nothing written"
    );
    note(&h, "e3").await;
    let v = seal.verify(h.store.as_ref()).await.unwrap();
    assert!(v.problem.is_none(), "{:?}", v.problem);
    assert_eq!((v.events, v.window), (4, 1));
    seal.checkpoint(h.store.as_ref(), &h.clock).await.unwrap();

    // A database writer removes the newest event and points audit_head at the one before.
    let drop = match h.store.backend() {
        Backend::Sqlite => "DROP TRIGGER audit_events_no_delete",
        Backend::Postgres => "DROP TRIGGER audit_events_no_delete ON audit_events",
    };
    h.store.execute_raw(drop).await.unwrap();
    h.store
        .execute_raw("DELETE FROM audit_events WHERE seq = 4")
        .await
        .unwrap();
    h.store
        .execute_raw(&format!(
            "UPDATE audit_head SET seq = 3, hash = '{}' WHERE id = 1",
            events[2].hash
        ))
        .await
        .unwrap();
    assert_eq!(h.store.chain_head().await.unwrap().seq, 3);
    let v = seal.verify(h.store.as_ref()).await.unwrap();
    assert!(
        matches!(
            v.problem,
            Some(Problem::Seal(SealBreak::Truncated {
                n: 2,
                seq: 4,
                held: 3,
                ..
            }))
        ),
        "{:?}",
        v.problem
    );
    // Later writes reuse seq 4; the checkpoint writer refuses to sign over the gap.
    note(&h, "after the attack").await;
    let refused = seal.checkpoint(h.store.as_ref(), &h.clock).await;
    assert!(
        matches!(
            refused,
            Err(SealError::Broken(SealBreak::Rewritten { n: 2, seq: 4, .. }))
        ),
        "{refused:?}"
    );
    let v = seal.verify(h.store.as_ref()).await.unwrap();
    assert!(
        matches!(
            v.problem,
            Some(Problem::Seal(SealBreak::Rewritten { seq: 4, .. }))
        ),
        "{:?}",
        v.problem
    );
}
