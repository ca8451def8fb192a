use std::path::PathBuf;

/// Why a document could not be rendered. `code()` is the machine code, `message_zh()` the text for
/// users.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("no CJK font found; tried: {}", display_paths(.tried))]
    FontNotFound { tried: Vec<PathBuf> },
    #[error("cannot read font file {path}: {source}")]
    FontRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("font file {path} is not a usable TrueType/OpenType font: {reason}")]
    FontInvalid { path: PathBuf, reason: String },
    #[error("font file {path} lacks the glyphs of Chinese text with digits and Latin letters")]
    FontNotChinese { path: PathBuf },
    #[error("font {font} has no glyph for {chars:?} in field {field}")]
    MissingGlyphs {
        font: String,
        field: String,
        chars: String,
    },
    #[error("notice row {row}: identity number {value:?} is not masked")]
    UnmaskedIdNumber { row: usize, value: String },
    #[error("field {field} is empty")]
    EmptyField { field: String },
    #[error("a refusal needs at least one reason")]
    NoReasons,
    #[error("notice period ends ({to}) before it starts ({from})")]
    BadPeriod {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
    #[error("font subsetting failed: {0}")]
    Subset(String),
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl PrintError {
    pub fn code(&self) -> &'static str {
        match self {
            PrintError::FontNotFound { .. } => "PRINT_FONT_NOT_FOUND",
            PrintError::FontRead { .. } => "PRINT_FONT_READ",
            PrintError::FontInvalid { .. } => "PRINT_FONT_INVALID",
            PrintError::FontNotChinese { .. } => "PRINT_FONT_NOT_CHINESE",
            PrintError::MissingGlyphs { .. } => "PRINT_MISSING_GLYPHS",
            PrintError::UnmaskedIdNumber { .. } => "PRINT_UNMASKED_ID_NUMBER",
            PrintError::EmptyField { .. } => "PRINT_EMPTY_FIELD",
            PrintError::NoReasons => "PRINT_NO_REASONS",
            PrintError::BadPeriod { .. } => "PRINT_BAD_PERIOD",
            PrintError::Subset(_) => "PRINT_SUBSET",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            PrintError::FontNotFound { tried } => format!(
                "未找到中文字体，已尝试：{}。请安装 fonts-wqy-microhei 或用 --font / JIUZHU_FONT 指定字体文件",
                display_paths(tried)
            ),
            PrintError::FontRead { path, .. } => format!("无法读取字体文件 {}", path.display()),
            PrintError::FontInvalid { path, .. } => {
                format!("字体文件 {} 不是可用的 TrueType/OpenType 字体", path.display())
            }
            PrintError::FontNotChinese { path } => {
                format!("字体文件 {} 缺少中文、数字或拉丁字母字形", path.display())
            }
            PrintError::MissingGlyphs { font, field, chars } => {
                format!("字体 {font} 缺少字符“{chars}”（字段 {field}），请换用覆盖更全的字体")
            }
            PrintError::UnmaskedIdNumber { row, .. } => {
                format!("第 {row} 行的身份证号未遮蔽，公示名单不得显示完整身份证号")
            }
            PrintError::EmptyField { field } => format!("字段 {field} 不能为空"),
            PrintError::NoReasons => "不予救助决定书必须写明理由".into(),
            PrintError::BadPeriod { from, to } => {
                format!("公示期结束日 {to} 早于开始日 {from}")
            }
            PrintError::Subset(_) => "字体子集化失败".into(),
        }
    }
}
