//! Streaming ingestion of one delivery: bytes in (any chunking), SHA-256 and row counts
//! (provenance), bad rows (row, column, reason) and the delivery's warnings out.
//!
//! The engine is push-based ([`FeedIngest::push`]) so the same code serves a file, an HTTP upload
//! or a test's byte string; it does no I/O itself. Memory is the caseload-sized accumulator plus
//! one partial line: the delivery is never held.

use jiuzhu_domain::{IdNumber, Money, Month};
use jiuzhu_sheet::{Limit, LimitExceeded};
use sha2::{Digest, Sha256};

use crate::caseload::{CaseloadIndex, HouseholdIx, MemberIx};
use crate::parse::{self, Fault};
use crate::rules::{Evidence, EvidenceValue, OutreachLead, Thresholds, Warning, WarningKind, Ymd};
use crate::schema::{
    cols, FeedKind, FeedKindSchema, FeedSchema, RejectionPolicy, BUSINESS_ROLES, MAX_COLUMNS,
    MOVE_TYPES, VEHICLE_TYPES,
};

/// Most columns a delivery file may have (extra columns beyond the schema are ignored).
const MAX_FILE_COLUMNS: usize = 64;
/// Longest line: a delivery row is about 100 bytes. A longer line is a rejected row (the
/// header: a refused delivery), and is never held in memory.
pub const MAX_LINE_BYTES: usize = jiuzhu_sheet::limits::CSV_MAX_RECORD_BYTES as usize;
/// Most data rows of one delivery: a province's population is far below it.
pub const MAX_ROWS: u64 = 20_000_000;
/// Largest delivery in bytes (as read, after any conversion to UTF-8 CSV).
pub const MAX_BYTES: u64 = 4 << 30;
/// Outreach leads kept from one delivery (the first ones in file order).
pub const MAX_LEADS: usize = 200_000;
/// Rejected text quoted in a reason: enough to recognise it, never a whole line.
const MAX_QUOTED_BYTES: usize = 64;
const ABSENT: usize = usize::MAX;
/// The value of an empty optional field.
const NONE: i64 = i64::MIN;
/// Good rows are matched in batches: the caseload lookups of a batch are independent loads, so
/// the CPU overlaps their cache misses instead of waiting for each in turn.
const BATCH: usize = 64;

/// A failure of the whole delivery (it cannot be read as this kind at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("the delivery is empty (no header line)")]
    Empty,
    #[error("the header is not UTF-8")]
    HeaderNotUtf8,
    /// Every required column the header lacks: name and Chinese label.
    #[error("the header lacks required columns {0:?}")]
    MissingColumns(Vec<(&'static str, &'static str)>),
    #[error("the header has more than {MAX_FILE_COLUMNS} columns")]
    TooManyColumns,
    #[error("the delivery changed while it was read")]
    ChangedWhileRead,
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

impl DeliveryError {
    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::Empty => "DELIVERY_EMPTY",
            DeliveryError::HeaderNotUtf8 => "HEADER_NOT_UTF8",
            DeliveryError::MissingColumns(_) => "HEADER_MISSING_COLUMN",
            DeliveryError::TooManyColumns => "HEADER_TOO_MANY_COLUMNS",
            DeliveryError::ChangedWhileRead => "DELIVERY_CHANGED",
            DeliveryError::Limit(e) => e.code(),
        }
    }
    pub fn message_zh(&self) -> String {
        match self {
            DeliveryError::Empty => "文件为空,缺少表头行".into(),
            DeliveryError::HeaderNotUtf8 => "表头不是UTF-8编码".into(),
            DeliveryError::MissingColumns(cols) => {
                let named: Vec<String> = cols
                    .iter()
                    .map(|(name, zh)| format!("“{zh}”({name})"))
                    .collect();
                format!("表头缺少必需的列:{}", named.join("、"))
            }
            DeliveryError::TooManyColumns => {
                format!("表头超过{MAX_FILE_COLUMNS}列")
            }
            DeliveryError::ChangedWhileRead => "读取过程中文件内容发生变化".into(),
            DeliveryError::Limit(e) => e.message_zh(),
        }
    }
}

