//! Registered data providers (数据来源, docs/feeds.md): who delivers each kind of data. A city
//! has dozens of banks and insurers; each is a source of its kind, kept by a region and bound
//! to the accounts that deliver for it. A delivery names its source by code, so two spellings
//! of one bank are never two sources, and a run reads the latest delivery of every source.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use jiuzhu_domain::DivisionCode;

use crate::verification::FeedDelivery;

/// An account that delivers for a source.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAccount {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSource {
    pub id: i64,
    /// Feed kind code (`deposits`, …).
    pub kind: String,
    /// The source's code within its kind (e.g. `ICBC-WH`), what deliveries name.
    pub code: String,
    /// Its name as people read it (e.g. 中国工商银行威海分行).
    pub name: String,
    /// The region that keeps it: runs of this region, of those above and of those below it
    /// count it.
    pub division: DivisionCode,
    /// No longer delivers: neither used nor listed as missing by a run.
    pub retired: bool,
    pub accounts: Vec<SourceAccount>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub row_version: i64,
}

impl FeedSource {
    /// Whether a run or reader of `region` counts this source: it is kept at the region, above
    /// it (a city's bank is every county's) or below it (a city's run counts its counties').
    pub fn serves(&self, region: &DivisionCode) -> bool {
        self.division.contains(region) || region.contains(&self.division)
    }
}

/// A source to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFeedSource {
    pub kind: String,
    pub code: String,
    pub name: String,
    pub division: DivisionCode,
    /// The accounts that deliver for it (department officers in the region).
    pub accounts: Vec<i64>,
}

/// A change to a registered source (its kind and code never change: deliveries name them).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSourceChange {
    pub name: String,
    pub accounts: Vec<i64>,
    pub retired: bool,
    /// The version read (optimistic concurrency).
    pub row_version: i64,
}

/// A source with its latest accepted delivery up to a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLatest {
    pub source: FeedSource,
    pub latest: Option<FeedDelivery>,
}

/// Longest source code: a short identifier that fits a file name and a form field.
pub const MAX_CODE_CHARS: usize = 32;
/// Longest source name.
pub const MAX_NAME_CHARS: usize = 60;

/// Whether `code` is a source code: letters (Chinese ones too: a county without codes may use
/// a short name), digits, `-` and `_`; no spaces, so that two spellings cannot differ by them.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}
