//! The calculations of POLICY.md §1–5 for one household and one month.
//!
//! [`MonthParams::resolve`] reads every parameter the rules need for a region and month once (so a
//! caseload of one region resolves once); [`calculate`] applies the rules to a household. Money is
//! integer fen; products with rates are exact decimals, rounded once per amount as the policy says.

use chrono::NaiveDate;
use jiuzhu_domain::{Area, DisabilityKind, EducationStage, FieldError, Money, Relation};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{CalcError, PolicyError};
use crate::model::*;
use crate::params::{ParamView, PolicySet, Tier, P};

pub(crate) fn dec(m: Money) -> Decimal {
    Decimal::new(m.fen(), 2)
}

/// How amounts are rounded (R-DB-9).
#[derive(Debug, Clone)]
pub struct Rounding {
    pub unit: P<String>,
    pub mode: P<String>,
    per_unit: i64,
    mode_code: u8,
}

impl Rounding {
    fn new(unit: P<String>, mode: P<String>) -> Rounding {
        let per_unit = match unit.value.as_str() {
            "yuan" => 100,
            "jiao" => 10,
            _ => 1,
        };
        let mode_code = match mode.value.as_str() {
            "up" => 1,
            "down" => 2,
            _ => 0,
        };
        Rounding {
            unit,
            mode,
            per_unit,
            mode_code,
        }
    }

    /// Rounds a non-negative exact amount (yuan) to a Money per the policy.
    pub fn apply(&self, yuan: Decimal) -> Money {
        use rust_decimal::prelude::ToPrimitive;
        let fen = yuan * Decimal::ONE_HUNDRED;
        if self.per_unit == 1 && fen.fract().is_zero() {
            return Money::from_fen(fen.to_i64().unwrap_or(i64::MAX));
        }
        let units = fen / Decimal::from(self.per_unit);
        let r = match self.mode_code {
            1 => units.ceil(),
            2 => units.floor(),
            _ => units
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        };
        Money::from_fen(r.to_i64().unwrap_or(i64::MAX / 100) * self.per_unit)
    }

    /// Rounds a whole number of fen (for jiao or yuan units).
    pub fn apply_money(&self, m: Money) -> Money {
        if self.per_unit == 1 {
            m
        } else {
            self.apply(dec(m))
        }
    }
}

#[derive(Debug, Clone)]
pub struct HouseholdParams {
    pub adult_age: P<i64>,
    pub clergy_min_years: P<i64>,
    pub student_max_stage: P<String>,
}

#[derive(Debug, Clone)]
pub enum Method {
    Gap(P<String>),
    Tiers(P<String>, P<Vec<Tier>>),
}

