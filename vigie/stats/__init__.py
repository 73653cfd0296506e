"""Counts and heat maps per camera, over stored tracks (issue 6).

- `hourly_counts`: tracks per class per hour (by the hour they were first seen, UTC).
- `line_counts`: crossings per direction of each line_crossing rule of the camera.
- `heat_map`: where people walk (every point of their feet) or where they stop
  (points where they moved less than `stop_speed` over a second), accumulated
  on the camera's image grid, smoothed, drawn over a frame of its recording
  when one is at hand.

All read the store only; nothing here identifies anyone: it is where feet were.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import av
import cv2
import numpy as np

from vigie.i18n import gettext
from vigie.privacy.masks import PrivacyMask
from vigie.rules.geometry import count_crossings
from vigie.rules.runner import stored_rule_tracks
from vigie.store.sqlite import VISIBLE_ANALYSES
from vigie.store.sqlite import VISIBLE_TRACKS as _VISIBLE
from vigie.store.sqlite import in_view_sql as _window
from vigie.times import from_iso, iso

GRID = 4  # pixels per heat-map cell: fine enough for a 720p view, small enough to smooth cheaply


def hourly_counts(store, camera_id: str, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """[{hour: 'YYYY-MM-DDTHH:00Z', class: ..., tracks: n}] in time order."""
    where, args = _window(start, end)
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT substr(t.first_seen, 1, 13) || ':00Z' AS hour, t.class, count(*) {_VISIBLE}"
            f" AND t.camera_id = ?{where} GROUP BY hour, t.class ORDER BY hour, t.class",
            [camera_id, *args],
        )
        return [{"hour": r[0], "class": r[1], "tracks": r[2]} for r in rows]


def tracks_per_camera(store, start: datetime | None = None, end: datetime | None = None) -> dict[str, int]:
    """{camera id: tracks in view in the period}, cameras without any left out (the dashboard opens on one with data)."""
    where, args = _window(start, end)
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT t.camera_id, count(*) {_VISIBLE}{where} GROUP BY t.camera_id", list(args)
        ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def frame_size(store, camera_id: str) -> tuple[int, int]:
    """(width, height) of the camera's picture, as its tracks were analysed (1280x720 before any)."""
    return _frame_size(store, camera_id)


def line_counts(
    store, site, camera_id: str, start: datetime | None = None, end: datetime | None = None
) -> dict[str, dict]:
    """{line rule name: {"in": n, "out": n}} for the camera's line_crossing rules."""

    camera = next((c for c in getattr(site, "cameras", []) if c.id == camera_id), None)
    lines = [r for r in camera.rules if r.type == "line_crossing"] if camera else []
    if not lines:
        return {}
    tracks = stored_rule_tracks(store, camera_id, start, end)
    return {r.name: count_crossings(r, tracks) for r in lines}


def _frame_size(store, camera_id: str) -> tuple[int, int]:
    with store.read() as conn:
        row = conn.execute(
            f"SELECT t.frame_width, t.frame_height {_VISIBLE} AND t.camera_id = ? AND t.frame_width IS NOT NULL LIMIT 1",
            (camera_id,),
        ).fetchone()
        if row:
            return int(row[0]), int(row[1])
        row = conn.execute(
            "SELECT max(p.x2), max(p.y2) FROM track_points p JOIN tracks t ON t.id = p.track_id WHERE t.camera_id = ?",
            (camera_id,),
        ).fetchone()
    return (int(row[0]) + 1, int(row[1]) + 1) if row and row[0] else (1280, 720)


