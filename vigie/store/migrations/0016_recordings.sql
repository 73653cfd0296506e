-- Recordings (vigie.recording): what `vigie run` recorded of a camera with `record: true`, as
-- segment files of a few seconds each under the data folder. A row is written only once its
-- file is closed and renamed to its final name, and deleted before its file is: the index never
-- points at a missing file (a crash leaves at worst a file without a row, which the recorder
-- indexes or removes at its next start). Times are ISO 8601 UTC text ('...Z'); a segment covers
-- [start, end): end is the time just after its last frame, so back-to-back segments meet.
CREATE TABLE recording_segments (
    id          INTEGER PRIMARY KEY,
    camera_id   TEXT NOT NULL,
    start       TEXT NOT NULL,                  -- UTC time of its first frame
    end         TEXT NOT NULL,                  -- UTC time just after its last frame
    path        TEXT NOT NULL UNIQUE,           -- relative to the data folder, '/'-separated
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    frames      INTEGER NOT NULL CHECK (frames >= 0),
    codec       TEXT NOT NULL,                  -- FFmpeg's codec name: 'h264', 'hevc'
    container   TEXT NOT NULL CHECK (container IN ('mpegts', 'mp4')),  -- mp4: fragmented MP4
    width       INTEGER,
    height      INTEGER,
    masked      INTEGER NOT NULL DEFAULT 0 CHECK (masked IN (0, 1)),   -- re-encoded with the privacy masks burned in
    complete    INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)), -- 0: salvaged after a crash (cut short)
    created_at  TEXT NOT NULL,
    CHECK (start <= end)
);
CREATE INDEX recording_segments_by_camera ON recording_segments(camera_id, start);
CREATE INDEX recording_segments_by_camera_end ON recording_segments(camera_id, end);