/// Supplement categories (R-DB-5), in the order of [`DibaoParams::supplement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    SevereDisability,
    SeriousIllness,
    Elderly,
    Student,
    SingleParent,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::SevereDisability,
        Category::SeriousIllness,
        Category::Elderly,
        Category::Student,
        Category::SingleParent,
    ];
    pub fn label_zh(self) -> &'static str {
        match self {
            Category::SevereDisability => "重度残疾",
            Category::SeriousIllness => "重病",
            Category::Elderly => "老年人",
            Category::Student => "在校生",
            Category::SingleParent => "单亲家庭",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DibaoParams {
    pub standard_urban: P<Money>,
    pub standard_rural: P<Money>,
    pub method: Method,
    pub rigid_cap: P<Money>,
    pub employment_cap: P<Money>,
    pub asset_basis: P<String>,
    pub asset_limit: P<Money>,
    pub max_dwellings: P<i64>,
    pub max_vehicles: P<i64>,
    pub max_business: P<i64>,
    pub supplement: [P<Decimal>; 5],
    pub elderly_age: P<i64>,
    pub severe_max_grade: P<i64>,
    pub single_person_enabled: P<bool>,
    pub single_person_ratio: Option<P<Decimal>>,
    pub grace_months: P<i64>,
    /// rate × standard for each category, urban then rural (computed once).
    pub supplement_amount: [[Decimal; 5]; 2],
    /// The same in whole fen, when every one of them is a whole number of fen (the usual case:
    /// a household's supplements are then summed in integers).
    pub supplement_fen: Option<[[i64; 5]; 2]>,
    /// Category indices by rate, highest first (ties: the earlier category), for R-DB-5's "the
    /// highest applicable rate".
    pub supplement_order: [usize; 5],
}

impl DibaoParams {
    pub fn area_index(area: Area) -> usize {
        match area {
            Area::Urban => 0,
            Area::Rural => 1,
        }
    }

    pub fn standard(&self, area: Area) -> &P<Money> {
        match area {
            Area::Urban => &self.standard_urban,
            Area::Rural => &self.standard_rural,
        }
    }
}

#[derive(Debug, Clone)]
pub enum CareParams {
    MinimumWage {
        method: P<String>,
        minimum_wage: P<Money>,
        full: P<Decimal>,
        partial: P<Decimal>,
        self_centralised: P<Decimal>,
        self_dispersed: P<Decimal>,
    },
    Annual {
        method: P<String>,
        full: P<Money>,
        partial: P<Money>,
        self_care: P<Money>,
    },
}

#[derive(Debug, Clone)]
pub struct TekunParams {
    pub min_age: P<i64>,
    pub minor_age: P<i64>,
    pub im_grade: P<i64>,
    pub physical_grade: P<i64>,
    pub visual_grade: P<i64>,
    pub school_extension: P<bool>,
    pub basic_multiplier: P<Decimal>,
    pub full_loss_min_unable: P<i64>,
    pub care: CareParams,
    /// multiplier × urban standard (computed once).
    pub basic_amount: Decimal,
    /// Care per month: full loss, partial loss, self-care centralised, self-care dispersed.
    pub care_amount: [Decimal; 4],
    /// basic + care rounded per policy, in the order of `care_amount` (computed once).
    pub amount: [Money; 4],
}

#[derive(Debug, Clone)]
pub struct LowIncomeParams {
    pub edge_multiplier: P<Decimal>,
    pub rigid_enabled: P<bool>,
    /// (previous-year per-capita disposable income, expense share, validity months)
    pub rigid: Option<(P<Money>, P<Decimal>, P<i64>)>,
    pub relative_enabled: P<bool>,
    pub relative_multiplier: Option<P<Decimal>>,
    pub medical_enabled: P<bool>,
    /// (ordinary line, low-income line)
    pub medical: Option<(P<Money>, P<Money>)>,
}

/// Every parameter of the monthly rules, resolved for one region and month.
#[derive(Debug, Clone)]
pub struct MonthParams {
    pub month: Month,
    pub set: PolicySet,
    pub household: HouseholdParams,
    pub dibao: DibaoParams,
    pub tekun: TekunParams,
    pub low_income: LowIncomeParams,
    pub rounding: Rounding,
}

fn opt<T>(
    enabled: &P<bool>,
    f: impl FnOnce() -> Result<T, PolicyError>,
) -> Result<Option<T>, PolicyError> {
    if enabled.value {
        f().map(Some)
    } else {
        Ok(None)
    }
}

impl MonthParams {
    /// Parameters are read as in force on the first day of the month.
    pub fn resolve(set: &PolicySet, month: Month) -> Result<MonthParams, PolicyError> {
        let v = set.at(month.first_day());
        let household = HouseholdParams {
            adult_age: v.int("household.adult_age")?,
            clergy_min_years: v.int("household.clergy_min_years")?,
            student_max_stage: v.choice("household.student_max_stage")?,
        };
        let method_p = v.choice("dibao.method")?;
        let method = if method_p.value == "tiers" {
            Method::Tiers(method_p, v.tiers("dibao.tiers")?)
        } else {
            Method::Gap(method_p)
        };
        let sp = v.flag("dibao.single_person.enabled")?;
        let mut dibao = DibaoParams {
            standard_urban: v.money("dibao.standard.urban")?,
            standard_rural: v.money("dibao.standard.rural")?,
            method,
            rigid_cap: v.money("dibao.deduction.rigid_expense_cap")?,
            employment_cap: v.money("dibao.deduction.employment_cost_cap")?,
            asset_basis: v.choice("dibao.asset.financial_basis")?,
            asset_limit: v.money("dibao.asset.financial_limit")?,
            max_dwellings: v.int("dibao.asset.max_dwellings")?,
            max_vehicles: v.int("dibao.asset.max_vehicles")?,
            max_business: v.int("dibao.asset.max_business_registrations")?,
            supplement: [
                v.decimal("dibao.supplement.severe_disability")?,
                v.decimal("dibao.supplement.serious_illness")?,
                v.decimal("dibao.supplement.elderly")?,
                v.decimal("dibao.supplement.student")?,
                v.decimal("dibao.supplement.single_parent")?,
            ],
            elderly_age: v.int("dibao.supplement.elderly_age")?,
            severe_max_grade: v.int("dibao.severe_disability_max_grade")?,
            single_person_ratio: opt(&sp, || v.decimal("dibao.single_person.income_ratio"))?,
            single_person_enabled: sp,
            grace_months: v.int("dibao.grace.months")?,
            supplement_amount: [[Decimal::ZERO; 5]; 2],
            supplement_fen: None,
            supplement_order: [0, 1, 2, 3, 4],
        };
        for area in [Area::Urban, Area::Rural] {
            let std = dec(dibao.standard(area).value);
            for i in 0..5 {
                dibao.supplement_amount[DibaoParams::area_index(area)][i] =
                    dibao.supplement[i].value * std;
            }
        }
        dibao.supplement_fen = whole_fen_table(&dibao.supplement_amount);
        let rates = dibao.supplement.clone();
        dibao
            .supplement_order
            .sort_by(|a, b| rates[*b].value.cmp(&rates[*a].value).then(a.cmp(b)));
        let care_method = v.choice("tekun.care.method")?;
        let care = if care_method.value == "annual_amount" {
            CareParams::Annual {
                method: care_method,
                full: v.money("tekun.care.annual.full_loss")?,
                partial: v.money("tekun.care.annual.partial_loss")?,
                self_care: v.money("tekun.care.annual.self_care")?,
            }
        } else {
            CareParams::MinimumWage {
                method: care_method,
                minimum_wage: v.money("tekun.care.minimum_wage")?,
                full: v.decimal("tekun.care.rate.full_loss")?,
                partial: v.decimal("tekun.care.rate.partial_loss")?,
                self_centralised: v.decimal("tekun.care.rate.self_care_centralised")?,
                self_dispersed: v.decimal("tekun.care.rate.self_care_dispersed")?,
            }
        };
        let tekun = TekunParams {
            min_age: v.int("tekun.unable.min_age")?,
            minor_age: v.int("tekun.unable.minor_age")?,
            im_grade: v.int("tekun.unable.intellectual_mental_max_grade")?,
            physical_grade: v.int("tekun.unable.physical_max_grade")?,
            visual_grade: v.int("tekun.unable.visual_max_grade")?,
            school_extension: v.flag("tekun.minor.in_school_extension")?,
            basic_multiplier: v.decimal("tekun.basic.multiplier")?,
            full_loss_min_unable: v.int("tekun.self_care.full_loss_min_unable")?,
            basic_amount: Decimal::ZERO,
            care_amount: [Decimal::ZERO; 4],
            amount: [Money::ZERO; 4],
            care,
        };
        let mut tekun = tekun;
        tekun.basic_amount = tekun.basic_multiplier.value * dec(dibao.standard_urban.value);
        tekun.care_amount = match &tekun.care {
            CareParams::MinimumWage {
                minimum_wage,
                full,
                partial,
                self_centralised,
                self_dispersed,
                ..
            } => {
                let w = dec(minimum_wage.value);
                [
                    full.value * w,
                    partial.value * w,
                    self_centralised.value * w,
                    self_dispersed.value * w,
                ]
            }
            CareParams::Annual {
                full,
                partial,
                self_care,
                ..
            } => {
                let m = |x: &P<Money>| dec(x.value) / Decimal::from(12);
                [m(full), m(partial), m(self_care), m(self_care)]
            }
        };
        let rounding = Rounding::new(
            v.choice("payment.rounding.unit")?,
            v.choice("payment.rounding.mode")?,
        );
        for i in 0..4 {
            tekun.amount[i] = rounding.apply(tekun.basic_amount + tekun.care_amount[i]);
        }
        let rigid_enabled = v.flag("low_income.rigid.enabled")?;
        let relative_enabled = v.flag("low_income.relative_poverty.enabled")?;
        let medical_enabled = v.flag("low_income.medical_warning.enabled")?;
        let low_income = LowIncomeParams {
            edge_multiplier: v.decimal("low_income.edge.multiplier")?,
            rigid: opt(&rigid_enabled, || {
                Ok((
                    v.money("low_income.rigid.prev_year_disposable_income")?,
                    v.decimal("low_income.rigid.expense_share")?,
                    v.int("low_income.rigid.valid_months")?,
                ))
            })?,
            rigid_enabled,
            relative_multiplier: opt(&relative_enabled, || {
                v.decimal("low_income.relative_poverty.multiplier")
            })?,
            relative_enabled,
            medical: opt(&medical_enabled, || {
                Ok((
                    v.money("low_income.medical_warning.ordinary")?,
                    v.money("low_income.medical_warning.low_income")?,
                ))
            })?,
            medical_enabled,
        };
        Ok(MonthParams {
            month,
            set: set.clone(),
            household,
            dibao,
            tekun,
            low_income,
            rounding,
        })
    }

    pub fn view(&self) -> ParamView<'_> {
        self.set.at(self.month.first_day())
    }
}

