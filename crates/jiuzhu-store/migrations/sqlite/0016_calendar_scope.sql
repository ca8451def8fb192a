-- A calendar edit applies in the jurisdiction of whoever recorded it: a county's local holiday
-- moves the deadlines of that county only. '' is the whole country (the State Council's notice,
-- an edit by a user bound to the nation, edits recorded before this column existed).
ALTER TABLE calendar_overlays ADD COLUMN division TEXT NOT NULL DEFAULT '';
