//! `jiuzhu-bench`: the platform against the peer tools of shared/bench, on the same files.
//!
//! `jiuzhu-bench dibao --csv DIR --month 2020-07 [--urban-standard 850] [--explain]` reads
//! persons.csv and households.csv of shared/bench/dibao, computes the month for every household
//! with the product's engine (`jiuzhu_policy::calculate_with`, parameters from a policy file that
//! transcribes the peer's OpenFisca parameters) and prints one JSON object of totals.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use jiuzhu_domain::{
    Area, Disability, DisabilityKind, DivisionCode, EducationStage, Money, Relation,
};
use jiuzhu_policy::calc::{calculate_with, DibaoRoute, MonthParams};
use jiuzhu_policy::explain::explain;
use jiuzhu_policy::model::{
    Assets, Birth, HouseholdInput, MemberInput, SelfCareInput, SelfCareLevel, Supporter,
    TekunInput, TekunStatus,
};
use jiuzhu_policy::params::{PolicyLibrary, Source, Value, BUILTIN};
use jiuzhu_policy::{HouseholdResult, Month};

const BENCH_POLICY: &str = include_str!("../bench-policy.toml");
const BENCH_REGION: &str = "990100";

struct Args {
    csv: String,
    month: Month,
    urban_standard: Option<Money>,
    explain: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    match it.next().as_deref() {
        Some("dibao") => {}
        _ => bail!("usage: jiuzhu-bench dibao --csv DIR --month YYYY-MM [--urban-standard 850] [--explain]"),
    }
    let (mut csv, mut month, mut urban, mut explain) = (None, None, None, false);
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
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Args {
        csv: csv.context("--csv DIR is required")?,
        month: month.context("--month YYYY-MM is required")?,
        urban_standard: urban,
        explain,
    })
}

/// Parses an unsigned integer field.
fn int(field: &[u8], col: &str, line: usize) -> anyhow::Result<i64> {
    if field.is_empty() {
        bail!("line {line}: {col} is empty");
    }
    let mut v: i64 = 0;
    for &b in field {
        if !b.is_ascii_digit() {
            bail!(
                "line {line}: {col} {:?} is not an integer",
                String::from_utf8_lossy(field)
            );
        }
        v = v * 10 + (b - b'0') as i64;
    }
    Ok(v)
}

/// Parses yuan (integer, or with up to two decimals) to exact fen.
fn money(field: &[u8], col: &str, line: usize) -> anyhow::Result<Money> {
    if !field.contains(&b'.') {
        return Ok(Money::from_yuan(int(field, col, line)?));
    }
    let s = std::str::from_utf8(field)?;
    Money::parse(s).map_err(|e| anyhow!("line {line}: {col}: {e}"))
}

fn columns(header: &[u8], want: &[&str]) -> anyhow::Result<Vec<usize>> {
    let names: Vec<&[u8]> = header.split(|b| *b == b',').collect();
    want.iter()
        .map(|w| {
            names
                .iter()
                .position(|n| n.trim_ascii() == w.as_bytes())
                .ok_or_else(|| anyhow!("column {w} missing"))
        })
        .collect()
}

struct HouseholdRow {
    urban: bool,
    assets: Money,
    single_parent: bool,
}

fn read_households(path: &str) -> anyhow::Result<Vec<HouseholdRow>> {
    let data = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let mut lines = data.split(|b| *b == b'\n');
    let header = lines.next().context("households.csv is empty")?;
    let c = columns(
        header,
        &["household_id", "urban", "assets", "single_parent"],
    )?;
    let mut out: Vec<HouseholdRow> = Vec::new();
    let mut f: Vec<&[u8]> = Vec::with_capacity(8);
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        f.clear();
        f.extend(line.split(|b| *b == b','));
        let ln = i + 2;
        let get = |k: usize| f.get(c[k]).copied().unwrap_or(b"");
        let id = int(get(0), "household_id", ln)? as usize;
        if id != out.len() {
            bail!(
                "households.csv line {ln}: household_id {id} out of sequence (expected {})",
                out.len()
            );
        }
        out.push(HouseholdRow {
            urban: int(get(1), "urban", ln)? != 0,
            assets: money(get(2), "assets", ln)?,
            single_parent: int(get(3), "single_parent", ln)? != 0,
        });
    }
    Ok(out)
}

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
    steps: u64,
}

impl Totals {
    fn merge(&mut self, o: &Totals) {
        self.households += o.households;
        self.persons += o.persons;
        self.base += o.base;
        self.addon += o.addon;
        self.tekun += o.tekun;
        self.total += o.total;
        self.steps += o.steps;
    }
}

