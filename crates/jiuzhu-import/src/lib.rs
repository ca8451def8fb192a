#![doc = include_str!("../../../docs/import.md")]

pub mod caseload;
pub mod demo;
pub mod demo_feeds;
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
