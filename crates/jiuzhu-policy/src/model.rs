//! The engine's input: a household with dated facts, as typed values. [`crate::input`] builds it
//! from JSON with every field validated; the benchmark builds it from CSV columns.

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{
    Area, Disability, DivisionCode, EducationStage, IdNumber, Money, Relation, WorkAbility,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use jiuzhu_domain::Month;

/// R-DB-8: payment starts from the month after the approval decision.
pub fn first_payment_month(approved_on: NaiveDate) -> Month {
    Month::of(approved_on).next()
}

/// Why a person is not counted although listed (R-HH-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionKind {
    /// Clergy living in a religious venue (counts after `household.clergy_min_years`).
    Clergy,
    Prison,
    DrugRehabilitation,
    DeclaredMissing,
}

impl ExclusionKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            ExclusionKind::Clergy => "在宗教场所居住的宗教教职人员",
            ExclusionKind::Prison => "在监狱服刑",
            ExclusionKind::DrugRehabilitation => "强制隔离戒毒",
            ExclusionKind::DeclaredMissing => "宣告失踪",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    pub kind: ExclusionKind,
    pub since: NaiveDate,
}

/// How old the person is in the month: from a birth date (age on the first day of the month) or
/// given directly (the benchmark's data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Birth {
    Date(NaiveDate),
    Age(u32),
}

impl Birth {
    pub fn age_on(self, on: NaiveDate) -> u32 {
        match self {
            Birth::Age(a) => a,
            Birth::Date(b) => {
                let mut age = on.year() - b.year();
                if (on.month(), on.day()) < (b.month(), b.day()) {
                    age -= 1;
                }
                age.max(0) as u32
            }
        }
    }
}

/// Self-care ability (R-TK-4): the level as decided, or the six-activity assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfCareInput {
    Level(SelfCareLevel),
    /// Number of the six daily activities the person cannot do unaided.
    Unable(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfCareLevel {
    Able,
    PartialLoss,
    FullLoss,
}

impl SelfCareLevel {
    pub fn label_zh(self) -> &'static str {
        match self {
            SelfCareLevel::Able => "具备生活自理能力",
            SelfCareLevel::PartialLoss => "部分丧失生活自理能力",
            SelfCareLevel::FullLoss => "完全丧失生活自理能力",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TekunStatus {
    /// Already recognised by a decision: only the amounts are computed.
    Recognised,
    /// Applying: the three conditions are assessed.
    Applying,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Supporter {
    /// No one with a legal duty to support.
    None,
    /// A supporter exists but is unable to support.
    Unable,
    Able,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TekunInput {
    pub status: TekunStatus,
    pub centralised: bool,
    pub supporter: Supporter,
    pub self_care: SelfCareInput,
    /// Already supported as a minor (for the in-school extension past 18, R-TK-2).
    pub covered_as_minor: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberInput {
    pub id_number: Option<IdNumber>,
    pub name: String,
    pub birth: Birth,
    pub relation: Relation,
    pub joined_on: Option<NaiveDate>,
    /// Exclusive: not a member from this date on.
    pub left_on: Option<NaiveDate>,
    pub died_on: Option<NaiveDate>,
    pub exclusion: Option<Exclusion>,
    pub lives_together: bool,
    /// For relation `other`: a legal duty of support exists (R-HH-1 (四)).
    pub support_duty: bool,
    pub income: Money,
    pub medical_expense: Money,
    pub disability_expense: Money,
    pub education_expense: Money,
    pub employment_cost: Money,
    pub disability: Option<Disability>,
    pub serious_illness: bool,
    pub education: EducationStage,
    pub work_ability: WorkAbility,
    pub tekun: Option<TekunInput>,
    /// Single out-of-pocket medical costs settled in the month (R-LI-4).
    pub medical_costs: Vec<Money>,
}

impl MemberInput {
    /// A member with nothing but a birth and a relation; everything else zero or absent.
    pub fn basic(name: &str, birth: Birth, relation: Relation) -> MemberInput {
        MemberInput {
            id_number: None,
            name: name.to_string(),
            birth,
            relation,
            joined_on: None,
            left_on: None,
            died_on: None,
            exclusion: None,
            lives_together: true,
            support_duty: false,
            income: Money::ZERO,
            medical_expense: Money::ZERO,
            disability_expense: Money::ZERO,
            education_expense: Money::ZERO,
            employment_cost: Money::ZERO,
            disability: None,
            serious_illness: false,
            education: EducationStage::NotInSchool,
            work_ability: WorkAbility::Able,
            tekun: None,
            medical_costs: Vec::new(),
        }
    }

    pub fn rigid_expenses(&self) -> Money {
        self.medical_expense + self.disability_expense + self.education_expense
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assets {
    /// Deposits, securities, wealth products and other financial assets of the household.
    pub financial: Money,
    pub dwellings: u32,
    /// Motor vehicles, not counting disability mobility vehicles.
    pub vehicles: u32,
    pub business_registrations: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraceReason {
    /// A member found work (the case R-DB-7 is for).
    Employment,
    Other,
}

/// The household's dibao so far, for the grace exit (R-DB-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DibaoHistory {
    /// The monthly amount paid before the income rose.
    pub monthly_amount: Money,
    /// The first month in which per-capita income was above the standard.
    pub income_exceeded_since: Month,
    pub reason: GraceReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemporaryKind {
    Emergency,
    Expenditure,
    /// Unemployed migrant worker without income and insurance (R-LS-3).
    Migrant,
}

impl TemporaryKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            TemporaryKind::Emergency => "急难型",
            TemporaryKind::Expenditure => "支出型",
            TemporaryKind::Migrant => "失业农民工一次性",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TemporaryRequest {
    pub kind: TemporaryKind,
    /// The multiplier: months of the standard.
    pub months: Decimal,
    pub months_without_income: u32,
    pub insured: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdInput {
    /// Where the household lives (county, township or village code): selects the policy and the
    /// township of caseload reports.
    pub region: DivisionCode,
    pub code: Option<String>,
    pub area: Area,
    pub members: Vec<MemberInput>,
    pub assets: Assets,
    pub single_parent: bool,
    /// An applicant is a close relative of a case worker or committee member (R-DB-10).
    pub staff_relative: bool,
    /// Under post-poverty monitoring (for the medical warning line, R-LI-4).
    pub post_poverty_monitored: bool,
    pub dibao_history: Option<DibaoHistory>,
    /// Income over the past 12 months, for the rigid-expense hardship test (R-LI-2).
    pub income_12m: Option<Money>,
    /// Essential (rigid) expenses over the past 12 months.
    pub rigid_expenses_12m: Option<Money>,
    pub temporary: Option<TemporaryRequest>,
}
