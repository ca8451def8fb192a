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
pub use jiuzhu_store::audit_export::{self, ExportFailure};
pub use jiuzhu_store::audit_seal::{AuditSeal, SealError, SealPaths, Verification};
use jiuzhu_store::{AuditQuery, Page};

use crate::{App, Result};

/// A checkpoint written after a verification or an export; `Ok(None)`: the newest checkpoint
/// already covers the log.
pub type Checkpointed = std::result::Result<Option<Checkpoint>, SealError>;

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

    /// Walks the whole chain against the signed checkpoints (the key opened by the caller).
    pub async fn verify_audit(
        &self,
        seal: &AuditSeal,
    ) -> std::result::Result<Verification, SealError> {
        seal.verify(self.store.as_ref()).await
    }

    /// Records an intact verification as `audit_verified` for the actor (the auditor finds its
    /// own checks in the log) and writes a checkpoint. A log that is not intact is reported,
    /// never recorded over: nothing is done for it.
    pub async fn record_audit_verified(
        &self,
        seal: &AuditSeal,
        actor: &Actor,
        v: &Verification,
    ) -> Result<Checkpointed> {
        if v.problem.is_some() {
            return Ok(Ok(None));
        }
        let newest = v.newest.as_ref().map_or_else(
            || "-".to_string(),
            |c| format!("#{}: seq {},北京时间 {}", c.n, c.seq, beijing_time(&c.at)),
        );
        let detail = format!(
            "{} events intact; newest checkpoint {newest}; {} events after it",
            v.events, v.window
        );
        self.append_audit(
            actor,
            AuditAction::AuditVerified,
            "audit",
            None,
            None,
            Some(&detail),
        )
        .await?;
        Ok(seal
            .checkpoint(self.store.as_ref(), self.clock.as_ref())
            .await)
    }

    /// Signs the chain head now and appends it to the checkpoint file.
    pub async fn audit_checkpoint(&self, seal: &AuditSeal) -> Checkpointed {
        seal.checkpoint(self.store.as_ref(), self.clock.as_ref())
            .await
    }

    /// Writes the period's events (masked copies, as stored) to `out`, a new file signed with
    /// SM2, after verifying the whole log. Nothing is recorded yet: the caller hands the file
    /// over, then records it ([`App::record_audit_export`]).
    pub async fn export_audit(
        &self,
        seal: &AuditSeal,
        (from, to): (NaiveDate, NaiveDate),
        out: &Path,
    ) -> std::result::Result<ExportHeader, ExportFailure> {
        audit_export::export(
            seal,
            self.store.as_ref(),
            self.clock.as_ref(),
            from,
            to,
            out,
        )
        .await
    }

    /// Records an export handed over as `audit_exported` for the actor, saying how the file left
    /// (`handed_over`: "downloaded as …", "to …"), and writes a checkpoint.
    pub async fn record_audit_export(
        &self,
        seal: &AuditSeal,
        actor: &Actor,
        header: &ExportHeader,
        handed_over: &str,
    ) -> Result<Checkpointed> {
        // Who took the log out, which part, and the file: an export is itself audited.
        let detail = format!(
            "{}..{}: seq {}..{} ({} events) {handed_over}",
            header.from, header.to, header.first_seq, header.last_seq, header.events
        );
        self.append_audit(
            actor,
            AuditAction::AuditExported,
            "audit",
            None,
            None,
            Some(&detail),
        )
        .await?;
        Ok(seal
            .checkpoint(self.store.as_ref(), self.clock.as_ref())
            .await)
    }

    /// Opens the signing key, creating the keys on a first start (`serve`, `demo`, the first
    /// checkpoint); `true` when they were created now, to be announced and then recorded
    /// ([`App::record_audit_keys_created`]).
    pub fn open_or_create_seal(
        &self,
        paths: &SealPaths,
    ) -> std::result::Result<(AuditSeal, bool), SealError> {
        AuditSeal::open_or_create(paths)
    }

    /// Records the creation of the keys with the key's fingerprint.
    pub async fn record_audit_keys_created(&self, seal: &AuditSeal, actor: &Actor) -> Result<()> {
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
        Ok(())
    }

    /// The newest event of the chain (a command checkpoints at its exit when it moved).
    pub async fn chain_head(&self) -> Result<ChainHead> {
        Ok(self.store.chain_head().await?)
    }
}
