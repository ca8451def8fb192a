//! Page templates (askama, compiled into the binary) and the display models they render.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jiuzhu_app::records::{HouseholdSummary, PersonSummary};
use jiuzhu_domain::{
    Action, AuditRecord, Disability, Member, PersonFacts, PersonView, Sensitive, Version,
};

use crate::auth::Auth;
use crate::error::{current_request_id, AppError};

/// Renders a template into a response (a template error is an internal error).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(AppError::internal(e)),
    }
}

pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    let mut r = render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// The header of every page: who is logged in and what they may open.
#[derive(Clone, Default)]
pub struct Nav {
    pub title: String,
    pub csrf: String,
    pub logged_in: bool,
    pub display_name: String,
    pub role: String,
    pub division: String,
    pub can_search: bool,
    pub can_write: bool,
    pub can_import: bool,
    pub can_users: bool,
    pub can_audit: bool,
    pub can_divisions: bool,
    pub can_reveal: bool,
    pub can_calc: bool,
    pub can_cases: bool,
    pub can_tasks: bool,
    pub can_warnings: bool,
    pub can_feeds: bool,
    pub can_runs: bool,
    /// Reads the register (search, divisions).
    pub can_registry: bool,
    /// Reads every program's cases of the jurisdiction (notices, filing, reserve fund); not
    /// a department officer, who reads the cases referred to its department.
    pub all_programs: bool,
}

