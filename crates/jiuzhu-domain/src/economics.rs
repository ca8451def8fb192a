//! A household's economic status (家庭经济状况): the facts a month's benefit is computed from that
//! the registry of persons and households does not hold — each member's monthly income, rigid
//! expenses and employment cost, 特困 status where it applies, the household's assets and its
//! 低保 history for the grace-exit rule.
//!
//! It is one effective-dated record per household (current version plus history, like the
//! household's own facts) rather than facts on each person, because it is assessed and recorded
//! for the household as a whole (家庭经济状况核对) and members are named by person id.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::registry::{HouseholdId, PersonId};
use crate::validation::{FieldError, ValidationErrors};
use crate::Money;

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $(if s == $code || s == $zh { return Some($name::$variant); })+
                None
            }
        }
    };
}

word_enum!(
    /// 特困 status: recognised by decision, or applying (the three conditions are assessed).
    TekunState { Recognised = "recognised" / "已认定", Applying = "applying" / "申请认定" }
);

word_enum!(
    /// The person's statutory supporters (法定赡养、抚养、扶养义务人).
    TekunSupporter {
        None = "none" / "无法定义务人",
        Unable = "unable" / "义务人无履行能力",
        Able = "able" / "义务人有履行能力",
    }
);

word_enum!(
    /// Why the household's income rose above the line (the grace-exit rule, R-DB-8).
    GraceCause { Employment = "employment" / "就业", Other = "other" / "其他" }
);

/// 特困 facts of one member (self-care comes from the person's registered assessment).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TekunFacts {
    pub status: TekunState,
    #[serde(default)]
    pub centralised: bool,
    pub supporter: TekunSupporter,
}

/// One member's monthly economic facts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEconomics {
    pub person_id: PersonId,
    /// Monthly income.
    pub income: Money,
    #[serde(default)]
    pub medical_expense: Money,
    #[serde(default)]
    pub disability_expense: Money,
    #[serde(default)]
    pub education_expense: Money,
    #[serde(default)]
    pub employment_cost: Money,
    /// Single out-of-pocket medical costs settled in the month (warning lines).
    #[serde(default)]
    pub medical_costs: Vec<Money>,
    #[serde(default)]
    pub tekun: Option<TekunFacts>,
}

/// The household's assets. The financial amount is bank-related and shown masked to roles that
/// may not reveal sensitive data.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdAssets {
    pub financial: Money,
    #[serde(default)]
    pub dwellings: u32,
    #[serde(default)]
    pub vehicles: u32,
    #[serde(default)]
    pub business_registrations: u32,
}

/// The household's 低保 history, as the grace-exit rule needs it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DibaoHistoryFacts {
    pub monthly_amount: Money,
    /// The first day of the month from which the income exceeded the line.
    pub income_exceeded_since: NaiveDate,
    pub reason: GraceCause,
}

/// The economic status of a household (what is stored, as JSON, per version).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdEconomics {
    pub members: Vec<MemberEconomics>,
    #[serde(default)]
    pub assets: HouseholdAssets,
    #[serde(default)]
    pub dibao_history: Option<DibaoHistoryFacts>,
}

/// A stored version: the economics in force from `valid_from`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EconomicsRecord {
    pub household_id: HouseholdId,
    pub economics: HouseholdEconomics,
    pub valid_from: NaiveDate,
    /// The current row's version (an update names it); for a superseded version, the version it
    /// had.
    pub row_version: i64,
    pub recorded_by: String,
}

impl HouseholdEconomics {
    pub fn member(&self, person: PersonId) -> Option<&MemberEconomics> {
        self.members.iter().find(|m| m.person_id == person)
    }

