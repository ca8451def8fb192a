//! Sessions and the login record: the session token's hash is all the store keeps.

use chrono::{DateTime, Utc};
use jiuzhu_domain::{Actor, Session, User, UserId};
use jiuzhu_store::LoginOutcome;

use crate::{App, Result};

impl App {
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.store.user_by_id(id).await?)
    }

    /// Authentication comes before there is an actor, so these take none.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        Ok(self.store.user_by_username(username).await?)
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        Ok(self.store.session(token_hash).await?)
    }

    pub async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        Ok(self.store.touch_session(token_hash, at).await?)
    }

    pub async fn create_session(&self, s: &Session) -> Result<()> {
        Ok(self.store.create_session(s).await?)
    }

    pub async fn delete_session(&self, token_hash: &str, actor: &Actor) -> Result<()> {
        Ok(self.store.delete_session(token_hash, actor).await?)
    }

    /// Removes sessions idle since before `idle_before` or created before `created_before` (the
    /// absolute lifetime); returns how many.
    pub async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(self
            .store
            .delete_expired_sessions(idle_before, created_before)
            .await?)
    }

    /// Updates the failed-login counter or resets it, and audits the attempt.
    pub async fn record_login(
        &self,
        user: UserId,
        outcome: &LoginOutcome,
        origin: &str,
    ) -> Result<()> {
        Ok(self.store.record_login(user, outcome, origin).await?)
    }

    /// Audits failed logins with usernames that do not exist: one event standing for `attempts`
    /// such failures from `origin` (the caller aggregates them, so guessing cannot flood the
    /// log); `username` is the latest name tried.
    pub async fn record_unknown_login(
        &self,
        username: &str,
        origin: &str,
        attempts: u64,
    ) -> Result<()> {
        Ok(self
            .store
            .record_unknown_login(username, origin, attempts)
            .await?)
    }
}