/// One rejected row: where, which column, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line of the file (the header is line 1).
    pub row: u64,
    /// The column's header name; `None` when the row as a whole is bad (column count).
    pub column: Option<&'static str>,
    pub column_zh: Option<&'static str>,
    pub code: &'static str,
    pub reason_zh: String,
}

/// Provenance of a delivery and what became of its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub kind: FeedKind,
    /// Hex SHA-256 of the delivery's bytes as received.
    pub sha256: String,
    pub bytes: u64,
    /// Data rows (non-empty lines after the header).
    pub rows: u64,
    pub good_rows: u64,
    pub bad_rows: u64,
    /// Good rows whose person is a member of the caseload.
    pub matched_rows: u64,
    /// The first bad rows (up to the reporting cap), in file order.
    pub bad: Vec<BadRow>,
    /// The source's policy refused the delivery: none of its rows is used.
    pub refused: bool,
    pub rejection: RejectionPolicy,
}

#[derive(Debug, Clone)]
pub struct FeedOutcome {
    pub report: DeliveryReport,
    /// One per household at most, in household order. Empty when refused.
    pub warnings: Vec<Warning>,
    pub leads: Vec<OutreachLead>,
}

/// Per-household running state of one delivery (or of every delivery of a kind, once
/// [`Tally::absorb`]ed).
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    sum: i64,
    value: i64,
    row: u64,
    member: MemberIx,
    n: u32,
    m: u32,
    /// Which delivery of the run `row` is in (see [`Tally::absorb`]).
    delivery: u32,
    hit: bool,
}

/// What the good rows of one kind's deliveries add up to per household, before the thresholds
/// are applied: one delivery's, or the sum over the deliveries of several sources of the kind
/// (30 banks' deposits are one household total). [`Tally::warnings`] applies the policy.
#[derive(Debug, Clone)]
pub struct Tally {
    kind: FeedKind,
    acc: Vec<Acc>,
}

impl Tally {
    /// Adds another delivery's tally of the same kind, found in delivery `delivery` of the run.
    /// Sums and counts add up; for a fact found once (a death, a vehicle, one settlement over
    /// the line) the first delivery that holds it is cited.
    pub fn absorb(&mut self, other: Tally, delivery: u32) {
        debug_assert_eq!(self.kind, other.kind, "tallies of one kind");
        for (a, b) in self.acc.iter_mut().zip(other.acc) {
            if b.row == 0 {
                continue;
            }
            if a.row == 0 {
                *a = Acc { delivery, ..b };
                continue;
            }
            a.sum += b.sum;
            a.n += b.n;
            a.m += b.m;
            if !a.hit && b.hit {
                a.hit = true;
                a.value = b.value;
                a.row = b.row;
                a.member = b.member;
                a.delivery = delivery;
            }
        }
    }

    /// This tally as found in delivery `delivery` of the run (the first of its kind).
    pub fn in_delivery(mut self, delivery: u32) -> Tally {
        if delivery != 0 {
            for a in self.acc.iter_mut().filter(|a| a.row != 0) {
                a.delivery = delivery;
            }
        }
        self
    }

