//! One view over the spreadsheets clerks actually send: CSV (UTF-8 with or without BOM,
//! GB18030/GBK as Excel in China saves it, UTF-16 as Excel's "Unicode text") and xlsx workbooks
//! (the first sheet).
//!
//! Every file is streamed, never held whole, and read under limits (jiuzhu-sheet, and the
//! importer's own [`TableLimits`]): an input over one is refused as a whole with a Chinese
//! message naming the limit, before any row of it is handed out.
//!
//! A [`Table`] knows its header and hands out rows numbered as the user sees them in a
//! spreadsheet program: the header is row 1 and the first data row is row 2. Rows in which every
//! cell is blank are skipped (Excel exports formatted but empty rows as `,,,`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Cursor, Read, Seek};
use std::ops::ControlFlow;
use std::rc::Rc;

use jiuzhu_domain::FieldError;
use jiuzhu_sheet::bounded::limit_of;
use jiuzhu_sheet::csv_guard::RecordGuard;
use jiuzhu_sheet::text::{self, DecodeReader, Malformed, TextEncoding};
use jiuzhu_sheet::xlsx::{Workbook, XlsxError, XlsxLimits};
use jiuzhu_sheet::{Limit, LimitExceeded};

use crate::{Input, Source};

/// Why a file could not be read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("file {0} is empty or has no header row")]
    Empty(String),
    #[error("file {file} is not a readable workbook: {detail}")]
    Workbook { file: String, detail: String },
    #[error("file {0} is an old Excel, WPS or OpenDocument format")]
    Unsupported(String),
    #[error("file {0} is neither UTF-8 nor GB18030/GBK text")]
    Encoding(String),
    #[error("file {file} is not valid CSV near row {row}: {detail}")]
    Csv {
        file: String,
        row: usize,
        detail: String,
    },
    #[error("file {file} exceeds a limit: {error}")]
    Limit { file: String, error: LimitExceeded },
    #[error("file {file} could not be read: {detail}")]
    Io { file: String, detail: String },
}

impl TableError {
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Empty(_) => "FILE_EMPTY",
            TableError::Workbook { .. } => "FILE_WORKBOOK",
            TableError::Unsupported(_) => "FILE_FORMAT_UNSUPPORTED",
            TableError::Encoding(_) => "FILE_ENCODING",
            TableError::Csv { .. } => "FILE_CSV",
            TableError::Limit { error, .. } => error.code(),
            TableError::Io { .. } => "FILE_IO",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            TableError::Empty(f) => format!("文件“{f}”为空或没有表头行"),
            TableError::Workbook { file, detail } => format!("文件“{file}”:{detail}"),
            TableError::Unsupported(f) => format!(
                "文件“{f}”是旧版 Excel(xls)、xlsb 或 WPS/OpenDocument 格式,请在表格软件中另存为 xlsx 或 CSV 后再导入"
            ),
            TableError::Encoding(f) => {
                format!("文件“{f}”的编码无法识别,请另存为 UTF-8 或 GBK 编码的 CSV,或 xlsx")
            }
            TableError::Csv { file, row, detail } => {
                format!("文件“{file}”第{row}行附近不是有效的 CSV:{detail}")
            }
            TableError::Limit { file, error } => format!("文件“{file}”{}", error.message_zh()),
            TableError::Io { file, .. } => format!("读取文件“{file}”时发生输入输出错误"),
        }
    }

    fn file(&self) -> &str {
        match self {
            TableError::Empty(f) | TableError::Encoding(f) | TableError::Unsupported(f) => f,
            TableError::Workbook { file, .. }
            | TableError::Csv { file, .. }
            | TableError::Limit { file, .. }
            | TableError::Io { file, .. } => file,
        }
    }
}

impl From<TableError> for FieldError {
    /// The file name stands in the `field`, since the whole file is at fault.
    fn from(e: TableError) -> FieldError {
        FieldError::new(e.file().to_string(), e.code(), e.message_zh())
    }
}

/// An importer's limits on a file, on top of the format's own (jiuzhu-sheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Data rows after the header (blank rows not counted).
    pub data_rows: u64,
    /// The file's size in bytes.
    pub file_bytes: u64,
}

/// A source of bytes that can be read again from the start.
trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A parsed header plus a way to walk the data rows.
pub struct Table<'a> {
    input: &'a Input,
    headers: Vec<String>,
    format: Format<'a>,
}

