"""Drone clips (vigie.drone): PETS09-S2L1 seen through a panning window, as a moving camera would see it,
analysed with the aerial profile (tiles, camera-motion compensation): people counted per frame against the
ground truth, and the one real group (three people walking abreast, 15-22 s) found as a gathering."""

from __future__ import annotations

import av
import numpy as np
import pytest
from builders import PAN_WIDTH as WIDTH
from builders import window_x

from vigie.config import CameraConfig, SiteConfig
from vigie.drone import analyse_drone_clip
from vigie.eval.mot import read_mot

pytestmark = pytest.mark.slow
FIRST, LAST = 84, 182  # frames 12-26 s: the trio walks abreast from about 15 s to 22 s


def _drone_clip(pets09, path):
    """The panned window of frames FIRST..LAST as H.264 at 7 fps; the truth's people per frame."""
    gt = read_mot(pets09 / "gt.txt")
    counts = []
    with av.open(str(pets09 / "vtest.avi")) as inp, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=7)
        stream.width, stream.height, stream.pix_fmt = WIDTH, 576, "yuv420p"
        for f, frame in enumerate(inp.decode(video=0)):
            if f > LAST:
                break
            if f < FIRST:
                continue
            x0 = window_x(f)
            view = np.ascontiguousarray(frame.to_ndarray(format="bgr24")[:, x0 : x0 + WIDTH])
            for p in stream.encode(av.VideoFrame.from_ndarray(view, format="bgr24")):
                out.mux(p)
            rows = gt[gt[:, 0] == f + 1]
            centre = rows[:, 2] - x0 + rows[:, 4] / 2
            counts.append(int(((centre >= 0) & (centre < WIDTH)).sum()))
        for p in stream.encode():
            out.mux(p)
    return counts


def test_drone_clip_counts_people_and_finds_the_group(pets09, tmp_path, monkeypatch):
    from datetime import datetime, timezone

    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    clip = tmp_path / "drone.mp4"
    truth = _drone_clip(pets09, clip)
    site = SiteConfig(
        name="t",
        cameras=[
            CameraConfig(
                id="drone-1",
                name="Drone",
                lat=43.83,
                lon=4.36,
                profile="aerial",
                recording_start=datetime(2026, 11, 20, 13, 0, 12, tzinfo=timezone.utc),
            )
        ],
    )
    report = analyse_drone_clip(clip, "drone-1", site)
    got = [c["people"] for c in report.counts]
    assert len(got) == len(truth) == LAST - FIRST + 1
    err = np.abs(np.array(got) - np.array(truth))
    assert np.median(err) <= 1 and np.mean(err) <= 1.5, (got, truth)
    assert report.max_people >= max(truth) - 1
    assert report.radius_px and 40 < report.radius_px < 200  # 2 m in the clip's own people heights
    [event] = report.events
    assert event.kind == "gathering" and event.details["peak_size"] >= 3
    assert 12 <= (event.start - site.cameras[0].recording_start).total_seconds() + 12 <= 24
    t0 = site.cameras[0].recording_start
    print(
        f"\n{len(got)} frames; people per frame: truth mean {np.mean(truth):.2f}, Vigie mean {np.mean(got):.2f}; "
        f"abs error mean {err.mean():.2f}, median {np.median(err):.0f}, exact in {np.mean(err == 0):.0%} of frames; "
        f"max truth {max(truth)}, Vigie {report.max_people}; gathering radius {report.radius_px:.0f} px; event "
        f"{(event.start - t0).total_seconds() + 12:.1f}-{(event.end - t0).total_seconds() + 12:.1f} s of S2L1, "
        f"peak {event.details['peak_size']}"
    )
