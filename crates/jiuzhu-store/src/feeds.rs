//! Departments' deliveries kept with their provenance, and the monthly comparison run from the
//! store: the I/O around the pure matcher `jiuzhu-verify` that the CLI, the web API and the
//! benchmark share.
//!
//! It lives in the store crate because it is persistence: it keeps each delivered file under the
//! data directory by its SHA-256 (`<data-dir>/feeds/<sha256>.csv`, written under a temporary name
//! and renamed, so a file is either complete or absent and the same content is kept once) and
//! records the delivery, the run and its warnings through [`Store`]. The pure crates stay free of
//! I/O; the binaries stay thin.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use jiuzhu_domain::access::{ImportFeeds, RunVerification};
use jiuzhu_domain::{Area, DivisionCode, Grant};
use jiuzhu_verify::{
    run_month, CaseloadBuilder, CaseloadIndex, Delivery, DeliveryReport, FeedKind, IngestOptions,
    RejectionPolicy, VerifyPolicy, Warning, YearMonth,
};

use crate::verification::{FeedDelivery, NewDelivery, NewRun, NewWarning, Rejection};
use crate::{Store, StoreError, VerificationRun};

/// Days a township has to check a warning (POLICY §7: 核查处置 within 15 working days; the
/// calendar is not applied here yet).
pub const WARNING_DUE_DAYS: i64 = 21;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FeedError + '_ {
    move |source| FeedError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where delivered files are kept: `<data-dir>/feeds/<sha256>.csv`.
#[derive(Debug, Clone)]
pub struct FeedFiles {
    root: PathBuf,
}

static STAGE_SEQ: AtomicU64 = AtomicU64::new(0);

/// A file being kept, under a temporary name until its SHA-256 is known.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
}

impl Staged {
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The path, no longer removed on drop (the caller hands it to [`import_feed`] as a staged
    /// upload, which moves it under its SHA-256).
    pub fn into_path(self) -> PathBuf {
        let path = self.path.clone();
        std::mem::forget(self);
        path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl FeedFiles {
    /// The data directory of a database URL: `sqlite://dir/x.sqlite` keeps files in `dir`;
    /// other databases in `./data`.
    pub fn default_dir(database_url: &str) -> PathBuf {
        if let Some(rest) = database_url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            let path = Path::new(rest.split('?').next().unwrap_or(rest));
            if let Some(dir) = path.parent() {
                if !dir.as_os_str().is_empty() {
                    return dir.to_path_buf();
                }
            }
            return PathBuf::from(".");
        }
        PathBuf::from("data")
    }

    pub fn new(data_dir: impl Into<PathBuf>) -> FeedFiles {
        FeedFiles {
            root: data_dir.into(),
        }
    }

    fn feeds_dir(&self) -> Result<PathBuf, FeedError> {
        let dir = self.root.join("feeds");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(dir)
    }

    /// The kept file of a delivery.
    pub fn path_of(&self, content_key: &str) -> PathBuf {
        self.root.join(content_key)
    }

    /// A temporary file in the feeds directory for the caller to write (an upload).
    pub fn stage_new(&self) -> Result<Staged, FeedError> {
        let dir = self.feeds_dir()?;
        let n = STAGE_SEQ.fetch_add(1, Ordering::Relaxed);
        Ok(Staged {
            path: dir.join(format!(".incoming-{}-{n}", std::process::id())),
        })
    }

    /// Stages a copy of `src`: a hard link when it is on the same file system (a delivery is
    /// never modified in place, and the link costs nothing however big the file), else a copy.
    pub fn stage_copy(&self, src: &Path) -> Result<Staged, FeedError> {
        let staged = self.stage_new()?;
        if std::fs::hard_link(src, &staged.path).is_err() {
            std::fs::copy(src, &staged.path).map_err(io(src))?;
        }
        Ok(staged)
    }

    /// Renames a staged file to its content key (`feeds/<sha256>.csv`); the same content
    /// delivered twice is kept once.
    pub fn commit(&self, staged: Staged, sha256: &str) -> Result<String, FeedError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FeedError::Invalid(format!("not a SHA-256: {sha256}")));
        }
        let key = format!("feeds/{sha256}.csv");
        let target = self.root.join(&key);
        if !target.exists() {
            std::fs::rename(&staged.path, &target).map_err(io(&target))?;
        }
        Ok(key)
    }
}

