//! Closing a warning (销号), for the page and the API alike. A closure with adjust/suspend/stop
//! opens the change of the household's running case in the closure's transaction
//! (`cases::changes::for_warning`). A closure as 调整救助金额 first updates the fact of the
//! household's economic record that the warning revealed, pre-filled from its evidence, so that
//! the change case it opens computes the new amount from what was found (the decision reads the
//! record in force).
//! Without it an adjustment would recompute the old facts and decide "369.00 → 369.00".
//!
//! Warnings about members (a death, a prison term, a move) change the household's members, not
//! its economics: they are recorded on the household's page; their adjustment asks for no fact.

use chrono::NaiveDate;
use jiuzhu_domain::access::{HandleWarnings, ReadRegistry, WriteRegistry};
use jiuzhu_domain::{Actor, FieldError, HouseholdEconomics, MemberEconomics, Money};
use jiuzhu_store::{CaseId, CloseWarning, StoreError, WarningRecord, WarningResult, WriteUnit};
use serde::{Deserialize, Serialize};

use crate::cases::changes::ClosureChange;
use crate::{App, Error, Result};

/// The fact a warning kind reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    FinancialAssets,
    Dwellings,
    Vehicles,
    Businesses,
    /// The household's monthly income (wages or pensions over its members).
    HouseholdIncome,
    /// A single out-of-pocket medical cost of the member.
    MedicalCost,
}

impl Fact {
    pub fn of(kind: &str) -> Option<Fact> {
        Some(match kind {
            "DEPOSIT" => Fact::FinancialAssets,
            "PROPERTY" => Fact::Dwellings,
            "VEHICLE" => Fact::Vehicles,
            "BUSINESS" => Fact::Businesses,
            "INCOME" | "PENSION" => Fact::HouseholdIncome,
            "MEDICAL" => Fact::MedicalCost,
            _ => return None,
        })
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Fact::FinancialAssets => "家庭金融资产(元)",
            Fact::Dwellings => "住房(套)",
            Fact::Vehicles => "机动车(辆)",
            Fact::Businesses => "市场主体登记(个)",
            Fact::HouseholdIncome => "家庭月收入合计(元)",
            Fact::MedicalCost => "本月医疗自付费用(元)",
        }
    }

    fn is_money(self) -> bool {
        matches!(
            self,
            Fact::FinancialAssets | Fact::HouseholdIncome | Fact::MedicalCost
        )
    }
}

/// The close form's fact field: what it updates, its pre-filled value and a hint.
pub struct FactField {
    pub label: &'static str,
    pub value: String,
    pub hint: String,
}

/// The field for a warning, pre-filled from the evidence as the page shows it: a masked value
/// (bank or health data) is not pre-filled until the user reveals it (an audited reveal).
pub fn field(w: &WarningRecord) -> Option<FactField> {
    let fact = Fact::of(&w.kind)?;
    let shown = w.evidence["value"].as_str().unwrap_or_default();
    let masked = shown.is_empty() || shown.contains('*');
    let value = if masked {
        String::new()
    } else if fact == Fact::Dwellings {
        // "住宅2套、商业0套": the homes are what the record counts.
        residential(shown)
            .map(|n| n.to_string())
            .unwrap_or_default()
    } else if fact.is_money() {
        shown.to_string()
    } else {
        "1".to_string()
    };
    let hint = if masked {
        "比对值属敏感信息,未预填:请填写入户核实的数额(有权查看的人员查看原文后,此处按原文预填)"
            .into()
    } else {
        format!("按比对数据预填({shown}),请按入户核实的情况修改")
    };
    Some(FactField {
        label: fact.label_zh(),
        value,
        hint,
    })
}

fn residential(shown: &str) -> Option<u32> {
    shown.strip_prefix("住宅")?.split('套').next()?.parse().ok()
}

fn invalid(code: &'static str, message: impl Into<String>) -> Error {
    Error::invalid(vec![FieldError::new("fact_value", code, message)])
}

