//! Workflows as data: one TOML file per program in `workflows/` (embedded), parsed and validated
//! here. docs/workflow.md describes the format.
//!
//! The files say *what* the procedure is (steps, who acts, what must be on file, which time
//! limit applies); the numbers of days come from the policy engine by parameter name, with the
//! file's fallback used only when the policy has no value.

use std::collections::{BTreeMap, BTreeSet};

use jiuzhu_domain::{Department, Role};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::line_of;

/// The workflow files shipped with the platform, `(file name, text)`.
pub const BUILTIN_WORKFLOWS: &[(&str, &str)] = &[
    (
        "workflows/dibao.toml",
        include_str!("../../../workflows/dibao.toml"),
    ),
    (
        "workflows/tekun.toml",
        include_str!("../../../workflows/tekun.toml"),
    ),
    (
        "workflows/temporary.toml",
        include_str!("../../../workflows/temporary.toml"),
    ),
    (
        "workflows/marginal.toml",
        include_str!("../../../workflows/marginal.toml"),
    ),
    (
        "workflows/dibao_change.toml",
        include_str!("../../../workflows/dibao_change.toml"),
    ),
    (
        "workflows/referral_medical.toml",
        include_str!("../../../workflows/referral_medical.toml"),
    ),
    (
        "workflows/referral_education.toml",
        include_str!("../../../workflows/referral_education.toml"),
    ),
    (
        "workflows/referral_housing.toml",
        include_str!("../../../workflows/referral_housing.toml"),
    ),
    (
        "workflows/referral_employment.toml",
        include_str!("../../../workflows/referral_employment.toml"),
    ),
];

/// The kinds of records (documents) a step may require, with their Chinese names. A closed list
/// so that a typo in a workflow file is caught when it is loaded, not when a case gets stuck.
pub const RECORD_KINDS: &[(&str, &str)] = &[
    ("id_card", "身份证件"),
    ("verification_authorisation", "家庭经济状况核对授权书"),
    ("application_form", "申请书"),
    ("emergency_proof", "急难情况说明"),
    ("verification_report", "家庭经济状况核对报告"),
    ("survey_record", "入户调查记录"),
    ("self_care_assessment", "生活自理能力评估表"),
    ("appraisal_minutes", "民主评议记录"),
    ("review_opinion", "审核意见"),
    ("county_visit_record", "县级入户核查记录"),
    ("notice_record", "公示记录"),
    ("objection_record", "异议记录"),
    ("decision_letter", "审核确认决定书"),
    ("refusal_letter", "不予确认告知书"),
    ("filing_receipt", "备案回执"),
    ("payment_voucher", "先行救助发放凭证"),
    ("referral_form", "转介单"),
    ("department_feedback", "部门办理反馈"),
];

/// The Chinese name of a record kind (the kind itself if unknown).
pub fn record_label(kind: &str) -> &str {
    RECORD_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or(kind)
}

/// Case flags a step condition may test. `delegated` is not set by users: it is true when the
/// case's confirming level is the township.
pub const FLAGS: &[(&str, &str)] = &[
    ("disputed", "有争议"),
    ("staff_relative", "经办人员或村(居)委会成员近亲属"),
    ("urgent", "急难情形,先行救助"),
    ("protected", "隐私保护程序(艾滋病感染者等, R-PR-7)"),
    ("delegated", "审核确认权限下放乡镇"),
    ("home_check", "变更前入户核实"),
];

/// Flags a user may set on a case (all but the derived `delegated`).
pub fn settable_flag(flag: &str) -> bool {
    flag != "delegated" && FLAGS.iter().any(|(f, _)| *f == flag)
}

pub fn flag_label(flag: &str) -> &str {
    FLAGS
        .iter()
        .find(|(f, _)| *f == flag)
        .map(|(_, l)| *l)
        .unwrap_or(flag)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Ordinary work: record an opinion and attachments, then the next step opens.
    Task,
    /// A home survey or visit: needs `min_investigators` named investigators.
    Survey,
    /// The public notice (公示): runs for its period, accepts objections, closes after it ends.
    Notice,
    /// Approve or refuse: the case's decision.
    Decision,
    /// Assist first (先行救助): urgent payment before the approval.
    Assist,
}

