//! Departments' deliveries kept with their provenance, and the month's comparison: the I/O around
//! the pure matcher `jiuzhu-verify` that the command line, the web API and pages and the
//! benchmark share. Each delivered file is kept by its SHA-256 ([`jiuzhu_store::kept`]) and the
//! delivery, the run and its warnings are recorded through the store.

pub mod closing;
pub mod due;
pub mod leads;
mod month_run;
mod records;
pub mod report;
pub mod thresholds;

use crate::App;
/// Creates a staged delivery's file readable by the service's user only.
pub use jiuzhu_store::private_fs::create_file_async as create_private_file;
pub use month_run::{plan_run, run_planned, PlannedRun};

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use jiuzhu_domain::access::{ImportFeeds, RunVerification};
use jiuzhu_domain::{Area, DivisionCode, FeedFormat, Grant, Month};
use jiuzhu_verify::{
    run_month_each, CaseloadBuilder, CaseloadIndex, Delivery, DeliveryReport, FeedKind,
    FeedKindSchema, IngestOptions, Prehash, RejectionPolicy, Warning,
};

use jiuzhu_import::feed_formats::{self, ConvertError, FormatError};
use jiuzhu_store::feed_sources::SourceLatest;
use jiuzhu_store::kept::{FeedError, FeedFiles, Staged};
use jiuzhu_store::outreach::NewLead;
use jiuzhu_store::verification::{
    FeedDelivery, NewDelivery, NewWarning, Rejection, RunPart, RunStart, SourceStatus, SourceUse,
};
use jiuzhu_store::{Store, StoreError, VerificationRun};

/// What the parser reads for a delivery.
pub struct Readable {
    pub format: FeedFormat,
    /// The converted UTF-8 CSV (removed when dropped); `None` when the original is read as is.
    pub converted: Option<Staged>,
    /// Sheet row of the header minus one: added to the parser's line numbers.
    pub row_offset: u64,
}

impl Readable {
    pub fn path<'a>(&'a self, original: &'a Path) -> &'a Path {
        self.converted.as_ref().map_or(original, |s| s.path())
    }
}

/// The format of a delivery, from its content ([`feed_formats::sniff`]).
pub fn sniff(path: &Path, full: bool) -> Result<FeedFormat, FeedError> {
    feed_formats::sniff(path, full).map_err(io(path))
}

