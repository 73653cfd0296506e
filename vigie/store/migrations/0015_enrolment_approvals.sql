-- Issue 19 (finding 1): nobody but its owner ever sees a password, and a supervisor approves
-- what gives access to media.
--   users: a 'supervisor' role, 'none' (an account waiting for a supervisor to approve the role
--          an admin asked for: no permissions), and must_change_password (a password someone else
--          chose, at the console: the owner must change it at first login);
--   enrolments: one-time links (only the SHA-256 of the token is kept) with which a user sets
--          their own password, at enrolment or after a reset; they expire;
--   approvals: requests a supervisor decides (an unblurred view, a media role, a reset of a
--          media account's password); the decider is never the requester;
--   unblur_grants.approved_by: the supervisor who opened the grant.
-- vigie: rebuilds tables
CREATE TABLE users_new (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('operator', 'investigator', 'auditor', 'admin', 'analyst', 'moderator',
                                                 'supervisor', 'none')),
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_logins  INTEGER NOT NULL DEFAULT 0,   -- consecutive failures since the last success or lock
    locked_until   TEXT,                         -- refused until then (NULL: not locked)
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1))
);
INSERT INTO users_new (id, username, role, password_hash, created_at, disabled, failed_logins, locked_until)
    SELECT id, username, role, password_hash, created_at, disabled, failed_logins, locked_until FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE enrolments (
    token_hash  TEXT PRIMARY KEY,                -- sha256 hex of the link's token
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('enrol', 'reset')),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX enrolments_by_user ON enrolments(user_id);

CREATE TABLE approvals (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('unblur', 'role', 'reset')),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by    TEXT NOT NULL,
    requester_role  TEXT NOT NULL,
    requested_at    TEXT NOT NULL,
    target_user     TEXT,                    -- role, reset: the account
    role            TEXT,                    -- role: the role asked for
    track_id        INTEGER REFERENCES tracks(id) ON DELETE CASCADE,  -- unblur
    case_ref        TEXT,
    purpose         TEXT,
    reason          TEXT,
    decided_by      TEXT,
    decided_at      TEXT,
    note            TEXT
);
CREATE INDEX approvals_by_status ON approvals(status, requested_at);

ALTER TABLE unblur_grants ADD COLUMN approved_by TEXT;