/// Which part of the procedure a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The steps up to the decision, in file order.
    Main,
    /// Opened together when the case is approved (filing with the county, …).
    AfterApproval,
    /// Opened together when the case is refused (the written refusal, …).
    AfterRefusal,
}

/// The level of government that acts on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActingLevel {
    Village,
    Township,
    County,
    /// A department (medical insurance, education, housing, human resources) of the county.
    Department,
}

impl ActingLevel {
    pub fn label_zh(self) -> &'static str {
        match self {
            ActingLevel::Village => "村/社区",
            ActingLevel::Township => "乡镇/街道",
            ActingLevel::County => "县级民政部门",
            ActingLevel::Department => "县级相关部门",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ActingLevel::Village => "village",
            ActingLevel::Township => "township",
            ActingLevel::County => "county",
            ActingLevel::Department => "department",
        }
    }
    /// The level an actor acts at, from their role and the level of their jurisdiction.
    /// `None` for levels that do not act on cases (city, province, nation).
    pub fn of(role: Role, division: jiuzhu_domain::Level) -> Option<ActingLevel> {
        use jiuzhu_domain::Level as L;
        if role == Role::DepartmentOfficer {
            return Some(ActingLevel::Department);
        }
        match division {
            L::Village | L::Grid => Some(ActingLevel::Village),
            L::Township => Some(ActingLevel::Township),
            L::County => Some(ActingLevel::County),
            _ => None,
        }
    }
}

/// The level a step is acted on, as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepLevel {
    At(ActingLevel),
    /// Whoever confirms in this county: the township where confirmation is delegated
    /// (审核确认权限下放), else the county — fixed per case when it starts.
    Confirming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Finish the step (on a decision step: approve).
    Complete,
    /// Refuse, with written reasons (decision steps only).
    Refuse,
    /// Send back to an earlier step.
    Return,
    /// An objection during public notice: re-investigation and a new notice.
    Object,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    WorkingDays,
    CalendarDays,
}

/// A time limit: the number of days is the policy parameter `param`; `fallback` applies only
/// where the policy has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub param: String,
    pub unit: DayUnit,
    pub fallback: u32,
    pub fallback_source: String,
}

/// A step's condition: the step is active only when the flag is set (or not set, if negated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub flag: String,
    pub negated: bool,
}

impl Condition {
    pub fn holds(&self, flags: &BTreeSet<String>) -> bool {
        flags.contains(&self.flag) != self.negated
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    pub label: String,
    pub kind: StepKind,
    pub phase: Phase,
    pub roles: Vec<Role>,
    /// The level responsible for the step (its due date and escalation follow this level).
    pub level: StepLevel,
    /// Other levels that may also act, e.g. a village assistant recording a township survey.
    pub also_levels: Vec<ActingLevel>,
    /// Record kinds that must be in the case file (attached at this or any earlier step).
    pub needs_on_file: Vec<String>,
    /// Record kinds that must be attached when this step is completed.
    pub needs_attached: Vec<String>,
    pub min_investigators: u32,
    pub limit: Option<TimeLimit>,
    /// `None`: always active. Otherwise the step is optional and skipped unless this holds.
    pub when: Option<Condition>,
    pub outcomes: Vec<Outcome>,
    /// Where `Complete` goes (main phase); default: the next active main step in file order.
    pub next: Option<String>,
    /// Where `Return` goes; default: the previous active main step.
    pub return_to: Option<String>,
    /// Where an objection goes (notice steps).
    pub on_object: Option<String>,
    pub note: String,
}

impl Step {
    pub fn allows(&self, o: Outcome) -> bool {
        self.outcomes.contains(&o)
    }
    pub fn is_active(&self, flags: &BTreeSet<String>) -> bool {
        self.when.as_ref().is_none_or(|c| c.holds(flags))
    }
}

/// A case-level time limit spanning several steps (e.g. the whole dibao procedure within 30
/// working days; temporary assistance approved within N days after assisting first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDeadline {
    pub id: String,
    pub label: String,
    /// The clock starts when this step is completed.
    pub starts_after: String,
    /// And is met when this step is completed (or the case is decided).
    pub ends_with: String,
    pub limit: TimeLimit,
}

