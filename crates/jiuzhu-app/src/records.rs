//! The records the use-cases take and return, as the store defines them: what the web's pages and
//! API show and fill. Only data types are here, never the store itself, so that the web reaches
//! persistence only through the use-cases.

/// Parameters.
pub use jiuzhu_store::CalendarEdit;
/// Registry, accounts and audit.
pub use jiuzhu_store::{
    AccessPatch, AuditQuery, HouseholdQuery, HouseholdSnapshot, HouseholdSummary, ImportSummary,
    LoginOutcome, NewHousehold, Page, PersonQuery, PersonSummary, UserPatch,
};
/// Cases, changes and what they file.
pub use jiuzhu_store::{
    BenefitStatus, CaseDecision, CaseEvent, CaseFlags, CaseId, CaseQuery, CaseRecord, ChangeKind,
    ChangeRecord, FilingEntry, StopReason, TaskQuery, TaskRow,
};
/// Deliveries, sources, runs, warnings and leads.
pub use jiuzhu_store::{
    CloseWarning, Dashboard, DashboardCell, DeliveryReader, FeedDelivery, FeedSource,
    FeedSourceChange, InboxQuery, InboxStatus, LeadQuery, LeadRecord, LeadRun, NewFeedSource,
    NewLead, NewRun, NewWarning, NewZeroReport, Rejection, RunSummary, SourceAccount, SourceUse,
    WarningQuery, WarningRecord, WarningResult, ZeroReport, ZeroReportStatus,
};
/// Documents and the reserve fund.
pub use jiuzhu_store::{
    Document, DocumentId, DocumentQuery, NewDocument, NewReserveEntry, OwnerKind, ReserveEntry,
    ReserveEntryKind, ReserveFund,
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
