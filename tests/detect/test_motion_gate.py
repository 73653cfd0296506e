"""The motion gate: a still scene skips the detector; movement wakes it."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from vigie.config import CameraConfig, MotionGateConfig, SiteConfig
from vigie.detect.motion import MotionGate
from vigie.pipeline import CameraPipeline
from vigie.types import Detections, Frame

T0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)


def textured(seed: int = 0, size=(480, 640)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.repeat(np.repeat(rng.integers(40, 200, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8), 8, 0), 8, 1)


class CountingDetector:
    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        return Detections.empty()


def test_gate_says_still_for_a_still_scene_and_moving_for_a_moving_square():
    gate = MotionGate(MotionGateConfig(warmup_frames=0))
    still = textured()
    for _ in range(30):
        gate.moving(still)
    assert not gate.moving(still)
    moved = still.copy()
    moved[200:280, 300:340] = (0, 0, 255)
    assert gate.moving(moved)
    assert gate.mask_in(np.array([300, 200, 340, 280])).mean() > 100


def test_the_first_frames_are_always_analysed_while_the_background_is_learnt():
    # MOG2 sees no motion in its first frames (TUD-Stadtmitte: 5 frames), even with people walking:
    # people present from the start must be found from the start.
    gate = MotionGate(MotionGateConfig(warmup_frames=10))
    still = textured()
    assert all(gate.moving(still) for _ in range(10))
    assert not any(gate.moving(still) for _ in range(20))
    cold = MotionGate(MotionGateConfig(warmup_frames=0))
    assert not cold.moving(still)


def test_pipeline_skips_the_detector_on_still_frames():
    site = SiteConfig(name="s", cameras=[CameraConfig(id="c", name="c", lat=43.8, lon=4.36)])
    detector = CountingDetector()
    pipeline = CameraPipeline(site.camera("c"), site, frame_rate=10, detector=detector)
    warmup = site.analysis.motion_gate.warmup_frames
    still = textured()
    for seq in range(warmup + 40):
        pipeline.process(Frame("c", seq, T0, still))
    # Every frame of the warm-up is analysed; after that nothing moves.
    assert pipeline.frames_skipped_still >= 30
    assert detector.calls == warmup + 40 - pipeline.frames_skipped_still
    moved = still.copy()
    moved[200:280, 300:340] = (0, 0, 255)
    before = detector.calls
    pipeline.process(Frame("c", warmup + 40, T0, moved))
    assert detector.calls == before + 1


def test_disabled_gate_runs_the_detector_on_every_frame():
    site = SiteConfig(name="s", cameras=[CameraConfig(id="c", name="c", lat=43.8, lon=4.36)])
    site = site.model_copy(
        update={"analysis": site.analysis.model_copy(update={"motion_gate": MotionGateConfig(enabled=False)})}
    )
    detector = CountingDetector()
    pipeline = CameraPipeline(site.camera("c"), site, frame_rate=10, detector=detector)
    for seq in range(20):
        pipeline.process(Frame("c", seq, T0, textured()))
    assert detector.calls == 20
