-- jiuzhu schema, SQLite. The PostgreSQL schema (migrations/postgres) has the same tables and
-- columns with the same representations, so that one set of SQL serves both backends:
--   ids INTEGER (64-bit), flags INTEGER 0/1, dates TEXT 'YYYY-MM-DD', timestamps TEXT RFC 3339 UTC
--   with microseconds (written from the injected clock, never by the database), JSON as TEXT.
-- Ids are allocated by the store inside its serialized write transaction (MAX(id) + 1), so bulk
-- imports know the ids of the rows they insert without reading them back.

-- The jurisdiction tree. A node's parent is not stored: it is the nearest ancestor code that
-- exists, computed on read, so nodes may be added in any order.
CREATE TABLE divisions (
    code        TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Persons: the current version of each person's facts. Superseded versions are in person_history.
CREATE TABLE persons (
    id                  INTEGER PRIMARY KEY NOT NULL,
    id_number           TEXT NOT NULL,
    name                TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    hukou_division      TEXT,
    residence_division  TEXT NOT NULL REFERENCES divisions (code),
    phone               TEXT,
    disability_kind     TEXT,
    disability_grade    INTEGER,
    serious_illness     INTEGER NOT NULL,
    illness_note        TEXT,
    education           TEXT NOT NULL,
    employment          TEXT NOT NULL,
    work_ability        TEXT NOT NULL,
    self_care           TEXT,
    bank_account        TEXT,
    valid_from          TEXT NOT NULL,
    row_version         INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    recorded_by         TEXT NOT NULL
);
CREATE UNIQUE INDEX persons_id_number ON persons (id_number);
CREATE INDEX persons_residence ON persons (residence_division);

-- Superseded versions: facts (PersonFacts as JSON) in force from valid_from until valid_to.
CREATE TABLE person_history (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    valid_from   TEXT NOT NULL,
    valid_to     TEXT NOT NULL,
    facts        TEXT NOT NULL,
    row_version  INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    recorded_by  TEXT NOT NULL
);
CREATE INDEX person_history_person ON person_history (person_id, valid_from);

CREATE TABLE households (
    id           INTEGER PRIMARY KEY NOT NULL,
    code         TEXT NOT NULL,
    address      TEXT NOT NULL,
    division     TEXT NOT NULL REFERENCES divisions (code),
    area         TEXT NOT NULL,
    source_ref   TEXT,
    valid_from   TEXT NOT NULL,
    row_version  INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    recorded_by  TEXT NOT NULL
);
CREATE UNIQUE INDEX households_code ON households (code);
CREATE INDEX households_division ON households (division);

CREATE TABLE household_history (
    id            INTEGER PRIMARY KEY,
    household_id  INTEGER NOT NULL REFERENCES households (id),
    valid_from    TEXT NOT NULL,
    valid_to      TEXT NOT NULL,
    facts         TEXT NOT NULL,
    row_version   INTEGER NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX household_history_household ON household_history (household_id, valid_from);

-- The last sequence number handed out per division for generated household codes (H + division
-- + sequence).
CREATE TABLE household_code_seq (
    division  TEXT PRIMARY KEY NOT NULL,
    last      INTEGER NOT NULL
);

-- Dated membership: a member from joined_on (inclusive) until left_on (exclusive).
CREATE TABLE memberships (
    id            INTEGER PRIMARY KEY NOT NULL,
    household_id  INTEGER NOT NULL REFERENCES households (id),
    person_id     INTEGER NOT NULL REFERENCES persons (id),
    relation      TEXT NOT NULL,
    joined_on     TEXT NOT NULL,
    left_on       TEXT,
    join_reason   TEXT,
    leave_reason  TEXT,
    created_at    TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX memberships_household ON memberships (household_id);
CREATE INDEX memberships_person ON memberships (person_id);
-- At most one open membership per person, whatever the application does.
CREATE UNIQUE INDEX memberships_one_open ON memberships (person_id) WHERE left_on IS NULL;

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY NOT NULL,
    username              TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    role                  TEXT NOT NULL,
    department            TEXT,
    division              TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    must_change_password  INTEGER NOT NULL,
    failed_logins         INTEGER NOT NULL,
    locked_until          TEXT,
    active                INTEGER NOT NULL,
    row_version           INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE INDEX users_division ON users (division);

-- Sessions by SHA-256 of the cookie token (the token itself is never stored).
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    origin      TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen);

-- The audit log: append-only, SM3 hash chain (jiuzhu_domain::audit::chain_hash).
-- before_data/after_data hold the JSON text of the record before and after a write.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY NOT NULL,
    at           TEXT NOT NULL,
    actor_id     INTEGER,
    actor_name   TEXT NOT NULL,
    origin       TEXT NOT NULL,
    action       TEXT NOT NULL,
    record_kind  TEXT NOT NULL,
    record_id    TEXT,
    division     TEXT,
    before_data  TEXT,
    after_data   TEXT,
    detail       TEXT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_events_division ON audit_events (division);
CREATE INDEX audit_events_record ON audit_events (record_kind, record_id);

-- The head of the chain (last seq and hash). Every write transaction reads and advances it; on
-- PostgreSQL it is also the lock (SELECT … FOR UPDATE) that serializes writers, SQLite serializes
-- them by BEGIN IMMEDIATE.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The database itself refuses to change or remove audit events. (Someone who drops these
-- triggers can edit rows, but the hash chain then breaks at the edited row.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
