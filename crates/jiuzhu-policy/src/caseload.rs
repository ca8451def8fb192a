//! Whole-caseload computation and what-if: a month for every household, and the difference a
//! policy change makes (cost, newly eligible, no longer eligible), by township.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use jiuzhu_domain::{DivisionCode, FieldError, Money};
use serde::Serialize;

use crate::calc::{calculate_with, DibaoRoute, HouseholdResult, MonthParams};
use crate::error::CalcError;
use crate::input::RawHousehold;
use crate::model::{HouseholdInput, Month};
use crate::params::{param_def, Kind, PolicyLibrary, Source, Value};

/// Resolves parameters once per county (every township of a county shares its policy chain).
pub struct MonthCalculator<'a> {
    lib: &'a PolicyLibrary,
    month: Month,
    cache: HashMap<String, Result<MonthParams, CalcError>>,
}

impl<'a> MonthCalculator<'a> {
    pub fn new(lib: &'a PolicyLibrary, month: Month) -> Self {
        MonthCalculator {
            lib,
            month,
            cache: HashMap::new(),
        }
    }

    pub fn calculate(&mut self, hh: &HouseholdInput) -> Result<HouseholdResult, CalcError> {
        let key = hh
            .region
            .county()
            .unwrap_or_else(|| hh.region.clone())
            .to_string();
        let (lib, month) = (self.lib, self.month);
        let mp = self.cache.entry(key).or_insert_with(|| {
            let set = lib.for_region(&hh.region)?;
            Ok(MonthParams::resolve(&set, month)?)
        });
        match mp {
            Ok(mp) => calculate_with(mp, hh),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Cost and counts of one group of households (a township, or the whole caseload).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub households: u64,
    pub dibao_households: u64,
    pub dibao_persons: u64,
    /// 低保 base amounts (gap-filling or tiers) and classified supplements; `dibao` is what is
    /// paid (which for grace and single-person routes is not always their sum).
    pub dibao_base: Money,
    pub dibao_supplements: Money,
    pub dibao: Money,
    pub tekun: Money,
    pub total: Money,
}

impl Totals {
    fn add(&mut self, r: &HouseholdResult) {
        self.households += 1;
        if r.dibao.route != DibaoRoute::None {
            self.dibao_households += 1;
            self.dibao_persons += match r.dibao.route {
                DibaoRoute::SinglePerson => {
                    r.dibao.single_persons.iter().filter(|s| s.eligible).count() as u64
                }
                _ => r.dibao.members as u64,
            };
        }
        self.dibao_base += r.dibao.base;
        self.dibao_supplements += r.dibao.supplements;
        self.dibao += r.dibao.amount;
        self.tekun += r.tekun_total;
        self.total += r.total;
    }
}

/// A household the caseload run could not compute, with the reasons.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failed {
    pub index: usize,
    pub code: Option<String>,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthReport {
    pub month: Option<Month>,
    pub totals: Totals,
    pub by_township: BTreeMap<String, Totals>,
    pub failed: Vec<Failed>,
}

fn township_of(hh: &HouseholdInput) -> String {
    hh.region
        .township()
        .unwrap_or_else(|| hh.region.clone())
        .to_string()
}

/// Computes a month for every household.
pub fn run_month(lib: &PolicyLibrary, households: &[HouseholdInput], month: Month) -> MonthReport {
    let mut calc = MonthCalculator::new(lib, month);
    let mut rep = MonthReport {
        month: Some(month),
        ..Default::default()
    };
    for (i, hh) in households.iter().enumerate() {
        match calc.calculate(hh) {
            Ok(r) => {
                rep.totals.add(&r);
                rep.by_township.entry(township_of(hh)).or_default().add(&r);
            }
            Err(e) => rep.failed.push(Failed {
                index: i,
                code: hh.code.clone(),
                errors: e.field_errors(),
            }),
        }
    }
    rep
}

/// A caseload read for a run: the valid inputs, their positions in the caseload, and the
/// households that could not be read (by position) — from [`read_caseload`] or
/// [`crate::registry::read_registry`].
pub type ReadCaseload = (Vec<HouseholdInput>, Vec<usize>, Vec<Failed>);

/// [`run_month`] over a read caseload: failures of reading and of computing together, by
/// position in the caseload.
pub fn run_month_read(lib: &PolicyLibrary, read: ReadCaseload, month: Month) -> MonthReport {
    let (households, positions, mut failed) = read;
    let mut report = run_month(lib, &households, month);
    for f in &mut report.failed {
        f.index = positions.get(f.index).copied().unwrap_or(f.index);
    }
    failed.append(&mut report.failed);
    failed.sort_by_key(|f| f.index);
    report.failed = failed;
    report
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub households: u64,
    pub base_cost: Money,
    pub new_cost: Money,
    pub cost_difference: Money,
    pub newly_eligible: u64,
    pub no_longer_eligible: u64,
    /// Household codes (or indexes) newly eligible / no longer eligible.
    pub newly_eligible_households: Vec<String>,
    pub no_longer_eligible_households: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WhatIfReport {
    pub month: Option<Month>,
    pub total: Difference,
    pub by_township: BTreeMap<String, Difference>,
    pub failed: Vec<Failed>,
}

/// Applies two policy libraries (the current one and a changed one) to the same caseload and
/// reports the cost difference and the households whose dibao eligibility changes, by township.
pub fn what_if(
    base: &PolicyLibrary,
    changed: &PolicyLibrary,
    households: &[HouseholdInput],
    month: Month,
) -> WhatIfReport {
    let mut a = MonthCalculator::new(base, month);
    let mut b = MonthCalculator::new(changed, month);
    let mut rep = WhatIfReport {
        month: Some(month),
        ..Default::default()
    };
    for (i, hh) in households.iter().enumerate() {
        let (ra, rb) = match (a.calculate(hh), b.calculate(hh)) {
            (Ok(ra), Ok(rb)) => (ra, rb),
            (Err(e), _) | (_, Err(e)) => {
                rep.failed.push(Failed {
                    index: i,
                    code: hh.code.clone(),
                    errors: e.field_errors(),
                });
                continue;
            }
        };
        let name = hh.code.clone().unwrap_or_else(|| format!("#{i}"));
        let before = ra.dibao.route != DibaoRoute::None;
        let after = rb.dibao.route != DibaoRoute::None;
        for d in [
            &mut rep.total,
            rep.by_township.entry(township_of(hh)).or_default(),
        ] {
            d.households += 1;
            d.base_cost += ra.total;
            d.new_cost += rb.total;
            d.cost_difference = d.new_cost - d.base_cost;
            if after && !before {
                d.newly_eligible += 1;
                d.newly_eligible_households.push(name.clone());
            }
            if before && !after {
                d.no_longer_eligible += 1;
                d.no_longer_eligible_households.push(name.clone());
            }
        }
    }
    rep
}

// ---- what-if requests (shared by `jiuzhu whatif`, `POST /api/v1/whatif` and `/whatif`) ---------

/// One requested change: a policy parameter, its new value as written, and the parsed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub param: String,
    pub text: String,
    pub value: Value,
}

/// Parses a change written `PARAM=VALUE` (e.g. `dibao.standard.urban=850`); errors name `field`.
pub fn parse_change(s: &str, field: &str) -> Result<Change, FieldError> {
    let (param, text) = s.split_once('=').ok_or_else(|| {
        FieldError::new(
            field,
            "CHANGE_FORMAT",
            format!("“{}”应为 参数=值,例如 dibao.standard.urban=850", s.trim()),
        )
    })?;
    let param = param.trim().to_string();
    let value = parse_param_value(&param, text).map_err(|mut e| {
        e.field = field.to_string();
        e
    })?;
    Ok(Change {
        param,
        text: text.trim().to_string(),
        value,
    })
}

/// A parameter value written as text (money `850` or `850.00`, rate `0.15`, integer,
/// `true`/`false`, a choice word), converted to the parameter's kind. Tiered tables cannot be
/// written this way. Errors name the field `param`.
pub fn parse_param_value(param: &str, text: &str) -> Result<Value, FieldError> {
    let err = |code: &str, message: String| FieldError::new(param, code, message);
    let def =
        param_def(param).ok_or_else(|| err("PARAM_UNKNOWN", format!("未知的政策参数 {param}")))?;
    let t = text.trim();
    let bad = |what: &str| err("PARAM_VALUE", format!("{param}:“{t}”不是{what}"));
    Ok(match def.kind {
        Kind::Money => {
            let m = Money::parse(t)
                .map_err(|e| err("PARAM_VALUE", format!("{param}:“{t}”{}", e.message_zh())))?;
            if m.is_negative() {
                return Err(bad("非负金额"));
            }
            Value::Money(m)
        }
        Kind::Dec { max } => {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(bad("非负小数"));
            }
            let d: rust_decimal::Decimal = t.parse().map_err(|_| bad("非负小数"))?;
            if d > rust_decimal::Decimal::from(max) {
                return Err(err("PARAM_VALUE", format!("{param}:{t} 超过上限 {max}")));
            }
            Value::Decimal(d)
        }
        Kind::Int { min, max } => {
            let i: i64 = t.parse().map_err(|_| bad("整数"))?;
            if !(min..=max).contains(&i) {
                return Err(err(
                    "PARAM_VALUE",
                    format!("{param}:{i} 不在 {min}–{max} 之内"),
                ));
            }
            Value::Int(i)
        }
        Kind::Bool => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("true 或 false")),
        },
        Kind::Choice(words) => {
            if !words.contains(&t) {
                return Err(err(
                    "PARAM_VALUE",
                    format!("{param}:“{t}”不是可选值({})", words.join(", ")),
                ));
            }
            Value::Choice(t.to_string())
        }
        Kind::Tiers => {
            return Err(err(
                "PARAM_TIERS",
                format!("{param}:分档参数请在政策文件中修改"),
            ))
        }
    })
}

