//! Explanations: every amount as steps with rule id, inputs, formula, value and source clause,
//! as JSON (stable field names, stored with a decision) and as Chinese text ("为什么是这个金额").
//!
//! [`explain`] records what the calculation did as a compact [`Explanation`]: the household's
//! figures (integer fen) and one small [`TraceStep`] per step (rule as an enum, members and
//! categories as indices; about 16 bytes a step, no strings). The words, formulas and cited
//! parameter entries are rendered only when shown, by [`Explanation::steps`] with the
//! [`MonthParams`] the result was computed with — so a caseload run can keep the explanation of
//! every household at little cost, and `jiuzhu calc` shows exactly the same content as before.

use std::sync::Arc;

use chrono::NaiveDate;
use jiuzhu_domain::{Area, Money};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calc::*;
use crate::model::{Month, SelfCareLevel, TekunStatus};
use crate::params::{Entry, PolicyVersion, P};

/// Where a parameter value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    pub param: &'static str,
    pub value: String,
    pub region: String,
    pub region_name: String,
    pub from: NaiveDate,
    pub document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub file: String,
    pub line: usize,
}

impl Citation {
    pub fn of(e: &Arc<Entry>) -> Citation {
        let value = match &e.value {
            crate::params::Value::Money(m) => m.to_string(),
            crate::params::Value::Decimal(d) => d.normalize().to_string(),
            crate::params::Value::Int(i) => i.to_string(),
            crate::params::Value::Bool(b) => b.to_string(),
            crate::params::Value::Choice(s) => s.clone(),
            crate::params::Value::Tiers(t) => format!("{} 档", t.len()),
        };
        Citation {
            param: e.param,
            value,
            region: e.region.clone(),
            region_name: e.region_name.clone(),
            from: e.from,
            document: e.source.title.clone(),
            number: e.source.number.clone(),
            clause: e.clause.clone(),
            note: e.note.clone(),
            file: e.file.to_string(),
            line: e.line,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepInput {
    pub name: &'static str,
    pub value: String,
}

/// One step of an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The rule of POLICY.md, e.g. `R-DB-4`.
    pub rule: &'static str,
    /// `household` or `member[i]`.
    pub subject: String,
    pub title: &'static str,
    pub inputs: Vec<StepInput>,
    /// The formula with the numbers filled in.
    pub formula: String,
    pub value: String,
    /// The step in one Chinese sentence.
    pub text: String,
    pub sources: Vec<Citation>,
}

fn y(m: Money) -> String {
    m.to_string()
}

fn d(x: Decimal) -> String {
    x.normalize().to_string()
}

/// An exact decimal amount shown to the fen when it is a whole number of fen, else in full.
fn amt(x: Decimal) -> String {
    let r = x.round_dp(2);
    if r == x {
        format!("{r:.2}")
    } else {
        x.normalize().to_string()
    }
}

fn yn(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

// ------------------------------------------------------------------------------------- trace

/// A tekun person's care case (R-TK-4): which of the four care amounts applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CareCase {
    FullLoss,
    PartialLoss,
    SelfCareCentralised,
    SelfCareDispersed,
}

impl CareCase {
    pub fn of(level: SelfCareLevel, centralised: bool) -> CareCase {
        match level {
            SelfCareLevel::FullLoss => CareCase::FullLoss,
            SelfCareLevel::PartialLoss => CareCase::PartialLoss,
            SelfCareLevel::Able if centralised => CareCase::SelfCareCentralised,
            SelfCareLevel::Able => CareCase::SelfCareDispersed,
        }
    }
    /// Index into [`TekunParams::care_amount`].
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn level(self) -> SelfCareLevel {
        match self {
            CareCase::FullLoss => SelfCareLevel::FullLoss,
            CareCase::PartialLoss => SelfCareLevel::PartialLoss,
            CareCase::SelfCareCentralised | CareCase::SelfCareDispersed => SelfCareLevel::Able,
        }
    }
}

/// One step of an explanation as computed: the rule (the variant), the member it is about (index
/// into the result's members) and the values that are not already among the household's
/// [`Figures`] or the month's parameters. 16 bytes; rendered by [`Explanation::steps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceStep {
    /// R-HH-1..3, R-TK-6: whether a listed person is counted.
    Member {
        member: u32,
        age: u32,
        reason: MemberReason,
    },
    /// R-TK-1: the three conditions of an applicant.
    TekunConditions {
        member: u32,
        unable: Option<UnableReason>,
        no_income_source: bool,
        no_able_supporter: bool,
        recognised: bool,
    },
    /// R-TK-3: basic living standard (multiplier × urban standard).
    TekunBasic { member: u32 },
    /// R-TK-4: care standard.
    TekunCare { member: u32, case: CareCase },
    /// R-DB-9: the tekun person's rounded monthly amount.
    TekunAmount {
        member: u32,
        case: CareCase,
        amount: Money,
    },
    /// R-DB-1: the standard of the household's area.
    Standard,
    /// R-DB-2: countable income.
    Income,
    /// R-DB-3: income and asset tests.
    Tests,
    /// R-DB-4 by tiers (index into `dibao.tiers`).
    TierBase { tier: u32 },
    /// R-DB-4 by the gap to the standard.
    GapBase,
    /// R-DB-5: a member's supplement (the highest applicable category).
    Supplement {
        member: u32,
        category: Category,
        applicable: u8,
    },
    /// R-DB-7: grace exit.
    Grace,
    /// R-DB-6: single-person coverage (index into the result's `single_persons`).
    SinglePerson { index: u32 },
    /// R-DB-9: the household's rounded dibao amount.
    DibaoAmount,
    /// R-LI-1: low-income edge household.
    Edge,
    /// R-LI-2: rigid-expense hardship.
    RigidHardship,
    /// R-LI-3: relative poverty.
    RelativePoverty,
    /// R-LI-4: a medical-cost warning.
    MedicalWarning {
        member: u32,
        low_income_line: bool,
        cost: Money,
    },
    /// R-LS-2: temporary assistance.
    Temporary,
    /// R-DB-10: staff relative.
    StaffRelative,
    /// The month's total.
    Total,
}

impl TraceStep {
    /// The rule of POLICY.md, e.g. `R-DB-4`.
    pub fn rule(&self) -> &'static str {
        match self {
            TraceStep::Member { reason, .. } => reason.rule(),
            TraceStep::TekunConditions { .. } => "R-TK-1",
            TraceStep::TekunBasic { .. } => "R-TK-3",
            TraceStep::TekunCare { .. } => "R-TK-4",
            TraceStep::TekunAmount { .. } | TraceStep::DibaoAmount => "R-DB-9",
            TraceStep::Standard => "R-DB-1",
            TraceStep::Income => "R-DB-2",
            TraceStep::Tests => "R-DB-3",
            TraceStep::TierBase { .. } | TraceStep::GapBase => "R-DB-4",
            TraceStep::Supplement { .. } => "R-DB-5",
            TraceStep::Grace => "R-DB-7",
            TraceStep::SinglePerson { .. } => "R-DB-6",
            TraceStep::Edge => "R-LI-1",
            TraceStep::RigidHardship => "R-LI-2",
            TraceStep::RelativePoverty => "R-LI-3",
            TraceStep::MedicalWarning { .. } => "R-LI-4",
            TraceStep::Temporary => "R-LS-2",
            TraceStep::StaffRelative => "R-DB-10",
            TraceStep::Total => "TOTAL",
        }
    }
}