/// Converts `original` (of `format`) into UTF-8 CSV in a private scratch file of the feeds
/// directory. `Ok(Err(_))` is a delivery unreadable in its format; `Err` is an I/O failure of ours.
pub fn readable(
    files: &FeedFiles,
    original: &Path,
    format: FeedFormat,
) -> Result<Result<Readable, FormatError>, FeedError> {
    if format == FeedFormat::Csv {
        return Ok(Ok(Readable {
            format,
            converted: None,
            row_offset: 0,
        }));
    }
    let staged = files.stage_new()?;
    let out = staged.create().map_err(io(staged.path()))?;
    let converted = match format {
        FeedFormat::GbkCsv => feed_formats::gbk_to_utf8(original, out).map(|()| Ok(0)),
        _ => feed_formats::xlsx_to_csv(original, out),
    }
    .map_err(|e| match e {
        ConvertError::Read(source) => io(original)(source),
        ConvertError::Write(source) => io(staged.path())(source),
    })?;
    Ok(converted.map(|row_offset| Readable {
        format,
        converted: Some(staged),
        row_offset,
    }))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FeedError + '_ {
    move |source| FeedError::Io {
        path: path.display().to_string(),
        source,
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

/// The delivery row for the store. `original` is the SHA-256 and size of the bytes as
/// received, when the parser read something else (a converted workbook or GBK file) or could
/// not read it at all; `row_offset` turns the parser's lines back into the department's rows.
fn new_delivery(
    f: &NewFeedFile,
    outcome: &Result<DeliveryReport, jiuzhu_verify::IngestError>,
    content_key: String,
    row_offset: u64,
    original: Option<(String, u64)>,
) -> Result<NewDelivery, FeedError> {
    Ok(match outcome {
        // A header and nothing under it is no delivery of the month: the department's export
        // went wrong, and an accepted empty file would replace real data.
        Ok(r) if r.rows == 0 => refused_delivery(
            f,
            content_key,
            original.unwrap_or_else(|| (r.sha256.clone(), r.bytes)),
            1 + row_offset as i64,
            "NO_DATA_ROWS",
            "文件只有表头,没有数据行;请报送包含数据的文件".into(),
        ),
        Ok(r) => {
            let (sha256, bytes) = original.unwrap_or_else(|| (r.sha256.clone(), r.bytes));
            NewDelivery {
                kind: f.kind.as_str().into(),
                source: f.source.clone(),
                data_date: f.data_date,
                sha256,
                bytes: bytes as i64,
                rows_total: r.rows as i64,
                rows_accepted: if r.refused { 0 } else { r.good_rows as i64 },
                rows_rejected: r.bad_rows as i64,
                // Not one row usable: as the source's latest delivery it would replace its
                // earlier data with nothing, so it is refused whatever the source's policy.
                refused: r.refused || r.good_rows == 0,
                rejection_policy: rejection_text(r.rejection),
                content_key,
                rejections: r
                    .bad
                    .iter()
                    .map(|b| Rejection {
                        row: (b.row + row_offset) as i64,
                        column: b
                            .column
                            .map(|c| format!("{c}({})", b.column_zh.unwrap_or(c))),
                        code: b.code.into(),
                        reason: b.reason_zh.clone(),
                    })
                    .collect(),
            }
        }
        // The file cannot be read as this kind at all (no header, a required column missing):
        // the delivery is recorded as refused, citing the header line.
        Err(e) => refused_delivery(
            f,
            content_key,
            original.ok_or_else(|| FeedError::Invalid("hash of an unread delivery".into()))?,
            1 + row_offset as i64,
            e.code(),
            e.message_zh(),
        ),
    })
}

fn refused_delivery(
    f: &NewFeedFile,
    content_key: String,
    (sha256, bytes): (String, u64),
    row: i64,
    code: &str,
    reason: String,
) -> NewDelivery {
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
            row,
            column: None,
            code: code.into(),
            reason,
        }],
    }
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

/// How far an import has read, for a progress bar: bytes of the file the parser reads (the
/// converted CSV for a workbook or GBK file) out of its size.
#[derive(Debug, Default)]
pub struct FeedProgress {
    pub bytes_read: AtomicU64,
    pub bytes_total: AtomicU64,
}

struct Counting<'a, R> {
    inner: R,
    progress: Option<&'a FeedProgress>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Keeps a delivered file and records it: the file is streamed once through the parser
/// (SHA-256, row counts, bad rows, the source's rejection policy), linked or moved into the data
/// directory under its SHA-256 and recorded with a `feed_delivered` audit event. Workbooks and
/// GBK files are converted for the parser first (`feed_formats`); the kept file is the original.
pub async fn import_feed(
    app: &App,
    g: &Grant<ImportFeeds>,
    f: &NewFeedFile,
) -> Result<ImportedFeed, FeedError> {
    import_feed_with_progress(app, g, f, None).await
}

