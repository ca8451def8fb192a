//! `jiuzhu-bench dibao`: the policy engine alone (no store, no application) against the peer
//! tool of shared/bench/dibao.
//!
//! `jiuzhu-bench dibao --csv DIR --month 2020-07 [--urban-standard 850] [--explain]
//! [--dump-explanations FILE]` reads persons.csv and households.csv of shared/bench/dibao, computes
//! the month for every household with the product's engine (`jiuzhu_policy::calculate_into`, the
//! allocation-reusing form of `calculate_with`; parameters from a policy file that transcribes the
//! peer's OpenFisca parameters) and prints one JSON object of totals.
//!
//! households.csv is cut at line starts into 16 shares of whole households (persons.csv is cut
//! where each cut's household_id starts); two threads take shares in turn, read both files block
//! by block (no whole file in memory) and join them in household order. `--explain` keeps the
//! explanation of every household (`jiuzhu_policy::Explanation`, a compact trace) to the end and
//! reports how many, their steps and their bytes; `--dump-explanations FILE` also renders them all
//! as JSON lines.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use jiuzhu_domain::{
    Area, Disability, DisabilityKind, DivisionCode, EducationStage, Money, Relation,
};
use jiuzhu_policy::calc::{calculate_into, DibaoRoute, HouseholdResult, MonthParams};
use jiuzhu_policy::explain::{explain, Explanation};
use jiuzhu_policy::model::{
    Assets, Birth, HouseholdInput, MemberInput, SelfCareInput, SelfCareLevel, Supporter,
    TekunInput, TekunStatus,
};
use jiuzhu_policy::params::{PolicyLibrary, Source, Value, BUILTIN};
use jiuzhu_policy::Month;

const BENCH_POLICY: &str = include_str!("../bench-policy.toml");
const BENCH_REGION: &str = "990100";

struct Args {
    csv: String,
    month: Month,
    urban_standard: Option<Money>,
    explain: bool,
    dump: Option<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    match it.next().as_deref() {
        Some("dibao") => {}
        _ => bail!("{}", crate::USAGE),
    }
    let (mut csv, mut month, mut urban, mut explain, mut dump) = (None, None, None, false, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--csv" => csv = it.next(),
            "--month" => {
                let m = it.next().context("--month needs a value")?;
                month =
                    Some(Month::parse(&m).ok_or_else(|| anyhow!("--month {m:?} is not YYYY-MM"))?);
            }
            "--urban-standard" => {
                let v = it.next().context("--urban-standard needs a value")?;
                urban = Some(Money::parse(&v).map_err(|e| anyhow!("--urban-standard: {e}"))?);
            }
            "--explain" => explain = true,
            "--dump-explanations" => {
                dump = Some(it.next().context("--dump-explanations needs a file")?);
                explain = true;
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Args {
        csv: csv.context("--csv DIR is required")?,
        month: month.context("--month YYYY-MM is required")?,
        urban_standard: urban,
        explain,
        dump,
    })
}

/// Bytes read at a time from each file by each thread.
const BLOCK: usize = 1 << 19;

/// A problem at a byte offset of one of the files (turned into a line number when reported).
#[derive(Debug)]
struct At {
    file: &'static str,
    offset: u64,
    message: String,
}

fn at(file: &'static str, offset: u64, message: impl Into<String>) -> At {
    At {
        file,
        offset,
        message: message.into(),
    }
}

/// Reads a byte range of a file block by block, handing out whole lines (no whole-file buffer).
struct Lines<'f> {
    file: &'f File,
    name: &'static str,
    /// File offset of the next read and the end of the range.
    next: u64,
    end: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    /// Next unread byte; end of the whole lines; end of the bytes read.
    pos: usize,
    whole: usize,
    filled: usize,
}

impl<'f> Lines<'f> {
    /// Reads `[start, end)` of `file` into `buf` (reused from an earlier range when given).
    fn new(file: &'f File, name: &'static str, start: u64, end: u64, mut buf: Vec<u8>) -> Self {
        if buf.len() < BLOCK {
            buf = vec![0; BLOCK];
        }
        Lines {
            file,
            name,
            next: start,
            end,
            buf,
            base: start,
            pos: 0,
            whole: 0,
            filled: 0,
        }
    }

    /// Makes `buf[pos..whole]` hold at least one whole line; false at the end of the range.
    fn fill(&mut self) -> Result<bool, At> {
        if self.pos < self.whole {
            return Ok(true);
        }
        self.buf.copy_within(self.pos..self.filled, 0);
        self.base += self.pos as u64;
        self.filled -= self.pos;
        self.pos = 0;
        self.whole = 0;
        loop {
            if self.next >= self.end {
                // The range's last line may lack its newline.
                self.whole = self.filled;
                return Ok(self.whole > 0);
            }
            if self.filled == self.buf.len() {
                let n = self.buf.len() * 2;
                self.buf.resize(n, 0);
            }
            let want = (self.buf.len() - self.filled).min((self.end - self.next) as usize);
            let got = self
                .file
                .read_at(&mut self.buf[self.filled..self.filled + want], self.next)
                .map_err(|e| at(self.name, self.next, format!("read error: {e}")))?;
            if got == 0 {
                return Err(at(self.name, self.next, "file ended early"));
            }
            let new = &self.buf[self.filled..self.filled + got];
            if let Some(k) = new.iter().rposition(|b| *b == b'\n') {
                self.whole = self.filled + k + 1;
            }
            self.filled += got;
            self.next += got as u64;
            if self.whole > 0 {
                return Ok(true);
            }
        }
    }
}

