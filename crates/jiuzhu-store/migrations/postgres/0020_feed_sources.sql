-- Registered data providers (数据来源, docs/feeds.md): one row per provider and kind (each bank
-- for deposits, each insurer for medical claims), kept by a county, city or province and bound
-- to the accounts that deliver for it. A delivery names its source by code; a run reads the
-- latest delivery of every source, so a second bank's file no longer replaces the first's.
CREATE TABLE feed_sources (
    id           BIGINT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- The region that keeps it: its runs and those of the regions above and below count it.
    division     TEXT NOT NULL,
    -- Set when the provider no longer delivers: it is then neither used nor listed as missing.
    retired_at   TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    row_version  BIGINT NOT NULL
);
CREATE UNIQUE INDEX feed_sources_kind_code ON feed_sources (kind, code);

-- The accounts that deliver for a source (department officers; a county approver or manager
-- delivers for any source of the region, e.g. a file handed over on media).
CREATE TABLE feed_source_accounts (
    source_id    BIGINT NOT NULL REFERENCES feed_sources (id),
    user_id      BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (source_id, user_id)
);
CREATE INDEX feed_source_accounts_user ON feed_source_accounts (user_id);

-- Per run: every registered source with what the run made of it (used, stale, missing).
ALTER TABLE verification_runs ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';

-- Deliveries recorded before sources were registered: each kind and source text becomes a
-- source kept at the national level (counted by every run), to be renamed or retired.
INSERT INTO feed_sources (id, kind, code, name, division, retired_at, created_by, created_at, row_version)
SELECT ROW_NUMBER() OVER (ORDER BY kind, source), kind, source, source, '000000', NULL,
       'migration', MIN(imported_at), 1
FROM feed_deliveries GROUP BY kind, source;
