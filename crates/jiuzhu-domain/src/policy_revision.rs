//! Policy revisions: dated parameter values recorded by administrators on top of the shipped policy
//! files. They are append-only: a value is changed by recording a newer revision, and a revision
//! that has not taken effect yet is taken back by a `withdraw` revision naming it. The store keeps
//! them; `jiuzhu_policy` applies them (in `seq` order) to the built-in library.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKind {
    /// A dated value for a parameter of a region.
    Set,
    /// Takes back an earlier `set` revision that is not yet in force.
    Withdraw,
}

impl RevisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Set => "set",
            RevisionKind::Withdraw => "withdraw",
        }
    }
    pub fn parse(s: &str) -> Option<RevisionKind> {
        match s {
            "set" => Some(RevisionKind::Set),
            "withdraw" => Some(RevisionKind::Withdraw),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RevisionKind::Set => "调整",
            RevisionKind::Withdraw => "撤回",
        }
    }
}

/// A revision to record (`kind = set`). The value is text in the notation of the policy files
/// (`"850.00"`, `"0.30"`, `60`, `true`, a choice word, or a tier list); it has been validated
/// against the parameter definitions by the caller (`jiuzhu_policy::validate_revision`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPolicyRevision {
    pub region: DivisionCode,
    pub param: String,
    pub effective_from: NaiveDate,
    pub value: String,
    /// Title of the document that decides the value.
    pub document: String,
    /// Its number (文号), if any.
    pub number: Option<String>,
    /// The article or clause (条款), if any.
    pub article: Option<String>,
    pub reason: String,
    /// The value in force on `effective_from` before this revision (for the audit's before
    /// image), as text; `None` when the parameter had no value then.
    pub previous_value: Option<String>,
    /// Why the revision takes effect before the day it is recorded (追溯): it changes months
    /// already computed, so it is refused without an explicit reason.
    #[serde(default)]
    pub retroactive_reason: Option<String>,
}

/// A stored revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRevision {
    /// Global, increasing; a library built with revisions up to `seq` is "+r<seq>".
    pub seq: i64,
    pub region: DivisionCode,
    pub param: String,
    pub effective_from: NaiveDate,
    /// For a withdrawal: the value being withdrawn.
    pub value: String,
    pub document: Option<String>,
    pub number: Option<String>,
    pub article: Option<String>,
    pub reason: String,
    pub kind: RevisionKind,
    /// For a withdrawal: the `seq` of the revision taken back.
    pub withdraws: Option<i64>,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub recorded_at: DateTime<Utc>,
}

impl PolicyRevision {
    /// The date it was recorded, in China Standard Time.
    pub fn recorded_on(&self) -> NaiveDate {
        crate::clock::beijing_date(self.recorded_at)
    }
}
