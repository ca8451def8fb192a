//! The case state machine: a pure function from (workflow, state, actor, action, today,
//! calendar, time limits) to the next state or a typed error.
//!
//! The state is plain serde data so the store can keep it as JSON; the history inside it is
//! append-only ("谁入户、谁调查、谁签字、谁负责", R-PR-8): [`apply`] only ever pushes records.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use jiuzhu_domain::{Department, Level, Role};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};
use crate::workflow::{
    flag_label, record_label, settable_flag, ActingLevel, DayUnit, Outcome, Phase, Step, StepKind,
    StepLevel, TimeLimit, Workflow,
};

/// Where the numbers of days come from: the policy engine, by parameter name.
pub trait Limits {
    fn days(&self, param: &str) -> Option<u32>;
}

impl Limits for BTreeMap<String, u32> {
    fn days(&self, param: &str) -> Option<u32> {
        self.get(param).copied()
    }
}

impl Limits for HashMap<String, u32> {
    fn days(&self, param: &str) -> Option<u32> {
        self.get(param).copied()
    }
}

/// No policy values: every limit uses the workflow file's fallback.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fallbacks;

impl Limits for Fallbacks {
    fn days(&self, _: &str) -> Option<u32> {
        None
    }
}

/// Everything outside the case a transition depends on. `today` comes from the injected clock.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub today: NaiveDate,
    pub calendar: &'a WorkCalendar,
    pub limits: &'a dyn Limits,
}

/// Who acts, as recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRef {
    pub user: String,
    pub role: Role,
    pub level: ActingLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Department>,
}

/// A document in the case file: its kind (see `RECORD_KINDS`) and the store's id for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: String,
    pub id: String,
}

