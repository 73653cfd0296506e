"""`vigie run` records the loopback RTSP camera (tests/loopback_camera.py: PETS09 as H.264 at 25 fps,
published in real time) while the camera is killed and restarted three times.

Checked from the store and the files alone, against the stream:
- every indexed segment's file is there and decodes alone to the frames it is indexed with;
- its frames match its times (25 fps: frames = duration x 25, to a frame), segments are ~6 s;
- the recording's gaps are the stream's gaps (as `vigie run` stored them), to a key frame;
- between them, every second the stream delivered is recorded;
- no segment was lost (the worker reported no error) and no temp file is left.
"""

from __future__ import annotations

import io
from datetime import timedelta

import av
import pytest
from at_rest import open_to_others, segment_video, videos_in_files
from builders import DEMO_CAMERA, demo_raw, write_site
from loopback_camera import (
    CLIP_FPS,
    LoopbackCamera,
    free_port,
    make_h264_clip,
    needs_ffmpeg,
    run_through_restarts,
    scaled_clip,
)

from vigie.live.run import LiveRun
from vigie.live.run import gaps as stream_gaps_of
from vigie.recording.segments import PART
from vigie.store.sqlite import SQLiteStore
from vigie.times import from_iso

pytestmark = [pytest.mark.slow, pytest.mark.serial, needs_ffmpeg, pytest.mark.timeout(300)]  # serial: live stream

OUTAGES_S = (3.0, 4.0, 3.0)
UP_S = 8.0


