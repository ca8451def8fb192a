//! Policy as data: one TOML file per region, every parameter with dated values and a legal source,
//! inheriting nation → province → city → county by division code.
//!
//! ```toml
//! [policy]
//! region = "371000"
//! name = "威海市"
//! version = "2020-12-09"
//!
//! [sources.weihai_2020]
//! title = "威海市人民政府关于……社会救助工作情况审议意见的报告"
//! issued = 2020-12-09
//!
//! [params]
//! "dibao.standard.urban" = [
//!   { from = 2020-01-01, value = "787", source = "weihai_2020", clause = "三(一)" },
//! ]
//! ```
//!
//! A lookup for a date takes the most specific file that has a value in force on that date; a
//! parameter without any value in force is an error ([`PolicyError::Missing`]), never a zero.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use chrono::NaiveDate;
use jiuzhu_domain::{DivisionCode, Level, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::PolicyError;

/// What kind of value a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Yuan with at most two decimals, as a string or an integer.
    Money,
    /// A non-negative decimal (rate, share, multiplier), as a string or an integer; at most `max`.
    Dec {
        max: i64,
    },
    /// An integer within the range.
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// A list of `{ income_below = "<yuan>", per_person = "<yuan>" }` tiers, ascending.
    Tiers,
}

/// A known parameter: its name, kind and Chinese label.
#[derive(Debug, Clone, Copy)]
pub struct ParamDef {
    pub name: &'static str,
    pub kind: Kind,
    pub label_zh: &'static str,
}

const EDUCATION: &[&str] = &[
    "preschool",
    "primary",
    "junior_secondary",
    "senior_secondary",
    "vocational",
    "undergraduate",
    "postgraduate",
];
const ROUND_UNIT: &[&str] = &["fen", "jiao", "yuan"];
const ROUND_MODE: &[&str] = &["half_up", "up", "down"];

macro_rules! defs {
    ($($name:literal : $kind:expr => $zh:literal),+ $(,)?) => {
        /// Every parameter the rules read. A policy file may only set these.
        pub const PARAMS: &[ParamDef] = &[$(ParamDef { name: $name, kind: $kind, label_zh: $zh }),+];
    };
}