impl Attachment {
    pub fn new(kind: &str, id: &str) -> Attachment {
        Attachment {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

/// What is recorded when a step is done.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StepInput {
    pub step: String,
    #[serde(default)]
    pub opinion: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Names (or user ids) of the people who went to the home.
    #[serde(default)]
    pub investigators: Vec<String>,
    /// Flags this step establishes, e.g. `disputed` when the survey finds the case contested.
    #[serde(default)]
    pub set_flags: Vec<String>,
}

impl StepInput {
    pub fn new(step: &str) -> StepInput {
        StepInput {
            step: step.into(),
            ..StepInput::default()
        }
    }
    pub fn opinion(mut self, o: &str) -> Self {
        self.opinion = o.into();
        self
    }
    pub fn attach(mut self, kind: &str, id: &str) -> Self {
        self.attachments.push(Attachment::new(kind, id));
        self
    }
    pub fn investigators(mut self, names: &[&str]) -> Self {
        self.investigators = names.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn flag(mut self, flag: &str) -> Self {
        self.set_flags.push(flag.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Finish the step; on a decision step this approves.
    Complete(StepInput),
    /// Refuse (decision steps), with written reasons.
    Refuse {
        input: StepInput,
        reasons: Vec<String>,
    },
    /// Send the case back to an earlier step, saying why.
    Return { step: String, opinion: String },
    /// Record an objection during public notice.
    Object {
        step: String,
        opinion: String,
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
}

impl Action {
    pub fn step(&self) -> &str {
        match self {
            Action::Complete(i) | Action::Refuse { input: i, .. } => &i.step,
            Action::Return { step, .. } | Action::Object { step, .. } => step,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordAction {
    Completed,
    Approved,
    Refused,
    Returned,
    Objected,
}

impl RecordAction {
    pub fn label_zh(self) -> &'static str {
        match self {
            RecordAction::Completed => "办结",
            RecordAction::Approved => "确认同意",
            RecordAction::Refused => "不予确认",
            RecordAction::Returned => "退回",
            RecordAction::Objected => "提出异议",
        }
    }
}

/// One entry of the append-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based position in the history.
    pub seq: u32,
    pub step: String,
    pub label: String,
    pub action: RecordAction,
    pub actor: ActorRef,
    pub on: NaiveDate,
    pub opinion: String,
    pub attachments: Vec<Attachment>,
    pub investigators: Vec<String>,
    pub reasons: Vec<String>,
    /// Was the step done after its due date?
    pub late: bool,
}

/// A step waiting for someone to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenStep {
    pub step: String,
    pub label: String,
    /// Who acts (the confirming level resolved for this case).
    pub level: ActingLevel,
    pub opened_on: NaiveDate,
    /// The last day to act (for a notice: the last day of the notice period).
    pub due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<AppliedLimit>,
    /// A notice can be closed only from this day on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<NaiveDate>,
}

/// The time limit as applied: which parameter, how many days, and whether the policy gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedLimit {
    pub param: String,
    pub days: u32,
    pub unit: DayUnit,
    /// True when the policy had no value and the workflow file's fallback was used.
    pub fallback: bool,
}

/// A case-level deadline as it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineState {
    pub id: String,
    pub label: String,
    pub started_on: NaiveDate,
    pub due: NaiveDate,
    pub limit: AppliedLimit,
    pub met_on: Option<NaiveDate>,
}

pub use jiuzhu_domain::case::DecisionOutcome;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: DecisionOutcome,
    pub on: NaiveDate,
    pub step: String,
    pub reasons: Vec<String>,
    /// First day of the month after approval (R-DB-8), for programs paid monthly.
    pub payment_from: Option<NaiveDate>,
}

/// The whole workflow state of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub workflow: String,
    /// Who confirms: the township where delegated, else the county (per-county setting, fixed
    /// when the case starts so a later change of setting does not move running cases).
    pub confirm_level: ActingLevel,
    pub flags: BTreeSet<String>,
    pub open: Vec<OpenStep>,
    pub deadlines: Vec<DeadlineState>,
    pub decision: Option<Decision>,
    /// How many public notices have been opened (a new one after each objection).
    pub notice_round: u32,
    /// Incremented by every transition, for optimistic locking in the store.
    pub revision: u32,
    pub history: Vec<StepRecord>,
}

impl CaseState {
    pub fn is_finished(&self) -> bool {
        self.open.is_empty()
    }
    pub fn open_step(&self, step: &str) -> Option<&OpenStep> {
        self.open.iter().find(|o| o.step == step)
    }
    /// Every attachment in the case file, in order.
    pub fn attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.history.iter().flat_map(|r| r.attachments.iter())
    }
    /// The flags conditions are evaluated against (including the derived `delegated`).
    pub fn condition_flags(&self) -> BTreeSet<String> {
        let mut f = self.flags.clone();
        if self.confirm_level == ActingLevel::Township {
            f.insert("delegated".into());
        }
        f
    }
}

/// How a case starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StartOptions {
    /// e.g. `staff_relative` (R-DB-10), `urgent` (R-LS-4).
    pub flags: Vec<String>,
    /// The county's setting: confirmation delegated to the township.
    pub delegated: bool,
}

