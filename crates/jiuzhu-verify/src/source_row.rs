//! One row of a kept delivery as the department sent it: what an outreach lead shows of the
//! person it is about (the name where the file gives one, the identity number — masked by the
//! caller unless revealed — and the values). Read by the file line the import numbered, streaming
//! and under the import's line bound; only the schema's columns are returned, so that a column a
//! department adds (a diagnosis, say) is never shown.

use std::io::BufRead;

use serde::Serialize;

use crate::ingest::{DeliveryError, MAX_LINE_BYTES};
use crate::report::{header_positions, split, ABSENT};
use crate::run::IngestError;
use crate::schema::{ColumnType, FeedKind, FeedKindSchema};

/// One cell of a source row: the schema's column, its Chinese label and the text delivered
/// (trimmed; empty for an optional column the file lacks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCell {
    pub column: &'static str,
    pub label_zh: &'static str,
    #[serde(skip)]
    pub ty: ColumnType,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRow {
    /// The file line (the header is line 1).
    pub row: u64,
    pub cells: Vec<SourceCell>,
}

impl SourceRow {
    /// The text of a column by its code, if the row has it.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|c| c.column == column && !c.text.is_empty())
            .map(|c| c.text.as_str())
    }
}

/// The row at file line `line` of a delivery of `kind`; `None` when the file is shorter or that
/// line is blank, over the line bound, or has a different number of fields than the header.
pub fn read_row<R: BufRead>(
    kind: FeedKind,
    line: u64,
    mut reader: R,
) -> Result<Option<SourceRow>, IngestError> {
    let schema = kind.schema();
    let mut buf = Vec::new();
    let mut header = None;
    let mut at = 0u64;
    while let Some(too_long) = next_line(&mut reader, &mut buf)? {
        at += 1;
        let text = buf.strip_suffix(b"\r").unwrap_or(&buf);
        if header.is_none() {
            if too_long {
                return Err(DeliveryError::TooManyColumns.into());
            }
            header = Some(header_positions(schema, text)?);
            continue;
        }
        if at < line {
            continue;
        }
        let (pos, file_columns) = header.expect("the header comes first");
        let fields = split(text);
        if at > line || too_long || text.trim_ascii().is_empty() || fields.len() != file_columns {
            return Ok(None);
        }
        let cells = schema
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| SourceCell {
                column: col.name,
                label_zh: col.label_zh,
                ty: col.ty,
                text: match pos[c] {
                    ABSENT => String::new(),
                    p => String::from_utf8_lossy(fields[p].trim_ascii()).into_owned(),
                },
            })
            .collect();
        return Ok(Some(SourceRow { row: line, cells }));
    }
    if header.is_none() {
        return Err(DeliveryError::Empty.into());
    }
    Ok(None)
}

/// The next line into `out` (without its `\n`): `Some(true)` when it was longer than the
/// import's bound (then `out` is empty and the rest of the line skipped), `None` at the end.
fn next_line<R: BufRead>(r: &mut R, out: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    out.clear();
    let (mut any, mut too_long) = (false, false);
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let end = memchr::memchr(b'\n', chunk);
        let part = &chunk[..end.unwrap_or(chunk.len())];
        if !too_long {
            if out.len() + part.len() > MAX_LINE_BYTES {
                too_long = true;
                out.clear();
            } else {
                out.extend_from_slice(part);
            }
        }
        let used = end.map_or(chunk.len(), |i| i + 1);
        r.consume(used);
        if end.is_some() {
            return Ok(Some(too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\u{feff}姓名,身份证号码,结算日期,医疗总费用,个人自付,诊断\r\n\
        张三,37100219580101010X,2026-10-05,30000.00,12000.50,保密\r\n\
        \r\n\
        李四,\"371002195802020202\",2026-10-06,100.00,50.00,x\r\n";

    #[test]
    fn a_row_is_read_by_its_line_with_the_schemas_columns_only() {
        let row = read_row(FeedKind::MedicalClaims, 2, FILE.as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(row.row, 2);
        assert_eq!(row.get("name"), Some("张三"));
        assert_eq!(row.get("id_number"), Some("37100219580101010X"));
        assert_eq!(row.get("out_of_pocket"), Some("12000.50"));
        // The department's extra column is not shown.
        assert!(row.cells.iter().all(|c| c.text != "保密"));
        let quoted = read_row(FeedKind::MedicalClaims, 4, FILE.as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(quoted.get("id_number"), Some("371002195802020202"));
        assert_eq!(quoted.cells[0].label_zh, "身份证号码");
    }

    #[test]
    fn a_blank_or_missing_line_gives_nothing() {
        assert_eq!(
            read_row(FeedKind::MedicalClaims, 3, FILE.as_bytes()).unwrap(),
            None
        );
        assert_eq!(
            read_row(FeedKind::MedicalClaims, 9, FILE.as_bytes()).unwrap(),
            None
        );
        let huge = format!(
            "{}\n{}\n",
            FILE.lines().next().unwrap(),
            "9".repeat(MAX_LINE_BYTES + 5)
        );
        assert_eq!(
            read_row(FeedKind::MedicalClaims, 2, huge.as_bytes()).unwrap(),
            None
        );
        assert!(read_row(FeedKind::MedicalClaims, 2, &b""[..]).is_err());
    }
}
