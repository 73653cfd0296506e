-- Example photos searched with (issue 18: `vigie similar --image`, POST /api/similar/photo),
-- kept only as the audit log requires: the audit entry of the search names the photo by its
-- SHA-256 (never its bytes), and this row holds the bytes that hash stands for, as they were
-- compared: re-encoded from the pixels alone (no EXIF, no GPS, no comments), faces blurred.
-- One row per photo and case (case_ref '' when none was given). `vigie purge` deletes a row
-- once its case has no active legal hold and it was last used longer ago than the longest
-- camera retention, in the same transaction as the tracks (vigie.search.query_photos).
CREATE TABLE query_photos (
    sha256      TEXT NOT NULL,               -- of `jpeg`, lowercase hex
    case_ref    TEXT NOT NULL DEFAULT '',
    jpeg        BYTEA NOT NULL,
    first_used  TEXT NOT NULL,               -- ISO 8601 UTC
    last_used   TEXT NOT NULL,
    used_by     TEXT NOT NULL,               -- who searched with it last
    PRIMARY KEY (sha256, case_ref)
);
CREATE INDEX query_photos_last_used ON query_photos (last_used);