/// The result of a transition: the new state and the steps it opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub state: CaseState,
    pub opened: Vec<OpenStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("case belongs to workflow {case}, not {given}")]
    WorkflowMismatch { case: String, given: String },
    #[error("unknown step {step}")]
    UnknownStep { step: String },
    #[error("step {step} is not open")]
    StepNotOpen { step: String, label: String },
    #[error("role {role:?} may not act on {step}")]
    WrongRole {
        step: String,
        label: String,
        role: Role,
        allowed: Vec<Role>,
    },
    #[error("step {step} is acted on at {expected:?}, not {got:?}")]
    WrongLevel {
        step: String,
        label: String,
        expected: ActingLevel,
        got: ActingLevel,
    },
    #[error("step {step} belongs to department {expected:?}")]
    WrongDepartment {
        step: String,
        label: String,
        expected: Department,
    },
    #[error("{outcome:?} is not allowed on {step}")]
    OutcomeNotAllowed {
        step: String,
        label: String,
        outcome: Outcome,
    },
    #[error("missing record {record}")]
    MissingRecord { record: String },
    #[error("attachment of kind {kind} has no id")]
    EmptyAttachment { kind: String },
    #[error("too few investigators: {needed} needed, {got} given")]
    TooFewInvestigators { needed: u32, got: u32 },
    #[error("reasons required")]
    ReasonsRequired,
    #[error("opinion required")]
    OpinionRequired,
    #[error("public notice runs until {ends}")]
    NoticeRunning { ends: NaiveDate },
    #[error("public notice ended on {ended}")]
    NoticeEnded { ended: NaiveDate },
    #[error("no earlier step to return to from {step}")]
    NothingToReturnTo { step: String },
    #[error("flag {flag} cannot be set")]
    UnknownFlag { flag: String },
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl ActionError {
    pub fn code(&self) -> &'static str {
        match self {
            ActionError::WorkflowMismatch { .. } => "workflow_mismatch",
            ActionError::UnknownStep { .. } => "unknown_step",
            ActionError::StepNotOpen { .. } => "step_not_open",
            ActionError::WrongRole { .. } => "wrong_role",
            ActionError::WrongLevel { .. } => "wrong_level",
            ActionError::WrongDepartment { .. } => "wrong_department",
            ActionError::OutcomeNotAllowed { .. } => "outcome_not_allowed",
            ActionError::MissingRecord { .. } => "missing_record",
            ActionError::EmptyAttachment { .. } => "empty_attachment",
            ActionError::TooFewInvestigators { .. } => "too_few_investigators",
            ActionError::ReasonsRequired => "reasons_required",
            ActionError::OpinionRequired => "opinion_required",
            ActionError::NoticeRunning { .. } => "notice_running",
            ActionError::NoticeEnded { .. } => "notice_ended",
            ActionError::NothingToReturnTo { .. } => "nothing_to_return_to",
            ActionError::UnknownFlag { .. } => "unknown_flag",
            ActionError::Calendar(e) => e.code(),
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            ActionError::WorkflowMismatch { case, given } => {
                format!("案件属于“{case}”流程,不能按“{given}”流程办理")
            }
            ActionError::UnknownStep { step } => format!("流程中没有步骤“{step}”"),
            ActionError::StepNotOpen { label, .. } => {
                format!("“{label}”当前不在办理中,不能办理")
            }
            ActionError::WrongRole {
                label,
                role,
                allowed,
                ..
            } => format!(
                "{}无权办理“{label}”,应由{}办理",
                role.label_zh(),
                allowed
                    .iter()
                    .map(|r| r.label_zh())
                    .collect::<Vec<_>>()
                    .join("或")
            ),
            ActionError::WrongLevel {
                label,
                expected,
                got,
                ..
            } => format!(
                "“{label}”应由{}办理,您所在层级为{}",
                expected.label_zh(),
                got.label_zh()
            ),
            ActionError::WrongDepartment {
                label, expected, ..
            } => format!("“{label}”应由{}部门办理", expected.label_zh()),
            ActionError::OutcomeNotAllowed { label, outcome, .. } => {
                let o = match outcome {
                    Outcome::Complete => "办结",
                    Outcome::Refuse => "不予确认",
                    Outcome::Return => "退回",
                    Outcome::Object => "提出异议",
                };
                format!("“{label}”不能{o}")
            }
            ActionError::MissingRecord { record } => {
                format!("缺少材料:{}", record_label(record))
            }
            ActionError::EmptyAttachment { kind } => {
                format!("材料“{}”没有文件编号", record_label(kind))
            }
            ActionError::TooFewInvestigators { needed, got } => format!(
                "入户调查至少需要{needed}名调查人员,现只有{got}名(谁入户、谁调查、谁签字、谁负责)"
            ),
            ActionError::ReasonsRequired => "不予确认必须书面说明理由".into(),
            ActionError::OpinionRequired => "请填写意见或理由".into(),
            ActionError::NoticeRunning { ends } => {
                format!("公示期至{ends}结束,期满后方可结束公示")
            }
            ActionError::NoticeEnded { ended } => {
                format!("公示期已于{ended}结束,不再受理公示异议")
            }
            ActionError::NothingToReturnTo { .. } => "没有可以退回的上一步骤".into(),
            ActionError::UnknownFlag { flag } => format!("无法设置标记“{}”", flag_label(flag)),
            ActionError::Calendar(e) => e.message_zh(),
        }
    }
}

fn resolve_level(level: StepLevel, confirm: ActingLevel) -> ActingLevel {
    match level {
        StepLevel::At(l) => l,
        StepLevel::Confirming => confirm,
    }
}