use Kind::*;
defs! {
    "household.adult_age": Int { min: 14, max: 25 } => "成年年龄",
    "household.clergy_min_years": Int { min: 0, max: 50 } => "宗教教职人员不计入家庭成员的最短居住年限",
    "household.student_max_stage": Choice(EDUCATION) => "计入家庭成员的成年在校生最高学历层次",
    "dibao.standard.urban": Money => "城市低保标准(元/人·月)",
    "dibao.standard.rural": Money => "农村低保标准(元/人·月)",
    "dibao.method": Choice(&["gap", "tiers"]) => "低保金计算方式(补差/分档)",
    "dibao.tiers": Tiers => "分档标准",
    "dibao.deduction.rigid_expense_cap": Money => "刚性支出扣减上限(元/户·月)",
    "dibao.deduction.employment_cost_cap": Money => "就业成本扣减上限(元/户·月)",
    "dibao.asset.financial_limit": Money => "存款等金融资产限额",
    "dibao.asset.financial_basis": Choice(&["household", "per_capita"]) => "金融资产限额口径(整户/人均)",
    "dibao.asset.max_dwellings": Int { min: 0, max: 10 } => "住房套数上限",
    "dibao.asset.max_vehicles": Int { min: 0, max: 10 } => "机动车数量上限(残疾人功能性补偿代步车除外)",
    "dibao.asset.max_business_registrations": Int { min: 0, max: 10 } => "市场主体登记数量上限",
    "dibao.supplement.severe_disability": Dec { max: 1 } => "分类施保比例:重度残疾",
    "dibao.supplement.serious_illness": Dec { max: 1 } => "分类施保比例:重病",
    "dibao.supplement.elderly": Dec { max: 1 } => "分类施保比例:老年人",
    "dibao.supplement.elderly_age": Int { min: 50, max: 100 } => "分类施保老年人年龄",
    "dibao.supplement.student": Dec { max: 1 } => "分类施保比例:在校生",
    "dibao.supplement.single_parent": Dec { max: 1 } => "分类施保比例:单亲家庭成员",
    "dibao.severe_disability_max_grade": Int { min: 1, max: 4 } => "重度残疾的最低残疾等级",
    "dibao.single_person.enabled": Bool => "是否实行单人户施保",
    "dibao.single_person.income_ratio": Dec { max: 10 } => "单人户施保家庭人均收入上限(低保标准的倍数)",
    "dibao.grace.months": Int { min: 0, max: 24 } => "低保缓退期(月)",
    "payment.rounding.unit": Choice(ROUND_UNIT) => "月度金额取整单位",
    "payment.rounding.mode": Choice(ROUND_MODE) => "月度金额取整方式",
    "tekun.unable.min_age": Int { min: 50, max: 100 } => "无劳动能力:老年人年龄",
    "tekun.unable.minor_age": Int { min: 14, max: 25 } => "无劳动能力:未成年人年龄上限(不含)",
    "tekun.unable.intellectual_mental_max_grade": Int { min: 0, max: 4 } => "无劳动能力:智力、精神残疾最低等级",
    "tekun.unable.physical_max_grade": Int { min: 0, max: 4 } => "无劳动能力:肢体残疾最低等级",
    "tekun.unable.visual_max_grade": Int { min: 0, max: 4 } => "无劳动能力:视力残疾最低等级",
    "tekun.minor.in_school_extension": Bool => "年满18周岁仍在校的继续供养",
    "tekun.basic.multiplier": Dec { max: 10 } => "特困基本生活标准(城市低保标准的倍数)",
    "tekun.care.method": Choice(&["minimum_wage_share", "annual_amount"]) => "照料护理标准口径",
    "tekun.care.minimum_wage": Money => "当地最低工资标准(元/月)",
    "tekun.care.rate.full_loss": Dec { max: 2 } => "全失能护理比例",
    "tekun.care.rate.partial_loss": Dec { max: 2 } => "半失能护理比例",
    "tekun.care.rate.self_care_centralised": Dec { max: 2 } => "自理且集中供养护理比例",
    "tekun.care.rate.self_care_dispersed": Dec { max: 2 } => "自理且分散供养护理比例",
    "tekun.care.annual.full_loss": Money => "全护理标准(元/人·年)",
    "tekun.care.annual.partial_loss": Money => "半护理标准(元/人·年)",
    "tekun.care.annual.self_care": Money => "全自理标准(元/人·年)",
    "tekun.self_care.full_loss_min_unable": Int { min: 1, max: 6 } => "全失能:不能完成的日常活动项数下限",
    "temporary.basis": Choice(&["urban", "area"]) => "临时救助计算基数(城市低保标准/户所在城乡标准)",
    "temporary.emergency.min_months": Dec { max: 60 } => "急难型临时救助最低月数",
    "temporary.emergency.max_months": Dec { max: 60 } => "急难型临时救助最高月数",
    "temporary.expenditure.min_months": Dec { max: 60 } => "支出型临时救助最低月数",
    "temporary.expenditure.max_months": Dec { max: 60 } => "支出型临时救助最高月数",
    "temporary.migrant.enabled": Bool => "是否实行失业农民工一次性临时救助",
    "temporary.migrant.max_months": Dec { max: 60 } => "失业农民工临时救助最高月数(城市低保标准)",
    "temporary.migrant.min_months_without_income": Int { min: 1, max: 24 } => "失业农民工连续无收入月数",
    "temporary.reserve_fund.minimum": Money => "乡镇(街道)临时救助备用金最低余额(元)",
    "low_income.edge.multiplier": Dec { max: 10 } => "低保边缘家庭收入上限(低保标准的倍数)",
    "low_income.rigid.enabled": Bool => "是否认定刚性支出困难家庭",
    "low_income.rigid.prev_year_disposable_income": Money => "上年度人均可支配收入(元/年)",
    "low_income.rigid.expense_share": Dec { max: 10 } => "刚性支出占家庭收入比例下限",
    "low_income.rigid.valid_months": Int { min: 1, max: 36 } => "刚性支出困难认定有效期(月)",
    "low_income.relative_poverty.enabled": Bool => "是否开展相对贫困认定试点",
    "low_income.relative_poverty.multiplier": Dec { max: 10 } => "相对贫困标准(低保标准的倍数)",
    "low_income.medical_warning.enabled": Bool => "是否实行医疗费用预警",
    "low_income.medical_warning.ordinary": Money => "普通参保人员医疗费用预警线(单次自付)",
    "low_income.medical_warning.low_income": Money => "低收入人员医疗费用预警线(单次自付)",
    "verify.deposit.limit_per_member": Money => "一月一比对存款预警线(元/人,家庭存款超过此数×人数)",
    "verify.property.residential_allowed": Int { min: 0, max: 20 } => "一月一比对住房预警:住宅套数上限(超过即预警)",
    "verify.outreach.enabled": Bool => "是否开展政策找人(非在册人员单次医疗自付超过普通参保人员预警线的,列为线索)",
    "verify.report.income_months": Int { min: 1, max: 36 } => "核对报告收入估算月数(工资、公积金、医疗费用按最近N个月平均)",
    "verify.handling.working_days": Int { min: 1, max: 60 } => "一月一比对预警核查处置时限(工作日,自比对之日起算)",
    "verify.window_days.civil_deaths": Int { min: 1, max: 400 } => "一月一比对死亡数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.vehicles": Int { min: 1, max: 400 } => "一月一比对车辆数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.deposits": Int { min: 1, max: 400 } => "一月一比对存款数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.real_estate": Int { min: 1, max: 400 } => "一月一比对不动产数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.business": Int { min: 1, max: 400 } => "一月一比对工商登记数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.social_insurance": Int { min: 1, max: 400 } => "一月一比对社保缴费数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.medical_claims": Int { min: 1, max: 400 } => "一月一比对医疗费用数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.pensions": Int { min: 1, max: 400 } => "一月一比对养老金数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.housing_fund": Int { min: 1, max: 400 } => "一月一比对住房公积金数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.imprisonment": Int { min: 1, max: 400 } => "一月一比对服刑数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
    "verify.window_days.hukou_moves": Int { min: 1, max: 400 } => "一月一比对户籍迁移数据有效期(天:数据日期早于比对月末此天数以上即为过期,不采用)",
}

