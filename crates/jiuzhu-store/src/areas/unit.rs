//! A unit of work: the writes of one use-case, each with its audit event, in one transaction
//! that the use-case commits. Dropped without [`WriteUnit::commit`], it keeps nothing.

use crate::*;

/// Writes that a use-case composes (a warning's closure records the fact it found, opens the
/// change of the running benefit and closes the warning, or does none of it). Reads in a unit
/// see its own writes. One unit at a time holds the write lock: a use-case keeps it short, and
/// while it holds one it writes through it only (another write would wait for the lock).
#[async_trait]
pub trait WriteUnit: Send {
    /// The Beijing date of the unit's time (what its records are stamped with).
    fn today(&self) -> NaiveDate;

    /// The warning about to be closed: in the grant's scope (else `NotFound`), open and at
    /// `expected_version` (else `Conflict`), the closure's input checked (`Invalid`: no note, a
    /// future visit, a document not the household's).
    async fn warning_to_close(
        &mut self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        id: i64,
        expected_version: i64,
        close: &CloseWarning,
    ) -> Result<WarningRecord>;

    /// Closes the warning [`WriteUnit::warning_to_close`] read, linking the change case the
    /// closure opened or found open, with `note_more` after the note; audited as
    /// `warning_closed`.
    async fn close_warning(
        &mut self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        before: &WarningRecord,
        close: &CloseWarning,
        change_case: Option<CaseId>,
        note_more: Option<&str>,
    ) -> Result<WarningRecord>;

    /// As [`EconomicsStore::save_economics`], in the unit.
    async fn save_economics(
        &mut self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        expected_version: Option<i64>,
        economics: &jiuzhu_domain::HouseholdEconomics,
        valid_from: NaiveDate,
    ) -> Result<()>;

    /// The household's approved case whose benefit runs, whoever reads it (the closure of a
    /// warning must not pass a benefit it cannot see), and the change open on a case (id and
    /// number).
    async fn running_case_id(&mut self, household: HouseholdId) -> Result<Option<CaseId>>;
    async fn open_change_on(&mut self, parent: CaseId) -> Result<Option<(CaseId, String)>>;

    /// Opens the change a warning's closure starts, in the handler's scope, as
    /// [`ChangeStore::open_change_case`] does (`Invalid` when the parent or its benefit does not
    /// allow it: the unit goes on).
    async fn open_change_for_warning(
        &mut self,
        g: &Grant<jiuzhu_domain::access::HandleWarnings>,
        new: &NewChange,
        warning: i64,
    ) -> Result<CaseRecord>;

    /// Makes every write of the unit durable, with their audit events.
    async fn commit(self: Box<Self>) -> Result<()>;
}
