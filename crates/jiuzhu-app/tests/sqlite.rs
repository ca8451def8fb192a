//! The use-case suite on SQLite: each case gets a new database file in a temporary directory.

mod suite;

use_case_tests!(suite::Db::sqlite);
