//! The verification report of one application (核对报告, 逢进必核, R-PR-3, R-VF-2): every member
//! of one household against the latest delivery of each feed kind, every finding citing its
//! source record (kind, department, delivery, data date, file row), and the asset and income
//! tests of the policy with their results (符合 / 不符合 / 需核实).
//!
//! Two pure steps. [`RecordScanner`] streams a delivery (any chunking, like [`crate::FeedIngest`])
//! and keeps the rows about the household's members only, with the same row numbering and the
//! same acceptance rules as the import, so a cited row is one the import accepted. [`build_report`]
//! turns the kept rows into findings and tests. The caller reads the kept files and stores the
//! result; nothing here touches a file, a database or the clock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{Area, IdNumber, Money};
use serde::{Deserialize, Serialize};

use crate::ingest::DeliveryError;
use crate::ingest::MAX_LINE_BYTES;
use crate::parse;
use crate::rules::VerifyPolicy;
use crate::schema::{cols, ColumnType, FeedKind, FeedKindSchema, FeedSchema, MAX_COLUMNS};

pub(crate) const ABSENT: usize = usize::MAX;
/// The value of an empty optional field (as in the import).
const NONE: i64 = i64::MIN;
const MAX_FILE_COLUMNS: usize = 64;

/// One row of a delivery about a member of the household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRecord {
    /// Index of the member in the list given to the scanner.
    pub member: usize,
    /// 1-based line of the file (the header is line 1), as the import numbers rows.
    pub row: u64,
    /// Which of its kind's sources the row is in (set by [`build_report`]).
    pub source: usize,
    /// Parsed values in schema order ([`crate::parse::field`]); `i64::MIN` for an empty optional.
    pub values: [i64; MAX_COLUMNS],
    /// The fields' text in schema order (trimmed, unquoted), for what the report quotes.
    pub text: Vec<String>,
}

/// Keeps the rows of one delivery that are about the given members.
pub struct RecordScanner {
    schema: &'static FeedSchema,
    /// Each member's identity key and the 17-digit body searched for in a line first: a line
    /// without any of them is skipped without being split.
    keys: Vec<u64>,
    finders: Vec<memchr::memmem::Finder<'static>>,
    carry: Vec<u8>,
    /// Inside a line over the limit, skipped to its end.
    skipping: bool,
    line: u64,
    header_seen: bool,
    pos: [usize; MAX_COLUMNS],
    file_columns: usize,
    records: Vec<MatchedRecord>,
}

impl RecordScanner {
    pub fn new(kind: FeedKind, members: &[IdNumber]) -> RecordScanner {
        let keys = members
            .iter()
            .map(|m| parse::id_key(m.as_str().as_bytes()).unwrap_or(u64::MAX))
            .collect();
        let finders = members
            .iter()
            .map(|m| memchr::memmem::Finder::new(&m.as_str().as_bytes()[..17]).into_owned())
            .collect();
        RecordScanner {
            schema: kind.schema(),
            keys,
            finders,
            carry: Vec::new(),
            skipping: false,
            line: 0,
            header_seen: false,
            pos: [ABSENT; MAX_COLUMNS],
            file_columns: 0,
            records: Vec::new(),
        }
    }

    /// The next bytes of the delivery (any split, even inside a line).
    pub fn push(&mut self, data: &[u8]) -> Result<(), DeliveryError> {
        let mut rest = data;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            if self.skipping {
                // The end of a line over the limit, counted when it began.
                self.skipping = false;
            } else if self.carry.len() + i > MAX_LINE_BYTES {
                // Rejected by the import too: nothing in it can be cited.
                self.carry.clear();
                self.line += 1;
            } else if self.carry.is_empty() {
                self.line_in(&rest[..i])?;
            } else {
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(&rest[..i]);
                self.line_in(&line)?;
                line.clear();
                self.carry = line;
            }
            rest = &rest[i + 1..];
        }
        if !self.skipping {
            if self.carry.len() + rest.len() > MAX_LINE_BYTES {
                self.carry.clear();
                self.skipping = true;
                self.line += 1;
            } else {
                self.carry.extend_from_slice(rest);
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<MatchedRecord>, DeliveryError> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line_in(&line)?;
        }
        if !self.header_seen {
            return Err(DeliveryError::Empty);
        }
        Ok(self.records)
    }

