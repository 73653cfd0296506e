"""Tracks read back from a store with their points, to compare two runs (the scale-out tests and benchmark)."""

from __future__ import annotations

from vigie.store.sqlite import SQLiteStore
from vigie.types import TrackPoint, TrackSummary


def stored_tracks(data_dir, camera_id: str) -> list[TrackSummary]:
    """The store's tracks in time order, rebuilt with their points (times as stored: ISO text) and colours."""
    with SQLiteStore(data_dir) as store:
        out = []
        for t in sorted(store.list_tracks(limit=100_000), key=lambda t: (t["first_seen"], t["id"])):
            pts = [
                TrackPoint(p["seq"], p["t"], (p["x1"], p["y1"], p["x2"], p["y2"]), p["confidence"])
                for p in store.track_points(t["id"])
            ]
            out.append(
                TrackSummary(
                    camera_id,
                    t["track_no"],
                    t["class"],
                    pts[0].timestamp,
                    pts[-1].timestamp,
                    pts,
                    upper_colours=t["upper"],
                    lower_colours=t["lower"],
                )
            )
        return out


def track_attributes(t: TrackSummary) -> tuple:
    """What two runs must agree on, attribute for attribute: class, times, colours, every point's frame and box."""
    return (
        t.class_name,
        t.first_seen,
        t.last_seen,
        tuple(t.upper_colours),
        tuple(t.lower_colours),
        tuple((p.seq, tuple(round(v, 2) for v in p.xyxy)) for p in t.points),
    )
