//! Types of the case methods (applications and their procedure, docs/cases.md).
//!
//! The store does not interpret the workflow: the state machine is `jiuzhu-workflow`, whose
//! `CaseState` arrives here as JSON with its revision, together with what the store indexes for
//! queues (the open steps) and the timeline records to append. So the store stays a store, and a
//! regional workflow file never needs a migration.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::case::{CaseStatus, DecisionOutcome};
use jiuzhu_domain::{Department, HouseholdId, Money, PersonId};
use serde::{Deserialize, Serialize};

pub type CaseId = i64;

/// The flags fixed when a case is registered.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFlags {
    /// Applicant is a close relative of staff or committee members (R-DB-10).
    pub staff_relative: bool,
    /// Urgent temporary assistance: assist first (R-LS-4).
    pub urgent: bool,
    /// Protected procedure, e.g. HIV: no public notice (R-PR-7).
    pub protected: bool,
}

/// An open step as the queues see it. `roles` are `Role::as_str` values; `level` is the level
/// responsible (already resolved for "confirming"), `also_levels` others that may act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenStepRow {
    pub step: String,
    pub label: String,
    pub roles: Vec<String>,
    pub level: String,
    pub also_levels: Vec<String>,
    pub department: Option<String>,
    pub opened_on: NaiveDate,
    pub due: Option<NaiveDate>,
    /// Notices: the first day the step may be closed.
    pub not_before: Option<NaiveDate>,
}

/// A timeline record to append (one per workflow history record). Who acts comes from the grant;
/// `display_name` is the acting user's name as shown on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCaseEvent {
    /// The workflow's history sequence number (1, 2, …), the event's key within the case.
    pub seq: i64,
    pub step: String,
    pub label: String,
    /// completed | approved | refused | returned | objected
    pub action: String,
    pub display_name: String,
    pub on: NaiveDate,
    pub opinion: String,
    pub investigators: Vec<String>,
    /// `{"kind", "id"}` each (documents of the case file).
    pub attachments: serde_json::Value,
    pub reasons: Vec<String>,
    /// Done after the step's due date.
    pub late: bool,
}

/// A timeline record as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub case_id: CaseId,
    pub seq: i64,
    pub step: String,
    pub label: String,
    pub action: String,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub display_name: String,
    pub role: String,
    pub at: DateTime<Utc>,
    pub on: NaiveDate,
    pub opinion: String,
    pub investigators: Vec<String>,
    /// `[{kind, id}]`: what the step cited.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub attachments: serde_json::Value,
    pub reasons: Vec<String>,
    pub late: bool,
}

/// A decision: what the policy engine computed and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDecision {
    pub outcome: DecisionOutcome,
    pub decided_on: NaiveDate,
    pub monthly_amount: Money,
    /// `YYYY-MM`: the first month paid (R-DB-8: the month after approval).
    pub start_month: Option<String>,
    pub explanation: serde_json::Value,
    pub policy_versions: serde_json::Value,
    pub input_snapshot: serde_json::Value,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDecision {
    pub id: i64,
    pub case_id: CaseId,
    pub decision: NewDecision,
    pub decided_by: String,
    pub recorded_at: DateTime<Utc>,
    /// The decision letter's number (环民救〔2026〕12号), allocated with the decision.
    pub letter_number: Option<String>,
}

/// A new case: the workflow's initial state (after `start`, and the intake step when the
/// documents were received at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCase {
    pub workflow: String,
    /// The program label (低保, 特困, …) for lists.
    pub program: String,
    /// The department a referral is made to (the workflow's); it narrows who reads the case.
    pub department: Option<Department>,
    /// The program is received in one place per person (R-PR-6, the workflow's
    /// `one_place_per_person`): an applicant with a running case of this workflow in another
    /// county is refused.
    pub one_place_per_person: bool,
    pub household_id: HouseholdId,
    pub applicant_id: PersonId,
    pub flags: CaseFlags,
    pub state: serde_json::Value,
    pub revision: i64,
    pub open_steps: Vec<OpenStepRow>,
    pub events: Vec<NewCaseEvent>,
}

/// Which workflows' protected cases (R-PR-7) each role reads, in the case's responsible
/// division: those on whose steps the role acts. The workflow files are the application's; it
/// hands this to the store ([`crate::CaseStore::use_protected_readers`]). A role not listed reads no
/// protected case (auditors read every case in their scope regardless).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedReaders(pub std::collections::HashMap<jiuzhu_domain::Role, Vec<String>>);

