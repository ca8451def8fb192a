//! The xlsx reader on well-formed workbooks and on the files that once stopped the server.

use std::io::Cursor;
use std::ops::ControlFlow;

use jiuzhu_sheet::testing;
use jiuzhu_sheet::xlsx::{Workbook, XlsxError, XlsxLimits};
use jiuzhu_sheet::Limit;

fn rows_of(bytes: Vec<u8>, limits: XlsxLimits) -> Result<Vec<(u64, Vec<String>)>, XlsxError> {
    let mut book = Workbook::open(Cursor::new(bytes), limits)?;
    let mut rows = Vec::new();
    book.for_each_row(|r, cells| {
        rows.push((r, cells.to_vec()));
        ControlFlow::Continue(())
    })?;
    Ok(rows)
}

fn limit_hit(result: Result<Vec<(u64, Vec<String>)>, XlsxError>) -> (Limit, Option<u64>) {
    match result {
        Err(XlsxError::Limit(e)) => (e.limit, e.row),
        other => panic!("expected a limit, got {other:?}"),
    }
}

#[test]
fn reads_rows_with_gaps_types_and_shared_strings() {
    let sheet = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><r><t>张</t></r><r><t>三</t></r><rPh><t>ZHANG</t></rPh></is></c><c r="B3"><v>371002001201</v></c><c r="C3" t="b"><v>1</v></c><c r="D3" t="str"><f>A1</f><v>x_x000D_y</v></c></row>"#;
    let shared =
        r#"<si><t>姓名</t></si><si><r><t xml:space="preserve">金 </t></r><r><t>额</t></r></si>"#;
    let bytes = testing::workbook(&mut |w| w.write_all(sheet.as_bytes()), &mut |w| {
        w.write_all(shared.as_bytes())
    });
    let rows = rows_of(bytes, XlsxLimits::default()).unwrap();
    assert_eq!(
        rows,
        vec![
            (1, vec!["姓名".into(), "".into(), "金 额".into()]),
            (
                3,
                vec![
                    "张三".into(),
                    "371002001201".into(),
                    "TRUE".into(),
                    "x\ry".into()
                ]
            ),
        ]
    );
}

#[test]
fn a_reader_may_stop_after_the_header() {
    let bytes = testing::text_workbook(&[&["code", "name"], &["1", "a"], &["2", "b"]]);
    let mut book = Workbook::open(Cursor::new(bytes), XlsxLimits::default()).unwrap();
    let mut seen = Vec::new();
    book.for_each_row(|r, _| {
        seen.push(r);
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(seen, vec![1]);
    // A second pass starts again at the first row.
    let mut all = 0;
    book.for_each_row(|_, _| {
        all += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(all, 3);
}

#[test]
fn two_far_apart_cells_are_refused_by_column_not_allocated() {
    let bytes = testing::corner_cells();
    assert!(bytes.len() < 2_500, "{} bytes", bytes.len());
    let (limit, row) = limit_hit(rows_of(bytes, XlsxLimits::default()));
    assert_eq!(limit, Limit::Columns(256));
    assert_eq!(row, Some(1_048_576));
}

#[test]
fn a_gigabyte_shared_string_is_refused_after_a_megabyte() {
    let bytes = testing::huge_shared_string_to(Cursor::new(Vec::new()), 1 << 30)
        .unwrap()
        .into_inner();
    assert!(bytes.len() < 3 << 20, "{} bytes", bytes.len());
    let (limit, _) = limit_hit(rows_of(bytes, XlsxLimits::default()));
    assert_eq!(limit, Limit::XmlToken(1 << 20));
}

#[test]
fn cells_present_are_counted_whatever_they_hold() {
    let bytes = testing::empty_cells_to(Cursor::new(Vec::new()), 1_000, 100)
        .unwrap()
        .into_inner();
    let limits = XlsxLimits {
        cells: 50_000,
        ..XlsxLimits::default()
    };
    let (limit, row) = limit_hit(rows_of(bytes, limits));
    assert_eq!(limit, Limit::Cells(50_000));
    assert_eq!(row, Some(501));
}

#[test]
fn shared_strings_are_bounded_in_number() {
    let bytes = testing::many_shared_strings_to(Cursor::new(Vec::new()), 10_001)
        .unwrap()
        .into_inner();
    let limits = XlsxLimits {
        shared_strings: 10_000,
        ..XlsxLimits::default()
    };
    assert_eq!(
        limit_hit(rows_of(bytes, limits)).0,
        Limit::SharedStrings(10_000)
    );
}

#[test]
fn the_decompressed_sheet_is_bounded() {
    let bytes = testing::empty_cells_to(Cursor::new(Vec::new()), 10_000, 10)
        .unwrap()
        .into_inner();
    let limits = XlsxLimits {
        sheet_xml_bytes: 100_000,
        ..XlsxLimits::default()
    };
    assert_eq!(
        limit_hit(rows_of(bytes, limits)).0,
        Limit::SheetXmlBytes(100_000)
    );
}

#[test]
fn damaged_and_foreign_files_are_format_errors() {
    for bytes in [
        b"PK\x03\x04garbage".to_vec(),
        b"name,code\n".to_vec(),
        Vec::new(),
    ] {
        match Workbook::open(Cursor::new(bytes), XlsxLimits::default()) {
            Err(XlsxError::Format(detail)) => assert!(detail.contains("xlsx"), "{detail}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("opened"),
        }
    }
    let bad_rows = testing::workbook(
        &mut |w| w.write_all(br#"<row r="2"><c r="A2"><v>1</v></c></row><row r="2"></row>"#),
        &mut |_| Ok(()),
    );
    match rows_of(bad_rows, XlsxLimits::default()) {
        Err(XlsxError::Format(detail)) => assert_eq!(detail, "第 2 行重复或顺序颠倒"),
        other => panic!("{other:?}"),
    }
}
