//! Registered data providers (migration 0020, docs/feeds.md): registering, changing and reading
//! them, and the check every delivery passes: its source is registered for its kind, in service,
//! and (for a department officer) one the account delivers for.

use async_trait::async_trait;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::json;
use sqlx::any::AnyRow;

use jiuzhu_domain::access::{ManageFeedSources, Role};
use jiuzhu_domain::{Actor, AuditAction, DivisionCode, FieldError, Grant, ValidationErrors};

use super::rows::{self, date_text, get};
use super::verification::{delivery_of, DELIVERY_SELECT};
use super::{Event, SqlStore, Who, WriteTx};
use crate::feed_sources::{
    valid_code, FeedSource, FeedSourceChange, NewFeedSource, SourceAccount, SourceLatest,
    MAX_NAME_CHARS,
};
use crate::prelude::*;
use crate::verification::DeliveryReader;
use crate::{Result, StoreError};

const SOURCE_SELECT: &str =
    "id, kind, code, name, division, retired_at, created_by, created_at, row_version";

fn source_of(r: &AnyRow) -> Result<FeedSource> {
    let division: String = get(r, "division")?;
    Ok(FeedSource {
        id: get(r, "id")?,
        kind: get(r, "kind")?,
        code: get(r, "code")?,
        name: get(r, "name")?,
        division: DivisionCode::parse(&division)
            .map_err(|_| StoreError::Database(format!("bad source division {division:?}")))?,
        retired: get::<Option<String>>(r, "retired_at")?.is_some(),
        accounts: Vec::new(),
        created_by: get(r, "created_by")?,
        created_at: rows::parse_ts(&get::<String>(r, "created_at")?)?,
        row_version: get(r, "row_version")?,
    })
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound {
        kind: "feed_source",
        id: id.to_string(),
    }
}

/// Every field's problem at once.
fn check_fields(kind: Option<&str>, code: Option<&str>, name: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if kind.is_some_and(|k| k.trim().is_empty()) {
        errors.push(FieldError::new(
            "kind",
            "SOURCE_KIND_UNKNOWN",
            "请选择数据类别",
        ));
    } else if let Some(kind) = kind {
        if jiuzhu_domain::FeedKind::parse(kind).is_none() {
            errors.push(FieldError::new(
                "kind",
                "SOURCE_KIND_UNKNOWN",
                format!("数据类别“{kind}”不存在"),
            ));
        }
    }
    if let Some(code) = code {
        if !valid_code(code) {
            errors.push(FieldError::new(
                "code",
                "SOURCE_CODE_INVALID",
                "来源代码应为 1 至 32 位文字、字母、数字、“-”或“_”,不含空格",
            ));
        }
    }
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            "name",
            "SOURCE_NAME_INVALID",
            format!("来源名称应为 1 至 {MAX_NAME_CHARS} 个字,不含控制字符"),
        ));
    }
    errors
}

impl SqlStore {
    /// Every source with its accounts (sources are a few hundred at most: read whole, filtered
    /// by the caller's region in Rust).
    async fn all_sources(&self, conn: &mut sqlx::AnyConnection) -> Result<Vec<FeedSource>> {
        let rows = sqlx::query(&format!(
            "SELECT {SOURCE_SELECT} FROM feed_sources ORDER BY kind, code"
        ))
        .fetch_all(&mut *conn)
        .await?;
        let mut sources: Vec<FeedSource> = rows.iter().map(source_of).collect::<Result<_>>()?;
        let accounts = sqlx::query(
            "SELECT a.source_id, u.id, u.username, u.display_name FROM feed_source_accounts a \
             JOIN users u ON u.id = a.user_id ORDER BY a.source_id, u.username",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut by_source: BTreeMap<i64, Vec<SourceAccount>> = BTreeMap::new();
        for r in &accounts {
            by_source
                .entry(get(r, "source_id")?)
                .or_default()
                .push(SourceAccount {
                    user_id: get(r, "id")?,
                    username: get(r, "username")?,
                    display_name: get(r, "display_name")?,
                });
        }
        for s in &mut sources {
            s.accounts = by_source.remove(&s.id).unwrap_or_default();
        }
        Ok(sources)
    }

    async fn source_in(&self, w: &mut WriteTx<'_, '_>, id: i64) -> Result<FeedSource> {
        let all = self.all_sources(&mut w.tx).await?;
        all.into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| not_found(id))
    }

