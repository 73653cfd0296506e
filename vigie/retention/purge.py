"""`vigie purge`: delete what is older than each camera's retention period.

A track's age is measured on its last_seen (footage time, not analysis time):
a recording analysed late is still purged when its footage expires. Tracks
under an active legal hold (holds.py) are kept and counted. An alert (its
blurred snapshot, track ids, position and time) goes with its tracks: once its
time is before the camera's cutoff and none of its tracks is left (held), it is
deleted in the same transaction, and counted.

Recorded segments (vigie.recording) expire with their camera's tracks, by their end time, unless an
active hold covers them or a held track they show; their rows go in the same transaction, their files
after it, and they are counted per camera.

All row deletions run in ONE write transaction (the store's writer): a crash
or an error midway leaves every row in place. Thumbnail files and cached
clips (vigie.media.clips, blurred clips under clips/<camera>/<track id>.<fmt>)
are removed only after that commit, so a crash in between leaves orphan
files, never rows that point at missing files; each purge also removes orphan
thumbnail and clip files whose track row is gone, whatever left them (a crash,
a re-analysis that replaced the tracks, a clip rendered while its track was
being purged), and temp files of clip renders that died mid-write.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vigie.citizen.reports import purge_reports
from vigie.media.clips import clip_files, delete_clips, stale_temp_clips
from vigie.search import query_photos
from vigie.store.recordings import delete_segments_in, expired_segments, segment_cameras
from vigie.times import iso

# An active hold covers a track by id, or by its camera and a window the track
# was in view during (first_seen < end and last_seen >= start).
_HELD = (
    "(EXISTS (SELECT 1 FROM legal_hold_tracks ht JOIN legal_holds h ON h.id = ht.hold_id"
    "  WHERE ht.track_id = t.id AND h.lifted_at IS NULL)"
    " OR EXISTS (SELECT 1 FROM legal_holds h WHERE h.lifted_at IS NULL AND h.camera_id = t.camera_id"
    "  AND t.first_seen < h.window_end AND t.last_seen >= h.window_start))"
)


@dataclass
class CameraPurge:
    """What purge removed (or would remove) for one camera."""

    camera_id: str
    retention_days: int
    cutoff: str  # tracks whose last_seen is before this (ISO 8601 UTC) are expired
    tracks_removed: int = 0
    tracks_held: int = 0  # expired but kept by an active legal hold
    thumbnails_removed: int = 0  # files
    clips_removed: int = 0  # cached clip files
    analyses_removed: int = 0
    backgrounds_removed: int = 0  # video synopsis backgrounds of expired periods
    alerts_removed: int = 0  # alerts (snapshot, track ids, position, time) of expired footage, none of it held
    segments_removed: int = 0  # recorded segments (vigie.recording) that ended before the cutoff, unheld
    segments_held: int = 0  # expired segments kept because an active hold covers them (or a track they show)
    segment_files_removed: int = 0
    track_ids: list[int] = field(default_factory=list, repr=False)  # removed ones
    analysis_ids: list[int] = field(default_factory=list, repr=False)
    background_ids: list[int] = field(default_factory=list, repr=False)
    alert_ids: list[int] = field(default_factory=list, repr=False)
    segment_ids: list[int] = field(default_factory=list, repr=False)
    segment_paths: list[str] = field(default_factory=list, repr=False)  # filled by the deletion


@dataclass
class PurgeReport:
    now: str
    dry_run: bool
    cameras: list[CameraPurge]
    orphan_thumbnails_removed: int = 0
    orphan_clips_removed: int = 0  # clip files whose track was already gone, and dead renders' temp files
    synopses_removed: int = 0  # synopsis folders under $VIGIE_DATA/synopses whose period expired
    citizen_reports_removed: int = 0  # rejected citizen reports, 30 days after the decision
    citizen_contacts_cleared: int = 0  # reporters' contact details, 30 days after their report was closed or merged
    query_photos_removed: int = 0  # example photos searched with, expired and their case not held (query_photos)
    seconds: float = 0.0

    @property
    def tracks_removed(self) -> int:
        return sum(c.tracks_removed for c in self.cameras)

    @property
    def tracks_held(self) -> int:
        return sum(c.tracks_held for c in self.cameras)

    @property
    def thumbnails_removed(self) -> int:
        return sum(c.thumbnails_removed for c in self.cameras) + self.orphan_thumbnails_removed

    @property
    def clips_removed(self) -> int:
        return sum(c.clips_removed for c in self.cameras) + self.orphan_clips_removed

    @property
    def analyses_removed(self) -> int:
        return sum(c.analyses_removed for c in self.cameras)

    @property
    def alerts_removed(self) -> int:
        return sum(c.alerts_removed for c in self.cameras)

    @property
    def segments_removed(self) -> int:
        return sum(c.segments_removed for c in self.cameras)

    @property
    def segments_held(self) -> int:
        return sum(c.segments_held for c in self.cameras)

    def as_dict(self) -> dict:
        d = asdict(self)
        for cam in d["cameras"]:
            del cam["track_ids"], cam["analysis_ids"], cam["alert_ids"], cam["segment_ids"], cam["segment_paths"]
        d["totals"] = {
            "tracks_removed": self.tracks_removed,
            "tracks_held": self.tracks_held,
            "thumbnails_removed": self.thumbnails_removed,
            "clips_removed": self.clips_removed,
            "analyses_removed": self.analyses_removed,
            "alerts_removed": self.alerts_removed,
            "segments_removed": self.segments_removed,
            "segments_held": self.segments_held,
            "synopses_removed": self.synopses_removed,
            "citizen_reports_removed": self.citizen_reports_removed,
            "citizen_contacts_cleared": self.citizen_contacts_cleared,
            "query_photos_removed": self.query_photos_removed,
        }
        return d


def purge(store, site, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete every expired, unheld track with its rows, thumbnail and cached clips; report per camera.

    dry_run computes the same plan on a read connection and changes nothing."""
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    if dry_run:
        with store.read() as conn:
            cameras = _plan(conn, site, now)
            photos = query_photos.count_expired(conn, site, now)
        orphans = len(_orphan_thumbnails(store))
        orphan_clips = len(_orphan_clips(store))
        for cam in cameras:
            cam.thumbnails_removed = sum(_thumb_path(store, cam.camera_id, t).is_file() for t in cam.track_ids)
            cam.clips_removed = sum(len(paths) for paths in clip_files(store, cam.track_ids).values())
        synopses = len(_expired_synopses(store, cameras, gone=set().union(*(c.track_ids for c in cameras))))
    else:
        # The example photos searched with go in the same transaction as the tracks they were compared with.
        cameras, photos = store.write(
            lambda conn: (_apply(conn, _plan(conn, site, now)), query_photos.delete_expired(conn, site, now))
        ).result()
        for cam in cameras:  # only now that the deletion is committed
            cam.thumbnails_removed = sum(_unlink(_thumb_path(store, cam.camera_id, t)) for t in cam.track_ids)
            cam.clips_removed = delete_clips(store, cam.track_ids)
            # Recorded segments: their rows went in the transaction; now their files.
            cam.segment_files_removed = sum(_unlink(Path(store.data_dir) / p) for p in cam.segment_paths)
        orphans = sum(_unlink(p) for p in _orphan_thumbnails(store))
        orphan_clips = sum(_unlink(p) for p in _orphan_clips(store))
        synopses = 0
        for folder in _expired_synopses(store, cameras):
            shutil.rmtree(folder, ignore_errors=True)
            synopses += 1

    citizen = purge_reports(store, now, dry_run=dry_run)
    return PurgeReport(
        now=iso(now),
        dry_run=dry_run,
        cameras=cameras,
        orphan_thumbnails_removed=orphans,
        orphan_clips_removed=orphan_clips,
        synopses_removed=synopses,
        citizen_reports_removed=citizen["reports"],
        citizen_contacts_cleared=citizen["contacts"],
        query_photos_removed=photos,
        seconds=time.perf_counter() - started,
    )


