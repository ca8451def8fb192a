//! Bounded readers for the files that reach jiuzhu from outside: clerks' spreadsheets, departments'
//! deliveries. Every reader here has limits stated in [`limits`], checks them while it streams,
//! and answers input over a limit with a [`LimitExceeded`] naming the limit in Chinese — never an
//! abort and never memory in proportion to what a file *declares*.
//!
//! - [`xlsx`]: the first sheet of an Office Open XML workbook, streamed row by row from the zip.
//! - [`csv_guard`]: a reader adapter bounding CSV records (a quote left open cannot swallow the
//!   rest of a file) and counting them.
//! - [`text`]: encoding detection (UTF-8, UTF-16 with BOM, GB18030/GBK) and streaming decoding to
//!   UTF-8.
//! - [`bounded`]: a reader that refuses more than a given number of bytes.
//!
//! The crate does no I/O of its own: callers hand it readers.

pub mod bounded;
pub mod csv_guard;
pub mod limits;
pub mod text;
pub mod xlsx;

pub use limits::{Limit, LimitExceeded};

#[cfg(feature = "testing")]
pub mod testing;
