//! A month's comparison over several deliveries, in parallel on a few threads, and the
//! reader/file helpers (the only place the crate touches a `Read`).

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::caseload::CaseloadIndex;
use crate::ingest::{DeliveryError, FeedIngest, FeedOutcome, IngestOptions, Prehash};
use crate::rules::{OutreachLead, VerifyPolicy, Warning, YearMonth};
use crate::schema::FeedKind;

/// Read size: small enough that hashing and parsing the same bytes hit the L2 cache next to the
/// caseload filter.
const CHUNK: usize = 256 << 10;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("reading the delivery: {0}")]
    Io(#[from] std::io::Error),
}

impl IngestError {
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::Delivery(e) => e.code(),
            IngestError::Io(_) => "DELIVERY_READ",
        }
    }
    pub fn message_zh(&self) -> String {
        match self {
            IngestError::Delivery(e) => e.message_zh(),
            IngestError::Io(e) => format!("读取数据文件失败:{e}"),
        }
    }
}

/// Streams one delivery from a reader through the engine.
pub fn ingest_reader<R: Read>(
    kind: FeedKind,
    reader: R,
    index: &CaseloadIndex,
    policy: &VerifyPolicy,
    month: YearMonth,
    options: IngestOptions,
) -> Result<FeedOutcome, IngestError> {
    ingest_reader_prehashed(kind, reader, index, policy, month, options, None)
}

/// [`ingest_reader`] continuing from a hash of the reader's first bytes.
pub fn ingest_reader_prehashed<R: Read>(
    kind: FeedKind,
    mut reader: R,
    index: &CaseloadIndex,
    policy: &VerifyPolicy,
    month: YearMonth,
    options: IngestOptions,
    prehash: Option<Prehash>,
) -> Result<FeedOutcome, IngestError> {
    let mut engine = FeedIngest::new(kind, index, policy, month, options);
    if let Some(p) = prehash {
        engine.resume_hash(p);
    }
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        engine.push(&buf[..n])?;
    }
    Ok(engine.finish()?)
}

/// Opens a delivery file given by the caller.
pub fn stream_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// One delivery of a run.
pub struct Delivery<R> {
    pub kind: FeedKind,
    pub reader: R,
    /// Bytes, if known: the biggest deliveries start first so the threads finish together.
    pub size_hint: u64,
    pub options: IngestOptions,
    /// The SHA-256 of the reader's first bytes, if computed ahead (see [`Prehash`]).
    pub prehash: Option<Prehash>,
}

#[derive(Debug)]
pub struct MonthRun {
    /// Per delivery, in the order given.
    pub outcomes: Vec<(FeedKind, Result<crate::ingest::DeliveryReport, IngestError>)>,
    /// Sorted by household store identifier, then kind code; one per kind per household.
    pub warnings: Vec<Warning>,
    pub leads: Vec<OutreachLead>,
}

impl MonthRun {
    /// The `household_id,KIND` lines of the benchmark, sorted.
    pub fn warning_lines(&self) -> String {
        let mut s = String::with_capacity(self.warnings.len() * 16);
        for w in &self.warnings {
            s.push_str(&w.household_ref.to_string());
            s.push(',');
            s.push_str(w.kind.as_str());
            s.push('\n');
        }
        s
    }
}

/// Runs the month's comparison over the deliveries on `threads` threads (each delivery is one
/// sequential stream; threads take the next-biggest delivery).
pub fn run_month<R: Read + Send>(
    index: &CaseloadIndex,
    policy: &VerifyPolicy,
    month: YearMonth,
    deliveries: Vec<Delivery<R>>,
    threads: usize,
) -> MonthRun {
    let n = deliveries.len();
    let kinds: Vec<FeedKind> = deliveries.iter().map(|d| d.kind).collect();
    let results: Vec<Mutex<Option<Result<FeedOutcome, IngestError>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    run_month_each(index, policy, month, deliveries, threads, |i, r| {
        *results[i].lock().expect("unpoisoned") = Some(r);
    });
    let mut outcomes = Vec::with_capacity(n);
    let mut warnings = Vec::new();
    let mut leads = Vec::new();
    for (kind, r) in kinds.into_iter().zip(results) {
        let r = r.into_inner().expect("unpoisoned").expect("ran");
        outcomes.push((
            kind,
            r.map(|o| {
                warnings.extend(o.warnings);
                leads.extend(o.leads);
                o.report
            }),
        ));
    }
    warnings.sort_by(|a, b| {
        (a.household_ref, a.kind.as_str()).cmp(&(b.household_ref, b.kind.as_str()))
    });
    MonthRun {
        outcomes,
        warnings,
        leads,
    }
}

/// [`run_month`] handing each delivery's outcome to `on_done` (with the delivery's position in
/// `deliveries`) on the thread that read it, as soon as that delivery is read, so a caller can
/// store one delivery's findings while the others are still being read.
pub fn run_month_each<R, F>(
    index: &CaseloadIndex,
    policy: &VerifyPolicy,
    month: YearMonth,
    deliveries: Vec<Delivery<R>>,
    threads: usize,
    on_done: F,
) where
    R: Read + Send,
    F: Fn(usize, Result<FeedOutcome, IngestError>) + Sync,
{
    let n = deliveries.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(deliveries[i].size_hint));
    let slots: Vec<Mutex<Option<Delivery<R>>>> = deliveries
        .into_iter()
        .map(|d| Mutex::new(Some(d)))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(n.max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let d = slots[i].lock().expect("unpoisoned").take().expect("once");
                let r = ingest_reader_prehashed(
                    d.kind, d.reader, index, policy, month, d.options, d.prehash,
                );
                on_done(i, r);
            });
        }
    });
}
