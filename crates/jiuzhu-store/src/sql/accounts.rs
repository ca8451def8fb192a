//! The account lifecycle of 三员分立 (docs/roles.md, "Accounts"): who puts an account into
//! `pending_approval`, the security administrator's approval and assignments, and the rules that
//! keep one administrator from enabling an account on its own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use jiuzhu_domain::access::AssignRoles;
use jiuzhu_domain::{Actor, Approval, AuditAction, Grant, Role, User, UserId};

use super::rows::{self, ts_text, USER_SELECT};
use super::{count_of, Event, SqlStore, WriteTx};
use crate::prelude::*;
use crate::{AccessPatch, Result, StoreError};

pub(super) fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

/// An account's approval fields after `actor` created, reset or reactivated it. A user (the
/// system administrator, who knows the one-time password or chose to revive the account) leaves
/// it waiting for a security administrator; the system at the console (first start, recovery of
/// an administrator, demo seeding) approves it, since there may be no one else to.
pub(super) fn requested(user: &mut User, actor: &Actor, now: DateTime<Utc>) {
    if actor.is_system() {
        user.approval = Approval::Approved;
        user.requested_by = None;
        user.approved_by = None;
        user.approved_at = Some(now);
    } else {
        user.approval = Approval::PendingApproval;
        user.requested_by = actor.user_id;
        user.approved_by = None;
        user.approved_at = None;
    }
}

/// Refuses to act on one's own account: nobody approves, re-roles, deactivates or resets
/// themselves.
pub(super) fn not_self(actor: &Actor, user: &User, what: &str) -> Result<()> {
    if actor.user_id == Some(user.id) {
        return Err(refused("OWN_ACCOUNT", format!("不能{what}自己的账户")));
    }
    Ok(())
}

/// Whether another active, approved account of `role` exists besides `except`.
async fn another_active(conn: &mut AnyConnection, role: Role, except: UserId) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM users WHERE role = $1 AND active = 1 AND approval = 'approved' \
         AND id <> $2",
    )
    .bind(role.as_str())
    .bind(except)
    .fetch_one(conn)
    .await?;
    Ok(count_of(&row)? > 0)
}

/// A security administrator must remain to approve accounts, and an audit administrator to read
/// the log: the last active, approved one of either is not deactivated (nor, for the security
/// administrator, reset over the web, which would leave nobody to approve it).
pub(super) async fn keep_last_admin(
    conn: &mut AnyConnection,
    user: &User,
    roles: &[Role],
    what: &str,
) -> Result<()> {
    let counts = user.active && user.approval == Approval::Approved && roles.contains(&user.role);
    if counts && !another_active(conn, user.role, user.id).await? {
        return Err(refused(
            "LAST_ADMINISTRATOR",
            format!(
                "“{}”是唯一在用的{},不能{what};请先创建并审核另一位{},\
                 或在服务器上用 jiuzhu user reset-password 处理",
                user.username,
                user.role.label_zh(),
                user.role.label_zh()
            ),
        ));
    }
    Ok(())
}

/// Writes every mutable column of an account except its password.
pub(super) async fn save(tx: &mut WriteTx<'_, '_>, u: &User) -> Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $1, role = $2, department = $3, division = $4, \
         active = $5, failed_logins = $6, row_version = $7, updated_at = $8, \
         approval = $9, requested_by = $10, approved_by = $11, approved_at = $12 WHERE id = $13",
    )
    .bind(u.display_name.as_str())
    .bind(u.role.as_str())
    .bind(u.department.map(|d| d.as_str()))
    .bind(u.division.as_str())
    .bind(i64::from(u.active))
    .bind(u.failed_logins)
    .bind(u.row_version)
    .bind(tx.now_text.clone())
    .bind(u.approval.as_str())
    .bind(u.requested_by)
    .bind(u.approved_by)
    .bind(u.approved_at.map(ts_text))
    .bind(u.id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The account in the grant's scope at `expected` version, for a change.
async fn current(
    tx: &mut WriteTx<'_, '_>,
    g: &Grant<AssignRoles>,
    id: UserId,
    expected: i64,
) -> Result<User> {
    let sql = format!("SELECT {USER_SELECT} FROM users WHERE id = $1 AND division LIKE $2");
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(g.scope().like_pattern())
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "user",
            id: id.to_string(),
        })?;
    let user = rows::user(&row)?;
    if user.row_version != expected {
        return Err(StoreError::Conflict {
            kind: "user",
            id: id.to_string(),
            expected,
            actual: user.row_version,
        });
    }
    Ok(user)
}

