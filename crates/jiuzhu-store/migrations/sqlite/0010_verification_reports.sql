-- Verification reports of applications (核对报告, 逢进必核, R-PR-3, R-VF-2): the platform's own
-- report for a case's verification step, generated from the latest accepted delivery of each
-- feed kind. A report is evidence in a case file, so the database refuses to change or remove
-- one; a newer report is a new row (the latest is the one the step uses).
CREATE TABLE verification_reports (
    id               INTEGER PRIMARY KEY NOT NULL,
    case_id          INTEGER NOT NULL REFERENCES cases (id),
    household_id     INTEGER NOT NULL,
    -- The case's responsible division (scope, like the case itself).
    division         TEXT NOT NULL,
    -- The day the household and the policy were read as of.
    as_of            TEXT NOT NULL,
    generated_at     TEXT NOT NULL,
    generated_by_id  INTEGER,
    generated_by     TEXT NOT NULL,
    -- JSON array of the feed_deliveries ids the report read.
    delivery_ids     TEXT NOT NULL,
    -- pass | check | fail (符合 / 需核实 / 不符合).
    verdict          TEXT NOT NULL,
    -- The report as JSON text, exactly the bytes sha256 is over.
    report           TEXT NOT NULL,
    sha256           TEXT NOT NULL
);
CREATE INDEX verification_reports_case ON verification_reports (case_id);

CREATE TRIGGER verification_reports_no_update BEFORE UPDATE ON verification_reports
BEGIN
    SELECT RAISE(ABORT, 'verification_reports is append-only: UPDATE refused');
END;
CREATE TRIGGER verification_reports_no_delete BEFORE DELETE ON verification_reports
BEGIN
    SELECT RAISE(ABORT, 'verification_reports is append-only: DELETE refused');
END;
