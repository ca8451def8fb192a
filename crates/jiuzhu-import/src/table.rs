//! One view over the spreadsheets clerks actually send: CSV (UTF-8 with or without BOM, GB18030/GBK
//! as Excel in China saves it, UTF-16 as Excel's "Unicode text"), and workbooks (xlsx, xls, xlsb,
//! ods; the first sheet).
//!
//! A [`Table`] knows its header and hands out rows numbered as the user sees them in a
//! spreadsheet program: the header is row 1 and the first data row is row 2. Rows in which every
//! cell is blank are skipped (Excel exports formatted but empty rows as `,,,`).

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Range, Reader};
use jiuzhu_domain::FieldError;

use crate::Input;

/// Why a file could not be read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("file {0} is empty or has no header row")]
    Empty(String),
    #[error("file {file} is not a readable workbook: {detail}")]
    Workbook { file: String, detail: String },
    #[error("file {0} is neither UTF-8 nor GB18030/GBK text")]
    Encoding(String),
    #[error("file {file} is not valid CSV near row {row}: {detail}")]
    Csv {
        file: String,
        row: usize,
        detail: String,
    },
}

impl TableError {
    pub fn code(&self) -> &'static str {
        match self {
            TableError::Empty(_) => "FILE_EMPTY",
            TableError::Workbook { .. } => "FILE_WORKBOOK",
            TableError::Encoding(_) => "FILE_ENCODING",
            TableError::Csv { .. } => "FILE_CSV",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            TableError::Empty(f) => format!("文件“{f}”为空或没有表头行"),
            TableError::Workbook { file, detail } => {
                format!("无法读取电子表格“{file}”(仅读取第一个工作表):{detail}")
            }
            TableError::Encoding(f) => {
                format!("文件“{f}”的编码无法识别,请另存为 UTF-8 或 GBK 编码的 CSV,或 xlsx")
            }
            TableError::Csv { file, row, detail } => {
                format!("文件“{file}”第{row}行附近不是有效的 CSV:{detail}")
            }
        }
    }

    fn file(&self) -> &str {
        match self {
            TableError::Empty(f) | TableError::Encoding(f) => f,
            TableError::Workbook { file, .. } | TableError::Csv { file, .. } => file,
        }
    }
}

impl From<TableError> for FieldError {
    /// The file name stands in the `field`, since the whole file is at fault.
    fn from(e: TableError) -> FieldError {
        FieldError::new(e.file().to_string(), e.code(), e.message_zh())
    }
}

/// A parsed header plus a way to walk the data rows.
pub struct Table<'a> {
    name: &'a str,
    headers: Vec<String>,
    body: Body<'a>,
}

enum Body<'a> {
    /// Decoded text; parsed lazily in [`Table::for_each_row`] so that a million-row file is never
    /// held as a million small strings.
    Csv { text: Cow<'a, str>, delimiter: u8 },
    Sheet {
        range: Range<Data>,
        first_row: usize,
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
    Sheet(&'r [Data]),
}

impl Row<'_> {
    /// The trimmed text of cell `col` (0-based), empty if the row is shorter.
    pub fn get(&self, col: usize) -> Cow<'_, str> {
        match &self.cells {
            Cells::Csv(r) => Cow::Borrowed(r.get(col).map(str::trim).unwrap_or("")),
            Cells::Sheet(cells) => cells.get(col).map(cell_text).unwrap_or(Cow::Borrowed("")),
        }
    }

    /// Like [`Row::get`] for a column that may be absent from the file.
    pub fn cell(&self, col: Option<usize>) -> Cow<'_, str> {
        col.map(|c| self.get(c)).unwrap_or(Cow::Borrowed(""))
    }

    fn is_blank(&self) -> bool {
        match &self.cells {
            Cells::Csv(r) => r.iter().all(|c| c.trim().is_empty()),
            Cells::Sheet(cells) => cells.iter().all(|c| cell_text(c).is_empty()),
        }
    }
}

/// The text a user sees in a workbook cell, as far as it matters for import: integers without a
/// trailing `.0` (codes typed into a number-formatted column arrive as floats), and numbers too
/// large to be exact in scientific notation so that an identity number mangled by Excel is
/// recognisable as such instead of looking like a wrong check character.
fn cell_text(d: &Data) -> Cow<'_, str> {
    match d {
        Data::String(s) => Cow::Borrowed(s.trim()),
        Data::Empty => Cow::Borrowed(""),
        Data::Int(i) => Cow::Owned(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            // Exact: |f| < 1e15 < 2^53, so the cast loses nothing.
            Cow::Owned(format!("{}", *f as i64))
        }
        Data::Float(f) if f.fract() == 0.0 => Cow::Owned(format!("{f:E}")),
        other => Cow::Owned(other.to_string().trim().to_string()),
    }
}

fn is_workbook_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

fn is_csv_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".csv", ".txt", ".tsv"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Zip (xlsx, ods) or OLE compound document (xls).
fn looks_like_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Text of a CSV file. UTF-8 is borrowed; anything else is decoded once.
fn decode_text<'a>(name: &str, bytes: &'a [u8]) -> Result<Cow<'a, str>, TableError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|_| TableError::Encoding(name.to_string()));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        // UTF-16 with BOM (Excel "Unicode text"); decode() honours the BOM.
        let (text, _, bad) = encoding_rs::UTF_16LE.decode(bytes);
        return if bad {
            Err(TableError::Encoding(name.to_string()))
        } else {
            Ok(Cow::Owned(text.into_owned()))
        };
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    // Not UTF-8: Excel on a Chinese Windows saves "CSV" in the ANSI code page, GBK, of which
    // GB18030 is a superset.
    let (text, bad) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if bad {
        return Err(TableError::Encoding(name.to_string()));
    }
    Ok(Cow::Owned(text.into_owned()))
}