/// A new delivery: a file the department handed over.
#[derive(Debug, Clone)]
pub struct NewFeedFile {
    pub kind: FeedKind,
    pub source: String,
    pub data_date: NaiveDate,
    pub path: PathBuf,
    /// The file is a staged upload of ours: move it instead of linking.
    pub staged: bool,
}

/// What became of a delivery.
#[derive(Debug, Clone)]
pub struct ImportedFeed {
    pub delivery: FeedDelivery,
    pub rejections: Vec<Rejection>,
}

fn rejection_text(p: RejectionPolicy) -> String {
    match p {
        RejectionPolicy::KeepGoodRows => "keep_good_rows".into(),
        RejectionPolicy::RefuseAbove { max_bad_rows } => format!("refuse_above:{max_bad_rows}"),
    }
}

fn new_delivery(
    f: &NewFeedFile,
    outcome: &Result<DeliveryReport, jiuzhu_verify::IngestError>,
    content_key: String,
    sha_of_file: impl FnOnce() -> Result<(String, u64), FeedError>,
) -> Result<NewDelivery, FeedError> {
    Ok(match outcome {
        Ok(r) => NewDelivery {
            kind: f.kind.as_str().into(),
            source: f.source.clone(),
            data_date: f.data_date,
            sha256: r.sha256.clone(),
            bytes: r.bytes as i64,
            rows_total: r.rows as i64,
            rows_accepted: if r.refused { 0 } else { r.good_rows as i64 },
            rows_rejected: r.bad_rows as i64,
            refused: r.refused,
            rejection_policy: rejection_text(r.rejection),
            content_key,
            rejections: r
                .bad
                .iter()
                .map(|b| Rejection {
                    row: b.row as i64,
                    column: b
                        .column
                        .map(|c| format!("{c}({})", b.column_zh.unwrap_or(c))),
                    code: b.code.into(),
                    reason: b.reason_zh.clone(),
                })
                .collect(),
        },
        // The file cannot be read as this kind at all (no header, a required column missing):
        // the delivery is recorded as refused, citing the header line.
        Err(e) => {
            let (sha256, bytes) = sha_of_file()?;
            NewDelivery {
                kind: f.kind.as_str().into(),
                source: f.source.clone(),
                data_date: f.data_date,
                sha256,
                bytes: bytes as i64,
                rows_total: 0,
                rows_accepted: 0,
                rows_rejected: 0,
                refused: true,
                rejection_policy: rejection_text(f.kind.schema().rejection),
                content_key,
                rejections: vec![Rejection {
                    row: 1,
                    column: None,
                    code: e.code().into(),
                    reason: e.message_zh(),
                }],
            }
        }
    })
}

fn sha_file(path: &Path) -> Result<(String, u64), FeedError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io(path))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Keeps a delivered file and records it: the file is streamed once through the parser
/// (SHA-256, row counts, bad rows, the source's rejection policy), linked or moved into the data
/// directory under its SHA-256 and recorded with a `feed_delivered` audit event.
pub async fn import_feed(
    store: &dyn Store,
    g: &Grant<ImportFeeds>,
    files: &FeedFiles,
    f: &NewFeedFile,
) -> Result<ImportedFeed, FeedError> {
    let staged = stage(files, f)?;
    let path = staged.path().to_path_buf();
    let kind = f.kind;
    let month = YearMonth {
        year: chrono::Datelike::year(&f.data_date) as u32,
        month: chrono::Datelike::month(&f.data_date),
    };
    let outcome = tokio::task::spawn_blocking(move || {
        // No caseload: this pass is for provenance and bad rows; matching is the run's.
        let index = CaseloadBuilder::new(0).build();
        let policy = VerifyPolicy::bench_default();
        let file = std::fs::File::open(&path).map_err(jiuzhu_verify::IngestError::Io)?;
        jiuzhu_verify::ingest_reader(kind, file, &index, &policy, month, IngestOptions::default())
            .map(|o| o.report)
    })
    .await
    .map_err(|e| FeedError::Invalid(format!("ingest task failed: {e}")))?;
    if let Err(jiuzhu_verify::IngestError::Io(e)) = &outcome {
        return Err(FeedError::Io {
            path: f.path.display().to_string(),
            source: std::io::Error::new(e.kind(), e.to_string()),
        });
    }
    let staged_path = staged.path().to_path_buf();
    let sha = match &outcome {
        Ok(r) => r.sha256.clone(),
        Err(_) => sha_file(&staged_path)?.0,
    };
    let key = files.commit(staged, &sha)?;
    let d = new_delivery(f, &outcome, key.clone(), || sha_file(&files.path_of(&key)))?;
    let (delivery, rejections) = store.record_delivery(g, &d).await?;
    Ok(ImportedFeed {
        delivery,
        rejections,
    })
}

