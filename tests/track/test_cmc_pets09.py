"""Camera-motion compensation on real footage: PETS09 seen through a camera
that pans back and forth (a 640 px window sliding 16 px a frame over the
768 px frame, reversing every 8 frames). Without compensation every reversal
throws the Kalman predictions off; with it, identities hold better."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from builders import PAN_WIDTH, PETS09, window_x

from vigie.config import NanoDetConfig, TrackerConfig
from vigie.detect.registry import build_detector
from vigie.eval.mot import read_mot, score
from vigie.track.bytetrack import ByteTracker
from vigie.track.cmc import CameraMotion

FRAMES = 120
WIDTH = PAN_WIDTH


def panned_scene(detector, pets09=PETS09):
    """Per frame: the window's image and its detections; and the truth in
    window pixels (people whose box centre is inside the window)."""
    gt = read_mot(pets09 / "gt.txt")
    cap = cv2.VideoCapture(str(pets09 / "vtest.avi"))
    frames, truth = [], []
    try:
        for f in range(FRAMES):
            ok, image = cap.read()
            assert ok, f"vtest.avi ends before frame {f}"
            x0 = window_x(f)
            view = np.ascontiguousarray(image[:, x0 : x0 + WIDTH])
            frames.append((view, detector.detect(view)))
            rows = gt[gt[:, 0] == f + 1].copy()
            rows[:, 2] -= x0
            centre = rows[:, 2] + rows[:, 4] / 2
            truth.append(rows[(centre >= 0) & (centre < WIDTH)])
    finally:
        cap.release()
    return frames, np.vstack(truth)


@pytest.fixture(scope="module")
def panned(tmp_path_factory):
    import os

    os.environ.setdefault("VIGIE_DATA", str(tmp_path_factory.mktemp("models")))
    return panned_scene(build_detector(NanoDetConfig(), ["person"]))


def track(frames, compensate: bool):
    tracker = ByteTracker(TrackerConfig(appearance_weight=0.0), frame_rate=7)
    cmc = CameraMotion()
    rows = []
    for f, (view, dets) in enumerate(frames):
        warp = (
            cmc.estimate(view, exclude=np.array([t.kf.box for t in tracker.tracks]).reshape(-1, 4))
            if compensate
            else None
        )
        out = tracker.update(dets, camera_motion=warp)
        for b, tid in zip(out.xyxy, out.track_id):
            rows.append((f + 1, int(tid), b[0], b[1], b[2] - b[0], b[3] - b[1], 1.0))
    return np.array(rows)


def test_camera_motion_compensation_keeps_identities_on_a_panning_camera(panned):
    frames, truth = panned
    without = score(truth, track(frames, compensate=False))
    with_cmc = score(truth, track(frames, compensate=True))
    assert with_cmc.idf1 >= without.idf1 + 0.05, (with_cmc, without)
    assert with_cmc.id_switches < without.id_switches, (with_cmc, without)
    assert with_cmc.mota > without.mota
