//! Identity numbers as search keys, the one way to confirm a guessed number: every lookup by a
//! number is audited, and a user without the reveal permission has a small hourly budget of
//! them. Refusals of a duplicate registration ("身份证号码已存在", answered for a number
//! registered in any jurisdiction) draw on a budget of their own, for every role
//! (docs/security.md, "Masking").

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use jiuzhu_app::records::StoreError;
use jiuzhu_domain::access::{RevealSensitive, WriteRegistry};
use jiuzhu_domain::{Actor, AuditAction, IdNumber, Person, PersonFacts};

use crate::error::AppError;
use crate::AppState;

/// Lookups by identity number per hour for a user who may not reveal: enough to find the
/// people who come to the office, far too few to try the ~180,000 numbers a masked view leaves.
pub const LOOKUPS_PER_HOUR: usize = 20;
/// Refused duplicate registrations per hour for any user.
pub const DUPLICATES_PER_HOUR: usize = 10;
/// Users tracked at once (the oldest are forgotten first).
const MAX_USERS: usize = 100_000;

/// What a search text says about identity numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdQuery {
    /// A complete, valid number: matched exactly.
    Exact(IdNumber),
    /// The start of a number (at least 6 characters): only for roles that may reveal.
    Prefix(String),
    /// No number in it (a name, a household code, a division).
    None,
}

impl IdQuery {
    /// Classifies a search text. A 6-, 9-, 12- or 15-digit text is a division code, not a
    /// prefix.
    pub fn of(text: &str) -> IdQuery {
        let t = text.trim();
        if let Ok(n) = IdNumber::parse(t) {
            return IdQuery::Exact(n);
        }
        let digits = t.len() >= 6
            && t.len() < 18
            && t.bytes()
                .enumerate()
                .all(|(i, b)| b.is_ascii_digit() || (i == 17 && (b == b'X' || b == b'x')));
        if digits && !matches!(t.len(), 6 | 9 | 12 | 15) {
            return IdQuery::Prefix(t.to_string());
        }
        IdQuery::None
    }

    /// The query as the audit log keeps it: masked like a page shows a number.
    fn masked(&self) -> String {
        match self {
            IdQuery::Exact(n) => n.masked(),
            IdQuery::Prefix(p) => jiuzhu_domain::id_number::mask_id_str(p),
            IdQuery::None => String::new(),
        }
    }
}

/// Per-user sliding-hour budgets.
#[derive(Default)]
pub struct IdLookups {
    lookups: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
    duplicates: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

fn spend(
    map: &Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
    who: &str,
    now: DateTime<Utc>,
    per_hour: usize,
    take: bool,
) -> bool {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_USERS && !map.contains_key(who) {
        map.clear();
    }
    let times = map.entry(who.to_string()).or_default();
    while times
        .front()
        .is_some_and(|t| now - *t >= Duration::hours(1))
    {
        times.pop_front();
    }
    if times.len() >= per_hour {
        return false;
    }
    if take {
        times.push_back(now);
    }
    true
}

fn too_many(what: &str, per_hour: usize) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "ID_LOOKUP_LIMIT",
        format!("{what}过于频繁:每小时最多 {per_hour} 次,请一小时后再试。每次查询均记入审计日志。"),
    )
}

impl IdLookups {
    /// Admits a lookup by `query` for `actor`: free for roles that may reveal (audited all the
    /// same), counted against [`LOOKUPS_PER_HOUR`] for the others. A prefix is refused to
    /// roles that may not reveal by turning it into no number at all.
    pub fn admit(
        &self,
        actor: &Actor,
        query: IdQuery,
        now: DateTime<Utc>,
    ) -> Result<IdQuery, AppError> {
        let may_reveal = actor.grant::<RevealSensitive>().is_ok();
        match query {
            IdQuery::Exact(_) if !may_reveal => {
                if spend(&self.lookups, &actor.username, now, LOOKUPS_PER_HOUR, true) {
                    Ok(query)
                } else {
                    Err(too_many("按身份证号码查询", LOOKUPS_PER_HOUR))
                }
            }
            IdQuery::Prefix(_) if !may_reveal => Ok(IdQuery::None),
            q => Ok(q),
        }
    }

    /// Refuses a registration attempt once `actor` has used up the hour's budget of duplicate
    /// refusals, before the number is even looked at.
    pub fn check_duplicates(&self, actor: &Actor, now: DateTime<Utc>) -> Result<(), AppError> {
        if spend(
            &self.duplicates,
            &actor.username,
            now,
            DUPLICATES_PER_HOUR,
            false,
        ) {
            Ok(())
        } else {
            Err(too_many("身份证号码重复登记被拒", DUPLICATES_PER_HOUR))
        }
    }

    /// Counts a refused duplicate registration.
    pub fn count_duplicate(&self, actor: &Actor, now: DateTime<Utc>) {
        spend(
            &self.duplicates,
            &actor.username,
            now,
            DUPLICATES_PER_HOUR,
            true,
        );
    }
}

