//! The application layer of jiuzhu: every use-case, called the same way by the web pages and API,
//! the command line and the benchmarks.
//!
//! Rule for where code goes: anything that touches two of {store, policy, workflow, verify, files,
//! clock} is a use-case and lives here. The web turns a request into a call and the result into a
//! page or JSON; the command line turns arguments into a call and the result into text.
//!
//! An [`App`] holds the store, the clock, the workflows, the base policy library and the kept
//! parameters ([`params`]); clones share all of them.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use jiuzhu_domain::Clock;
use jiuzhu_policy::PolicyLibrary;
use jiuzhu_store::kept::FeedFiles;
use jiuzhu_store::Store;
use jiuzhu_workflow::Workflows;

pub mod accounts;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod demo;
pub mod documents;
pub mod economics;
pub mod error;
pub mod month;
pub mod params;
pub mod policy;
pub mod printing;
pub mod records;
pub mod registry;
pub mod reserve_fund;
pub mod verification;

pub use error::{Error, Result};
pub use params::{Calendars, Params};

/// The application: cheap to clone, shared by every request and command.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    workflows: Arc<Workflows>,
    /// The policy files the stored revisions apply to.
    base_policies: Arc<PolicyLibrary>,
    params: Arc<params::ParamsCache>,
    /// Where the departments' deliveries are kept.
    feeds: FeedFiles,
    /// Password hashing, started at its first use (most commands never hash).
    hashing: Arc<OnceLock<accounts::HashPool>>,
    hashing_size: (usize, usize),
    /// Where the one-person-one-file documents are kept, and what is accepted.
    documents: Arc<documents::DocumentSettings>,
}

impl App {
    /// An application over `store` with the shipped policy files and workflows.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<App> {
        App::builder(store, clock).build()
    }

    pub fn builder(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> AppBuilder {
        AppBuilder {
            store,
            clock,
            policies: None,
            feeds_dir: PathBuf::from("data"),
            hashing_size: None,
        }
    }

    /// The store. Transitional: use-cases are moving here from the web and the command line
    /// (issue 13); until they have, their callers reach the store through the application.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Whether the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Today in the office's time zone (Beijing).
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The bounded pool on which passwords are hashed and checked.
    pub fn hashing(&self) -> &accounts::HashPool {
        self.hashing.get_or_init(|| {
            let (threads, queue) = self.hashing_size;
            accounts::HashPool::new(threads, queue)
        })
    }

    /// Where the departments' deliveries are kept.
    pub fn feeds(&self) -> &FeedFiles {
        &self.feeds
    }

    pub fn workflows(&self) -> &Arc<Workflows> {
        &self.workflows
    }

    /// The policy files without the stored revisions (what a revision is compared with).
    pub fn base_policies(&self) -> &Arc<PolicyLibrary> {
        &self.base_policies
    }

    /// The parameters as the store has them now; read once at the start of a use-case.
    pub async fn params(&self) -> Result<Arc<Params>> {
        self.params
            .get(self.store.as_ref(), &self.base_policies)
            .await
    }

    /// The same application keeping deliveries under `dir` (`<dir>/feeds`): the server's option.
    pub fn with_feeds_dir(&self, dir: impl Into<PathBuf>) -> App {
        App {
            feeds: FeedFiles::new(dir.into()),
            ..self.clone()
        }
    }

    /// The same application seen at another time (the demo dates the cases it seeds in the
    /// past); it shares the store and the kept parameters.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> App {
        App {
            clock,
            ..self.clone()
        }
    }
}

/// Builds an [`App`]; the benchmark injects its own policy files.
pub struct AppBuilder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policies: Option<PolicyLibrary>,
    feeds_dir: PathBuf,
    hashing_size: Option<(usize, usize)>,
}

impl AppBuilder {
    /// The data directory under which deliveries are kept (`<dir>/feeds`); `data` by default.
    pub fn feeds_dir(mut self, dir: impl Into<PathBuf>) -> AppBuilder {
        self.feeds_dir = dir.into();
        self
    }

    /// Policy files other than the shipped ones.
    pub fn policies(mut self, lib: PolicyLibrary) -> AppBuilder {
        self.policies = Some(lib);
        self
    }

    /// Password hashes computed at once, and requests waiting for a thread before new ones are
    /// refused ([`Error::Busy`]); by default as many as cores, and eight per core.
    pub fn hashing(mut self, threads: usize, queue: usize) -> AppBuilder {
        self.hashing_size = Some((threads, queue));
        self
    }

    pub fn build(self) -> Result<App> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let base_policies = match self.policies {
            Some(lib) => Arc::new(lib),
            None => shipped_policies()?,
        };
        let workflows = shipped_workflows()?;
        self.store
            .use_protected_readers(protected_readers(&workflows));
        Ok(App {
            store: self.store,
            clock: self.clock,
            workflows,
            base_policies,
            params: Arc::default(),
            feeds: FeedFiles::new(self.feeds_dir),
            hashing: Arc::default(),
            hashing_size: self.hashing_size.unwrap_or((cores, 8 * cores)),
            documents: Arc::default(),
        })
    }
}

/// Who reads which workflows' protected cases (R-PR-7): the roles acting on their steps.
pub fn protected_readers(workflows: &Workflows) -> jiuzhu_store::ProtectedReaders {
    let readers = jiuzhu_domain::Role::ALL
        .iter()
        .map(|role| {
            let ids = workflows
                .iter()
                .filter(|w| w.acts(*role))
                .map(|w| w.id.clone())
                .collect();
            (*role, ids)
        })
        .collect();
    jiuzhu_store::ProtectedReaders(readers)
}

/// The embedded policy files, parsed once per process.
pub fn shipped_policies() -> Result<Arc<PolicyLibrary>> {
    static LIB: OnceLock<std::result::Result<Arc<PolicyLibrary>, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        PolicyLibrary::builtin().map(Arc::new).map_err(|errors| {
            errors
                .iter()
                .map(|e| e.message_zh())
                .collect::<Vec<_>>()
                .join("; ")
        })
    })
    .clone()
    .map_err(|e| Error::internal(format!("shipped policy files do not load: {e}")))
}

/// The embedded workflows, parsed once per process.
pub fn shipped_workflows() -> Result<Arc<Workflows>> {
    static WF: OnceLock<std::result::Result<Arc<Workflows>, String>> = OnceLock::new();
    WF.get_or_init(|| {
        Workflows::builtin()
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(|e| Error::internal(format!("shipped workflows do not load: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's conformance suite names the readers of protected cases by hand; they are the
    /// workflow files' roles.
    #[test]
    fn the_store_suite_reads_protected_cases_as_the_workflows_say() {
        let ours = protected_readers(&shipped_workflows().unwrap());
        let suite = jiuzhu_store::conformance::protected_readers();
        for (role, workflows) in &ours.0 {
            let mut ours = workflows.clone();
            ours.sort();
            let mut theirs = suite.workflows_of(*role).to_vec();
            theirs.sort();
            assert_eq!(ours, theirs, "{role:?}");
        }
    }
}
