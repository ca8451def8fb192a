//! Cases and their changes, the documents filed with them and the reserve fund they pay from.

use crate::*;

/// Cases (docs/cases.md): registration, transitions computed by the workflow, queues, notices and
/// filing.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Registers an application: the household must be in the clerk's scope and the applicant
    /// a current member of it. Allocates the case number (county-year-sequence), fixes the
    /// responsible division (the household's) and the filing one (the clerk's node), writes the
    /// state, open steps and timeline, and a `case_registered` audit event, in one transaction.
    /// A 低保 application of someone who already receives 低保 anywhere, or a second open
    /// case of the same workflow for the household, is `Invalid`.
    async fn register_case(
        &self,
        g: &Grant<jiuzhu_domain::access::RegisterApplication>,
        new: &NewCase,
    ) -> Result<CaseRecord>;

    /// A case whose responsible or filing division is in scope.
    async fn get_case(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        id: CaseId,
    ) -> Result<Option<CaseRecord>>;

    async fn case_events(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        id: CaseId,
    ) -> Result<Vec<CaseEvent>>;

    async fn case_decisions(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        id: CaseId,
    ) -> Result<Vec<CaseDecision>>;

    /// Cases in scope, newest first.
    async fn list_cases(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        q: &CaseQuery,
    ) -> Result<Page<CaseSummary>>;

    /// Applies one transition computed by the workflow: `Conflict` (kind `case`) unless the
    /// stored revision is `expected_revision`; else state, open steps, timeline, decision and
    /// the audit event are written in one transaction.
    async fn transition_case(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        id: CaseId,
        expected_revision: i64,
        t: &CaseTransition,
    ) -> Result<CaseRecord>;

    /// The user's queue: open steps in scope that the grant's role may act on at `q.level`, and
    /// the overdue steps of `q.below_level` (escalated), by due date.
    async fn task_queue(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        q: &TaskQuery,
    ) -> Result<Vec<TaskRow>>;

    /// R-PR-6 (人户分离): whether the person currently receives the program of `workflow`
    /// anywhere in the system, as the county code of that case — deliberately nothing else of the other county's data, and
    /// deliberately not scoped, since the point is to look beyond the clerk's jurisdiction.
    async fn receives_anywhere(
        &self,
        g: &Grant<jiuzhu_domain::access::RegisterApplication>,
        person: PersonId,
        workflow: &str,
    ) -> Result<Option<String>>;

    /// Cases in scope whose notice step (公示) is open, under `division` if given, by village
    /// and posting day. Protected cases never have one (the workflow skips it).
    async fn notice_list(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        division: Option<&DivisionCode>,
    ) -> Result<Vec<NoticeEntry>>;

    /// Which roles read which workflows' protected cases, from the workflow files: every case
    /// read from then on applies it. Until it is given, protected cases are read by auditors
    /// only.
    fn use_protected_readers(&self, readers: ProtectedReaders);

    /// Approved cases in scope whose workflow files them with the county (an open or completed
    /// `filing` step), with the filing due date or when and by whom they were filed.
    async fn filing_list(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
    ) -> Result<Vec<FilingEntry>>;

    /// Sets the decision-letter prefix of a county (e.g. 环民救 gives 环民救〔2026〕12号); the
    /// county must be in scope. Audited as `letter_prefix_set`.
    async fn set_letter_prefix(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageDivisions>,
        county: &DivisionCode,
        prefix: &str,
    ) -> Result<()>;
}

/// Changes of approved cases (调整/暂停/恢复/停止) and the benefits they leave running.
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// Opens a change (调整/暂停/恢复/停止) on an approved case in scope: checks that the parent
    /// is approved and of the workflow the opening was computed for, that the benefit status
    /// allows the change and no change is open, and writes the case as the application started
    /// it, its change row and a `case_change_opened` audit event in one transaction
    /// (docs/cases.md).
    async fn open_change_case(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        new: &NewChange,
    ) -> Result<CaseRecord>;

    /// The household's approved case whose benefit runs (the newest, not itself a change): the
    /// case a warning's closure with adjust/suspend/stop changes.
    async fn running_case(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        household: HouseholdId,
    ) -> Result<Option<CaseRecord>>;

    /// The change a case is (None for other cases), with what it decided.
    async fn case_change(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        case_id: CaseId,
    ) -> Result<Option<ChangeRecord>>;

    /// The changes of an approved case, oldest first.
    async fn case_changes(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        parent_case_id: CaseId,
    ) -> Result<Vec<ChangeRecord>>;

    /// The benefit status (active/suspended/ended, amount, months) of an approved case.
    async fn benefit_status(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        case_id: CaseId,
    ) -> Result<Option<BenefitStatus>>;

    /// The benefit statuses of a household's approved cases.
    async fn household_benefits(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        household_id: HouseholdId,
    ) -> Result<Vec<BenefitStatus>>;
}

/// One person, one file (一人一档, docs/documents.md).
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Records a document whose file is already stored: the owner (person, household or case)
    /// must be in scope (else `NotFound`); the document takes the owner's division. Audited as
    /// `document_uploaded` (no file name in the log).
    async fn add_document(&self, g: &Grant<WriteRegistry>, new: &NewDocument) -> Result<Document>;

    /// Documents in scope, newest first; of one owner when `q.owner` is set.
    async fn list_documents(
        &self,
        g: &Grant<ReadRegistry>,
        q: &DocumentQuery,
    ) -> Result<Page<Document>>;

    /// A document in scope (withdrawn ones too), for its metadata and non-sensitive content.
    async fn get_document(
        &self,
        g: &Grant<ReadRegistry>,
        id: DocumentId,
    ) -> Result<Option<Document>>;

    /// A document for viewing its (sensitive) content, recording the access as
    /// `sensitive_revealed` in the same transaction.
    async fn reveal_document(&self, g: &Grant<RevealSensitive>, id: DocumentId)
        -> Result<Document>;

    /// Marks a document withdrawn (a new row: who, when, why); the document and its file stay.
    async fn withdraw_document(
        &self,
        g: &Grant<WriteRegistry>,
        id: DocumentId,
        reason: &str,
    ) -> Result<Document>;
}

/// The township reserve fund (备用金, R-LS-4).
#[async_trait]
pub trait ReserveFundStore: Send + Sync {
    /// Every township in scope with its balance (0 when it has no ledger yet).
    async fn reserve_funds(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
    ) -> Result<Vec<ReserveFund>>;

    /// A township's ledger, newest first; `NotFound` outside the scope.
    async fn reserve_fund_entries(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        township: &DivisionCode,
        limit: i64,
    ) -> Result<Vec<ReserveEntry>>;

    /// Appends a ledger entry with the balance after it, under the write lock (so concurrent
    /// withdrawals are applied one after the other). A withdrawal over the balance is `Invalid`
    /// (`RESERVE_INSUFFICIENT`); a case named must be a 临时救助 case of the same township.
    async fn record_reserve_entry(
        &self,
        g: &Grant<jiuzhu_domain::access::ManageReserveFund>,
        new: &NewReserveEntry,
    ) -> Result<ReserveEntry>;
}