/// The amounts in whole fen, if every one is a whole number of fen.
fn whole_fen_table(t: &[[Decimal; 5]; 2]) -> Option<[[i64; 5]; 2]> {
    use rust_decimal::prelude::ToPrimitive;
    let mut out = [[0i64; 5]; 2];
    for (o, row) in out.iter_mut().zip(t) {
        for (f, x) in o.iter_mut().zip(row) {
            let fen = *x * Decimal::ONE_HUNDRED;
            if !fen.fract().is_zero() {
                return None;
            }
            *f = fen.to_i64()?;
        }
    }
    Some(out)
}

// ------------------------------------------------------------------------------------- results

/// Why a listed person is or is not counted in the household (R-HH-1..3, R-TK-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberReason {
    Head,
    Spouse,
    MinorChild,
    /// Adult child unable to live independently, incl. a full-time student up to the policy's stage.
    DependentAdultChild,
    /// Others with a legal support duty living together long-term (incl. adult children).
    SupportDutyLivingTogether,
    NotYetJoined,
    Left,
    Died,
    Excluded(ExclusionKind),
    /// A clergy member who has not yet lived in the venue for the policy's years.
    ClergyTooRecent,
    NotLivingTogether,
    NoSupportDuty,
    /// A recognised tekun person is not counted in the dibao household (R-TK-6).
    Tekun,
}

