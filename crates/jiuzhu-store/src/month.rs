//! Types of the household-economics methods and of the whole-caseload read for a month.

use jiuzhu_domain::{EconomicsRecord, HouseholdEconomics, IdNumber};
use serde::{Deserialize, Serialize};

use crate::HouseholdSnapshot;

/// One household of the caseload as of a date: its facts and members then (with the person facts
/// then in force) and the economic record then in force, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadEntry {
    pub snapshot: HouseholdSnapshot,
    pub economics: Option<EconomicsRecord>,
}

/// Economics for a household named by code (or by its `source_ref`, the identifier in the system
/// it was imported from), its members named by identity number (persons get
/// their ids only when a caseload is imported, so a generated or legacy batch cannot know them).
/// `economics.members[i]` belongs to `id_numbers[i]`; its `person_id` is filled in by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportEconomics {
    pub household_code: String,
    pub id_numbers: Vec<IdNumber>,
    pub economics: HouseholdEconomics,
}
