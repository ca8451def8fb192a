//! The records the use-cases take and return, as the store defines them: what the web's pages and
//! API show and fill. Only data types are here, never the store itself, so that the web reaches
//! persistence only through the use-cases.

pub use jiuzhu_store::{
    // Registry, accounts and audit.
    AccessPatch,
    AuditQuery,
    // Cases, changes and what they file.
    BenefitStatus,
    // Parameters.
    CalendarEdit,
    CaseEvent,
    CaseFlags,
    CaseId,
    CaseQuery,
    CaseRecord,
    ChangeKind,
    ChangeRecord,
    // Deliveries, sources, runs, warnings and leads.
    CloseWarning,
    Dashboard,
    DashboardCell,
    DeliveryReader,
    // Documents and the reserve fund.
    Document,
    DocumentId,
    DocumentQuery,
    FeedDelivery,
    FeedSource,
    FeedSourceChange,
    FilingEntry,
    HouseholdQuery,
    HouseholdSnapshot,
    HouseholdSummary,
    ImportSummary,
    InboxQuery,
    InboxStatus,
    LeadQuery,
    LeadRecord,
    LeadRun,
    LoginOutcome,
    NewDocument,
    NewFeedSource,
    NewHousehold,
    NewLead,
    NewReserveEntry,
    NewRun,
    NewWarning,
    NewZeroReport,
    OwnerKind,
    Page,
    PersonQuery,
    PersonSummary,
    Rejection,
    ReserveEntry,
    ReserveEntryKind,
    ReserveFund,
    RunSummary,
    SourceAccount,
    SourceUse,
    StopReason,
    TaskQuery,
    TaskRow,
    UserPatch,
    WarningQuery,
    WarningRecord,
    WarningResult,
    ZeroReport,
    ZeroReportStatus,
};

/// What the store refused, as the web maps it to its envelope.
pub use jiuzhu_store::StoreError;

/// The kept deliveries' files.
pub use jiuzhu_store::kept::{FeedError, FeedFiles};

/// The document types of the one-person-one-file archive.
pub use jiuzhu_store::documents::{document_type, DOCUMENT_TYPES};

/// How a warning's evidence is masked.
pub use jiuzhu_store::warning_handling::{evidence_is_sensitive, MASKED};

pub use jiuzhu_store::verification_reports::{NewVerificationReport, VerificationReportRecord};

/// The facts of a warning as they are stored.
pub use jiuzhu_store::warning_facts;

/// Why an audit export was refused.
pub use jiuzhu_store::audit_export::ExportFailure;
