-- Verification reports of applications (核对报告, 逢进必核, R-PR-3, R-VF-2): the platform's own
-- report for a case's verification step, generated from the latest accepted delivery of each
-- feed kind. A report is evidence in a case file, so the database refuses to change or remove
-- one; a newer report is a new row (the latest is the one the step uses).
CREATE TABLE verification_reports (
    id               BIGINT PRIMARY KEY NOT NULL,
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    household_id     BIGINT NOT NULL,
    -- The case's responsible division (scope, like the case itself).
    division         TEXT NOT NULL,
    -- The day the household and the policy were read as of.
    as_of            TEXT NOT NULL,
    generated_at     TEXT NOT NULL,
    generated_by_id  BIGINT,
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

CREATE FUNCTION verification_reports_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER verification_reports_no_update BEFORE UPDATE ON verification_reports
    FOR EACH ROW EXECUTE FUNCTION verification_reports_append_only();
CREATE TRIGGER verification_reports_no_delete BEFORE DELETE ON verification_reports
    FOR EACH ROW EXECUTE FUNCTION verification_reports_append_only();
CREATE TRIGGER verification_reports_no_truncate BEFORE TRUNCATE ON verification_reports
    FOR EACH STATEMENT EXECUTE FUNCTION verification_reports_append_only();