/// A free-text search under the identity-number rules, as the store's queries take it.
pub struct SearchTerms {
    /// For persons: names, household codes and an admitted complete number.
    pub text: Option<String>,
    /// For persons: the start of a number (roles that may reveal).
    pub id_prefix: Option<String>,
    /// For households: the text as typed (a prefix matches no household's number).
    pub household_text: Option<String>,
    /// What to audit once the search has run.
    pub query: IdQuery,
    /// The text was the start of a number, which this user may not search by: the page says
    /// so instead of only finding nothing.
    pub prefix_refused: bool,
}

/// Admits `text` for `actor` (see [`IdLookups::admit`]) and splits it for the stores' queries.
pub fn search_terms(
    state: &AppState,
    actor: &Actor,
    text: Option<String>,
) -> Result<SearchTerms, AppError> {
    let Some(t) = text else {
        return Ok(SearchTerms {
            text: None,
            id_prefix: None,
            household_text: None,
            query: IdQuery::None,
            prefix_refused: false,
        });
    };
    let asked = IdQuery::of(&t);
    let prefix_asked = matches!(asked, IdQuery::Prefix(_));
    let query = state.id_lookups.admit(actor, asked, state.clock.now())?;
    let prefix_refused = prefix_asked && query == IdQuery::None;
    Ok(match &query {
        IdQuery::Prefix(p) => SearchTerms {
            text: None,
            id_prefix: Some(p.clone()),
            household_text: Some(t),
            query,
            prefix_refused,
        },
        _ => SearchTerms {
            text: Some(t.clone()),
            id_prefix: None,
            household_text: Some(t),
            query,
            prefix_refused,
        },
    })
}

/// Appends the audit event of a lookup by identity number: the number masked, the matches'
/// record ids. Audit failures are errors: an unaudited lookup must not be answered.
pub async fn audit(
    state: &AppState,
    actor: &Actor,
    query: &IdQuery,
    route: &str,
    record_kind: &str,
    matches: &[i64],
) -> Result<(), AppError> {
    if *query == IdQuery::None {
        return Ok(());
    }
    let kind = match query {
        IdQuery::Exact(_) => "exact",
        _ => "prefix",
    };
    let detail = serde_json::json!({
        "query": query.masked(),
        "kind": kind,
        "route": route,
        "matches": matches.len(),
        "ids": matches.iter().take(100).collect::<Vec<_>>(),
    })
    .to_string();
    state
        .app
        .append_audit(
            actor,
            AuditAction::PersonLookedUpById,
            record_kind,
            matches.first().map(|id| id.to_string()).as_deref(),
            Some(actor.scope.root()),
            Some(&detail),
        )
        .await?;
    Ok(())
}

/// Registers a person. "身份证号码已存在" answers whether a number is registered anywhere: each
/// such refusal is audited and counted, and once the hour's budget is spent the user's
/// registrations are refused before the number is looked at.
pub async fn create_person(
    state: &AppState,
    a: &crate::auth::Authorized<WriteRegistry>,
    id: &IdNumber,
    facts: &PersonFacts,
    valid_from: chrono::NaiveDate,
) -> Result<Person, AppError> {
    let actor = a.auth.actor();
    state
        .id_lookups
        .check_duplicates(actor, state.clock.now())?;
    match state
        .app
        .create_person(&a.grant, id, facts, valid_from)
        .await
    {
        Err(
            e @ jiuzhu_app::Error::Store(StoreError::Duplicate {
                field: "id_number", ..
            }),
        ) => {
            state.id_lookups.count_duplicate(actor, state.clock.now());
            audit_duplicate(state, actor, id.as_str()).await?;
            Err(e.into())
        }
        other => Ok(other?),
    }
}

/// Appends the audit event of a refused duplicate registration (the number masked).
pub async fn audit_duplicate(
    state: &AppState,
    actor: &Actor,
    id_number: &str,
) -> Result<(), AppError> {
    let detail = serde_json::json!({
        "query": jiuzhu_domain::id_number::mask_id_str(id_number),
        "kind": "duplicate_registration",
    })
    .to_string();
    state
        .app
        .append_audit(
            actor,
            AuditAction::PersonLookedUpById,
            "person",
            None,
            Some(actor.scope.root()),
            Some(&detail),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_classified() {
        assert!(matches!(
            IdQuery::of("110101199003070011"),
            IdQuery::Exact(_)
        ));
        assert_eq!(
            IdQuery::of("1101011990"),
            IdQuery::Prefix("1101011990".into())
        );
        assert_eq!(IdQuery::of("371002"), IdQuery::None);
        assert_eq!(IdQuery::of("371002001"), IdQuery::None);
        assert_eq!(IdQuery::of("张三"), IdQuery::None);
        assert_eq!(IdQuery::of("11010"), IdQuery::None);
    }
}
