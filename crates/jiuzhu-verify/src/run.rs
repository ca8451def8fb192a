//! A month's comparison over several deliveries, in parallel on a few threads, and the
//! reader/file helpers (the only place the crate touches a `Read`).

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::caseload::CaseloadIndex;
use jiuzhu_domain::{IdNumber, Money};

use crate::ingest::{
    DeliveryError, DeliveryReport, FeedIngest, FeedOutcome, IngestOptions, Prehash, Tally,
};
use crate::rules::{OutreachLead, Thresholds, Warning};
use crate::schema::FeedKind;
use jiuzhu_domain::Month;

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
    thresholds: &Thresholds,
    month: Month,
    options: IngestOptions,
) -> Result<FeedOutcome, IngestError> {
    ingest_reader_prehashed(kind, reader, index, thresholds, month, options, None)
}

/// Reads a delivery for its provenance and its bad rows alone (at import, before any run): no
/// caseload, so no row matches and no threshold applies.
pub fn check_delivery<R: Read>(
    kind: FeedKind,
    reader: R,
    month: Month,
    options: IngestOptions,
) -> Result<DeliveryReport, IngestError> {
    let index = crate::CaseloadBuilder::new(0).build();
    // Never compared with: nothing matches an empty caseload.
    let unused = Thresholds::Uniform(crate::VerifyPolicy {
        urban_standard: Money::ZERO,
        rural_standard: Money::ZERO,
        deposit_limit_per_member: Money::ZERO,
        medical_line: Money::ZERO,
        medical_outreach_line: None,
        excluded_vehicle_types: Vec::new(),
        residential_allowed: 0,
    });
    ingest_reader(kind, reader, &index, &unused, month, options).map(|o| o.report)
}

/// [`ingest_reader`] continuing from a hash of the reader's first bytes.
pub fn ingest_reader_prehashed<R: Read>(
    kind: FeedKind,
    reader: R,
    index: &CaseloadIndex,
    thresholds: &Thresholds,
    month: Month,
    options: IngestOptions,
    prehash: Option<Prehash>,
) -> Result<FeedOutcome, IngestError> {
    let engine = read_through(
        Delivery {
            kind,
            reader,
            size_hint: 0,
            options,
            prehash,
        },
        index,
        thresholds,
        month,
    )?;
    Ok(engine.finish()?)
}

/// The engine after the whole delivery went through it (continuing from its prehash), not yet
/// finished.
fn read_through<'a, R: Read>(
    d: Delivery<R>,
    index: &'a CaseloadIndex,
    thresholds: &'a Thresholds,
    month: Month,
) -> Result<FeedIngest<'a>, IngestError> {
    let mut engine = FeedIngest::new(d.kind, index, thresholds, month, d.options);
    if let Some(p) = d.prehash {
        engine.resume_hash(p);
    }
    feed(&mut engine, d.reader)?;
    Ok(engine)
}

fn feed<R: Read>(engine: &mut FeedIngest<'_>, mut reader: R) -> Result<(), IngestError> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        engine.push(&buf[..n])?;
    }
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
    pub outcomes: Vec<(FeedKind, Result<DeliveryReport, IngestError>)>,
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

/// What a run found in every delivery of one kind.
#[derive(Debug)]
pub struct KindOutcome {
    pub kind: FeedKind,
    /// Per delivery of the kind, its position among the run's deliveries and its report, in
    /// the order given.
    pub deliveries: Vec<(usize, Result<DeliveryReport, IngestError>)>,
    /// Judged on the good rows of every accepted delivery of the kind added up, one per
    /// household at most, in household order; each cites the delivery that holds its record
    /// ([`crate::Evidence::delivery`]).
    pub warnings: Vec<Warning>,
    /// One per person: the first delivery that holds them.
    pub leads: Vec<OutreachLead>,
}

