"""Counts and heat maps over stored tracks (vigie.stats, `vigie stats`)."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from builders import T0, make_summary

from vigie import stats
from vigie.cli import main
from vigie.config import CameraConfig, SiteConfig
from vigie.store.sqlite import SQLiteStore
from vigie.types import TrackPoint

SITE = SiteConfig(
    name="t",
    cameras=[
        CameraConfig(
            id="cam-a",
            name="A",
            lat=43.8,
            lon=4.3,
            rules=[{"type": "line_crossing", "name": "door", "line": [[100, 0], [100, 400]]}],
        )
    ],
)


def track(no: int, xs: list[float], start_s: float, class_name: str = "person"):
    s = make_summary("cam-a", no, class_name=class_name, start_s=start_s, n_points=len(xs))
    s.points = [
        TrackPoint(k, T0 + timedelta(seconds=start_s + k), (x - 10, 100, x + 10, 200), 0.9) for k, x in enumerate(xs)
    ]
    s.frame_size = (400, 300)
    return s


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(SITE.cameras)
    aid = s.begin_analysis("cam-a", "/videos/a.mp4", "a" * 64)
    s.add_tracks(
        aid,
        [
            track(1, [40, 80, 120, 160], 0),
            track(2, [300, 300, 300, 300, 300, 301], 10),
            track(3, [50, 60], 3700, class_name="car"),
        ],
    ).result()
    s.finish_analysis(aid, "complete", 10, 10)
    yield s
    s.close()


def test_hourly_counts_and_line_counts(store):
    assert stats.hourly_counts(store, "cam-a") == [
        {"hour": "2026-11-20T13:00Z", "class": "person", "tracks": 2},
        {"hour": "2026-11-20T14:00Z", "class": "car", "tracks": 1},
    ]
    counts = stats.line_counts(store, SITE, "cam-a")
    assert list(counts) == ["door"] and sorted(counts["door"].values()) == [0, 1]  # one walker crosses the door once
    assert stats.line_counts(store, SITE, "elsewhere") == {}
    assert stats.hourly_counts(store, "cam-a", start=T0 + timedelta(hours=1)) == [
        {"hour": "2026-11-20T14:00Z", "class": "car", "tracks": 1}
    ]


def test_heat_maps_put_walkers_and_standers_where_they_were(store):
    walk, size = stats.heat_map(store, "cam-a", "walk")
    stop, _ = stats.heat_map(store, "cam-a", "stop")
    assert size == (400, 300) and walk.sum() == 10  # persons only: 4 + 6 points
    cell = lambda x, y: (y // stats.GRID, x // stats.GRID)  # noqa: E731
    assert walk[cell(300, 200)] == 6 and walk[cell(40, 200)] == 1
    assert stop[cell(300, 200)] >= 4 and stop[cell(80, 200)] == 0  # the walker never stops
    png = stats.heat_map_png(walk, size)
    import cv2

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (300, 400, 3) and image[200, 300].max() > image[20, 20].max()
    with pytest.raises(ValueError, match="walk"):
        stats.heat_map(store, "cam-a", "faces")


def test_cli_stats(store, tmp_path, monkeypatch, capsys):
    import yaml

    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(SITE.model_dump(mode="json", exclude_none=True)))
    assert main(["stats", "--camera", "cam-a", "--site", str(site_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["hourly"]) == 2 and sum(out["lines"]["door"].values()) == 1