    /// Checks amounts (none negative) and that every member named is one of `members` (the
    /// persons who are members of the household on the date the record takes effect), at most
    /// once. Errors name the field (`members[1].income`) with a Chinese reason.
    pub fn validate(&self, members: &[PersonId]) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut money = |field: String, m: Money| {
            if m.is_negative() {
                errors.push(FieldError::new(
                    field,
                    "MONEY_NEGATIVE",
                    format!("金额“{m}”不能为负"),
                ));
            }
        };
        for (i, m) in self.members.iter().enumerate() {
            let f = |name: &str| format!("members[{i}].{name}");
            money(f("income"), m.income);
            money(f("expenses.medical"), m.medical_expense);
            money(f("expenses.disability"), m.disability_expense);
            money(f("expenses.education"), m.education_expense);
            money(f("employment_cost"), m.employment_cost);
            for (j, c) in m.medical_costs.iter().enumerate() {
                money(format!("members[{i}].medical_costs[{j}]"), *c);
            }
        }
        money("assets.financial".into(), self.assets.financial);
        if let Some(h) = &self.dibao_history {
            money("dibao_history.monthly_amount".into(), h.monthly_amount);
        }
        for (i, m) in self.members.iter().enumerate() {
            if !members.contains(&m.person_id) {
                errors.push(FieldError::new(
                    format!("members[{i}].person_id"),
                    "MEMBER_NOT_IN_HOUSEHOLD",
                    format!("人员 {} 在生效日期不是该家庭的成员", m.person_id),
                ));
            } else if self.members[..i].iter().any(|x| x.person_id == m.person_id) {
                errors.push(FieldError::new(
                    format!("members[{i}].person_id"),
                    "MEMBER_DUPLICATE",
                    format!("人员 {} 重复填写", m.person_id),
                ));
            }
        }
        errors.into_result()
    }
}

// ---- input as written (JSON API and forms): money as text -------------------------------------

/// Money as written: a string or a JSON number, parsed exactly (never through a float).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AmountText {
    Text(String),
    Number(serde_json::Number),
}

