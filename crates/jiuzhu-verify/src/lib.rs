//! Economic-status verification feeds and the monthly comparison (一月一比对, R-DM-2, R-VF-1).
//!
//! Pure: no database, no HTTP. Departments' deliveries are described as data ([`schema`]),
//! streamed through a hand-written byte parser ([`ingest`]) that computes each delivery's
//! SHA-256 and row counts in the same pass, reports bad rows with row, column and a Chinese
//! reason, and matches every good row against the recipients' [`caseload`] index. Warning rules
//! and thresholds are in [`rules`]; [`run`] drives a month over several deliveries in parallel.
//! Memory is bounded by the caseload: a delivery is never held whole.

pub mod caseload;
pub mod ingest;
pub mod load;
pub mod parse;
pub mod report;
pub mod rules;
pub mod run;
pub mod schema;
pub mod source_row;

pub use caseload::{CaseloadBuilder, CaseloadError, CaseloadIndex, HouseholdIx, MemberIx};
pub use ingest::{
    BadRow, DeliveryError, DeliveryReport, FeedIngest, FeedOutcome, IngestOptions, Prehash, Tally,
};
pub use report::{
    build_report, scan_reader, Citation, Finding, FindingStatus, MatchedRecord, MemberSection,
    RecordScanner, ReportInput, ReportMember, SourceRef, SourceSummary, TestResult, Totals,
    Verdict, VerificationReport,
};
pub use rules::{
    Evidence, EvidenceValue, OutreachLead, Thresholds, VerifyPolicy, Warning, WarningKind, Ymd,
};
pub use run::{
    check_delivery, ingest_reader, ingest_reader_prehashed, run_month, run_month_each, Delivery,
    IngestError, KindOutcome, MonthRun,
};
pub use schema::{Column, ColumnType, FeedKind, FeedKindSchema, FeedSchema, RejectionPolicy};
