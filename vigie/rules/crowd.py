"""The crowd and body rules: gathering, excessive density, crowd movement,
abandoned object, person on the ground.

Each rule is a pydantic config (a `type` tag for the site file's
discriminated union, the `name` its events carry) and a pure function
`rule(config, tracks, context) -> list[Event]` (vigie.rules.base says why
pure); `evaluate` dispatches on the config's type.

Time grid. The crowd rules look at everybody at once, so tracks are sampled
on a regular grid of `step_s` seconds (0.5 s by default), anchored on whole
multiples of the step since the Unix epoch: re-evaluating an overlapping
window of the same tracks gives the same sample times, hence the same event
starts (Event.key). Between two of its points a track's position and box are
interpolated linearly; across a gap longer than `max_gap_s` (the tracker lost
it) it is absent.

Units. Where the camera is calibrated every point carries its ground position
(TrackPoint.ground_xy, metres) and distances are metres. Where it is not:
- gathering works on image pixels only if its config gives `radius_px`;
  otherwise it raises NeedsCalibration (evaluate time), and
  `check_calibration(config, calibrated)` says so when the site is loaded;
- density needs the zone's area in m2: `area_m2`, or the ground projection of
  the zone (see `zone_area_m2` and density's doc), else NeedsCalibration;
- crowd movement converts image distances to metres with each person's own
  box height taken as 1.70 m (approximate, said in the event's details);
- abandoned object uses its `*_px` distances.

Jitter. A detector moves feet by a few pixels a frame (tens of centimetres
far from the camera): every rule pairs a distance threshold with a duration
(or a measuring window) that jitter alone cannot pass.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Sequence, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from vigie.errors import ConfigError
from vigie.rules.base import Event, Point, RuleContext, RuleTrack
from vigie.types import CARRIED_OBJECTS

PERSON = "person"
PERSON_HEIGHT_M = 1.70  # scale of an uncalibrated image, from a person's box height (crowd movement only)
EPS = 1e-6

# The décret n° 2023-828 (algorithmic video surveillance, law 2023-380 for the
# 2024 Olympics) lists eight events. Vigie implements six (here and in
# vigie.rules.geometry); for these two no model in any package registry Vigie
# draws on is trained and evaluated for them, so Vigie does not detect them
# rather than pretend.
NOT_SUPPORTED: dict[str, str] = {
    "weapon": "Listed by décret 2023-828 (presence or use of weapons), but no model in the registries Vigie uses "
    "(PyPI, npm, its model list) is trained and evaluated for weapon detection in CCTV footage; "
    "COCO detectors have no weapon class (their 'knife' is cutlery). Vigie does not pretend to detect it.",
    "fire": "Listed by décret 2023-828 (départs de feux), but no model in the registries Vigie uses is trained and "
    "evaluated for fire or smoke in CCTV footage; COCO has no such class. Vigie does not pretend to detect it.",
}


class NeedsCalibration(ConfigError):
    """A rule that needs ground distances (metres) on a camera that has none."""


# --- configs ---------------------------------------------------------------------------
def _check_polygon(v: list[Point]) -> list[Point]:
    if len(v) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(v)}")
    if any(x < 0 or y < 0 for x, y in v):
        raise ValueError("a negative coordinate: zone points are image pixels")
    if _shoelace(np.asarray(v, float)) <= 0.0:
        raise ValueError("the polygon's points are all on one line: it has no inside")
    return v


class _Rule(BaseModel):
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


class GatheringConfig(_Rule):
    """At least min_people within radius of each other (single linkage) for min_duration_s."""

    type: Literal["gathering"] = "gathering"
    min_people: int = Field(3, ge=2, description="Smallest group that counts.")
    radius_m: float = Field(
        2.0,
        gt=0,
        description="Two people closer than this on the ground are together; "
        "a group is everyone linked by such pairs (single linkage).",
    )
    radius_px: float | None = Field(
        None,
        gt=0,
        description="The same in image pixels, used only where the camera is "
        "not calibrated; without it the rule needs a calibrated camera.",
    )
    min_duration_s: float = Field(5.0, gt=0, description="A group must last this long to be an event.")
    min_overlap: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Jaccard overlap of members from one sample to the next "
        "above which a group is the same group (people joining or leaving).",
    )

    def needs_calibration(self) -> bool:
        return self.radius_px is None


class DensityConfig(_Rule):
    """More than max_per_m2 people per square metre inside a zone for min_duration_s."""

    type: Literal["density"] = "density"
    zone: list[Point] = Field(description="The watched area: at least three [x, y] image points (source pixels).")
    max_per_m2: float = Field(2.0, gt=0, description="People per m2 above which the zone is too dense.")
    area_m2: float | None = Field(
        None,
        gt=0,
        description="The zone's ground area in m2; None: the ground projection "
        "of the zone (needs a calibrated camera).",
    )
    min_duration_s: float = Field(5.0, gt=0, description="Density must stay above the limit this long.")

    _zone = field_validator("zone")(_check_polygon)

    def needs_calibration(self) -> bool:
        return self.area_m2 is None


class CrowdMovementConfig(_Rule):
    """Sudden collective acceleration or dispersal (criteria in crowd_movement's doc)."""

    type: Literal["crowd_movement"] = "crowd_movement"
    triggers: list[Literal["acceleration", "dispersal"]] = Field(
        default_factory=lambda: ["acceleration", "dispersal"], min_length=1, description="What to watch for."
    )
    min_people: int = Field(4, ge=2, description="People the criteria are computed over, at least.")
    window_s: float = Field(2.0, gt=0, description="The change must happen within this long (t - window_s to t).")
    speed_window_s: float = Field(1.0, gt=0, description="A person's speed is their displacement over this long.")
    speed_factor: float = Field(
        2.0,
        gt=1,
        description="Acceleration: the median speed becomes at least this many times what it was window_s earlier...",
    )
    min_speed_m_s: float = Field(2.5, gt=0, description="...and at least this fast (m/s): running, not a brisker walk.")
    baseline_floor_m_s: float = Field(
        0.5,
        gt=0,
        description="Earlier median speeds below this count as this much "
        "(a standing crowd's jitter is no baseline to multiply).",
    )
    group_radius_m: float = Field(
        2.0, gt=0, description="Dispersal: a group is people linked by pairs closer than this."
    )
    dispersal_m_s: float = Field(
        2.0,
        gt=0,
        description="Dispersal: the group's mean distance from its centroid grows "
        "at least this fast (m/s); people walking apart reach about 1.4.",
    )


class AbandonedObjectConfig(_Rule):
    """An object left static with nobody near it for min_duration_s; one event per object."""

    type: Literal["abandoned_object"] = "abandoned_object"
    object_classes: list[str] = Field(
        default_factory=lambda: list(CARRIED_OBJECTS),
        min_length=1,
        description="Classes of track that are objects one can leave behind: "
        f"any of {', '.join(CARRIED_OBJECTS)} (the camera then tracks them).",
    )
    min_duration_s: float = Field(30.0, gt=0, description="Static and unattended this long makes an event.")
    static_m: float = Field(
        0.5, gt=0, description="An object moving less than this (m) from where it settled is static."
    )
    static_px: float = Field(15.0, gt=0, description="The same in image pixels, where the camera is not calibrated.")
    person_radius_m: float = Field(3.0, gt=0, description="A person closer than this (m) attends the object.")
    person_radius_px: float = Field(
        150.0, gt=0, description="The same in image pixels, where the camera is not calibrated."
    )
    owner_window_s: float = Field(
        2.0, gt=0, description="The owner is the person nearest the object within this long of its first sighting."
    )

    @field_validator("object_classes")
    @classmethod
    def _no_person(cls, v: list[str]) -> list[str]:
        if PERSON in v:
            raise ValueError("'person' is not an object one leaves behind")
        other = [c for c in v if c not in CARRIED_OBJECTS]
        if other:
            raise ValueError(
                f"{other[0]!r} is not an object the detector knows one can leave behind "
                f"(any of {', '.join(CARRIED_OBJECTS)})"
            )
        return v


class PersonOnGroundConfig(_Rule):
    """A person whose box turns horizontal, or stays low, for min_duration_s."""

    type: Literal["person_on_ground"] = "person_on_ground"
    min_aspect: float = Field(1.2, gt=0, description="Box width/height above this: the body is horizontal.")
    max_height_ratio: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Box height below this fraction of the person's own standing height: the body is low.",
    )
    standing_window_s: float = Field(
        5.0,
        gt=0,
        description="The standing height is the median height of the upright "
        "boxes of the last this-many seconds (perspective changes it as people walk).",
    )
    upright_aspect: float = Field(0.75, gt=0, description="Boxes narrower than this (width/height) are upright.")
    min_duration_s: float = Field(10.0, gt=0, description="Down this long makes an event (bending over does not).")

    @model_validator(mode="after")
    def _upright_below_horizontal(self) -> "PersonOnGroundConfig":
        if self.upright_aspect >= self.min_aspect:
            raise ValueError(f"upright_aspect ({self.upright_aspect}) must be below min_aspect ({self.min_aspect})")
        return self


