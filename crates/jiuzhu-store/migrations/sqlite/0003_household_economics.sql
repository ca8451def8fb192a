-- A household's economic status (家庭经济状况): incomes, expenses, 特困 facts per member, assets
-- and 低保 history, as JSON (jiuzhu_domain::HouseholdEconomics). One current row per household
-- plus the superseded versions, like households / household_history.
CREATE TABLE household_economics (
    household_id  INTEGER PRIMARY KEY NOT NULL REFERENCES households (id),
    facts         TEXT NOT NULL,
    valid_from    TEXT NOT NULL,
    row_version   INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);

CREATE TABLE household_economics_history (
    id            INTEGER PRIMARY KEY,
    household_id  INTEGER NOT NULL REFERENCES households (id),
    valid_from    TEXT NOT NULL,
    valid_to      TEXT NOT NULL,
    facts         TEXT NOT NULL,
    row_version   INTEGER NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL
);
CREATE INDEX household_economics_history_household
    ON household_economics_history (household_id, valid_from);
