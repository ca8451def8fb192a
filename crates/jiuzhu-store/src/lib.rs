//! Persistence behind one trait.
//!
//! [`Store`] is the only way the rest of jiuzhu reads or writes data. Every method that touches
//! registry data takes a [`Grant`], so the role check has happened, and applies the grant's
//! jurisdiction scope in its SQL, so an actor never sees or changes anything outside its subtree.
//! Every write appends its audit event in the same transaction as the change.
//!
//! Two backends implement it: SQLite (embedded, the default for a county) and PostgreSQL (for a
//! province). Both pass the same [`conformance`] suite.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use jiuzhu_domain::access::{
    AssignRoles, ImportCaseload, ManageDivisions, ManageUsers, ReadAudit, ReadRegistry, ReadUsers,
    RevealSensitive, WriteRegistry,
};
pub use jiuzhu_domain::caseload::{CaseloadBatch, ImportHousehold, ImportMember, ImportSummary};
use jiuzhu_domain::{
    AccessDenied, Actor, Area, AuditAction, AuditRecord, Department, Division, DivisionCode, Grant,
    Household, HouseholdFacts, HouseholdId, IdNumber, Member, Membership, MembershipId, NewUser,
    Person, PersonFacts, PersonId, Relation, Role, Session, User, UserId, ValidationErrors,
    Version,
};

pub mod audit_export;
pub mod audit_seal;
pub mod calendar;
pub mod cases;
pub mod changes;
pub mod conformance;
pub mod data_key;
pub mod document_files;
pub mod documents;
pub mod feed_sources;
pub mod kept;
mod month;
pub mod outreach;
pub mod private_fs;
mod sql;
pub mod test_db;
pub mod verification;
pub mod verification_reports;
pub mod warning_handling;

pub use calendar::{CalendarEdit, CalendarEditKind, NewCalendarEdit};
pub use cases::{
    CaseDecision, CaseEvent, CaseFlags, CaseId, CaseOpening, CaseQuery, CaseRecord, CaseSummary,
    CaseTransition, FilingEntry, NewCase, NewCaseEvent, NewDecision, NoticeEntry, OpenStepRow,
    ProtectedReaders, TaskQuery, TaskRow,
};
pub use changes::{BenefitStatus, ChangeKind, ChangeOutcome, ChangeRecord, NewChange, StopReason};
pub use documents::{
    Document, DocumentId, DocumentQuery, NewDocument, NewReserveEntry, OwnerKind, ReserveEntry,
    ReserveEntryKind, ReserveFund,
};
pub use month::{CaseloadEntry, ImportEconomics};
pub use outreach::{LeadQuery, LeadRecord, LeadRun, NewLead, RunSummary};

pub use jiuzhu_domain::policy_revision::{NewPolicyRevision, PolicyRevision, RevisionKind};

pub use feed_sources::{FeedSource, FeedSourceChange, NewFeedSource, SourceAccount, SourceLatest};
pub use sql::{connect, connect_with_key_file, AtRestCounts, Backend, KeyFileOpened, SqlStore};
pub use verification::warning_facts;
pub use verification::{
    CaseloadHouseholdRow, CloseWarning, ClosureChange, DeliveryReader, FeedDelivery, FoundFact,
    NewDelivery, NewRun, NewWarning, Rejection, RunCarried, RunPart, RunStart, SourceStatus,
    SourceUse, StillOpen, VerificationRun, WarningQuery, WarningRecord, WarningResult,
};
pub use warning_handling::{
    Dashboard, DashboardCell, InboxQuery, InboxStatus, NewZeroReport, ZeroReport, ZeroReportKind,
    ZeroReportStatus,
};

