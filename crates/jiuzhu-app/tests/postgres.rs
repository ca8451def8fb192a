//! The use-case suite on PostgreSQL (`JIUZHU_TEST_PG_URL`; without it the cases fail).

mod suite;

use_case_tests!(suite::Db::postgres);
