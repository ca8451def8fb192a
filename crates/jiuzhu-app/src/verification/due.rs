//! When a run's warnings are due: the run's day plus the policy's working days to handle them
//! (`verify.handling.working_days`) on the working-day calendar of the run's region.

use chrono::NaiveDate;
use jiuzhu_domain::DivisionCode;
use jiuzhu_policy::PolicyLibrary;
use jiuzhu_workflow::WorkCalendar;

/// The parameter of the handling time limit.
pub const HANDLING_PARAM: &str = "verify.handling.working_days";

/// A warning's due date: `run_day` plus the policy's [`HANDLING_PARAM`] working days on
/// `calendar`. The policy is `region`'s county chain; a run without a region, or over a region
/// no sub-national file covers, uses the national file's value (the default every region
/// inherits). An error (in Chinese) when the parameter is missing or the calendar does not cover
/// the period.
pub fn handling_due(
    lib: &PolicyLibrary,
    calendar: &WorkCalendar,
    region: Option<&DivisionCode>,
    run_day: NaiveDate,
) -> Result<NaiveDate, String> {
    let missing = || format!("政策参数 {HANDLING_PARAM} 无法读取");
    let nation = DivisionCode::nation();
    let days = lib
        .for_region_or_nation(region.unwrap_or(&nation))
        .and_then(|set| set.at(run_day).int(HANDLING_PARAM))
        .map_err(|e| format!("{}:{e}", missing()))?
        .value;
    let days = u32::try_from(days).map_err(|_| format!("政策参数 {HANDLING_PARAM} 无效"))?;
    calendar
        .add_working_days(run_day, days)
        .map_err(|e| e.message_zh())
}
