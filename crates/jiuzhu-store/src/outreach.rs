//! Outreach leads (政策找人, POLICY R-LI-4): persons outside the caseload whose medical
//! out-of-pocket cost in the month is above the ordinary warning line, found by the monthly
//! comparison and stored per run (migration 0012) for the township to follow up.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use jiuzhu_domain::{DivisionCode, Money};

use crate::VerificationRun;

/// A lead as the comparison found it, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLead {
    /// The full identity number: used only to find the person in the registry (scope and the
    /// 转为申请 link), never stored; the row keeps the masked form.
    pub id_number: jiuzhu_domain::IdNumber,
    pub delivery_id: Option<i64>,
    /// File line of the settlement (header = line 1), as the department sees it.
    pub row: i64,
    pub settlement_date: NaiveDate,
    pub out_of_pocket: Money,
    pub threshold: Money,
}

/// What a run stores its leads under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadRun {
    pub run_id: i64,
    pub month: String,
    /// Where a lead goes when the registry does not know the person: the run's division.
    pub fallback_division: DivisionCode,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadRecord {
    pub id: i64,
    pub run_id: i64,
    pub month: String,
    pub division: String,
    /// The registry's person, when the identity number is registered.
    pub person_id: Option<i64>,
    /// The registry's name for the person (only when registered).
    pub person_name: Option<String>,
    /// Masked identity number.
    pub person: String,
    pub delivery_id: Option<i64>,
    pub row: i64,
    pub settlement_date: NaiveDate,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub out_of_pocket: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub threshold: Money,
    /// `open` or `handled`.
    pub status: String,
    pub note: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadQuery {
    /// One lead by its id.
    pub id: Option<i64>,
    pub run_id: Option<i64>,
    pub month: Option<String>,
    /// `open` or `handled`.
    pub status: Option<String>,
    /// A division under which the lead lies.
    pub division: Option<DivisionCode>,
    pub limit: i64,
    pub offset: i64,
}

/// A run as the runs page lists it: the stored run, its warnings by township and its leads, as
/// far as the reader's jurisdiction goes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub run: VerificationRun,
    pub by_township: BTreeMap<String, i64>,
    pub leads: i64,
    /// The Chinese names of the run's division and of the townships of `by_township`, by code.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}