pub fn param_def(name: &str) -> Option<&'static ParamDef> {
    PARAMS.iter().find(|d| d.name == name)
}

/// One tier of a tiered (分档) dibao: households whose per-capita countable income is below
/// `income_below` get `per_person` for each member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub income_below: Money,
    pub per_person: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Money(Money),
    Decimal(Decimal),
    Int(i64),
    Bool(bool),
    Choice(String),
    Tiers(Vec<Tier>),
}

/// A legal source (document) cited by parameter values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<NaiveDate>,
}

/// One dated value of a parameter, with where it is written and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub param: &'static str,
    pub region: String,
    pub region_name: String,
    pub file: Arc<str>,
    pub line: usize,
    pub from: NaiveDate,
    pub value: Value,
    pub source: Arc<Source>,
    pub clause: Option<String>,
    pub note: Option<String>,
}

impl Entry {
    /// "《title》(number) clause" for explanations.
    pub fn citation_zh(&self) -> String {
        let mut s = format!("《{}》", self.source.title);
        if let Some(n) = &self.source.number {
            s.push_str(&format!("({n})"));
        }
        if let Some(c) = &self.clause {
            s.push_str(&format!(" {c}"));
        }
        if let Some(n) = &self.note {
            s.push_str(&format!(";{n}"));
        }
        s
    }

