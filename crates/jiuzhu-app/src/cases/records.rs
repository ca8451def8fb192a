//! Cases, their history and their changes, read one at a time in the grant's scope.

use jiuzhu_domain::{Grant, HouseholdId};
use jiuzhu_store::{
    BenefitStatus, CaseDecision, CaseEvent, CaseId, CaseQuery, CaseRecord, CaseSummary,
    ChangeRecord, FilingEntry, Page, TaskQuery, TaskRow,
};

use crate::{App, Result};

impl App {
    /// A case whose responsible or filing division is in scope.
    pub async fn get_case(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        id: CaseId,
    ) -> Result<Option<CaseRecord>> {
        Ok(self.store.get_case(g, id).await?)
    }

    /// Cases in scope, newest first.
    pub async fn list_cases(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        q: &CaseQuery,
    ) -> Result<Page<CaseSummary>> {
        Ok(self.store.list_cases(g, q).await?)
    }

    /// The user's queue: open steps in scope that the grant's role may act on at `q.level`, and
    /// the overdue steps of `q.below_level` (escalated), by due date.
    pub async fn task_queue(
        &self,
        g: &Grant<jiuzhu_domain::access::ActOnCase>,
        q: &TaskQuery,
    ) -> Result<Vec<TaskRow>> {
        Ok(self.store.task_queue(g, q).await?)
    }

    pub async fn case_events(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        id: CaseId,
    ) -> Result<Vec<CaseEvent>> {
        Ok(self.store.case_events(g, id).await?)
    }

    pub async fn case_decisions(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        id: CaseId,
    ) -> Result<Vec<CaseDecision>> {
        Ok(self.store.case_decisions(g, id).await?)
    }

    /// The benefit status (active/suspended/ended, amount, months) of an approved case.
    pub async fn benefit_status(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        case_id: CaseId,
    ) -> Result<Option<BenefitStatus>> {
        Ok(self.store.benefit_status(g, case_id).await?)
    }

    /// The change a case is (None for other cases), with what it decided.
    pub async fn case_change(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        case_id: CaseId,
    ) -> Result<Option<ChangeRecord>> {
        Ok(self.store.case_change(g, case_id).await?)
    }

    /// The changes of an approved case, oldest first.
    pub async fn case_changes(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        parent_case_id: CaseId,
    ) -> Result<Vec<ChangeRecord>> {
        Ok(self.store.case_changes(g, parent_case_id).await?)
    }

    /// The benefit statuses of a household's approved cases.
    pub async fn household_benefits(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
        household_id: HouseholdId,
    ) -> Result<Vec<BenefitStatus>> {
        Ok(self.store.household_benefits(g, household_id).await?)
    }

    /// Approved cases in scope whose workflow files them with the county (an open or completed
    /// `filing` step), with the filing due date or when and by whom they were filed.
    pub async fn filing_list(
        &self,
        g: &Grant<jiuzhu_domain::access::ReadCases>,
    ) -> Result<Vec<FilingEntry>> {
        Ok(self.store.filing_list(g).await?)
    }
}
