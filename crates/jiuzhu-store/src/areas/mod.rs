//! The store by area: one trait per kind of record, each small enough to read. [`crate::Store`] is all
//! of them together with the database's own health; callers bring the traits into scope with
//! `use jiuzhu_store::prelude::*`.

mod accounts;
mod audit;
mod cases;
mod parameters;
mod registry;
mod unit;
mod verification;

pub use accounts::{AccessStore, SessionStore, UserStore};
pub use audit::AuditStore;
pub use cases::{CaseStore, ChangeStore, DocumentStore, ReserveFundStore};
pub use parameters::{CalendarStore, PolicyStore};
pub use registry::{
    CaseloadImportStore, DivisionStore, EconomicsStore, HouseholdStore, PersonStore,
};
pub use unit::WriteUnit;
pub use verification::{
    DeliveryStore, FeedSourceStore, InboxStore, OutreachStore, VerificationReportStore,
    WarningStore,
};
