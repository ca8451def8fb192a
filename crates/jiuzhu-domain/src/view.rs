//! What a user is shown of a person. Sensitive fields are masked unless the view is built with a
//! [`Grant<RevealSensitive>`](crate::access::RevealSensitive) — and a grant alone is not enough to
//! get the data: the store's `reveal_person` audits the access and returns the person that is
//! passed here. Handlers render only views, never a raw [`Person`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::{Grant, RevealSensitive};
use crate::division::DivisionCode;
use crate::id_number::{mask_phone, Sex};
use crate::registry::{
    Disability, EducationStage, Employment, Person, PersonId, SelfCareAssessment, WorkAbility,
};

/// A sensitive value: shown, or hidden behind a mask.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum Sensitive<T> {
    Shown(T),
    Masked,
}

impl<T> Sensitive<T> {
    pub fn shown(&self) -> Option<&T> {
        match self {
            Sensitive::Shown(v) => Some(v),
            Sensitive::Masked => None,
        }
    }
    pub fn is_masked(&self) -> bool {
        matches!(self, Sensitive::Masked)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: PersonId,
    /// Masked (`371002************`) unless revealed.
    pub id_number: String,
    pub revealed: bool,
    pub name: String,
    pub sex: Sex,
    /// The year of birth, always shown: ages matter in social assistance, and the year alone
    /// leaves 365 dates open.
    pub birth_year: i32,
    /// The full date of birth (the middle of the identity number) only when revealed.
    pub birth_date: Sensitive<NaiveDate>,
    pub hukou_division: Option<DivisionCode>,
    pub residence_division: DivisionCode,
    /// Masked in the middle (`138****5678`, [`mask_phone`]) unless revealed.
    pub phone: Option<String>,
    pub disability: Sensitive<Option<Disability>>,
    pub serious_illness: Sensitive<bool>,
    pub illness_note: Sensitive<Option<String>>,
    pub bank_account: Sensitive<Option<String>>,
    pub education: EducationStage,
    pub employment: Employment,
    pub work_ability: WorkAbility,
    pub self_care: Option<SelfCareAssessment>,
    pub valid_from: NaiveDate,
    pub row_version: i64,
}

fn sens<T>(reveal: bool, v: T) -> Sensitive<T> {
    if reveal {
        Sensitive::Shown(v)
    } else {
        Sensitive::Masked
    }
}

impl PersonView {
    /// The default view: sensitive fields masked.
    pub fn masked(p: &Person) -> PersonView {
        Self::build(p, false)
    }

    /// The full view, for a person returned by the store's audited `reveal_person`.
    pub fn revealed(p: &Person, _proof: &Grant<RevealSensitive>) -> PersonView {
        Self::build(p, true)
    }

    fn build(p: &Person, reveal: bool) -> PersonView {
        let f = &p.facts;
        PersonView {
            id: p.id,
            id_number: if reveal {
                p.id_number.to_string()
            } else {
                p.id_number.masked()
            },
            revealed: reveal,
            name: f.name.clone(),
            sex: f.sex,
            birth_year: chrono::Datelike::year(&f.birth_date),
            birth_date: sens(reveal, f.birth_date),
            hukou_division: f.hukou_division.clone(),
            residence_division: f.residence_division.clone(),
            phone: f
                .phone
                .as_ref()
                .map(|ph| if reveal { ph.clone() } else { mask_phone(ph) }),
            disability: sens(reveal, f.disability),
            serious_illness: sens(reveal, f.serious_illness),
            illness_note: sens(reveal, f.illness_note.clone()),
            bank_account: sens(reveal, f.bank_account.clone()),
            education: f.education,
            employment: f.employment,
            work_ability: f.work_ability,
            self_care: f.self_care,
            valid_from: p.valid_from,
            row_version: p.row_version,
        }
    }
}