def _expired_synopses(store, cameras: list[CameraPurge], gone: set[int] = frozenset()) -> list[Path]:
    """Synopsis folders (vigie synopsis, the web's) whose period ended before their camera's cutoff.

    A synopsis shows footage: it goes when its period expires, unless one of its tracks is still
    in the store (after the purge, an expired track still there is under a legal hold: the synopsis
    may be part of the case). `gone`: tracks a dry run would have removed."""
    root = Path(store.data_dir) / "synopses"
    if not root.is_dir():
        return []
    cutoffs = {c.camera_id: c.cutoff for c in cameras}
    out = []
    with store.read() as conn:  # one connection for every index
        for index in sorted(root.rglob("*.json")):
            try:
                doc = json.loads(index.read_text(encoding="utf-8"))
                camera, until, tracks = doc["camera"], doc["to"], [int(o["track"]) for o in doc["objects"]]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # job.json, or not a synopsis index
            if camera not in cutoffs or until >= cutoffs[camera]:
                continue
            kept = any(
                t not in gone and conn.execute("SELECT 1 FROM tracks WHERE id = ?", (t,)).fetchone() for t in tracks
            )
            if not kept:
                out.append(index.parent)
    return out


# --- the plan: what is expired, what is held -------------------------------------------------
def _plan(conn: sqlite3.Connection, site, now: datetime) -> list[CameraPurge]:
    """Per camera in the store (site file or not): expired tracks to remove and analyses left empty."""
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM cameras UNION SELECT DISTINCT camera_id FROM tracks"
            " UNION SELECT DISTINCT camera_id FROM alerts ORDER BY 1"
        )
    ]
    ids = sorted(set(ids) | set(segment_cameras(conn)))
    plan = []
    for camera_id in ids:
        days = site.retention_for(camera_id)
        cam = CameraPurge(camera_id, days, iso(now - timedelta(days=days)))
        removed_per_analysis: dict[int, int] = {}
        for r in conn.execute(
            f"SELECT t.id, t.analysis_id, {_HELD} AS held FROM tracks t"
            " WHERE t.camera_id = ? AND t.last_seen < ? ORDER BY t.id",
            (camera_id, cam.cutoff),
        ):
            if r[2]:
                cam.tracks_held += 1
            else:
                cam.track_ids.append(r[0])
                removed_per_analysis[r[1]] = removed_per_analysis.get(r[1], 0) + 1
        cam.tracks_removed = len(cam.track_ids)
        cam.analysis_ids = _empty_analyses(conn, cam, removed_per_analysis)
        cam.analyses_removed = len(cam.analysis_ids)
        # A synopsis background is footage too: it expires with its period, unless its
        # analysis has a held track (whose synopsis then still has its background).
        cam.background_ids = [
            r[0]
            for r in conn.execute(
                "SELECT b.id FROM backgrounds b WHERE b.camera_id = ? AND b.end < ? AND NOT EXISTS"
                f" (SELECT 1 FROM tracks t WHERE t.analysis_id = b.analysis_id AND {_HELD}) ORDER BY b.id",
                (camera_id, cam.cutoff),
            )
        ]
        cam.backgrounds_removed = len(cam.background_ids)
        cam.alert_ids = _expired_alerts(conn, cam)
        cam.alerts_removed = len(cam.alert_ids)
        # Recorded footage expires with the camera's tracks, in the same transaction; a hold that keeps a
        # track keeps the segments that show it (vigie.store.recordings.HELD_SEGMENT).
        cam.segment_ids, cam.segments_held = expired_segments(conn, camera_id, cam.cutoff)
        cam.segments_removed = len(cam.segment_ids)
        plan.append(cam)
    return plan