    fn line_in(&mut self, line: &[u8]) -> Result<(), DeliveryError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.line += 1;
        if !self.header_seen {
            return self.header(line);
        }
        if line.trim_ascii().is_empty() || !self.finders.iter().any(|f| f.find(line).is_some()) {
            return Ok(());
        }
        let fields = split(line);
        if fields.len() != self.file_columns {
            return Ok(());
        }
        let mut values = [NONE; MAX_COLUMNS];
        let mut text = Vec::with_capacity(self.schema.columns.len());
        for (c, col) in self.schema.columns.iter().enumerate() {
            let f = match self.pos[c] {
                ABSENT => &[][..],
                p => fields[p].trim_ascii(),
            };
            if f.is_empty() {
                if col.required {
                    // A rejected row: the import did not accept it, so it cannot be cited.
                    return Ok(());
                }
                text.push(String::new());
                continue;
            }
            match parse::field(col.ty, f) {
                Ok(v) => values[c] = v,
                Err(_) => return Ok(()),
            }
            text.push(String::from_utf8_lossy(f).into_owned());
        }
        let key = values[0] as u64;
        if let Some(member) = self.keys.iter().position(|k| *k == key) {
            self.records.push(MatchedRecord {
                member,
                row: self.line,
                source: 0,
                values,
                text,
            });
        }
        Ok(())
    }

    fn header(&mut self, line: &[u8]) -> Result<(), DeliveryError> {
        let (pos, file_columns) = header_positions(self.schema, line)?;
        self.pos = pos;
        self.file_columns = file_columns;
        self.header_seen = true;
        Ok(())
    }
}

/// Where each of the schema's columns is in a delivery's header line (`ABSENT` for an optional
/// column the file lacks), and how many columns the file has. Header names may be the code or the
/// Chinese label, in any order; every missing required column is named.
pub(crate) fn header_positions(
    schema: &FeedSchema,
    line: &[u8],
) -> Result<([usize; MAX_COLUMNS], usize), DeliveryError> {
    let fields = split(line);
    if fields.len() > MAX_FILE_COLUMNS {
        return Err(DeliveryError::TooManyColumns);
    }
    let mut names = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let f: &[u8] = if i == 0 {
            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
        } else {
            f
        };
        let s = std::str::from_utf8(f).map_err(|_| DeliveryError::HeaderNotUtf8)?;
        names.push(s.trim().to_string());
    }
    let mut pos = [ABSENT; MAX_COLUMNS];
    let mut missing = Vec::new();
    for (c, col) in schema.columns.iter().enumerate() {
        match names
            .iter()
            .position(|h| h == col.name || h == col.label_zh)
        {
            Some(p) => pos[c] = p,
            None if col.required => missing.push((col.name, col.label_zh)),
            None => pos[c] = ABSENT,
        }
    }
    if !missing.is_empty() {
        return Err(DeliveryError::MissingColumns(missing));
    }
    Ok((pos, fields.len()))
}

/// Splits one CSV line (RFC 4180 quotes on one line, `""` for a quote).
pub(crate) fn split(line: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if quoted {
            if c == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        i += 1;
    }
    out.push(cur);
    out
}

/// Streams one delivery from a reader through a [`RecordScanner`].
pub fn scan_reader<R: std::io::Read>(
    kind: FeedKind,
    members: &[IdNumber],
    mut reader: R,
) -> Result<Vec<MatchedRecord>, crate::IngestError> {
    let mut s = RecordScanner::new(kind, members);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        s.push(&buf[..n])?;
    }
    Ok(s.finish()?)
}

// ---- the report --------------------------------------------------------------------------------

/// A member of the household as the report shows them; the identity number is used to match
/// and appears masked only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportMember {
    pub name: String,
    /// The relation to the head, in Chinese (户主, 配偶, …).
    pub relation: String,
    pub id: IdNumber,
}

/// The delivery a kind's findings come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub kind: FeedKind,
    pub delivery_id: i64,
    /// The delivering department or institution as recorded with the delivery.
    pub source: String,
    pub data_date: NaiveDate,
    pub sha256: String,
}

/// What the report is computed from: the household, the policy values in force, and for each
/// kind that has an accepted delivery, that delivery with the household's rows.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// The day of the report: the household and the policy as of this day.
    pub as_of: NaiveDate,
    pub area: Area,
    pub members: &'a [ReportMember],
    pub policy: &'a VerifyPolicy,
    /// Wages, housing-fund deposits and medical costs are averaged over this many months ending
    /// with the month of each delivery's data date (`verify.report.income_months`).
    pub income_months: u32,
    pub sources: Vec<(SourceRef, Vec<MatchedRecord>)>,
}

/// A test's or the report's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 符合
    Pass,
    /// 需核实
    Check,
    /// 不符合
    Fail,
}

impl Verdict {
    pub fn label_zh(self) -> &'static str {
        match self {
            Verdict::Pass => "符合",
            Verdict::Check => "需核实",
            Verdict::Fail => "不符合",
        }
    }
}

