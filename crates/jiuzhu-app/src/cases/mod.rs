//! Cases (docs/cases.md): registering an application at the one window, acting on a step, the
//! decision that asks the policy engine, and changes of a running benefit (`changes`) — the
//! same for the case pages, `/api/v1/cases…` and the demo.
//!
//! The procedure is `jiuzhu-workflow`'s: a use-case loads the case, runs the pure state machine
//! with the injected clock, the working-day calendar of the case's division and the time limits
//! of the policy in force (one snapshot of the parameters per step), and hands the result to the
//! store, which writes it only if nobody acted meanwhile (revision). Role and level checks of a
//! step are the workflow's, so its Chinese messages are shown as they are.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::access::{ActOnCase, ReadCases, ReadRegistry, RegisterApplication};
use jiuzhu_domain::case::CaseStatus;
use jiuzhu_domain::{Actor, DivisionCode, FieldError, HouseholdId, Money, PersonId};
use jiuzhu_policy::registry::raw_household;
use jiuzhu_policy::{first_payment_month, Month, PolicyLibrary};
use jiuzhu_store::{
    CaseFlags, CaseId, CaseRecord, CaseTransition, NewCase, NewCaseEvent, NewDecision, OpenStepRow,
};
use jiuzhu_workflow::{
    apply, start, ActingLevel, Action as WfAction, ActionError, ActorRef, Attachment, CaseState,
    Context, DecisionOutcome, GrantedAmount, StartOptions, StepInput, WorkCalendar, Workflow,
};
use serde::Deserialize;
use serde_json::json;

use crate::{App, Error, Result};

pub mod attachments;
pub mod changes;
mod records;

/// The level a user acts at, or a Chinese refusal for users above the county.
pub fn acting_level(actor: &Actor) -> Result<ActingLevel> {
    ActingLevel::of(actor.role, actor.scope.root().level()).ok_or_else(|| Error::Forbidden {
        code: "CASE_LEVEL",
        message: format!(
            "{}级用户不办理案件环节",
            actor.scope.root().level().label_zh()
        ),
        fields: vec![],
    })
}

/// The division whose calendar and policy a case's deadlines follow: its responsible one.
pub fn case_division(c: &CaseRecord) -> Result<DivisionCode> {
    DivisionCode::parse(&c.division_responsible)
        .map_err(|e| Error::internal(format!("division of case {}: {e:?}", c.id)))
}

fn actor_ref(actor: &Actor) -> Result<ActorRef> {
    Ok(ActorRef {
        user: actor.username.clone(),
        role: actor.role,
        level: acting_level(actor)?,
        department: actor.department,
    })
}

pub fn workflow<'a>(app: &'a App, id: &str) -> Result<&'a Workflow> {
    app.workflows().get(id).ok_or_else(|| {
        Error::invalid(vec![FieldError::new(
            "workflow",
            "CASE_WORKFLOW_UNKNOWN",
            format!("救助项目“{id}”不存在"),
        )])
    })
}

/// The time limits (`procedure.<workflow>.<step>.<unit>`) and the delegation setting in force
/// for a division on a day; parameters a policy does not set fall back to the workflow file.
pub(crate) fn procedure_params(
    lib: &PolicyLibrary,
    wf: &Workflow,
    division: &DivisionCode,
    today: NaiveDate,
) -> (BTreeMap<String, u32>, bool) {
    let mut limits = BTreeMap::new();
    let Ok(set) = lib.for_region(division) else {
        return (limits, false);
    };
    let view = set.at(today);
    let params = wf
        .steps
        .iter()
        .filter_map(|s| s.limit.as_ref())
        .chain(wf.deadlines.iter().map(|d| &d.limit));
    for l in params {
        if let Ok(p) = view.int(&l.param) {
            if let Ok(days) = u32::try_from(p.value) {
                limits.insert(l.param.clone(), days);
            }
        }
    }
    let delegated = view
        .flag(&wf.confirmation_setting)
        .map(|p| p.value)
        .unwrap_or(false);
    (limits, delegated)
}

