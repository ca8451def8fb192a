//! The registry's divisions, persons and households, read and changed one at a time. Each read
//! is scoped to the grant's jurisdiction and each change carries its audit event, in the store.

use chrono::NaiveDate;
use jiuzhu_domain::access::{ManageDivisions, ReadRegistry, RevealSensitive, WriteRegistry};

use jiuzhu_domain::{
    Division, DivisionCode, Grant, Household, HouseholdFacts, HouseholdId, IdNumber, Member,
    Membership, MembershipId, Person, PersonFacts, PersonId, Relation, Version,
};
use jiuzhu_store::{
    HouseholdQuery, HouseholdSnapshot, HouseholdSummary, NewHousehold, Page, PersonQuery,
    PersonSummary,
};

use crate::{App, Result};

impl App {
    pub async fn get_division(
        &self,
        g: &Grant<ReadRegistry>,
        code: &DivisionCode,
    ) -> Result<Option<Division>> {
        Ok(self.store.get_division(g, code).await?)
    }

    /// The nodes in the actor's scope (its own node and all below), ordered by code.
    pub async fn list_divisions(&self, g: &Grant<ReadRegistry>) -> Result<Vec<Division>> {
        Ok(self.store.list_divisions(g).await?)
    }

    /// Creates a node or renames an existing one. A township, village or grid needs its parent
    /// (county, township, village) in the tree; county and above hang under their nearest existing
    /// ancestor.
    pub async fn save_division(
        &self,
        g: &Grant<ManageDivisions>,
        code: &DivisionCode,
        name: &str,
    ) -> Result<Division> {
        Ok(self.store.save_division(g, code, name).await?)
    }

    pub async fn search_persons(
        &self,
        g: &Grant<ReadRegistry>,
        q: &PersonQuery,
    ) -> Result<Page<PersonSummary>> {
        Ok(self.store.search_persons(g, q).await?)
    }

    pub async fn get_person(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Option<Person>> {
        Ok(self.store.get_person(g, id).await?)
    }

    pub async fn find_person_by_id_number(
        &self,
        g: &Grant<ReadRegistry>,
        id_number: &IdNumber,
    ) -> Result<Option<Person>> {
        Ok(self.store.find_person_by_id_number(g, id_number).await?)
    }

    /// Returns the person for unmasked display and records the access (which fields) in the
    /// audit log, in one transaction.
    pub async fn reveal_person(
        &self,
        g: &Grant<RevealSensitive>,
        id: PersonId,
        fields: &[&str],
    ) -> Result<Person> {
        Ok(self.store.reveal_person(g, id, fields).await?)
    }

    /// All versions, newest first.
    pub async fn person_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Version<PersonFacts>>> {
        Ok(self.store.person_history(g, id).await?)
    }

    pub async fn person_memberships(
        &self,
        g: &Grant<ReadRegistry>,
        id: PersonId,
    ) -> Result<Vec<Membership>> {
        Ok(self.store.person_memberships(g, id).await?)
    }

    pub async fn create_person(
        &self,
        g: &Grant<WriteRegistry>,
        id_number: &IdNumber,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person> {
        Ok(self
            .store
            .create_person(g, id_number, facts, valid_from)
            .await?)
    }

    /// Replaces the facts from `valid_from` on; the previous version goes to history. Fails with
    /// `Conflict` unless `expected_version` is the current row version, and with `OutOfScope`
    /// when the new residence lies outside the actor's scope.
    pub async fn update_person(
        &self,
        g: &Grant<WriteRegistry>,
        id: PersonId,
        expected_version: i64,
        facts: &PersonFacts,
        valid_from: NaiveDate,
    ) -> Result<Person> {
        Ok(self
            .store
            .update_person(g, id, expected_version, facts, valid_from)
            .await?)
    }

    pub async fn search_households(
        &self,
        g: &Grant<ReadRegistry>,
        q: &HouseholdQuery,
    ) -> Result<Page<HouseholdSummary>> {
        Ok(self.store.search_households(g, q).await?)
    }

    pub async fn get_household(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Option<Household>> {
        Ok(self.store.get_household(g, id).await?)
    }

    pub async fn household_as_of(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
        date: NaiveDate,
    ) -> Result<Option<HouseholdSnapshot>> {
        Ok(self.store.household_as_of(g, id, date).await?)
    }

    /// All versions, newest first.
    pub async fn household_history(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Version<HouseholdFacts>>> {
        Ok(self.store.household_history(g, id).await?)
    }

    /// Every membership the household ever had (joined and left), with the persons.
    pub async fn household_members(
        &self,
        g: &Grant<ReadRegistry>,
        id: HouseholdId,
    ) -> Result<Vec<Member>> {
        Ok(self.store.household_members(g, id).await?)
    }

    pub async fn create_household(
        &self,
        g: &Grant<WriteRegistry>,
        new: &NewHousehold,
    ) -> Result<Household> {
        Ok(self.store.create_household(g, new).await?)
    }

    pub async fn update_household(
        &self,
        g: &Grant<WriteRegistry>,
        id: HouseholdId,
        expected_version: i64,
        facts: &HouseholdFacts,
        valid_from: NaiveDate,
    ) -> Result<Household> {
        Ok(self
            .store
            .update_household(g, id, expected_version, facts, valid_from)
            .await?)
    }

    /// Fails with `Invalid` if the person already has an active household.
    pub async fn add_member(
        &self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        person: PersonId,
        relation: Relation,
        joined_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership> {
        Ok(self
            .store
            .add_member(g, household, person, relation, joined_on, reason)
            .await?)
    }

    pub async fn end_membership(
        &self,
        g: &Grant<WriteRegistry>,
        membership: MembershipId,
        left_on: NaiveDate,
        reason: Option<&str>,
    ) -> Result<Membership> {
        Ok(self
            .store
            .end_membership(g, membership, left_on, reason)
            .await?)
    }
}
