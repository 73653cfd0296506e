"""The geometric rules: zone intrusion, line crossing, loitering, counter-flow.

Each rule is a pydantic config (a `type` tag for the site file's
discriminated union, a `name` events carry, the classes it watches) and a
pure function `evaluate(config, tracks, context) -> list[Event]`
(vigie.rules.base says why pure). Zones, lines and directions are drawn on
the image, in the source's pixels (x right, y down); a track's position is
its feet, the bottom centre of its box.

Line direction convention: standing on the image at A and facing B, "in" is
crossing from the left of A->B to its right, "out" the other way. The right
side is the one the right-hand normal (-dy, dx) of A->B points to, in image
coordinates: a line drawn bottom to top counts "in" walking to the right of
the frame; drawn left to right, "in" is walking down the frame.

Detector jitter moves feet by a few pixels a frame; every rule has a
threshold that jitter alone cannot pass (time inside a zone, distance beyond
a line, a grace period, a displacement over a window), and says so.
"""

from __future__ import annotations

import statistics
from datetime import datetime, time
from typing import Annotated, Literal, Sequence, Union
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigie.rules.base import Event, Point, RuleContext, RuleTrack
from vigie.rules.geom import (
    angle_between_deg,
    heading_deg,
    lerp,
    point_in_polygon,
    polygon_area,
    segment_param,
    signed_distance,
)
from vigie.timezones import known_timezone
from vigie.types import PEOPLE_AND_VEHICLES

# Zones, lines and flows are about people and vehicles; carried objects have their own rule.
ClassName = Literal["person", "bicycle", "car", "motorcycle", "bus", "truck"]


# --- configs ---------------------------------------------------------------------------
def _check_polygon(v: list[Point] | None) -> list[Point] | None:
    if v is None:
        return v
    if len(v) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(v)}")
    if polygon_area(v) <= 0.0:
        raise ValueError("the polygon's points are all on one line: it has no inside")
    return v


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(description="The rule's name in the site file; events carry it.", min_length=1, max_length=100)
    classes: list[ClassName] = Field(
        default_factory=lambda: list(PEOPLE_AND_VEHICLES),
        min_length=1,
        description="Classes of track the rule watches.",
    )


class ZoneIntrusionConfig(_Rule):
    """A track whose feet enter a forbidden polygon, optionally only at some hours."""

    type: Literal["zone_intrusion"] = "zone_intrusion"
    zone: list[Point] = Field(description="The forbidden area: at least three [x, y] image points.")
    min_inside_s: float = Field(0.5, gt=0, description="Shorter stays inside are ignored (feet jittering on the edge).")
    hours: tuple[time, time] | None = Field(
        None,
        description='Active hours ["HH:MM", "HH:MM"], local time, start included, end excluded; '
        'may wrap midnight (["22:00", "06:00"]). None: always active.',
    )
    timezone: str = Field("Europe/Paris", description="IANA time zone the hours are in.")

    _zone = field_validator("zone")(_check_polygon)

    @field_validator("hours", mode="before")
    @classmethod
    def _hours_as_text(cls, v):
        # Unquoted, YAML reads 22:00 as the base-60 integer 1320, and pydantic
        # would take an integer for seconds after midnight (00:22): refuse it.
        if isinstance(v, (list, tuple)) and any(not isinstance(h, (str, time)) for h in v):
            raise ValueError(
                'write the times in quotes, e.g. ["22:00", "06:00"] (unquoted, YAML reads 22:00 as a number)'
            )
        return v

    @field_validator("hours")
    @classmethod
    def _hours_differ(cls, v):
        if v is not None and any(h.tzinfo is not None for h in v):
            raise ValueError("give local times without an offset: the time zone is the timezone field")
        if v is not None and v[0] == v[1]:
            raise ValueError("start and end are the same time; leave hours out for a rule active all day")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return known_timezone(v)


class LineCrossingConfig(_Rule):
    """Tracks crossing the segment A->B; "in" is from its left to its right (module doc)."""

    type: Literal["line_crossing"] = "line_crossing"
    line: list[Point] = Field(description="The segment [A, B]: two distinct [x, y] image points.")
    direction: Literal["in", "out", "both"] = Field("both", description="Which crossings make events.")
    min_distance_px: float = Field(
        5.0,
        gt=0,
        description="Feet must get this far on each side to count "
        "(hysteresis: wobbling on the line is one crossing at most).",
    )

    @field_validator("line")
    @classmethod
    def _segment(cls, v: list[Point]) -> list[Point]:
        if len(v) != 2:
            raise ValueError(f"a line is exactly 2 points [A, B], got {len(v)}")
        if tuple(v[0]) == tuple(v[1]):
            raise ValueError("the line's two points are the same")
        return v