    fn wrong(&self, message: impl Into<String>) -> PolicyError {
        PolicyError::WrongValue {
            param: self.param.into(),
            file: self.file.to_string(),
            line: self.line,
            message: message.into(),
        }
    }
}

/// A parsed, validated policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    pub file: Arc<str>,
    pub region: DivisionCode,
    pub name: String,
    pub version: String,
    /// A fingerprint of the file text (FNV-1a 64), so a stored decision names the exact text.
    pub digest: String,
    /// Entries per parameter, ascending by `from`.
    pub params: BTreeMap<&'static str, Vec<Arc<Entry>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policy: Spanned<RawHeader>,
    #[serde(default)]
    sources: BTreeMap<String, Spanned<RawSource>>,
    #[serde(default)]
    params: BTreeMap<Spanned<String>, Spanned<Vec<Spanned<RawEntry>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    region: Spanned<String>,
    name: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    title: String,
    number: Option<String>,
    issued: Option<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    from: Spanned<toml::value::Datetime>,
    value: Spanned<toml::Value>,
    source: Spanned<String>,
    clause: Option<String>,
    note: Option<String>,
}

fn line_of(text: &str, span: Range<usize>) -> usize {
    let end = span.start.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn toml_date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(date), None, None) => {
            NaiveDate::from_ymd_opt(date.year as i32, date.month as u32, date.day as u32)
        }
        _ => None,
    }
}

pub(crate) fn fnv64(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn parse_money_text(s: &str) -> Result<Money, String> {
    Money::parse(s).map_err(|e| e.message_zh())
}

fn parse_decimal_text(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("“{s}”不是非负小数"));
    }
    t.parse::<Decimal>()
        .map_err(|_| format!("“{s}”不是非负小数"))
}

/// Converts a TOML value to the parameter's kind. Floats are refused: decimal values are written
/// as strings so that nothing passes through binary floating point.
pub(crate) fn convert(kind: Kind, v: &toml::Value) -> Result<Value, String> {
    use toml::Value as T;
    if let T::Float(_) = v {
        return Err("小数请写成字符串(例如 \"0.30\"),不接受浮点数".into());
    }
    match kind {
        Kind::Money => match v {
            T::String(s) => parse_money_text(s).map(Value::Money),
            T::Integer(i) => Ok(Value::Money(Money::from_fen(
                i.checked_mul(100).ok_or("金额超出范围")?,
            ))),
            _ => Err("应为金额(元,字符串或整数)".into()),
        }
        .and_then(|m| match m {
            Value::Money(x) if x.is_negative() => Err("金额不能为负".into()),
            other => Ok(other),
        }),
        Kind::Dec { max } => {
            let d = match v {
                T::String(s) => parse_decimal_text(s)?,
                T::Integer(i) if *i >= 0 => Decimal::from(*i),
                _ => return Err("应为非负小数(字符串)".into()),
            };
            if d > Decimal::from(max) {
                return Err(format!("{d} 超过上限 {max}"));
            }
            Ok(Value::Decimal(d))
        }
        Kind::Int { min, max } => match v {
            T::Integer(i) if (min..=max).contains(i) => Ok(Value::Int(*i)),
            T::Integer(i) => Err(format!("{i} 不在 {min}–{max} 范围内")),
            _ => Err("应为整数".into()),
        },
        Kind::Bool => match v {
            T::Boolean(b) => Ok(Value::Bool(*b)),
            _ => Err("应为 true 或 false".into()),
        },
        Kind::Choice(words) => match v {
            T::String(s) if words.contains(&s.as_str()) => Ok(Value::Choice(s.clone())),
            _ => Err(format!("应为以下之一:{}", words.join("、"))),
        },
        Kind::Tiers => {
            let T::Array(items) = v else {
                return Err(
                    "应为分档列表 [{ income_below = \"…\", per_person = \"…\" }, …]".into(),
                );
            };
            let mut tiers: Vec<Tier> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let T::Table(t) = item else {
                    return Err(format!("第{}档应为表", i + 1));
                };
                let get = |k: &str| -> Result<Money, String> {
                    match t.get(k) {
                        Some(T::String(s)) => parse_money_text(s),
                        Some(T::Integer(n)) => Ok(Money::from_yuan(*n)),
                        _ => Err(format!("第{}档缺少金额 {k}", i + 1)),
                    }
                };
                if let Some(k) = t
                    .keys()
                    .find(|k| *k != "income_below" && *k != "per_person")
                {
                    return Err(format!("第{}档有未知字段 {k}", i + 1));
                }
                let tier = Tier {
                    income_below: get("income_below")?,
                    per_person: get("per_person")?,
                };
                if tiers
                    .last()
                    .is_some_and(|p| p.income_below >= tier.income_below)
                {
                    return Err("各档 income_below 应递增".into());
                }
                tiers.push(tier);
            }
            if tiers.is_empty() {
                return Err("分档列表不能为空".into());
            }
            Ok(Value::Tiers(tiers))
        }
    }
}

