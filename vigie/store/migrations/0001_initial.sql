-- Vigie store, first schema. Times are ISO 8601 UTC text ('...Z'), which sorts
-- in time order; coordinates are pixels of the source video.
CREATE TABLE cameras (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    commune     TEXT NOT NULL DEFAULT '',
    grp         TEXT NOT NULL DEFAULT '',
    purpose     TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL
);

-- One run of the pipeline over one source. Its tracks are visible once it is
-- complete (or partial: a truncated file analysed as far as it could be read);
-- a re-run of the same content on the same camera replaces it atomically.
CREATE TABLE analyses (
    id               INTEGER PRIMARY KEY,
    camera_id        TEXT NOT NULL REFERENCES cameras(id),
    source           TEXT NOT NULL,
    fingerprint      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'complete', 'partial')),
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    frames_decoded   INTEGER NOT NULL DEFAULT 0,
    frames_analysed  INTEGER NOT NULL DEFAULT 0,
    message          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX analyses_by_source ON analyses(camera_id, fingerprint);

CREATE TABLE tracks (
    id                INTEGER PRIMARY KEY,
    analysis_id       INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
    camera_id         TEXT NOT NULL REFERENCES cameras(id),
    track_no          INTEGER NOT NULL,
    class             TEXT NOT NULL,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    dwell_s           REAL NOT NULL,
    median_height_px  REAL NOT NULL,
    median_width_px   REAL NOT NULL,
    direction         TEXT,
    speed_px_s        REAL,
    speed_m_s         REAL,
    n_points          INTEGER NOT NULL,
    thumbnail_path    TEXT,
    thumbnail_seq     INTEGER,
    UNIQUE (analysis_id, track_no)
);
CREATE INDEX tracks_by_camera_time ON tracks(camera_id, first_seen);
CREATE INDEX tracks_by_class_time ON tracks(class, first_seen);

-- Dominant colour names, most dominant first (rank 0).
CREATE TABLE track_colours (
    track_id  INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    part      TEXT NOT NULL CHECK (part IN ('upper', 'lower', 'body')),
    rank      INTEGER NOT NULL,
    colour    TEXT NOT NULL,
    PRIMARY KEY (track_id, part, rank)
) WITHOUT ROWID;
CREATE INDEX track_colours_by_colour ON track_colours(part, colour);

CREATE TABLE track_points (
    track_id    INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    t           TEXT NOT NULL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    confidence  REAL NOT NULL,
    ground_x    REAL,
    ground_y    REAL,
    PRIMARY KEY (track_id, seq)
) WITHOUT ROWID;

-- The best crop of each track, as JPEG; also written as a file for people to open.
CREATE TABLE thumbnails (
    track_id  INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    jpeg      BLOB NOT NULL
);
