-- Issue 19: the supervisor role (lifts any legal hold, places open-ended ones; see vigie.accounts.roles).
-- SQLite cannot change a CHECK constraint in place, so `users` is rebuilt (as in 0010_roles.sql).
-- vigie: rebuilds tables
CREATE TABLE users_new (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('operator', 'investigator', 'auditor', 'admin', 'analyst', 'moderator', 'supervisor')),
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_logins  INTEGER NOT NULL DEFAULT 0,   -- consecutive failures since the last success or lock
    locked_until   TEXT                          -- refused until then (NULL: not locked)
);
INSERT INTO users_new (id, username, role, password_hash, created_at, disabled, failed_logins, locked_until)
    SELECT id, username, role, password_hash, created_at, disabled, failed_logins, locked_until FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
