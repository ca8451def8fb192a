//! A household's income and assets as of a date: read masked, revealed with an audit event, saved
//! as a new effective-dated version.

use chrono::NaiveDate;

use jiuzhu_domain::access::{ReadRegistry, RevealSensitive, WriteRegistry};
use jiuzhu_domain::{Grant, HouseholdId};

use crate::{App, Result};

impl App {
    /// The economic record in force on `date` (`None` when none was recorded for that date).
    pub async fn economics_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>> {
        Ok(self.store.economics_as_of(g, household, date).await?)
    }

    /// The current record (the one an update names the `row_version` of).
    pub async fn economics_current(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>> {
        Ok(self.store.economics_current(g, household).await?)
    }

    /// [`EconomicsStore::economics_as_of`] for showing the financial assets (bank data) unmasked,
    /// recording the access as `sensitive_revealed` in the same transaction; `NotFound`
    /// outside the scope.
    pub async fn reveal_economics(
        &self,
        g: &Grant<RevealSensitive>,
        household: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>> {
        Ok(self.store.reveal_economics(g, household, date).await?)
    }

    /// Records the household's economics from `valid_from` on; the previous version goes to
    /// history. `expected_version` is `None` for the first record. Fails with `Conflict` when
    /// the version moved, `Invalid` when an amount is negative or a member named is not a member
    /// of the household on `valid_from`.
    pub async fn save_economics(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        expected_version: Option<i64>,
        economics: &jiuzhu_domain::HouseholdEconomics,
        valid_from: NaiveDate,
    ) -> Result<jiuzhu_domain::EconomicsRecord> {
        Ok(self
            .store
            .save_economics(g, household, expected_version, economics, valid_from)
            .await?)
    }
}
