"""Build a synopsis from the store: choose the tracks, lay their tubes on one time
grid, pack them (vigie.synopsis.packing), render (vigie.synopsis.render).

Everything comes from what the analysis stored (tubes and period backgrounds,
vigie.synopsis.capture): the source video is never decoded again, and a live
camera, whose video Vigie never records, has synopses too.

The tracks are those a forensic search returns for the camera and the period
with the same filters (`vigie search`'s, the API's): a synopsis of "people in
red going north" is a synopsis of that search's result. Each tube is cut to
the period asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from vigie.errors import VigieError
from vigie.i18n import gettext
from vigie.search.engine import search
from vigie.search.query import parse_query
from vigie.synopsis.capture import StoredTube, decode_tube
from vigie.synopsis.packing import Tube as PackTube  # what the packer needs of a tube: its boxes
from vigie.times import from_iso, iso, parse_time


class SynopsisError(VigieError):
    """A synopsis that cannot be made: says why, and what to do."""


@dataclass(frozen=True)
class Placed:
    """One object of the synopsis: its track, and its tube laid on the synopsis grid."""

    track_id: int
    class_name: str
    tube: StoredTube
    frames: np.ndarray  # (n,) index into the tube for each of its grid frames (held over short gaps)
    original_start: int  # grid frame of its first appearance in the source (0 = the period's first object)
    start: int = 0  # synopsis frame where it is shown first (the packing decides)

    @property
    def length(self) -> int:
        return len(self.frames)


@dataclass
class Selection:
    """What a synopsis is made of, before packing."""

    camera_id: str
    start: datetime
    end: datetime
    fps: float
    origin: datetime  # time of grid frame 0
    objects: list[Placed]
    backgrounds: list[tuple[datetime, datetime, bytes]]  # (start, end, jpeg), time order
    source_s: float  # seconds of video the camera's backgrounds cover in the period
    frame_size: tuple[int, int]
    without_tube: int = 0  # matching tracks analysed before tubes were kept
    filters: dict = field(default_factory=dict)


def matching_tracks(
    store, camera_id: str, start: datetime, end: datetime, filters: dict | None = None, max_tracks: int = 20000
) -> tuple[datetime, datetime, dict, list[int]]:
    """Check a synopsis request and find its tracks: (start, end in UTC, the filters given, track ids
    in time order). Raises SynopsisError for what cannot be made, naming why."""

    filters = {k: v for k, v in (filters or {}).items() if v not in (None, [], {})}
    for reserved in ("cameras", "start", "end", "limit", "offset", "sort"):
        if reserved in filters:
            raise SynopsisError(
                gettext("synopsis filter {reserved}: set by the synopsis itself (camera, from, to)", reserved=reserved)
            )
    start, end = _utc(start, "from"), _utc(end, "to")
    if start >= end:
        raise SynopsisError(
            gettext(
                "synopsis period: 'from' ({value}) must be before 'to' ({value2})", value=iso(start), value2=iso(end)
            )
        )
    with store.read() as conn:
        known = [r[0] for r in conn.execute("SELECT id FROM cameras ORDER BY id")]
    if camera_id not in known:
        raise SynopsisError(
            gettext(
                "camera {camera_id} is not in the store (known: {value})",
                camera_id=repr(camera_id),
                value=", ".join(known) or "none",
            )
        )
    ids: list[int] = []
    while True:
        query = parse_query(
            {
                **filters,
                "cameras": [camera_id],
                "start": start,
                "end": end,
                "sort": "time",
                "limit": 1000,
                "offset": len(ids),
            }
        )
        result = search(store, query)
        if result.total > max_tracks:
            raise SynopsisError(
                gettext(
                    "{total} tracks match: more than {max_tracks} in one synopsis; ask for a shorter period or narrower filters",
                    total=result.total,
                    max_tracks=max_tracks,
                )
            )
        ids += [h.track_id for h in result.hits]
        if not result.hits or len(ids) >= result.total:
            break
    if not ids:
        raise SynopsisError(
            f"no track of camera {camera_id} matches in {iso(start)} - {iso(end)}"
            + (f" with {filters}" if filters else "")
            + ": nothing to show"
        )
    return start, end, filters, ids


def select(
    store, camera_id: str, start: datetime, end: datetime, filters: dict | None = None, max_tracks: int = 20000
) -> Selection:
    """The tracks of `camera_id` in [start, end) that pass `filters` (SearchQuery fields), with their tubes."""
    start, end, filters, ids = matching_tracks(store, camera_id, start, end, filters, max_tracks)
    backgrounds = _backgrounds(store, camera_id, start, end)
    tubes, classes = _tubes(store, ids)
    require_material(camera_id, start, end, len(ids), len(tubes), len(backgrounds))
    fps = _frame_rate(tubes.values())
    t0, t1 = start.timestamp(), end.timestamp()
    first = min(
        float(t.times[(t.times >= t0) & (t.times < t1)].min())
        for t in tubes.values()
        if ((t.times >= t0) & (t.times < t1)).any()
    )
    objects = []
    for tid, tube in tubes.items():
        placed = _on_grid(tid, classes[tid], tube, first, fps, t0, t1)
        if placed is not None:
            objects.append(placed)
    if not objects:
        raise SynopsisError(
            gettext(
                "no tube of the matching tracks has a frame in {value} - {value2}", value=iso(start), value2=iso(end)
            )
        )
    sizes = {t.tube.frame_size for t in objects}
    source_s = sum((min(b, end) - max(a, start)).total_seconds() for a, b, _ in backgrounds)
    return Selection(
        camera_id,
        start,
        end,
        fps,
        datetime.fromtimestamp(first, tz=timezone.utc),
        objects,
        backgrounds,
        source_s,
        max(sizes),
        len(ids) - len(tubes),
        filters,
    )


def require_material(
    camera_id: str, start: datetime, end: datetime, tracks: int, with_tube: int, backgrounds: int
) -> None:
    """A synopsis needs tubes and a background: say what to do when the analysis kept neither."""
    if not with_tube:
        raise SynopsisError(
            gettext(
                "the {tracks} matching tracks have no tube (analysed before Vigie kept them, or with analysis.synopsis off): analyse the recording again to make a synopsis",
                tracks=tracks,
            )
        )
    if not backgrounds:
        raise SynopsisError(
            gettext(
                "camera {camera_id} has no background stored for {value} - {value2} (analysed before Vigie kept them): analyse the recording again",
                camera_id=camera_id,
                value=iso(start),
                value2=iso(end),
            )
        )


def to_pack_tubes(selection: Selection) -> list[PackTube]:
    """The objects as the packer sees them: their box in each grid frame."""
    return [
        PackTube(o.track_id, o.original_start, o.tube.boxes[o.frames].astype(np.float64)) for o in selection.objects
    ]


# --- helpers ---------------------------------------------------------------------------------------------------------------
def _utc(t: datetime, what: str) -> datetime:
    return parse_time(t, f"synopsis {what}:", naive=None, error=SynopsisError)


def _tubes(store, ids: list[int]) -> tuple[dict[int, StoredTube], dict[int, str]]:
    kept = store.tubes_of(ids)  # opened: tubes are sealed at rest
    tubes = {tid: decode_tube(blob) for tid, (_cls, blob) in sorted(kept.items())}
    return tubes, {tid: cls for tid, (cls, _blob) in kept.items()}


def _backgrounds(store, camera_id: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, bytes]]:
    return [(from_iso(a), from_iso(b), jpeg) for a, b, jpeg in store.backgrounds_of(camera_id, start, end)]


def _frame_rate(tubes) -> float:
    """The analysed frame rate: the commonest spacing of consecutive tube frames."""
    steps = np.concatenate([np.diff(t.times) for t in tubes if len(t) > 1] or [np.array([0.2])])
    steps = steps[steps > 1e-3]
    step = float(np.median(steps)) if len(steps) else 0.2
    return round(1.0 / step, 3)


def _on_grid(tid: int, cls: str, tube: StoredTube, first: float, fps: float, t0: float, t1: float) -> Placed | None:
    """The tube's frames inside [t0, t1) on the grid (frame = round((t - first) * fps)); a grid
    frame between two tube frames (the tracker lost the object for a moment) shows the last one."""
    keep = np.flatnonzero((tube.times >= t0) & (tube.times < t1))
    if not len(keep):
        return None
    grid = np.round((tube.times[keep] - first) * fps).astype(np.int64)
    g0, g1 = int(grid[0]), int(grid[-1])
    frames = np.empty(g1 - g0 + 1, np.int64)
    frames[grid - g0] = keep  # a later tube frame on the same grid frame wins
    filled = np.zeros(len(frames), bool)
    filled[grid - g0] = True
    # Hold the last frame across gaps: each grid frame takes the latest filled position at or before it
    # (position 0 is always filled: it is the first kept tube frame).
    latest_filled = np.maximum.accumulate(np.where(filled, np.arange(len(frames)), 0))
    return Placed(tid, cls, tube, frames[latest_filled], g0)
