//! The first sheet of an Office Open XML workbook (xlsx), streamed row by row.
//!
//! Nothing is allocated from what the file declares: not from `<dimension ref>`, not from a
//! shared-string table's `count`, not from a zip entry's stated size. Rows are handed out as
//! they are read, each only as wide as its last present cell; every part is decompressed
//! through a byte limit and a limit on any single XML text or tag; the shared strings, the one
//! thing kept in memory, are bounded in number and total length. See [`XlsxLimits`].

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;

use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use crate::bounded::{limit_error, limit_of, Bounded};
use crate::limits::*;

/// The limits a workbook is read under. [`XlsxLimits::default`] holds the documented values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XlsxLimits {
    pub file_bytes: u64,
    pub zip_entries: u64,
    pub sheet_xml_bytes: u64,
    pub part_bytes: u64,
    pub shared_strings: u64,
    pub shared_string_bytes: u64,
    pub cell_chars: u64,
    pub columns: u64,
    pub cells: u64,
    pub xml_token: u64,
}

impl Default for XlsxLimits {
    fn default() -> Self {
        XlsxLimits {
            file_bytes: XLSX_MAX_FILE_BYTES,
            zip_entries: XLSX_MAX_ZIP_ENTRIES as u64,
            sheet_xml_bytes: XLSX_MAX_SHEET_XML_BYTES,
            part_bytes: XLSX_MAX_PART_BYTES,
            shared_strings: XLSX_MAX_SHARED_STRINGS,
            shared_string_bytes: XLSX_MAX_SHARED_STRING_BYTES,
            cell_chars: XLSX_MAX_CELL_CHARS,
            columns: XLSX_MAX_COLUMNS,
            cells: XLSX_MAX_CELLS,
            xml_token: XML_MAX_TOKEN_BYTES,
        }
    }
}

/// Why a workbook could not be read.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    /// Not a workbook, or a damaged one; the text is Chinese and names what is wrong.
    #[error("not a readable xlsx workbook: {0}")]
    Format(String),
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    /// Reading the source itself failed (a file system error, not the file's content).
    #[error("reading the workbook failed: {0}")]
    Io(io::Error),
}

impl XlsxError {
    pub fn code(&self) -> &'static str {
        match self {
            XlsxError::Format(_) => "FILE_WORKBOOK",
            XlsxError::Limit(e) => e.code(),
            XlsxError::Io(_) => "FILE_IO",
        }
    }

    /// The reason in Chinese (without the file's name, which the caller adds).
    pub fn message_zh(&self) -> String {
        match self {
            XlsxError::Format(detail) => {
                format!("无法读取电子表格(仅支持 xlsx,读取第一个工作表):{detail}")
            }
            XlsxError::Limit(e) => e.message_zh(),
            XlsxError::Io(_) => "读取电子表格文件时发生输入输出错误".to_string(),
        }
    }
}

fn format_err(detail: impl Into<String>) -> XlsxError {
    XlsxError::Format(detail.into())
}

/// A limit hit inside a decompressing reader comes back as an I/O error; anything else read
/// from inside the zip is a damaged file.
fn from_part_io(e: &io::Error) -> XlsxError {
    match limit_of(e) {
        Some(l) => XlsxError::Limit(l),
        None => format_err("压缩数据损坏或校验失败"),
    }
}

fn from_xml(e: quick_xml::Error, part: &str) -> XlsxError {
    match e {
        quick_xml::Error::Io(io) => from_part_io(&io),
        _ => format_err(format!("{part} 的 XML 格式错误")),
    }
}

/// Refuses any run of bytes between two markup characters (`<`, `>`) longer than a limit, so
/// that the XML parser never buffers one huge text node or tag.
struct TokenGuard<R> {
    inner: R,
    run: u64,
    limit: u64,
}

