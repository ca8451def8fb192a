//! Sources, deliveries, runs, warnings and what handlers do with them (docs/feeds.md).

use crate::*;

/// Departments' deliveries, the caseload compared with them and the month's runs (docs/feeds.md).
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Records a delivery and its first rejected rows (immutable from then on) with a
    /// `feed_delivered` audit event, in one transaction. Its source must be registered for its
    /// kind, in service and one the actor delivers for (`SOURCE_UNREGISTERED`, `SOURCE_RETIRED`,
    /// `SOURCE_NOT_YOURS`).
    async fn record_delivery(
        &self,
        g: &Grant<jiuzhu_domain::access::ImportFeeds>,
        d: &NewDelivery,
    ) -> Result<(FeedDelivery, Vec<Rejection>)>;

    /// Deliveries the reader reads ([`DeliveryReader`]), newest first.
    async fn list_deliveries(
        &self,
        r: &DeliveryReader,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<FeedDelivery>>;

    /// A delivery's stored rejected rows (empty when the reader does not read the delivery).
    async fn delivery_rejections(
        &self,
        r: &DeliveryReader,
        delivery: i64,
    ) -> Result<Vec<Rejection>>;

    /// Every registered source in service that serves `region` (kept at it, above or below
    /// it), with its latest accepted delivery whose data date is on or before `up_to`; which of
    /// them a run uses is the policy's window (`feeds::plan_sources`). `OutOfScope` for a
    /// region outside the grant.
    async fn deliveries_for_run(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        region: &DivisionCode,
        up_to: NaiveDate,
    ) -> Result<Vec<SourceLatest>>;

    /// The same sources for a case's verification report (核对报告), read by whoever acts on
    /// the case's verification step.
    async fn deliveries_for_report(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        region: &DivisionCode,
        up_to: NaiveDate,
    ) -> Result<Vec<SourceLatest>>;

    /// One delivery the reader reads (as for [`DeliveryStore::list_deliveries`]).
    async fn get_delivery(&self, r: &DeliveryReader, id: i64) -> Result<Option<FeedDelivery>>;

    /// Streams every household in scope (and under `division`) with the identity numbers of
    /// its members active on `date`, in household order, with one set-based query: what the
    /// comparison's caseload index is built from.
    async fn caseload_for_verification(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        division: Option<&DivisionCode>,
        date: NaiveDate,
        on_row: &mut (dyn FnMut(CaseloadHouseholdRow) -> Result<()> + Send),
    ) -> Result<()>;

    /// The sequence number of the newest audit event that changed the registry (persons,
    /// households, memberships, imports): a caseload snapshot taken at it is still current.
    async fn registry_seq(&self) -> Result<i64>;

    /// The earliest day from which a current member of a household under `division` (or the
    /// grant's jurisdiction) is registered: why a month before it compares no one.
    async fn first_registered_day(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        division: Option<&DivisionCode>,
    ) -> Result<Option<NaiveDate>>;

    /// The stored caseload snapshot for `key` (scope and division) on `as_of`, with the
    /// registry_seq it was taken at.
    async fn caseload_snapshot(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        key: &str,
        as_of: NaiveDate,
    ) -> Result<Option<(i64, Vec<u8>)>>;

    /// Replaces the snapshot for `key` on `as_of` (derived data: not audited).
    async fn save_caseload_snapshot(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        key: &str,
        as_of: NaiveDate,
        registry_seq: i64,
        counts: (i64, i64),
        data: &[u8],
    ) -> Result<()>;

    /// Stores a run and all its warnings (open, due `run.due`) with one
    /// `verification_run` audit event, in one transaction.
    async fn store_run(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        run: &NewRun,
        warnings: &[NewWarning],
    ) -> Result<VerificationRun>;

    /// [`DeliveryStore::store_run`] written while the run is still reading: the run's transaction
    /// opens at once, and each [`RunPart`] is written as it arrives (new deliveries with their
    /// rejected rows and `feed_delivered` events, then the warnings citing them), so the
    /// database works while the deliveries are read. Commits on [`RunPart::Finish`]; if the
    /// sender is dropped before it, nothing of the run is kept (`StoreError::Database`).
    async fn store_run_streamed(
        &self,
        g_run: &Grant<jiuzhu_domain::access::RunVerification>,
        g_import: Option<&Grant<jiuzhu_domain::access::ImportFeeds>>,
        run: &RunStart,
        parts: tokio::sync::mpsc::Receiver<RunPart>,
    ) -> Result<VerificationRun>;

    /// A run whose division lies in scope.
    async fn get_run(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        id: i64,
    ) -> Result<Option<VerificationRun>>;
}

/// The warnings a run found, read in scope and closed with what was found.
#[async_trait]
pub trait WarningStore: Send + Sync {
    /// Warnings of households in scope, by due date; evidence values that are bank or health
    /// data masked ([`warning_handling::mask_evidence`]).
    async fn list_warnings(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        q: &WarningQuery,
    ) -> Result<Page<WarningRecord>>;

    /// A warning in scope, its sensitive evidence masked.
    async fn get_warning(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        id: i64,
    ) -> Result<Option<WarningRecord>>;

    /// A warning in scope with its evidence unmasked, recording the access as
    /// `sensitive_revealed` in the same transaction.
    async fn reveal_warning(&self, g: &Grant<RevealSensitive>, id: i64) -> Result<WarningRecord>;

