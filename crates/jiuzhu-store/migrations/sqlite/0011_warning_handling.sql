-- Handling the monthly comparison's warnings (docs/feeds.md): what the closing visit recorded,
-- and the communities' monthly zero reports (零报告, POLICY.md R-DM-3).

-- The date of the home visit or check behind a closure, and the household's documents cited
-- (JSON array of document ids); both optional.
ALTER TABLE warnings ADD COLUMN visit_date TEXT;
ALTER TABLE warnings ADD COLUMN attachments TEXT;
-- The inbox filters by month within a township; the dashboard groups a month by kind.
CREATE INDEX warnings_month_division ON warnings (month, division);

-- A village or community declares, for a month, that it has no warnings or has handled them
-- all. A statement of fact at a time, so the database keeps it as filed: append-only, one per
-- division and month.
CREATE TABLE zero_reports (
    id            INTEGER PRIMARY KEY NOT NULL,
    division      TEXT NOT NULL,
    month         TEXT NOT NULL,
    -- no_warnings (本月无预警) | all_handled (预警已全部处理)
    kind          TEXT NOT NULL,
    -- The month's warnings in the division when it was filed (all closed).
    warnings      INTEGER NOT NULL,
    note          TEXT NOT NULL,
    filed_by_id   INTEGER,
    filed_by      TEXT NOT NULL,
    filed_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX zero_reports_division_month ON zero_reports (division, month);
CREATE INDEX zero_reports_month ON zero_reports (month);

CREATE TRIGGER zero_reports_no_update BEFORE UPDATE ON zero_reports
BEGIN
    SELECT RAISE(ABORT, 'zero_reports is append-only: UPDATE refused');
END;
CREATE TRIGGER zero_reports_no_delete BEFORE DELETE ON zero_reports
BEGIN
    SELECT RAISE(ABORT, 'zero_reports is append-only: DELETE refused');
END;
