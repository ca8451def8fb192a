//! Roles, permissions and grants.
//!
//! Permissions are types (after lldap): a store method that writes the registry takes a
//! `&Grant<WriteRegistry>`, and the only way to get one is [`Actor::grant`], which checks the role
//! matrix below. A grant also carries the actor's jurisdiction [`Scope`], which the store applies
//! to every query. So neither the role check nor the jurisdiction filter can be forgotten by a
//! handler: without a grant there is nothing to call.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 窗口受理员
    WindowClerk,
    /// 村/社区协理员
    VillageAssistant,
    /// 乡镇审核员
    TownshipReviewer,
    /// 县级审批员
    CountyApprover,
    /// 县级业务管理员: the county's reference data and data loads (policy parameters, the
    /// working-day calendar, the jurisdiction tree, caseload and feed imports, verification
    /// runs) — business work that moved off the system administrator, kept apart from deciding
    /// cases.
    CountyManager,
    /// 部门经办人 (medical insurance, education, housing, human resources)
    DepartmentOfficer,
    /// 部门系统接口账户: a department's information system delivering its data over the API
    /// with OAuth2 client credentials (docs/feeds.md, "Machine access"); it delivers and reads
    /// back its own deliveries, nothing else, and cannot log in to the pages.
    DepartmentSystem,
    /// 审计员 (the business auditor: checks cases and reads the audit log)
    Auditor,
    /// 系统管理员 (三员分立): creates, deactivates and resets accounts; no grants, no log, no
    /// business data.
    SystemAdmin,
    /// 安全管理员: approves new and reset accounts, assigns roles, jurisdictions and departments;
    /// cannot create accounts.
    SecurityAdmin,
    /// 审计管理员: reads, verifies and exports the audit log; no business data.
    AuditAdmin,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::WindowClerk,
        Role::VillageAssistant,
        Role::TownshipReviewer,
        Role::CountyApprover,
        Role::CountyManager,
        Role::DepartmentOfficer,
        Role::DepartmentSystem,
        Role::Auditor,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];
    /// The three administrators of 三员分立; no account holds two of them, and an account never
    /// changes into or out of one (docs/roles.md).
    pub const ADMINS: &'static [Role] = &[Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];
    pub fn is_admin(self) -> bool {
        Role::ADMINS.contains(&self)
    }
    /// An account of a department (a person or its system): it has a department, delivers that
    /// department's kinds and is bound to the sources it delivers for.
    pub fn is_department(self) -> bool {
        matches!(self, Role::DepartmentOfficer | Role::DepartmentSystem)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::WindowClerk => "window_clerk",
            Role::VillageAssistant => "village_assistant",
            Role::TownshipReviewer => "township_reviewer",
            Role::CountyApprover => "county_approver",
            Role::CountyManager => "county_manager",
            Role::DepartmentOfficer => "department_officer",
            Role::DepartmentSystem => "department_system",
            Role::Auditor => "auditor",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::WindowClerk => "窗口受理员",
            Role::VillageAssistant => "村/社区协理员",
            Role::TownshipReviewer => "乡镇审核员",
            Role::CountyApprover => "县级审批员",
            Role::CountyManager => "县级业务管理员",
            Role::DepartmentOfficer => "部门经办人",
            Role::DepartmentSystem => "部门系统接口",
            Role::Auditor => "审计员",
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s || r.label_zh() == s)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    MedicalInsurance,
    Education,
    Housing,
    HumanResources,
    /// 公安 (户籍、死亡注销、机动车登记)
    PublicSecurity,
    /// 金融机构 (银行存款)
    Finance,
    /// 自然资源 (不动产登记)
    NaturalResources,
    /// 市场监管 (工商登记)
    MarketRegulation,
    /// 住房公积金管理中心
    HousingFund,
    /// 司法行政 (服刑人员)
    Justice,
}

