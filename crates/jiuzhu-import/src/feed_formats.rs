//! Deliveries as departments actually send them: UTF-8 CSV (what `jiuzhu-verify` parses), CSV in
//! GBK/GB18030 (Excel's "CSV" on a Chinese Windows) and xlsx workbooks. The format is recognised
//! from the content, never from a name; the other two are converted here, at the edge, into the
//! UTF-8 CSV stream the pure parser reads (the application writes it to a private scratch file). The ORIGINAL bytes stay the kept file and their
//! SHA-256 the delivery's hash: provenance is of what the department sent.
//!
//! Row numbers survive the conversion: GB18030 → UTF-8 keeps every line break, and a workbook
//! becomes one line per sheet row (blank rows as blank lines, which the parser skips but counts),
//! with the sheet row of the header as the offset when the used range does not start at row 1.

use std::io::{BufReader, Read, Write};
use std::path::Path;

use std::ops::ControlFlow;

use jiuzhu_sheet::text::{DecodeReader, Malformed, TextEncoding};
use jiuzhu_sheet::xlsx::{Workbook, XlsxError, XlsxLimits};

pub use jiuzhu_domain::FeedFormat;

/// Reading the delivery or writing its conversion failed (the platform's I/O, not the
/// delivery's content).
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("reading the delivery: {0}")]
    Read(std::io::Error),
    #[error("writing the converted delivery: {0}")]
    Write(std::io::Error),
}

/// A delivery that cannot be read in its format at all (recorded as refused at line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub code: &'static str,
    pub message_zh: String,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Recognises the format from the content. `full` checks the whole file for UTF-8 (an upload:
/// one file, read once more); otherwise only the first 64 KiB are looked at, where the header
/// with its Chinese labels is — enough for the large deliveries a run streams.
pub fn sniff(path: &Path, full: bool) -> std::io::Result<FeedFormat> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 << 10];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            // A sequence cut off by the end of the file is not UTF-8.
            return Ok(if carry.is_empty() {
                FeedFormat::Csv
            } else {
                FeedFormat::GbkCsv
            });
        }
        if first && buf[..n].starts_with(ZIP_MAGIC) {
            return Ok(FeedFormat::Xlsx);
        }
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        let limit = if !full && first {
            chunk.len().min(64 << 10)
        } else {
            chunk.len()
        };
        match std::str::from_utf8(&chunk[..limit]) {
            Ok(_) => {}
            // Cut in the middle of a character: carry the start of it to the next chunk.
            Err(e) if e.error_len().is_none() => carry = chunk[e.valid_up_to()..limit].to_vec(),
            Err(_) => return Ok(FeedFormat::GbkCsv),
        }
        if !full {
            return Ok(FeedFormat::Csv);
        }
        first = false;
    }
}

/// CSV in GB18030 (a superset of GBK) as UTF-8 CSV, line for line.
pub fn gbk_to_utf8(src: &Path, out: impl Write) -> Result<(), ConvertError> {
    let io_src = ConvertError::Read;
    let io_dst = ConvertError::Write;
    let input = std::fs::File::open(src).map_err(io_src)?;
    // Malformed bytes become U+FFFD: the parser then rejects that row's field, with its line,
    // instead of the whole delivery.
    let mut decoded = DecodeReader::new(input, TextEncoding::Gb18030, Malformed::Replace);
    let mut out = std::io::BufWriter::new(out);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = decoded.read(&mut buf).map_err(io_src)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(io_dst)?;
    }
    out.flush().map_err(io_dst)?;
    Ok(())
}

fn csv_field(out: &mut String, s: &str) {
    // A line break inside a cell would split the row; the clerk sees it as a space.
    let s = s.replace(['\r', '\n'], " ");
    if s.contains([',', '"']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&s);
    }
}

/// The first sheet as UTF-8 CSV, one line per sheet row from the first non-blank one (the
/// header), blank rows as blank lines; returns the header's sheet row minus one. Read by the
/// bounded streaming reader of jiuzhu-sheet: a workbook over a limit is a [`FormatError`]
/// naming the limit.
pub fn xlsx_to_csv(src: &Path, out: impl Write) -> Result<Result<u64, FormatError>, ConvertError> {
    let io_src = ConvertError::Read;
    let io_dst = ConvertError::Write;
    let refused = |e: XlsxError| FormatError {
        code: e.code(),
        message_zh: e.message_zh(),
    };
    let file = BufReader::new(std::fs::File::open(src).map_err(io_src)?);
    let mut book = match Workbook::open(file, XlsxLimits::default()) {
        Ok(b) => b,
        Err(XlsxError::Io(e)) => return Err(io_src(e)),
        Err(e) => return Ok(Err(refused(e))),
    };
    let mut out = std::io::BufWriter::new(out);
    let (mut header_row, mut last_row) = (None::<u64>, 0u64);
    let mut line = String::new();
    let mut write_error = None;
    let read = book.for_each_row(|r, cells| {
        let blank = cells.iter().all(|c| c.trim().is_empty());
        if header_row.is_none() {
            if blank {
                return ControlFlow::Continue(());
            }
            header_row = Some(r);
            last_row = r - 1;
        }
        line.clear();
        // Rows absent from the sheet stay (blank) lines so that later rows keep their numbers.
        for _ in last_row + 1..r {
            line.push('\n');
        }
        last_row = r;
        if !blank {
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                csv_field(&mut line, c);
            }
        }
        line.push('\n');
        match out.write_all(line.as_bytes()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                write_error = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    if let Some(e) = write_error {
        return Err(io_dst(e));
    }
    match read {
        Ok(()) => {}
        Err(XlsxError::Io(e)) => return Err(io_src(e)),
        Err(e) => return Ok(Err(refused(e))),
    }
    let Some(header_row) = header_row else {
        return Ok(Err(FormatError {
            code: "DELIVERY_EMPTY",
            message_zh: "电子表格为空,没有表头行".into(),
        }));
    };
    out.flush().map_err(io_dst)?;
    Ok(Ok(header_row - 1))
}