impl Nav {
    pub fn anonymous(title: &str) -> Nav {
        Nav {
            title: title.to_string(),
            ..Nav::default()
        }
    }
    pub fn new(auth: &Auth, title: &str) -> Nav {
        let a = auth.actor();
        let must_change = auth.user().must_change_password;
        Nav {
            title: title.to_string(),
            csrf: auth.csrf().to_string(),
            logged_in: true,
            display_name: auth.user().display_name.clone(),
            role: a.role.label_zh().to_string(),
            division: auth.user().division.to_string(),
            can_search: !must_change && a.may(Action::ReadRegistry),
            can_write: !must_change && a.may(Action::WriteRegistry),
            can_import: !must_change && a.may(Action::ImportCaseload),
            can_users: !must_change && a.may(Action::ReadUsers),
            can_audit: !must_change && a.may(Action::ReadAudit),
            can_divisions: !must_change && a.may(Action::ReadRegistry),
            can_reveal: a.may(Action::RevealSensitive),
            can_calc: !must_change && a.may(Action::ReadRegistry),
            can_cases: !must_change && a.may(Action::ReadCases),
            can_tasks: !must_change && a.may(Action::ActOnCase),
            can_warnings: !must_change && a.may(Action::ReadVerification),
            can_feeds: !must_change
                && (a.may(Action::ImportFeeds) || a.may(Action::ReadVerification)),
            can_runs: !must_change
                && (a.may(Action::RunVerification) || a.may(Action::ReadVerification)),
            can_registry: !must_change && a.may(Action::ReadRegistry),
            all_programs: a.case_reach() == jiuzhu_domain::CaseReach::Jurisdiction,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub nav: Nav,
    pub status: u16,
    pub message: String,
    pub fields: Vec<String>,
    pub request_id: String,
}

pub fn error_page(e: AppError) -> Response {
    let page = ErrorPage {
        nav: Nav::anonymous("出错了"),
        status: e.status.as_u16(),
        message: e.message.clone(),
        fields: e
            .fields
            .iter()
            .map(jiuzhu_domain::FieldError::for_people)
            .collect(),
        request_id: current_request_id(),
    };
    let mut response = match page.render() {
        Ok(html) => (e.status, Html(html)).into_response(),
        Err(_) => (e.status, e.message.clone()).into_response(),
    };
    e.add_retry_after(&mut response);
    response
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub nav: Nav,
    pub error: String,
    pub username: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub nav: Nav,
    pub heading: String,
    pub lines: Vec<String>,
    pub link: String,
    pub link_text: String,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub nav: Nav,
    pub forced: bool,
    pub errors: Vec<String>,
    pub done: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub nav: Nav,
    pub division_name: String,
    /// Households and persons in scope (`None`: the role does not read the register).
    pub households: Option<i64>,
    pub persons: Option<i64>,
    /// The department a department officer works for (empty for other roles).
    pub department: &'static str,
}

/// A person in a result list (identity number masked).
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub id_masked: String,
    pub sex: String,
    /// Year of birth only: the date is hidden like the middle of the identity number.
    pub birth_year: String,
    pub division: String,
    pub household_id: Option<i64>,
    pub household_code: String,
}

impl From<&PersonSummary> for PersonRow {
    fn from(p: &PersonSummary) -> Self {
        PersonRow {
            id: p.id,
            name: p.name.clone(),
            id_masked: p.id_number.masked(),
            sex: p.sex.label_zh().to_string(),
            birth_year: format!("{}年", chrono::Datelike::year(&p.birth_date)),
            division: p.residence_division.to_string(),
            household_id: p.household_id,
            household_code: p.household_code.clone().unwrap_or_default(),
        }
    }
}

pub struct HouseholdRow {
    pub id: i64,
    pub code: String,
    pub division: String,
    pub area: String,
    pub address: String,
    pub head_name: String,
    pub member_count: i64,
}

impl From<&HouseholdSummary> for HouseholdRow {
    fn from(h: &HouseholdSummary) -> Self {
        HouseholdRow {
            id: h.id,
            code: h.code.clone(),
            division: h.division.to_string(),
            area: h.area.label_zh().to_string(),
            address: h.address.clone(),
            head_name: h.head_name.clone().unwrap_or_default(),
            member_count: h.member_count,
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub nav: Nav,
    pub q: String,
    pub searched: bool,
    /// The text was the start of an identity number, which this user may not search by.
    pub prefix_refused: bool,
    pub persons: Vec<PersonRow>,
    pub persons_total: i64,
    pub households: Vec<HouseholdRow>,
    pub households_total: i64,
}

fn disability_text(d: &Option<Disability>) -> String {
    match d {
        Some(d) => format!("{}残疾 {}级", d.kind.label_zh(), d.grade),
        None => "无".to_string(),
    }
}

fn sensitive<T>(s: &Sensitive<T>, f: impl Fn(&T) -> String) -> String {
    match s {
        Sensitive::Shown(v) => f(v),
        Sensitive::Masked => "******(已隐藏)".to_string(),
    }
}

/// The date of birth when revealed, else its year (the date is half of the identity number's
/// hidden part).
pub fn birth_text(v: &PersonView) -> String {
    match &v.birth_date {
        Sensitive::Shown(d) => d.to_string(),
        Sensitive::Masked => format!("{}年(日期已隐藏)", v.birth_year),
    }
}

/// The labelled facts of a person view, in display order.
pub fn person_facts(v: &PersonView) -> Vec<(String, String)> {
    let self_care = match &v.self_care {
        Some(s) => format!("{}项不能自理(评估日期 {})", s.unable_count(), s.assessed_on),
        None => "未评估".to_string(),
    };
    vec![
        ("姓名".into(), v.name.clone()),
        ("身份证号码".into(), v.id_number.clone()),
        ("性别".into(), v.sex.label_zh().into()),
        ("出生日期".into(), birth_text(v)),
        (
            "户籍地区划".into(),
            v.hukou_division
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        ("居住地区划".into(), v.residence_division.to_string()),
        ("联系电话".into(), v.phone.clone().unwrap_or_default()),
        ("残疾情况".into(), sensitive(&v.disability, disability_text)),
        (
            "重病".into(),
            sensitive(&v.serious_illness, |b| {
                if *b { "是" } else { "否" }.to_string()
            }),
        ),
        (
            "病情说明".into(),
            sensitive(&v.illness_note, |n| n.clone().unwrap_or_default()),
        ),
        (
            "一卡通账户".into(),
            sensitive(&v.bank_account, |n| n.clone().unwrap_or_default()),
        ),
        ("在学情况".into(), v.education.label_zh().into()),
        ("就业状况".into(), v.employment.label_zh().into()),
        ("劳动能力".into(), v.work_ability.label_zh().into()),
        ("生活自理".into(), self_care),
        ("生效日期".into(), v.valid_from.to_string()),
        ("记录版本".into(), v.row_version.to_string()),
    ]
}

/// One version of a person's facts in the history table (non-sensitive fields only).
pub struct PersonVersionRow {
    pub valid_from: String,
    pub valid_to: String,
    pub recorded_at: String,
    pub recorded_by: String,
    pub name: String,
    pub residence: String,
    pub education: String,
    pub employment: String,
    pub work_ability: String,
}

impl From<&Version<PersonFacts>> for PersonVersionRow {
    fn from(v: &Version<PersonFacts>) -> Self {
        PersonVersionRow {
            valid_from: v.valid_from.to_string(),
            valid_to: v
                .valid_to
                .map(|d| d.to_string())
                .unwrap_or_else(|| "至今".into()),
            recorded_at: fmt_time(v.recorded_at),
            recorded_by: v.recorded_by.clone(),
            name: v.data.name.clone(),
            residence: v.data.residence_division.to_string(),
            education: v.data.education.label_zh().into(),
            employment: v.data.employment.label_zh().into(),
            work_ability: v.data.work_ability.label_zh().into(),
        }
    }
}

pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    t.with_timezone(&cst)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub struct MembershipRow {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub id_masked: String,
    pub relation: String,
    pub joined_on: String,
    pub left_on: String,
    pub active: bool,
    pub reasons: String,
}

impl MembershipRow {
    pub fn from_member(m: &Member, today: chrono::NaiveDate) -> MembershipRow {
        let ms = &m.membership;
        MembershipRow {
            id: ms.id,
            person_id: m.person.id,
            name: m.person.facts.name.clone(),
            id_masked: m.person.id_number.masked(),
            relation: ms.relation.label_zh().into(),
            joined_on: ms.joined_on.to_string(),
            left_on: ms.left_on.map(|d| d.to_string()).unwrap_or_default(),
            active: ms.active_on(today),
            reasons: [ms.join_reason.clone(), ms.leave_reason.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(";"),
        }
    }
}

#[derive(Template)]
#[template(path = "person.html")]
pub struct PersonPage {
    pub nav: Nav,
    pub id: i64,
    pub name: String,
    pub revealed: bool,
    pub facts: Vec<(String, String)>,
    pub history: Vec<PersonVersionRow>,
    pub memberships: Vec<PersonMembershipRow>,
}

pub struct PersonMembershipRow {
    pub household_id: i64,
    pub relation: String,
    pub joined_on: String,
    pub left_on: String,
}

/// Options of a `<select>`: (value, label, selected).
pub type Options = Vec<(String, String, bool)>;

pub fn options<T: Copy + PartialEq>(
    all: &[T],
    current: Option<T>,
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Options {
    all.iter()
        .map(|v| {
            (
                value(*v).to_string(),
                label(*v).to_string(),
                Some(*v) == current,
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "person_edit.html")]
pub struct PersonEditPage {
    pub nav: Nav,
    /// `None` when creating.
    pub id: Option<i64>,
    pub errors: Vec<String>,
    pub id_number: String,
    pub name: String,
    pub sex: Options,
    /// What was typed (a rejected form); never the stored date.
    pub birth_date: String,
    /// The stored year, shown beside the empty date field when editing.
    pub birth_year: String,
    pub hukou_division: String,
    pub residence_division: String,
    pub education: Options,
    pub employment: Options,
    pub work_ability: Options,
    pub disability_kinds: Options,
    pub valid_from: String,
    pub row_version: i64,
}

pub struct HouseholdVersionRow {
    pub valid_from: String,
    pub valid_to: String,
    pub recorded_at: String,
    pub recorded_by: String,
    pub address: String,
    pub division: String,
    pub area: String,
}

#[derive(Template)]
#[template(path = "household.html")]
pub struct HouseholdPage {
    pub nav: Nav,
    pub id: i64,
    pub code: String,
    pub as_of: String,
    /// The month of `as_of` (YYYY-MM), for the calculation link.
    pub month: String,
    pub is_today: bool,
    pub address: String,
    pub division: String,
    pub division_name: String,
    pub area: String,
    pub valid_from: String,
    pub row_version: i64,
    pub source_ref: String,
    pub members: Vec<MembershipRow>,
    pub all_memberships: Vec<MembershipRow>,
    pub history: Vec<HouseholdVersionRow>,
    pub relations: Options,
    pub today: String,
    /// The economic record in force on `as_of` (经济状况), if any.
    pub economics: Option<crate::economics_page::EconomicsView>,
    /// The benefit status of the household's approved cases (case id, number, program, status).
    pub benefits: Vec<(i64, String, String, crate::changes::BenefitRow)>,
}

#[derive(Template)]
#[template(path = "household_edit.html")]
pub struct HouseholdEditPage {
    pub nav: Nav,
    pub id: Option<i64>,
    pub errors: Vec<String>,
    pub code: String,
    pub address: String,
    pub division: String,
    pub areas: Options,
    pub valid_from: String,
    pub row_version: i64,
}

pub struct DivisionRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub depth: usize,
}

#[derive(Template)]
#[template(path = "divisions.html")]
pub struct DivisionsPage {
    pub nav: Nav,
    /// The largest file the import form takes, as stated on it.
    pub max_upload: String,
    pub rows: Vec<DivisionRow>,
    pub can_manage: bool,
    pub errors: Vec<String>,
    pub notice: String,
}

/// The kinds of record audit events are about, as the audit page names them.
pub const AUDIT_RECORD_KINDS: &[(&str, &str)] = &[
    ("person", "人员"),
    ("household", "家庭"),
    ("membership", "家庭成员关系"),
    ("household_economics", "家庭经济状况"),
    ("case", "案件"),
    ("document", "档案材料"),
    ("letter_prefix", "文书编号"),
    ("reserve_fund", "备用金"),
    ("caseload", "存量数据导入"),
    ("division", "行政区划"),
    ("feed_delivery", "部门核对数据"),
    ("feed_source", "核对数据来源"),
    ("verification_run", "比对批次"),
    ("verification_report", "核对报告"),
    ("warning", "预警"),
    ("zero_report", "零报告"),
    ("outreach_lead", "主动发现线索"),
    ("policy_revision", "政策参数修订"),
    ("calendar_edit", "工作日历调整"),
    ("user", "账户"),
    ("session", "登录会话"),
    ("audit", "审计日志"),
    ("data_key", "数据加密密钥"),
    ("demo", "演示数据"),
];

/// A record kind's Chinese name (a kind unknown to this version is shown as stored).
pub fn record_kind_zh(kind: &str) -> String {
    AUDIT_RECORD_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or_else(|| kind.to_string(), |(_, zh)| zh.to_string())
}

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub origin: String,
    pub action: String,
    pub record: String,
    pub division: String,
    pub detail: String,
}

impl From<&AuditRecord> for AuditRow {
    fn from(r: &AuditRecord) -> Self {
        let e = &r.entry;
        let mut detail = e.detail.clone().unwrap_or_default();
        if let Some(after) = &e.after {
            if !detail.is_empty() {
                detail.push(' ');
            }
            let s = after.to_string();
            detail.push_str(&s.chars().take(160).collect::<String>());
        }
        AuditRow {
            seq: r.seq,
            at: jiuzhu_domain::audit::beijing_time(&e.at),
            actor: e.actor_name.clone(),
            origin: e.origin.clone(),
            action: e.action.label_zh().into(),
            record: format!(
                "{} {}",
                record_kind_zh(&e.record_kind),
                e.record_id.clone().unwrap_or_default()
            ),
            division: e.division.clone().unwrap_or_default(),
            detail,
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub nav: Nav,
    pub rows: Vec<AuditRow>,
    pub total: i64,
    pub actions: Options,
    pub actor: String,
    /// The record kinds to filter by, the chosen one selected.
    pub kinds: Options,
    pub record: String,
    pub from: String,
    pub to: String,
    pub page: i64,
    pub pages: i64,
    pub query_base: String,
    /// The audit administrator's verification and signed export.
    pub can_export: bool,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub nav: Nav,
    /// The largest upload the form takes, as stated on it.
    pub max_upload: String,
    pub today: String,
    pub errors: Vec<String>,
}

impl ImportPage {
    /// The importer's own limits of a web upload, as the form states them.
    pub fn per_file(&self) -> String {
        let limits = jiuzhu_app::registry::CASELOAD_UPLOAD;
        format!(
            "每个文件不超过 {},家庭表最多 {} 户、成员表最多 {} 人;更大的存量数据请拆分后分批导入,或在服务器上用命令行导入。",
            crate::views::human_size(limits.file_bytes),
            limits.households,
            limits.members
        )
    }
}

#[derive(Template)]
#[template(path = "import_job.html")]
pub struct ImportJobPage {
    pub nav: Nav,
    pub id: u64,
}

/// "25.3 MB", "20 MB", "512 KB": sizes as the Chinese messages show them.
pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    const KB: u64 = 1024;
    let (unit, name) = if bytes >= MB { (MB, "MB") } else { (KB, "KB") };
    let tenths = (bytes * 10 + unit / 2) / unit;
    if tenths.is_multiple_of(10) {
        format!("{} {name}", tenths / 10)
    } else {
        format!("{}.{} {name}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn sizes_as_messages_show_them() {
        assert_eq!(super::human_size(20 * 1024 * 1024), "20 MB");
        assert_eq!(super::human_size(26_528_972), "25.3 MB");
    }
}
