//! Caseload import through the public API: good files, bad files, encodings and workbooks.

use chrono::NaiveDate;
use jiuzhu_domain::caseload::CaseloadBatch;
use jiuzhu_domain::id_number::check_char;
use jiuzhu_domain::{
    Area, Disability, DisabilityKind, FieldError, Relation, Sex, ValidationErrors,
};
use jiuzhu_import::{caseload, divisions, Input, MAX_REPORTED_ERRORS};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A valid identity number from its first 17 characters.
fn id(body: &str) -> String {
    let b: [u8; 17] = body.as_bytes().try_into().unwrap();
    format!("{body}{}", check_char(&b))
}

fn parse(h: &str, m: &str) -> Result<CaseloadBatch, ValidationErrors> {
    caseload::parse(
        &Input::new("h.csv", h.as_bytes()),
        &Input::new("m.csv", m.as_bytes()),
        date(2025, 1, 1),
        false,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
}

fn lines(errors: &ValidationErrors) -> Vec<String> {
    errors.0.iter().map(FieldError::to_string).collect()
}

fn good_households() -> String {
    "household_id,division_code,area,address,remark\n\
     H1,371002001001,urban,环翠楼街道新威路社区3号楼2单元501室,\n\
     H2,371002008201001,农村,张村镇王家疃村12号,extra column is ignored\n\
     H3,371002001002,城市,,\n"
        .to_string()
}

fn good_members() -> String {
    format!(
        "household_id,id_number,name,relation,sex,phone,disability_kind,disability_grade\n\
         H1,{},王建国,head,男,13906311234,,\n\
         H1,{},李秀英,配偶,女,,肢体,2\n\
         H1,{},王浩然,子女,,,,\n\
         H2,{},于桂兰,户主,,,,\n\
         H2,{},于海涛,长子,男,,,\n\
         H3,{},丛丽,本人,,0631-5201234,,\n",
        id("37100219550310001"),
        id("37100219580704002"),
        id("37100220120101003"),
        id("37108219400101002"),
        id("37100219700505001"),
        id("37100219800808002"),
    )
}

#[test]
fn a_good_pair_parses_with_counts_relations_and_facts() {
    let batch = parse(&good_households(), &good_members()).expect("valid files");
    assert_eq!(batch.households.len(), 3);
    assert_eq!(batch.members.len(), 6);
    assert_eq!(batch.valid_from, date(2025, 1, 1));
    assert!(!batch.create_missing_divisions);
    assert_eq!(batch.source, "h.csv + m.csv");

    let h1 = &batch.households[0];
    assert_eq!(h1.row, 2);
    assert_eq!(h1.source_ref, "H1");
    assert_eq!(h1.division.as_str(), "371002001001");
    assert_eq!(h1.area, Area::Urban);
    assert_eq!(h1.address, "环翠楼街道新威路社区3号楼2单元501室");
    assert_eq!(batch.households[1].division.as_str(), "371002008201001");
    assert_eq!(batch.households[1].area, Area::Rural);
    assert_eq!(batch.households[2].address, "");

    let m = &batch.members;
    assert_eq!(
        m.iter().map(|m| m.household).collect::<Vec<_>>(),
        [0, 0, 0, 1, 1, 2]
    );
    assert_eq!(
        m.iter().map(|m| m.relation).collect::<Vec<_>>(),
        [
            Relation::Head,
            Relation::Spouse,
            Relation::Child,
            Relation::Head,
            Relation::Child,
            Relation::Head
        ]
    );
    assert_eq!(m[0].row, 2);
    assert_eq!(m[5].row, 7);
    assert_eq!(m[1].name, "李秀英");

    // Rows with phone or disability carry facts with the household's division as residence.
    let f0 = m[0].facts.as_deref().expect("phone given");
    assert_eq!(f0.phone.as_deref(), Some("13906311234"));
    assert_eq!(f0.sex, Sex::Male);
    assert_eq!(f0.birth_date, date(1955, 3, 10));
    assert_eq!(f0.residence_division.as_str(), "371002001001");
    let f1 = m[1].facts.as_deref().expect("disability given");
    assert_eq!(
        f1.disability,
        Some(Disability {
            kind: DisabilityKind::Physical,
            grade: 2
        })
    );
    assert!(m[2].facts.is_none());
    assert_eq!(
        m[5].facts.as_deref().map(|f| f.residence_division.as_str()),
        Some("371002001002")
    );
}

#[test]
fn a_bad_file_reports_every_bad_row_with_column_and_reason() {
    let households = "household_id,division_code,area\n\
                      H1,371002001001,urban\n\
                      H2,37100200100,urban\n\
                      H1,371002001002,rural\n\
                      H4,371002001,城乡结合\n\
                      H5,371002001005,urban\n\
                      H6,371002001006,urban\n\
                      H7,371002001007,rural\n";
    let dup = id("37100219800101001");
    let members = format!(
        "household_id,id_number,name,relation\n\
         H1,110105194912310021,王芳,head\n\
         H1,{dup},李强,spouse\n\
         H2,1234,张三,head\n\
         H9,{},赵六,head\n\
         H4,{},,户主\n\
         H5,{dup},孙七,head\n\
         H5,{},孙八,head\n\
         H6,{},周九,child\n\
         H6,{},周十,other\n\
         H1,11010519491331002X,吴一,child\n\
         H1,{},郑二,邻居\n",
        id("37100219800101003"),
        id("37100219800101005"),
        id("37100219800101007"),
        id("37100220100101002"),
        id("37100220120101004"),
        id("37100220120101012"),
    );
    let errors = parse(households, &members).expect_err("bad files");
    let got = lines(&errors);
    let expected = [
        "第3行 division_code:区划代码“37100200100”应为6位(省市县)、9位(乡镇)、12位(村社区)或15位(网格)数字(文件:h.csv)(DIVISION_SHAPE)",
        "第4行 household_id:户编号“H1”与第2行重复(文件:h.csv)(DUPLICATE_HOUSEHOLD)",
        "第5行 division_code:区划代码“371002001”是乡镇/街道级,家庭所在区划应为村/社区(12位)或网格(15位)代码(文件:h.csv)(DIVISION_LEVEL)",
        "第5行 area:城乡类别“城乡结合”无法识别,应为“城市”(urban)或“农村”(rural)(文件:h.csv)(AREA_UNKNOWN)",
        "第7行 household_id:户编号“H6”在成员表(m.csv)中没有户主(与户主关系为“户主”的成员)(文件:h.csv)(NO_HEAD)",
        "第8行 household_id:户编号“H7”在成员表(m.csv)中没有任何成员(文件:h.csv)(NO_MEMBERS)",
        "第2行 id_number:身份证号码校验码错误:为1,应为X(文件:m.csv)(ID_CHECK_DIGIT)",
        "第3行 id_number:该身份证号码在第7行再次出现,同一人只能出现一次(文件:m.csv)(DUPLICATE_ID_NUMBER)",
        "第4行 id_number:身份证号码应为18位(或15位旧号码),实际为4位(文件:m.csv)(ID_LENGTH)",
        "第5行 household_id:户编号“H9”在家庭表(h.csv)中不存在(文件:m.csv)(HOUSEHOLD_NOT_FOUND)",
        "第6行 name:姓名不能为空(文件:m.csv)(REQUIRED)",
        "第7行 id_number:该身份证号码已在第3行出现,同一人只能出现一次(文件:m.csv)(DUPLICATE_ID_NUMBER)",
        "第8行 relation:户编号“H5”已有户主(第7行),一户只能有一位户主(文件:m.csv)(MULTIPLE_HEADS)",
        "第11行 id_number:身份证号码中的出生日期19491331不存在(文件:m.csv)(ID_BIRTH_DATE)",
        "第12行 relation:与户主关系“邻居”无法识别,应为户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹或其他(文件:m.csv)(RELATION_UNKNOWN)",
    ];
    assert_eq!(got, expected, "{got:#?}");
}

#[test]
fn the_example_message_of_the_brief_reads_as_written() {
    let h = "户编号,区划代码,城乡\n1,371002001001,城市\n";
    let mut m = String::from("户编号,身份证号,姓名,与户主关系\n");
    for _ in 0..10 {
        m.push_str(&format!("1,{},某,其他\n", id("37100219900101001")));
    }
    // Row 12: check character 1 where X is due.
    m.push_str("1,110105194912310021,王芳,户主\n");
    let errors = parse(h, &m).unwrap_err();
    assert!(
        lines(&errors)
            .iter()
            .any(|l| l.starts_with("第12行 身份证号:身份证号码校验码错误:为1,应为X")),
        "{:#?}",
        lines(&errors)
    );
}

#[test]
fn an_unreadable_relation_does_not_also_report_a_missing_head() {
    let h = "household_id,division_code,area\n1,371002001001,urban\n";
    let m = format!(
        "household_id,id_number,name,relation\n1,{},王芳,boss\n",
        id("37100219800101002")
    );
    let errors = parse(h, &m).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{:#?}", lines(&errors));
    assert_eq!(errors.0[0].code, "RELATION_UNKNOWN");
}

#[test]
fn a_missing_column_is_one_error_naming_it() {
    let h = "household_id,area\nH1,urban\n";
    let m = "household_id,name,relation\nH1,王芳,head\n";
    let errors = parse(h, m).unwrap_err();
    assert_eq!(errors.0.len(), 2, "{:#?}", lines(&errors));
    assert_eq!(errors.0[0].code, "MISSING_COLUMN");
    assert_eq!(errors.0[0].field, "division_code");
    assert_eq!(errors.0[0].row, Some(1));
    assert!(errors.0[0].message.contains("区划代码"));
    assert!(errors.0[0].message.contains("h.csv"));
    assert_eq!(errors.0[1].field, "id_number");
    assert!(errors.0[1].message.contains("身份证号"));
    assert!(errors.0[1].message.contains("m.csv"));
}

#[test]
fn gbk_csv_with_chinese_headers_and_bom_utf8_read_the_same() {
    let h = "户编号,区划代码,城乡,家庭住址\r\n1,371002001001,城市,新威路社区1号楼\r\n";
    let m = format!(
        "户编号,公民身份号码,姓名,与户主关系\r\n1,{},王芳,户主\r\n1,{},李强,配偶\r\n",
        id("37100219800101002"),
        id("37100219790101001")
    );
    let (h_gbk, _, bad1) = encoding_rs::GBK.encode(h);
    let (m_gbk, _, bad2) = encoding_rs::GBK.encode(&m);
    assert!(!bad1 && !bad2);
    assert!(std::str::from_utf8(&h_gbk).is_err(), "really not UTF-8");
    let from_gbk = caseload::parse(
        &Input::new("户.csv", h_gbk.into_owned()),
        &Input::new("成员.csv", m_gbk.into_owned()),
        date(2025, 1, 1),
        true,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .expect("GBK files");
    assert_eq!(from_gbk.households[0].address, "新威路社区1号楼");
    assert_eq!(from_gbk.members[0].name, "王芳");
    assert_eq!(from_gbk.members[1].relation, Relation::Spouse);
    assert!(from_gbk.create_missing_divisions);

    let mut h_bom = b"\xEF\xBB\xBF".to_vec();
    h_bom.extend_from_slice(h.as_bytes());
    let from_bom = caseload::parse(
        &Input::new("户.csv", h_bom),
        &Input::new("成员.csv", m.as_bytes()),
        date(2025, 1, 1),
        true,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .expect("UTF-8 with BOM");
    assert_eq!(from_bom, from_gbk);
}

/// Writes rows as an xlsx sheet, every cell as text (as a careful clerk does).
fn xlsx(path: &std::path::Path, csv_text: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in csv_text.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    book.save(path).unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn an_xlsx_pair_parses_the_same_as_the_csv_pair() {
    let dir = tempfile::tempdir().unwrap();
    let h = xlsx(&dir.path().join("h.xlsx"), &good_households());
    let m = xlsx(&dir.path().join("m.xlsx"), &good_members());
    let from_xlsx = caseload::parse(
        &Input::new("h.xlsx", h.clone()),
        &Input::new("m.xlsx", m.clone()),
        date(2025, 1, 1),
        false,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .expect("xlsx files");
    let mut from_csv = parse(&good_households(), &good_members()).unwrap();
    from_csv.source = from_xlsx.source.clone();
    assert_eq!(from_xlsx, from_csv);

    // Without an extension the zip magic still says "workbook".
    let sniffed = caseload::parse(
        &Input::new("upload", h),
        &Input::new("upload2", m),
        date(2025, 1, 1),
        false,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .expect("sniffed workbooks");
    assert_eq!(sniffed.members.len(), 6);
}

#[test]
fn xlsx_number_cells_read_as_codes_and_mangled_ids_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["household_id", "division_code", "area"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    // Codes typed into number-formatted cells.
    sheet.write_number(1, 0, 1.0).unwrap();
    sheet.write_number(1, 1, 371002001001.0).unwrap();
    sheet.write_string(1, 2, "urban").unwrap();
    book.save(&path).unwrap();
    let h = std::fs::read(&path).unwrap();

    let path = dir.path().join("m.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["household_id", "id_number", "name", "relation"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 1.0).unwrap();
    sheet.write_number(1, 1, 371002198001010011.0).unwrap();
    sheet.write_string(1, 2, "王芳").unwrap();
    sheet.write_string(1, 3, "head").unwrap();
    book.save(&path).unwrap();
    let m = std::fs::read(&path).unwrap();

    let errors = caseload::parse(
        &Input::new("h.xlsx", h),
        &Input::new("m.xlsx", m),
        date(2025, 1, 1),
        false,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .unwrap_err();
    assert_eq!(errors.0.len(), 1, "{:#?}", lines(&errors));
    assert_eq!(errors.0[0].code, "ID_NUMBER_AS_NUMBER");
    assert_eq!(errors.0[0].row, Some(2));
}

#[test]
fn sex_and_phone_columns_are_checked() {
    let h = "household_id,division_code,area\n1,371002001001,urban\n";
    let m = format!(
        "household_id,id_number,name,relation,性别,联系电话\n\
         1,{},王芳,head,男,abc\n",
        id("37100219800101002")
    );
    let got = lines(&parse(h, &m).unwrap_err());
    assert_eq!(
        got,
        [
            "第2行 性别:性别“男”与身份证号码所示性别(女)不符(文件:m.csv)(SEX_MISMATCH)",
            "第2行 联系电话:联系电话“abc”格式不正确(文件:m.csv)(PHONE_INVALID)",
        ]
    );
}

#[test]
fn errors_stop_being_listed_after_the_cap() {
    let h = "household_id,division_code,area\n1,371002001001,urban\n";
    let mut m = String::from("household_id,id_number,name,relation\n");
    m.push_str(&format!("1,{},王芳,head\n", id("37100219800101002")));
    for _ in 0..1500 {
        m.push_str("1,12345,某人,child\n");
    }
    let errors = parse(h, &m).unwrap_err();
    assert_eq!(errors.0.len(), MAX_REPORTED_ERRORS + 1);
    let last = errors.0.last().unwrap();
    assert_eq!(last.code, "TOO_MANY_ERRORS");
    assert!(
        last.message.contains("另有500处错误未列出"),
        "{}",
        last.message
    );
}

#[test]
fn blank_rows_are_skipped_but_row_numbers_stay_those_of_the_file() {
    let h = "household_id,division_code,area\n1,371002001001,urban\n,,\n\n2,371002001001,urban\n";
    let m = format!(
        "household_id,id_number,name,relation\n1,{},王芳,head\n,,,\n2,{},李强,户主\n",
        id("37100219800101002"),
        id("37100219800101011")
    );
    let batch = parse(h, &m).unwrap();
    assert_eq!(batch.households.len(), 2);
    assert_eq!(batch.households[1].row, 5);
    assert_eq!(batch.members[1].row, 4);
    assert_eq!(batch.members[1].household, 1);
}

#[test]
fn an_unreadable_workbook_is_one_error() {
    let errors = caseload::parse(
        &Input::new("h.xlsx", b"PK\x03\x04 not really a zip".to_vec()),
        &Input::new("m.csv", b"household_id,id_number,name,relation\n".to_vec()),
        date(2025, 1, 1),
        false,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].code, "FILE_WORKBOOK");
    assert_eq!(errors.0[0].field, "h.xlsx");
}

#[test]
fn divisions_parse_with_levels_from_codes() {
    let input = Input::new(
        "div.csv",
        "区划代码,名称,级别\n370000,山东省,省\n371002,环翠区,区\n371002001000,环翠楼街道,街道\n371002001001,新威路社区,社区\n371002001001001,新威路社区第一网格,网格\n"
            .as_bytes(),
    );
    let rows = divisions::parse(&input, jiuzhu_import::divisions::COMMAND_LINE).unwrap();
    let codes: Vec<&str> = rows.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "370000",
            "371002",
            "371002001",
            "371002001001",
            "371002001001001"
        ]
    );
    assert_eq!(rows[2].1, "环翠楼街道");

    let bad = Input::new(
        "div.csv",
        "code,name\n371002,环翠区\n3710,短\n371002001,\n371002,又一个\n".as_bytes(),
    );
    let got = lines(&divisions::parse(&bad, jiuzhu_import::divisions::COMMAND_LINE).unwrap_err());
    assert_eq!(
        got,
        [
            "第3行 code:区划代码“3710”应为6位(省市县)、9位(乡镇)、12位(村社区)或15位(网格)数字(文件:div.csv)(DIVISION_SHAPE)",
            "第4行 name:名称不能为空(文件:div.csv)(REQUIRED)",
            "第5行 code:区划代码“371002”与第2行重复(文件:div.csv)(DUPLICATE_DIVISION)",
        ]
    );
}

#[test]
fn utf16_tab_separated_unicode_text_is_read() {
    // Excel's "Unicode text" export: UTF-16LE with BOM, tab separated.
    let h = "户编号\t区划代码\t城乡\r\n1\t371002001001\t城市\r\n";
    let m = format!(
        "户编号\t身份证号码\t姓名\t与户主关系\r\n1\t{}\t王芳\t户主\r\n",
        id("37100219800101002")
    );
    let utf16 = |s: &str| -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    };
    let batch = caseload::parse(
        &Input::new("h.txt", utf16(h)),
        &Input::new("m.txt", utf16(&m)),
        date(2025, 1, 1),
        false,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    )
    .expect("UTF-16 text");
    assert_eq!(batch.members[0].name, "王芳");
    assert_eq!(batch.households[0].area, Area::Urban);
}
