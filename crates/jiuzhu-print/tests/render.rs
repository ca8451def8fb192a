//! Renders the documents with the system's CJK font and reads them back with poppler's
//! `pdftotext`/`pdfinfo` (Debian package poppler-utils, installed by .ci/run): the PDF must parse
//! and the extracted text must be the Chinese we put in, which proves the embedded subset and its
//! ToUnicode map agree.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use chrono::NaiveDate;
use jiuzhu_domain::Money;
use jiuzhu_print::{
    default_remedy, render_decision_letter, render_notice, CjkFont, Decision, DecisionLetter,
    ExplanationLine, Notice, NoticeRow, PrintError, FONT_ENV,
};

fn font() -> &'static CjkFont {
    static FONT: OnceLock<CjkFont> = OnceLock::new();
    FONT.get_or_init(|| {
        let explicit = std::env::var_os(FONT_ENV).map(PathBuf::from);
        CjkFont::locate(explicit.as_deref()).unwrap_or_else(|e| panic!("{e} ({})", e.message_zh()))
    })
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn poppler(tool: &str, pdf: &[u8], args: &[&str]) -> String {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = Command::new(tool)
        .args(args)
        .arg(file.path())
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{tool} not runnable ({e}); install poppler-utils"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn text_of(pdf: &[u8]) -> String {
    poppler("pdftotext", pdf, &["-enc", "UTF-8"])
}

fn page_count(pdf: &[u8]) -> usize {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = Command::new("pdfinfo")
        .arg(file.path())
        .output()
        .expect("pdfinfo");
    assert!(out.status.success());
    let info = String::from_utf8(out.stdout).unwrap();
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

const LONG_NAME: &str = "阿卜杜热合曼·买买提艾力·吐尔逊托合提";

fn notice(rows: usize) -> Notice {
    const NAMES: &[&str] = &[
        "王秀英",
        "李建国",
        "张桂兰",
        "欧阳志强",
        "陈淑珍",
        "司马海燕",
    ];
    Notice {
        issuing_office: "威海市环翠区竹岛街道办事处".into(),
        village: "海埠社区".into(),
        program: "最低生活保障".into(),
        period_from: date(2026, 11, 23),
        period_to: date(2026, 11, 29),
        rows: (0..rows)
            .map(|i| NoticeRow {
                name: if i == 3 {
                    LONG_NAME.into()
                } else {
                    format!("{}{}", NAMES[i % NAMES.len()], i)
                },
                masked_id_number: format!("37100{}************", i % 10),
                household_size: 1 + (i % 4) as u32,
                program: "最低生活保障".into(),
                monthly_amount: Money::from_fen(78_700 + i as i64),
            })
            .collect(),
        contact_phone: "0631-5212345".into(),
        contact_address: "威海市环翠区竹岛街道办事处社会事务办公室（海滨北路 18 号便民服务中心二楼 203 室），工作日上午 8:30—12:00、下午 13:30—17:30".into(),
        objection_text: "如有异议，请于公示期内向竹岛街道办事处或环翠区民政局反映。".into(),
    }
}

fn refusal(reasons: Vec<String>) -> DecisionLetter {
    DecisionLetter {
        letter_number: "环民救〔2026〕124号".into(),
        issuing_office: "威海市环翠区民政局".into(),
        applicant_name: "李建国".into(),
        masked_id_number: "371002************".into(),
        program: "最低生活保障".into(),
        decision_date: date(2026, 11, 30),
        decision: Decision::Refusal {
            reasons,
            remedy: None,
        },
    }
}

/// pdftotext breaks wrapped cells across lines and decides from glyph gaps whether to print a
/// space, so compare without whitespace.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn notice_of_many_rows_spans_pages_with_headers_page_numbers_and_exact_text() {
    let n = notice(70);
    let pdf = render_notice(font(), &n).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // The font file is megabytes; only the used glyphs are embedded.
    assert!(pdf.len() < 120_000, "notice is {} bytes", pdf.len());

    let pages = page_count(&pdf);
    assert_eq!(pages, 3, "70 rows at ~25 per page");
    let text = text_of(&pdf);
    let flat = squash(&text);
    for p in 1..=pages {
        assert!(
            flat.contains(&format!("第{p}页共{pages}页")),
            "page number {p}"
        );
    }
    // The table header repeats on each page.
    assert_eq!(text.matches("身份证号").count(), pages);
    assert!(text.contains("海埠社区最低生活保障拟保障对象公示"));
    assert!(text.contains("公示期自2026年11月23日起至2026年11月29日止"));
    for (i, row) in n.rows.iter().enumerate() {
        assert!(
            flat.contains(&squash(&row.name)),
            "row {i} name {}",
            row.name
        );
        assert!(text.contains(&row.masked_id_number), "row {i} id");
        assert!(
            text.contains(&row.monthly_amount.to_string()),
            "row {i} amount"
        );
    }
    // 70 rows: sizes 1..=4 repeating (70 = 17*4 + 2 → 17*10 + 1 + 2), amounts 787.00 + i fen.
    let total = Money::from_fen(78_700 * 70 + (0..70).sum::<i64>());
    assert!(
        flat.contains(&format!("合计：70户，173人，月救助金额{total}元。")),
        "{total}"
    );
    assert!(flat.contains(&squash(&n.contact_address)));
    assert!(text.contains("威海市环翠区竹岛街道办事处（盖章）"));
}

