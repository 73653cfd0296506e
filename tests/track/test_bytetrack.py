"""ByteTracker association, on synthetic detections.

A scenario is a list of frames; each frame maps a person (a name) to its true
box, its detection score (None: not detected this frame) and its class. Each
output row is tied to the person whose detection it overlaps most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from builders import box, make_dets

from vigie.config import TrackerConfig
from vigie.track.bytetrack import ByteTracker
from vigie.track.matching import assign, iou_matrix
from vigie.types import CLASS_ID

FPS = 7.0
CFG = TrackerConfig()
MAX_LOST = int(round(CFG.lost_seconds * FPS))
# Scores are taken relative to the configured thresholds, which get tuned.
LOW_BAND = (CFG.low_score + CFG.high_score) / 2  # extends a track, never starts one


@dataclass
class Seen:
    xyxy: list[float]
    score: float | None = 0.9
    cls: str = "person"


Scenario = list[dict[str, Seen]]


def walker(
    x0: float,
    y0: float,
    vx: float,
    vy: float = 0.0,
    n: int = 30,
    score: float | None = 0.9,
    cls: str = "person",
    hidden: range = range(0),
    w: float = 40,
    h: float = 100,
) -> list[Seen]:
    return [Seen(box(x0 + vx * t, y0 + vy * t, w, h), None if t in hidden else score, cls) for t in range(n)]


def scenario(**people: list[Seen]) -> Scenario:
    n = max(len(p) for p in people.values())
    return [{name: seq[t] for name, seq in people.items() if t < len(seq)} for t in range(n)]


def run(tracker: ByteTracker, frames: Scenario):
    """Feed the frames; return per frame {person: track id} and the finished ids per frame.

    Output rows are tied to people by IoU with their detection boxes (the
    output box may be the detection or the filtered box); frames where two
    people overlap are left out of the mapping, being ambiguous by construction.
    """
    by_frame, finished = [], []
    for frame in frames:
        shown = {name: s for name, s in frame.items() if s.score is not None}
        out = tracker.update(make_dets(*[(s.xyxy, s.score, s.cls) for s in shown.values()]))
        by_frame.append(_who(out, shown))
        finished.append(tracker.pop_finished())
    return by_frame, finished


def _who(out, shown: dict[str, Seen]) -> dict[str, int]:
    if not len(out) or not shown:
        return {}
    names = list(shown)
    truth = np.array([shown[n].xyxy for n in names])
    crowd = iou_matrix(truth, truth)
    np.fill_diagonal(crowd, 0.0)
    iou = iou_matrix(out.xyxy, truth)
    matches, _, _ = assign(1.0 - iou, 0.5)
    return {names[c]: int(out.track_id[r]) for r, c in matches if crowd[c].max() < 0.2}


def overlapped(frame: dict[str, Seen], name: str) -> bool:
    others = [s.xyxy for n, s in frame.items() if n != name]
    return bool(others) and iou_matrix(np.array([frame[name].xyxy]), np.array(others)).max() >= 0.2


def ids_of(by_frame) -> dict[str, set[int]]:
    ids: dict[str, set[int]] = {}
    for who in by_frame:
        for name, tid in who.items():
            ids.setdefault(name, set()).add(tid)
    return ids


# --- keeping identities ------------------------------------------------------------------
KEEP_CASES = {
    "one person walking": scenario(a=walker(100, 300, 6)),
    "one person walking diagonally, fast": scenario(a=walker(100, 200, 12, 6)),
    "one person standing still": scenario(a=walker(300, 300, 0)),
    "two side by side": scenario(a=walker(100, 300, 6), b=walker(150, 300, 6)),
    "two one behind the other": scenario(a=walker(100, 250, 5), b=walker(100, 380, 5)),
    "crossing at different heights": scenario(a=walker(100, 300, 8, n=40), b=walker(420, 340, -8, n=40)),
    "crossing at the same height": scenario(a=walker(100, 300, 8, n=40), b=walker(420, 300, -8, n=40)),
    "crossing, the one behind hidden 3 frames": scenario(
        a=walker(100, 300, 8, n=40), b=walker(420, 305, -8, n=40, hidden=range(19, 22))
    ),
    "crossing, one with low scores while overlapped": scenario(
        a=walker(100, 300, 8, n=40),
        b=[Seen(s.xyxy, LOW_BAND if 17 <= t < 23 else 0.9) for t, s in enumerate(walker(420, 310, -8, n=40))],
    ),
}


@pytest.mark.parametrize("frames", list(KEEP_CASES.values()), ids=list(KEEP_CASES))
def test_each_person_keeps_one_id_and_ids_are_distinct(frames):
    by_frame, _ = run(ByteTracker(CFG, FPS), frames)
    ids = ids_of(by_frame)

    people = set(frames[0])
    assert set(ids) == people, f"every person gets a track: {ids}"
    assert all(len(v) == 1 for v in ids.values()), f"an id switch happened: {ids}"
    assert len({next(iter(v)) for v in ids.values()}) == len(people), f"two people share an id: {ids}"
    assert sorted(next(iter(v)) for v in ids.values()) == list(range(1, len(people) + 1))
    # Once confirmed, a person is reported on every frame it is detected.
    for name in people:
        for t in range(CFG.min_hits - 1, len(frames)):
            if frames[t][name].score is not None and not overlapped(frames[t], name):
                assert name in by_frame[t], f"{name} not reported at frame {t}"


@pytest.mark.parametrize("min_hits", [1, 2, 3, 5])
def test_ids_appear_only_after_min_hits_matched_frames(min_hits):
    cfg = TrackerConfig(min_hits=min_hits)
    by_frame, _ = run(ByteTracker(cfg, FPS), scenario(a=walker(100, 300, 6, n=10)))
    first = next(t for t, who in enumerate(by_frame) if who)
    assert first == min_hits - 1
    assert by_frame[first] == {"a": 1}


def test_each_tracker_instance_counts_ids_from_one():
    frames = scenario(a=walker(100, 300, 6, n=8), b=walker(400, 300, -6, n=8))
    one, two = ByteTracker(CFG, FPS), ByteTracker(CFG, FPS)
    out_one, _ = run(one, frames)
    out_two, _ = run(two, frames[:1] + [{"b": f["b"]} for f in frames[1:]])  # a only in frame 0: never confirmed
    assert sorted(next(iter(v)) for v in ids_of(out_one).values()) == [1, 2]
    assert ids_of(out_two) == {"b": {1}}


# --- lost and found -------------------------------------------------------------------------
@pytest.mark.parametrize("gap", [1, 3, 6, 12, MAX_LOST])
@pytest.mark.parametrize("speed", [0, 6], ids=["standing", "walking"])
def test_hidden_for_a_while_then_back_near_the_prediction_gets_the_same_id(gap, speed):
    frames = scenario(a=walker(100, 300, speed, n=10 + gap + 10, hidden=range(10, 10 + gap)))
    by_frame, finished = run(ByteTracker(CFG, FPS), frames)
    assert ids_of(by_frame) == {"a": {1}}
    assert by_frame[10 + gap] == {"a": 1}, "recovered on the first frame it is seen again"
    assert not any(finished)


@pytest.mark.parametrize("lost_seconds, fps", [(3.0, 7.0), (1.0, 10.0), (0.5, 25.0)])
@pytest.mark.parametrize("extra", [1, 10])
def test_gone_longer_than_lost_seconds_ends_the_track_and_a_return_gets_a_new_id(lost_seconds, fps, extra):
    max_lost = int(round(lost_seconds * fps))
    gap = max_lost + extra
    frames = scenario(a=walker(100, 300, 0, n=10 + gap + 10, hidden=range(10, 10 + gap)))
    tracker = ByteTracker(TrackerConfig(lost_seconds=lost_seconds), fps)
    by_frame, finished = run(tracker, frames)

    ended_at = [(t, ids) for t, ids in enumerate(finished) if ids]
    assert ended_at == [(9 + max_lost + 1, [1])], "ends once, max_lost frames after it was last seen"
    returned = [who["a"] for who in by_frame[10 + gap :] if "a" in who]
    assert returned and set(returned) == {2}
    assert tracker.finish() == [2]


def test_a_lost_track_does_not_take_a_newcomer_far_from_its_prediction():
    frames = scenario(
        a=walker(100, 300, 0, n=30, hidden=range(10, 16)),
        b=[Seen(box(500, 300), None)] * 12 + walker(500, 300, 0, n=18),  # appears while a is hidden
    )
    by_frame, _ = run(ByteTracker(CFG, FPS), frames)
    assert ids_of(by_frame) == {"a": {1}, "b": {2}}


# --- scores ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "later_score, extended",
    [(LOW_BAND, True), (CFG.low_score, True), (CFG.high_score - 0.01, True), (CFG.low_score / 2, False)],
    ids=["low band", "at low_score", "just under high_score", "below low_score"],
)
def test_a_low_score_detection_extends_an_existing_track(later_score, extended):
    a = walker(100, 300, 5, n=12)
    frames = scenario(a=[Seen(s.xyxy, 0.9 if t < 6 else later_score) for t, s in enumerate(a)])
    by_frame, _ = run(ByteTracker(CFG, FPS), frames)
    reported = [t for t, who in enumerate(by_frame) if who.get("a") == 1]
    if extended:
        assert reported == list(range(CFG.min_hits - 1, 12))
    else:
        assert reported == list(range(CFG.min_hits - 1, 6))


TOO_WEAK = [
    pytest.param(LOW_BAND, id="low band"),
    pytest.param(CFG.low_score, id="at low_score"),
    pytest.param(CFG.high_score - 0.01, id="just under high_score"),
]
if CFG.new_track_score > CFG.high_score:
    TOO_WEAK.append(pytest.param((CFG.high_score + CFG.new_track_score) / 2, id="high but under new_track_score"))


@pytest.mark.parametrize("score", TOO_WEAK)
def test_a_detection_too_weak_to_start_a_track_never_starts_one(score):
    frames = scenario(a=walker(100, 300, 5, n=20, score=score))
    tracker = ByteTracker(CFG, FPS)
    by_frame, _ = run(tracker, frames)
    assert not any(by_frame)
    assert tracker.finish() == []
    # and no id was spent on it: the next real person is track 1
    by_frame, _ = run(tracker, scenario(b=walker(400, 300, 5, n=5)))
    assert ids_of(by_frame) == {"b": {1}}


# --- classes -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "first, then, same",
    [
        ("person", "car", False),
        ("car", "person", False),
        ("person", "bicycle", False),
        ("car", "truck", True),
        ("bus", "truck", True),
        ("motorcycle", "bicycle", True),
        ("backpack", "handbag", True),
        ("suitcase", "backpack", True),
        ("person", "backpack", False),
        ("suitcase", "car", False),
        ("handbag", "person", False),
    ],
)
def test_class_gate_each_kind_only_with_its_kind(first, then, same):
    path = walker(100, 300, 4, n=16)
    frames = scenario(a=[Seen(s.xyxy, 0.9, first if t < 8 else then) for t, s in enumerate(path)])
    tracker = ByteTracker(CFG, FPS)
    out = [tracker.update(make_dets(*[(s.xyxy, s.score, s.cls) for s in f.values()])) for f in frames]
    rows = [(t, int(tid), int(c)) for t, o in enumerate(out) for tid, c in zip(o.track_id, o.class_id)]
    first_ids = {tid for t, tid, _ in rows if t < 8}
    later_ids = {tid for t, tid, _ in rows if t >= 8}
    assert first_ids == {1}
    if same:
        assert later_ids == {1}
    else:
        assert 1 not in later_ids, "a box of another kind was given the track"
        assert later_ids == {2}
        assert {c for t, tid, c in rows if tid == 2} == {CLASS_ID[then]}


# --- end of source -------------------------------------------------------------------------------------
def test_finish_returns_the_ids_still_open_and_empties_the_tracker():
    frames = scenario(
        a=walker(100, 300, 5, n=10),  # confirmed, seen to the end
        b=walker(300, 300, 0, n=10, hidden=range(6, 10)),  # confirmed, lost at the end
        c=[Seen(box(500, 300), None)] * 9 + [Seen(box(500, 300))],  # tentative only
    )
    tracker = ByteTracker(CFG, FPS)
    by_frame, finished = run(tracker, frames)
    assert not any(finished)
    assert sorted(tracker.finish()) == [1, 2]
    assert tracker.finish() == []
    assert len(tracker.update(make_dets())) == 0


@pytest.mark.parametrize("dx, dy", [(-40, 0), (0, 35), (25, -25)], ids=["slowed down", "stepped aside", "diagonal"])
def test_back_off_the_prediction_but_within_reach_gets_the_same_id(dx, dy):
    """Hidden 10 frames, then seen up to 0.4 body heights from where it would be
    at constant speed: no overlap with the predicted box, yet the same person."""
    path = walker(100, 300, 6, n=30, hidden=range(10, 20))
    back = [Seen(box(100 + 6 * t + dx, 300 + dy), 0.9) for t in range(20, 30)]
    by_frame, finished = run(ByteTracker(CFG, FPS), scenario(a=path[:20] + back))
    assert ids_of(by_frame) == {"a": {1}}
    assert by_frame[20] == {"a": 1}
    assert not any(finished)