    /// The warnings of the policy's thresholds, one per household at most, in household order.
    pub fn warnings(&self, index: &CaseloadIndex, thresholds: &Thresholds) -> Vec<Warning> {
        let kind = self.kind;
        let wkind = WarningKind::of_feed(kind);
        let mut out = Vec::new();
        for (h, a) in self.acc.iter().enumerate() {
            if a.row == 0 {
                continue;
            }
            let h = h as HouseholdIx;
            let policy = thresholds.of_household(h);
            let members = i64::from(index.member_count(h));
            let standard = policy.standard(index.area(h)).fen() * members;
            let (value, threshold) = match kind {
                FeedKind::Deposits => {
                    let limit = policy.deposit_limit_per_member.fen() * members;
                    if a.sum <= limit {
                        continue;
                    }
                    (EvidenceValue::Money(Money::from_fen(a.sum)), Some(limit))
                }
                FeedKind::SocialInsurance | FeedKind::Pensions => {
                    if a.sum < standard {
                        continue;
                    }
                    (EvidenceValue::Money(Money::from_fen(a.sum)), Some(standard))
                }
                // Counted over every source, then judged: one residence in each of two
                // registries' deliveries is two.
                FeedKind::RealEstate => {
                    if a.n <= policy.residential_allowed && a.m == 0 {
                        continue;
                    }
                    (
                        EvidenceValue::Properties {
                            residential: a.n,
                            commercial: a.m,
                        },
                        None,
                    )
                }
                _ if !a.hit => continue,
                FeedKind::CivilDeaths | FeedKind::Imprisonment => {
                    (EvidenceValue::Date(Ymd(a.value as u32)), None)
                }
                FeedKind::HukouMoves => (EvidenceValue::Code(MOVE_TYPES[a.value as usize].0), None),
                FeedKind::Vehicles => {
                    (EvidenceValue::Code(VEHICLE_TYPES[a.value as usize].0), None)
                }
                FeedKind::Business => (
                    EvidenceValue::Code(BUSINESS_ROLES[a.value as usize].0),
                    None,
                ),
                FeedKind::MedicalClaims => (
                    EvidenceValue::Money(Money::from_fen(a.value)),
                    Some(policy.medical_line.fen()),
                ),
                FeedKind::HousingFund => (EvidenceValue::Money(Money::from_fen(a.value)), None),
            };
            out.push(Warning {
                household: h,
                household_ref: index.household_ref(h),
                kind: wkind,
                evidence: Evidence {
                    source: kind,
                    delivery: a.delivery,
                    row: a.row,
                    member: a.member,
                    person: index.member_id(a.member),
                    value,
                    threshold: threshold.map(Money::from_fen),
                    records: match kind {
                        FeedKind::Deposits
                        | FeedKind::SocialInsurance
                        | FeedKind::Pensions
                        | FeedKind::RealEstate => a.n + a.m,
                        _ => 1,
                    },
                },
            });
        }
        out
    }
}

/// Options of one ingestion beyond the policy.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    /// The source's rejection policy; `None` takes the schema's default.
    pub rejection: Option<RejectionPolicy>,
    /// How many bad rows are kept in the report (all are counted).
    pub max_reported: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            rejection: None,
            max_reported: 1000,
        }
    }
}

/// The SHA-256 of a delivery's first bytes, computed ahead of the pass (e.g. on an idle core
/// while the caseload index is being read); the pass then hashes only the rest. It must be
/// the same bytes the pass reads: deliveries are kept unmodified.
#[derive(Clone, Default)]
pub struct Prehash {
    sha: Sha256,
    bytes: u64,
}

impl Prehash {
    pub fn new() -> Prehash {
        Prehash::default()
    }
    /// The next bytes of the delivery, in order.
    pub fn update(&mut self, data: &[u8]) {
        self.sha.update(data);
        self.bytes += data.len() as u64;
    }
    /// How many leading bytes are hashed.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

pub struct FeedIngest<'a> {
    schema: &'static FeedSchema,
    index: &'a CaseloadIndex,
    thresholds: &'a Thresholds,
    rejection: RejectionPolicy,
    max_reported: usize,
    first_day: i64,
    last_day: i64,
    yyyymm: i64,
    /// The vehicle types that do not count and the medical line: of the one policy, or per
    /// household class ([`Thresholds::PerHousehold`], read through `class_of`).
    excluded_vehicles: u64,
    medical_line: i64,
    class_of: Option<&'a [u8]>,
    class_vehicles: Vec<u64>,
    class_medical_lines: Vec<i64>,
    outreach_line: Option<i64>,
    sha: Sha256,
    bytes: u64,
    /// Leading bytes already in `sha` (a [`Prehash`]).
    prehashed: u64,
    carry: Vec<u8>,
    /// Inside a line over [`MAX_LINE_BYTES`], already rejected: skipped up to its end.
    skipping: bool,
    line: u64,
    header_seen: bool,
    /// For each schema column, its position among the file's fields (or ABSENT).
    pos: [usize; MAX_COLUMNS],
    file_columns: usize,
    rows: u64,
    bad_rows: u64,
    matched_rows: u64,
    bad: Vec<BadRow>,
    acc: Vec<Acc>,
    leads: Vec<OutreachLead>,
    unquoted: Vec<u8>,
    /// Parsed good rows awaiting the caseload lookup: `batch_len` entries of (line, values).
    /// Fields are parsed straight into their slot, so a row's values are never copied.
    batch_rows: [u64; BATCH],
    batch_vals: Box<[[i64; MAX_COLUMNS]; BATCH]>,
    batch_len: usize,
}

