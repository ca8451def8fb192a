//! Spreadsheet import for jiuzhu (救助): legacy caseloads and jurisdiction trees, validated into
//! batches for the store, with every bad row reported; and the deterministic demo county.
//!
//! The crate does no I/O: callers pass an [`Input`] (file name and bytes) and get either a
//! validated batch or [`ValidationErrors`](jiuzhu_domain::ValidationErrors).
//!
//! # File formats
//!
//! Every file is a table with a header row, given as
//!
//! - **CSV**: UTF-8 with or without BOM; if the bytes are not UTF-8 they are read as GB18030
//!   (a superset of GBK, which is what Excel on a Chinese Windows writes when saving "CSV");
//!   UTF-16 with BOM (Excel "Unicode text") is accepted too. The delimiter is a comma, or a tab or
//!   semicolon if the header line clearly uses those. Quoted fields follow RFC 4180.
//! - **Workbooks**: xlsx (also xlsm, xls, xlsb, ods). Only the first sheet is read; its first used
//!   row is the header. Identity numbers must be stored as text: a number cell has lost the last
//!   digits (`3.71002E+17`), which is reported as `ID_NUMBER_AS_NUMBER`.
//!
//! The file name's extension decides the format; without a known extension a zip or OLE header
//! means a workbook. Header names are matched ignoring case, surrounding white space, inner
//! spaces and underscores, and a leading `*`; each column accepts the English name or the Chinese
//! aliases listed below. Extra columns are ignored. Rows whose cells are all blank are skipped.
//! Row numbers in errors are those a spreadsheet program shows: the header is row 1, the first
//! data row is row 2.
//!
//! ## Caseload: households file ([`caseload::HOUSEHOLD_COLUMNS`])
//!
//! | column | aliases | required | content |
//! |---|---|---|---|
//! | `household_id` | 户编号, 户号, 家庭编号, 户籍编号 | yes | the household's number in the old system; unique in the file |
//! | `division_code` | 区划代码, 行政区划代码, 所属区划代码, 区划编码 | yes | 12-digit village/community code or 15-digit grid code |
//! | `area` | 城乡, 城乡类别, 城乡属性, 城乡类型 | yes | `urban`/城市/城镇 or `rural`/农村/乡村 |
//! | `address` | 地址, 家庭住址, 家庭地址, 住址 | no | free text |
//!
//! ## Caseload: members file ([`caseload::MEMBER_COLUMNS`])
//!
//! | column | aliases | required | content |
//! |---|---|---|---|
//! | `household_id` | 户编号, 户号, … | yes | must exist in the households file |
//! | `id_number` | 身份证号, 身份证号码, 公民身份号码, 证件号码 | yes | GB 11643 number, 18 characters (15-digit legacy numbers are converted); unique in the file |
//! | `name` | 姓名 | yes | |
//! | `relation` | 与户主关系, 家庭关系, 关系 | yes | `head`/户主/本人, `spouse`/配偶/妻/夫, `child`/子女/长子/…, `parent`/父母/父亲/母亲, `grandchild`/孙子女/孙子/…, `grandparent`/祖父母/…, `sibling`/兄弟姐妹/…, `other`/其他/儿媳/女婿 |
//! | `sex` | 性别 | no | 男/女 (`male`/`female`); checked against the identity number |
//! | `phone` | 电话, 联系电话, 手机, 手机号, 手机号码 | no | 7–20 digits, `-`, `+`, spaces |
//! | `disability_kind` | 残疾类别, 残疾类型 | no | 视力, 听力, 言语, 肢体, 智力, 精神, 多重 (or the English codes) |
//! | `disability_grade` | 残疾等级 | no | 1–4 (also 一级 … 四级); required with a kind |
//!
//! Each household must have members, exactly one of whom is the head. Sex and birth date come from
//! the identity number; a member with phone or disability columns filled gets full
//! [`PersonFacts`](jiuzhu_domain::PersonFacts) with the household's division as residence,
//! otherwise the store derives them the same way.
//!
//! ## Divisions file ([`divisions::DIVISION_COLUMNS`])
//!
//! | column | aliases | required |
//! |---|---|---|
//! | `code` | 区划代码, 行政区划代码, 代码, 统计用区划代码 | yes |
//! | `name` | 名称, 区划名称, 单位名称 | yes |
//!
//! The level follows from the code: 6 digits for province, city and county (`370000`, `371000`,
//! `371002`), 9 for a township or street (a 12-digit code ending in `000` is read as its township),
//! 12 for a village or community, 15 for a grid (village code plus a 3-digit grid number).
//!
//! # Errors
//!
//! Each [`FieldError`](jiuzhu_domain::FieldError) has the row, the column as spelt in the file, a
//! stable code and a Chinese message ending with the file name, e.g.
//! `第12行 身份证号:身份证号码校验码错误:为1,应为X(文件:members.csv)(ID_CHECK_DIGIT)`.
//! A missing or doubled column is one error at row 1. Codes: `FILE_EMPTY`, `FILE_WORKBOOK`,
//! `FILE_ENCODING`, `FILE_CSV`, `MISSING_COLUMN`, `DUPLICATE_COLUMN`, `REQUIRED`,
//! `ID_LENGTH`, `ID_CHARACTER`, `ID_BIRTH_DATE`, `ID_CHECK_DIGIT`, `ID_NUMBER_AS_NUMBER`,
//! `BIRTH_AFTER_VALID_FROM`, `DUPLICATE_ID_NUMBER` (both rows are reported),
//! `DIVISION_SHAPE`, `DIVISION_ZERO_SEGMENT`, `DIVISION_LEVEL`, `AREA_UNKNOWN`,
//! `RELATION_UNKNOWN`, `DUPLICATE_HOUSEHOLD`, `HOUSEHOLD_NOT_FOUND`, `MULTIPLE_HEADS`, `NO_HEAD`,
//! `NO_MEMBERS`, `NAME_TOO_LONG`, `SEX_UNKNOWN`, `SEX_MISMATCH`, `PHONE_INVALID`,
//! `DISABILITY_INCOMPLETE`, `DISABILITY_KIND_UNKNOWN`, `DISABILITY_GRADE_INVALID`,
//! `DUPLICATE_DIVISION`. After [`MAX_REPORTED_ERRORS`] errors the rest are only counted, in one
//! closing `TOO_MANY_ERRORS` entry.
//!
//! # Demo county
//!
//! [`demo::generate`] builds a synthetic 威海市环翠区 (371002) with its streets and towns,
//! communities, villages and grids, about 5,000 households and one account of every role. The
//! same seed always gives the same data. Accounts and passwords:
//!
//! | username | password | role | bound to |
//! |---|---|---|---|
//! | `demo_admin` | `Demo@2026-admin` | 系统管理员 | 371002 环翠区 |
//! | `clerk_huancuilou` | `Demo@2026-clerk` | 窗口受理员 | 371002001 环翠楼街道 |
//! | `clerk_jingyuan` | `Demo@2026-clerk2` | 窗口受理员 | 371002002 鲸园街道 |
//! | `assistant_xinweilu` | `Demo@2026-assist` | 村/社区协理员 | 371002001001 新威路社区 |
//! | `reviewer_huancuilou` | `Demo@2026-review` | 乡镇审核员 | 371002001 环翠楼街道 |
//! | `approver_huancui` | `Demo@2026-approve` | 县级审批员 | 371002 环翠区 |
//! | `officer_yibao` | `Demo@2026-medins` | 部门经办人 (医疗保障) | 371002 环翠区 |
//! | `auditor_huancui` | `Demo@2026-audit` | 审计员 | 371002 环翠区 |

pub mod caseload;
pub mod demo;
pub mod divisions;
mod hash;
mod report;
pub mod table;

pub use report::MAX_REPORTED_ERRORS;
pub use table::{ColumnSpec, Columns, Row, Table, TableError};

/// An uploaded or opened file: its name (the extension selects the format) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Input {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Input {
        Input {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}
