-- Retention and legal holds (vigie.retention). `vigie purge` deletes tracks
-- older than their camera's retention period, except those under an active
-- (not lifted) legal hold tied to a case.
--
-- A hold covers tracks in one or both of two ways:
--   * by id: rows of legal_hold_tracks (the investigator found the tracks);
--   * by window: camera_id + [window_start, window_end), so the footage of an
--     incident is held before anyone has found its tracks; a track is covered
--     when it was in view at any moment of the window (first_seen < end and
--     last_seen >= start), including tracks stored after the hold was placed.
-- Holds are lifted, never deleted: the row keeps who placed and who lifted it.
CREATE TABLE legal_holds (
    id            INTEGER PRIMARY KEY,
    case_ref      TEXT NOT NULL CHECK (trim(case_ref) <> ''),
    reason        TEXT NOT NULL CHECK (trim(reason) <> ''),
    placed_by     TEXT NOT NULL,
    placed_at     TEXT NOT NULL,
    lifted_by     TEXT,
    lifted_at     TEXT,
    camera_id     TEXT,
    window_start  TEXT,
    window_end    TEXT,
    -- a window is all three or none, and runs forwards
    CHECK ((camera_id IS NULL AND window_start IS NULL AND window_end IS NULL)
           OR (camera_id IS NOT NULL AND window_start IS NOT NULL AND window_end IS NOT NULL AND window_start < window_end)),
    CHECK ((lifted_by IS NULL) = (lifted_at IS NULL))
);
CREATE INDEX legal_holds_by_camera ON legal_holds(camera_id, window_start) WHERE lifted_at IS NULL;
CREATE INDEX legal_holds_by_case ON legal_holds(case_ref);

-- No foreign key to tracks on purpose: nothing about a track's deletion may
-- silently drop the hold on it (and the trigger below forbids the deletion).
CREATE TABLE legal_hold_tracks (
    hold_id   INTEGER NOT NULL REFERENCES legal_holds(id) ON DELETE CASCADE,
    track_id  INTEGER NOT NULL,
    PRIMARY KEY (hold_id, track_id)
) WITHOUT ROWID;
CREATE INDEX legal_hold_tracks_by_track ON legal_hold_tracks(track_id);

-- The store itself refuses to delete a track held by id under an active hold,
-- whoever asks (purge, a re-analysis replacing its analysis, a hand-written
-- DELETE): the transaction aborts and nothing of it is kept.
CREATE TRIGGER tracks_held_no_delete BEFORE DELETE ON tracks
WHEN EXISTS (SELECT 1 FROM legal_hold_tracks ht JOIN legal_holds h ON h.id = ht.hold_id
             WHERE ht.track_id = OLD.id AND h.lifted_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'a track under an active legal hold cannot be deleted (lift the hold first)');
END;

-- Purge reads tracks by camera and age.
CREATE INDEX tracks_by_camera_last_seen ON tracks(camera_id, last_seen);