/// Reads a caseload (calc inputs, docs/calc.md). Households whose input is invalid are returned
/// as failures (with their position) and left out; the others come with their positions.
/// Households without a code are named `#index`.
pub fn read_caseload(
    items: &[serde_json::Value],
) -> (Vec<HouseholdInput>, Vec<usize>, Vec<Failed>) {
    let mut households = Vec::new();
    let mut positions = Vec::new();
    let mut failed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let code = item.get("code").and_then(|c| c.as_str()).map(String::from);
        let parsed = RawHousehold::from_json(&item.to_string()).and_then(|raw| raw.validate());
        match parsed {
            Ok(mut hh) => {
                hh.code.get_or_insert_with(|| format!("#{i}"));
                households.push(hh);
                positions.push(i);
            }
            Err(e) => failed.push(Failed {
                index: i,
                code,
                errors: e.0,
            }),
        }
    }
    (households, positions, failed)
}

/// The region whose file holds the value in force on `from` for every household (the default
/// region of a change); an error (field `region`) when there is none or more than one.
pub fn default_region(
    lib: &PolicyLibrary,
    households: &[HouseholdInput],
    params: &[String],
    from: NaiveDate,
) -> Result<DivisionCode, FieldError> {
    let mut regions = BTreeSet::new();
    for hh in households {
        let Ok(set) = lib.for_region(&hh.region) else {
            continue; // reported as a failed household
        };
        for p in params {
            if let Ok(e) = set.entry(p, from) {
                regions.insert(e.region.clone());
            }
        }
    }
    let err = |code: &str, message: String| FieldError::new("region", code, message);
    match regions.len() {
        1 => {
            let r = regions.into_iter().next().unwrap_or_default();
            DivisionCode::parse(&r)
                .map_err(|e| err("REGION_INVALID", format!("{r}:{}", e.message_zh())))
        }
        0 => Err(err(
            "REGION_REQUIRED",
            format!("{from} 没有生效的参数值可调整,请指定地区"),
        )),
        _ => Err(err(
            "REGION_AMBIGUOUS",
            format!(
                "参数值来自多个地区({}),请指定调整哪个地区",
                regions.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// A change as applied (the `change` entries of the report).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedChange {
    pub param: String,
    pub value: String,
    pub from: NaiveDate,
    pub region: String,
}

/// The what-if report as `jiuzhu whatif` and `POST /api/v1/whatif` give it (docs/calc.md).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhatIfOutput {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-11"))]
    pub month: Month,
    pub change: Vec<AppliedChange>,
    pub total: Difference,
    pub by_township: BTreeMap<String, Difference>,
    /// Households not computed (invalid input or no policy), by position in the caseload.
    pub failed: Vec<Failed>,
}

/// Runs a what-if request: reads the caseload, applies every change from `from` in the file of
/// `region` (default: [`default_region`]) and compares the month under both libraries. Errors
/// (fields `region` or `changes`) mean nothing was computed.
pub fn run_what_if(
    lib: &PolicyLibrary,
    caseload: &[serde_json::Value],
    changes: &[Change],
    month: Month,
    from: NaiveDate,
    region: Option<DivisionCode>,
) -> Result<WhatIfOutput, FieldError> {
    run_what_if_read(lib, read_caseload(caseload), changes, month, from, region)
}

/// [`run_what_if`] over a caseload already read (e.g. the registry's, by
/// [`crate::registry::read_registry`]).
pub fn run_what_if_read(
    lib: &PolicyLibrary,
    read: ReadCaseload,
    changes: &[Change],
    month: Month,
    from: NaiveDate,
    region: Option<DivisionCode>,
) -> Result<WhatIfOutput, FieldError> {
    let (households, positions, mut failed) = read;
    let region = match region {
        Some(r) => r,
        None => {
            let params: Vec<String> = changes.iter().map(|c| c.param.clone()).collect();
            default_region(lib, &households, &params, from)?
        }
    };
    let mut changed = lib.clone();
    for c in changes {
        let source = Source {
            key: "what-if".into(),
            title: "假设调整(政策测算)".into(),
            number: None,
            issued: None,
        };
        changed = changed
            .with_value(&region, &c.param, from, c.value.clone(), source)
            .map_err(|e| FieldError::new("changes", "CHANGE_INVALID", e.message_zh()))?;
    }
    let mut report = what_if(lib, &changed, &households, month);
    for f in &mut report.failed {
        f.index = positions.get(f.index).copied().unwrap_or(f.index);
    }
    failed.append(&mut report.failed);
    failed.sort_by_key(|f| f.index);
    Ok(WhatIfOutput {
        month,
        change: changes
            .iter()
            .map(|c| AppliedChange {
                param: c.param.clone(),
                value: c.text.clone(),
                from,
                region: region.to_string(),
            })
            .collect(),
        total: report.total,
        by_township: report.by_township,
        failed,
    })
}