fn stage(files: &FeedFiles, f: &NewFeedFile) -> Result<Staged, FeedError> {
    if f.staged {
        Ok(Staged {
            path: f.path.clone(),
        })
    } else {
        files.stage_copy(&f.path)
    }
}

/// The caseload index of a run, with what the index does not hold: each household's division
/// (interned) and its number in the system it came from.
pub struct RunCaseload {
    pub index: CaseloadIndex,
    divisions: Vec<DivisionCode>,
    household_division: Vec<u32>,
    /// Per household: the imported household number (`source_ref`), else the store id.
    source_refs: Vec<Box<str>>,
}

impl RunCaseload {
    pub fn division(&self, h: jiuzhu_verify::HouseholdIx) -> &DivisionCode {
        &self.divisions[self.household_division[h as usize] as usize]
    }
    pub fn source_ref(&self, h: jiuzhu_verify::HouseholdIx) -> &str {
        &self.source_refs[h as usize]
    }
}

/// Reads the caseload in scope (members active on `date`) into the index: from the store's
/// caseload snapshot when no registry change is newer than it, else from the registry (one
/// set-based query), leaving a new snapshot for the next run.
pub async fn load_caseload(
    store: &dyn Store,
    g: &Grant<RunVerification>,
    division: Option<&DivisionCode>,
    date: NaiveDate,
) -> Result<RunCaseload, FeedError> {
    let key = format!(
        "{}|{}",
        g.scope().root(),
        division.map(|d| d.to_string()).unwrap_or_default()
    );
    let seq = store.registry_seq().await?;
    if let Some((at, data)) = store.caseload_snapshot(g, &key, date).await? {
        if at == seq {
            if let Some(c) = decode_snapshot(&data) {
                return Ok(c);
            }
        }
    }
    let (caseload, data) = read_registry(store, g, division, date, true).await?;
    let counts = (
        caseload.index.households() as i64,
        caseload.index.members() as i64,
    );
    store
        .save_caseload_snapshot(g, &key, date, seq, counts, &data)
        .await?;
    Ok(caseload)
}

/// Builds (or rebuilds) the snapshot a month's run will read, e.g. right after a caseload
/// import, so the run itself does not join the registry.
pub async fn refresh_caseload_snapshot(
    store: &dyn Store,
    g: &Grant<RunVerification>,
    division: Option<&DivisionCode>,
    date: NaiveDate,
) -> Result<(usize, usize), FeedError> {
    let key = format!(
        "{}|{}",
        g.scope().root(),
        division.map(|d| d.to_string()).unwrap_or_default()
    );
    let seq = store.registry_seq().await?;
    // The snapshot alone: the index is built by the run that reads it.
    let (_, data) = read_registry(store, g, division, date, false).await?;
    let c = decode_counts(&data).ok_or_else(|| FeedError::Invalid("snapshot unreadable".into()))?;
    store
        .save_caseload_snapshot(g, &key, date, seq, (c.0 as i64, c.1 as i64), &data)
        .await?;
    Ok(c)
}

const SNAPSHOT_MAGIC: &[u8] = b"JZCS1";

