//! Changes of a running benefit (调整/暂停/恢复/停止, docs/cases.md): opening one on an approved
//! case — from the case page, the API, or a warning's closure — and the decision of a change
//! case. The change case is an ordinary case of the parent program's change workflow; it is
//! started here, with the calendar and time limits of the parent's division, and the store writes
//! it after the checks only the database can make.

use chrono::NaiveDate;
use jiuzhu_domain::access::{ActOnCase, ReadCases};
use jiuzhu_domain::{Actor, FieldError, Grant, Money};
use jiuzhu_store::{
    CaseId, CaseOpening, CaseRecord, ChangeKind, ChangeRecord, NewChange, NewDecision, StopReason,
    WarningRecord, WarningResult,
};
use jiuzhu_workflow::{apply, start, Action, ActionError, Context};
use jiuzhu_workflow::{StartOptions, StepInput};
use serde::Deserialize;
use serde_json::json;

use super::{action_error, actor_ref, case_division, new_events, open_rows, procedure_params};
use crate::{App, Error, Result};

/// What 发起变更 asks for.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeInput {
    /// adjust (调整) | suspend (暂停) | resume (恢复) | stop (停止)
    pub kind: String,
    /// Why (required).
    pub reason: String,
    /// Stops: death | moved | income | assets | imprisonment | refused | other
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// A home check (入户核实, ≥ 2 investigators) before the decision.
    #[serde(default)]
    pub home_check: bool,
}

/// A change to prepare on one parent case.
struct Proposal<'a> {
    kind: ChangeKind,
    reason: &'a str,
    stop_reason: Option<StopReason>,
    home_check: bool,
    display_name: &'a str,
}

/// Opens a change on an approved case as the grant's actor; `display_name` is shown on the
/// timeline.
pub async fn open(
    app: &App,
    g: &Grant<ActOnCase>,
    display_name: &str,
    parent_id: CaseId,
    input: &ChangeInput,
) -> Result<CaseRecord> {
    let kind = ChangeKind::parse(input.kind.trim()).ok_or_else(|| {
        Error::invalid(vec![FieldError::new(
            "kind",
            "CHANGE_KIND_UNKNOWN",
            "变更类型无效(adjust 调整、suspend 暂停、resume 恢复、stop 停止)",
        )])
    })?;
    let stop_reason = match input.stop_reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(StopReason::parse(s).ok_or_else(|| {
            Error::invalid(vec![FieldError::new(
                "stop_reason",
                "CHANGE_STOP_REASON_UNKNOWN",
                format!("停止原因“{s}”无效"),
            )])
        })?),
    };
    let read = g.actor().grant::<ReadCases>()?;
    let parent = app
        .store
        .get_case(&read, parent_id)
        .await?
        .ok_or(Error::NotFound)?;
    // As the store answers it (it checks again under its lock): before any workflow question.
    if parent.status != jiuzhu_domain::case::CaseStatus::Approved {
        return Err(Error::invalid(vec![FieldError::new(
            "parent_case_id",
            "CHANGE_PARENT_NOT_APPROVED",
            "只能对已确认的救助案件发起变更",
        )]));
    }
    let proposal = Proposal {
        kind,
        reason: input.reason.trim(),
        stop_reason,
        home_check: input.home_check,
        display_name,
    };
    let new = prepare(app, g.actor(), &parent, &proposal).await?;
    Ok(app.store.open_change_case(g, &new).await?)
}

/// What a closure with adjust/suspend/stop does to the household's running case, as the
/// application finds it before the closure's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosureChange {
    /// The change the application started for that case (`parent_case_id`).
    Open(NewChange),
    /// The application could not start a change on that case (a program without changes, a
    /// start the workflow refuses): the warning closes all the same and the note says why.
    CannotOpen { parent: CaseId, reason: String },
    /// The application found no running case the actor reads (or the result changes none).
    NoRunningCase,
}

/// What a warning's closure with adjust/suspend/stop does to the household's running case:
/// the change started for the closing user, or why none can start (said in the closure's note);
/// `NoRunningCase` for other results and when the user reads no running case of the household.
pub async fn for_warning(
    app: &App,
    actor: &Actor,
    warning: &WarningRecord,
    result: WarningResult,
    note: &str,
) -> Result<ClosureChange> {
    let kind = match result {
        WarningResult::Adjust => ChangeKind::Adjust,
        WarningResult::Suspend => ChangeKind::Suspend,
        WarningResult::Stop => ChangeKind::Stop,
        WarningResult::NoEffect | WarningResult::Refer => return Ok(ClosureChange::NoRunningCase),
    };
    let read = actor.grant::<ReadCases>()?;
    let Some(parent) = app.store.running_case(&read, warning.household_id).await? else {
        return Ok(ClosureChange::NoRunningCase);
    };
    let display_name = match actor.user_id {
        Some(id) => app
            .store
            .user_by_id(id)
            .await?
            .map_or_else(|| actor.username.clone(), |u| u.display_name),
        None => actor.username.clone(),
    };
    let reason = format!(
        "比对预警({} {}):{}",
        warning.month,
        warning.kind,
        note.trim()
    );
    let proposal = Proposal {
        kind,
        reason: &reason,
        stop_reason: (kind == ChangeKind::Stop).then(|| stop_reason_of(&warning.kind)),
        home_check: false,
        display_name: &display_name,
    };
    match prepare(app, actor, &parent, &proposal).await {
        Ok(new) => Ok(ClosureChange::Open(new)),
        Err(Error::Invalid(fields)) => Ok(ClosureChange::CannotOpen {
            parent: parent.id,
            reason: fields
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        }),
        Err(e) => Err(e),
    }
}

