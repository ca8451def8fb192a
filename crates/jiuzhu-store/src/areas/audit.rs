//! The audit log.

use crate::*;

/// The audit log: an SM3 hash chain appended to in the transaction of each change.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Events about records in the auditor's scope, newest first. A national auditor also sees
    /// events with no division (logins, user administration of national users).
    async fn audit_log(&self, g: &Grant<ReadAudit>, q: &AuditQuery) -> Result<Page<AuditRecord>>;

    /// Raw events in sequence order after `after_seq`, for chain verification.
    async fn audit_page(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRecord>>;

    /// The newest event's seq and hash as `audit_events` holds them (seq 0 and the genesis hash
    /// when it is empty): what an audit checkpoint signs. Not the writers' `audit_head` row,
    /// which only says where the next event goes.
    async fn chain_head(&self) -> Result<jiuzhu_domain::ChainHead>;

    /// Appends an event that is not part of another write (e.g. a verification run).
    async fn append_audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        record_kind: &str,
        record_id: Option<&str>,
        division: Option<&DivisionCode>,
        detail: Option<&str>,
    ) -> Result<AuditRecord>;
}
