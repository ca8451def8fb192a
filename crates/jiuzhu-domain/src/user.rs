//! Staff accounts and sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Actor, Department, Role, Scope};
use crate::division::DivisionCode;

pub type UserId = i64;

/// Where an account stands in 三员分立 (docs/roles.md, "Accounts"). An account the system
/// administrator created, reset or reactivated waits for a security administrator's approval:
/// it may log in and change its one-time password, and holds no permission until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    PendingApproval,
    Approved,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::PendingApproval => "pending_approval",
            Approval::Approved => "approved",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Approval::PendingApproval => "待审核",
            Approval::Approved => "已审核",
        }
    }
    pub fn parse(s: &str) -> Option<Approval> {
        [Approval::PendingApproval, Approval::Approved]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<Department>,
    /// The jurisdiction node the user is bound to; the user sees this node and below.
    pub division: DivisionCode,
    /// argon2 PHC string; never serialised to clients.
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Set for a one-time password: the user must choose a new one before doing anything else.
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub active: bool,
    pub approval: Approval,
    /// Who last created, reset or reactivated the account (`None`: the system, at the server's
    /// console). That account may not approve it.
    pub requested_by: Option<UserId>,
    /// The security administrator who approved it, and when.
    pub approved_by: Option<UserId>,
    pub approved_at: Option<DateTime<Utc>>,
    pub row_version: i64,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn actor(&self, origin: &str) -> Actor {
        Actor {
            user_id: Some(self.id),
            username: self.username.clone(),
            role: self.role,
            department: self.department,
            scope: Scope::new(self.division.clone()),
            origin: origin.to_string(),
            pending_approval: self.approval == Approval::PendingApproval,
        }
    }

    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<Department>,
    pub division: DivisionCode,
    pub password_hash: String,
    pub must_change_password: bool,
}

/// A login session. The cookie carries a random token; the store keeps only its SHA-256, so a
/// copy of the database does not hand out live sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    /// Sent back in forms and the `X-CSRF-Token` header; compared in constant time.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub origin: String,
}

/// Consecutive wrong passwords after which an account is locked.
pub const MAX_FAILED_LOGINS: i64 = 5;

/// How long a lock after [`MAX_FAILED_LOGINS`] failures lasts.
pub const LOCKOUT_MINUTES: i64 = 15;

/// When a failed login locks the account: `failed_before` is the count before this failure.
/// Returns the end of the lock, or `None` while the count stays below the limit.
pub fn lock_after_failure(failed_before: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (failed_before + 1 >= MAX_FAILED_LOGINS)
        .then(|| now + chrono::Duration::minutes(LOCKOUT_MINUTES))
}
