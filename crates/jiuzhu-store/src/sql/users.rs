//! Staff accounts, login records, sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::AnyConnection;

use jiuzhu_domain::access::{ManageUsers, ReadUsers};
use jiuzhu_domain::{
    Actor, Approval, AuditAction, DivisionCode, FieldError, Grant, Level, NewUser, Role, Scope,
    Session, User, UserId, ValidationErrors,
};

use super::accounts::{self, keep_last_admin, not_self};
use super::divisions::existing_codes;
use super::rows::{self, ts_text, USER_SELECT};
use super::{Event, SqlStore, Who, WriteTx};
use crate::prelude::*;
use crate::{LoginOutcome, Result, StoreError, UserPatch};

const MAX_USERNAME_CHARS: usize = 64;

async fn load_user(
    conn: &mut AnyConnection,
    scope: Option<&Scope>,
    id: UserId,
) -> Result<Option<User>> {
    let row = match scope {
        Some(s) => {
            let sql = format!("SELECT {USER_SELECT} FROM users WHERE id = $1 AND division LIKE $2");
            sqlx::query(&sql)
                .bind(id)
                .bind(s.like_pattern())
                .fetch_optional(conn)
                .await?
        }
        None => {
            let sql = format!("SELECT {USER_SELECT} FROM users WHERE id = $1");
            sqlx::query(&sql).bind(id).fetch_optional(conn).await?
        }
    };
    row.map(|r| rows::user(&r)).transpose()
}

fn not_found(id: UserId) -> StoreError {
    StoreError::NotFound {
        kind: "user",
        id: id.to_string(),
    }
}

/// A user's node must be in the admin's scope and exist in the tree (the nation node needs no
/// tree: it is where the first administrator is bound before any tree is imported).
pub(super) async fn check_user_division(
    tx: &mut WriteTx<'_, '_>,
    scope: &Scope,
    code: &DivisionCode,
) -> Result<()> {
    if !scope.contains(code) {
        return Err(StoreError::OutOfScope(code.to_string()));
    }
    if code.level() != Level::Nation
        && existing_codes(tx.conn(), &[code.to_string()])
            .await?
            .is_empty()
    {
        return Err(super::invalid(
            "division",
            "DIVISION_UNKNOWN",
            format!("区划“{code}”不在区划树中"),
        ));
    }
    Ok(())
}

pub(super) fn check_department(
    role: Role,
    department: Option<jiuzhu_domain::Department>,
) -> Result<()> {
    if role.is_department() && department.is_none() {
        return Err(super::invalid(
            "department",
            "DEPARTMENT_REQUIRED",
            "部门账户(经办人或系统接口)须指定所属部门",
        ));
    }
    Ok(())
}

