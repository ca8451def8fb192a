//! Arbitrary input never panics a reader: it is read, or refused with an error.

use std::io::{Cursor, Read};
use std::ops::ControlFlow;

use jiuzhu_sheet::csv_guard::RecordGuard;
use jiuzhu_sheet::testing;
use jiuzhu_sheet::text::{detect_bytes, DecodeReader, Malformed};
use jiuzhu_sheet::xlsx::{Workbook, XlsxLimits};
use proptest::prelude::*;

fn small_limits() -> XlsxLimits {
    XlsxLimits {
        cells: 10_000,
        columns: 64,
        shared_strings: 1_000,
        ..XlsxLimits::default()
    }
}

fn read_all(bytes: Vec<u8>) {
    if let Ok(mut book) = Workbook::open(Cursor::new(bytes), small_limits()) {
        let _ = book.for_each_row(|_, cells| {
            assert!(cells.len() <= 64);
            ControlFlow::Continue(())
        });
    }
}

/// Pieces of SpreadsheetML, so that random sheets reach past the first tag.
fn sheet_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..2_000_000).prop_map(|r| format!("<row r=\"{r}\">")),
        Just("<row>".to_string()),
        Just("</row>".to_string()),
        "[A-Z]{0,4}[0-9]{0,8}".prop_map(|r| format!("<c r=\"{r}\">")),
        prop_oneof![
            Just("s"),
            Just("inlineStr"),
            Just("b"),
            Just("e"),
            Just("d"),
            Just("str"),
            Just("n"),
            Just("x")
        ]
        .prop_map(|t| format!("<c t=\"{t}\" s=\"1\">")),
        Just("<c/>".to_string()),
        Just("</c>".to_string()),
        "[-0-9.eE+]{0,12}".prop_map(|v| format!("<v>{v}</v>")),
        "[^<>&]{0,8}".prop_map(|t| format!("<is><t>{t}</t></is>")),
        Just("<is><r><t>a</t></r><rPh><t>b</t></rPh></is>".to_string()),
        Just("&amp;&#x41;&bogus;".to_string()),
        Just("</sheetData><sheetData>".to_string()),
        Just("<![CDATA[x]]>".to_string()),
        Just("<v>".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_a_workbook(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        read_all(bytes);
    }

    #[test]
    fn zip_magic_then_arbitrary_bytes(tail in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(tail);
        read_all(bytes);
    }

    #[test]
    fn arbitrary_sheet_xml(pieces in proptest::collection::vec(sheet_piece(), 0..60)) {
        let xml = pieces.concat();
        let shared = "<si><t>甲</t></si><si><r><t>乙</t></r></si>";
        read_all(testing::workbook(
            &mut |w| w.write_all(xml.as_bytes()),
            &mut |w| w.write_all(shared.as_bytes()),
        ));
    }

    #[test]
    fn arbitrary_bytes_inside_a_valid_zip(sheet in proptest::collection::vec(any::<u8>(), 0..2048),
                                          sst in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_all(testing::workbook(&mut |w| w.write_all(&sheet), &mut |w| w.write_all(&sst)));
    }

    #[test]
    fn flipped_bytes_of_a_real_workbook(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = testing::text_workbook(&[&["身份证号码", "金额"], &["110101199003070011", "12.50"]]);
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        read_all(bytes);
    }

    #[test]
    fn arbitrary_csv_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096), delimiter in prop_oneof![Just(b','), Just(b'\t'), Just(b';')]) {
        let records = RecordGuard::new(&bytes[..], delimiter).max_record_bytes(512).count();
        if let Ok(n) = records {
            prop_assert!(n <= bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1);
        }
    }

    #[test]
    fn arbitrary_text_decodes_or_is_refused(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let encoding = detect_bytes(&bytes);
        let mut out = Vec::new();
        DecodeReader::new(&bytes[..], encoding, Malformed::Replace).read_to_end(&mut out).unwrap();
        prop_assert!(std::str::from_utf8(&out).is_ok());
        let mut strict = Vec::new();
        let _ = DecodeReader::new(&bytes[..], encoding, Malformed::Refuse).read_to_end(&mut strict);
    }
}