impl<R: Read> Read for TokenGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = &buf[..n];
        let mut last = None;
        for i in memchr::memchr2_iter(b'<', b'>', data) {
            let run = match last {
                None => self.run + i as u64,
                Some(prev) => (i - prev - 1) as u64,
            };
            if run > self.limit {
                return Err(limit_error(LimitExceeded::new(Limit::XmlToken(self.limit))));
            }
            last = Some(i);
        }
        self.run = match last {
            None => self.run + n as u64,
            Some(prev) => (n - prev - 1) as u64,
        };
        if self.run > self.limit {
            return Err(limit_error(LimitExceeded::new(Limit::XmlToken(self.limit))));
        }
        Ok(n)
    }
}

type PartReader<'a> = quick_xml::Reader<BufReader<TokenGuard<Bounded<zip::read::ZipFile<'a>>>>>;

fn open_part<'a, R: Read + Seek>(
    zip: &'a mut ZipArchive<R>,
    name: &str,
    limit: Limit,
    token: u64,
) -> Result<Option<PartReader<'a>>, XlsxError> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(zip::result::ZipError::Io(e)) => return Err(XlsxError::Io(e)),
        Err(_) => return Err(format_err(format!("无法解压 {name}"))),
    };
    let guarded = TokenGuard {
        inner: Bounded::new(file, limit),
        run: 0,
        limit: token,
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 << 10, guarded));
    reader.trim_text(false);
    reader.check_end_names(false);
    Ok(Some(reader))
}

fn attr(e: &BytesStart<'_>, local: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local)
            .then(|| {
                let raw = std::str::from_utf8(&a.value).ok()?;
                quick_xml::escape::unescape(raw)
                    .ok()
                    .map(|v| v.into_owned())
            })
            .flatten()
    })
}

/// Excel's escape of characters XML cannot hold: `_x000D_` is a carriage return, `_x005F_` an
/// underscore.
fn push_unescaped_ooxml(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let code = tail
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
}

/// The shared-string table: all texts in one buffer, each string its end offset.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }
}

/// Built-in number formats that show dates or times (including the Chinese locale's 27–36 and
/// 50–58).
fn builtin_is_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// Whether a custom number format shows a date or time: any of y, m, d, h, s outside quoted
/// text, escapes and `[...]` sections (colours, conditions, locales).
fn custom_is_date(code: &str) -> bool {
    let mut quoted = false;
    let mut bracket = false;
    let mut escaped = false;
    for c in code.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            '\\' => escaped = true,
            '[' => bracket = true,
            ']' => bracket = false,
            _ if bracket => {}
            'y' | 'Y' | 'm' | 'M' | 'd' | 'D' | 'h' | 'H' | 's' | 'S' => return true,
            _ => {}
        }
    }
    false
}

/// An opened workbook: the first sheet located, its shared strings and date styles read.
pub struct Workbook<R: Read + Seek> {
    zip: ZipArchive<R>,
    limits: XlsxLimits,
    sheet_path: String,
    shared: SharedStrings,
    date_styles: Vec<bool>,
    date1904: bool,
}

impl<R: Read + Seek> Workbook<R> {
    /// Opens the workbook and reads what every row needs (the shared strings and the styles).
    pub fn open(mut source: R, limits: XlsxLimits) -> Result<Workbook<R>, XlsxError> {
        let size = source.seek(SeekFrom::End(0)).map_err(XlsxError::Io)?;
        if size > limits.file_bytes {
            return Err(LimitExceeded::new(Limit::FileBytes(limits.file_bytes)).into());
        }
        source.seek(SeekFrom::Start(0)).map_err(XlsxError::Io)?;
        let zip = ZipArchive::new(source).map_err(|e| match e {
            zip::result::ZipError::Io(io) if io.kind() != io::ErrorKind::UnexpectedEof => {
                XlsxError::Io(io)
            }
            _ => format_err("不是 xlsx 文件(zip 结构无效)"),
        })?;
        if zip.len() as u64 > limits.zip_entries {
            return Err(LimitExceeded::new(Limit::ZipEntries(limits.zip_entries)).into());
        }
        let mut book = Workbook {
            zip,
            limits,
            sheet_path: String::new(),
            shared: SharedStrings::default(),
            date_styles: Vec::new(),
            date1904: false,
        };
        let (first_sheet_rel, date1904) = book.read_workbook()?;
        book.date1904 = date1904;
        let rels = book.read_rels()?;
        book.sheet_path = match first_sheet_rel.and_then(|id| rels.targets.get(&id).cloned()) {
            Some(target) => target,
            None if book
                .zip
                .index_for_name("xl/worksheets/sheet1.xml")
                .is_some() =>
            {
                "xl/worksheets/sheet1.xml".to_string()
            }
            None => return Err(format_err("没有工作表")),
        };
        let styles = rels.styles.unwrap_or_else(|| "xl/styles.xml".into());
        book.date_styles = book.read_styles(&styles)?;
        let shared = rels
            .shared_strings
            .unwrap_or_else(|| "xl/sharedStrings.xml".into());
        book.shared = book.read_shared_strings(&shared)?;
        Ok(book)
    }

