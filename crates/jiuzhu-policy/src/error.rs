//! Errors of the policy engine. Every error names what is wrong (file, line and parameter for a
//! policy file; the field for an input) and why, with a stable code and a Chinese message.

use chrono::NaiveDate;
use jiuzhu_domain::{FieldError, ValidationErrors};

/// A problem with policy files or with looking a parameter up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    /// The file parses but a parameter, value or source is invalid.
    #[error("{file}:{line}: parameter {param}: {message}")]
    Invalid {
        file: String,
        line: usize,
        param: String,
        message: String,
    },
    /// Two files claim the same region.
    #[error("{file}: region {region} is already defined by {other}")]
    DuplicateRegion {
        file: String,
        region: String,
        other: String,
    },
    /// No policy file covers the region (only the national defaults would apply).
    #[error("no policy file covers region {region}")]
    UnknownRegion { region: String },
    /// The region text is not a division code.
    #[error("region {region:?} is not a division code: {reason}")]
    BadRegion { region: String, reason: String },
    /// No value of the parameter is in force on the date, in the region or any of its ancestors.
    #[error("no value of parameter {param} for region {region} on {date}")]
    Missing {
        param: String,
        region: String,
        date: NaiveDate,
    },
    /// The value in force has the wrong kind for the rule asking (a policy-file mistake that the
    /// loader cannot see, e.g. a choice the rule does not know).
    #[error("parameter {param} ({file}:{line}): {message}")]
    WrongValue {
        param: String,
        file: String,
        line: usize,
        message: String,
    },
}

impl PolicyError {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Syntax { .. } => "POLICY_SYNTAX",
            PolicyError::Invalid { .. } => "POLICY_INVALID",
            PolicyError::DuplicateRegion { .. } => "POLICY_DUPLICATE_REGION",
            PolicyError::UnknownRegion { .. } => "POLICY_UNKNOWN_REGION",
            PolicyError::BadRegion { .. } => "POLICY_BAD_REGION",
            PolicyError::Missing { .. } => "POLICY_PARAMETER_MISSING",
            PolicyError::WrongValue { .. } => "POLICY_WRONG_VALUE",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            PolicyError::Syntax {
                file,
                line,
                message,
            } => format!("政策文件 {file} 第{line}行格式错误:{message}"),
            PolicyError::Invalid {
                file,
                line,
                param,
                message,
            } => format!("政策文件 {file} 第{line}行 参数 {param} 无效:{message}"),
            PolicyError::DuplicateRegion {
                file,
                region,
                other,
            } => format!("政策文件 {file} 的地区 {region} 已由 {other} 定义"),
            PolicyError::UnknownRegion { region } => {
                format!("地区 {region} 没有适用的政策文件(未知地区)")
            }
            PolicyError::BadRegion { region, reason } => {
                format!("地区“{region}”不是有效的区划代码:{reason}")
            }
            PolicyError::Missing {
                param,
                region,
                date,
            } => format!("地区 {region} 在 {date} 没有生效的参数 {param}"),
            PolicyError::WrongValue {
                param,
                file,
                line,
                message,
            } => format!("参数 {param}({file} 第{line}行)取值不适用:{message}"),
        }
    }

    /// As a field error, so callers can report policy and input problems the same way.
    pub fn to_field_error(&self) -> FieldError {
        let field = match self {
            PolicyError::Invalid { param, .. }
            | PolicyError::Missing { param, .. }
            | PolicyError::WrongValue { param, .. } => param.clone(),
            PolicyError::Syntax { file, .. } | PolicyError::DuplicateRegion { file, .. } => {
                file.clone()
            }
            PolicyError::UnknownRegion { .. } | PolicyError::BadRegion { .. } => "region".into(),
        };
        FieldError::new(field, self.code(), self.message_zh())
    }
}

/// Any error of a calculation: a policy problem or invalid input (every bad field at once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Input(#[from] ValidationErrors),
}

impl From<FieldError> for CalcError {
    fn from(e: FieldError) -> Self {
        CalcError::Input(ValidationErrors(vec![e]))
    }
}

impl CalcError {
    /// All problems as field errors (field, code, Chinese message).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            CalcError::Policy(p) => vec![p.to_field_error()],
            CalcError::Input(v) => v.0.clone(),
        }
    }

    /// One Chinese line per problem.
    pub fn message_zh(&self) -> String {
        self.field_errors()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
