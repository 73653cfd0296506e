"""Track clips (vigie.media.clips) on a small synthetic recording.

The recording: 40 frames of 320x240 grey, each with its frame number written
in binary as six dark or light blocks along the bottom, in an AVI that claims 10 fps and
has a keyframe every 10 frames, like PETS09 (whose footage is really 7 fps:
the site file says so). Which source frames a clip holds is read back from
that block.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from builders import T0
from fakes import FakeBlurrer

from vigie.config import CameraConfig, SiteConfig
from vigie.errors import VideoError
from vigie.media import clips
from vigie.media.clips import (
    BOX_BGR,
    ClipError,
    SourceUnavailable,
    TrackNotFound,
    clip_files,
    clip_path,
    delete_clips,
    read_clip_info,
    render_clip,
)
from vigie.store.sqlite import SQLiteStore
from vigie.types import TrackPoint, TrackSummary

W, H, N_FRAMES, CONTAINER_FPS, TRUE_FPS, GOP = 320, 240, 40, 10, 7, 10
GREY = 128
MASK = [(0, 100), (60, 100), (60, 160), (0, 160)]  # privacy mask, source pixels
CAM = "cam-a"


BITS = [(slice(200, 224), slice(100 + 30 * i, 124 + 30 * i)) for i in range(6)]  # the frame number, in binary


def write_seq(image: np.ndarray, seq: int) -> None:
    for i, block in enumerate(BITS):
        image[block] = 220 if seq >> i & 1 else 40


def seq_of(image: np.ndarray) -> int:
    return sum(1 << i for i, block in enumerate(BITS) if image[block][6:-6, 6:-6].mean() > GREY)


# --- the recording, the site, the store ------------------------------------------------------------------
def write_video(path: Path, frames: int = N_FRAMES) -> Path:
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=CONTAINER_FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.gop_size = GOP
        stream.options = {"qscale": "2"}
        for seq in range(frames):
            img = np.full((H, W, 3), GREY, np.uint8)
            write_seq(img, seq)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("rec") / "recording.avi")


def site(masks=(MASK,), rate: float | None = TRUE_FPS) -> SiteConfig:
    return SiteConfig(
        name="t",
        language="en",  # the tests read English messages (French is the default for a site)
        cameras=[CameraConfig(id=CAM, name="A", lat=0, lon=0, frame_rate=rate, privacy_masks=[list(m) for m in masks])],
    )


def summary(no: int, seqs, boxes, cls: str = "person", frame_size=None) -> TrackSummary:
    points = [
        TrackPoint(seq=s, timestamp=T0 + timedelta(seconds=s / TRUE_FPS), xyxy=tuple(map(float, b)), confidence=0.9)
        for s, b in zip(seqs, boxes)
    ]
    return TrackSummary(
        camera_id=CAM,
        track_no=no,
        class_name=cls,
        first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp,
        points=points,
        median_height_px=60.0,
        median_width_px=30.0,
        frame_size=frame_size,
    )


def walker(x0: float, seqs) -> list[list[float]]:
    """A 30x60 box moving 4 px right per frame."""
    return [[x0 + 4 * (s - seqs[0]), 60.0, x0 + 30 + 4 * (s - seqs[0]), 120.0] for s in seqs]


SUBJECT_SEQS = list(range(12, 25, 3))  # analysed with frame_step 3: 12, 15, ..., 24


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "var")
    s.upsert_cameras(site().cameras)
    yield s
    s.close()


def analyse(store, source: Path, summaries) -> dict[int, int]:
    """Store one finished analysis of `source`; {track_no: track id}."""
    aid = store.begin_analysis(CAM, str(source), "ab" * 32)
    store.add_tracks(aid, summaries).result()
    store.finish_analysis(aid, "complete", N_FRAMES, N_FRAMES)
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT track_no, id FROM tracks WHERE analysis_id=?", (aid,))}


@pytest.fixture
def tracks(store, video) -> dict[int, int]:
    """1: the subject (person); 2: another person, frames 0-30; 3: a car, frames 10-20; 4: a person after the clip."""
    return analyse(
        store,
        video,
        [
            summary(1, SUBJECT_SEQS, walker(100, SUBJECT_SEQS)),
            summary(2, list(range(0, 31, 2)), walker(150, list(range(0, 31, 2)))),
            summary(3, [10, 20], [[200, 140, 260, 180], [220, 140, 280, 180]], cls="car"),
            summary(4, [36, 39], [[10, 40, 40, 100]] * 2),
        ],
    )


def decode(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def orange(pixel: np.ndarray) -> bool:
    return int(pixel[2]) - int(pixel[0]) > 60  # red well above blue: the box, not grey


# --- what a clip holds ------------------------------------------------------------------------------------
def test_frames_box_masks_and_caption(store, tracks):
    clip = render_clip(store, tracks[1], site=site(), blur=False)  # pad 1 s = 7 frames at the true 7 fps
    frames = decode(clip.data)
    assert (clip.first_seq, clip.last_seq, clip.frames, len(frames)) == (5, 31, 27, 27)
    assert [seq_of(f) for f in frames] == list(range(5, 32))
    assert (clip.fps, clip.fmt, clip.mime, clip.blurred, clip.cached, clip.path, clip.truncated) == (
        7.0,
        "webm",
        "video/webm",
        False,
        False,
        None,
        False,
    )
    assert clip.start == T0 + timedelta(seconds=5 / 7) and clip.duration_s == pytest.approx(27 / 7)
    with av.open(io.BytesIO(clip.data)) as c:
        assert c.streams.video[0].codec_context.name == "vp8" and float(c.streams.video[0].average_rate) == 7.0

    # seq 13 lies between the analysed 12 and 15: its box is interpolated, 4 px on from 12's.
    f13 = frames[13 - 5]
    x1, y1, x2, y2 = 104, 60, 134, 120
    assert orange(f13[90, x1]) and orange(f13[90, x2]) and orange(f13[y1, 119]) and orange(f13[y2, 119])
    assert not orange(f13[90, x1 - 6]) and not orange(f13[90, x1 + 6])
    assert not any(orange(frames[0][90, x]) for x in range(90, 200))  # before the track: no box
    assert np.abs(f13[130, 100].astype(int) - GREY).max() < 12  # untouched scene
    for f in frames:  # the mask is black on every frame
        assert f[105:155, 5:55].max() < 25
    assert frames[0][:12, :100].mean() < 60 and frames[0][:12, :100].max() > 150  # the caption: white on black


def test_mp4_is_h264_with_its_index_first(store, tracks):
    clip = render_clip(store, tracks[1], site=site(), blur=False, fmt="mp4")
    frames = decode(clip.data)
    assert len(frames) == clip.frames == 27 and [seq_of(f) for f in frames] == list(range(5, 32))
    assert clip.mime == "video/mp4"
    assert clip.data.find(b"moov") < clip.data.find(b"mdat")  # playable before it is all downloaded
    with av.open(io.BytesIO(clip.data)) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt, float(s.average_rate)) == ("h264", "yuv420p", 7.0)
    meta, n = read_clip_info(clip.data)
    assert n == 27 and meta["track_id"] == tracks[1] and meta["first_seq"] == 5 and meta["blurred"] is False


def test_without_a_site_rate_the_containers_rate_is_used(store, tracks):
    clip = render_clip(store, tracks[1], site=None, blur=False, pad_s=0.5)  # 5 frames at 10 fps
    assert (clip.fps, clip.first_seq, clip.last_seq) == (10.0, 7, 29)
    assert [seq_of(f) for f in decode(clip.data)] == list(range(7, 30))


def test_the_cap_keeps_the_start(store, tracks):
    clip = render_clip(store, tracks[1], site=site(), blur=False, max_s=1.0)
    assert (clip.first_seq, clip.last_seq, clip.frames, clip.truncated) == (5, 11, 7, True)
    assert [seq_of(f) for f in decode(clip.data)] == list(range(5, 12))


def test_the_end_of_the_file_shortens_the_trailing_pad(store, video, tmp_path):
    ids = analyse(store, video, [summary(9, [30, 36], walker(100, [30, 36]))])
    clip = render_clip(store, ids[9], site=site(), blur=False)
    assert (clip.first_seq, clip.last_seq, clip.frames) == (23, 39, 17)


def test_seeking_gives_the_frames_counting_from_the_start_gives(store, tracks, monkeypatch):
    used = []
    real = clips._counted
    monkeypatch.setattr(clips, "_counted", lambda *a: used.append(1) or real(*a))
    seeked = render_clip(store, tracks[1], site=site(), blur=False, fmt="mp4")
    assert [seq_of(f) for f in decode(seeked.data)] == list(range(5, 32)) and not used  # the AVI's index was used

    def cannot_seek(*a):
        raise clips._OffGrid("simulated")
        yield

    monkeypatch.setattr(clips, "_seeked", cannot_seek)
    counted = render_clip(store, tracks[1], site=site(), blur=False, fmt="mp4")
    assert used and [seq_of(f) for f in decode(counted.data)] == [seq_of(f) for f in decode(seeked.data)]


def test_stored_coordinates_of_a_larger_main_stream_are_scaled(store, video):
    # Analysed on this file as the sub-stream of a 640x480 camera: points and masks are in 640x480 pixels.
    seqs = [10, 14]
    ids = analyse(store, video, [summary(5, seqs, [[200, 120, 260, 240]] * 2, frame_size=(640, 480))])
    big_mask = [(0, 200), (120, 200), (120, 320), (0, 320)]
    frames = decode(render_clip(store, ids[5], site=site(masks=[big_mask]), blur=False, pad_s=0).data)
    f = frames[0]
    assert orange(f[90, 100]) and orange(f[90, 130]) and not orange(f[90, 115])
    assert f[105:155, 5:55].max() < 25


# --- blurring and the cache ---------------------------------------------------------------------------------
def test_blurring_gets_every_tracks_boxes_and_the_result_is_cached(store, tracks):
    fake = FakeBlurrer(paint="heads", style="paint")
    clip = render_clip(store, tracks[1], site=site(), blurrer=fake)
    frames = decode(clip.data)
    assert len(fake.calls) == clip.frames == len(frames) == 27 and clip.blurred and not clip.cached
    by_seq = {
        clip.first_seq + i: (np.array(c["vehicle_boxes"]).reshape(-1, 4), np.array(c["person_boxes"]).reshape(-1, 4))
        for i, c in enumerate(fake.calls)
    }
    vehicles, persons = by_seq[13]
    subject, other = walker(100, SUBJECT_SEQS)[0], walker(150, list(range(0, 31, 2)))[0]
    expected = sorted([[subject[0] + 4, 60, subject[2] + 4, 120], [other[0] + 4 * 13, 60, other[2] + 4 * 13, 120]])
    assert sorted(persons.tolist()) == expected  # both people, interpolated at 13
    assert vehicles.tolist() == [[206.0, 140.0, 266.0, 180.0]]  # the car, 3/10 of the way
    assert by_seq[5][0].tolist() == [] and len(by_seq[5][1]) == 1  # before the subject: only the other person
    assert len(by_seq[31][1]) == 0  # after everyone
    assert clip.regions == sum(len(p) for _, p in by_seq.values())
    # What the blurrer painted is in the clip, under the caption and the box.
    ox = int(other[0] + 4 * 13)
    assert frames[13 - 5][64, ox + 8 : ox + 22].min() > 220

    path = clip_path(store, CAM, tracks[1], "webm")
    assert clip.path == path and store.pictures.read_file(path) == clip.data
    assert (
        store.pictures.is_sealed(path.read_bytes()) and clip.data not in path.read_bytes()
    )  # sealed at rest (issue 19)
    assert path == store.data_dir / "clips" / CAM / f"{tracks[1]}.webm"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left

    again = render_clip(store, tracks[1], site=site(), blurrer=fake)
    assert again.cached and again.data == clip.data and len(fake.calls) == 27  # not rendered again
    assert (again.first_seq, again.last_seq, again.frames, again.fps, again.start, again.regions) == (
        clip.first_seq,
        clip.last_seq,
        clip.frames,
        clip.fps,
        clip.start,
        None,
    )


def test_a_changed_mask_or_setting_renders_again(store, tracks):
    fake = FakeBlurrer(paint="heads", style="paint")
    first = render_clip(store, tracks[1], site=site(), blurrer=fake)
    new_mask = render_clip(store, tracks[1], site=site(masks=[MASK, [(200, 30), (300, 30), (300, 90)]]), blurrer=fake)
    assert not new_mask.cached and new_mask.data != first.data and len(fake.calls) == 54
    assert not render_clip(
        store, tracks[1], site=site(masks=[MASK, [(200, 30), (300, 30), (300, 90)]]), blurrer=fake, pad_s=0
    ).cached
    clip_path(store, CAM, tracks[1], "webm").write_bytes(b"damaged")
    assert not render_clip(store, tracks[1], site=site(), blurrer=fake).cached


def test_a_blurred_clip_without_a_blurrer_is_refused(store, tracks):
    with pytest.raises(ClipError, match=f"track {tracks[1]}: a blurred clip was asked for but no blurrer"):
        render_clip(store, tracks[1], site=site())
    with pytest.raises(ClipError, match="no blurrer"):
        render_clip(store, tracks[1], site=site(), blur=True, blurrer=None, fmt="mp4")
    assert clip_files(store) == {}


def test_unblurred_clips_never_touch_the_disk(store, tracks, tmp_path):
    render_clip(store, tracks[1], site=site(), blur=False)
    render_clip(store, tracks[1], site=site(), blur=False, fmt="mp4")
    assert not (store.data_dir / "clips").exists()
    out = tmp_path / "exports" / "case-1.mp4"
    out.parent.mkdir()
    clip = render_clip(store, tracks[1], site=site(), blur=False, fmt="mp4", out=out)  # the caller's own choice
    assert out.read_bytes() == clip.data and not (store.data_dir / "clips").exists()
    assert len(clip.sha256) == 64


def test_clip_files_and_delete_clips(store, tracks):
    fake = FakeBlurrer(paint="heads", style="paint")
    render_clip(store, tracks[1], site=site(), blurrer=fake, pad_s=0)
    render_clip(store, tracks[1], site=site(), blurrer=fake, pad_s=0, fmt="mp4")
    render_clip(store, tracks[2], site=site(), blurrer=fake, pad_s=0)
    stray = store.data_dir / "clips" / CAM / "readme.webm"
    stray.write_bytes(b"")
    assert {t: sorted(p.name for p in ps) for t, ps in clip_files(store, [tracks[1]]).items()} == {
        tracks[1]: sorted([f"{tracks[1]}.mp4", f"{tracks[1]}.webm"])
    }
    assert set(clip_files(store)) == {tracks[1], tracks[2]}
    assert delete_clips(store, [tracks[1], 424242]) == 2
    assert set(clip_files(store)) == {tracks[2]} and stray.exists()


# --- errors --------------------------------------------------------------------------------------------------
def test_a_missing_recording_names_the_file_and_the_track(store, video, tmp_path):
    gone = tmp_path / "gone.avi"
    gone.write_bytes(video.read_bytes())
    ids = analyse(store, gone, [summary(1, SUBJECT_SEQS, walker(100, SUBJECT_SEQS))])
    gone.unlink()
    with pytest.raises(SourceUnavailable, match=rf"{gone}.* of track {ids[1]} is gone"):
        render_clip(store, ids[1], site=site(), blur=False)
    with pytest.raises(SourceUnavailable, match=str(gone)):
        render_clip(store, ids[1], site=site(), blurrer=FakeBlurrer(paint="heads", style="paint"))
    assert clip_files(store) == {}


def test_a_corrupt_or_short_recording_is_a_video_error_naming_it(store, video, tmp_path):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"RIFF" + bytes(range(256)) * 40)
    ids = analyse(store, bad, [summary(1, SUBJECT_SEQS, walker(100, SUBJECT_SEQS))])
    with pytest.raises(VideoError, match=str(bad)):
        render_clip(store, ids[1], site=site(), blur=False)

    short = write_video(tmp_path / "short.avi", frames=20)  # replaced after the analysis: ends before the track
    ids = analyse(store, short, [summary(2, SUBJECT_SEQS, walker(100, SUBJECT_SEQS))])
    with pytest.raises(VideoError, match=rf"{short} ends at frame 19, before track {ids[2]}'s last frame 24"):
        render_clip(store, ids[2], site=site(), blur=False)


def test_bad_requests(store, tracks):
    with pytest.raises(TrackNotFound, match="no track has id 424242"):
        render_clip(store, 424242, blur=False)
    with pytest.raises(ClipError, match="'avi' is not one of webm, mp4"):
        render_clip(store, tracks[1], blur=False, fmt="avi")
    with pytest.raises(ClipError, match="pad_s must be >= 0 and max_s > 0"):
        render_clip(store, tracks[1], blur=False, max_s=0)
    assert issubclass(SourceUnavailable, clips.VigieError) and BOX_BGR[2] > BOX_BGR[0]


# --- streamed clips: fragmented MP4 while it is rendered (issue 21) ------------------------------------------
def boxes_of(data: bytes) -> list[bytes]:
    """The top-level ISO BMFF box types of an MP4, in order."""
    out, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        out.append(data[at + 4 : at + 8])
        if size < 8:
            break
        at += size
    return out


def test_a_streamed_clip_comes_in_fragments_with_the_frames_of_the_whole_clip(store, tracks):
    whole = render_clip(store, tracks[1], site=site(), blur=False, fmt="mp4")
    stream = clips.stream_clip(store, tracks[1], site=site(), blur=False)
    assert not stream.blurred and not stream.cached and stream.mime == "video/mp4"
    chunks = list(stream.chunks)
    data = b"".join(chunks)
    kinds = boxes_of(data)
    assert (
        kinds[:2] == [b"ftyp", b"moov"] and kinds.count(b"moof") >= 3 and kinds.count(b"moof") == kinds.count(b"mdat")
    )
    assert len(chunks) >= 3  # several pieces, sent as they were encoded
    frames = decode(data)
    assert [seq_of(f) for f in frames] == [seq_of(f) for f in decode(whole.data)] == list(range(5, 32))
    assert clip_files(store) == {}  # unblurred: never on disk


def test_a_blurred_streamed_clip_is_cached_when_complete_and_then_streamed_from_the_cache(store, tracks):
    fake = FakeBlurrer(paint="heads", style="paint")
    stream = clips.stream_clip(store, tracks[1], site=site(), blurrer=fake)
    first = next(stream.chunks)
    assert boxes_of(first)[:2] == [b"ftyp", b"moov"]
    path = clip_path(store, CAM, tracks[1], "fmp4")
    assert not path.exists()  # not before it is complete
    data = first + b"".join(stream.chunks)
    assert path.read_bytes() == data and len(decode(data)) == 27 == len(fake.calls)
    again = clips.stream_clip(store, tracks[1], site=site(), blurrer=fake)
    assert again.cached and again.blurred and b"".join(again.chunks) == data and len(fake.calls) == 27
    assert read_clip_info(data)[0]["blurred"] is True


def test_a_streamed_clip_of_a_missing_recording_fails_before_anything_is_sent(store, video, tmp_path):
    gone = tmp_path / "gone.avi"
    gone.write_bytes(video.read_bytes())
    ids = analyse(store, gone, [summary(7, SUBJECT_SEQS, walker(100, SUBJECT_SEQS))])
    gone.unlink()
    with pytest.raises(SourceUnavailable, match=f"gone.avi of track {ids[7]} is gone"):
        clips.stream_clip(store, ids[7], site=site(), blur=False)
    with pytest.raises(ClipError, match="no blurrer"):
        clips.stream_clip(store, ids[7], site=site())


def test_the_caption_is_on_the_sites_clock_labelled(store, tracks):
    """Issue 20 (one clock): a clip of a Paris site is captioned in Paris time (not UTC), with the label,
    and a change of the site's zone makes another clip, never the cached one."""
    from zoneinfo import ZoneInfo

    from vigie.i18n import use_language

    paris = ZoneInfo("Europe/Paris")
    with use_language("en"):
        text = clips._caption_text(CAM, T0, 7, paris)
    local = T0.astimezone(paris)
    assert text == f"{CAM}  {local:%d/%m/%Y %H:%M:%S}.{local.microsecond // 1000:03d} (Paris time)  track 7"
    assert local.hour != T0.hour  # the site's clock, not UTC
    on_paris = SiteConfig(**{**site().model_dump(), "timezone": "Europe/Paris"})
    with use_language("en"):
        utc_clip = render_clip(store, tracks[1], site=site(), blur=False)
        paris_clip = render_clip(store, tracks[1], site=on_paris, blur=False)
    assert not paris_clip.cached and paris_clip.sha256 != utc_clip.sha256
    band = (decode(paris_clip.data)[0][:12].max(axis=(0, 2)) > 150).nonzero()[0]
    assert band.size and band.max() > 100  # the longer caption ("... (Paris time) ...") is drawn
