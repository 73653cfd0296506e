-- Alerts (vigie.alerts): each rule event becomes one alert that a person must
-- validate or dismiss. The decision, who made it and when are kept here and in
-- the audit log. Times are ISO 8601 UTC text ('...Z').
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    event_key   TEXT NOT NULL UNIQUE,      -- the event's identity: re-evaluating a window adds nothing twice
    rule        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    camera_id   TEXT NOT NULL,
    start       TEXT NOT NULL,
    end         TEXT,
    track_ids   TEXT NOT NULL,             -- JSON list
    x           REAL,
    y           REAL,
    details     TEXT NOT NULL,             -- JSON
    snapshot    BLOB,                      -- JPEG, blurred (faces, plates) before it is stored
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'validated', 'dismissed')),
    decided_by  TEXT,
    decided_at  TEXT,
    note        TEXT,
    CHECK ((status = 'new') = (decided_by IS NULL))
);
CREATE INDEX alerts_by_status ON alerts(status, id);
CREATE INDEX alerts_by_camera ON alerts(camera_id, start);
