//! The registry: persons (人员), households (户) and dated membership.
//!
//! Every record has a current row and a history of superseded versions, each valid from a date.
//! Reading "as of" a date returns the version that was in force then; household membership is
//! itself dated (joined/left), so a household as of a date has the members it had on that date.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;
use crate::id_number::{IdNumber, Sex};

macro_rules! code_enum {
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
            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $(if s == $code || s == $zh { return Some($name::$variant); })+
                None
            }
        }
    };
}

code_enum!(
    /// Urban (城市) or rural (农村) household; selects the dibao standard.
    Area { Urban = "urban" / "城市", Rural = "rural" / "农村" }
);

code_enum!(
    /// Relation to the head of household (与户主关系).
    Relation {
        Head = "head" / "户主",
        Spouse = "spouse" / "配偶",
        Child = "child" / "子女",
        Parent = "parent" / "父母",
        Grandchild = "grandchild" / "孙子女",
        Grandparent = "grandparent" / "祖父母",
        Sibling = "sibling" / "兄弟姐妹",
        Other = "other" / "其他",
    }
);

code_enum!(
    /// Disability kind (残疾类别), per the national disability certificate.
    DisabilityKind {
        Visual = "visual" / "视力",
        Hearing = "hearing" / "听力",
        Speech = "speech" / "言语",
        Physical = "physical" / "肢体",
        Intellectual = "intellectual" / "智力",
        Mental = "mental" / "精神",
        Multiple = "multiple" / "多重",
    }
);

code_enum!(
    EducationStage {
        NotInSchool = "not_in_school" / "不在学",
        Preschool = "preschool" / "学前",
        Primary = "primary" / "小学",
        JuniorSecondary = "junior_secondary" / "初中",
        SeniorSecondary = "senior_secondary" / "高中",
        Vocational = "vocational" / "中职/高职",
        Undergraduate = "undergraduate" / "本科",
        Postgraduate = "postgraduate" / "研究生",
    }
);

code_enum!(
    Employment {
        Employed = "employed" / "就业",
        SelfEmployed = "self_employed" / "灵活就业/个体",
        Unemployed = "unemployed" / "失业",
        Retired = "retired" / "退休",
        NotInLabourForce = "not_in_labour_force" / "非劳动力",
    }
);

code_enum!(
    /// Ability to work (劳动能力).
    WorkAbility {
        Able = "able" / "有劳动能力",
        Partial = "partial" / "部分丧失劳动能力",
        Unable = "unable" / "无劳动能力",
    }
);

impl EducationStage {
    pub fn in_school(self) -> bool {
        !matches!(self, EducationStage::NotInSchool)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disability {
    pub kind: DisabilityKind,
    /// 1 (most severe) to 4.
    pub grade: u8,
}

/// The six daily activities of the self-care assessment (生活自理能力评估, TK-2021); `true` means
/// the person can do it unaided.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCareAssessment {
    pub eating: bool,
    pub dressing: bool,
    pub bed_transfer: bool,
    pub toileting: bool,
    pub walking_indoors: bool,
    pub bathing: bool,
    pub assessed_on: NaiveDate,
}

impl SelfCareAssessment {
    pub fn unable_count(&self) -> usize {
        [
            self.eating,
            self.dressing,
            self.bed_transfer,
            self.toileting,
            self.walking_indoors,
            self.bathing,
        ]
        .iter()
        .filter(|able| !**able)
        .count()
    }
}

/// The effective-dated attributes of a person. Sensitive: `disability`, `serious_illness`,
/// `illness_note`, `bank_account` (and the identity number on [`Person`]).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// Household registration (户籍地).
    pub hukou_division: Option<DivisionCode>,
    /// Where the person lives and is managed (居住地); scopes who may see the record.
    pub residence_division: DivisionCode,
    pub phone: Option<String>,
    pub disability: Option<Disability>,
    pub serious_illness: bool,
    pub illness_note: Option<String>,
    pub education: EducationStage,
    pub employment: Employment,
    pub work_ability: WorkAbility,
    pub self_care: Option<SelfCareAssessment>,
    /// One-card payment account (一卡通).
    pub bank_account: Option<String>,
}

impl PersonFacts {
    /// Facts for a person known only by identity number, name and residence (as in a legacy
    /// caseload spreadsheet): sex and birth date come from the number.
    pub fn minimal(id: &IdNumber, name: &str, residence: DivisionCode) -> PersonFacts {
        PersonFacts {
            name: name.to_string(),
            sex: id.sex(),
            birth_date: id.birth_date(),
            hukou_division: None,
            residence_division: residence,
            phone: None,
            disability: None,
            serious_illness: false,
            illness_note: None,
            education: EducationStage::NotInSchool,
            employment: Employment::NotInLabourForce,
            work_ability: WorkAbility::Able,
            self_care: None,
            bank_account: None,
        }
    }
}

pub type PersonId = i64;
pub type HouseholdId = i64;
pub type MembershipId = i64;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub id_number: IdNumber,
    pub facts: PersonFacts,
    /// The date from which `facts` are in force.
    pub valid_from: NaiveDate,
    /// Optimistic-concurrency token: an update must name the version it was based on.
    pub row_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A superseded or current version of a record, for history views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version<T> {
    pub valid_from: NaiveDate,
    /// `None` for the version in force now.
    pub valid_to: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub data: T,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdFacts {
    pub address: String,
    pub division: DivisionCode,
    pub area: Area,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    pub id: HouseholdId,
    /// Human-facing household number (户编号), unique.
    pub code: String,
    pub facts: HouseholdFacts,
    pub valid_from: NaiveDate,
    pub row_version: i64,
    /// Identifier in the system the household was imported from, if any.
    pub source_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub id: MembershipId,
    pub household_id: HouseholdId,
    pub person_id: PersonId,
    pub relation: Relation,
    pub joined_on: NaiveDate,
    /// Exclusive: the person is no longer a member from this date on.
    pub left_on: Option<NaiveDate>,
    pub join_reason: Option<String>,
    pub leave_reason: Option<String>,
}

impl Membership {
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.joined_on <= date && self.left_on.is_none_or(|l| date < l)
    }
}

/// A member as listed with a household: the membership and the person's summary.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub membership: Membership,
    pub person: Person,
}