impl Department {
    pub const ALL: &'static [Department] = &[
        Department::MedicalInsurance,
        Department::Education,
        Department::Housing,
        Department::HumanResources,
        Department::PublicSecurity,
        Department::Finance,
        Department::NaturalResources,
        Department::MarketRegulation,
        Department::HousingFund,
        Department::Justice,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Department::MedicalInsurance => "medical_insurance",
            Department::Education => "education",
            Department::Housing => "housing",
            Department::HumanResources => "human_resources",
            Department::PublicSecurity => "public_security",
            Department::Finance => "finance",
            Department::NaturalResources => "natural_resources",
            Department::MarketRegulation => "market_regulation",
            Department::HousingFund => "housing_fund",
            Department::Justice => "justice",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Department::MedicalInsurance => "医疗保障",
            Department::Education => "教育",
            Department::Housing => "住房城乡建设",
            Department::HumanResources => "人力资源社会保障",
            Department::PublicSecurity => "公安",
            Department::Finance => "金融机构",
            Department::NaturalResources => "自然资源(不动产登记)",
            Department::MarketRegulation => "市场监督管理",
            Department::HousingFund => "住房公积金管理中心",
            Department::Justice => "司法行政",
        }
    }
    pub fn parse(s: &str) -> Option<Department> {
        Department::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == s || d.label_zh() == s)
    }
}

/// What an actor may do. The matrix is [`allows`]; docs/roles.md shows it as a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read persons, households and the jurisdiction tree (sensitive fields masked).
    ReadRegistry,
    /// Create and edit persons, households and memberships.
    WriteRegistry,
    /// See identity numbers, health, disability and bank data unmasked (each access audited).
    RevealSensitive,
    /// Import a legacy caseload.
    ImportCaseload,
    /// Create, rename and import jurisdiction nodes.
    ManageDivisions,
    /// Create, rename, deactivate and reactivate accounts, unlock them, reset passwords (the
    /// system administrator's; every such account then waits for approval).
    ManageUsers,
    /// List and read staff accounts (not their passwords).
    ReadUsers,
    /// Approve a new or reset account; assign roles, jurisdictions and departments (the
    /// security administrator's).
    AssignRoles,
    /// Read the audit log.
    ReadAudit,
    /// Verify the audit log against its signed checkpoints and export signed periods of it (the
    /// audit administrator's, in the product; `jiuzhu audit …` at the server).
    ExportAudit,
    /// Record and withdraw dated policy parameter revisions (everyone may read policies).
    ManagePolicies,
    /// Register an application at the one window (一门受理): start a case.
    RegisterApplication,
    /// Act on case steps at all; which step a role may act on is the workflow's check.
    ActOnCase,
    /// Read cases, their timelines and decisions (applicant data masked).
    ReadCases,
    /// Top up, withdraw from and return to a township's reserve fund (备用金, R-LS-4).
    ManageReserveFund,
    /// Deliver a department's data file (核对数据) and list deliveries.
    ImportFeeds,
    /// Register the data providers (数据来源) of each kind and the accounts that deliver for
    /// them; retire one that no longer delivers.
    ManageFeedSources,
    /// Read the monthly comparison in one's jurisdiction: deliveries and their rejected rows,
    /// runs, warnings, outreach leads, zero reports and the month's dashboard (read only).
    ReadVerification,
    /// Check and close (销号) the warnings of the monthly comparison in one's jurisdiction.
    HandleWarnings,
    /// Run the monthly comparison (一月一比对).
    RunVerification,
    /// Edit the working-day calendar (holidays, 调休, a year's notice); everyone may read it.
    ManageCalendar,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::ReadRegistry,
        Action::WriteRegistry,
        Action::RevealSensitive,
        Action::ImportCaseload,
        Action::ManageDivisions,
        Action::ManageUsers,
        Action::ReadUsers,
        Action::AssignRoles,
        Action::ReadAudit,
        Action::ExportAudit,
        Action::ManagePolicies,
        Action::RegisterApplication,
        Action::ActOnCase,
        Action::ReadCases,
        Action::ManageReserveFund,
        Action::ImportFeeds,
        Action::ManageFeedSources,
        Action::ReadVerification,
        Action::HandleWarnings,
        Action::RunVerification,
        Action::ManageCalendar,
    ];
    pub fn label_zh(self) -> &'static str {
        match self {
            Action::ReadRegistry => "查看人员与家庭(脱敏)",
            Action::WriteRegistry => "登记和修改人员与家庭",
            Action::RevealSensitive => "查看敏感信息原文",
            Action::ImportCaseload => "导入存量救助对象",
            Action::ManageDivisions => "维护行政区划",
            Action::ManageUsers => "创建、停用账户和重置密码",
            Action::ReadUsers => "查看账户",
            Action::AssignRoles => "审核账户、分配角色与辖区",
            Action::ReadAudit => "查看审计日志",
            Action::ExportAudit => "校验和导出审计日志",
            Action::ManagePolicies => "调整政策参数",
            Action::RegisterApplication => "受理救助申请",
            Action::ActOnCase => "办理案件环节",
            Action::ReadCases => "查看案件",
            Action::ImportFeeds => "报送核对数据",
            Action::ManageFeedSources => "登记核对数据来源",
            Action::ReadVerification => "查看比对核查结果",
            Action::HandleWarnings => "核查处置预警",
            Action::RunVerification => "开展比对核查",
            Action::ManageReserveFund => "管理临时救助备用金",
            Action::ManageCalendar => "维护工作日历",
        }
    }
}

