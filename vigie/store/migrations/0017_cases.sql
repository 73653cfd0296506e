-- Issue 20 (point 3): cases.
--   session_cases: the case (reference and purpose) an investigator opened for a session; it is
--          the session's, so every tab sees it, and it ends with the session (cascade). Requests
--          that give no case reference and purpose use it (vigie.web.deps).
--   case_marks: an investigator's verdict on a track, per case: the same person as the one the
--          case is about, or not. It goes with the track at its purge (cascade): nothing outlives
--          retention.
CREATE TABLE session_cases (
    token_hash  TEXT PRIMARY KEY REFERENCES sessions(token_hash) ON DELETE CASCADE,
    case_ref    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    opened_at   TEXT NOT NULL                -- ISO 8601 UTC
) WITHOUT ROWID;

CREATE TABLE case_marks (
    case_ref    TEXT NOT NULL,
    track_id    INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    mark        TEXT NOT NULL CHECK (mark IN ('same', 'different')),
    marked_by   TEXT NOT NULL,
    marked_at   TEXT NOT NULL,               -- ISO 8601 UTC
    PRIMARY KEY (case_ref, track_id)
) WITHOUT ROWID;
CREATE INDEX case_marks_by_track ON case_marks(track_id);