/// The household's computed figures the household-level steps show (money in fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub month: Month,
    pub area: Area,
    pub members: u32,
    pub standard: Money,
    pub gross_income: Money,
    pub rigid_expenses: Money,
    pub rigid_deduction: Money,
    pub employment_costs: Money,
    pub employment_deduction: Money,
    pub net_income: Money,
    pub threshold: Money,
    pub income_ok: bool,
    pub assets: AssetTest,
    pub eligible: bool,
    pub edge: bool,
    pub relative_poverty: Option<bool>,
    pub base: Money,
    pub supplements: Money,
    pub dibao_amount: Money,
    pub tekun_total: Money,
    pub total: Money,
}

/// What few households have: member names, grace, single-person coverage, rigid-expense
/// hardship, temporary assistance. Allocated only when present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Rare {
    names: Vec<String>,
    grace: Option<GraceResult>,
    single_persons: Vec<SinglePersonResult>,
    rigid: Option<RigidHardship>,
    temporary: Option<TemporaryResult>,
}

/// The explanation of one household's month, kept compact; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    figures: Figures,
    trace: Box<[TraceStep]>,
    rare: Option<Box<Rare>>,
}

/// The explanation of a result, in order: composition, tekun, dibao, low-income classes,
/// temporary assistance, total. Cheap: no text is made until [`Explanation::steps`].
pub fn explain(mp: &MonthParams, r: &HouseholdResult) -> Explanation {
    let db = &r.dibao;
    let li = &mp.low_income;
    let rigid = r.low_income.rigid.is_some() && li.rigid.is_some();
    let relative = r.low_income.relative_poverty.is_some() && li.relative_multiplier.is_some();
    // The exact number of steps, so the trace is allocated once at its size.
    let mut count = r.members.len() + 6 + db.single_persons.len();
    for m in &r.members {
        if let Some(t) = &m.tekun {
            count += usize::from(t.status == TekunStatus::Applying) + 3 * usize::from(t.recognised);
        }
        count += usize::from(db.route == DibaoRoute::Household && m.supplement.is_some());
        count += m.medical_warnings.len();
    }
    count += usize::from(db.route == DibaoRoute::Household)
        + usize::from(db.grace.is_some())
        + usize::from(rigid)
        + usize::from(relative)
        + usize::from(r.temporary.is_some())
        + usize::from(r.staff_relative_review);
    let mut trace = Vec::with_capacity(count);

    // Composition.
    for m in &r.members {
        trace.push(TraceStep::Member {
            member: m.index as u32,
            age: m.age,
            reason: m.reason,
        });
    }

    // Tekun.
    for m in &r.members {
        let Some(t) = &m.tekun else { continue };
        let member = m.index as u32;
        if t.status == TekunStatus::Applying {
            trace.push(TraceStep::TekunConditions {
                member,
                unable: t.unable_to_work,
                no_income_source: t.no_income_source,
                no_able_supporter: t.no_able_supporter,
                recognised: t.recognised,
            });
        }
        if !t.recognised {
            continue;
        }
        let case = CareCase::of(t.self_care, t.centralised);
        trace.push(TraceStep::TekunBasic { member });
        trace.push(TraceStep::TekunCare { member, case });
        trace.push(TraceStep::TekunAmount {
            member,
            case,
            amount: t.amount,
        });
    }

    // Dibao.
    trace.push(TraceStep::Standard);
    trace.push(TraceStep::Income);
    trace.push(TraceStep::Tests);
    if db.route == DibaoRoute::Household {
        trace.push(match (&mp.dibao.method, db.tier) {
            (Method::Tiers(..), Some(i)) => TraceStep::TierBase { tier: i as u32 },
            _ => TraceStep::GapBase,
        });
        for m in &r.members {
            if let Some(s) = &m.supplement {
                trace.push(TraceStep::Supplement {
                    member: m.index as u32,
                    category: s.category,
                    applicable: s.applicable,
                });
            }
        }
    }
    if db.grace.is_some() {
        trace.push(TraceStep::Grace);
    }
    for i in 0..db.single_persons.len() {
        trace.push(TraceStep::SinglePerson { index: i as u32 });
    }
    trace.push(TraceStep::DibaoAmount);

    // Low-income classes.
    trace.push(TraceStep::Edge);
    if rigid {
        trace.push(TraceStep::RigidHardship);
    }
    if relative {
        trace.push(TraceStep::RelativePoverty);
    }
    for m in &r.members {
        for w in &m.medical_warnings {
            trace.push(TraceStep::MedicalWarning {
                member: m.index as u32,
                low_income_line: w.low_income_line,
                cost: w.cost,
            });
        }
    }
    if r.temporary.is_some() {
        trace.push(TraceStep::Temporary);
    }
    if r.staff_relative_review {
        trace.push(TraceStep::StaffRelative);
    }
    trace.push(TraceStep::Total);
    debug_assert_eq!(trace.len(), count);

    let named = r.members.iter().any(|m| !m.name.is_empty());
    let rare = (named
        || db.grace.is_some()
        || !db.single_persons.is_empty()
        || r.low_income.rigid.is_some()
        || r.temporary.is_some())
    .then(|| {
        Box::new(Rare {
            names: if named {
                r.members.iter().map(|m| m.name.clone()).collect()
            } else {
                Vec::new()
            },
            grace: db.grace,
            single_persons: db.single_persons.clone(),
            rigid: r.low_income.rigid.clone(),
            temporary: r.temporary.clone(),
        })
    });
    Explanation {
        figures: Figures {
            month: r.month,
            area: r.area,
            members: db.members,
            standard: db.standard,
            gross_income: db.gross_income,
            rigid_expenses: db.rigid_expenses,
            rigid_deduction: db.rigid_deduction,
            employment_costs: db.employment_costs,
            employment_deduction: db.employment_deduction,
            net_income: db.net_income,
            threshold: db.threshold,
            income_ok: db.income_ok,
            assets: db.assets,
            eligible: db.eligible,
            edge: r.low_income.edge,
            relative_poverty: r.low_income.relative_poverty,
            base: db.base,
            supplements: db.supplements,
            dibao_amount: db.amount,
            tekun_total: r.tekun_total,
            total: r.total,
        },
        trace: trace.into_boxed_slice(),
        rare,
    }
}

