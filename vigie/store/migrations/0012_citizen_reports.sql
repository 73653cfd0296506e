-- Citizen reports received through Open311 GeoReport v2 (vigie.citizen), about
-- places and events, never about people. Times are ISO 8601 UTC text ('...Z').
--
-- A report waits as moderation 'pending' until a moderator accepts it (it then
-- becomes public under its id), rejects it (never public; deleted after 30
-- days), or merges it into another accepted report (a duplicate: its token
-- then resolves to that report). The reporter follows it with a token known
-- here only by its SHA-256, like sessions.
CREATE TABLE citizen_reports (
    id              INTEGER PRIMARY KEY,       -- the public service_request_id once accepted
    service_code    TEXT NOT NULL,
    lat             REAL,                      -- WGS 84; NULL when only an address was given
    lon             REAL,
    address_string  TEXT,
    address_id      TEXT,
    description     TEXT NOT NULL DEFAULT '',  -- a moderator's redaction replaces it: no original is kept
    attributes      TEXT NOT NULL DEFAULT '{}',-- JSON {code: value or [values]}
    requested_at    TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    status_notes    TEXT NOT NULL DEFAULT '',
    moderation      TEXT NOT NULL DEFAULT 'pending' CHECK (moderation IN ('pending', 'accepted', 'rejected', 'merged')),
    moderated_by    TEXT,
    moderated_at    TEXT,
    reject_reason   TEXT,
    merged_into     INTEGER REFERENCES citizen_reports(id) ON DELETE SET NULL,
    redacted        INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1)),
    token_hash      TEXT NOT NULL UNIQUE,      -- sha256 hex of the reporter's token
    client_hash     TEXT NOT NULL,             -- salted hash of the sender's address, never the address
    -- Contact details: for moderators only, never in a public response.
    email           TEXT,
    first_name      TEXT,
    last_name       TEXT,
    phone           TEXT,
    device_id       TEXT,
    account_id      TEXT,
    -- The photo as re-encoded and blurred before storage (JPEG, no metadata); the upload itself is never kept.
    photo           BLOB,
    CHECK ((moderation = 'rejected') = (reject_reason IS NOT NULL)),
    CHECK ((moderation = 'pending') = (moderated_at IS NULL))
);
CREATE INDEX citizen_reports_by_moderation ON citizen_reports(moderation, requested_at);
CREATE INDEX citizen_reports_by_client ON citizen_reports(client_hash, requested_at);

-- One row per report received, per sender, to enforce the site's hourly and
-- daily limits over sliding windows that survive restarts. Keyed by the salted
-- hash of the address, never the address; rows older than a day are purged.
CREATE TABLE citizen_report_hits (
    client_hash  TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX citizen_report_hits_by_client ON citizen_report_hits(client_hash, at);

-- The salt of those hashes, made once per store: an address cannot be found by
-- hashing candidate addresses without it.
CREATE TABLE citizen_salt (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    salt  TEXT NOT NULL
);
INSERT INTO citizen_salt VALUES (1, lower(hex(randomblob(32))));
