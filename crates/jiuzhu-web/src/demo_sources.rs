//! The demo county's registered data providers (`jiuzhu demo` and the tests' county): the
//! sources of `jiuzhu_import::demo_feeds::sources`, bound to the demo accounts that deliver.

use jiuzhu_domain::access::{ManageFeedSources, ReadUsers};
use jiuzhu_domain::{Actor, DivisionCode};
use jiuzhu_store::{NewFeedSource, Store, StoreError};

/// Registers the demo sources that are not registered yet (by kind and code).
pub async fn register(store: &dyn Store) -> Result<usize, StoreError> {
    let actor = Actor::system("demo");
    let reader = jiuzhu_store::DeliveryReader::Verification(actor.grant()?);
    let known = store.feed_sources(&reader).await?;
    let users = store.list_users(&actor.grant::<ReadUsers>()?).await?;
    let county = DivisionCode::parse(jiuzhu_import::demo::COUNTY_CODE)
        .map_err(|e| StoreError::Database(format!("demo county code: {e}")))?;
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