/// The stop reason a warning kind points to (jiuzhu-verify's kinds); `other` when none fits.
fn stop_reason_of(warning_kind: &str) -> StopReason {
    match warning_kind {
        "DEATH" => StopReason::Death,
        "HUKOU_MOVE" => StopReason::Moved,
        "IMPRISONED" => StopReason::Imprisonment,
        "INCOME" | "PENSION" | "BUSINESS" | "HOUSING_FUND" => StopReason::Income,
        "DEPOSIT" | "PROPERTY" | "VEHICLE" => StopReason::Assets,
        _ => StopReason::Other,
    }
}

/// The change workflow of the parent's program started in the parent's division, with 变更发起
/// completed by the actor when the workflow lets them (the proposer records the reason at once);
/// anyone else (a village assistant closing a warning, the county) leaves it in the township's
/// queue.
async fn prepare(
    app: &App,
    actor: &Actor,
    parent: &CaseRecord,
    p: &Proposal<'_>,
) -> Result<NewChange> {
    let wf = app
        .workflows()
        .change_workflow_for(&parent.workflow)
        .ok_or_else(|| {
            Error::invalid(vec![FieldError::new(
                "parent_case_id",
                "CHANGE_NOT_SUPPORTED",
                format!("{}案件不办理调整、暂停、恢复或停止", parent.program),
            )])
        })?;
    let division = case_division(parent)?;
    let today = app.today();
    let params = app.params().await?;
    let (limits, delegated) = procedure_params(&params.policies, wf, &division, today);
    let calendar = params.calendars.for_division(&division)?;
    let ctx = Context {
        today,
        calendar: &calendar,
        limits: &limits,
    };
    let flags = if p.home_check {
        vec!["home_check".to_string()]
    } else {
        vec![]
    };
    let options = StartOptions { flags, delegated };
    let mut state = start(wf, &options, &ctx).map_err(action_error)?.state;
    // A user above the county acts on no step: the change waits in the township's queue.
    if let Ok(who) = actor_ref(actor) {
        let first = wf.first().id.clone();
        let action = Action::Complete(StepInput::new(&first).opinion(p.reason));
        match apply(wf, &state, &who, &action, &ctx) {
            Ok(t) => state = t.state,
            Err(
                ActionError::WrongRole { .. }
                | ActionError::WrongLevel { .. }
                | ActionError::WrongDepartment { .. },
            ) => {}
            Err(e) => return Err(action_error(e)),
        }
    }
    Ok(NewChange {
        parent_case_id: parent.id,
        parent_workflow: parent.workflow.clone(),
        kind: p.kind,
        reason: p.reason.to_string(),
        stop_reason: p.stop_reason,
        home_check: p.home_check,
        delegated,
        opening: CaseOpening {
            workflow: wf.id.clone(),
            department: wf.department,
            state: serde_json::to_value(&state).map_err(Error::internal_json)?,
            revision: i64::from(state.revision),
            open_steps: open_rows(wf, &state),
            events: new_events(0, &state, p.display_name),
        },
    })
}

/// The decision record of an approved change: an adjustment asks the policy engine (as an
/// approval does, with the parent program's rules); the others keep or end the amount and
/// state their reasons.
pub(super) async fn change_decision(
    app: &App,
    actor: &Actor,
    case: &CaseRecord,
    change: &ChangeRecord,
    decided_on: NaiveDate,
) -> Result<NewDecision> {
    let read = actor.grant::<ReadCases>()?;
    let parent_wf = app
        .workflows()
        .get(&change.parent_workflow)
        .ok_or_else(|| Error::internal("parent workflow missing"))?;
    if change.kind == ChangeKind::Adjust {
        return super::engine_decision(app, actor, case, parent_wf, decided_on).await;
    }
    let current = app
        .store
        .benefit_status(&read, change.parent_case_id)
        .await?
        .map(|b| b.monthly_amount)
        .unwrap_or(Money::ZERO);
    let mut reasons = Vec::new();
    if let Some(r) = change.stop_reason {
        reasons.push(format!("停止原因:{}", r.label_zh()));
    }
    reasons.push(change.reason.clone());
    let first_month = jiuzhu_policy::first_payment_month(decided_on).to_string();
    Ok(NewDecision {
        outcome: jiuzhu_domain::case::DecisionOutcome::Approved,
        decided_on,
        monthly_amount: if change.kind == ChangeKind::Stop {
            Money::ZERO
        } else {
            current
        },
        start_month: (change.kind != ChangeKind::Stop).then_some(first_month),
        explanation: json!([]),
        policy_versions: json!([]),
        input_snapshot: json!(null),
        reasons,
    })
}