struct Worker<'a> {
    mp: &'a MonthParams,
    households: &'a [HouseholdRow],
    cols: &'a [usize],
    explain: bool,
    hh: HouseholdInput,
    current: Option<usize>,
    totals: Totals,
    /// Every household's result and explanation, when asked to keep them.
    kept: Vec<(HouseholdResult, Vec<jiuzhu_policy::Step>)>,
}

impl Worker<'_> {
    fn flush(&mut self) -> anyhow::Result<()> {
        let Some(h) = self.current.take() else {
            return Ok(());
        };
        let row = self
            .households
            .get(h)
            .ok_or_else(|| anyhow!("household_id {h} not in households.csv"))?;
        self.hh.area = if row.urban { Area::Urban } else { Area::Rural };
        self.hh.assets.financial = row.assets;
        self.hh.single_parent = row.single_parent;
        let r = calculate_with(self.mp, &self.hh)
            .map_err(|e| anyhow!("household {h}: {}", e.message_zh()))?;
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
            let steps = explain(self.mp, &r);
            t.steps += steps.len() as u64;
            self.kept.push((r, steps));
        }
        self.hh.members.clear();
        Ok(())
    }

    fn line(&mut self, line: &[u8], ln: usize) -> anyhow::Result<()> {
        // One pass over the bytes: every field as hundredths (integer columns must have none).
        let mut vals = [0i64; 16];
        let mut decimals = [-1i8; 16];
        let mut nf = 0usize;
        let mut empty = true;
        for &byte in line {
            match byte {
                b'0'..=b'9' => {
                    let v = &mut vals[nf];
                    *v = *v * 10 + (byte - b'0') as i64;
                    empty = false;
                    if decimals[nf] >= 0 {
                        decimals[nf] += 1;
                        if decimals[nf] > 2 {
                            bail!(
                                "persons.csv line {ln}: field {} has more than two decimals",
                                nf + 1
                            );
                        }
                    }
                }
                b'.' if decimals[nf] < 0 => decimals[nf] = 0,
                b',' => {
                    if empty {
                        bail!("persons.csv line {ln}: field {} is empty", nf + 1);
                    }
                    nf += 1;
                    empty = true;
                    if nf == 16 {
                        bail!("persons.csv line {ln}: too many fields");
                    }
                }
                _ => bail!(
                    "persons.csv line {ln}: unexpected character {:?}",
                    byte as char
                ),
            }
        }
        if empty {
            bail!("persons.csv line {ln}: field {} is empty", nf + 1);
        }
        let c = self.cols;
        let money = |k: usize| -> Money {
            let i = c[k];
            let scale = match decimals[i] {
                -1 | 0 => 100,
                1 => 10,
                _ => 1,
            };
            Money::from_fen(vals[i] * scale)
        };
        let int = |k: usize, name: &str| -> anyhow::Result<i64> {
            let i = c[k];
            if decimals[i] >= 0 || i > nf {
                bail!("persons.csv line {ln}: {name} is not an integer");
            }
            Ok(vals[i])
        };
        let hid = int(0, "household_id")? as usize;
        match self.current {
            Some(cur) if cur == hid => {}
            Some(cur) if hid < cur => {
                bail!("persons.csv line {ln}: persons are not grouped by household_id")
            }
            _ => {
                self.flush()?;
                self.current = Some(hid);
            }
        }
        let b = |k: usize, name: &str| -> anyhow::Result<bool> { Ok(int(k, name)? != 0) };
        let mut m = MemberInput::basic("", Birth::Age(int(1, "age")? as u32), Relation::Other);
        m.support_duty = true;
        m.income = money(2);
        m.medical_expense = money(3);
        m.disability_expense = money(4);
        m.education_expense = money(5);
        if b(6, "severe_disability")? {
            m.disability = Some(Disability {
                kind: DisabilityKind::Physical,
                grade: 1,
            });
        }
        m.serious_illness = b(7, "serious_illness")?;
        if b(8, "student")? {
            m.education = EducationStage::SeniorSecondary;
        }
        if b(9, "tekun")? {
            let level = match int(10, "self_care")? {
                0 => SelfCareLevel::Able,
                1 => SelfCareLevel::PartialLoss,
                2 => SelfCareLevel::FullLoss,
                v => bail!("line {ln}: self_care {v} is not 0, 1 or 2"),
            };
            m.tekun = Some(TekunInput {
                status: TekunStatus::Recognised,
                centralised: b(11, "centrally_supported")?,
                supporter: Supporter::None,
                self_care: SelfCareInput::Level(level),
                covered_as_minor: false,
            });
        }
        self.hh.members.push(m);
        Ok(())
    }
}

