//! The comparison's thresholds as the policy sets them for a region on a day. One reading for
//! the monthly run (CLI and page), the application's verification report and anything else
//! that compares feeds, so they can never disagree about a threshold.

use chrono::NaiveDate;
use jiuzhu_domain::DivisionCode;
use jiuzhu_policy::{PolicyError, PolicyLibrary};
use jiuzhu_verify::{FeedKind, VerifyPolicy};

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

/// Per kind, how many days before a month's end a source's data may be dated and still be
/// compared (`verify.window_days.<kind>`): a bank that delivers quarterly, a registry monthly.
pub fn source_windows(
    lib: &PolicyLibrary,
    region: &DivisionCode,
    date: NaiveDate,
) -> Result<std::collections::BTreeMap<FeedKind, u32>, PolicyError> {
    let set = lib.for_region(region)?;
    let v = set.at(date);
    FeedKind::ALL
        .iter()
        .map(|k| {
            let days = v.int(&format!("verify.window_days.{}", k.as_str()))?.value;
            Ok((*k, u32::try_from(days).unwrap_or(1)))
        })
        .collect()
}
