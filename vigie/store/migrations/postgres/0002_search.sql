-- PostgreSQL version of ../0002_search.sql: forensic search (issue 4).

-- 8x8 occupancy of the track's foot points over its image (bit 8*row + col,
-- row 0 at the top; 64 bits, stored signed); 0 where unknown.
ALTER TABLE tracks ADD COLUMN cells BIGINT NOT NULL DEFAULT 0;
-- The source's frame size in pixels (the coordinates' frame).
ALTER TABLE tracks ADD COLUMN frame_width BIGINT;
ALTER TABLE tracks ADD COLUMN frame_height BIGINT;

-- A few crops of each person or vehicle, sampled over the track: their base
-- descriptors (float16, layout named by `base`, vigie.describe.reid).
CREATE TABLE track_crops (
    track_id  BIGINT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    k         BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    base      TEXT NOT NULL,
    features  BYTEA NOT NULL,
    PRIMARY KEY (track_id, k)
);

-- One appearance vector per track (float32, unit length), made by the model named here.
CREATE TABLE track_vectors (
    track_id  BIGINT PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    model     TEXT NOT NULL,
    vector    BYTEA NOT NULL
);
CREATE INDEX track_vectors_by_model ON track_vectors(model);

-- Site adaptations learned by `vigie adapt`; the newest active one is used.
CREATE TABLE appearance_models (
    name        TEXT PRIMARY KEY,
    base        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    tracks      BIGINT NOT NULL,
    crops       BIGINT NOT NULL,
    params      BYTEA NOT NULL,
    report      TEXT NOT NULL DEFAULT '{}',
    active      BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX tracks_by_time ON tracks(first_seen);