impl Explanation {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.trace.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trace.is_empty()
    }

    /// The steps as computed.
    pub fn trace(&self) -> &[TraceStep] {
        &self.trace
    }

    pub fn figures(&self) -> &Figures {
        &self.figures
    }

    /// Bytes this explanation keeps (its own size and what it owns on the heap, names aside).
    pub fn kept_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + std::mem::size_of_val(&*self.trace)
            + self
                .rare
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<Rare>())
    }

    /// The steps with words, formulas and cited parameter entries. `mp` must be the parameters
    /// the result was computed with.
    pub fn steps(&self, mp: &MonthParams) -> Vec<Step> {
        let mut ages = vec![0u32; self.trace.len()];
        for s in self.trace.iter() {
            if let TraceStep::Member { member, age, .. } = *s {
                let i = member as usize;
                if i >= ages.len() {
                    ages.resize(i + 1, 0);
                }
                ages[i] = age;
            }
        }
        let r = Render {
            mp,
            f: &self.figures,
            rare: self.rare.as_deref(),
            ages,
        };
        self.trace.iter().map(|s| r.step(s)).collect()
    }
}

struct Render<'a> {
    mp: &'a MonthParams,
    f: &'a Figures,
    rare: Option<&'a Rare>,
    ages: Vec<u32>,
}

