//! The policy engine of jiuzhu (救助): regional, dated policy parameters and the calculations of
//! POLICY.md §1–5 (household composition, 低保, 特困, 临时救助, low-income classes and warning
//! lines), each result with an explanation. Pure: no files, no network, no clock — policy texts,
//! inputs and the month are given to it.
//!
//! ```
//! use jiuzhu_policy::{calc_json, Month, PolicyLibrary};
//! let lib = PolicyLibrary::builtin().unwrap();
//! let input = r#"{"region": "371002", "area": "urban", "members": [
//!     {"id_number": "11010519491231002X", "relation": "head", "income": "300"}]}"#;
//! let out = calc_json(&lib, input, Month::parse("2020-07").unwrap()).unwrap();
//! assert_eq!(out.result.dibao.base.to_string(), "487.00");
//! ```

pub mod calc;
pub mod caseload;
pub mod error;
pub mod explain;
pub mod input;
pub mod model;
pub mod params;
pub mod registry;
pub mod revisions;

pub use calc::{calculate, calculate_into, calculate_with, HouseholdResult, MonthParams};
pub use caseload::{
    parse_change, parse_param_value, run_month, run_month_read, run_what_if, run_what_if_read,
    what_if, Change, MonthCalculator, MonthReport, WhatIfOutput, WhatIfReport,
};
pub use error::{CalcError, PolicyError};
pub use explain::{
    explain, explain_steps, render_text_zh, CalcOutput, Explanation, Step, TraceStep,
};
pub use input::RawHousehold;
pub use model::{first_payment_month, HouseholdInput, MemberInput, Month};
pub use params::{PolicyLibrary, PolicySet, Value};
pub use revisions::{
    parse_revision_value, validate_revision, value_text, ParamState, ValidRevision,
};

/// Parses and validates a household JSON, computes the month and explains it.
pub fn calc_json(
    lib: &PolicyLibrary,
    input_json: &str,
    month: Month,
) -> Result<CalcOutput<RawHousehold>, CalcError> {
    calc_raw(lib, RawHousehold::from_json(input_json)?, month)
}

/// Validates a household already read (from the registry, or from JSON), computes the month and
/// explains it; the output keeps the household as given.
pub fn calc_raw(
    lib: &PolicyLibrary,
    raw: RawHousehold,
    month: Month,
) -> Result<CalcOutput<RawHousehold>, CalcError> {
    let hh = raw.validate()?;
    let set = lib.for_region(&hh.region)?;
    let mp = MonthParams::resolve(&set, month)?;
    let result = calculate_with(&mp, &hh)?;
    let explanation = explain(&mp, &result).steps(&mp);
    Ok(CalcOutput {
        month,
        region: hh.region.to_string(),
        policy: set.versions(),
        result,
        explanation,
        input: raw,
    })
}