def _expired_alerts(conn: sqlite3.Connection, cam: CameraPurge) -> list[int]:
    """The camera's alerts over expired footage that no held track keeps.

    An alert's event happens while its tracks are in view, so an alert over a removed track started
    before the cutoff; one that ended before the cutoff goes unless one of its tracks stays (held)."""
    removed = set(cam.track_ids)
    out = []
    for r in conn.execute(
        'SELECT id, track_ids FROM alerts WHERE camera_id = ? AND start < ? AND coalesce("end", start) < ? ORDER BY id',
        (cam.camera_id, cam.cutoff, cam.cutoff),
    ):
        try:
            tracks = [int(t) for t in json.loads(r[1])]
        except (TypeError, ValueError):
            tracks = []
        kept = any(
            t not in removed and conn.execute("SELECT 1 FROM tracks WHERE id = ?", (t,)).fetchone() is not None
            for t in tracks
        )
        if not kept:
            out.append(r[0])
    return out


def _empty_analyses(conn: sqlite3.Connection, cam: CameraPurge, removed: dict[int, int]) -> list[int]:
    """Finished analyses this purge leaves with no tracks, if expired or emptied by it.

    An analysis whose every track just expired goes with them (it only says a
    now-deleted recording was analysed); a running one is never touched."""
    out = []
    for r in conn.execute(
        "SELECT a.id, coalesce(a.finished_at, a.started_at) AS at,"
        " (SELECT count(*) FROM tracks t WHERE t.analysis_id = a.id) AS n"
        " FROM analyses a WHERE a.camera_id = ? AND a.status <> 'running' ORDER BY a.id",
        (cam.camera_id,),
    ):
        gone = removed.get(r["id"], 0)
        if r["n"] == gone and (gone or r["at"] < cam.cutoff):
            out.append(r["id"])
    return out