fn applied(limit: &TimeLimit, limits: &dyn Limits) -> AppliedLimit {
    let policy = limits.days(&limit.param);
    AppliedLimit {
        param: limit.param.clone(),
        days: policy.unwrap_or(limit.fallback),
        unit: limit.unit,
        fallback: policy.is_none(),
    }
}

fn due_from(
    cal: &WorkCalendar,
    base: NaiveDate,
    limit: &AppliedLimit,
) -> Result<NaiveDate, CalendarError> {
    match limit.unit {
        DayUnit::WorkingDays => cal.add_working_days(base, limit.days),
        DayUnit::CalendarDays => cal.add_calendar_days(base, limit.days),
    }
}

fn open_step(
    state: &mut CaseState,
    step: &Step,
    base: NaiveDate,
    ctx: &Context,
) -> Result<OpenStep, ActionError> {
    let limit = step.limit.as_ref().map(|l| applied(l, ctx.limits));
    let due = match &limit {
        Some(l) => Some(due_from(ctx.calendar, base, l)?),
        None => None,
    };
    let not_before = if step.kind == StepKind::Notice {
        state.notice_round += 1;
        due.map(|d| d + Duration::days(1))
    } else {
        None
    };
    let o = OpenStep {
        step: step.id.clone(),
        label: step.label.clone(),
        level: resolve_level(step.level, state.confirm_level),
        opened_on: ctx.today,
        due,
        limit,
        not_before,
    };
    state.open.push(o.clone());
    Ok(o)
}

/// Start a case: the first step of the workflow opens today.
pub fn start(wf: &Workflow, opts: &StartOptions, ctx: &Context) -> Result<Transition, ActionError> {
    let mut flags = BTreeSet::new();
    for f in &opts.flags {
        if !settable_flag(f) {
            return Err(ActionError::UnknownFlag { flag: f.clone() });
        }
        flags.insert(f.clone());
    }
    let mut state = CaseState {
        workflow: wf.id.clone(),
        confirm_level: if opts.delegated {
            ActingLevel::Township
        } else {
            ActingLevel::County
        },
        flags,
        open: Vec::new(),
        deadlines: Vec::new(),
        decision: None,
        notice_round: 0,
        revision: 0,
        history: Vec::new(),
    };
    let first = open_step(&mut state, wf.first(), ctx.today, ctx)?;
    Ok(Transition {
        state,
        opened: vec![first],
    })
}

fn check_actor(
    wf: &Workflow,
    step: &Step,
    state: &CaseState,
    actor: &ActorRef,
) -> Result<(), ActionError> {
    if !step.roles.contains(&actor.role) {
        return Err(ActionError::WrongRole {
            step: step.id.clone(),
            label: step.label.clone(),
            role: actor.role,
            allowed: step.roles.clone(),
        });
    }
    let expected = resolve_level(step.level, state.confirm_level);
    if expected != actor.level && !step.also_levels.contains(&actor.level) {
        return Err(ActionError::WrongLevel {
            step: step.id.clone(),
            label: step.label.clone(),
            expected,
            got: actor.level,
        });
    }
    if expected == ActingLevel::Department {
        if let Some(d) = wf.department {
            if actor.department != Some(d) {
                return Err(ActionError::WrongDepartment {
                    step: step.id.clone(),
                    label: step.label.clone(),
                    expected: d,
                });
            }
        }
    }
    Ok(())
}

fn check_attachments(
    step: &Step,
    state: &CaseState,
    attachments: &[Attachment],
) -> Result<(), ActionError> {
    for a in attachments {
        if a.id.trim().is_empty() {
            return Err(ActionError::EmptyAttachment {
                kind: a.kind.clone(),
            });
        }
    }
    for kind in &step.needs_attached {
        if !attachments.iter().any(|a| &a.kind == kind) {
            return Err(ActionError::MissingRecord {
                record: kind.clone(),
            });
        }
    }
    for kind in &step.needs_on_file {
        let on_file = state.attachments().any(|a| &a.kind == kind)
            || attachments.iter().any(|a| &a.kind == kind);
        if !on_file {
            return Err(ActionError::MissingRecord {
                record: kind.clone(),
            });
        }
    }
    Ok(())
}

fn distinct_investigators(names: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && seen.insert(n.clone()))
        .collect()
}

fn first_of_next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("first of month exists")
}

