-- Outreach leads (政策找人, POLICY R-LI-4): persons in a month's medical_claims delivery who are
-- not in the recipients' caseload and whose out-of-pocket cost is above the ordinary warning
-- line. Stored per run, as provenance of what the comparison found, so the database refuses to
-- change or remove a lead; handling it is a row of outreach_lead_handlings, also append-only.
CREATE TABLE outreach_leads (
    id             INTEGER PRIMARY KEY NOT NULL,
    run_id         INTEGER NOT NULL REFERENCES verification_runs (id),
    month          TEXT NOT NULL,
    -- Scope: the person's residence division when the registry knows them, else the run's.
    division       TEXT NOT NULL,
    -- The registry's person, when the identity number is registered (for 转为申请).
    person_id      INTEGER,
    -- Masked (GB 11643 masking); the full number is in the kept delivery at `row_number`.
    person_masked  TEXT NOT NULL,
    delivery_id    INTEGER,
    row_number     INTEGER NOT NULL,
    settlement_date TEXT NOT NULL,
    out_of_pocket_fen INTEGER NOT NULL,
    threshold_fen  INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX outreach_leads_division ON outreach_leads (division);
CREATE INDEX outreach_leads_run ON outreach_leads (run_id);

CREATE TABLE outreach_lead_handlings (
    lead_id        INTEGER PRIMARY KEY NOT NULL REFERENCES outreach_leads (id),
    note           TEXT NOT NULL,
    handled_by_id  INTEGER,
    handled_by     TEXT NOT NULL,
    handled_at     TEXT NOT NULL
);

CREATE TRIGGER outreach_leads_no_update BEFORE UPDATE ON outreach_leads
BEGIN
    SELECT RAISE(ABORT, 'outreach_leads is append-only: UPDATE refused');
END;
CREATE TRIGGER outreach_leads_no_delete BEFORE DELETE ON outreach_leads
BEGIN
    SELECT RAISE(ABORT, 'outreach_leads is append-only: DELETE refused');
END;
CREATE TRIGGER outreach_lead_handlings_no_update BEFORE UPDATE ON outreach_lead_handlings
BEGIN
    SELECT RAISE(ABORT, 'outreach_lead_handlings is append-only: UPDATE refused');
END;
CREATE TRIGGER outreach_lead_handlings_no_delete BEFORE DELETE ON outreach_lead_handlings
BEGIN
    SELECT RAISE(ABORT, 'outreach_lead_handlings is append-only: DELETE refused');
END;
