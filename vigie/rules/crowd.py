"""The crowd rules: gathering, excessive density, crowd movement (acceleration or dispersal).

Each rule is a pydantic config (a `type` tag for the site file's
discriminated union, the `name` its events carry) and a pure function
`rule(config, tracks, context) -> list[Event]` (vigie.rules.base says why
pure). Tracks are sampled on the time grid of vigie.rules.timegrid; which
rules need ground distances is in vigie.rules.ground.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from pydantic import Field, field_validator

from vigie.rules.base import Event, Point, RuleContext, RuleTrack
from vigie.rules.ground import (
    NeedsCalibration,
    homography_from_tracks,
    needs_calibration_message,
    points_inside,
    project,
)
from vigie.rules.timegrid import (
    EPS,
    PERSON_HEIGHT_M,
    GridRule,
    Series,
    as_point,
    check_polygon,
    cluster_indices,
    condition_runs,
    grid_time,
    grouped_by_step,
    has_ground,
    pairwise_distances,
    people_only,
    sample_tracks,
    sorted_events,
)
from vigie.zones import polygon_area


class GatheringConfig(GridRule):
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


class DensityConfig(GridRule):
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

    _zone = field_validator("zone")(check_polygon)

    def needs_calibration(self) -> bool:
        return self.area_m2 is None


class CrowdMovementConfig(GridRule):
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
    series = sample_tracks(people_only(tracks), config.step_s, config.max_gap_s)
    use_ground = has_ground(series)
    if not use_ground and config.radius_px is None:
        raise NeedsCalibration(needs_calibration_message(config, context.camera_id))
    radius = config.radius_m if use_ground else config.radius_px
    gap_steps = config.max_gap_s / config.step_s
    active: list[_Group] = []
    done: list[_Group] = []
    snapshots = grouped_by_step(series)
    for k in sorted(snapshots):
        present = snapshots[k]
        ids = np.array([s.track.track_id for s, _ in present])
        pos = np.array([s.pos(use_ground)[i] for s, i in present]).reshape(-1, 2)
        feet = np.array([s.px[i] for s, i in present]).reshape(-1, 2)
        still = []
        for g in active:
            (done if k - g.last > gap_steps + EPS else still).append(g)
        active = still
        clusters = [c for c in cluster_indices(pairwise_distances(pos), radius) if len(c) >= config.min_people]
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
                grid_time(g.start, config.step_s),
                grid_time(g.last, config.step_s),
                tuple(sorted(g.members)),
                as_point(g.peak_where),
                {
                    "peak_size": g.peak,
                    "duration_s": round(seconds, 2),
                    "mean_size": round(float(np.mean(g.sizes)), 2),
                    "people_seen": len(g.members),
                    "peak_at": grid_time(g.peak_k, config.step_s).isoformat(),
                    "radius": radius,
                    "unit": "m" if use_ground else "px",
                },
            )
        )
    return sorted_events(events)


def density(config: DensityConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """More than max_per_m2 people per m2 in the zone for min_duration_s.

    People are counted at each grid time by their (interpolated) feet inside
    the image polygon; density = count / area, strictly above max_per_m2.
    Area: area_m2 if configured (zone_area_m2 computes it from a calibration),
    else the zone's corners projected to the ground with the homography the
    calibrated tracks' own pairs give back (homography_from_tracks); neither:
    NeedsCalibration. Times above the limit with holes of at most max_gap_s
    form one stretch; a stretch lasting min_duration_s (first to last time
    above) is an event: track_ids everyone inside during it; details: area,
    peak people and density, duration.
    """
    series = sample_tracks(people_only(tracks), config.step_s, config.max_gap_s)
    zone = np.asarray(config.zone, float)
    snapshots = grouped_by_step(series)
    inside: dict[int, list[int]] = {}
    for k in sorted(snapshots):
        present = snapshots[k]
        feet = np.array([s.px[i] for s, i in present]).reshape(-1, 2)
        mask = points_inside(feet, zone)
        if mask.any():
            inside[k] = [int(present[j][0].track.track_id) for j in np.flatnonzero(mask)]
    if not inside:
        return []
    area = config.area_m2
    if area is None:
        calibrated = [s.track for s in series if s.ground is not None]
        if not calibrated:
            raise NeedsCalibration(needs_calibration_message(config, context.camera_id))
        matrix = homography_from_tracks(calibrated, zone)
        ground = project(matrix, zone) if matrix is not None else None
        if ground is None:
            raise NeedsCalibration(
                f"rule {config.name!r} (density): camera {context.camera_id!r}: the tracks' ground positions do not "
                "give the zone's ground area (too few distinct positions, or the zone reaches the horizon); give area_m2"
            )
        area = polygon_area(ground)
    over = [k for k in sorted(inside) if len(inside[k]) / area > config.max_per_m2 + EPS]
    events = []
    for a, b in condition_runs(over, config.max_gap_s / config.step_s):
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
                grid_time(a, config.step_s),
                grid_time(b, config.step_s),
                tuple(ids),
                as_point(zone.mean(axis=0)),
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
    return sorted_events(events)


# --- crowd movement --------------------------------------------------------------------
def _displacement(s: Series, i: int, j: int, use_ground: bool) -> float:
    """Metres one person moved between local indexes j and i (box heights as scale if uncalibrated)."""
    if use_ground:
        return float(np.linalg.norm(s.ground[i] - s.ground[j]))
    scale = PERSON_HEIGHT_M / max(float(s.wh[i, 1] + s.wh[j, 1]) / 2, 1.0)
    return float(np.linalg.norm(s.px[i] - s.px[j])) * scale


def _distances(at: Sequence[tuple[Series, int]], use_ground: bool) -> np.ndarray:
    """Pairwise distances in metres between people (series, local index); uncalibrated:
    image distance scaled by the pair's mean box height (PERSON_HEIGHT_M)."""
    if use_ground:
        return pairwise_distances(np.array([s.ground[i] for s, i in at]).reshape(-1, 2))
    h = np.array([max(float(s.wh[i, 1]), 1.0) for s, i in at])
    return (
        pairwise_distances(np.array([s.px[i] for s, i in at]).reshape(-1, 2))
        * PERSON_HEIGHT_M
        / ((h[:, None] + h[None, :]) / 2)
    )


