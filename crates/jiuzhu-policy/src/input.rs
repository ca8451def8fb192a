//! The household input JSON of `jiuzhu calc` and `POST /api/v1/calc` (docs/calc.md), validated
//! field by field: every problem is reported with its field path (`members[1].income`), a stable
//! code and a Chinese reason, all at once.

use chrono::NaiveDate;
use jiuzhu_domain::{
    Area, Disability, DisabilityKind, DivisionCode, EducationStage, FieldError, IdNumber, Money,
    Relation, ValidationErrors, WorkAbility,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::*;

/// Money as written: a string or a JSON number, kept as text until validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MoneyText {
    Text(String),
    Number(serde_json::Number),
}

impl MoneyText {
    fn text(&self) -> String {
        match self {
            MoneyText::Text(s) => s.clone(),
            MoneyText::Number(n) => n.to_string(),
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpenses {
    pub medical: Option<MoneyText>,
    pub disability: Option<MoneyText>,
    pub education: Option<MoneyText>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisability {
    pub kind: String,
    pub grade: u8,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExclusion {
    pub kind: String,
    pub since: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSelfCare {
    /// `able`, `partial_loss`, `full_loss` — or the six activities below.
    pub level: Option<String>,
    pub eating: Option<bool>,
    pub dressing: Option<bool>,
    pub bed_transfer: Option<bool>,
    pub toileting: Option<bool>,
    pub walking_indoors: Option<bool>,
    pub bathing: Option<bool>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTekun {
    pub status: String,
    #[serde(default)]
    pub centralised: bool,
    pub supporter: Option<String>,
    pub self_care: Option<RawSelfCare>,
    #[serde(default)]
    pub covered_as_minor: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    pub id_number: Option<String>,
    #[serde(default)]
    pub name: String,
    pub relation: String,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
    pub died_on: Option<String>,
    pub exclusion: Option<RawExclusion>,
    pub lives_together: Option<bool>,
    pub support_duty: Option<bool>,
    pub income: Option<MoneyText>,
    #[serde(default)]
    pub expenses: RawExpenses,
    pub employment_cost: Option<MoneyText>,
    pub disability: Option<RawDisability>,
    #[serde(default)]
    pub serious_illness: bool,
    pub education: Option<String>,
    pub work_ability: Option<String>,
    pub tekun: Option<RawTekun>,
    #[serde(default)]
    pub medical_costs: Vec<MoneyText>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssets {
    pub financial: Option<MoneyText>,
    #[serde(default)]
    pub dwellings: u32,
    #[serde(default)]
    pub vehicles: u32,
    #[serde(default)]
    pub business_registrations: u32,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    pub monthly_amount: MoneyText,
    pub income_exceeded_since: String,
    pub reason: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemporary {
    pub kind: String,
    pub months: MoneyText,
    #[serde(default)]
    pub months_without_income: u32,
    #[serde(default)]
    pub insured: bool,
}

/// The input JSON as written (also the "input snapshot" stored with a result).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHousehold {
    pub region: String,
    pub code: Option<String>,
    pub area: String,
    pub members: Vec<RawMember>,
    #[serde(default)]
    pub assets: RawAssets,
    #[serde(default)]
    pub single_parent: bool,
    #[serde(default)]
    pub staff_relative: bool,
    #[serde(default)]
    pub post_poverty_monitored: bool,
    pub dibao_history: Option<RawHistory>,
    pub income_12m: Option<MoneyText>,
    pub rigid_expenses_12m: Option<MoneyText>,
    pub temporary: Option<RawTemporary>,
}

struct V {
    errors: ValidationErrors,
}

impl V {
    fn err(&mut self, field: String, code: &str, message: String) {
        self.errors.push(FieldError::new(field, code, message));
    }
    fn money(&mut self, field: String, m: Option<&MoneyText>) -> Money {
        let Some(m) = m else { return Money::ZERO };
        match Money::parse(&m.text()) {
            Ok(v) if v.is_negative() => {
                self.err(field, "MONEY_NEGATIVE", format!("金额“{v}”不能为负"));
                Money::ZERO
            }
            Ok(v) => v,
            Err(e) => {
                self.err(field, e.code(), e.message_zh());
                Money::ZERO
            }
        }
    }
    fn date(&mut self, field: String, s: Option<&String>) -> Option<NaiveDate> {
        let s = s?;
        match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(field, "DATE_INVALID", format!("日期“{s}”应为 YYYY-MM-DD"));
                None
            }
        }
    }
    fn word<T>(
        &mut self,
        field: String,
        s: &str,
        parse: impl Fn(&str) -> Option<T>,
        what: &str,
        allowed: &str,
    ) -> Option<T> {
        let r = parse(s);
        if r.is_none() {
            self.err(
                field,
                "VALUE_UNKNOWN",
                format!("{what}“{s}”无效,应为:{allowed}"),
            );
        }
        r
    }
}

fn list<T: Copy>(all: &[T], f: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|x| f(*x)).collect::<Vec<_>>().join("、")
}

fn self_care(v: &mut V, field: String, s: Option<&RawSelfCare>) -> SelfCareInput {
    let Some(s) = s else {
        return SelfCareInput::Level(SelfCareLevel::Able);
    };
    if let Some(l) = &s.level {
        let lvl = match l.as_str() {
            "able" => Some(SelfCareLevel::Able),
            "partial_loss" => Some(SelfCareLevel::PartialLoss),
            "full_loss" => Some(SelfCareLevel::FullLoss),
            _ => None,
        };
        return match lvl {
            Some(x) => SelfCareInput::Level(x),
            None => {
                v.err(
                    format!("{field}.level"),
                    "VALUE_UNKNOWN",
                    format!("自理能力“{l}”无效,应为 able、partial_loss、full_loss"),
                );
                SelfCareInput::Level(SelfCareLevel::Able)
            }
        };
    }
    let six = [
        s.eating,
        s.dressing,
        s.bed_transfer,
        s.toileting,
        s.walking_indoors,
        s.bathing,
    ];
    if six.iter().any(|x| x.is_none()) {
        v.err(field, "SELF_CARE_INCOMPLETE", "自理能力评估须给出 level,或六项日常活动(进食、穿衣、上下床、如厕、室内行走、洗澡)全部结果".into());
        return SelfCareInput::Level(SelfCareLevel::Able);
    }
    SelfCareInput::Unable(six.iter().filter(|x| **x == Some(false)).count() as u8)
}

impl RawHousehold {
    pub fn from_json(text: &str) -> Result<RawHousehold, ValidationErrors> {
        serde_json::from_str(text).map_err(|e| {
            ValidationErrors(vec![FieldError::new(
                "input",
                "INPUT_JSON",
                format!("输入 JSON 第{}行第{}列无效:{e}", e.line(), e.column()),
            )])
        })
    }

    /// Validates every field and builds the engine input.
    pub fn validate(&self) -> Result<HouseholdInput, ValidationErrors> {
        let mut v = V {
            errors: ValidationErrors::default(),
        };
        let region = match DivisionCode::parse(&self.region) {
            Ok(c) => Some(c),
            Err(e) => {
                v.err("region".into(), e.code(), e.message_zh());
                None
            }
        };
        let area = v.word(
            "area".into(),
            &self.area,
            Area::parse,
            "城乡类别",
            "urban、rural",
        );
        if self.members.is_empty() {
            v.err(
                "members".into(),
                "HOUSEHOLD_NO_MEMBERS",
                "家庭成员不能为空".into(),
            );
        }
        let mut members = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let f = |name: &str| format!("members[{i}].{name}");
            let id = match &m.id_number {
                None => {
                    v.err(f("id_number"), "ID_REQUIRED", "身份证号码不能为空".into());
                    None
                }
                Some(s) => match IdNumber::parse(s) {
                    Ok(id) => Some(id),
                    Err(e) => {
                        v.err(f("id_number"), e.code(), e.message_zh());
                        None
                    }
                },
            };
            let relation = v.word(
                f("relation"),
                &m.relation,
                Relation::parse,
                "与户主关系",
                &list(Relation::ALL, |r| r.as_str()),
            );
            let education = match &m.education {
                Some(s) => v.word(
                    f("education"),
                    s,
                    EducationStage::parse,
                    "在学情况",
                    &list(EducationStage::ALL, |r| r.as_str()),
                ),
                None => Some(EducationStage::NotInSchool),
            };
            let work_ability = match &m.work_ability {
                Some(s) => v.word(
                    f("work_ability"),
                    s,
                    WorkAbility::parse,
                    "劳动能力",
                    &list(WorkAbility::ALL, |r| r.as_str()),
                ),
                None => Some(WorkAbility::Able),
            };
            let disability = match &m.disability {
                Some(d) => {
                    let kind = v.word(
                        f("disability.kind"),
                        &d.kind,
                        DisabilityKind::parse,
                        "残疾类别",
                        &list(DisabilityKind::ALL, |r| r.as_str()),
                    );
                    if !(1..=4).contains(&d.grade) {
                        v.err(
                            f("disability.grade"),
                            "DISABILITY_GRADE",
                            format!("残疾等级 {} 无效,应为1至4级", d.grade),
                        );
                    }
                    kind.map(|kind| Disability {
                        kind,
                        grade: d.grade,
                    })
                }
                None => None,
            };
            let exclusion = match &m.exclusion {
                Some(x) => {
                    let kind = match x.kind.as_str() {
                        "clergy" => Some(ExclusionKind::Clergy),
                        "prison" => Some(ExclusionKind::Prison),
                        "drug_rehabilitation" => Some(ExclusionKind::DrugRehabilitation),
                        "declared_missing" => Some(ExclusionKind::DeclaredMissing),
                        other => {
                            v.err(f("exclusion.kind"), "VALUE_UNKNOWN", format!("不计入情形“{other}”无效,应为 clergy、prison、drug_rehabilitation、declared_missing"));
                            None
                        }
                    };
                    let since = v.date(f("exclusion.since"), Some(&x.since));
                    kind.zip(since)
                        .map(|(kind, since)| Exclusion { kind, since })
                }
                None => None,
            };
            let tekun = match &m.tekun {
                Some(t) => {
                    let status = match t.status.as_str() {
                        "recognised" => Some(TekunStatus::Recognised),
                        "applying" => Some(TekunStatus::Applying),
                        other => {
                            v.err(
                                f("tekun.status"),
                                "VALUE_UNKNOWN",
                                format!("特困状态“{other}”无效,应为 recognised、applying"),
                            );
                            None
                        }
                    };
                    let supporter = match t.supporter.as_deref().unwrap_or("none") {
                        "none" => Some(Supporter::None),
                        "unable" => Some(Supporter::Unable),
                        "able" => Some(Supporter::Able),
                        other => {
                            v.err(
                                f("tekun.supporter"),
                                "VALUE_UNKNOWN",
                                format!("义务人情况“{other}”无效,应为 none、unable、able"),
                            );
                            None
                        }
                    };
                    let sc = self_care(&mut v, f("tekun.self_care"), t.self_care.as_ref());
                    status.zip(supporter).map(|(status, supporter)| TekunInput {
                        status,
                        centralised: t.centralised,
                        supporter,
                        self_care: sc,
                        covered_as_minor: t.covered_as_minor,
                    })
                }
                None => None,
            };
            let medical_costs = m
                .medical_costs
                .iter()
                .enumerate()
                .map(|(j, c)| v.money(format!("members[{i}].medical_costs[{j}]"), Some(c)))
                .collect();
            let member = MemberInput {
                name: m.name.clone(),
                birth: Birth::Date(id.as_ref().map(|x| x.birth_date()).unwrap_or_default()),
                id_number: id.clone(),
                relation: relation.unwrap_or(Relation::Other),
                joined_on: v.date(f("joined_on"), m.joined_on.as_ref()),
                left_on: v.date(f("left_on"), m.left_on.as_ref()),
                died_on: v.date(f("died_on"), m.died_on.as_ref()),
                exclusion,
                lives_together: m.lives_together.unwrap_or(true),
                support_duty: m.support_duty.unwrap_or(false),
                income: v.money(f("income"), m.income.as_ref()),
                medical_expense: v.money(f("expenses.medical"), m.expenses.medical.as_ref()),
                disability_expense: v
                    .money(f("expenses.disability"), m.expenses.disability.as_ref()),
                education_expense: v.money(f("expenses.education"), m.expenses.education.as_ref()),
                employment_cost: v.money(f("employment_cost"), m.employment_cost.as_ref()),
                disability,
                serious_illness: m.serious_illness,
                education: education.unwrap_or(EducationStage::NotInSchool),
                work_ability: work_ability.unwrap_or(WorkAbility::Able),
                tekun,
                medical_costs,
            };
            members.push(member);
        }
        if !self.members.is_empty()
            && self
                .members
                .iter()
                .filter(|m| m.relation == "head" || m.relation == "户主")
                .count()
                != 1
        {
            v.err(
                "members".into(),
                "HOUSEHOLD_HEAD",
                "家庭须有且只有一名户主(relation = head)".into(),
            );
        }
        let assets = Assets {
            financial: v.money("assets.financial".into(), self.assets.financial.as_ref()),
            dwellings: self.assets.dwellings,
            vehicles: self.assets.vehicles,
            business_registrations: self.assets.business_registrations,
        };
        let dibao_history = match &self.dibao_history {
            Some(h) => {
                let amount = v.money(
                    "dibao_history.monthly_amount".into(),
                    Some(&h.monthly_amount),
                );
                let since = Month::parse(&h.income_exceeded_since);
                if since.is_none() {
                    v.err(
                        "dibao_history.income_exceeded_since".into(),
                        "MONTH_INVALID",
                        format!("月份“{}”应为 YYYY-MM", h.income_exceeded_since),
                    );
                }
                let reason = match h.reason.as_str() {
                    "employment" => Some(GraceReason::Employment),
                    "other" => Some(GraceReason::Other),
                    other => {
                        v.err(
                            "dibao_history.reason".into(),
                            "VALUE_UNKNOWN",
                            format!("收入增加原因“{other}”无效,应为 employment、other"),
                        );
                        None
                    }
                };
                since.zip(reason).map(|(since, reason)| DibaoHistory {
                    monthly_amount: amount,
                    income_exceeded_since: since,
                    reason,
                })
            }
            None => None,
        };
        let temporary = match &self.temporary {
            Some(t) => {
                let kind = match t.kind.as_str() {
                    "emergency" => Some(TemporaryKind::Emergency),
                    "expenditure" => Some(TemporaryKind::Expenditure),
                    "migrant" => Some(TemporaryKind::Migrant),
                    other => {
                        v.err(
                            "temporary.kind".into(),
                            "VALUE_UNKNOWN",
                            format!(
                                "临时救助类型“{other}”无效,应为 emergency、expenditure、migrant"
                            ),
                        );
                        None
                    }
                };
                let text = t.months.text();
                let months = match text.trim().parse::<Decimal>() {
                    Ok(d) if d > Decimal::ZERO => Some(d),
                    _ => {
                        v.err(
                            "temporary.months".into(),
                            "TEMPORARY_MONTHS_INVALID",
                            format!("月数“{text}”应为正数"),
                        );
                        None
                    }
                };
                kind.zip(months).map(|(kind, months)| TemporaryRequest {
                    kind,
                    months,
                    months_without_income: t.months_without_income,
                    insured: t.insured,
                })
            }
            None => None,
        };
        let income_12m = self
            .income_12m
            .as_ref()
            .map(|m| v.money("income_12m".into(), Some(m)));
        let rigid_expenses_12m = self
            .rigid_expenses_12m
            .as_ref()
            .map(|m| v.money("rigid_expenses_12m".into(), Some(m)));
        v.errors.clone().into_result()?;
        Ok(HouseholdInput {
            region: region.expect("validated"),
            code: self.code.clone(),
            area: area.expect("validated"),
            members,
            assets,
            single_parent: self.single_parent,
            staff_relative: self.staff_relative,
            post_poverty_monitored: self.post_poverty_monitored,
            dibao_history,
            income_12m,
            rigid_expenses_12m,
            temporary,
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for MoneyText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        jiuzhu_domain::openapi::amount_as_written()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for MoneyText {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("MoneyText")
    }
}
