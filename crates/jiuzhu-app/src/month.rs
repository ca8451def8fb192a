//! A month for the whole caseload of the store: every household of the actor's jurisdiction as of
//! the month, its economic record, computed by the engine (`jiuzhu_policy::run_month_read`) with
//! the parameters in force — shared by `/month`, `GET /api/v1/month`, the what-if on the store,
//! `jiuzhu month`, `jiuzhu whatif` without `--input` and the demo.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::{DivisionCode, FieldError, Grant, HouseholdId};
use jiuzhu_policy::caseload::{ReadCaseload, Totals};
use jiuzhu_policy::registry::{raw_household, read_registry};
use jiuzhu_policy::{run_month_read, Month, PolicyLibrary};
use serde::Serialize;

use crate::{App, Result};

/// The store's caseload as of a date, read for the engine: each household's id and code by
/// position, and the read caseload (households without an economic record fail with
/// `ECONOMICS_MISSING`, 缺少经济状况信息).
pub struct StoreCaseload {
    pub households: Vec<(HouseholdId, String)>,
    /// Each household's identifier in the system it was imported from, by the same position.
    pub source_refs: Vec<Option<String>>,
    pub read: ReadCaseload,
}

pub async fn caseload(
    app: &App,
    g: &Grant<ReadRegistry>,
    division: Option<&DivisionCode>,
    as_of: NaiveDate,
) -> Result<StoreCaseload> {
    let entries = app.store().caseload_as_of(g, division, as_of).await?;
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct FailedHousehold {
    pub household_id: HouseholdId,
    pub code: String,
    pub errors: Vec<FieldError>,
}

/// The month report of `jiuzhu month --json` and `GET /api/v1/month` (docs/calc.md).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct MonthOutput {
    /// `YYYY-MM`
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-11"))]
    pub month: Month,
    /// The date the registry was read at.
    pub as_of: NaiveDate,
    pub division: Option<String>,
    pub totals: Totals,
    pub by_township: BTreeMap<String, Totals>,
    pub failed: Vec<FailedHousehold>,
}

/// Computes `month` for every household of the grant's scope (under `division` if given), read as
/// of the month's last day or today if earlier, with the parameters in force now.
pub async fn report(
    app: &App,
    g: &Grant<ReadRegistry>,
    month: Month,
    division: Option<&DivisionCode>,
) -> Result<MonthOutput> {
    let params = app.params().await?;
    report_with_policies(app, g, &params.policies, month, division).await
}

/// [`report`] with other policy files than the parameters in force (`jiuzhu month
/// --policy-dir`: a what-if of the files alone, without the stored revisions).
pub async fn report_with_policies(
    app: &App,
    g: &Grant<ReadRegistry>,
    policies: &PolicyLibrary,
    month: Month,
    division: Option<&DivisionCode>,
) -> Result<MonthOutput> {
    let as_of = month.as_of(app.today());
    let caseload = caseload(app, g, division, as_of).await?;
    let report = run_month_read(policies, caseload.read, month);
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
    app: &App,
    g: &Grant<ReadRegistry>,
) -> Result<BTreeMap<String, String>> {
    Ok(app
        .store()
        .list_divisions(g)
        .await?
        .into_iter()
        .map(|d| (d.code.to_string(), d.name))
        .collect())
}

/// The store's caseload for a what-if month written as text (`YYYY-MM`); `None` when the month
/// does not parse (the what-if then reports it as a field error).
pub async fn read_for_month(
    app: &App,
    g: &Grant<ReadRegistry>,
    month: &str,
    division: Option<&DivisionCode>,
) -> Result<Option<ReadCaseload>> {
    match Month::parse(month.trim()) {
        Some(m) => Ok(Some(
            caseload(app, g, division, m.as_of(app.today())).await?.read,
        )),
        None => Ok(None),
    }
}
