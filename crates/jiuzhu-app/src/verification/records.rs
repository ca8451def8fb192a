//! Sources, deliveries, runs, leads, reports and warnings, read and changed one at a time in the
//! grant's scope (the month's run and a warning's closure are use-cases of their own).

use chrono::NaiveDate;

use jiuzhu_domain::access::RevealSensitive;
use jiuzhu_domain::{DivisionCode, Grant};
use jiuzhu_store::{
    Dashboard, DeliveryReader, FeedDelivery, FeedSource, FeedSourceChange, InboxQuery, LeadQuery,
    LeadRecord, NewFeedSource, NewZeroReport, Page, Rejection, RunSummary, SourceAccount,
    SourceLatest, WarningRecord, ZeroReport, ZeroReportStatus,
};

use jiuzhu_store::verification_reports;

use crate::{App, Result};

impl App {
    /// The registered data providers a reader reads: a department officer those it delivers
    /// for, a reader of the comparison every one serving its jurisdiction (retired ones too).
    pub async fn feed_sources(&self, r: &DeliveryReader) -> Result<Vec<FeedSource>> {
        Ok(self.store.feed_sources(r).await?)
    }

    /// The active department officers a source of the grant's jurisdiction may be bound to
    /// (those working in it, or above it), by name.
    pub async fn source_account_candidates(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageFeedSources>,
    ) -> Result<Vec<SourceAccount>> {
        Ok(self.store.source_account_candidates(g).await?)
    }

    /// Registers a data provider of a kind, with the accounts that deliver for it, and a
    /// `feed_source_changed` audit event. Every field's problem at once (`Invalid`): unknown
    /// kind, bad or taken code (`SOURCE_CODE_TAKEN`), empty name, division out of scope, an
    /// account that cannot deliver.
    pub async fn register_feed_source(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageFeedSources>,
        new: &NewFeedSource,
    ) -> Result<FeedSource> {
        Ok(self.store.register_feed_source(g, new).await?)
    }

    /// Renames a source, replaces its accounts or retires it (`Conflict` when it changed since
    /// it was read).
    pub async fn change_feed_source(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageFeedSources>,
        id: i64,
        change: &FeedSourceChange,
    ) -> Result<FeedSource> {
        Ok(self.store.change_feed_source(g, id, change).await?)
    }

    /// One delivery the reader reads (as for [`DeliveryStore::list_deliveries`]).
    pub async fn get_delivery(&self, r: &DeliveryReader, id: i64) -> Result<Option<FeedDelivery>> {
        Ok(self.store.get_delivery(r, id).await?)
    }

    /// Deliveries the reader reads ([`DeliveryReader`]), newest first.
    pub async fn list_deliveries(
        &self,
        r: &DeliveryReader,
        kind: Option<&str>,
        limit: i64,
    ) -> Result<Vec<FeedDelivery>> {
        Ok(self.store.list_deliveries(r, kind, limit).await?)
    }

    /// A delivery's stored rejected rows (empty when the reader does not read the delivery).
    pub async fn delivery_rejections(
        &self,
        r: &DeliveryReader,
        delivery: i64,
    ) -> Result<Vec<Rejection>> {
        Ok(self.store.delivery_rejections(r, delivery).await?)
    }

    /// The names of accounts by username, for pages that say who delivered or ran something
    /// (people see names, not account codes); unknown usernames are left out.
    pub async fn display_names(
        &self,
        usernames: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        Ok(self.store.display_names(usernames).await?)
    }

    /// Runs whose division lies in scope, newest first, each with its warnings by township and
    /// its outreach leads counted within the reader's scope.
    pub async fn list_runs(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        limit: i64,
    ) -> Result<Vec<RunSummary>> {
        Ok(self.store.list_runs(g, limit).await?)
    }

