-- Changes of a running benefit (动态管理, docs/cases.md): 调整 adjust, 暂停 suspend, 恢复 resume,
-- 停止 stop. A change is a case of its own (workflow `dibao_change`, the normal case tables) that
-- points at the recipient's approved case (its parent) and household; what it decides is applied
-- to the parent's benefit status in the decision's own transaction.
CREATE TABLE case_changes (
    case_id         INTEGER PRIMARY KEY NOT NULL REFERENCES cases (id),
    parent_case_id  INTEGER NOT NULL REFERENCES cases (id),
    household_id    INTEGER NOT NULL REFERENCES households (id),
    kind            TEXT NOT NULL CHECK (kind IN ('adjust', 'suspend', 'resume', 'stop')),
    reason          TEXT NOT NULL,
    -- Stops only: death | moved | income | assets | imprisonment | refused | other
    stop_reason     TEXT CHECK (stop_reason IS NULL OR stop_reason IN
                        ('death', 'moved', 'income', 'assets', 'imprisonment', 'refused', 'other')),
    -- The verification warning whose closure opened it (一月一比对), if any.
    warning_id      INTEGER,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX case_changes_parent ON case_changes (parent_case_id);

-- What an approved change decided, per decision (append-only like case_decisions): the month
-- the change takes effect (adjust/suspend/resume: the month after the decision), or for a stop
-- the last month paid (the month of the decision) and the coded reason; amounts before/after.
CREATE TABLE change_outcomes (
    decision_id      INTEGER PRIMARY KEY NOT NULL REFERENCES case_decisions (id),
    case_id          INTEGER NOT NULL REFERENCES cases (id),
    parent_case_id   INTEGER NOT NULL REFERENCES cases (id),
    kind             TEXT NOT NULL,
    effective_month  TEXT,
    last_paid_month  TEXT,
    stop_reason      TEXT,
    amount_before    INTEGER NOT NULL,
    amount_after     INTEGER NOT NULL
);
CREATE INDEX change_outcomes_parent ON change_outcomes (parent_case_id);

-- The benefit of each approved case of a program that can be changed, as it stands now: what a
-- monthly payment roster reads. Written at the approval and by every approved change.
CREATE TABLE benefit_status (
    case_id          INTEGER PRIMARY KEY NOT NULL REFERENCES cases (id),
    household_id     INTEGER NOT NULL REFERENCES households (id),
    program          TEXT NOT NULL,
    -- active | suspended | ended
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'ended')),
    monthly_amount   INTEGER NOT NULL,
    -- First month paid (YYYY-MM), and the month the current amount applies from.
    start_month      TEXT,
    amount_from      TEXT,
    -- Suspended: payment suspended from this month on.
    suspended_from   TEXT,
    -- Ended: the last month paid (payment ends after it) and the coded reason.
    last_paid_month  TEXT,
    end_reason       TEXT,
    -- The change case that last changed it.
    changed_by_case  INTEGER,
    updated_at       TEXT NOT NULL
);
CREATE INDEX benefit_status_household ON benefit_status (household_id);

-- Approved cases from before this migration: the workflows the shipped change workflow covers
-- (workflows/dibao_change.toml `changes`).
INSERT INTO benefit_status (case_id, household_id, program, status, monthly_amount, start_month,
                            amount_from, updated_at)
SELECT c.id, c.household_id, c.program, 'active', d.monthly_amount, d.start_month, d.start_month,
       d.recorded_at
FROM cases c JOIN case_decisions d ON d.case_id = c.id AND d.outcome = 'approved'
WHERE c.status = 'approved' AND c.workflow IN ('dibao', 'tekun', 'marginal');

-- The change case a warning's closure opened (adjust/suspend/stop).
ALTER TABLE warnings ADD COLUMN change_case_id INTEGER;

CREATE TRIGGER change_outcomes_no_update BEFORE UPDATE ON change_outcomes
BEGIN
    SELECT RAISE(ABORT, 'change_outcomes is append-only: UPDATE refused');
END;
CREATE TRIGGER change_outcomes_no_delete BEFORE DELETE ON change_outcomes
BEGIN
    SELECT RAISE(ABORT, 'change_outcomes is append-only: DELETE refused');
END;
