//! Persistence, one trait per area.
//!
//! [`Store`] (all the area traits of [`areas`] together) is the only way the rest of jiuzhu
//! reads or writes data. Every method that touches
//! registry data takes a [`Grant`], so the role check has happened, and applies the grant's
//! jurisdiction scope in its SQL, so an actor never sees or changes anything outside its subtree.
//! Every write appends its audit event in the same transaction as the change.
//!
//! Two backends implement it: SQLite (embedded, the default for a county) and PostgreSQL (for a
//! province). Both pass the same conformance suite (`conformance`, built with the `testing`
//! feature for the tests only, never part of the product).

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

pub mod areas;
pub mod audit_export;
pub mod audit_seal;
pub mod calendar;
pub mod cases;
pub mod changes;
/// The suite both backends pass (and any other must), for the tests only.
#[cfg(feature = "testing")]
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
/// Throw-away databases for the tests.
#[cfg(feature = "testing")]
pub mod test_db;
pub mod verification;
pub mod verification_reports;
pub mod warning_handling;

pub use areas::{
    AccessStore, AuditStore, CalendarStore, CaseStore, CaseloadImportStore, ChangeStore,
    DeliveryStore, DivisionStore, DocumentStore, EconomicsStore, FeedSourceStore, HouseholdStore,
    InboxStore, OutreachStore, PersonStore, PolicyStore, ReserveFundStore, SessionStore, UserStore,
    VerificationReportStore, WarningStore, WriteUnit,
};

/// The store's traits, to call its methods on a `dyn Store`.
pub mod prelude {
    pub use crate::areas::{
        AccessStore, AuditStore, CalendarStore, CaseStore, CaseloadImportStore, ChangeStore,
        DeliveryStore, DivisionStore, DocumentStore, EconomicsStore, FeedSourceStore,
        HouseholdStore, InboxStore, OutreachStore, PersonStore, PolicyStore, ReserveFundStore,
        SessionStore, UserStore, VerificationReportStore, WarningStore,
    };
    pub use crate::{Store, WriteUnit};
}

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
    CaseloadHouseholdRow, CloseWarning, DeliveryReader, FeedDelivery, NewDelivery, NewRun,
    NewWarning, Rejection, RunCarried, RunPart, RunStart, SourceStatus, SourceUse, StillOpen,
    VerificationRun, WarningQuery, WarningRecord, WarningResult,
};
pub use warning_handling::{
    Dashboard, DashboardCell, InboxQuery, InboxStatus, NewZeroReport, ZeroReport, ZeroReportKind,
    ZeroReportStatus,
};

/// Where the parameters stand: see [`PolicyStore::parameter_seqs`].
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

/// Every area of the store, as the application holds it (`Arc<dyn Store>`); a method of any area
/// is called on it with the traits in scope (`use jiuzhu_store::prelude::*`).
#[async_trait]
pub trait Store:
    DivisionStore
    + PersonStore
    + HouseholdStore
    + EconomicsStore
    + CaseloadImportStore
    + UserStore
    + AccessStore
    + SessionStore
    + PolicyStore
    + CalendarStore
    + CaseStore
    + ChangeStore
    + DocumentStore
    + ReserveFundStore
    + DeliveryStore
    + WarningStore
    + InboxStore
    + FeedSourceStore
    + VerificationReportStore
    + OutreachStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;

    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<()>;

    /// Starts a unit of work: several writes of one use-case in one transaction, which holds
    /// the write lock until it is committed or dropped.
    async fn begin(&self) -> Result<Box<dyn WriteUnit + '_>>;
}
