//! Legacy caseload import: a households file and a members file, validated as a whole.
//!
//! Everything that can be checked without the database is checked here, and every bad row is
//! reported (up to [`MAX_REPORTED_ERRORS`](crate::MAX_REPORTED_ERRORS)), so that a clerk fixes a
//! file in one pass. The store then checks what needs the database (identity numbers already
//! registered, divisions unknown or outside the importer's jurisdiction).

use chrono::NaiveDate;
use jiuzhu_domain::caseload::{CaseloadBatch, ImportHousehold, ImportMember};
use jiuzhu_domain::{
    Area, Disability, DisabilityKind, DivisionCode, IdNumber, Level, PersonFacts, Relation, Sex,
    ValidationErrors,
};

use crate::hash::{map_with_capacity, FastMap};
use crate::report::Report;
use crate::table::{ColumnSpec, Columns, Row, Table, TableLimits};
use crate::Input;

/// Longest accepted name, in characters. Real names are far shorter (minority names written in
/// Chinese characters can reach 15 or so); a longer cell is a shifted column.
const MAX_NAME_CHARS: usize = 40;

const HOUSEHOLD_ID_ALIASES: &[&str] = &["household_id", "户编号", "户号", "家庭编号", "户籍编号"];

// Household file columns, in this order.
const H_ID: usize = 0;
const H_DIVISION: usize = 1;
const H_AREA: usize = 2;
const H_ADDRESS: usize = 3;

/// Columns of the households file.
pub const HOUSEHOLD_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        key: "household_id",
        label_zh: "户编号",
        aliases: HOUSEHOLD_ID_ALIASES,
        required: true,
    },
    ColumnSpec {
        key: "division_code",
        label_zh: "区划代码",
        aliases: &[
            "division_code",
            "区划代码",
            "行政区划代码",
            "所属区划代码",
            "区划编码",
        ],
        required: true,
    },
    ColumnSpec {
        key: "area",
        label_zh: "城乡",
        aliases: &["area", "城乡", "城乡类别", "城乡属性", "城乡类型"],
        required: true,
    },
    ColumnSpec {
        key: "address",
        label_zh: "地址",
        aliases: &["address", "地址", "家庭住址", "家庭地址", "住址"],
        required: false,
    },
];

// Member file columns, in this order.
const M_HOUSEHOLD: usize = 0;
const M_ID: usize = 1;
const M_NAME: usize = 2;
const M_RELATION: usize = 3;
const M_SEX: usize = 4;
const M_PHONE: usize = 5;
const M_DIS_KIND: usize = 6;
const M_DIS_GRADE: usize = 7;

/// Columns of the members file.
pub const MEMBER_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        key: "household_id",
        label_zh: "户编号",
        aliases: HOUSEHOLD_ID_ALIASES,
        required: true,
    },
    ColumnSpec {
        key: "id_number",
        label_zh: "身份证号",
        aliases: &[
            "id_number",
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "证件号码",
        ],
        required: true,
    },
    ColumnSpec {
        key: "name",
        label_zh: "姓名",
        aliases: &["name", "姓名"],
        required: true,
    },
    ColumnSpec {
        key: "relation",
        label_zh: "与户主关系",
        aliases: &["relation", "与户主关系", "家庭关系", "关系"],
        required: true,
    },
    ColumnSpec {
        key: "sex",
        label_zh: "性别",
        aliases: &["sex", "gender", "性别"],
        required: false,
    },
    ColumnSpec {
        key: "phone",
        label_zh: "联系电话",
        aliases: &["phone", "电话", "联系电话", "手机", "手机号", "手机号码"],
        required: false,
    },
    ColumnSpec {
        key: "disability_kind",
        label_zh: "残疾类别",
        aliases: &["disability_kind", "残疾类别", "残疾类型"],
        required: false,
    },
    ColumnSpec {
        key: "disability_grade",
        label_zh: "残疾等级",
        aliases: &["disability_grade", "残疾等级"],
        required: false,
    },
];

const FILE_HOUSEHOLDS: u8 = 0;
const FILE_MEMBERS: u8 = 1;

