//! Domain types of jiuzhu (救助). Pure: no I/O, no clock reads, no database.
//!
//! Everything that a policy, a store or a web page needs to agree on lives here: identity numbers,
//! money, jurisdiction codes, persons and households with dated facts, roles and permissions, and
//! the audit hash chain.

pub mod clock;
pub mod id_number;
pub mod money;

pub use clock::{Clock, FixedClock, SystemClock};
pub use id_number::{IdNumber, IdNumberError, Sex};
pub use money::{Money, MoneyError};