/// [`import_feed`], reporting the bytes read to `progress`.
pub async fn import_feed_with_progress(
    app: &App,
    g: &Grant<ImportFeeds>,
    f: &NewFeedFile,
    progress: Option<std::sync::Arc<FeedProgress>>,
) -> Result<ImportedFeed, FeedError> {
    let (store, files) = (app.store.as_ref(), app.feeds());
    let staged = stage(files, f)?;
    let original = staged.path().to_path_buf();
    let (format, readable) = {
        let files = files.clone();
        let original = original.clone();
        tokio::task::spawn_blocking(move || {
            let format = sniff(&original, true)?;
            Ok::<_, FeedError>((format, readable(&files, &original, format)?))
        })
        .await
        .map_err(|e| FeedError::Invalid(format!("conversion task failed: {e}")))??
    };
    let readable = match readable {
        Ok(r) => r,
        Err(FormatError { code, message_zh }) => {
            let (sha, bytes) = sha_file(&original)?;
            let key = files.commit_as(staged, &sha, format)?;
            let d = refused_delivery(f, key, (sha, bytes), 1, code, message_zh);
            let (delivery, rejections) = store.record_delivery(g, &d).await?;
            return Ok(ImportedFeed {
                delivery,
                rejections,
            });
        }
    };
    let path = readable.path(&original).to_path_buf();
    let kind = f.kind;
    let month = Month::of(f.data_date);
    let outcome = tokio::task::spawn_blocking(move || {
        // This pass is for provenance and bad rows; matching is the run's.
        let file = std::fs::File::open(&path).map_err(jiuzhu_verify::IngestError::Io)?;
        if let Some(p) = &progress {
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            p.bytes_total.store(size, Ordering::Relaxed);
        }
        let reader = Counting {
            inner: file,
            progress: progress.as_deref(),
        };
        jiuzhu_verify::check_delivery(kind, reader, month, IngestOptions::default())
    })
    .await
    .map_err(|e| FeedError::Invalid(format!("ingest task failed: {e}")))?;
    if let Err(jiuzhu_verify::IngestError::Io(e)) = &outcome {
        return Err(FeedError::Io {
            path: f.path.display().to_string(),
            source: std::io::Error::new(e.kind(), e.to_string()),
        });
    }
    let original_hash = if readable.converted.is_some() || outcome.is_err() {
        Some(sha_file(&original)?)
    } else {
        None
    };
    let sha = match (&original_hash, &outcome) {
        (Some((sha, _)), _) => sha.clone(),
        (None, Ok(r)) => r.sha256.clone(),
        (None, Err(_)) => sha_file(&original)?.0,
    };
    let key = files.commit_as(staged, &sha, format)?;
    let d = new_delivery(f, &outcome, key, readable.row_offset, original_hash)?;
    drop(readable);
    let (delivery, rejections) = store.record_delivery(g, &d).await?;
    Ok(ImportedFeed {
        delivery,
        rejections,
    })
}

fn stage(files: &FeedFiles, f: &NewFeedFile) -> Result<Staged, FeedError> {
    if f.staged {
        Ok(Staged::adopt(f.path.clone()))
    } else {
        files.stage_copy(&f.path)
    }
}

