//! Accounts, their approval and access (kept apart: 三员分立), and sessions.

use crate::*;

/// Accounts and logins. Authentication comes before there is an actor, so its reads take none.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn count_users(&self) -> Result<i64>;

    /// Creates an account in the grant's scope (its node must be in the tree). An account a
    /// user (the system administrator) creates waits for approval and holds no permission
    /// until a security administrator approves it; the system itself (first start, the
    /// console's `jiuzhu user create` of an administrator, demo seeding) creates approved ones,
    /// since there may be no security administrator yet.
    async fn create_user(&self, g: &Grant<ManageUsers>, new: &NewUser) -> Result<User>;

    /// Accounts bound to a node in the grant's scope.
    async fn list_users(&self, g: &Grant<ReadUsers>) -> Result<Vec<User>>;

    async fn get_user(&self, g: &Grant<ReadUsers>, id: UserId) -> Result<Option<User>>;

    /// The system administrator's change: name, deactivation, reactivation (the account then
    /// waits for approval again), unlocking. `Refused` for deactivating one's own account or
    /// the last active security or audit administrator.
    async fn update_user(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        expected_version: i64,
        patch: &UserPatch,
    ) -> Result<User>;

    /// Sets a one-time password. Reset by a user (the system administrator, who learns the
    /// password), the account waits for approval again; `Refused` for one's own account and
    /// for the last approved security administrator (nobody could approve it: reset that one
    /// at the console). The row version stays, so an open edit form still saves.
    async fn reset_password(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()>;

    /// The names of accounts by username, for pages that say who delivered or ran something
    /// (people see names, not account codes); unknown usernames are left out.
    async fn display_names(
        &self,
        usernames: &[String],
    ) -> Result<std::collections::HashMap<String, String>>;

    /// Authentication comes before there is an actor, so these take none.
    async fn user_by_username(&self, username: &str) -> Result<Option<User>>;

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;

    /// Updates the failed-login counter or resets it, and audits the attempt.
    async fn record_login(&self, user: UserId, outcome: &LoginOutcome, origin: &str) -> Result<()>;

    /// Audits failed logins with usernames that do not exist: one event standing for `attempts`
    /// such failures from `origin` (the caller aggregates them, so guessing cannot flood the
    /// log); `username` is the latest name tried.
    async fn record_unknown_login(&self, username: &str, origin: &str, attempts: u64)
        -> Result<()>;

    /// Sets the actor's own password and ends every other session of the user (all but the one
    /// whose token hash is `keep_session`). Returns how many sessions were ended.
    async fn change_own_password(
        &self,
        actor: &Actor,
        password_hash: &str,
        keep_session: &str,
    ) -> Result<u64>;
}

/// The security administrator's decisions on accounts (roles, jurisdiction, approval), kept apart
/// from the system administrator's (三员分立).
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// The security administrator's change of role, jurisdiction or department, audited as
    /// `user_access_changed`. `Refused` on one's own account, and for any role change into, out
    /// of or between the administrator roles (no account ever holds two of them).
    async fn assign_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected_version: i64,
        patch: &AccessPatch,
    ) -> Result<User>;

    /// A security administrator approves an account waiting for approval, as it stands at
    /// `expected_version` (role, jurisdiction). `Refused` for one's own account, an account
    /// the approver created or reset, one not waiting, or a deactivated one. Audited as
    /// `user_approved`.
    async fn approve_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected_version: i64,
    ) -> Result<User>;
}

/// Sessions: only the token's hash is kept.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, s: &Session) -> Result<()>;

    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()>;

    async fn delete_session(&self, token_hash: &str, actor: &Actor) -> Result<()>;

    /// Removes sessions idle since before `idle_before` or created before `created_before` (the
    /// absolute lifetime); returns how many.
    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64>;
}