impl PolicyFile {
    /// Parses and validates one policy file. `file` is the name used in error messages.
    pub fn parse(file: &str, text: &str) -> Result<PolicyFile, Vec<PolicyError>> {
        let fname: Arc<str> = Arc::from(file);
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            vec![PolicyError::Syntax {
                file: file.into(),
                line: e.span().map(|s| line_of(text, s)).unwrap_or(1),
                message: e.message().trim().to_string(),
            }]
        })?;
        let mut errors = Vec::new();
        let header = raw.policy.get_ref();
        let region = match DivisionCode::parse(header.region.get_ref()) {
            Ok(c) if c.level() <= Level::County => Some(c),
            Ok(c) => {
                errors.push(PolicyError::Invalid {
                    file: file.into(),
                    line: line_of(text, header.region.span()),
                    param: "policy.region".into(),
                    message: format!(
                        "政策地区须为全国、省、市或县级区划,{c} 是{}",
                        c.level().label_zh()
                    ),
                });
                None
            }
            Err(e) => {
                errors.push(PolicyError::Invalid {
                    file: file.into(),
                    line: line_of(text, header.region.span()),
                    param: "policy.region".into(),
                    message: e.message_zh(),
                });
                None
            }
        };
        let mut sources: BTreeMap<String, Arc<Source>> = BTreeMap::new();
        for (key, s) in &raw.sources {
            let r = s.get_ref();
            let issued = match &r.issued {
                Some(d) => match toml_date(d) {
                    Some(d) => Some(d),
                    None => {
                        errors.push(PolicyError::Invalid {
                            file: file.into(),
                            line: line_of(text, s.span()),
                            param: format!("sources.{key}"),
                            message: "issued 应为日期(YYYY-MM-DD)".into(),
                        });
                        None
                    }
                },
                None => None,
            };
            sources.insert(
                key.clone(),
                Arc::new(Source {
                    key: key.clone(),
                    title: r.title.clone(),
                    number: r.number.clone(),
                    issued,
                }),
            );
        }
        let region_text = region.as_ref().map(|r| r.to_string()).unwrap_or_default();
        let mut params: BTreeMap<&'static str, Vec<Arc<Entry>>> = BTreeMap::new();
        for (name, entries) in &raw.params {
            let name_line = line_of(text, name.span());
            let invalid = |line: usize, message: String| PolicyError::Invalid {
                file: file.into(),
                line,
                param: name.get_ref().clone(),
                message,
            };
            let Some(def) = param_def(name.get_ref()) else {
                errors.push(invalid(name_line, "未知参数".into()));
                continue;
            };
            if entries.get_ref().is_empty() {
                errors.push(invalid(name_line, "至少需要一个生效值".into()));
                continue;
            }
            let mut list: Vec<Arc<Entry>> = Vec::new();
            for e in entries.get_ref() {
                let line = line_of(text, e.span());
                let r = e.get_ref();
                let Some(from) = toml_date(r.from.get_ref()) else {
                    errors.push(invalid(line, "from 应为日期(YYYY-MM-DD)".into()));
                    continue;
                };
                let value = match convert(def.kind, r.value.get_ref()) {
                    Ok(v) => v,
                    Err(m) => {
                        errors.push(invalid(line_of(text, r.value.span()), m));
                        continue;
                    }
                };
                let Some(source) = sources.get(r.source.get_ref()) else {
                    errors.push(invalid(
                        line_of(text, r.source.span()),
                        format!("来源 {} 未在 [sources] 中定义", r.source.get_ref()),
                    ));
                    continue;
                };
                if list.last().is_some_and(|p| p.from >= from) {
                    errors.push(invalid(line, "各生效日期应严格递增".into()));
                    continue;
                }
                list.push(Arc::new(Entry {
                    param: def.name,
                    region: region_text.clone(),
                    region_name: header.name.clone(),
                    file: fname.clone(),
                    line,
                    from,
                    value,
                    source: source.clone(),
                    clause: r.clause.clone(),
                    note: r.note.clone(),
                }));
            }
            params.insert(def.name, list);
        }
        match region {
            Some(region) if errors.is_empty() => Ok(PolicyFile {
                file: fname,
                region,
                name: header.name.clone(),
                version: header.version.clone(),
                digest: fnv64(text),
                params,
            }),
            _ => Err(errors),
        }
    }

    /// The value in force on `date` in this file, if any.
    pub(crate) fn in_force(&self, name: &str, date: NaiveDate) -> Option<&Arc<Entry>> {
        self.params.get(name)?.iter().rev().find(|e| e.from <= date)
    }
}

