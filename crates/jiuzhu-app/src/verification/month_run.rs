//! The month's comparison as one use-case for every front door (the runs page and API, `jiuzhu
//! verify run`, the demo): checks and plans first, so that a form shows its refusals at once,
//! then the run.

use std::sync::Arc;

use chrono::NaiveDate;
use jiuzhu_domain::access::RunVerification;
use jiuzhu_domain::{DivisionCode, FieldError, Grant, Month};
use jiuzhu_policy::PolicyLibrary;
use jiuzhu_store::kept::FeedError;

use super::{
    due, nothing_to_compare, plan_sources, refuse_future_month, run_from_store, thresholds,
    MonthRequest, RunFeed, RunPlan, RunReport,
};
use crate::{App, Error, Result};

/// A run checked and planned, ready to start.
pub struct PlannedRun {
    pub month: Month,
    /// The division the run is limited to (`None`: the actor's whole jurisdiction).
    pub division: Option<DivisionCode>,
    /// The division whose deliveries and calendar the run uses.
    pub region: DivisionCode,
    /// The deliveries to compare and every source's status.
    pub plan: RunPlan,
    /// When its warnings are due.
    pub due: NaiveDate,
    policies: Arc<PolicyLibrary>,
}

/// Checks a run of `month` over `division` (or the actor's jurisdiction) and plans its sources:
/// refused when the month has not come or the region has no policy. Whether any source has a
/// delivery to compare is [`PlannedRun::something_to_compare`].
pub async fn plan_run(
    app: &App,
    g: &Grant<RunVerification>,
    month: Month,
    division: Option<DivisionCode>,
) -> Result<PlannedRun> {
    refuse_future_month(month, app.clock().now())
        .map_err(|m| Error::invalid(vec![FieldError::new("month", "MONTH_IN_FUTURE", m)]))?;
    let end = month.last_day();
    let region = division.clone().unwrap_or_else(|| g.scope().root().clone());
    let params = app.params().await?;
    let unreadable = |e: jiuzhu_policy::PolicyError| {
        Error::Unserviceable(format!("政策参数无法读取:{}", e.message_zh()))
    };
    // A county's run is refused here when its policy cannot be read; a run over several
    // counties names each county without one when it starts (thresholds::resolve).
    if region.county().is_some() {
        thresholds::verify_policy(&params.policies, &region, end).map_err(unreadable)?;
    }
    let windows = thresholds::source_windows(&params.policies, &region, end).map_err(unreadable)?;
    let latest = app.store().deliveries_for_run(g, &region, end).await?;
    let plan = plan_sources(latest, month, &windows);
    let calendar = params.calendars.for_division(&region)?;
    let due = due::handling_due(&params.policies, &calendar, Some(&region), app.today())
        .map_err(|e| Error::Unserviceable(format!("预警到期日无法计算:{e}")))?;
    Ok(PlannedRun {
        month,
        division,
        region,
        plan,
        due,
        policies: params.policies.clone(),
    })
}

impl PlannedRun {
    /// Refused (`NO_DELIVERIES`, saying how many sources are stale or missing) when no source
    /// has a delivery to compare.
    pub fn something_to_compare(&self) -> Result<()> {
        if self.plan.kept.is_empty() {
            return Err(Error::invalid(vec![FieldError::new(
                "month",
                "NO_DELIVERIES",
                nothing_to_compare(self.month, &self.plan),
            )]));
        }
        Ok(())
    }
}

/// Runs a planned comparison over the latest deliveries and stores it with its warnings.
pub async fn run_planned(
    app: &App,
    g: &Grant<RunVerification>,
    planned: PlannedRun,
) -> Result<RunReport, FeedError> {
    planned
        .something_to_compare()
        .map_err(|e| FeedError::Invalid(e.to_string()))?;
    run_from_store(
        app.store().as_ref(),
        g,
        None,
        app.feeds(),
        &MonthRequest {
            month: planned.month,
            division: planned.division,
            policies: &planned.policies,
            threads: 2,
            started_at: app.clock().now(),
            due: planned.due,
            sources: planned.plan.sources,
        },
        planned.plan.kept.into_iter().map(RunFeed::Kept).collect(),
    )
    .await
}
