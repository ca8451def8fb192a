//! A legacy caseload as the importer hands it to the store: validated, not yet written.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;
use crate::id_number::IdNumber;
use crate::registry::{Area, PersonFacts, Relation};

/// One household of a legacy caseload, validated by the importer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportHousehold {
    /// The file's row number (for error reports).
    pub row: usize,
    /// The household's identifier in the source file (`household_id`).
    pub source_ref: String,
    pub division: DivisionCode,
    pub area: Area,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMember {
    pub row: usize,
    /// Index into [`CaseloadBatch::households`].
    pub household: usize,
    pub id_number: IdNumber,
    pub name: String,
    pub relation: Relation,
    /// Full facts when the source has them (demo data); otherwise they are derived from the
    /// identity number, with the household's division as residence.
    pub facts: Option<Box<PersonFacts>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseloadBatch {
    pub households: Vec<ImportHousehold>,
    pub members: Vec<ImportMember>,
    /// The date the imported facts and memberships are valid from.
    pub valid_from: NaiveDate,
    /// Create township and village nodes (named by their code) that the tree does not have yet,
    /// instead of rejecting the rows that use them.
    pub create_missing_divisions: bool,
    /// The households are the old system's current recipients (在册救助对象), as a legacy
    /// caseload is: a month's comparison covers them from `valid_from` on. A batch of households
    /// only registered (the demo, which marks its receiving households afterwards) says false.
    pub current_recipients: bool,
    /// The file names, for the audit event.
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub households: u64,
    pub persons: u64,
    pub memberships: u64,
    pub divisions_created: u64,
}
