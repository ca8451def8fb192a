-- Economic-status verification (核对): departments' deliveries, the monthly comparison's runs
-- and the warnings they raise (docs/feeds.md). Deliveries and their rejected rows are
-- provenance (R-VF-2: every finding cites its source record and data date), so the database
-- refuses to change or remove them, as for audit_events. Warnings change only by being closed.
CREATE TABLE feed_deliveries (
    id                 BIGINT PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL,
    source             TEXT NOT NULL,
    data_date          TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    bytes              BIGINT NOT NULL,
    rows_total         BIGINT NOT NULL,
    rows_accepted      BIGINT NOT NULL,
    rows_rejected      BIGINT NOT NULL,
    -- accepted | refused
    status             TEXT NOT NULL,
    -- The source's rejection policy applied (keep_good_rows | refuse_above:N).
    rejection_policy   TEXT NOT NULL,
    imported_by_id     BIGINT,
    imported_by        TEXT NOT NULL,
    imported_at        TEXT NOT NULL,
    -- Where the delivered bytes are kept, relative to the data directory (feeds/<sha256>.csv).
    content_key        TEXT NOT NULL
);
CREATE INDEX feed_deliveries_kind_date ON feed_deliveries (kind, data_date);

-- The first rejected rows of each delivery (the cap is the store's; all are counted above).
CREATE TABLE delivery_rejections (
    delivery_id  BIGINT NOT NULL REFERENCES feed_deliveries (id),
    seq          BIGINT NOT NULL,
    row_number   BIGINT NOT NULL,
    column_name  TEXT,
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (delivery_id, seq)
);

CREATE FUNCTION feed_provenance_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;

CREATE TRIGGER feed_deliveries_no_update BEFORE UPDATE ON feed_deliveries
    FOR EACH ROW EXECUTE FUNCTION feed_provenance_append_only();
CREATE TRIGGER feed_deliveries_no_delete BEFORE DELETE ON feed_deliveries
    FOR EACH ROW EXECUTE FUNCTION feed_provenance_append_only();
CREATE TRIGGER feed_deliveries_no_truncate BEFORE TRUNCATE ON feed_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION feed_provenance_append_only();
CREATE TRIGGER delivery_rejections_no_update BEFORE UPDATE ON delivery_rejections
    FOR EACH ROW EXECUTE FUNCTION feed_provenance_append_only();
CREATE TRIGGER delivery_rejections_no_delete BEFORE DELETE ON delivery_rejections
    FOR EACH ROW EXECUTE FUNCTION feed_provenance_append_only();
CREATE TRIGGER delivery_rejections_no_truncate BEFORE TRUNCATE ON delivery_rejections
    FOR EACH STATEMENT EXECUTE FUNCTION feed_provenance_append_only();

-- One run of the monthly comparison: which deliveries it used and what it found.
CREATE TABLE verification_runs (
    id              BIGINT PRIMARY KEY NOT NULL,
    month           TEXT NOT NULL,
    -- The division the run was limited to (the caseload under it), or the runner's scope.
    division        TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    -- JSON array of delivery ids.
    deliveries      TEXT NOT NULL,
    -- JSON object: warning kind -> count.
    counts          TEXT NOT NULL,
    households      BIGINT NOT NULL,
    warnings        BIGINT NOT NULL,
    run_by_id       BIGINT,
    run_by          TEXT NOT NULL
);
CREATE INDEX verification_runs_month ON verification_runs (month);

CREATE TABLE warnings (
    id            BIGINT PRIMARY KEY NOT NULL,
    run_id        BIGINT NOT NULL REFERENCES verification_runs (id),
    month         TEXT NOT NULL,
    -- No foreign key: warnings are written only by a run, for the households its caseload read
    -- returned; checking 100k keys against the registry would cost the insert a random index
    -- lookup per row.
    household_id  BIGINT NOT NULL,
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
    closed_by_id  BIGINT,
    closed_by     TEXT,
    closed_at     TEXT,
    row_version   BIGINT NOT NULL
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
    registry_seq  BIGINT NOT NULL,
    households    BIGINT NOT NULL,
    members       BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    built_at      TEXT NOT NULL,
    PRIMARY KEY (scope, as_of)
);
