//! Records of economic-status verification (docs/feeds.md): departments' deliveries with their
//! provenance, runs of the monthly comparison and the warnings they raise, handled to closure.
//! The matching itself is the pure crate `jiuzhu-verify`; the application (`jiuzhu_app::verification`) joins the two.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use jiuzhu_domain::access::{ImportFeeds, ReadVerification};
use jiuzhu_domain::{DivisionCode, Grant, HouseholdId};

/// Who reads feed deliveries and their rejected rows. Deliveries are about the whole
/// population, not a township's records, so no jurisdiction applies: whoever reads the
/// monthly comparison reads every delivery; a deliverer without that permission (a department
/// officer) reads the deliveries of the kinds it may deliver, which the caller names from the
/// feed catalogue — another department's are not found.
pub enum DeliveryReader {
    Verification(Grant<ReadVerification>),
    Deliverer {
        grant: Grant<ImportFeeds>,
        kinds: Vec<String>,
    },
}

impl DeliveryReader {
    /// The kinds the reader is limited to (`None`: every kind).
    pub fn kinds(&self) -> Option<&[String]> {
        match self {
            DeliveryReader::Verification(_) => None,
            DeliveryReader::Deliverer { kinds, .. } => Some(kinds),
        }
    }
}

/// At most this many rejected rows are stored per delivery (all are counted).
pub const MAX_STORED_REJECTIONS: usize = 1000;

/// One rejected row of a delivery.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// 1-based line of the file (the header is line 1).
    pub row: i64,
    pub column: Option<String>,
    pub code: String,
    pub reason: String,
}

/// A delivery as the importer reports it, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDelivery {
    /// Feed kind code (`deposits`, …).
    pub kind: String,
    /// The delivering department or institution (e.g. "XX银行").
    pub source: String,
    /// The date the data describes (数据截止日期).
    pub data_date: NaiveDate,
    pub sha256: String,
    pub bytes: i64,
    pub rows_total: i64,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    pub refused: bool,
    pub rejection_policy: String,
    /// Where the bytes are kept, relative to the data directory.
    pub content_key: String,
    /// The first rejected rows (the store keeps up to [`MAX_STORED_REJECTIONS`]).
    pub rejections: Vec<Rejection>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedDelivery {
    pub id: i64,
    pub kind: String,
    pub source: String,
    pub data_date: NaiveDate,
    pub sha256: String,
    pub bytes: i64,
    pub rows_total: i64,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    /// `accepted` or `refused`.
    pub status: String,
    pub rejection_policy: String,
    pub imported_by_id: Option<i64>,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
    pub content_key: String,
}

/// One household of the caseload read for the index, with its members on the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadHouseholdRow {
    pub household_id: i64,
    /// The household's number in the system it was imported from, if any.
    pub source_ref: Option<String>,
    pub division: String,
    /// `urban` or `rural`.
    pub area: String,
    /// The members' identity numbers, comma separated.
    pub id_numbers: String,
}

/// A warning of a run, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWarning {
    pub household_id: i64,
    /// `DEATH`, `DEPOSIT`, … (jiuzhu-verify's `WarningKind`).
    pub kind: String,
    pub division: DivisionCode,
    /// JSON text (kept as text: a run's 100k warnings as `Value` trees would cost ~1 KB each).
    pub evidence: String,
    /// What identifies the finding with the household and the kind: [`warning_facts`] of the
    /// evidence. A run does not raise again a warning whose (household, kind, facts) is stored.
    pub facts: i64,
}

/// The facts that raised a warning, as stored with it: a 64-bit FNV-1a digest of the member
/// (masked, as the evidence holds it) and the value the source gave. The same death, the same
/// balance or the same vehicle of the same member gives the same facts; a changed balance does
/// not. A digest rather than the text: it is compared only within one household and kind, and
/// eight bytes a row instead of thirty keep the month's insert as fast as before. Stored, so
/// its definition never changes (a fixed, documented algorithm, not `std`'s hasher).
pub fn warning_facts(masked_person: &str, value: &str) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in masked_person
        .bytes()
        .chain(std::iter::once(b'|'))
        .chain(value.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // Zero marks a row not yet given its facts (migration 0021's backfill).
    (h as i64).max(1)
}

/// What a run found beside its new warnings, by warning kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCarried {
    /// Every finding of the run, new or already stored (open, or closed on the same facts).
    pub found: std::collections::BTreeMap<String, i64>,
    /// Warnings raised by earlier runs and open in the run's region when it finished.
    pub still_open: std::collections::BTreeMap<String, StillOpen>,
}

/// Open warnings of one kind from earlier runs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StillOpen {
    pub count: i64,
    /// `YYYY-MM`: the month the oldest of them was first raised.
    pub since: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRun {
    /// `YYYY-MM`.
    pub month: String,
    pub division: DivisionCode,
    pub started_at: DateTime<Utc>,
    pub delivery_ids: Vec<i64>,
    /// Households in the caseload compared.
    pub households: i64,
    /// The warnings' due date, computed by the caller on the working-day calendar from the
    /// policy's `verify.handling.working_days` (the store knows no calendars).
    pub due: NaiveDate,
}

/// A month's run as [`crate::DeliveryStore::store_run_streamed`] writes it: everything of
/// [`NewRun`] but the deliveries, which arrive with the parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// `YYYY-MM`.
    pub month: String,
    pub division: DivisionCode,
    pub started_at: DateTime<Utc>,
    /// Households in the caseload compared.
    pub households: i64,
    /// The warnings' due date (see [`NewRun::due`]).
    pub due: NaiveDate,
}

