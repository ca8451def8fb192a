-- Economic-status verification (核对): departments' deliveries, the monthly comparison's runs
-- and the warnings they raise (docs/feeds.md). Deliveries and their rejected rows are
-- provenance (R-VF-2: every finding cites its source record and data date), so the database
-- refuses to change or remove them, as for audit_events. Warnings change only by being closed.
CREATE TABLE feed_deliveries (
    id                 INTEGER PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL,
    source             TEXT NOT NULL,
    data_date          TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    bytes              INTEGER NOT NULL,
    rows_total         INTEGER NOT NULL,
    rows_accepted      INTEGER NOT NULL,
    rows_rejected      INTEGER NOT NULL,
    -- accepted | refused
    status             TEXT NOT NULL,
    -- The source's rejection policy applied (keep_good_rows | refuse_above:N).
    rejection_policy   TEXT NOT NULL,
    imported_by_id     INTEGER,
    imported_by        TEXT NOT NULL,
    imported_at        TEXT NOT NULL,
    -- Where the delivered bytes are kept, relative to the data directory (feeds/<sha256>.csv).
    content_key        TEXT NOT NULL
);
CREATE INDEX feed_deliveries_kind_date ON feed_deliveries (kind, data_date);

-- The first rejected rows of each delivery (the cap is the store's; all are counted above).
CREATE TABLE delivery_rejections (
    delivery_id  INTEGER NOT NULL REFERENCES feed_deliveries (id),
    seq          INTEGER NOT NULL,
    row_number   INTEGER NOT NULL,
    column_name  TEXT,
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (delivery_id, seq)
);

CREATE TRIGGER feed_deliveries_no_update BEFORE UPDATE ON feed_deliveries
BEGIN
    SELECT RAISE(ABORT, 'feed_deliveries is append-only: UPDATE refused');
END;
CREATE TRIGGER feed_deliveries_no_delete BEFORE DELETE ON feed_deliveries
BEGIN
    SELECT RAISE(ABORT, 'feed_deliveries is append-only: DELETE refused');
END;
CREATE TRIGGER delivery_rejections_no_update BEFORE UPDATE ON delivery_rejections
BEGIN
    SELECT RAISE(ABORT, 'delivery_rejections is append-only: UPDATE refused');
END;
CREATE TRIGGER delivery_rejections_no_delete BEFORE DELETE ON delivery_rejections
BEGIN
    SELECT RAISE(ABORT, 'delivery_rejections is append-only: DELETE refused');
END;

-- One run of the monthly comparison: which deliveries it used and what it found.
CREATE TABLE verification_runs (
    id              INTEGER PRIMARY KEY NOT NULL,
    month           TEXT NOT NULL,
    -- The division the run was limited to (the caseload under it), or the runner's scope.
    division        TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    -- JSON array of delivery ids.
    deliveries      TEXT NOT NULL,
    -- JSON object: warning kind -> count.
    counts          TEXT NOT NULL,
    households      INTEGER NOT NULL,
    warnings        INTEGER NOT NULL,
    run_by_id       INTEGER,
    run_by          TEXT NOT NULL
);
CREATE INDEX verification_runs_month ON verification_runs (month);

CREATE TABLE warnings (
    id            INTEGER PRIMARY KEY NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES verification_runs (id),
    month         TEXT NOT NULL,
    -- No foreign key: warnings are written only by a run, for the households its caseload read
    -- returned; checking 100k keys against the registry would cost the insert a random index
    -- lookup per row.
    household_id  INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    -- The household's division (scope) and its township (who handles the warning).
    division      TEXT NOT NULL,
    township      TEXT NOT NULL,
    due           TEXT NOT NULL,
    -- open | closed
    status        TEXT NOT NULL,
    -- JSON: delivery, row, member (masked id), value, threshold, records, data date.
    evidence      TEXT NOT NULL,
    -- no_effect | adjust | suspend | stop | refer
    result        TEXT,
    note          TEXT,
    closed_by_id  INTEGER,
    closed_by     TEXT,
    closed_at     TEXT,
    row_version   INTEGER NOT NULL
);
CREATE UNIQUE INDEX warnings_run_household_kind ON warnings (run_id, household_id, kind);
CREATE INDEX warnings_township_status ON warnings (township, status);

-- A compact copy of the caseload as the comparison reads it (households with their members'
-- identity keys on a date), so a month's run does not re-join a province's registry. Derived
-- data: valid while no registry-changing audit event is newer than registry_seq; rebuilt
-- otherwise. Not a record of anything, so it is replaced freely.
CREATE TABLE caseload_snapshots (
    scope         TEXT NOT NULL,
    as_of         TEXT NOT NULL,
    registry_seq  INTEGER NOT NULL,
    households    INTEGER NOT NULL,
    members       INTEGER NOT NULL,
    data          BLOB NOT NULL,
    built_at      TEXT NOT NULL,
    PRIMARY KEY (scope, as_of)
);
