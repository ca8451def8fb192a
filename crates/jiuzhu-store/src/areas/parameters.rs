//! Dated policy parameters and the working-day calendar.

use crate::*;

/// Dated policy parameters (政策参数) and where the parameters stand.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Appends a dated parameter value for `rev.region` (in the admin's scope, else
    /// `OutOfScope`), with a `policy_revised` audit event in the same transaction. Fails with
    /// `Conflict` (kind `policy_region`) unless `expected_latest` is the seq of the newest
    /// revision of that region (0 when it has none), so two administrators editing one region
    /// never overwrite each other silently.
    async fn record_policy_revision(
        &self,
        g: &Grant<jiuzhu_domain::access::ManagePolicies>,
        expected_latest: i64,
        rev: &NewPolicyRevision,
    ) -> Result<PolicyRevision>;

    /// Takes back the `set` revision `seq`, which must not be in force yet (effective after the
    /// store clock's today) nor withdrawn already; concurrency as for `record_policy_revision`,
    /// on the revision's region. Audited as `policy_revision_withdrawn`.
    async fn withdraw_policy_revision(
        &self,
        g: &Grant<jiuzhu_domain::access::ManagePolicies>,
        expected_latest: i64,
        seq: i64,
        reason: &str,
    ) -> Result<PolicyRevision>;

    /// Revisions in seq order, of one region or all. Policies are public within the service
    /// (a township's calculation uses its city's values), so no jurisdiction filter applies.
    async fn policy_revisions(
        &self,
        g: &Grant<ReadRegistry>,
        region: Option<&DivisionCode>,
    ) -> Result<Vec<PolicyRevision>>;

    /// The seq of the newest policy revision and of the newest calendar edit (0 when none): both
    /// tables only grow, so a process that built its parameters at these seqs knows, with this
    /// one query, whether another process (a second server, the command line) has changed them.
    async fn parameter_seqs(&self) -> Result<ParameterSeqs>;
}

/// Edits of the working-day calendar (调休).
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// Appends an overlay to the working-day calendar, with a `calendar_edited` audit event in
    /// the same transaction. The caller has checked that the calendar loads with it; so that the
    /// check stays true, it fails with `Conflict` (kind `calendar`) unless `expected_latest` is
    /// the seq of the newest edit (0 when there is none).
    async fn record_calendar_edit(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageCalendar>,
        expected_latest: i64,
        edit: &NewCalendarEdit,
    ) -> Result<CalendarEdit>;

    /// Every calendar edit in seq order (the calendar is public within the service).
    async fn calendar_edits(&self, g: &Grant<ReadRegistry>) -> Result<Vec<CalendarEdit>>;
}