impl<'a> FeedIngest<'a> {
    pub fn new(
        kind: FeedKind,
        index: &'a CaseloadIndex,
        thresholds: &'a Thresholds,
        month: Month,
        options: IngestOptions,
    ) -> FeedIngest<'a> {
        let schema = kind.schema();
        let classes = thresholds.classes();
        let first = &classes[0];
        FeedIngest {
            schema,
            index,
            thresholds,
            rejection: options.rejection.unwrap_or(schema.rejection),
            max_reported: options.max_reported,
            first_day: i64::from(month.first_yyyymmdd()),
            last_day: i64::from(month.last_yyyymmdd()),
            yyyymm: i64::from(month.yyyymm()),
            excluded_vehicles: first.excluded_vehicle_mask(),
            medical_line: first.medical_line.fen(),
            class_of: match thresholds {
                Thresholds::Uniform(_) => None,
                Thresholds::PerHousehold { of, .. } => Some(of),
            },
            class_vehicles: classes.iter().map(|p| p.excluded_vehicle_mask()).collect(),
            class_medical_lines: classes.iter().map(|p| p.medical_line.fen()).collect(),
            outreach_line: thresholds.outreach_line().map(Money::fen),
            sha: Sha256::new(),
            bytes: 0,
            prehashed: 0,
            carry: Vec::new(),
            skipping: false,
            line: 0,
            header_seen: false,
            pos: [ABSENT; MAX_COLUMNS],
            file_columns: 0,
            rows: 0,
            bad_rows: 0,
            matched_rows: 0,
            bad: Vec::new(),
            acc: vec![Acc::default(); index.households()],
            leads: Vec::new(),
            unquoted: Vec::new(),
            batch_rows: [0; BATCH],
            batch_vals: Box::new([[NONE; MAX_COLUMNS]; BATCH]),
            batch_len: 0,
        }
    }

    /// Continues from a hash of the delivery's first bytes; call before the first push.
    pub fn resume_hash(&mut self, p: Prehash) {
        debug_assert_eq!(self.bytes, 0, "resume_hash after push");
        self.sha = p.sha;
        self.prehashed = p.bytes;
    }

    /// Feeds the next bytes of the delivery (any split, even inside a line).
    pub fn push(&mut self, data: &[u8]) -> Result<(), DeliveryError> {
        if self.bytes >= self.prehashed {
            self.sha.update(data);
        } else {
            let done = ((self.prehashed - self.bytes) as usize).min(data.len());
            self.sha.update(&data[done..]);
        }
        self.bytes += data.len() as u64;
        if self.bytes > MAX_BYTES {
            return Err(LimitExceeded::new(Limit::FileBytes(MAX_BYTES)).into());
        }
        let mut rest = data;
        if self.skipping {
            match memchr::memchr(b'\n', rest) {
                None => return Ok(()),
                Some(i) => {
                    self.skipping = false;
                    rest = &rest[i + 1..];
                }
            }
        }
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', rest) {
                None => {
                    if self.carry.len() + rest.len() > MAX_LINE_BYTES {
                        self.carry.clear();
                        self.skipping = true;
                        return self.line_too_long();
                    }
                    self.carry.extend_from_slice(rest);
                    return Ok(());
                }
                Some(i) => {
                    if self.carry.len() + i > MAX_LINE_BYTES {
                        self.carry.clear();
                        self.line_too_long()?;
                    } else {
                        let mut line = std::mem::take(&mut self.carry);
                        line.extend_from_slice(&rest[..i]);
                        self.line_in(&line)?;
                        line.clear();
                        self.carry = line;
                    }
                    rest = &rest[i + 1..];
                }
            }
        }
        let Some(last_nl) = memchr::memrchr(b'\n', rest) else {
            return self.keep_tail(rest);
        };
        let (block, tail) = (&rest[..=last_nl], &rest[last_nl + 1..]);
        if memchr::memchr(b'"', block).is_some() {
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', block) {
                if end - start > MAX_LINE_BYTES {
                    self.line_too_long()?;
                } else {
                    self.line_in(&block[start..end])?;
                }
                start = end + 1;
            }
        } else {
            // One SIMD pass over separators and line ends for the whole block.
            let mut fields: [&[u8]; MAX_FILE_COLUMNS] = [&[]; MAX_FILE_COLUMNS];
            let mut n = 0;
            let mut start = 0;
            let mut line_start = 0;
            for i in memchr::memchr2_iter(b',', b'\n', block) {
                if n < MAX_FILE_COLUMNS {
                    fields[n] = &block[start..i];
                }
                n += 1;
                start = i + 1;
                if block[i] == b'\n' {
                    if i - line_start > MAX_LINE_BYTES {
                        self.line_too_long()?;
                    } else {
                        if n <= MAX_FILE_COLUMNS {
                            fields[n - 1] = strip_cr(fields[n - 1]);
                        }
                        self.fields_in(&fields, n)?;
                    }
                    n = 0;
                    line_start = i + 1;
                }
            }
        }
        self.keep_tail(tail)
    }

    /// Keeps the start of the next line, unless it is already too long.
    fn keep_tail(&mut self, tail: &[u8]) -> Result<(), DeliveryError> {
        if tail.len() > MAX_LINE_BYTES {
            self.skipping = true;
            return self.line_too_long();
        }
        self.carry.extend_from_slice(tail);
        Ok(())
    }

    /// A line over [`MAX_LINE_BYTES`]: a rejected row, or a refused delivery if it is the
    /// header.
    fn line_too_long(&mut self) -> Result<(), DeliveryError> {
        self.line += 1;
        if !self.header_seen {
            let limit = Limit::RecordBytes(MAX_LINE_BYTES as u64);
            return Err(LimitExceeded::new(limit).at_row(self.line).into());
        }
        self.count_row()?;
        self.reject(None, Fault::LineTooLong, &[]);
        Ok(())
    }

    #[inline]
    fn count_row(&mut self) -> Result<(), DeliveryError> {
        self.rows += 1;
        if self.rows > MAX_ROWS {
            let limit = Limit::Rows(MAX_ROWS);
            return Err(LimitExceeded::new(limit).at_row(self.line).into());
        }
        Ok(())
    }

    /// Ends the delivery: the last line, the source policy, the warnings.
    pub fn finish(self) -> Result<FeedOutcome, DeliveryError> {
        let (index, thresholds) = (self.index, self.thresholds);
        let (report, tally, leads) = self.finish_tally()?;
        Ok(FeedOutcome {
            warnings: tally.map_or_else(Vec::new, |t| t.warnings(index, thresholds)),
            report,
            leads,
        })
    }

    /// Ends the delivery without judging it: its report, its tally (`None` when the source's
    /// policy refused it: none of its rows counts) and its outreach leads, for a caller that
    /// adds up several deliveries of the kind first.
    pub fn finish_tally(
        mut self,
    ) -> Result<(DeliveryReport, Option<Tally>, Vec<OutreachLead>), DeliveryError> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line_in(&line)?;
        }
        self.flush();
        if !self.header_seen {
            return Err(DeliveryError::Empty);
        }
        if self.bytes < self.prehashed {
            // The prehash read more than the pass did: the file changed in between.
            return Err(DeliveryError::ChangedWhileRead);
        }
        let refused = match self.rejection {
            RejectionPolicy::KeepGoodRows => false,
            RejectionPolicy::RefuseAbove { max_bad_rows } => self.bad_rows > max_bad_rows,
        };
        let kind = self.schema.kind;
        let report = DeliveryReport {
            kind,
            sha256: hex::encode(self.sha.clone().finalize()),
            bytes: self.bytes,
            rows: self.rows,
            good_rows: self.rows - self.bad_rows,
            bad_rows: self.bad_rows,
            matched_rows: self.matched_rows,
            bad: std::mem::take(&mut self.bad),
            refused,
            rejection: self.rejection,
        };
        if refused {
            return Ok((report, None, Vec::new()));
        }
        let tally = Tally {
            kind,
            acc: std::mem::take(&mut self.acc),
        };
        Ok((report, Some(tally), std::mem::take(&mut self.leads)))
    }

    /// A line that may contain quotes (RFC 4180 fields on one line).
    fn line_in(&mut self, line: &[u8]) -> Result<(), DeliveryError> {
        if memchr::memchr(b'"', line).is_none() {
            return self.line_fast(line);
        }
        let mut buf = std::mem::take(&mut self.unquoted);
        buf.clear();
        let mut bounds = [(0usize, 0usize); MAX_FILE_COLUMNS + 1];
        let mut n = 0;
        let mut i = 0;
        let line = strip_cr(line);
        let mut start = 0;
        let mut in_quotes = false;
        while i < line.len() {
            let c = line[i];
            if in_quotes {
                if c == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        buf.push(b'"');
                        i += 1;
                    } else {
                        in_quotes = false;
                    }
                } else {
                    buf.push(c);
                }
            } else if c == b'"' {
                in_quotes = true;
            } else if c == b',' {
                if n < MAX_FILE_COLUMNS {
                    bounds[n] = (start, buf.len());
                }
                n += 1;
                start = buf.len();
            } else {
                buf.push(c);
            }
            i += 1;
        }
        if n < MAX_FILE_COLUMNS {
            bounds[n] = (start, buf.len());
        }
        n += 1;
        let mut fields: [&[u8]; MAX_FILE_COLUMNS] = [&[]; MAX_FILE_COLUMNS];
        for (f, (s, e)) in fields.iter_mut().zip(bounds.iter()).take(n) {
            *f = &buf[*s..*e];
        }
        let r = self.fields_in(&fields, n);
        self.unquoted = buf;
        r
    }

    #[inline]
    fn line_fast(&mut self, line: &[u8]) -> Result<(), DeliveryError> {
        let line = strip_cr(line);
        let mut fields: [&[u8]; MAX_FILE_COLUMNS] = [&[]; MAX_FILE_COLUMNS];
        let mut n = 0;
        let mut start = 0;
        for i in memchr::memchr_iter(b',', line) {
            if n < MAX_FILE_COLUMNS {
                fields[n] = &line[start..i];
            }
            n += 1;
            start = i + 1;
        }
        if n < MAX_FILE_COLUMNS {
            fields[n] = &line[start..];
        }
        n += 1;
        self.fields_in(&fields, n)
    }

    fn header(&mut self, fields: &[&[u8]], n: usize) -> Result<(), DeliveryError> {
        if n > MAX_FILE_COLUMNS {
            return Err(DeliveryError::TooManyColumns);
        }
        let mut names = Vec::with_capacity(n);
        for (i, f) in fields[..n].iter().enumerate() {
            let f = if i == 0 {
                f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
            } else {
                f
            };
            let s = std::str::from_utf8(f).map_err(|_| DeliveryError::HeaderNotUtf8)?;
            names.push(s.trim());
        }
        let mut missing = Vec::new();
        for (c, col) in self.schema.columns.iter().enumerate() {
            match names
                .iter()
                .position(|h| *h == col.name || *h == col.label_zh)
            {
                Some(p) => self.pos[c] = p,
                None if col.required => missing.push((col.name, col.label_zh)),
                None => self.pos[c] = ABSENT,
            }
        }
        if !missing.is_empty() {
            return Err(DeliveryError::MissingColumns(missing));
        }
        self.file_columns = n;
        self.header_seen = true;
        Ok(())
    }

    fn reject(&mut self, column: Option<usize>, fault: Fault, text: &[u8]) {
        self.bad_rows += 1;
        if self.bad.len() < self.max_reported {
            let col = column.map(|c| &self.schema.columns[c]);
            self.bad.push(BadRow {
                row: self.line,
                column: col.map(|c| c.name),
                column_zh: col.map(|c| c.label_zh),
                code: fault.code(),
                reason_zh: fault.message_zh(&quoted(text)),
            });
        }
    }

    #[inline]
    fn fields_in(&mut self, fields: &[&[u8]], n: usize) -> Result<(), DeliveryError> {
        self.line += 1;
        if !self.header_seen {
            return self.header(fields, n);
        }
        if n == 1 && fields[0].trim_ascii().is_empty() {
            return Ok(());
        }
        self.count_row()?;
        if n != self.file_columns {
            self.reject(
                None,
                Fault::ColumnCount {
                    expected: self.file_columns,
                    found: n,
                },
                &[],
            );
            return Ok(());
        }
        let slot = self.batch_len;
        self.batch_vals[slot] = [NONE; MAX_COLUMNS];
        for (c, col) in self.schema.columns.iter().enumerate() {
            let p = self.pos[c];
            if p == ABSENT {
                continue;
            }
            let f = fields[p];
            let f = if f.first().is_some_and(u8::is_ascii_whitespace)
                || f.last().is_some_and(u8::is_ascii_whitespace)
            {
                f.trim_ascii()
            } else {
                f
            };
            if f.is_empty() {
                if col.required {
                    self.reject(Some(c), Fault::Empty, f);
                    return Ok(());
                }
                continue;
            }
            match parse::field(col.ty, f) {
                Ok(x) => self.batch_vals[slot][c] = x,
                Err(fault) => {
                    self.reject(Some(c), fault, f);
                    return Ok(());
                }
            }
        }
        self.batch_rows[slot] = self.line;
        self.batch_len += 1;
        if self.batch_len == BATCH {
            self.flush();
        }
        Ok(())
    }

    fn flush(&mut self) {
        let n = self.batch_len;
        self.batch_len = 0;
        let vals = &self.batch_vals;
        let mut maybe = [false; BATCH];
        for (m, v) in maybe.iter_mut().zip(&vals[..n]) {
            *m = self.index.may_contain(v[0] as u64);
        }
        let mut members = [None; BATCH];
        for ((m, maybe), v) in members.iter_mut().zip(maybe).zip(&vals[..n]) {
            if maybe {
                *m = self.index.probe(v[0] as u64);
            }
        }
        let outreach = self.schema.kind == FeedKind::MedicalClaims && self.outreach_line.is_some();
        for (i, member) in members.iter().enumerate().take(n) {
            match member {
                Some(m) => {
                    let v = self.batch_vals[i];
                    self.apply(self.batch_rows[i], *m, &v);
                }
                None if outreach => {
                    let v = self.batch_vals[i];
                    self.outreach(self.batch_rows[i], v[0] as u64, &v);
                }
                None => {}
            }
        }
    }

    #[inline]
    fn apply(&mut self, row: u64, member: MemberIx, v: &[i64; MAX_COLUMNS]) {
        self.matched_rows += 1;
        let h = self.index.household_of(member) as usize;
        let a = &mut self.acc[h];
        let first = |a: &mut Acc, value: i64| {
            if !a.hit {
                a.hit = true;
                a.row = row;
                a.member = member;
                a.value = value;
            }
        };
        match self.schema.kind {
            FeedKind::CivilDeaths => {
                if v[cols::DEATH_DATE] <= self.last_day {
                    first(a, v[cols::DEATH_DATE]);
                }
            }
            FeedKind::Vehicles => {
                let t = v[cols::VEHICLE_TYPE];
                let excluded = match self.class_of {
                    None => self.excluded_vehicles,
                    Some(of) => self.class_vehicles[of[h] as usize],
                };
                if excluded & (1 << t) == 0 && v[cols::VEHICLE_REGISTERED] <= self.last_day {
                    first(a, t);
                }
            }
            FeedKind::Deposits => {
                a.sum += v[cols::DEPOSIT_BALANCE];
                sum_row(a, row, member);
            }
            // Counted here, judged in `Tally::warnings` (over every source of the kind); the
            // household's first property is cited.
            FeedKind::RealEstate => {
                if v[cols::RE_REGISTERED] <= self.last_day {
                    if a.row == 0 {
                        a.row = row;
                        a.member = member;
                    }
                    if v[cols::RE_USAGE] == 0 {
                        a.n += 1;
                    } else {
                        a.m += 1;
                    }
                }
            }
            FeedKind::Business => {
                if v[cols::BIZ_STATUS] == 0 {
                    first(a, v[cols::BIZ_ROLE]);
                }
            }
            FeedKind::SocialInsurance => {
                if v[cols::SI_MONTH] == self.yyyymm {
                    a.sum += v[cols::SI_WAGE];
                    sum_row(a, row, member);
                }
            }
            FeedKind::MedicalClaims => {
                let d = v[cols::MED_DATE];
                let oop = v[cols::MED_OOP];
                let line = match self.class_of {
                    None => self.medical_line,
                    Some(of) => self.class_medical_lines[of[h] as usize],
                };
                if d >= self.first_day && d <= self.last_day && oop > line {
                    first(a, oop);
                }
            }
            FeedKind::Pensions => {
                if v[cols::PEN_MONTH] == self.yyyymm {
                    a.sum += v[cols::PEN_AMOUNT];
                    sum_row(a, row, member);
                }
            }
            FeedKind::HousingFund => {
                if v[cols::HF_MONTH] == self.yyyymm && v[cols::HF_DEPOSIT] > 0 {
                    first(a, v[cols::HF_DEPOSIT]);
                }
            }
            FeedKind::Imprisonment => {
                let end = v[cols::IMP_END];
                if v[cols::IMP_START] <= self.last_day && (end == NONE || end >= self.first_day) {
                    first(a, v[cols::IMP_START]);
                }
            }
            FeedKind::HukouMoves => {
                let d = v[cols::MOVE_DATE];
                // Moving out or cancellation (注销) removes the member; moving in does not.
                if v[cols::MOVE_TYPE] != 0 && d >= self.first_day && d <= self.last_day {
                    first(a, v[cols::MOVE_TYPE]);
                }
            }
        }
    }

    fn outreach(&mut self, row: u64, key: u64, v: &[i64; MAX_COLUMNS]) {
        let Some(line) = self.outreach_line else {
            return;
        };
        let d = v[cols::MED_DATE];
        let oop = v[cols::MED_OOP];
        // A county's month has hundreds of leads; the cap bounds what a hostile delivery of
        // millions of qualifying rows can make the run hold.
        if d >= self.first_day && d <= self.last_day && oop > line && self.leads.len() < MAX_LEADS {
            let chars = parse::id_from_key(key);
            let person =
                IdNumber::parse(std::str::from_utf8(&chars).expect("ascii")).expect("validated id");
            self.leads.push(OutreachLead {
                person,
                delivery: 0,
                row,
                settlement_date: Ymd(d as u32),
                out_of_pocket: Money::from_fen(oop),
                threshold: Money::from_fen(line),
            });
        }
    }
}

#[inline]
fn sum_row(a: &mut Acc, row: u64, member: MemberIx) {
    if a.row == 0 {
        a.row = row;
        a.member = member;
    }
    a.n += 1;
}

/// Rejected text for a reason: at most [`MAX_QUOTED_BYTES`], cut at a character boundary.
fn quoted(text: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(text);
    if lossy.len() <= MAX_QUOTED_BYTES {
        return lossy.into_owned();
    }
    let mut end = MAX_QUOTED_BYTES;
    while !lossy.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &lossy[..end])
}

#[inline]
fn strip_cr(line: &[u8]) -> &[u8] {
    match line.last() {
        Some(b'\r') => &line[..line.len() - 1],
        _ => line,
    }
}