/// The value of the first `len` (1–7) digits of `x`, eight bytes holding 0–9 each, the first
/// digit in the lowest byte (SWAR: three multiplications instead of a loop).
#[inline(always)]
fn swar_digits(x: u64, len: usize) -> u64 {
    let y = x << (8 * (8 - len));
    let y = y.wrapping_mul(10).wrapping_add(y >> 8);
    ((y & 0x0000_00ff_0000_00ff)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((y >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

/// One bit per byte of `w` (bit i for byte i) from a mask with only the bytes' high bits set.
#[inline(always)]
fn gather(m: u64) -> u64 {
    (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// High bit of each byte of `w` that equals `b`.
#[inline(always)]
fn bytes_eq(w: u64, b: u8) -> u64 {
    let c = w ^ (0x0101_0101_0101_0101 * b as u64);
    !(((c & 0x7f7f_7f7f_7f7f_7f7f).wrapping_add(0x7f7f_7f7f_7f7f_7f7f)) | c) & 0x8080_8080_8080_8080
}

/// The common line quickly: only digits and commas, at most 64 bytes with its newline, fields
/// of 1–7 digits. Finds every separator first (eight bytes at a time), then converts the fields
/// independently. None: use [`parse_line`].
#[inline(always)]
fn parse_line_fast(
    data: &[u8],
    n: usize,
    i: &mut usize,
    vals: &mut [i64; MAX_FIELDS],
) -> Option<usize> {
    let p = *i;
    if p + 72 > data.len() {
        return None;
    }
    let (mut commas, mut nondigits, mut end) = (0u64, 0u64, None);
    for k in 0..8 {
        let w = u64::from_le_bytes(data[p + 8 * k..p + 8 * k + 8].try_into().expect("8 bytes"));
        let x = w ^ 0x3030_3030_3030_3030;
        let nd = (((x & 0x7f7f_7f7f_7f7f_7f7f).wrapping_add(0x7676_7676_7676_7676)) | x)
            & 0x8080_8080_8080_8080;
        commas |= gather(bytes_eq(w, b',')) << (8 * k);
        nondigits |= gather(nd) << (8 * k);
        let nl = gather(bytes_eq(w, b'\n'));
        if nl != 0 {
            end = Some(8 * k + nl.trailing_zeros() as usize);
            break;
        }
    }
    let end = end?; // offset of the newline
    if p + end >= n || end == 0 {
        return None;
    }
    let below = (1u64 << end) - 1;
    let (commas, nondigits) = (commas & below, nondigits & below);
    // Only digits and commas; no empty field (a comma first, last or after another).
    if nondigits != commas
        || commas & 1 != 0
        || commas & (commas << 1) != 0
        || commas >> (end - 1) != 0
    {
        return None;
    }
    let fields = commas.count_ones() as usize + 1;
    if fields > MAX_FIELDS {
        return None;
    }
    let mut seps = commas | (1u64 << end);
    let mut start = 0usize;
    for v in vals.iter_mut().take(fields) {
        let e = seps.trailing_zeros() as usize;
        let len = e - start;
        if len > 7 {
            return None;
        }
        let w = u64::from_le_bytes(data[p + start..p + start + 8].try_into().expect("8 bytes"));
        *v = if len == 1 {
            (w & 0x0f) as i64
        } else {
            swar_digits(w ^ 0x3030_3030_3030_3030, len) as i64
        };
        start = e + 1;
        seps &= seps - 1;
    }
    *i = p + end + 1;
    Some(fields)
}

/// One field the general way (any length, decimal point), from `data[*p..n]`.
#[inline(never)]
fn slow_field(
    data: &[u8],
    n: usize,
    p: &mut usize,
    nf: usize,
    dots: &mut u32,
) -> Result<i64, String> {
    let start = *p;
    let mut v = 0i64;
    let mut digits = 0;
    while *p < n {
        let d = data[*p].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if digits < 16 {
            v = v * 10 + d as i64;
        }
        digits += 1;
        *p += 1;
    }
    if *p < n && data[*p] == b'.' {
        *p += 1;
        let fs = *p;
        while *p < n {
            let d = data[*p].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if digits < 16 {
                v = v * 10 + d as i64;
            }
            digits += 1;
            *p += 1;
        }
        match *p - fs {
            1 => v *= 10,
            2 => {}
            _ => return Err(format!("field {} needs one or two decimals", nf + 1)),
        }
        *dots |= 1 << nf;
    }
    if *p == start {
        return Err(format!("field {} is empty or not a number", nf + 1));
    }
    if digits > 15 {
        return Err(format!("field {} is too long", nf + 1));
    }
    Ok(v)
}

/// Parses one CSV line of unsigned numbers from `data[*i..n]` up to and including its newline:
/// each field into `vals` (as written, without the point: fields with a decimal point are in
/// hundredths and have their bit set in `dots`; at most two decimals). Returns the number of
/// fields (0 for an empty line). Bytes of `data` past `n` (if any) are only looked at, never
/// taken as part of the line: they let a field be read eight bytes at a time.
#[inline(always)]
fn parse_line(
    data: &[u8],
    n: usize,
    i: &mut usize,
    vals: &mut [i64; MAX_FIELDS],
    dots: &mut u32,
) -> Result<usize, String> {
    let mut p = *i;
    let mut nf = 0;
    *dots = 0;
    if p >= n {
        return Ok(0);
    }
    match data[p] {
        b'\n' => {
            *i = p + 1;
            return Ok(0);
        }
        b'\r' if p + 1 >= n || data[p + 1] == b'\n' => {
            *i = (p + 2).min(n);
            return Ok(0);
        }
        _ => {}
    }
    loop {
        let mut fast = None;
        if p + 8 <= data.len() {
            let w = u64::from_le_bytes(data[p..p + 8].try_into().expect("8 bytes"));
            let x = w ^ 0x3030_3030_3030_3030;
            // High bit of each byte set where the byte is not a digit.
            let t = (x & 0x7f7f_7f7f_7f7f_7f7f).wrapping_add(0x7676_7676_7676_7676);
            let len = (((t | x) & 0x8080_8080_8080_8080).trailing_zeros() / 8) as usize;
            if (1..8).contains(&len) && p + len < n && data[p + len] != b'.' {
                p += len;
                fast = Some(swar_digits(x, len) as i64);
            }
        }
        let v = match fast {
            Some(v) => v,
            None => slow_field(data, n, &mut p, nf, dots)?,
        };
        vals[nf] = v;
        nf += 1;
        if p >= n {
            break;
        }
        match data[p] {
            b',' if nf < MAX_FIELDS && p + 1 < n => p += 1,
            b',' if nf < MAX_FIELDS => return Err(format!("field {} is empty", nf + 1)),
            b',' => return Err("too many fields".into()),
            b'\n' => {
                p += 1;
                break;
            }
            b'\r' if p + 1 >= n || data[p + 1] == b'\n' => {
                p = (p + 2).min(n);
                break;
            }
            other => return Err(format!("unexpected character {:?}", other as char)),
        }
    }
    *i = p;
    Ok(nf)
}

const MAX_FIELDS: usize = 24;

/// Typed access to the parsed fields of one line; errors name the column (index into `names`).
struct Fields<'a> {
    vals: &'a [i64; MAX_FIELDS],
    dots: u32,
    cols: &'a [usize],
}

impl Fields<'_> {
    #[inline(always)]
    fn int(&self, k: usize) -> Result<i64, usize> {
        let c = self.cols[k];
        if self.dots & (1 << c) != 0 {
            return Err(k);
        }
        Ok(self.vals[c])
    }
    #[inline(always)]
    fn flag(&self, k: usize) -> Result<bool, usize> {
        Ok(self.int(k)? != 0)
    }
    #[inline(always)]
    fn money(&self, k: usize) -> Money {
        let c = self.cols[k];
        let v = self.vals[c];
        Money::from_fen(if self.dots & (1 << c) != 0 {
            v
        } else {
            v * 100
        })
    }
}

/// Parses an unsigned integer.
fn int(field: &[u8]) -> Option<i64> {
    if field.is_empty() || field.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as i64;
    }
    Some(v)
}

fn columns(file: &str, header: &[u8], want: &[&str]) -> anyhow::Result<Vec<usize>> {
    let names: Vec<&[u8]> = header.split(|b| *b == b',').collect();
    want.iter()
        .map(|w| {
            names
                .iter()
                .position(|n| n.trim_ascii() == w.as_bytes())
                .ok_or_else(|| anyhow!("{file}: column {w} missing"))
        })
        .collect()
}

const H_COLS: [&str; 4] = ["household_id", "urban", "assets", "single_parent"];

struct HouseholdRow {
    id: u64,
    urban: bool,
    assets: Money,
    single_parent: bool,
}

impl Lines<'_> {
    /// The next households.csv row and its offset (empty lines skipped).
    fn next_household(&mut self, cols: &[usize]) -> Result<Option<(HouseholdRow, u64)>, At> {
        let mut vals = [0i64; MAX_FIELDS];
        let mut dots = 0;
        loop {
            if !self.fill()? {
                return Ok(None);
            }
            let off = self.base + self.pos as u64;
            let nf = match parse_line_fast(&self.buf, self.whole, &mut self.pos, &mut vals) {
                Some(nf) => {
                    dots = 0;
                    nf
                }
                None => parse_line(&self.buf, self.whole, &mut self.pos, &mut vals, &mut dots)
                    .map_err(|e| at("households.csv", off, e))?,
            };
            if nf == 0 {
                continue;
            }
            if cols.iter().any(|c| *c >= nf) {
                return Err(at("households.csv", off, "too few fields"));
            }
            let f = Fields {
                vals: &vals,
                dots,
                cols,
            };
            let e = |k: usize| {
                at(
                    "households.csv",
                    off,
                    format!("{} is not an integer", H_COLS[k]),
                )
            };
            let row = HouseholdRow {
                id: f.int(0).map_err(e)? as u64,
                urban: f.flag(1).map_err(e)?,
                assets: f.money(2),
                single_parent: f.flag(3).map_err(e)?,
            };
            return Ok(Some((row, off)));
        }
    }
}

/// Explanations kept, by household_id.
type Kept = Vec<(u64, Explanation)>;

const P_COLS: [&str; 12] = [
    "household_id",
    "age",
    "income",
    "medical_expense",
    "disability_expense",
    "education_expense",
    "severe_disability",
    "serious_illness",
    "student",
    "tekun",
    "self_care",
    "centrally_supported",
];

#[derive(Default, Clone)]
struct Totals {
    households: u64,
    persons: u64,
    base: Money,
    addon: Money,
    tekun: Money,
    total: Money,
    explained: u64,
    steps: u64,
    explanation_bytes: u64,
}

impl Totals {
    fn merge(&mut self, o: &Totals) {
        self.households += o.households;
        self.persons += o.persons;
        self.base += o.base;
        self.addon += o.addon;
        self.tekun += o.tekun;
        self.total += o.total;
        self.explained += o.explained;
        self.steps += o.steps;
        self.explanation_bytes += o.explanation_bytes;
    }
}

/// One thread's share: whole households `[first household line, end)` of households.csv joined
/// with their persons, which come grouped and in household order.
struct Worker<'a> {
    mp: &'a MonthParams,
    pcols: &'a [usize],
    /// The highest column index persons.csv lines need.
    max_pcol: usize,
    hcols: &'a [usize],
    explain: bool,
    households: Lines<'a>,
    /// The household_id the next households.csv line must have.
    next_household: u64,
    hh: HouseholdInput,
    /// Members of the current household (`hh.members` slots are reused across households).
    n: usize,
    current: Option<u64>,
    /// Offset of the current household's first persons.csv line.
    current_at: u64,
    template: MemberInput,
    /// The result computed into, household after household.
    result: HouseholdResult,
    totals: Totals,
    /// Every household's explanation, when asked to keep them.
    kept: Kept,
}

impl Worker<'_> {
    /// Reads households.csv up to the household `hid` (households without persons are skipped).
    fn household(&mut self, hid: u64, offset: u64) -> Result<HouseholdRow, At> {
        loop {
            let Some((row, off)) = self.households.next_household(self.hcols)? else {
                return Err(at(
                    "persons.csv",
                    offset,
                    format!("household_id {hid} not in households.csv (or persons not in household order)"),
                ));
            };
            if row.id != self.next_household {
                return Err(at(
                    "households.csv",
                    off,
                    format!(
                        "household_id {} out of sequence (expected {})",
                        row.id, self.next_household
                    ),
                ));
            }
            self.next_household += 1;
            if row.id == hid {
                return Ok(row);
            }
            if row.id > hid {
                return Err(at(
                    "persons.csv",
                    offset,
                    "persons are not grouped by household_id in household order",
                ));
            }
        }
    }

    /// Reads the rest of this share of households.csv (checking the sequence).
    fn finish_households(&mut self) -> Result<u64, At> {
        while let Some((row, off)) = self.households.next_household(self.hcols)? {
            if row.id != self.next_household {
                return Err(at(
                    "households.csv",
                    off,
                    format!(
                        "household_id {} out of sequence (expected {})",
                        row.id, self.next_household
                    ),
                ));
            }
            self.next_household += 1;
        }
        Ok(self.next_household)
    }

    fn flush(&mut self) -> Result<(), At> {
        let Some(h) = self.current.take() else {
            return Ok(());
        };
        let offset = self.current_at;
        let row = self.household(h, offset)?;
        self.hh.members.truncate(self.n);
        self.n = 0;
        self.hh.area = if row.urban { Area::Urban } else { Area::Rural };
        self.hh.assets.financial = row.assets;
        self.hh.single_parent = row.single_parent;
        calculate_into(self.mp, &self.hh, &mut self.result).map_err(|e| {
            at(
                "persons.csv",
                offset,
                format!("household {h}: {}", e.message_zh()),
            )
        })?;
        let r = &self.result;
        let t = &mut self.totals;
        if r.dibao.route == DibaoRoute::Household {
            t.households += 1;
            t.persons += r.dibao.members as u64;
        }
        t.base += r.dibao.base;
        t.addon += r.dibao.supplements;
        t.tekun += r.tekun_total;
        t.total += r.total;
        if self.explain {
            let e = explain(self.mp, r);
            t.explained += 1;
            t.steps += e.len() as u64;
            t.explanation_bytes += e.kept_bytes() as u64;
            self.kept.push((h, e));
        }
        Ok(())
    }

    /// Every line of a block of whole lines of persons.csv, `data[0]` being at file offset `base`
    /// (`data[start..end]`; `data` may go on past `end`, see [`parse_line`]).
    fn block(&mut self, data: &[u8], start: usize, end: usize, base: u64) -> Result<(), At> {
        let mut vals = [0i64; MAX_FIELDS];
        let mut dots = 0u32;
        let mut i = start;
        while i < end {
            let off = base + i as u64;
            let nf = match parse_line_fast(data, end, &mut i, &mut vals) {
                Some(nf) => {
                    dots = 0;
                    nf
                }
                None => parse_line(data, end, &mut i, &mut vals, &mut dots)
                    .map_err(|e| at("persons.csv", off, e))?,
            };
            if nf == 0 {
                continue;
            }
            if nf <= self.max_pcol {
                return Err(at("persons.csv", off, "too few fields"));
            }
            let f = Fields {
                vals: &vals,
                dots,
                cols: self.pcols,
            };
            self.person(&f, off)?;
        }
        Ok(())
    }

    fn person(&mut self, f: &Fields, off: u64) -> Result<(), At> {
        let e = |k: usize| {
            at(
                "persons.csv",
                off,
                format!("{} is not an integer", P_COLS[k]),
            )
        };
        let hid = f.int(0).map_err(e)? as u64;
        match self.current {
            Some(cur) if cur == hid => {}
            Some(cur) if hid < cur => {
                return Err(at(
                    "persons.csv",
                    off,
                    "persons are not grouped by household_id in household order",
                ))
            }
            _ => {
                self.flush()?;
                self.current = Some(hid);
                self.current_at = off;
            }
        }
        let tekun = if f.flag(9).map_err(e)? {
            let level = match f.int(10).map_err(e)? {
                0 => SelfCareLevel::Able,
                1 => SelfCareLevel::PartialLoss,
                2 => SelfCareLevel::FullLoss,
                v => {
                    return Err(at(
                        "persons.csv",
                        off,
                        format!("self_care {v} is not 0, 1 or 2"),
                    ))
                }
            };
            Some(TekunInput {
                status: TekunStatus::Recognised,
                centralised: f.flag(11).map_err(e)?,
                supporter: Supporter::None,
                self_care: SelfCareInput::Level(level),
                covered_as_minor: false,
            })
        } else {
            None
        };
        let age = f.int(1).map_err(e)?.min(u32::MAX as i64) as u32;
        let severe = f.flag(6).map_err(e)?;
        let serious_illness = f.flag(7).map_err(e)?;
        let student = f.flag(8).map_err(e)?;
        if self.n == self.hh.members.len() {
            self.hh.members.push(self.template.clone());
        }
        let m = &mut self.hh.members[self.n];
        self.n += 1;
        m.birth = Birth::Age(age);
        m.income = f.money(2);
        m.medical_expense = f.money(3);
        m.disability_expense = f.money(4);
        m.education_expense = f.money(5);
        m.disability = severe.then_some(Disability {
            kind: DisabilityKind::Physical,
            grade: 1,
        });
        m.serious_illness = serious_illness;
        m.education = if student {
            EducationStage::SeniorSecondary
        } else {
            EducationStage::NotInSchool
        };
        m.tekun = tekun;
        Ok(())
    }
}

