"""The index of recorded video segments (table recording_segments, migration 0016).

vigie.recording writes the segments (`vigie run`, cameras with `record: true`); playback, exports,
`vigie recordings` and the purge read them through the methods below (StoreBase inherits them).

How a playback reader finds the footage of camera C over [t0, t1):

    for seg in store.recording_segments("C", t0, t1):   # overlapping the window, in time order
        data = store.recording_segment_data(seg)        # the whole segment, opened, in memory
        av.open(io.BytesIO(data))                       # seg.start, seg.end: UTC datetimes

- A segment file is sealed at rest under the media key (vigie.store.pictures, docs/SECURITY.md
  finding 7): it is read whole through `recording_segment_data`, never opened by its path
  (seg.file(data_dir) is where it lies: for sizes and deletions, never for its content).

- A segment file decodes alone: it starts on a key frame and carries its codec's parameters. It is
  MPEG-TS (container 'mpegts', H.264/HEVC as the camera sent it) or fragmented MP4 ('mp4').
- seg.start is the UTC time of its first frame, seg.end the time just after its last one: the
  segment covers [start, end), and back-to-back segments meet. A frame's UTC time is
  seg.start + (its pts - the file's first pts) x time_base (the file's own timestamps).
  Within one connection to the camera the timestamps run on from file to file (an HLS playlist
  needs no discontinuity between them); after a gap they may restart.
- A gap (store.recording_gaps) is a span of the asked window with no segment: the stream was down,
  the recorder stopped, or the footage was purged. Segments closer than `tolerance_s` are continuous.
- A row exists only while its file does: it is inserted after the file was closed and renamed to its
  final name (add_recording_segment checks that it is there), and deleted before the file is
  (delete_recording_segments returns the paths to unlink once the deletion is committed).
  A reader that finds a file missing anyway (deleted between its query and its open) treats it as a gap.
- The files hold what the camera sent: unblurred. Whatever shows them blurred must blur them.
  Privacy masks are never in them: a masked camera's segments are re-encoded with the masks burned in
  (masked = True), and such a camera has no other segments.
- complete = False: a segment salvaged after a crash (the recorder died while writing it): it is
  readable up to its last whole packet; its end is that of its last frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from vigie.errors import VigieError
from vigie.i18n import gettext
from vigie.times import from_iso, iso, now_iso

CONTAINERS = ("mpegts", "mp4")
# The frame width of a camera's visible tracks (as vigie.store.base.VISIBLE_TRACKS, which imports this module).
_ANALYSED_WIDTH = (
    "SELECT t.frame_width FROM tracks t JOIN analyses a ON a.id = t.analysis_id"
    " WHERE a.status IN ('complete', 'partial') AND t.camera_id = ? AND t.frame_width IS NOT NULL"
)

# An active legal hold covers a segment (alias s) when it holds, on the segment's camera, a window that
# overlaps the segment's time, or a track (by id, or by a window it was in view during) that was in view
# during the segment: a held track keeps all the footage that shows it, past the hold's window too. One definition, used by the purge and by the quota.
HELD_SEGMENT = (
    "(EXISTS (SELECT 1 FROM legal_holds h WHERE h.lifted_at IS NULL AND h.camera_id = s.camera_id"
    '  AND h.window_start < s."end" AND h.window_end > s.start)'
    " OR EXISTS (SELECT 1 FROM legal_hold_tracks ht JOIN legal_holds h ON h.id = ht.hold_id"
    "  JOIN tracks t ON t.id = ht.track_id"
    '  WHERE h.lifted_at IS NULL AND t.camera_id = s.camera_id AND t.first_seen < s."end" AND t.last_seen >= s.start)'
    " OR EXISTS (SELECT 1 FROM tracks t JOIN legal_holds h ON h.lifted_at IS NULL AND h.camera_id = t.camera_id"
    "  AND t.first_seen < h.window_end AND t.last_seen >= h.window_start"
    '  WHERE t.camera_id = s.camera_id AND t.first_seen < s."end" AND t.last_seen >= s.start))'
)


class RecordingError(VigieError):
    """A segment that cannot be indexed (names the problem)."""


@dataclass(frozen=True)
class RecordingSegment:
    """One indexed segment file (see the module's docstring for how to read it)."""

    id: int
    camera_id: str
    start: datetime  # UTC, its first frame
    end: datetime  # UTC, just after its last frame
    path: str  # relative to the store's data folder, '/'-separated
    bytes: int
    frames: int
    codec: str
    container: str
    width: int | None
    height: int | None
    masked: bool
    complete: bool

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def file(self, data_dir: str | Path) -> Path:
        """The segment's file under the store's data folder."""
        return Path(data_dir) / self.path

    def as_dict(self) -> dict:
        """JSON-ready: times as stored (ISO 8601 UTC)."""
        return {
            "id": self.id,
            "camera_id": self.camera_id,
            "start": iso(self.start),
            "end": iso(self.end),
            "duration_s": round(self.duration_s, 3),
            "path": self.path,
            "bytes": self.bytes,
            "frames": self.frames,
            "codec": self.codec,
            "container": self.container,
            "width": self.width,
            "height": self.height,
            "masked": self.masked,
            "complete": self.complete,
        }

    @classmethod
    def from_row(cls, r) -> "RecordingSegment":
        return cls(
            id=int(r["id"]),
            camera_id=r["camera_id"],
            start=from_iso(r["start"]),
            end=from_iso(r["end"]),
            path=r["path"],
            bytes=int(r["bytes"]),
            frames=int(r["frames"]),
            codec=r["codec"],
            container=r["container"],
            width=r["width"],
            height=r["height"],
            masked=bool(r["masked"]),
            complete=bool(r["complete"]),
        )


@dataclass(frozen=True)
class RecordingGap:
    """A span with no recorded segment: [start, end)."""

    camera_id: str
    start: datetime
    end: datetime

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_dict(self) -> dict:
        return {
            "camera_id": self.camera_id,
            "start": iso(self.start),
            "end": iso(self.end),
            "duration_s": round(self.duration_s, 3),
        }


def relative_path(path: str | Path, data_dir: str | Path) -> str:
    """`path` as stored: relative to the data folder, '/'-separated; refuses one outside it."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path(data_dir))
        except ValueError:
            raise RecordingError(f"segment file {path} is not under the data folder {data_dir}") from None
    rel = PurePosixPath(*p.parts)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise RecordingError(f"segment path {str(path)!r} must be a file under the data folder")
    return str(rel)


def _window_sql(start: datetime | None, end: datetime | None) -> tuple[str, list]:
    """Conditions (to follow a WHERE) for segments overlapping [start, end)."""
    sql, args = "", []
    if start is not None:
        sql += ' AND s."end" > ?'
        args.append(iso(start))
    if end is not None:
        sql += " AND s.start < ?"
        args.append(iso(end))
    return sql, args


class RecordingIndex:
    """The store's recording methods (a part of StoreBase: `self` is the store)."""

    data_dir: Path

    def add_recording_segment(
        self,
        camera_id: str,
        start: datetime,
        end: datetime,
        path: str | Path,
        frames: int,
        codec: str,
        container: str = "mpegts",
        width: int | None = None,
        height: int | None = None,
        masked: bool = False,
        complete: bool = True,
    ) -> RecordingSegment:
        """Index a closed segment file (absolute, or relative to the data folder); its size is read from it.

        Refused (RecordingError, nothing stored) when the file is missing or empty, the times run backwards,
        the container is unknown, or the path is already indexed."""
        rel = relative_path(path, self.data_dir)
        if container not in CONTAINERS:
            raise RecordingError(f"segment {rel}: container {container!r} is not one of {', '.join(CONTAINERS)}")
        if end < start:
            raise RecordingError(f"segment {rel}: its end {iso(end)} is before its start {iso(start)}")
        try:
            size = (Path(self.data_dir) / rel).stat().st_size
        except OSError:
            raise RecordingError(f"segment {rel} cannot be indexed: the file is not there") from None
        if size == 0:
            raise RecordingError(f"segment {rel} cannot be indexed: the file is empty")
        row = (camera_id, iso(start), iso(end), rel, size, int(frames), codec, container, width, height)
        row += (int(masked), int(complete), now_iso())

        def fn(conn):
            if conn.execute("SELECT 1 FROM recording_segments WHERE path = ?", (rel,)).fetchone():
                raise RecordingError(f"segment {rel} is already indexed")
            cur = conn.execute(
                'INSERT INTO recording_segments (camera_id, start, "end", path, bytes, frames, codec, container,'
                " width, height, masked, complete, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )
            return cur.lastrowid

        seg_id = self.write(fn).result()
        return RecordingSegment(
            seg_id, camera_id, from_iso(row[1]), from_iso(row[2]), rel, size, int(frames), codec, container,
            width, height, bool(masked), bool(complete),
        )  # fmt: skip

    def recording_segments(
        self, camera_id: str, start: datetime | None = None, end: datetime | None = None, limit: int | None = None
    ) -> list[RecordingSegment]:
        """The camera's segments overlapping [start, end) (None: unbounded), in time order (oldest first)."""
        where, args = _window_sql(start, end)
        sql = f"SELECT s.* FROM recording_segments s WHERE s.camera_id = ?{where} ORDER BY s.start, s.id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.read() as conn:
            return [RecordingSegment.from_row(r) for r in conn.execute(sql, [camera_id, *args])]

    def recording_segment_data(self, segment: RecordingSegment) -> bytes:
        """The segment's video, opened (segments are sealed at rest), whole in memory: a few MB.
        RecordingError when its file is gone (purged since it was listed: a gap) or cannot be opened."""
        try:
            return self.pictures.open_file(segment.file(self.data_dir))
        except FileNotFoundError:
            raise RecordingError(
                gettext("segment {path} is no longer on disk (purged since it was listed)", path=segment.path)
            ) from None
        except (OSError, VigieError) as exc:
            raise RecordingError(
                gettext("segment {path} cannot be read: {reason}", path=segment.path, reason=exc)
            ) from None

    def recording_segment(self, segment_id: int) -> RecordingSegment | None:
        with self.read() as conn:
            row = conn.execute("SELECT * FROM recording_segments WHERE id = ?", (segment_id,)).fetchone()
        return RecordingSegment.from_row(row) if row else None

    def recording_gaps(
        self,
        camera_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        tolerance_s: float = 1.0,
    ) -> list[RecordingGap]:
        """The spans of [start, end) with no segment, in time order; a bound left None starts (ends) the
        window at the first segment's start (the last one's end). Spans of `tolerance_s` or less are not
        gaps (frame timing jitter between back-to-back segments). No segment at all: the whole window,
        when both bounds are given."""
        segments = self.recording_segments(camera_id, start, end)
        tolerance = timedelta(seconds=tolerance_s)
        if not segments:
            return [RecordingGap(camera_id, start, end)] if start is not None and end is not None else []
        gaps = []
        cursor = start if start is not None else segments[0].start
        for seg in segments:
            if seg.start - cursor > tolerance:
                gaps.append(RecordingGap(camera_id, cursor, seg.start))
            cursor = max(cursor, seg.end)
        if end is not None and end - cursor > tolerance:
            gaps.append(RecordingGap(camera_id, cursor, end))
        return gaps

    def recording_usage(self, camera_id: str | None = None) -> dict[str, dict]:
        """Per camera: {segments, bytes, first (ISO), last (ISO)} of what is indexed."""
        where, args = ("WHERE camera_id = ?", [camera_id]) if camera_id else ("", [])
        with self.read() as conn:
            rows = conn.execute(
                f'SELECT camera_id, count(*), coalesce(sum(bytes), 0), min(start), max("end") FROM recording_segments'
                f" {where} GROUP BY camera_id ORDER BY camera_id",
                args,
            ).fetchall()
        return {r[0]: {"segments": int(r[1]), "bytes": int(r[2]), "first": r[3], "last": r[4]} for r in rows}

    def recording_cameras(self) -> list[str]:
        """The cameras that have indexed segments."""
        with self.read() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT camera_id FROM recording_segments ORDER BY 1")]

    def recording_paths(self, camera_id: str) -> set[str]:
        """Every indexed path of the camera (to find files that have no row)."""
        with self.read() as conn:
            return {r[0] for r in conn.execute("SELECT path FROM recording_segments WHERE camera_id = ?", (camera_id,))}

    def oldest_unheld_segments(self, camera_id: str, limit: int = 100) -> list[RecordingSegment]:
        """The camera's oldest segments that no active legal hold covers (HELD_SEGMENT): what a quota may delete."""
        with self.read() as conn:
            rows = conn.execute(
                f"SELECT s.* FROM recording_segments s WHERE s.camera_id = ? AND NOT {HELD_SEGMENT}"
                f" ORDER BY s.start, s.id LIMIT {int(limit)}",
                (camera_id,),
            ).fetchall()
        return [RecordingSegment.from_row(r) for r in rows]

    def track_boxes(
        self, camera_id: str, start: datetime, end: datetime
    ) -> list[tuple[str, str, list[float], int | None]]:
        """(time, class, [x1, y1, x2, y2], frame width) of the camera's visible tracks' points in [start, end),
        in time order, in stored pixels (the track's analysed frame, `frame width` wide; None where unknown):
        what a blurred export of the recording shows the blurrer where to look."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT p.t, t.class, p.x1, p.y1, p.x2, p.y2, t.frame_width FROM track_points p"
                " JOIN tracks t ON t.id = p.track_id JOIN analyses a ON a.id = t.analysis_id"
                " WHERE t.camera_id = ? AND t.last_seen >= ? AND t.first_seen < ? AND p.t >= ? AND p.t < ?"
                " AND a.status IN ('complete', 'partial') ORDER BY p.t",
                (camera_id, iso(start), iso(end), iso(start), iso(end)),
            ).fetchall()
        return [(r[0], r[1], [float(v) for v in r[2:6]], int(r[6]) if r[6] else None) for r in rows]

    def analysed_frame_width(self, camera_id: str, at: datetime) -> int | None:
        """The width of the frames the camera's visible tracks were analysed on (their stored pixels), from the
        track that began nearest before `at` (else the first after it); None when no track knows it. A masked
        camera's recording may be narrower (record_masked_width): this is the width its masks are drawn at."""
        with self.read() as conn:
            for sql in (
                _ANALYSED_WIDTH + " AND t.first_seen <= ? ORDER BY t.first_seen DESC LIMIT 1",
                _ANALYSED_WIDTH + " AND t.first_seen > ? ORDER BY t.first_seen LIMIT 1",
            ):
                row = conn.execute(sql, (camera_id, iso(at))).fetchone()
                if row and row[0]:
                    return int(row[0])
        return None

    def granted_track_spans(self, username: str, camera_id: str, now: str) -> list[tuple[int, str, str]]:
        """(track id, first_seen, last_seen) of the camera's tracks on which `username` holds an unblur grant
        still open at `now` (ISO): the footage an unblurred export of the recording may show."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT t.id, t.first_seen, t.last_seen FROM unblur_grants g JOIN tracks t ON t.id = g.track_id"
                " WHERE g.username = ? AND g.expires_at > ? AND t.camera_id = ? ORDER BY t.first_seen",
                (username, now, camera_id),
            ).fetchall()
        return [(int(r[0]), r[1], r[2]) for r in rows]

    def delete_recording_segments(self, segment_ids: list[int]) -> list[str]:
        """Remove segments from the index, in one transaction; returns their paths (relative to the data
        folder), for the caller to unlink now that no row points at them. Ids not indexed are ignored."""
        ids = [int(i) for i in segment_ids]
        return self.write(lambda conn: delete_segments_in(conn, ids)).result()


# --- inside another write transaction (the purge's) ------------------------------------------------------
def expired_segments(conn, camera_id: str, cutoff: str) -> tuple[list[int], int]:
    """(ids of the camera's segments that ended before `cutoff` and no hold covers, how many such are held)."""
    ids, held = [], 0
    for r in conn.execute(
        f'SELECT s.id, {HELD_SEGMENT} AS held FROM recording_segments s WHERE s.camera_id = ? AND s."end" < ?'
        " ORDER BY s.start, s.id",
        (camera_id, cutoff),
    ):
        if r[1]:
            held += 1
        else:
            ids.append(int(r[0]))
    return ids, held


def delete_segments_in(conn, segment_ids: list[int]) -> list[str]:
    """Delete the segments' rows on a write connection; returns their paths (files to unlink after the commit)."""
    paths = []
    for k in range(0, len(segment_ids), 500):
        chunk = segment_ids[k : k + 500]
        marks = ",".join("?" * len(chunk))
        paths += [r[0] for r in conn.execute(f"SELECT path FROM recording_segments WHERE id IN ({marks})", chunk)]
        conn.execute(f"DELETE FROM recording_segments WHERE id IN ({marks})", chunk)
    return paths


def segment_cameras(conn) -> list[str]:
    """Cameras with indexed segments (the purge plans them even if the site file dropped them)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT camera_id FROM recording_segments")]
