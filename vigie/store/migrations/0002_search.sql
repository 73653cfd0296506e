-- Forensic search (issue 4): where each track went in its image, appearance
-- vectors, and the site-adapted appearance models.

-- 8x8 occupancy of the track's foot points over its image (bit 8*row + col,
-- row 0 at the top), so a zone query can skip tracks that never came near the
-- zone without reading their points; 0 where unknown.
ALTER TABLE tracks ADD COLUMN cells INTEGER NOT NULL DEFAULT 0;
-- The source's frame size in pixels (the coordinates' frame).
ALTER TABLE tracks ADD COLUMN frame_width INTEGER;
ALTER TABLE tracks ADD COLUMN frame_height INTEGER;

-- A few crops of each person or vehicle, sampled over the track: their base
-- descriptors (float16, layout named by `base`, vigie.describe.reid), kept so
-- that `vigie adapt` can learn from the site's own tracks and re-project.
CREATE TABLE track_crops (
    track_id  INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    k         INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    base      TEXT NOT NULL,
    features  BLOB NOT NULL,
    PRIMARY KEY (track_id, k)
) WITHOUT ROWID;

-- One appearance vector per track (float32, unit length), made by the model
-- named here: the plain base descriptor, or an adapted projection of it.
CREATE TABLE track_vectors (
    track_id  INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    model     TEXT NOT NULL,
    vector    BLOB NOT NULL
);
CREATE INDEX track_vectors_by_model ON track_vectors(model);

-- Site adaptations learned by `vigie adapt`; the newest active one is used.
CREATE TABLE appearance_models (
    name        TEXT PRIMARY KEY,
    base        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    tracks      INTEGER NOT NULL,
    crops       INTEGER NOT NULL,
    params      BLOB NOT NULL,
    report      TEXT NOT NULL DEFAULT '{}',
    active      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX tracks_by_time ON tracks(first_seen);