/// One thread: persons.csv `[p_start, p_end)` with households.csv `[h_start, h_end)`, whose first
/// household_id is `first_household`. Returns the totals, the explanations kept and the
/// household_id after the last line of its households.csv share.
#[allow(clippy::too_many_arguments)]
fn run_share(
    mp: &MonthParams,
    region: &DivisionCode,
    (pfile, pcols, p_start, p_end): (&File, &[usize], u64, u64),
    (hfile, hcols, h_start, h_end): (&File, &[usize], u64, u64),
    first_household: u64,
    explain: bool,
    bufs: &mut (Vec<u8>, Vec<u8>),
) -> Result<(Totals, Kept, u64), At> {
    let mut template = MemberInput::basic("", Birth::Age(0), Relation::Other);
    template.support_duty = true;
    let mut w = Worker {
        mp,
        pcols,
        max_pcol: pcols.iter().copied().max().unwrap_or(0),
        hcols,
        explain,
        households: Lines::new(
            hfile,
            "households.csv",
            h_start,
            h_end,
            std::mem::take(&mut bufs.1),
        ),
        next_household: first_household,
        hh: HouseholdInput {
            region: region.clone(),
            code: None,
            area: Area::Urban,
            members: Vec::with_capacity(16),
            assets: Assets::default(),
            single_parent: false,
            staff_relative: false,
            post_poverty_monitored: false,
            dibao_history: None,
            income_12m: None,
            rigid_expenses_12m: None,
            temporary: None,
        },
        n: 0,
        current: None,
        current_at: 0,
        template,
        result: HouseholdResult::blank(mp.month, 16),
        totals: Totals::default(),
        kept: Vec::new(),
    };
    if explain {
        // About 2.5 persons (38 bytes a line) per household.
        w.kept
            .reserve((p_end.saturating_sub(p_start) / 95) as usize);
    }
    let mut persons = Lines::new(
        pfile,
        "persons.csv",
        p_start,
        p_end,
        std::mem::take(&mut bufs.0),
    );
    while persons.fill()? {
        w.block(&persons.buf, persons.pos, persons.whole, persons.base)?;
        persons.pos = persons.whole;
    }
    w.flush()?;
    let next = w.finish_households()?;
    *bufs = (persons.buf, w.households.buf);
    Ok((w.totals, w.kept, next))
}