impl ProtectedReaders {
    pub fn workflows_of(&self, role: jiuzhu_domain::Role) -> &[String] {
        self.0.get(&role).map_or(&[], Vec::as_slice)
    }
}

/// A case as its workflow starts, computed by the application: the workflow, the department a
/// referral goes to, the state, the open steps and the first events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOpening {
    pub workflow: String,
    pub department: Option<Department>,
    pub state: serde_json::Value,
    pub revision: i64,
    pub open_steps: Vec<OpenStepRow>,
    pub events: Vec<NewCaseEvent>,
}

/// One transition of a case, written all together or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTransition {
    pub state: serde_json::Value,
    pub revision: i64,
    pub status: CaseStatus,
    /// All open steps after the transition (they replace the previous ones).
    pub open_steps: Vec<OpenStepRow>,
    pub events: Vec<NewCaseEvent>,
    pub decision: Option<NewDecision>,
    /// An approval of this decision starts a benefit whose changes (调整/暂停/恢复/停止) are
    /// tracked: the program has a change workflow.
    pub starts_benefit: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: CaseId,
    /// `371002-2026-000123`: county, year, sequence.
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub household_id: HouseholdId,
    pub household_code: String,
    pub applicant_id: PersonId,
    pub applicant_name: String,
    /// The applicant's identity number, masked (`371002************`): what a case page shows
    /// of it without reading the register.
    pub applicant_id_masked: String,
    /// The household's current address.
    pub household_address: String,
    pub division_filed: String,
    pub division_responsible: String,
    /// The department a referral is sent to (the workflow's `department`), e.g.
    /// `medical_insurance`; `None` for the civil-affairs programs.
    pub department: Option<String>,
    /// Hukou outside the responsible county (人户分离).
    pub hukou_elsewhere: bool,
    pub flags: CaseFlags,
    pub status: CaseStatus,
    pub state: serde_json::Value,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseQuery {
    pub workflow: Option<String>,
    pub status: Option<CaseStatus>,
    /// Only cases whose responsible division lies under this code.
    pub division: Option<jiuzhu_domain::DivisionCode>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: CaseId,
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub applicant_name: String,
    pub household_code: String,
    pub division_responsible: String,
    pub status: CaseStatus,
    pub created_at: DateTime<Utc>,
    /// Labels of the open steps with their due dates.
    pub open_steps: Vec<(String, Option<NaiveDate>)>,
}

/// Which open steps a user's queue shows: those their role may act on at their level, and —
/// for supervisors — the overdue steps of the level below (escalation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQuery {
    pub level: String,
    pub department: Option<String>,
    pub below_level: Option<String>,
    /// Steps of the level below due before this day are listed as escalated.
    pub overdue_before: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    pub case_id: CaseId,
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub applicant_name: String,
    pub division: String,
    pub step: String,
    pub label: String,
    pub level: String,
    pub opened_on: NaiveDate,
    pub due: Option<NaiveDate>,
    pub not_before: Option<NaiveDate>,
    /// Listed because it is overdue at the level below, not because the user acts on it.
    pub escalated: bool,
}

/// A case in public notice (公示): the case and its open notice step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeEntry {
    pub case: CaseRecord,
    /// The day the notice was posted (the step opened).
    pub posted_on: NaiveDate,
    /// The first day the notice may be closed (the day after its last day).
    pub not_before: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
}

/// An approved case on the county filing list (备案, R-PR-5).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingEntry {
    pub case_id: CaseId,
    pub number: String,
    pub program: String,
    pub applicant_name: String,
    pub division_responsible: String,
    pub decided_on: NaiveDate,
    pub monthly_amount: Money,
    pub letter_number: Option<String>,
    /// Revision of the case, for the filing action.
    pub revision: i64,
    /// Due date of the open filing step (not yet filed).
    pub filing_due: Option<NaiveDate>,
    /// When and by whom it was filed (the filing step's timeline record).
    pub filed_on: Option<NaiveDate>,
    pub filed_by: Option<String>,
    /// `None` for a new case; adjust | suspend | resume | stop for a change (docs/cases.md).
    pub change_kind: Option<String>,
    /// The approved case a change applies to.
    pub parent_case_id: Option<CaseId>,
    /// Stops: the coded reason (death, moved, income, …) and the last month paid (`YYYY-MM`).
    pub stop_reason: Option<String>,
    pub last_paid_month: Option<String>,
    /// Adjustments, suspensions, resumptions: the first month affected.
    pub effective_month: Option<String>,
}
