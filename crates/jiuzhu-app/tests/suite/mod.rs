//! The use-case suite: each case gets a fresh database of the backend under test (SQLite file or
//! PostgreSQL database) and opens one or more [`App`]s on it, as servers and the command line do.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use jiuzhu_app::App;
use jiuzhu_domain::FixedClock;
use jiuzhu_store::data_key::DataKeys;

mod accounts;
mod changes;
mod documents;
mod params;
mod reserve_fund;
mod verification;
pub use accounts::*;
pub use changes::*;
pub use documents::*;
pub use params::*;
pub use reserve_fund::*;
pub use verification::*;

/// The instant every case starts at: 2026-03-01 10:00 in China (02:00 UTC).
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0)
        .single()
        .expect("valid time")
}

/// One database for a case; [`Db::open`] opens another application on it.
pub struct Db {
    url: String,
    /// The data directory every application on the database keeps deliveries in.
    files: std::path::PathBuf,
    _files_dir: tempfile::TempDir,
    keys: DataKeys,
    pub clock: FixedClock,
    _dir: Option<tempfile::TempDir>,
}

#[allow(dead_code)] // each backend's binary uses one of the constructors
impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("j.sqlite").display());
        Db::with_url(url, Some(dir))
    }

    pub async fn postgres() -> Db {
        Db::with_url(jiuzhu_store::test_db::fresh_postgres_database().await, None)
    }

    fn with_url(url: String, dir: Option<tempfile::TempDir>) -> Db {
        let files_dir = tempfile::tempdir().expect("temporary directory");
        Db {
            url,
            files: files_dir.path().to_path_buf(),
            _files_dir: files_dir,
            keys: DataKeys::generate(),
            clock: FixedClock::new(start_time()),
            _dir: dir,
        }
    }

    /// An application with its own connection to the database, as a second server has.
    pub async fn open(&self) -> App {
        let store =
            jiuzhu_store::connect(&self.url, Arc::new(self.clock.clone()), self.keys.clone())
                .await
                .expect("open the store");
        App::builder(Arc::new(store), Arc::new(self.clock.clone()))
            .feeds_dir(&self.files)
            .build()
            .expect("application")
    }
}

/// One `#[tokio::test]` per case, each with a fresh database from `$db` (`Db::sqlite` or
/// `Db::postgres`).
#[macro_export]
macro_rules! use_case_tests {
    ($db:path) => {
        $crate::use_case_tests!(@cases $db;
            two_apps_share_policy_revisions,
            two_apps_share_calendar_edits,
            a_national_edit_may_not_break_a_local_calendar,
            a_revision_names_everything_it_lacks,
            a_change_starts_on_the_calendar_of_its_division,
            a_warning_closed_as_stop_opens_the_change,
            a_warning_closure_changes_the_running_benefit_not_a_one_off_payment,
            a_warning_closure_links_the_open_change_or_is_refused_without_a_benefit,
            an_upload_is_checked_before_a_file_is_written,
            the_reserve_fund_pays_no_more_than_it_holds,
            a_run_judges_each_household_by_its_county,
            a_run_refuses_a_county_without_policy,
            first_admin_is_created_once_and_must_change_password,
            an_account_is_refused_for_every_broken_rule_at_once,
            a_reset_unlocks_the_account_and_the_old_password_stops_working,
            a_password_change_gives_every_reason_at_once,
        );
    };
    (@cases $db:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::suite::$case($db().await).await;
            }
        )*
    };
}
