//! Whole-caseload computation and what-if: a month for every household, and the difference a
//! policy change makes (cost, newly eligible, no longer eligible), by township.

use std::collections::{BTreeMap, HashMap};

use jiuzhu_domain::{FieldError, Money};
use serde::Serialize;

use crate::calc::{calculate_with, DibaoRoute, HouseholdResult, MonthParams};
use crate::error::CalcError;
use crate::model::{HouseholdInput, Month};
use crate::params::PolicyLibrary;

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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub households: u64,
    pub dibao_households: u64,
    pub dibao_persons: u64,
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
        self.dibao += r.dibao.amount;
        self.tekun += r.tekun_total;
        self.total += r.total;
    }
}

/// A household the caseload run could not compute, with the reasons.
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