/// All loaded policy files, by region code.
#[derive(Debug, Clone, Default)]
pub struct PolicyLibrary {
    pub(crate) files: BTreeMap<String, Arc<PolicyFile>>,
    /// The highest policy revision applied (`crate::revisions`), 0 for the files alone.
    pub(crate) revision: i64,
}

/// The shipped policy files, embedded in the binary.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "policies/000000-national.toml",
        include_str!("../../../policies/000000-national.toml"),
    ),
    (
        "policies/371000-weihai.toml",
        include_str!("../../../policies/371000-weihai.toml"),
    ),
    (
        "policies/371003-wendeng.toml",
        include_str!("../../../policies/371003-wendeng.toml"),
    ),
    (
        "policies/371082-rongcheng.toml",
        include_str!("../../../policies/371082-rongcheng.toml"),
    ),
    (
        "policies/520304-bozhou.toml",
        include_str!("../../../policies/520304-bozhou.toml"),
    ),
];

impl PolicyLibrary {
    /// The shipped policies.
    pub fn builtin() -> Result<PolicyLibrary, Vec<PolicyError>> {
        PolicyLibrary::from_texts(BUILTIN.iter().map(|(f, t)| (f.to_string(), t.to_string())))
    }

    /// Loads files given as (name, text) — e.g. read from a directory by the caller. Every error
    /// of every file is returned.
    pub fn from_texts(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<PolicyLibrary, Vec<PolicyError>> {
        let mut lib = PolicyLibrary::default();
        let mut errors = Vec::new();
        for (name, text) in files {
            match PolicyFile::parse(&name, &text) {
                Ok(f) => {
                    if let Err(e) = lib.insert(f) {
                        errors.push(e);
                    }
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(lib)
        } else {
            Err(errors)
        }
    }

    pub fn insert(&mut self, f: PolicyFile) -> Result<(), PolicyError> {
        let key = f.region.to_string();
        if let Some(other) = self.files.get(&key) {
            return Err(PolicyError::DuplicateRegion {
                file: f.file.to_string(),
                region: key,
                other: other.file.to_string(),
            });
        }
        self.files.insert(key, Arc::new(f));
        Ok(())
    }

    pub fn files(&self) -> impl Iterator<Item = &PolicyFile> {
        self.files.values().map(|f| f.as_ref())
    }

    /// The file of exactly this region, if there is one.
    pub fn file(&self, region: &DivisionCode) -> Option<&PolicyFile> {
        self.files.get(region.as_str()).map(|f| f.as_ref())
    }

    /// The policy for a region (any level; a township or village uses its county's chain).
    /// `UnknownRegion` when no file below the national level covers it.
    pub fn for_region(&self, region: &DivisionCode) -> Result<PolicySet, PolicyError> {
        let county_or_above = match region.county() {
            Some(c) => c,
            None => region.clone(),
        };
        let mut codes = vec![county_or_above.clone()];
        codes.extend(county_or_above.ancestors());
        let chain: Vec<Arc<PolicyFile>> = codes
            .iter()
            .filter_map(|c| self.files.get(c.as_str()).cloned())
            .collect();
        if !chain.iter().any(|f| f.region.level() > Level::Nation) {
            return Err(PolicyError::UnknownRegion {
                region: region.to_string(),
            });
        }
        Ok(PolicySet {
            region: region.clone(),
            chain,
        })
    }

    /// [`PolicyLibrary::for_region`], or where no sub-national file covers `region` (the
    /// nation itself, a run over several provinces) the national file alone: the defaults every
    /// region inherits.
    pub fn for_region_or_nation(&self, region: &DivisionCode) -> Result<PolicySet, PolicyError> {
        match self.for_region(region) {
            Err(PolicyError::UnknownRegion { .. }) => {
                let nation = self.files.get(DivisionCode::nation().as_str()).cloned();
                match nation {
                    Some(file) => Ok(PolicySet {
                        region: region.clone(),
                        chain: vec![file],
                    }),
                    None => self.for_region(region),
                }
            }
            other => other,
        }
    }

    /// Parses the region text first (so a malformed code is reported as such).
    pub fn for_region_text(&self, region: &str) -> Result<PolicySet, PolicyError> {
        let code = DivisionCode::parse(region).map_err(|e| PolicyError::BadRegion {
            region: region.into(),
            reason: e.message_zh(),
        })?;
        self.for_region(&code)
    }

    /// A copy with one more dated value (a what-if, or an edit about to be saved): `param` gets
    /// `value` from `from` in the file of `region` (created, empty, if there is none).
    pub fn with_value(
        &self,
        region: &DivisionCode,
        param: &str,
        from: NaiveDate,
        value: Value,
        source: Source,
    ) -> Result<PolicyLibrary, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            file: "(what-if)".into(),
            line: 0,
            param: param.into(),
            message,
        };
        let def = param_def(param).ok_or_else(|| invalid("未知参数".into()))?;
        let ok_kind = matches!(
            (def.kind, &value),
            (Kind::Money, Value::Money(_))
                | (Kind::Dec { .. }, Value::Decimal(_))
                | (Kind::Int { .. }, Value::Int(_))
                | (Kind::Bool, Value::Bool(_))
                | (Kind::Choice(_), Value::Choice(_))
                | (Kind::Tiers, Value::Tiers(_))
        );
        if !ok_kind {
            return Err(invalid("取值类型与参数不符".into()));
        }
        let mut lib = self.clone();
        let key = region.to_string();
        let mut file = match lib.files.get(&key) {
            Some(f) => (**f).clone(),
            None => PolicyFile {
                file: Arc::from(format!("(what-if {key})")),
                region: region.clone(),
                name: key.clone(),
                version: "what-if".into(),
                digest: String::new(),
                params: BTreeMap::new(),
            },
        };
        let entry = Arc::new(Entry {
            param: def.name,
            region: key.clone(),
            region_name: file.name.clone(),
            file: file.file.clone(),
            line: 0,
            from,
            value,
            source: Arc::new(source),
            clause: None,
            note: Some("假设调整(what-if)".into()),
        });
        let list = file.params.entry(def.name).or_default();
        list.retain(|e| e.from != from);
        list.push(entry);
        list.sort_by_key(|e| e.from);
        file.version = format!("{}+what-if", file.version);
        lib.files.insert(key, Arc::new(file));
        Ok(lib)
    }
}

/// The chain of files that applies to one region, most specific first.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub region: DivisionCode,
    chain: Vec<Arc<PolicyFile>>,
}