/// Snapshot layout (little endian): magic; per household: id i64, area u8 (0 urban, 1 rural),
/// division u16 length + text, source_ref u16 length + text, members u16, member keys u64 each.
async fn read_registry(
    store: &dyn Store,
    g: &Grant<RunVerification>,
    division: Option<&DivisionCode>,
    date: NaiveDate,
    build_index: bool,
) -> Result<(RunCaseload, Vec<u8>), FeedError> {
    let mut b = CaseloadBuilder::new(1 << 16);
    let mut data: Vec<u8> = SNAPSHOT_MAGIC.to_vec();
    let mut divisions: Vec<DivisionCode> = Vec::new();
    let mut division_ix: HashMap<String, u32> = HashMap::new();
    let mut household_division: Vec<u32> = Vec::new();
    let mut source_refs: Vec<Box<str>> = Vec::new();
    let bad = |m: String| StoreError::Database(format!("caseload unreadable: {m}"));
    store
        .caseload_for_verification(g, division, date, &mut |r| {
            let area = Area::parse(&r.area).ok_or_else(|| bad(r.area.clone()))?;
            let h = if build_index {
                b.add_household(r.household_id, area)
                    .map_err(|e| bad(e.to_string()))?
            } else {
                0
            };
            let d = match division_ix.get(&r.division) {
                Some(&d) => d,
                None => {
                    let code =
                        DivisionCode::parse(&r.division).map_err(|_| bad(r.division.clone()))?;
                    divisions.push(code);
                    let d = (divisions.len() - 1) as u32;
                    division_ix.insert(r.division.clone(), d);
                    d
                }
            };
            if build_index {
                household_division.push(d);
            }
            let source = r
                .source_ref
                .unwrap_or_else(|| r.household_id.to_string())
                .into_boxed_str();
            data.extend_from_slice(&r.household_id.to_le_bytes());
            data.push(u8::from(area == Area::Rural));
            put_text(&mut data, &r.division);
            put_text(&mut data, &source);
            if build_index {
                source_refs.push(source);
            }
            let count_at = data.len();
            data.extend_from_slice(&0u16.to_le_bytes());
            let mut n = 0u16;
            for id in r.id_numbers.split(',') {
                let key = jiuzhu_verify::parse::id_key(id.as_bytes())
                    .map_err(|_| bad(format!("identity number of household {}", r.household_id)))?;
                if build_index {
                    b.add_member_key(h, key).map_err(|e| bad(e.to_string()))?;
                }
                data.extend_from_slice(&key.to_le_bytes());
                n += 1;
            }
            data[count_at..count_at + 2].copy_from_slice(&n.to_le_bytes());
            Ok(())
        })
        .await?;
    Ok((
        RunCaseload {
            index: b.build(),
            divisions,
            household_division,
            source_refs,
        },
        data,
    ))
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Households and members in a snapshot.
fn decode_counts(data: &[u8]) -> Option<(usize, usize)> {
    let mut rest = data.strip_prefix(SNAPSHOT_MAGIC)?;
    let (mut households, mut members) = (0usize, 0usize);
    let skip_text = |r: &mut &[u8]| -> Option<()> {
        let n = u16::from_le_bytes(r.get(..2)?.try_into().ok()?) as usize;
        *r = r.get(2 + n..)?;
        Some(())
    };
    while !rest.is_empty() {
        rest = rest.get(9..)?;
        skip_text(&mut rest)?;
        skip_text(&mut rest)?;
        let n = u16::from_le_bytes(rest.get(..2)?.try_into().ok()?) as usize;
        rest = rest.get(2 + 8 * n..)?;
        households += 1;
        members += n;
    }
    Some((households, members))
}

/// `None` when the snapshot is not one this version wrote (it is then rebuilt).
fn decode_snapshot(data: &[u8]) -> Option<RunCaseload> {
    struct Cur<'a>(&'a [u8]);
    impl<'a> Cur<'a> {
        fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
            self.0 = b;
            Some(a)
        }
        fn u16(&mut self) -> Option<u16> {
            Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
        }
        fn u64(&mut self) -> Option<u64> {
            Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
        }
        fn text(&mut self) -> Option<&'a str> {
            let n = self.u16()? as usize;
            std::str::from_utf8(self.take(n)?).ok()
        }
    }
    // The table sized for exactly the members: an oversized one costs the feed pass cache misses.
    let (_, members) = decode_counts(data)?;
    let mut c = Cur(data.strip_prefix(SNAPSHOT_MAGIC)?);
    let mut b = CaseloadBuilder::new(members + 16);
    let mut divisions: Vec<DivisionCode> = Vec::new();
    let mut division_ix: HashMap<&str, u32> = HashMap::new();
    let mut household_division = Vec::new();
    let mut source_refs = Vec::new();
    while !c.0.is_empty() {
        let id = c.u64()? as i64;
        let area = if c.take(1)?[0] == 1 {
            Area::Rural
        } else {
            Area::Urban
        };
        let div = c.text()?;
        let d = match division_ix.get(div) {
            Some(&d) => d,
            None => {
                divisions.push(DivisionCode::parse(div).ok()?);
                let d = (divisions.len() - 1) as u32;
                division_ix.insert(div, d);
                d
            }
        };
        household_division.push(d);
        source_refs.push(Box::<str>::from(c.text()?));
        let h = b.add_household(id, area).ok()?;
        for _ in 0..c.u16()? {
            b.add_member_key(h, c.u64()?).ok()?;
        }
    }
    Some(RunCaseload {
        index: b.build(),
        divisions,
        household_division,
        source_refs,
    })
}