/// The caseload index of a run, with what the index does not hold: each household's division
/// (interned) and its number in the system it came from.
pub struct RunCaseload {
    pub index: CaseloadIndex,
    /// The divisions of the caseload's households, each once.
    divisions: Vec<DivisionCode>,
    /// Each household's division, by position in `divisions`.
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

/// What a month's run reads: per registered source, its latest delivery when the data date
/// is within the policy's window for the kind, and every source with what the run makes of it.
#[derive(Debug, Clone, Default)]
pub struct RunPlan {
    /// The deliveries to compare, by kind then source code.
    pub kept: Vec<FeedDelivery>,
    pub sources: Vec<SourceStatus>,
}

/// Plans a month's run from the sources serving its region and their latest deliveries up to
/// the month's end: a delivery is used when its data date is no more than `window_days[kind]`
/// days before the month's end (the policy's `verify.window_days.<kind>`; one day for a kind
/// not given), else its source is stale; a source that delivered nothing is missing.
pub fn plan_sources(
    latest: Vec<SourceLatest>,
    month: Month,
    window_days: &BTreeMap<FeedKind, u32>,
) -> RunPlan {
    let end = month.last_day();
    let mut plan = RunPlan::default();
    for SourceLatest { source, latest } in latest {
        let Some(kind) = FeedKind::parse(&source.kind) else {
            continue;
        };
        let days = window_days.get(&kind).copied().unwrap_or(1);
        let oldest_accepted = end - chrono::Days::new(u64::from(days));
        let status = match &latest {
            None => SourceUse::Missing,
            Some(d) if d.data_date < oldest_accepted => SourceUse::Stale,
            Some(_) => SourceUse::Used,
        };
        plan.sources.push(SourceStatus {
            kind: source.kind.clone(),
            code: source.code.clone(),
            name: source.name.clone(),
            status,
            delivery_id: latest.as_ref().map(|d| d.id),
            data_date: latest.as_ref().map(|d| d.data_date),
            oldest_accepted,
        });
        if let (SourceUse::Used, Some(d)) = (status, latest) {
            plan.kept.push(d);
        }
    }
    plan.sources
        .sort_by(|a, b| (&a.kind, &a.code).cmp(&(&b.kind, &b.code)));
    plan.kept
        .sort_by(|a, b| (&a.kind, &a.source).cmp(&(&b.kind, &b.source)));
    plan
}

/// Row `row` (as the delivery's rejected rows and warnings cite it: the department's own line
/// or sheet row) of a kept delivery, read through the conversion its import used: what an
/// outreach lead shows of its source. `None` when the row is not a readable record. Blocking:
/// call it off the async workers.
pub fn read_kept_row(
    files: &FeedFiles,
    d: &FeedDelivery,
    row: i64,
) -> Result<Option<jiuzhu_verify::source_row::SourceRow>, FeedError> {
    let kind = FeedKind::parse(&d.kind)
        .ok_or_else(|| FeedError::Invalid(format!("unknown feed kind {}", d.kind)))?;
    let path = files.path_of(&d.content_key);
    let readable = readable(files, &path, FeedFormat::of_content_key(&d.content_key))?
        .map_err(|e| FeedError::Invalid(e.message_zh))?;
    let Some(line) = u64::try_from(row)
        .ok()
        .and_then(|r| r.checked_sub(readable.row_offset))
    else {
        return Ok(None);
    };
    let read_path = readable.path(&path);
    let file = std::fs::File::open(read_path).map_err(io(read_path))?;
    let found = jiuzhu_verify::source_row::read_row(kind, line, std::io::BufReader::new(file))
        .map_err(|e| FeedError::Invalid(e.to_string()))?;
    Ok(found.map(|mut r| {
        r.row = row as u64;
        r
    }))
}

/// Why a month compares no household, in Chinese: the registry starts after it, holds no one, or
/// none of its households is in force then (no benefit, application or recipient import).
pub fn no_households(month: Month, first: Option<NaiveDate>) -> String {
    match first {
        Some(d) if Month::of(d) > month => format!(
            "{month} 无在册家庭可比对:本辖区在册数据自 {d} 起(存量导入未指定 --valid-from 时以导入当日为在册日期);\
             请比对 {} 或之后的月份,或以 --valid-from 重新导入",
            Month::of(d)
        ),
        Some(_) => format!(
            "{month} 无可比对的家庭:本辖区的在册家庭该月均无在享救助、在办申请,也未作为在册救助对象导入"
        ),
        None => format!("{month} 无在册家庭可比对:本辖区尚未登记或导入家庭"),
    }
}

/// Why a month has nothing to compare, in Chinese: no source registered, or each one's data is
/// stale or missing.
pub fn nothing_to_compare(month: Month, plan: &RunPlan) -> String {
    if plan.sources.is_empty() {
        return format!(
            "{month} 无法比对:本辖区尚未登记任何核对数据来源,请县级业务管理员先在“数据来源”中登记"
        );
    }
    let count = |u: SourceUse| plan.sources.iter().filter(|s| s.status == u).count();
    format!(
        "{month} 无法比对:已登记的 {} 个数据来源中,{} 个数据已过期,{} 个至月底未报送",
        plan.sources.len(),
        count(SourceUse::Stale),
        count(SourceUse::Missing)
    )
}

/// What a run compares a month against: deliveries already kept, and new files delivered with
/// the run (the benchmark's job, or an operator's "deliver and compare" in one pass).
pub enum RunFeed {
    Kept(FeedDelivery),
    New(NewFeedFile),
}

pub struct RunReport {
    pub run: VerificationRun,
    pub caseload: Arc<RunCaseload>,
    /// The run's warnings, sorted by household store id then kind.
    pub warnings: Vec<Warning>,
    /// Deliveries recorded by this run (new files), with their rejected rows.
    pub imported: Vec<ImportedFeed>,
    /// Deliveries the run read (kept and new), in the order given.
    pub used: Vec<FeedDelivery>,
    /// Outreach leads stored with the run (only when the policy sets the outreach line).
    pub leads_stored: u64,
}

impl RunReport {
    /// How many warnings the run found in each township (the division itself for a household
    /// registered above township level).
    pub fn found_by_township(&self) -> BTreeMap<String, u64> {
        let mut by_township = BTreeMap::<String, u64>::new();
        for w in &self.warnings {
            let d = self.caseload.division(w.household);
            let t = d.township().unwrap_or_else(|| d.clone()).to_string();
            *by_township.entry(t).or_default() += 1;
        }
        by_township
    }
}

/// Everything a month's comparison needs besides the store.
pub struct MonthRequest<'a> {
    pub month: Month,
    pub division: Option<DivisionCode>,
    /// The policy library the thresholds are read from (each household's county's policy).
    pub policies: &'a jiuzhu_policy::PolicyLibrary,
    pub threads: usize,
    /// When the run started (from the caller's clock).
    pub started_at: DateTime<Utc>,
    /// The warnings' due date: the run's day plus the policy's `verify.handling.working_days`
    /// on the working-day calendar, computed by the caller (the store knows no calendars).
    pub due: NaiveDate,
    /// The registered sources as planned ([`plan_sources`]); a new file delivered with the run
    /// adds its source as used.
    pub sources: Vec<SourceStatus>,
}

