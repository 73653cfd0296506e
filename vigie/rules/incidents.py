"""The incident rules: an object left behind with nobody near it, a person on the ground.

Each rule is a pydantic config and a pure function `rule(config, tracks, context) -> list[Event]`
(vigie.rules.base says why pure), on tracks sampled on the time grid of vigie.rules.timegrid.
"""

from __future__ import annotations

from collections import deque
from typing import Literal, Sequence

import numpy as np
from pydantic import Field, field_validator, model_validator

from vigie.rules.base import Event, RuleContext, RuleTrack
from vigie.rules.timegrid import (
    EPS,
    PERSON,
    GridRule,
    Series,
    as_point,
    grid_time,
    grouped_by_step,
    has_ground,
    people_only,
    sample_tracks,
    sorted_events,
)
from vigie.types import CARRIED_OBJECTS


class AbandonedObjectConfig(GridRule):
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


class PersonOnGroundConfig(GridRule):
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
    objects = sample_tracks(
        [t for t in tracks if t.class_name in config.object_classes and t.points], step, config.max_gap_s
    )
    people = sample_tracks(people_only(tracks), step, config.max_gap_s)
    use_ground = has_ground(objects) and has_ground(people)
    static = config.static_m if use_ground else config.static_px
    reach = config.person_radius_m if use_ground else config.person_radius_px
    snapshots = grouped_by_step(people)
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
        first = grid_time(obj.k0, step)
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
                grid_time(a, step),
                grid_time(b, step),
                ids,
                as_point(obj.px[a - obj.k0]),
                details,
            )
        )
    return sorted_events(events)


def _owner(
    obj: Series, people: Sequence[Series], use_ground: bool, config: AbandonedObjectConfig
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
    for track in people_only(tracks):
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
    return sorted_events(events)
