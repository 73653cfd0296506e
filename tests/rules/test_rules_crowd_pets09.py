"""Crowd rules on real footage: PETS09-S2L1's ground-truth tracks.

The truth boxes' feet are projected to the ground with the demo site's
calibration of the PETS09 camera (examples/nimes-demo.yaml), as the describe
stage does for Vigie's own tracks; gt.txt's world coordinates are the check.
S2L1 is people walking across a plaza, alone, in pairs or three abreast,
crossing each other: nobody stands in a group, runs or falls.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from builders import DEMO_CAMERA, DEMO_SITE

from vigie.rules.base import RuleContext, RuleTrack
from vigie.rules.crowd import CrowdMovementConfig, DensityConfig, GatheringConfig, crowd_movement, density, gathering
from vigie.rules.ground import zone_area_m2
from vigie.rules.incidents import PersonOnGroundConfig, person_on_ground
from vigie.types import TrackPoint

pytestmark = pytest.mark.slow

FPS = 7.0


@pytest.fixture(scope="module")
def scene(pets09):
    from vigie.config import load_site
    from vigie.describe.kinematics import GroundPlane
    from vigie.eval.mot import read_mot

    camera = load_site(DEMO_SITE).camera(DEMO_CAMERA)
    gt = read_mot(pets09 / "gt.txt")
    plane = GroundPlane(camera.calibration.image_points, camera.calibration.ground_points_m)
    feet = np.c_[gt[:, 2] + gt[:, 4] / 2, gt[:, 3] + gt[:, 5]]
    projected = plane.to_ground(feet)

    def tracks(ground: np.ndarray) -> list[RuleTrack]:
        out = []
        for tid in np.unique(gt[:, 1]).astype(int):
            sel = np.flatnonzero(gt[:, 1] == tid)
            sel = sel[np.argsort(gt[sel, 0])]
            out.append(
                RuleTrack(
                    int(tid),
                    "person",
                    [
                        TrackPoint(
                            int(gt[i, 0]) - 1,
                            camera.recording_start + timedelta(seconds=(gt[i, 0] - 1) / FPS),
                            (gt[i, 2], gt[i, 3], gt[i, 2] + gt[i, 4], gt[i, 3] + gt[i, 5]),
                            1.0,
                            (float(ground[i, 0]), float(ground[i, 1])),
                        )
                        for i in sel
                    ],
                )
            )
        return out

    return {
        "gt": gt,
        "camera": camera,
        "projected": tracks(projected),
        "world": tracks(gt[:, 7:9]),
        "context": RuleContext(DEMO_CAMERA, (768, 576)),
    }


def test_calibration_puts_the_truth_where_the_world_coordinates_say(scene):
    gt = scene["gt"]
    proj = np.array([p.ground_xy for t in scene["projected"] for p in t.points])
    world = np.array([p.ground_xy for t in scene["world"] for p in t.points])
    assert len(proj) == len(gt) == 4650
    err = np.linalg.norm(proj - world, axis=1)
    assert np.median(err) < 0.05 and err.max() < 0.3


def test_default_gathering_finds_the_one_trio(scene):
    """Pairs walk together and people cross; the one group of three that stays
    within 2 m of each other for 5 s is 11, 12 and 13 walking abreast across
    the top of the plaza (13 is 1.8 to 2.1 m from 12: on the edge of the radius)."""
    for tracks in (scene["projected"], scene["world"]):
        [e] = gathering(GatheringConfig(name="g"), tracks, scene["context"])
        assert e.track_ids == (11, 12, 13) and e.details["peak_size"] == 3
        assert 5.0 <= e.details["duration_s"] <= 8.0
        assert 14.0 <= (e.start - scene["camera"].recording_start).total_seconds() <= 16.0


@pytest.mark.parametrize("min_people, radius_m", [(3, 2.5), (3, 3.0), (2, 2.0)])
def test_looser_gatherings_are_sane(scene, min_people, radius_m):
    config = GatheringConfig(name="g", min_people=min_people, radius_m=radius_m)
    start = scene["camera"].recording_start
    events = gathering(config, scene["projected"], scene["context"])
    assert 1 <= len(events) <= 8
    ids = {t.track_id for t in scene["projected"]}
    gt = scene["gt"]
    for e in events:
        assert start <= e.start < e.end <= start + timedelta(seconds=795 / FPS)
        assert e.details["duration_s"] >= 5.0 and e.details["unit"] == "m"
        assert set(e.track_ids) <= ids and len(e.track_ids) >= min_people
        assert min_people <= e.details["peak_size"] <= len(e.track_ids)
        assert 0 <= e.where[0] <= 768 and 0 <= e.where[1] <= 576
        # at the peak, in the nearest truth frame, the world coordinates show that many
        # people linked by pairs closer than the radius (10 cm of slack for the calibration)
        from datetime import datetime

        peak = (datetime.fromisoformat(e.details["peak_at"]) - start).total_seconds()
        rows = gt[gt[:, 0] == round(peak * FPS) + 1]
        rows = rows[np.isin(rows[:, 1], e.track_ids)]
        pos = rows[:, 7:9]
        linked = np.linalg.norm(pos[:, None] - pos[None], axis=2) <= radius_m + 0.1
        reach = np.linalg.matrix_power(linked.astype(int), len(pos)) > 0
        assert reach.sum(axis=1).max() >= min_people
    # the same events, members and times from the world coordinates themselves
    world = gathering(config, scene["world"], scene["context"])
    assert [e.track_ids for e in world] == [e.track_ids for e in events]
    for a, b in zip(world, events):
        assert abs((a.start - b.start).total_seconds()) <= 1.0 and abs((a.end - b.end).total_seconds()) <= 1.0


def test_calm_footage_has_no_crowd_movement_and_nobody_on_the_ground(scene):
    assert crowd_movement(CrowdMovementConfig(name="m"), scene["projected"], scene["context"]) == []
    assert person_on_ground(PersonOnGroundConfig(name="p"), scene["projected"], scene["context"]) == []


def test_density_area_from_the_tracks_is_the_calibrations(scene):
    cal = scene["camera"].calibration
    zone = [(0, 200), (768, 200), (768, 576), (0, 576)]
    area = zone_area_m2(zone, cal.image_points, cal.ground_points_m)
    [*events] = density(
        DensityConfig(name="d", zone=zone, max_per_m2=0.015, min_duration_s=5), scene["projected"], scene["context"]
    )
    assert events, "2 to 8 people on ~300 m2: above 0.015 per m2 part of the time"
    for e in events:
        assert e.details["area_m2"] == pytest.approx(area, rel=0.01)
        assert e.details["peak_people"] <= 8
    # 8 people at most: never 0.03 per m2
    assert density(DensityConfig(name="d", zone=zone, max_per_m2=0.03), scene["projected"], scene["context"]) == []