/// Which files (and versions) a result was computed with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyVersion {
    pub region: String,
    pub file: String,
    pub name: String,
    pub version: String,
    pub digest: String,
}

impl PolicySet {
    pub fn versions(&self) -> Vec<PolicyVersion> {
        self.chain
            .iter()
            .map(|f| PolicyVersion {
                region: f.region.to_string(),
                file: f.file.to_string(),
                name: f.name.clone(),
                version: f.version.clone(),
                digest: f.digest.clone(),
            })
            .collect()
    }

    /// The entry in force for `name` on `date`: the most specific file with a value in force.
    pub fn entry(&self, name: &str, date: NaiveDate) -> Result<Arc<Entry>, PolicyError> {
        self.chain
            .iter()
            .find_map(|f| f.in_force(name, date))
            .cloned()
            .ok_or_else(|| PolicyError::Missing {
                param: name.into(),
                region: self.region.to_string(),
                date,
            })
    }

    pub fn at(&self, date: NaiveDate) -> ParamView<'_> {
        ParamView { set: self, date }
    }
}

/// A parameter value and the entry it came from.
#[derive(Debug, Clone)]
pub struct P<T> {
    pub value: T,
    pub entry: Arc<Entry>,
}

/// Typed lookups on one date.
#[derive(Debug, Clone, Copy)]
pub struct ParamView<'a> {
    pub set: &'a PolicySet,
    pub date: NaiveDate,
}