/// The role × action matrix: the one place where it is decided what a role may do.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    // 三员分立: the three administrators hold no business permission at all; each holds only
    // its own administrative actions, which no business role holds.
    if role.is_admin() {
        return match action {
            ManageUsers => role == SystemAdmin,
            ReadUsers => matches!(role, SystemAdmin | SecurityAdmin),
            AssignRoles => role == SecurityAdmin,
            ReadAudit | ExportAudit => role == AuditAdmin,
            _ => false,
        };
    }
    // A department's system delivers its data; it reads nothing else.
    if role == DepartmentSystem {
        return action == ImportFeeds;
    }
    match action {
        // Department officers work on the cases referred to them (the persons in those cases
        // come with the case), not in the register (docs/roles.md).
        ReadRegistry => !matches!(role, DepartmentOfficer),
        WriteRegistry => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover
        ),
        // The people who decide on a case need to see whom they decide on; an auditor needs to
        // check it. Village assistants, department officers and the county manager work with
        // masked data.
        RevealSensitive => matches!(
            role,
            WindowClerk | TownshipReviewer | CountyApprover | Auditor
        ),
        ImportCaseload => matches!(role, CountyApprover | CountyManager),
        // Reference data of the county: kept by the county manager, not by whoever decides
        // cases with it.
        ManageDivisions | ManagePolicies | ManageCalendar | ManageFeedSources => {
            role == CountyManager
        }
        ManageUsers | ReadUsers | AssignRoles => false,
        // The business auditor checks the log as well as the cases; verifying and exporting it
        // is the audit administrator's.
        ReadAudit => role == Auditor,
        ExportAudit => false,
        // The window clerk takes applications (seed 004/2: 乡镇窗口统一受理).
        RegisterApplication => matches!(role, WindowClerk),
        // Everyone who handles a step of some workflow; department officers for referrals.
        ActOnCase => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover | DepartmentOfficer
        ),
        // Which cases a role reads is narrower for department officers and for protected cases
        // ([`Actor::case_reach`]).
        ReadCases => true,
        // Seed 004/5: the township (街道) office keeps the fund and pays urgent assistance from
        // it; the county bureau tops it up. Clerks and assistants ask, they do not pay.
        ManageReserveFund => matches!(role, TownshipReviewer | CountyApprover),
        // Departments deliver their own kinds (the handler checks which); the county loads
        // files handed over on media.
        ImportFeeds => matches!(role, DepartmentOfficer | CountyApprover | CountyManager),
        // Whoever handles warnings reads the comparison they come from; the county follows its
        // townships and runs it; an auditor reads everything in scope, handling nothing.
        ReadVerification => matches!(
            role,
            WindowClerk
                | VillageAssistant
                | TownshipReviewer
                | CountyApprover
                | CountyManager
                | Auditor
        ),
        // Seed 003 / POLICY §7: the township checks warnings, with the window and the village
        // assistant doing the visits; the county follows its townships' warnings.
        HandleWarnings => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover
        ),
        RunVerification => matches!(role, CountyApprover | CountyManager),
    }
}

