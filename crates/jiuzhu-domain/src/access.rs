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
    /// 部门经办人 (medical insurance, education, housing, human resources)
    DepartmentOfficer,
    /// 审计员
    Auditor,
    /// 系统管理员
    Admin,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::WindowClerk,
        Role::VillageAssistant,
        Role::TownshipReviewer,
        Role::CountyApprover,
        Role::DepartmentOfficer,
        Role::Auditor,
        Role::Admin,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::WindowClerk => "window_clerk",
            Role::VillageAssistant => "village_assistant",
            Role::TownshipReviewer => "township_reviewer",
            Role::CountyApprover => "county_approver",
            Role::DepartmentOfficer => "department_officer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::WindowClerk => "窗口受理员",
            Role::VillageAssistant => "村/社区协理员",
            Role::TownshipReviewer => "乡镇审核员",
            Role::CountyApprover => "县级审批员",
            Role::DepartmentOfficer => "部门经办人",
            Role::Auditor => "审计员",
            Role::Admin => "系统管理员",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s || r.label_zh() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    MedicalInsurance,
    Education,
    Housing,
    HumanResources,
}

impl Department {
    pub const ALL: &'static [Department] = &[
        Department::MedicalInsurance,
        Department::Education,
        Department::Housing,
        Department::HumanResources,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Department::MedicalInsurance => "medical_insurance",
            Department::Education => "education",
            Department::Housing => "housing",
            Department::HumanResources => "human_resources",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Department::MedicalInsurance => "医疗保障",
            Department::Education => "教育",
            Department::Housing => "住房城乡建设",
            Department::HumanResources => "人力资源社会保障",
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
    /// Create users, set roles, unlock, reset passwords.
    ManageUsers,
    /// Read the audit log and verify its chain.
    ReadAudit,
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
        Action::ReadAudit,
        Action::ManagePolicies,
        Action::RegisterApplication,
        Action::ActOnCase,
        Action::ReadCases,
        Action::ManageReserveFund,
        Action::ImportFeeds,
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
            Action::ManageUsers => "管理用户",
            Action::ReadAudit => "查看审计日志",
            Action::ManagePolicies => "调整政策参数",
            Action::RegisterApplication => "受理救助申请",
            Action::ActOnCase => "办理案件环节",
            Action::ReadCases => "查看案件",
            Action::ImportFeeds => "报送核对数据",
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
    match action {
        // Department officers work on the cases referred to them (the persons in those cases
        // come with the case), not in the register (docs/roles.md).
        ReadRegistry => !matches!(role, DepartmentOfficer),
        WriteRegistry => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover | Admin
        ),
        // The people who decide on a case need to see whom they decide on; an auditor needs to
        // check it. Village assistants, department officers and the admin work with masked data.
        RevealSensitive => matches!(
            role,
            WindowClerk | TownshipReviewer | CountyApprover | Auditor
        ),
        ImportCaseload => matches!(role, CountyApprover | Admin),
        ManageDivisions => matches!(role, Admin),
        ManageUsers => matches!(role, Admin),
        ReadAudit => matches!(role, Auditor | Admin),
        ManagePolicies => matches!(role, Admin),
        // The window clerk takes applications (seed 004/2: 乡镇窗口统一受理).
        RegisterApplication => matches!(role, WindowClerk),
        // Everyone who handles a step of some workflow; department officers for referrals.
        ActOnCase => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover | DepartmentOfficer
        ),
        // The administrator runs the system, not cases. Which cases a role reads is narrower
        // still for department officers and for protected cases ([`Actor::case_reach`]).
        ReadCases => !matches!(role, Admin),
        // Seed 004/5: the township (街道) office keeps the fund and pays urgent assistance from
        // it; the county bureau tops it up. Clerks and assistants ask, they do not pay.
        ManageReserveFund => matches!(role, TownshipReviewer | CountyApprover),
        // Departments deliver their own kinds (the handler checks which); the county and the
        // administrator load files handed over on media.
        ImportFeeds => matches!(role, DepartmentOfficer | CountyApprover | Admin),
        // Whoever handles warnings reads the comparison they come from; the county follows its
        // townships; an auditor reads everything in scope, handling nothing.
        ReadVerification => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover | Auditor
        ),
        // Seed 003 / POLICY §7: the township checks warnings, with the window and the village
        // assistant doing the visits; the county follows its townships' warnings.
        HandleWarnings => matches!(
            role,
            WindowClerk | VillageAssistant | TownshipReviewer | CountyApprover
        ),
        RunVerification => matches!(role, CountyApprover | Admin),
        // Holidays are national data the administrator keeps, like policy parameters.
        ManageCalendar => matches!(role, Admin),
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {role:?} may not {action:?}")]
pub struct AccessDenied {
    pub role: Role,
    pub action: Action,
}

impl AccessDenied {
    pub fn message_zh(&self) -> String {
        format!("{}无权{}", self.role.label_zh(), self.action.label_zh())
    }
}

impl Actor {
    /// The system acting on its own behalf (command line, first start, demo data), with the whole
    /// tree in scope. `who` names the origin in the audit log, e.g. "cli".
    pub fn system(who: &str) -> Actor {
        Actor {
            user_id: None,
            username: format!("system:{who}"),
            role: Role::Admin,
            department: None,
            scope: Scope::new(DivisionCode::nation()),
            origin: who.to_string(),
        }
    }

    pub fn is_system(&self) -> bool {
        self.user_id.is_none()
    }

    pub fn may(&self, action: Action) -> bool {
        self.is_system() || allows(self.role, action)
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
    ReadAudit,
    ManagePolicies,
    RegisterApplication,
    ActOnCase,
    ReadCases,
    ManageReserveFund,
    ImportFeeds,
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
        assert!(actor(Role::Admin, "371002")
            .grant::<RevealSensitive>()
            .is_err());
        assert!(actor(Role::VillageAssistant, "371002001201")
            .grant::<ManageUsers>()
            .is_err());
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