def heat_map(
    store,
    camera_id: str,
    kind: str = "walk",
    start: datetime | None = None,
    end: datetime | None = None,
    classes: tuple[str, ...] = ("person",),
    stop_speed_px_s: float = 8.0,
) -> tuple[np.ndarray, tuple[int, int]]:
    """(density grid of the feet positions, (width, height) of the camera's frame).

    kind "walk": every point; "stop": points where the feet moved less than
    stop_speed_px_s (pixels per second) since the point about a second before."""
    if kind not in ("walk", "stop"):
        raise ValueError(gettext("heat map kind {kind} is not 'walk' or 'stop'", kind=repr(kind)))
    width, height = _frame_size(store, camera_id)
    grid = np.zeros((height // GRID + 1, width // GRID + 1), np.float32)
    where, args = _window(start, end)
    marks = ",".join("?" * len(classes))
    with store.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                f"SELECT t.id {_VISIBLE} AND t.camera_id = ? AND t.class IN ({marks}){where}",
                [camera_id, *classes, *args],
            )
        ]
        for tid in ids:
            pts = conn.execute(
                "SELECT t, x1, x2, y2 FROM track_points WHERE track_id = ? ORDER BY seq", (tid,)
            ).fetchall()
            if not pts:
                continue
            feet = np.array([((p[1] + p[2]) / 2, p[3]) for p in pts], np.float32)
            keep = np.ones(len(pts), bool)
            if kind == "stop":
                times = np.array([from_iso(p[0]).timestamp() for p in pts])
                back = np.searchsorted(times, times - 1.0)  # the point about a second earlier
                dt = times - times[back]
                moved = np.linalg.norm(feet - feet[back], axis=1)
                keep = (dt >= 0.5) & (moved / np.maximum(dt, 1e-6) < stop_speed_px_s)
            cells = np.clip((feet[keep] / GRID).astype(int), 0, [grid.shape[1] - 1, grid.shape[0] - 1])
            np.add.at(grid, (cells[:, 1], cells[:, 0]), 1.0)
    return grid, (width, height)


def heat_map_png(grid: np.ndarray, size: tuple[int, int], background: np.ndarray | None = None) -> bytes:
    """The grid smoothed and coloured (blue few, red many) over the background frame (or black)."""

    width, height = size
    # Log scale: one person standing still all afternoon must not hide where everyone else walked.
    smooth = np.log1p(cv2.GaussianBlur(grid, (0, 0), sigmaX=3.0) * 10.0)
    peak = float(smooth.max())
    norm = (smooth / peak * 255).astype(np.uint8) if peak > 0 else np.zeros_like(smooth, np.uint8)
    heat = cv2.resize(cv2.applyColorMap(norm, cv2.COLORMAP_JET), (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.resize(norm, (width, height)).astype(np.float32)[..., None] / 255.0 * 0.7
    base = np.zeros((height, width, 3), np.uint8) if background is None else cv2.resize(background, (width, height))
    out = (base * (1 - alpha) + heat * alpha).astype(np.uint8)
    ok, buf = cv2.imencode(".png", out)
    if not ok:
        raise ValueError(gettext("the heat map could not be encoded as PNG"))
    return buf.tobytes()


def background_frame(
    store, camera_id: str, site=None, blurrer=None, since: datetime | None = None
) -> np.ndarray | None:
    """A frame of the camera's latest stored recording, privacy masks burned in and blurred; None if none is readable.

    since (a role's window: an operator's last 24 hours): only a recording whose tracks were all first seen at or
    after it, so that its first frame is footage of the window, not older (None when there is none)."""
    within = (
        ""
        if since is None
        else (
            " AND EXISTS (SELECT 1 FROM tracks t WHERE t.analysis_id = analyses.id)"
            " AND NOT EXISTS (SELECT 1 FROM tracks t WHERE t.analysis_id = analyses.id AND t.first_seen < ?)"
        )
    )
    args = (camera_id,) if since is None else (camera_id, iso(since))
    with store.read() as conn:
        row = conn.execute(
            f"SELECT source FROM analyses WHERE camera_id = ? AND {VISIBLE_ANALYSES}{within} ORDER BY id DESC LIMIT 1",
            args,
        ).fetchone()
    if row is None or not Path(row[0]).is_file() or blurrer is None:
        return None  # no picture rather than an unblurred one

    try:
        with av.open(row[0]) as container:
            frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    except Exception:  # a moved or unreadable recording: the heat map is drawn on black
        return None
    if site is not None:
        try:
            polygons = site.camera(camera_id).privacy_masks
        except Exception:
            polygons = []
        if polygons:
            frame[PrivacyMask(polygons).mask_for(frame.shape, 1.0)] = 0
    blurred, _ = blurrer.blur(frame)
    return blurred
