-- Failed logins are throttled per (account, client address) in the web layer's memory; the
-- account-wide lock, which let anyone lock any account, is gone.
ALTER TABLE users DROP COLUMN locked_until;

-- When the password was last set: a one-time password expires a fixed time after it.
ALTER TABLE users ADD COLUMN password_changed_at TEXT;
UPDATE users SET password_changed_at = updated_at;