#[test]
fn long_names_wrap_inside_their_cell() {
    let pdf = render_notice(font(), &notice(4)).unwrap();
    let text = text_of(&pdf);
    // The name does not fit its column, so it is shown on several lines but nothing is lost.
    assert!(!text.contains(LONG_NAME));
    assert!(squash(&text).contains(LONG_NAME));
    assert_eq!(page_count(&pdf), 1);
    assert!(pdf.len() < 60_000, "one-page notice is {} bytes", pdf.len());
}

#[test]
fn refusal_letter_lists_numbered_reasons_and_the_remedy() {
    let reasons = vec![
        "经核对，你家庭月人均收入为 1,326.50 元，高于本地城市最低生活保障标准 1,010.00 元。"
            .to_string(),
        "经不动产登记信息核对，你家庭成员名下有住房 3 套，超过本地规定的家庭财产状况条件。"
            .to_string(),
        "你家庭成员名下登记小型汽车一辆（非残疾人功能性补偿代步机动车），不符合财产条件。"
            .to_string(),
    ];
    let pdf = render_decision_letter(font(), &refusal(reasons.clone())).unwrap();
    assert_eq!(page_count(&pdf), 1);
    assert!(pdf.len() < 60_000, "letter is {} bytes", pdf.len());
    let text = text_of(&pdf);
    assert!(text.contains("不予最低生活保障决定书"));
    assert!(text.contains("环民救〔2026〕124号"));
    assert!(text.contains("李建国："));
    let flat = squash(&text);
    for (ordinal, reason) in ["一、", "二、", "三、"].iter().zip(&reasons) {
        assert!(
            flat.contains(&squash(&format!("{ordinal}{reason}"))),
            "{reason}"
        );
    }
    assert!(flat.contains(&squash(&default_remedy(None, None))));
    assert!(flat.contains("六十日内依法申请行政复议"));
    assert!(text.contains("威海市环翠区民政局（盖章）"));
    assert!(text.contains("2026年11月30日"));
    assert!(flat.contains("第1页共1页"));
}

#[test]
fn approval_letter_shows_amount_start_month_and_explanation() {
    let letter = DecisionLetter {
        letter_number: "环民救〔2026〕123号".into(),
        issuing_office: "威海市环翠区民政局".into(),
        applicant_name: "王秀英".into(),
        masked_id_number: "371002************".into(),
        program: "最低生活保障".into(),
        decision_date: date(2026, 11, 30),
        decision: Decision::Approval {
            monthly_amount: Money::from_fen(157_400),
            start_month: date(2026, 12, 1),
            explanation: vec![ExplanationLine {
                rule: "补差金额".into(),
                formula: "（1,010.00 − 600.00）× 3 + 344.00".into(),
                value: "1574.00 元".into(),
                source: "威环政字〔2026〕5号".into(),
            }],
        },
    };
    let pdf = render_decision_letter(font(), &letter).unwrap();
    let flat = squash(&text_of(&pdf));
    assert!(flat.contains("准予最低生活保障决定书"));
    assert!(flat.contains("自2026年12月起给予你家庭最低生活保障，月救助金额为人民币1574.00元。"));
    assert!(flat.contains("补差金额"));
    assert!(flat.contains("威环政字〔2026〕5号"));
    assert!(flat.contains("（1,010.00−600.00）×3+344.00"));
}