/// Deletes the sessions of a user, except the one whose token hash is `keep`.
async fn end_sessions(tx: &mut WriteTx<'_, '_>, user: UserId, keep: Option<&str>) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user)
        .bind(keep.unwrap_or(""))
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl UserStore for SqlStore {
    async fn count_users(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        super::count_of(&row)
    }

    async fn create_user(&self, g: &Grant<ManageUsers>, new: &NewUser) -> Result<User> {
        let username = new.username.trim();
        let display_name = new.display_name.trim();
        let mut errors = ValidationErrors::default();
        if username.is_empty() {
            errors.push(FieldError::new("username", "REQUIRED", "用户名不能为空"));
        } else if username.chars().count() > MAX_USERNAME_CHARS
            || username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            errors.push(FieldError::new(
                "username",
                "USERNAME_INVALID",
                format!("用户名不能含空白字符,且不超过{MAX_USERNAME_CHARS}个字符"),
            ));
        }
        if display_name.is_empty() {
            errors.push(FieldError::new("display_name", "REQUIRED", "姓名不能为空"));
        }
        errors.into_result()?;
        check_department(new.role, new.department)?;
        let mut tx = self.write().await?;
        check_user_division(&mut tx, g.scope(), &new.division).await?;
        let taken = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(tx.conn())
            .await?;
        if taken.is_some() {
            return Err(StoreError::Duplicate {
                field: "username",
                value: username.to_string(),
            });
        }
        let id = tx.next_id("users").await?;
        let now = tx.now_text.clone();
        let mut user = User {
            id,
            username: username.to_string(),
            display_name: display_name.to_string(),
            role: new.role,
            department: new.department,
            division: new.division.clone(),
            password_hash: new.password_hash.clone(),
            must_change_password: new.must_change_password,
            failed_logins: 0,
            password_changed_at: tx.now,
            active: true,
            approval: Approval::PendingApproval,
            requested_by: None,
            approved_by: None,
            approved_at: None,
            row_version: 1,
            created_at: tx.now,
        };
        accounts::requested(&mut user, g.actor(), tx.now);
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, department, division, \
             password_hash, must_change_password, failed_logins, password_changed_at, active, \
             approval, requested_by, approved_by, approved_at, row_version, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $12, 1, $9, $10, NULL, $11, 1, $12, $12)",
        )
        .bind(id)
        .bind(username)
        .bind(display_name)
        .bind(new.role.as_str())
        .bind(new.department.map(|d| d.as_str()))
        .bind(new.division.as_str())
        .bind(new.password_hash.as_str())
        .bind(i64::from(new.must_change_password))
        .bind(user.approval.as_str())
        .bind(user.requested_by)
        .bind(user.approved_at.map(ts_text))
        .bind(now.as_str())
        .execute(tx.conn())
        .await?;
        let ev = Event::new(AuditAction::UserCreated, "user")
            .record(id)
            .division(&user.division)
            .after(rows::user_audit(&user));
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn list_users(&self, g: &Grant<ReadUsers>) -> Result<Vec<User>> {
        let sql =
            format!("SELECT {USER_SELECT} FROM users WHERE division LIKE $1 ORDER BY username");
        sqlx::query(&sql)
            .bind(g.scope().like_pattern())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::user)
            .collect()
    }

    async fn get_user(&self, g: &Grant<ReadUsers>, id: UserId) -> Result<Option<User>> {
        let mut conn = self.pool.acquire().await?;
        load_user(&mut conn, Some(g.scope()), id).await
    }

    async fn update_user(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        expected_version: i64,
        patch: &UserPatch,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let current = load_user(tx.conn(), Some(g.scope()), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        if current.row_version != expected_version {
            return Err(StoreError::Conflict {
                kind: "user",
                id: id.to_string(),
                expected: expected_version,
                actual: current.row_version,
            });
        }
        let mut next = current.clone();
        if let Some(n) = &patch.display_name {
            let n = n.trim();
            if n.is_empty() {
                return Err(super::invalid("display_name", "REQUIRED", "姓名不能为空"));
            }
            next.display_name = n.to_string();
        }
        match patch.active {
            Some(false) if current.active => {
                not_self(g.actor(), &current, "停用")?;
                let roles = [Role::SecurityAdmin, Role::AuditAdmin];
                keep_last_admin(tx.conn(), &current, &roles, "停用").await?;
                next.active = false;
            }
            // A revived account is as new: it waits for approval again.
            Some(true) if !current.active => {
                next.active = true;
                accounts::requested(&mut next, g.actor(), tx.now);
            }
            _ => {}
        }
        if patch.unlock {
            next.failed_logins = 0;
        }
        // The row version guards the profile an admin edits; unlocking alone does not move it,
        // so that an edit form stays valid while its user fails a login.
        let profile_changed = next.display_name != current.display_name
            || next.active != current.active
            || next.approval != current.approval;
        if profile_changed {
            next.row_version += 1;
        }
        if next == current {
            tx.commit().await?;
            return Ok(current);
        }
        accounts::save(&mut tx, &next).await?;
        let mut ev = Event::new(AuditAction::UserUpdated, "user")
            .record(id)
            .division(&next.division)
            .before(rows::user_audit(&current))
            .after(rows::user_audit(&next));
        if patch.unlock && current.failed_logins > 0 {
            ev = ev.detail("unlocked");
        }
        if current.active && !next.active {
            end_sessions(&mut tx, id, None).await?;
        }
        tx.audit(g.actor().into(), ev).await?;
        tx.commit().await?;
        Ok(next)
    }

    async fn reset_password(
        &self,
        g: &Grant<ManageUsers>,
        id: UserId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let user = load_user(tx.conn(), Some(g.scope()), id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let actor = g.actor();
        not_self(actor, &user, "重置")?;
        if !actor.is_system() {
            keep_last_admin(tx.conn(), &user, &[Role::SecurityAdmin], "在网页上重置").await?;
        }
        // Whoever resets learns the one-time password: reset by a user, the account waits for
        // a security administrator again, and the version moves so that an approval based on
        // what was shown before the reset fails instead of enabling the new password.
        let mut next = user.clone();
        accounts::requested(&mut next, actor, tx.now);
        if !actor.is_system() {
            next.row_version += 1;
        }
        // A new password must be usable: the reset also clears the failed logins, whoever does
        // it (page, API or command line), in this one transaction.
        next.failed_logins = 0;
        accounts::save(&mut tx, &next).await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, \
             password_changed_at = $3 WHERE id = $4",
        )
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(tx.now_text.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
        // Whoever held the old password (or a session opened with it) is out.
        let ended = end_sessions(&mut tx, id, None).await?;
        let ev = Event::new(AuditAction::PasswordChanged, "user")
            .record(id)
            .division(&user.division)
            .detail(
                json!({
                    "reset_by_admin": true,
                    "must_change": must_change,
                    "approval": next.approval.as_str(),
                    "sessions_ended": ended,
                    "unlocked": user.failed_logins > 0,
                })
                .to_string(),
            );
        tx.audit(actor.into(), ev).await?;
        tx.commit().await
    }

    async fn display_names(
        &self,
        usernames: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in usernames.chunks(500) {
            let sql = format!(
                "SELECT username, display_name FROM users WHERE username IN ({})",
                super::persons::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q.bind(u.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.insert(rows::get(&r, "username")?, rows::get(&r, "display_name")?);
            }
        }
        Ok(out)
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_SELECT} FROM users WHERE username = $1");
        let row = sqlx::query(&sql)
            .bind(username.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| rows::user(&r)).transpose()
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        let mut conn = self.pool.acquire().await?;
        load_user(&mut conn, None, id).await
    }

    async fn record_login(&self, user: UserId, outcome: &LoginOutcome, origin: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let u = load_user(tx.conn(), None, user)
            .await?
            .ok_or_else(|| not_found(user))?;
        let who = Who {
            user_id: Some(u.id),
            name: &u.username,
            origin,
            jurisdiction: Some(&u.division),
        };
        match outcome {
            LoginOutcome::Succeeded => {
                sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1")
                    .bind(user)
                    .execute(tx.conn())
                    .await?;
                let ev = Event::new(AuditAction::LoginSucceeded, "user")
                    .record(user)
                    .division(&u.division);
                tx.audit(who, ev).await?;
            }
            LoginOutcome::Failed => {
                sqlx::query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1")
                    .bind(user)
                    .execute(tx.conn())
                    .await?;
                let ev = Event::new(AuditAction::LoginFailed, "user")
                    .record(user)
                    .division(&u.division)
                    .detail(json!({ "failed_logins": u.failed_logins + 1 }).to_string());
                tx.audit(who, ev).await?;
            }
        }
        tx.commit().await
    }

    async fn record_unknown_login(
        &self,
        username: &str,
        origin: &str,
        attempts: u64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        // The attempted name goes into the detail, not the actor: it may be a password typed
        // into the wrong field, and auditors need it to see guessing, nobody else does.
        let attempted: String = username.trim().chars().take(MAX_USERNAME_CHARS).collect();
        let ev = Event::new(AuditAction::LoginFailed, "user")
            .detail(json!({ "unknown_username": attempted, "attempts": attempts }).to_string());
        tx.audit(
            // No account, no jurisdiction: national auditors see guessing at user names.
            Who {
                user_id: None,
                name: "(unknown)",
                origin,
                jurisdiction: None,
            },
            ev,
        )
        .await?;
        tx.commit().await
    }

    async fn change_own_password(
        &self,
        actor: &Actor,
        password_hash: &str,
        keep_session: &str,
    ) -> Result<u64> {
        let id = actor.user_id.ok_or_else(|| StoreError::NotFound {
            kind: "user",
            id: actor.username.clone(),
        })?;
        let mut tx = self.write().await?;
        let user = load_user(tx.conn(), None, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2, \
             password_changed_at = $2 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(tx.now_text.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
        // A password change is how a user throws out whoever may know the old one: every other
        // session of the account ends with it.
        let ended = end_sessions(&mut tx, id, Some(keep_session)).await?;
        let ev = Event::new(AuditAction::PasswordChanged, "user")
            .record(id)
            .division(&user.division)
            .detail(json!({ "sessions_ended": ended }).to_string());
        tx.audit(actor.into(), ev).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen, origin) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.token_hash.as_str())
        .bind(s.user_id)
        .bind(s.csrf_token.as_str())
        .bind(ts_text(s.created_at))
        .bind(ts_text(s.last_seen))
        .bind(s.origin.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, csrf_token, created_at, last_seen, origin \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| rows::session(&r)).transpose()
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(ts_text(at))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.write().await?;
        let gone = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if gone > 0 {
            let mut ev = Event::new(AuditAction::Logout, "session");
            if let Some(id) = actor.user_id {
                ev = ev.record(id);
            }
            let division = match actor.user_id {
                Some(id) => load_user(tx.conn(), None, id).await?.map(|u| u.division),
                None => None,
            };
            if let Some(d) = &division {
                ev = ev.division(d);
            }
            tx.audit(actor.into(), ev).await?;
        }
        tx.commit().await
    }

    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
                .bind(ts_text(idle_before))
                .bind(ts_text(created_before))
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