/// What a run compares a month against: deliveries already kept, and new files delivered with
/// the run (the benchmark's job, or an operator's "deliver and compare" in one pass).
pub enum RunFeed {
    Kept(FeedDelivery),
    New(NewFeedFile),
}

pub struct RunReport {
    pub run: VerificationRun,
    pub caseload: RunCaseload,
    /// The run's warnings, sorted by household store id then kind.
    pub warnings: Vec<Warning>,
    /// Deliveries recorded by this run (new files), with their rejected rows.
    pub imported: Vec<ImportedFeed>,
    /// Deliveries the run read (kept and new), in the order given.
    pub used: Vec<FeedDelivery>,
}

/// Everything a month's comparison needs besides the store.
pub struct MonthRequest<'a> {
    pub month: YearMonth,
    pub division: Option<DivisionCode>,
    pub policy: &'a VerifyPolicy,
    pub threads: usize,
    /// When the run started (from the caller's clock).
    pub started_at: DateTime<Utc>,
}

pub fn month_end(m: YearMonth) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(m.year as i32, m.month, 1).expect("valid month");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("in range");
    next.pred_opt().expect("in range")
}

/// The monthly comparison: builds the caseload index from the store, streams every delivery
/// once (new files are hashed, checked and matched in the same pass, then kept and recorded),
/// and stores the run with its warnings, each citing its delivery, row and data date.
pub async fn run_from_store(
    store: &dyn Store,
    g_run: &Grant<RunVerification>,
    g_import: Option<&Grant<ImportFeeds>>,
    files: &FeedFiles,
    req: &MonthRequest<'_>,
    feeds: Vec<RunFeed>,
) -> Result<RunReport, FeedError> {
    let end = month_end(req.month);
    let timing = Phases::new();
    timing.mark("start");
    // Stage new files first (a link each): the delivery is kept exactly as it was read.
    let mut staged: Vec<Option<Staged>> = Vec::new();
    let mut paths: Vec<(FeedKind, PathBuf)> = Vec::new();
    for f in &feeds {
        match f {
            RunFeed::Kept(d) => {
                let kind = FeedKind::parse(&d.kind)
                    .ok_or_else(|| FeedError::Invalid(format!("unknown feed kind {}", d.kind)))?;
                paths.push((kind, files.path_of(&d.content_key)));
                staged.push(None);
            }
            RunFeed::New(n) => {
                if g_import.is_none() {
                    return Err(FeedError::Invalid(
                        "delivering files needs the ImportFeeds permission".into(),
                    ));
                }
                let s = stage(files, n)?;
                paths.push((n.kind, s.path().to_path_buf()));
                staged.push(Some(s));
            }
        }
    }
    let caseload = load_caseload(store, g_run, req.division.as_ref(), end).await?;
    timing.mark("caseload index read from the store");
    let mut opened = Vec::with_capacity(paths.len());
    for (kind, p) in &paths {
        let file = std::fs::File::open(p).map_err(io(p))?;
        let size_hint = file.metadata().map(|m| m.len()).unwrap_or(0);
        opened.push(Delivery {
            kind: *kind,
            reader: file,
            size_hint,
            options: IngestOptions::default(),
        });
    }
    let policy = req.policy.clone();
    let (month, threads) = (req.month, req.threads);
    let (caseload, run) = tokio::task::spawn_blocking(move || {
        let run = run_month(&caseload.index, &policy, month, opened, threads);
        (caseload, run)
    })
    .await
    .map_err(|e| FeedError::Invalid(format!("comparison task failed: {e}")))?;
    timing.mark("feeds streamed and matched");

    // Record the new deliveries (kept under their SHA-256) and collect the ones used.
    let mut used: Vec<FeedDelivery> = Vec::with_capacity(feeds.len());
    let mut imported = Vec::new();
    let mut refused_kinds = Vec::new();
    for ((f, s), (kind, outcome)) in feeds.into_iter().zip(staged).zip(run.outcomes) {
        match f {
            RunFeed::Kept(d) => {
                if let Err(e) = outcome {
                    return Err(FeedError::Invalid(format!(
                        "kept delivery {} ({}) unreadable: {}",
                        d.id,
                        d.kind,
                        e.message_zh()
                    )));
                }
                used.push(d);
            }
            RunFeed::New(n) => {
                let s = s.expect("staged");
                let sha = match &outcome {
                    Ok(r) => r.sha256.clone(),
                    Err(_) => sha_file(s.path())?.0,
                };
                let key = files.commit(s, &sha)?;
                let d = new_delivery(&n, &outcome, key.clone(), || sha_file(&files.path_of(&key)))?;
                let g = g_import.expect("checked above");
                let (delivery, rejections) = store.record_delivery(g, &d).await?;
                if d.refused {
                    refused_kinds.push(kind);
                }
                used.push(delivery.clone());
                imported.push(ImportedFeed {
                    delivery,
                    rejections,
                });
            }
        }
    }
    let by_kind: HashMap<FeedKind, &FeedDelivery> = used
        .iter()
        .filter_map(|d| FeedKind::parse(&d.kind).map(|k| (k, d)))
        .collect();
    let warnings: Vec<Warning> = run
        .warnings
        .into_iter()
        .filter(|w| !refused_kinds.contains(&w.evidence.source))
        .collect();
    let new_warnings: Vec<NewWarning> = warnings
        .iter()
        .map(|w| {
            let d = by_kind.get(&w.evidence.source);
            NewWarning {
                household_id: w.household_ref,
                kind: w.kind.as_str().into(),
                division: caseload.division(w.household).clone(),
                evidence: evidence_json(w, d.copied()),
            }
        })
        .collect();
    timing.mark("deliveries kept and recorded");
    let households = caseload.index.households() as i64;
    timing.mark("warnings' evidence built");
    let stored = store
        .store_run(
            g_run,
            &NewRun {
                month: req.month.to_string(),
                division: req
                    .division
                    .clone()
                    .unwrap_or_else(|| g_run.scope().root().clone()),
                started_at: req.started_at,
                delivery_ids: used.iter().map(|d| d.id).collect(),
                households,
                due_days: WARNING_DUE_DAYS,
            },
            &new_warnings,
        )
        .await?;
    timing.mark("run and warnings stored");
    Ok(RunReport {
        run: stored,
        caseload,
        warnings,
        imported,
        used,
    })
}

