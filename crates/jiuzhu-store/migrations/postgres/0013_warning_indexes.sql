-- The warnings table takes a month's 100k warnings in one run, so every index on it is paid
-- for 100k times a month. One index serves what is read: (run_id, household_id, kind), the
-- uniqueness of a warning in its run. Filters by month go through the run
-- (run_id IN (SELECT id FROM verification_runs WHERE month = ...)), using that index's first
-- column; filters by division are LIKE-prefix conditions that neither backend serves from a
-- plain text index, so an index led by division or township bought nothing.
DROP INDEX warnings_township_status;
DROP INDEX warnings_month_division;