/// Runs the month's comparison over the deliveries on `threads` threads (each delivery is one
/// sequential stream; threads take the next-biggest kind) and collects the outcomes.
pub fn run_month<R: Read + Send>(
    index: &CaseloadIndex,
    thresholds: &Thresholds,
    month: Month,
    deliveries: Vec<Delivery<R>>,
    threads: usize,
) -> MonthRun {
    let n = deliveries.len();
    let kinds: Vec<FeedKind> = deliveries.iter().map(|d| d.kind).collect();
    let reports: Vec<Mutex<Option<Result<DeliveryReport, IngestError>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    let found = Mutex::new((Vec::new(), Vec::new()));
    run_month_each(index, thresholds, month, deliveries, threads, |o| {
        for (i, r) in o.deliveries {
            *reports[i].lock().expect("unpoisoned") = Some(r);
        }
        let mut f = found.lock().expect("unpoisoned");
        f.0.extend(o.warnings);
        f.1.extend(o.leads);
    });
    let outcomes = kinds
        .into_iter()
        .zip(reports)
        .map(|(kind, r)| (kind, r.into_inner().expect("unpoisoned").expect("ran")))
        .collect();
    let (mut warnings, leads) = found.into_inner().expect("unpoisoned");
    warnings.sort_by(|a, b| {
        (a.household_ref, a.kind.as_str()).cmp(&(b.household_ref, b.kind.as_str()))
    });
    MonthRun {
        outcomes,
        warnings,
        leads,
    }
}

/// [`run_month`] handing each kind's outcome to `on_done` on the thread that read it, as soon as
/// every delivery of that kind is read, so a caller can store one kind's findings while the
/// others are still being read.
///
/// The deliveries of one kind (one per source: each bank's deposits) are read one after the
/// other by one thread and added up before the thresholds are applied; a delivery refused by
/// its source's policy or unreadable adds nothing.
pub fn run_month_each<R, F>(
    index: &CaseloadIndex,
    thresholds: &Thresholds,
    month: Month,
    deliveries: Vec<Delivery<R>>,
    threads: usize,
    on_done: F,
) where
    R: Read + Send,
    F: Fn(KindOutcome) + Sync,
{
    let mut groups: Vec<(FeedKind, Vec<usize>, u64)> = Vec::new();
    for (i, d) in deliveries.iter().enumerate() {
        match groups.iter_mut().find(|g| g.0 == d.kind) {
            Some(g) => {
                g.1.push(i);
                g.2 += d.size_hint;
            }
            None => groups.push((d.kind, vec![i], d.size_hint)),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.2));
    let slots: Vec<Mutex<Option<Delivery<R>>>> = deliveries
        .into_iter()
        .map(|d| Mutex::new(Some(d)))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(groups.len().max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((kind, members, _)) = groups.get(k) else {
                    break;
                };
                let taken = members.iter().map(|&i| {
                    let d = slots[i].lock().expect("unpoisoned").take().expect("once");
                    (i, d)
                });
                on_done(read_kind(*kind, taken, index, thresholds, month));
            });
        }
    });
}

/// Reads the deliveries of one kind in order and adds their tallies up.
fn read_kind<R: Read>(
    kind: FeedKind,
    deliveries: impl Iterator<Item = (usize, Delivery<R>)>,
    index: &CaseloadIndex,
    thresholds: &Thresholds,
    month: Month,
) -> KindOutcome {
    let mut reports = Vec::new();
    let mut total: Option<Tally> = None;
    let mut leads: Vec<OutreachLead> = Vec::new();
    let mut led: std::collections::HashSet<IdNumber> = std::collections::HashSet::new();
    for (i, d) in deliveries {
        let at = i as u32;
        match read_one(d, index, thresholds, month) {
            Ok((report, tally, found)) => {
                if let Some(t) = tally {
                    match &mut total {
                        Some(total) => total.absorb(t, at),
                        None => total = Some(t.in_delivery(at)),
                    }
                }
                for mut l in found {
                    if led.insert(l.person.clone()) {
                        l.delivery = at;
                        leads.push(l);
                    }
                }
                reports.push((i, Ok(report)));
            }
            Err(e) => reports.push((i, Err(e))),
        }
    }
    KindOutcome {
        kind,
        deliveries: reports,
        warnings: total.map_or_else(Vec::new, |t| t.warnings(index, thresholds)),
        leads,
    }
}

type ReadOne = (DeliveryReport, Option<Tally>, Vec<OutreachLead>);

fn read_one<R: Read>(
    d: Delivery<R>,
    index: &CaseloadIndex,
    thresholds: &Thresholds,
    month: Month,
) -> Result<ReadOne, IngestError> {
    Ok(read_through(d, index, thresholds, month)?.finish_tally()?)
}
