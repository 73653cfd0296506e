"""Camera-motion compensation: the estimate recovers a known camera move, and
with it the tracker keeps identities while the camera pans."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from builders import PETS09, box, make_dets

from vigie.config import TrackerConfig
from vigie.track.bytetrack import ByteTracker
from vigie.track.cmc import CameraMotion, warp_boxes


@pytest.fixture(scope="module")
def pets_frame() -> np.ndarray:
    cap = cv2.VideoCapture(str(PETS09 / "vtest.avi"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


@pytest.mark.parametrize("dx, dy, angle", [(12.0, -7.0, 0.0), (-25.0, 4.0, 0.0), (5.0, 5.0, 2.0), (0.0, 0.0, 0.0)])
def test_estimate_recovers_a_known_camera_move(pets_frame, dx, dy, angle):
    h, w = pets_frame.shape[:2]
    m_true = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m_true[:, 2] += (dx, dy)
    moved = cv2.warpAffine(pets_frame, m_true, (w, h), borderMode=cv2.BORDER_REFLECT)
    cmc = CameraMotion()
    cmc.estimate(pets_frame)
    m = cmc.estimate(moved)
    probe = np.array([[100, 100], [600, 400], [384, 288]], float)
    want = probe @ m_true[:, :2].T + m_true[:, 2]
    got = probe @ m[:, :2].T + m[:, 2]
    assert np.abs(got - want).max() < 2.0


def test_warp_boxes_moves_and_scales():
    m = np.array([[2.0, 0.0, 10.0], [0.0, 2.0, -5.0]])
    out = warp_boxes(np.array([[0, 0, 10, 20]]), m)
    # centre (5, 10) -> (20, 15); size 10x20 doubles to 20x40
    assert np.allclose(out, [[10, -5, 30, 35]])


def test_tracker_keeps_identities_while_the_camera_pans():
    """Two still people; the camera pans 60 px a frame. Without compensation
    the predictions stay behind and the ids are lost; with it they are kept."""
    cfg = TrackerConfig()
    results = {}
    for compensate in (False, True):
        tracker = ByteTracker(cfg, frame_rate=10)
        seen: dict[int, set[int]] = {0: set(), 1: set()}
        for f in range(12):
            shift = -60.0 * f
            people = [box(400 + shift + 2000, 300, 30, 80), box(480 + shift + 2000, 300, 30, 80)]
            m = np.array([[1.0, 0.0, -60.0], [0.0, 1.0, 0.0]]) if (compensate and f > 0) else None
            out = tracker.update(make_dets((people[0], 0.9, "person"), (people[1], 0.9, "person")), camera_motion=m)
            for b, tid in zip(out.xyxy, out.track_id):
                k = int(np.argmin([abs((b[0] + b[2]) / 2 - (p[0] + p[2]) / 2) for p in people]))
                seen[k].add(int(tid))
        results[compensate] = seen
    assert all(len(ids) == 1 for ids in results[True].values())
    assert results[True][0] != results[True][1]
    assert any(len(ids) != 1 for ids in results[False].values()) or not all(results[False].values())
