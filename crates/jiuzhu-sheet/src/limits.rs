//! The limits of the readers, each with the legitimate input it still admits (docs/security.md
//! lists them all, with the importers' own row and size limits).

use std::fmt;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// A workbook's own file size. The largest sheet Excel can hold (1,048,576 rows) of a department
/// delivery (13 columns of codes, amounts and dates) is about 60 MB compressed.
pub const XLSX_MAX_FILE_BYTES: u64 = 512 * MIB;
/// Files inside the zip. A plain workbook has about a dozen.
pub const XLSX_MAX_ZIP_ENTRIES: usize = 10_000;
/// The first sheet's XML once decompressed. A full Excel sheet of 20 text columns is about 2 GB.
pub const XLSX_MAX_SHEET_XML_BYTES: u64 = 4 * GIB;
/// Any other part read (workbook, relationships, styles) once decompressed.
pub const XLSX_MAX_PART_BYTES: u64 = 16 * MIB;
/// Distinct texts of the shared-string table: two distinct text columns over a full sheet.
pub const XLSX_MAX_SHARED_STRINGS: u64 = 4_000_000;
/// Their total length in UTF-8: two million names and identity numbers take about 30 MB.
pub const XLSX_MAX_SHARED_STRING_BYTES: u64 = 64 * MIB;
/// Characters in one cell: Excel's own limit.
pub const XLSX_MAX_CELL_CHARS: u64 = 32_767;
/// The column of any cell (1-based): the widest import (caseload members) has about 20 columns.
pub const XLSX_MAX_COLUMNS: u64 = 256;
/// Cells actually present in the sheet (with or without a value): 1,048,576 rows × 64 columns.
pub const XLSX_MAX_CELLS: u64 = 64 * 1_048_576;
/// Any run of XML between two markup characters (a text node or a tag): a cell of 32,767
/// characters with every character escaped fits.
pub const XML_MAX_TOKEN_BYTES: u64 = MIB;
/// Excel's last row.
pub const XLSX_MAX_ROW: u64 = 1_048_576;

/// One CSV record (one spreadsheet row) as text. A caseload member row is about 200 bytes; a
/// quoted cell that is never closed reaches this limit instead of swallowing the file.
pub const CSV_MAX_RECORD_BYTES: u64 = 64 * KIB;

/// Which limit an input went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    FileBytes(u64),
    ZipEntries(u64),
    SheetXmlBytes(u64),
    PartBytes(u64),
    SharedStrings(u64),
    SharedStringBytes(u64),
    CellChars(u64),
    Columns(u64),
    Cells(u64),
    XmlToken(u64),
    RecordBytes(u64),
    Rows(u64),
    BodyBytes(u64),
}

impl Limit {
    /// The limit's value.
    pub fn value(self) -> u64 {
        match self {
            Limit::FileBytes(v)
            | Limit::ZipEntries(v)
            | Limit::SheetXmlBytes(v)
            | Limit::PartBytes(v)
            | Limit::SharedStrings(v)
            | Limit::SharedStringBytes(v)
            | Limit::CellChars(v)
            | Limit::Columns(v)
            | Limit::Cells(v)
            | Limit::XmlToken(v)
            | Limit::RecordBytes(v)
            | Limit::Rows(v)
            | Limit::BodyBytes(v) => v,
        }
    }