/// The part of the jurisdiction tree an actor works in: its node and everything below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    root: DivisionCode,
}

impl Scope {
    pub fn new(root: DivisionCode) -> Scope {
        Scope { root }
    }
    pub fn root(&self) -> &DivisionCode {
        &self.root
    }
    pub fn contains(&self, code: &DivisionCode) -> bool {
        self.root.contains(code)
    }
    /// A division given as text (a form field, an API body): `None` when blank; refused, naming
    /// `field`, unless it is a code within this scope.
    pub fn division_in(
        &self,
        field: &str,
        text: &str,
    ) -> Result<Option<DivisionCode>, crate::FieldError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        match DivisionCode::parse(text) {
            Ok(d) if self.contains(&d) => Ok(Some(d)),
            _ => Err(crate::FieldError::new(
                field,
                "DIVISION_INVALID",
                format!("区划“{text}”无效或不在本辖区内"),
            )),
        }
    }
    /// The pattern for `division_code LIKE ?` (codes are digits only, so no escaping is needed).
    pub fn like_pattern(&self) -> String {
        format!("{}%", self.root.prefix())
    }
}

/// Which cases of its jurisdiction an actor reads ([`Actor::case_reach`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseReach {
    /// Every case in scope (protected ones as [`Actor::reads_all_protected`] says).
    Jurisdiction,
    /// Only the cases referred to this department.
    Department(Department),
    /// No case at all (a department officer bound to no department).
    Nothing,
}

/// Who is acting: a logged-in user, or the system itself (CLI, demo seeding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Role,
    pub department: Option<Department>,
    pub scope: Scope,
    /// Where the request came from (IP address, or "cli").
    pub origin: String,
    /// The account was created or reset and no security administrator has approved it yet:
    /// it may log in and change its one-time password, and holds no permission at all.
    pub pending_approval: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {role:?} may not {action:?}{}", if *pending_approval { " (pending approval)" } else { "" })]
pub struct AccessDenied {
    pub role: Role,
    pub action: Action,
    /// Refused because the account awaits approval, whatever its role.
    pub pending_approval: bool,
}

impl AccessDenied {
    pub fn message_zh(&self) -> String {
        if self.pending_approval {
            format!(
                "账户尚待安全管理员审核,审核通过前无权{}",
                self.action.label_zh()
            )
        } else {
            format!("{}无权{}", self.role.label_zh(), self.action.label_zh())
        }
    }
    /// The code programs see: `PENDING_APPROVAL` or `DENIED`.
    pub fn code(&self) -> &'static str {
        if self.pending_approval {
            "PENDING_APPROVAL"
        } else {
            "DENIED"
        }
    }
}

impl Actor {
    /// The system acting on its own behalf (command line, first start, demo data), with the whole
    /// tree in scope. `who` names the origin in the audit log, e.g. "cli".
    pub fn system(who: &str) -> Actor {
        Actor {
            user_id: None,
            username: format!("system:{who}"),
            role: Role::SystemAdmin,
            department: None,
            scope: Scope::new(DivisionCode::nation()),
            origin: who.to_string(),
            pending_approval: false,
        }
    }

    pub fn is_system(&self) -> bool {
        self.user_id.is_none()
    }

    pub fn may(&self, action: Action) -> bool {
        self.is_system() || (!self.pending_approval && allows(self.role, action))
    }

    /// Which cases of its jurisdiction the actor reads (docs/roles.md, "Cases"). A department
    /// officer is bound to its department: it reads the cases referred there and nothing else.
    pub fn case_reach(&self) -> CaseReach {
        if self.is_system() || self.role != Role::DepartmentOfficer {
            return CaseReach::Jurisdiction;
        }
        match self.department {
            Some(d) => CaseReach::Department(d),
            None => CaseReach::Nothing,
        }
    }

