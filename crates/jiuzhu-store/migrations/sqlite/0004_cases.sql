-- Cases (applications and their procedure, POLICY.md §6). The workflow state machine lives in
-- the pure crate jiuzhu-workflow; the store keeps its state as JSON (`state`, a CaseState) with
-- `revision` for optimistic locking, plus what queues and scoping need as indexed columns:
-- the open steps in case_open_steps (rewritten on every transition) and the jurisdiction
-- columns. case_events (the timeline) and case_decisions are append-only.
CREATE TABLE cases (
    id                    INTEGER PRIMARY KEY NOT NULL,
    number                TEXT NOT NULL,
    workflow              TEXT NOT NULL,
    program               TEXT NOT NULL,
    household_id          INTEGER NOT NULL REFERENCES households (id),
    applicant_id          INTEGER NOT NULL REFERENCES persons (id),
    -- The township window where the application was registered (一门受理).
    division_filed        TEXT NOT NULL,
    -- The household's division: who is responsible, and the scope the case is read in.
    division_responsible  TEXT NOT NULL,
    -- The applicant's hukou lies outside the responsible county (人户分离, R-PR-6).
    hukou_elsewhere       INTEGER NOT NULL,
    staff_relative        INTEGER NOT NULL,
    urgent                INTEGER NOT NULL,
    protected             INTEGER NOT NULL,
    -- open | approved | refused
    status                TEXT NOT NULL,
    state                 TEXT NOT NULL,
    revision              INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    created_by            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_number ON cases (number);
CREATE INDEX cases_responsible ON cases (division_responsible);
CREATE INDEX cases_filed ON cases (division_filed);
CREATE INDEX cases_applicant ON cases (applicant_id);
CREATE INDEX cases_household ON cases (household_id);

-- The open steps of each case, for the task queues: roles and levels as ',a,b,' lists so a
-- queue is one indexed query, not a scan of the JSON states.
CREATE TABLE case_open_steps (
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    step         TEXT NOT NULL,
    label        TEXT NOT NULL,
    roles        TEXT NOT NULL,
    level        TEXT NOT NULL,
    also_levels  TEXT NOT NULL,
    department   TEXT,
    division     TEXT NOT NULL,
    opened_on    TEXT NOT NULL,
    due          TEXT,
    not_before   TEXT,
    PRIMARY KEY (case_id, step)
);
CREATE INDEX case_open_steps_level_due ON case_open_steps (level, due);
CREATE INDEX case_open_steps_division ON case_open_steps (division);

-- The timeline: who did what, when, with which opinion, investigators and attachments
-- (谁入户、谁调查、谁签字、谁负责, R-PR-8). Append-only.
CREATE TABLE case_events (
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    seq            INTEGER NOT NULL,
    step           TEXT NOT NULL,
    label          TEXT NOT NULL,
    action         TEXT NOT NULL,
    user_id        INTEGER,
    user_name      TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    at             TEXT NOT NULL,
    on_date        TEXT NOT NULL,
    opinion        TEXT NOT NULL,
    investigators  TEXT NOT NULL,
    attachments    TEXT NOT NULL,
    reasons        TEXT NOT NULL,
    late           INTEGER NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Decisions: the amount the policy engine computed, its explanation, the policy versions and
-- the input it computed from. Append-only (a later decision on the same case is a new row).
CREATE TABLE case_decisions (
    id                 INTEGER PRIMARY KEY NOT NULL,
    case_id            INTEGER NOT NULL REFERENCES cases (id),
    outcome            TEXT NOT NULL CHECK (outcome IN ('approved', 'refused')),
    decided_on         TEXT NOT NULL,
    monthly_amount     INTEGER NOT NULL,
    start_month        TEXT,
    explanation        TEXT NOT NULL,
    policy_versions    TEXT NOT NULL,
    input_snapshot     TEXT NOT NULL,
    reasons            TEXT NOT NULL,
    decided_by         TEXT NOT NULL,
    recorded_at        TEXT NOT NULL
);
CREATE INDEX case_decisions_case ON case_decisions (case_id);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only: UPDATE refused');
END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only: DELETE refused');
END;
CREATE TRIGGER case_decisions_no_update BEFORE UPDATE ON case_decisions
BEGIN
    SELECT RAISE(ABORT, 'case_decisions is append-only: UPDATE refused');
END;
CREATE TRIGGER case_decisions_no_delete BEFORE DELETE ON case_decisions
BEGIN
    SELECT RAISE(ABORT, 'case_decisions is append-only: DELETE refused');
END;
