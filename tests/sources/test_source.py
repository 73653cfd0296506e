from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from builders import CLIP_FRAMES
from builders import DEMO_SITE as DEMO_SITE_PATH

from vigie.config import load_site
from vigie.errors import VideoError
from vigie.sources.file import FileSource

START = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def truncated_vtest(vtest, tmp_path_factory):
    data = vtest.read_bytes()
    path = tmp_path_factory.mktemp("cut") / "vtest-cut.avi"
    path.write_bytes(data[: len(data) * 4 // 10])
    return path


def test_vtest_has_795_frames_of_768_by_576(vtest):
    src = FileSource(vtest, "cam", START, frame_rate=7)
    assert src.info.width == 768 and src.info.height == 576
    assert src.info.declared_frames == 795
    n, last = 0, None
    for frame in src:
        n += 1
        last = frame
    assert n == 795
    assert src.frames_decoded == 795
    assert last.seq == 794
    assert last.image.shape == (576, 768, 3) and last.image.dtype == np.uint8
    assert last.size == (768, 576)
    assert last.camera_id == "cam"


def test_timestamps_follow_the_true_frame_rate_from_recording_start(vtest):
    src = FileSource(vtest, "cam", START, frame_rate=7)
    assert src.info.frame_rate == 7
    stamps = {}
    for frame in src:
        if frame.seq in (0, 1, 7, 70):
            stamps[frame.seq] = frame.timestamp
        if frame.seq == 70:
            break
    assert stamps[0] == START
    assert stamps[70] - START == timedelta(seconds=10)
    assert stamps[7] - START == timedelta(seconds=1)
    assert (stamps[1] - START).total_seconds() == pytest.approx(1 / 7, abs=1e-6)
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in stamps.values())


def test_without_a_frame_rate_the_container_clock_is_used(vtest):
    src = FileSource(vtest, "cam", START)
    assert src.info.frame_rate == pytest.approx(10.0)  # what the AVI header says
    frame = next(f for f in src if f.seq == 70)
    assert (frame.timestamp - START).total_seconds() == pytest.approx(7.0, abs=0.01)


def test_recording_start_in_another_zone_is_kept_in_utc(vtest):
    paris = timezone(timedelta(hours=1))
    src = FileSource(vtest, "cam", datetime(2026, 11, 20, 14, 0, tzinfo=paris), frame_rate=7)
    frame = next(iter(src))
    assert frame.timestamp == START
    assert frame.timestamp.utcoffset() == timedelta(0)


@pytest.mark.parametrize("step", [1, 5, 13])
def test_frame_step_yields_every_kth_seq(clip, step):
    src = FileSource(clip, "cam", START, frame_rate=7, frame_step=step)
    seqs = [f.seq for f in src]
    assert seqs == list(range(0, CLIP_FRAMES, step))
    assert src.frames_decoded == CLIP_FRAMES  # every frame is decoded, only every kth is handed on


def test_for_camera_takes_start_and_rate_from_the_site(vtest):
    from builders import DEMO_CAMERA, DEMO_SITE

    site = load_site(DEMO_SITE)
    camera = site.camera(DEMO_CAMERA)
    analysis = site.analysis_for(DEMO_CAMERA).model_copy(update={"frame_step": 5})
    src = FileSource.for_camera(vtest, camera, analysis)
    assert src.info.frame_rate == 7
    frames = iter(src)
    first, second = next(frames), next(frames)
    assert first.timestamp == camera.recording_start
    assert second.seq == 5
    assert second.timestamp - first.timestamp == timedelta(seconds=5 / 7)


def synthetic_video(path, first_pts: int, fps: int = 10, frames: int = 20, fmt: str = "mpegts"):
    """A tiny video whose clock starts at first_pts (in 1/fps units), as a
    recorder's export keeps its running clock (MPEG-TS always does)."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 * i, np.uint8), format="bgr24")
            frame.pts, frame.time_base = first_pts + i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.mark.parametrize("first_pts", [0, 36000], ids=["clock from zero", "clock from one hour"])
@pytest.mark.parametrize("fmt, ext", [("mpegts", "ts"), ("matroska", "mkv")])
def test_first_frame_is_stamped_recording_start_whatever_the_container_clock(tmp_path, first_pts, fmt, ext):
    """recording_start is documented as the time of the source's first frame;
    frame k is k / fps after it, wherever the stream's own timestamps begin."""
    path = synthetic_video(tmp_path / f"export.{ext}", first_pts, fmt=fmt)
    frames = list(FileSource(path, "cam", START))
    assert len(frames) == 20
    assert frames[0].timestamp == START
    assert (frames[10].timestamp - START).total_seconds() == pytest.approx(1.0, abs=1e-3)


# --- chunks of a long recording (vigie.scale) ------------------------------------------------------------
@pytest.mark.parametrize("start", [1, 37, 400, 794])
def test_frames_from_a_frame_are_those_of_a_whole_pass_with_the_same_numbers_times_and_pixels(vtest, start):
    whole = {f.seq: f for f in FileSource(vtest, "cam", START, frame_rate=7) if f.seq >= start}
    got = list(FileSource(vtest, "cam", START, frame_rate=7).frames_from(start))
    assert [f.seq for f in got] == sorted(whole) == list(range(start, 795))
    for f in got[:3] + got[-3:]:
        assert f.timestamp == whole[f.seq].timestamp
        assert np.array_equal(f.image, whole[f.seq].image)


@pytest.mark.parametrize("first_pts", [0, 36000], ids=["clock from zero", "clock from one hour"])
def test_frames_from_a_frame_of_a_stream_with_its_own_clock(tmp_path, first_pts):
    path = synthetic_video(tmp_path / "export.ts", first_pts, fmt="mpegts")
    whole = list(FileSource(path, "cam", START))
    got = list(FileSource(path, "cam", START).frames_from(7))
    assert [f.seq for f in got] == list(range(7, 20))
    assert [f.timestamp for f in got] == [f.timestamp for f in whole[7:]]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(got, whole[7:]))