    /// Whether the actor reads every protected case (R-PR-7) of its jurisdiction, whatever the
    /// case's workflow: auditors, who read everything in their scope, and the system. Anyone
    /// else reads a protected case only where its role acts on a step of the case's workflow
    /// and the case's responsible division is in scope (the store checks that against the
    /// workflow files).
    pub fn reads_all_protected(&self) -> bool {
        self.is_system() || self.role == Role::Auditor
    }

    /// The permission `P`, if the role allows it.
    pub fn grant<P: Permission>(&self) -> Result<Grant<P>, AccessDenied> {
        if self.may(P::ACTION) {
            Ok(Grant {
                actor: self.clone(),
                _permission: PhantomData,
            })
        } else {
            Err(AccessDenied {
                role: self.role,
                action: P::ACTION,
                pending_approval: self.pending_approval && allows(self.role, P::ACTION),
            })
        }
    }
}

/// A marker type per [`Action`].
pub trait Permission: Send + Sync + 'static {
    const ACTION: Action;
}

macro_rules! permissions {
    ($($name:ident),+) => {
        $(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$name;
            }
        )+
    };
}
permissions!(
    ReadRegistry,
    WriteRegistry,
    RevealSensitive,
    ImportCaseload,
    ManageDivisions,
    ManageUsers,
    ReadUsers,
    AssignRoles,
    ReadAudit,
    ExportAudit,
    ManagePolicies,
    RegisterApplication,
    ActOnCase,
    ReadCases,
    ManageReserveFund,
    ImportFeeds,
    ManageFeedSources,
    ReadVerification,
    HandleWarnings,
    RunVerification,
    ManageCalendar
);

/// Proof that `actor` may perform `P`, within `actor.scope`.
pub struct Grant<P: Permission> {
    actor: Actor,
    _permission: PhantomData<P>,
}

impl<P: Permission> Grant<P> {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
    pub fn scope(&self) -> &Scope {
        &self.actor.scope
    }
}

impl<P: Permission> fmt::Debug for Grant<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grant<{:?}>({})", P::ACTION, self.actor.username)
    }
}