CrowdRuleConfig = Annotated[
    Union[GatheringConfig, DensityConfig, CrowdMovementConfig, AbandonedObjectConfig, PersonOnGroundConfig],
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter = TypeAdapter(CrowdRuleConfig)


def parse_rule(raw: dict[str, Any]) -> CrowdRuleConfig:
    """One rule from plain data (a site file's entry), or ConfigError naming the rule and the field."""
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        who = f"rule {raw.get('name')!r}" if isinstance(raw, dict) and raw.get("name") else "rule"
        kind = f" ({raw.get('type')})" if isinstance(raw, dict) and raw.get("type") else ""
        problems = []
        for e in exc.errors()[:5]:
            loc = [str(p) for p in e["loc"]]
            if loc and isinstance(raw, dict) and loc[0] == raw.get("type"):
                loc = loc[1:]  # the union's tag, not a field
            problems.append(f"field {'.'.join(loc)}: {e['msg']}" if loc else e["msg"])
        raise ConfigError(f"{who}{kind}: " + "; ".join(problems)) from None


def check_calibration(config: _Rule, calibrated: bool, camera_id: str = "") -> None:
    """At site load: refuse a rule that needs ground distances on a camera without calibration."""
    if not calibrated and config.needs_calibration():
        raise NeedsCalibration(_needs_calibration_message(config, camera_id))


def _needs_calibration_message(config: _Rule, camera_id: str) -> str:
    fix = {
        "gathering": "calibrate the camera or give radius_px",
        "density": "calibrate the camera or give area_m2",
    }.get(config.type, "calibrate the camera")
    cam = f"camera {camera_id!r}" if camera_id else "the camera"
    return f"rule {config.name!r} ({config.type}) needs a calibrated camera: {cam} has no ground positions; {fix}"


# --- sampling on the time grid ---------------------------------------------------------
@dataclass
class _Series:
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


def _sample(track: RuleTrack, step: float, max_gap: float) -> _Series | None:
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

    return _Series(track, k0, present, interp(px), interp(ground) if ground is not None else None, interp(wh))


def _sample_all(tracks: Sequence[RuleTrack], step: float, max_gap: float) -> list[_Series]:
    return [s for s in (_sample(t, step, max_gap) for t in tracks) if s is not None]


def _by_step(series: Sequence[_Series]) -> dict[int, list[tuple[_Series, int]]]:
    """Grid index -> the series present then, with their local index."""
    out: dict[int, list[tuple[_Series, int]]] = defaultdict(list)
    for s in series:
        for i in np.flatnonzero(s.present):
            out[s.k0 + int(i)].append((s, int(i)))
    return out


def _time(k: int | float, step: float) -> datetime:
    return datetime.fromtimestamp(round(k * step, 6), tz=timezone.utc)


def _use_ground(series: Sequence[_Series]) -> bool:
    return all(s.ground is not None for s in series)


def _pairwise(pos: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=2)


def _clusters(dist: np.ndarray, radius: float) -> list[np.ndarray]:
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


def _runs(ks: Sequence[int], max_gap_steps: float) -> list[tuple[int, int]]:
    """Sorted grid indexes -> (first, last) of runs whose holes are at most max_gap_steps long."""
    runs: list[tuple[int, int]] = []
    for k in ks:
        if runs and k - runs[-1][1] <= max_gap_steps + EPS:
            runs[-1] = (runs[-1][0], k)
        else:
            runs.append((k, k))
    return runs


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.start, e.track_ids))


