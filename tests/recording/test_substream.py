"""A masked camera recorded from its sub-stream (record_from: substream, issue 21).

The main stream: PETS09 as H.264 (768 x 576); the sub-stream: the same at half size (384 x 288), read by the
recorder on a connection of its own (vigie.scale.worker._RecorderThread), paced in real time as a camera.
Checked: the segments are indexed and decode at the sub-stream's size, the mask (in the main stream's pixels,
the left third) is black in every decoded frame and the rest is the plaza; playback of them keeps the rest
visible (the masks scaled to the sub-stream there too); a sub-stream recording without a sub-stream is refused.
"""

from __future__ import annotations

import io
import queue
import time
from datetime import timedelta

import av
import pytest
from at_rest import segment_video
from loopback_camera import make_h264_clip, needs_ffmpeg, scaled_clip

from vigie.config import CameraConfig, SiteConfig
from vigie.errors import ConfigError
from vigie.media.playback import stream_playback
from vigie.recording.masked import MaskedSegmentWriter
from vigie.recording.recorder import recorded_url, segment_writer
from vigie.scale.worker import _RecorderThread
from vigie.store.sqlite import SQLiteStore

pytestmark = [needs_ffmpeg, pytest.mark.timeout(180)]

MAIN, SUB = (768, 576), (384, 288)
LEFT_THIRD = [[0, 0], [256, 0], [256, 576], [0, 576]]  # main-stream pixels


def camera(main, sub, **more) -> CameraConfig:
    return CameraConfig(
        id="cam-a", name="A", lat=43.8, lon=4.3, stream=str(main), substream=str(sub), main_stream_size=MAIN,
        record=True, record_from="substream", record_segment_s=2, privacy_masks=[LEFT_THIRD], **more,
    )  # fmt: skip


@pytest.fixture(scope="module")
def streams(vtest, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sub")
    main = make_h264_clip(vtest, folder / "main.mp4", seconds=6)
    sub = scaled_clip(main, folder / "sub.mp4", *SUB)
    return main, sub


def test_a_masked_camera_recorded_from_its_sub_stream_has_its_size_and_the_mask_black(streams, tmp_path):
    main, sub = streams
    cam = camera(main, sub)
    assert recorded_url(cam) == str(sub)
    closed, out = [], queue.Queue()
    writer = segment_writer(cam, tmp_path, closed.append, on_error=lambda text: out.put(text))
    assert isinstance(writer, MaskedSegmentWriter)
    recording = _RecorderThread(cam, recorded_url(cam), writer, out)
    deadline = time.monotonic() + 60
    while len(closed) < 2 and time.monotonic() < deadline:  # paced as a camera: ~2 s a segment
        time.sleep(0.2)
    recording.stop()
    assert not recording.thread.is_alive() and out.empty()
    assert len(closed) >= 2
    with SQLiteStore(tmp_path) as store:
        for seg in closed:
            assert (seg.width, seg.height, seg.codec, seg.masked) == (*SUB, "h264", True)
            store.add_recording_segment(**seg.index_args())
            with av.open(io.BytesIO(segment_video(tmp_path, tmp_path / seg.path))) as c:
                frames = list(c.decode(video=0))
            assert len(frames) == seg.frames and frames[0].key_frame
            for frame in frames[:: max(1, len(frames) // 6)]:
                assert (frame.width, frame.height) == SUB
                rgb = frame.to_ndarray(format="rgb24").astype(int)
                assert rgb[:, :120].max() <= 40  # 256 main pixels = 128 here: black (what the encoder leaves)
                assert rgb[:, 140:].mean() > 60  # the rest is the plaza
        # Played back: the masks are applied again at the sub-stream's scale, so the plaza stays visible.
        segs = store.recording_segments("cam-a")
        site = SiteConfig(name="t", language="en", cameras=[cam])
        play = stream_playback(store, site, "cam-a", segs[0].start + timedelta(seconds=0.5), blur=False, max_s=2)
        with av.open(io.BytesIO(b"".join(play.chunks))) as c:
            played = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
        assert played and all(p.shape[:2] == (SUB[1], SUB[0]) for p in played)
        assert all(p[:, :120].max() <= 40 and p[:, 140:].mean() > 60 for p in played)


def test_a_sub_stream_recording_needs_a_sub_stream(tmp_path):
    with pytest.raises((ValueError, ConfigError), match="record_from: substream needs the camera's `substream`"):
        CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3, stream="rtsp://h/a", record=True, record_from="substream")