/// The amount of the benefit calculation an approval grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantedAmount {
    /// The household's 低保 amount.
    Dibao,
    /// The 特困 support of the recognised members.
    Tekun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    pub id: String,
    /// 低保, 特困, …
    pub program: String,
    pub label: String,
    pub file: String,
    /// Payment starts the month after approval (R-DB-8); false for one-off payments.
    pub monthly_payment: bool,
    /// Which amount of the benefit calculation an approval grants (`pays`): required of an
    /// application workflow paid monthly; a change workflow decides with its parent's.
    pub pays: Option<GrantedAmount>,
    /// A person receives this program in one place only, across the whole system (人户分离,
    /// R-PR-6): an application of someone who receives it elsewhere is refused.
    pub one_place_per_person: bool,
    /// The township's reserve fund may pay this program's cases before the decision (先行救助,
    /// R-LS-4).
    pub assist_first: bool,
    /// The department a referral goes to.
    pub department: Option<Department>,
    /// The policy/county setting that says whether confirmation is delegated to the township.
    pub confirmation_setting: String,
    /// A change workflow (调整/暂停/恢复/停止): the workflows whose approved cases it changes.
    /// Empty for application workflows; change workflows are not offered at intake.
    pub changes: Vec<String>,
    pub steps: Vec<Step>,
    pub deadlines: Vec<CaseDeadline>,
}

impl Workflow {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
    pub fn index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
    /// The first step (always main phase, always active).
    pub fn first(&self) -> &Step {
        &self.steps[0]
    }
    /// Whether `role` acts on some step: the roles that handle the program's cases (who may
    /// read a protected case of it, R-PR-7).
    pub fn acts(&self, role: Role) -> bool {
        self.steps.iter().any(|s| s.roles.contains(&role))
    }

    /// Parse and validate one workflow file.
    pub fn parse(file: &str, text: &str) -> Result<Workflow, WorkflowFileError> {
        parse(file, text)
    }
}

/// All loaded workflows by id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workflows {
    by_id: BTreeMap<String, Workflow>,
}

impl Workflows {
    /// The shipped workflows.
    pub fn builtin() -> Result<Workflows, WorkflowFileError> {
        Workflows::load(BUILTIN_WORKFLOWS)
    }

    /// Workflow files `(name, text)`; a later file with the same id replaces an earlier one, so a
    /// region can override a program's procedure.
    pub fn load(files: &[(&str, &str)]) -> Result<Workflows, WorkflowFileError> {
        let mut by_id = BTreeMap::new();
        for (name, text) in files {
            let wf = parse(name, text)?;
            by_id.insert(wf.id.clone(), wf);
        }
        Ok(Workflows { by_id })
    }

    pub fn get(&self, id: &str) -> Option<&Workflow> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Workflow> {
        self.by_id.values()
    }

    /// The change workflow (调整/暂停/恢复/停止) for approved cases of `workflow`, if any.
    pub fn change_workflow_for(&self, workflow: &str) -> Option<&Workflow> {
        self.by_id
            .values()
            .find(|w| w.changes.iter().any(|c| c == workflow))
    }
}

/// A workflow file that cannot be used: which file, line and field, and why (in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {field}: {message} ({code})")]
pub struct WorkflowFileError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

