"""`vigie run` through three camera restarts: the issue's fault test, end to end.

A loopback RTSP camera (tests/loopback_camera.py: Debian's ffmpeg publishing
20 s of PETS09 at 25 fps, in a loop) is the demo's esplanade camera. LiveRun
analyses it (worker process, NanoDet, 5 frames/s, the one store writer) while
the camera is killed and restarted three times. Checked from the store alone:

- three gaps, each as long as its outage to within 2 s, each around it;
- every stretch the camera served was analysed, from within 3 s of its start
  (reconnection, a keyframe, and the frames that confirm a new track) to its
  last second, without a hole (there are always people on PETS09's plaza);
- no track spans a gap, no track is stored twice, and nothing reported by the
  worker is lost when the run stops.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import combinations

import numpy as np
import pytest
from builders import DEMO_CAMERA, demo_raw, write_site
from loopback_camera import LoopbackCamera, free_port, make_h264_clip, needs_ffmpeg, run_through_restarts

from vigie.live.run import LiveRun, gaps
from vigie.rules.runner import stored_rule_tracks
from vigie.store.sqlite import SQLiteStore
from vigie.track.matching import iou_matrix

pytestmark = [pytest.mark.slow, pytest.mark.serial, needs_ffmpeg]  # serial: times a gap to 0.5 s

OUTAGES_S = (3.0, 4.0, 3.0)
UP_S = 6.0  # seconds the camera streams before each outage, and after the last


def test_vigie_run_through_three_camera_restarts(vtest, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    camera = LoopbackCamera(make_h264_clip(vtest, tmp_path / "camera.mp4"), free_port())
    raw = demo_raw()
    cam = next(c for c in raw["cameras"] if c["id"] == DEMO_CAMERA)
    cam.update(stream=camera.url)
    cam.pop("source", None)
    cam.pop("recording_start", None)
    site_file = write_site(tmp_path, raw)

    said: list[str] = []
    camera.start()
    try:
        with SQLiteStore(tmp_path / "var") as store:
            live = LiveRun(site_file, store, flush_s=5, analysis_fps=5, printer=said.append)
            # served: (up, killed) and outages: (killed, back), UTC, as the camera saw them
            states, served, outages = run_through_restarts(live, camera, DEMO_CAMERA, UP_S, OUTAGES_S, said)
            state = states[DEMO_CAMERA]
            stored_gaps = sorted(gaps(store, DEMO_CAMERA)[0], key=lambda g: g["start"])
            tracks = stored_rule_tracks(store, DEMO_CAMERA)
            with store.read() as conn:
                track_nos = [
                    n for (n,) in conn.execute("SELECT track_no FROM tracks WHERE camera_id = ?", (DEMO_CAMERA,))
                ]
    finally:
        camera.stop()

    # Three gaps, each matching its outage to within 2 s.
    assert len(stored_gaps) == 3, stored_gaps
    gap_spans = [(datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])) for g in stored_gaps]
    for (start, end), (killed, back) in zip(gap_spans, outages):
        assert start <= killed + timedelta(seconds=0.5) and end >= back
        assert abs((end - start).total_seconds() - (back - killed).total_seconds()) < 2.0, (start, end, killed, back)

    # Nothing the worker reported was lost; every track stored once.
    assert state.done and state.tracks == len(tracks) >= 8
    assert len(track_nos) == len(set(track_nos)), "a track number was stored twice"

    # Every stretch served was analysed: tracked people from within 3 s of the camera's
    # return to its last second, with no hole of 2 s.
    stamps = np.array(sorted({p.timestamp.timestamp() for t in tracks for p in t.points}))
    for i, (up, killed) in enumerate(served):
        inside = stamps[(stamps >= up.timestamp()) & (stamps <= killed.timestamp())]
        assert inside.size, f"stretch {i} ({up} - {killed}) was not analysed"
        assert inside[0] - up.timestamp() < 3.0, (i, inside[0] - up.timestamp())
        assert killed.timestamp() - inside[-1] < 1.0, (i, killed.timestamp() - inside[-1])
        assert np.diff(inside).max(initial=0) < 2.0, (i, np.diff(inside).max())

    # No track spans a gap: the worker ends its tracks when the video stops being continuous.
    for t in tracks:
        for start, end in gap_spans:
            assert not (t.points[0].timestamp <= start and t.points[-1].timestamp >= end), (
                f"track {t.track_id} spans a gap"
            )

    # No track duplicated: no two tracks following the same box at the same moments.
    for a, b in combinations(tracks, 2):
        common = {p.timestamp: p.xyxy for p in a.points}.keys() & {p.timestamp: p.xyxy for p in b.points}.keys()
        if len(common) < 3:
            continue
        boxes_a = {p.timestamp: p.xyxy for p in a.points}
        boxes_b = {p.timestamp: p.xyxy for p in b.points}
        same = sum(iou_matrix(np.array([boxes_a[t]]), np.array([boxes_b[t]]))[0, 0] > 0.8 for t in common)
        assert same < 3, f"tracks {a.track_id} and {b.track_id} are the same object"

    starts = [float(stamps[stamps >= up.timestamp()][0] - up.timestamp()) for up, _ in served]
    print(
        "\noutages "
        + ", ".join(f"{(b - k).total_seconds():.2f} s" for k, b in outages)
        + "; gaps "
        + ", ".join(f"{(e - s).total_seconds():.2f} s" for s, e in gap_spans)
        + "; first tracked point after each start "
        + ", ".join(f"{d:.1f} s" for d in starts)
        + f"; {len(tracks)} tracks, {state.frames} frames analysed"
    )
