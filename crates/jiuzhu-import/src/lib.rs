#![doc = include_str!("../../../docs/import.md")]

pub mod caseload;
pub mod demo;
pub mod demo_feeds;
pub mod divisions;
pub mod feed_formats;
mod hash;
mod report;
pub mod table;

pub use report::MAX_REPORTED_ERRORS;
pub use table::{ColumnSpec, Columns, Row, Table, TableError, TableLimits};

use std::path::PathBuf;

/// An uploaded or opened file: its name (the extension selects the format) and where its bytes
/// are. A file on disk is streamed, never read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub name: String,
    pub source: Source,
}

/// Where an [`Input`]'s bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An upload already in memory (bounded by the route's body limit).
    Bytes(Vec<u8>),
    /// A file the command line was given.
    File(PathBuf),
}

impl Input {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Input {
        Input {
            name: name.into(),
            source: Source::Bytes(bytes.into()),
        }
    }

    /// A file on disk, named by its file name.
    pub fn file(path: impl Into<PathBuf>) -> Input {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Input {
            name,
            source: Source::File(path),
        }
    }

    /// The bytes of an upload held in memory (`None` for a file on disk).
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.source {
            Source::Bytes(b) => Some(b),
            Source::File(_) => None,
        }
    }

    /// The size in bytes.
    pub fn len(&self) -> std::io::Result<u64> {
        match &self.source {
            Source::Bytes(b) => Ok(b.len() as u64),
            Source::File(p) => Ok(std::fs::metadata(p)?.len()),
        }
    }

    pub fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.len()? == 0)
    }
}