/// Where a finding comes from (R-VF-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub kind: FeedKind,
    pub kind_label: String,
    /// The delivering department (the delivery's source; the schema's department when there is
    /// no delivery).
    pub source: String,
    pub delivery_id: Option<i64>,
    pub data_date: Option<NaiveDate>,
    /// The file row; `None` for "no record" and "no data" findings.
    pub row: Option<u64>,
}

/// `record`: a row of the delivery; `none`: the delivery has no row about the member (未发现记录);
/// `no_data`: no accepted delivery of the kind at all (无数据).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Record,
    None,
    NoData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub status: FindingStatus,
    /// What was found, in Chinese.
    pub text: String,
    /// The amount the record contributes (balance, wage, pension, deposit, out-of-pocket cost).
    pub amount: Option<Money>,
    /// Whether the record counts in the totals and tests (e.g. a disabled person's vehicle, a
    /// cancelled business or a wage outside the months averaged does not).
    pub counted: bool,
    pub cite: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSection {
    pub name: String,
    pub relation: String,
    pub id_masked: String,
    /// By kind (in [`FeedKind::ALL`] order), at least one finding per kind.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    pub kind: FeedKind,
    pub kind_label: String,
    pub source: String,
    /// `used` or `no_data`.
    pub status: String,
    pub delivery_id: Option<i64>,
    pub data_date: Option<NaiveDate>,
    pub sha256: Option<String>,
    /// Rows about the household's members.
    pub records: u32,
    /// For monthly feeds: the months averaged (`YYYY-MM`, first and last).
    pub months: Option<(String, String)>,
}

/// The household's totals, from the counted findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub deposits: Money,
    pub vehicles: u32,
    pub residential: u32,
    /// Square metres with two decimals.
    pub residential_area: String,
    pub commercial: u32,
    pub commercial_area: String,
    pub business_active: u32,
    /// Monthly averages over the months of the window.
    pub wages_monthly: Money,
    pub housing_fund_monthly: Money,
    /// Each member's pensions of the latest month delivered.
    pub pensions_monthly: Money,
    /// Wages plus pensions: the monthly income estimate.
    pub income_monthly: Money,
    pub medical_out_of_pocket: Money,
    pub medical_monthly: Money,
    pub deaths: u32,
    pub imprisoned: u32,
    pub hukou_moves_out: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    pub code: String,
    pub label: String,
    pub verdict: Verdict,
    pub verdict_label: String,
    /// The household's value, as text.
    pub value: String,
    /// The limit it was compared with, as text.
    pub threshold: String,
    /// The rule and parameter applied.
    pub clause: String,
    pub detail: String,
    /// The records the value is made of (or the delivery, when none).
    pub cites: Vec<Citation>,
}

/// The policy values the report applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyUsed {
    pub standard: Money,
    pub deposit_limit_per_member: Money,
    pub residential_allowed: u32,
    pub excluded_vehicle_types: Vec<String>,
    pub medical_line: Money,
    pub income_months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationReport {
    pub as_of: NaiveDate,
    pub area: String,
    pub area_label: String,
    pub member_count: u32,
    pub policy: PolicyUsed,
    /// All kinds, in [`FeedKind::ALL`] order.
    pub sources: Vec<SourceSummary>,
    pub members: Vec<MemberSection>,
    pub totals: Totals,
    pub tests: Vec<TestResult>,
    pub verdict: Verdict,
    pub verdict_label: String,
}

/// Months as a running index (year × 12 + month − 1).
fn month_ix(yyyymm: i64) -> i64 {
    (yyyymm / 100) * 12 + (yyyymm % 100) - 1
}
fn month_text(ix: i64) -> String {
    format!("{:04}-{:02}", ix.div_euclid(12), ix.rem_euclid(12) + 1)
}
fn ymd(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10000 + i64::from(d.month()) * 100 + i64::from(d.day())
}
fn date_text(v: i64) -> String {
    format!("{:04}-{:02}-{:02}", v / 10000, v / 100 % 100, v % 100)
}
fn money(v: i64) -> Money {
    Money::from_fen(v)
}
fn area_text(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}
/// `sum / n`, rounded half up to the fen (amounts are non-negative sums of fen).
fn average(sum: i64, n: u32) -> Money {
    let n = i64::from(n.max(1));
    Money::from_fen((2 * sum + n).div_euclid(2 * n))
}
fn code_label(kind: FeedKind, col: usize, v: i64) -> &'static str {
    match kind.schema().columns[col].ty {
        ColumnType::Code(t) => t.get(v as usize).map(|(_, zh)| *zh).unwrap_or(""),
        _ => "",
    }
}
fn code_of(kind: FeedKind, col: usize, v: i64) -> &'static str {
    match kind.schema().columns[col].ty {
        ColumnType::Code(t) => t.get(v as usize).map(|(c, _)| *c).unwrap_or(""),
        _ => "",
    }
}

