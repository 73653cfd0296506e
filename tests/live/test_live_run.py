"""`vigie run` end to end: a camera streaming real footage (a file played as a stream, whose end is a drop)
and a camera that never connects. Tracks are stored in live chunks, gaps recorded, rules raise alerts,
the dead camera is reported and does not stop the other; stopping loses nothing."""

from __future__ import annotations

import pytest
import yaml
from builders import DEMO_SITE
from loopback_camera import recorded_clip

from vigie.alerts import store as alerts
from vigie.live.run import LiveRun, gaps
from vigie.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # serial: a live stream in real time


def test_live_run_stores_tracks_gaps_and_alerts_and_survives_a_dead_camera(vtest, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    clip = tmp_path / "esplanade.mp4"
    recorded_clip(vtest, clip)
    site = yaml.safe_load(DEMO_SITE.read_text())
    live_cam = next(c for c in site["cameras"] if c["id"] == "nimes-esplanade-01")
    live_cam.update(stream=str(clip))
    live_cam.pop("source", None)
    live_cam.pop("recording_start", None)
    dead = next(c for c in site["cameras"] if c["id"] == "nimes-arenes-01")
    dead.update(stream="rtsp://viewer:s3cret@127.0.0.1:9/dead")
    dead["rules"] = []
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(site))
    said = []
    with SQLiteStore(tmp_path / "var") as store:
        live = LiveRun(site_file, store, flush_s=10, analysis_fps=5, printer=said.append)
        states = live.run(duration_s=45)
        esp, are = states["nimes-esplanade-01"], states["nimes-arenes-01"]
        assert esp.done and are.done
        # tracks from the live camera, stored in live chunks, visible to search
        assert esp.tracks >= 5 and store.counts()["tracks"] == esp.tracks
        with store.read() as conn:
            chunks = conn.execute(
                "SELECT count(*), min(message), max(message) FROM analyses WHERE camera_id='nimes-esplanade-01'"
            ).fetchone()
        assert chunks[0] >= 2 and chunks[1] == chunks[2] == "live"
        # the file's end is a drop: at least one gap, recorded with its reason
        found, total = gaps(store, "nimes-esplanade-01")
        assert total >= 1 and found[0]["start"] <= found[0]["end"] and found[0]["reason"]
        # the walkway line counts people: alerts to validate, once each
        items, n = alerts.list_alerts(store)
        assert n >= 1 and {a["rule"] for a in items} <= {
            "walkway-count",
            "lawn-at-night",
            "lawn-loitering",
            "esplanade-gathering",
        }
        # the dead camera was reported, its password never shown, and it stopped nothing
        assert are.tracks == 0 and not are.connected
        assert any("nimes-arenes-01: not connected" in s for s in said)
        assert not any("s3cret" in s for s in said)
