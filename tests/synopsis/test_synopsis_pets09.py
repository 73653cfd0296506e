"""Video synopsis from the demo's stored tubes (the analysed_demo fixture: PETS09-S2L1
cut in two, analysed as the esplanade and Arènes cameras): the video plays, its
frame count and duration are the index's, every indexed object is its track at
its original time, filters choose the objects, and bad requests say what is wrong."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import av
import cv2
import numpy as np
import pytest
from builders import DEMO_CAMERA, DEMO_SITE, copy_data_dir

from vigie.audit.log import query as audit_query
from vigie.cli import EXIT_USAGE, main
from vigie.search.engine import search
from vigie.search.query import parse_query
from vigie.store.sqlite import SQLiteStore
from vigie.synopsis.build import SynopsisError
from vigie.synopsis.make import make_synopsis
from vigie.track.matching import iou_matrix

pytestmark = pytest.mark.slow

FROM = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)  # the demo esplanade's recording_start
TO = FROM + timedelta(minutes=2)


@pytest.fixture(scope="module")
def data(analysed_demo, tmp_path_factory):
    return copy_data_dir(analysed_demo, tmp_path_factory.mktemp("synopsis"))


@pytest.fixture(scope="module")
def made(data, tmp_path_factory):
    """A 20 s synopsis of the esplanade's minute, faces blurred."""
    from vigie.privacy.blur import Blurrer

    out = tmp_path_factory.mktemp("synopsis-out")
    with SQLiteStore(data) as store:
        report = make_synopsis(store, DEMO_CAMERA, FROM, TO, out, length_s=20, blurrer=Blurrer())
    return report, json.loads((out / "synopsis.json").read_text())


def test_the_video_plays_and_matches_its_index(made):
    report, index = made
    with av.open(report.video) as c:
        stream = c.streams.video[0]
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(stream)]
        duration = float(stream.duration * stream.time_base) if stream.duration else float(c.duration / av.time_base)
    assert len(frames) == index["frames"] == len(index["frame_objects"]) == report.frames
    assert duration == pytest.approx(index["frames"] / index["fps"], abs=1.5 / index["fps"])
    assert index["fps"] == pytest.approx(7.0, abs=0.1)  # the demo camera's analysed rate
    assert (index["width"], index["height"]) == (768, 576) and frames[0].shape == (576, 768, 3)
    # 20 s asked, but a tube is never cut: the longest walker sets the floor
    longest = max(o["synopsis_end"] - o["synopsis_start"] for o in index["objects"]) / index["fps"]
    assert report.synopsis_s == pytest.approx(max(20, longest), abs=0.2)
    # every object of the period is in it (a synopsis shows all of them), each for its whole tube
    assert report.objects == len(index["objects"]) >= 8
    for o in index["objects"]:
        shown = [j for j, objs in enumerate(index["frame_objects"]) if any(x["track"] == o["track"] for x in objs)]
        assert shown == list(range(o["synopsis_start"], o["synopsis_end"]))
    # faces were found and blurred on the pasted people
    assert report.blur_regions > 0


def test_each_indexed_object_is_its_track_at_its_original_time(made, data):
    _, index = made
    with SQLiteStore(data) as store:
        checked = 0
        for j in range(0, index["frames"], 17):
            for obj in index["frame_objects"][j]:
                points = store.track_points(obj["track"])
                t = datetime.fromisoformat(obj["time"].replace("Z", "+00:00"))
                nearest = min(points, key=lambda p: abs(datetime.fromisoformat(p["t"].replace("Z", "+00:00")) - t))
                assert abs(datetime.fromisoformat(nearest["t"].replace("Z", "+00:00")) - t) <= timedelta(seconds=0.3)
                box = np.array([[nearest["x1"], nearest["y1"], nearest["x2"], nearest["y2"]]])
                assert iou_matrix(np.array([obj["box"]], float), box)[0, 0] > 0.7, (obj, nearest)
                checked += 1
    assert checked >= 20


def test_objects_are_pasted_where_the_index_says(made):
    report, index = made
    with av.open(report.video) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    # an object differs from the plaza behind it; the same box in a frame where it is absent does not
    differs = []
    for j in range(0, index["frames"], 11):
        for obj in index["frame_objects"][j]:
            x1, y1, x2, y2 = (max(0, int(round(v))) for v in obj["box"])
            absent = next(
                (k for k in range(index["frames"]) if not _overlaps_any(index["frame_objects"][k], obj["box"])), None
            )
            if absent is None or (y2 - y1) < 30:
                continue
            a = frames[j][y1:y2, x1:x2].astype(int)
            b = frames[absent][y1:y2, x1:x2].astype(int)
            differs.append(np.abs(a - b).mean())
    assert len(differs) >= 10 and np.median(differs) > 12


def _overlaps_any(objs, box) -> bool:
    return any(iou_matrix(np.array([o["box"]], float), np.array([box], float))[0, 0] > 0 for o in objs)


def test_labels_and_a_frame_for_the_readme(made, tmp_path):
    """The time labels are drawn (white text on a dark box above each object)."""
    report, index = made
    j = max(range(index["frames"]), key=lambda k: len(index["frame_objects"][k]))
    with av.open(report.video) as c:
        frame = next(f for k, f in enumerate(c.decode(video=0)) if k == j).to_ndarray(format="bgr24")
    labelled = 0
    for obj in index["frame_objects"][j]:
        x1, y1 = (int(v) for v in obj["box"][:2])
        band = frame[max(0, y1 - 30) : max(1, y1 - 2), max(0, x1 - 10) : x1 + 70]
        labelled += int((band.min(axis=2) > 200).mean() > 0.02 and (band.max(axis=2) < 50).mean() > 0.2)
    assert labelled >= len(index["frame_objects"][j]) // 2


