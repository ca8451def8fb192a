//! Explanations: every amount as steps with rule id, inputs, formula, value and source clause,
//! as JSON (stable field names, stored with a decision) and as Chinese text ("为什么是这个金额").
//!
//! Steps are derived from a [`HouseholdResult`] and the parameters it was computed with, so the
//! calculation itself carries no text and a caseload run pays for explanations only when asked.

use std::sync::Arc;

use chrono::NaiveDate;
use jiuzhu_domain::{Area, Money};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calc::*;
use crate::model::TekunStatus;
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

struct Builder<'a> {
    steps: Vec<Step>,
    result: &'a HouseholdResult,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        rule: &'static str,
        subject: String,
        title: &'static str,
        inputs: Vec<(&'static str, String)>,
        formula: String,
        value: String,
        text: String,
        sources: Vec<&Arc<Entry>>,
    ) {
        self.steps.push(Step {
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
        });
    }
    fn who(&self, i: usize) -> String {
        let m = &self.result.members[i];
        format!(
            "成员{}{}({}岁)",
            i + 1,
            if m.name.is_empty() {
                String::new()
            } else {
                format!(" {}", m.name)
            },
            m.age
        )
    }
}

fn src<T>(p: &P<T>) -> &Arc<Entry> {
    &p.entry
}

