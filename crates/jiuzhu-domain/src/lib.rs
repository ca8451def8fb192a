//! Domain types of jiuzhu (救助). Pure: no I/O, no clock reads, no database.
//!
//! Everything that a policy, a store or a web page needs to agree on lives here: identity numbers,
//! money, jurisdiction codes, persons and households with dated facts, roles and permissions, and
//! the audit hash chain.

pub mod access;
pub mod audit;
pub mod audit_export;
pub mod audit_seal;
pub mod case;
pub mod caseload;
pub mod clock;
pub mod division;
pub mod economics;
pub mod feed;
pub mod id_number;
pub mod money;
pub mod month;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod policy_revision;
pub mod registry;
pub mod user;
pub mod validation;
pub mod view;

pub use access::{
    AccessDenied, Action, Actor, CaseReach, Department, Grant, Permission, Role, Scope,
};
pub use audit::{AuditAction, AuditEntry, AuditRecord, ChainHead};
pub use clock::{Clock, FixedClock, SystemClock};
pub use division::{Division, DivisionCode, DivisionCodeError, Level};
pub use economics::{
    EconomicsInput, EconomicsRecord, HouseholdAssets, HouseholdEconomics, MemberEconomics,
    TekunFacts,
};
pub use feed::{FeedFormat, FeedKind};
pub use id_number::{IdNumber, IdNumberError, Sex};
pub use money::{Money, MoneyError};
pub use month::{Month, MonthError};
pub use registry::*;
pub use user::{Approval, NewUser, Session, User, UserId};
pub use validation::{FieldError, ValidationErrors};
pub use view::{PersonView, Sensitive};
