-- What the control-room application (vigie.web) keeps besides tracks.
-- Times are ISO 8601 UTC text ('...Z'), which sorts in time order.

-- An investigator's unblurred view of ONE track for ONE case: granted on
-- request (the request, its case, purpose and reason are in the audit log),
-- valid for a short time, for that user only. Unblurred media are rendered on
-- demand and never written to disk.
CREATE TABLE unblur_grants (
    id          INTEGER PRIMARY KEY,
    track_id    INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    username    TEXT NOT NULL,
    case_ref    TEXT NOT NULL CHECK (trim(case_ref) <> ''),
    purpose     TEXT NOT NULL CHECK (trim(purpose) <> ''),
    reason      TEXT NOT NULL CHECK (trim(reason) <> ''),
    granted_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX unblur_grants_by_track ON unblur_grants(track_id, username, expires_at);

-- Exports handed out (the ZIP itself is streamed to the investigator and not
-- kept): who, for which case, which tracks, and the SHA-256 of what was given,
-- so a copy produced in court can be checked against this record.
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY,
    ref         TEXT NOT NULL UNIQUE,   -- random reference, also written inside the ZIP's manifest
    username    TEXT NOT NULL,
    case_ref    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    track_ids   TEXT NOT NULL,          -- JSON list
    blurred     INTEGER NOT NULL CHECK (blurred IN (0, 1)),
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    audit_seq   INTEGER NOT NULL        -- the audit entry written with it
);

-- Settings an admin changes at run time (vigie.settings), on top of the site file.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,          -- JSON
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
) WITHOUT ROWID;
