//! The comparison's thresholds as the policy sets them for a region on a day. One reading for
//! the monthly run (CLI and page), the application's verification report and anything else
//! that compares feeds, so they can never disagree about a threshold.

use chrono::NaiveDate;
use jiuzhu_domain::DivisionCode;
use jiuzhu_policy::{PolicyError, PolicyLibrary};
use jiuzhu_verify::VerifyPolicy;

/// Thresholds of `region` (its county's chain) on `date`, with the R-LI-4 ordinary medical line
/// switched on for outreach leads (政策找人).
pub fn verify_policy(
    lib: &PolicyLibrary,
    region: &DivisionCode,
    date: NaiveDate,
) -> Result<VerifyPolicy, PolicyError> {
    let set = lib.for_region(region)?;
    let v = set.at(date);
    Ok(VerifyPolicy {
        urban_standard: v.money("dibao.standard.urban")?.value,
        rural_standard: v.money("dibao.standard.rural")?.value,
        deposit_limit_per_member: v.money("verify.deposit.limit_per_member")?.value,
        medical_line: v.money("low_income.medical_warning.low_income")?.value,
        medical_outreach_line: Some(v.money("low_income.medical_warning.ordinary")?.value),
        // Vehicles for disabled persons never count (a national rule, not a parameter).
        excluded_vehicle_types: vec!["disabled_mobility".into()],
        residential_allowed: u32::try_from(v.int("verify.property.residential_allowed")?.value)
            .unwrap_or(0),
    })
}

/// The months an application's verification report averages wages and pensions over.
pub fn report_income_months(
    lib: &PolicyLibrary,
    region: &DivisionCode,
    date: NaiveDate,
) -> Result<u32, PolicyError> {
    let set = lib.for_region(region)?;
    let months = set.at(date).int("verify.report.income_months")?.value;
    Ok(u32::try_from(months).unwrap_or(12).max(1))
}