/// A month after the current one (Beijing time) has no data yet: its comparison is refused
/// instead of comparing against whatever is newest. The reason in Chinese, for the run itself
/// and for the forms that start one.
pub fn refuse_future_month(month: Month, now: DateTime<Utc>) -> Result<(), String> {
    let today = jiuzhu_domain::clock::beijing_date(now);
    if month > Month::of(today) {
        return Err(format!(
            "{month} 尚未到来,不能比对(今天是 {today}):只能比对当月及以前的月份"
        ));
    }
    Ok(())
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
    refuse_future_month(req.month, req.started_at).map_err(FeedError::Invalid)?;
    let end = req.month.last_day();
    let timing = Phases::new();
    timing.mark("start");
    // Stage new files first (a link each): the delivery is kept exactly as it was read.
    let mut staged: Vec<Option<Staged>> = Vec::new();
    let mut paths: Vec<(FeedKind, PathBuf)> = Vec::new();
    // Per feed: the format, its converted form (kept alive until the pass is over) and the row
    // offset of a workbook.
    let mut readables: Vec<(FeedFormat, Readable)> = Vec::new();
    let mut unreadable_new: Vec<(NewFeedFile, Staged, FeedFormat, FormatError)> = Vec::new();
    let mut kept_feeds = Vec::with_capacity(feeds.len());
    for f in feeds {
        match &f {
            RunFeed::Kept(d) => {
                let kind = FeedKind::parse(&d.kind)
                    .ok_or_else(|| FeedError::Invalid(format!("unknown feed kind {}", d.kind)))?;
                let path = files.path_of(&d.content_key);
                let format = FeedFormat::of_content_key(&d.content_key);
                let r = readable(files, &path, format)?.map_err(|e| {
                    FeedError::Invalid(format!(
                        "kept delivery {} ({}) unreadable: {}",
                        d.id, d.kind, e.message_zh
                    ))
                })?;
                paths.push((kind, r.path(&path).to_path_buf()));
                readables.push((format, r));
                staged.push(None);
            }
            RunFeed::New(n) => {
                if g_import.is_none() {
                    return Err(FeedError::Invalid(
                        "delivering files needs the ImportFeeds permission".into(),
                    ));
                }
                let s = stage(files, n)?;
                // The prefix only: a run's deliveries are big, and their header tells.
                let format = sniff(s.path(), false)?;
                match readable(files, s.path(), format)? {
                    Ok(r) => {
                        paths.push((n.kind, r.path(s.path()).to_path_buf()));
                        readables.push((format, r));
                        staged.push(Some(s));
                    }
                    Err(e) => {
                        unreadable_new.push((n.clone(), s, format, e));
                        continue;
                    }
                }
            }
        }
        kept_feeds.push(f);
    }
    let feeds = kept_feeds;
    // Reading the caseload index keeps one core busy; the other hashes the biggest deliveries
    // from their start meanwhile (hashing needs no index), and the pass hashes only the rest.
    let prehashing = Prehashing::start(paths.iter().map(|(_, p)| p.clone()).collect());
    let caseload = load_caseload(store, g_run, req.division.as_ref(), end).await?;
    if caseload.index.households() == 0 {
        // Nothing to compare is an answer to explain, not "0 warnings".
        let first = store
            .first_registered_day(g_run, req.division.as_ref())
            .await?;
        return Err(FeedError::Invalid(no_households(req.month, first)));
    }
    // Each household is judged by its county's policy as of the month's end.
    let thresholds =
        thresholds::resolve(req.policies, &caseload, end).map_err(FeedError::Invalid)?;
    let mut prehashes = prehashing.finish().await.into_iter();
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
            prehash: prehashes.next().flatten(),
        });
    }
    // The pass reads the deliveries on `threads` blocking threads and hands over each one's
    // findings as soon as it is read; meanwhile the store writes the run in one transaction
    // (the delivery, then its warnings citing it), so the database works while the other
    // deliveries are read.
    let caseload = Arc::new(caseload);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let pass = {
        let caseload = caseload.clone();
        let (month, threads) = (req.month, req.threads);
        tokio::task::spawn_blocking(move || {
            run_month_each(&caseload.index, &thresholds, month, opened, threads, |o| {
                // A closed channel means the run failed elsewhere; the reading just ends.
                let _ = done_tx.send(o);
            });
        })
    };
    let start = RunStart {
        month: req.month.to_string(),
        division: req
            .division
            .clone()
            .unwrap_or_else(|| g_run.scope().root().clone()),
        started_at: req.started_at,
        households: caseload.index.households() as i64,
        due: req.due,
    };
    let (parts_tx, parts_rx) = tokio::sync::mpsc::channel(4);
    let writing = store.store_run_streamed(g_run, g_import, &start, parts_rx);
    let producing = async {
        // Moved in, so the writer sees the end of the parts however this block ends.
        let parts = parts_tx;
        let mut imported = Vec::new();
        for (n, s, format, e) in unreadable_new {
            let hash = sha_file(s.path())?;
            let key = files.commit_as(s, &hash.0, format)?;
            let d = refused_delivery(&n, key, hash, 1, e.code, e.message_zh);
            let (delivery, rejections) = record_in_run(&parts, d).await?;
            imported.push(ImportedFeed {
                delivery,
                rejections,
            });
        }
        let mut pending: Vec<_> = feeds
            .into_iter()
            .zip(staged)
            .zip(readables)
            .map(Some)
            .collect();
        let mut used: Vec<Option<FeedDelivery>> = vec![None; pending.len()];
        // New deliveries in the order given (they are read in another).
        let mut imported_in_order: Vec<Option<ImportedFeed>> =
            (0..pending.len()).map(|_| None).collect();
        let mut warnings: Vec<Warning> = Vec::new();
        let mut leads: Vec<NewLead> = Vec::new();
        let mut row_offsets = vec![0u64; pending.len()];
        let source_names: HashMap<(&str, &str), &str> = req
            .sources
            .iter()
            .map(|s| ((s.kind.as_str(), s.code.as_str()), s.name.as_str()))
            .collect();
        // One outcome per kind, until the pass is over and drops its sender.
        while let Some(outcome) = done_rx.recv().await {
            let kind = outcome.kind;
            timing.mark(&format!("  {} read", kind.as_str()));
            for (i, report) in outcome.deliveries {
                let ((f, s), (format, readable)) = pending[i].take().expect("each delivery once");
                row_offsets[i] = readable.row_offset;
                let delivery = match f {
                    RunFeed::Kept(d) => {
                        if let Err(e) = report {
                            return Err(RunStop::Failed(FeedError::Invalid(format!(
                                "kept delivery {} ({}) unreadable: {}",
                                d.id,
                                d.kind,
                                e.message_zh()
                            ))));
                        }
                        d
                    }
                    RunFeed::New(n) => {
                        let s = s.expect("staged");
                        let original = if readable.converted.is_some() || report.is_err() {
                            Some(sha_file(s.path())?)
                        } else {
                            None
                        };
                        let sha = match (&original, &report) {
                            (Some((sha, _)), _) => sha.clone(),
                            (None, Ok(r)) => r.sha256.clone(),
                            (None, Err(_)) => sha_file(s.path())?.0,
                        };
                        let key = files.commit_as(s, &sha, format)?;
                        let d = new_delivery(&n, &report, key, readable.row_offset, original)?;
                        let (delivery, rejections) = record_in_run(&parts, d).await?;
                        imported_in_order[i] = Some(ImportedFeed {
                            delivery: delivery.clone(),
                            rejections,
                        });
                        delivery
                    }
                };
                used[i] = Some(delivery);
            }
            // Refused deliveries are recorded and add nothing (the pass left them out), so
            // every finding cites an accepted delivery of this run, by its source's name.
            let cited = |at: u32| {
                let at = at as usize;
                (used[at].as_ref().expect("recorded above"), row_offsets[at])
            };
            let new: Vec<NewWarning> = outcome
                .warnings
                .iter()
                .map(|w| {
                    let (d, offset) = cited(w.evidence.delivery);
                    NewWarning {
                        household_id: w.household_ref,
                        kind: w.kind.as_str().into(),
                        division: caseload.division(w.household).clone(),
                        evidence: evidence_json(w, Some(d), offset, &source_names),
                        facts: jiuzhu_store::warning_facts(
                            &w.evidence.person.masked(),
                            &w.evidence.value.to_string(),
                        ),
                    }
                })
                .collect();
            if !new.is_empty() {
                parts
                    .send(RunPart::Warnings(new))
                    .await
                    .map_err(|_| RunStop::WriterGone)?;
            }
            timing.mark(&format!("  {} warnings handed to the store", kind.as_str()));
            warnings.extend(outcome.warnings);
            leads.extend(outcome.leads.iter().filter_map(|l| {
                let (d, offset) = cited(l.delivery);
                Some(NewLead {
                    id_number: l.person.clone(),
                    delivery_id: Some(d.id),
                    row: (l.row + offset) as i64,
                    settlement_date: l.settlement_date.to_naive()?,
                    out_of_pocket: l.out_of_pocket,
                    threshold: l.threshold,
                })
            }));
        }
        if pending.iter().any(Option::is_some) {
            return Err(RunStop::Failed(FeedError::Invalid(
                "the comparison stopped".into(),
            )));
        }
        let used: Vec<FeedDelivery> = used.into_iter().flatten().collect();
        imported.extend(imported_in_order.into_iter().flatten());
        let mut sources = req.sources.clone();
        for f in imported.iter().map(|f| &f.delivery) {
            sources.retain(|s| (&s.kind, &s.code) != (&f.kind, &f.source));
            sources.push(SourceStatus {
                kind: f.kind.clone(),
                code: f.source.clone(),
                name: f.source.clone(),
                status: if f.status == "accepted" {
                    SourceUse::Used
                } else {
                    SourceUse::Missing
                },
                delivery_id: Some(f.id),
                data_date: Some(f.data_date),
                oldest_accepted: f.data_date,
            });
        }
        sources.sort_by(|a, b| (&a.kind, &a.code).cmp(&(&b.kind, &b.code)));
        // The outreach leads (R-LI-4 ordinary line) are about people outside the caseload, so
        // they go with the run rather than into the warnings table; in its transaction.
        let (reply, leads_stored) = tokio::sync::oneshot::channel();
        parts
            .send(RunPart::Finish {
                delivery_ids: used.iter().map(|d| d.id).collect(),
                sources,
                leads,
                leads_stored: reply,
            })
            .await
            .map_err(|_| RunStop::WriterGone)?;
        let leads_stored = leads_stored.await.map_err(|_| RunStop::WriterGone)?;
        Ok::<_, RunStop>((imported, used, warnings, leads_stored))
    };
    let (stored, produced) = tokio::join!(writing, producing);
    let (imported, used, mut warnings, leads_stored) = match (stored.as_ref(), produced) {
        (_, Err(RunStop::Failed(e))) => return Err(e),
        (Err(_), _) => return Err(stored.expect_err("checked").into()),
        (Ok(_), Err(RunStop::WriterGone)) => {
            return Err(FeedError::Invalid("the run's writer stopped early".into()))
        }
        (Ok(_), Ok(p)) => p,
    };
    let stored = stored?;
    pass.await
        .map_err(|e| FeedError::Invalid(format!("comparison task failed: {e}")))?;
    timing.mark("feeds streamed and matched, run and warnings stored");
    warnings.sort_by(|a, b| {
        (a.household_ref, a.kind.as_str()).cmp(&(b.household_ref, b.kind.as_str()))
    });
    Ok(RunReport {
        run: stored,
        caseload,
        warnings,
        imported,
        used,
        leads_stored,
    })
}