    fn part(&mut self, name: &str) -> Result<Option<PartReader<'_>>, XlsxError> {
        let limit = Limit::PartBytes(self.limits.part_bytes);
        open_part(&mut self.zip, name, limit, self.limits.xml_token)
    }

    /// The relationship id of the first sheet, and whether dates count from 1904.
    fn read_workbook(&mut self) -> Result<(Option<String>, bool), XlsxError> {
        let Some(mut xml) = self.part("xl/workbook.xml")? else {
            return Err(format_err("缺少 xl/workbook.xml"));
        };
        let (mut first, mut date1904) = (None, false);
        let mut buf = Vec::new();
        loop {
            match xml
                .read_event_into(&mut buf)
                .map_err(|e| from_xml(e, "workbook.xml"))?
            {
                Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                    b"workbookPr" => {
                        date1904 = matches!(attr(&e, b"date1904").as_deref(), Some("1" | "true"))
                    }
                    b"sheet" if first.is_none() => first = attr(&e, b"id"),
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        Ok((first, date1904))
    }

    fn read_rels(&mut self) -> Result<Rels, XlsxError> {
        let mut rels = Rels::default();
        let Some(mut xml) = self.part("xl/_rels/workbook.xml.rels")? else {
            return Ok(rels);
        };
        let mut buf = Vec::new();
        loop {
            match xml
                .read_event_into(&mut buf)
                .map_err(|e| from_xml(e, "workbook.xml.rels"))?
            {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                    let (Some(id), Some(target)) = (attr(&e, b"Id"), attr(&e, b"Target")) else {
                        continue;
                    };
                    let path = resolve_target(&target);
                    let kind = attr(&e, b"Type").unwrap_or_default();
                    if kind.ends_with("/sharedStrings") {
                        rels.shared_strings = Some(path.clone());
                    } else if kind.ends_with("/styles") {
                        rels.styles = Some(path.clone());
                    }
                    rels.targets.insert(id, path);
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        Ok(rels)
    }

    /// For each cell style (`cellXfs` index), whether its number format shows a date.
    fn read_styles(&mut self, path: &str) -> Result<Vec<bool>, XlsxError> {
        let Some(mut xml) = self.part(path)? else {
            return Ok(Vec::new());
        };
        let mut custom: HashMap<u32, bool> = HashMap::new();
        let mut styles = Vec::new();
        let mut in_cell_xfs = false;
        let mut buf = Vec::new();
        loop {
            match xml
                .read_event_into(&mut buf)
                .map_err(|e| from_xml(e, "styles.xml"))?
            {
                Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                    b"numFmt" => {
                        let id = attr(&e, b"numFmtId").and_then(|v| v.parse().ok());
                        if let (Some(id), Some(code)) = (id, attr(&e, b"formatCode")) {
                            custom.insert(id, custom_is_date(&code));
                        }
                    }
                    b"cellXfs" => in_cell_xfs = true,
                    b"xf" if in_cell_xfs => {
                        let id: u32 = attr(&e, b"numFmtId")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let is_date = custom.get(&id).copied().unwrap_or(builtin_is_date(id));
                        styles.push(is_date);
                    }
                    _ => {}
                },
                Event::End(e) if e.local_name().as_ref() == b"cellXfs" => in_cell_xfs = false,
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        Ok(styles)
    }

    fn read_shared_strings(&mut self, path: &str) -> Result<SharedStrings, XlsxError> {
        let limits = self.limits;
        let Some(mut xml) = open_part(
            &mut self.zip,
            path,
            // The table's own markup counts too; its text is bounded separately below.
            Limit::SharedStringBytes(limits.shared_string_bytes.saturating_mul(4)),
            limits.xml_token,
        )?
        else {
            return Ok(SharedStrings::default());
        };
        let mut table = SharedStrings::default();
        let mut current = String::new();
        let (mut in_si, mut in_t, mut in_rph) = (false, false, 0u32);
        let mut buf = Vec::new();
        loop {
            match xml
                .read_event_into(&mut buf)
                .map_err(|e| from_xml(e, "sharedStrings.xml"))?
            {
                Event::Start(e) => match e.local_name().as_ref() {
                    b"si" => {
                        in_si = true;
                        current.clear();
                    }
                    b"t" if in_si && in_rph == 0 => in_t = true,
                    b"rPh" => in_rph += 1,
                    _ => {}
                },
                Event::Empty(e) if e.local_name().as_ref() == b"si" => {
                    current.clear();
                    push_shared(&mut table, &current, &limits)?;
                }
                Event::End(e) => match e.local_name().as_ref() {
                    b"si" => {
                        push_shared(&mut table, &current, &limits)?;
                        in_si = false;
                    }
                    b"t" => in_t = false,
                    b"rPh" => in_rph = in_rph.saturating_sub(1),
                    _ => {}
                },
                Event::Text(t) if in_t => {
                    let text = t
                        .unescape()
                        .map_err(|_| format_err("sharedStrings.xml 含无效的字符引用"))?;
                    push_unescaped_ooxml(&text, &mut current);
                    if current.len() as u64 > limits.cell_chars * 4 {
                        return Err(LimitExceeded::new(Limit::CellChars(limits.cell_chars)).into());
                    }
                }
                Event::CData(t) if in_t => {
                    current.push_str(&String::from_utf8_lossy(&t));
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        Ok(table)
    }

    /// Calls `f` with each row of the first sheet that has at least one cell element: its
    /// number (1-based, as Excel shows it) and its cells' text, from column A up to its last
    /// present cell (absent cells are empty). `f` may stop the reading early.
    pub fn for_each_row(
        &mut self,
        mut f: impl FnMut(u64, &[String]) -> ControlFlow<()>,
    ) -> Result<(), XlsxError> {
        let limits = self.limits;
        let Some(mut xml) = open_part(
            &mut self.zip,
            &self.sheet_path,
            Limit::SheetXmlBytes(limits.sheet_xml_bytes),
            limits.xml_token,
        )?
        else {
            return Err(format_err("工作表文件缺失"));
        };
        let mut sheet = SheetState::new(&self.shared, &self.date_styles, self.date1904, limits);
        let mut buf = Vec::new();
        loop {
            let event = xml
                .read_event_into(&mut buf)
                .map_err(|e| from_xml(e, "工作表"))?;
            if sheet.event(event, &mut f)?.is_break() {
                return Ok(());
            }
            buf.clear();
        }
    }
}

#[derive(Default)]
struct Rels {
    targets: HashMap<String, String>,
    shared_strings: Option<String>,
    styles: Option<String>,
}

/// A relationship target relative to `xl/` (or absolute from the package root) as a zip path.
fn resolve_target(target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("xl/{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn push_shared(
    table: &mut SharedStrings,
    s: &str,
    limits: &XlsxLimits,
) -> Result<(), LimitExceeded> {
    if table.ends.len() as u64 >= limits.shared_strings {
        return Err(LimitExceeded::new(Limit::SharedStrings(
            limits.shared_strings,
        )));
    }
    if (table.text.len() + s.len()) as u64 > limits.shared_string_bytes {
        return Err(LimitExceeded::new(Limit::SharedStringBytes(
            limits.shared_string_bytes,
        )));
    }
    table.text.push_str(s);
    table.ends.push(table.text.len() as u32);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellType {
    Number,
    Shared,
    Inline,
    FormulaString,
    Bool,
    Error,
    IsoDate,
}

struct OpenCell {
    col: usize,
    kind: CellType,
    date: bool,
}

/// The sheet parser's state between XML events.
struct SheetState<'a> {
    shared: &'a SharedStrings,
    date_styles: &'a [bool],
    date1904: bool,
    limits: XlsxLimits,
    in_data: bool,
    row: Option<u64>,
    last_row: u64,
    next_col: usize,
    cells_seen: u64,
    cells: Vec<String>,
    used: usize,
    cell: Option<OpenCell>,
    raw: String,
    capture: bool,
    in_inline: bool,
    in_rph: u32,
}

impl<'a> SheetState<'a> {
    fn new(
        shared: &'a SharedStrings,
        date_styles: &'a [bool],
        date1904: bool,
        limits: XlsxLimits,
    ) -> Self {
        SheetState {
            shared,
            date_styles,
            date1904,
            limits,
            in_data: false,
            row: None,
            last_row: 0,
            next_col: 0,
            cells_seen: 0,
            cells: Vec::new(),
            used: 0,
            cell: None,
            raw: String::new(),
            capture: false,
            in_inline: false,
            in_rph: 0,
        }
    }

    fn event(
        &mut self,
        event: Event<'_>,
        f: &mut impl FnMut(u64, &[String]) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, XlsxError> {
        match event {
            Event::Start(e) => self.start(&e, false)?,
            Event::Empty(e) => {
                if e.local_name().as_ref() == b"sheetData" {
                    return Ok(ControlFlow::Break(()));
                }
                self.start(&e, true)?;
                if e.local_name().as_ref() == b"c" {
                    self.end_cell()?;
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"v" | b"t" => self.capture = false,
                b"is" => self.in_inline = false,
                b"rPh" => self.in_rph = self.in_rph.saturating_sub(1),
                b"c" => self.end_cell()?,
                b"row" => return Ok(self.end_row(f)),
                b"sheetData" => {
                    let flow = self.end_row(f);
                    return Ok(if flow.is_break() {
                        flow
                    } else {
                        ControlFlow::Break(())
                    });
                }
                _ => {}
            },
            Event::Text(t) if self.capture => {
                let text = t
                    .unescape()
                    .map_err(|_| format_err("工作表含无效的字符引用"))?;
                self.raw.push_str(&text);
                self.check_cell_length()?;
            }
            Event::CData(t) if self.capture => {
                self.raw.push_str(&String::from_utf8_lossy(&t));
                self.check_cell_length()?;
            }
            Event::Eof => {
                let _ = self.end_row(f);
                return Ok(ControlFlow::Break(()));
            }
            _ => {}
        }
        Ok(ControlFlow::Continue(()))
    }

    fn check_cell_length(&self) -> Result<(), XlsxError> {
        if self.raw.len() as u64 > self.limits.cell_chars * 4 {
            let e = LimitExceeded::new(Limit::CellChars(self.limits.cell_chars));
            return Err(self.at_row(e).into());
        }
        Ok(())
    }

    fn at_row(&self, e: LimitExceeded) -> LimitExceeded {
        match self.row {
            Some(r) => e.at_row(r),
            None => e,
        }
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), XlsxError> {
        match e.local_name().as_ref() {
            b"sheetData" => self.in_data = true,
            b"row" if self.in_data => {
                if self.row.is_some() {
                    return Err(format_err("工作表的行元素未闭合"));
                }
                let r = match attr(e, b"r") {
                    Some(v) => v
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| format_err(format!("行号“{v}”无效")))?,
                    None => self.last_row + 1,
                };
                if r == 0 || r > XLSX_MAX_ROW {
                    return Err(format_err(format!("行号 {r} 超出工作表范围")));
                }
                if r <= self.last_row {
                    return Err(format_err(format!("第 {r} 行重复或顺序颠倒")));
                }
                self.last_row = r;
                self.row = (!empty).then_some(r);
                self.next_col = 0;
                for c in &mut self.cells[..self.used] {
                    c.clear();
                }
                self.used = 0;
            }
            b"c" if self.row.is_some() => {
                self.cells_seen += 1;
                if self.cells_seen > self.limits.cells {
                    let e = LimitExceeded::new(Limit::Cells(self.limits.cells));
                    return Err(self.at_row(e).into());
                }
                let col = match attr(e, b"r") {
                    Some(r) => {
                        column_of(&r).ok_or_else(|| format_err(format!("单元格位置“{r}”无效")))?
                    }
                    None => self.next_col,
                };
                if col as u64 >= self.limits.columns {
                    let e = LimitExceeded::new(Limit::Columns(self.limits.columns));
                    return Err(self.at_row(e).into());
                }
                self.next_col = col + 1;
                let kind = match attr(e, b"t").as_deref() {
                    Some("s") => CellType::Shared,
                    Some("inlineStr") => CellType::Inline,
                    Some("str") => CellType::FormulaString,
                    Some("b") => CellType::Bool,
                    Some("e") => CellType::Error,
                    Some("d") => CellType::IsoDate,
                    _ => CellType::Number,
                };
                let date = attr(e, b"s")
                    .and_then(|s| s.parse::<usize>().ok())
                    .and_then(|s| self.date_styles.get(s).copied())
                    .unwrap_or(false);
                self.cell = Some(OpenCell { col, kind, date });
                self.raw.clear();
            }
            b"v" if self.cell.is_some() && !empty => self.capture = true,
            b"is" if self.cell.is_some() && !empty => self.in_inline = true,
            b"t" if self.in_inline && self.in_rph == 0 && !empty => self.capture = true,
            b"rPh" if !empty => self.in_rph += 1,
            _ => {}
        }
        Ok(())
    }

    fn end_cell(&mut self) -> Result<(), XlsxError> {
        let Some(cell) = self.cell.take() else {
            return Ok(());
        };
        self.capture = false;
        self.in_inline = false;
        if cell.col >= self.cells.len() {
            self.cells.resize_with(cell.col + 1, String::new);
        }
        let out = &mut self.cells[cell.col];
        out.clear();
        let raw = self.raw.as_str();
        match cell.kind {
            CellType::Shared => {
                if !raw.trim().is_empty() {
                    let i: usize = raw
                        .trim()
                        .parse()
                        .map_err(|_| format_err(format!("共享字符串编号“{raw}”无效")))?;
                    let s = self
                        .shared
                        .get(i)
                        .ok_or_else(|| format_err(format!("共享字符串编号 {i} 不存在")))?;
                    out.push_str(s);
                }
            }
            CellType::Inline | CellType::FormulaString => push_unescaped_ooxml(raw, out),
            CellType::Error => out.push_str(raw),
            CellType::Bool => out.push_str(if raw.trim() == "1" { "TRUE" } else { "FALSE" }),
            CellType::IsoDate => out.push_str(iso_date(raw.trim())),
            CellType::Number => number_text(raw.trim(), cell.date, self.date1904, out),
        }
        if out.chars().count() as u64 > self.limits.cell_chars {
            let e = LimitExceeded::new(Limit::CellChars(self.limits.cell_chars));
            return Err(self.at_row(e).into());
        }
        self.used = self.used.max(cell.col + 1);
        Ok(())
    }

    fn end_row(
        &mut self,
        f: &mut impl FnMut(u64, &[String]) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Some(r) = self.row.take() else {
            return ControlFlow::Continue(());
        };
        f(r, &self.cells[..self.used])
    }
}

/// "AB12" → column 27 (0-based); at most three letters and XFD, Excel's last column.
fn column_of(reference: &str) -> Option<usize> {
    let letters = reference
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic())
        .collect::<Vec<u8>>();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut col = 0usize;
    for b in letters {
        col = col * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    (col <= 16_384).then(|| col - 1)
}

/// An ISO 8601 date cell (`t="d"`): the date when the time is midnight.
fn iso_date(raw: &str) -> &str {
    match raw.split_once('T') {
        Some((day, time)) if time.trim_start_matches(['0', ':', '.']).is_empty() => day,
        _ => raw,
    }
}

/// The text a clerk sees for a number: integers without `.0` (codes typed into number
/// columns), integers too large to be exact in scientific notation (so that an identity number
/// Excel has mangled is recognisable as such), dates as `YYYY-MM-DD` (with the time when there
/// is one).
fn number_text(raw: &str, date: bool, date1904: bool, out: &mut String) {
    use std::fmt::Write;
    let Ok(f) = raw.parse::<f64>() else {
        out.push_str(raw);
        return;
    };
    if !f.is_finite() {
        out.push_str(raw);
        return;
    }
    if date {
        if let Some(text) = serial_to_date(f, date1904) {
            out.push_str(&text);
            return;
        }
    }
    // `write!` into a String cannot fail.
    let _ = if f.fract() == 0.0 && f.abs() < 1e15 {
        // Exact: |f| < 1e15 < 2^53.
        write!(out, "{}", f as i64)
    } else if f.fract() == 0.0 {
        write!(out, "{f:E}")
    } else {
        write!(out, "{f}")
    };
}

/// An Excel date serial as a date, or date and time.
fn serial_to_date(serial: f64, date1904: bool) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = if date1904 {
        chrono::NaiveDate::from_ymd_opt(1904, 1, 1)?
    } else if serial < 61.0 {
        // Excel counts a 29 February 1900 that never was; before it, days are one later.
        chrono::NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    let days = serial.floor();
    let mut seconds = ((serial - days) * 86_400.0).round() as i64;
    let mut day = base.checked_add_signed(chrono::Duration::days(days as i64))?;
    if seconds >= 86_400 {
        seconds -= 86_400;
        day = day.succ_opt()?;
    }
    Some(if seconds == 0 {
        day.format("%Y-%m-%d").to_string()
    } else {
        format!(
            "{} {:02}:{:02}:{:02}",
            day.format("%Y-%m-%d"),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_targets() {
        assert_eq!(column_of("A1"), Some(0));
        assert_eq!(column_of("AB12"), Some(27));
        assert_eq!(column_of("XFD1048576"), Some(16_383));
        assert_eq!(column_of("XFE1"), None);
        assert_eq!(column_of("12"), None);
        assert_eq!(
            resolve_target("worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve_target("/xl/worksheets/s.xml"),
            "xl/worksheets/s.xml"
        );
        assert_eq!(resolve_target("../xl/./a.xml"), "xl/a.xml");
    }

    #[test]
    fn numbers_and_dates_read_as_clerks_see_them() {
        let text = |raw, date, d1904| {
            let mut s = String::new();
            number_text(raw, date, d1904, &mut s);
            s
        };
        assert_eq!(text("371002001201", false, false), "371002001201");
        assert_eq!(text("3.71002198001E+17", false, false), "3.71002198001E17");
        assert_eq!(text("1234.5", false, false), "1234.5");
        assert_eq!(text("46063", true, false), "2026-02-10");
        assert_eq!(text("44601", true, true), "2026-02-10");
        assert_eq!(text("46063.5", true, false), "2026-02-10 12:00:00");
        assert_eq!(text("1", true, false), "1900-01-01");
        assert!(custom_is_date("yyyy/m/d"));
        assert!(custom_is_date("[$-804]yyyy\"年\"m\"月\"d\"日\""));
        assert!(!custom_is_date("0.00_ "));
        assert!(!custom_is_date("[Red]#,##0"));
        assert!(!custom_is_date("\"d\"0"));
        assert_eq!(iso_date("2026-02-10T00:00:00"), "2026-02-10");
    }

    #[test]
    fn ooxml_escapes() {
        let mut s = String::new();
        push_unescaped_ooxml("a_x000D_b_x005F_x_xZZ", &mut s);
        assert_eq!(s, "a\rb_x_xZZ");
    }
}