impl MemberReason {
    pub fn counted(self) -> bool {
        matches!(
            self,
            MemberReason::Head
                | MemberReason::Spouse
                | MemberReason::MinorChild
                | MemberReason::DependentAdultChild
                | MemberReason::SupportDutyLivingTogether
                | MemberReason::ClergyTooRecent
        )
    }
    pub fn rule(self) -> &'static str {
        match self {
            MemberReason::NotYetJoined | MemberReason::Left | MemberReason::Died => "R-HH-3",
            MemberReason::Excluded(_) | MemberReason::ClergyTooRecent => "R-HH-2",
            MemberReason::Tekun => "R-TK-6",
            _ => "R-HH-1",
        }
    }
    pub fn label_zh(self) -> String {
        match self {
            MemberReason::Head => "户主,计入".into(),
            MemberReason::Spouse => "配偶,计入".into(),
            MemberReason::MinorChild => "未成年子女,计入".into(),
            MemberReason::DependentAdultChild => {
                "已成年但不能独立生活的子女(含全日制在校生),计入".into()
            }
            MemberReason::SupportDutyLivingTogether => {
                "具有法定赡养、扶养、抚养义务关系并长期共同居住,计入".into()
            }
            MemberReason::NotYetJoined => "本月尚未加入本户,不计入".into(),
            MemberReason::Left => "本月前已离开本户,不计入".into(),
            MemberReason::Died => "本月前已死亡,不计入".into(),
            MemberReason::Excluded(k) => format!("{},不计入", k.label_zh()),
            MemberReason::ClergyTooRecent => "宗教教职人员但在宗教场所居住未满规定年限,计入".into(),
            MemberReason::NotLivingTogether => "未长期共同居住,不计入".into(),
            MemberReason::NoSupportDuty => "无法定赡养、扶养、抚养义务关系,不计入".into(),
            MemberReason::Tekun => {
                "特困供养人员,不计入低保家庭(人数、收入、支出、分类施保均不计)".into()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Supplement {
    pub category: Category,
    pub rate: Decimal,
    /// rate × standard, exact (rounded with the household's supplements).
    pub amount: Decimal,
    /// All categories that applied (the highest rate is paid, never the sum).
    pub applicable: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnableReason {
    Elderly,
    Minor,
    MinorInSchool,
    Disability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TekunResult {
    pub status: TekunStatus,
    /// For `applying`: the three conditions (R-TK-1); `None` when recognised by decision.
    pub unable_to_work: Option<UnableReason>,
    pub no_income_source: bool,
    pub no_able_supporter: bool,
    pub recognised: bool,
    pub centralised: bool,
    pub self_care: SelfCareLevel,
    pub basic: Decimal,
    pub care: Decimal,
    /// basic + care, rounded per policy.
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MedicalWarning {
    pub cost: Money,
    pub line: Money,
    pub low_income_line: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberResult {
    pub index: usize,
    pub name: String,
    pub age: u32,
    pub reason: MemberReason,
    pub counted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplement: Option<Supplement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tekun: Option<TekunResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub medical_warnings: Vec<MedicalWarning>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AssetTest {
    pub financial: Money,
    /// The limit the financial assets are compared with (per-capita limit × members when the
    /// basis is per capita).
    pub financial_limit: Money,
    pub financial_ok: bool,
    pub dwellings_ok: bool,
    pub vehicles_ok: bool,
    pub business_ok: bool,
}

impl AssetTest {
    pub fn ok(&self) -> bool {
        self.financial_ok && self.dwellings_ok && self.vehicles_ok && self.business_ok
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DibaoRoute {
    /// The whole household is eligible.
    Household,
    /// Not eligible, but paid during the grace exit (R-DB-7).
    Grace,
    /// Not eligible as a household; some members covered alone (R-DB-6).
    SinglePerson,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SinglePersonResult {
    pub member: usize,
    pub own_income: Money,
    pub own_deduction: Money,
    pub own_net: Money,
    pub eligible: bool,
    pub base: Money,
    pub supplement: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GraceResult {
    pub since: Month,
    /// 1 for the first month above the standard.
    pub month_number: i32,
    pub grace_months: i64,
    pub applies: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DibaoResult {
    pub members: u32,
    pub standard: Money,
    pub gross_income: Money,
    pub rigid_expenses: Money,
    pub rigid_deduction: Money,
    pub employment_costs: Money,
    pub employment_deduction: Money,
    pub net_income: Money,
    /// standard × members, the income test's bound.
    pub threshold: Money,
    pub income_ok: bool,
    pub assets: AssetTest,
    pub eligible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<usize>,
    pub base: Money,
    pub supplements: Money,
    pub route: DibaoRoute,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub single_persons: Vec<SinglePersonResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace: Option<GraceResult>,
    /// What is paid this month under dibao (household, grace or single-person).
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RigidHardship {
    pub income_12m: Money,
    pub expenses_12m: Money,
    pub disposable_bound: Money,
    pub income_ok: bool,
    pub expenses_ok: bool,
    pub recognised: bool,
    pub valid_until: Option<Month>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LowIncomeResult {
    pub edge_bound: Decimal,
    pub edge: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rigid: Option<RigidHardship>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_poverty: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_bound: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemporaryResult {
    pub kind: TemporaryKind,
    pub months: Decimal,
    pub min_months: Decimal,
    pub max_months: Decimal,
    pub basis: Money,
    pub eligible: bool,
    pub amount: Money,
    #[serde(skip)]
    pub entries: Vec<std::sync::Arc<crate::params::Entry>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HouseholdResult {
    pub month: Month,
    pub area: Area,
    pub members: Vec<MemberResult>,
    pub dibao: DibaoResult,
    pub tekun_total: Money,
    pub low_income: LowIncomeResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary: Option<TemporaryResult>,
    /// R-DB-10: a staff relative's case needs a county-level home visit.
    pub staff_relative_review: bool,
    /// dibao + tekun + temporary assistance for the month.
    pub total: Money,
}

// ------------------------------------------------------------------------------------- rules

fn stage_rank(s: EducationStage) -> u8 {
    match s {
        EducationStage::NotInSchool => 0,
        EducationStage::Preschool => 1,
        EducationStage::Primary => 2,
        EducationStage::JuniorSecondary => 3,
        EducationStage::SeniorSecondary => 4,
        EducationStage::Vocational => 5,
        EducationStage::Undergraduate => 6,
        EducationStage::Postgraduate => 7,
    }
}

fn stage_from_word(w: &str) -> EducationStage {
    EducationStage::parse(w).unwrap_or(EducationStage::Undergraduate)
}

fn years_between(from: NaiveDate, to: NaiveDate) -> i64 {
    Birth::Date(from).age_on(to) as i64
}

/// R-HH-1..3 and R-TK-6 for one member on the first day of the month.
fn composition(p: &HouseholdParams, m: &MemberInput, age: u32, day: NaiveDate) -> MemberReason {
    if m.joined_on.is_some_and(|j| j > day) {
        return MemberReason::NotYetJoined;
    }
    if m.left_on.is_some_and(|l| l <= day) {
        return MemberReason::Left;
    }
    if m.died_on.is_some_and(|d| d < day) {
        return MemberReason::Died;
    }
    let mut clergy_recent = false;
    if let Some(ex) = m.exclusion {
        if ex.since <= day {
            if ex.kind == ExclusionKind::Clergy
                && years_between(ex.since, day) < p.clergy_min_years.value
            {
                clergy_recent = true;
            } else {
                return MemberReason::Excluded(ex.kind);
            }
        }
    }
    let reason = match m.relation {
        Relation::Head => MemberReason::Head,
        Relation::Spouse => MemberReason::Spouse,
        Relation::Child if (age as i64) < p.adult_age.value => MemberReason::MinorChild,
        Relation::Child
            if m.work_ability == jiuzhu_domain::WorkAbility::Unable
                || (m.education.in_school()
                    && stage_rank(m.education)
                        <= stage_rank(stage_from_word(&p.student_max_stage.value))) =>
        {
            MemberReason::DependentAdultChild
        }
        Relation::Other if !m.support_duty => return MemberReason::NoSupportDuty,
        _ if !m.lives_together => return MemberReason::NotLivingTogether,
        _ => MemberReason::SupportDutyLivingTogether,
    };
    if clergy_recent {
        MemberReason::ClergyTooRecent
    } else {
        reason
    }
}

fn self_care_level(t: &TekunParams, s: SelfCareInput) -> SelfCareLevel {
    match s {
        SelfCareInput::Level(l) => l,
        SelfCareInput::Unable(0) => SelfCareLevel::Able,
        SelfCareInput::Unable(n) if (n as i64) >= t.full_loss_min_unable.value => {
            SelfCareLevel::FullLoss
        }
        SelfCareInput::Unable(_) => SelfCareLevel::PartialLoss,
    }
}

fn unable_to_work(
    t: &TekunParams,
    m: &MemberInput,
    ti: &TekunInput,
    age: u32,
) -> Option<UnableReason> {
    let age = age as i64;
    if age >= t.min_age.value {
        return Some(UnableReason::Elderly);
    }
    if age < t.minor_age.value {
        return Some(UnableReason::Minor);
    }
    let secondary = matches!(
        m.education,
        EducationStage::Primary
            | EducationStage::JuniorSecondary
            | EducationStage::SeniorSecondary
            | EducationStage::Vocational
    );
    if t.school_extension.value && ti.covered_as_minor && secondary {
        return Some(UnableReason::MinorInSchool);
    }
    if let Some(d) = m.disability {
        let g = d.grade as i64;
        let max = match d.kind {
            DisabilityKind::Intellectual | DisabilityKind::Mental | DisabilityKind::Multiple => {
                t.im_grade.value
            }
            DisabilityKind::Physical => t.physical_grade.value,
            DisabilityKind::Visual => t.visual_grade.value,
            _ => 0,
        };
        if g >= 1 && g <= max {
            return Some(UnableReason::Disability);
        }
    }
    None
}

fn tekun_for(
    mp: &MonthParams,
    area_standard: Money,
    m: &MemberInput,
    ti: &TekunInput,
    age: u32,
) -> TekunResult {
    let t = &mp.tekun;
    let (unable, no_income, no_supporter, recognised) = match ti.status {
        TekunStatus::Recognised => (None, true, true, true),
        TekunStatus::Applying => {
            let u = unable_to_work(t, m, ti, age);
            let ni = m.income < area_standard;
            let ns = ti.supporter != Supporter::Able;
            (u, ni, ns, u.is_some() && ni && ns)
        }
    };
    let level = self_care_level(t, ti.self_care);
    let i = match level {
        SelfCareLevel::FullLoss => 0,
        SelfCareLevel::PartialLoss => 1,
        SelfCareLevel::Able if ti.centralised => 2,
        SelfCareLevel::Able => 3,
    };
    let (basic, care) = if recognised {
        (t.basic_amount, t.care_amount[i])
    } else {
        (Decimal::ZERO, Decimal::ZERO)
    };
    TekunResult {
        status: ti.status,
        unable_to_work: unable,
        no_income_source: no_income,
        no_able_supporter: no_supporter,
        recognised,
        centralised: ti.centralised,
        self_care: level,
        basic,
        care,
        amount: if recognised { t.amount[i] } else { Money::ZERO },
    }
}

/// The highest applicable supplement rate (R-DB-5: max, never the sum).
fn supplement_for(
    d: &DibaoParams,
    m: &MemberInput,
    age: u32,
    single_parent: bool,
    area: Area,
) -> Option<Supplement> {
    let applies = [
        m.disability
            .is_some_and(|x| x.grade >= 1 && (x.grade as i64) <= d.severe_max_grade.value),
        m.serious_illness,
        age as i64 >= d.elderly_age.value,
        m.education.in_school(),
        single_parent,
    ];
    let count = applies.iter().filter(|a| **a).count() as u8;
    let i = *d.supplement_order.iter().find(|i| applies[**i])?;
    let rate = d.supplement[i].value;
    if rate.is_zero() {
        return None;
    }
    Some(Supplement {
        category: Category::ALL[i],
        rate,
        amount: d.supplement_amount[DibaoParams::area_index(area)][i],
        applicable: count,
    })
}

fn asset_test(d: &DibaoParams, a: &Assets, n: u32) -> AssetTest {
    let limit = if d.asset_basis.value == "per_capita" {
        d.asset_limit.value.times(n.max(1) as i64)
    } else {
        d.asset_limit.value
    };
    AssetTest {
        financial: a.financial,
        financial_limit: limit,
        financial_ok: a.financial < limit,
        dwellings_ok: (a.dwellings as i64) <= d.max_dwellings.value,
        vehicles_ok: (a.vehicles as i64) <= d.max_vehicles.value,
        business_ok: (a.business_registrations as i64) <= d.max_business.value,
    }
}

fn capped_net(d: &DibaoParams, income: Money, rigid: Money, emp: Money) -> (Money, Money, Money) {
    let rd = rigid.min(d.rigid_cap.value);
    let ed = emp.min(d.employment_cap.value);
    (rd, ed, (income - rd - ed).max(Money::ZERO))
}

/// Computes one household for one month with parameters already resolved.
pub fn calculate_with(mp: &MonthParams, hh: &HouseholdInput) -> Result<HouseholdResult, CalcError> {
    let mut out = HouseholdResult::blank(mp.month, hh.members.len());
    calculate_into(mp, hh, &mut out)?;
    Ok(out)
}

impl HouseholdResult {
    /// An empty result to compute into (see [`calculate_into`]).
    pub fn blank(month: Month, members: usize) -> HouseholdResult {
        HouseholdResult {
            month,
            area: Area::Urban,
            members: Vec::with_capacity(members),
            dibao: DibaoResult {
                members: 0,
                standard: Money::ZERO,
                gross_income: Money::ZERO,
                rigid_expenses: Money::ZERO,
                rigid_deduction: Money::ZERO,
                employment_costs: Money::ZERO,
                employment_deduction: Money::ZERO,
                net_income: Money::ZERO,
                threshold: Money::ZERO,
                income_ok: false,
                assets: AssetTest {
                    financial: Money::ZERO,
                    financial_limit: Money::ZERO,
                    financial_ok: false,
                    dwellings_ok: false,
                    vehicles_ok: false,
                    business_ok: false,
                },
                eligible: false,
                tier: None,
                base: Money::ZERO,
                supplements: Money::ZERO,
                route: DibaoRoute::None,
                single_persons: Vec::new(),
                grace: None,
                amount: Money::ZERO,
            },
            tekun_total: Money::ZERO,
            low_income: LowIncomeResult {
                edge_bound: Decimal::ZERO,
                edge: false,
                rigid: None,
                relative_poverty: None,
                relative_bound: None,
            },
            temporary: None,
            staff_relative_review: false,
            total: Money::ZERO,
        }
    }
}

/// [`calculate_with`] into an existing result, reusing its allocations (for caseload runs: one
/// result per worker instead of one per household). Every field of `out` is overwritten; after
/// an error its content is unspecified.
pub fn calculate_into(
    mp: &MonthParams,
    hh: &HouseholdInput,
    out: &mut HouseholdResult,
) -> Result<(), CalcError> {
    if hh.members.is_empty() {
        return Err(FieldError::new("members", "HOUSEHOLD_NO_MEMBERS", "家庭成员不能为空").into());
    }
    let day = mp.month.first_day();
    let d = &mp.dibao;
    let standard = d.standard(hh.area).value;

    // Composition and tekun (R-HH-1..3, R-TK-1..6).
    let members = &mut out.members;
    members.truncate(hh.members.len());
    let mut tekun_total = Money::ZERO;
    let (mut n, mut gross, mut rigid, mut emp) = (0u32, Money::ZERO, Money::ZERO, Money::ZERO);
    for (i, m) in hh.members.iter().enumerate() {
        let age = m.birth.age_on(day);
        let tekun = m.tekun.map(|ti| tekun_for(mp, standard, m, &ti, age));
        let present = composition(&mp.household, m, age, day);
        // A tekun person who is no longer a member of the household gets nothing here either.
        let tekun = if present.counted() { tekun } else { None };
        let reason = if tekun.is_some_and(|t| t.recognised) {
            MemberReason::Tekun
        } else {
            present
        };
        if let Some(t) = &tekun {
            tekun_total += t.amount;
        }
        let counted = reason.counted();
        if counted {
            n += 1;
            gross += m.income;
            rigid += m.rigid_expenses();
            emp += m.employment_cost;
        }
        match members.get_mut(i) {
            Some(slot) => {
                slot.index = i;
                if !(slot.name.is_empty() && m.name.is_empty()) {
                    slot.name.clone_from(&m.name);
                }
                slot.age = age;
                slot.reason = reason;
                slot.counted = counted;
                slot.supplement = None;
                slot.tekun = tekun;
                slot.medical_warnings.clear();
            }
            None => members.push(MemberResult {
                index: i,
                name: m.name.clone(),
                age,
                reason,
                counted,
                supplement: None,
                tekun,
                medical_warnings: Vec::new(),
            }),
        }
    }

    // Countable income (R-DB-2), income and asset tests (R-DB-3).
    let (rigid_deduction, employment_deduction, net) = capped_net(d, gross, rigid, emp);
    let threshold = standard.times(n as i64);
    let income_ok = n > 0 && net < threshold;
    let assets = asset_test(d, &hh.assets, n);
    let eligible = income_ok && assets.ok();

    // Base (R-DB-4) and supplements (R-DB-5).
    let mut tier = None;
    let mut base = Money::ZERO;
    let mut supplements = Money::ZERO;
    if eligible {
        base = match &d.method {
            Method::Gap(_) => threshold - net,
            Method::Tiers(_, tiers) => {
                let pos = tiers
                    .value
                    .iter()
                    .position(|t| net < t.income_below.times(n as i64))
                    .ok_or_else(|| PolicyError::WrongValue {
                        param: "dibao.tiers".into(),
                        file: tiers.entry.file.to_string(),
                        line: tiers.entry.line,
                        message: format!("分档未覆盖人均收入 {net}/{n}"),
                    })?;
                tier = Some(pos);
                tiers.value[pos].per_person.times(n as i64)
            }
        };
        base = mp.rounding.apply_money(base);
        let mut sum = Decimal::ZERO;
        let mut sum_fen = 0i64;
        let fen = d
            .supplement_fen
            .as_ref()
            .map(|t| &t[DibaoParams::area_index(hh.area)]);
        for (mr, m) in members.iter_mut().zip(&hh.members) {
            if mr.counted {
                mr.supplement = supplement_for(d, m, mr.age, hh.single_parent, hh.area);
                if let Some(s) = &mr.supplement {
                    match fen {
                        Some(f) => sum_fen += f[s.category as usize],
                        None => sum += s.amount,
                    }
                }
            }
        }
        supplements = match fen {
            Some(_) => mp.rounding.apply_money(Money::from_fen(sum_fen)),
            None => mp.rounding.apply(sum),
        };
    }

    // Grace exit (R-DB-7) and single-person coverage (R-DB-6) when the household is not eligible.
    let mut route = if eligible {
        DibaoRoute::Household
    } else {
        DibaoRoute::None
    };
    let mut amount = base + supplements;
    let mut grace = None;
    let mut single_persons = std::mem::take(&mut out.dibao.single_persons);
    single_persons.clear();
    if !eligible && n > 0 && assets.ok() {
        if let Some(h) = &hh.dibao_history {
            let month_number = mp.month.since(h.income_exceeded_since) + 1;
            let applies = h.reason == GraceReason::Employment
                && month_number >= 1
                && (month_number as i64) <= d.grace_months.value;
            grace = Some(GraceResult {
                since: h.income_exceeded_since,
                month_number,
                grace_months: d.grace_months.value,
                applies,
            });
            if applies {
                route = DibaoRoute::Grace;
                amount = h.monthly_amount;
            }
        }
        if let (DibaoRoute::None, Some(ratio)) = (route, &d.single_person_ratio) {
            let bound = ratio.value * dec(threshold);
            if dec(net) <= bound {
                for (mr, m) in members.iter().zip(&hh.members) {
                    let severe = m.disability.is_some_and(|x| {
                        x.grade >= 1 && (x.grade as i64) <= d.severe_max_grade.value
                    });
                    if !mr.counted || !(severe || m.serious_illness) {
                        continue;
                    }
                    let (rd, ed, own_net) =
                        capped_net(d, m.income, m.rigid_expenses(), m.employment_cost);
                    let ok = own_net < standard;
                    let (b, s) = if ok {
                        let s = supplement_for(d, m, mr.age, hh.single_parent, hh.area)
                            .map(|s| s.amount)
                            .unwrap_or_default();
                        (mp.rounding.apply_money(standard - own_net), s)
                    } else {
                        (Money::ZERO, Decimal::ZERO)
                    };
                    single_persons.push(SinglePersonResult {
                        member: mr.index,
                        own_income: m.income,
                        own_deduction: rd + ed,
                        own_net,
                        eligible: ok,
                        base: b,
                        supplement: s,
                    });
                }
                if single_persons.iter().any(|s| s.eligible) {
                    route = DibaoRoute::SinglePerson;
                    base = single_persons.iter().map(|s| s.base).sum();
                    supplements = mp
                        .rounding
                        .apply(single_persons.iter().map(|s| s.supplement).sum());
                    amount = base + supplements;
                }
            }
        }
    }

    // Low-income classes (R-LI-1..3).
    let li = &mp.low_income;
    let edge_bound = li.edge_multiplier.value * dec(threshold);
    let edge = !eligible && n > 0 && assets.ok() && dec(net) < edge_bound;
    let any_tekun = members.iter().any(|m| m.reason == MemberReason::Tekun);
    let rigid_result = match (&li.rigid, hh.income_12m, hh.rigid_expenses_12m) {
        (Some((disp, share, valid)), Some(inc), Some(exp)) if n > 0 => {
            let bound = disp.value.times(n as i64);
            let income_ok = inc < bound;
            let expenses_ok = dec(exp) > share.value * dec(inc);
            let recognised = !eligible && !edge && !any_tekun && income_ok && expenses_ok;
            Some(RigidHardship {
                income_12m: inc,
                expenses_12m: exp,
                disposable_bound: bound,
                income_ok,
                expenses_ok,
                recognised,
                valid_until: recognised.then(|| mp.month.plus(valid.value as i32 - 1)),
            })
        }
        _ => None,
    };
    let relative_bound = li
        .relative_multiplier
        .as_ref()
        .map(|m| m.value * dec(threshold));
    let relative_poverty = relative_bound.map(|b| n > 0 && dec(net) < b);

    // Medical-cost warnings (R-LI-4).
    if let Some((ordinary, low)) = &li.medical {
        let household_low = eligible
            || route != DibaoRoute::None
            || edge
            || hh.post_poverty_monitored
            || rigid_result.as_ref().is_some_and(|r| r.recognised);
        for (mr, m) in members.iter_mut().zip(&hh.members) {
            let is_low = household_low || mr.tekun.is_some_and(|t| t.recognised);
            let line = if is_low { low.value } else { ordinary.value };
            mr.medical_warnings
                .extend(
                    m.medical_costs
                        .iter()
                        .filter(|c| **c > line)
                        .map(|c| MedicalWarning {
                            cost: *c,
                            line,
                            low_income_line: is_low,
                        }),
                );
        }
    }

    let temporary = match &hh.temporary {
        Some(req) => Some(temporary_assistance(mp, hh.area, req)?),
        None => None,
    };
    let total = amount + tekun_total + temporary.as_ref().map(|t| t.amount).unwrap_or_default();
    out.month = mp.month;
    out.area = hh.area;
    out.dibao = DibaoResult {
        members: n,
        standard,
        gross_income: gross,
        rigid_expenses: rigid,
        rigid_deduction,
        employment_costs: emp,
        employment_deduction,
        net_income: net,
        threshold,
        income_ok,
        assets,
        eligible,
        tier,
        base,
        supplements,
        route,
        single_persons,
        grace,
        amount,
    };
    out.tekun_total = tekun_total;
    out.low_income = LowIncomeResult {
        edge_bound,
        edge,
        rigid: rigid_result,
        relative_poverty,
        relative_bound,
    };
    out.temporary = temporary;
    out.staff_relative_review = hh.staff_relative;
    out.total = total;
    Ok(())
}

/// Temporary assistance (R-LS-1..3). A multiplier outside the policy's range is an error.
pub fn temporary_assistance(
    mp: &MonthParams,
    area: Area,
    req: &TemporaryRequest,
) -> Result<TemporaryResult, CalcError> {
    let v = mp.view();
    let (min, max, basis_area, mut entries) = match req.kind {
        TemporaryKind::Emergency | TemporaryKind::Expenditure => {
            let key = if req.kind == TemporaryKind::Emergency {
                "emergency"
            } else {
                "expenditure"
            };
            let lo = v.decimal(&format!("temporary.{key}.min_months"))?;
            let hi = v.decimal(&format!("temporary.{key}.max_months"))?;
            let basis = v.choice("temporary.basis")?;
            let a = if basis.value == "urban" {
                Area::Urban
            } else {
                area
            };
            (lo.value, hi.value, a, vec![lo.entry, hi.entry, basis.entry])
        }
        TemporaryKind::Migrant => {
            let enabled = v.flag("temporary.migrant.enabled")?;
            if !enabled.value {
                return Err(FieldError::new(
                    "temporary.kind",
                    "TEMPORARY_KIND_NOT_IN_POLICY",
                    format!(
                        "本地政策未规定失业农民工一次性临时救助({})",
                        enabled.entry.citation_zh()
                    ),
                )
                .into());
            }
            let hi = v.decimal("temporary.migrant.max_months")?;
            (
                Decimal::ZERO,
                hi.value,
                Area::Urban,
                vec![enabled.entry, hi.entry],
            )
        }
    };
    let below_min = if req.kind == TemporaryKind::Migrant {
        req.months <= Decimal::ZERO
    } else {
        req.months < min
    };
    if below_min || req.months > max {
        return Err(FieldError::new(
            "temporary.months",
            "TEMPORARY_MONTHS_OUT_OF_RANGE",
            format!(
                "{}临时救助月数 {} 超出政策范围 {}–{} 个月",
                req.kind.label_zh(),
                req.months.normalize(),
                min.normalize(),
                max.normalize()
            ),
        )
        .into());
    }
    let eligible = match req.kind {
        TemporaryKind::Migrant => {
            let need = v.int("temporary.migrant.min_months_without_income")?;
            let ok = (req.months_without_income as i64) >= need.value && !req.insured;
            entries.push(need.entry);
            ok
        }
        _ => true,
    };
    let basis = mp.dibao.standard(basis_area).clone();
    entries.push(basis.entry);
    entries.push(mp.rounding.unit.entry.clone());
    let amount = if eligible {
        mp.rounding.apply(req.months * dec(basis.value))
    } else {
        Money::ZERO
    };
    Ok(TemporaryResult {
        kind: req.kind,
        months: req.months,
        min_months: min,
        max_months: max,
        basis: basis.value,
        eligible,
        amount,
        entries,
    })
}

/// Resolves the policy for the household's region and month and computes it.
pub fn calculate(
    set: &PolicySet,
    hh: &HouseholdInput,
    month: Month,
) -> Result<HouseholdResult, CalcError> {
    let mp = MonthParams::resolve(set, month)?;
    calculate_with(&mp, hh)
}