    /// Closes (销号) an open warning with a result that changes no benefit (核实无影响, 转办) and
    /// its note: `Conflict` unless `expected_version` is its `row_version` and it is still open;
    /// audited as `warning_closed`. A result that changes the benefit also opens its change:
    /// that closure is the application's, on a [`WriteUnit`] (`Invalid` here).
    async fn close_warning(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        id: i64,
        expected_version: i64,
        close: &CloseWarning,
    ) -> Result<WarningRecord>;
}

/// The handlers' inbox, the zero reports (零报告) and the dashboard of warnings.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// The township inbox: warnings in scope filtered by month, kind, status (overdue judged on
    /// `q.today`), division and household, by due date.
    async fn warning_inbox(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        q: &InboxQuery,
    ) -> Result<Page<WarningRecord>>;

    /// Files a village's zero report for a month (append-only, audited as `zero_report_filed`):
    /// refused while any of the month's warnings under it is open, and when one is filed
    /// already.
    async fn file_zero_report(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        report: &NewZeroReport,
    ) -> Result<ZeroReport>;

    /// Every village or community in scope (and under `under`) with the month's warning counts
    /// and its zero report, if filed.
    async fn zero_report_status(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        month: &str,
        under: Option<&DivisionCode>,
    ) -> Result<Vec<ZeroReportStatus>>;

    /// The month's warnings in scope by kind × township (total, open, overdue on `today`,
    /// closed on time / late), closures by result, and zero-report coverage.
    async fn verification_dashboard(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        month: &str,
        today: NaiveDate,
    ) -> Result<Dashboard>;
}

/// The registered data providers (数据来源) and their accounts.
#[async_trait]
pub trait FeedSourceStore: Send + Sync {
    /// The registered data providers a reader reads: a department officer those it delivers
    /// for, a reader of the comparison every one serving its jurisdiction (retired ones too).
    async fn feed_sources(&self, r: &DeliveryReader) -> Result<Vec<FeedSource>>;

    /// Registers a data provider of a kind, with the accounts that deliver for it, and a
    /// `feed_source_changed` audit event. Every field's problem at once (`Invalid`): unknown
    /// kind, bad or taken code (`SOURCE_CODE_TAKEN`), empty name, division out of scope, an
    /// account that cannot deliver.
    async fn register_feed_source(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageFeedSources>,
        new: &NewFeedSource,
    ) -> Result<FeedSource>;

    /// Renames a source, replaces its accounts or retires it (`Conflict` when it changed since
    /// it was read).
    async fn change_feed_source(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageFeedSources>,
        id: i64,
        change: &FeedSourceChange,
    ) -> Result<FeedSource>;

    /// The active department officers a source of the grant's jurisdiction may be bound to
    /// (those working in it, or above it), by name.
    async fn source_account_candidates(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageFeedSources>,
    ) -> Result<Vec<SourceAccount>>;
}

/// Verification reports (核对报告) kept for a case.
#[async_trait]
pub trait VerificationReportStore: Send + Sync {
    /// Keeps a case's verification report (append-only) with the SHA-256 of its JSON and a
    /// `verification_report_generated` audit event, in one transaction. The case must be in
    /// scope (else `NotFound`).
    async fn record_verification_report(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        new: &verification_reports::NewVerificationReport,
    ) -> Result<verification_reports::VerificationReportRecord>;

    /// One report of a case for showing its bank and health findings (which readers see
    /// masked), recording the access as `sensitive_revealed` in the same transaction;
    /// `NotFound` when the case is not one the actor reads.
    async fn reveal_verification_report(
        &self,
        g: &Grant<RevealSensitive>,
        case_id: i64,
        report_id: i64,
    ) -> Result<verification_reports::VerificationReportRecord>;

    /// A case's verification reports, newest first (empty when the case is out of scope).
    async fn verification_reports(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        case_id: i64,
    ) -> Result<Vec<verification_reports::VerificationReportRecord>>;
}

/// Runs as listed, and the outreach leads (主动发现) a run finds.
#[async_trait]
pub trait OutreachStore: Send + Sync {
    /// Runs whose division lies in scope, newest first, each with its warnings by township and
    /// its outreach leads counted within the reader's scope.
    async fn list_runs(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        limit: i64,
    ) -> Result<Vec<RunSummary>>;

    /// Stores a run's outreach leads (政策找人, R-LI-4), each under the registered person's
    /// residence division when the identity number is registered in scope, else under the
    /// run's division, with masked numbers only; one `outreach_leads_stored` audit event, in
    /// one transaction. Leads are append-only.
    async fn store_outreach_leads(
        &self,
        g: &Grant<jiuzhu_domain::access::RunVerification>,
        run: &LeadRun,
        leads: &[NewLead],
    ) -> Result<u64>;

    /// Leads in scope, biggest out-of-pocket cost first.
    async fn list_outreach_leads(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        q: &LeadQuery,
    ) -> Result<Page<LeadRecord>>;

    /// Records that a lead was followed up (append-only, once: a second time is `Conflict`),
    /// audited as `outreach_lead_handled`.
    async fn handle_outreach_lead(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        id: i64,
        note: &str,
    ) -> Result<LeadRecord>;
}
