-- Which households a month's comparison covers (docs/feeds.md, "Who is compared"): those with a
-- benefit in force, an application in progress, or imported as the old system's current
-- recipients (在册救助对象). `recipient_from` is the day from which the legacy caseload import
-- recorded the household as a current recipient; NULL for a household only registered (e.g. the
-- family of an applicant, or a demo household that receives nothing).
ALTER TABLE households ADD COLUMN recipient_from TEXT;

-- Households imported before this migration came from the legacy caseload import, which imported
-- current recipients, or from the demo seeding, which imported every household the same way.
UPDATE households SET recipient_from = valid_from WHERE source_ref IS NOT NULL;

-- Snapshots of the caseload were built under the old rule (every registered household): the next
-- run builds its own.
DELETE FROM caseload_snapshots;