/// Urban/rural as written in legacy systems.
pub fn parse_area(s: &str) -> Option<Area> {
    if let Some(a) = Area::parse(s) {
        return Some(a);
    }
    match s.trim().to_ascii_lowercase().as_str() {
        "urban" | "城镇" | "城" | "城市低保" => Some(Area::Urban),
        "rural" | "乡村" | "农" | "农村低保" => Some(Area::Rural),
        _ => None,
    }
}

/// Relation to the head as written in legacy systems and household registers (户口簿), which
/// name the exact kinship ("长子", "儿媳"); those map to the platform's coarser relations.
pub fn parse_relation(s: &str) -> Option<Relation> {
    if let Some(r) = Relation::parse(s) {
        return Some(r);
    }
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    if let Some(r) = Relation::parse(&lower) {
        return Some(r);
    }
    let r = match s {
        "本人" | "户主本人" | "self" => Relation::Head,
        "妻" | "妻子" | "夫" | "丈夫" | "爱人" => Relation::Spouse,
        "子" | "女" | "儿子" | "女儿" | "长子" | "次子" | "三子" | "长女" | "次女" | "三女"
        | "养子" | "养女" | "继子" | "继女" | "独生子" | "独生女" | "子女" => {
            Relation::Child
        }
        "父亲" | "母亲" | "父" | "母" | "公公" | "婆婆" | "岳父" | "岳母" => {
            Relation::Parent
        }
        "孙子" | "孙女" | "外孙" | "外孙子" | "外孙女" => Relation::Grandchild,
        "祖父" | "祖母" | "外祖父" | "外祖母" => Relation::Grandparent,
        "兄" | "弟" | "姐" | "妹" | "哥哥" | "弟弟" | "姐姐" | "妹妹" => {
            Relation::Sibling
        }
        "儿媳" | "女婿" | "其他亲属" | "非亲属" => Relation::Other,
        _ => return None,
    };
    Some(r)
}

fn parse_sex(s: &str) -> Option<Sex> {
    Sex::parse(s).or(match s {
        "男性" | "Male" | "MALE" => Some(Sex::Male),
        "女性" | "Female" | "FEMALE" => Some(Sex::Female),
        _ => None,
    })
}

/// "1", "一级", "1级", "一" …
fn parse_grade(s: &str) -> Option<u8> {
    let s = s.trim().trim_end_matches('级');
    let g = match s {
        "1" | "一" => 1,
        "2" | "二" => 2,
        "3" | "三" => 3,
        "4" | "四" => 4,
        _ => return None,
    };
    Some(g)
}

fn valid_phone(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    (7..=20).contains(&digits)
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b' ' | b'(' | b')'))
}

/// An identity number that went through Excel as a number shows as `3.71002E+17`: the last
/// digits are gone for good, and the fix is different from a typo.
fn looks_like_scientific(s: &str) -> bool {
    s.contains(['E', 'e']) && s.bytes().any(|b| b == b'.' || b == b'+')
}

struct HouseholdRow {
    row: usize,
    key: String,
    division: Option<DivisionCode>,
    area: Option<Area>,
    address: String,
}

/// Per-household tallies for the head and membership checks.
#[derive(Clone, Copy, Default)]
struct Tally {
    members: u32,
    heads: u32,
    first_head_row: usize,
    /// A member's relation was empty or unreadable: that row's error explains a missing head.
    unknown_relation: bool,
}

/// Optional person columns of one member row, applied once the household's division is known.
struct Extras {
    member: usize,
    phone: Option<String>,
    disability: Option<Disability>,
}

/// How large a caseload one import may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows of the members file.
    pub members: u64,
    /// Rows of the households file.
    pub households: u64,
    /// Size of either file in bytes.
    pub file_bytes: u64,
}

impl Limits {
    /// The command line: a county's or a city's whole caseload, at least two million members
    /// (about 300 MB of CSV).
    pub const COMMAND_LINE: Limits = Limits {
        members: 3_000_000,
        households: 3_000_000,
        file_bytes: 1 << 30,
    };
    /// An upload to the web page: at least 200,000 members (about 30 MB of CSV); larger
    /// caseloads go through the command line.
    pub const UPLOAD: Limits = Limits {
        members: 250_000,
        households: 250_000,
        file_bytes: 64 << 20,
    };
}