/// Comma unless the header line clearly uses tabs or semicolons (European Excel, "Unicode text").
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    let (commas, tabs, semis) = (count(','), count('\t'), count(';'));
    if tabs > commas && tabs >= semis {
        b'\t'
    } else if semis > commas && semis > tabs {
        b';'
    } else {
        b','
    }
}

fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

impl<'a> Table<'a> {
    /// Reads `input`. The file name's extension decides the format; a name without a known
    /// extension is sniffed (zip or OLE magic means a workbook, anything else is CSV).
    pub fn read(input: &'a Input) -> Result<Table<'a>, TableError> {
        let name = input.name.as_str();
        let workbook = is_workbook_name(name)
            || (!is_csv_name(name) && looks_like_workbook(&input.bytes))
            // A workbook renamed to .csv still opens in Excel; accept it here too.
            || (is_csv_name(name) && input.bytes.starts_with(b"PK\x03\x04"));
        if workbook {
            Self::read_workbook(name, &input.bytes)
        } else {
            Self::read_csv(name, &input.bytes)
        }
    }

    fn read_csv(name: &'a str, bytes: &'a [u8]) -> Result<Table<'a>, TableError> {
        let text = decode_text(name, bytes)?;
        let delimiter = sniff_delimiter(&text);
        let headers: Vec<String> = {
            let mut rdr = csv_reader(&text, delimiter);
            let h = rdr.headers().map_err(|e| TableError::Csv {
                file: name.to_string(),
                row: 1,
                detail: e.to_string(),
            })?;
            h.iter().map(|s| s.trim().to_string()).collect()
        };
        if headers.iter().all(|h| h.is_empty()) {
            return Err(TableError::Empty(name.to_string()));
        }
        Ok(Table {
            name,
            headers,
            body: Body::Csv { text, delimiter },
        })
    }

    fn read_workbook(name: &'a str, bytes: &'a [u8]) -> Result<Table<'a>, TableError> {
        let bad = |detail: String| TableError::Workbook {
            file: name.to_string(),
            detail,
        };
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| bad(e.to_string()))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| bad("没有工作表".to_string()))?
            .map_err(|e| bad(e.to_string()))?;
        // The used range need not start at A1; its first row is the header wherever it is.
        let (start_row, _) = range
            .start()
            .ok_or_else(|| TableError::Empty(name.to_string()))?;
        let headers: Vec<String> = range
            .rows()
            .next()
            .map(|r| r.iter().map(|c| cell_text(c).into_owned()).collect())
            .unwrap_or_default();
        if headers.iter().all(|h| h.is_empty()) {
            return Err(TableError::Empty(name.to_string()));
        }
        Ok(Table {
            name,
            headers,
            body: Body::Sheet {
                range,
                first_row: start_row as usize + 1,
            },
        })
    }

    /// The file name the table was read from.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Header cells, trimmed, as written in the file.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// An upper bound on the number of data rows, for reserving memory.
    pub fn row_hint(&self) -> usize {
        match &self.body {
            Body::Csv { text, .. } => text.bytes().filter(|&b| b == b'\n').count() + 1,
            Body::Sheet { range, .. } => range.height(),
        }
    }

    /// Calls `f` for every non-blank data row in file order.
    pub fn for_each_row(&self, mut f: impl FnMut(&Row<'_>)) -> Result<(), TableError> {
        match &self.body {
            Body::Csv { text, delimiter } => {
                let mut rdr = csv_reader(text, *delimiter);
                let mut record = csv::StringRecord::new();
                let bytes = text.as_bytes();
                // Line numbers are counted from byte offsets: the csv reader's own line count
                // skips blank lines, which a spreadsheet program shows as rows.
                let (mut counted_to, mut line) = (0usize, 1usize);
                loop {
                    match rdr.read_record(&mut record) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            let row = e.position().map(|p| p.line() as usize).unwrap_or(0);
                            return Err(TableError::Csv {
                                file: self.name.to_string(),
                                row,
                                detail: e.to_string(),
                            });
                        }
                    }
                    // The line on which the record starts: what a spreadsheet program shows as
                    // the row number, unless an earlier cell spans lines.
                    let mut start = record
                        .position()
                        .map(|p| p.byte() as usize)
                        .unwrap_or(counted_to)
                        .clamp(counted_to, bytes.len());
                    // The reported start is before the blank lines the reader skipped.
                    while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
                        start += 1;
                    }
                    line += bytes[counted_to..start]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    counted_to = start;
                    let number = line;
                    let row = Row {
                        number,
                        cells: Cells::Csv(&record),
                    };
                    if !row.is_blank() {
                        f(&row);
                    }
                }
            }
            Body::Sheet { range, first_row } => {
                for (i, cells) in range.rows().enumerate().skip(1) {
                    let row = Row {
                        number: first_row + i,
                        cells: Cells::Sheet(cells),
                    };
                    if !row.is_blank() {
                        f(&row);
                    }
                }
            }
        }
        Ok(())
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
                                    table.name
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
                                table.name
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
    fn float_cells_read_as_codes() {
        assert_eq!(cell_text(&Data::Float(371002001201.0)), "371002001201");
        assert_eq!(
            cell_text(&Data::Float(3.71002198001e17)),
            "3.71002198001E17"
        );
        assert_eq!(cell_text(&Data::Float(1.5)), "1.5");
    }

    #[test]
    fn delimiter_sniffing() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter("a;b;c\n"), b';');
    }
}