/// No account holds two administrator roles, nor moves between administration and business:
/// the system administrator created it for one purpose and the security administrator approved
/// that.
fn check_role_change(from: Role, to: Role) -> Result<()> {
    if from != to && (from.is_admin() || to.is_admin()) {
        return Err(refused(
            "ADMIN_ROLE_FIXED",
            format!(
                "不能把{}改为{}:管理员账户的角色不能更改,业务账户也不能改为管理员角色\
                 (三员分立,每个账户只担任一种角色)",
                from.label_zh(),
                to.label_zh()
            ),
        ));
    }
    // A system's secret is not a person's password, nor the other way round: a system account
    // stays one (a department's new system gets a new account).
    let system = Role::DepartmentSystem;
    if from != to && (from == system || to == system) {
        return Err(refused(
            "SYSTEM_ROLE_FIXED",
            format!(
                "不能把{}改为{}:部门系统接口账户的角色不能更改,人员账户也不能改为系统接口账户",
                from.label_zh(),
                to.label_zh()
            ),
        ));
    }
    Ok(())
}

#[async_trait]
impl AccessStore for SqlStore {
    async fn assign_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected: i64,
        patch: &AccessPatch,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let before = current(&mut tx, g, id, expected).await?;
        not_self(g.actor(), &before, "调整")?;
        let mut next = before.clone();
        if let Some(r) = patch.role {
            check_role_change(before.role, r)?;
            next.role = r;
        }
        if let Some(d) = patch.department {
            next.department = d;
        }
        if let Some(d) = &patch.division {
            super::users::check_user_division(&mut tx, g.scope(), d).await?;
            next.division = d.clone();
        }
        super::users::check_department(next.role, next.department)?;
        if next == before {
            tx.commit().await?;
            return Ok(before);
        }
        next.row_version += 1;
        save(&mut tx, &next).await?;
        let ev = Event::new(AuditAction::UserAccessChanged, "user")
            .record(id)
            .division(&next.division)
            .before(rows::user_audit(&before))
            .after(rows::user_audit(&next));
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(next)
    }

    async fn approve_user(
        &self,
        g: &Grant<AssignRoles>,
        id: UserId,
        expected: i64,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let before = current(&mut tx, g, id, expected).await?;
        let actor = g.actor();
        not_self(actor, &before, "审核")?;
        if before.approval != Approval::PendingApproval {
            return Err(refused("NOT_PENDING", "该账户不在待审核状态"));
        }
        if !before.active {
            return Err(refused("INACTIVE", "该账户已停用,不能审核"));
        }
        // The grant already keeps the system administrator out; this keeps out whoever put the
        // account into its state, should one account ever hold both.
        if before.requested_by.is_some() && before.requested_by == actor.user_id {
            return Err(refused("OWN_REQUEST", "不能审核自己创建、重置或启用的账户"));
        }
        let mut next = before.clone();
        next.approval = Approval::Approved;
        next.approved_by = actor.user_id;
        next.approved_at = Some(tx.now);
        next.row_version += 1;
        save(&mut tx, &next).await?;
        let ev = Event::new(AuditAction::UserApproved, "user")
            .record(id)
            .division(&next.division)
            .before(rows::user_audit(&before))
            .after(rows::user_audit(&next));
        tx.audit(actor.into(), ev).await?;
        tx.commit().await?;
        Ok(next)
    }
}
