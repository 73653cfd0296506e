-- Live streams (vigie run): when a camera's stream was down. A gap is recorded
-- once frames flow again: from the last frame before the drop to the first
-- after it, with what went wrong. Times are ISO 8601 UTC text ('...Z').
CREATE TABLE stream_gaps (
    id           INTEGER PRIMARY KEY,
    camera_id    TEXT NOT NULL,
    start        TEXT NOT NULL,
    end          TEXT NOT NULL,
    reason       TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    CHECK (start <= end)
);
CREATE INDEX stream_gaps_by_camera ON stream_gaps(camera_id, start);
