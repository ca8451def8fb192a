//! Collecting row errors with a cap, so that a wrong file (say the members file given as the
//! households file) produces a readable report instead of a million lines.

use jiuzhu_domain::{FieldError, ValidationErrors};

/// How many row errors are reported before the rest are only counted.
pub const MAX_REPORTED_ERRORS: usize = 1000;

pub(crate) struct Report {
    /// (file order, error): file order keeps the households file's errors before the members'.
    errors: Vec<(u8, FieldError)>,
    suppressed: usize,
    cap: usize,
}

impl Report {
    pub(crate) fn new() -> Report {
        Report {
            errors: Vec::new(),
            suppressed: 0,
            cap: MAX_REPORTED_ERRORS,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.suppressed == 0
    }

    /// Records an error at `row` of file number `file` (0, 1, …) named `file_name`. The file name
    /// is appended to the Chinese message so that a report mixing two files stays unambiguous.
    pub(crate) fn row(
        &mut self,
        file: u8,
        file_name: &str,
        row: usize,
        field: &str,
        code: &str,
        message: impl AsRef<str>,
    ) {
        if self.errors.len() >= self.cap {
            self.suppressed += 1;
            return;
        }
        let message = format!("{}(文件:{})", message.as_ref(), file_name);
        self.errors
            .push((file, FieldError::new(field, code, message).at_row(row)));
    }

    /// Adds an error built elsewhere (missing columns, unreadable files).
    pub(crate) fn push(&mut self, file: u8, e: FieldError) {
        if self.errors.len() >= self.cap {
            self.suppressed += 1;
            return;
        }
        self.errors.push((file, e));
    }

    /// The errors ordered by file and row, plus one closing entry counting those not listed.
    pub(crate) fn finish(mut self) -> ValidationErrors {
        // Stable: errors of the same row keep the order in which the columns were checked.
        self.errors
            .sort_by_key(|(file, e)| (*file, e.row.unwrap_or(0)));
        let mut out: Vec<FieldError> = self.errors.into_iter().map(|(_, e)| e).collect();
        if self.suppressed > 0 {
            out.push(FieldError::new(
                "",
                "TOO_MANY_ERRORS",
                format!(
                    "另有{}处错误未列出(最多列出{}处),请先改正以上错误后重新导入",
                    self.suppressed, self.cap
                ),
            ));
        }
        ValidationErrors(out)
    }
}