/// Apply `action` by `actor` to the case. Returns the new state (the input is not modified) or
/// why the action is not allowed.
pub fn apply(
    wf: &Workflow,
    state: &CaseState,
    actor: &ActorRef,
    action: &Action,
    ctx: &Context,
) -> Result<Transition, ActionError> {
    if state.workflow != wf.id {
        return Err(ActionError::WorkflowMismatch {
            case: state.workflow.clone(),
            given: wf.id.clone(),
        });
    }
    let step_id = action.step();
    let idx = wf.index(step_id).ok_or_else(|| ActionError::UnknownStep {
        step: step_id.to_string(),
    })?;
    let step = &wf.steps[idx];
    let open_pos = state
        .open
        .iter()
        .position(|o| o.step == step.id)
        .ok_or_else(|| ActionError::StepNotOpen {
            step: step.id.clone(),
            label: step.label.clone(),
        })?;
    check_actor(wf, step, state, actor)?;
    let outcome = match action {
        Action::Complete(_) => Outcome::Complete,
        Action::Refuse { .. } => Outcome::Refuse,
        Action::Return { .. } => Outcome::Return,
        Action::Object { .. } => Outcome::Object,
    };
    if !step.allows(outcome) {
        return Err(ActionError::OutcomeNotAllowed {
            step: step.id.clone(),
            label: step.label.clone(),
            outcome,
        });
    }

    let today = ctx.today;
    let open = state.open[open_pos].clone();
    let mut next = state.clone();
    next.open.remove(open_pos);
    next.revision += 1;
    let mut opened = Vec::new();
    let late = open.not_before.is_none() && open.due.is_some_and(|d| today > d);
    let mut record = StepRecord {
        seq: state.history.len() as u32 + 1,
        step: step.id.clone(),
        label: step.label.clone(),
        action: RecordAction::Completed,
        actor: actor.clone(),
        on: today,
        opinion: String::new(),
        attachments: Vec::new(),
        investigators: Vec::new(),
        reasons: Vec::new(),
        late,
    };

    match action {
        Action::Complete(input) => {
            if let Some(nb) = open.not_before {
                if today < nb {
                    return Err(ActionError::NoticeRunning {
                        ends: open.due.unwrap_or(nb),
                    });
                }
            }
            for f in &input.set_flags {
                if !settable_flag(f) {
                    return Err(ActionError::UnknownFlag { flag: f.clone() });
                }
            }
            check_attachments(step, state, &input.attachments)?;
            let investigators = distinct_investigators(&input.investigators);
            if (investigators.len() as u32) < step.min_investigators {
                return Err(ActionError::TooFewInvestigators {
                    needed: step.min_investigators,
                    got: investigators.len() as u32,
                });
            }
            next.flags.extend(input.set_flags.iter().cloned());
            record.action = if step.kind == StepKind::Decision {
                RecordAction::Approved
            } else {
                RecordAction::Completed
            };
            record.opinion = input.opinion.clone();
            record.attachments = input.attachments.clone();
            record.investigators = investigators;
            next.history.push(record);
            track_deadlines(wf, &mut next, &step.id, ctx)?;

            if step.phase != Phase::Main {
                // After-decision steps are leaves.
            } else if step.kind == StepKind::Decision {
                next.decision = Some(Decision {
                    outcome: DecisionOutcome::Approved,
                    on: today,
                    step: step.id.clone(),
                    reasons: Vec::new(),
                    payment_from: wf.monthly_payment.then(|| first_of_next_month(today)),
                });
                close_main(wf, &mut next, today);
                opened = open_phase(wf, &mut next, Phase::AfterApproval, ctx)?;
            } else {
                let target = match &step.next {
                    Some(n) => wf.index(n).expect("validated at load"),
                    None => next_active_main(wf, &next, idx).expect("last main step is a decision"),
                };
                // The clock of the step after a notice starts when the notice ends, not when
                // someone gets round to closing it (R-PR-4: "within 10 working days of notice end").
                let base = if step.kind == StepKind::Notice {
                    open.due.unwrap_or(today)
                } else {
                    today
                };
                opened.push(open_step(&mut next, &wf.steps[target], base, ctx)?);
            }
        }
        Action::Refuse { input, reasons } => {
            let reasons: Vec<String> = reasons
                .iter()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            if reasons.is_empty() {
                return Err(ActionError::ReasonsRequired);
            }
            for a in &input.attachments {
                if a.id.trim().is_empty() {
                    return Err(ActionError::EmptyAttachment {
                        kind: a.kind.clone(),
                    });
                }
            }
            record.action = RecordAction::Refused;
            record.opinion = input.opinion.clone();
            record.attachments = input.attachments.clone();
            record.reasons = reasons.clone();
            next.history.push(record);
            next.decision = Some(Decision {
                outcome: DecisionOutcome::Refused,
                on: today,
                step: step.id.clone(),
                reasons,
                payment_from: None,
            });
            close_main(wf, &mut next, today);
            opened = open_phase(wf, &mut next, Phase::AfterRefusal, ctx)?;
        }
        Action::Return { opinion, .. } => {
            if opinion.trim().is_empty() {
                return Err(ActionError::OpinionRequired);
            }
            let target = match &step.return_to {
                Some(t) => wf.index(t),
                None => previous_active_main(wf, &next, idx),
            }
            .ok_or_else(|| ActionError::NothingToReturnTo {
                step: step.id.clone(),
            })?;
            record.action = RecordAction::Returned;
            record.opinion = opinion.clone();
            next.history.push(record);
            opened.push(open_step(&mut next, &wf.steps[target], today, ctx)?);
        }
        Action::Object {
            opinion,
            attachments,
            ..
        } => {
            let ended = open.due.unwrap_or(today);
            if today > ended {
                return Err(ActionError::NoticeEnded { ended });
            }
            if opinion.trim().is_empty() {
                return Err(ActionError::OpinionRequired);
            }
            record.action = RecordAction::Objected;
            record.opinion = opinion.clone();
            record.attachments = attachments.clone();
            next.history.push(record);
            // An objection makes the case disputed, so the democratic appraisal (only when
            // disputed, seed 004/5) becomes part of the re-run before the new notice.
            next.flags.insert("disputed".into());
            let target = wf
                .index(step.on_object.as_deref().expect("validated at load"))
                .expect("validated at load");
            opened.push(open_step(&mut next, &wf.steps[target], today, ctx)?);
        }
    }
    Ok(Transition {
        state: next,
        opened,
    })
}