/// Reads and validates a households file and a members file (CSV or workbook, see the crate
/// documentation for the columns) into a batch for `Store::import_caseload`. A file over
/// `limits` is refused before any of its rows is read.
///
/// Either every row is valid and the batch is returned, or every problem found is returned, each
/// with its row, its column as written in the file, a stable code and a Chinese message that
/// names the file.
pub fn parse(
    households: &Input,
    members: &Input,
    valid_from: NaiveDate,
    create_missing_divisions: bool,
    limits: Limits,
) -> Result<CaseloadBatch, ValidationErrors> {
    let mut report = Report::new();

    let h_table = Table::read(
        households,
        TableLimits {
            data_rows: limits.households,
            file_bytes: limits.file_bytes,
        },
    );
    let m_table = Table::read(
        members,
        TableLimits {
            data_rows: limits.members,
            file_bytes: limits.file_bytes,
        },
    );
    let (mut h_table, mut m_table) = match (h_table, m_table) {
        (Ok(h), Ok(m)) => (h, m),
        (h, m) => {
            if let Err(e) = h {
                report.push(FILE_HOUSEHOLDS, e.into());
            }
            if let Err(e) = m {
                report.push(FILE_MEMBERS, e.into());
            }
            return Err(report.finish());
        }
    };
    let h_cols = Columns::resolve(&h_table, HOUSEHOLD_COLUMNS);
    let m_cols = Columns::resolve(&m_table, MEMBER_COLUMNS);
    let (h_cols, m_cols) = match (h_cols, m_cols) {
        (Ok(h), Ok(m)) => (h, m),
        (h, m) => {
            for e in h.err().into_iter().flatten() {
                report.push(FILE_HOUSEHOLDS, e);
            }
            for e in m.err().into_iter().flatten() {
                report.push(FILE_MEMBERS, e);
            }
            return Err(report.finish());
        }
    };

    let rows = read_households(&mut h_table, &h_cols, &mut report);

    // Household key -> position in `rows`. Every row with a key is indexed, valid or not, so that
    // the members of a household whose row has an error are not also reported as orphans.
    let mut index: FastMap<&str, usize> = map_with_capacity(rows.len());
    let h_id_col = h_cols.name(H_ID);
    for (i, h) in rows.iter().enumerate() {
        if h.key.is_empty() {
            continue;
        }
        if let Some(&first) = index.get(h.key.as_str()) {
            report.row(
                FILE_HOUSEHOLDS,
                h_table.name(),
                h.row,
                h_id_col,
                "DUPLICATE_HOUSEHOLD",
                format!("户编号“{}”与第{}行重复", h.key, rows[first].row),
            );
        } else {
            index.insert(h.key.as_str(), i);
        }
    }

    let mut tallies = vec![Tally::default(); rows.len()];
    let (mut out_members, extras) = read_members(
        &mut m_table,
        &m_cols,
        h_table.name(),
        &index,
        &mut tallies,
        valid_from,
        &mut report,
    );

    for (i, (h, t)) in rows.iter().zip(&tallies).enumerate() {
        // Rows without a key or repeating an earlier key were reported already; members count
        // towards the first row of a key.
        if index.get(h.key.as_str()) != Some(&i) {
            continue;
        }
        if t.members == 0 {
            report.row(
                FILE_HOUSEHOLDS,
                h_table.name(),
                h.row,
                h_id_col,
                "NO_MEMBERS",
                format!(
                    "户编号“{}”在成员表({})中没有任何成员",
                    h.key,
                    m_table.name()
                ),
            );
        } else if t.heads == 0 && !t.unknown_relation {
            report.row(
                FILE_HOUSEHOLDS,
                h_table.name(),
                h.row,
                h_id_col,
                "NO_HEAD",
                format!(
                    "户编号“{}”在成员表({})中没有户主(与户主关系为“户主”的成员)",
                    h.key,
                    m_table.name()
                ),
            );
        }
    }

    if !report.is_empty() {
        return Err(report.finish());
    }

    // No errors: every household row is complete, and member household indexes point into the
    // same positions of the batch.
    let mut out_households = Vec::with_capacity(rows.len());
    for h in rows {
        match (h.division, h.area) {
            (Some(division), Some(area)) => out_households.push(ImportHousehold {
                row: h.row,
                source_ref: h.key,
                division,
                area,
                address: h.address,
            }),
            // Unreachable when the report is empty; kept as an error rather than a panic.
            _ => {
                report.row(
                    FILE_HOUSEHOLDS,
                    h_table.name(),
                    h.row,
                    h_id_col,
                    "INTERNAL",
                    "内部错误:该行未通过校验",
                );
                return Err(report.finish());
            }
        }
    }
    for x in extras {
        let m = &mut out_members[x.member];
        let mut facts = PersonFacts::minimal(
            &m.id_number,
            &m.name,
            out_households[m.household].division.clone(),
        );
        facts.phone = x.phone;
        facts.disability = x.disability;
        m.facts = Some(Box::new(facts));
    }

    Ok(CaseloadBatch {
        households: out_households,
        members: out_members,
        valid_from,
        create_missing_divisions,
        current_recipients: true,
        source: format!("{} + {}", households.name, members.name),
    })
}

