//! Accounts: creating staff accounts with a one-time secret, resetting it, changing one's own
//! password, and the three administrators of a first start — the same for the account pages,
//! their API and `jiuzhu user`.
//!
//! Password hashes are computed on the application's bounded [`HashPool`], never on the caller's
//! thread, so that a flood of requests costs neither memory nor threads.

use jiuzhu_domain::access::{ManageUsers, ReadUsers};
use jiuzhu_domain::{
    Actor, Department, DivisionCode, FieldError, Grant, NewUser, Role, User, UserId,
};

use crate::{App, Error, Result};

pub mod hash_pool;
pub mod password;
pub mod password_policy;
mod records;
mod sessions;

pub use hash_pool::HashPool;

/// A staff account to create. Its secret is generated: a one-time password for a person, a
/// client secret for a department's system.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<Department>,
    pub division: DivisionCode,
}

/// Why a user name cannot be used (letters, digits, `_`, `.` and `-`, at most 40).
pub fn username_error(username: &str) -> Option<FieldError> {
    let allowed = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' || ch == '-';
    (!username.chars().all(allowed) || username.len() > 40).then(|| {
        FieldError::new(
            "username",
            "USERNAME",
            "用户名只能包含字母、数字、下划线、点和连字符,最长40位",
        )
    })
}

/// A department's account must name its department.
pub fn department_error(role: Role, department: Option<Department>) -> Option<FieldError> {
    (role.is_department() && department.is_none())
        .then(|| FieldError::new("department", "REQUIRED", "部门账户须选择所属部门"))
}

impl NewAccount {
    fn errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.username.trim().is_empty() {
            errors.push(FieldError::new("username", "REQUIRED", "请填写用户名"));
        }
        if self.display_name.trim().is_empty() {
            errors.push(FieldError::new("display_name", "REQUIRED", "请填写姓名"));
        }
        errors.extend(username_error(&self.username));
        errors.extend(department_error(self.role, self.department));
        errors
    }
}

/// A first administrator created at the first start: its one-time password is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAdmin {
    pub username: String,
    pub role: Role,
    pub one_time_password: String,
}

/// A change of one's own password, as typed.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    /// The new password typed again (the API may omit it).
    pub confirm: Option<&'a str>,
}

impl App {
    /// Hashes `password` on the hashing pool.
    pub async fn hash_password(&self, password: String) -> Result<String> {
        self.hashing()
            .run(move || password::hash(&password))
            .await?
    }

    /// Whether `password` matches the stored hash, checked on the hashing pool.
    pub async fn password_matches(&self, password: String, phc: String) -> Result<bool> {
        self.hashing()
            .run(move || password::verify(&password, &phc))
            .await
    }

    /// Creates a staff account with a generated secret that a person must change at the first
    /// login. Returns the account and the secret, to hand over once.
    pub async fn create_account(
        &self,
        grant: &Grant<ManageUsers>,
        account: NewAccount,
    ) -> Result<(User, String)> {
        let errors = account.errors();
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let secret = password::secret_for(account.role);
        let password_hash = self.hash_password(secret.clone()).await?;
        let user = self
            .store
            .create_user(
                grant,
                &NewUser {
                    username: account.username,
                    display_name: account.display_name,
                    must_change_password: account.role != Role::DepartmentSystem,
                    role: account.role,
                    department: account.department,
                    division: account.division,
                    password_hash,
                },
            )
            .await?;
        Ok((user, secret))
    }

    /// Sets a new generated secret; a person's account must change it at the next login, and
    /// the account's failed logins are cleared so that it can be used. Returns the account as
    /// it now is, and the secret.
    pub async fn reset_password(
        &self,
        grant: &Grant<ManageUsers>,
        read: &Grant<ReadUsers>,
        id: UserId,
    ) -> Result<(User, String)> {
        let role = self
            .store
            .get_user(read, id)
            .await?
            .ok_or(Error::NotFound)?
            .role;
        let secret = password::secret_for(role);
        let hash = self.hash_password(secret.clone()).await?;
        let person = role != Role::DepartmentSystem;
        self.store.reset_password(grant, id, &hash, person).await?;
        let user = self
            .store
            .get_user(read, id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok((user, secret))
    }

    /// Changes the actor's own password after checking the current one; every other session of
    /// the account ends. All the reasons a change is refused are given at once.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        user: &User,
        keep_session: &str,
        change: PasswordChange<'_>,
    ) -> Result<()> {
        let mut fields = Vec::new();
        let current_matches = self
            .password_matches(change.current.to_string(), user.password_hash.clone())
            .await?;
        if !current_matches {
            fields.push(FieldError::new(
                "current_password",
                "WRONG_PASSWORD",
                "当前密码不正确",
            ));
        }
        if let Err(m) = password_policy::check(change.new, &user.username) {
            fields.push(FieldError::new("new_password", "WEAK_PASSWORD", m));
        } else if change.new == change.current {
            fields.push(FieldError::new(
                "new_password",
                "SAME_PASSWORD",
                "新密码不能与当前密码相同",
            ));
        }
        if change.confirm.is_some_and(|c| c != change.new) {
            fields.push(FieldError::new(
                "confirm_password",
                "MISMATCH",
                "两次输入的新密码不一致",
            ));
        }
        if !fields.is_empty() {
            return Err(Error::Invalid(fields));
        }
        let hash = self.hash_password(change.new.to_string()).await?;
        self.store
            .change_own_password(actor, &hash, keep_session)
            .await?;
        Ok(())
    }

    /// When there are no users at all, creates the three administrators of 三员分立 — `admin`
    /// (系统管理员), `secadmin` (安全管理员) and `auditadmin` (审计管理员) — bound to the nation,
    /// each with a one-time password that must be changed at first login. The system creates
    /// them, so they are approved: there is nobody yet to approve them.
    pub async fn ensure_first_admins(&self) -> Result<Vec<FirstAdmin>> {
        if self.store.count_users().await? > 0 {
            return Ok(vec![]);
        }
        let grant = Actor::system("first-start").grant::<ManageUsers>()?;
        let mut created = Vec::new();
        for (username, role) in [
            ("admin", Role::SystemAdmin),
            ("secadmin", Role::SecurityAdmin),
            ("auditadmin", Role::AuditAdmin),
        ] {
            let (user, one_time_password) = self
                .create_account(
                    &grant,
                    NewAccount {
                        username: username.to_string(),
                        display_name: role.label_zh().to_string(),
                        role,
                        department: None,
                        division: DivisionCode::nation(),
                    },
                )
                .await?;
            created.push(FirstAdmin {
                username: user.username,
                role,
                one_time_password,
            });
        }
        Ok(created)
    }
}
