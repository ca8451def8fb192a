//! From the registry to the engine: a household as stored (facts and members as of a date, the
//! person facts then in force) plus its economic record becomes the calc input
//! ([`RawHousehold`]), so that the `/calc` page's prefill, the whole-caseload month and the
//! what-if on the store all compute the same thing.

use jiuzhu_domain::{
    FieldError, HouseholdEconomics, HouseholdFacts, Member, Money, Relation, TekunFacts,
};

use crate::caseload::Failed;
use crate::input::{
    MoneyText, RawAssets, RawExpenses, RawHistory, RawHousehold, RawMember, RawSelfCare, RawTekun,
};
use crate::model::HouseholdInput;

/// The failure code of a household without an economic record in force.
pub const ECONOMICS_MISSING: &str = "ECONOMICS_MISSING";

fn money(m: Money) -> Option<MoneyText> {
    (m != Money::ZERO).then(|| MoneyText::Text(m.to_string()))
}

/// The 特困 part of a member: the recorded status plus the self-care assessment of the person's
/// registered facts.
pub fn raw_tekun(t: &TekunFacts, m: &Member) -> RawTekun {
    RawTekun {
        status: t.status.as_str().to_string(),
        centralised: t.centralised,
        supporter: Some(t.supporter.as_str().to_string()),
        self_care: m.person.facts.self_care.map(|s| RawSelfCare {
            level: None,
            eating: Some(s.eating),
            dressing: Some(s.dressing),
            bed_transfer: Some(s.bed_transfer),
            toileting: Some(s.toileting),
            walking_indoors: Some(s.walking_indoors),
            bathing: Some(s.bathing),
        }),
        covered_as_minor: false,
    }
}

/// One registry member as a calc input member: identity, relation, dates and the registered facts
/// (disability, serious illness, schooling, work ability), plus the member's economics if given.
pub fn raw_member(m: &Member, econ: Option<&HouseholdEconomics>) -> RawMember {
    let p = &m.person;
    let e = econ.and_then(|e| e.member(p.id));
    RawMember {
        id_number: Some(p.id_number.as_str().to_string()),
        name: p.facts.name.clone(),
        relation: m.membership.relation.as_str().to_string(),
        joined_on: Some(m.membership.joined_on.to_string()),
        left_on: m.membership.left_on.map(|d| d.to_string()),
        died_on: None,
        exclusion: None,
        lives_together: None,
        support_duty: None,
        income: e.and_then(|e| money(e.income)),
        expenses: RawExpenses {
            medical: e.and_then(|e| money(e.medical_expense)),
            disability: e.and_then(|e| money(e.disability_expense)),
            education: e.and_then(|e| money(e.education_expense)),
        },
        employment_cost: e.and_then(|e| money(e.employment_cost)),
        disability: p.facts.disability.map(|d| crate::input::RawDisability {
            kind: d.kind.as_str().to_string(),
            grade: d.grade,
        }),
        serious_illness: p.facts.serious_illness,
        education: Some(p.facts.education.as_str().to_string()),
        work_ability: Some(p.facts.work_ability.as_str().to_string()),
        tekun: e.and_then(|e| e.tekun.as_ref()).map(|t| raw_tekun(t, m)),
        medical_costs: e
            .map(|e| {
                e.medical_costs
                    .iter()
                    .map(|c| MoneyText::Text(c.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The calc input of a registry household: `code` is the household number, `region` its
/// division (the township groups the month report). Without an economic record the household
/// cannot be computed: a missing record is an error (`ECONOMICS_MISSING`), never zero income.
pub fn raw_household(
    code: &str,
    facts: &HouseholdFacts,
    members: &[Member],
    economics: Option<&HouseholdEconomics>,
) -> Result<RawHousehold, FieldError> {
    let econ = economics
        .ok_or_else(|| FieldError::new("economics", ECONOMICS_MISSING, "缺少经济状况信息"))?;
    let mut ms: Vec<&Member> = members.iter().collect();
    // The head first, as pages list members.
    ms.sort_by_key(|m| m.membership.relation != Relation::Head);
    Ok(RawHousehold {
        region: facts.division.to_string(),
        code: Some(code.to_string()),
        area: facts.area.as_str().to_string(),
        members: ms.into_iter().map(|m| raw_member(m, Some(econ))).collect(),
        assets: RawAssets {
            financial: money(econ.assets.financial),
            dwellings: econ.assets.dwellings,
            vehicles: econ.assets.vehicles,
            business_registrations: econ.assets.business_registrations,
        },
        single_parent: false,
        staff_relative: false,
        post_poverty_monitored: false,
        dibao_history: econ.dibao_history.as_ref().map(|h| RawHistory {
            monthly_amount: MoneyText::Text(h.monthly_amount.to_string()),
            income_exceeded_since: h.income_exceeded_since.format("%Y-%m").to_string(),
            reason: h.reason.as_str().to_string(),
        }),
        income_12m: None,
        rigid_expenses_12m: None,
        temporary: None,
    })
}

/// Validates registry households (each already mapped by [`raw_household`], or failed) into
/// engine inputs: the inputs, their positions, and the failures by position — the same shape as
/// [`crate::caseload::read_caseload`], so month and what-if runs take either.
pub fn read_registry(
    items: Vec<(String, Result<RawHousehold, FieldError>)>,
) -> (Vec<HouseholdInput>, Vec<usize>, Vec<Failed>) {
    let mut households = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    let mut failed = Vec::new();
    for (i, (code, raw)) in items.into_iter().enumerate() {
        match raw
            .map_err(|e| vec![e])
            .and_then(|r| r.validate().map_err(|e| e.0))
        {
            Ok(hh) => {
                households.push(hh);
                positions.push(i);
            }
            Err(errors) => failed.push(Failed {
                index: i,
                code: Some(code),
                errors,
            }),
        }
    }
    (households, positions, failed)
}