fn read_households(
    table: &mut Table<'_>,
    cols: &Columns,
    report: &mut Report,
) -> Vec<HouseholdRow> {
    let (file, headers) = (table.name().to_string(), table.headers().to_vec());
    let file = file.as_str();
    let (c_id, c_div, c_area) = (cols.index(H_ID), cols.index(H_DIVISION), cols.index(H_AREA));
    let c_addr = cols.index(H_ADDRESS);
    let mut rows = Vec::new();
    let result = table.for_each_row(|row| {
        let n = row.number;
        report_control_characters(report, FILE_HOUSEHOLDS, file, &headers, row);
        let key = row.cell(c_id);
        if key.is_empty() {
            report.row(
                FILE_HOUSEHOLDS,
                file,
                n,
                cols.name(H_ID),
                "REQUIRED",
                "户编号不能为空",
            );
        }
        let div_text = row.cell(c_div);
        let division = if div_text.is_empty() {
            report.row(
                FILE_HOUSEHOLDS,
                file,
                n,
                cols.name(H_DIVISION),
                "REQUIRED",
                "区划代码不能为空",
            );
            None
        } else {
            match DivisionCode::parse(&div_text) {
                Ok(d) if matches!(d.level(), Level::Village | Level::Grid) => Some(d),
                Ok(d) => {
                    report.row(
                        FILE_HOUSEHOLDS,
                        file,
                        n,
                        cols.name(H_DIVISION),
                        "DIVISION_LEVEL",
                        format!(
                            "区划代码“{}”是{}级,家庭所在区划应为村/社区(12位)或网格(15位)代码",
                            div_text,
                            d.level().label_zh()
                        ),
                    );
                    None
                }
                Err(e) => {
                    report.row(
                        FILE_HOUSEHOLDS,
                        file,
                        n,
                        cols.name(H_DIVISION),
                        e.code(),
                        e.message_zh(),
                    );
                    None
                }
            }
        };
        let area_text = row.cell(c_area);
        let area = if area_text.is_empty() {
            report.row(
                FILE_HOUSEHOLDS,
                file,
                n,
                cols.name(H_AREA),
                "REQUIRED",
                "城乡类别不能为空",
            );
            None
        } else {
            let a = parse_area(&area_text);
            if a.is_none() {
                report.row(
                    FILE_HOUSEHOLDS,
                    file,
                    n,
                    cols.name(H_AREA),
                    "AREA_UNKNOWN",
                    format!("城乡类别“{area_text}”无法识别,应为“城市”(urban)或“农村”(rural)"),
                );
            }
            a
        };
        rows.push(HouseholdRow {
            row: n,
            key: key.into_owned(),
            division,
            area,
            address: row.cell(c_addr).into_owned(),
        });
    });
    if let Err(e) = result {
        report.push(FILE_HOUSEHOLDS, e.into());
    }
    rows
}

