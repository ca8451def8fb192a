//! Hostile and ordinary files for tests, generated rather than committed: the workbooks and
//! texts that once stopped or exhausted the server, and small well-formed workbooks to read.

use std::io::{Cursor, Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const SHEET_OPEN: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_CLOSE: &str = "</sheetData></worksheet>";

/// A part of a workbook whose content is written piece by piece (so that a gigabyte of XML
/// never has to exist in memory).
pub type Writer<'a> = &'a mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>;

/// A workbook with the given sheet XML (between `<sheetData>` and `</sheetData>`) and shared
/// strings XML (between `<sst>` and `</sst>`), deflated, written to `out`.
pub fn workbook_to<W: Write + Seek>(
    out: W,
    sheet_data: Writer<'_>,
    shared_strings: Writer<'_>,
) -> std::io::Result<W> {
    let mut zip = ZipWriter::new(out);
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let err = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ] {
        zip.start_file(name, opts).map_err(err)?;
        zip.write_all(text.as_bytes())?;
    }
    zip.start_file("xl/sharedStrings.xml", opts).map_err(err)?;
    zip.write_all(
        br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    )?;
    shared_strings(&mut zip)?;
    zip.write_all(b"</sst>")?;
    zip.start_file("xl/worksheets/sheet1.xml", opts)
        .map_err(err)?;
    zip.write_all(SHEET_OPEN.as_bytes())?;
    sheet_data(&mut zip)?;
    zip.write_all(SHEET_CLOSE.as_bytes())?;
    zip.finish().map_err(err)
}

/// A workbook in memory.
pub fn workbook(sheet_data: Writer<'_>, shared_strings: Writer<'_>) -> Vec<u8> {
    workbook_to(Cursor::new(Vec::new()), sheet_data, shared_strings)
        .expect("writing to memory")
        .into_inner()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A small, well-formed workbook with inline-string cells: `rows[0]` is row 1.
pub fn text_workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut xml = String::new();
    for (r, row) in rows.iter().enumerate() {
        xml.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, text) in row.iter().enumerate() {
            let col = (b'A' + c as u8) as char;
            xml.push_str(&format!(
                "<c r=\"{col}{}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                r + 1,
                escape(text)
            ));
        }
        xml.push_str("</row>");
    }
    workbook(&mut |w| w.write_all(xml.as_bytes()), &mut |_| Ok(()))
}

/// Two cells, `A1` and `XFD1048576`: 1.5 KB that made a dense reader allocate 512 GB.
pub fn corner_cells() -> Vec<u8> {
    workbook(
        &mut |w| {
            w.write_all(
                br#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>"#,
            )
        },
        &mut |_| Ok(()),
    )
}

/// A header row of inline strings, then the far cell `XFD1048576`: a reader that takes the
/// header must still refuse the file.
pub fn corner_cell_after_header(header: &[&str]) -> Vec<u8> {
    let mut xml = String::from("<row r=\"1\">");
    for (c, text) in header.iter().enumerate() {
        let col = (b'A' + c as u8) as char;
        xml.push_str(&format!(
            "<c r=\"{col}1\" t=\"inlineStr\"><is><t>{}</t></is></c>",
            escape(text)
        ));
    }
    xml.push_str(r#"</row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>"#);
    workbook(&mut |w| w.write_all(xml.as_bytes()), &mut |_| Ok(()))
}

/// One shared string of `bytes` bytes (1 GB deflates to about 1 MB), used by cell A1.
pub fn huge_shared_string_to<W: Write + Seek>(out: W, bytes: u64) -> std::io::Result<W> {
    workbook_to(
        out,
        &mut |w| w.write_all(br#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#),
        &mut |w| {
            w.write_all(b"<si><t>")?;
            let chunk = vec![b'a'; 1 << 20];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                w.write_all(&chunk[..n])?;
                left -= n as u64;
            }
            w.write_all(b"</t></si>")
        },
    )
}

/// `rows` rows of `cols` empty cells each: a few megabytes that decompress to gigabytes.
pub fn empty_cells_to<W: Write + Seek>(out: W, rows: u64, cols: u64) -> std::io::Result<W> {
    workbook_to(
        out,
        &mut |w| {
            let mut row = String::new();
            for r in 1..=rows {
                row.clear();
                row.push_str(&format!("<row r=\"{r}\">"));
                for _ in 0..cols {
                    row.push_str("<c/>");
                }
                row.push_str("</row>");
                w.write_all(row.as_bytes())?;
            }
            Ok(())
        },
        &mut |_| Ok(()),
    )
}

/// Many tiny shared strings: `count` of them.
pub fn many_shared_strings_to<W: Write + Seek>(out: W, count: u64) -> std::io::Result<W> {
    workbook_to(
        out,
        &mut |w| w.write_all(br#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#),
        &mut |w| {
            for _ in 0..count {
                w.write_all(b"<si><t>x</t></si>")?;
            }
            Ok(())
        },
    )
}

/// A CSV header followed by one line of `bytes` bytes without a line break.
pub fn one_line_csv(header: &str, bytes: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(header.len() + 1 + bytes);
    v.extend_from_slice(header.as_bytes());
    v.push(b'\n');
    v.resize(v.len() + bytes, b'9');
    v
}

/// The resident set's high-water mark of this process in bytes, reset to the current size
/// first when `reset` is true (Linux: /proc/self/clear_refs). Tests use it to show that a
/// refused input costs little memory.
pub fn peak_rss(reset: bool) -> u64 {
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    status_kib("VmHWM:") * 1024
}

/// The current resident set size in bytes.
pub fn current_rss() -> u64 {
    status_kib("VmRSS:") * 1024
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