def _spread(at: Sequence[tuple[Series, int]], use_ground: bool) -> float:
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
    series = sample_tracks(people_only(tracks), config.step_s, config.max_gap_s)
    use_ground = has_ground(series)
    step = config.step_s
    w = max(1, round(config.window_s / step))
    m = max(1, round(config.speed_window_s / step))
    snapshots = grouped_by_step(series)
    hits: dict[str, dict[int, tuple[float, set[int], dict]]] = {"acceleration": {}, "dispersal": {}}

    def speed(s: Series, k: int) -> float | None:
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
            for c in cluster_indices(_distances(earlier, use_ground), config.group_radius_m):
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
        for a, b in condition_runs(sorted(by_k), w):
            ks = [k for k in by_k if a <= k <= b]
            strongest = max(ks, key=lambda k: by_k[k][0])
            ids = sorted({i for k in ks for i in by_k[k][1]})
            where = [s.px[s.local(strongest)] for s, _ in snapshots[strongest] if s.track.track_id in set(ids)]
            if not where:
                where = [s.px[i] for s, i in snapshots[strongest]]
            details = {
                "trigger": trigger,
                **by_k[strongest][2],
                "at": grid_time(strongest, step).isoformat(),
                "scale": "ground" if use_ground else "box height",
            }
            events.append(
                Event(
                    config.name,
                    "crowd_movement",
                    context.camera_id,
                    grid_time(a - w, step),
                    grid_time(b, step),
                    tuple(ids),
                    as_point(np.mean(where, axis=0)),
                    details,
                )
            )
    return sorted_events(events)