class LoiteringConfig(_Rule):
    """Someone staying in a zone longer than min_dwell_s."""

    type: Literal["loitering"] = "loitering"
    zone: list[Point] = Field(description="The watched area: at least three [x, y] image points.")
    min_dwell_s: float = Field(
        60.0,
        gt=0,
        description="Time in the zone, from entry to the last point inside "
        "(short exits included, see grace_s), that makes a stay loitering.",
    )
    grace_s: float = Field(
        2.0,
        ge=0,
        description="Leaving for less than this does not end the stay, and counts "
        "as time inside (feet jittering on the edge, a step outside).",
    )
    classes: list[ClassName] = Field(
        default_factory=lambda: ["person"], min_length=1, description="Classes of track the rule watches."
    )

    _zone = field_validator("zone")(_check_polygon)


class CounterFlowConfig(_Rule):
    """Moving against a zone's allowed direction for at least min_duration_s."""

    type: Literal["counter_flow"] = "counter_flow"
    zone: list[Point] | None = Field(None, description="Where the flow rule holds (None: the whole image).")
    direction_deg: float | None = Field(
        None, description="Allowed direction, compass-like on the image: 0 = up, 90 = right, 180 = down, 270 = left."
    )
    direction_vector: Point | None = Field(
        None, description="Allowed direction as an image vector [dx, dy] (y down); give this or direction_deg."
    )
    tolerance_deg: float = Field(
        120.0,
        gt=0,
        lt=180,
        description="A movement more than this many degrees away "
        "from the allowed direction is counter-flow (90: any backward component).",
    )
    window_s: float = Field(
        1.0, gt=0, description="Velocity is measured over at least this long (jitter averages out)."
    )
    min_displacement_m: float = Field(
        0.5, gt=0, description="Less movement over the window is standing still (calibrated cameras, ground metres)."
    )
    min_displacement_px: float = Field(
        15.0, gt=0, description="The same in image pixels, where the camera is not calibrated."
    )
    min_duration_s: float = Field(2.0, gt=0, description="Counter-flow lasting less than this is ignored.")

    _zone = field_validator("zone")(_check_polygon)

    @field_validator("direction_vector")
    @classmethod
    def _non_zero(cls, v: Point | None) -> Point | None:
        if v is not None and v[0] == 0 and v[1] == 0:
            raise ValueError("[0, 0] has no direction")
        return v

    @model_validator(mode="after")
    def _one_direction(self) -> "CounterFlowConfig":
        if (self.direction_deg is None) == (self.direction_vector is None):
            raise ValueError("give exactly one of direction_deg and direction_vector")
        return self

    def allowed_heading(self) -> float:
        if self.direction_deg is not None:
            return self.direction_deg % 360.0
        return heading_deg(*self.direction_vector)


GeometryRuleConfig = Annotated[
    Union[ZoneIntrusionConfig, LineCrossingConfig, LoiteringConfig, CounterFlowConfig],
    Field(discriminator="type"),
]


# --- shared helpers --------------------------------------------------------------------
def _watched(config: _Rule, tracks: Sequence[RuleTrack]) -> list[RuleTrack]:
    return [t for t in tracks if t.class_name in config.classes and t.points]


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """(first, last) indexes of each run of consecutive True values."""
    runs, start = [], None
    for k, f in enumerate(flags):
        if f and start is None:
            start = k
        elif not f and start is not None:
            runs.append((start, k - 1))
            start = None
    if start is not None:
        runs.append((start, len(flags) - 1))
    return runs


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.start, e.track_ids))


def in_hours(ts: datetime, hours: tuple[time, time] | None, tz: str) -> bool:
    """Whether a UTC timestamp falls in the local window [start, end), which may wrap midnight."""
    if hours is None:
        return True
    local = ts.astimezone(ZoneInfo(tz)).time().replace(tzinfo=None)
    start, end = hours
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps midnight: 22:00-06:00