fn open_rows(wf: &Workflow, s: &CaseState) -> Vec<OpenStepRow> {
    s.open
        .iter()
        .map(|o| {
            let def = wf.step(&o.step);
            OpenStepRow {
                step: o.step.clone(),
                label: o.label.clone(),
                roles: def
                    .map(|d| d.roles.iter().map(|r| r.as_str().to_string()).collect())
                    .unwrap_or_default(),
                level: o.level.as_str().to_string(),
                also_levels: def
                    .map(|d| {
                        d.also_levels
                            .iter()
                            .map(|l| l.as_str().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
                department: (o.level == ActingLevel::Department)
                    .then(|| wf.department.map(|d| d.as_str().to_string()))
                    .flatten(),
                opened_on: o.opened_on,
                due: o.due,
                not_before: o.not_before,
            }
        })
        .collect()
}

fn new_events(before: usize, s: &CaseState, display_name: &str) -> Vec<NewCaseEvent> {
    s.history[before.min(s.history.len())..]
        .iter()
        .map(|r| NewCaseEvent {
            seq: i64::from(r.seq),
            step: r.step.clone(),
            label: r.label.clone(),
            action: serde_json::to_value(r.action)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            display_name: display_name.to_string(),
            on: r.on,
            opinion: r.opinion.clone(),
            investigators: r.investigators.clone(),
            attachments: json!(r.attachments),
            reasons: r.reasons.clone(),
            late: r.late,
        })
        .collect()
}

fn status_of(s: &CaseState) -> CaseStatus {
    s.decision
        .as_ref()
        .map_or(CaseStatus::Open, |d| d.outcome.status())
}

/// A workflow refusal as the user sees it: who may not act is forbidden, anything else invalid,
/// naming the field concerned.
fn action_error(e: ActionError) -> Error {
    let field = match &e {
        ActionError::TooFewInvestigators { .. } => "investigators",
        ActionError::MissingRecord { .. } | ActionError::EmptyAttachment { .. } => "attachments",
        ActionError::ReasonsRequired => "reasons",
        ActionError::OpinionRequired => "opinion",
        _ => "step",
    };
    let message = e.message_zh();
    let fe = FieldError::new(field, e.code(), message.clone());
    match e {
        ActionError::WrongRole { .. }
        | ActionError::WrongLevel { .. }
        | ActionError::WrongDepartment { .. } => Error::Forbidden {
            code: "CASE_NOT_YOUR_STEP",
            message,
            fields: vec![fe],
        },
        _ => Error::invalid(vec![fe]),
    }
}

pub fn case_state(c: &CaseRecord) -> Result<CaseState> {
    serde_json::from_value(c.state.clone()).map_err(Error::internal_json)
}

/// What the intake form or `POST /api/v1/cases` asks for.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntakeInput {
    /// Workflow id: dibao, tekun, temporary, marginal, referral_medical, referral_education,
    /// referral_housing, referral_employment.
    pub workflow: String,
    pub household_id: HouseholdId,
    pub applicant_id: PersonId,
    /// Record kinds received at the window, e.g. `["id_card", "verification_authorisation"]`
    /// (一证一书). When all that the intake step needs are there, the intake step is completed.
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub staff_relative: bool,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub opinion: String,
}

/// Registers an application as the grant's actor; `display_name` is shown on the timeline.
pub async fn register(
    app: &App,
    g: &jiuzhu_domain::Grant<RegisterApplication>,
    display_name: &str,
    input: &IntakeInput,
) -> Result<CaseRecord> {
    let actor = g.actor();
    let wf = workflow(app, input.workflow.trim())?;
    if !wf.changes.is_empty() {
        return Err(Error::invalid(vec![FieldError::new(
            "workflow",
            "CASE_WORKFLOW_CHANGE",
            "变更案件须在已确认案件页面“发起变更”,不在窗口受理",
        )]));
    }
    let today = app.today();
    let read = actor.grant::<ReadRegistry>()?;
    let snap = app
        .store
        .household_as_of(&read, input.household_id, today)
        .await?
        .ok_or(Error::NotFound)?;
    // Whether the applicant is a current member, receives the program elsewhere (R-PR-6, for a
    // program received in one place per person) and has an application open are checked once,
    // by the store, under its write lock with the insert.
    let params = app.params().await?;
    let (limits, delegated) = procedure_params(&params.policies, wf, &snap.facts.division, today);
    let cal = params.calendars.for_division(&snap.facts.division)?;
    let cs = intake_state(&cal, actor, wf, input, &limits, delegated, today)?;
    let new = NewCase {
        department: wf.department,
        one_place_per_person: wf.one_place_per_person,
        workflow: wf.id.clone(),
        program: wf.program.clone(),
        household_id: input.household_id,
        applicant_id: input.applicant_id,
        flags: CaseFlags {
            staff_relative: input.staff_relative,
            urgent: input.urgent,
            protected: input.protected,
        },
        state: serde_json::to_value(&cs).map_err(Error::internal_json)?,
        revision: i64::from(cs.revision),
        open_steps: open_rows(wf, &cs),
        events: new_events(0, &cs, display_name),
    };
    Ok(app.store.register_case(g, &new).await?)
}

/// The state after `start` and, when the intake step's documents are all there, the intake
/// step completed by the clerk.
fn intake_state(
    cal: &WorkCalendar,
    actor: &Actor,
    wf: &Workflow,
    input: &IntakeInput,
    limits: &BTreeMap<String, u32>,
    delegated: bool,
    today: NaiveDate,
) -> Result<CaseState> {
    let ctx = Context {
        today,
        calendar: cal,
        limits,
    };
    let mut flags = Vec::new();
    for (on, f) in [
        (input.staff_relative, "staff_relative"),
        (input.urgent, "urgent"),
        (input.protected, "protected"),
    ] {
        if on {
            flags.push(f.to_string());
        }
    }
    let started = start(wf, &StartOptions { flags, delegated }, &ctx).map_err(action_error)?;
    let mut cs = started.state;
    let first = wf.first();
    let docs: Vec<&str> = input.documents.iter().map(|d| d.trim()).collect();
    if let Some(d) = docs
        .iter()
        .find(|d| !jiuzhu_workflow::RECORD_KINDS.iter().any(|(k, _)| k == *d))
    {
        return Err(Error::invalid(vec![FieldError::new(
            "documents",
            "CASE_RECORD_KIND",
            format!("材料类别“{d}”不存在"),
        )]));
    }
    if first
        .needs_attached
        .iter()
        .all(|k| docs.contains(&k.as_str()))
    {
        let mut step = StepInput::new(&first.id).opinion(input.opinion.trim());
        for d in &docs {
            step = step.attach(d, &format!("window:{d}"));
        }
        cs = apply(wf, &cs, &actor_ref(actor)?, &WfAction::Complete(step), &ctx)
            .map_err(action_error)?
            .state;
    }
    Ok(cs)
}

/// One action on one step (`POST /api/v1/cases/{id}/actions`, the case page's forms).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionInput {
    /// The case revision the action is based on; a stale one is a 409.
    pub revision: i64,
    pub step: String,
    /// complete | refuse | return | object
    pub action: String,
    #[serde(default)]
    pub opinion: String,
    /// Names of the people who went to the home (surveys: at least two).
    #[serde(default)]
    pub investigators: Vec<String>,
    /// `{"kind": "survey_record", "id": "…"}`: documents of the case file. An id
    /// `doc:<document id>` names a filed document (一人一档) of the case, its household or a
    /// member; it must be current and in the user's scope, else 422
    /// `ATTACHMENT_DOCUMENT_NOT_FOUND` / `…_WITHDRAWN` / `…_OTHER_FILE`. Any other id is a
    /// free-text reference (paper records). Completing the 临时救助 assist step without a
    /// `payment_voucher` attaches the case's reserve-fund payments (voucher number and amount).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub attachments: Vec<Attachment>,
    /// Written reasons (refusals).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Flags the step establishes, e.g. `disputed`.
    #[serde(default)]
    pub set_flags: Vec<String>,
    /// Who raised an objection (`action` = `object`, 异议人); absent or empty: anonymous (匿名).
    /// The timeline records "异议人:…;异议内容:<opinion>".
    #[serde(default)]
    pub objector: Option<String>,
}

impl ActionInput {
    /// The opinion as the timeline records it: an objection (异议) names who raised it, or says
    /// it was anonymous; the receiving officer is the acting user, recorded like every step. An
    /// empty objection stays empty, so that the workflow asks for its content.
    fn recorded_opinion(&self) -> String {
        let opinion = self.opinion.trim();
        if self.action != "object" || opinion.is_empty() {
            return opinion.to_string();
        }
        let who = self
            .objector
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .unwrap_or("匿名");
        format!("异议人:{who};异议内容:{opinion}")
    }
}

/// What the policy engine says for an approval: the decision record, or a refusal to approve.
pub(crate) async fn engine_decision(
    app: &App,
    actor: &Actor,
    case: &CaseRecord,
    wf: &Workflow,
    decided_on: NaiveDate,
) -> Result<NewDecision> {
    let month = first_payment_month(decided_on);
    let mut d = NewDecision {
        outcome: DecisionOutcome::Approved,
        decided_on,
        monthly_amount: Money::ZERO,
        start_month: wf.monthly_payment.then(|| month.to_string()),
        explanation: json!([]),
        policy_versions: json!([]),
        input_snapshot: json!(null),
        reasons: vec![],
    };
    if !wf.monthly_payment {
        return Ok(d);
    }
    let read = actor.grant::<ReadRegistry>()?;
    let snap = app
        .store
        .household_as_of(&read, case.household_id, decided_on)
        .await?
        .ok_or(Error::NotFound)?;
    let econ = app
        .store
        .economics_as_of(&read, case.household_id, decided_on)
        .await?;
    let mut raw = raw_household(
        &snap.household.code,
        &snap.facts,
        &snap.members,
        econ.as_ref().map(|r| &r.economics),
    )
    .map_err(|e| {
        Error::invalid(vec![FieldError::new(
            "household",
            "ECONOMICS_MISSING",
            format!("{},请先登记家庭经济状况再作出决定", e.message),
        )])
    })?;
    raw.staff_relative = case.flags.staff_relative;
    let lib = app.params().await?.policies.clone();
    let input = serde_json::to_value(&raw).map_err(Error::internal_json)?;
    let out =
        jiuzhu_policy::calc_raw(&lib, raw, month).map_err(|e| Error::invalid(e.field_errors()))?;
    let amount = match wf.pays {
        Some(GrantedAmount::Tekun) => out.result.tekun_total,
        Some(GrantedAmount::Dibao) => out.result.dibao.amount,
        // The workflow files are checked at load: a monthly application names what it pays.
        None => {
            return Err(Error::internal(format!(
                "workflow {} names no amount",
                wf.id
            )))
        }
    };
    if amount == Money::ZERO {
        return Err(Error::invalid(vec![FieldError::new(
            "step",
            "CASE_NOT_ELIGIBLE",
            format!(
                "按现行政策核算,该户 {month} 的{}金额为 0,不能确认;请作出不予确认决定并写明理由",
                wf.program
            ),
        )]));
    }
    d.monthly_amount = amount;
    d.explanation = serde_json::to_value(&out.explanation).map_err(Error::internal_json)?;
    d.policy_versions = serde_json::to_value(&out.policy).map_err(Error::internal_json)?;
    d.input_snapshot = input;
    Ok(d)
}

/// The monthly amount a notice proposes (公示): the same engine call as the decision, on the
/// household and economic record as of the posting day, so a reprint of the notice shows the
/// same figure. `None` when the engine cannot compute it (no economic record, not a monthly
/// program, nothing to pay) — the notice then shows 待核定.
pub async fn proposed_amount(
    app: &App,
    actor: &Actor,
    case: &CaseRecord,
    posted_on: NaiveDate,
) -> Option<Money> {
    let wf = app.workflows().get(&case.workflow)?;
    if !wf.monthly_payment {
        return None;
    }
    engine_decision(app, actor, case, wf, posted_on)
        .await
        .ok()
        .map(|d| d.monthly_amount)
}

/// Acts on a case as the grant's actor; `display_name` is shown on the timeline.
pub async fn act(
    app: &App,
    g: &jiuzhu_domain::Grant<ActOnCase>,
    display_name: &str,
    id: CaseId,
    input: &ActionInput,
) -> Result<CaseRecord> {
    let actor = g.actor();
    let read = actor.grant::<ReadCases>()?;
    let case = app
        .store
        .get_case(&read, id)
        .await?
        .ok_or(Error::NotFound)?;
    if case.revision != input.revision {
        return Err(jiuzhu_store::StoreError::Conflict {
            kind: "case",
            id: case.number,
            expected: input.revision,
            actual: case.revision,
        }
        .into());
    }
    let wf = workflow(app, &case.workflow)?;
    let cs = case_state(&case)?;
    let today = app.today();
    let division = case_division(&case)?;
    // One snapshot of the parameters for the whole step: limits and calendar agree.
    let params = app.params().await?;
    let (limits, _) = procedure_params(&params.policies, wf, &division, today);
    // A verification step completed without a report of its own uses the report the platform
    // generated for the case (核对报告), named by its number and SHA-256.
    let mut attachments = input.attachments.clone();
    if input.action == "complete" {
        if let Some(def) = wf.step(input.step.trim()) {
            if let Some(a) =
                attachments::report_for_step(app, &read, case.id, &def.needs_attached, &attachments)
                    .await?
            {
                attachments.push(a);
            }
            // The assist-first payment is already in the reserve fund's ledger: its voucher
            // number and amount go onto the assist step as recorded there.
            attachments::with_assist_vouchers(
                app,
                &read,
                &case,
                &def.needs_attached,
                &mut attachments,
            )
            .await?;
        }
    }
    attachments::check_refs(app, actor, &case, &attachments).await?;
    let step = StepInput {
        step: input.step.trim().to_string(),
        opinion: input.recorded_opinion(),
        attachments,
        investigators: input.investigators.clone(),
        set_flags: input.set_flags.clone(),
    };
    let action = match input.action.as_str() {
        "complete" => WfAction::Complete(step),
        "refuse" => WfAction::Refuse {
            input: step,
            reasons: input.reasons.clone(),
        },
        "return" => WfAction::Return {
            step: step.step,
            opinion: step.opinion,
        },
        "object" => WfAction::Object {
            step: step.step,
            opinion: step.opinion,
            attachments: step.attachments,
        },
        other => {
            return Err(Error::invalid(vec![FieldError::new(
                "action",
                "CASE_ACTION_UNKNOWN",
                format!("操作“{other}”无效(complete、refuse、return、object)"),
            )]))
        }
    };
    let cal = params.calendars.for_division(&division)?;
    let next = {
        let ctx = Context {
            today,
            calendar: &cal,
            limits: &limits,
        };
        apply(wf, &cs, &actor_ref(actor)?, &action, &ctx)
            .map_err(action_error)?
            .state
    };
    let decision = match (&cs.decision, &next.decision) {
        (None, Some(d)) if d.outcome == DecisionOutcome::Approved => {
            // A change case (调整/暂停/恢复/停止) decides by its kind, on the parent's program.
            if let Some(ch) = app.store.case_change(&read, case.id).await? {
                Some(changes::change_decision(app, actor, &case, &ch, d.on).await?)
            } else {
                let nd = engine_decision(app, actor, &case, wf, d.on).await?;
                debug_assert_eq!(
                    d.payment_from.map(|p| Month::of(p).to_string()),
                    nd.start_month
                );
                Some(nd)
            }
        }
        (None, Some(d)) => Some(NewDecision {
            outcome: DecisionOutcome::Refused,
            decided_on: d.on,
            monthly_amount: Money::ZERO,
            start_month: None,
            explanation: json!([]),
            policy_versions: json!([]),
            input_snapshot: json!(null),
            reasons: d.reasons.clone(),
        }),
        _ => None,
    };
    let transition = CaseTransition {
        state: serde_json::to_value(&next).map_err(Error::internal_json)?,
        revision: i64::from(next.revision),
        status: status_of(&next),
        open_steps: open_rows(wf, &next),
        events: new_events(cs.history.len(), &next, display_name),
        decision,
        starts_benefit: app.workflows().change_workflow_for(&wf.id).is_some(),
    };
    Ok(app
        .store
        .transition_case(g, id, case.revision, &transition)
        .await?)
}
