"""Chunk planning and stitching (vigie.scale.chunks): tables of cases and hand-built tracks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import T0

from vigie.errors import VigieError
from vigie.scale import get_executor
from vigie.scale.chunks import DUPLICATE_SHARE, Chunk, ChunkResult, box_coverage, plan_chunks, same_object, stitch
from vigie.types import TrackPoint, TrackSummary

FPS = 10.0


def track(first: int, last: int, x0: float = 100.0, cls: str = "person", no: int = 1, dx: float = 2.0) -> TrackSummary:
    """A box walking right from frame `first` to `last` (inclusive), x0 at frame `first`."""
    points = [
        TrackPoint(
            seq=s,
            timestamp=T0 + timedelta(seconds=s / FPS),
            xyxy=(x0 + dx * (s - first), 100.0, x0 + dx * (s - first) + 40.0, 200.0),
            confidence=0.9,
        )
        for s in range(first, last + 1)
    ]
    return TrackSummary(
        camera_id="cam",
        track_no=no,
        class_name=cls,
        first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp,
        points=points,
    )


def result(chunk: Chunk, *tracks: TrackSummary) -> ChunkResult:
    owned = [t for t in tracks if chunk.first <= t.points[0].seq < chunk.end]
    return ChunkResult(chunk, owned, [t for t in tracks if t not in owned])


@pytest.mark.parametrize(
    "total, chunk_s, cores",
    [
        (
            1000,
            10.0,
            [
                (0, 100),
                (100, 200),
                (200, 300),
                (300, 400),
                (400, 500),
                (500, 600),
                (600, 700),
                (700, 800),
                (800, 900),
                (900, 1000),
            ],
        ),
        (
            1050,
            10.0,
            [
                (0, 95),
                (95, 191),
                (191, 286),
                (286, 382),
                (382, 477),
                (477, 573),
                (573, 668),
                (668, 764),
                (764, 859),
                (859, 955),
                (955, 1050),
            ],
        ),
        (50, 10.0, [(0, 50)]),  # shorter than a chunk: one chunk, the whole file
        (1, 10.0, [(0, 1)]),
    ],
)
def test_chunk_cores_cover_every_frame_once(total, chunk_s, cores):
    chunks = plan_chunks(total, FPS, chunk_s, warmup_s=2.0, run_on_s=5.0)
    assert [(c.first, c.end) for c in chunks] == cores
    assert [c.index for c in chunks] == list(range(len(cores)))


def test_chunks_warm_up_before_their_core_and_may_run_on_after_it():
    chunks = plan_chunks(300, FPS, 10.0, warmup_s=2.0, run_on_s=5.0)
    assert [(c.warmup_from, c.last) for c in chunks] == [(0, 150), (80, 250), (180, 300)]


@pytest.mark.parametrize("total, chunk_s, message", [(0, 10.0, "no frame count"), (100, 0.0, "more than 0")])
def test_impossible_plans_are_refused_with_the_reason(total, chunk_s, message):
    with pytest.raises(ValueError, match=message):
        plan_chunks(total, FPS, chunk_s)


@pytest.mark.parametrize(
    "a, b, same",
    [
        (track(0, 50), track(20, 50, x0=140.0), True),  # b follows a's boxes over all its frames
        (track(0, 50), track(0, 50, cls="car"), False),  # another class
        (track(0, 50), track(0, 50, x0=300.0), False),  # elsewhere in the picture
        (track(0, 50), track(60, 90), False),  # never at the same time
        (track(0, 20), track(10, 60), False),  # shares too few of b's frames
    ],
)
def test_same_object_needs_the_same_boxes_over_most_shared_frames(a, b, same):
    assert same_object(a, b) is same


def test_tracks_owned_by_their_chunk_are_kept_and_numbered_in_time_order():
    c0, c1 = plan_chunks(200, FPS, 10.0, warmup_s=2.0, run_on_s=5.0)
    crossing = track(80, 140, x0=10.0)  # born in chunk 0, followed past the border by its run-on
    later = track(150, 190, x0=400.0)
    stitched = stitch([result(c1, later, track(90, 140, x0=10.0 + 2 * 10)), result(c0, crossing)])
    assert [t.points[0].seq for t in stitched.tracks] == [80, 150]
    assert [t.track_no for t in stitched.tracks] == [1, 2]
    assert stitched.orphans_kept == 0  # chunk 1's view of the crossing person (born in its warm-up) is covered


def test_a_later_chunks_track_of_an_object_the_earlier_chunk_followed_is_a_duplicate():
    c0, c1 = plan_chunks(200, FPS, 10.0, warmup_s=2.0, run_on_s=5.0)
    crossing = track(80, 140)
    # chunk 1's tracker, with less history, lost the person during its warm-up and found them again after the border
    restart = track(105, 140, x0=100.0 + 2 * 25)
    stitched = stitch([result(c0, crossing), result(c1, restart)])
    assert len(stitched.tracks) == 1 and stitched.tracks[0] is crossing
    assert stitched.duplicates_dropped == 1


def test_a_run_on_across_several_chunks_still_wins_over_a_later_chunks_restart():
    c0, c1, c2 = plan_chunks(300, FPS, 10.0, warmup_s=2.0, run_on_s=30.0)
    long_stay = track(20, 280, dx=0.5)  # born in chunk 0, followed by its run-on to chunk 2's core
    restart = track(230, 280, x0=100.0 + 0.5 * 210, dx=0.5)  # chunk 2 found the same person late
    stitched = stitch([result(c0, long_stay), result(c1), result(c2, restart)])
    assert stitched.tracks == [long_stay] and stitched.duplicates_dropped == 1


def test_a_later_chunks_track_that_switched_onto_an_object_already_followed_is_kept():
    c0, c1 = plan_chunks(200, FPS, 10.0, warmup_s=2.0, run_on_s=30.0)
    standing = track(20, 190, x0=500.0, dx=0.0)  # born in chunk 0, followed to the end by its run-on
    # chunk 1's tracker never started the standing person; a passer-by's track (walking left from x=600)
    # took them over at frame 130: its first 25 boxes are the passer-by's, and only it has them
    passer = track(105, 129, x0=600.0, dx=-4.0)
    switched = track(105, 190)
    switched.points = passer.points + standing.points[130 - 20 :]
    switched.last_seen = switched.points[-1].timestamp
    stitched = stitch([result(c0, standing), result(c1, switched)])
    assert stitched.tracks == [standing, switched] and stitched.duplicates_dropped == 0
    assert same_object(standing, switched)  # most of its shared frames are the standing person's ...
    assert not same_object(standing, switched, share=DUPLICATE_SHARE)  # ... but not (nearly) all of them


def test_box_coverage_is_the_share_of_boxes_the_other_tracks_have_too():
    whole = [track(0, 39), track(0, 19, x0=400.0)]  # 60 boxes
    split = [
        track(0, 29),
        track(30, 39, x0=100.0 + 2 * 30 + 300.0),
    ]  # the last 10 of the first elsewhere; none of the second
    assert box_coverage(whole, whole) == 1.0
    assert box_coverage(whole, split) == pytest.approx(30 / 60)
    assert box_coverage(split, whole) == pytest.approx(30 / 40)
    assert box_coverage(whole, []) == 0.0 and box_coverage([], whole) == 0.0


def test_an_object_only_seen_in_a_warm_up_or_run_on_is_kept_once():
    c0, c1 = plan_chunks(200, FPS, 10.0, warmup_s=2.0, run_on_s=5.0)
    # chunk 0 broke the track just after the border; both views are born outside their owner's core
    seen_by_0 = track(101, 140, x0=300.0)
    seen_by_1 = track(85, 140, x0=300.0 - 2 * 16)
    stitched = stitch([result(c0, seen_by_0), result(c1, seen_by_1)])
    assert len(stitched.tracks) == 1 and stitched.tracks[0] is seen_by_1  # the longer view
    assert stitched.orphans_kept == 1


def test_an_unknown_executor_or_a_local_one_with_an_address_is_refused():
    with pytest.raises(VigieError, match="no executor named 'spark'"):
        get_executor("spark")
    with pytest.raises(VigieError, match="--address is for --executor ray"):
        get_executor("local", "10.0.0.1:6379")
    assert get_executor("local").name == "local"
