-- Decision letters (决定书, docs/cases.md): every decision gets a letter number from a per-county,
-- per-year series, allocated in the decision's own transaction so numbers are never reused or
-- skipped. The prefix (e.g. 环民救) is configurable per county; without a row the store derives
-- one from the county's name.
CREATE TABLE letter_prefixes (
    county      TEXT PRIMARY KEY NOT NULL,
    prefix      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE letter_counters (
    county  TEXT NOT NULL,
    year    INTEGER NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (county, year)
);

-- One letter per decision (decisions are append-only, so is this).
CREATE TABLE case_letters (
    decision_id  INTEGER PRIMARY KEY NOT NULL REFERENCES case_decisions (id),
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    county       TEXT NOT NULL,
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    number       TEXT NOT NULL
);
CREATE UNIQUE INDEX case_letters_series ON case_letters (county, year, seq);
CREATE INDEX case_letters_case ON case_letters (case_id);
