//! Warning kinds, their thresholds (policy parameters passed in) and the evidence each warning
//! carries so a report can cite the source record.

use std::fmt;

use jiuzhu_domain::{Area, IdNumber, Money};
use serde::{Deserialize, Serialize};

use crate::caseload::{HouseholdIx, MemberIx};
use crate::schema::{FeedKind, VEHICLE_TYPES};

/// The thresholds of the monthly comparison; policy values, never constants in the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPolicy {
    /// Dibao standard per person per month (INCOME, PENSION thresholds).
    pub urban_standard: Money,
    pub rural_standard: Money,
    /// DEPOSIT: household total balance > this × members.
    pub deposit_limit_per_member: Money,
    /// MEDICAL (R-LI-4, low-income line): one settlement in the month with out-of-pocket > this.
    pub medical_line: Money,
    /// R-LI-4 ordinary line: non-recipients above it become outreach leads (政策找人); `None`
    /// switches outreach off.
    pub medical_outreach_line: Option<Money>,
    /// VEHICLE: vehicle type codes that do not count (e.g. `disabled_mobility`).
    pub excluded_vehicle_types: Vec<String>,
    /// PROPERTY: more than this many residential properties (commercial: any).
    pub residential_allowed: u32,
}

impl VerifyPolicy {
    /// The benchmark's values (shared/bench/README.md, verify/), for tests and examples.
    #[cfg(any(test, feature = "testing"))]
    pub fn bench_default() -> VerifyPolicy {
        VerifyPolicy {
            urban_standard: Money::from_yuan(1000),
            rural_standard: Money::from_yuan(800),
            deposit_limit_per_member: Money::from_yuan(30000),
            medical_line: Money::from_yuan(4000),
            medical_outreach_line: None,
            excluded_vehicle_types: vec!["disabled_mobility".into()],
            residential_allowed: 1,
        }
    }
    pub fn standard(&self, area: Area) -> Money {
        match area {
            Area::Urban => self.urban_standard,
            Area::Rural => self.rural_standard,
        }
    }
    /// Bit i set: vehicle type i of [`VEHICLE_TYPES`] is excluded.
    pub(crate) fn excluded_vehicle_mask(&self) -> u64 {
        VEHICLE_TYPES
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| self.excluded_vehicle_types.iter().any(|e| e == c))
            .fold(0, |m, (i, _)| m | (1 << i))
    }
}

/// The thresholds a run judges with: one policy for every household, or each household the
/// policy of its class (its county's), so that a run over several counties judges every household
/// by its own county's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thresholds {
    Uniform(VerifyPolicy),
    PerHousehold {
        /// The distinct policies (at most 256).
        classes: Vec<VerifyPolicy>,
        /// Each household's class, by household index.
        of: Vec<u8>,
    },
}

impl From<VerifyPolicy> for Thresholds {
    fn from(p: VerifyPolicy) -> Thresholds {
        Thresholds::Uniform(p)
    }
}

impl Thresholds {
    /// The policy `h` is judged by.
    #[inline]
    pub fn of_household(&self, h: HouseholdIx) -> &VerifyPolicy {
        match self {
            Thresholds::Uniform(p) => p,
            Thresholds::PerHousehold { classes, of } => &classes[of[h as usize] as usize],
        }
    }

    pub fn classes(&self) -> &[VerifyPolicy] {
        match self {
            Thresholds::Uniform(p) => std::slice::from_ref(p),
            Thresholds::PerHousehold { classes, .. } => classes,
        }
    }

