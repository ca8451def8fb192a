//! Validation errors that name the field (and row, for imports) and give the reason in Chinese
//! for users and as a stable code for programs.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// 1-based data row in an imported file (the header is row 1, so data starts at 2), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// The field or column, e.g. `id_number` or `members[2].id_number`.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            row: None,
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn at_row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }

    /// The error as a page shows it to people: the row and column of a file (the column as the
    /// file's own header names it) and the Chinese reason, without the code for programs; a
    /// form's internal field name (ASCII, e.g. `new_password`) is left out, since the reason
    /// names the field in Chinese.
    pub fn for_people(&self) -> String {
        let internal = self.field.is_ascii();
        match (self.row, internal) {
            (Some(r), _) if self.field.is_empty() => format!("第{r}行:{}", self.message),
            (Some(r), _) => format!("第{r}行 {}:{}", self.field, self.message),
            (None, true) => self.message.clone(),
            (None, false) => format!("{}:{}", self.field, self.message),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(r) => write!(
                f,
                "第{}行 {}:{}({})",
                r, self.field, self.message, self.code
            ),
            None => write!(f, "{}:{}({})", self.field, self.message, self.code),
        }
    }
}

/// Several field errors at once, so a form or a file can be corrected in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, thiserror::Error)]
#[error("{} validation error(s), first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        ValidationErrors(vec![e])
    }
}
