"""What the crowd and incident rules share: their base settings, and tracks sampled on a time grid.

Time grid. These rules look at everybody at once, so tracks are sampled on a
regular grid of `step_s` seconds (0.5 s by default), anchored on whole
multiples of the step since the Unix epoch: re-evaluating an overlapping
window of the same tracks gives the same sample times, hence the same event
starts (Event.key). Between two of its points a track's position and box are
interpolated linearly; across a gap longer than `max_gap_s` (the tracker lost
it) it is absent.

Jitter. A detector moves feet by a few pixels a frame (tens of centimetres
far from the camera): every rule pairs a distance threshold with a duration
(or a measuring window) that jitter alone cannot pass.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vigie.rules.base import Event, Point, RuleTrack
from vigie.zones import polygon_area

PERSON = "person"
PERSON_HEIGHT_M = 1.70  # scale of an uncalibrated image, from a person's box height (crowd movement only)
EPS = 1e-6


def check_polygon(v: list[Point]) -> list[Point]:
    if len(v) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(v)}")
    if any(x < 0 or y < 0 for x, y in v):
        raise ValueError("a negative coordinate: zone points are image pixels")
    if polygon_area(np.asarray(v, float)) <= 0.0:
        raise ValueError("the polygon's points are all on one line: it has no inside")
    return v


class GridRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The rule's name in the site file; events carry it.", min_length=1, max_length=100)
    step_s: float = Field(0.5, gt=0, le=5, description="Sampling step of the time grid, seconds (module doc).")
    max_gap_s: float = Field(
        2.0,
        gt=0,
        description="A track is interpolated across gaps up to this long (the "
        "tracker lost it and found it again), and a condition that lapses for no longer than "
        "this goes on as the same event.",
    )

    def needs_calibration(self) -> bool:
        """True where the rule cannot run on an uncalibrated camera as configured."""
        return False


# --- sampling on the time grid ---------------------------------------------------------
@dataclass
class Series:
    """One track sampled on the grid, from grid index k0 on."""

    track: RuleTrack
    k0: int
    present: np.ndarray  # (L,) bool
    px: np.ndarray  # (L, 2) feet, image pixels
    ground: np.ndarray | None  # (L, 2) metres, where every point has one
    wh: np.ndarray  # (L, 2) box width, height in pixels

    def local(self, k: int) -> int | None:
        i = k - self.k0
        return i if 0 <= i < len(self.present) and self.present[i] else None

    def pos(self, use_ground: bool) -> np.ndarray:
        return self.ground if use_ground else self.px


def sample_track(track: RuleTrack, step: float, max_gap: float) -> Series | None:
    pts = sorted(track.points, key=lambda p: p.timestamp)
    if not pts:
        return None
    t = np.array([p.timestamp.timestamp() for p in pts])
    keep = np.r_[np.diff(t) > 0, True]  # one point per instant (the last)
    pts = [p for p, k in zip(pts, keep) if k]
    t = t[keep]
    xyxy = np.array([p.xyxy for p in pts], float).reshape(-1, 4)
    px = np.c_[(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]]
    wh = np.c_[xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]]
    has_ground = all(p.ground_xy is not None for p in pts)
    ground = np.array([p.ground_xy for p in pts], float).reshape(-1, 2) if has_ground else None
    k0 = math.ceil(t[0] / step - EPS)
    k1 = math.floor(t[-1] / step + EPS)
    if k1 < k0:
        return None
    g = np.arange(k0, k1 + 1) * step
    left = np.clip(np.searchsorted(t, g + EPS, side="right") - 1, 0, len(t) - 1)
    right = np.minimum(left + 1, len(t) - 1)
    present = (np.abs(g - t[left]) < EPS) | (t[right] - t[left] <= max_gap + EPS)

    def interp(cols: np.ndarray) -> np.ndarray:
        return np.c_[np.interp(g, t, cols[:, 0]), np.interp(g, t, cols[:, 1])]

    return Series(track, k0, present, interp(px), interp(ground) if ground is not None else None, interp(wh))


def sample_tracks(tracks: Sequence[RuleTrack], step: float, max_gap: float) -> list[Series]:
    return [s for s in (sample_track(t, step, max_gap) for t in tracks) if s is not None]


def grouped_by_step(series: Sequence[Series]) -> dict[int, list[tuple[Series, int]]]:
    """Grid index -> the series present then, with their local index."""
    out: dict[int, list[tuple[Series, int]]] = defaultdict(list)
    for s in series:
        for i in np.flatnonzero(s.present):
            out[s.k0 + int(i)].append((s, int(i)))
    return out


def grid_time(k: int | float, step: float) -> datetime:
    return datetime.fromtimestamp(round(k * step, 6), tz=timezone.utc)


def has_ground(series: Sequence[Series]) -> bool:
    return all(s.ground is not None for s in series)


def pairwise_distances(pos: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=2)


def cluster_indices(dist: np.ndarray, radius: float) -> list[np.ndarray]:
    """Single-linkage groups (DBSCAN with min_samples=1) from a distance matrix:
    indexes linked by a chain of pairs at most radius apart."""
    n = len(dist)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(dist <= radius, 1))):
        parent[find(int(i))] = find(int(j))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return [np.array(g) for g in groups.values()]


def condition_runs(ks: Sequence[int], max_gap_steps: float) -> list[tuple[int, int]]:
    """Sorted grid indexes -> (first, last) of runs whose holes are at most max_gap_steps long."""
    runs: list[tuple[int, int]] = []
    for k in ks:
        if runs and k - runs[-1][1] <= max_gap_steps + EPS:
            runs[-1] = (runs[-1][0], k)
        else:
            runs.append((k, k))
    return runs


def sorted_events(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.start, e.track_ids))


def people_only(tracks: Sequence[RuleTrack]) -> list[RuleTrack]:
    return [t for t in tracks if t.class_name == PERSON and t.points]


def as_point(p: np.ndarray) -> Point:
    return (round(float(p[0]), 1), round(float(p[1]), 1))