/// A kind's sources (one per registered provider: each bank's deposits) and their rows about
/// the household, each row knowing its source.
struct KindState<'a> {
    srcs: Vec<&'a SourceRef>,
    records: Vec<MatchedRecord>,
}

/// The deliveries of each kind, as the report reads them.
struct Kinds<'a> {
    by_kind: BTreeMap<FeedKind, KindState<'a>>,
    /// Months of income counted.
    months: u32,
}

impl Kinds<'_> {
    /// The months counted: they end with the newest data date among the kind's sources.
    fn window(&self, k: FeedKind) -> Option<(i64, i64)> {
        let d = self.by_kind[&k].srcs.iter().map(|s| s.data_date).max()?;
        let last = i64::from(d.year()) * 12 + i64::from(d.month()) - 1;
        Some((last - i64::from(self.months) + 1, last))
    }

    /// A row cites its own source; a finding about no row cites the kind's first source.
    fn cite_in(&self, k: FeedKind, record: Option<&MatchedRecord>) -> Citation {
        let srcs = &self.by_kind[&k].srcs;
        let s = record
            .and_then(|r| srcs.get(r.source))
            .or_else(|| srcs.first())
            .copied();
        let row = record.map(|r| r.row);
        Citation {
            kind: k,
            kind_label: k.label_zh().into(),
            source: s
                .map(|s| s.source.clone())
                .unwrap_or_else(|| k.schema().source_zh.into()),
            delivery_id: s.map(|s| s.delivery_id),
            data_date: s.map(|s| s.data_date),
            row,
        }
    }

    fn has(&self, k: FeedKind) -> bool {
        !self.by_kind[&k].srcs.is_empty()
    }

    /// Each kind's sources as used, or the kind as without data.
    fn summaries(&self) -> Vec<SourceSummary> {
        FeedKind::ALL
            .iter()
            .flat_map(|&k| {
                let st = &self.by_kind[&k];
                let monthly = matches!(
                    k,
                    FeedKind::SocialInsurance
                        | FeedKind::HousingFund
                        | FeedKind::MedicalClaims
                        | FeedKind::Pensions
                        | FeedKind::HukouMoves
                );
                let months = self
                    .window(k)
                    .filter(|_| monthly)
                    .map(|(f, l)| (month_text(f), month_text(l)));
                let used = st.srcs.iter().enumerate().map(move |(i, s)| SourceSummary {
                    kind: k,
                    kind_label: k.label_zh().into(),
                    source: s.source.clone(),
                    status: "used".into(),
                    delivery_id: Some(s.delivery_id),
                    data_date: Some(s.data_date),
                    sha256: Some(s.sha256.clone()),
                    records: st.records.iter().filter(|r| r.source == i).count() as u32,
                    months: months.clone(),
                });
                let none = st.srcs.is_empty().then(|| SourceSummary {
                    kind: k,
                    kind_label: k.label_zh().into(),
                    source: k.schema().source_zh.into(),
                    status: "no_data".into(),
                    delivery_id: None,
                    data_date: None,
                    sha256: None,
                    records: 0,
                    months: None,
                });
                used.collect::<Vec<_>>().into_iter().chain(none)
            })
            .collect()
    }
}

/// What the tests of the household weigh, beside the totals.
struct Facts<'a> {
    policy: &'a VerifyPolicy,
    n_members: u32,
    standard: Money,
    /// The wages counted over the window, in fen.
    wages: i64,
    /// The largest single out-of-pocket medical cost, in fen.
    max_medical: Option<i64>,
}

