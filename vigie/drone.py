"""Drone clips: people counted per frame, and gatherings found, on a moving camera (issue 6).

A drone clip is analysed as a camera whose `profile: aerial` in the site file
turns on detection over overlapping tiles (small people from high up) and
camera-motion compensation (the view moves). A drone has no ground
calibration, so the gathering radius is set in people's own heights: R metres
is R / 1.7 times the median height of the people boxes of the clip, in
pixels, which follows the drone's altitude clip by clip.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from vigie.pipeline import frame_progress, open_camera_file, run_frames
from vigie.rules.base import Event, RuleContext, RuleTrack
from vigie.rules.crowd import GatheringConfig, gathering
from vigie.types import CLASS_ID

PERSON_HEIGHT_M = 1.7


@dataclass
class DroneReport:
    camera_id: str
    source: str
    counts: list[dict] = field(default_factory=list)  # per analysed frame: seq, time, people
    events: list[Event] = field(default_factory=list)  # gatherings
    tracks: int = 0
    radius_px: float | None = None

    @property
    def max_people(self) -> int:
        return max((c["people"] for c in self.counts), default=0)

    @property
    def mean_people(self) -> float:
        return statistics.fmean(c["people"] for c in self.counts) if self.counts else 0.0


def analyse_drone_clip(
    path: str | Path,
    camera_id: str,
    site,
    min_people: int = 3,
    radius_m: float = 2.0,
    min_duration_s: float = 5.0,
    progress: bool = False,
) -> DroneReport:
    """Counts per frame and gathering events of one clip (nothing is stored)."""

    source, pipeline = open_camera_file(path, camera_id, site)
    person = CLASS_ID["person"]
    report = DroneReport(camera_id, str(path))
    summaries = []
    with frame_progress(source, f"{camera_id} (drone)", enabled=progress) as advance:

        def on_frame(frame, tracked) -> None:
            people = int((tracked.class_id == person).sum()) if len(tracked) else 0
            report.counts.append({"seq": frame.seq, "time": frame.timestamp.isoformat(), "people": people})
            advance(frame, people=people)

        run_frames(pipeline, source, summaries.extend, on_frame)
    people = [s for s in summaries if s.class_name == "person"]
    report.tracks = len(people)
    if people:
        height = statistics.median(s.median_height_px for s in people)
        report.radius_px = radius_m / PERSON_HEIGHT_M * height
        config = GatheringConfig(
            name="drone-gathering", min_people=min_people, radius_px=report.radius_px, min_duration_s=min_duration_s
        )
        tracks = [RuleTrack(k, s.class_name, s.points) for k, s in enumerate(people, 1)]
        report.events = gathering(config, tracks, RuleContext(camera_id))
    return report