/// Reports a cell holding a control character (see [`Row::control_character_column`]); true
/// when there is none.
pub(crate) fn report_control_characters(
    report: &mut Report,
    file_no: u8,
    file: &str,
    headers: &[String],
    row: &Row<'_>,
) -> bool {
    let Some(col) = row.control_character_column() else {
        return true;
    };
    let column = headers.get(col).map_or("", String::as_str);
    report.row(
        file_no,
        file,
        row.number,
        column,
        "CELL_CONTROL_CHARACTER",
        format!(
            "“{column}”列含有换行、NUL 等控制字符(CSV 文件中多为引号未闭合,使后面几行并入了这一格)"
        ),
    );
    false
}

#[allow(clippy::too_many_arguments)]
fn read_members(
    table: &mut Table<'_>,
    cols: &Columns,
    households_file: &str,
    index: &FastMap<&str, usize>,
    tallies: &mut [Tally],
    valid_from: NaiveDate,
    report: &mut Report,
) -> (Vec<ImportMember>, Vec<Extras>) {
    let (file, headers) = (table.name().to_string(), table.headers().to_vec());
    let file = file.as_str();
    let c = |i: usize| cols.index(i);
    let (c_hh, c_id, c_name, c_rel) = (c(M_HOUSEHOLD), c(M_ID), c(M_NAME), c(M_RELATION));
    let (c_sex, c_phone, c_kind, c_grade) = (c(M_SEX), c(M_PHONE), c(M_DIS_KIND), c(M_DIS_GRADE));
    let has_extras = c_phone.is_some() || c_kind.is_some() || c_grade.is_some();
    let born_by = BornBy {
        digits: valid_from.format("%Y%m%d").to_string(),
        date: valid_from,
    };

    let mut members: Vec<ImportMember> = Vec::new();
    let mut extras: Vec<Extras> = Vec::new();
    // Identity number -> (first row, whether that first row has been reported as a duplicate).
    let mut seen: FastMap<IdNumber, (usize, bool)> = map_with_capacity(0);

    let result = table.for_each_row(|row| {
        let n = row.number;
        let mut ok = report_control_characters(report, FILE_MEMBERS, file, &headers, row);
        let mut r = MemberRow {
            report: &mut *report,
            file,
            n,
            cols,
        };
        let key = row.cell(c_hh);
        let household = r.household(&key, index, households_file);
        let id = r.id_number(&row.cell(c_id));
        if let Some(id) = &id {
            ok &= r.born_by(id, &born_by);
            ok &= r.first_time(id, &mut seen);
        }
        let name = row.cell(c_name);
        ok &= r.name(&name);
        let relation = r.relation(&row.cell(c_rel));
        // Head and member tallies count every row that names a known household, even a row with
        // other errors, so that one bad identity number does not also produce "no head".
        if let Some(h) = household {
            ok &= r.count(&mut tallies[h], &key, relation);
        }
        ok &= r.sex(&row.cell(c_sex), id.as_ref());
        let (phone, disability) = if has_extras {
            let phone = r.phone(&row.cell(c_phone));
            let disability = r.disability(&row.cell(c_kind), &row.cell(c_grade));
            ok &= phone.is_ok() && disability.is_ok();
            (phone.unwrap_or_default(), disability.unwrap_or_default())
        } else {
            (None, None)
        };

        if let (true, Some(household), Some(id_number), Some(relation)) =
            (ok, household, id, relation)
        {
            if phone.is_some() || disability.is_some() {
                extras.push(Extras {
                    member: members.len(),
                    phone,
                    disability,
                });
            }
            members.push(ImportMember {
                row: n,
                household,
                id_number,
                name: name.into_owned(),
                relation,
                facts: None,
            });
        }
    });
    if let Err(e) = result {
        report.push(FILE_MEMBERS, e.into());
    }
    (members, extras)
}

/// The import's effective date: nobody in the caseload is born after it.
struct BornBy {
    /// `YYYYMMDD`, compared with the birth date digits of an identity number.
    digits: String,
    date: NaiveDate,
}

/// One row of the members file, with where its errors go. Each check reports what it finds and
/// says whether the row may still be imported.
struct MemberRow<'a> {
    report: &'a mut Report,
    file: &'a str,
    n: usize,
    cols: &'a Columns,
}

