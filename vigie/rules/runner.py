"""Running a camera's rules over its stored tracks, and turning the events into alerts.

The same function serves the forensic question ("which rules would have fired
on this recording?", `vigie rules check`) and the live one (vigie run calls it
on a sliding window after each batch of finished tracks): events already
recorded are recognised by their key and not alerted twice. Each new alert
carries a snapshot: the best crop of the event's first track, blurred before it
is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from vigie.alerts import store as alerts
from vigie.rules.base import Event, RuleContext, RuleTrack
from vigie.rules.registry import evaluate
from vigie.store.sqlite import VISIBLE_TRACKS, in_view_sql
from vigie.times import from_iso
from vigie.types import TrackPoint


def stored_rule_tracks(
    store, camera_id: str, start: datetime | None = None, end: datetime | None = None
) -> list[RuleTrack]:
    """The camera's visible tracks in view during [start, end), with their points, oldest first."""
    window, args = in_view_sql(start, end)
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT t.id, t.class {VISIBLE_TRACKS} AND t.camera_id = ?{window} ORDER BY t.first_seen, t.id",
            [camera_id, *args],
        ).fetchall()
        tracks = []
        for r in rows:
            pts = [
                TrackPoint(
                    p["seq"],
                    from_iso(p["t"]),
                    (p["x1"], p["y1"], p["x2"], p["y2"]),
                    p["confidence"],
                    (p["ground_x"], p["ground_y"]) if p["ground_x"] is not None else None,
                )
                for p in conn.execute("SELECT * FROM track_points WHERE track_id = ? ORDER BY seq", (r["id"],))
            ]
            tracks.append(RuleTrack(r["id"], r["class"], pts))
    return tracks


def camera_events(
    store, site, camera_id: str, start: datetime | None = None, end: datetime | None = None
) -> list[Event]:
    """Every event of the camera's rules (site file) over its stored tracks in the window."""
    camera = site.camera(camera_id)
    if not camera.rules:
        return []
    tracks = stored_rule_tracks(store, camera_id, start, end)
    context = RuleContext(camera_id)
    events = [e for rule in camera.rules for e in evaluate(rule, tracks, context)]
    return sorted(events, key=lambda e: (e.start, e.rule))


def _snapshot(store, event: Event, blurrer) -> bytes | None:
    """The best crop of the event's first track, blurred (None without a blurrer: never unblurred)."""
    if blurrer is None or not event.track_ids:
        return None
    import cv2
    import numpy as np

    with store.read() as conn:
        row = conn.execute(
            "SELECT th.jpeg, t.class FROM thumbnails th JOIN tracks t ON t.id = th.track_id WHERE th.track_id = ?",
            (event.track_ids[0],),
        ).fetchone()
    if row is None:
        return None
    image = cv2.imdecode(np.frombuffer(store.pictures.open(row[0]), np.uint8), cv2.IMREAD_COLOR)  # sealed at rest
    if image is None:
        return None
    blurred, _ = blurrer.blur_crop(image, row[1])
    ok, buf = cv2.imencode(".jpg", blurred, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return buf.tobytes() if ok else None


def raise_alerts(store, events: Iterable[Event], blurrer=None, notifier=None) -> list[int]:
    """Record the events not recorded yet as alerts (with blurred snapshots); send the new ones on."""
    events = list(events)
    known = set()
    with store.read() as conn:
        for e in events:
            if conn.execute("SELECT 1 FROM alerts WHERE event_key = ?", (alerts.event_key(e),)).fetchone():
                known.add(alerts.event_key(e))
    fresh = [e for e in events if alerts.event_key(e) not in known]
    snapshots = {alerts.event_key(e): s for e in fresh if (s := _snapshot(store, e, blurrer)) is not None}
    ids = alerts.record(store, fresh, snapshots)
    if notifier is not None:
        for alert_id in ids:
            notifier.notify(alerts.get_alert(store, alert_id))
    return ids