/// Where the parameters stand: see [`Store::parameter_seqs`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParameterSeqs {
    pub policy: i64,
    pub calendar: i64,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or lies outside the actor's jurisdiction (the two are not
    /// distinguished, so that a probe learns nothing about other townships).
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    /// Someone else changed the record since it was read (optimistic concurrency).
    #[error(
        "{kind} {id} was changed by someone else (expected version {expected}, found {actual})"
    )]
    Conflict {
        kind: &'static str,
        id: String,
        expected: i64,
        actual: i64,
    },
    /// A unique value is already taken (identity number, username, household code).
    #[error("{field} {value} already exists")]
    Duplicate { field: &'static str, value: String },
    /// The write would place a record outside the actor's jurisdiction.
    #[error("division {0} is outside the actor's jurisdiction")]
    OutOfScope(String),
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The role allows the kind of change, but not on this record: separation of duties (an
    /// account approving itself, an administrator's role changed, the last security
    /// administrator deactivated). `code` for programs, `message` in Chinese for people.
    #[error("refused ({code}): {message}")]
    Refused { code: &'static str, message: String },
    /// Anything the database reported that is not one of the above. Never shown to users.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matching rows in all pages.
    pub total: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonQuery {
    /// Matches a name (substring), a full identity number, a household code, or a full bank
    /// account number (through its blind index).
    pub text: Option<String>,
    /// Identity numbers starting with these digits (at least six). The store applies it as
    /// given: the web layer offers it only to roles that may reveal, and audits it.
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// Restrict to this division and below (still within the actor's scope).
    pub division: Option<DivisionCode>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: PersonId,
    pub id_number: IdNumber,
    pub name: String,
    pub sex: jiuzhu_domain::Sex,
    pub birth_date: NaiveDate,
    pub residence_division: DivisionCode,
    /// The household the person currently belongs to, if any.
    pub household_id: Option<HouseholdId>,
    pub household_code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdQuery {
    /// Matches a household code, a head's or member's name (substring) or identity number, or an
    /// address substring.
    pub text: Option<String>,
    pub division: Option<DivisionCode>,
    pub limit: i64,
    pub offset: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSummary {
    pub id: HouseholdId,
    pub code: String,
    pub division: DivisionCode,
    pub area: Area,
    pub address: String,
    pub head_name: Option<String>,
    /// Members active today.
    pub member_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHousehold {
    /// Generated (`H` + division + sequence) when `None`.
    pub code: Option<String>,
    pub facts: HouseholdFacts,
    pub valid_from: NaiveDate,
}

/// A household as it was on a date: the facts then in force and the members then active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdSnapshot {
    pub household: Household,
    pub as_of: NaiveDate,
    pub facts: HouseholdFacts,
    pub members: Vec<Member>,
}

/// Progress callback: (rows written, rows in all).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// The system administrator's changes to an account (三员分立: never its role or jurisdiction).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// Deactivate, or reactivate (which makes the account wait for approval again).
    pub active: Option<bool>,
    /// Clears the failed-login count (the web layer also lifts the account's login throttle).
    pub unlock: bool,
}

/// The security administrator's changes to an account: what it may do and where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPatch {
    pub role: Option<Role>,
    /// `Some(None)` clears the department.
    pub department: Option<Option<Department>>,
    pub division: Option<DivisionCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginOutcome {
    Succeeded,
    /// A wrong password: counted and audited, never a lock (throttling is per account and
    /// client address, in memory, in the web layer).
    Failed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub action: Option<AuditAction>,
    pub actor_name: Option<String>,
    pub record_kind: Option<String>,
    pub record_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<()>;

    // ---- jurisdiction tree -------------------------------------------------------------------

    /// The nodes in the actor's scope (its own node and all below), ordered by code.
    async fn list_divisions(&self, g: &Grant<ReadRegistry>) -> Result<Vec<Division>>;
    async fn get_division(
        &self,
        g: &Grant<ReadRegistry>,
        code: &DivisionCode,
    ) -> Result<Option<Division>>;
    /// Creates a node or renames an existing one. A township, village or grid needs its parent
    /// (county, township, village) in the tree; county and above hang under their nearest existing
    /// ancestor.
    async fn save_division(
        &self,
        g: &Grant<ManageDivisions>,
        code: &DivisionCode,
        name: &str,
    ) -> Result<Division>;
    /// Creates or renames many nodes in one transaction (parents before children is not
    /// required). Errors name the index of the offending row.
    async fn import_divisions(
        &self,
        g: &Grant<ManageDivisions>,
        rows: &[(DivisionCode, String)],
    ) -> Result<u64>;

    // ---- persons -----------------------------------------------------------------------------

    async fn search_persons(
        &self,
        g: &Grant<ReadRegistry>,
        q: &PersonQuery,
    ) -> Result<Page<PersonSummary>>;
    async fn get_person(&self, g: &Grant<ReadRegistry>, id: PersonId) -> Result<Option<Person>>;
    async fn find_person_by_id_number(
        &self,
        g: &Grant<ReadRegistry>,
        id_number: &IdNumber,
    ) -> Result<Option<Person>>;
    /// All versions, newest first.
    async fn person_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Version<PersonFacts>>>;
    /// The facts in force on `date` (`None` if the person's record starts later).
    async fn person_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
        date: NaiveDate,
    ) -> Result<Option<PersonFacts>>;
    async fn create_person(
        &self,
        g: &Grant<WriteRegistry>,
        id_number: &IdNumber,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person>;
    /// Replaces the facts from `valid_from` on; the previous version goes to history. Fails with
    /// `Conflict` unless `expected_version` is the current row version, and with `OutOfScope`
    /// when the new residence lies outside the actor's scope.
    async fn update_person(
        &self,
        g: &Grant<WriteRegistry>,
        id: PersonId,
        expected_version: i64,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person>;
    /// Returns the person for unmasked display and records the access (which fields) in the
    /// audit log, in one transaction.
    async fn reveal_person(
        &self,
        g: &Grant<RevealSensitive>,
        id: PersonId,
        fields: &[&str],
    ) -> Result<Person>;
    async fn person_memberships(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Membership>>;

    // ---- households --------------------------------------------------------------------------

    async fn search_households(
        &self,
        g: &Grant<ReadRegistry>,
        q: &HouseholdQuery,
    ) -> Result<Page<HouseholdSummary>>;
    async fn get_household(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Option<Household>>;
    /// All versions, newest first.
    async fn household_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Version<HouseholdFacts>>>;
    /// Every membership the household ever had (joined and left), with the persons.
    async fn household_members(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Member>>;
    async fn household_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<HouseholdSnapshot>>;
    async fn create_household(
        &self,
        g: &Grant<WriteRegistry>,
        new: &NewHousehold,
    ) -> Result<Household>;
    async fn update_household(
        &self,
        g: &Grant<WriteRegistry>,
        id: HouseholdId,
        expected_version: i64,
        facts: &HouseholdFacts,
        valid_from: NaiveDate,
    ) -> Result<Household>;
    /// Fails with `Invalid` if the person already has an active household.
    async fn add_member(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        person: PersonId,
        relation: Relation,
        joined_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership>;
    async fn end_membership(
        &self,
        g: &Grant<WriteRegistry>,
        membership: MembershipId,
        left_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership>;

    // ---- household economics (家庭经济状况) ----------------------------------------------------

    /// The economic record in force on `date` (`None` when none was recorded for that date).
    async fn economics_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>>;
    /// [`Store::economics_as_of`] for showing the financial assets (bank data) unmasked,
    /// recording the access as `sensitive_revealed` in the same transaction; `NotFound`
    /// outside the scope.
    async fn reveal_economics(
        &self,
        g: &Grant<RevealSensitive>,
        household: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>>;
    /// The current record (the one an update names the `row_version` of).
    async fn economics_current(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>>;
    /// All versions, newest first.
    async fn economics_history(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
    ) -> Result<Vec<Version<jiuzhu_domain::HouseholdEconomics>>>;
    /// Records the household's economics from `valid_from` on; the previous version goes to
    /// history. `expected_version` is `None` for the first record. Fails with `Conflict` when
    /// the version moved, `Invalid` when an amount is negative or a member named is not a member
    /// of the household on `valid_from`.
    async fn save_economics(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        expected_version: Option<i64>,
        economics: &jiuzhu_domain::HouseholdEconomics,
        valid_from: NaiveDate,
    ) -> Result<jiuzhu_domain::EconomicsRecord>;
    /// First records for many households in one transaction (one audit event); households
    /// that already have a record, unknown codes or non-members are reported in `Invalid`.
    async fn import_economics(
        &self,
        g: &Grant<ImportCaseload>,
        valid_from: NaiveDate,
        items: &[ImportEconomics],
    ) -> Result<u64>;
    /// Every household in the grant's scope (and under `division`) as of `date`, with its
    /// members, their facts and the economic record then in force, ordered by household id —
    /// read with a few set-based queries, for computing a whole caseload's month.
    async fn caseload_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        division: Option<&DivisionCode>,
        date: NaiveDate,
    ) -> Result<Vec<CaseloadEntry>>;

    // ---- legacy caseload import --------------------------------------------------------------

    /// Writes the whole batch in one transaction, or nothing. Rows that conflict with what is
    /// stored (identity number already registered, division unknown or outside the scope) are
    /// all reported in `Invalid`, with their rows.
    async fn import_caseload(
        &self,
        g: &Grant<ImportCaseload>,
        batch: &CaseloadBatch,
        progress: Progress<'_>,
    ) -> Result<ImportSummary>;
    /// Marks the households (those in the grant's scope) as the old system's current recipients
    /// from `from` on, as a legacy caseload import does for all of its households; one already
    /// marked keeps its day. What the demo does for the households its policy grants a benefit.
    /// Returns how many were marked.
    async fn mark_current_recipients(
        &self,
        g: &Grant<ImportCaseload>,
        from: NaiveDate,
        households: &[HouseholdId],
    ) -> Result<u64>;

    // ---- users and sessions ------------------------------------------------------------------

    async fn count_users(&self) -> Result<i64>;
    /// Creates an account in the grant's scope (its node must be in the tree). An account a
    /// user (the system administrator) creates waits for approval and holds no permission
    /// until a security administrator approves it; the system itself (first start, the
    /// console's `jiuzhu user create` of an administrator, demo seeding) creates approved ones,
    /// since there may be no security administrator yet.
    async fn create_user(&self, g: &Grant<ManageUsers>, new: &NewUser) -> Result<User>;
    /// Accounts bound to a node in the grant's scope.
    async fn list_users(&self, g: &Grant<ReadUsers>) -> Result<Vec<User>>;
    async fn get_user(&self, g: &Grant<ReadUsers>, id: UserId) -> Result<Option<User>>;
    /// The system administrator's change: name, deactivation, reactivation (the account then
    /// waits for approval again), unlocking. `Refused` for deactivating one's own account or
    /// the last active security or audit administrator.
    async fn update_user(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        expected_version: i64,
        patch: &UserPatch,
    ) -> Result<User>;
    /// The security administrator's change of role, jurisdiction or department, audited as
    /// `user_access_changed`. `Refused` on one's own account, and for any role change into, out
    /// of or between the administrator roles (no account ever holds two of them).
    async fn assign_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected_version: i64,
        patch: &AccessPatch,
    ) -> Result<User>;
    /// A security administrator approves an account waiting for approval, as it stands at
    /// `expected_version` (role, jurisdiction). `Refused` for one's own account, an account
    /// the approver created or reset, one not waiting, or a deactivated one. Audited as
    /// `user_approved`.
    async fn approve_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected_version: i64,
    ) -> Result<User>;
    /// Sets a one-time password. Reset by a user (the system administrator, who learns the
    /// password), the account waits for approval again; `Refused` for one's own account and
    /// for the last approved security administrator (nobody could approve it: reset that one
    /// at the console). The row version stays, so an open edit form still saves.
    async fn reset_password(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()>;

    /// The names of accounts by username, for pages that say who delivered or ran something
    /// (people see names, not account codes); unknown usernames are left out.
    async fn display_names(
        &self,
        usernames: &[String],
    ) -> Result<std::collections::HashMap<String, String>>;
    /// Authentication comes before there is an actor, so these take none.
    async fn user_by_username(&self, username: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;
    /// Updates the failed-login counter or resets it, and audits the attempt.
    async fn record_login(&self, user: UserId, outcome: &LoginOutcome, origin: &str) -> Result<()>;
    /// Audits failed logins with usernames that do not exist: one event standing for `attempts`
    /// such failures from `origin` (the caller aggregates them, so guessing cannot flood the
    /// log); `username` is the latest name tried.
    async fn record_unknown_login(&self, username: &str, origin: &str, attempts: u64)
        -> Result<()>;
    /// Sets the actor's own password and ends every other session of the user (all but the one
    /// whose token hash is `keep_session`). Returns how many sessions were ended.
    async fn change_own_password(
        &self,
        actor: &Actor,
        password_hash: &str,
        keep_session: &str,
    ) -> Result<u64>;
    async fn create_session(&self, s: &Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, token_hash: &str, actor: &Actor) -> Result<()>;
    /// Removes sessions idle since before `idle_before` or created before `created_before` (the
    /// absolute lifetime); returns how many.
    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64>;

    // ---- policy revisions --------------------------------------------------------------------

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

    // ---- working-day calendar edits ------------------------------------------------------------

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

    /// The seq of the newest policy revision and of the newest calendar edit (0 when none): both
    /// tables only grow, so a process that built its parameters at these seqs knows, with this
    /// one query, whether another process (a second server, the command line) has changed them.
    async fn parameter_seqs(&self) -> Result<ParameterSeqs>;

    // ---- cases (docs/cases.md) ---------------------------------------------------------------

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
    /// R-PR-6 (人户分离): whether the person currently receives 低保 anywhere in the system, as
    /// the county code of that case — deliberately nothing else of the other county's data, and
    /// deliberately not scoped, since the point is to look beyond the clerk's jurisdiction.
    async fn receives_dibao_anywhere(
        &self,
        g: &Grant<jiuzhu_domain::access::RegisterApplication>,
        person: PersonId,
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

    // ---- documents (一人一档, docs/documents.md) ------------------------------------------------

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

    // ---- reserve fund (备用金, R-LS-4) ---------------------------------------------------------

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

    // ---- verification (docs/feeds.md) --------------------------------------------------------

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
    /// [`Store::store_run`] written while the run is still reading: the run's transaction
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
    /// Closes (销号) an open warning with its result and note: `Conflict` unless
    /// `expected_version` is its `row_version` and it is still open; audited as
    /// `warning_closed`.
    async fn close_warning(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        id: i64,
        expected_version: i64,
        close: &CloseWarning,
    ) -> Result<WarningRecord>;
    /// [`Store::close_warning`] that also opens, in the same transaction, the change a closure
    /// with adjust/suspend/stop calls for on the household's running case (`change_case_id`),
    /// as the application prepared it for [`Store::running_case`]; a change already open is
    /// linked instead, and a change that cannot be opened is said in the note. Without a running
    /// case such a closure is refused (`WARNING_RESULT_NEEDS_CASE`); a running case the
    /// application did not find (not readable by the actor) is `NotFound`; one that is no
    /// longer the case the change was prepared for is `Conflict`. `fact`, the
    /// household's economic record as the adjustment found it, is written in the same
    /// transaction: a refused closure leaves the record unchanged.
    async fn close_warning_with(
        &self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        id: i64,
        expected_version: i64,
        close: &CloseWarning,
        change: &ClosureChange,
        fact: Option<FoundFact<'_>>,
    ) -> Result<WarningRecord>;
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

    /// One delivery the reader reads (as for [`Store::list_deliveries`]).
    async fn get_delivery(&self, r: &DeliveryReader, id: i64) -> Result<Option<FeedDelivery>>;
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

    // ---- audit -------------------------------------------------------------------------------

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
