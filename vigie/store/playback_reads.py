"""The store's reads for playback and its timeline (vigie.media.playback): tracks in a time window with their
points, and the analysed files of a camera with a time anchor. Recorded segments are read through the
store's own recording methods (vigie.store.recordings)."""

from __future__ import annotations

from vigie.store.base import VISIBLE_ANALYSES, VISIBLE_TRACKS


def tracks_in_window(store, camera_id: str, start: str, end: str, limit: int = 5000) -> list[dict]:
    """Visible tracks of the camera in view during [start, end) (ISO UTC), oldest first:
    id, class, first_seen, last_seen, frame_width (the stored pixels' frame width, or None)."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT t.id, t.class, t.first_seen, t.last_seen, t.frame_width "
            + VISIBLE_TRACKS
            + " AND t.camera_id = ? AND t.first_seen < ? AND t.last_seen >= ? ORDER BY t.first_seen, t.id LIMIT ?",
            (camera_id, end, start, limit),
        ).fetchall()
    return [dict(r) for r in rows]


def points_by_track(store, track_ids: list[int]) -> dict[int, list[tuple]]:
    """track id -> its points (t ISO, x1, y1, x2, y2), in time order."""
    out: dict[int, list[tuple]] = {int(t): [] for t in track_ids}
    if not track_ids:
        return out
    with store.read() as conn:
        for i in range(0, len(track_ids), 500):
            part = [int(t) for t in track_ids[i : i + 500]]
            marks = ",".join("?" * len(part))
            for r in conn.execute(
                f"SELECT track_id, t, x1, y1, x2, y2 FROM track_points WHERE track_id IN ({marks}) ORDER BY track_id, seq",
                part,
            ):
                out[r[0]].append(tuple(r[1:]))
    return out


def analysed_files(store, camera_id: str) -> list[dict]:
    """The camera's visible analyses of files, each with an anchor: the point of its tracks with the lowest
    frame number (seq, t), from which the file's frame 0 is dated. Analyses without tracks have no anchor
    and are left out: id, source, frames_decoded, anchor_seq, anchor_t."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT a.id, a.source, a.frames_decoded, p.seq AS anchor_seq, p.t AS anchor_t FROM analyses a"
            " JOIN tracks t ON t.analysis_id = a.id JOIN track_points p ON p.track_id = t.id"
            f" WHERE a.{VISIBLE_ANALYSES} AND a.camera_id = ?"
            " AND p.seq = (SELECT min(p2.seq) FROM track_points p2 JOIN tracks t2 ON t2.id = p2.track_id"
            "              WHERE t2.analysis_id = a.id)"
            " GROUP BY a.id ORDER BY a.id",
            (camera_id,),
        ).fetchall()
    return [dict(r) for r in rows]