enum Format<'a> {
    Csv {
        encoding: TextEncoding,
        delimiter: u8,
    },
    Sheet {
        book: Box<Workbook<Box<dyn ReadSeek + 'a>>>,
        header_row: u64,
    },
}

/// One data row. Cells are trimmed; a missing cell reads as empty.
pub struct Row<'r> {
    /// The row number as a spreadsheet shows it (header = 1).
    pub number: usize,
    cells: Cells<'r>,
}

enum Cells<'r> {
    Csv(&'r csv::StringRecord),
    Sheet(&'r [String]),
}

impl Row<'_> {
    /// The trimmed text of cell `col` (0-based), empty if the row is shorter.
    pub fn get(&self, col: usize) -> Cow<'_, str> {
        Cow::Borrowed(self.raw(col).map(str::trim).unwrap_or(""))
    }

    fn raw(&self, col: usize) -> Option<&str> {
        match &self.cells {
            Cells::Csv(r) => r.get(col),
            Cells::Sheet(cells) => cells.get(col).map(String::as_str),
        }
    }

    /// Like [`Row::get`] for a column that may be absent from the file.
    pub fn cell(&self, col: Option<usize>) -> Cow<'_, str> {
        col.map(|c| self.get(c)).unwrap_or(Cow::Borrowed(""))
    }

    fn len(&self) -> usize {
        match &self.cells {
            Cells::Csv(r) => r.len(),
            Cells::Sheet(cells) => cells.len(),
        }
    }

    fn is_blank(&self) -> bool {
        (0..self.len()).all(|c| self.get(c).is_empty())
    }

    /// The first cell (0-based column) holding a control character — a line break, NUL and the
    /// like. No field of an import may hold one; in a CSV file it is usually a quote left open,
    /// which made one cell of the following lines.
    pub fn control_character_column(&self) -> Option<usize> {
        (0..self.len()).find(|&c| {
            self.raw(c)
                .is_some_and(|s| s.chars().any(|ch| ch.is_control() && ch != '\t'))
        })
    }
}

fn is_xlsx_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".xlsx") || lower.ends_with(".xlsm")
}

fn is_unsupported_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xls", ".xlsb", ".ods", ".et"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// OLE compound document: xls (and old WPS) files.
const OLE_MAGIC: [u8; 4] = [0xD0, 0xCF, 0x11, 0xE0];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Comma unless the header line clearly uses tabs or semicolons (European Excel, "Unicode text").
fn sniff_delimiter(first_line: &str) -> u8 {
    let count = |c: char| first_line.matches(c).count();
    let (commas, tabs, semis) = (count(','), count('\t'), count(';'));
    if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas && semis > tabs {
        b';'
    } else {
        b','
    }
}

/// Newline offsets of the decoded stream, shared between the reader under the CSV parser and
/// the table, which turns a record's end offset into the line a spreadsheet shows. Only the
/// newlines the parser has read ahead are kept.
#[derive(Default)]
struct Lines {
    pending: VecDeque<u64>,
    before: u64,
}

impl Lines {
    /// The 1-based line holding the byte just before `end`.
    fn line_ending_at(&mut self, end: u64) -> usize {
        while self.pending.front().is_some_and(|&at| at + 1 < end) {
            self.pending.pop_front();
            self.before += 1;
        }
        self.before as usize + 1
    }
}

