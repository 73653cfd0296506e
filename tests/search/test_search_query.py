"""The search query model: validation messages, zone geometry, CLI flags."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

import numpy as np
import pytest

from vigie.cli.search import query_from_args, register
from vigie.errors import VigieError
from vigie.search.query import CameraInfo, SearchError, SearchQuery, parse_query
from vigie.zones import cell_of, cells_of_points, points_in_polygon, polygon_cells

CAMERAS = [CameraInfo(f"cam-{i}", f"Camera {i}", "Nîmes" if i < 5 else "Uzès", f"sector-{i % 3}") for i in range(12)]


# --- validation: every message names the field and the bad value -----------------------------------
@pytest.mark.parametrize(
    "data, field, words",
    [
        ({"upper": ["rouge"]}, "upper", ["'rouge'", "not a colour name", "black", "brown"]),
        ({"lower": ["black", "navy"]}, "lower", ["'navy'", "valid:"]),
        ({"body": ["Silver"]}, "body", ["'Silver'"]),
        ({"classes": ["dog"]}, "classes", ["'dog'", "person"]),
        ({"directions": ["up"]}, "directions", ["'up'", "NE"]),
        (
            {"start": "2026-11-20T14:00Z", "end": "2026-11-20T13:00Z"},
            "end",
            ["reversed time window", "2026-11-20T14:00:00+00:00", "2026-11-20T13:00:00+00:00"],
        ),
        ({"start": "2026-11-20T13:00Z", "end": "2026-11-20T13:00Z"}, "end", ["reversed time window"]),
        ({"start": "yesterday"}, "start", ["'yesterday'"]),
        ({"limit": 0}, "limit", ["greater than or equal to 1", "got 0"]),
        ({"limit": 5000}, "limit", ["less than or equal to 1000", "got 5000"]),
        ({"offset": -1}, "offset", ["got -1"]),
        ({"colour_tolerance": 0}, "colour_tolerance", ["got 0"]),
        ({"min_speed": 3, "max_speed": 1}, "max_speed", ["min_speed 3", "max_speed 1"]),
        ({"min_height": 200, "max_height": 100}, "max_height", ["min_height 200"]),
        ({"min_dwell": -5}, "min_dwell", ["got -5"]),
        ({"sort": "colour"}, "sort", ["'colour'", "relevance"]),
        ({"zones": {"cam-1": [(0, 0), (10, 0)]}}, "zones", ["'cam-1'", "at least 3 points", "got 2"]),
        ({"zones": {"cam-1": [(0, 0), (10, 10), (20, 20)]}}, "zones", ["'cam-1'", "no area"]),
        ({"zones": {"cam-1": [(0, 0), (10, float("nan")), (20, 0)]}}, "zones", ["finite"]),
        ({"colour": ["red"]}, "colour", ["no such field", "upper"]),
    ],
)
def test_bad_queries_fail_naming_field_and_value(data, field, words):
    with pytest.raises(SearchError) as err:
        parse_query(data)
    assert isinstance(err.value, VigieError)  # the CLI prints it as one line, exit status 2
    assert err.value.field == field
    assert f"search field {field}" in str(err.value)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_names_are_normalised_and_naive_times_taken_as_utc():
    q = parse_query(
        {
            "upper": [" Red", "red", "ORANGE"],
            "directions": ["ne"],
            "classes": ["Person"],
            "start": "2026-11-20T13:00",
            "end": "2026-11-20T15:00+01:00",
        }
    )
    assert q.upper == ["red", "orange"] and q.directions == ["NE"] and q.classes == ["person"]
    assert q.start == datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
    assert q.end == datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
    assert q.limit == 50 and q.colour_tolerance == 2 and q.sort == "relevance"


@pytest.mark.parametrize(
    "data, field, unknown, listed",
    [
        ({"cameras": ["cam-99"]}, "cameras", "'cam-99'", ["cam-0", "cam-1", "and 4 more"]),
        ({"zones": {"cam-99": [(0, 0), (1, 0), (0, 1)]}}, "zones", "'cam-99'", ["cam-0"]),
        ({"groups": ["north"]}, "groups", "'north'", ["sector-0", "sector-1", "sector-2"]),
        ({"communes": ["Paris"]}, "communes", "'Paris'", ["Nîmes", "Uzès"]),
    ],
)
def test_unknown_cameras_groups_communes_are_named_with_known_ones(data, field, unknown, listed):
    q = parse_query(data)
    with pytest.raises(SearchError) as err:
        q.validate_against(CAMERAS)
    assert err.value.field == field and unknown in str(err.value)
    for name in listed:
        assert name in str(err.value)


def test_known_names_validate():
    parse_query({"cameras": ["cam-3"], "groups": ["sector-1"], "communes": ["Uzès"]}).validate_against(CAMERAS)


# --- zone geometry -------------------------------------------------------------------------------------
def test_points_in_polygon_even_odd():
    square = np.array([(10, 10), (20, 10), (20, 20), (10, 20)], float)
    inside = points_in_polygon([(15, 15), (5, 15), (25, 15), (15, 5), (15, 25), (19.9, 10.1)], square)
    assert inside.tolist() == [True, False, False, False, False, True]
    # A concave "U": the notch is outside.
    u = np.array([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)], float)
    assert points_in_polygon([(15, 20), (5, 20), (25, 20), (15, 5)], u).tolist() == [False, True, True, True]


def test_cells_of_points_sets_bit_8_row_plus_col_and_is_signed_64():
    w, h = 800, 400  # cells 100 x 50 px
    assert cell_of([(0, 0), (799, 399), (150, 75), (-20, 1000)], w, h).tolist() == [0, 63, 9, 56]
    assert cells_of_points(np.array([(150, 75), (160, 80)]), w, h) == 1 << 9
    assert cells_of_points(np.array([(799, 399)]), w, h) == -(1 << 63)  # bit 63 stored as SQLite's signed integer


@pytest.mark.parametrize(
    "polygon",
    [
        [(130, 60), (420, 90), (350, 330)],  # a triangle across many cells
        [(0, 0), (800, 0), (800, 400), (0, 400)],  # the whole frame
        [(105, 55), (195, 55), (195, 95), (105, 95)],  # inside one cell
        [(-50, -50), (60, -50), (60, 30), (-50, 30)],  # past the frame's corner
        [
            (0, 0),
            (600, 0),
            (600, 300),
            (300, 300),
            (300, 100),
            (100, 100),
            (100, 300),
            (0, 300),
        ],  # concave, cell-aligned edges
    ],
)
def test_polygon_cells_agree_with_dense_sampling(polygon):
    """Every sampled point inside the polygon lies in a touched cell; every point of a covered cell is inside."""
    w, h = 800, 400
    touched, covered = polygon_cells(np.array(polygon, float), w, h)
    assert covered & ~touched == 0
    xs, ys = np.meshgrid(np.linspace(-100, 900, 401), np.linspace(-100, 500, 241))
    pts = np.c_[xs.ravel(), ys.ravel()]
    inside = points_in_polygon(pts, np.array(polygon, float))
    cells = cell_of(pts, w, h)
    bit = np.array([1 << int(c) for c in range(64)], object)
    touched_pt = np.array([touched & int(bit[c]) != 0 for c in cells])
    covered_pt = np.array([covered & int(bit[c]) != 0 for c in cells])
    assert touched_pt[inside].all()
    on_frame = (pts[:, 0] > 0) & (pts[:, 0] < w) & (pts[:, 1] > 0) & (pts[:, 1] < h)
    assert inside[covered_pt & on_frame].all()
    assert touched != 0


def test_polygon_cells_of_one_inner_cell():
    touched, covered = polygon_cells(np.array([(105, 55), (195, 55), (195, 95), (105, 95)], float), 800, 400)
    assert touched == 1 << 9 and covered == 0
    touched, covered = polygon_cells(np.array([(90, 40), (310, 40), (310, 160), (90, 160)], float), 800, 400)
    assert covered == (1 << 9) | (1 << 10) | (1 << 17) | (1 << 18)


# --- CLI flags ----------------------------------------------------------------------------------------------
@pytest.fixture
def parser():
    p = argparse.ArgumentParser(prog="vigie")
    register(p.add_subparsers(dest="verb", required=True))
    return p


def test_cli_flags_become_the_query(parser):
    args = parser.parse_args(
        [
            "search",
            "--class",
            "person",
            "--upper",
            "red,orange",
            "--lower",
            "black",
            "--start",
            "2026-11-20T13:00",
            "--end",
            "2026-11-20T14:00",
            "--group",
            "sector-1",
            "--zone",
            "cam-1:0,0,100,0,100,50",
            "--min-speed",
            "1.5",
            "--sort=-time",
            "--limit",
            "10",
            "--tolerance",
            "1",
        ]
    )
    q = query_from_args(args)
    assert q == SearchQuery(
        classes=["person"],
        upper=["red", "orange"],
        lower=["black"],
        groups=["sector-1"],
        start=datetime(2026, 11, 20, 13, tzinfo=timezone.utc),
        end=datetime(2026, 11, 20, 14, tzinfo=timezone.utc),
        zones={"cam-1": [(0, 0), (100, 0), (100, 50)]},
        min_speed=1.5,
        sort="-time",
        limit=10,
        colour_tolerance=1,
    )
    similar = parser.parse_args(["similar", "42", "--camera", "cam-1,cam-2", "--json"])
    assert similar.track == 42 and similar.json and query_from_args(similar).cameras == ["cam-1", "cam-2"]


@pytest.mark.parametrize(
    "flags, field",
    [
        (["--upper", "rouge"], "upper"),
        (["--zone", "cam-1:0,0,10"], "zones"),
        (["--zone", "0,0,10,0,10,10"], "zones"),
        (["--zone", "cam-1:a,b,c,d,e,f"], "zones"),
        (["--start", "2026-11-21", "--end", "2026-11-20"], "end"),
        (["--sort", "colour"], "sort"),
    ],
)
def test_bad_cli_flags_name_the_field(parser, flags, field):
    with pytest.raises(SearchError) as err:
        query_from_args(parser.parse_args(["search", *flags]))
    assert err.value.field == field
