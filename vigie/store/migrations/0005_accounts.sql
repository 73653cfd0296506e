-- Accounts and sessions (vigie.accounts). Passwords are argon2id hashes; a
-- session is known only by the SHA-256 of its token, never the token itself.
-- Times are ISO 8601 UTC text ('...Z'), which sorts in time order.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL COLLATE NOCASE UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('operator', 'investigator', 'auditor', 'admin')),
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_logins  INTEGER NOT NULL DEFAULT 0,   -- consecutive failures since the last success or lock
    locked_until   TEXT                          -- refused until then (NULL: not locked)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,                -- sha256 hex of the bearer token
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
