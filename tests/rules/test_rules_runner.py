"""Rules from the site file over stored tracks (vigie.rules.runner, `vigie rules check`): events become alerts once."""

from __future__ import annotations

import json

import numpy as np
import pytest
from builders import T0, jpeg_bytes, make_summary
from fakes import FakeBlurrer

from vigie.alerts import store as alerts
from vigie.cli import EXIT_USAGE, main
from vigie.config import CameraConfig, SiteConfig
from vigie.rules.runner import camera_events, raise_alerts, stored_rule_tracks
from vigie.store.sqlite import SQLiteStore
from vigie.types import TrackPoint

LINE = [[100, 0], [100, 400]]  # a vertical line at x = 100 that tracks 1 and 2 cross, one each way
SITE = SiteConfig(
    name="t",
    cameras=[
        CameraConfig(
            id="cam-a",
            name="A",
            lat=43.8,
            lon=4.3,
            rules=[{"type": "line_crossing", "name": "door", "line": LINE, "direction": "both"}],
        ),
        CameraConfig(id="cam-b", name="B", lat=43.9, lon=4.4),
    ],
)


def walker(no: int, camera: str = "cam-a", x0: float = 40.0, dx: float = 20.0, start_s: float = 0.0):
    """A person walking along y = 200 from x0, dx pixels per point, 7 points a second."""
    from datetime import timedelta

    s = make_summary(camera, no, start_s=start_s, jpeg=jpeg_bytes(), n_points=8)
    s.points = [
        TrackPoint(k, T0 + timedelta(seconds=start_s + k / 7), (x0 + k * dx - 10, 150, x0 + k * dx + 10, 200), 0.9)
        for k in range(8)
    ]
    return s


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(SITE.cameras)
    aid = s.begin_analysis("cam-a", "/videos/a.mp4", "a" * 64)
    s.add_tracks(aid, [walker(1), walker(2, x0=200, dx=-20, start_s=10), walker(3, x0=300, start_s=20)]).result()
    s.finish_analysis(aid, "complete", 10, 10)
    yield s
    s.close()


def test_stored_tracks_come_back_with_their_points_in_the_window(store):
    from datetime import timedelta

    tracks = stored_rule_tracks(store, "cam-a")
    assert [len(t.points) for t in tracks] == [8, 8, 8] and tracks[0].class_name == "person"
    assert tracks[0].points[3].xyxy == (90.0, 150.0, 110.0, 200.0)
    assert len(stored_rule_tracks(store, "cam-a", start=T0 + timedelta(seconds=9), end=T0 + timedelta(seconds=15))) == 1
    assert stored_rule_tracks(store, "cam-b") == []


def test_the_cameras_rules_fire_and_each_event_is_alerted_once(store):
    events = camera_events(store, SITE, "cam-a")
    assert [(e.kind, e.track_ids) for e in events] == [
        ("line_crossing", (1,)),
        ("line_crossing", (2,)),
    ]  # track 3 stays right
    assert {e.details["direction"] for e in events} == {"in", "out"}
    blurrer = FakeBlurrer(style="paint")
    ids = raise_alerts(store, events, blurrer=blurrer)
    assert len(ids) == 2 and len(blurrer.calls) == 2
    snap = alerts.snapshot(store, ids[0])
    import cv2

    assert cv2.imdecode(np.frombuffer(snap, np.uint8), cv2.IMREAD_COLOR).max() < 10  # the blurred picture, not the crop
    assert raise_alerts(store, camera_events(store, SITE, "cam-a"), blurrer=blurrer) == [] and len(blurrer.calls) == 2
    assert camera_events(store, SITE, "cam-b") == []  # no rules there
    # without a blurrer an alert has no snapshot rather than an unblurred one
    [e] = [x for x in events if x.track_ids == (2,)]
    store.write(lambda conn: conn.execute("DELETE FROM alerts")).result()
    [aid] = raise_alerts(store, [e])
    assert alerts.snapshot(store, aid) is None


def test_cli_rules_check_and_list(store, tmp_path, monkeypatch, capsys):
    import yaml

    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(SITE.model_dump(mode="json", exclude_none=True)))
    assert main(["rules", "check", "--site", str(site_file), "--no-alerts", "--json"]) == 0
    [cam] = json.loads(capsys.readouterr().out)
    assert cam["camera_id"] == "cam-a" and len(cam["events"]) == 2 and cam["new_alerts"] == []
    assert main(["rules", "list"]) == 0
    listed = capsys.readouterr().out
    assert "gathering" in listed and "weapon" in listed and "not supported" in listed
    assert main(["rules", "check", "--site", str(site_file), "--start", "yesterday"]) == EXIT_USAGE
    assert "--start 'yesterday' is not an ISO 8601 time" in capsys.readouterr().err


def test_a_site_file_naming_an_unsupported_rule_says_why():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="no model in the registries"):
        CameraConfig(id="c", name="c", lat=0, lon=0, rules=[{"type": "fire", "name": "f"}])
