//! Jurisdiction nodes from a spreadsheet: one row per node, `code,name`. The level follows from
//! the code (6 digits county and above, 9 township, 12 village, 15 grid; a 12-digit code ending in
//! `000` is the township).

use std::collections::HashMap;

use jiuzhu_domain::{DivisionCode, ValidationErrors};

use crate::report::Report;
use crate::table::{ColumnSpec, Columns, Table, TableLimits};
use crate::Input;

/// Longest accepted node name, in characters.
const MAX_NAME_CHARS: usize = 60;

/// Columns of a divisions file.
pub const DIVISION_COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        key: "code",
        label_zh: "区划代码",
        aliases: &[
            "code",
            "division_code",
            "区划代码",
            "行政区划代码",
            "代码",
            "统计用区划代码",
        ],
        required: true,
    },
    ColumnSpec {
        key: "name",
        label_zh: "名称",
        aliases: &["name", "名称", "区划名称", "单位名称"],
        required: true,
    },
];

/// The command line: every division of a province (all of China has about 700,000 villages).
pub const COMMAND_LINE: TableLimits = TableLimits {
    data_rows: 1_000_000,
    file_bytes: 256 << 20,
};
/// An upload on the divisions page: a city's tree many times over.
pub const UPLOAD: TableLimits = TableLimits {
    data_rows: 200_000,
    file_bytes: 16 << 20,
};

/// Reads and validates a divisions file. Rows keep file order (the store does not need parents
/// first); the same code twice (also as `371002001` and `371002001000`) is an error.
pub fn parse(
    input: &Input,
    limits: TableLimits,
) -> Result<Vec<(DivisionCode, String)>, ValidationErrors> {
    let mut report = Report::new();
    let mut table = match Table::read(input, limits) {
        Ok(t) => t,
        Err(e) => {
            report.push(0, e.into());
            return Err(report.finish());
        }
    };
    let cols = match Columns::resolve(&table, DIVISION_COLUMNS) {
        Ok(c) => c,
        Err(errors) => {
            for e in errors {
                report.push(0, e);
            }
            return Err(report.finish());
        }
    };
    let (file, headers) = (table.name().to_string(), table.headers().to_vec());
    let file = file.as_str();
    let (c_code, c_name) = (cols.index(0), cols.index(1));
    let mut out: Vec<(DivisionCode, String)> = Vec::new();
    let mut first_row: HashMap<DivisionCode, usize> = HashMap::new();
    let result = table.for_each_row(|row| {
        let n = row.number;
        crate::caseload::report_control_characters(&mut report, 0, file, &headers, row);
        let code_text = c_code.map(|c| row.get(c)).unwrap_or_default();
        let name = c_name.map(|c| row.get(c)).unwrap_or_default();
        let code = if code_text.is_empty() {
            report.row(0, file, n, cols.name(0), "REQUIRED", "区划代码不能为空");
            None
        } else {
            match DivisionCode::parse(&code_text) {
                Ok(c) => Some(c),
                Err(e) => {
                    report.row(0, file, n, cols.name(0), e.code(), e.message_zh());
                    None
                }
            }
        };
        if name.is_empty() {
            report.row(0, file, n, cols.name(1), "REQUIRED", "名称不能为空");
        } else if name.chars().count() > MAX_NAME_CHARS {
            report.row(
                0,
                file,
                n,
                cols.name(1),
                "NAME_TOO_LONG",
                format!("名称超过{MAX_NAME_CHARS}个字"),
            );
        }
        if let Some(code) = code {
            if let Some(&first) = first_row.get(&code) {
                report.row(
                    0,
                    file,
                    n,
                    cols.name(0),
                    "DUPLICATE_DIVISION",
                    format!("区划代码“{code_text}”与第{first}行重复"),
                );
            } else {
                first_row.insert(code.clone(), n);
                if !name.is_empty() {
                    out.push((code, name.into_owned()));
                }
            }
        }
    });
    if let Err(e) = result {
        report.push(0, e.into());
    }
    if report.is_empty() {
        Ok(out)
    } else {
        Err(report.finish())
    }
}
