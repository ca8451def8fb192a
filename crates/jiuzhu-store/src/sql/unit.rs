//! [`WriteUnit`] on one write transaction of the SQL store.

use async_trait::async_trait;
use chrono::NaiveDate;

use jiuzhu_domain::access::{HandleWarnings, WriteRegistry};
use jiuzhu_domain::{Grant, HouseholdEconomics, HouseholdId};

use super::{changes, economics, verification, SqlStore, WriteTx};
use crate::{CaseId, CaseRecord, CloseWarning, NewChange, Result, WarningRecord, WriteUnit};

pub(super) struct SqlUnit<'a> {
    tx: WriteTx<'static, 'a>,
}

impl SqlStore {
    pub(super) async fn begin_unit(&self) -> Result<Box<dyn WriteUnit + '_>> {
        Ok(Box::new(SqlUnit {
            tx: self.write().await?,
        }))
    }
}

#[async_trait]
impl WriteUnit for SqlUnit<'_> {
    fn today(&self) -> NaiveDate {
        jiuzhu_domain::clock::beijing_date(self.tx.now)
    }

    async fn warning_to_close(
        &mut self,
        g: &Grant<HandleWarnings>,
        id: i64,
        expected_version: i64,
        close: &CloseWarning,
    ) -> Result<WarningRecord> {
        verification::warning_to_close(&mut self.tx, g, id, expected_version, close).await
    }

    async fn close_warning(
        &mut self,
        g: &Grant<HandleWarnings>,
        before: &WarningRecord,
        close: &CloseWarning,
        change_case: Option<CaseId>,
        note_more: Option<&str>,
    ) -> Result<WarningRecord> {
        verification::close_on(&mut self.tx, g, before, close, change_case, note_more).await
    }

    async fn save_economics(
        &mut self,
        g: &Grant<WriteRegistry>,
        household: HouseholdId,
        expected_version: Option<i64>,
        found: &HouseholdEconomics,
        valid_from: NaiveDate,
    ) -> Result<()> {
        economics::save_economics_on(
            &mut self.tx,
            g,
            household,
            expected_version,
            found,
            valid_from,
        )
        .await?;
        Ok(())
    }

    async fn running_case_id(&mut self, household: HouseholdId) -> Result<Option<CaseId>> {
        changes::running_case_id(self.tx.conn(), household).await
    }

    async fn open_change_on(&mut self, parent: CaseId) -> Result<Option<(CaseId, String)>> {
        changes::open_change_of(self.tx.conn(), parent).await
    }

    async fn open_change_for_warning(
        &mut self,
        g: &Grant<HandleWarnings>,
        new: &NewChange,
        warning: i64,
    ) -> Result<CaseRecord> {
        let today = self.today();
        changes::open_change_tx(
            &mut self.tx,
            g.actor(),
            g.scope(),
            today,
            new,
            Some(warning),
        )
        .await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await
    }
}
