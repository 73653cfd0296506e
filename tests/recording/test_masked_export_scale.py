"""An export of a masked camera recorded from its main stream, shrunk by record_masked_width (issue 21).

The camera: PETS09 as H.264 (768 x 576), `record: true`, a privacy mask over the left third (main-stream
pixels), `record_masked_width: 384` and no `main_stream_size` (it has no sub-stream: none is needed). Its
segments are re-encoded at 384 x 288, half the analysed frame. A stored person track (analysed at 768 x 576)
walks at known boxes. Checked on the exported MP4 and on what the blurrer was given: the track's boxes reach
the blurrer halved (within a pixel), the burned boxes land there and not at the unscaled place, and the
mask, applied again, covers the left third of the recorded picture and no more (the plaza beyond is seen).
With no track in view over the period, the mask's scale comes from the camera's other tracks' analysed
frame width: in an unblurred export and in playback (vigie.media.playback) alike.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import av
import numpy as np
import pytest
from builders import T0, make_summary
from fakes import FakeBlurrer
from loopback_camera import make_h264_clip, needs_ffmpeg

from vigie.config import CameraConfig, SiteConfig
from vigie.media.playback import stream_playback
from vigie.recording.export import export_recording
from vigie.recording.masked import MaskedSegmentWriter
from vigie.recording.recorder import segment_writer
from vigie.sources.stream import StreamSource
from vigie.store.sqlite import SQLiteStore

pytestmark = [needs_ffmpeg, pytest.mark.timeout(240)]

MAIN, RECORDED = (768, 576), (384, 288)
LEFT_THIRD = [[0, 0], [256, 0], [256, 576], [0, 576]]  # main-stream pixels: 128 recorded pixels
FPS = 25
TRACK_FPS = 5.0  # one stored point every 0.2 s: every exported frame has one within BOX_NEAR_S


@pytest.fixture(scope="module")
def clip(vtest, tmp_path_factory):
    return make_h264_clip(vtest, tmp_path_factory.mktemp("masked") / "camera.mp4", seconds=3)


@pytest.fixture(params=[0.0])
def recorded(clip, tmp_path, request):
    """(store, site, t0, the track): the recording from t0; the track from t0 + request.param seconds."""
    cam = CameraConfig(
        id="cam-a", name="A", lat=43.8, lon=4.3, stream="rtsp://x/", record=True, record_segment_s=2,
        privacy_masks=[LEFT_THIRD], record_masked_width=RECORDED[0],
    )  # fmt: skip
    assert cam.main_stream_size is None
    store = SQLiteStore(tmp_path)
    store.upsert_cameras([cam])
    writer = segment_writer(cam, tmp_path, lambda seg: store.add_recording_segment(**seg.index_args()), print)
    assert isinstance(writer, MaskedSegmentWriter)
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    source = StreamSource(str(clip), "cam-a", analysis_fps=None, pace_files=False, recorder=writer)
    source.clock = lambda: t0 + timedelta(seconds=source.frames_decoded / FPS)
    for frame in source:
        if frame.seq >= 3 * FPS - 1:
            source.stop()
    segs = store.recording_segments("cam-a")
    assert segs and all((s.width, s.height, s.masked) == (*RECORDED, True) for s in segs)
    # A person in view over the whole recording, analysed on the main stream's frames.
    aid = store.begin_analysis("cam-a", "live", "live".ljust(64, "0"))
    summary = make_summary("cam-a", 1, start_s=(t0 - T0).total_seconds() + request.param, n_points=16, fps=TRACK_FPS)
    # Boxes (500 + 5k, 200, 540 + 5k, 300): right of the mask, and out of the recorded picture unless scaled.
    summary.points = [
        replace(p, xyxy=(x1 + 400, y1, x2 + 400, y2)) for p in summary.points for x1, y1, x2, y2 in [p.xyxy]
    ]
    summary.frame_size = MAIN
    store.add_tracks(aid, [summary]).result()
    store.finish_analysis(aid, "complete", 10, 10)
    yield store, SiteConfig(name="t", language="en", cameras=[cam]), t0, summary
    store.close()


def test_a_shrunk_masked_recording_is_exported_with_boxes_and_mask_at_its_scale(recorded, tmp_path):
    store, site, t0, summary = recorded
    blurrer = FakeBlurrer("heads")
    out = tmp_path / "case.mp4"
    result = export_recording(
        store, site, "cam-a", t0 + timedelta(seconds=0.5), t0 + timedelta(seconds=2.5), out, blurrer=blurrer,
        user="console:test", role="console", case_ref=None, purpose=None,
    )  # fmt: skip
    assert result.frames > 0 and result.regions_blurred > 0

    # What the blurrer was given: the stored boxes halved (the recorded picture is half the analysed one).
    expected = np.array([p.xyxy for p in summary.points]) * (RECORDED[0] / MAIN[0])
    given = [np.asarray(c["person_boxes"]).reshape(-1, 4) for c in blurrer.calls if "shape" in c]
    assert given and all(c["shape"][:2] == (RECORDED[1], RECORDED[0]) for c in blurrer.calls if "shape" in c)
    for boxes in given:
        assert len(boxes) >= 1
        for box in boxes:
            assert np.abs(expected - box).max(axis=1).min() <= 1.0, box

    # What the MP4 shows: the heads painted white at the scaled box (x 250..290, y 100..112), nothing white
    # where the unscaled one would be (y 200..225), the mask's 128 recorded pixels black and the plaza beyond
    # it seen (the mask applied again at the recording's scale, not over 256 of its pixels).
    with av.open(io.BytesIO(out.read_bytes())) as c:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    assert len(frames) == result.frames and frames[0].shape[:2] == (RECORDED[1], RECORDED[0])
    for rgb in frames:
        white = (rgb[102:110, 240:300].min(axis=(0, 2)) > 200).sum()
        assert white >= 15, white  # the scaled head: 20 px wide
        assert (rgb[205:220].min(axis=2) > 230).mean() < 0.05  # no painted band at the unscaled height
        assert black_mask_and_plaza_beyond(rgb)


def black_mask_and_plaza_beyond(rgb: np.ndarray) -> bool:
    """The mask's 128 recorded pixels black (below the caption band) and the plaza beyond them seen."""
    return rgb[30:, :120].max() <= 40 and rgb[:, 140:240].mean() > 60


@pytest.mark.parametrize("recorded", [30.0], indirect=True)  # the camera's track comes after the recording
def test_with_no_track_in_view_the_mask_is_still_scaled_to_the_recording(recorded, tmp_path):
    """The width the masks are drawn at comes from the camera's other tracks, in the export and in playback."""
    store, site, t0, _ = recorded
    out = tmp_path / "case.mp4"
    result = export_recording(
        store, site, "cam-a", t0 + timedelta(seconds=0.5), t0 + timedelta(seconds=2.5), out, blurrer=None,
        user="console:test", role="console", case_ref="PV-1", purpose="test",
    )  # fmt: skip
    with av.open(io.BytesIO(out.read_bytes())) as c:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    assert len(frames) == result.frames > 0
    assert all(f.shape[:2] == (RECORDED[1], RECORDED[0]) and black_mask_and_plaza_beyond(f) for f in frames)
    play = stream_playback(store, site, "cam-a", t0 + timedelta(seconds=0.5), blur=False, max_s=2)
    with av.open(io.BytesIO(b"".join(play.chunks))) as c:
        played = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    assert played and all(p.shape[:2] == (RECORDED[1], RECORDED[0]) for p in played)
    assert all(black_mask_and_plaza_beyond(p) for p in played)
