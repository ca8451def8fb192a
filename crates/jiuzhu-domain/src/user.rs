//! Staff accounts and sessions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Actor, Department, Role, Scope};
use crate::division::DivisionCode;

pub type UserId = i64;

/// Where an account stands in 三员分立 (docs/roles.md, "Accounts"). An account the system
/// administrator created, reset or reactivated waits for a security administrator's approval:
/// it may log in and change its one-time password, and holds no permission until then.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Wrong passwords since the last successful login (shown to administrators; logins are
    /// throttled per account and client address in the web layer, never locked account-wide).
    pub failed_logins: i64,
    /// When the password was last set; a one-time password expires a fixed time after it.
    pub password_changed_at: DateTime<Utc>,
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

    /// Whether the password is a one-time password older than `lifetime`.
    pub fn one_time_password_expired(
        &self,
        now: DateTime<Utc>,
        lifetime: chrono::Duration,
    ) -> bool {
        self.must_change_password && now - self.password_changed_at > lifetime
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