fn next_active_main(wf: &Workflow, state: &CaseState, idx: usize) -> Option<usize> {
    let flags = state.condition_flags();
    (idx + 1..wf.steps.len())
        .find(|&j| wf.steps[j].phase == Phase::Main && wf.steps[j].is_active(&flags))
}

fn previous_active_main(wf: &Workflow, state: &CaseState, idx: usize) -> Option<usize> {
    let flags = state.condition_flags();
    (0..idx)
        .rev()
        .find(|&j| wf.steps[j].phase == Phase::Main && wf.steps[j].is_active(&flags))
}

/// After a decision no main step stays open and every running case deadline is met.
fn close_main(wf: &Workflow, state: &mut CaseState, today: NaiveDate) {
    state
        .open
        .retain(|o| wf.step(&o.step).is_some_and(|s| s.phase != Phase::Main));
    for d in &mut state.deadlines {
        if d.met_on.is_none() {
            d.met_on = Some(today);
        }
    }
}

fn open_phase(
    wf: &Workflow,
    state: &mut CaseState,
    phase: Phase,
    ctx: &Context,
) -> Result<Vec<OpenStep>, ActionError> {
    let flags = state.condition_flags();
    let mut opened = Vec::new();
    for s in wf
        .steps
        .iter()
        .filter(|s| s.phase == phase && s.is_active(&flags))
    {
        opened.push(open_step(state, s, ctx.today, ctx)?);
    }
    Ok(opened)
}

fn track_deadlines(
    wf: &Workflow,
    state: &mut CaseState,
    step: &str,
    ctx: &Context,
) -> Result<(), ActionError> {
    for d in &mut state.deadlines {
        let def = wf.deadlines.iter().find(|x| x.id == d.id);
        if d.met_on.is_none() && def.is_some_and(|x| x.ends_with == step) {
            d.met_on = Some(ctx.today);
        }
    }
    for def in wf.deadlines.iter().filter(|d| d.starts_after == step) {
        if state.deadlines.iter().any(|d| d.id == def.id) {
            continue; // a clock starts once, a return does not restart it
        }
        let limit = applied(&def.limit, ctx.limits);
        let due = due_from(ctx.calendar, ctx.today, &limit)?;
        state.deadlines.push(DeadlineState {
            id: def.id.clone(),
            label: def.label.clone(),
            started_on: ctx.today,
            due,
            limit,
            met_on: None,
        });
    }
    Ok(())
}