fn run_chunk(
    mp: &MonthParams,
    households: &[HouseholdRow],
    cols: &[usize],
    explain: bool,
    region: &DivisionCode,
    chunk: &[u8],
    first_line: usize,
) -> anyhow::Result<(Totals, usize)> {
    let mut w = Worker {
        mp,
        households,
        cols,
        explain,
        hh: HouseholdInput {
            region: region.clone(),
            code: None,
            area: Area::Urban,
            members: Vec::with_capacity(8),
            assets: Assets::default(),
            single_parent: false,
            staff_relative: false,
            post_poverty_monitored: false,
            dibao_history: None,
            income_12m: None,
            rigid_expenses_12m: None,
            temporary: None,
        },
        current: None,
        totals: Totals::default(),
        kept: Vec::new(),
    };
    for (i, line) in chunk.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.is_empty() {
            w.line(line, first_line + i)?;
        }
    }
    w.flush()?;
    let kept = w.kept.len();
    Ok((w.totals, kept))
}

fn household_id_of(line: &[u8], col: usize) -> &[u8] {
    line.split(|b| *b == b',').nth(col).unwrap_or(b"")
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jiuzhu-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
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
    let (households, data) = std::thread::scope(|s| {
        let h = s.spawn(|| read_households(&hpath));
        let p = std::fs::read(&ppath).with_context(|| format!("reading {ppath}"));
        (h.join().map_err(|_| anyhow!("reader panicked")), p)
    });
    let households = households??;
    let data = data?;
    let nl = data
        .iter()
        .position(|b| *b == b'\n')
        .context("persons.csv is empty")?;
    let cols = columns(&data[..nl], &P_COLS)?;
    let body = &data[nl + 1..];

    // Split into two chunks at a household boundary; each thread computes whole households.
    let mut split = body.len() / 2;
    while split < body.len() && body[split - 1] != b'\n' {
        split += 1;
    }
    let hid_at = |pos: usize| -> &[u8] {
        let end = body[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|e| pos + e)
            .unwrap_or(body.len());
        household_id_of(&body[pos..end], cols[0])
    };
    if split > 0 && split < body.len() {
        let mut prev_start = split - 1;
        while prev_start > 0 && body[prev_start - 1] != b'\n' {
            prev_start -= 1;
        }
        let prev = hid_at(prev_start).to_vec();
        while split < body.len() && hid_at(split) == prev.as_slice() {
            split += body[split..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|e| e + 1)
                .unwrap_or(body.len() - split);
        }
    }
    let (a, b) = body.split_at(split.min(body.len()));
    let lines_in_a = a.iter().filter(|c| **c == b'\n').count();
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| run_chunk(&mp, &households, &cols, args.explain, &region, a, 2));
        let rb = run_chunk(
            &mp,
            &households,
            &cols,
            args.explain,
            &region,
            b,
            2 + lines_in_a,
        );
        (ha.join(), rb)
    });
    let (mut totals, kept_a) = ra.map_err(|_| anyhow!("worker panicked"))??;
    let (tb, kept_b) = rb?;
    if let (Some(last_a), Some(first_b)) = (
        a.rsplit(|c| *c == b'\n').find(|l| !l.is_empty()),
        b.split(|c| *c == b'\n').next(),
    ) {
        let x = int(household_id_of(last_a, cols[0]), "household_id", 0)?;
        let y = int(household_id_of(first_b, cols[0]), "household_id", 0)?;
        if y <= x {
            bail!("persons.csv is not grouped by household_id");
        }
    }
    totals.merge(&tb);
    let mut out = format!(
        "{{\"month\": \"{}\", \"eligible_households\": {}, \"eligible_persons\": {}, \"dibao_base\": {}, \"dibao_addon\": {}, \"tekun\": {}, \"total\": {}",
        args.month, totals.households, totals.persons, totals.base, totals.addon, totals.tekun, totals.total
    );
    if args.explain {
        out.push_str(&format!(
            ", \"explanations_kept\": {}, \"explanation_steps\": {}",
            kept_a + kept_b,
            totals.steps
        ));
    }
    out.push_str(&format!(", \"elapsed_ms\": {}}}", t0.elapsed().as_millis()));
    println!("{out}");
    Ok(())
}
