"""Identity through a crossing where motion alone is wrong: two people meet
and each turns back. The Kalman predictions carry each past the other, so
motion alone swaps them; their looks (appearance vectors) keep them apart."""

from __future__ import annotations

import numpy as np
import pytest
from builders import box

from vigie.config import TrackerConfig
from vigie.track.bytetrack import APPEARANCE, ByteTracker
from vigie.types import CLASS_ID, Detections

RED = np.eye(8, dtype=np.float32)[0]
BLUE = np.eye(8, dtype=np.float32)[1]


def bounce_path(frames: int = 20, meet: int = 10, speed: float = 8.0):
    """x of A and B per frame: walking towards each other, then back."""
    for f in range(frames):
        k = f if f <= meet else 2 * meet - f
        yield f, 120 + speed * k, 280 - speed * k


def run(weight: float, with_looks: bool) -> dict[str, set[int]]:
    tracker = ByteTracker(TrackerConfig(appearance_weight=weight), frame_rate=10)
    seen = {"A": set(), "B": set()}
    for f, xa, xb in bounce_path():
        data = {APPEARANCE: np.stack([RED, BLUE])} if with_looks else {}
        dets = Detections(
            np.array([box(xa, 200), box(xb, 200)]), np.array([0.9, 0.9]), np.full(2, CLASS_ID["person"]), data=data
        )
        out = tracker.update(dets)
        for b, tid in zip(out.xyxy, out.track_id):
            cx = (b[0] + b[2]) / 2
            who = "A" if abs(cx - xa) < abs(cx - xb) else "B"
            if f > 12:  # after the meeting: who is where
                seen[who].add(int(tid))
            elif f < 8:
                seen[who].add(int(tid))
    return seen


def test_motion_alone_swaps_them():
    seen = run(weight=0.0, with_looks=False)
    assert seen["A"] & seen["B"], seen  # an id was worn by both people


@pytest.mark.parametrize("weight", [0.3, 0.5, 0.8])
def test_appearance_keeps_each_identity(weight):
    seen = run(weight=weight, with_looks=True)
    assert len(seen["A"]) == 1 and len(seen["B"]) == 1, seen
    assert seen["A"] != seen["B"]


def test_vectors_are_asked_for_only_where_looks_can_decide():
    """Lazy appearance: boxes far from every other track are not described,
    except for a periodic refresh of each track's look."""
    asked: list[int] = []
    tracker = ByteTracker(TrackerConfig(appearance_refresh=5), frame_rate=10)

    def looks(idx):
        asked.append(len(idx))
        return np.stack([RED if i == 0 else BLUE for i in idx])

    for f in range(30):  # two people far apart, walking in parallel
        dets = Detections(
            np.array([box(100 + 3 * f, 100), box(100 + 3 * f, 400)]),
            np.array([0.9, 0.9]),
            np.full(2, CLASS_ID["person"]),
        )
        tracker.update(dets, appearance=looks)
    assert tracker.appearance_computed < 0.4 * 2 * 30
