"""Forensic search end to end on real footage, as `make demo` runs it.

PETS09-S2L1 cut in two (examples/split_recording.py) is analysed as two
cameras of the demo site, 210 m and four minutes apart; then `vigie adapt`,
`vigie search`, `vigie similar` and `vigie trail` run through the CLI. People
who walk out of the view and come back are in both halves, so each camera's
tracks have look-alikes on the other. Slow: two full analyses (the session's
`analysed_demo` fixture, shared with the browser tests; this module changes a copy).
"""

from __future__ import annotations

import json

import cv2
import pytest
from builders import copy_data_dir

from vigie.cli import EXIT_USAGE, main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(analysed_demo, tmp_path_factory):
    """This module's own copy of the analysed demo (its tests adapt the model and write files)."""
    return copy_data_dir(analysed_demo, tmp_path_factory.mktemp("demo"))


@pytest.fixture
def cli(demo_store, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(demo_store))

    def run(*argv) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_every_person_track_has_crops_and_a_vector(cli, demo_store):
    code, out, _ = cli("tracks", "--class", "person", "--json", "--limit", "1000")
    tracks = json.loads(out)
    assert code == 0 and len(tracks) >= 10
    assert {t["camera_id"] for t in tracks} == {"nimes-esplanade-01", "nimes-arenes-01"}
    from vigie.store.sqlite import SQLiteStore

    with SQLiteStore(demo_store) as store:
        counts = store.counts()
    assert counts["track_vectors"] == len(tracks)
    assert counts["track_crops"] >= 4 * len(tracks)


def test_adapt_then_similar_finds_the_same_person_on_the_other_camera(cli):
    code, out, _ = cli("adapt", "--json")
    report = json.loads(out)
    assert code == 0 and report["tracks"] >= 10 and report["negative_pairs"] >= 5
    assert report["same_after"] - report["different_after"] > report["same_before"] - report["different_before"]
    # The man in the red and navy padded jacket: first half (GT id 11), second half (GT id 3).
    code, out, _ = cli("search", "--class", "person", "--upper", "red", "--camera", "nimes-esplanade-01", "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and hits
    query = hits[0]["track_id"]
    code, out, _ = cli("similar", str(query), "--json", "--limit", "5")
    result = json.loads(out)
    assert code == 0 and result["model"] == report["name"]
    assert all(h["track_id"] != query for h in result["hits"])
    best = result["hits"][0]
    assert best["camera_id"] == "nimes-arenes-01" and "red" in best["upper"]


def test_trail_links_the_two_cameras_in_time_order_and_writes_geojson_map_and_picture(cli, demo_store):
    code, out, _ = cli("search", "--class", "person", "--upper", "red", "--camera", "nimes-esplanade-01", "--json")
    query = json.loads(out)["hits"][0]["track_id"]
    paths = [demo_store / name for name in ("trail.geojson", "trail.html", "trail.png")]
    code, out, err = cli(
        "trail", str(query), "--geojson", str(paths[0]), "--map", str(paths[1]), "--png", str(paths[2])
    )
    assert code == 0, err
    geo = json.loads(paths[0].read_text())
    line = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in geo["features"] if f["geometry"]["type"] == "Point"]
    assert len(line) == 1 and len(points) >= 2
    times = line[0]["properties"]["times"]
    assert times == sorted(times)
    assert {p["properties"]["camera_id"] for p in points} >= {"nimes-esplanade-01", "nimes-arenes-01"}
    assert "L.map" in paths[1].read_text() and cv2.imread(str(paths[2])) is not None


def test_trail_and_similar_of_an_unknown_track_exit_2(cli):
    for verb in ("trail", "similar"):
        code, _, err = cli(verb, "999999")
        assert code == EXIT_USAGE and "999999" in err
