"""Packing tubes into a video synopsis (vigie.synopsis.packing) on hand-built
tubes: packing tables whose answers are worked out by hand, the exact
measures on hand-computed cases, the length search, and the input errors."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from vigie.synopsis.packing import ALPHA, COOCCURRENCE_SHARE, Packing, Tube, collision_fraction, inversions, pack

FRAME = (256, 128)  # width, height


# --- builders --------------------------------------------------------------------------------------
def still(key: int, start: int, n: int, box) -> Tube:
    """A tube that stays on one box for n frames."""
    return Tube(key, start, np.tile(np.asarray(box, dtype=float), (n, 1)))


def walkers(count: int, seed: int, size=(768, 576), span=6000, speed=3.0) -> list[Tube]:
    """Pedestrian-like tubes: 35x90-ish boxes walking in straight lines, 70-130 frames each."""
    rng = np.random.default_rng(seed)
    width, height = size
    tubes = []
    for key in range(count):
        n = int(rng.integers(70, 131))
        w = rng.uniform(30, 45)
        h = 2.5 * w
        heading = rng.uniform(0, 2 * np.pi)
        p = np.array([rng.uniform(0, width - w), rng.uniform(0, height - h)])
        p = np.clip(
            p + np.arange(n)[:, None] * speed * np.array([np.cos(heading), np.sin(heading)]), 0, [width - w, height - h]
        )
        tubes.append(Tube(key, int(rng.integers(0, span - n)), np.hstack([p, p + [w, h]])))
    return tubes


def placed_within(tubes: list[Tube], p: Packing) -> bool:
    return all(0 <= p.starts[t.key] and p.starts[t.key] + t.length <= p.length for t in tubes)


# --- two tubes on the same spot ---------------------------------------------------------------------
SPOT = [0, 0, 40, 40]  # 1600 px^2


@pytest.mark.parametrize(
    "length, starts, fraction, energy",
    [
        # room for both one after the other: separated in time, no collision;
        # the energy is E_t for a co-occurring pair whose timing changed
        (20, {1: 0, 2: 10}, 0.0, ALPHA * COOCCURRENCE_SHARE),
        (30, {1: 0, 2: 10}, 0.0, ALPHA * COOCCURRENCE_SHARE),  # as early as possible, not anywhere
        # 15 frames: they must share 5, and share no more (E_c = 5 frames x 1600 px^2,
        # and their timing changed)
        (15, {1: 0, 2: 5}, 0.5, 5 * 1600.0 + ALPHA * COOCCURRENCE_SHARE),
        (11, {1: 0, 2: 1}, 0.9, 9 * 1600.0 + ALPHA * COOCCURRENCE_SHARE),
        # no room at all: on top of each other, as in the source
        (10, {1: 0, 2: 0}, 1.0, 10 * 1600.0),
        (3, {1: 0, 2: 0}, 1.0, 10 * 1600.0),  # shorter than the tubes: not cut, the synopsis is 10 frames
    ],
)
def test_colliding_tubes_are_separated_when_the_length_allows(length, starts, fraction, energy):
    tubes = [still(1, 0, 10, SPOT), still(2, 0, 10, SPOT)]
    p = pack(tubes, FRAME, length=length)
    assert p.starts == starts
    assert p.length == max(length, 10)
    assert p.collision_fraction == pytest.approx(fraction)
    assert p.inversions == 0
    assert p.energy == pytest.approx(energy)


@pytest.mark.parametrize("length", [10, 20, 100, None])
def test_tubes_apart_in_space_both_start_at_zero(length):
    # Different parts of the image, different times in the source: nothing to
    # gain by separating them, so both start the synopsis, in order.
    tubes = [still(1, 0, 10, [0, 0, 40, 40]), still(2, 50, 10, [100, 60, 140, 100])]
    p = pack(tubes, FRAME, length=length)
    assert p.starts == {1: 0, 2: 0}
    assert p.length == (10 if length is None else length)
    assert (p.collision_fraction, p.inversions, p.energy) == (0.0, 0, 0.0)


@pytest.mark.parametrize(
    "tubes, length, expected_length",
    [
        ([still(1, 5, 30, SPOT)], 10, 30),
        ([still(1, 0, 30, SPOT), still(2, 3, 5, [100, 0, 140, 40])], 10, 30),
        ([still(1, 0, 30, SPOT), still(2, 3, 5, SPOT)], 1, 30),
    ],
)
def test_a_tube_longer_than_the_length_is_not_cut(tubes, length, expected_length):
    p = pack(tubes, FRAME, length=length)
    assert p.length == expected_length
    assert p.starts[1] == 0
    assert placed_within(tubes, p)


def test_a_short_tube_goes_where_the_long_one_leaves_room():
    # 30-frame synopsis, a 30-frame tube at SPOT for its first 20 frames then
    # elsewhere: the 5-frame tube on SPOT goes after frame 20.
    boxes = np.array([SPOT] * 20 + [[200, 80, 240, 120]] * 10, dtype=float)
    tubes = [Tube(1, 0, boxes), still(2, 3, 5, SPOT)]
    p = pack(tubes, FRAME, length=30)
    assert p.starts == {1: 0, 2: 20}
    assert p.collision_fraction == 0.0


# --- order ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "boxes, length, starts",
    [
        # far apart in the source, on the same spot, exactly enough room: one after the other, in order
        ([SPOT] * 6, 60, [0, 10, 20, 30, 40, 50]),
        # more room than needed: still packed from the start, in order
        ([SPOT] * 6, 100, [0, 10, 20, 30, 40, 50]),
        # each on its own spot: all at the start (ties: no inversion)
        ([[40 * k, 0, 40 * k + 30, 30] for k in range(6)], 60, [0] * 6),
        # alternating spots: the second spot's tubes fill the first spot's gaps, in order
        ([SPOT, [100, 0, 140, 40]] * 3, 30, [0, 0, 10, 10, 20, 20]),
    ],
)
def test_order_is_kept_when_it_costs_nothing(boxes, length, starts):
    tubes = [still(key, 100 * key, 10, box) for key, box in enumerate(boxes)]
    p = pack(tubes, FRAME, length=length)
    assert [p.starts[key] for key in range(len(boxes))] == starts
    assert p.inversions == 0
    assert p.collision_fraction == 0.0


@pytest.mark.parametrize(
    "length, alpha, c_start, inversions_expected, collides",
    [
        # 20 frames: before B is C's only collision-free place: an inversion
        # (cost alpha) beats 4096 px^2 of collision per frame
        (20, ALPHA, 0, 1, False),
        # 30 frames: C fits after B: the order is kept, for nothing
        (30, ALPHA, 20, 0, False),
        # 21 frames: after B, C shares 9 frames with it
        (21, ALPHA, 0, 1, False),
        # ... unless the order is worth more than those 9 x 4096 px^2
        (21, 45000.0, 11, 0, True),
    ],
)
def test_order_breaks_only_to_avoid_a_collision(length, alpha, c_start, inversions_expected, collides):
    # A on X, then B on X and Z (wide), then C on Z, 10 frames each, close
    # together in the source. B must wait for A (they share X): it goes at
    # 10. C shares Z with B only.
    a = still(1, 0, 10, [0, 0, 64, 64])
    b = still(2, 1, 10, [0, 0, 200, 64])
    c = still(3, 2, 10, [136, 0, 200, 64])
    p = pack([a, b, c], FRAME, length=length, alpha=alpha)
    assert (p.starts[1], p.starts[2], p.starts[3]) == (0, 10, c_start)
    assert p.inversions == inversions_expected
    assert (p.collision_fraction > 0) == collides


OTHER = [100, 60, 140, 100]


@pytest.mark.parametrize("alpha", [ALPHA, 0.0])
@pytest.mark.parametrize(
    "tubes, length, starts, inversions_expected",
    [
        # 1 and 2 take turns on SPOT (0, then 10); 3, elsewhere, is free at
        # every frame: it goes at 2's start, not before it
        ([still(1, 0, 10, SPOT), still(2, 100, 10, SPOT), still(3, 200, 10, OTHER)], 20, {1: 0, 2: 10, 3: 10}, 0),
        # 1 holds SPOT throughout; 2 then 3 take turns on OTHER; 4 collides
        # with 1 wherever it goes (5 frames): among equal costs, at 3's start
        (
            [still(1, 0, 20, SPOT), still(2, 50, 10, OTHER), still(3, 60, 10, OTHER), still(4, 70, 5, SPOT)],
            20,
            {1: 0, 2: 0, 3: 10, 4: 10},
            0,
        ),
        # 2 (over OTHER and SPOT) waits for 1 (OTHER) until 10; 3 (SPOT) is
        # free only before 2: as late as it can, just before 2
        (
            [still(1, 0, 10, OTHER), still(2, 10, 10, [0, 0, 140, 100]), still(3, 20, 3, SPOT)],
            20,
            {1: 0, 2: 10, 3: 7},
            1,
        ),
    ],
)
def test_ties_keep_the_order_even_when_it_has_no_cost(tubes, length, starts, inversions_expected, alpha):
    p = pack(tubes, FRAME, length=length, alpha=alpha)
    assert p.starts == starts
    assert p.inversions == inversions_expected


@pytest.mark.parametrize("alpha, starts", [(ALPHA, {1: 0, 2: 0, 3: 3}), (0.0, {1: 0, 2: 0, 3: 0})])
def test_tubes_together_in_the_source_keep_their_timing(alpha, starts):
    # 3 walks right next to 1 (from its 4th frame), 2 is at the far end of
    # the image. Nothing collides: packed from the start, except that 3 keeps
    # its 3 frames after 1 (E_t, co-occurrence), unless E_t weighs nothing.
    tubes = [still(1, 0, 10, SPOT), still(2, 1, 10, [560, 80, 600, 120]), still(3, 3, 5, [40, 0, 80, 40])]
    p = pack(tubes, (640, 128), length=30, alpha=alpha)
    assert p.starts == starts
    assert (p.collision_fraction, p.inversions) == (0.0, 0)
    assert p.energy == 0.0


def test_a_tube_keeps_its_timing_with_one_of_two_partners():
    # 1 on SPOT from 0; 2 on SPOT too from 5, so it must wait until 10; 3
    # starts with 2, next to SPOT: it can keep its timing with 1 (at 5) or
    # with 2 (at 10), not both; at equal cost, the one not before 2's start.
    tubes = [still(1, 0, 10, SPOT), still(2, 5, 10, SPOT), still(3, 5, 5, [40, 0, 80, 40])]
    p = pack(tubes, FRAME, length=30)
    assert p.starts == {1: 0, 2: 10, 3: 10}
    assert p.inversions == 0  # 2 and 3 started together: no order between them
    # two close pairs moved apart: 1-2 and 1-3
    assert p.energy == pytest.approx(2 * ALPHA * COOCCURRENCE_SHARE)


def test_deterministic_and_independent_of_input_order():
    tubes = walkers(40, seed=3, span=2000)
    first = pack(tubes, (768, 576), length=300)
    assert pack(tubes, (768, 576), length=300) == first
    assert pack(tubes[::-1], (768, 576), length=300) == first


# --- the length search ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tubes, max_collision, expected_length",
    [
        # k tubes on one spot, no collision allowed: end to end
        ([still(k, 20 * k, 10, SPOT) for k in range(5)], 0.0, 50),
        # ... a fifth allowed: the last tube may share 5 frames with the one before (10 of 50 object-frames)
        ([still(k, 20 * k, 10, SPOT) for k in range(5)], 0.2, 45),
        # apart in space: the longest tube
        ([still(k, 20 * k, 10 + k, [50 * k, 0, 50 * k + 40, 40]) for k in range(5)], 0.0, 14),
    ],
)
def test_length_search_by_hand(tubes, max_collision, expected_length):
    p = pack(tubes, FRAME, max_collision=max_collision)
    assert p.length == expected_length
    assert p.collision_fraction <= max_collision
    assert placed_within(tubes, p)


@pytest.mark.parametrize("seed, max_collision", [(1, 0.05), (2, 0.02), (4, 0.1)])
def test_length_search_finds_the_shortest_length_meeting_the_limit(seed, max_collision):
    tubes = walkers(40, seed=seed, span=3000)
    p = pack(tubes, (768, 576), max_collision=max_collision)
    assert p.collision_fraction <= max_collision
    assert p.length > max(t.length for t in tubes)  # a real search, not the floor
    assert placed_within(tubes, p)
    # the same optimiser, one frame shorter, does not meet the limit
    assert pack(tubes, (768, 576), length=p.length - 1).collision_fraction > max_collision
    # and at the length found, packing gives this very placement
    again = pack(tubes, (768, 576), length=p.length)
    assert (again.starts, again.collision_fraction) == (p.starts, p.collision_fraction)


def test_length_search_gives_up_at_the_source_span():
    # Together in the source, on the same spot: no length up to the span
    # (10 frames) separates them; the packing at the span is returned, over
    # the limit, for the caller to report.
    tubes = [still(1, 0, 10, SPOT), still(2, 0, 10, SPOT)]
    p = pack(tubes, FRAME, max_collision=0.05)
    assert (p.length, p.starts, p.collision_fraction) == (10, {1: 0, 2: 0}, 1.0)


def path(*legs) -> np.ndarray:
    """Boxes for a tube that stays on each (box, frames) leg in turn."""
    return np.array([box for box, frames in legs for _ in range(frames)], dtype=float)


def test_at_the_span_the_source_timing_is_a_candidate():
    # In the source, A is on X at frames 5-7, B at 10-11, C at 8-9: no
    # collision. The greedy moves B to the synopsis's start (its X frames go
    # to 8-9), after which C, placed last, collides wherever it goes (0..3).
    # At the 13-frame span the source's own timing wins; one frame shorter,
    # only the greedy's placement is left. (The other spots are far apart:
    # no co-occurrence pulls B or C back to their source timing.)
    x, w, v, u = [0, 0, 40, 40], [600, 0, 640, 40], [300, 400, 340, 440], [300, 0, 340, 40]
    tubes = [
        Tube(1, 0, path((w, 5), (x, 3))),
        Tube(2, 2, path((v, 8), (x, 2))),
        Tube(3, 3, path((u, 5), (x, 2), (u, 3))),
    ]
    source = {1: 0, 2: 2, 3: 3}
    p = pack(tubes, (640, 480), length=13)
    assert (p.starts, p.collision_fraction, p.inversions, p.energy) == (source, 0.0, 0, 0.0)
    greedy = pack(tubes, (640, 480), length=12)
    assert greedy.starts == {1: 0, 2: 0, 3: 0} and greedy.collision_fraction > 0
    assert pack(tubes, (640, 480), max_collision=0.0).starts == source


def test_length_search_can_end_at_the_span():
    # Three tubes on one spot, one after the other in the source: only the
    # whole 30-frame span holds them without collision, in the source's timing.
    tubes = [still(k, 10 * k + 7, 10, SPOT) for k in range(3)]
    p = pack(tubes, FRAME, max_collision=0.0)
    assert (p.length, p.starts, p.collision_fraction, p.inversions) == (30, {0: 0, 1: 10, 2: 20}, 0.0, 0)


# --- the exact measures -----------------------------------------------------------------------------
def box_tubes(*specs) -> tuple[list[Tube], dict[int, int]]:
    """(key, synopsis start, n, box) -> tubes (source start 0) and their synopsis starts."""
    return [still(key, 0, n, box) for key, _, n, box in specs], {key: s for key, s, _, _ in specs}


@pytest.mark.parametrize(
    "specs, fraction",
    [
        # two 10x10 boxes overlapping by 5x10 for 4 frames: half of each covered
        ([(1, 0, 4, [0, 0, 10, 10]), (2, 0, 4, [5, 0, 15, 10])], 0.5),
        # the same boxes in different synopsis frames: no collision
        ([(1, 0, 4, [0, 0, 10, 10]), (2, 4, 4, [5, 0, 15, 10])], 0.0),
        # sharing 2 of 4 frames, same box: 2 x 100 covered on each / 800 in all
        ([(1, 0, 4, [0, 0, 10, 10]), (2, 2, 4, [0, 0, 10, 10])], 0.5),
        # a 4-frame and a 2-frame tube on one box, the short one inside: 400 / 600
        ([(1, 0, 4, [0, 0, 10, 10]), (2, 1, 2, [0, 0, 10, 10])], 2 / 3),
        # touching boxes do not collide
        ([(1, 0, 3, [0, 0, 10, 10]), (2, 0, 3, [10, 0, 20, 10])], 0.0),
        # three boxes: A under the union of B and C (75 of 100, not 50 + 50),
        # B and C each 50 covered: 175 / 300
        ([(1, 0, 1, [0, 0, 10, 10]), (2, 0, 1, [5, 0, 15, 10]), (3, 0, 1, [0, 5, 10, 15])], 175 / 300),
        # a box inside another: the small one all covered (100), the big one by 100 of 400: 200 / 500
        ([(1, 0, 1, [0, 0, 20, 20]), (2, 0, 1, [5, 5, 15, 15])], 200 / 500),
        # only what is in the image counts: clipped to (256, 128), both boxes are [246, 0, 256, 10]
        ([(1, 0, 1, [246, 0, 266, 10]), (2, 0, 1, [246, 0, 256, 10])], 1.0),
        # a single tube
        ([(1, 3, 5, [0, 0, 10, 10])], 0.0),
    ],
)
def test_collision_fraction_by_hand(specs, fraction):
    tubes, starts = box_tubes(*specs)
    assert collision_fraction(tubes, starts, FRAME) == pytest.approx(fraction)


def test_collision_fraction_matches_a_pixel_count():
    # Random boxes at integer coordinates, many per frame: the fraction
    # against a brute-force count of covered pixels.
    rng = np.random.default_rng(7)
    tubes, starts = [], {}
    width, height = 60, 40
    for key in range(12):
        n = int(rng.integers(1, 5))
        xy = rng.integers(0, [width - 5, height - 5], size=(n, 2))
        wh = rng.integers(1, 25, size=(n, 2))
        tubes.append(Tube(key, 0, np.hstack([xy, np.minimum(xy + wh, [width, height])]).astype(float)))
        starts[key] = int(rng.integers(0, 4))
    covered = total = 0
    for f in range(10):
        present = [t.boxes[f - starts[t.key]].astype(int) for t in tubes if 0 <= f - starts[t.key] < t.length]
        count = np.zeros((height, width), dtype=int)
        for x1, y1, x2, y2 in present:
            count[y1:y2, x1:x2] += 1
        for x1, y1, x2, y2 in present:
            covered += int((count[y1:y2, x1:x2] >= 2).sum())
            total += (x2 - x1) * (y2 - y1)
    assert collision_fraction(tubes, starts, (width, height)) == pytest.approx(covered / total)


@pytest.mark.parametrize(
    "sources, synopsis, expected",
    [
        ([0, 1, 2], [0, 1, 2], 0),
        ([0, 1, 2], [2, 1, 0], 3),
        ([0, 1, 2], [1, 0, 2], 1),
        ([0, 0, 5], [3, 0, 1], 1),  # same start in the source: no order between them
        ([0, 5, 9], [4, 4, 4], 0),  # same start in the synopsis: not placed after
    ],
)
def test_inversions_by_hand(sources, synopsis, expected):
    tubes = [still(key, s, 3, SPOT) for key, s in enumerate(sources)]
    assert inversions(tubes, dict(enumerate(synopsis))) == expected


# --- inputs -----------------------------------------------------------------------------------------
def test_no_tubes_is_an_empty_synopsis():
    assert pack([], FRAME) == Packing({}, 0, 0.0, 0, 0.0)
    assert pack([], FRAME, length=50) == Packing({}, 0, 0.0, 0, 0.0)


GOOD = [still(1, 0, 3, SPOT)]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Tube(1, 0, np.zeros((0, 4))), "tube 1: no boxes"),
        (lambda: Tube(1, 0, np.zeros((3, 3))), r"tube 1: boxes must be an \(n, 4\) array .* shape \(3, 3\)"),
        (lambda: Tube(1, 0, [[0, 0, 1], [0, 0, 1, 1]]), r"tube 1: boxes must be an \(n, 4\) array"),
        (lambda: Tube(1, 0, [[10, 0, 0, 10]]), r"tube 1: box 0 is not xyxy"),
        (lambda: Tube(1, 0, [[0, 0, np.nan, 10]]), "tube 1: boxes must be finite"),
        (lambda: Tube(1, -1, [SPOT]), "tube 1: negative start -1"),
        (lambda: Tube(1, 0.5, [SPOT]), "tube 1: start must be an integer"),
        (lambda: Tube("a", 0, [SPOT]), "key must be an integer"),
        (lambda: pack(GOOD + [still(1, 4, 3, SPOT)], FRAME), "duplicate tube key 1"),
        (lambda: pack(GOOD, FRAME, length=0), "length must be at least 1 frame, got 0"),
        (lambda: pack(GOOD, FRAME, length=-5), "length must be at least 1 frame"),
        (lambda: pack(GOOD, FRAME, length=2.5), "length must be a whole number"),
        (lambda: pack(GOOD, (0, 100)), r"frame_size must be positive"),
        (lambda: pack(GOOD, (100,)), r"frame_size must be \(width, height\)"),
        (lambda: pack(GOOD, FRAME, max_collision=1.5), r"max_collision must be a fraction in \[0, 1\]"),
        (lambda: pack(GOOD, FRAME, alpha=-1.0), "alpha must be a finite weight"),
        (lambda: pack(GOOD, FRAME, grid=0), "grid must be at least 1 pixel"),
        (lambda: collision_fraction(GOOD, {}, FRAME), "no synopsis start for tube 1"),
        (lambda: collision_fraction(GOOD, {1: -2}, FRAME), "tube 1: negative synopsis start -2"),
        (lambda: inversions(GOOD + [still(1, 2, 3, SPOT)], {1: 0}), "duplicate tube key 1"),
    ],
)
def test_input_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_tubes_are_frozen_copies():
    boxes = np.array([SPOT, SPOT], dtype=float)
    t = Tube(np.int64(4), np.int32(2), boxes)
    boxes[0, 0] = 99.0
    assert (t.key, t.start, t.length, t.end, t.boxes[0, 0]) == (4, 2, 2, 4, 0.0)
    assert type(t.key) is int and type(t.start) is int
    with pytest.raises(ValueError):
        t.boxes[0, 0] = 1.0


# --- a realistic load -------------------------------------------------------------------------------
def test_three_hundred_walkers_into_1500_frames():
    tubes = walkers(300, seed=0, span=25000)
    t0 = time.perf_counter()
    p = pack(tubes, (768, 576), length=1500)
    elapsed = time.perf_counter() - t0
    print(
        f"\n300 tubes into 1500 frames: {elapsed:.2f} s, collision {p.collision_fraction:.3f}, "
        f"{p.inversions} inversions"
    )
    assert p.length == 1500
    assert len(p.starts) == 300 and placed_within(tubes, p)
    assert 0.0 <= p.collision_fraction < 0.5
    assert math.isfinite(p.energy) and p.energy > 0


def test_a_tube_on_the_grid_holds_its_last_frame_across_a_gap_and_keeps_the_period():
    from vigie.synopsis.build import _on_grid
    from vigie.synopsis.capture import StoredTube

    times = np.array([10.0, 10.2, 10.4, 11.0, 11.2, 12.0])  # lost between 10.4 and 11.0
    n = len(times)
    tube = StoredTube(
        np.arange(n), times, np.zeros((n, 4), np.int32), np.zeros((n, 4), np.float32), [b""] * n, [b""] * n, (640, 480)
    )
    placed = _on_grid(7, "person", tube, first=10.0, fps=5.0, t0=10.2, t1=11.5)
    assert placed.original_start == 1  # grid frame of t = 10.2
    # grid frames 1..6 (t = 10.2 .. 11.2): tube frames 1, 2, then 2 held over 10.6 and 10.8, then 3, 4
    assert placed.frames.tolist() == [1, 2, 2, 2, 3, 4]
    assert _on_grid(7, "person", tube, first=10.0, fps=5.0, t0=20.0, t1=21.0) is None
