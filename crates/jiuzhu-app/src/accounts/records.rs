//! Accounts read and changed one at a time. Each change is the store's with its audit event; the
//! separation of duties (no one approves their own account, the last administrators stay) is
//! checked there, in the same transaction.

use jiuzhu_domain::access::{AssignRoles, ManageUsers, ReadUsers};
use jiuzhu_domain::{Grant, User, UserId};
use jiuzhu_store::{AccessPatch, UserPatch};

use crate::{App, Result};

impl App {
    /// Accounts bound to a node in the grant's scope.
    pub async fn list_users(&self, g: &Grant<ReadUsers>) -> Result<Vec<User>> {
        Ok(self.store.list_users(g).await?)
    }

    pub async fn get_user(&self, g: &Grant<ReadUsers>, id: UserId) -> Result<Option<User>> {
        Ok(self.store.get_user(g, id).await?)
    }

    /// The system administrator's change: name, deactivation, reactivation (the account then
    /// waits for approval again), unlocking. `Refused` for deactivating one's own account or
    /// the last active security or audit administrator.
    pub async fn update_user(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        expected_version: i64,
        patch: &UserPatch,
    ) -> Result<User> {
        Ok(self
            .store
            .update_user(g, id, expected_version, patch)
            .await?)
    }

    /// The security administrator's change of role, jurisdiction or department, audited as
    /// `user_access_changed`. `Refused` on one's own account, and for any role change into, out
    /// of or between the administrator roles (no account ever holds two of them).
    pub async fn assign_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected_version: i64,
        patch: &AccessPatch,
    ) -> Result<User> {
        Ok(self
            .store
            .assign_user(g, id, expected_version, patch)
            .await?)
    }

    /// A security administrator approves an account waiting for approval, as it stands at
    /// `expected_version` (role, jurisdiction). `Refused` for one's own account, an account
    /// the approver created or reset, one not waiting, or a deactivated one. Audited as
    /// `user_approved`.
    pub async fn approve_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected_version: i64,
    ) -> Result<User> {
        Ok(self.store.approve_user(g, id, expected_version).await?)
    }
}