/// R-VF-2: the finding with its source record (delivery, file line) and data date; the member's
/// identity number masked (the full number is one reveal away, audited).
fn evidence_json(w: &Warning, d: Option<&FeedDelivery>) -> String {
    let e = &w.evidence;
    // Written directly as text: every value is a number, a code, a date, a masked number or a
    // money amount, except `value` (a display string), which goes through serde_json.
    let value = serde_json::Value::String(e.value.to_string());
    format!(
        "{{\"source\":\"{}\",\"delivery\":{},\"data_date\":{},\"row\":{},\
         \"person\":\"{}\",\"value\":{value},\"threshold\":{},\"records\":{}}}",
        e.source.as_str(),
        d.map_or("null".to_string(), |d| d.id.to_string()),
        d.map_or("null".to_string(), |d| format!("\"{}\"", d.data_date)),
        e.row,
        e.person.masked(),
        e.threshold
            .map_or("null".to_string(), |t| format!("\"{t}\"")),
        e.records,
    )
}

/// Counts by warning kind, for reports.
pub fn counts_by_kind(warnings: &[Warning]) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for w in warnings {
        *m.entry(w.kind.as_str()).or_insert(0) += 1;
    }
    m
}

/// Phase timings on stderr when `JIUZHU_VERIFY_TIMING` is set (for measuring the run).
struct Phases {
    on: bool,
    last: std::sync::Mutex<std::time::Instant>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            on: std::env::var_os("JIUZHU_VERIFY_TIMING").is_some(),
            last: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }
    fn mark(&self, what: &str) {
        if self.on {
            let now = std::time::Instant::now();
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            let hwm = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|t| {
                    t.lines()
                        .find(|l| l.starts_with("VmHWM"))
                        .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
                })
                .unwrap_or_default();
            eprintln!("{what}: {:.3} s (peak {hwm})", (now - *last).as_secs_f64());
            *last = now;
        }
    }
}