#[allow(clippy::too_many_arguments)]
fn step(
    rule: &'static str,
    subject: String,
    title: &'static str,
    inputs: Vec<(&'static str, String)>,
    formula: String,
    value: String,
    text: String,
    sources: Vec<&Arc<Entry>>,
) -> Step {
    Step {
        rule,
        subject,
        title,
        inputs: inputs
            .into_iter()
            .map(|(name, value)| StepInput { name, value })
            .collect(),
        formula,
        value,
        text,
        sources: sources.into_iter().map(Citation::of).collect(),
    }
}

fn src<T>(p: &P<T>) -> &Arc<Entry> {
    &p.entry
}

fn member_subject(i: u32) -> String {
    format!("member[{i}]")
}

fn household() -> String {
    "household".to_string()
}

impl Render<'_> {
    fn who(&self, i: u32) -> String {
        let i = i as usize;
        let name = self
            .rare
            .and_then(|x| x.names.get(i))
            .map(String::as_str)
            .unwrap_or("");
        format!(
            "成员{}{}({}岁)",
            i + 1,
            if name.is_empty() {
                String::new()
            } else {
                format!(" {name}")
            },
            self.ages.get(i).copied().unwrap_or(0)
        )
    }

    fn rare(&self) -> &Rare {
        self.rare
            .expect("the trace has a step whose data is kept with the explanation")
    }

    fn step(&self, s: &TraceStep) -> Step {
        match s {
            TraceStep::Member { .. } => self.member_step(s),
            TraceStep::TekunConditions { .. }
            | TraceStep::TekunBasic { .. }
            | TraceStep::TekunCare { .. }
            | TraceStep::TekunAmount { .. } => self.tekun_step(s),
            TraceStep::Standard
            | TraceStep::Income
            | TraceStep::Tests
            | TraceStep::TierBase { .. }
            | TraceStep::GapBase
            | TraceStep::Supplement { .. }
            | TraceStep::Grace
            | TraceStep::SinglePerson { .. }
            | TraceStep::DibaoAmount => self.dibao_step(s),
            TraceStep::Edge
            | TraceStep::RigidHardship
            | TraceStep::RelativePoverty
            | TraceStep::MedicalWarning { .. }
            | TraceStep::Temporary
            | TraceStep::StaffRelative
            | TraceStep::Total => self.other_step(s),
        }
    }

    /// The steps of a member counted or not.
    fn member_step(&self, s: &TraceStep) -> Step {
        let mp = self.mp;
        let hp = &mp.household;
        match *s {
            TraceStep::Member {
                member,
                age,
                reason,
            } => {
                let mut sources = Vec::new();
                match reason {
                    MemberReason::MinorChild | MemberReason::DependentAdultChild => {
                        sources.push(src(&hp.adult_age));
                        sources.push(src(&hp.student_max_stage));
                    }
                    MemberReason::Excluded(_) | MemberReason::ClergyTooRecent => {
                        sources.push(src(&hp.clergy_min_years))
                    }
                    _ => {}
                }
                let who = self.who(member);
                step(
                    reason.rule(),
                    member_subject(member),
                    "家庭成员认定",
                    vec![("age", age.to_string())],
                    reason.label_zh(),
                    yn(reason.counted()).into(),
                    format!("{who}:{}。", reason.label_zh()),
                    sources,
                )
            }
            _ => unreachable!("dispatched by Render::step"),
        }
    }

    /// The steps of 特困 recognition and support.
    fn tekun_step(&self, s: &TraceStep) -> Step {
        let mp = self.mp;
        let dp = &mp.dibao;
        let tp = &mp.tekun;
        match *s {
            TraceStep::TekunConditions {
                member,
                unable,
                no_income_source,
                no_able_supporter,
                recognised,
            } => {
                let who = self.who(member);
                let unable = match unable {
                    Some(UnableReason::Elderly) => "年满60周岁等老年人年龄",
                    Some(UnableReason::Minor) => "未成年人",
                    Some(UnableReason::MinorInSchool) => "年满18周岁仍在校就读",
                    Some(UnableReason::Disability) => "残疾等级符合无劳动能力条件",
                    None => "不符合",
                };
                step(
                    "R-TK-1",
                    member_subject(member),
                    "特困人员认定(三个条件)",
                    vec![
                        ("unable_to_work", unable.into()),
                        ("no_income_source", yn(no_income_source).into()),
                        ("no_able_supporter", yn(no_able_supporter).into()),
                    ],
                    "无劳动能力 且 无生活来源 且 无法定赡养抚养扶养义务人或其无履行能力".into(),
                    yn(recognised).into(),
                    format!(
                        "{who}:无劳动能力—{unable};无生活来源—{};无有能力的义务人—{};{}。",
                        yn(no_income_source),
                        yn(no_able_supporter),
                        if recognised {
                            "认定为特困人员"
                        } else {
                            "不符合特困人员条件"
                        }
                    ),
                    vec![
                        src(&tp.min_age),
                        src(&tp.minor_age),
                        src(&tp.im_grade),
                        src(&tp.physical_grade),
                        src(&tp.visual_grade),
                        src(&tp.school_extension),
                    ],
                )
            }
            TraceStep::TekunBasic { member } => {
                let who = self.who(member);
                let basic = tp.basic_amount;
                step(
                    "R-TK-3",
                    member_subject(member),
                    "特困基本生活标准",
                    vec![
                        ("multiplier", d(tp.basic_multiplier.value)),
                        ("urban_standard", y(dp.standard_urban.value)),
                    ],
                    format!(
                        "{} × {} = {}",
                        d(tp.basic_multiplier.value),
                        y(dp.standard_urban.value),
                        amt(basic)
                    ),
                    amt(basic),
                    format!(
                        "{who}:基本生活标准 = 城市低保标准 {} 元 × {} = {} 元。",
                        y(dp.standard_urban.value),
                        d(tp.basic_multiplier.value),
                        amt(basic)
                    ),
                    vec![src(&tp.basic_multiplier), src(&dp.standard_urban)],
                )
            }
            TraceStep::TekunCare { member, case } => {
                let who = self.who(member);
                let care = tp.care_amount[case.index()];
                let (formula, mut sources): (String, Vec<&Arc<Entry>>) = match &tp.care {
                    CareParams::MinimumWage {
                        method,
                        minimum_wage,
                        full,
                        partial,
                        self_centralised,
                        self_dispersed,
                    } => {
                        let rate = match case {
                            CareCase::FullLoss => full,
                            CareCase::PartialLoss => partial,
                            CareCase::SelfCareCentralised => self_centralised,
                            CareCase::SelfCareDispersed => self_dispersed,
                        };
                        (
                            format!(
                                "最低工资 {} × {} = {}",
                                y(minimum_wage.value),
                                d(rate.value),
                                amt(care)
                            ),
                            vec![src(method), src(minimum_wage), src(rate)],
                        )
                    }
                    CareParams::Annual {
                        method,
                        full,
                        partial,
                        self_care,
                    } => {
                        let a = match case.level() {
                            SelfCareLevel::FullLoss => full,
                            SelfCareLevel::PartialLoss => partial,
                            SelfCareLevel::Able => self_care,
                        };
                        (
                            format!("年标准 {} ÷ 12 = {}", y(a.value), amt(care)),
                            vec![src(method), src(a)],
                        )
                    }
                };
                sources.push(src(&tp.full_loss_min_unable));
                let label = case.level().label_zh();
                step(
                    "R-TK-4",
                    member_subject(member),
                    "特困照料护理标准",
                    vec![("self_care", label.into())],
                    formula.clone(),
                    amt(care),
                    format!("{who}:{label},照料护理标准 {formula} 元。"),
                    sources,
                )
            }
            TraceStep::TekunAmount {
                member,
                case,
                amount,
            } => {
                let who = self.who(member);
                let (basic, care) = (tp.basic_amount, tp.care_amount[case.index()]);
                step(
                    "R-DB-9",
                    member_subject(member),
                    "特困供养金额(取整)",
                    vec![("basic", amt(basic)), ("care", amt(care))],
                    format!("{} + {} → {}", amt(basic), amt(care), y(amount)),
                    y(amount),
                    format!(
                        "{who}:特困供养金 {} + {} = {} 元/月。",
                        amt(basic),
                        amt(care),
                        y(amount)
                    ),
                    vec![src(&mp.rounding.unit), src(&mp.rounding.mode)],
                )
            }
            _ => unreachable!("dispatched by Render::step"),
        }
    }

    /// The steps of the 低保 standard, income, tests, base, supplements and amount.
    fn dibao_step(&self, s: &TraceStep) -> Step {
        let mp = self.mp;
        let f = self.f;
        let dp = &mp.dibao;
        match *s {
            TraceStep::Standard => {
                let area_zh = area_zh(f.area);
                step(
                    "R-DB-1",
                    household(),
                    "低保标准",
                    vec![("area", area_zh.into())],
                    format!("{area_zh}低保标准 {}", y(f.standard)),
                    y(f.standard),
                    format!(
                        "本户为{area_zh}家庭,{} 的低保标准为每人每月 {} 元。",
                        f.month,
                        y(f.standard)
                    ),
                    vec![src(dp.standard(f.area))],
                )
            }
            TraceStep::Income => step(
                "R-DB-2",
                household(),
                "家庭可计收入",
                vec![
                    ("members", f.members.to_string()),
                    ("gross_income", y(f.gross_income)),
                    ("rigid_expenses", y(f.rigid_expenses)),
                    ("rigid_cap", y(dp.rigid_cap.value)),
                    ("employment_costs", y(f.employment_costs)),
                    ("employment_cap", y(dp.employment_cap.value)),
                ],
                format!(
                    "max({} − min({}, {}) − min({}, {}), 0) = {}",
                    y(f.gross_income),
                    y(f.rigid_expenses),
                    y(dp.rigid_cap.value),
                    y(f.employment_costs),
                    y(dp.employment_cap.value),
                    y(f.net_income)
                ),
                y(f.net_income),
                format!(
                    "计入 {} 人,收入合计 {} 元,扣减刚性支出 {} 元(上限 {} 元)和就业成本 {} 元(上限 {} 元)后,家庭可计收入 {} 元。",
                    f.members,
                    y(f.gross_income),
                    y(f.rigid_deduction),
                    y(dp.rigid_cap.value),
                    y(f.employment_deduction),
                    y(dp.employment_cap.value),
                    y(f.net_income)
                ),
                vec![src(&dp.rigid_cap), src(&dp.employment_cap)],
            ),
            TraceStep::Tests => {
                let a = &f.assets;
                step(
                    "R-DB-3",
                    household(),
                    "收入与财产条件",
                    vec![
                        ("net_income", y(f.net_income)),
                        ("threshold", y(f.threshold)),
                        ("financial_assets", y(a.financial)),
                        ("financial_limit", y(a.financial_limit)),
                    ],
                    format!(
                        "{} < {} × {} = {} 且 金融资产 {} < {} 且 住房、车辆、市场主体符合",
                        y(f.net_income),
                        y(f.standard),
                        f.members,
                        y(f.threshold),
                        y(a.financial),
                        y(a.financial_limit)
                    ),
                    yn(f.eligible).into(),
                    format!(
                        "收入条件{}(可计收入 {} 元 {} 标准×人数 {} 元);财产条件{}(金融资产 {} 元,限额 {} 元;住房{}、车辆{}、市场主体{});{}。",
                        if f.income_ok { "符合" } else { "不符合" },
                        y(f.net_income),
                        if f.income_ok { "<" } else { "≥" },
                        y(f.threshold),
                        if a.ok() { "符合" } else { "不符合" },
                        y(a.financial),
                        y(a.financial_limit),
                        if a.dwellings_ok { "符合" } else { "超出" },
                        if a.vehicles_ok { "符合" } else { "超出" },
                        if a.business_ok { "符合" } else { "超出" },
                        if f.eligible { "整户符合低保条件" } else { "整户不符合低保条件" }
                    ),
                    vec![
                        src(&dp.asset_basis),
                        src(&dp.asset_limit),
                        src(&dp.max_dwellings),
                        src(&dp.max_vehicles),
                        src(&dp.max_business),
                    ],
                )
            }
            TraceStep::TierBase { tier } => {
                let Method::Tiers(m, tiers) = &dp.method else {
                    panic!("a tier step is rendered with the parameters it was computed with")
                };
                let i = tier as usize;
                let t = &tiers.value[i];
                step(
                    "R-DB-4",
                    household(),
                    "分档低保金",
                    vec![
                        ("tier", (i + 1).to_string()),
                        ("members", f.members.to_string()),
                    ],
                    format!(
                        "第{}档 {} × {} = {}",
                        i + 1,
                        y(t.per_person),
                        f.members,
                        y(f.base)
                    ),
                    y(f.base),
                    format!(
                        "人均可计收入低于 {} 元,按第{}档每人 {} 元,共 {} 元。",
                        y(t.income_below),
                        i + 1,
                        y(t.per_person),
                        y(f.base)
                    ),
                    vec![src(m), src(tiers)],
                )
            }
            TraceStep::GapBase => {
                let m = match &dp.method {
                    Method::Gap(m) | Method::Tiers(m, _) => m,
                };
                step(
                    "R-DB-4",
                    household(),
                    "补差低保金",
                    vec![
                        ("standard", y(f.standard)),
                        ("members", f.members.to_string()),
                        ("net_income", y(f.net_income)),
                    ],
                    format!(
                        "{} × {} − {} = {}",
                        y(f.standard),
                        f.members,
                        y(f.net_income),
                        y(f.base)
                    ),
                    y(f.base),
                    format!(
                        "补差:标准 {} 元 × {} 人 − 可计收入 {} 元 = {} 元。",
                        y(f.standard),
                        f.members,
                        y(f.net_income),
                        y(f.base)
                    ),
                    vec![src(m), src(dp.standard(f.area))],
                )
            }
            TraceStep::Supplement {
                member,
                category,
                applicable,
            } => {
                let who = self.who(member);
                let i = Category::ALL
                    .iter()
                    .position(|c| *c == category)
                    .unwrap_or(0);
                let rate = dp.supplement[i].value;
                let amount = dp.supplement_amount[DibaoParams::area_index(f.area)][i];
                let mut sources = vec![src(&dp.supplement[i])];
                if category == Category::Elderly {
                    sources.push(src(&dp.elderly_age));
                }
                if category == Category::SevereDisability {
                    sources.push(src(&dp.severe_max_grade));
                }
                step(
                    "R-DB-5",
                    member_subject(member),
                    "分类施保",
                    vec![
                        ("category", category.label_zh().into()),
                        ("applicable", applicable.to_string()),
                    ],
                    format!("{} × {} = {}", y(f.standard), d(rate), amt(amount)),
                    amt(amount),
                    format!(
                        "{who}:{}类,按 {}% 增发 {} 元{}。",
                        category.label_zh(),
                        d(rate * Decimal::from(100)),
                        amt(amount),
                        if applicable > 1 {
                            "(符合多重身份,就高不就低、不累加)"
                        } else {
                            ""
                        }
                    ),
                    sources,
                )
            }
            TraceStep::Grace => {
                let g = self.rare().grace.expect("grace kept");
                step(
                    "R-DB-7",
                    household(),
                    "低保缓退",
                    vec![("since", g.since.to_string()), ("month_number", g.month_number.to_string()), ("grace_months", g.grace_months.to_string())],
                    format!("第 {} 个月 ≤ 缓退期 {} 个月", g.month_number, g.grace_months),
                    yn(g.applies).into(),
                    if g.applies {
                        format!("人均收入自 {} 起超过标准,处于第 {} 个月,在 {} 个月缓退期内,继续按原金额 {} 元发放。", g.since, g.month_number, g.grace_months, y(f.dibao_amount))
                    } else {
                        format!("人均收入自 {} 起超过标准,已是第 {} 个月,超出 {} 个月缓退期(或非因就业),停发。", g.since, g.month_number, g.grace_months)
                    },
                    vec![src(&dp.grace_months)],
                )
            }
            TraceStep::SinglePerson { index } => {
                let s = &self.rare().single_persons[index as usize];
                let member = s.member as u32;
                let who = self.who(member);
                let mut sources = vec![src(&dp.single_person_enabled)];
                if let Some(p) = &dp.single_person_ratio {
                    sources.push(src(p));
                }
                step(
                    "R-DB-6",
                    member_subject(member),
                    "单人户施保",
                    vec![("own_income", y(s.own_income)), ("own_deduction", y(s.own_deduction)), ("own_net", y(s.own_net))],
                    format!("{} − {} = {}", y(f.standard), y(s.own_net), y(s.base)),
                    y(s.base),
                    format!(
                        "整户不符合但家庭人均收入在规定倍数以内,{who}为重度残疾或重病人员,按单人户计算:本人可计收入 {} 元,{}。",
                        y(s.own_net),
                        if s.eligible { format!("低保金 {} 元,分类施保 {} 元", y(s.base), amt(s.supplement)) } else { "不低于标准,不纳入".into() }
                    ),
                    sources,
                )
            }
            TraceStep::DibaoAmount => step(
                "R-DB-9",
                household(),
                "低保月度金额(取整)",
                vec![("base", y(f.base)), ("supplements", y(f.supplements))],
                format!(
                    "{} + {} = {}",
                    y(f.base),
                    y(f.supplements),
                    y(f.dibao_amount)
                ),
                y(f.dibao_amount),
                format!(
                    "本月低保金 {} 元(基本保障金 {} 元 + 分类施保 {} 元)。",
                    y(f.dibao_amount),
                    y(f.base),
                    y(f.supplements)
                ),
                vec![src(&mp.rounding.unit), src(&mp.rounding.mode)],
            ),
            _ => unreachable!("dispatched by Render::step"),
        }
    }

    /// The steps of the low-income lines, 临时救助, the staff-relative check and the total.
    fn other_step(&self, s: &TraceStep) -> Step {
        let mp = self.mp;
        let f = self.f;
        let li = &mp.low_income;
        match *s {
            TraceStep::Edge => {
                // The bound is the product the calculation compared with (R-LI-1).
                let bound = li.edge_multiplier.value * dec(f.threshold);
                step(
                    "R-LI-1",
                    household(),
                    "低保边缘家庭",
                    vec![("net_income", y(f.net_income)), ("bound", amt(bound))],
                    format!(
                        "非低保 且 {} < {} × {} 且 财产符合",
                        y(f.net_income),
                        d(li.edge_multiplier.value),
                        y(f.threshold)
                    ),
                    yn(f.edge).into(),
                    format!("低保边缘家庭:{}。", if f.edge { "是" } else { "否" }),
                    vec![src(&li.edge_multiplier)],
                )
            }
            TraceStep::RigidHardship => {
                let rh = self.rare().rigid.as_ref().expect("rigid hardship kept");
                let Some((disp, share, valid)) = &li.rigid else {
                    panic!("a rigid-hardship step is rendered with the parameters it was computed with")
                };
                step(
                    "R-LI-2",
                    household(),
                    "刚性支出困难家庭",
                    vec![
                        ("income_12m", y(rh.income_12m)),
                        ("expenses_12m", y(rh.expenses_12m)),
                        ("disposable_bound", y(rh.disposable_bound)),
                    ],
                    format!(
                        "{} < {} 且 {} > {} × {}",
                        y(rh.income_12m),
                        y(rh.disposable_bound),
                        y(rh.expenses_12m),
                        d(share.value),
                        y(rh.income_12m)
                    ),
                    yn(rh.recognised).into(),
                    match rh.valid_until {
                        Some(u) => format!("认定为刚性支出困难家庭,有效期至 {u}。"),
                        None => "不认定为刚性支出困难家庭。".into(),
                    },
                    vec![src(&li.rigid_enabled), src(disp), src(share), src(valid)],
                )
            }
            TraceStep::RelativePoverty => {
                let rp = f.relative_poverty.unwrap_or(false);
                let Some(m) = &li.relative_multiplier else {
                    panic!("a relative-poverty step is rendered with the parameters it was computed with")
                };
                step(
                    "R-LI-3",
                    household(),
                    "相对贫困",
                    vec![("net_income", y(f.net_income))],
                    format!("{} < {} × {}", y(f.net_income), d(m.value), y(f.threshold)),
                    yn(rp).into(),
                    format!("相对贫困(试点):{}。", yn(rp)),
                    vec![src(m)],
                )
            }
            TraceStep::MedicalWarning {
                member,
                low_income_line,
                cost,
            } => {
                let who = self.who(member);
                let (ord, low) = li.medical.as_ref().expect("warnings only with lines");
                let line = if low_income_line { low } else { ord };
                step(
                    "R-LI-4",
                    member_subject(member),
                    "医疗费用预警",
                    vec![("cost", y(cost)), ("line", y(line.value))],
                    format!("{} > {}", y(cost), y(line.value)),
                    "预警".into(),
                    format!(
                        "{who}:单次自付医疗费用 {} 元超过{}预警线 {} 元,转介综合帮扶。",
                        y(cost),
                        if low_income_line {
                            "低收入人员"
                        } else {
                            "普通参保人员"
                        },
                        y(line.value)
                    ),
                    vec![src(line)],
                )
            }
            TraceStep::Temporary => {
                let t = self.rare().temporary.as_ref().expect("temporary kept");
                step(
                    "R-LS-2",
                    household(),
                    "临时救助",
                    vec![
                        ("kind", t.kind.label_zh().into()),
                        ("months", d(t.months)),
                        ("basis", y(t.basis)),
                    ],
                    format!("{} × {} = {}", y(t.basis), d(t.months), y(t.amount)),
                    y(t.amount),
                    if t.eligible {
                        format!(
                            "{}临时救助:按 {} 元 × {} 个月(政策范围 {}–{} 个月)给予 {} 元。",
                            t.kind.label_zh(),
                            y(t.basis),
                            d(t.months),
                            d(t.min_months),
                            d(t.max_months),
                            y(t.amount)
                        )
                    } else {
                        format!(
                            "{}临时救助:不符合条件(连续无收入月数不足或已参保)。",
                            t.kind.label_zh()
                        )
                    },
                    t.entries.iter().collect(),
                )
            }
            TraceStep::StaffRelative => step(
                "R-DB-10",
                household(),
                "近亲属备案",
                vec![],
                "申请人为经办人员或村(居)委会成员近亲属".into(),
                "需备案".into(),
                "申请人为经办人员或村(居)委会成员的近亲属,单独登记备案,须由县级民政部门入户核查。"
                    .into(),
                vec![],
            ),
            TraceStep::Total => {
                let temporary = self
                    .rare
                    .and_then(|x| x.temporary.as_ref())
                    .map(|t| t.amount)
                    .unwrap_or_default();
                step(
                    "TOTAL",
                    household(),
                    "本月救助金额合计",
                    vec![
                        ("dibao", y(f.dibao_amount)),
                        ("tekun", y(f.tekun_total)),
                        ("temporary", y(temporary)),
                    ],
                    format!(
                        "{} + {} + {} = {}",
                        y(f.dibao_amount),
                        y(f.tekun_total),
                        y(temporary),
                        y(f.total)
                    ),
                    y(f.total),
                    format!("{} 本户合计 {} 元。", f.month, y(f.total)),
                    vec![],
                )
            }
            _ => unreachable!("dispatched by Render::step"),
        }
    }
}

