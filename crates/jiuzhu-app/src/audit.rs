//! The audit log: read by the audit administrator, verified against its signed checkpoints and
//! exported signed (the same for the page, the API and `jiuzhu audit`), appended to by the
//! use-cases that record an access without changing anything (a lookup by identity number).

use std::path::Path;

use chrono::NaiveDate;
use jiuzhu_domain::access::ReadAudit;
use jiuzhu_domain::audit::beijing_time;
use jiuzhu_domain::audit_export::ExportHeader;
use jiuzhu_domain::audit_seal::Checkpoint;
use jiuzhu_domain::{Actor, AuditAction, AuditRecord, ChainHead, DivisionCode, Grant};
use jiuzhu_store::audit_export::{self, ExportFailure};
pub use jiuzhu_store::audit_seal::{AuditSeal, SealError, SealPaths, Verification};
use jiuzhu_store::{AuditQuery, Page};

use crate::{App, Error, Result};

/// Why the log could not be verified or exported.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The key or the checkpoint file could not be used, or the database not read.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The export was refused (a log that does not verify, an empty or reversed period, an
    /// existing file).
    #[error(transparent)]
    Export(#[from] ExportFailure),
    /// Recording the verification or the export failed.
    #[error(transparent)]
    App(#[from] Error),
}

/// A verification, and the checkpoint written after it when the log is intact.
pub struct Verified {
    pub verification: Verification,
    /// `Ok(None)`: the newest checkpoint already covers the log.
    pub checkpoint: std::result::Result<Option<Checkpoint>, SealError>,
}

/// An export, and the checkpoint written after it.
pub struct Exported {
    pub header: ExportHeader,
    pub checkpoint: std::result::Result<Option<Checkpoint>, SealError>,
}

impl App {
    /// Events about records in the auditor's scope, newest first. A national auditor also sees
    /// events with no division (logins, user administration of national users).
    pub async fn audit_log(
        &self,
        g: &Grant<ReadAudit>,
        q: &AuditQuery,
    ) -> Result<Page<AuditRecord>> {
        Ok(self.store.audit_log(g, q).await?)
    }

    /// Appends an event that is not part of another write (e.g. a lookup by identity number).
    pub async fn append_audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        record_kind: &str,
        record_id: Option<&str>,
        division: Option<&DivisionCode>,
        detail: Option<&str>,
    ) -> Result<AuditRecord> {
        Ok(self
            .store
            .append_audit(actor, action, record_kind, record_id, division, detail)
            .await?)
    }

    /// Walks the whole chain against the signed checkpoints. When it is intact, records
    /// `audit_verified` for the actor (at the actor's own node, where it finds its checks) and
    /// writes a checkpoint; a log that is not intact is reported, never recorded over.
    pub async fn verify_audit(
        &self,
        seal: &AuditSeal,
        actor: &Actor,
    ) -> std::result::Result<Verified, AuditError> {
        let verification = seal.verify(self.store.as_ref()).await?;
        if verification.problem.is_some() {
            return Ok(Verified {
                verification,
                checkpoint: Ok(None),
            });
        }
        let newest = verification.newest.as_ref().map_or_else(
            || "-".to_string(),
            |c| format!("#{}: seq {},北京时间 {}", c.n, c.seq, beijing_time(&c.at)),
        );
        let detail = format!(
            "{} events intact; newest checkpoint {newest}; {} events after it",
            verification.events, verification.window
        );
        self.append_audit(
            actor,
            AuditAction::AuditVerified,
            "audit",
            None,
            Some(actor.scope.root()),
            Some(&detail),
        )
        .await?;
        let checkpoint = seal
            .checkpoint(self.store.as_ref(), self.clock.as_ref())
            .await;
        Ok(Verified {
            verification,
            checkpoint,
        })
    }

    /// Signs the chain head now and appends it to the checkpoint file.
    pub async fn audit_checkpoint(
        &self,
        seal: &AuditSeal,
    ) -> std::result::Result<Option<Checkpoint>, SealError> {
        seal.checkpoint(self.store.as_ref(), self.clock.as_ref())
            .await
    }

    /// Writes the period's events (masked copies, as stored) to `out`, a new file signed with
    /// SM2, after verifying the whole log; records `audit_exported` for the actor, saying how the
    /// file left (`handed_over`: "downloaded as …", "to …"), and writes a checkpoint.
    pub async fn export_audit(
        &self,
        seal: &AuditSeal,
        actor: &Actor,
        (from, to): (NaiveDate, NaiveDate),
        out: &Path,
        handed_over: &str,
    ) -> std::result::Result<Exported, AuditError> {
        let header = audit_export::export(
            seal,
            self.store.as_ref(),
            self.clock.as_ref(),
            from,
            to,
            out,
        )
        .await?;
        // Who took the log out, which part, and the file: an export is itself audited.
        let detail = format!(
            "{from}..{to}: seq {}..{} ({} events) {handed_over}",
            header.first_seq, header.last_seq, header.events
        );
        self.append_audit(
            actor,
            AuditAction::AuditExported,
            "audit",
            None,
            Some(actor.scope.root()),
            Some(&detail),
        )
        .await?;
        let checkpoint = seal
            .checkpoint(self.store.as_ref(), self.clock.as_ref())
            .await;
        Ok(Exported { header, checkpoint })
    }

    /// Opens the signing key, creating the keys on a first start (`serve`, `demo`, the first
    /// checkpoint): their creation is recorded in the audit log with the key's fingerprint.
    /// `true` when they were created now.
    pub async fn open_or_create_seal(
        &self,
        paths: &SealPaths,
        actor: &Actor,
    ) -> std::result::Result<(AuditSeal, bool), AuditError> {
        let (seal, created) = AuditSeal::open_or_create(paths)?;
        if created {
            let detail = format!("SM2 key fingerprint {}", seal.public().fingerprint());
            self.append_audit(
                actor,
                AuditAction::AuditKeysCreated,
                "audit",
                None,
                None,
                Some(&detail),
            )
            .await?;
        }
        Ok((seal, created))
    }

    /// The newest event of the chain (a command checkpoints at its exit when it moved).
    pub async fn chain_head(&self) -> Result<ChainHead> {
        Ok(self.store.chain_head().await?)
    }
}
