//! The registry: divisions, persons, households, their economics and the legacy import.

use crate::*;

/// The jurisdiction tree (行政区划): the nodes an actor sees and the ones an administrator names.
#[async_trait]
pub trait DivisionStore: Send + Sync {
    /// The nodes in the actor's scope (its own node and all below), ordered by code.
    async fn list_divisions(&self, g: &Grant<ReadRegistry>) -> Result<Vec<Division>>;

    async fn get_division(
        &self,
        g: &Grant<ReadRegistry>,
        code: &DivisionCode,
    ) -> Result<Option<Division>>;

    /// Creates a node or renames an existing one. A township, village or grid needs its parent
    /// (county, township, village) in the tree; county and above hang under their nearest existing
    /// ancestor.
    async fn save_division(
        &self,
        g: &Grant<ManageDivisions>,
        code: &DivisionCode,
        name: &str,
    ) -> Result<Division>;

    /// Creates or renames many nodes in one transaction (parents before children is not
    /// required). Errors name the index of the offending row.
    async fn import_divisions(
        &self,
        g: &Grant<ManageDivisions>,
        rows: &[(DivisionCode, String)],
    ) -> Result<u64>;
}

/// Persons: their effective-dated facts, read in the grant's scope and revealed with an audit
/// event.
#[async_trait]
pub trait PersonStore: Send + Sync {
    async fn search_persons(
        &self,
        g: &Grant<ReadRegistry>,
        q: &PersonQuery,
    ) -> Result<Page<PersonSummary>>;

    async fn get_person(&self, g: &Grant<ReadRegistry>, id: PersonId) -> Result<Option<Person>>;

    async fn find_person_by_id_number(
        &self,
        g: &Grant<ReadRegistry>,
        id_number: &IdNumber,
    ) -> Result<Option<Person>>;

    /// All versions, newest first.
    async fn person_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Version<PersonFacts>>>;

    /// The facts in force on `date` (`None` if the person's record starts later).
    async fn person_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
        date: NaiveDate,
    ) -> Result<Option<PersonFacts>>;

    async fn create_person(
        &self,
        g: &Grant<WriteRegistry>,
        id_number: &IdNumber,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person>;

    /// Replaces the facts from `valid_from` on; the previous version goes to history. Fails with
    /// `Conflict` unless `expected_version` is the current row version, and with `OutOfScope`
    /// when the new residence lies outside the actor's scope.
    async fn update_person(
        &self,
        g: &Grant<WriteRegistry>,
        id: PersonId,
        expected_version: i64,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person>;

    /// Returns the person for unmasked display and records the access (which fields) in the
    /// audit log, in one transaction.
    async fn reveal_person(
        &self,
        g: &Grant<RevealSensitive>,
        id: PersonId,
        fields: &[&str],
    ) -> Result<Person>;

    async fn person_memberships(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Membership>>;
}

/// Households and their members, effective-dated.
#[async_trait]
pub trait HouseholdStore: Send + Sync {
    async fn search_households(
        &self,
        g: &Grant<ReadRegistry>,
        q: &HouseholdQuery,
    ) -> Result<Page<HouseholdSummary>>;

    async fn get_household(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Option<Household>>;

    /// All versions, newest first.
    async fn household_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Version<HouseholdFacts>>>;

    /// Every membership the household ever had (joined and left), with the persons.
    async fn household_members(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Member>>;

    async fn household_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<HouseholdSnapshot>>;

    async fn create_household(
        &self,
        g: &Grant<WriteRegistry>,
        new: &NewHousehold,
    ) -> Result<Household>;

    async fn update_household(
        &self,
        g: &Grant<WriteRegistry>,
        id: HouseholdId,
        expected_version: i64,
        facts: &HouseholdFacts,
        valid_from: NaiveDate,
    ) -> Result<Household>;

    /// Fails with `Invalid` if the person already has an active household.
    async fn add_member(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        person: PersonId,
        relation: Relation,
        joined_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership>;

    async fn end_membership(
        &self,
        g: &Grant<WriteRegistry>,
        membership: MembershipId,
        left_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership>;
}

/// A household's income and assets (家庭经济状况), effective-dated, and the caseload read for a month.
#[async_trait]
pub trait EconomicsStore: Send + Sync {
    /// The economic record in force on `date` (`None` when none was recorded for that date).
    async fn economics_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>>;

    /// [`EconomicsStore::economics_as_of`] for showing the financial assets (bank data) unmasked,
    /// recording the access as `sensitive_revealed` in the same transaction; `NotFound`
    /// outside the scope.
    async fn reveal_economics(
        &self,
        g: &Grant<RevealSensitive>,
        household: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>>;

    /// The current record (the one an update names the `row_version` of).
    async fn economics_current(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
    ) -> Result<Option<jiuzhu_domain::EconomicsRecord>>;

    /// All versions, newest first.
    async fn economics_history(
        &self,
        g: &Grant<ReadRegistry>,
        household: HouseholdId,
    ) -> Result<Vec<Version<jiuzhu_domain::HouseholdEconomics>>>;

    /// Records the household's economics from `valid_from` on; the previous version goes to
    /// history. `expected_version` is `None` for the first record. Fails with `Conflict` when
    /// the version moved, `Invalid` when an amount is negative or a member named is not a member
    /// of the household on `valid_from`.
    async fn save_economics(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        expected_version: Option<i64>,
        economics: &jiuzhu_domain::HouseholdEconomics,
        valid_from: NaiveDate,
    ) -> Result<jiuzhu_domain::EconomicsRecord>;

    /// First records for many households in one transaction (one audit event); households
    /// that already have a record, unknown codes or non-members are reported in `Invalid`.
    async fn import_economics(
        &self,
        g: &Grant<ImportCaseload>,
        valid_from: NaiveDate,
        items: &[ImportEconomics],
    ) -> Result<u64>;

    /// Every household in the grant's scope (and under `division`) as of `date`, with its
    /// members, their facts and the economic record then in force, ordered by household id —
    /// read with a few set-based queries, for computing a whole caseload's month.
    async fn caseload_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        division: Option<&DivisionCode>,
        date: NaiveDate,
    ) -> Result<Vec<CaseloadEntry>>;
}

/// The legacy caseload import (存量数据导入).
#[async_trait]
pub trait CaseloadImportStore: Send + Sync {
    /// Writes the whole batch in one transaction, or nothing. Rows that conflict with what is
    /// stored (identity number already registered, division unknown or outside the scope) are
    /// all reported in `Invalid`, with their rows.
    async fn import_caseload(
        &self,
        g: &Grant<ImportCaseload>,
        batch: &CaseloadBatch,
        progress: Progress<'_>,
    ) -> Result<ImportSummary>;

    /// Marks the households (those in the grant's scope) as the old system's current recipients
    /// from `from` on, as a legacy caseload import does for all of its households; one already
    /// marked keeps its day. What the demo does for the households its policy grants a benefit.
    /// Returns how many were marked.
    async fn mark_current_recipients(
        &self,
        g: &Grant<ImportCaseload>,
        from: NaiveDate,
        households: &[HouseholdId],
    ) -> Result<u64>;
}
