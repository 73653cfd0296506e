"""The geometric rules on hand-built tracks: one table per rule, and the
config errors naming their field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml
from builders import T0
from pydantic import TypeAdapter, ValidationError

from vigie.rules.base import RuleContext, RuleTrack
from vigie.rules.geom import heading_deg, point_in_polygon, signed_distance
from vigie.rules.geometry import (
    CounterFlowConfig,
    GeometryRuleConfig,
    LineCrossingConfig,
    LoiteringConfig,
    ZoneIntrusionConfig,
    count_crossings,
    evaluate,
    in_hours,
)
from vigie.types import TrackPoint

FPS = 7.0
CTX = RuleContext("cam-a", (768, 576))
SQUARE = [(100, 100), (300, 100), (300, 300), (100, 300)]


# --- track builders: feet positions, one point per frame at 7 fps ---------------------
def track(feet, tid=1, cls="person", start=T0, ground=None) -> RuleTrack:
    """A track whose feet (bottom centre of a 40x100 box) go through `feet`."""
    points = [
        TrackPoint(
            seq=k,
            timestamp=start + timedelta(seconds=k / FPS),
            xyxy=(x - 20, y - 100, x + 20, y),
            confidence=0.9,
            ground_xy=None if ground is None else ground[k],
        )
        for k, (x, y) in enumerate(feet)
    ]
    return RuleTrack(tid, cls, points)


def walk(p, q, seconds) -> list[tuple[float, float]]:
    """Straight from p to q at constant speed, ending exactly on q."""
    n = max(1, round(seconds * FPS))
    return [(p[0] + (q[0] - p[0]) * k / n, p[1] + (q[1] - p[1]) * k / n) for k in range(n + 1)]


def stay(p, seconds, jitter=0.0, axis=1) -> list[tuple[float, float]]:
    """Standing at p, the feet wobbling +-jitter along an axis every other frame."""
    out = []
    for k in range(round(seconds * FPS)):
        d = jitter if k % 2 else -jitter
        out.append((p[0] + d, p[1]) if axis == 0 else (p[0], p[1] + d))
    return out


def path(*legs) -> list[tuple[float, float]]:
    out = []
    for leg in legs:
        out.extend(leg[1:] if out and leg and leg[0] == out[-1] else leg)
    return out


def seconds_after(t: datetime, t0: datetime = T0) -> float:
    return (t - t0).total_seconds()


# --- helpers ---------------------------------------------------------------------------
def test_point_in_polygon_and_side_convention():
    assert point_in_polygon((200, 200), SQUARE)
    assert not point_in_polygon((50, 200), SQUARE)
    # A->B pointing right on screen: below it (y larger) is its right, positive.
    assert signed_distance((0, 100), (200, 100), (50, 130)) == pytest.approx(30)
    assert signed_distance((0, 100), (200, 100), (50, 70)) == pytest.approx(-30)
    # Headings: 0 up the image, 90 right, clockwise.
    assert [heading_deg(0, -1), heading_deg(1, 0), heading_deg(0, 1), heading_deg(-1, 0)] == [0, 90, 180, 270]


# --- zone intrusion --------------------------------------------------------------------
ZONE = ZoneIntrusionConfig(name="forbidden", zone=SQUARE)


@pytest.mark.parametrize(
    "feet, expected",
    [
        # Paths keep off the edges at frame times: where the edge itself falls is the ray cast's choice.
        pytest.param(walk((5, 200), (405, 200), 4), [(1.0, 2.857)], id="enter-and-leave"),
        pytest.param(walk((0, 50), (400, 50), 4), [], id="staying-outside"),
        pytest.param(walk((0, 200), (105, 200), 1) + [(95, 200)] * 7, [], id="toe-in-for-one-frame"),
        pytest.param(
            path(walk((5, 200), (200, 200), 2), walk((200, 200), (200, 405), 2), walk((200, 405), (200, 200), 2)),
            [(1.0, 2.857), (5.143, 6.0)],
            id="enter-leave-enter-again",
        ),
        pytest.param(path(walk((150, 405), (150, 200), 2), stay((150, 200), 3)), [(1.143, 4.857)], id="ends-inside"),
    ],
)
def test_zone_intrusion_table(feet, expected):
    events = evaluate(ZONE, [track(feet)], CTX)
    got = [(seconds_after(e.start), seconds_after(e.end)) for e in events]
    assert got == [(pytest.approx(s, abs=0.01), pytest.approx(t, abs=0.01)) for s, t in expected]
    for e in events:
        assert (e.rule, e.kind, e.camera_id, e.track_ids) == ("forbidden", "zone_intrusion", "cam-a", (1,))
        assert point_in_polygon(e.where, SQUARE)


def test_zone_intrusion_ignores_jitter_on_the_edge():
    # Walking along the top edge, feet wobbling 3 px across it every frame.
    feet = [(x, 100 + (3 if k % 2 else -3)) for k, x in enumerate(range(0, 400, 10))]
    assert evaluate(ZONE, [track(feet)], CTX) == []
    # The same walk 20 px inside is an intrusion.
    inside = [(x, 120 + (3 if k % 2 else -3)) for k, x in enumerate(range(0, 400, 10))]
    assert len(evaluate(ZONE, [track(inside)], CTX)) == 1


def test_zone_intrusion_minimum_time_inside():
    brief = path(walk((50, 200), (110, 200), 1), walk((110, 200), (50, 200), 0.3))  # 0.4 s inside
    assert evaluate(ZONE, [track(brief)], CTX) == []
    lax = ZoneIntrusionConfig(name="forbidden", zone=SQUARE, min_inside_s=0.1)
    assert len(evaluate(lax, [track(brief)], CTX)) == 1


def test_zone_intrusion_classes_and_several_tracks():
    through = walk((0, 200), (400, 200), 4)
    tracks = [track(through, 1), track(through, 2, "car"), track(walk((0, 0), (400, 0), 4), 3)]
    assert [e.track_ids for e in evaluate(ZONE, tracks, CTX)] == [(1,), (2,)]
    people = ZoneIntrusionConfig(name="forbidden", zone=SQUARE, classes=["person"])
    assert [e.track_ids for e in evaluate(people, tracks, CTX)] == [(1,)]


NIGHT = ZoneIntrusionConfig(name="night", zone=SQUARE, hours=["22:00", "06:00"])  # Europe/Paris by default


@pytest.mark.parametrize(
    "utc, active",
    [
        pytest.param(datetime(2026, 11, 20, 21, 30, tzinfo=timezone.utc), True, id="22:30-paris-winter"),
        pytest.param(datetime(2026, 11, 20, 20, 30, tzinfo=timezone.utc), False, id="21:30-paris-winter"),
        pytest.param(datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc), True, id="00:30-after-midnight"),
        pytest.param(datetime(2026, 11, 21, 4, 59, tzinfo=timezone.utc), True, id="05:59"),
        pytest.param(datetime(2026, 11, 21, 5, 0, tzinfo=timezone.utc), False, id="06:00-end-excluded"),
        pytest.param(datetime(2026, 11, 20, 21, 0, tzinfo=timezone.utc), True, id="22:00-start-included"),
        pytest.param(datetime(2026, 7, 1, 20, 30, tzinfo=timezone.utc), True, id="22:30-paris-summer"),
        pytest.param(datetime(2026, 7, 1, 19, 30, tzinfo=timezone.utc), False, id="21:30-paris-summer"),
        pytest.param(datetime(2026, 7, 2, 3, 30, tzinfo=timezone.utc), True, id="05:30-paris-summer"),
        pytest.param(datetime(2026, 7, 2, 4, 30, tzinfo=timezone.utc), False, id="06:30-paris-summer"),
    ],
)
def test_zone_hours_wrapping_midnight_in_local_time(utc, active):
    assert in_hours(utc, NIGHT.hours, NIGHT.timezone) is active
    events = evaluate(NIGHT, [track(walk((150, 400), (150, 150), 3), start=utc - timedelta(seconds=1))], CTX)
    assert len(events) == (1 if active else 0)


def test_zone_hours_other_time_zone_and_day_window():
    day_ny = ZoneIntrusionConfig(name="d", zone=SQUARE, hours=["09:00", "17:00"], timezone="America/New_York")
    assert in_hours(datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc), day_ny.hours, day_ny.timezone)  # 09:00 EST
    assert not in_hours(datetime(2026, 11, 20, 13, 59, tzinfo=timezone.utc), day_ny.hours, day_ny.timezone)
    assert not in_hours(datetime(2026, 11, 20, 22, 0, tzinfo=timezone.utc), day_ny.hours, day_ny.timezone)


def test_zone_intrusion_starting_before_the_window_opens():
    # Inside from 21:59:57 to 22:00:03 Paris time: the event starts at 22:00.
    start = datetime(2026, 11, 20, 20, 59, 57, tzinfo=timezone.utc)
    events = evaluate(NIGHT, [track(stay((200, 200), 6), start=start)], CTX)
    assert len(events) == 1
    assert events[0].start - datetime(2026, 11, 20, 21, 0, tzinfo=timezone.utc) < timedelta(seconds=1 / FPS + 1e-6)
    assert events[0].start >= datetime(2026, 11, 20, 21, 0, tzinfo=timezone.utc)


# --- line crossing ---------------------------------------------------------------------
# Drawn bottom to top at x = 200, from y = 300 to y = 100: its right is the right of the frame.
GATE = LineCrossingConfig(name="gate", line=[(200, 300), (200, 100)])


def crossing_list(config, tracks):
    return [(round(seconds_after(e.start), 2), e.details["direction"]) for e in evaluate(config, tracks, CTX)]


@pytest.mark.parametrize(
    "feet, expected",
    [
        pytest.param(walk((100, 200), (300, 200), 2), [(1.0, "in")], id="left-to-right-is-in"),
        pytest.param(walk((300, 200), (100, 200), 2), [(1.0, "out")], id="right-to-left-is-out"),
        pytest.param(walk((100, 50), (300, 50), 2), [], id="passing-beyond-an-end"),
        pytest.param(walk((100, 200), (190, 200), 2), [], id="stopping-short"),
        pytest.param(
            path(walk((100, 200), (300, 200), 2), walk((300, 200), (100, 200), 2)),
            [(1.0, "in"), (3.0, "out")],
            id="crossing-back",
        ),
        pytest.param(
            path(
                walk((100, 200), (200, 200), 1), stay((200, 200), 3, jitter=3, axis=0), walk((200, 200), (300, 200), 1)
            ),
            [(4.0, "in")],
            id="wobbling-on-the-line-then-across",
        ),
        pytest.param(
            path(
                walk((100, 200), (200, 200), 1), stay((200, 200), 3, jitter=4, axis=0), walk((200, 200), (100, 200), 1)
            ),
            [],
            id="wobbling-on-the-line-then-back",
        ),
        pytest.param(
            path(walk((200, 400), (200, 250), 1), stay((200, 250), 3, jitter=4, axis=0), walk((200, 250), (200, 0), 1)),
            [],
            id="walking-along-the-line",
        ),
    ],
)
def test_line_crossing_table(feet, expected):
    assert crossing_list(GATE, [track(feet)]) == [(pytest.approx(t, abs=0.15), d) for t, d in expected]


def test_line_crossing_time_and_point_are_interpolated():
    # 7 px a frame from x = 100.5: x = 200 falls between frames, at 99.5 / 7 / 7 s.
    feet = [(100.5 + 7 * k, 180.0) for k in range(30)]
    [event] = evaluate(GATE, [track(feet)], CTX)
    assert seconds_after(event.start) == pytest.approx(99.5 / 7 / FPS, abs=1e-6)
    assert event.where == pytest.approx((200.0, 180.0))
    assert event.end is None and event.kind == "line_crossing" and event.track_ids == (1,)


def test_line_crossing_direction_filter_and_counts():
    tracks = [
        track(walk((100, 200), (300, 200), 2), 1),
        track(walk((300, 150), (100, 150), 2), 2),
        track(path(walk((100, 250), (300, 250), 2), walk((300, 250), (100, 250), 2)), 3),
        track(walk((100, 200), (300, 200), 2), 4, "car"),
    ]
    only_in = GATE.model_copy(update={"direction": "in"})
    only_out = GATE.model_copy(update={"direction": "out"})
    assert [e.track_ids[0] for e in evaluate(only_in, tracks, CTX)] == [1, 3, 4]
    assert [e.track_ids[0] for e in evaluate(only_out, tracks, CTX)] == [2, 3]
    assert count_crossings(only_in, tracks) == {"in": 3, "out": 2}  # counts ignore the event filter
    people = LineCrossingConfig(name="gate", line=GATE.line, classes=["person"])
    assert count_crossings(people, tracks) == {"in": 2, "out": 2}


def test_two_lines():
    left = LineCrossingConfig(name="left", line=[(200, 300), (200, 100)])
    right = LineCrossingConfig(name="right", line=[(400, 300), (400, 100)])
    tracks = [track(walk((100, 200), (300, 200), 2), 1), track(walk((100, 200), (500, 200), 4), 2)]
    assert [(e.rule, e.track_ids) for e in evaluate(left, tracks, CTX)] == [("left", (1,)), ("left", (2,))]
    assert [(e.rule, e.track_ids) for e in evaluate(right, tracks, CTX)] == [("right", (2,))]


def test_line_direction_convention_for_a_line_drawn_left_to_right():
    # A->B pointing right: its right-hand side is down the frame, so walking down is "in".
    across = LineCrossingConfig(name="l", line=[(0, 200), (400, 200)])
    assert count_crossings(across, [track(walk((100, 100), (100, 300), 2))]) == {"in": 1, "out": 0}
    reversed_line = LineCrossingConfig(name="l", line=[(400, 200), (0, 200)])
    assert count_crossings(reversed_line, [track(walk((100, 100), (100, 300), 2))]) == {"in": 0, "out": 1}


def test_line_hysteresis_distance():
    # Wobbling +-4 px around the line crosses it eight times at 3 px, never at the default 5 px.
    wobble = path(walk((100, 200), (196, 200), 1), [(196, 200), (204, 200)] * 4, walk((196, 200), (100, 200), 1))
    assert count_crossings(GATE, [track(wobble)]) == {"in": 0, "out": 0}
    tight = GATE.model_copy(update={"min_distance_px": 3.0})
    assert count_crossings(tight, [track(wobble)]) == {"in": 4, "out": 4}


# --- loitering -------------------------------------------------------------------------
LOITER = LoiteringConfig(name="loiter", zone=SQUARE, min_dwell_s=5)


def loiter_list(config, feet):
    return [
        (round(seconds_after(e.start), 2), e.details["dwell_s"], e.details["short_exits"])
        for e in evaluate(config, [track(feet)], CTX)
    ]


@pytest.mark.parametrize(
    "feet, expected",
    [
        pytest.param(
            path(walk((150, 400), (150, 200), 2), stay((150, 200), 8), walk((150, 200), (150, 400), 2)),
            [(1.14, 9.57, 0)],
            id="long-stay",
        ),
        pytest.param(
            path(walk((150, 400), (150, 200), 2), stay((150, 200), 2), walk((150, 200), (150, 400), 2)),
            [],
            id="short-stay",
        ),
        pytest.param(walk((0, 200), (400, 200), 20), [(5.0, 10.0, 0)], id="slow-walk-through"),
        pytest.param(stay((150, 50), 20), [], id="standing-outside"),
        pytest.param(
            path(stay((150, 200), 3), stay((150, 400), 1), stay((150, 200), 3)),
            [(0.0, 7.0, 1)],
            id="short-exit-inside-the-grace",
        ),
        pytest.param(path(stay((150, 200), 3), stay((150, 400), 3), stay((150, 200), 3)), [], id="long-exit-resets"),
        pytest.param(
            path(stay((150, 200), 6), stay((150, 400), 3), stay((150, 200), 6)),
            [(0.0, 5.86, 0), (9.0, 5.86, 0)],
            id="two-stays",
        ),
        pytest.param(stay((150, 100), 8, jitter=3), [(0.14, 7.71, 27)], id="jitter-on-the-edge"),
    ],
)
def test_loitering_table(feet, expected):
    assert loiter_list(LOITER, feet) == [
        (pytest.approx(t, abs=0.15), pytest.approx(d, abs=0.2), x) for t, d, x in expected
    ]


def test_loitering_event_fields_and_classes():
    feet = stay((150, 200), 8)
    [event] = evaluate(LOITER, [track(feet, 7)], CTX)
    assert (event.rule, event.kind, event.track_ids, event.where) == ("loiter", "loitering", (7,), (150, 200))
    assert event.start == T0 and seconds_after(event.end) == pytest.approx(8 - 1 / FPS)
    assert evaluate(LOITER, [track(feet, 7, "car")], CTX) == []  # people only, by default
    assert evaluate(LOITER.model_copy(update={"grace_s": 0.0}), [track(feet)], CTX) != []


# --- counter-flow ----------------------------------------------------------------------
# A corridor where people must walk right (heading 90).
FLOW = CounterFlowConfig(name="one-way", zone=[(0, 100), (600, 100), (600, 300), (0, 300)], direction_deg=90)


@pytest.mark.parametrize(
    "feet, expected",
    [
        pytest.param(walk((500, 200), (100, 200), 5), [(1.0, 5.0)], id="against"),
        pytest.param(walk((100, 200), (500, 200), 5), [], id="with-the-flow"),
        pytest.param(stay((300, 200), 10, jitter=4, axis=0), [], id="standing-still-jittering"),
        pytest.param(walk((300, 290), (300, 110), 5), [], id="crossing-the-corridor"),
        pytest.param(walk((500, 130), (100, 270), 5), [(1.0, 5.0)], id="against-at-an-angle"),
        pytest.param(walk((500, 200), (300, 200), 2.5), [], id="against-too-briefly"),
        pytest.param(walk((500, 400), (100, 400), 5), [], id="against-outside-the-zone"),
        pytest.param(
            path(walk((100, 200), (400, 200), 3), walk((400, 200), (100, 200), 4)), [(4.0, 7.0)], id="turning-back"
        ),
    ],
)
def test_counter_flow_table(feet, expected):
    events = evaluate(FLOW, [track(feet)], CTX)
    got = [(seconds_after(e.start), seconds_after(e.end)) for e in events]
    assert got == [(pytest.approx(s, abs=0.3), pytest.approx(t, abs=0.15)) for s, t in expected]
    for e in events:
        assert e.kind == "counter_flow" and e.details["allowed_deg"] == 90
        assert abs(e.details["heading_deg"] - 270) < 30


def test_counter_flow_direction_as_vector_and_whole_image():
    as_vector = CounterFlowConfig(name="v", direction_vector=(1, 0))  # no zone: the whole image
    against = track(walk((500, 500), (100, 500), 5))
    assert len(evaluate(as_vector, [against], CTX)) == 1
    assert as_vector.allowed_heading() == 90


def test_counter_flow_uses_ground_metres_where_calibrated():
    # 160 px over 5 s against the flow, but only 0.05 m/s on the ground (far away, or jitter
    # amplified by the homography's scale): standing still in metres, moving in pixels.
    feet = walk((300, 200), (140, 200), 5)
    ground = [(0.01 * k / FPS * 5, 0.0) for k in range(len(feet))]
    assert len(evaluate(FLOW, [track(feet)], CTX)) == 1
    assert evaluate(FLOW, [track(feet, ground=ground)], CTX) == []
    brisk = [(-1.2 * k / FPS, 0.0) for k in range(len(feet))]
    assert len(evaluate(FLOW, [track(feet, ground=brisk)], CTX)) == 1


def test_counter_flow_tolerance():
    diagonal_back = walk((500, 300), (300, 100), 5)  # heading 315: 135 degrees off the allowed 90
    assert len(evaluate(FLOW, [track(diagonal_back)], CTX)) == 1
    wide = FLOW.model_copy(update={"tolerance_deg": 150})
    assert evaluate(wide, [track(diagonal_back)], CTX) == []


# --- configs ---------------------------------------------------------------------------
SITE_RULES = """
- type: zone_intrusion
  name: esplanade-night
  zone: [[100, 380], [450, 380], [450, 560], [100, 560]]
  hours: ["22:00", "06:00"]
  timezone: Europe/Paris