/// The household's economic record with the fact an adjustment of `w` found: the record it was
/// applied to (its version) and the new one, written by the closure in its own transaction.
/// Nothing for a warning about members.
struct Found {
    write: jiuzhu_domain::Grant<WriteRegistry>,
    expected_version: Option<i64>,
    economics: HouseholdEconomics,
}

async fn found_fact(
    app: &App,
    actor: &Actor,
    w: &WarningRecord,
    text: &str,
    valid_from: NaiveDate,
) -> Result<Option<Found>> {
    let Some(fact) = Fact::of(&w.kind) else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(
            "FACT_REQUIRED",
            format!(
                "调整救助金额须先更新本户的{}:请填写核实后的数额",
                fact.label_zh()
            ),
        ));
    }
    let (read, write) = match (
        actor.grant::<ReadRegistry>(),
        actor.grant::<WriteRegistry>(),
    ) {
        (Ok(r), Ok(w)) => (r, w),
        _ => {
            return Err(invalid(
                "FACT_NOT_YOURS",
                "您无权更新家庭经济状况,请由乡镇(街道)经办人员选择“调整救助金额”",
            ))
        }
    };
    let today = app.today();
    let snapshot = app
        .store
        .household_as_of(&read, w.household_id, valid_from)
        .await?
        .ok_or(Error::NotFound)?;
    let current = app
        .store
        .economics_as_of(&read, w.household_id, today)
        .await?;
    let (mut economics, version) = match current {
        Some(r) => (r.economics, Some(r.row_version)),
        None => (HouseholdEconomics::default(), None),
    };
    // Every member of the household on the day is in the record (with no income if new).
    for m in &snapshot.members {
        if economics.member(m.person.id).is_none() {
            economics.members.push(MemberEconomics {
                person_id: m.person.id,
                income: Money::ZERO,
                medical_expense: Money::ZERO,
                disability_expense: Money::ZERO,
                education_expense: Money::ZERO,
                employment_cost: Money::ZERO,
                medical_costs: Vec::new(),
                tekun: None,
            });
        }
    }
    let member = w.evidence["person"].as_str().and_then(|masked| {
        snapshot
            .members
            .iter()
            .find(|m| m.person.id_number.masked() == masked)
            .map(|m| m.person.id)
    });
    apply(fact, &mut economics, member, text)?;
    Ok(Some(Found {
        write,
        expected_version: version,
        economics,
    }))
}

fn apply(
    fact: Fact,
    e: &mut HouseholdEconomics,
    member: Option<jiuzhu_domain::PersonId>,
    text: &str,
) -> Result<()> {
    let money = || {
        Money::parse(text)
            .ok()
            .filter(|m| !m.is_negative())
            .ok_or_else(|| invalid("FACT_VALUE_INVALID", format!("“{text}”不是有效金额")))
    };
    let count = || {
        text.parse::<u32>()
            .ok()
            .filter(|n| *n <= 1000)
            .ok_or_else(|| invalid("FACT_VALUE_INVALID", format!("“{text}”不是有效数量")))
    };
    let who = || {
        member.ok_or_else(|| {
            invalid(
                "FACT_MEMBER_UNKNOWN",
                "比对数据中的人员不是本户现有成员,请在家庭页面核对成员后更新经济状况",
            )
        })
    };
    match fact {
        Fact::FinancialAssets => e.assets.financial = money()?,
        Fact::Dwellings => e.assets.dwellings = count()?,
        Fact::Vehicles => e.assets.vehicles = count()?,
        Fact::Businesses => e.assets.business_registrations = count()?,
        Fact::HouseholdIncome => {
            // The source gives the household's total: the member it names takes what the
            // other members' recorded incomes do not account for.
            let total = money()?;
            let person = who()?;
            let others = e
                .members
                .iter()
                .filter(|m| m.person_id != person)
                .fold(Money::ZERO, |sum, m| sum + m.income);
            let own = if total > others {
                total - others
            } else {
                Money::ZERO
            };
            if let Some(m) = e.members.iter_mut().find(|m| m.person_id == person) {
                m.income = own;
            }
        }
        Fact::MedicalCost => {
            let cost = money()?;
            let person = who()?;
            if let Some(m) = e.members.iter_mut().find(|m| m.person_id == person) {
                m.medical_costs.push(cost);
            }
        }
    }
    Ok(())
}