def test_a_synopsis_of_a_search_shows_exactly_its_result(data, tmp_path):
    filters = {"classes": ["person"], "upper": ["red"]}
    with SQLiteStore(data) as store:
        make_synopsis(store, DEMO_CAMERA, FROM, TO, tmp_path, filters=filters, length_s=10)
        hits = search(
            store, parse_query({**filters, "cameras": [DEMO_CAMERA], "start": FROM, "end": TO, "limit": 1000})
        )
    index = json.loads((tmp_path / "synopsis.json").read_text())
    assert {o["track"] for o in index["objects"]} == {h.track_id for h in hits.hits} and hits.hits
    assert index["filters"] == filters


def test_auto_length_keeps_the_overlap_under_the_limit(data, tmp_path):
    with SQLiteStore(data) as store:
        report = make_synopsis(store, DEMO_CAMERA, FROM, TO, tmp_path, max_collision=0.20)
        assert report.collision_fraction <= 0.20 and report.synopsis_s < report.source_s
        # below what the source itself overlaps (PETS09's walkers cross a lot): the whole span, said so
        strict = make_synopsis(store, DEMO_CAMERA, FROM, TO, tmp_path, max_collision=0.01)
    assert strict.collision_fraction > 0.01 and not strict.limit_met
    assert strict.synopsis_s == pytest.approx(strict.source_s, abs=2.0)


@pytest.mark.parametrize(
    "camera, start, end, filters, message",
    [
        (
            DEMO_CAMERA,
            datetime(2026, 1, 1, tzinfo=timezone.utc),
            datetime(2026, 1, 2, tzinfo=timezone.utc),
            None,
            "no track of camera nimes-esplanade-01 matches",
        ),
        ("nowhere-01", FROM, TO, None, r"camera 'nowhere-01' is not in the store \(known: "),
        (DEMO_CAMERA, TO, FROM, None, "'from' .* must be before 'to'"),
        (DEMO_CAMERA, FROM, TO, {"classes": ["bus"]}, "no track of camera nimes-esplanade-01 matches .* with"),
        (DEMO_CAMERA, FROM, TO, {"cameras": ["x"]}, "synopsis filter cameras: set by the synopsis itself"),
    ],
)
def test_bad_requests_say_what_is_wrong(data, tmp_path, camera, start, end, filters, message):
    with SQLiteStore(data) as store, pytest.raises(SynopsisError, match=message):
        make_synopsis(store, camera, start, end, tmp_path, filters=filters)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_cli_synopsis_and_its_errors(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(data))
    out = tmp_path / "s"
    assert (
        main(
            [
                "synopsis",
                "--camera",
                DEMO_CAMERA,
                "--from",
                "2026-11-20T13:00:00Z",
                "--to",
                "2026-11-20T13:02:00Z",
                "--class",
                "person",
                "--length",
                "8",
                "--no-blur",
                "--out",
                str(out),
                "--no-progress",
                "--purpose",
                "test",
                "--case",
                "PV-2026-1120-041",
                "--site",
                str(DEMO_SITE),
                "--still",
                str(tmp_path / "still.png"),
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["objects"] >= 5 and (out / "synopsis.mp4").stat().st_size > 10_000
    assert cv2.imread(str(tmp_path / "still.png")).shape == (576, 768, 3)
    assert json.loads((out / "synopsis.json").read_text())["label_timezone"] == "Europe/Paris"  # the demo site's
    # unblurred output is audited as such, naming the tracks and the files (issue 19, finding 7)
    with SQLiteStore(data) as store:
        [entry] = audit_query(store, action="view_unblurred")
    assert entry.case_ref == "PV-2026-1120-041" and entry.user.startswith("console:")
    assert entry.details_dict()["files"] == [
        str(out / "synopsis.mp4"),
        str(out / "synopsis.json"),
        str(tmp_path / "still.png"),
    ]
    assert len(entry.details_dict()["track_ids"]) == report["objects"]
    # with its progress bar (as make demo runs it)
    assert (
        main(
            [
                "synopsis",
                "--camera",
                DEMO_CAMERA,
                "--from",
                "2026-11-20T13:00:00Z",
                "--to",
                "2026-11-20T13:02:00Z",
                "--length",
                "5",
                "--no-blur",
                "--case",
                "PV-2026-1120-041",
                "--purpose",
                "test",
                "--out",
                str(tmp_path / "bar"),
            ]
        )
        == 0
    )
    assert "frame" in capsys.readouterr().err and (tmp_path / "bar" / "synopsis.mp4").is_file()
    assert (
        main(["synopsis", "--camera", DEMO_CAMERA, "--from", "yesterday at banana", "--to", "2026-11-20T13:02:00Z"])
        == EXIT_USAGE
    )
    # a phrase is read on the site's clock (issue 20); what is not understood is named
    assert "synopsis --from: Time not understood: \u201cbanana\u201d" in capsys.readouterr().err
    assert (
        main(
            [
                "synopsis",
                "--camera",
                DEMO_CAMERA,
                "--from",
                "2026-11-20T13:00:00",
                "--to",
                "2026-11-20T13:02:00Z",
                "--no-progress",
            ]
        )
        == EXIT_USAGE
    )
    assert "--from: '2026-11-20T13:00:00' needs a time zone" in capsys.readouterr().err
    with SQLiteStore(data) as store:
        first, second = audit_query(store, action="synopsis")  # the two synopses made (not the refused ones)
    assert first.purpose == "test" and first.details_dict()["filters"] == {"classes": ["person"]}
    # (--no-blur needs a case and a purpose since issue 19: the second one gives them too)
    assert second.purpose == "test" and second.case_ref == "PV-2026-1120-041" and second.user.startswith("console:")