#[test]
fn rendering_is_deterministic() {
    let a = render_notice(font(), &notice(30)).unwrap();
    let b = render_notice(font(), &notice(30)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn unmasked_identity_number_on_a_notice_is_refused() {
    let mut n = notice(3);
    n.rows[1].masked_id_number = "371002198001011234".into();
    let err = render_notice(font(), &n).unwrap_err();
    assert_eq!(err.code(), "PRINT_UNMASKED_ID_NUMBER");
    assert!(matches!(err, PrintError::UnmaskedIdNumber { row: 2, .. }));
    assert!(err.message_zh().contains("第 2 行"));
}

#[test]
fn refusal_without_reasons_is_refused() {
    let err = render_decision_letter(font(), &refusal(vec![" ".into()])).unwrap_err();
    assert_eq!(err.code(), "PRINT_NO_REASONS");
}

#[test]
fn empty_fields_and_reversed_period_are_errors() {
    let mut n = notice(2);
    n.contact_phone = "  ".into();
    let err = render_notice(font(), &n).unwrap_err();
    assert!(matches!(&err, PrintError::EmptyField { field } if field == "contact_phone"));

    let mut n = notice(2);
    n.period_to = date(2026, 11, 1);
    assert_eq!(
        render_notice(font(), &n).unwrap_err().code(),
        "PRINT_BAD_PERIOD"
    );

    let mut n = notice(2);
    n.rows.clear();
    assert!(
        matches!(render_notice(font(), &n).unwrap_err(), PrintError::EmptyField { field } if field == "rows")
    );
}

#[test]
fn a_character_the_font_lacks_is_an_error_naming_the_field() {
    let mut n = notice(3);
    // An Egyptian hieroglyph: in no CJK font, standing in for a rare name character.
    n.rows[2].name = "王\u{13000}".into();
    match render_notice(font(), &n).unwrap_err() {
        PrintError::MissingGlyphs { field, chars, .. } => {
            assert_eq!(field, "rows[3]");
            assert_eq!(chars, "\u{13000}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn missing_font_names_every_path_tried() {
    let tried = vec![
        PathBuf::from("/nonexistent/wqy-microhei.ttc"),
        PathBuf::from("/nonexistent/NotoSansCJK-Regular.ttc"),
    ];
    let err = CjkFont::first_of(&tried).unwrap_err();
    assert_eq!(err.code(), "PRINT_FONT_NOT_FOUND");
    let msg = err.message_zh();
    assert!(msg.contains("/nonexistent/wqy-microhei.ttc"), "{msg}");
    assert!(
        msg.contains("/nonexistent/NotoSansCJK-Regular.ttc"),
        "{msg}"
    );
    assert!(err.to_string().contains("/nonexistent/wqy-microhei.ttc"));

    // An explicit path that does not exist is not replaced by a found font.
    let err = CjkFont::locate(Some(std::path::Path::new("/nonexistent/x.ttf"))).unwrap_err();
    assert_eq!(err.code(), "PRINT_FONT_READ");
}

#[test]
fn a_file_that_is_not_a_font_is_refused() {
    let err =
        CjkFont::from_bytes(b"not a font at all".to_vec(), None, "junk.ttf".as_ref()).unwrap_err();
    assert_eq!(err.code(), "PRINT_FONT_INVALID");
    let err = CjkFont::from_bytes(Vec::new(), Some(3), "empty.ttc".as_ref()).unwrap_err();
    assert_eq!(err.code(), "PRINT_FONT_INVALID");
}

#[test]
fn search_skips_unusable_candidates_and_the_font_can_be_shared() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let junk = tempfile::Builder::new().suffix(".ttf").tempfile().unwrap();
    std::fs::write(junk.path(), b"junk").unwrap();
    let candidates = vec![
        PathBuf::from("/nonexistent/a.ttc"),
        junk.path().to_path_buf(),
        font().path().to_path_buf(),
    ];
    let found = CjkFont::first_of(&candidates).unwrap();
    assert_eq!(found.path(), font().path());
    assert_eq!(found.face_index(), font().face_index());
    shareable(&found);
}
