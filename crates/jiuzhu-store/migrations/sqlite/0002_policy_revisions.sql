-- Policy revisions: dated parameter values recorded by administrators on top of the policy files
-- shipped in the binary. Append-only: a change is a newer revision, and a revision not yet in
-- force is taken back by a 'withdraw' row naming it (withdraws = its seq). The effective library
-- is the files plus these rows applied in seq order (jiuzhu_policy::PolicyLibrary::with_revisions).
CREATE TABLE policy_revisions (
    seq             INTEGER PRIMARY KEY NOT NULL,
    region          TEXT NOT NULL,
    param           TEXT NOT NULL,
    effective_from  TEXT NOT NULL,
    value           TEXT NOT NULL,
    document        TEXT,
    doc_number      TEXT,
    article         TEXT,
    reason          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('set', 'withdraw')),
    withdraws       INTEGER REFERENCES policy_revisions (seq),
    user_id         INTEGER,
    user_name       TEXT NOT NULL,
    recorded_at     TEXT NOT NULL
);
CREATE INDEX policy_revisions_region ON policy_revisions (region, seq);

CREATE TRIGGER policy_revisions_no_update BEFORE UPDATE ON policy_revisions
BEGIN
    SELECT RAISE(ABORT, 'policy_revisions is append-only: UPDATE refused');
END;

CREATE TRIGGER policy_revisions_no_delete BEFORE DELETE ON policy_revisions
BEGIN
    SELECT RAISE(ABORT, 'policy_revisions is append-only: DELETE refused');
END;