def _people(tracks: Sequence[RuleTrack]) -> list[RuleTrack]:
    return [t for t in tracks if t.class_name == PERSON and t.points]


def _point(p: np.ndarray) -> Point:
    return (round(float(p[0]), 1), round(float(p[1]), 1))


# --- gathering -------------------------------------------------------------------------
@dataclass
class _Group:
    start: int
    last: int
    current: frozenset[int]
    members: set[int]
    peak: int
    peak_k: int
    peak_where: np.ndarray
    sizes: list[int]


def gathering(config: GatheringConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """Groups of at least min_people, each within radius of another member, lasting min_duration_s.

    At each grid time the people present are clustered by single linkage on
    their ground positions (image feet with radius_px where the camera is not
    calibrated). A cluster of min_people or more continues the group of the
    previous times whose last members it overlaps most, with Jaccard overlap
    at least min_overlap (matched greedily, one to one), so a group people
    join and leave is one event; otherwise it starts a new group. A group
    unseen for more than max_gap_s is over. It is an event if it lasted
    min_duration_s (first to last time seen): start/end are those times,
    track_ids everyone who was a member at some time; details: peak size,
    duration, mean size, radius and unit.
    """
    series = _sample_all(_people(tracks), config.step_s, config.max_gap_s)
    use_ground = _use_ground(series)
    if not use_ground and config.radius_px is None:
        raise NeedsCalibration(_needs_calibration_message(config, context.camera_id))
    radius = config.radius_m if use_ground else config.radius_px
    gap_steps = config.max_gap_s / config.step_s
    active: list[_Group] = []
    done: list[_Group] = []
    snapshots = _by_step(series)
    for k in sorted(snapshots):
        present = snapshots[k]
        ids = np.array([s.track.track_id for s, _ in present])
        pos = np.array([s.pos(use_ground)[i] for s, i in present]).reshape(-1, 2)
        feet = np.array([s.px[i] for s, i in present]).reshape(-1, 2)
        still = []
        for g in active:
            (done if k - g.last > gap_steps + EPS else still).append(g)
        active = still
        clusters = [c for c in _clusters(_pairwise(pos), radius) if len(c) >= config.min_people]
        sets = [frozenset(int(x) for x in ids[c]) for c in clusters]
        pairs = sorted(
            (
                (len(s & g.current) / len(s | g.current), gi, ci)
                for gi, g in enumerate(active)
                for ci, s in enumerate(sets)
            ),
            reverse=True,
        )
        used_g, used_c = set(), set()
        for jac, gi, ci in pairs:
            if jac + EPS < config.min_overlap or gi in used_g or ci in used_c:
                continue
            used_g.add(gi)
            used_c.add(ci)
            g, s = active[gi], sets[ci]
            g.last, g.current = k, s
            g.members |= s
            g.sizes.append(len(s))
            if len(s) > g.peak:
                g.peak, g.peak_k, g.peak_where = len(s), k, feet[clusters[ci]].mean(axis=0)
        for ci, s in enumerate(sets):
            if ci not in used_c:
                active.append(_Group(k, k, s, set(s), len(s), k, feet[clusters[ci]].mean(axis=0), [len(s)]))
    done.extend(active)
    events = []
    for g in done:
        seconds = (g.last - g.start) * config.step_s
        if seconds + EPS < config.min_duration_s:
            continue
        events.append(
            Event(
                config.name,
                "gathering",
                context.camera_id,
                _time(g.start, config.step_s),
                _time(g.last, config.step_s),
                tuple(sorted(g.members)),
                _point(g.peak_where),
                {
                    "peak_size": g.peak,
                    "duration_s": round(seconds, 2),
                    "mean_size": round(float(np.mean(g.sizes)), 2),
                    "people_seen": len(g.members),
                    "peak_at": _time(g.peak_k, config.step_s).isoformat(),
                    "radius": radius,
                    "unit": "m" if use_ground else "px",
                },
            )
        )
    return _sorted(events)


# --- density ---------------------------------------------------------------------------
def _shoelace(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2.0


def _inside(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd ray casting, vectorised over points."""
    x, y = points[:, 0][:, None], points[:, 1][:, None]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    straddle = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return (np.sum(straddle & (x < x_cross), axis=1) % 2) == 1


def _project(matrix: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """Image points through an image->ground homography; None if one lies beyond the horizon."""
    h = np.c_[points, np.ones(len(points))] @ matrix.T
    w = h[:, 2]
    if np.any(np.abs(w) < 1e-12) or (np.any(w < 0) and np.any(w > 0)):
        return None
    return h[:, :2] / w[:, None]


def zone_area_m2(zone: Sequence[Point], image_points: Sequence[Point], ground_points_m: Sequence[Point]) -> float:
    """Ground area (m2) of an image polygon, from a camera's calibration (four point pairs).

    For the site loader: fill DensityConfig.area_m2 from the camera's
    calibration, so the rule does not have to recover it from the tracks.
    """
    from vigie.describe.kinematics import GroundPlane

    matrix = GroundPlane(image_points, ground_points_m).matrix
    ground = _project(np.asarray(matrix, float), np.asarray(zone, float))
    if ground is None:
        raise ConfigError(
            "the zone reaches beyond the horizon of the camera's calibration: its ground area is infinite"
        )
    return _shoelace(ground)


def _homography_from_tracks(tracks: Sequence[RuleTrack], zone: np.ndarray) -> np.ndarray | None:
    """The image->ground homography, recovered from the tracks' own (feet pixel, ground) pairs.

    RuleContext carries no calibration; each calibrated point's ground
    position is the calibration's homography applied to its feet, so the
    pairs give the homography back (least squares, normalised DLT). Trusted
    only if the pairs spread over an area (convex hull) of at least 400 px2
    and 5% of the zone, and reproduce every ground position to 5 cm.
    """
    pairs = [(f, p.ground_xy) for t in tracks for f, p in zip(t.feet(), t.points) if p.ground_xy is not None]
    if len(pairs) < 4:
        return None
    src = np.array([f for f, _ in pairs], float)
    dst = np.array([g for _, g in pairs], float)
    src, idx = np.unique(np.round(src, 3), axis=0, return_index=True)
    dst = dst[idx]
    if len(src) < 4:
        return None
    import cv2

    hull = cv2.convexHull(src.astype(np.float32))
    if cv2.contourArea(hull) < max(400.0, 0.05 * _shoelace(zone)):
        return None

    def normaliser(p: np.ndarray) -> np.ndarray:
        c = p.mean(axis=0)
        s = math.sqrt(2) / max(float(np.mean(np.linalg.norm(p - c, axis=1))), 1e-12)
        return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]])

    ts, td = normaliser(src), normaliser(dst)
    a = np.c_[src, np.ones(len(src))] @ ts.T
    b = np.c_[dst, np.ones(len(dst))] @ td.T
    rows = []
    for (x, y, _), (u, v, _) in zip(a, b):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.array(rows))
    h = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    if abs(h[2, 2]) > 1e-12:
        h = h / h[2, 2]
    back = _project(h, src)
    if back is None or float(np.max(np.linalg.norm(back - dst, axis=1))) > 0.05:
        return None
    return h


def density(config: DensityConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """More than max_per_m2 people per m2 in the zone for min_duration_s.

    People are counted at each grid time by their (interpolated) feet inside
    the image polygon; density = count / area, strictly above max_per_m2.
    Area: area_m2 if configured (zone_area_m2 computes it from a calibration),
    else the zone's corners projected to the ground with the homography the
    calibrated tracks' own pairs give back (_homography_from_tracks); neither:
    NeedsCalibration. Times above the limit with holes of at most max_gap_s
    form one stretch; a stretch lasting min_duration_s (first to last time
    above) is an event: track_ids everyone inside during it; details: area,
    peak people and density, duration.
    """
    series = _sample_all(_people(tracks), config.step_s, config.max_gap_s)
    zone = np.asarray(config.zone, float)
    snapshots = _by_step(series)
    inside: dict[int, list[int]] = {}
    for k in sorted(snapshots):
        present = snapshots[k]
        feet = np.array([s.px[i] for s, i in present]).reshape(-1, 2)
        mask = _inside(feet, zone)
        if mask.any():
            inside[k] = [int(present[j][0].track.track_id) for j in np.flatnonzero(mask)]
    if not inside:
        return []
    area = config.area_m2
    if area is None:
        calibrated = [s.track for s in series if s.ground is not None]
        if not calibrated:
            raise NeedsCalibration(_needs_calibration_message(config, context.camera_id))
        matrix = _homography_from_tracks(calibrated, zone)
        ground = _project(matrix, zone) if matrix is not None else None
        if ground is None:
            raise NeedsCalibration(
                f"rule {config.name!r} (density): camera {context.camera_id!r}: the tracks' ground positions do not "
                "give the zone's ground area (too few distinct positions, or the zone reaches the horizon); give area_m2"
            )
        area = _shoelace(ground)
    over = [k for k in sorted(inside) if len(inside[k]) / area > config.max_per_m2 + EPS]
    events = []
    for a, b in _runs(over, config.max_gap_s / config.step_s):
        seconds = (b - a) * config.step_s
        if seconds + EPS < config.min_duration_s:
            continue
        ks = [k for k in inside if a <= k <= b]
        counts = [len(inside[k]) for k in ks]
        ids = sorted({i for k in ks for i in inside[k]})
        events.append(
            Event(
                config.name,
                "density",
                context.camera_id,
                _time(a, config.step_s),
                _time(b, config.step_s),
                tuple(ids),
                _point(zone.mean(axis=0)),
                {
                    "area_m2": round(area, 2),
                    "peak_people": max(counts),
                    "peak_per_m2": round(max(counts) / area, 3),
                    "mean_per_m2": round(float(np.mean(counts)) / area, 3),
                    "limit_per_m2": config.max_per_m2,
                    "duration_s": round(seconds, 2),
                },
            )
        )
    return _sorted(events)


# --- crowd movement --------------------------------------------------------------------
def _displacement(s: _Series, i: int, j: int, use_ground: bool) -> float:
    """Metres one person moved between local indexes j and i (box heights as scale if uncalibrated)."""
    if use_ground:
        return float(np.linalg.norm(s.ground[i] - s.ground[j]))
    scale = PERSON_HEIGHT_M / max(float(s.wh[i, 1] + s.wh[j, 1]) / 2, 1.0)
    return float(np.linalg.norm(s.px[i] - s.px[j])) * scale


def _distances(at: Sequence[tuple[_Series, int]], use_ground: bool) -> np.ndarray:
    """Pairwise distances in metres between people (series, local index); uncalibrated:
    image distance scaled by the pair's mean box height (PERSON_HEIGHT_M)."""
    if use_ground:
        return _pairwise(np.array([s.ground[i] for s, i in at]).reshape(-1, 2))
    h = np.array([max(float(s.wh[i, 1]), 1.0) for s, i in at])
    return (
        _pairwise(np.array([s.px[i] for s, i in at]).reshape(-1, 2)) * PERSON_HEIGHT_M / ((h[:, None] + h[None, :]) / 2)
    )


def _spread(at: Sequence[tuple[_Series, int]], use_ground: bool) -> float:
    """Mean distance (m) of people from their centroid; uncalibrated: scaled by their median box height."""
    if use_ground:
        pos = np.array([s.ground[i] for s, i in at])
        scale = 1.0
    else:
        pos = np.array([s.px[i] for s, i in at])
        scale = PERSON_HEIGHT_M / max(float(np.median([s.wh[i, 1] for s, i in at])), 1.0)
    return float(np.mean(np.linalg.norm(pos - pos.mean(axis=0), axis=1))) * scale


def crowd_movement(config: CrowdMovementConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """Sudden collective acceleration or dispersal.

    Speeds and distances are ground metres; on an uncalibrated camera, image
    pixels scaled by each person's box height taken as 1.70 m (approximate;
    details say "scale": "box height"). With W = window_s, at each grid time t:

    - a person's speed v(t) is their displacement from t - speed_window_s to t,
      divided by speed_window_s;
    - acceleration: among the people whose speed is known at t and at t - W
      (at least min_people), median v(t) >= speed_factor * max(median
      v(t - W), baseline_floor_m_s) and median v(t) >= min_speed_m_s;
      track_ids: those of them at min_speed_m_s or faster;
    - dispersal: the people present at t - W are grouped by single linkage at
      group_radius_m; for each group of min_people or more of whom at least
      min_people are still present at t, their spread (mean distance from
      their centroid) is measured at t - W and at t over those same people;
      (spread(t) - spread(t - W)) / W >= dispersal_m_s; track_ids: the group.

    Times that meet a criterion, with holes of at most W, form one event per
    trigger: start = first such t - W (when the change began), end = last
    such t; details: trigger, and the numbers at the strongest time.
    """
    series = _sample_all(_people(tracks), config.step_s, config.max_gap_s)
    use_ground = _use_ground(series)
    step = config.step_s
    w = max(1, round(config.window_s / step))
    m = max(1, round(config.speed_window_s / step))
    snapshots = _by_step(series)
    hits: dict[str, dict[int, tuple[float, set[int], dict]]] = {"acceleration": {}, "dispersal": {}}

    def speed(s: _Series, k: int) -> float | None:
        i, j = s.local(k), s.local(k - m)
        if i is None or j is None:
            return None
        return _displacement(s, i, j, use_ground) / (m * step)

    for k in sorted(snapshots):
        present = [s for s, _ in snapshots[k]]
        if "acceleration" in config.triggers:
            now, before, ids = [], [], []
            for s in present:
                v1, v0 = speed(s, k), speed(s, k - w)
                if v1 is not None and v0 is not None:
                    now.append(v1)
                    before.append(v0)
                    ids.append(int(s.track.track_id))
            if len(now) >= config.min_people:
                med1, med0 = float(np.median(now)), float(np.median(before))
                if med1 >= config.min_speed_m_s and med1 >= config.speed_factor * max(med0, config.baseline_floor_m_s):
                    fast = {i for i, v in zip(ids, now) if v >= config.min_speed_m_s}
                    hits["acceleration"][k] = (
                        med1 / max(med0, config.baseline_floor_m_s),
                        fast,
                        {
                            "people": len(now),
                            "median_speed_before_m_s": round(med0, 2),
                            "median_speed_after_m_s": round(med1, 2),
                        },
                    )
        if "dispersal" in config.triggers and (k - w) in snapshots:
            earlier = snapshots[k - w]
            for c in _clusters(_distances(earlier, use_ground), config.group_radius_m):
                stay = [earlier[i][0] for i in c if earlier[i][0].local(k) is not None]
                if len(c) < config.min_people or len(stay) < config.min_people:
                    continue
                s0 = _spread([(s, s.local(k - w)) for s in stay], use_ground)
                s1 = _spread([(s, s.local(k)) for s in stay], use_ground)
                rate = (s1 - s0) / (w * step)
                if rate >= config.dispersal_m_s:
                    best = hits["dispersal"].get(k)
                    ids = {int(s.track.track_id) for s in stay}
                    if best is None or rate > best[0]:
                        hits["dispersal"][k] = (
                            rate,
                            ids | (best[1] if best else set()),
                            {
                                "people": len(stay),
                                "spread_before_m": round(s0, 2),
                                "spread_after_m": round(s1, 2),
                                "spread_rate_m_s": round(rate, 2),
                            },
                        )
                    else:
                        best[1].update(ids)
    events = []
    for trigger, by_k in hits.items():
        for a, b in _runs(sorted(by_k), w):
            ks = [k for k in by_k if a <= k <= b]
            strongest = max(ks, key=lambda k: by_k[k][0])
            ids = sorted({i for k in ks for i in by_k[k][1]})
            where = [s.px[s.local(strongest)] for s, _ in snapshots[strongest] if s.track.track_id in set(ids)]
            if not where:
                where = [s.px[i] for s, i in snapshots[strongest]]
            details = {
                "trigger": trigger,
                **by_k[strongest][2],
                "at": _time(strongest, step).isoformat(),
                "scale": "ground" if use_ground else "box height",
            }
            events.append(
                Event(
                    config.name,
                    "crowd_movement",
                    context.camera_id,
                    _time(a - w, step),
                    _time(b, step),
                    tuple(ids),
                    _point(np.mean(where, axis=0)),
                    details,
                )
            )
    return _sorted(events)


# --- abandoned object ------------------------------------------------------------------
def abandoned_object(config: AbandonedObjectConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """An object static, with no person within reach, for min_duration_s.

    For each object track, on the grid: the object settles where it is first
    seen; while it stays within static distance of that place and no person
    is within person radius of it, the unattended time runs; moving further
    settles it anew, a person within reach resets the count. The first time
    it runs to min_duration_s makes the event (one per object): start = when
    that unattended stretch began, end = when it ended (the object taken,
    moved, a person back, or the tracks' end). Distances in metres where the
    object and every person have ground positions, else in pixels (the *_px
    settings). The owner is the person nearest the object at its first
    sighting (within owner_window_s): track_ids = (object, owner) or (object,).
    """
    step = config.step_s
    objects = _sample_all(
        [t for t in tracks if t.class_name in config.object_classes and t.points], step, config.max_gap_s
    )
    people = _sample_all(_people(tracks), step, config.max_gap_s)
    use_ground = _use_ground(objects) and _use_ground(people)
    static = config.static_m if use_ground else config.static_px
    reach = config.person_radius_m if use_ground else config.person_radius_px
    snapshots = _by_step(people)
    events = []
    for obj in objects:
        pos = obj.pos(use_ground)
        anchor = start = found = last = None
        for i in range(len(obj.present)):
            k = obj.k0 + i
            # the unattended count stops where the tracker lost the object (nobody can say it
            # stayed), where it moved beyond `static` (it settles anew there), or a person is in reach
            broken = not obj.present[i]
            if obj.present[i]:
                if anchor is None or np.linalg.norm(pos[i] - anchor) > static:
                    anchor, broken = pos[i], start is not None
                broken = broken or any(
                    np.linalg.norm(s.pos(use_ground)[j] - pos[i]) <= reach for s, j in snapshots.get(k, [])
                )
            if broken:
                if found is not None:
                    break
                start = None
                if not obj.present[i]:
                    anchor = None
                continue
            start = k if start is None else start
            last = k
            if found is None and (k - start) * step + EPS >= config.min_duration_s:
                found = start
        if found is None:
            continue
        a, b = found, last
        owner, owner_d = _owner(obj, people, use_ground, config)
        first = _time(obj.k0, step)
        details = {
            "object_class": obj.track.class_name,
            "unattended_s": round((b - a) * step, 2),
            "first_seen": first.isoformat(),
            "owner_track_id": owner,
            "owner_distance": None if owner_d is None else round(owner_d, 2),
            "unit": "m" if use_ground else "px",
        }
        ids = (int(obj.track.track_id),) if owner is None else (int(obj.track.track_id), owner)
        events.append(
            Event(
                config.name,
                "abandoned_object",
                context.camera_id,
                _time(a, step),
                _time(b, step),
                ids,
                _point(obj.px[a - obj.k0]),
                details,
            )
        )
    return _sorted(events)


def _owner(
    obj: _Series, people: Sequence[_Series], use_ground: bool, config: AbandonedObjectConfig
) -> tuple[int | None, float | None]:
    """The person nearest the object at its first sighting (or the nearest grid time within owner_window_s)."""
    first = int(np.flatnonzero(obj.present)[0])
    where = obj.pos(use_ground)[first]
    k_first = obj.k0 + first
    span = max(0, round(config.owner_window_s / config.step_s))
    for dk in sorted(range(-span, span + 1), key=abs):
        best = None
        for s in people:
            j = s.local(k_first + dk)
            if j is not None:
                d = float(np.linalg.norm(s.pos(use_ground)[j] - where))
                if best is None or d < best[1]:
                    best = (int(s.track.track_id), d)
        if best:
            return best
    return None, None


# --- person on the ground --------------------------------------------------------------
def person_on_ground(config: PersonOnGroundConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """A person's box horizontal (width/height > min_aspect) or low (height <
    max_height_ratio x their standing height) for min_duration_s.

    On the track's own points (no grid). The standing height at a point is
    the median height of the track's upright boxes (width/height <
    upright_aspect, and not low themselves) in the standing_window_s before
    it; once none is left in that window (someone lying a long time) the
    last standing height holds. Before any upright box only the horizontal
    test applies. Down points with holes of at most max_gap_s between them
    (an upright detection in between, a missed frame) form one stretch; one
    lasting min_duration_s (first to last down point) is an event.
    """
    events = []
    for track in _people(tracks):
        pts = sorted(track.points, key=lambda p: p.timestamp)
        t = np.array([p.timestamp.timestamp() for p in pts])
        xyxy = np.array([p.xyxy for p in pts], float).reshape(-1, 4)
        w, h = xyxy[:, 2] - xyxy[:, 0], np.maximum(xyxy[:, 3] - xyxy[:, 1], 1e-6)
        aspect = w / h
        upright: deque[tuple[float, float]] = deque()  # (time, height) of the last standing_window_s
        ref: float | None = None
        down, info = [], []
        for i in range(len(pts)):
            while upright and upright[0][0] < t[i] - config.standing_window_s - EPS:
                upright.popleft()
            if upright:
                ref = float(np.median([hh for _, hh in upright]))
            horizontal = aspect[i] > config.min_aspect
            low = ref is not None and h[i] < config.max_height_ratio * ref
            if horizontal or low:
                down.append(i)
                info.append((horizontal, low, h[i] / ref if ref else None))
            elif aspect[i] < config.upright_aspect:
                upright.append((t[i], h[i]))
        stretches: list[list[int]] = []
        for n, i in enumerate(down):
            if stretches and t[i] - t[down[stretches[-1][-1]]] <= config.max_gap_s + EPS:
                stretches[-1].append(n)
            else:
                stretches.append([n])
        for st in stretches:
            i0, i1 = down[st[0]], down[st[-1]]
            seconds = t[i1] - t[i0]
            if seconds + EPS < config.min_duration_s:
                continue
            ratios = [info[n][2] for n in st if info[n][2] is not None]
            details = {
                "duration_s": round(float(seconds), 2),
                "horizontal": any(info[n][0] for n in st),
                "low": any(info[n][1] for n in st),
                "max_aspect": round(float(max(aspect[down[n]] for n in st)), 2),
                "min_height_ratio": round(float(min(ratios)), 2) if ratios else None,
            }
            x1, _, x2, y2 = xyxy[i0]
            events.append(
                Event(
                    config.name,
                    "person_on_ground",
                    context.camera_id,
                    pts[i0].timestamp,
                    pts[i1].timestamp,
                    (int(track.track_id),),
                    (round((x1 + x2) / 2, 1), round(y2, 1)),
                    details,
                )
            )
    return _sorted(events)


# --- dispatch --------------------------------------------------------------------------
_EVALUATORS = {
    "gathering": gathering,
    "density": density,
    "crowd_movement": crowd_movement,
    "abandoned_object": abandoned_object,
    "person_on_ground": person_on_ground,
}


def evaluate(config: CrowdRuleConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """Events of one crowd or body rule over the tracks, sorted by start time."""
    return _EVALUATORS[config.type](config, tracks, context)
