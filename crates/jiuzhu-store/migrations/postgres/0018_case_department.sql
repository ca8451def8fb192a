-- The department a case is referred to (转介, R-PR-1): set at registration from the workflow
-- file's `department`. An actor bound to a department (a department officer) reads the cases
-- of its department and no other (docs/roles.md).
ALTER TABLE cases ADD COLUMN department TEXT;
CREATE INDEX cases_department ON cases (department);

-- Data migrations that need the workflow files: the store does them at its first start after
-- this migration (sql/mod.rs, run_backfills) and removes the row. Cases registered before
-- this migration get their department from their workflow's file.
CREATE TABLE pending_backfills (
    name  TEXT PRIMARY KEY NOT NULL
);
INSERT INTO pending_backfills (name) VALUES ('case_department');