impl AmountText {
    fn text(&self) -> String {
        match self {
            AmountText::Text(s) => s.clone(),
            AmountText::Number(n) => n.to_string(),
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpensesInput {
    pub medical: Option<AmountText>,
    pub disability: Option<AmountText>,
    pub education: Option<AmountText>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TekunInput {
    pub status: String,
    #[serde(default)]
    pub centralised: bool,
    pub supporter: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEconomicsInput {
    pub person_id: PersonId,
    pub income: Option<AmountText>,
    #[serde(default)]
    pub expenses: ExpensesInput,
    pub employment_cost: Option<AmountText>,
    #[serde(default)]
    pub medical_costs: Vec<AmountText>,
    pub tekun: Option<TekunInput>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetsInput {
    pub financial: Option<AmountText>,
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
pub struct DibaoHistoryInput {
    pub monthly_amount: AmountText,
    /// `YYYY-MM`.
    pub income_exceeded_since: String,
    pub reason: String,
}

/// The economics as a client writes them (`PUT /api/v1/households/{id}/economics`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomicsInput {
    pub members: Vec<MemberEconomicsInput>,
    #[serde(default)]
    pub assets: AssetsInput,
    pub dibao_history: Option<DibaoHistoryInput>,
}

impl EconomicsInput {
    /// Parses every amount (at most two decimals, not negative) and word; every problem is
    /// reported with its field. Membership is checked by [`HouseholdEconomics::validate`].
    pub fn parse(&self) -> Result<HouseholdEconomics, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut money = |field: String, m: Option<&AmountText>| -> Money {
            let Some(m) = m else { return Money::ZERO };
            match Money::parse(&m.text()) {
                Ok(v) if v.is_negative() => {
                    errors.push(FieldError::new(
                        field,
                        "MONEY_NEGATIVE",
                        format!("金额“{v}”不能为负"),
                    ));
                    Money::ZERO
                }
                Ok(v) => v,
                Err(e) => {
                    errors.push(FieldError::new(field, e.code(), e.message_zh()));
                    Money::ZERO
                }
            }
        };
        let mut words = Vec::new();
        let mut members = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let f = |name: &str| format!("members[{i}].{name}");
            let tekun = m.tekun.as_ref().map(|t| {
                let status = TekunState::parse(&t.status);
                if status.is_none() {
                    words.push(FieldError::new(
                        f("tekun.status"),
                        "VALUE_UNKNOWN",
                        format!("特困状态“{}”无效,应为 recognised、applying", t.status),
                    ));
                }
                let sup = t.supporter.as_deref().unwrap_or("none");
                let supporter = TekunSupporter::parse(sup);
                if supporter.is_none() {
                    words.push(FieldError::new(
                        f("tekun.supporter"),
                        "VALUE_UNKNOWN",
                        format!("义务人情况“{sup}”无效,应为 none、unable、able"),
                    ));
                }
                TekunFacts {
                    status: status.unwrap_or(TekunState::Applying),
                    centralised: t.centralised,
                    supporter: supporter.unwrap_or(TekunSupporter::None),
                }
            });
            members.push(MemberEconomics {
                person_id: m.person_id,
                income: money(f("income"), m.income.as_ref()),
                medical_expense: money(f("expenses.medical"), m.expenses.medical.as_ref()),
                disability_expense: money(f("expenses.disability"), m.expenses.disability.as_ref()),
                education_expense: money(f("expenses.education"), m.expenses.education.as_ref()),
                employment_cost: money(f("employment_cost"), m.employment_cost.as_ref()),
                medical_costs: m
                    .medical_costs
                    .iter()
                    .enumerate()
                    .map(|(j, c)| money(format!("members[{i}].medical_costs[{j}]"), Some(c)))
                    .collect(),
                tekun,
            });
        }
        let assets = HouseholdAssets {
            financial: money("assets.financial".into(), self.assets.financial.as_ref()),
            dwellings: self.assets.dwellings,
            vehicles: self.assets.vehicles,
            business_registrations: self.assets.business_registrations,
        };
        let dibao_history = self.dibao_history.as_ref().map(|h| {
            let amount = money(
                "dibao_history.monthly_amount".into(),
                Some(&h.monthly_amount),
            );
            let since = NaiveDate::parse_from_str(
                &format!("{}-01", h.income_exceeded_since.trim()),
                "%Y-%m-%d",
            );
            if since.is_err() {
                words.push(FieldError::new(
                    "dibao_history.income_exceeded_since",
                    "MONTH_INVALID",
                    format!("月份“{}”应为 YYYY-MM", h.income_exceeded_since),
                ));
            }
            let reason = GraceCause::parse(&h.reason);
            if reason.is_none() {
                words.push(FieldError::new(
                    "dibao_history.reason",
                    "VALUE_UNKNOWN",
                    format!("收入增加原因“{}”无效,应为 employment、other", h.reason),
                ));
            }
            DibaoHistoryFacts {
                monthly_amount: amount,
                income_exceeded_since: since.unwrap_or_default(),
                reason: reason.unwrap_or(GraceCause::Other),
            }
        });
        for e in words {
            errors.push(e);
        }
        errors.into_result()?;
        Ok(HouseholdEconomics {
            members,
            assets,
            dibao_history,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> EconomicsInput {
        serde_json::from_str(json).expect("test input parses")
    }

    #[test]
    fn parses_amounts_and_reports_every_bad_field() {
        let ok = input(
            r#"{"members": [{"person_id": 7, "income": "300.50", "expenses": {"medical": 20},
                "tekun": {"status": "recognised", "supporter": "none"}}],
                "assets": {"financial": "1000", "dwellings": 1}}"#,
        )
        .parse()
        .expect("valid");
        assert_eq!(ok.members[0].income, Money::from_fen(30050));
        assert_eq!(ok.members[0].medical_expense, Money::from_yuan(20));
        assert_eq!(ok.assets.financial, Money::from_yuan(1000));
        assert_eq!(ok.validate(&[7, 8]), Ok(()));

        let bad = input(
            r#"{"members": [{"person_id": 7, "income": "100.005", "employment_cost": "-1"}],
                "assets": {"financial": "x"}}"#,
        )
        .parse()
        .expect_err("invalid");
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "members[0].income",
                "members[0].employment_cost",
                "assets.financial"
            ]
        );
        assert_eq!(bad.0[0].code, "MONEY_TOO_MANY_DECIMALS");
        assert_eq!(bad.0[1].code, "MONEY_NEGATIVE");
    }

    #[test]
    fn members_must_belong_to_the_household_once() {
        let e = HouseholdEconomics {
            members: vec![
                MemberEconomics {
                    person_id: 1,
                    income: Money::ZERO,
                    medical_expense: Money::ZERO,
                    disability_expense: Money::ZERO,
                    education_expense: Money::ZERO,
                    employment_cost: Money::ZERO,
                    medical_costs: vec![],
                    tekun: None,
                };
                2
            ],
            ..Default::default()
        };
        let err = e.validate(&[2]).expect_err("1 is not a member");
        assert_eq!(err.0[0].code, "MEMBER_NOT_IN_HOUSEHOLD");
        let err = e.validate(&[1]).expect_err("duplicate");
        assert_eq!(err.0[0].field, "members[1].person_id");
        assert_eq!(err.0[0].code, "MEMBER_DUPLICATE");
    }
}
