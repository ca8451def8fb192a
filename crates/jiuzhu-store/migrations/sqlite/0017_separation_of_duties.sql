-- 三员分立 (docs/roles.md): the one administrator role is split into the system, security and
-- audit administrators. Existing administrators become system administrators: they keep
-- creating and resetting accounts, and lose the business permissions and the audit log (the
-- operator then creates a security and an audit administrator at the console, README).
UPDATE users SET role = 'system_admin' WHERE role = 'admin';

-- An account created, reset or reactivated by the system administrator waits for a security
-- administrator's approval ('pending_approval') and holds no permission until then. Accounts
-- that exist now were working accounts under the old rules and stay approved.
ALTER TABLE users ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved'
    CHECK (approval IN ('pending_approval', 'approved'));
-- Who last created, reset or reactivated the account (NULL: the system at the console); that
-- account may not approve it.
ALTER TABLE users ADD COLUMN requested_by INTEGER;
ALTER TABLE users ADD COLUMN approved_by INTEGER;
ALTER TABLE users ADD COLUMN approved_at TEXT;
