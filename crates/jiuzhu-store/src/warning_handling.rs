//! Handling the monthly comparison's warnings (docs/feeds.md, "Handling"): the township inbox
//! query, the communities' monthly zero reports (零报告, POLICY.md R-DM-3) and the month's
//! dashboard. The warnings themselves are [`crate::verification`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use jiuzhu_domain::DivisionCode;

/// What a masked value shows.
pub const MASKED: &str = "***";

/// Whether a warning's evidence cites bank or health data (its source feed's
/// values: deposits and other financial assets, medical costs).
pub fn evidence_is_sensitive(e: &serde_json::Value) -> bool {
    e["source"]
        .as_str()
        .and_then(jiuzhu_domain::FeedKind::parse)
        .is_some_and(|k| k.values_are_sensitive())
}

/// The evidence as every reader gets it from the store: a sensitive source's `value` shown as
/// `***` (the full value is one audited reveal away, [`crate::WarningStore::reveal_warning`]).
pub fn mask_evidence(e: &mut serde_json::Value) {
    if evidence_is_sensitive(e) {
        if let Some(v) = e.get_mut("value") {
            *v = serde_json::Value::String(MASKED.into());
        }
    }
}

/// The inbox's status filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatus {
    Open,
    Closed,
    /// Open and past its due date (as of the query's `today`).
    Overdue,
}

impl InboxStatus {
    pub fn parse(s: &str) -> Option<InboxStatus> {
        match s {
            "open" => Some(InboxStatus::Open),
            "closed" => Some(InboxStatus::Closed),
            "overdue" => Some(InboxStatus::Overdue),
            _ => None,
        }
    }
}

/// The township inbox: warnings in the grant's scope, by due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxQuery {
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub kind: Option<String>,
    pub status: Option<InboxStatus>,
    /// A township, village or community under which the household lies.
    pub division: Option<DivisionCode>,
    /// A household number (part of it), a full identity number of a member, or a masked
    /// identity number as the evidence shows it (`371002********0015`).
    pub household: Option<String>,
    /// One run's warnings only.
    pub run_id: Option<i64>,
    /// The day "overdue" is judged on (the caller's clock).
    pub today: NaiveDate,
    pub limit: i64,
    pub offset: i64,
}

/// `no_warnings` (本月无预警) or `all_handled` (预警已全部处理).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroReportKind {
    NoWarnings,
    AllHandled,
}

impl ZeroReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ZeroReportKind::NoWarnings => "no_warnings",
            ZeroReportKind::AllHandled => "all_handled",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ZeroReportKind::NoWarnings => "本月无预警",
            ZeroReportKind::AllHandled => "预警已全部处理",
        }
    }
    pub fn parse(s: &str) -> Option<ZeroReportKind> {
        match s {
            "no_warnings" => Some(ZeroReportKind::NoWarnings),
            "all_handled" => Some(ZeroReportKind::AllHandled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewZeroReport {
    /// A village or community (村/社区).
    pub division: DivisionCode,
    /// `YYYY-MM`.
    pub month: String,
    pub note: String,
}

/// A filed zero report (append-only).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroReport {
    pub id: i64,
    pub division: String,
    pub month: String,
    pub kind: ZeroReportKind,
    /// The month's warnings in the division when it was filed (all closed by then).
    pub warnings: i64,
    pub note: String,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
}

/// One village or community in scope with its zero-report state for a month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroReportStatus {
    pub division: String,
    pub name: String,
    pub township: String,
    pub township_name: String,
    /// The warnings the month's runs raised in the division; how many warnings raised up to
    /// the month are still open there (whichever run raised them).
    pub warnings: i64,
    pub open: i64,
    pub report: Option<ZeroReport>,
    /// The report no longer holds: a later run of the month found warnings here after it was
    /// filed (more warnings now than it counted, or some open). It stays on file as filed.
    #[serde(default)]
    pub superseded: bool,
}

/// Counts of one (kind, township) cell of the dashboard.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardCell {
    pub kind: String,
    pub township: String,
    pub township_name: String,
    pub total: i64,
    pub open: i64,
    /// Open and past due (as of `today`).
    pub overdue: i64,
    /// Closed on or before the due date.
    pub closed_on_time: i64,
    pub closed_late: i64,
    /// Raised by runs of earlier months and still open.
    #[serde(default)]
    pub carried_open: i64,
    /// `YYYY-MM`: the month the oldest of `carried_open` was first raised.
    #[serde(default)]
    pub carried_since: Option<String>,
}

/// A month's handling at a glance, within the grant's scope.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub month: String,
    pub today: NaiveDate,
    /// By kind then township.
    pub cells: Vec<DashboardCell>,
    /// Closed warnings by result code (`no_effect`, `adjust`, …).
    pub results: BTreeMap<String, i64>,
    /// Villages and communities in scope, and how many filed a zero report for the month.
    pub zero_report_divisions: i64,
    pub zero_reports_filed: i64,
}