/// How pressing an open step is on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// A public notice still running: nothing to do yet.
    Running,
    OnTime,
    /// Due within the warning window (working days).
    DueSoon,
    Overdue,
}

impl Urgency {
    pub fn label_zh(self) -> &'static str {
        match self {
            Urgency::Running => "公示中",
            Urgency::OnTime => "正常",
            Urgency::DueSoon => "即将到期",
            Urgency::Overdue => "已超期",
        }
    }
}

/// Classify a due date: overdue after it; due soon when at most `warn_working_days` working
/// days remain (0 = only on the due day itself).
pub fn classify_due(
    due: NaiveDate,
    today: NaiveDate,
    cal: &WorkCalendar,
    warn_working_days: u32,
) -> Result<Urgency, CalendarError> {
    if today > due {
        return Ok(Urgency::Overdue);
    }
    if cal.working_days_between(today, due)? <= i64::from(warn_working_days) {
        Ok(Urgency::DueSoon)
    } else {
        Ok(Urgency::OnTime)
    }
}

/// Classify an open step. A notice is `Running` until its period ends; then it must be closed
/// on the next working day (due soon), after which it is overdue.
pub fn urgency(
    open: &OpenStep,
    today: NaiveDate,
    cal: &WorkCalendar,
    warn_working_days: u32,
) -> Result<Urgency, CalendarError> {
    match (open.due, open.not_before) {
        (None, _) => Ok(Urgency::OnTime),
        (Some(end), Some(nb)) => {
            if today < nb {
                Ok(Urgency::Running)
            } else {
                let close_by = cal.add_working_days(end, 1)?;
                classify_due(close_by, today, cal, warn_working_days)
            }
        }
        (Some(due), None) => classify_due(due, today, cal, warn_working_days),
    }
}

/// Where an overdue step escalates: the level above the one that should have acted.
pub fn escalation_target(level: ActingLevel) -> Level {
    match level {
        ActingLevel::Village => Level::Township,
        ActingLevel::Township => Level::County,
        ActingLevel::County => Level::City,
        // Departments are coordinated by the county civil-affairs bureau (一门受理、协同办理).
        ActingLevel::Department => Level::County,
    }
}

/// An open step or case deadline that needs attention today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// A step id, or `deadline:<id>` for a case deadline.
    pub what: String,
    pub label: String,
    pub due: NaiveDate,
    pub urgency: Urgency,
    /// For overdue items: who it escalates to.
    pub escalate_to: Option<Level>,
}

/// Due-soon and overdue items of a case on `today` (on-time and running ones are left out).
pub fn alerts(
    state: &CaseState,
    today: NaiveDate,
    cal: &WorkCalendar,
    warn_working_days: u32,
) -> Result<Vec<Alert>, CalendarError> {
    let mut out = Vec::new();
    for o in &state.open {
        let u = urgency(o, today, cal, warn_working_days)?;
        if matches!(u, Urgency::DueSoon | Urgency::Overdue) {
            out.push(Alert {
                what: o.step.clone(),
                label: o.label.clone(),
                due: o.due.expect("urgent items have a due date"),
                urgency: u,
                escalate_to: (u == Urgency::Overdue).then(|| escalation_target(o.level)),
            });
        }
    }
    for d in state.deadlines.iter().filter(|d| d.met_on.is_none()) {
        let u = classify_due(d.due, today, cal, warn_working_days)?;
        if matches!(u, Urgency::DueSoon | Urgency::Overdue) {
            out.push(Alert {
                what: format!("deadline:{}", d.id),
                label: d.label.clone(),
                due: d.due,
                urgency: u,
                escalate_to: (u == Urgency::Overdue)
                    .then(|| escalation_target(state.confirm_level)),
            });
        }
    }
    Ok(out)
}
