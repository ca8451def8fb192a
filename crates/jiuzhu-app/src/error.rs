//! The one error of the use-cases. It says what went wrong in the terms of the platform, never in
//! those of HTTP: the web maps each variant to its status and envelope, the command line prints
//! the Chinese message.

use jiuzhu_domain::{AccessDenied, FieldError, ValidationErrors};
use jiuzhu_store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// What the store refused or could not do (not found, conflict, duplicate, out of scope,
    /// denied, refused, database failure), with its cause kept. Input the store finds invalid
    /// is [`Error::Invalid`], as the use-cases' own checks are.
    #[error(transparent)]
    Store(StoreError),
    /// The record does not exist or lies outside the actor's jurisdiction (not distinguished).
    #[error("记录不存在或不在您的管辖范围内")]
    NotFound,
    /// The input breaks a rule; every field in error is named, all at once.
    #[error("输入有误:{}", .0.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(";"))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// What the request needs is not there (a region without policy parameters, a calendar that
    /// does not cover the period): the request cannot be served as it is, said in Chinese.
    #[error("{0}")]
    Unserviceable(String),
    /// The actor may not do this (a step of another role, level or department; a user above the
    /// county acting on a case), said in Chinese, with the field concerned when there is one.
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: String,
        fields: Vec<FieldError>,
    },
    /// What was asked cannot be done as things stand (a step not open, a record missing from the
    /// file, a parameter the policy lacks), said in Chinese with its code and the fields
    /// concerned.
    #[error("{message}")]
    Rejected {
        code: &'static str,
        message: String,
        fields: Vec<FieldError>,
    },
    /// A file over its size limit (bytes), with the file's size when known.
    #[error("文件超过大小限制")]
    TooLarge { limit: u64, size: Option<u64> },
    /// Too many requests of this kind at once (password hashing): try again in a second.
    #[error("系统繁忙,请稍后再试")]
    Busy,
    /// A failure of the platform itself (a stored parameter that no longer applies, a lock
    /// poisoned): shown to people generically, logged with its cause.
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    pub fn invalid(fields: Vec<FieldError>) -> Error {
        Error::Invalid(fields)
    }

    pub fn internal(context: impl Into<String>) -> Error {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    pub fn internal_from(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl Error {
    /// A record the platform wrote that no longer reads (a case state, a JSON column).
    pub fn internal_json(source: serde_json::Error) -> Error {
        Error::internal_from("a stored record does not read", source)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(v) => Error::Invalid(v.0),
            other => Error::Store(other),
        }
    }
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Invalid(e.0)
    }
}
