-- Tamper-evident audit log (vigie.audit.log): who did what, when, for which
-- case and purpose. Each entry carries the SHA-256 of the previous one, so an
-- edit, a deletion or an insertion anywhere breaks the chain that
-- `vigie audit verify` recomputes. seq counts 1, 2, ... without gaps.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    user       TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    case_ref   TEXT,
    purpose    TEXT,
    details    TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log(at);
CREATE INDEX audit_log_by_user ON audit_log(user);
CREATE INDEX audit_log_by_action ON audit_log(action);
CREATE INDEX audit_log_by_case ON audit_log(case_ref);

-- Append-only: rewriting history then takes dropping these triggers or editing
-- the file by hand, both of which the hash chain still reveals.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
