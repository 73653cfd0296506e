-- Video synopsis (vigie.synopsis). A tube per track: the object's pixels and
-- foreground mask in every analysed frame where it was seen (an .npz blob,
-- vigie.synopsis.capture.encode_tube); it goes with its track (purge, holds,
-- re-analysis). A background per period of a camera's time: the temporal
-- median of object-free pixels, as a JPEG; it goes with its analysis, and
-- the purge removes expired ones. Times are ISO 8601 UTC text ('...Z').
CREATE TABLE tubes (
    track_id  INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    frames    INTEGER NOT NULL,
    data      BLOB NOT NULL
);
CREATE TABLE backgrounds (
    id           INTEGER PRIMARY KEY,
    analysis_id  INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
    camera_id    TEXT NOT NULL,
    start        TEXT NOT NULL,
    end          TEXT NOT NULL,
    samples      INTEGER NOT NULL,
    jpeg         BLOB NOT NULL,
    CHECK (start <= end)
);
CREATE INDEX backgrounds_by_camera ON backgrounds(camera_id, start);