impl ParamView<'_> {
    pub fn money(&self, name: &str) -> Result<P<Money>, PolicyError> {
        let e = self.set.entry(name, self.date)?;
        match &e.value {
            Value::Money(m) => Ok(P {
                value: *m,
                entry: e.clone(),
            }),
            _ => Err(e.wrong("应为金额")),
        }
    }
    pub fn decimal(&self, name: &str) -> Result<P<Decimal>, PolicyError> {
        let e = self.set.entry(name, self.date)?;
        match &e.value {
            Value::Decimal(d) => Ok(P {
                value: *d,
                entry: e.clone(),
            }),
            _ => Err(e.wrong("应为小数")),
        }
    }
    pub fn int(&self, name: &str) -> Result<P<i64>, PolicyError> {
        let e = self.set.entry(name, self.date)?;
        match &e.value {
            Value::Int(i) => Ok(P {
                value: *i,
                entry: e.clone(),
            }),
            _ => Err(e.wrong("应为整数")),
        }
    }
    pub fn flag(&self, name: &str) -> Result<P<bool>, PolicyError> {
        let e = self.set.entry(name, self.date)?;
        match &e.value {
            Value::Bool(b) => Ok(P {
                value: *b,
                entry: e.clone(),
            }),
            _ => Err(e.wrong("应为 true/false")),
        }
    }
    pub fn choice(&self, name: &str) -> Result<P<String>, PolicyError> {
        let e = self.set.entry(name, self.date)?;
        match &e.value {
            Value::Choice(s) => Ok(P {
                value: s.clone(),
                entry: e.clone(),
            }),
            _ => Err(e.wrong("应为选项")),
        }
    }
    pub fn tiers(&self, name: &str) -> Result<P<Vec<Tier>>, PolicyError> {
        let e = self.set.entry(name, self.date)?;
        match &e.value {
            Value::Tiers(t) => Ok(P {
                value: t.clone(),
                entry: e.clone(),
            }),
            _ => Err(e.wrong("应为分档列表")),
        }
    }
}
