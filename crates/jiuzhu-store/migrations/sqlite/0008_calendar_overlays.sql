-- Working-day calendar edits: overlays an administrator records on top of the calendar shipped
-- in the binary (calendars/cn.toml). Append-only: a correction is a newer edit (a `remove`, or a
-- year block that replaces a provisional one). The effective calendar is the shipped file plus
-- `overlay` of every row in seq order (jiuzhu_workflow::WorkCalendar::load); `kind`, `day`,
-- `year` and `name` repeat what the overlay says, for lists and the audit log.
CREATE TABLE calendar_overlays (
    seq          INTEGER PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('add_holiday', 'add_workday', 'remove', 'year')),
    day          TEXT,
    year         INTEGER,
    name         TEXT NOT NULL,
    overlay      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    user_id      INTEGER,
    user_name    TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);

CREATE TRIGGER calendar_overlays_no_update BEFORE UPDATE ON calendar_overlays
BEGIN
    SELECT RAISE(ABORT, 'calendar_overlays is append-only: UPDATE refused');
END;

CREATE TRIGGER calendar_overlays_no_delete BEFORE DELETE ON calendar_overlays
BEGIN
    SELECT RAISE(ABORT, 'calendar_overlays is append-only: DELETE refused');
END;
