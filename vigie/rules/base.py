"""What every rule takes and gives.

A rule is a pure function `evaluate(config, tracks, context) -> list[Event]`:
the same tracks give the same events, nothing is read or written elsewhere,
so each rule is tested on hand-built tracks and on real footage alike. Live
operation (vigie run) calls the rules on a sliding window of recent tracks and
keeps the events it has not seen (Event.key identifies one).

Coordinates: image points are the source video's pixels (as stored); a
track's image position is the bottom centre of its box (the feet), which is
what zones and lines drawn on the image mean. Ground positions, where the
camera is calibrated, are metres on the ground plane (TrackPoint.ground_xy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from vigie.types import TrackPoint

Point = tuple[float, float]


@dataclass(frozen=True)
class RuleTrack:
    """One track as the rules see it: id, class and its points in time order."""

    track_id: int
    class_name: str
    points: Sequence[TrackPoint]

    def feet(self) -> list[Point]:
        """Bottom centre of each box, in image pixels."""
        return [((p.xyxy[0] + p.xyxy[2]) / 2.0, p.xyxy[3]) for p in self.points]


@dataclass(frozen=True)
class RuleContext:
    """What a rule may need beyond the tracks: the camera, and frame size."""

    camera_id: str
    frame_size: tuple[int, int] | None = None  # (width, height) in source pixels


@dataclass(frozen=True)
class Event:
    """Something a rule flags, for a person to validate.

    rule: the rule's name in the site file (e.g. "esplanade-night-zone");
    kind: what happened ("zone_intrusion", "line_crossing", "loitering",
    "counter_flow", "gathering", "density", "crowd_movement",
    "abandoned_object", "person_on_ground"); start/end: when (end None for an
    instant); track_ids: who; where: an image point to show it at;
    details: numbers that explain it (dwell seconds, people, direction...).
    """

    rule: str
    kind: str
    camera_id: str
    start: datetime
    end: datetime | None
    track_ids: tuple[int, ...]
    where: Point
    details: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple:
        """Identifies the event across re-evaluations of overlapping windows."""
        return (self.rule, self.kind, self.camera_id, self.track_ids, self.start.isoformat())