/// Reads `len` bytes at `offset` (fewer at the end of the file).
fn read_window(file: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; len];
    let mut got = 0;
    while got < len {
        let n = file.read_at(&mut buf[got..], offset + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    Ok(buf)
}

/// The first line starting at or after `pos` (`pos` itself if a line starts there): its offset
/// and text, or None past the end.
fn line_from(
    file: &File,
    start: u64,
    pos: u64,
    end: u64,
) -> anyhow::Result<Option<(u64, Vec<u8>)>> {
    let mut p = pos;
    if p > start {
        // The line starts after the first newline at or after pos − 1.
        p -= 1;
        loop {
            if p >= end {
                return Ok(None);
            }
            let w = read_window(file, p, 4096)?;
            match w.iter().position(|b| *b == b'\n') {
                Some(k) => {
                    p += k as u64 + 1;
                    break;
                }
                None if w.is_empty() => return Ok(None),
                None => p += w.len() as u64,
            }
        }
    }
    if p >= end {
        return Ok(None);
    }
    let mut line = Vec::new();
    let mut q = p;
    loop {
        let w = read_window(file, q, 4096)?;
        if w.is_empty() {
            break;
        }
        match w.iter().position(|b| *b == b'\n') {
            Some(k) => {
                line.extend_from_slice(&w[..k]);
                break;
            }
            None => {
                line.extend_from_slice(&w);
                q += w.len() as u64;
            }
        }
    }
    Ok(Some((p, line)))
}

fn field(line: &[u8], col: usize) -> &[u8] {
    line.split(|b| *b == b',')
        .nth(col)
        .unwrap_or(b"")
        .trim_ascii()
}

/// The offset of the first persons line whose household_id is at least `h`, by bisection (the
/// file is in household order; the workers check that it is).
fn persons_split(file: &File, start: u64, end: u64, col: usize, h: u64) -> anyhow::Result<u64> {
    let (mut lo, mut hi) = (start, end);
    // Invariant: the answer is a line start in [lo, hi] (hi = end: no such line).
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match line_from(file, start, mid, end)? {
            Some((p, line)) if p < hi => {
                let id = int(field(&line, col)).unwrap_or(u64::MAX as i64) as u64;
                if id >= h {
                    hi = p;
                } else {
                    lo = p + 1;
                }
            }
            _ => {
                // No line starts in [mid, hi): the answer is hi or a line starting before mid.
                if mid == lo {
                    return Ok(hi);
                }
                match line_from(file, start, lo, end)? {
                    Some((p, line)) if p < hi => {
                        let id = int(field(&line, col)).unwrap_or(u64::MAX as i64) as u64;
                        if id >= h {
                            return Ok(p);
                        }
                        lo = p + 1;
                    }
                    _ => return Ok(hi),
                }
            }
        }
    }
    Ok(hi)
}