// ---- file format -------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    workflow: Spanned<RawHeader>,
    #[serde(default)]
    deadline: Vec<Spanned<RawDeadline>>,
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: Spanned<String>,
    program: String,
    label: String,
    #[serde(default)]
    monthly_payment: bool,
    #[serde(default)]
    pays: Option<Spanned<String>>,
    #[serde(default)]
    one_place_per_person: bool,
    #[serde(default)]
    assist_first: bool,
    #[serde(default)]
    department: Option<Spanned<String>>,
    confirmation_setting: String,
    #[serde(default)]
    changes: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    sources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    param: Spanned<String>,
    unit: Spanned<String>,
    fallback: u32,
    fallback_source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadline {
    id: String,
    label: String,
    starts_after: Spanned<String>,
    ends_with: Spanned<String>,
    limit: Spanned<RawLimit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    label: String,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    phase: Option<Spanned<String>>,
    roles: Vec<Spanned<String>>,
    level: Spanned<String>,
    #[serde(default)]
    also_levels: Vec<Spanned<String>>,
    #[serde(default)]
    needs_on_file: Vec<Spanned<String>>,
    #[serde(default)]
    needs_attached: Vec<Spanned<String>>,
    #[serde(default)]
    min_investigators: Option<Spanned<u32>>,
    #[serde(default)]
    limit: Option<Spanned<RawLimit>>,
    #[serde(default)]
    when: Option<Spanned<String>>,
    outcomes: Vec<Spanned<String>>,
    #[serde(default)]
    next: Option<Spanned<String>>,
    #[serde(default)]
    return_to: Option<Spanned<String>>,
    #[serde(default)]
    on_object: Option<Spanned<String>>,
    #[serde(default)]
    note: String,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    /// A time limit: its unit known, its policy parameter named.
    fn limit(&self, l: &Spanned<RawLimit>, field: &str) -> Result<TimeLimit, WorkflowFileError> {
        let r = l.get_ref();
        let unit = match r.unit.get_ref().as_str() {
            "working_days" => DayUnit::WorkingDays,
            "calendar_days" => DayUnit::CalendarDays,
            other => {
                return self.err(
                    r.unit.span(),
                    format!("{field}.unit"),
                    "unknown_unit",
                    format!("时限单位“{other}”无效,应为 working_days 或 calendar_days"),
                )
            }
        };
        if r.param.get_ref().trim().is_empty() {
            return self.err(
                r.param.span(),
                format!("{field}.param"),
                "missing_param",
                "时限必须指明政策参数名",
            );
        }
        Ok(TimeLimit {
            param: r.param.get_ref().clone(),
            unit,
            fallback: r.fallback,
            fallback_source: r.fallback_source.clone(),
        })
    }

    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        field: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) -> Result<T, WorkflowFileError> {
        Err(WorkflowFileError {
            file: self.file.to_string(),
            line: line_of(self.text, span),
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        })
    }
}

/// The first `name` in backticks of a toml message ("missing field `roles`").
fn backticked(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_string())
}

/// `pays`, which an application workflow paid monthly must name and no other may.
fn granted_amount(
    cx: &Ctx,
    header: &RawHeader,
    span: std::ops::Range<usize>,
) -> Result<Option<GrantedAmount>, WorkflowFileError> {
    let wanted = header.monthly_payment && header.changes.is_empty();
    let Some(p) = &header.pays else {
        if wanted {
            return cx.err(
                span,
                "workflow.pays",
                "missing_pays",
                "按月发放的救助流程须指明决定发放的金额(pays = \"dibao\" 或 \"tekun\")",
            );
        }
        return Ok(None);
    };
    if !wanted {
        return cx.err(
            p.span(),
            "workflow.pays",
            "pays_not_monthly",
            "只有按月发放的申请流程指明 pays;变更流程按原案件的项目核定",
        );
    }
    match p.get_ref().as_str() {
        "dibao" => Ok(Some(GrantedAmount::Dibao)),
        "tekun" => Ok(Some(GrantedAmount::Tekun)),
        other => cx.err(
            p.span(),
            "workflow.pays",
            "unknown_pays",
            format!("发放金额“{other}”无效,应为 dibao 或 tekun"),
        ),
    }
}