/// Closes a warning (form and API alike): for 调整救助金额, the fact it revealed (`fact_value`, in
/// force from the visit date or today) is written as the household's economic record, the
/// warning closed and its change case opened on the household's benefit in force, which computes
/// from the new record, all in one transaction: a stale form or a household without a benefit
/// changes nothing.
pub async fn close_warning(
    app: &App,
    g: &jiuzhu_domain::Grant<jiuzhu_domain::access::HandleWarnings>,
    id: i64,
    row_version: i64,
    close: jiuzhu_store::CloseWarning,
    fact_value: Option<&str>,
) -> Result<WarningRecord> {
    let actor = g.actor();
    let w = app
        .store
        .get_warning(&actor.grant()?, id)
        .await?
        .ok_or(Error::NotFound)?;
    let valid_from = close.visit_date.unwrap_or_else(|| app.today());
    let found = if close.result == jiuzhu_store::WarningResult::Adjust
        && Fact::of(&w.kind).is_some()
        && has_benefit(app, actor, &w).await?
    {
        found_fact(app, actor, &w, fact_value.unwrap_or_default(), valid_from).await?
    } else {
        None
    };
    let change =
        crate::cases::changes::for_warning(app, actor, &w, close.result, &close.note).await?;
    // One transaction: the fact, the change and the closure are kept together or not at all.
    let mut unit = app.store.begin().await?;
    let before = unit.warning_to_close(g, id, row_version, &close).await?;
    if let Some(f) = &found {
        unit.save_economics(
            &f.write,
            before.household_id,
            f.expected_version,
            &f.economics,
            valid_from,
        )
        .await?;
    }
    let (change_case, note_more) = if close.result.changes_benefit() {
        change_of_closure(unit.as_mut(), g, &before, close.result, &change).await?
    } else {
        (None, None)
    };
    let closed = unit
        .close_warning(g, &before, &close, change_case, note_more.as_deref())
        .await?;
    unit.commit().await?;
    Ok(closed)
}