    /// Leads in scope, biggest out-of-pocket cost first.
    pub async fn list_outreach_leads(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        q: &LeadQuery,
    ) -> Result<Page<LeadRecord>> {
        Ok(self.store.list_outreach_leads(g, q).await?)
    }

    /// Records that a lead was followed up (append-only, once: a second time is `Conflict`),
    /// audited as `outreach_lead_handled`.
    pub async fn handle_outreach_lead(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        id: i64,
        note: &str,
    ) -> Result<LeadRecord> {
        Ok(self.store.handle_outreach_lead(g, id, note).await?)
    }

    /// The same sources for a case's verification report (核对报告), read by whoever acts on
    /// the case's verification step.
    pub async fn deliveries_for_report(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        region: &DivisionCode,
        up_to: NaiveDate,
    ) -> Result<Vec<SourceLatest>> {
        Ok(self.store.deliveries_for_report(g, region, up_to).await?)
    }

    /// A case's verification reports, newest first (empty when the case is out of scope).
    pub async fn verification_reports(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        case_id: i64,
    ) -> Result<Vec<verification_reports::VerificationReportRecord>> {
        Ok(self.store.verification_reports(g, case_id).await?)
    }

    /// Keeps a case's verification report (append-only) with the SHA-256 of its JSON and a
    /// `verification_report_generated` audit event, in one transaction. The case must be in
    /// scope (else `NotFound`).
    pub async fn record_verification_report(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        new: &verification_reports::NewVerificationReport,
    ) -> Result<verification_reports::VerificationReportRecord> {
        Ok(self.store.record_verification_report(g, new).await?)
    }

    /// One report of a case for showing its bank and health findings (which readers see
    /// masked), recording the access as `sensitive_revealed` in the same transaction;
    /// `NotFound` when the case is not one the actor reads.
    pub async fn reveal_verification_report(
        &self,
        g: &Grant<RevealSensitive>,
        case_id: i64,
        report_id: i64,
    ) -> Result<verification_reports::VerificationReportRecord> {
        Ok(self
            .store
            .reveal_verification_report(g, case_id, report_id)
            .await?)
    }
    /// A warning in scope, its sensitive evidence masked.
    pub async fn get_warning(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        id: i64,
    ) -> Result<Option<WarningRecord>> {
        Ok(self.store.get_warning(g, id).await?)
    }

    /// A warning in scope with its evidence unmasked, recording the access as
    /// `sensitive_revealed` in the same transaction.
    pub async fn reveal_warning(
        &self,
        g: &Grant<RevealSensitive>,
        id: i64,
    ) -> Result<WarningRecord> {
        Ok(self.store.reveal_warning(g, id).await?)
    }

    /// The township inbox: warnings in scope filtered by month, kind, status (overdue judged on
    /// `q.today`), division and household, by due date.
    pub async fn warning_inbox(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        q: &InboxQuery,
    ) -> Result<Page<WarningRecord>> {
        Ok(self.store.warning_inbox(g, q).await?)
    }

    /// The month's warnings in scope by kind × township (total, open, overdue on `today`,
    /// closed on time / late), closures by result, and zero-report coverage.
    pub async fn verification_dashboard(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        month: &str,
        today: NaiveDate,
    ) -> Result<Dashboard> {
        Ok(self.store.verification_dashboard(g, month, today).await?)
    }

    /// Files a village's zero report for a month (append-only, audited as `zero_report_filed`):
    /// refused while any of the month's warnings under it is open, and when one is filed
    /// already.
    pub async fn file_zero_report(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        report: &NewZeroReport,
    ) -> Result<ZeroReport> {
        Ok(self.store.file_zero_report(g, report).await?)
    }

    /// Every village or community in scope (and under `under`) with the month's warning counts
    /// and its zero report, if filed.
    pub async fn zero_report_status(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadVerification>,
        month: &str,
        under: Option<&DivisionCode>,
    ) -> Result<Vec<ZeroReportStatus>> {
        Ok(self.store.zero_report_status(g, month, under).await?)
    }
}