fn parse(file: &str, text: &str) -> Result<Workflow, WorkflowFileError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let message = e.message().to_string();
        let (code, zh) = if message.starts_with("missing field") {
            ("missing_field", "缺少必填字段")
        } else if message.starts_with("unknown field") {
            ("unknown_field", "无法识别的字段")
        } else {
            ("syntax", "格式错误")
        };
        WorkflowFileError {
            file: file.to_string(),
            line: e.span().map(|s| line_of(text, s)).unwrap_or(1),
            field: backticked(&message).unwrap_or_default(),
            code: code.to_string(),
            message: format!("{zh}:{message}"),
        }
    })?;
    let cx = Ctx { file, text };
    let header = raw.workflow.get_ref();

    let department = match &header.department {
        None => None,
        Some(d) => match Department::parse(d.get_ref()) {
            Some(d) => Some(d),
            None => {
                return cx.err(
                    d.span(),
                    "workflow.department",
                    "unknown_department",
                    format!("未知部门“{}”", d.get_ref()),
                )
            }
        },
    };

    let pays = granted_amount(&cx, header, raw.workflow.span())?;

    // Step ids first, so references can be checked in any order.
    let mut ids = BTreeSet::new();
    for s in &raw.step {
        let id = &s.get_ref().id;
        if !ids.insert(id.get_ref().clone()) {
            return cx.err(
                id.span(),
                "step.id",
                "duplicate_step",
                format!("步骤“{}”重复定义", id.get_ref()),
            );
        }
    }
    if raw.step.is_empty() {
        return cx.err(raw.workflow.span(), "step", "no_steps", "流程没有任何步骤");
    }
    let refs = Refs { cx: &cx, ids };
    let steps = raw
        .step
        .iter()
        .map(|s| step(&cx, &refs, s, department.is_some()))
        .collect::<Result<Vec<_>, _>>()?;
    check_main_path(&cx, &raw, &steps)?;
    let deadlines = raw
        .deadline
        .iter()
        .map(|d| {
            let r = d.get_ref();
            Ok(CaseDeadline {
                id: r.id.clone(),
                label: r.label.clone(),
                starts_after: refs.step_ref(&r.starts_after, "deadline.starts_after")?,
                ends_with: refs.step_ref(&r.ends_with, "deadline.ends_with")?,
                limit: cx.limit(&r.limit, "deadline.limit")?,
            })
        })
        .collect::<Result<Vec<_>, WorkflowFileError>>()?;

    Ok(Workflow {
        id: header.id.get_ref().clone(),
        program: header.program.clone(),
        label: header.label.clone(),
        file: file.to_string(),
        monthly_payment: header.monthly_payment,
        pays,
        one_place_per_person: header.one_place_per_person,
        assist_first: header.assist_first,
        department,
        confirmation_setting: header.confirmation_setting.clone(),
        changes: header.changes.clone(),
        steps,
        deadlines,
    })
}

/// The checks of a file's references, once its step ids are known.
struct Refs<'a> {
    cx: &'a Ctx<'a>,
    ids: BTreeSet<String>,
}

impl Refs<'_> {
    /// A step of this file.
    fn step_ref(&self, v: &Spanned<String>, field: &str) -> Result<String, WorkflowFileError> {
        if self.ids.contains(v.get_ref()) {
            Ok(v.get_ref().clone())
        } else {
            self.cx.err(
                v.span(),
                field,
                "unknown_step",
                format!("引用了不存在的步骤“{}”", v.get_ref()),
            )
        }
    }

    /// A record kind the platform knows.
    fn record(&self, v: &Spanned<String>, field: &str) -> Result<String, WorkflowFileError> {
        if RECORD_KINDS.iter().any(|(k, _)| k == v.get_ref()) {
            Ok(v.get_ref().clone())
        } else {
            self.cx.err(
                v.span(),
                field,
                "unknown_record",
                format!("未知材料类型“{}”", v.get_ref()),
            )
        }
    }
}