/// The matrix as a Markdown table, for docs/roles.md (a test keeps the document in step).
pub fn matrix_markdown() -> String {
    let mut s = String::from("| 操作 (action) |");
    for r in Role::ALL {
        s.push_str(&format!(" {} |", r.label_zh()));
    }
    s.push_str("\n|---|");
    for _ in Role::ALL {
        s.push_str("---|");
    }
    for a in Action::ALL {
        s.push_str(&format!("\n| {} (`{:?}`) |", a.label_zh(), a));
        for r in Role::ALL {
            s.push_str(if allows(*r, *a) { " ✓ |" } else { " — |" });
        }
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, root: &str) -> Actor {
        Actor {
            user_id: Some(1),
            username: "u".into(),
            role,
            department: None,
            scope: Scope::new(DivisionCode::parse(root).unwrap()),
            origin: "test".into(),
            pending_approval: false,
        }
    }

    #[test]
    fn grants_follow_the_matrix() {
        assert!(actor(Role::WindowClerk, "371002001")
            .grant::<WriteRegistry>()
            .is_ok());
        assert!(actor(Role::Auditor, "371002")
            .grant::<WriteRegistry>()
            .is_err());
        assert!(actor(Role::SystemAdmin, "371002")
            .grant::<RevealSensitive>()
            .is_err());
        assert!(actor(Role::VillageAssistant, "371002001201")
            .grant::<ManageUsers>()
            .is_err());
    }

    /// 三员分立: each administrator holds only its own actions, none of them a business one, and
    /// no action is held by two administrators.
    #[test]
    fn the_three_administrators_share_nothing_and_hold_no_business_action() {
        let admin_actions = [
            Action::ManageUsers,
            Action::ReadUsers,
            Action::AssignRoles,
            Action::ReadAudit,
            Action::ExportAudit,
        ];
        for a in Action::ALL {
            let holders: Vec<Role> = Role::ADMINS
                .iter()
                .copied()
                .filter(|r| allows(*r, *a))
                .collect();
            if !admin_actions.contains(a) {
                assert!(holders.is_empty(), "{a:?} held by {holders:?}");
            }
        }
        let only = |r: Role| -> Vec<Action> {
            Action::ALL
                .iter()
                .copied()
                .filter(|a| allows(r, *a))
                .collect()
        };
        assert_eq!(
            only(Role::SystemAdmin),
            [Action::ManageUsers, Action::ReadUsers]
        );
        assert_eq!(
            only(Role::SecurityAdmin),
            [Action::ReadUsers, Action::AssignRoles]
        );
        assert_eq!(
            only(Role::AuditAdmin),
            [Action::ReadAudit, Action::ExportAudit]
        );
        // No business role manages, approves or reads accounts.
        for r in Role::ALL.iter().filter(|r| !r.is_admin()) {
            for a in [Action::ManageUsers, Action::ReadUsers, Action::AssignRoles] {
                assert!(!allows(*r, a), "{r:?} {a:?}");
            }
        }
    }

    #[test]
    fn an_account_pending_approval_holds_no_permission() {
        let mut clerk = actor(Role::WindowClerk, "371002001");
        clerk.pending_approval = true;
        for a in Action::ALL {
            assert!(!clerk.may(*a), "{a:?}");
        }
        let denied = clerk.grant::<RevealSensitive>().unwrap_err();
        assert_eq!(denied.code(), "PENDING_APPROVAL");
        assert_eq!(
            denied.message_zh(),
            "账户尚待安全管理员审核,审核通过前无权查看敏感信息原文"
        );
        // What the role could never do is refused for the role, not for the approval.
        assert_eq!(clerk.grant::<ManageUsers>().unwrap_err().code(), "DENIED");
        let mut security = actor(Role::SecurityAdmin, "000000");
        security.pending_approval = true;
        assert!(security.grant::<AssignRoles>().is_err());
    }

    #[test]
    fn department_officers_read_cases_of_their_department_only() {
        let mut officer = actor(Role::DepartmentOfficer, "371002");
        assert!(officer.grant::<ReadRegistry>().is_err());
        assert!(officer.grant::<ReadCases>().is_ok());
        assert_eq!(officer.case_reach(), CaseReach::Nothing);
        officer.department = Some(Department::MedicalInsurance);
        assert_eq!(
            officer.case_reach(),
            CaseReach::Department(Department::MedicalInsurance)
        );
        // A department set on another role binds nothing.
        let mut clerk = actor(Role::WindowClerk, "371002001");
        clerk.department = Some(Department::Education);
        assert_eq!(clerk.case_reach(), CaseReach::Jurisdiction);
        assert!(!clerk.reads_all_protected());
        assert!(actor(Role::Auditor, "371002").reads_all_protected());
        assert!(Actor::system("t").reads_all_protected());
    }

    #[test]
    fn whoever_handles_warnings_reads_the_comparison_and_auditors_only_read() {
        for r in Role::ALL {
            if allows(*r, Action::HandleWarnings) {
                assert!(allows(*r, Action::ReadVerification), "{r:?}");
            }
        }
        assert!(allows(Role::Auditor, Action::ReadVerification));
        for a in [
            Action::HandleWarnings,
            Action::RunVerification,
            Action::ImportFeeds,
        ] {
            assert!(!allows(Role::Auditor, a), "{a:?}");
        }
    }

    #[test]
    fn scope_is_a_subtree() {
        let a = actor(Role::WindowClerk, "371002001");
        assert!(a
            .scope
            .contains(&DivisionCode::parse("371002001201").unwrap()));
        assert!(!a
            .scope
            .contains(&DivisionCode::parse("371002002201").unwrap()));
        assert_eq!(a.scope.like_pattern(), "371002001%");
    }
}