/// Why the side of a run that reads deliveries stopped.
enum RunStop {
    Failed(FeedError),
    /// The store's side of the run ended first; its error is the one to report.
    WriterGone,
}

impl<E: Into<FeedError>> From<E> for RunStop {
    fn from(e: E) -> RunStop {
        RunStop::Failed(e.into())
    }
}

/// Records a delivery in the run's transaction and waits for its record.
async fn record_in_run(
    parts: &tokio::sync::mpsc::Sender<RunPart>,
    delivery: NewDelivery,
) -> Result<(FeedDelivery, Vec<Rejection>), RunStop> {
    let (reply, recorded) = tokio::sync::oneshot::channel();
    parts
        .send(RunPart::Delivery { delivery, reply })
        .await
        .map_err(|_| RunStop::WriterGone)?;
    recorded.await.map_err(|_| RunStop::WriterGone)
}

/// Hashes deliveries from their start, biggest first (the order the pass takes them), on a
/// blocking thread until [`Prehashing::finish`]. A file it cannot read is left to the pass.
struct Prehashing {
    stop: StopOnDrop,
    task: tokio::task::JoinHandle<Vec<Option<Prehash>>>,
}

/// Stops the prehash thread also when the run fails before the pass.
struct StopOnDrop(std::sync::Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Prehashing {
    fn start(paths: Vec<PathBuf>) -> Prehashing {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut out: Vec<Option<Prehash>> = vec![None; paths.len()];
            let mut order: Vec<(u64, usize)> = paths
                .iter()
                .enumerate()
                .map(|(i, p)| (std::fs::metadata(p).map(|m| m.len()).unwrap_or(0), i))
                .collect();
            order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut buf = vec![0u8; 256 << 10];
            for (_, i) in order {
                let Ok(mut file) = std::fs::File::open(&paths[i]) else {
                    continue;
                };
                let mut p = Prehash::new();
                let done = loop {
                    if flag.load(Ordering::Relaxed) {
                        break false;
                    }
                    match file.read(&mut buf) {
                        Ok(0) => break true,
                        Ok(n) => p.update(&buf[..n]),
                        Err(_) => {
                            p = Prehash::new();
                            break true;
                        }
                    }
                };
                if p.bytes() > 0 {
                    out[i] = Some(p);
                }
                if !done {
                    break;
                }
            }
            out
        });
        Prehashing {
            stop: StopOnDrop(stop),
            task,
        }
    }

    /// Stops hashing and hands over what is hashed, per path.
    async fn finish(self) -> Vec<Option<Prehash>> {
        self.stop.0.store(true, Ordering::Relaxed);
        // A failed prehash costs nothing but time: the pass then hashes everything.
        self.task.await.unwrap_or_default()
    }
}