/// The explanation of a result, in order: composition, tekun, dibao, low-income classes,
/// temporary assistance, total.
pub fn explain(mp: &MonthParams, r: &HouseholdResult) -> Vec<Step> {
    let mut b = Builder {
        steps: Vec::new(),
        result: r,
    };
    let hp = &mp.household;
    let dp = &mp.dibao;
    let tp = &mp.tekun;

    // Composition.
    for m in &r.members {
        let mut sources = Vec::new();
        match m.reason {
            MemberReason::MinorChild | MemberReason::DependentAdultChild => {
                sources.push(src(&hp.adult_age));
                sources.push(src(&hp.student_max_stage));
            }
            MemberReason::Excluded(_) | MemberReason::ClergyTooRecent => {
                sources.push(src(&hp.clergy_min_years))
            }
            _ => {}
        }
        let who = b.who(m.index);
        b.push(
            m.reason.rule(),
            format!("member[{}]", m.index),
            "家庭成员认定",
            vec![("age", m.age.to_string())],
            m.reason.label_zh(),
            yn(m.counted).into(),
            format!("{who}:{}。", m.reason.label_zh()),
            sources,
        );
    }

    // Tekun.
    for m in &r.members {
        let Some(t) = &m.tekun else { continue };
        let who = b.who(m.index);
        let subject = format!("member[{}]", m.index);
        if t.status == TekunStatus::Applying {
            let unable = match t.unable_to_work {
                Some(UnableReason::Elderly) => "年满60周岁等老年人年龄",
                Some(UnableReason::Minor) => "未成年人",
                Some(UnableReason::MinorInSchool) => "年满18周岁仍在校就读",
                Some(UnableReason::Disability) => "残疾等级符合无劳动能力条件",
                None => "不符合",
            };
            b.push(
                "R-TK-1",
                subject.clone(),
                "特困人员认定(三个条件)",
                vec![
                    ("unable_to_work", unable.into()),
                    ("no_income_source", yn(t.no_income_source).into()),
                    ("no_able_supporter", yn(t.no_able_supporter).into()),
                ],
                "无劳动能力 且 无生活来源 且 无法定赡养抚养扶养义务人或其无履行能力".into(),
                yn(t.recognised).into(),
                format!(
                    "{who}:无劳动能力—{unable};无生活来源—{};无有能力的义务人—{};{}。",
                    yn(t.no_income_source),
                    yn(t.no_able_supporter),
                    if t.recognised {
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
            );
        }
        if !t.recognised {
            continue;
        }
        b.push(
            "R-TK-3",
            subject.clone(),
            "特困基本生活标准",
            vec![
                ("multiplier", d(tp.basic_multiplier.value)),
                ("urban_standard", y(dp.standard_urban.value)),
            ],
            format!(
                "{} × {} = {}",
                d(tp.basic_multiplier.value),
                y(dp.standard_urban.value),
                amt(t.basic)
            ),
            amt(t.basic),
            format!(
                "{who}:基本生活标准 = 城市低保标准 {} 元 × {} = {} 元。",
                y(dp.standard_urban.value),
                d(tp.basic_multiplier.value),
                amt(t.basic)
            ),
            vec![src(&tp.basic_multiplier), src(&dp.standard_urban)],
        );
        let (formula, sources): (String, Vec<&Arc<Entry>>) = match &tp.care {
            CareParams::MinimumWage {
                method,
                minimum_wage,
                full,
                partial,
                self_centralised,
                self_dispersed,
            } => {
                let rate = match t.self_care {
                    crate::model::SelfCareLevel::FullLoss => full,
                    crate::model::SelfCareLevel::PartialLoss => partial,
                    crate::model::SelfCareLevel::Able if t.centralised => self_centralised,
                    crate::model::SelfCareLevel::Able => self_dispersed,
                };
                (
                    format!(
                        "最低工资 {} × {} = {}",
                        y(minimum_wage.value),
                        d(rate.value),
                        amt(t.care)
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
                let a = match t.self_care {
                    crate::model::SelfCareLevel::FullLoss => full,
                    crate::model::SelfCareLevel::PartialLoss => partial,
                    crate::model::SelfCareLevel::Able => self_care,
                };
                (
                    format!("年标准 {} ÷ 12 = {}", y(a.value), amt(t.care)),
                    vec![src(method), src(a)],
                )
            }
        };
        let mut sources = sources;
        sources.push(src(&tp.full_loss_min_unable));
        b.push(
            "R-TK-4",
            subject.clone(),
            "特困照料护理标准",
            vec![("self_care", t.self_care.label_zh().into())],
            formula.clone(),
            amt(t.care),
            format!(
                "{who}:{},照料护理标准 {formula} 元。",
                t.self_care.label_zh()
            ),
            sources,
        );
        b.push(
            "R-DB-9",
            subject,
            "特困供养金额(取整)",
            vec![("basic", amt(t.basic)), ("care", amt(t.care))],
            format!("{} + {} → {}", amt(t.basic), amt(t.care), y(t.amount)),
            y(t.amount),
            format!(
                "{who}:特困供养金 {} + {} = {} 元/月。",
                amt(t.basic),
                amt(t.care),
                y(t.amount)
            ),
            vec![src(&mp.rounding.unit), src(&mp.rounding.mode)],
        );
    }

    // Dibao.
    let db = &r.dibao;
    let std_p = dp.standard(r.area);
    let area_zh = match r.area {
        Area::Urban => "城市",
        Area::Rural => "农村",
    };
    let hh = "household".to_string();
    b.push(
        "R-DB-1",
        hh.clone(),
        "低保标准",
        vec![("area", area_zh.into())],
        format!("{area_zh}低保标准 {}", y(db.standard)),
        y(db.standard),
        format!(
            "本户为{area_zh}家庭,{} 的低保标准为每人每月 {} 元。",
            r.month,
            y(db.standard)
        ),
        vec![src(std_p)],
    );
    b.push(
        "R-DB-2",
        hh.clone(),
        "家庭可计收入",
        vec![
            ("members", db.members.to_string()),
            ("gross_income", y(db.gross_income)),
            ("rigid_expenses", y(db.rigid_expenses)),
            ("rigid_cap", y(dp.rigid_cap.value)),
            ("employment_costs", y(db.employment_costs)),
            ("employment_cap", y(dp.employment_cap.value)),
        ],
        format!(
            "max({} − min({}, {}) − min({}, {}), 0) = {}",
            y(db.gross_income),
            y(db.rigid_expenses),
            y(dp.rigid_cap.value),
            y(db.employment_costs),
            y(dp.employment_cap.value),
            y(db.net_income)
        ),
        y(db.net_income),
        format!(
            "计入 {} 人,收入合计 {} 元,扣减刚性支出 {} 元(上限 {} 元)和就业成本 {} 元(上限 {} 元)后,家庭可计收入 {} 元。",
            db.members,
            y(db.gross_income),
            y(db.rigid_deduction),
            y(dp.rigid_cap.value),
            y(db.employment_deduction),
            y(dp.employment_cap.value),
            y(db.net_income)
        ),
        vec![src(&dp.rigid_cap), src(&dp.employment_cap)],
    );
    let a = &db.assets;
    b.push(
        "R-DB-3",
        hh.clone(),
        "收入与财产条件",
        vec![
            ("net_income", y(db.net_income)),
            ("threshold", y(db.threshold)),
            ("financial_assets", y(a.financial)),
            ("financial_limit", y(a.financial_limit)),
        ],
        format!(
            "{} < {} × {} = {} 且 金融资产 {} < {} 且 住房、车辆、市场主体符合",
            y(db.net_income),
            y(db.standard),
            db.members,
            y(db.threshold),
            y(a.financial),
            y(a.financial_limit)
        ),
        yn(db.eligible).into(),
        format!(
            "收入条件{}(可计收入 {} 元 {} 标准×人数 {} 元);财产条件{}(金融资产 {} 元,限额 {} 元;住房{}、车辆{}、市场主体{});{}。",
            if db.income_ok { "符合" } else { "不符合" },
            y(db.net_income),
            if db.income_ok { "<" } else { "≥" },
            y(db.threshold),
            if a.ok() { "符合" } else { "不符合" },
            y(a.financial),
            y(a.financial_limit),
            if a.dwellings_ok { "符合" } else { "超出" },
            if a.vehicles_ok { "符合" } else { "超出" },
            if a.business_ok { "符合" } else { "超出" },
            if db.eligible { "整户符合低保条件" } else { "整户不符合低保条件" }
        ),
        vec![
            src(&dp.asset_basis),
            src(&dp.asset_limit),
            src(&dp.max_dwellings),
            src(&dp.max_vehicles),
            src(&dp.max_business),
        ],
    );
    if db.route == DibaoRoute::Household {
        match (&dp.method, db.tier) {
            (Method::Tiers(m, tiers), Some(i)) => {
                let t = &tiers.value[i];
                b.push(
                    "R-DB-4",
                    hh.clone(),
                    "分档低保金",
                    vec![
                        ("tier", (i + 1).to_string()),
                        ("members", db.members.to_string()),
                    ],
                    format!(
                        "第{}档 {} × {} = {}",
                        i + 1,
                        y(t.per_person),
                        db.members,
                        y(db.base)
                    ),
                    y(db.base),
                    format!(
                        "人均可计收入低于 {} 元,按第{}档每人 {} 元,共 {} 元。",
                        y(t.income_below),
                        i + 1,
                        y(t.per_person),
                        y(db.base)
                    ),
                    vec![src(m), src(tiers)],
                );
            }
            (m, _) => {
                let m = match m {
                    Method::Gap(m) | Method::Tiers(m, _) => m,
                };
                b.push(
                    "R-DB-4",
                    hh.clone(),
                    "补差低保金",
                    vec![
                        ("standard", y(db.standard)),
                        ("members", db.members.to_string()),
                        ("net_income", y(db.net_income)),
                    ],
                    format!(
                        "{} × {} − {} = {}",
                        y(db.standard),
                        db.members,
                        y(db.net_income),
                        y(db.base)
                    ),
                    y(db.base),
                    format!(
                        "补差:标准 {} 元 × {} 人 − 可计收入 {} 元 = {} 元。",
                        y(db.standard),
                        db.members,
                        y(db.net_income),
                        y(db.base)
                    ),
                    vec![src(m), src(std_p)],
                );
            }
        }
        for m in &r.members {
            let Some(s) = &m.supplement else { continue };
            let who = b.who(m.index);
            let i = Category::ALL
                .iter()
                .position(|c| *c == s.category)
                .unwrap_or(0);
            let mut sources = vec![src(&dp.supplement[i])];
            if s.category == Category::Elderly {
                sources.push(src(&dp.elderly_age));
            }
            if s.category == Category::SevereDisability {
                sources.push(src(&dp.severe_max_grade));
            }
            b.push(
                "R-DB-5",
                format!("member[{}]", m.index),
                "分类施保",
                vec![
                    ("category", s.category.label_zh().into()),
                    ("applicable", s.applicable.to_string()),
                ],
                format!("{} × {} = {}", y(db.standard), d(s.rate), amt(s.amount)),
                amt(s.amount),
                format!(
                    "{who}:{}类,按 {}% 增发 {} 元{}。",
                    s.category.label_zh(),
                    d(s.rate * Decimal::from(100)),
                    amt(s.amount),
                    if s.applicable > 1 {
                        "(符合多重身份,就高不就低、不累加)"
                    } else {
                        ""
                    }
                ),
                sources,
            );
        }
    }
    if let Some(g) = &db.grace {
        b.push(
            "R-DB-7",
            hh.clone(),
            "低保缓退",
            vec![("since", g.since.to_string()), ("month_number", g.month_number.to_string()), ("grace_months", g.grace_months.to_string())],
            format!("第 {} 个月 ≤ 缓退期 {} 个月", g.month_number, g.grace_months),
            yn(g.applies).into(),
            if g.applies {
                format!("人均收入自 {} 起超过标准,处于第 {} 个月,在 {} 个月缓退期内,继续按原金额 {} 元发放。", g.since, g.month_number, g.grace_months, y(db.amount))
            } else {
                format!("人均收入自 {} 起超过标准,已是第 {} 个月,超出 {} 个月缓退期(或非因就业),停发。", g.since, g.month_number, g.grace_months)
            },
            vec![src(&dp.grace_months)],
        );
    }
    for s in &db.single_persons {
        let who = b.who(s.member);
        let mut sources = vec![src(&dp.single_person_enabled)];
        if let Some(p) = &dp.single_person_ratio {
            sources.push(src(p));
        }
        b.push(
            "R-DB-6",
            format!("member[{}]", s.member),
            "单人户施保",
            vec![("own_income", y(s.own_income)), ("own_deduction", y(s.own_deduction)), ("own_net", y(s.own_net))],
            format!("{} − {} = {}", y(db.standard), y(s.own_net), y(s.base)),
            y(s.base),
            format!(
                "整户不符合但家庭人均收入在规定倍数以内,{who}为重度残疾或重病人员,按单人户计算:本人可计收入 {} 元,{}。",
                y(s.own_net),
                if s.eligible { format!("低保金 {} 元,分类施保 {} 元", y(s.base), amt(s.supplement)) } else { "不低于标准,不纳入".into() }
            ),
            sources,
        );
    }
    b.push(
        "R-DB-9",
        hh.clone(),
        "低保月度金额(取整)",
        vec![("base", y(db.base)), ("supplements", y(db.supplements))],
        format!("{} + {} = {}", y(db.base), y(db.supplements), y(db.amount)),
        y(db.amount),
        format!(
            "本月低保金 {} 元(基本保障金 {} 元 + 分类施保 {} 元)。",
            y(db.amount),
            y(db.base),
            y(db.supplements)
        ),
        vec![src(&mp.rounding.unit), src(&mp.rounding.mode)],
    );

    // Low-income classes.
    let li = &mp.low_income;
    b.push(
        "R-LI-1",
        hh.clone(),
        "低保边缘家庭",
        vec![
            ("net_income", y(db.net_income)),
            ("bound", amt(r.low_income.edge_bound)),
        ],
        format!(
            "非低保 且 {} < {} × {} 且 财产符合",
            y(db.net_income),
            d(li.edge_multiplier.value),
            y(db.threshold)
        ),
        yn(r.low_income.edge).into(),
        format!(
            "低保边缘家庭:{}。",
            if r.low_income.edge { "是" } else { "否" }
        ),
        vec![src(&li.edge_multiplier)],
    );
    if let (Some(rh), Some((disp, share, valid))) = (&r.low_income.rigid, &li.rigid) {
        b.push(
            "R-LI-2",
            hh.clone(),
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
        );
    }
    if let (Some(rp), Some(m)) = (r.low_income.relative_poverty, &li.relative_multiplier) {
        b.push(
            "R-LI-3",
            hh.clone(),
            "相对贫困",
            vec![("net_income", y(db.net_income))],
            format!(
                "{} < {} × {}",
                y(db.net_income),
                d(m.value),
                y(db.threshold)
            ),
            yn(rp).into(),
            format!("相对贫困(试点):{}。", yn(rp)),
            vec![src(m)],
        );
    }
    for m in &r.members {
        for w in &m.medical_warnings {
            let who = b.who(m.index);
            let (ord, low) = li.medical.as_ref().expect("warnings only with lines");
            b.push(
                "R-LI-4",
                format!("member[{}]", m.index),
                "医疗费用预警",
                vec![("cost", y(w.cost)), ("line", y(w.line))],
                format!("{} > {}", y(w.cost), y(w.line)),
                "预警".into(),
                format!(
                    "{who}:单次自付医疗费用 {} 元超过{}预警线 {} 元,转介综合帮扶。",
                    y(w.cost),
                    if w.low_income_line {
                        "低收入人员"
                    } else {
                        "普通参保人员"
                    },
                    y(w.line)
                ),
                vec![if w.low_income_line {
                    src(low)
                } else {
                    src(ord)
                }],
            );
        }
    }
    if let Some(t) = &r.temporary {
        b.push(
            "R-LS-2",
            hh.clone(),
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
        );
    }
    if r.staff_relative_review {
        b.push(
            "R-DB-10",
            hh.clone(),
            "近亲属备案",
            vec![],
            "申请人为经办人员或村(居)委会成员近亲属".into(),
            "需备案".into(),
            "申请人为经办人员或村(居)委会成员的近亲属,单独登记备案,须由县级民政部门入户核查。"
                .into(),
            vec![],
        );
    }
    b.push(
        "TOTAL",
        hh,
        "本月救助金额合计",
        vec![
            ("dibao", y(db.amount)),
            ("tekun", y(r.tekun_total)),
            (
                "temporary",
                y(r.temporary.as_ref().map(|t| t.amount).unwrap_or_default()),
            ),
        ],
        format!(
            "{} + {} + {} = {}",
            y(db.amount),
            y(r.tekun_total),
            y(r.temporary.as_ref().map(|t| t.amount).unwrap_or_default()),
            y(r.total)
        ),
        y(r.total),
        format!("{} 本户合计 {} 元。", r.month, y(r.total)),
        vec![],
    );
    b.steps
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