/// The household's tests against the policy (R-DB-2, R-DB-3, R-LI-4, R-HH-1..3), each citing the
/// rows it counted, or its kind's source when it counted none.
fn household_tests(
    kinds: &Kinds,
    counted_cites: &BTreeMap<FeedKind, Vec<Citation>>,
    totals: &Totals,
    facts: Facts,
) -> Vec<TestResult> {
    let cites_of = |ks: &[FeedKind]| -> Vec<Citation> {
        let mut v = Vec::new();
        for k in ks {
            match counted_cites.get(k) {
                Some(c) => v.extend(c.iter().cloned()),
                None => v.push(kinds.cite_in(*k, None)),
            }
        }
        v
    };
    let no_data = |ks: &[FeedKind]| -> Vec<&'static str> {
        ks.iter()
            .filter(|k| !kinds.has(**k))
            .map(|k| k.label_zh())
            .collect()
    };
    let mut tests = Vec::new();
    let mut test = |code: &str,
                    label: &str,
                    kinds: &[FeedKind],
                    verdict: Verdict,
                    value: String,
                    threshold: String,
                    clause: &str,
                    detail: String| {
        let missing = no_data(kinds);
        let (verdict, detail) = if missing.is_empty() {
            (verdict, detail)
        } else {
            (
                verdict.max(Verdict::Check),
                format!("{}无数据,须另行核实;{detail}", missing.join("、")),
            )
        };
        tests.push(TestResult {
            code: code.into(),
            label: label.into(),
            verdict,
            verdict_label: verdict.label_zh().into(),
            value,
            threshold,
            clause: clause.into(),
            detail,
            cites: cites_of(kinds),
        });
    };

    let Facts {
        policy: p,
        n_members,
        standard,
        wages,
        max_medical,
    } = facts;
    let limit = p.deposit_limit_per_member.times(i64::from(n_members));
    test(
        "DEPOSIT",
        "存款及金融资产",
        &[FeedKind::Deposits],
        if totals.deposits > limit {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        format!("{} 元", totals.deposits),
        format!(
            "{} 元({} 元/人 × {} 人)",
            limit, p.deposit_limit_per_member, n_members
        ),
        "家庭存款及金融资产不超过限额(R-DB-3;参数 verify.deposit.limit_per_member)",
        if totals.deposits > limit {
            "超过限额".into()
        } else {
            "未超过限额".into()
        },
    );
    test(
        "VEHICLE",
        "机动车",
        &[FeedKind::Vehicles],
        if totals.vehicles > 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        format!("{} 辆", totals.vehicles),
        "0 辆".into(),
        "家庭成员名下无机动车,残疾人专用车除外(R-DB-3)",
        format!("不计入的车辆类型:{}", p.excluded_vehicle_types.join("、")),
    );
    let property_fail = totals.residential > p.residential_allowed || totals.commercial > 0;
    test(
        "PROPERTY",
        "房产",
        &[FeedKind::RealEstate],
        if property_fail {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        format!(
            "住宅 {} 套({} 平方米),商业用房 {} 套({} 平方米)",
            totals.residential, totals.residential_area, totals.commercial, totals.commercial_area
        ),
        format!("住宅不超过 {} 套,无商业用房", p.residential_allowed),
        "住房套数不超过规定(R-DB-3;参数 verify.property.residential_allowed)",
        String::new(),
    );
    test(
        "BUSINESS",
        "市场主体登记",
        &[FeedKind::Business],
        if totals.business_active > 0 {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        format!("存续企业任职或出资 {} 项", totals.business_active),
        "0 项".into(),
        "家庭成员不是存续市场主体的法定代表人或股东(R-DB-3)",
        "吊销、注销的市场主体不计入".into(),
    );
    let income_limit = standard.times(i64::from(n_members));
    let fund_without_wage = totals.housing_fund_monthly > Money::ZERO && wages == 0;
    let income_check = totals.income_monthly >= income_limit || fund_without_wage;
    test(
        "INCOME",
        "收入(工资、养老金)",
        &[
            FeedKind::SocialInsurance,
            FeedKind::Pensions,
            FeedKind::HousingFund,
        ],
        if income_check {
            Verdict::Check
        } else {
            Verdict::Pass
        },
        format!(
            "月收入估算 {} 元(工资月均 {} 元 + 养老金 {} 元;公积金月均缴存 {} 元)",
            totals.income_monthly,
            totals.wages_monthly,
            totals.pensions_monthly,
            totals.housing_fund_monthly
        ),
        format!("{} 元({} 元/人·月 × {} 人)", income_limit, standard, n_members),
        "家庭月收入与低保标准比较,工资和公积金按最近月份平均(R-DB-2、R-DB-3;参数 verify.report.income_months)",
        if fund_without_wage {
            "有住房公积金缴存但无社保缴费工资,就业收入须核实".into()
        } else if income_check {
            "收入估算达到保障标准,须扣除刚性支出等后核定".into()
        } else {
            "收入估算低于保障标准".into()
        },
    );
    let big = max_medical.is_some_and(|x| x > p.medical_line.fen());
    test(
        "MEDICAL",
        "医疗自付费用(刚性支出)",
        &[FeedKind::MedicalClaims],
        if big { Verdict::Check } else { Verdict::Pass },
        format!(
            "个人自付合计 {} 元(月均 {} 元;单次最高 {} 元)",
            totals.medical_out_of_pocket,
            totals.medical_monthly,
            money(max_medical.unwrap_or(0))
        ),
        format!("单次 {} 元", p.medical_line),
        "大额医疗费用预警及刚性支出扣减(R-LI-4、R-DB-2;参数 low_income.medical_warning.low_income)",
        if big {
            "有超过预警线的单次自付费用,须核实刚性支出并考虑医疗救助转介".into()
        } else {
            String::new()
        },
    );
    for (code, label, kind, n, clause) in [
        (
            "DEATH",
            "家庭成员死亡",
            FeedKind::CivilDeaths,
            totals.deaths,
            "死亡人员不计入家庭成员(R-HH-3)",
        ),
        (
            "IMPRISONED",
            "家庭成员在押服刑",
            FeedKind::Imprisonment,
            totals.imprisoned,
            "服刑人员不计入共同生活家庭成员(R-HH-2)",
        ),
        (
            "HUKOU_MOVE",
            "户籍迁出或注销",
            FeedKind::HukouMoves,
            totals.hukou_moves_out,
            "家庭成员户籍变动须核实共同生活情况(R-HH-1、R-HH-3)",
        ),
    ] {
        test(
            code,
            label,
            &[kind],
            if n > 0 { Verdict::Check } else { Verdict::Pass },
            format!("{n} 人次"),
            "0 人次".into(),
            clause,
            if n > 0 {
                "家庭成员构成须核实".into()
            } else {
                String::new()
            },
        );
    }
    tests
}

/// What the members' rows add up to, as their findings are made.
#[derive(Default)]
struct Tally {
    totals: Totals,
    /// Square metres (as stored) of the residential and commercial property counted.
    res_area: i64,
    com_area: i64,
    /// Fen over the window: wages, housing fund deposits, out-of-pocket medical costs.
    wages: i64,
    fund: i64,
    medical: i64,
    /// The largest single out-of-pocket medical cost, with its row.
    max_medical: Option<(i64, Citation)>,
    /// The rows each kind's test counted.
    counted_cites: BTreeMap<FeedKind, Vec<Citation>>,
}

/// One member's findings, kind by kind, adding what counts to the tally.
fn member_findings(
    kinds: &Kinds,
    input: &ReportInput<'_>,
    pension_month: &BTreeMap<usize, i64>,
    mi: usize,
    tally: &mut Tally,
) -> Vec<Finding> {
    let as_of = ymd(input.as_of);
    let mut findings = Vec::new();
    for &k in FeedKind::ALL {
        let st = &kinds.by_kind[&k];
        if st.srcs.is_empty() {
            findings.push(Finding {
                status: FindingStatus::NoData,
                text: "无数据(未收到该类核对数据)".into(),
                amount: None,
                counted: false,
                cite: kinds.cite_in(k, None),
            });
            continue;
        }
        let mut any = false;
        for r in st.records.iter().filter(|r| r.member == mi) {
            any = true;
            let v = &r.values;
            let t = |c: usize| r.text.get(c).map(String::as_str).unwrap_or("");
            let in_window = |yyyymm: i64| {
                kinds
                    .window(k)
                    .is_some_and(|(f, l)| (f..=l).contains(&month_ix(yyyymm)))
            };
            let outside = format!("(不在最近{}个月内,不计入)", kinds.months);
            let (text, amount, counted) = match k {
                FeedKind::CivilDeaths => {
                    let c = v[cols::DEATH_DATE] <= as_of;
                    if c {
                        tally.totals.deaths += 1;
                    }
                    (format!("死亡日期 {}", date_text(v[1])), None, c)
                }
                FeedKind::Vehicles => {
                    let ty = code_of(k, cols::VEHICLE_TYPE, v[cols::VEHICLE_TYPE]);
                    let excluded = input.policy.excluded_vehicle_types.iter().any(|e| e == ty);
                    let later = v[cols::VEHICLE_REGISTERED] > as_of;
                    let c = !excluded && !later;
                    if c {
                        tally.totals.vehicles += 1;
                    }
                    let price = if v[4] == NONE {
                        String::new()
                    } else {
                        format!(",购置价格 {} 元", money(v[4]))
                    };
                    let note = if excluded {
                        "(残疾人专用车等不计入)"
                    } else if later {
                        "(登记日期晚于核对日,不计入)"
                    } else {
                        ""
                    };
                    (
                        format!(
                            "{} {}(登记日期 {}{price}){note}",
                            code_label(k, cols::VEHICLE_TYPE, v[cols::VEHICLE_TYPE]),
                            t(1),
                            date_text(v[cols::VEHICLE_REGISTERED])
                        ),
                        None,
                        c,
                    )
                }
                FeedKind::Deposits => {
                    let bal = v[cols::DEPOSIT_BALANCE];
                    tally.totals.deposits += money(bal);
                    (
                        format!(
                            "{} 余额 {} 元(机构 {},余额日期 {})",
                            code_label(k, 2, v[2]),
                            money(bal),
                            t(1),
                            date_text(v[4])
                        ),
                        Some(money(bal)),
                        true,
                    )
                }
                FeedKind::RealEstate => {
                    let later = v[cols::RE_REGISTERED] > as_of;
                    let area = if v[3] == NONE { 0 } else { v[3] };
                    if !later {
                        if v[cols::RE_USAGE] == 0 {
                            tally.totals.residential += 1;
                            tally.res_area += area;
                        } else {
                            tally.totals.commercial += 1;
                            tally.com_area += area;
                        }
                    }
                    (
                        format!(
                            "{} {},建筑面积 {} 平方米(登记日期 {}){}",
                            code_label(k, cols::RE_USAGE, v[cols::RE_USAGE]),
                            t(1),
                            if v[3] == NONE {
                                "未登记".to_string()
                            } else {
                                area_text(area)
                            },
                            date_text(v[cols::RE_REGISTERED]),
                            if later {
                                "(登记日期晚于核对日,不计入)"
                            } else {
                                ""
                            }
                        ),
                        None,
                        !later,
                    )
                }
                FeedKind::Business => {
                    let active = v[cols::BIZ_STATUS] == 0;
                    if active {
                        tally.totals.business_active += 1;
                    }
                    let capital = if v[3] == NONE {
                        String::new()
                    } else {
                        format!(",注册资本 {} 元", money(v[3]))
                    };
                    (
                        format!(
                            "{} {},登记状态 {}{capital}",
                            code_label(k, cols::BIZ_ROLE, v[cols::BIZ_ROLE]),
                            t(1),
                            code_label(k, cols::BIZ_STATUS, v[cols::BIZ_STATUS]),
                        ),
                        None,
                        active,
                    )
                }
                FeedKind::SocialInsurance => {
                    let c = in_window(v[cols::SI_MONTH]);
                    if c {
                        tally.wages += v[cols::SI_WAGE];
                    }
                    (
                        format!(
                            "{} 缴费工资 {} 元(单位 {}){}",
                            month_text(month_ix(v[cols::SI_MONTH])),
                            money(v[cols::SI_WAGE]),
                            t(1),
                            if c { "" } else { outside.as_str() }
                        ),
                        Some(money(v[cols::SI_WAGE])),
                        c,
                    )
                }
                FeedKind::MedicalClaims => {
                    let d = v[cols::MED_DATE];
                    let c = in_window(d / 100) && d <= as_of;
                    let oop = v[cols::MED_OOP];
                    if c {
                        tally.medical += oop;
                        if tally.max_medical.as_ref().is_none_or(|(x, _)| oop > *x) {
                            tally.max_medical = Some((oop, kinds.cite_in(k, Some(r))));
                        }
                    }
                    (
                        format!(
                            "{} 结算,医疗总费用 {} 元,个人自付 {} 元{}",
                            date_text(d),
                            money(v[2]),
                            money(oop),
                            if c { "" } else { outside.as_str() }
                        ),
                        Some(money(oop)),
                        c,
                    )
                }
                FeedKind::Pensions => {
                    let m = month_ix(v[cols::PEN_MONTH]);
                    let c = pension_month.get(&mi) == Some(&m);
                    if c {
                        tally.totals.pensions_monthly += money(v[cols::PEN_AMOUNT]);
                    }
                    (
                        format!(
                            "{} {} 发放 {} 元{}",
                            month_text(m),
                            code_label(k, 1, v[1]),
                            money(v[cols::PEN_AMOUNT]),
                            if c {
                                "(最近发放月份,计入月收入)"
                            } else {
                                "(非最近发放月份,不重复计入)"
                            }
                        ),
                        Some(money(v[cols::PEN_AMOUNT])),
                        c,
                    )
                }
                FeedKind::HousingFund => {
                    let c = in_window(v[cols::HF_MONTH]);
                    if c {
                        tally.fund += v[cols::HF_DEPOSIT];
                    }
                    let balance = if v[4] == NONE {
                        String::new()
                    } else {
                        format!(",账户余额 {} 元", money(v[4]))
                    };
                    (
                        format!(
                            "{} 月缴存额 {} 元(单位 {}{balance}){}",
                            month_text(month_ix(v[cols::HF_MONTH])),
                            money(v[cols::HF_DEPOSIT]),
                            t(1),
                            if c { "" } else { outside.as_str() }
                        ),
                        Some(money(v[cols::HF_DEPOSIT])),
                        c,
                    )
                }
                FeedKind::Imprisonment => {
                    let end = v[cols::IMP_END];
                    let c = v[cols::IMP_START] <= as_of && (end == NONE || end >= as_of);
                    if c {
                        tally.totals.imprisoned += 1;
                    }
                    (
                        format!(
                            "羁押场所 {},入监 {}{}{}",
                            t(1),
                            date_text(v[cols::IMP_START]),
                            if end == NONE {
                                String::new()
                            } else {
                                format!(",释放 {}", date_text(end))
                            },
                            if c {
                                "(核对日在押)"
                            } else {
                                "(核对日不在押)"
                            }
                        ),
                        None,
                        c,
                    )
                }
                FeedKind::HukouMoves => {
                    let d = v[cols::MOVE_DATE];
                    let ty = v[cols::MOVE_TYPE];
                    let c = ty != 0 && d <= as_of && in_window(d / 100);
                    if c {
                        tally.totals.hukou_moves_out += 1;
                    }
                    let mut place = String::new();
                    if !t(3).is_empty() {
                        place += &format!(",迁出地 {}", t(3));
                    }
                    if !t(4).is_empty() {
                        place += &format!(",迁入地 {}", t(4));
                    }
                    (
                        format!(
                            "{} {}{place}",
                            code_label(k, cols::MOVE_TYPE, ty),
                            date_text(d)
                        ),
                        None,
                        c,
                    )
                }
            };
            let c = kinds.cite_in(k, Some(r));
            if counted {
                tally.counted_cites.entry(k).or_default().push(c.clone());
            }
            findings.push(Finding {
                status: FindingStatus::Record,
                text,
                amount,
                counted,
                cite: c,
            });
        }
        if !any {
            findings.push(Finding {
                status: FindingStatus::None,
                text: "未发现记录".into(),
                amount: None,
                counted: false,
                cite: kinds.cite_in(k, None),
            });
        }
    }
    findings
}

/// Builds the report: per member and kind the findings, the household's totals and the tests.
pub fn build_report(input: &ReportInput<'_>) -> VerificationReport {
    let months = input.income_months.max(1);
    let n_members = input.members.len() as u32;
    let standard = input.policy.standard(input.area);
    let by_kind: BTreeMap<FeedKind, KindState<'_>> = FeedKind::ALL
        .iter()
        .map(|k| {
            let mut st = KindState {
                srcs: Vec::new(),
                records: Vec::new(),
            };
            for (s, records) in input.sources.iter().filter(|(s, _)| s.kind == *k) {
                let at = st.srcs.len();
                st.srcs.push(s);
                st.records.extend(records.iter().map(|r| MatchedRecord {
                    source: at,
                    ..r.clone()
                }));
            }
            (*k, st)
        })
        .collect();
    let kinds = Kinds { by_kind, months };
    let by_kind = &kinds.by_kind;
    let window = |k: FeedKind| kinds.window(k);

    // The latest pension month delivered per member within the window.
    let mut pension_month: BTreeMap<usize, i64> = BTreeMap::new();
    if let Some((from, to)) = window(FeedKind::Pensions) {
        for r in &by_kind[&FeedKind::Pensions].records {
            let m = month_ix(r.values[cols::PEN_MONTH]);
            if m >= from && m <= to {
                let e = pension_month.entry(r.member).or_insert(m);
                *e = (*e).max(m);
            }
        }
    }

    let mut tally = Tally::default();
    let mut members = Vec::with_capacity(input.members.len());
    for (mi, m) in input.members.iter().enumerate() {
        let findings = member_findings(&kinds, input, &pension_month, mi, &mut tally);
        members.push(MemberSection {
            name: m.name.clone(),
            relation: m.relation.clone(),
            id_masked: m.id.masked(),
            findings,
        });
    }
    let Tally {
        mut totals,
        res_area,
        com_area,
        wages,
        fund,
        medical,
        max_medical,
        counted_cites,
    } = tally;
    totals.residential_area = area_text(res_area);
    totals.commercial_area = area_text(com_area);
    totals.wages_monthly = average(wages, months);
    totals.housing_fund_monthly = average(fund, months);
    totals.medical_out_of_pocket = money(medical);
    totals.medical_monthly = average(medical, months);
    totals.income_monthly = totals.wages_monthly + totals.pensions_monthly;

    let tests = household_tests(
        &kinds,
        &counted_cites,
        &totals,
        Facts {
            policy: input.policy,
            n_members,
            standard,
            wages,
            max_medical: max_medical.as_ref().map(|(x, _)| *x),
        },
    );
    let verdict = tests
        .iter()
        .map(|t| t.verdict)
        .max()
        .unwrap_or(Verdict::Check);

    let p = input.policy;
    let sources = kinds.summaries();

    VerificationReport {
        as_of: input.as_of,
        area: match input.area {
            Area::Urban => "urban",
            Area::Rural => "rural",
        }
        .into(),
        area_label: match input.area {
            Area::Urban => "城市",
            Area::Rural => "农村",
        }
        .into(),
        member_count: n_members,
        policy: PolicyUsed {
            standard,
            deposit_limit_per_member: p.deposit_limit_per_member,
            residential_allowed: p.residential_allowed,
            excluded_vehicle_types: p.excluded_vehicle_types.clone(),
            medical_line: p.medical_line,
            income_months: months,
        },
        sources,
        members,
        totals,
        tests,
        verdict,
        verdict_label: verdict.label_zh().into(),
    }
}