fn area_zh(a: Area) -> &'static str {
    match a {
        Area::Urban => "城市",
        Area::Rural => "农村",
    }
}

/// The explanation's steps with words and citations (what `jiuzhu calc` shows).
pub fn explain_steps(mp: &MonthParams, r: &HouseholdResult) -> Vec<Step> {
    explain(mp, r).steps(mp)
}

/// What `jiuzhu calc` prints and a decision stores: result, explanation, policy versions and the
/// input snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct CalcOutput<I: Serialize> {
    pub month: crate::model::Month,
    pub region: String,
    pub policy: Vec<PolicyVersion>,
    pub result: HouseholdResult,
    pub explanation: Vec<Step>,
    pub input: I,
}

/// Readable Chinese text of a result and its explanation.
pub fn render_text_zh(r: &HouseholdResult, steps: &[Step], policy: &[PolicyVersion]) -> String {
    let mut s = String::new();
    s.push_str(&format!("{} 救助金额计算\n", r.month));
    s.push_str(&format!(
        "低保:{} 元  特困:{} 元  临时救助:{} 元  合计:{} 元\n",
        r.dibao.amount,
        r.tekun_total,
        r.temporary.as_ref().map(|t| t.amount).unwrap_or_default(),
        r.total
    ));
    s.push_str("政策:");
    s.push_str(
        &policy
            .iter()
            .map(|p| format!("{}({} 版本 {})", p.name, p.region, p.version))
            .collect::<Vec<_>>()
            .join(" ← "),
    );
    s.push_str("\n\n为什么是这个金额:\n");
    for (i, st) in steps.iter().enumerate() {
        s.push_str(&format!(
            "{:>2}. [{}] {}:{}\n",
            i + 1,
            st.rule,
            st.title,
            st.text
        ));
        s.push_str(&format!("    计算:{}\n", st.formula));
        for c in &st.sources {
            let mut cite = format!("《{}》", c.document);
            if let Some(n) = &c.number {
                cite.push_str(&format!("({n})"));
            }
            if let Some(cl) = &c.clause {
                cite.push_str(&format!(" {cl}"));
            }
            if let Some(n) = &c.note {
                cite.push_str(&format!(";{n}"));
            }
            s.push_str(&format!(
                "    依据:{} = {}({} {} 起)— {}\n",
                c.param, c.value, c.region_name, c.from, cite
            ));
        }
    }
    s
}