impl MemberRow<'_> {
    fn error(&mut self, col: usize, code: &str, message: impl AsRef<str>) {
        let field = self.cols.name(col);
        self.report
            .row(FILE_MEMBERS, self.file, self.n, field, code, message);
    }

    fn household(
        &mut self,
        key: &str,
        index: &FastMap<&str, usize>,
        households_file: &str,
    ) -> Option<usize> {
        if key.is_empty() {
            self.error(M_HOUSEHOLD, "REQUIRED", "户编号不能为空");
            return None;
        }
        let found = index.get(key).copied();
        if found.is_none() {
            self.error(
                M_HOUSEHOLD,
                "HOUSEHOLD_NOT_FOUND",
                format!("户编号“{key}”在家庭表({households_file})中不存在"),
            );
        }
        found
    }

    fn id_number(&mut self, id_text: &str) -> Option<IdNumber> {
        if id_text.is_empty() {
            self.error(M_ID, "REQUIRED", "身份证号码不能为空");
            return None;
        }
        if looks_like_scientific(id_text) {
            self.error(
                M_ID,
                "ID_NUMBER_AS_NUMBER",
                format!(
                    "身份证号码被电子表格存成了数字(“{id_text}”),后几位已丢失;请将该列设为文本格式后重新填写"
                ),
            );
            return None;
        }
        match IdNumber::parse(id_text) {
            Ok(id) => Some(id),
            Err(e) => {
                self.error(M_ID, e.code(), e.message_zh());
                None
            }
        }
    }

    fn born_by(&mut self, id: &IdNumber, by: &BornBy) -> bool {
        // Digit strings of equal length compare like the dates (and cheaper than parsing).
        if id.as_str()[6..14] <= *by.digits {
            return true;
        }
        let birth = id.birth_date();
        self.error(
            M_ID,
            "BIRTH_AFTER_VALID_FROM",
            format!("身份证号码中的出生日期{birth}晚于导入生效日期{}", by.date),
        );
        false
    }

    /// A person appears once: the first row of a repeated number is reported once, every later
    /// row each time.
    fn first_time(&mut self, id: &IdNumber, seen: &mut FastMap<IdNumber, (usize, bool)>) -> bool {
        let n = self.n;
        let Some((first, reported)) = seen.get_mut(id) else {
            seen.insert(id.clone(), (n, false));
            return true;
        };
        let first = *first;
        if !*reported {
            *reported = true;
            let field = self.cols.name(M_ID);
            self.report.row(
                FILE_MEMBERS,
                self.file,
                first,
                field,
                "DUPLICATE_ID_NUMBER",
                format!("该身份证号码在第{n}行再次出现,同一人只能出现一次"),
            );
        }
        self.error(
            M_ID,
            "DUPLICATE_ID_NUMBER",
            format!("该身份证号码已在第{first}行出现,同一人只能出现一次"),
        );
        false
    }

    fn name(&mut self, name: &str) -> bool {
        if name.is_empty() {
            self.error(M_NAME, "REQUIRED", "姓名不能为空");
            return false;
        }
        if name.chars().count() > MAX_NAME_CHARS {
            self.error(
                M_NAME,
                "NAME_TOO_LONG",
                format!("姓名超过{MAX_NAME_CHARS}个字,请检查是否错列"),
            );
            return false;
        }
        true
    }

    fn relation(&mut self, rel_text: &str) -> Option<Relation> {
        if rel_text.is_empty() {
            self.error(M_RELATION, "REQUIRED", "与户主关系不能为空");
            return None;
        }
        let r = parse_relation(rel_text);
        if r.is_none() {
            self.error(
                M_RELATION,
                "RELATION_UNKNOWN",
                format!(
                    "与户主关系“{rel_text}”无法识别,应为户主、配偶、子女、父母、孙子女、祖父母、兄弟姐妹或其他"
                ),
            );
        }
        r
    }

    /// Counts the member in its household's tally; a second head is an error of its row.
    fn count(&mut self, t: &mut Tally, key: &str, relation: Option<Relation>) -> bool {
        t.members += 1;
        t.unknown_relation |= relation.is_none();
        if relation != Some(Relation::Head) {
            return true;
        }
        t.heads += 1;
        if t.heads == 1 {
            t.first_head_row = self.n;
            return true;
        }
        self.error(
            M_RELATION,
            "MULTIPLE_HEADS",
            format!(
                "户编号“{key}”已有户主(第{}行),一户只能有一位户主",
                t.first_head_row
            ),
        );
        false
    }

    /// The sex, when given, is readable and the identity number's.
    fn sex(&mut self, sex_text: &str, id: Option<&IdNumber>) -> bool {
        if sex_text.is_empty() {
            return true;
        }
        let Some(s) = parse_sex(sex_text) else {
            self.error(
                M_SEX,
                "SEX_UNKNOWN",
                format!("性别“{sex_text}”无法识别,应为“男”或“女”"),
            );
            return false;
        };
        match id {
            Some(id) if id.sex() != s => {
                self.error(
                    M_SEX,
                    "SEX_MISMATCH",
                    format!(
                        "性别“{}”与身份证号码所示性别({})不符",
                        sex_text,
                        id.sex().label_zh()
                    ),
                );
                false
            }
            _ => true,
        }
    }

    fn phone(&mut self, phone_text: &str) -> Result<Option<String>, ()> {
        if phone_text.is_empty() {
            return Ok(None);
        }
        if valid_phone(phone_text) {
            return Ok(Some(phone_text.to_string()));
        }
        self.error(
            M_PHONE,
            "PHONE_INVALID",
            format!("联系电话“{phone_text}”格式不正确"),
        );
        Err(())
    }

    /// The disability, given in full (kind and grade) or not at all.
    fn disability(&mut self, kind_text: &str, grade_text: &str) -> Result<Option<Disability>, ()> {
        let no_kind = kind_text.is_empty() || kind_text == "无";
        let no_grade = grade_text.is_empty() || grade_text == "无";
        match (no_kind, no_grade) {
            (true, true) => return Ok(None),
            (false, true) => {
                self.error(
                    M_DIS_GRADE,
                    "DISABILITY_INCOMPLETE",
                    "填写了残疾类别但没有残疾等级",
                );
                return Err(());
            }
            (true, false) => {
                self.error(
                    M_DIS_KIND,
                    "DISABILITY_INCOMPLETE",
                    "填写了残疾等级但没有残疾类别",
                );
                return Err(());
            }
            (false, false) => {}
        }
        let kind = DisabilityKind::parse(kind_text)
            .or_else(|| DisabilityKind::parse(kind_text.trim_end_matches("残疾")));
        let grade = parse_grade(grade_text);
        if kind.is_none() {
            self.error(
                M_DIS_KIND,
                "DISABILITY_KIND_UNKNOWN",
                format!(
                    "残疾类别“{kind_text}”无法识别,应为视力、听力、言语、肢体、智力、精神或多重"
                ),
            );
        }
        if grade.is_none() {
            self.error(
                M_DIS_GRADE,
                "DISABILITY_GRADE_INVALID",
                format!("残疾等级“{grade_text}”无效,应为1至4级"),
            );
        }
        match (kind, grade) {
            (Some(kind), Some(grade)) => Ok(Some(Disability { kind, grade })),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_aliases() {
        assert_eq!(parse_relation("户主"), Some(Relation::Head));
        assert_eq!(parse_relation("Head"), Some(Relation::Head));
        assert_eq!(parse_relation("长子"), Some(Relation::Child));
        assert_eq!(parse_relation("外孙女"), Some(Relation::Grandchild));
        assert_eq!(parse_relation("邻居"), None);
    }

    #[test]
    fn area_aliases() {
        assert_eq!(parse_area("URBAN"), Some(Area::Urban));
        assert_eq!(parse_area("农村"), Some(Area::Rural));
        assert_eq!(parse_area("城乡结合"), None);
    }

    #[test]
    fn scientific_notation_is_recognised() {
        assert!(looks_like_scientific("3.71002E+17"));
        assert!(!looks_like_scientific("37100219800101001X"));
    }
}