    /// Every source serving `region` that is in service, with its latest accepted delivery
    /// whose data date is on or before `up_to`.
    pub(crate) async fn sources_latest_impl(
        &self,
        region: &DivisionCode,
        up_to: NaiveDate,
    ) -> Result<Vec<SourceLatest>> {
        let mut conn = self.pool.acquire().await?;
        let sources: Vec<FeedSource> = self
            .all_sources(&mut conn)
            .await?
            .into_iter()
            .filter(|s| !s.retired && s.serves(region))
            .collect();
        let sql = format!(
            "SELECT {DELIVERY_SELECT} FROM feed_deliveries WHERE status = 'accepted' \
             AND data_date <= $1 ORDER BY kind, source, data_date DESC, id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(date_text(up_to))
            .fetch_all(&mut *conn)
            .await?;
        let mut latest: BTreeMap<(String, String), crate::FeedDelivery> = BTreeMap::new();
        for r in &rows {
            let d = delivery_of(r)?;
            latest
                .entry((d.kind.clone(), d.source.clone()))
                .or_insert(d);
        }
        Ok(sources
            .into_iter()
            .map(|s| SourceLatest {
                latest: latest.remove(&(s.kind.clone(), s.code.clone())),
                source: s,
            })
            .collect())
    }
}

/// Whether `actor` delivers for `source` (`bound`: the actor's account is one of the source's):
/// a department officer for the sources bound to the account; a county approver or manager for
/// every source serving its jurisdiction (a file handed over on media).
fn delivers_for(actor: &Actor, source: &FeedSource, bound: bool) -> bool {
    if actor.is_system() {
        return true;
    }
    if actor.role.is_department() {
        bound
    } else {
        source.serves(actor.scope.root())
    }
}

/// The accounts named for a source: existing, active, of a role that delivers data, and working
/// in a region the source serves.
async fn check_accounts(
    w: &mut WriteTx<'_, '_>,
    division: &DivisionCode,
    accounts: &[i64],
) -> Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    for &id in accounts {
        let row = sqlx::query("SELECT username, role, division, active FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?;
        let fits = match &row {
            Some(r) => {
                let role: String = get(r, "role")?;
                let at: String = get(r, "division")?;
                let active: i64 = get(r, "active")?;
                active != 0
                    && Role::parse(&role).is_some_and(|r| {
                        jiuzhu_domain::access::allows(r, jiuzhu_domain::access::Action::ImportFeeds)
                    })
                    && DivisionCode::parse(&at)
                        .is_ok_and(|at| at.contains(division) || division.contains(&at))
            }
            None => false,
        };
        if !fits {
            errors.push(FieldError::new(
                "accounts",
                "SOURCE_ACCOUNT_INVALID",
                format!(
                    "账户 {} 不能为该来源报送数据:须为本区划内在用的部门经办人或县级账户",
                    row.as_ref()
                        .and_then(|r| get::<String>(r, "username").ok())
                        .unwrap_or_else(|| id.to_string())
                ),
            ));
        }
    }
    Ok(errors)
}

async fn set_accounts(w: &mut WriteTx<'_, '_>, source: i64, accounts: &[i64]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for &user in accounts.iter().filter(|u| seen.insert(**u)) {
        sqlx::query("INSERT INTO feed_source_accounts (source_id, user_id) VALUES ($1, $2)")
            .bind(source)
            .bind(user)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

/// A delivery names a registered source of its kind, in service, serving the deliverer's
/// jurisdiction, and one the deliverer delivers for. Checked in the delivery's transaction.
pub(super) async fn check_delivery_source(
    w: &mut WriteTx<'_, '_>,
    actor: &Actor,
    kind: &str,
    code: &str,
) -> Result<()> {
    let row = sqlx::query(&format!(
        "SELECT {SOURCE_SELECT} FROM feed_sources WHERE kind = $1 AND code = $2"
    ))
    .bind(kind)
    .bind(code)
    .fetch_optional(&mut *w.tx)
    .await?;
    let refuse = |code: &str, message: String| {
        Err(ValidationErrors(vec![FieldError::new("source", code, message)]).into())
    };
    let Some(row) = row else {
        return refuse(
            "SOURCE_UNREGISTERED",
            format!("数据来源“{code}”未登记:请县级业务管理员先在“数据来源”中登记该来源"),
        );
    };
    let source = source_of(&row)?;
    if source.retired {
        return refuse(
            "SOURCE_RETIRED",
            format!("数据来源“{}”已停用,不再接收报送", source.name),
        );
    }
    let bound = sqlx::query(
        "SELECT user_id FROM feed_source_accounts WHERE source_id = $1 AND user_id = $2",
    )
    .bind(source.id)
    .bind(actor.user_id.unwrap_or(-1))
    .fetch_optional(&mut *w.tx)
    .await?
    .is_some();
    if !delivers_for(actor, &source, bound) {
        return refuse(
            "SOURCE_NOT_YOURS",
            format!("本账户不是数据来源“{}”的报送账户", source.name),
        );
    }
    Ok(())
}

#[async_trait]
impl FeedSourceStore for SqlStore {
    /// The sources a reader reads: a department officer those it delivers for; a reader of the
    /// comparison every source serving its jurisdiction.
    async fn feed_sources(&self, r: &DeliveryReader) -> Result<Vec<FeedSource>> {
        let mut conn = self.pool.acquire().await?;
        let all = self.all_sources(&mut conn).await?;
        Ok(match r {
            DeliveryReader::Verification(g) => all
                .into_iter()
                .filter(|s| s.serves(g.scope().root()))
                .collect(),
            DeliveryReader::Deliverer { grant, .. } => {
                let actor = grant.actor();
                all.into_iter()
                    .filter(|s| {
                        let bound = s.accounts.iter().any(|a| Some(a.user_id) == actor.user_id);
                        delivers_for(actor, s, bound)
                    })
                    .collect()
            }
        })
    }

    async fn register_feed_source(
        &self,
        g: &Grant<ManageFeedSources>,
        new: &NewFeedSource,
    ) -> Result<FeedSource> {
        let code = new.code.trim();
        let mut errors = check_fields(Some(&new.kind), Some(code), &new.name);
        if !g.scope().contains(&new.division) {
            errors.push(FieldError::new(
                "division",
                "SOURCE_DIVISION_OUT_OF_SCOPE",
                format!("区划 {} 不在本辖区内", new.division),
            ));
        }
        let mut w = self.write().await?;
        // Codes differing only in case are one code: two spellings of one bank are one source.
        let taken = sqlx::query(
            "SELECT name FROM feed_sources WHERE kind = $1 AND UPPER(code) = UPPER($2)",
        )
        .bind(new.kind.as_str())
        .bind(code)
        .fetch_optional(&mut *w.tx)
        .await?;
        if let Some(r) = taken {
            errors.push(FieldError::new(
                "code",
                "SOURCE_CODE_TAKEN",
                format!(
                    "来源代码 {code} 已登记为“{}”;同一来源不重复登记",
                    get::<String>(&r, "name")?
                ),
            ));
        }
        errors.extend(check_accounts(&mut w, &new.division, &new.accounts).await?);
        if !errors.is_empty() {
            return Err(ValidationErrors(errors).into());
        }
        let id = w.next_id("feed_sources").await?;
        sqlx::query(
            "INSERT INTO feed_sources (id, kind, code, name, division, retired_at, created_by, \
             created_at, row_version) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, 1)",
        )
        .bind(id)
        .bind(new.kind.as_str())
        .bind(code)
        .bind(new.name.trim())
        .bind(new.division.as_str())
        .bind(g.actor().username.as_str())
        .bind(w.now_text.clone())
        .execute(&mut *w.tx)
        .await?;
        set_accounts(&mut w, id, &new.accounts).await?;
        w.audit(
            Who::from(g.actor()),
            Event::new(AuditAction::FeedSourceChanged, "feed_source")
                .record(id)
                .division(&new.division)
                .after(json!({
                    "kind": new.kind, "code": code, "name": new.name.trim(),
                    "division": new.division.as_str(), "accounts": new.accounts,
                })),
        )
        .await?;
        let stored = self.source_in(&mut w, id).await?;
        w.commit().await?;
        Ok(stored)
    }

    async fn change_feed_source(
        &self,
        g: &Grant<ManageFeedSources>,
        id: i64,
        change: &FeedSourceChange,
    ) -> Result<FeedSource> {
        let mut w = self.write().await?;
        let before = self.source_in(&mut w, id).await?;
        if !g.scope().contains(&before.division) {
            return Err(not_found(id));
        }
        if before.row_version != change.row_version {
            return Err(StoreError::Conflict {
                kind: "feed_source",
                id: id.to_string(),
                expected: change.row_version,
                actual: before.row_version,
            });
        }
        let mut errors = check_fields(None, None, &change.name);
        errors.extend(check_accounts(&mut w, &before.division, &change.accounts).await?);
        if !errors.is_empty() {
            return Err(ValidationErrors(errors).into());
        }
        // A source retired again keeps the day it was first retired.
        sqlx::query(
            "UPDATE feed_sources SET name = $1, \
             retired_at = CASE WHEN $2 IS NULL THEN NULL ELSE COALESCE(retired_at, $2) END, \
             row_version = row_version + 1 WHERE id = $3",
        )
        .bind(change.name.trim())
        .bind(change.retired.then(|| w.now_text.clone()))
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("DELETE FROM feed_source_accounts WHERE source_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        set_accounts(&mut w, id, &change.accounts).await?;
        let ids = |s: &FeedSource| s.accounts.iter().map(|a| a.user_id).collect::<Vec<_>>();
        w.audit(
            Who::from(g.actor()),
            Event::new(AuditAction::FeedSourceChanged, "feed_source")
                .record(id)
                .division(&before.division)
                .before(json!({
                    "name": before.name, "retired": before.retired, "accounts": ids(&before),
                }))
                .after(json!({
                    "name": change.name.trim(), "retired": change.retired,
                    "accounts": change.accounts,
                })),
        )
        .await?;
        let stored = self.source_in(&mut w, id).await?;
        w.commit().await?;
        Ok(stored)
    }

    async fn source_account_candidates(
        &self,
        g: &Grant<ManageFeedSources>,
    ) -> Result<Vec<SourceAccount>> {
        let scope = g.scope().root();
        let rows = sqlx::query(
            "SELECT id, username, display_name, division FROM users \
             WHERE role IN ($1, $2) AND active <> 0 ORDER BY display_name, id",
        )
        .bind(Role::DepartmentOfficer.as_str())
        .bind(Role::DepartmentSystem.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let at: String = get(r, "division")?;
            let fits =
                DivisionCode::parse(&at).is_ok_and(|at| at.contains(scope) || scope.contains(&at));
            if fits {
                out.push(SourceAccount {
                    user_id: get(r, "id")?,
                    username: get(r, "username")?,
                    display_name: get(r, "display_name")?,
                });
            }
        }
        Ok(out)
    }
}
