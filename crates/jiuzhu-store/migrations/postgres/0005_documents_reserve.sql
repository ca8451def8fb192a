-- One person, one file (一人一档): documents attached to persons, households and cases, and the
-- township reserve fund (备用金) ledger for assist-first temporary assistance (R-LS-4).
-- Both are append-only: a withdrawn document keeps its row (and its file) and gets a row in
-- document_withdrawals; a ledger entry is never changed, a mistake is corrected by a new entry.

CREATE TABLE documents (
    id               BIGINT PRIMARY KEY NOT NULL,
    -- person | household | case
    owner_kind       TEXT NOT NULL CHECK (owner_kind IN ('person', 'household', 'case')),
    owner_id         BIGINT NOT NULL,
    -- The owner's division at upload: the jurisdiction the document is read in.
    division         TEXT NOT NULL,
    -- A code of the fixed list (id_card, authorisation, home_visit, …; docs/documents.md).
    doc_type         TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256           TEXT NOT NULL,
    -- Where the file is, relative to the files directory (content-addressed: from sha256).
    storage_key      TEXT NOT NULL,
    uploaded_by_id   BIGINT,
    uploaded_by      TEXT NOT NULL,
    uploaded_at      TEXT NOT NULL,
    note             TEXT NOT NULL
);
CREATE INDEX documents_owner ON documents (owner_kind, owner_id);
CREATE INDEX documents_division ON documents (division);

CREATE TABLE document_withdrawals (
    document_id      BIGINT PRIMARY KEY NOT NULL REFERENCES documents (id),
    withdrawn_by_id  BIGINT,
    withdrawn_by     TEXT NOT NULL,
    withdrawn_at     TEXT NOT NULL,
    reason           TEXT NOT NULL
);

-- One row per township that has (had) a fund. The minimum balance is a policy parameter
-- (temporary.reserve_fund.minimum), read when shown, not stored.
CREATE TABLE reserve_funds (
    township         TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

-- The ledger. seq numbers a township's entries 1, 2, …; balance_after is the balance after the
-- entry, so the current balance is the last entry's and can never be negative (CHECK).
CREATE TABLE reserve_fund_entries (
    id               BIGINT PRIMARY KEY NOT NULL,
    township         TEXT NOT NULL REFERENCES reserve_funds (township),
    seq              BIGINT NOT NULL,
    -- top_up | withdrawal | return
    kind             TEXT NOT NULL CHECK (kind IN ('top_up', 'withdrawal', 'return')),
    amount_fen       BIGINT NOT NULL CHECK (amount_fen > 0),
    balance_after    BIGINT NOT NULL CHECK (balance_after >= 0),
    case_id          BIGINT REFERENCES cases (id),
    payee_name       TEXT,
    payee_id_masked  TEXT,
    reason           TEXT NOT NULL,
    voucher          TEXT,
    recorded_by_id   BIGINT,
    recorded_by      TEXT NOT NULL,
    recorded_at      TEXT NOT NULL,
    on_date          TEXT NOT NULL,
    UNIQUE (township, seq)
);
CREATE INDEX reserve_fund_entries_case ON reserve_fund_entries (case_id);

CREATE FUNCTION files_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;

CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER documents_no_truncate BEFORE TRUNCATE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER document_withdrawals_no_update BEFORE UPDATE ON document_withdrawals
    FOR EACH ROW EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER document_withdrawals_no_delete BEFORE DELETE ON document_withdrawals
    FOR EACH ROW EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER document_withdrawals_no_truncate BEFORE TRUNCATE ON document_withdrawals
    FOR EACH STATEMENT EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER reserve_fund_entries_no_update BEFORE UPDATE ON reserve_fund_entries
    FOR EACH ROW EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER reserve_fund_entries_no_delete BEFORE DELETE ON reserve_fund_entries
    FOR EACH ROW EXECUTE FUNCTION files_ledger_append_only();
CREATE TRIGGER reserve_fund_entries_no_truncate BEFORE TRUNCATE ON reserve_fund_entries
    FOR EACH STATEMENT EXECUTE FUNCTION files_ledger_append_only();