    /// The outreach line of the run: a person outside the caseload has no county yet, so leads
    /// are collected only when every class has outreach on with the same line (a run over one
    /// county always); a run over counties that differ collects none rather than leads a county
    /// did not ask for or under its line.
    pub fn outreach_line(&self) -> Option<Money> {
        let mut lines = self.classes().iter().map(|p| p.medical_outreach_line);
        let first = lines.next().flatten()?;
        lines.all(|l| l == Some(first)).then_some(first)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarningKind {
    Death,
    Vehicle,
    Deposit,
    Property,
    Business,
    Income,
    Medical,
    Pension,
    HousingFund,
    Imprisoned,
    HukouMove,
}

impl WarningKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Death => "DEATH",
            WarningKind::Vehicle => "VEHICLE",
            WarningKind::Deposit => "DEPOSIT",
            WarningKind::Property => "PROPERTY",
            WarningKind::Business => "BUSINESS",
            WarningKind::Income => "INCOME",
            WarningKind::Medical => "MEDICAL",
            WarningKind::Pension => "PENSION",
            WarningKind::HousingFund => "HOUSING_FUND",
            WarningKind::Imprisoned => "IMPRISONED",
            WarningKind::HukouMove => "HUKOU_MOVE",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            WarningKind::Death => "成员已死亡",
            WarningKind::Vehicle => "成员名下有机动车",
            WarningKind::Deposit => "家庭存款超过限额",
            WarningKind::Property => "家庭房产超标",
            WarningKind::Business => "成员经营企业",
            WarningKind::Income => "家庭工资收入达到保障标准",
            WarningKind::Medical => "大额医疗自付费用",
            WarningKind::Pension => "家庭养老金达到保障标准",
            WarningKind::HousingFund => "成员缴存住房公积金",
            WarningKind::Imprisoned => "成员在押服刑",
            WarningKind::HukouMove => "成员户籍迁出",
        }
    }
    /// The kind a feed produces.
    pub fn of_feed(kind: FeedKind) -> WarningKind {
        match kind {
            FeedKind::CivilDeaths => WarningKind::Death,
            FeedKind::Vehicles => WarningKind::Vehicle,
            FeedKind::Deposits => WarningKind::Deposit,
            FeedKind::RealEstate => WarningKind::Property,
            FeedKind::Business => WarningKind::Business,
            FeedKind::SocialInsurance => WarningKind::Income,
            FeedKind::MedicalClaims => WarningKind::Medical,
            FeedKind::Pensions => WarningKind::Pension,
            FeedKind::HousingFund => WarningKind::HousingFund,
            FeedKind::Imprisonment => WarningKind::Imprisoned,
            FeedKind::HukouMoves => WarningKind::HukouMove,
        }
    }
}

/// A date as `yyyymmdd` (kept as an integer on the hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd(pub u32);

impl Ymd {
    pub fn to_naive(self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::from_ymd_opt((self.0 / 10000) as i32, self.0 / 100 % 100, self.0 % 100)
    }
}

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0 / 10000,
            self.0 / 100 % 100,
            self.0 % 100
        )
    }
}

/// The value a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceValue {
    Date(Ymd),
    Money(Money),
    /// A code of the record's code table (vehicle type, role, move type).
    Code(&'static str),
    Properties {
        residential: u32,
        commercial: u32,
    },
}

impl fmt::Display for EvidenceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceValue::Date(d) => d.fmt(f),
            EvidenceValue::Money(m) => m.fmt(f),
            EvidenceValue::Code(c) => f.write_str(c),
            EvidenceValue::Properties {
                residential,
                commercial,
            } => write!(f, "住宅{residential}套、商业{commercial}套"),
        }
    }
}

/// Why a warning was raised: the delivery row (1-based line of the file, header = line 1) of the
/// record that triggered it, the member it belongs to, the value and the threshold it crossed.
/// For sums (deposits, wages) `row` is the household's first contributing record and `records`
/// how many there were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub source: FeedKind,
    /// Which delivery of the run holds `row`: its position in the deliveries given to
    /// [`crate::run_month_each`] (0 for a single delivery).
    pub delivery: u32,
    pub row: u64,
    pub member: MemberIx,
    pub person: IdNumber,
    pub value: EvidenceValue,
    pub threshold: Option<Money>,
    pub records: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub household: HouseholdIx,
    /// The household's store identifier.
    pub household_ref: i64,
    pub kind: WarningKind,
    pub evidence: Evidence,
}

/// A non-recipient above the ordinary medical line (R-LI-4): an outreach lead (政策找人).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutreachLead {
    pub person: IdNumber,
    /// Which delivery of the run holds `row` (as [`Evidence::delivery`]).
    pub delivery: u32,
    pub row: u64,
    pub settlement_date: Ymd,
    pub out_of_pocket: Money,
    pub threshold: Money,
}
