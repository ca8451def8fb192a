//! A month for the whole caseload of the store: every household of the actor's jurisdiction as of
//! the month, its economic record, computed by the engine (`jiuzhu_policy::run_month_read`) —
//! shared by `/month`, `GET /api/v1/month`, the what-if on the store and `jiuzhu month` /
//! `jiuzhu whatif` without `--input`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{DivisionCode, FieldError, Grant, HouseholdId};
use jiuzhu_policy::caseload::{ReadCaseload, Totals};
use jiuzhu_policy::registry::{raw_household, read_registry};
use jiuzhu_policy::{run_month_read, Month, PolicyLibrary};
use jiuzhu_store::{Store, StoreError};
use serde::Serialize;

/// The store's caseload as of a date, read for the engine: each household's id and code by
/// position, and the read caseload (households without an economic record fail with
/// `ECONOMICS_MISSING`, 缺少经济状况信息).
pub struct StoreCaseload {
    pub households: Vec<(HouseholdId, String)>,
    /// Each household's identifier in the system it was imported from, by the same position.
    pub source_refs: Vec<Option<String>>,
    pub read: ReadCaseload,
}

pub async fn read_store_caseload(
    store: &dyn Store,
    g: &Grant<ReadRegistry>,
    division: Option<&DivisionCode>,
    as_of: NaiveDate,
) -> Result<StoreCaseload, StoreError> {
    let entries = store.caseload_as_of(g, division, as_of).await?;
    let mut households = Vec::with_capacity(entries.len());
    let mut source_refs = Vec::with_capacity(entries.len());
    let mut items = Vec::with_capacity(entries.len());
    for e in &entries {
        let s = &e.snapshot;
        households.push((s.household.id, s.household.code.clone()));
        source_refs.push(s.household.source_ref.clone());
        let raw = raw_household(
            &s.household.code,
            &s.facts,
            &s.members,
            e.economics.as_ref().map(|r| &r.economics),
        );
        items.push((s.household.code.clone(), raw));
    }
    Ok(StoreCaseload {
        households,
        source_refs,
        read: read_registry(items),
    })
}

/// A household the month could not compute, with its id (for a link to its page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FailedHousehold {
    pub household_id: HouseholdId,
    pub code: String,
    pub errors: Vec<FieldError>,
}

/// The month report of `jiuzhu month --json` and `GET /api/v1/month` (docs/calc.md).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthOutput {
    /// `YYYY-MM`
    #[schema(value_type = String, example = "2026-11")]
    pub month: Month,
    /// The date the registry was read at.
    pub as_of: NaiveDate,
    pub division: Option<String>,
    pub totals: Totals,
    pub by_township: BTreeMap<String, Totals>,
    pub failed: Vec<FailedHousehold>,
}

/// Computes `month` for every household of the grant's scope (under `division` if given).
pub async fn month_report(
    store: &dyn Store,
    g: &Grant<ReadRegistry>,
    lib: &PolicyLibrary,
    month: Month,
    today: NaiveDate,
    division: Option<&DivisionCode>,
) -> Result<MonthOutput, StoreError> {
    let as_of = month.as_of(today);
    let caseload = read_store_caseload(store, g, division, as_of).await?;
    let report = run_month_read(lib, caseload.read, month);
    let failed = report
        .failed
        .into_iter()
        .map(|f| {
            let (id, code) = caseload.households[f.index].clone();
            FailedHousehold {
                household_id: id,
                code,
                errors: f.errors,
            }
        })
        .collect();
    Ok(MonthOutput {
        month,
        as_of,
        division: division.map(|d| d.to_string()),
        totals: report.totals,
        by_township: report.by_township,
        failed,
    })
}

/// The Chinese names of the townships of a report, from the jurisdiction tree.
pub async fn township_names(
    store: &dyn Store,
    g: &Grant<ReadRegistry>,
) -> Result<BTreeMap<String, String>, StoreError> {
    Ok(store
        .list_divisions(g)
        .await?
        .into_iter()
        .map(|d| (d.code.to_string(), d.name))
        .collect())
}

/// The store's caseload for a what-if month written as text (`YYYY-MM`); `None` when the month
/// does not parse (the what-if then reports it as a field error).
pub async fn read_for_month(
    store: &dyn Store,
    g: &Grant<ReadRegistry>,
    month: &str,
    today: NaiveDate,
) -> Result<Option<ReadCaseload>, StoreError> {
    match Month::parse(month.trim()) {
        Some(m) => Ok(Some(
            read_store_caseload(store, g, None, m.as_of(today))
                .await?
                .read,
        )),
        None => Ok(None),
    }
}