- type: line_crossing
  name: walkway-count
  line: [[340, 330], [380, 170]]
  direction: both
- type: loitering
  name: lawn-loitering
  zone: [[100, 380], [450, 380], [450, 560], [100, 560]]
  min_dwell_s: 60
- type: counter_flow
  name: exit-only
  zone: [[0, 200], [768, 200], [768, 450], [0, 450]]
  direction_deg: 90
  tolerance_deg: 120
"""

RULES = TypeAdapter(list[GeometryRuleConfig])


def test_site_yaml_rules_parse_into_the_union():
    rules = RULES.validate_python(yaml.safe_load(SITE_RULES))
    assert [type(r) for r in rules] == [ZoneIntrusionConfig, LineCrossingConfig, LoiteringConfig, CounterFlowConfig]
    assert rules[0].hours[0].hour == 22 and rules[2].classes == ["person"]
    assert all(evaluate(r, [], CTX) == [] for r in rules)


def _bad_field(model, **fields) -> tuple:
    with pytest.raises(ValidationError) as err:
        model(**fields)
    return err.value.errors()[0]["loc"], str(err.value)


@pytest.mark.parametrize(
    "model, fields, loc, words",
    [
        (ZoneIntrusionConfig, {"zone": [(0, 0), (1, 1)]}, ("zone",), "at least 3 points"),
        (ZoneIntrusionConfig, {"zone": [(0, 0), (1, 1), (2, 2)]}, ("zone",), "one line"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "min_inside_s": 0}, ("min_inside_s",), "greater than 0"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "hours": [1320, 360]}, ("hours",), "quotes"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "hours": ["22:00", "22:00"]}, ("hours",), "same time"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "hours": ["25:00", "06:00"]}, ("hours", 0), "time"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "timezone": "Europe/Nimes"}, ("timezone",), "unknown IANA"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "colour": "red"}, ("colour",), "Extra inputs"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "classes": ["dog"]}, ("classes", 0), "person"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "classes": []}, ("classes",), "at least 1"),
        (LineCrossingConfig, {"line": [(0, 0), (1, 1), (2, 2)]}, ("line",), "exactly 2 points"),
        (LineCrossingConfig, {"line": [(5, 5), (5, 5)]}, ("line",), "the same"),
        (LineCrossingConfig, {"line": [(0, 0), (9, 9)], "min_distance_px": -1}, ("min_distance_px",), "greater than 0"),
        (LineCrossingConfig, {"line": [(0, 0), (9, 9)], "direction": "up"}, ("direction",), "'in', 'out' or 'both'"),
        (LoiteringConfig, {"zone": SQUARE, "min_dwell_s": 0}, ("min_dwell_s",), "greater than 0"),
        (LoiteringConfig, {"zone": SQUARE, "grace_s": -1}, ("grace_s",), "greater than or equal to 0"),
        (LoiteringConfig, {"zone": [(0, 0)]}, ("zone",), "at least 3 points"),
        (CounterFlowConfig, {"direction_deg": 90, "tolerance_deg": 180}, ("tolerance_deg",), "less than 180"),
        (CounterFlowConfig, {"direction_deg": 90, "window_s": 0}, ("window_s",), "greater than 0"),
        (CounterFlowConfig, {"direction_deg": 90, "min_duration_s": 0}, ("min_duration_s",), "greater than 0"),
        (CounterFlowConfig, {"direction_deg": 90, "zone": [(0, 0), (1, 0)]}, ("zone",), "at least 3 points"),
        (CounterFlowConfig, {}, (), "direction_deg"),
        (CounterFlowConfig, {"direction_deg": 90, "direction_vector": (1, 0)}, (), "exactly one of direction_deg"),
        (CounterFlowConfig, {"direction_vector": (0, 0)}, ("direction_vector",), "no direction"),
        (LineCrossingConfig, {"line": [(0, 0), (float("nan"), 9)]}, ("line", 1, 0), "finite"),
        (ZoneIntrusionConfig, {"zone": SQUARE, "hours": 22}, ("hours",), "tuple"),
    ],
)
def test_config_errors_name_the_field(model, fields, loc, words):
    got_loc, message = _bad_field(model, name="r", **fields)
    assert got_loc == loc
    assert words in message


def test_union_errors_name_the_rule_type_and_field():
    with pytest.raises(ValidationError) as err:
        RULES.validate_python([{"type": "line_crossing", "name": "x", "line": [[0, 0]]}])
    assert err.value.errors()[0]["loc"] == (0, "line_crossing", "line")
    with pytest.raises(ValidationError) as err:
        RULES.validate_python([{"type": "teleport", "name": "x"}])
    assert "zone_intrusion" in str(err.value)
    with pytest.raises(ValidationError) as err:
        RULES.validate_python([{"type": "loitering", "zone": SQUARE}])
    assert err.value.errors()[0]["loc"] == (0, "loitering", "name")