/// One step of the file, checked.
fn step(
    cx: &Ctx,
    refs: &Refs,
    s: &Spanned<RawStep>,
    has_department: bool,
) -> Result<Step, WorkflowFileError> {
    let r = s.get_ref();
    let kind = match r.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
        None | Some(("task", _)) => StepKind::Task,
        Some(("survey", _)) => StepKind::Survey,
        Some(("notice", _)) => StepKind::Notice,
        Some(("decision", _)) => StepKind::Decision,
        Some(("assist", _)) => StepKind::Assist,
        Some((other, span)) => {
            return cx.err(
                span,
                "step.kind",
                "unknown_kind",
                format!("步骤类型“{other}”无效"),
            )
        }
    };
    let phase = match r.phase.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
        None | Some(("main", _)) => Phase::Main,
        Some(("after_approval", _)) => Phase::AfterApproval,
        Some(("after_refusal", _)) => Phase::AfterRefusal,
        Some((other, span)) => {
            return cx.err(
                span,
                "step.phase",
                "unknown_phase",
                format!("阶段“{other}”无效"),
            )
        }
    };
    let mut roles = Vec::new();
    for role in &r.roles {
        match Role::parse(role.get_ref()) {
            Some(x) => roles.push(x),
            None => {
                return cx.err(
                    role.span(),
                    "step.roles",
                    "unknown_role",
                    format!("未知角色“{}”", role.get_ref()),
                )
            }
        }
    }
    if roles.is_empty() {
        return cx.err(
            s.span(),
            "step.roles",
            "no_roles",
            "步骤必须至少允许一个角色办理",
        );
    }
    let parse_level = |v: &Spanned<String>, field: &str| match v.get_ref().as_str() {
        "village" => Ok(StepLevel::At(ActingLevel::Village)),
        "township" => Ok(StepLevel::At(ActingLevel::Township)),
        "county" => Ok(StepLevel::At(ActingLevel::County)),
        "department" => Ok(StepLevel::At(ActingLevel::Department)),
        "confirming" => Ok(StepLevel::Confirming),
        other => cx.err(
            v.span(),
            field,
            "unknown_level",
            format!(
                "办理层级“{other}”无效,应为 village、township、county、department 或 confirming"
            ),
        ),
    };
    let level = parse_level(&r.level, "step.level")?;
    let mut also_levels = Vec::new();
    for v in &r.also_levels {
        match parse_level(v, "step.also_levels")? {
            StepLevel::At(l) => also_levels.push(l),
            StepLevel::Confirming => {
                return cx.err(
                    v.span(),
                    "step.also_levels",
                    "unknown_level",
                    "also_levels 不能使用 confirming",
                )
            }
        }
    }
    if level == StepLevel::At(ActingLevel::Department) && !has_department {
        return cx.err(
            r.level.span(),
            "workflow.department",
            "missing_department",
            "部门办理的步骤要求流程指明 department",
        );
    }
    let when = match &r.when {
        None => None,
        Some(w) => {
            let t = w.get_ref().trim();
            let (negated, flag) = match t.strip_prefix('!') {
                Some(f) => (true, f.trim()),
                None => (false, t),
            };
            if !FLAGS.iter().any(|(f, _)| *f == flag) {
                return cx.err(
                    w.span(),
                    "step.when",
                    "unknown_flag",
                    format!("条件“{t}”无效:未知标记"),
                );
            }
            Some(Condition {
                flag: flag.to_string(),
                negated,
            })
        }
    };
    let mut outcomes = Vec::new();
    for o in &r.outcomes {
        outcomes.push(match o.get_ref().as_str() {
            "complete" => Outcome::Complete,
            "refuse" => Outcome::Refuse,
            "return" => Outcome::Return,
            "object" => Outcome::Object,
            other => {
                return cx.err(
                    o.span(),
                    "step.outcomes",
                    "unknown_outcome",
                    format!("办理结果“{other}”无效,应为 complete、refuse、return 或 object"),
                )
            }
        });
    }
    if !outcomes.contains(&Outcome::Complete) {
        return cx.err(
            s.span(),
            "step.outcomes",
            "no_complete",
            "每个步骤都必须允许 complete",
        );
    }
    if outcomes.contains(&Outcome::Refuse) && kind != StepKind::Decision {
        return cx.err(
            s.span(),
            "step.outcomes",
            "refuse_outside_decision",
            "只有决定类步骤(kind = \"decision\")可以不予确认",
        );
    }
    if outcomes.contains(&Outcome::Object) != (kind == StepKind::Notice) {
        return cx.err(
            s.span(),
            "step.outcomes",
            "object_outside_notice",
            "公示步骤必须允许异议(object),其他步骤不得允许",
        );
    }
    if phase != Phase::Main
        && (outcomes.len() != 1 || kind == StepKind::Decision || kind == StepKind::Notice)
    {
        return cx.err(
            s.span(),
            "step.phase",
            "bad_after_step",
            "决定之后的步骤只能是普通办理(complete)",
        );
    }
    let min_investigators = r.min_investigators.as_ref().map(|m| *m.get_ref());
    if kind == StepKind::Survey && min_investigators.unwrap_or(0) < 2 {
        return cx.err(
            r.min_investigators
                .as_ref()
                .map(|m| m.span())
                .unwrap_or(s.span()),
            "step.min_investigators",
            "too_few_investigators",
            "入户调查至少需要2名调查人员(POLICY R-PR-3)",
        );
    }
    let lim = match &r.limit {
        Some(l) => Some(cx.limit(l, "step.limit")?),
        None => None,
    };
    if kind == StepKind::Notice && lim.is_none() {
        return cx.err(
            s.span(),
            "step.limit",
            "notice_without_period",
            "公示步骤必须规定公示期",
        );
    }
    let on_object = match &r.on_object {
        Some(v) => Some(refs.step_ref(v, "step.on_object")?),
        None if kind == StepKind::Notice => {
            return cx.err(
                s.span(),
                "step.on_object",
                "missing_on_object",
                "公示步骤必须指明异议后重新调查的步骤",
            )
        }
        None => None,
    };
    let mut needs_on_file = Vec::new();
    for v in &r.needs_on_file {
        needs_on_file.push(refs.record(v, "step.needs_on_file")?);
    }
    let mut needs_attached = Vec::new();
    for v in &r.needs_attached {
        needs_attached.push(refs.record(v, "step.needs_attached")?);
    }
    Ok(Step {
        id: r.id.get_ref().clone(),
        label: r.label.clone(),
        kind,
        phase,
        roles,
        level,
        also_levels,
        needs_on_file,
        needs_attached,
        min_investigators: min_investigators.unwrap_or(0),
        limit: lim,
        when,
        outcomes,
        next: match &r.next {
            Some(v) => Some(refs.step_ref(v, "step.next")?),
            None => None,
        },
        return_to: match &r.return_to {
            Some(v) => Some(refs.step_ref(v, "step.return_to")?),
            None => None,
        },
        on_object,
        note: r.note.clone(),
    })
}