# --- the deletion: one transaction --------------------------------------------------------------
def _apply(conn: sqlite3.Connection, plan: list[CameraPurge]) -> list[CameraPurge]:
    """Run inside the store's write transaction: any error rolls all of it back."""
    for cam in plan:
        _delete_tracks(conn, cam.track_ids)
        conn.executemany("DELETE FROM backgrounds WHERE id = ?", [(b,) for b in cam.background_ids])
        conn.executemany("DELETE FROM alerts WHERE id = ?", [(a,) for a in cam.alert_ids])
        cam.segment_paths = delete_segments_in(conn, cam.segment_ids)
        _delete_analyses(conn, cam.analysis_ids)
    return plan


def _delete_tracks(conn: sqlite3.Connection, track_ids: list[int]) -> None:
    # Points, colours, thumbnails, crops, vectors and tubes cascade from tracks; the
    # store's trigger aborts the whole purge if a track held by id slipped in.
    conn.executemany("DELETE FROM tracks WHERE id = ?", [(t,) for t in track_ids])


def _delete_analyses(conn: sqlite3.Connection, analysis_ids: list[int]) -> None:
    conn.executemany("DELETE FROM analyses WHERE id = ?", [(a,) for a in analysis_ids])


# --- thumbnail files -----------------------------------------------------------------------------
def _thumb_path(store, camera_id: str, track_id: int) -> Path:
    return Path(store.thumb_dir) / camera_id / f"{track_id}.jpg"


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


def _orphan_thumbnails(store) -> list[Path]:
    """Thumbnail files (thumbnails/<camera>/<track id>.jpg) whose track row is gone.

    Files are written after their rows are committed, so a file without a row is
    left over (a crash after a purge or a replacement), never one in progress."""
    files = {}
    for path in Path(store.thumb_dir).glob("*/*.jpg"):
        if path.stem.isdigit():
            files.setdefault(int(path.stem), []).append(path)
    return _without_track(store, files)


def _orphan_clips(store) -> list[Path]:
    """Cached clips whose track row is gone, and temp files of renders that died.

    A clip is only rendered from a stored track, so one without a row is left
    over; a temp file younger than an hour may be a render in progress and stays."""
    return _without_track(store, clip_files(store)) + stale_temp_clips(store)


def _without_track(store, files: dict[int, list[Path]]) -> list[Path]:
    """The files of the track ids that have no row in the store."""
    if not files:
        return []
    ids = sorted(files)
    present: set[int] = set()
    with store.read() as conn:
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            present |= {
                r[0] for r in conn.execute(f"SELECT id FROM tracks WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            }
    return [p for t in ids if t not in present for p in files[t]]