/// 1-based line number of a byte offset.
fn line_number(path: &str, offset: u64) -> usize {
    match std::fs::read(path) {
        Ok(d) => {
            let o = (offset as usize).min(d.len());
            d[..o].iter().filter(|b| **b == b'\n').count() + 1
        }
        Err(_) => 0,
    }
}

fn open(path: &str) -> anyhow::Result<(File, u64)> {
    let f = File::open(path).with_context(|| format!("reading {path}"))?;
    let len = f
        .metadata()
        .with_context(|| format!("reading {path}"))?
        .len();
    Ok((f, len))
}

/// The header line and the offset after it.
fn header(file: &File, name: &str) -> anyhow::Result<(Vec<u8>, u64)> {
    let (_, line) = line_from(file, 0, 0, u64::MAX)?.with_context(|| format!("{name} is empty"))?;
    let len = line.len() as u64 + 1;
    Ok((line.strip_suffix(b"\r").unwrap_or(&line).to_vec(), len))
}

pub fn run() -> anyhow::Result<()> {
    let args = parse_args()?;
    let t0 = Instant::now();
    let mut texts: Vec<(String, String)> = BUILTIN
        .iter()
        .filter(|(f, _)| f.contains("000000"))
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
    texts.push((
        "crates/jiuzhu-bench/bench-policy.toml".into(),
        BENCH_POLICY.into(),
    ));
    let mut lib = PolicyLibrary::from_texts(texts).map_err(|e| {
        anyhow!(e
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("\n"))
    })?;
    let region = DivisionCode::parse(BENCH_REGION).map_err(|e| anyhow!("{e}"))?;
    if let Some(u) = args.urban_standard {
        lib = lib.with_value(
            &region,
            "dibao.standard.urban",
            args.month.first_day(),
            Value::Money(u),
            Source {
                key: "what_if".into(),
                title: "--urban-standard".into(),
                number: None,
                issued: None,
            },
        )?;
    }
    let set = lib.for_region(&region)?;
    let mp = MonthParams::resolve(&set, args.month).map_err(|e| anyhow!(e.message_zh()))?;

    let hpath = format!("{}/households.csv", args.csv);
    let ppath = format!("{}/persons.csv", args.csv);
    let (hfile, hlen) = open(&hpath)?;
    let (pfile, plen) = open(&ppath)?;
    let (hh, hstart) = header(&hfile, "households.csv")?;
    let (ph, pstart) = header(&pfile, "persons.csv")?;
    let hcols = columns("households.csv", &hh, &H_COLS)?;
    let pcols = columns("persons.csv", &ph, &P_COLS)?;

    // Shares of whole households: households.csv cut at line starts into SHARES parts, the
    // household_id of each cut finding the cut in persons.csv. Two threads take shares in turn,
    // so neither waits for the other if one gets less of the machine.
    const SHARES: u64 = 16;
    let mut cuts: Vec<(u64, u64, u64)> = vec![(hstart, pstart, 0)]; // (households, persons, id)
    for j in 1..SHARES {
        let pos = hstart + (hlen - hstart) * j / SHARES;
        let Some((p, line)) = line_from(&hfile, hstart, pos, hlen)? else {
            continue;
        };
        if p <= cuts.last().expect("first cut").0 {
            continue;
        }
        let id = int(field(&line, hcols[0])).with_context(|| {
            format!(
                "households.csv line {}: bad household_id",
                line_number(&hpath, p)
            )
        })? as u64;
        let pp = persons_split(&pfile, pstart, plen, pcols[0], id)?;
        if pp < cuts.last().expect("first cut").1 {
            bail!("persons.csv is not in household order");
        }
        cuts.push((p, pp, id));
    }
    cuts.push((hlen, plen, u64::MAX));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        let mut bufs = (Vec::new(), Vec::new());
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if k + 1 >= cuts.len() {
                return done;
            }
            let (h0, p0, id) = cuts[k];
            let (h1, p1, _) = cuts[k + 1];
            let r = run_share(
                &mp,
                &region,
                (&pfile, pcols.as_slice(), p0, p1),
                (&hfile, &hcols, h0, h1),
                id,
                args.explain,
                &mut bufs,
            );
            done.push((k, r));
        }
    };
    let mut results = std::thread::scope(|s| {
        let other = s.spawn(work);
        let mut mine = work();
        mine.extend(other.join().unwrap_or_default());
        mine
    });
    if results.len() + 1 != cuts.len() {
        bail!("worker panicked");
    }
    results.sort_by_key(|(k, _)| *k);
    let report = |e: At| {
        let path = if e.file == "persons.csv" {
            &ppath
        } else {
            &hpath
        };
        anyhow!(
            "{} line {}: {}",
            e.file,
            line_number(path, e.offset),
            e.message
        )
    };
    let mut totals = Totals::default();
    let mut kept: Vec<Kept> = Vec::with_capacity(results.len());
    for (k, r) in results {
        let (t, e, next_id) = r.map_err(report)?;
        let (h1, _, id1) = cuts[k + 1];
        if h1 < hlen && next_id != id1 {
            bail!(
                "households.csv line {}: household_id {id1} out of sequence (expected {next_id})",
                line_number(&hpath, h1)
            );
        }
        totals.merge(&t);
        kept.push(e);
    }
    let mut out = format!(
        "{{\"month\": \"{}\", \"eligible_households\": {}, \"eligible_persons\": {}, \"dibao_base\": {}, \"dibao_addon\": {}, \"tekun\": {}, \"total\": {}",
        args.month, totals.households, totals.persons, totals.base, totals.addon, totals.tekun, totals.total
    );
    if args.explain {
        out.push_str(&format!(
            ", \"explained_households\": {}, \"explanation_steps\": {}, \"explanation_bytes\": {}",
            kept.iter().map(Vec::len).sum::<usize>(),
            totals.steps,
            totals.explanation_bytes
        ));
    }
    out.push_str(&format!(", \"elapsed_ms\": {}}}", t0.elapsed().as_millis()));
    println!("{out}");
    if let Some(path) = &args.dump {
        // Rendered only now, from the kept traces.
        let mut w =
            std::io::BufWriter::new(File::create(path).with_context(|| format!("writing {path}"))?);
        for (id, e) in kept.iter().flatten() {
            write!(w, "{{\"household_id\": {id}, \"explanation\": ")?;
            serde_json::to_writer(&mut w, &e.steps(&mp))?;
            w.write_all(b"}\n")?;
        }
        w.flush()?;
    }
    // The explanations were kept to the end; the process exits without freeing them one by one.
    std::mem::forget(kept);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(usize, Vec<i64>, u32), String> {
        let mut vals = [0i64; MAX_FIELDS];
        let mut dots = 0;
        let mut i = 0;
        let nf = parse_line(s.as_bytes(), s.len(), &mut i, &mut vals, &mut dots)?;
        Ok((i, vals[..nf].to_vec(), dots))
    }

    #[test]
    fn lines_parse_to_integers_and_hundredths() {
        assert_eq!(
            parse("1,22,0,1068\nx").unwrap(),
            (12, vec![1, 22, 0, 1068], 0)
        );
        assert_eq!(
            parse("7,1.5,0.25\r\n").unwrap(),
            (12, vec![7, 150, 25], 0b110)
        );
        assert_eq!(parse("3,4").unwrap(), (3, vec![3, 4], 0));
        assert_eq!(parse("\n").unwrap(), (1, vec![], 0));
        assert!(parse("1,,2\n").is_err());
        assert!(parse("1,2,\n").is_err());
        assert!(parse("1,2.345\n").is_err());
        assert!(parse("1,-2\n").is_err());
        assert!(parse("1,1234567890123456\n").is_err());
    }

    #[test]
    fn eight_bytes_at_a_time_equals_digit_by_digit() {
        for v in [0u64, 7, 10, 99, 305, 1068, 98765, 123456, 1000000, 9999999] {
            let text = format!("{v},");
            let mut w = [0u8; 8];
            w[..text.len()].copy_from_slice(text.as_bytes());
            let x = u64::from_le_bytes(w) ^ 0x3030_3030_3030_3030;
            assert_eq!(swar_digits(x, text.len() - 1), v);
        }
        // With bytes after the end: the same fields, never read past the line.
        let line = "12,3456789,1.5,0,42";
        let padded = format!("{line}99999999");
        let mut vals = [0i64; MAX_FIELDS];
        let mut dots = 0;
        let mut i = 0;
        let nf = parse_line(padded.as_bytes(), line.len(), &mut i, &mut vals, &mut dots).unwrap();
        assert_eq!(&vals[..nf], &[12, 3456789, 150, 0, 42]);
        assert_eq!((i, dots), (line.len(), 0b100));
    }

    #[test]
    fn the_quick_path_agrees_with_the_general_one() {
        let lines = [
            "0,0,20,1068,0,0,561,0,0,1,0,0,0",
            "9999999,1234567,7,1,22,333,4444,55555,666666,7777777,0,1,2",
            "1",
            "12,34",
            "1,,2",
            ",1",
            "1,",
            "1,2.5",
            "1,12345678",
            "1,2\r",
            "1,a",
            "5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        ];
        for line in lines {
            let text = format!("{line}\n{}", "7".repeat(80));
            let n = line.len() + 1;
            let (mut a, mut b) = ([0i64; MAX_FIELDS], [0i64; MAX_FIELDS]);
            let (mut ia, mut ib, mut dots) = (0, 0, 0);
            let general = parse_line(text.as_bytes(), n, &mut ib, &mut b, &mut dots);
            if let Some(nf) = parse_line_fast(text.as_bytes(), n, &mut ia, &mut a) {
                assert_eq!(general, Ok(nf), "{line}");
                assert_eq!((&a[..nf], ia, dots), (&b[..nf], ib, 0), "{line}");
            }
        }
        let mut v = [0i64; MAX_FIELDS];
        let text = format!("0,0,20,1068,0,0,561,0,0,1,0,0,0\n{}", " ".repeat(80));
        assert_eq!(
            parse_line_fast(text.as_bytes(), 33, &mut 0, &mut v),
            Some(13)
        );
    }

    #[test]
    fn persons_split_finds_the_first_line_of_a_household() {
        let dir = std::env::temp_dir().join(format!("jiuzhu-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("persons.csv");
        let mut text = String::from("person_id,household_id\n");
        for p in 0..500u32 {
            text.push_str(&format!("{p},{}\n", p / 3));
        }
        std::fs::write(&path, &text).unwrap();
        let f = File::open(&path).unwrap();
        let len = text.len() as u64;
        let start = "person_id,household_id\n".len() as u64;
        for h in [0u64, 1, 77, 166, 167, 1000] {
            let at = persons_split(&f, start, len, 1, h).unwrap();
            let expected = text
                .match_indices('\n')
                .map(|(i, _)| i as u64 + 1)
                .filter(|p| *p >= start && *p < len)
                .find(|p| {
                    let line = &text[*p as usize..];
                    let id: u64 = line.split([',', '\n']).nth(1).unwrap().parse().unwrap();
                    id >= h
                })
                .unwrap_or(len);
            assert_eq!(at, expected, "household {h}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