/// R-VF-2: the finding with its source record (delivery, file line) and data date; the member's
/// identity number masked (the full number is one reveal away, audited).
fn evidence_json(
    w: &Warning,
    d: Option<&FeedDelivery>,
    row_offset: u64,
    names: &HashMap<(&str, &str), &str>,
) -> String {
    let e = &w.evidence;
    // Written directly as text: every value is a number, a code, a date, a masked number or a
    // money amount, except `value` (a display string), which goes through serde_json.
    let value = serde_json::Value::String(e.value.to_string());
    // The delivering department, as the finding's citation names it (R-VF-2).
    let department = d.map_or("null".to_string(), |d| {
        let name = names
            .get(&(d.kind.as_str(), d.source.as_str()))
            .copied()
            .unwrap_or(d.source.as_str());
        serde_json::Value::String(name.to_string()).to_string()
    });
    format!(
        "{{\"source\":\"{}\",\"department\":{department},\"delivery\":{},\"data_date\":{},\
         \"row\":{},\"person\":\"{}\",\"value\":{value},\"threshold\":{},\"records\":{}}}",
        e.source.as_str(),
        d.map_or("null".to_string(), |d| d.id.to_string()),
        d.map_or("null".to_string(), |d| format!("\"{}\"", d.data_date)),
        e.row + row_offset,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_without_households_in_force_says_why() {
        let june = Month::new(2024, 6).expect("a month");
        let day = |d| NaiveDate::from_ymd_opt(2024, 7, d).unwrap();
        assert!(no_households(june, Some(day(1)))
            .starts_with("2024-06 无在册家庭可比对:本辖区在册数据自 2024-07-01 起"));
        let registered_before = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        assert_eq!(
            no_households(june, Some(registered_before)),
            "2024-06 无可比对的家庭:本辖区的在册家庭该月均无在享救助、在办申请,也未作为在册救助对象导入"
        );
        assert_eq!(
            no_households(june, None),
            "2024-06 无在册家庭可比对:本辖区尚未登记或导入家庭"
        );
    }
}
