//! Hostile and broken files through the importers: each is refused with a Chinese message that
//! names the limit or the row, never an abort, and arbitrary bytes never panic.

use chrono::NaiveDate;
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{FieldError, ValidationErrors};
use jiuzhu_import::caseload::{self, Limits};
use jiuzhu_import::{divisions, Input, TableLimits};
use jiuzhu_sheet::testing;
use proptest::prelude::*;

fn id(body: &str) -> String {
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!("{body}{}", check_char(&b))
}

const HOUSEHOLDS: &str = "household_id,division_code,area\nH1,371002001001,urban\n";

fn members_ok() -> String {
    format!(
        "household_id,id_number,name,relation\nH1,{},王建国,head\n",
        id("37100219550310001")
    )
}

fn parse_with(h: Input, m: Input, limits: Limits) -> Result<usize, ValidationErrors> {
    caseload::parse(
        &h,
        &m,
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        false,
        limits,
    )
    .map(|b| b.members.len())
}

fn errors(result: Result<usize, ValidationErrors>) -> Vec<FieldError> {
    result.expect_err("the files should be refused").0
}

#[test]
fn the_corner_cell_workbook_is_refused_by_its_column() {
    let e = errors(parse_with(
        Input::new("households.xlsx", testing::corner_cells()),
        Input::new("m.csv", members_ok()),
        Limits::UPLOAD,
    ));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "LIMIT_COLUMNS");
    assert_eq!(e[0].field, "households.xlsx");
    assert_eq!(
        e[0].message,
        "文件“households.xlsx”超出处理上限:第 1048576 行超过列数上限 256 列,已拒绝整个文件。请拆分文件或检查内容后重新提交。"
    );
}

#[test]
fn a_huge_shared_string_is_refused() {
    let bytes = testing::huge_shared_string_to(std::io::Cursor::new(Vec::new()), 64 << 20)
        .unwrap()
        .into_inner();
    let e = errors(parse_with(
        Input::new("h.csv", HOUSEHOLDS),
        Input::new("members.xlsx", bytes),
        Limits::UPLOAD,
    ));
    assert_eq!(e[0].code, "LIMIT_XML_TOKEN");
}

#[test]
fn a_csv_of_one_endless_line_is_refused_by_line_length() {
    let e = errors(parse_with(
        Input::new("h.csv", HOUSEHOLDS),
        Input::new(
            "m.csv",
            testing::one_line_csv("household_id,id_number,name,relation", 10 << 20),
        ),
        Limits::UPLOAD,
    ));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "LIMIT_LINE_LENGTH");
    assert!(
        e[0].message.contains("第 2 行超过每行长度上限 64 KB"),
        "{}",
        e[0].message
    );
}

#[test]
fn too_many_rows_are_refused_before_any_row_is_read() {
    let mut m = String::from("household_id,id_number,name,relation\n");
    for i in 0..5 {
        m.push_str(&format!(
            "H1,{},甲{i},子女\n",
            id(&format!("3710022010010100{i}"))
        ));
    }
    let limits = Limits {
        members: 4,
        ..Limits::UPLOAD
    };
    let e = errors(parse_with(
        Input::new("h.csv", HOUSEHOLDS),
        Input::new("m.csv", m),
        limits,
    ));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "LIMIT_ROWS");
    assert!(
        e[0].message.contains("第 6 行超过数据行数上限 4 行"),
        "{}",
        e[0].message
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_unread() {
    let limits = Limits {
        file_bytes: 60,
        ..Limits::UPLOAD
    };
    let e = errors(parse_with(
        Input::new("h.csv", HOUSEHOLDS),
        Input::new("m.csv", members_ok()),
        limits,
    ));
    assert_eq!(e[0].code, "LIMIT_FILE_SIZE");
    assert_eq!(e[0].field, "m.csv");
}

#[test]
fn an_unterminated_quote_is_a_row_error_and_swallows_nothing_silently() {
    let m = format!(
        "household_id,id_number,name,relation\nH1,{},\"王建国,head\nH1,{},李秀英,配偶\n",
        id("37100219550310001"),
        id("37100219580704002")
    );
    let e = errors(parse_with(
        Input::new("h.csv", HOUSEHOLDS),
        Input::new("m.csv", m),
        Limits::UPLOAD,
    ));
    let quote = e
        .iter()
        .find(|e| e.code == "CELL_CONTROL_CHARACTER")
        .expect("the open quote is reported");
    assert_eq!(quote.row, Some(3));
    assert_eq!(quote.field, "name");
}

#[test]
fn a_nul_byte_in_a_name_is_a_row_error() {
    let m = format!(
        "household_id,id_number,name,relation\nH1,{},王\u{0}建国,head\n",
        id("37100219550310001")
    );
    let e = errors(parse_with(
        Input::new("h.csv", HOUSEHOLDS),
        Input::new("m.csv", m),
        Limits::UPLOAD,
    ));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "CELL_CONTROL_CHARACTER");
    assert_eq!((e[0].row, e[0].field.as_str()), (Some(2), "name"));
}

#[test]
fn old_excel_files_are_refused_with_advice() {
    let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0].to_vec();
    let e = errors(parse_with(
        Input::new("h.xls", xls),
        Input::new("m.csv", members_ok()),
        Limits::UPLOAD,
    ));
    assert_eq!(e[0].code, "FILE_FORMAT_UNSUPPORTED");
    assert!(e[0].message.contains("另存为 xlsx 或 CSV"));
}

#[test]
fn a_file_on_disk_is_read_like_an_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (h, m) = (dir.path().join("户.csv"), dir.path().join("成员.csv"));
    std::fs::write(&h, HOUSEHOLDS).unwrap();
    std::fs::write(&m, members_ok()).unwrap();
    assert_eq!(
        parse_with(Input::file(&h), Input::file(&m), Limits::COMMAND_LINE).unwrap(),
        1
    );
}

#[test]
fn divisions_with_a_bomb_are_refused() {
    let e = divisions::parse(
        &Input::new("d.xlsx", testing::corner_cells()),
        divisions::UPLOAD,
    )
    .unwrap_err()
    .0;
    assert_eq!(e[0].code, "LIMIT_COLUMNS");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_an_importer(bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                                                name in prop_oneof![Just("f.csv"), Just("f.xlsx"), Just("f")]) {
        let limits = Limits { members: 100, households: 100, file_bytes: 1 << 20 };
        let _ = parse_with(Input::new(name, bytes.clone()), Input::new("m.csv", members_ok()), limits);
        let _ = parse_with(Input::new("h.csv", HOUSEHOLDS), Input::new(name, bytes.clone()), limits);
        let _ = divisions::parse(&Input::new(name, bytes), TableLimits { data_rows: 100, file_bytes: 1 << 20 });
    }

    #[test]
    fn arbitrary_text_rows_never_panic(rows in proptest::collection::vec("[0-9A-Za-z,\"\\r\\n\\t 王户主;]{0,40}", 0..20)) {
        let text = format!("household_id,id_number,name,relation\n{}", rows.join("\n"));
        let limits = Limits { members: 100, households: 100, file_bytes: 1 << 20 };
        let _ = parse_with(Input::new("h.csv", HOUSEHOLDS), Input::new("m.csv", text), limits);
    }
}