def test_vigie_run_records_the_camera_through_three_restarts(vtest, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    camera = LoopbackCamera(make_h264_clip(vtest, tmp_path / "camera.mp4"), free_port())
    raw = demo_raw()
    cam = next(c for c in raw["cameras"] if c["id"] == DEMO_CAMERA)
    cam.update(stream=camera.url, record=True)
    cam.pop("source", None)
    cam.pop("recording_start", None)
    cam["rules"] = []
    site_file = write_site(tmp_path, raw)

    said: list[str] = []
    camera.start()
    try:
        with SQLiteStore(tmp_path / "var") as store:
            live = LiveRun(site_file, store, flush_s=5, analysis_fps=5, printer=said.append)
            states, served, outages = run_through_restarts(live, camera, DEMO_CAMERA, UP_S, OUTAGES_S, said)
            state = states[DEMO_CAMERA]
            segments = store.recording_segments(DEMO_CAMERA)
            first, last = served[0][0], served[-1][1]
            gaps = store.recording_gaps(DEMO_CAMERA, segments[0].start, segments[-1].end)
            stored_gaps = stream_gaps_of(store, DEMO_CAMERA)[0]
            data = store.data_dir
    finally:
        camera.stop()

    assert state.segments == len(segments) >= 6 and state.segments_lost == 0, said
    assert not list(data.rglob(f"*{PART}"))
    # Sealed at rest (issue 19, finding 7): no segment file is a video in the clear, each is 0600.
    assert videos_in_files(data / "recordings") == [] and open_to_others(data / "recordings") == []
    frame_s = 1 / CLIP_FPS
    for seg in segments:
        with av.open(io.BytesIO(segment_video(data, seg.file(data)))) as c:
            frames = list(c.decode(video=0))
        assert len(frames) == seg.frames and frames[0].key_frame, seg
        # 25 frames a second: the frames fill the segment's time, to a frame, except where the camera was
        # killed (the B-frames, 3 at most, sent before it are lost with it: up to 4 frames more time), and
        # where the connection's clock settled while the segment was written (it then starts where the one
        # before ended: up to 3 frames less time).
        assert -3 * frame_s <= seg.duration_s - seg.frames * frame_s <= 4 * frame_s, seg
        # ~6 s: cut at the first key frame 6 s after its start, as the packets were timed when they came (the
        # first segment of a connection, timed before the clock settled, may run a second longer).
        assert seg.duration_s <= 8.0 and (seg.codec, seg.width, seg.height) == ("h264", 768, 576)
    for a, b in zip(segments, segments[1:]):
        assert a.end <= b.start + timedelta(milliseconds=1), (a, b)  # time order, no overlap

    # The recording's gaps are the stream's (those StreamSource saw, stored by `vigie run`): three, one per
    # outage; each starts where the stream stopped (to a few frames: B-frames) and ends where it came back,
    # at its first key frame (every 12 frames). The stream's gap ends at its first frame as stamped when it
    # was decoded; a segment's start is read when the segment closes, from the connection's clock settled
    # by then (the frames buffered while the connection opened come in a burst and are stamped late, by
    # up to a second on a loaded machine): it may be earlier than the gap's end, never later than a second.
    stream_gaps = [(from_iso(g["start"]), from_iso(g["end"])) for g in sorted(stored_gaps, key=lambda g: g["start"])]
    assert len(gaps) == len(stream_gaps) == 3, (gaps, stream_gaps)
    for gap, (stop, back), (killed, up) in zip(gaps, stream_gaps, outages):
        assert abs((gap.start - stop).total_seconds()) <= 0.25, (gap, stop)
        assert abs((gap.end - back).total_seconds()) <= 1.0, (gap, back)
        assert gap.start < up and gap.end > killed  # around the outage as the camera saw it

    # Between the gaps, every frame the stream delivered is recorded: what the segments cover is the time
    # from each return to the next stop.
    bounds = [segments[0].start] + [t for g in stream_gaps for t in g] + [segments[-1].end]
    for k in range(0, len(bounds), 2):
        up, down = bounds[k], bounds[k + 1]
        inside = [s for s in segments if s.end > up and s.start < down]
        covered = sum(min(s.end, down).timestamp() - max(s.start, up).timestamp() for s in inside)
        assert covered >= (down - up).total_seconds() - 1.0, (up, down, covered)
    assert first < segments[0].end and segments[-1].start < last
    print(
        f"\nrecorded {len(segments)} segments, {sum(s.frames for s in segments)} frames, "
        f"{sum(s.bytes for s in segments) / 1e6:.1f} MB; gaps "
        + ", ".join(f"{g.duration_s:.1f} s" for g in gaps)
        + " for outages "
        + ", ".join(f"{(b - k).total_seconds():.1f} s" for k, b in outages)
    )


def test_vigie_run_records_a_masked_camera_s_sub_stream_on_a_connection_of_its_own(vtest, tmp_path, monkeypatch):
    """record_from: substream: the worker analyses the main stream (768x576) and records the sub-stream (384x288,
    another loopback camera) with the privacy mask (the left third, in main-stream pixels) burned in."""
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    clip = make_h264_clip(vtest, tmp_path / "camera.mp4", seconds=10)
    main = LoopbackCamera(clip, free_port())
    sub = LoopbackCamera(scaled_clip(clip, tmp_path / "sub.mp4", 384, 288), free_port())
    raw = demo_raw()
    cam = next(c for c in raw["cameras"] if c["id"] == DEMO_CAMERA)
    cam.update(
        stream=main.url, substream=sub.url, main_stream_size=[768, 576], record=True, record_from="substream",
        record_segment_s=2, privacy_masks=[[[0, 0], [256, 0], [256, 576], [0, 576]]], rules=[],
    )  # fmt: skip
    cam.pop("source", None)
    cam.pop("recording_start", None)
    site_file = write_site(tmp_path, raw)
    said: list[str] = []
    main.start()
    sub.start()
    try:
        with SQLiteStore(tmp_path / "var") as store:
            live = LiveRun(site_file, store, flush_s=5, analysis_fps=2, printer=said.append)
            states = live.run(duration_s=20)
            segments = store.recording_segments(DEMO_CAMERA)
            data = store.data_dir
    finally:
        main.stop()
        sub.stop()
    assert len(segments) >= 3 and states[DEMO_CAMERA].segments_lost == 0, said
    assert not list(data.rglob(f"*{PART}"))
    for seg in segments:
        assert (seg.width, seg.height, seg.codec, seg.masked) == (384, 288, "h264", True), seg
        with av.open(io.BytesIO(segment_video(data, seg.file(data)))) as c:
            frames = list(c.decode(video=0))
        assert len(frames) == seg.frames and (frames[0].width, frames[0].height) == (384, 288)
        rgb = frames[len(frames) // 2].to_ndarray(format="rgb24").astype(int)
        assert rgb[:, :120].max() <= 40 and rgb[:, 140:].mean() > 60  # the mask black, the plaza seen
