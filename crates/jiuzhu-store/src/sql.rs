//! The SQL implementation of [`Store`](crate::Store) for SQLite and PostgreSQL (in progress).

use std::sync::Arc;

use jiuzhu_domain::Clock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    #[allow(dead_code)]
    clock: Arc<dyn Clock>,
    backend: Backend,
}

impl SqlStore {
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Opens (creating if needed) the database at `url` (`sqlite://PATH` or `postgres://…`) and
/// applies the migrations.
pub async fn connect(_url: &str, _clock: Arc<dyn Clock>) -> crate::Result<SqlStore> {
    Err(crate::StoreError::Database("not implemented yet".into()))
}
