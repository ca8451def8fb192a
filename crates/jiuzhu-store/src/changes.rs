//! Types of case changes (调整/暂停/恢复/停止, docs/cases.md) and the benefit status a payment
//! roster reads (migration 0009).
//!
//! A change is a case of the change workflow (`workflows/dibao_change.toml`) pointing at the
//! recipient's approved case. The application starts the workflow and hands the store the
//! [`CaseOpening`]; the store checks, under its write lock, what only the database knows (the
//! parent approved and still of that workflow, the benefit's status, no other change open) and
//! writes the case — also inside a warning's closure, whose transaction opens it.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::{HouseholdId, Money};
use serde::{Deserialize, Serialize};

use crate::cases::{CaseId, CaseOpening};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// 调整: a new amount from the household's current economic record.
    Adjust,
    /// 暂停: payment suspended while the case is checked.
    Suspend,
    /// 恢复: a suspended payment resumes.
    Resume,
    /// 停止: the benefit ends.
    Stop,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 4] = [
        ChangeKind::Adjust,
        ChangeKind::Suspend,
        ChangeKind::Resume,
        ChangeKind::Stop,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Adjust => "adjust",
            ChangeKind::Suspend => "suspend",
            ChangeKind::Resume => "resume",
            ChangeKind::Stop => "stop",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ChangeKind::Adjust => "调整救助金额",
            ChangeKind::Suspend => "暂停发放",
            ChangeKind::Resume => "恢复发放",
            ChangeKind::Stop => "停止救助",
        }
    }
    pub fn parse(s: &str) -> Option<ChangeKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a benefit stops (a coded list, so the filing list and statistics can count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Death,
    Moved,
    Income,
    Assets,
    Imprisonment,
    Refused,
    Other,
}

impl StopReason {
    pub const ALL: [StopReason; 7] = [
        StopReason::Death,
        StopReason::Moved,
        StopReason::Income,
        StopReason::Assets,
        StopReason::Imprisonment,
        StopReason::Refused,
        StopReason::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Death => "death",
            StopReason::Moved => "moved",
            StopReason::Income => "income",
            StopReason::Assets => "assets",
            StopReason::Imprisonment => "imprisonment",
            StopReason::Refused => "refused",
            StopReason::Other => "other",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            StopReason::Death => "死亡",
            StopReason::Moved => "迁出",
            StopReason::Income => "收入超标",
            StopReason::Assets => "财产超标",
            StopReason::Imprisonment => "服刑",
            StopReason::Refused => "拒绝配合核对",
            StopReason::Other => "其他",
        }
    }
    pub fn parse(s: &str) -> Option<StopReason> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A change to open on an approved case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChange {
    pub parent_case_id: CaseId,
    /// The parent's workflow the opening was computed for (checked against the parent).
    pub parent_workflow: String,
    pub kind: ChangeKind,
    /// Why (required): recorded as the opinion of the 变更发起 step.
    pub reason: String,
    /// Required for a stop.
    pub stop_reason: Option<StopReason>,
    /// A home check (入户核实, ≥ 2 investigators) before the decision.
    pub home_check: bool,
    /// Whether the policy delegates the confirmation to the township (recorded in the audit).
    pub delegated: bool,
    /// The change case as its workflow starts.
    pub opening: CaseOpening,
}

/// What an approved change decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOutcome {
    pub decision_id: i64,
    pub decided_on: NaiveDate,
    /// adjust/suspend/resume: the first month affected (`YYYY-MM`).
    pub effective_month: Option<String>,
    /// stop: the last month paid (`YYYY-MM`, the month of the decision).
    pub last_paid_month: Option<String>,
    pub stop_reason: Option<StopReason>,
    pub amount_before: Money,
    pub amount_after: Money,
    pub letter_number: Option<String>,
}

/// A change case with what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub case_id: CaseId,
    pub number: String,
    pub parent_case_id: CaseId,
    pub parent_number: String,
    pub parent_workflow: String,
    pub household_id: HouseholdId,
    pub kind: ChangeKind,
    pub reason: String,
    pub stop_reason: Option<StopReason>,
    pub warning_id: Option<i64>,
    /// The change case's status.
    pub status: jiuzhu_domain::case::CaseStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub outcome: Option<ChangeOutcome>,
}

/// A recipient's benefit as it stands (one per approved case of a changeable program).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitStatus {
    pub case_id: CaseId,
    pub number: String,
    pub workflow: String,
    pub program: String,
    pub household_id: HouseholdId,
    /// active | suspended | ended
    pub status: String,
    pub monthly_amount: Money,
    pub start_month: Option<String>,
    pub amount_from: Option<String>,
    pub suspended_from: Option<String>,
    pub last_paid_month: Option<String>,
    pub end_reason: Option<StopReason>,
    pub changed_by_case: Option<CaseId>,
    pub updated_at: DateTime<Utc>,
}

impl BenefitStatus {
    pub fn status_label(&self) -> &'static str {
        status_label(&self.status)
    }
}

pub fn status_label(s: &str) -> &'static str {
    match s {
        "active" => "正常发放",
        "suspended" => "暂停发放",
        "ended" => "已停止",
        _ => "未知",
    }
}