# --- zone intrusion --------------------------------------------------------------------
def zone_intrusion(config: ZoneIntrusionConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """One event per entry into the zone (during active hours) lasting min_inside_s or more."""
    events = []
    for track in _watched(config, tracks):
        feet, pts = track.feet(), track.points
        inside = [
            point_in_polygon(f, config.zone) and in_hours(p.timestamp, config.hours, config.timezone)
            for f, p in zip(feet, pts)
        ]
        for i, j in _runs(inside):
            seconds = _seconds(pts[i].timestamp, pts[j].timestamp)
            if seconds >= config.min_inside_s:
                events.append(
                    Event(
                        config.name,
                        "zone_intrusion",
                        context.camera_id,
                        pts[i].timestamp,
                        pts[j].timestamp,
                        (track.track_id,),
                        feet[i],
                        {"seconds_inside": round(seconds, 2)},
                    )
                )
    return _sorted(events)


# --- line crossing ---------------------------------------------------------------------
def crossings(config: LineCrossingConfig, track: RuleTrack) -> list[tuple[datetime, Point, str]]:
    """Every crossing of the segment by one track: (time, point, "in"|"out"), in time order.

    The feet's side changes only once they are min_distance_px beyond the
    line (hysteresis); the crossing itself is placed where the distance
    last went through zero before that, interpolated between the two points.
    It counts only if that point is on the segment (walking round an end
    changes side without crossing).
    """
    a, b = config.line
    feet, pts = track.feet(), track.points
    d = [signed_distance(a, b, f) for f in feet]
    found = []
    side, last_sure = 0, -1  # side: -1 left, +1 right, 0 not yet known
    for k, dk in enumerate(d):
        s = 1 if dk >= config.min_distance_px else -1 if dk <= -config.min_distance_px else 0
        if s == 0:
            continue
        if side and s != side:
            c = next(c for c in range(k - 1, last_sure - 1, -1) if d[c] * s <= 0)
            f = d[c] / (d[c] - d[c + 1])
            where = lerp(feet[c], feet[c + 1], f)
            if 0.0 <= segment_param(a, b, where) <= 1.0:
                when = pts[c].timestamp + (pts[c + 1].timestamp - pts[c].timestamp) * f
                found.append((when, where, "in" if s > 0 else "out"))
        side, last_sure = s, k
    return found


def line_crossing(config: LineCrossingConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """One instant event per crossing in the configured direction(s), at the crossing point."""
    events = []
    for track in _watched(config, tracks):
        for when, where, direction in crossings(config, track):
            if config.direction in ("both", direction):
                events.append(
                    Event(
                        config.name,
                        "line_crossing",
                        context.camera_id,
                        when,
                        None,
                        (track.track_id,),
                        where,
                        {"direction": direction},
                    )
                )
    return _sorted(events)


def count_crossings(config: LineCrossingConfig, tracks: Sequence[RuleTrack]) -> dict[str, int]:
    """Crossings per direction of the watched classes, whatever config.direction says."""
    counts = {"in": 0, "out": 0}
    for track in _watched(config, tracks):
        for _, _, direction in crossings(config, track):
            counts[direction] += 1
    return counts


# --- loitering -------------------------------------------------------------------------
def _stays(inside: Sequence[bool], pts, grace_s: float) -> list[tuple[int, int, int]]:
    """(entry, last inside, short exits) of each stay.

    An exit shorter than grace_s (last point inside to next point inside)
    does not end the stay, and its time counts as inside: it is meant for
    feet jittering over the edge or a step out, which would otherwise cut a
    long stay into short ones or lose its time.
    """
    stays, cur = [], None  # cur = [entry, last inside, exits]
    for k, ins in enumerate(inside):
        if not ins:
            continue
        if cur is not None and (cur[1] == k - 1 or _seconds(pts[cur[1]].timestamp, pts[k].timestamp) < grace_s):
            if cur[1] != k - 1:
                cur[2] += 1  # back after a short exit
            cur[1] = k
        else:
            if cur is not None:
                stays.append(tuple(cur))
            cur = [k, k, 0]
    if cur is not None:
        stays.append(tuple(cur))
    return stays


def loitering(config: LoiteringConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """One event per track per stay in the zone whose time inside reaches min_dwell_s."""
    events = []
    for track in _watched(config, tracks):
        feet, pts = track.feet(), track.points
        inside = [point_in_polygon(f, config.zone) for f in feet]
        for entry, last, exits in _stays(inside, pts, config.grace_s):
            seconds = _seconds(pts[entry].timestamp, pts[last].timestamp)
            if seconds < config.min_dwell_s:
                continue
            inner = [feet[k] for k in range(entry, last + 1) if inside[k]]
            where = (statistics.median(p[0] for p in inner), statistics.median(p[1] for p in inner))
            events.append(
                Event(
                    config.name,
                    "loitering",
                    context.camera_id,
                    pts[entry].timestamp,
                    pts[last].timestamp,
                    (track.track_id,),
                    where,
                    {"dwell_s": round(seconds, 2), "short_exits": exits},
                )
            )
    return _sorted(events)


# --- counter-flow ----------------------------------------------------------------------
def _window_starts(pts, window_s: float) -> list[int | None]:
    """For each point, the latest earlier point at least window_s before it (None: too early)."""
    starts, j = [], 0
    for k, p in enumerate(pts):
        if _seconds(pts[0].timestamp, p.timestamp) < window_s:
            starts.append(None)
            continue
        while _seconds(pts[j + 1].timestamp, p.timestamp) >= window_s:
            j += 1
        starts.append(j)
    return starts


def _moved_enough(config: CounterFlowConfig, p, q, fp: Point, fq: Point) -> bool:
    """Whether the displacement p->q beats jitter: ground metres where both points have them."""
    if p.ground_xy is not None and q.ground_xy is not None:
        dx, dy = q.ground_xy[0] - p.ground_xy[0], q.ground_xy[1] - p.ground_xy[1]
        return (dx * dx + dy * dy) ** 0.5 >= config.min_displacement_m
    dx, dy = fq[0] - fp[0], fq[1] - fp[1]
    return (dx * dx + dy * dy) ** 0.5 >= config.min_displacement_px


def _against(config: CounterFlowConfig, track: RuleTrack) -> tuple[list[bool], list[int | None]]:
    """Per point: in the zone and moving against the allowed direction, over the last window_s."""
    feet, pts = track.feet(), track.points
    allowed = config.allowed_heading()
    starts = _window_starts(pts, config.window_s)
    flags = []
    for k, j in enumerate(starts):
        if j is None or (config.zone is not None and not point_in_polygon(feet[k], config.zone)):
            flags.append(False)
        elif not _moved_enough(config, pts[j], pts[k], feet[j], feet[k]):
            flags.append(False)  # standing still: no direction to speak of
        else:
            heading = heading_deg(feet[k][0] - feet[j][0], feet[k][1] - feet[j][1])
            flags.append(angle_between_deg(heading, allowed) > config.tolerance_deg)
    return flags, starts


def counter_flow(config: CounterFlowConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """One event per stretch of counter-flow lasting min_duration_s or more.

    The stretch starts at the first point whose velocity (measured over the
    window before it) is against the flow, so the movement has in fact been
    going on for window_s longer.
    """
    events = []
    allowed = config.allowed_heading()
    for track in _watched(config, tracks):
        feet, pts = track.feet(), track.points
        flags, starts = _against(config, track)
        for i, j in _runs(flags):
            seconds = _seconds(pts[i].timestamp, pts[j].timestamp)
            if seconds < config.min_duration_s:
                continue
            origin = feet[starts[i]]
            heading = heading_deg(feet[j][0] - origin[0], feet[j][1] - origin[1])
            events.append(
                Event(
                    config.name,
                    "counter_flow",
                    context.camera_id,
                    pts[i].timestamp,
                    pts[j].timestamp,
                    (track.track_id,),
                    feet[i],
                    {"seconds": round(seconds, 2), "heading_deg": round(heading, 1), "allowed_deg": round(allowed, 1)},
                )
            )
    return _sorted(events)


# --- dispatch --------------------------------------------------------------------------
_EVALUATORS = {
    "zone_intrusion": zone_intrusion,
    "line_crossing": line_crossing,
    "loitering": loitering,
    "counter_flow": counter_flow,
}


def evaluate(config: GeometryRuleConfig, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """Events of one geometric rule over the tracks, sorted by start time."""
    return _EVALUATORS[config.type](config, tracks, context)
