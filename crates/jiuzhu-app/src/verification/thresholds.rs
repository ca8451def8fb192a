//! The comparison's thresholds as the policy sets them for a region on a day. One reading for
//! the monthly run, the application's verification report and anything else that compares
//! feeds, so they can never disagree about a threshold. A run judges each household by its own
//! county's policy ([`resolve`]), read once per county, never per row.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::DivisionCode;
use jiuzhu_policy::{PolicyError, PolicyLibrary};
use jiuzhu_verify::{FeedKind, Thresholds, VerifyPolicy};

use super::RunCaseload;

/// Thresholds of `region` (its county's chain) on `date`; the R-LI-4 ordinary medical line makes
/// outreach leads (政策找人) where `verify.outreach.enabled` says so.
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
        medical_outreach_line: if v.flag("verify.outreach.enabled")?.value {
            Some(v.money("low_income.medical_warning.ordinary")?.value)
        } else {
            None
        },
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
/// A region no sub-national file covers (a run over the nation) takes the national values.
pub fn source_windows(
    lib: &PolicyLibrary,
    region: &DivisionCode,
    date: NaiveDate,
) -> Result<std::collections::BTreeMap<FeedKind, u32>, PolicyError> {
    let set = lib.for_region_or_nation(region)?;
    let v = set.at(date);
    FeedKind::ALL
        .iter()
        .map(|k| {
            let days = v.int(&format!("verify.window_days.{}", k.as_str()))?.value;
            Ok((*k, u32::try_from(days).unwrap_or(1)))
        })
        .collect()
}

/// The thresholds of a run: each household judged by its county's policy on `date`. Counties
/// whose policies agree share one class; when all agree the run has one policy for all.
/// Refused, naming them, when a county has no policy.
pub fn resolve(
    lib: &PolicyLibrary,
    caseload: &RunCaseload,
    date: NaiveDate,
) -> Result<Thresholds, String> {
    let mut classes: Vec<VerifyPolicy> = Vec::new();
    let mut class_of_county: BTreeMap<DivisionCode, u8> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut class_of_division = Vec::with_capacity(caseload.divisions.len());
    for division in &caseload.divisions {
        let county = division.county().unwrap_or_else(|| division.clone());
        let class = match class_of_county.get(&county) {
            Some(c) => *c,
            None => {
                let c = match verify_policy(lib, &county, date) {
                    Ok(policy) => class_of(&mut classes, policy)?,
                    // Reported below with every other county that has none.
                    Err(e) => {
                        missing.push(format!("{county}({})", e.message_zh()));
                        0
                    }
                };
                class_of_county.insert(county, c);
                c
            }
        };
        class_of_division.push(class);
    }
    if !missing.is_empty() {
        return Err(format!(
            "以下县(市、区)没有可用的政策参数,不能比对:{}",
            missing.join(";")
        ));
    }
    Ok(match classes.len() {
        0 | 1 => match classes.pop() {
            Some(p) => Thresholds::Uniform(p),
            None => return Err("本次比对没有家庭,无阈值可用".into()),
        },
        _ => Thresholds::PerHousehold {
            classes,
            of: caseload
                .household_division
                .iter()
                .map(|d| class_of_division[*d as usize])
                .collect(),
        },
    })
}

/// The class of `policy` among `classes`, added when new; a run has at most 256.
fn class_of(classes: &mut Vec<VerifyPolicy>, policy: VerifyPolicy) -> Result<u8, String> {
    let c = match classes.iter().position(|p| *p == policy) {
        Some(c) => c,
        None => {
            classes.push(policy);
            classes.len() - 1
        }
    };
    u8::try_from(c)
        .map_err(|_| "本次比对涉及的县(市、区)政策参数超过 256 种,请按县分别比对".to_string())
}