struct LineTracker<R> {
    inner: R,
    offset: u64,
    lines: Rc<RefCell<Lines>>,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut lines = self.lines.borrow_mut();
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            lines.pending.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<'a> Table<'a> {
    /// Reads the header of `input` and checks the whole file against the limits. The file
    /// name's extension decides the format; a name without a known extension is sniffed (zip
    /// magic means a workbook, anything else is CSV).
    pub fn read(input: &'a Input, limits: TableLimits) -> Result<Table<'a>, TableError> {
        let name = input.name.as_str();
        let io_err = |e: io::Error| TableError::Io {
            file: name.to_string(),
            detail: e.to_string(),
        };
        let size = input.len().map_err(io_err)?;
        if size > limits.file_bytes {
            return Err(TableError::Limit {
                file: name.to_string(),
                error: LimitExceeded::new(Limit::FileBytes(limits.file_bytes)),
            });
        }
        let mut magic = [0u8; 4];
        let head = {
            let mut r = open(input).map_err(io_err)?;
            let n = read_up_to(&mut r, &mut magic).map_err(io_err)?;
            &magic[..n]
        };
        if is_unsupported_name(name) || head.starts_with(&OLE_MAGIC) {
            return Err(TableError::Unsupported(name.to_string()));
        }
        // A workbook renamed to .csv still opens in Excel; accept it here too. Any other name
        // is read as CSV.
        let workbook = is_xlsx_name(name) || head.starts_with(ZIP_MAGIC);
        let mut table = if workbook {
            Self::read_workbook(input)?
        } else {
            Self::read_csv(input)?
        };
        table.check_rows(limits.data_rows)?;
        Ok(table)
    }

    fn read_csv(input: &'a Input) -> Result<Table<'a>, TableError> {
        let name = input.name.as_str();
        let encoding = match &input.source {
            Source::Bytes(b) => text::detect_bytes(b),
            Source::File(_) => text::detect(open(input).map_err(|e| io_error(name, e))?)
                .map_err(|e| io_error(name, e))?,
        };
        // The header line decides the delimiter.
        let first_line = {
            let mut decoded = DecodeReader::new(
                open(input).map_err(|e| io_error(name, e))?,
                encoding,
                Malformed::Refuse,
            );
            let max = jiuzhu_sheet::limits::CSV_MAX_RECORD_BYTES as usize;
            let mut head = vec![0u8; max + 1];
            let n = read_up_to(&mut decoded, &mut head).map_err(|e| csv_io_error(name, e))?;
            let end = head[..n].iter().position(|&b| b == b'\n');
            if end.is_none() && n > max {
                return Err(TableError::Limit {
                    file: name.to_string(),
                    error: LimitExceeded::new(Limit::RecordBytes(max as u64)).at_row(1),
                });
            }
            String::from_utf8_lossy(&head[..end.unwrap_or(n)]).into_owned()
        };
        let mut table = Table {
            input,
            headers: Vec::new(),
            format: Format::Csv {
                encoding,
                delimiter: sniff_delimiter(&first_line),
            },
        };
        let (mut reader, _) = table.csv_reader(u64::MAX)?;
        let headers = reader
            .headers()
            .map_err(|e| csv_error(name, e, 1))?
            .iter()
            .map(|s| s.trim().to_string())
            .collect::<Vec<_>>();
        if headers.iter().all(|h| h.is_empty()) {
            return Err(TableError::Empty(name.to_string()));
        }
        table.headers = headers;
        Ok(table)
    }

    /// A CSV parser over the file, decoded and guarded, and the line tracker beneath it.
    #[allow(clippy::type_complexity)]
    fn csv_reader(
        &self,
        max_data_rows: u64,
    ) -> Result<(csv::Reader<Box<dyn Read + 'a>>, Rc<RefCell<Lines>>), TableError> {
        let Format::Csv {
            encoding,
            delimiter,
        } = self.format
        else {
            unreachable!("csv_reader on a workbook")
        };
        let name = self.name();
        let source = open(self.input).map_err(|e| io_error(name, e))?;
        let decoded = DecodeReader::new(source, encoding, Malformed::Refuse);
        let guarded = RecordGuard::new(decoded, delimiter).max_data_rows(max_data_rows);
        let lines = Rc::new(RefCell::new(Lines::default()));
        let tracked: Box<dyn Read + 'a> = Box::new(LineTracker {
            inner: guarded,
            offset: 0,
            lines: lines.clone(),
        });
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(tracked);
        Ok((reader, lines))
    }

    fn read_workbook(input: &'a Input) -> Result<Table<'a>, TableError> {
        let name = input.name.as_str();
        let source: Box<dyn ReadSeek + 'a> = open(input).map_err(|e| io_error(name, e))?;
        let mut book =
            Workbook::open(source, XlsxLimits::default()).map_err(|e| workbook_error(name, e))?;
        // The first non-blank row is the header, wherever the used range starts.
        let mut header = None;
        book.for_each_row(|r, cells| {
            if cells.iter().all(|c| c.trim().is_empty()) {
                return ControlFlow::Continue(());
            }
            header = Some((r, cells.iter().map(|c| c.trim().to_string()).collect()));
            ControlFlow::Break(())
        })
        .map_err(|e| workbook_error(name, e))?;
        let Some((header_row, headers)) = header else {
            return Err(TableError::Empty(name.to_string()));
        };
        Ok(Table {
            input,
            headers,
            format: Format::Sheet {
                book: Box::new(book),
                header_row,
            },
        })
    }

    /// Refuses a file with more than `max` data rows before any row is handed out.
    fn check_rows(&mut self, max: u64) -> Result<(), TableError> {
        let name = self.input.name.as_str();
        match &mut self.format {
            Format::Csv {
                encoding,
                delimiter,
            } => {
                if max == u64::MAX {
                    return Ok(());
                }
                // The guard counts records under CSV quoting rules by itself: draining it is
                // the whole counting pass, without parsing the fields.
                let source = open(self.input).map_err(|e| io_error(name, e))?;
                let decoded = DecodeReader::new(source, *encoding, Malformed::Refuse);
                let mut guarded = RecordGuard::new(decoded, *delimiter).max_data_rows(max);
                std::io::copy(&mut guarded, &mut std::io::sink())
                    .map_err(|e| csv_io_error(name, e))?;
                Ok(())
            }
            Format::Sheet { book, header_row } => {
                // A sheet cannot hold more rows than Excel's grid.
                if max >= jiuzhu_sheet::limits::XLSX_MAX_ROW {
                    return Ok(());
                }
                let header_row = *header_row;
                let (mut rows, mut over) = (0u64, None);
                book.for_each_row(|r, cells| {
                    if r > header_row && cells.iter().any(|c| !c.trim().is_empty()) {
                        rows += 1;
                        if rows > max {
                            over = Some(r);
                            return ControlFlow::Break(());
                        }
                    }
                    ControlFlow::Continue(())
                })
                .map_err(|e| workbook_error(name, e))?;
                match over {
                    Some(r) => Err(TableError::Limit {
                        file: name.to_string(),
                        error: LimitExceeded::new(Limit::Rows(max)).at_row(r),
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    /// The file name the table was read from.
    pub fn name(&self) -> &str {
        &self.input.name
    }

    /// Header cells, trimmed, as written in the file.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Calls `f` for every non-blank data row in file order.
    pub fn for_each_row(&mut self, mut f: impl FnMut(&Row<'_>)) -> Result<(), TableError> {
        let name = self.input.name.as_str();
        if let Format::Sheet { book, header_row } = &mut self.format {
            let header_row = *header_row;
            return book
                .for_each_row(|r, cells| {
                    if r > header_row {
                        let row = Row {
                            number: r as usize,
                            cells: Cells::Sheet(cells),
                        };
                        if !row.is_blank() {
                            f(&row);
                        }
                    }
                    ControlFlow::Continue(())
                })
                .map_err(|e| workbook_error(name, e));
        }
        let (mut reader, lines) = self.csv_reader(u64::MAX)?;
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let row = lines
                        .borrow_mut()
                        .line_ending_at(reader.position().byte() + 1);
                    return Err(csv_error(name, e, row));
                }
            }
            // The line of the record's last byte: what a spreadsheet program shows as the row
            // number (cells never span lines: a line break in a cell is a row error).
            let number = lines.borrow_mut().line_ending_at(reader.position().byte());
            let row = Row {
                number,
                cells: Cells::Csv(&record),
            };
            if !row.is_blank() {
                f(&row);
            }
        }
        Ok(())
    }
}

fn open<'a>(input: &'a Input) -> io::Result<Box<dyn ReadSeek + 'a>> {
    Ok(match &input.source {
        Source::Bytes(b) => Box::new(Cursor::new(b.as_slice())),
        Source::File(path) => Box::new(io::BufReader::with_capacity(
            256 << 10,
            std::fs::File::open(path)?,
        )),
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn io_error(file: &str, e: io::Error) -> TableError {
    TableError::Io {
        file: file.to_string(),
        detail: e.to_string(),
    }
}

/// An error from the reader beneath the CSV parser: a limit, undecodable text, or I/O.
fn csv_io_error(file: &str, e: io::Error) -> TableError {
    if let Some(error) = limit_of(&e) {
        TableError::Limit {
            file: file.to_string(),
            error,
        }
    } else if e.kind() == io::ErrorKind::InvalidData {
        TableError::Encoding(file.to_string())
    } else {
        io_error(file, e)
    }
}

fn csv_error(file: &str, e: csv::Error, row: usize) -> TableError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => csv_io_error(file, io),
        csv::ErrorKind::Utf8 { .. } => TableError::Encoding(file.to_string()),
        other => TableError::Csv {
            file: file.to_string(),
            row,
            detail: format!("{other:?}"),
        },
    }
}

fn workbook_error(file: &str, e: XlsxError) -> TableError {
    match e {
        XlsxError::Limit(error) => TableError::Limit {
            file: file.to_string(),
            error,
        },
        XlsxError::Io(io) => io_error(file, io),
        other => TableError::Workbook {
            file: file.to_string(),
            detail: other.message_zh(),
        },
    }
}

/// A column an importer understands: its canonical name, a Chinese label for messages, and the
/// header spellings accepted for it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub key: &'static str,
    pub label_zh: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// Header normalisation: case, surrounding space, a leading `*` (templates mark required columns
/// that way), inner spaces and underscores, and full-width parentheses do not matter.
pub(crate) fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        // '*' and its full-width form.
        .trim_matches(|c: char| c == '*' || c == '\u{ff0a}' || c.is_whitespace())
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .map(|c| match c {
            '\u{ff08}' => '(',
            '\u{ff09}' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Where each [`ColumnSpec`] sits in a table, and how the file spells it.
#[derive(Debug, Clone)]
pub struct Columns {
    index: Vec<Option<usize>>,
    names: Vec<String>,
}

impl Columns {
    /// Matches `specs` against the table's header. Every missing required column and every
    /// column given twice is one error.
    pub fn resolve(table: &Table<'_>, specs: &[ColumnSpec]) -> Result<Columns, Vec<FieldError>> {
        let normalised: Vec<String> = table.headers.iter().map(|h| normalise_header(h)).collect();
        let mut errors = Vec::new();
        let mut index = Vec::with_capacity(specs.len());
        let mut names = Vec::with_capacity(specs.len());
        for spec in specs {
            let hits: Vec<usize> = normalised
                .iter()
                .enumerate()
                .filter(|(_, h)| spec.aliases.iter().any(|a| normalise_header(a) == **h))
                .map(|(i, _)| i)
                .collect();
            match hits.as_slice() {
                [] => {
                    if spec.required {
                        errors.push(
                            FieldError::new(
                                spec.key,
                                "MISSING_COLUMN",
                                format!(
                                    "缺少必需的列“{}”({}),可用的列名:{}(文件:{})",
                                    spec.label_zh,
                                    spec.key,
                                    spec.aliases.join("/"),
                                    table.name()
                                ),
                            )
                            .at_row(1),
                        );
                    }
                    index.push(None);
                    names.push(spec.key.to_string());
                }
                [i] => {
                    index.push(Some(*i));
                    names.push(table.headers[*i].clone());
                }
                [first, rest @ ..] => {
                    let spelled: Vec<&str> =
                        hits.iter().map(|i| table.headers[*i].as_str()).collect();
                    errors.push(
                        FieldError::new(
                            table.headers[rest[0]].clone(),
                            "DUPLICATE_COLUMN",
                            format!(
                                "“{}”列出现了多次({}),无法确定使用哪一列(文件:{})",
                                spec.label_zh,
                                spelled.join("、"),
                                table.name()
                            ),
                        )
                        .at_row(1),
                    );
                    index.push(Some(*first));
                    names.push(table.headers[*first].clone());
                }
            }
        }
        if errors.is_empty() {
            Ok(Columns { index, names })
        } else {
            Err(errors)
        }
    }

    /// Column position of spec `i` (in the order given to [`Columns::resolve`]).
    pub fn index(&self, i: usize) -> Option<usize> {
        self.index[i]
    }

    /// The header of spec `i` as written in the file (the canonical key if absent).
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalise() {
        assert_eq!(normalise_header(" *Household_ID "), "householdid");
        assert_eq!(normalise_header("\u{feff}身份证号码"), "身份证号码");
        assert_eq!(normalise_header("household id"), "householdid");
        assert_eq!(
            normalise_header("\u{ff0a}姓名\u{ff08}必填\u{ff09}"),
            "姓名(必填)"
        );
    }

    #[test]
    fn delimiter_sniffing() {
        assert_eq!(sniff_delimiter("a,b,c"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter("a;b;c"), b';');
    }
}
