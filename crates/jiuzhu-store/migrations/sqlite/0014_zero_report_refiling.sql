-- A village may file the month's zero report again when a later run of the same month has found
-- warnings there since its report and they have all been handled (docs/feeds.md). Reports stay
-- append-only; the newest one of a division and month is the one that counts.
DROP INDEX zero_reports_division_month;
CREATE INDEX zero_reports_division_month ON zero_reports (division, month, id);
