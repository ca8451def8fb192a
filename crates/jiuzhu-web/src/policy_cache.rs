//! The effective policy library of the running service: the embedded policy files plus the
//! stored revisions (`jiuzhu_policy::PolicyLibrary::with_revisions`), built on first use and
//! rebuilt after every revision this process records.

use std::sync::{Arc, RwLock};

use jiuzhu_domain::access::ReadRegistry;
use jiuzhu_domain::Actor;
use jiuzhu_policy::PolicyLibrary;
use jiuzhu_store::Store;

use crate::error::AppError;

/// Shared by all handlers (cheap to clone).
#[derive(Clone, Default)]
pub struct PolicyCache {
    current: Arc<RwLock<Option<Arc<PolicyLibrary>>>>,
}

impl PolicyCache {
    /// The effective library, loading it from the store the first time.
    pub async fn get(&self, store: &dyn Store) -> Result<Arc<PolicyLibrary>, AppError> {
        let cached = self
            .current
            .read()
            .map_err(|_| AppError::internal("policy cache lock poisoned"))?
            .clone();
        match cached {
            Some(lib) => Ok(lib),
            None => self.reload(store).await,
        }
    }

    /// Rebuilds the library from the files and every stored revision (after a revision is
    /// recorded or withdrawn; also usable at start-up to fail early).
    pub async fn reload(&self, store: &dyn Store) -> Result<Arc<PolicyLibrary>, AppError> {
        // Policies are public within the service; reading them needs no user.
        let grant = Actor::system("policies").grant::<ReadRegistry>()?;
        let revisions = store.policy_revisions(&grant, None).await?;
        let lib = crate::calc::policies()?
            .with_revisions(&revisions)
            .map_err(|errors| {
                AppError::internal(format!(
                    "stored policy revisions do not apply: {}",
                    errors
                        .iter()
                        .map(|e| e.message_zh())
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?;
        let lib = Arc::new(lib);
        let mut slot = self
            .current
            .write()
            .map_err(|_| AppError::internal("policy cache lock poisoned"))?;
        // Two reloads racing: keep whichever saw more revisions.
        if let Some(cur) = slot.as_ref() {
            if cur.revision_level() > lib.revision_level() {
                return Ok(cur.clone());
            }
        }
        *slot = Some(lib.clone());
        Ok(lib)
    }
}