def test_a_file_whose_frame_times_jump_cannot_be_cut_into_chunks(tmp_path):
    from fractions import Fraction

    import av

    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i, pts in enumerate([0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13]):  # three frames' worth missing after the 7th
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 * i, np.uint8), format="bgr24")
            frame.pts, frame.time_base = pts, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(VideoError, match="frame times jump .* cannot be split into chunks"):
        list(FileSource(path, "cam", START).frames_from(2))


# --- bad input ------------------------------------------------------------------------------------------
def test_missing_file_raises_video_error_naming_the_path(tmp_path):
    path = tmp_path / "no-such-video.mp4"
    with pytest.raises(VideoError) as info:
        FileSource(path, "cam")
    assert str(path) in str(info.value)


def test_a_folder_raises_video_error(tmp_path):
    with pytest.raises(VideoError, match="not a file"):
        FileSource(tmp_path, "cam")


@pytest.mark.parametrize(
    "name, content",
    [("notes.mp4", b"this is not a video, just some text\n" * 20), ("empty.avi", b"")],
    ids=["text named .mp4", "empty file"],
)
def test_a_file_that_is_not_a_video_raises_video_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(VideoError) as info:
        FileSource(path, "cam")
    assert str(path) in str(info.value)


def test_truncated_file_yields_its_frames_then_raises_video_error(truncated_vtest):
    src = FileSource(truncated_vtest, "cam", START, frame_rate=7)
    seqs = []
    with pytest.raises(VideoError) as info:
        for frame in src:
            seqs.append(frame.seq)
    message = str(info.value)
    assert len(seqs) > 100, "the frames before the cut are delivered"
    assert seqs == list(range(len(seqs)))
    assert str(truncated_vtest) in message
    assert "truncated" in message
    assert str(src.frames_decoded) in message and "795" in message


def test_max_width_shrinks_frames_and_says_by_how_much(vtest):
    full = next(iter(FileSource(vtest, "cam", frame_rate=7)))
    small = next(iter(FileSource(vtest, "cam", frame_rate=7, max_width=384)))
    assert full.image.shape == (576, 768, 3) and full.scale == 1.0
    assert small.image.shape == (288, 384, 3) and small.scale == 2.0
    # the same picture, at half the size
    shrunk = cv2.resize(full.image, (384, 288), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - small.image.astype(int)).mean() < 6


def test_describer_stores_source_pixels_when_frames_are_shrunk():
    from datetime import datetime, timezone

    from vigie.describe.describer import Describer
    from vigie.types import Detections, Frame

    d = Describer("cam", frame_rate=7)
    image = np.full((288, 384, 3), 120, np.uint8)
    t0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
    for k in range(3):
        frame = Frame("cam", k, t0, image, scale=2.0)
        d.observe(
            frame, Detections(np.array([[10.0 + k, 20, 40 + k, 100]]), np.array([0.9]), np.array([0]), np.array([1]))
        )
    track = d.finish(1)
    assert track.points[0].xyxy == (20.0, 40.0, 80.0, 200.0)
    assert track.median_height_px == 160.0


def test_a_substream_stores_coordinates_in_the_main_streams_pixels(vtest):
    """A camera analysed on its sub-stream (here vtest.avi, 768 px wide, as the
    sub-stream of a 1536 px main stream) reports main-stream pixels."""
    from vigie.config import CameraConfig

    camera = CameraConfig(
        id="c",
        name="c",
        lat=43.8,
        lon=4.36,
        source="rtsp://camera/main",
        substream=str(vtest),
        main_stream_size=(1536, 1152),
        frame_rate=7,
    )
    site = load_site(DEMO_SITE_PATH)
    analysis = site.analysis_for("nimes-esplanade-01")
    frame = next(iter(FileSource.for_camera(vtest, camera, analysis)))
    assert frame.image.shape[1] == 768 and frame.scale == 2.0
    # the same file given as a plain source keeps its own pixels
    plain = camera.model_copy(update={"substream": None})
    assert next(iter(FileSource.for_camera(vtest, plain, analysis))).scale == 1.0


def test_a_substream_needs_the_main_stream_size():
    from pydantic import ValidationError

    from vigie.config import CameraConfig

    with pytest.raises(ValidationError, match="main_stream_size"):
        CameraConfig(id="c", name="c", lat=43.8, lon=4.36, substream="sub.mp4")