    /// A code for programs: `LIMIT_` plus the limit's name.
    pub fn code(self) -> &'static str {
        match self {
            Limit::FileBytes(_) => "LIMIT_FILE_SIZE",
            Limit::ZipEntries(_) => "LIMIT_ZIP_ENTRIES",
            Limit::SheetXmlBytes(_) => "LIMIT_SHEET_SIZE",
            Limit::PartBytes(_) => "LIMIT_PART_SIZE",
            Limit::SharedStrings(_) => "LIMIT_SHARED_STRINGS",
            Limit::SharedStringBytes(_) => "LIMIT_SHARED_STRING_SIZE",
            Limit::CellChars(_) => "LIMIT_CELL_LENGTH",
            Limit::Columns(_) => "LIMIT_COLUMNS",
            Limit::Cells(_) => "LIMIT_CELLS",
            Limit::XmlToken(_) => "LIMIT_XML_TOKEN",
            Limit::RecordBytes(_) => "LIMIT_LINE_LENGTH",
            Limit::Rows(_) => "LIMIT_ROWS",
            Limit::BodyBytes(_) => "LIMIT_BODY_SIZE",
        }
    }

    /// What is limited and the limit, in Chinese: "工作表解压后大小上限 4 GB".
    pub fn describe_zh(self) -> String {
        let v = self.value();
        match self {
            Limit::FileBytes(_) => format!("文件大小上限 {}", bytes_zh(v)),
            Limit::ZipEntries(_) => format!("电子表格内部文件数上限 {}", count_zh(v)),
            Limit::SheetXmlBytes(_) => format!("工作表解压后大小上限 {}", bytes_zh(v)),
            Limit::PartBytes(_) => format!("电子表格结构文件解压后大小上限 {}", bytes_zh(v)),
            Limit::SharedStrings(_) => format!("不重复文本个数上限 {}", count_zh(v)),
            Limit::SharedStringBytes(_) => format!("不重复文本总长度上限 {}", bytes_zh(v)),
            Limit::CellChars(_) => format!("单元格长度上限 {} 个字符", count_zh(v)),
            Limit::Columns(_) => format!("列数上限 {} 列", count_zh(v)),
            Limit::Cells(_) => format!("单元格个数上限 {}", count_zh(v)),
            Limit::XmlToken(_) => format!("单个 XML 标记或文本长度上限 {}", bytes_zh(v)),
            Limit::RecordBytes(_) => format!("每行长度上限 {}", bytes_zh(v)),
            Limit::Rows(_) => format!("数据行数上限 {} 行", count_zh(v)),
            Limit::BodyBytes(_) => format!("上传内容大小上限 {}", bytes_zh(v)),
        }
    }
}

/// An input over one of the limits, with where it was noticed when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input exceeds {} ({})", .limit.code(), .limit.value())]
pub struct LimitExceeded {
    pub limit: Limit,
    /// The spreadsheet row (header = 1) or text line where the limit was reached.
    pub row: Option<u64>,
}

impl LimitExceeded {
    pub fn new(limit: Limit) -> LimitExceeded {
        LimitExceeded { limit, row: None }
    }

    pub fn at_row(mut self, row: u64) -> LimitExceeded {
        self.row = Some(row);
        self
    }

    pub fn code(&self) -> &'static str {
        self.limit.code()
    }

    /// "超出处理上限:第 3 行超过每行长度上限 64 KB,已拒绝整个文件。"
    pub fn message_zh(&self) -> String {
        let at = self.row.map(|r| format!("第 {r} 行")).unwrap_or_default();
        format!(
            "超出处理上限:{at}超过{},已拒绝整个文件。请拆分文件或检查内容后重新提交。",
            self.limit.describe_zh()
        )
    }
}

/// 64 KB, 16 MB, 4 GB: binary units, as operating systems show file sizes.
pub fn bytes_zh(v: u64) -> String {
    if v >= GIB && v.is_multiple_of(GIB) {
        format!("{} GB", v / GIB)
    } else if v >= MIB && v.is_multiple_of(MIB) {
        format!("{} MB", v / MIB)
    } else if v >= KIB && v.is_multiple_of(KIB) {
        format!("{} KB", v / KIB)
    } else {
        format!("{} 字节", count_zh(v))
    }
}

/// 1048576 → "1,048,576".
pub fn count_zh(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe_zh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_in_chinese() {
        assert_eq!(bytes_zh(64 * KIB), "64 KB");
        assert_eq!(bytes_zh(4 * GIB), "4 GB");
        assert_eq!(count_zh(1_048_576), "1,048,576");
        let e = LimitExceeded::new(Limit::RecordBytes(CSV_MAX_RECORD_BYTES)).at_row(3);
        assert_eq!(
            e.message_zh(),
            "超出处理上限:第 3 行超过每行长度上限 64 KB,已拒绝整个文件。请拆分文件或检查内容后重新提交。"
        );
        assert_eq!(e.code(), "LIMIT_LINE_LENGTH");
    }
}
