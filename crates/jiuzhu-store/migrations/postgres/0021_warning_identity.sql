-- A warning is identified by its household, its kind and the facts that raised it (the member
-- and the value the source gave): a later run leaves an identical open warning as it is and does
-- not raise again what was closed on the same facts (docs/feeds.md, "Runs build on each other").
-- `facts` is a digest (jiuzhu_store::warning_facts) of what the evidence already holds (the
-- masked member and the value), so it reveals nothing the evidence does not. Rows of earlier
-- runs get theirs at the first start after this migration (`pending_backfills`: the digest is
-- computed in Rust), 0 until then.
ALTER TABLE warnings ADD COLUMN facts BIGINT NOT NULL DEFAULT 0;
INSERT INTO pending_backfills (name) VALUES ('warning_facts');

-- The one index of `warnings` (migration 0013 keeps it to one, for the month's insert) now leads
-- with the household, so that a later run finds the warnings it repeats by (household_id, kind).
-- Reads by run or month scan the table: a second index would cost every run's insert more than
-- the pages that read by month gain.
DROP INDEX warnings_run_household_kind;
CREATE UNIQUE INDEX warnings_household_kind_run ON warnings (household_id, kind, run_id);

-- Per run, by kind: what it found (new or not) and the warnings of earlier runs still open in
-- its region when it finished, with the month each kind's oldest was first raised.
ALTER TABLE verification_runs ADD COLUMN carried TEXT NOT NULL DEFAULT '{}';
