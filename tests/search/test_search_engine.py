"""Forensic search through the engine, on tracks built by hand in a real store: filters, ranking, zones, similar, CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from builders import T0, make_summary

from vigie import cli
from vigie.config import CameraConfig
from vigie.search.engine import search, similar
from vigie.search.query import SearchError, SearchQuery, parse_query
from vigie.store.sqlite import SQLiteStore
from vigie.types import TrackPoint, TrackSummary
from vigie.zones import cells_of_points

CAMERAS = [
    CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, group="centre", commune="Nîmes"),
    CameraConfig(id="cam-b", name="Gare", lat=43.83, lon=4.37, group="gare", commune="Nîmes"),
    CameraConfig(id="cam-c", name="Place", lat=44.01, lon=4.42, group="uzes", commune="Uzès"),
]
FRAME = (800, 400)


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(CAMERAS)
    yield s
    s.close()


def walker(camera: str, no: int, start_s: float, feet: list[tuple[float, float]], **fields) -> TrackSummary:
    """A person whose foot points follow `feet`, one per second from start_s."""
    points = [
        TrackPoint(
            seq=k, timestamp=T0 + timedelta(seconds=start_s + k), xyxy=(x - 20, y - 100, x + 20, y), confidence=0.9
        )
        for k, (x, y) in enumerate(feet)
    ]
    return TrackSummary(
        camera_id=camera,
        track_no=no,
        class_name=fields.pop("class_name", "person"),
        first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp,
        points=points,
        median_height_px=fields.pop("median_height_px", 100.0),
        median_width_px=40.0,
        **fields,
    )


def add(
    store: SQLiteStore,
    tracks: list[TrackSummary],
    camera: str = "cam-a",
    cells: bool = True,
    fingerprint: str | None = None,
) -> list[int]:
    """Store tracks as one finished analysis, with their cells and frame size; their ids in order."""
    aid = store.begin_analysis(camera, "/videos/x.mp4", fingerprint or f"{camera}-{tracks[0].track_no}".ljust(64, "0"))
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", 10, 10)
    with store.read() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM tracks WHERE analysis_id=? ORDER BY track_no", (aid,))]
    updates = [
        (
            (
                cells_of_points(np.array([((p.xyxy[0] + p.xyxy[2]) / 2, p.xyxy[3]) for p in t.points]), *FRAME)
                if cells
                else 0
            ),
            *FRAME,
            tid,
        )
        for t, tid in zip(tracks, ids)
    ]
    store.write(
        lambda conn: conn.executemany("UPDATE tracks SET cells=?, frame_width=?, frame_height=? WHERE id=?", updates)
    ).result()
    return ids


def put_vectors(store: SQLiteStore, vectors: dict[int, list[float]]) -> None:
    rows = [
        (tid, "plain", (np.asarray(v, np.float32) / np.linalg.norm(v)).astype("<f4").tobytes())
        for tid, v in vectors.items()
    ]
    store.write(lambda conn: conn.executemany("INSERT OR REPLACE INTO track_vectors VALUES (?,?,?)", rows)).result()


def found(result) -> list[int]:
    return [h.track_id for h in result.hits]


# --- attributes ------------------------------------------------------------------------------------
def test_colour_tolerance_and_relevance(store):
    ids = add(
        store,
        [
            make_summary(track_no=1, start_s=0, upper_colours=["blue", "red"]),
            make_summary(track_no=2, start_s=10, upper_colours=["red", "white"]),
            make_summary(track_no=3, start_s=20, upper_colours=["green"]),
            make_summary(track_no=4, start_s=30, upper_colours=["white", "red"], lower_colours=["black"]),
        ],
    )
    strict = search(store, SearchQuery(upper=["red"], colour_tolerance=1))
    assert found(strict) == [ids[1]] and strict.total == 1 and strict.hits[0].score == 1.0
    loose = search(store, SearchQuery(upper=["red"]))
    assert found(loose) == [ids[1], ids[0], ids[3]]  # dominant red first, then second-rank red oldest first
    assert [h.score for h in loose.hits] == [1.0, 0.6, 0.6]
    both = search(store, SearchQuery(upper=["red", "green"], lower=["black"]))
    assert found(both) == [ids[3]] and both.hits[0].score == pytest.approx(0.8)


def test_hits_carry_what_the_store_says(store):
    ids = add(
        store,
        [
            make_summary(
                track_no=1,
                upper_colours=["red"],
                lower_colours=["grey", "black"],
                direction="E",
                speed_m_s=1.2,
                speed_px_s=30.0,
            )
        ],
    )
    store.write(
        lambda conn: conn.execute("UPDATE tracks SET thumbnail_path='var/thumbnails/cam-a/1.jpg' WHERE id=?", (ids[0],))
    ).result()
    hit = search(store, SearchQuery()).hits[0]
    assert (hit.track_id, hit.camera_id, hit.camera_name, hit.class_name) == (ids[0], "cam-a", "Esplanade", "person")
    assert (hit.upper, hit.lower, hit.body, hit.direction, hit.speed_m_s) == (["red"], ["grey", "black"], [], "E", 1.2)
    assert hit.thumbnail_path == "var/thumbnails/cam-a/1.jpg" and hit.first_seen.startswith("2026-11-20T13:00:00")
    assert hit.rank == 1


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"directions": ["E", "NE"]}, [1, 4]),
        ({"min_speed": 1.0}, [1, 3]),  # track 2 is faster in px/s but its camera is not calibrated: no m/s
        ({"max_speed": 1.0}, [4]),
        ({"min_dwell": 3.5}, [3, 4]),
        ({"min_height": 150}, [3]),
        ({"max_height": 90}, [4]),
        ({"classes": ["car"]}, [2]),
        ({"groups": ["gare"]}, [2]),
        ({"communes": ["Nîmes"], "cameras": ["cam-a"]}, [1, 3, 4]),
        (
            {"start": T0 + timedelta(seconds=22), "end": T0 + timedelta(seconds=31)},
            [3, 4],
        ),  # 3 is still in view at 22 s
    ],
)
def test_filters(store, data, expected):
    ids = {}
    ids[1], ids[3], ids[4] = add(
        store,
        [
            walker("cam-a", 1, 0, [(100, 300)] * 3, direction="E", speed_m_s=1.5, speed_px_s=40.0),
            walker("cam-a", 3, 20, [(100, 300)] * 5, direction="W", speed_m_s=1.1, median_height_px=160.0),
            walker("cam-a", 4, 30, [(100, 300)] * 6, direction="NE", speed_m_s=0.5, median_height_px=80.0),
        ],
    )
    (ids[2],) = add(
        store,
        [walker("cam-b", 2, 10, [(100, 300)] * 2, class_name="car", direction="S", speed_px_s=90.0)],
        camera="cam-b",
    )
    assert found(search(store, parse_query(data))) == [ids[k] for k in expected]


def test_zone_is_decided_by_the_foot_points(store):
    zone = [(300, 100), (500, 100), (400, 300)]  # a triangle: cells it only partly covers need the points
    ids = add(
        store,
        [
            walker("cam-a", 1, 0, [(50, 350), (400, 200), (750, 50)]),  # crosses the zone
            walker("cam-a", 2, 10, [(310, 280), (320, 290)]),  # in the zone's cells, outside the triangle
            walker("cam-a", 3, 20, [(50, 50), (60, 60)]),  # far away
        ],
    )
    unknown = add(store, [walker("cam-a", 4, 30, [(400, 150)])], cells=False)  # cells unknown: only the points can tell
    elsewhere = add(store, [walker("cam-b", 5, 0, [(400, 200)])], camera="cam-b")
    result = search(store, SearchQuery(zones={"cam-a": zone}))
    assert found(result) == [ids[0], unknown[0]] and result.total == 2
    assert elsewhere[0] not in found(search(store, SearchQuery(zones={"cam-a": zone}, cameras=["cam-a", "cam-b"])))
    # a zone on each camera: either counts
    assert found(search(store, SearchQuery(zones={"cam-a": zone, "cam-b": zone}))) == [ids[0], elsewhere[0], unknown[0]]


@pytest.mark.parametrize(
    "sort, key",
    [("-dwell", lambda i: -i), ("dwell", lambda i: i), ("time", lambda i: 30 - i), ("-time", lambda i: i - 30)],
)
def test_paging_and_sorting(store, sort, key):
    # track i lasts i+1 seconds and starts at 30-i seconds: dwell and time orders differ.
    tracks = [walker("cam-a", i + 1, 30 - i, [(100, 300)] * (i + 1)) for i in range(12)]
    ids = add(store, tracks)
    full = [ids[i] for i in sorted(range(12), key=key)]
    pages = [search(store, SearchQuery(sort=sort, limit=5, offset=o)) for o in (0, 5, 10)]
    assert [found(p) for p in pages] == [full[0:5], full[5:10], full[10:12]]
    assert {p.total for p in pages} == {12}
    assert [h.rank for h in pages[1].hits] == [6, 7, 8, 9, 10]


def test_unknown_camera_is_a_clear_error(store):
    add(store, [make_summary()])
    with pytest.raises(SearchError, match=r"unknown camera 'cam-z' \(known: cam-a, cam-b, cam-c\)"):
        search(store, SearchQuery(cameras=["cam-z"]))


# --- similar -------------------------------------------------------------------------------------
def test_similar_ranks_other_times_and_cameras_and_leaves_out_the_same_sighting(store):
    ref, overlapping, later = add(
        store,
        [
            walker("cam-a", 1, 0, [(100, 300)] * 10),
            walker("cam-a", 2, 5, [(200, 300)] * 10),  # same camera, overlapping: another person seen with it
            walker("cam-a", 3, 60, [(100, 300)] * 5),  # same camera, a minute later
        ],
    )
    other_cam, far = add(
        store, [walker("cam-b", 4, 0, [(100, 300)] * 5), walker("cam-b", 5, 100, [(100, 300)] * 5)], camera="cam-b"
    )
    (no_vector,) = add(store, [walker("cam-c", 6, 0, [(100, 300)] * 5)], camera="cam-c")
    put_vectors(
        store, {ref: [1, 0, 0], overlapping: [1, 0, 0], later: [0.9, 0.1, 0], other_cam: [0.8, 0.6, 0], far: [0, 0, 1]}
    )

    result = similar(store, ref)
    assert found(result) == [later, other_cam, far]
    assert result.total == 3 and result.reference_track == ref and result.model == "plain" and result.method == "exact"
    scores = [h.score for h in result.hits]
    assert scores[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-4) and scores == sorted(scores, reverse=True)
    assert no_vector not in found(result)
    # the query's filters apply, k limits, and sort reorders the page
    assert found(similar(store, ref, SearchQuery(cameras=["cam-b"]))) == [other_cam, far]
    assert found(similar(store, ref, k=1)) == [later]
    assert found(similar(store, ref, SearchQuery(sort="-time"))) == [far, later, other_cam]

    with pytest.raises(SearchError, match=f"track {no_vector} has no appearance vector of model 'plain'"):
        similar(store, no_vector)
    with pytest.raises(SearchError, match="no stored track has id 999"):
        similar(store, 999)


def test_similar_without_any_vector_says_so(store):
    (tid,) = add(store, [make_summary()])
    with pytest.raises(SearchError, match=r"has no appearance vector \(none is stored yet\)"):
        similar(store, tid)


def test_a_new_analysis_is_searchable_at_the_next_query(store):
    first = add(store, [make_summary(track_no=1, upper_colours=["red"])])
    assert found(search(store, SearchQuery(upper=["red"]))) == first
    second = add(store, [make_summary(track_no=1, upper_colours=["red"])], camera="cam-b")
    assert found(search(store, SearchQuery(upper=["red"]))) == first + second


def test_an_analysis_running_when_the_index_was_built_shows_once_it_finishes(store):
    aid = store.begin_analysis("cam-b", "/videos/long.mp4", "l" * 64)
    store.add_tracks(aid, [make_summary(track_no=1, camera_id="cam-b", upper_colours=["red"])]).result()
    done = add(store, [make_summary(track_no=1, upper_colours=["red"])])  # a later analysis finishes first
    assert found(search(store, SearchQuery(upper=["red"]))) == done
    store.finish_analysis(aid, "complete", 10, 10)  # no new id anywhere: only its status changes
    assert len(found(search(store, SearchQuery(upper=["red"])))) == 2


# --- the CLI -----------------------------------------------------------------------------------
@pytest.fixture
def vigie(store, monkeypatch, capsys):
    """Run `vigie ARGS` on the test store; (exit status, stdout, stderr)."""
    monkeypatch.setenv("VIGIE_DATA", str(store.data_dir))

    def run(*args):
        code = cli.main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_search_table_and_json(store, vigie):
    ids = add(
        store,
        [make_summary(track_no=1, upper_colours=["red"]), make_summary(track_no=2, start_s=9, upper_colours=["blue"])],
    )
    code, out, _ = vigie("search", "--upper", "red", "--camera", "cam-a")
    assert code == 0
    assert "1 tracks match" in out and f" {ids[0]} cam-a" in out and "red | - | -" in out
    code, out, _ = vigie("search", "--json", "--sort=-time")
    data = json.loads(out)
    assert code == 0 and [h["track_id"] for h in data["hits"]] == ids[::-1] and data["query"]["sort"] == "-time"


@pytest.mark.parametrize(
    "args, words",
    [
        (("search", "--upper", "rouge"), ["search field upper", "'rouge'", "black"]),
        (("search", "--start", "2026-11-21", "--end", "2026-11-20"), ["reversed time window"]),
        (("search", "--group", "nord"), ["unknown camera group 'nord'", "centre"]),
        (("similar", "999"), ["no stored track has id 999"]),
    ],
)
def test_cli_errors_are_one_line_with_status_2(store, vigie, args, words):
    add(store, [make_summary()])
    code, out, err = vigie(*args)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("vigie: error: ")
    for w in words:
        assert w in err


# --- people's spellings of places (issue 20, point 4) ------------------------------------------------------
def test_cameras_groups_and_communes_are_read_as_people_type_them():
    from vigie.search.query import CameraInfo

    cams = [
        CameraInfo("nimes-esplanade-01", "Esplanade Charles-de-Gaulle, fountain side", "Nîmes", "Centre"),
        CameraInfo("nimes-gare-01", "Gare de Nîmes, forecourt", "Nîmes", "Gare"),
        CameraInfo("marguerittes-mairie-01", "Marguerittes, place de la mairie", "Marguerittes", ""),
    ]
    q, read = parse_query(
        {
            "cameras": ["esplanade", "GARE DE NIMES, FORECOURT"],
            "groups": ["centre"],
            "communes": ["nimes"],
        }
    ).resolve_places(cams)
    assert q.cameras == ["nimes-esplanade-01", "nimes-gare-01"]
    assert q.groups == ["Centre"] and q.communes == ["Nîmes"]
    assert read["cameras"] == {"esplanade": ["nimes-esplanade-01"], "GARE DE NIMES, FORECOURT": ["nimes-gare-01"]}
    with pytest.raises(SearchError, match=r"unknown camera 'stade', 'port'") as refused:
        parse_query({"cameras": ["esplanade", "stade", "port"]}).resolve_places(cams)
    assert refused.value.field == "cameras"