/// For a closure with adjust/suspend/stop: opens the change the application prepared on the
/// household's running case (or finds the change already open), in the closure's unit. Returns
/// the change case and a sentence for the note when nothing could be opened.
async fn change_of_closure(
    unit: &mut dyn WriteUnit,
    g: &jiuzhu_domain::Grant<HandleWarnings>,
    warning: &WarningRecord,
    result: WarningResult,
    change: &ClosureChange,
) -> Result<(Option<CaseId>, Option<String>)> {
    // A result that changes a benefit needs a benefit to change: without one the warning is not
    // closed as if a stop or an adjustment had happened (it would count as one on the dashboard).
    let Some(parent) = unit.running_case_id(warning.household_id).await? else {
        return Err(Error::invalid(vec![FieldError::new(
            "result",
            "WARNING_RESULT_NEEDS_CASE",
            format!(
                "该户在本系统中没有在保的已确认救助案件,不能选择“{}”;请选择“核实无影响”或“转办”\
                 (存量导入的在保家庭,待其救助待遇迁入本系统后方可变更)",
                result.label_zh()
            ),
        )]));
    };
    if let Some((id, number)) = unit.open_change_on(parent).await? {
        return Ok((Some(id), Some(format!("(该户已有办理中的变更 {number})"))));
    }
    let new = match change {
        ClosureChange::Open(c) if c.parent_case_id == parent => c,
        ClosureChange::CannotOpen { parent: p, reason } if *p == parent => {
            return Ok((None, Some(format!("(未发起变更:{reason})"))));
        }
        // A running case the application did not find: one the actor does not read.
        ClosureChange::NoRunningCase => return Err(Error::NotFound),
        // Not the case the change was prepared for (approved or ended meanwhile): the closure
        // is refused, to be submitted again.
        _ => {
            return Err(Error::Store(StoreError::Conflict {
                kind: "warning",
                id: warning.id.to_string(),
                expected: warning.row_version,
                actual: warning.row_version,
            }))
        }
    };
    match unit.open_change_for_warning(g, new, warning.id).await {
        Ok(rec) => Ok((Some(rec.id), None)),
        Err(StoreError::Invalid(v)) => {
            let why = v.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>();
            Ok((None, Some(format!("(未发起变更:{})", why.join(";")))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether the household has a benefit an adjustment could change. A user who cannot read cases
/// is answered yes: the store's close still refuses an adjustment without a benefit.
async fn has_benefit(app: &App, actor: &jiuzhu_domain::Actor, w: &WarningRecord) -> Result<bool> {
    Ok(match actor.grant::<jiuzhu_domain::access::ReadCases>() {
        Ok(cases) => app
            .store
            .household_benefits(&cases, w.household_id)
            .await?
            .iter()
            .any(|b| b.status != "ended"),
        Err(_) => true,
    })
}

// ---- bulk close --------------------------------------------------------------------------------

/// Warnings closed in one bulk request at most: each closure is its own transaction, and an
/// unbounded list would hold the request (and the write lock, in turns) for minutes.
pub const MAX_BULK_CLOSE: usize = 1_000;

/// A warning of a bulk close, with its version as listed.
#[derive(Debug, Deserialize, Serialize, Clone, Copy)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkItem {
    pub id: i64,
    /// The warning's `row_version` as listed.
    pub row_version: i64,
}

/// The outcome of one warning of a bulk close.
#[derive(Debug, Serialize, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    pub id: i64,
    /// closed | conflict | not_found | invalid
    pub outcome: &'static str,
    pub message: String,
    pub row_version: Option<i64>,
}

/// Closes each warning as 核实无影响 with the same note, one transaction (and audit event) per
/// warning, so one stale or foreign warning does not hold back the others.
pub async fn close_many(
    app: &App,
    grant: &jiuzhu_domain::Grant<HandleWarnings>,
    items: &[BulkItem],
    note: &str,
    visit_date: Option<NaiveDate>,
) -> Result<Vec<BulkOutcome>> {
    if note.trim().is_empty() {
        return Err(Error::invalid(vec![FieldError::new(
            "note",
            "NOTE_REQUIRED",
            "请填写核查情况说明",
        )]));
    }
    if items.is_empty() {
        return Err(Error::invalid(vec![FieldError::new(
            "items",
            "NOTHING_SELECTED",
            "请选择要销号的预警",
        )]));
    }
    // Each closure is its own transaction: an unbounded list would hold the request (and the
    // write lock, in turns) for minutes.
    let cap = MAX_BULK_CLOSE;
    if items.len() > cap {
        return Err(Error::invalid(vec![FieldError::new(
            "items",
            "TOO_MANY_ITEMS",
            format!(
                "一次最多批量销号 {cap} 条预警,本次提交了 {} 条,请分批处理",
                items.len()
            ),
        )]));
    }
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let r = app
            .store
            .close_warning(
                grant,
                it.id,
                it.row_version,
                &CloseWarning {
                    result: WarningResult::NoEffect,
                    note: note.trim().to_string(),
                    visit_date,
                    attachments: Vec::new(),
                },
            )
            .await;
        out.push(match r {
            Ok(w) => BulkOutcome {
                id: it.id,
                outcome: "closed",
                message: "已销号(核实无影响)".into(),
                row_version: Some(w.row_version),
            },
            Err(StoreError::Conflict { actual, .. }) => BulkOutcome {
                id: it.id,
                outcome: "conflict",
                message: "该预警已被他人处理或修改,未销号".into(),
                row_version: Some(actual),
            },
            Err(StoreError::NotFound { .. }) => BulkOutcome {
                id: it.id,
                outcome: "not_found",
                message: "预警不存在或不在您的辖区".into(),
                row_version: None,
            },
            Err(StoreError::Invalid(e)) => BulkOutcome {
                id: it.id,
                outcome: "invalid",
                message: e
                    .0
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(";"),
                row_version: None,
            },
            Err(e) => return Err(e.into()),
        });
    }
    Ok(out)
}
