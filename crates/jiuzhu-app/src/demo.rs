//! The demo county's data beyond the registry (`jiuzhu demo`, `serve --demo`, the tests'
//! county): the registered data providers, and a few cases in different steps — made through the
//! same use-cases as the pages.

use std::sync::Arc;

use jiuzhu_domain::access::{
    ActOnCase, ManageFeedSources, ReadCases, ReadRegistry, ReadUsers, RegisterApplication,
};
use jiuzhu_domain::{Actor, DivisionCode, FixedClock, HouseholdId, PersonId, User};
use jiuzhu_store::NewFeedSource;
use jiuzhu_workflow::Attachment;

use crate::cases::{act, register, ActionInput, IntakeInput};
use crate::{App, Error, Result};

/// The demo accounts that work the demo cases.
pub const CASE_USERS: [&str; 3] = [
    "clerk_huancuilou",
    "reviewer_huancuilou",
    "approver_huancui",
];

/// A few demo cases in different steps (one overdue), unless the store has cases already.
/// Returns the numbers of the cases made (none when there were cases).
pub async fn seed_cases(app: &App) -> Result<Vec<String>> {
    let read = Actor::system("demo").grant::<ReadCases>()?;
    let existing = app
        .store
        .list_cases(&read, &jiuzhu_store::CaseQuery::default())
        .await?;
    if existing.total > 0 {
        return Ok(vec![]);
    }
    let mut users = Vec::new();
    for name in CASE_USERS {
        let user = app.store.user_by_username(name).await?;
        users.push(user.ok_or_else(|| Error::internal(format!("demo user {name} missing")))?);
    }
    seed_case_steps(app, &users[0], &users[1], &users[2]).await
}

/// Demo cases for `jiuzhu demo` / `serve --demo`: four 低保 applications of the clerk's township
/// in different steps — at verification, at the home survey, in public notice, and one registered
/// 20 days ago whose verification is overdue. Households with an economic record are used, so
/// they can be taken on to a decision. Returns the case numbers.
async fn seed_case_steps(
    app: &App,
    clerk: &User,
    reviewer: &User,
    approver: &User,
) -> Result<Vec<String>> {
    let clerk_actor = clerk.actor("demo");
    let reviewer_actor = reviewer.actor("demo");
    let approver_actor = approver.actor("demo");
    let register_g = clerk_actor.grant::<RegisterApplication>()?;
    let review_g = reviewer_actor.grant::<ActOnCase>()?;
    let approve_g = approver_actor.grant::<ActOnCase>()?;
    let read = clerk_actor.grant::<ReadRegistry>()?;
    let today = app.today();
    let entries = app.store.caseload_as_of(&read, None, today).await?;
    let picks: Vec<(HouseholdId, PersonId)> = entries
        .iter()
        .filter(|e| e.economics.is_some())
        .filter_map(|e| {
            let head = e
                .snapshot
                .members
                .iter()
                .find(|m| m.membership.relation == jiuzhu_domain::Relation::Head)
                .or(e.snapshot.members.first())?;
            Some((e.snapshot.household.id, head.person.id))
        })
        .take(4)
        .collect();
    let intake = |(hh, p): (HouseholdId, PersonId)| IntakeInput {
        workflow: "dibao".into(),
        household_id: hh,
        applicant_id: p,
        documents: vec!["id_card".into(), "verification_authorisation".into()],
        staff_relative: false,
        urgent: false,
        protected: false,
        opinion: "一证一书齐全,予以受理".into(),
    };
    let step = |rev: i64, step: &str, kind: &str, id: &str| ActionInput {
        revision: rev,
        step: step.into(),
        action: "complete".into(),
        opinion: "同意".into(),
        investigators: if step == "survey" {
            vec![reviewer.display_name.clone(), "毕秀丽".into()]
        } else {
            vec![]
        },
        attachments: vec![Attachment::new(kind, id)],
        reasons: vec![],
        set_flags: vec![],
        objector: None,
    };
    let mut numbers = Vec::new();
    for (i, pick) in picks.iter().copied().enumerate() {
        if i == 3 {
            // Registered 20 days ago (the workflow's clock), so verification is overdue now.
            let past = app.with_clock(Arc::new(FixedClock::new(
                app.clock().now() - chrono::Duration::days(20),
            )));
            let c = register(&past, &register_g, &clerk.display_name, &intake(pick)).await?;
            numbers.push(c.number);
            continue;
        }
        let mut c = register(app, &register_g, &clerk.display_name, &intake(pick)).await?;
        if i >= 1 {
            let input = step(c.revision, "verify", "verification_report", "核对报告-演示");
            c = act(app, &approve_g, &approver.display_name, c.id, &input).await?;
        }
        if i >= 2 {
            let input = step(c.revision, "survey", "survey_record", "入户调查记录-演示");
            c = act(app, &review_g, &reviewer.display_name, c.id, &input).await?;
            let input = step(c.revision, "review", "review_opinion", "审核意见-演示");
            c = act(app, &review_g, &reviewer.display_name, c.id, &input).await?;
        }
        numbers.push(c.number);
    }
    Ok(numbers)
}

/// Registers the demo sources that are not registered yet (by kind and code).
pub async fn register_sources(app: &App) -> Result<usize> {
    let store = app.store.as_ref();
    let actor = Actor::system("demo");
    let reader = jiuzhu_store::DeliveryReader::Verification(actor.grant()?);
    let known = store.feed_sources(&reader).await?;
    let users = store.list_users(&actor.grant::<ReadUsers>()?).await?;
    let county = DivisionCode::parse(jiuzhu_import::demo::COUNTY_CODE)
        .map_err(|e| Error::internal(format!("demo county code: {e:?}")))?;
    let g = actor.grant::<ManageFeedSources>()?;
    let mut added = 0;
    for s in jiuzhu_import::demo_feeds::sources() {
        if known.iter().any(|k| k.kind == s.kind && k.code == s.code) {
            continue;
        }
        let accounts = users
            .iter()
            .filter(|u| s.accounts.contains(&u.username.as_str()))
            .map(|u| u.id)
            .collect();
        store
            .register_feed_source(
                &g,
                &NewFeedSource {
                    kind: s.kind.into(),
                    code: s.code.into(),
                    name: s.name.into(),
                    division: county.clone(),
                    accounts,
                },
            )
            .await?;
        added += 1;
    }
    Ok(added)
}