/// One part of a month's run, sent to [`crate::DeliveryStore::store_run_streamed`] while the run is
/// still reading its other deliveries.
#[derive(Debug)]
pub enum RunPart {
    /// A delivery read for the first time, recorded in the run's transaction. Its record comes
    /// back on `reply` (the warnings' evidence cites its id).
    Delivery {
        delivery: NewDelivery,
        reply: tokio::sync::oneshot::Sender<(FeedDelivery, Vec<Rejection>)>,
    },
    /// Warnings of the run, written at once.
    Warnings(Vec<NewWarning>),
    /// The end of the run: the deliveries it read, in order. The transaction commits; a run
    /// whose sender is dropped without `Finish` is rolled back, deliveries and all.
    Finish {
        delivery_ids: Vec<i64>,
        /// Every registered source with what the run made of it.
        sources: Vec<SourceStatus>,
        /// The run's outreach leads (政策找人), written in the run's transaction: a run that
        /// fails keeps none.
        leads: Vec<crate::outreach::NewLead>,
        /// How many of them were stored (not stored before), sent before the commit.
        leads_stored: tokio::sync::oneshot::Sender<u64>,
    },
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRun {
    pub id: i64,
    pub month: String,
    pub division: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub delivery_ids: Vec<i64>,
    pub counts: std::collections::BTreeMap<String, i64>,
    pub households: i64,
    pub warnings: i64,
    pub run_by: String,
    /// Every registered source of the run's region with what the run made of it (runs before
    /// sources were registered have none).
    #[serde(default)]
    pub sources: Vec<SourceStatus>,
    /// `counts` holds the run's new warnings; this what it found again and what is still open.
    #[serde(default)]
    pub carried: RunCarried,
}

/// What a run made of a registered source.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceUse {
    /// Its latest delivery is within the policy's window: compared.
    Used,
    /// Its latest delivery is older than the window: not compared.
    Stale,
    /// It has delivered nothing up to the month's end.
    Missing,
}

impl SourceUse {
    pub fn label_zh(self) -> &'static str {
        match self {
            SourceUse::Used => "已采用",
            SourceUse::Stale => "数据过期,未采用",
            SourceUse::Missing => "本月未报送",
        }
    }
}

/// A registered source as a run saw it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// Feed kind code.
    pub kind: String,
    pub code: String,
    pub name: String,
    pub status: SourceUse,
    /// Its latest delivery up to the month's end (used or stale).
    pub delivery_id: Option<i64>,
    pub data_date: Option<NaiveDate>,
    /// The oldest data date the policy's window accepts for the kind in the run's month.
    pub oldest_accepted: NaiveDate,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningResult {
    /// 核实无影响
    NoEffect,
    /// 调整救助金额
    Adjust,
    /// 暂停发放
    Suspend,
    /// 停止救助
    Stop,
    /// 转办
    Refer,
}

impl WarningResult {
    /// Whether the result changes a benefit (and so opens a change case on one in force).
    pub fn changes_benefit(self) -> bool {
        matches!(
            self,
            WarningResult::Adjust | WarningResult::Suspend | WarningResult::Stop
        )
    }

    pub const ALL: &'static [WarningResult] = &[
        WarningResult::NoEffect,
        WarningResult::Adjust,
        WarningResult::Suspend,
        WarningResult::Stop,
        WarningResult::Refer,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            WarningResult::NoEffect => "no_effect",
            WarningResult::Adjust => "adjust",
            WarningResult::Suspend => "suspend",
            WarningResult::Stop => "stop",
            WarningResult::Refer => "refer",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            WarningResult::NoEffect => "核实无影响",
            WarningResult::Adjust => "调整救助金额",
            WarningResult::Suspend => "暂停发放",
            WarningResult::Stop => "停止救助",
            WarningResult::Refer => "转办",
        }
    }
    pub fn parse(s: &str) -> Option<WarningResult> {
        WarningResult::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningRecord {
    pub id: i64,
    pub run_id: i64,
    pub month: String,
    pub household_id: HouseholdId,
    pub household_code: String,
    pub kind: String,
    pub division: String,
    pub township: String,
    pub due: NaiveDate,
    /// `open` or `closed`.
    pub status: String,
    pub evidence: serde_json::Value,
    pub result: Option<WarningResult>,
    pub note: Option<String>,
    /// The username of who closed it (销号人), as recorded.
    pub closed_by: Option<String>,
    /// Their name as the user list has it now, when the account is known.
    #[serde(default)]
    pub closed_by_name: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub row_version: i64,
    /// The home visit or check behind the closure, when recorded.
    #[serde(default)]
    pub visit_date: Option<NaiveDate>,
    /// Documents of the household cited by the closure (ids).
    #[serde(default)]
    pub attachments: Vec<i64>,
    /// The change case (调整/暂停/停止) the closure opened on the household's approved case.
    #[serde(default)]
    pub change_case_id: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningQuery {
    pub month: Option<String>,
    pub run_id: Option<i64>,
    pub kind: Option<String>,
    /// A township (or any division) under which the household lies.
    pub division: Option<DivisionCode>,
    /// `open` or `closed`.
    pub status: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseWarning {
    pub result: WarningResult,
    pub note: String,
    /// The date of the home visit or check (optional, not after today).
    #[serde(default)]
    pub visit_date: Option<NaiveDate>,
    /// Documents of the household the closure cites (optional; each must be the household's).
    #[serde(default)]
    pub attachments: Vec<i64>,
}