/// The shape of the main path: it starts with an unconditional step, ends with a decision, and
/// every transition target is a main step.
fn check_main_path(cx: &Ctx, raw: &RawFile, steps: &[Step]) -> Result<(), WorkflowFileError> {
    let first = &raw.step[0];
    if steps[0].phase != Phase::Main || steps[0].when.is_some() {
        return cx.err(
            first.span(),
            "step",
            "bad_first_step",
            "第一个步骤必须是无条件的主流程步骤",
        );
    }
    let last_main = steps.iter().rposition(|s| s.phase == Phase::Main).unwrap();
    if steps[last_main].kind != StepKind::Decision || steps[last_main].when.is_some() {
        return cx.err(
            raw.step[last_main].span(),
            "step.kind",
            "no_final_decision",
            "主流程最后一个步骤必须是无条件的决定步骤(kind = \"decision\")",
        );
    }
    for (s, raw_s) in steps.iter().zip(&raw.step) {
        for (target, field) in [
            (&s.next, "step.next"),
            (&s.return_to, "step.return_to"),
            (&s.on_object, "step.on_object"),
        ] {
            if let Some(t) = target {
                let t = steps.iter().find(|x| &x.id == t).unwrap();
                if t.phase != Phase::Main {
                    return cx.err(
                        raw_s.span(),
                        field,
                        "target_not_main",
                        format!("“{}”不是主流程步骤,不能作为流转目标", t.id),
                    );
                }
            }
        }
    }
    Ok(())
}
