"""The geometric rules on PETS09-S2L1's ground truth: the annotated boxes as
tracks (no detector, so it is fast), timed as the demo camera times them
(nimes-esplanade-01: 2026-11-20 13:00 UTC, 7 fps), ground positions from
the annotation's world coordinates.

The line crosses the walkway where most people pass, between the lamp post
and the left cones; the zone is the lawn in front of the camera, where only
two of the nineteen people wander (ids 3 and 4)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from vigie.eval.mot import read_mot
from vigie.rules.base import RuleContext, RuleTrack
from vigie.rules.geom import segment_param, signed_distance
from vigie.rules.geometry import (
    CounterFlowConfig,
    LineCrossingConfig,
    LoiteringConfig,
    ZoneIntrusionConfig,
    count_crossings,
    crossings,
    evaluate,
)
from vigie.types import TrackPoint

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)  # examples/nimes-demo.yaml
FPS = 7.0
CTX = RuleContext("nimes-esplanade-01", (768, 576))
# Drawn bottom to top: "in" is walking towards the right of the frame.
WALKWAY = LineCrossingConfig(name="walkway", line=[(340, 330), (380, 170)])
LAWN = [(100, 380), (450, 380), (450, 560), (100, 560)]


def gt_tracks(gt: np.ndarray, noise_px: float = 0.0, seed: int = 0) -> list[RuleTrack]:
    """One RuleTrack per annotated identity; frame f is seq f-1 (MOTChallenge counts from 1)."""
    rng = np.random.default_rng(seed)
    tracks = []
    for tid in map(int, np.unique(gt[:, 1])):
        rows = gt[gt[:, 1] == tid]
        rows = rows[np.argsort(rows[:, 0])]
        boxes = np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]
        if noise_px:
            boxes = boxes + rng.normal(0.0, noise_px, boxes.shape)  # a detector's jitter
        points = [
            TrackPoint(
                int(r[0]) - 1,
                START + timedelta(seconds=(r[0] - 1) / FPS),
                tuple(map(float, b)),
                1.0,
                (float(r[7]), float(r[8])),
            )
            for r, b in zip(rows, boxes)
        ]
        tracks.append(RuleTrack(tid, "person", points))
    return tracks


@pytest.fixture(scope="module")
def gt(pets09) -> np.ndarray:
    return read_mot(pets09 / "gt.txt")


def test_walkway_line_crossings_are_sane(gt):
    tracks = gt_tracks(gt)
    counts = count_crossings(WALKWAY, tracks)
    events = evaluate(WALKWAY, tracks, CTX)
    # Most of the nineteen people walk the walkway, several of them both ways.
    assert counts["in"] >= 8 and counts["out"] >= 8
    assert counts["in"] + counts["out"] == len(events) <= 3 * 19
    a, b = WALKWAY.line
    by_id = {t.track_id: t for t in tracks}
    for e in events:
        t = by_id[e.track_ids[0]]
        assert t.points[0].timestamp <= e.start <= t.points[-1].timestamp
        assert abs(signed_distance(a, b, e.where)) < 1e-6 and 0 <= segment_param(a, b, e.where) <= 1
    for t in tracks:
        # A track's crossings alternate: it cannot go in twice without coming out.
        directions = [d for _, _, d in crossings(WALKWAY, t)]
        assert all(x != y for x, y in zip(directions, directions[1:])), (t.track_id, directions)
    # Each direction filter keeps its own share.
    only_in = WALKWAY.model_copy(update={"direction": "in"})
    assert len(evaluate(only_in, tracks, CTX)) == counts["in"]


def test_line_counts_survive_detector_like_jitter(gt):
    """4 px of Gaussian noise on every box corner, eight draws: the hysteresis
    keeps the counts of the clean annotation every time; without it, wobbles
    near the line add crossings."""
    clean = count_crossings(WALKWAY, gt_tracks(gt))
    no_hysteresis = WALKWAY.model_copy(update={"min_distance_px": 0.01})
    extra = 0
    for seed in range(8):
        noisy = gt_tracks(gt, noise_px=4.0, seed=seed)
        assert count_crossings(WALKWAY, noisy) == clean, seed
        raw = count_crossings(no_hysteresis, noisy)
        extra += raw["in"] + raw["out"] - clean["in"] - clean["out"]
    assert extra > 0


def _runs_inside_rectangle(track: RuleTrack, x0, y0, x1, y1) -> list[tuple[int, int]]:
    """Independent of the polygon code: runs of frames whose feet are inside an axis-aligned box."""
    feet = np.array(track.feet())
    inside = (feet[:, 0] > x0) & (feet[:, 0] < x1) & (feet[:, 1] > y0) & (feet[:, 1] < y1)
    edges = np.diff(np.r_[0, inside.astype(int), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def test_lawn_zone_intrusion(gt):
    tracks = gt_tracks(gt)
    events = evaluate(ZoneIntrusionConfig(name="lawn", zone=LAWN), tracks, CTX)
    assert {e.track_ids[0] for e in events} == {3, 4}  # nobody from the walkway
    expected = []
    for t in tracks:
        for i, j in _runs_inside_rectangle(t, 100, 380, 450, 560):
            if (t.points[j].timestamp - t.points[i].timestamp).total_seconds() >= 0.5:
                expected.append((t.points[i].timestamp, t.points[j].timestamp, t.track_id))
    assert sorted((e.start, e.end, e.track_ids[0]) for e in events) == sorted(expected)
    for e in events:
        assert e.details["seconds_inside"] >= 0.5


def test_lawn_zone_hours_in_paris_time(gt):
    tracks = gt_tracks(gt)
    always = evaluate(ZoneIntrusionConfig(name="lawn", zone=LAWN), tracks, CTX)
    # The recording runs 13:00-13:02 UTC, 14:00-14:02 in Paris in November.
    night = ZoneIntrusionConfig(name="lawn", zone=LAWN, hours=["22:00", "06:00"])
    afternoon = ZoneIntrusionConfig(name="lawn", zone=LAWN, hours=["14:00", "15:00"])
    utc_reading = ZoneIntrusionConfig(name="lawn", zone=LAWN, hours=["13:00", "14:00"])
    assert evaluate(night, tracks, CTX) == []
    assert evaluate(afternoon, tracks, CTX) == always
    assert evaluate(utc_reading, tracks, CTX) == []
    assert evaluate(utc_reading.model_copy(update={"timezone": "UTC"}), tracks, CTX) == always


def test_lawn_loitering_is_the_two_wanderers_and_follows_the_threshold(gt):
    tracks = gt_tracks(gt)
    short = evaluate(LoiteringConfig(name="lawn", zone=LAWN, min_dwell_s=5), tracks, CTX)
    assert short and {e.track_ids[0] for e in short} <= {3, 4}
    for e in short:
        track = next(t for t in tracks if t.track_id == e.track_ids[0])
        inside = [
            p.timestamp for p in track.points if 100 <= (p.xyxy[0] + p.xyxy[2]) / 2 <= 450 and 380 <= p.xyxy[3] <= 560
        ]
        # the stay lies within the person's time on the lawn, and lasts at least the threshold
        assert inside[0] <= e.start and e.end <= inside[-1]
        assert (e.end - e.start).total_seconds() >= 5
    longest = max((e.end - e.start).total_seconds() for e in short)
    assert evaluate(LoiteringConfig(name="lawn", zone=LAWN, min_dwell_s=longest + 1), tracks, CTX) == []


def test_walkway_counter_flow_flags_those_walking_left(gt):
    tracks = gt_tracks(gt)
    walkway = [(250, 150), (480, 150), (480, 360), (250, 360)]
    rule = CounterFlowConfig(
        name="walkway-rightwards", zone=walkway, direction_deg=90, min_displacement_px=10, min_duration_s=1.0
    )
    events = evaluate(rule, tracks, CTX)
    assert events
    by_id = {t.track_id: t for t in tracks}
    for e in events:
        pts = [p for p in by_id[e.track_ids[0]].points if e.start <= p.timestamp <= e.end]
        dx = (pts[-1].xyxy[0] + pts[-1].xyxy[2] - pts[0].xyxy[0] - pts[0].xyxy[2]) / 2
        assert dx < 0, f"track {e.track_ids[0]} flagged while moving right"
    # everyone who crosses the walkway line leftwards ("out") was flagged at some point
    leftwards = {t.track_id for t in tracks if any(d == "out" for _, _, d in crossings(WALKWAY, t))}
    assert leftwards and leftwards <= {e.track_ids[0] for e in events}
    # the opposite rule flags those walking right instead
    rightwards = {t.track_id for t in tracks if any(d == "in" for _, _, d in crossings(WALKWAY, t))}
    opposite = evaluate(rule.model_copy(update={"direction_deg": 270}), tracks, CTX)
    assert rightwards <= {e.track_ids[0] for e in opposite}
