"""Playback runs on through a recording whose frames are not one period apart (issue 21): a camera that drops
frames, jitters its timestamps, stops for a moment, repeats a timestamp and resets its clock mid-segment.

The recording: PETS09's first frames (real footage, 320 x 240), each showing its number (media.recorded), encoded
as an MPEG-TS segment with those irregular timestamps, indexed as the recorder indexes one. Played from several
moments, every frame from the moment on comes out once, in order, up to the segment's end, each at its own time
(its pts), not at its rank times one frame period; the stream's first moment is its first frame's."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media.recorded import GREY, H, W, number_of, write_number
from media.test_clips import site as clip_site

from vigie.media.playback import stream_playback
from vigie.store.sqlite import SQLiteStore

TB = Fraction(1, 90000)
NOMINAL = 10  # frames a second, as the camera says
RESET_AT = 60  # from this frame on, the camera's clock starts again from 0 (a reset): pts go back


def schedule() -> list[tuple[int, float]]:
    """(frame number, its real time in s): every 7th frame dropped, 0.6 s without any (frames 30-35), one
    frame sent twice, jitter of +-20 ms."""
    rng = np.random.default_rng(7)
    out = []
    for n in range(90):
        if 30 <= n < 36 or n % 7 == 3:
            continue
        out.append((n, n / NOMINAL + (rng.uniform(-0.02, 0.02) if n else 0.0)))
        if n == 44:
            out.append((n, out[-1][1]))  # the same frame again, at the same time
    return out


def pets_frames(vtest: Path, count: int) -> list[np.ndarray]:
    frames = []
    with av.open(str(vtest)) as c:
        for frame in c.decode(video=0):
            frames.append(frame.to_ndarray(format="bgr24", width=W, height=H))
            if len(frames) == count:
                break
    return frames


def encoded(frames: list[tuple[np.ndarray, int]]) -> bytes:
    """MPEG-TS of H.264 with these (picture, pts at 90 kHz)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as c:
        s = c.add_stream("libx264", rate=NOMINAL, options={"preset": "ultrafast", "crf": "18", "bf": "0"})
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.gop_size = NOMINAL
        s.codec_context.time_base = TB
        for image, pts in frames:
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = pts, TB
            c.mux(s.encode(frame))
        c.mux(s.encode(None))
    return buf.getvalue()


def irregular_segment(vtest: Path) -> tuple[bytes, list[tuple[int, float]]]:
    """The segment's bytes: two runs of MPEG-TS back to back, the second's clock starting again from 0 (a
    camera's reset, as a copied stream carries it), and the schedule it was filmed on."""
    times = schedule()
    pictures = pets_frames(vtest, 90)
    reset_t = next(t for n, t in times if n == RESET_AT)
    runs: list[list] = [[], []]
    last = -1
    for n, t in times:
        image = pictures[n].copy()
        image[:44] = GREY  # a plain band for the number
        write_number(image, n)
        run = runs[n >= RESET_AT]
        pts = round((t - (reset_t if n >= RESET_AT else 0)) / TB)
        pts = max(pts, last + 1) if run and n < RESET_AT else pts  # the repeat: the muxer wants it (just) later
        run.append((image, pts))
        last = pts
    return encoded(runs[0]) + encoded(runs[1]), times


@pytest.fixture
def recorded(vtest, tmp_path):
    store = SQLiteStore(tmp_path / "var")
    site = clip_site().model_copy(update={"language": "en"})
    store.upsert_cameras(site.cameras)
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    data, times = irregular_segment(vtest)
    path = Path(store.data_dir) / "recordings" / "cam-a" / "irregular.ts"
    path.parent.mkdir(parents=True)
    store.pictures.write_file(path, data)  # sealed at rest, as the recorder writes them
    end = t0 + timedelta(seconds=times[-1][1] + 1 / NOMINAL)
    store.add_recording_segment("cam-a", t0, end, path, len(times), "h264", "mpegts", W, H)
    yield store, site, t0, times
    store.close()


def played(store, site, at: datetime) -> tuple[datetime, list[tuple[int, float]]]:
    stream = stream_playback(store, site, "cam-a", at, blur=False)
    data = b"".join(stream.chunks)
    with av.open(io.BytesIO(data)) as c:
        return stream.start, [
            (number_of(f.to_ndarray(format="bgr24")), float(f.pts * f.time_base)) for f in c.decode(video=0)
        ]


@pytest.mark.timeout(120)
def test_playback_runs_on_through_dropped_jittered_repeated_and_reset_timestamps(recorded):
    store, site, t0, times = recorded
    unique = []
    for n, t in times:
        if not unique or unique[-1][0] != n:
            unique.append((n, t))
    before_reset = [(n, t) for n, t in unique if n < RESET_AT]
    for from_s in (0.0, 2.05, 3.2, 5.0):
        start, out = played(store, site, t0 + timedelta(seconds=from_s))
        wanted = [n for n, t in unique if n >= RESET_AT or t >= from_s - 1e-3]
        # Every frame from the moment on, once, in order, up to the segment's end: nothing stops it.
        assert [n for n, _ in out] == wanted, from_s
        # Before the reset each frame is at its own time from the stream's first frame, which is its start.
        first_t = next(t for n, t in unique if n == wanted[0])
        assert abs((start - t0).total_seconds() - first_t) < 0.002
        for (n, at_s), (m, t) in zip(out, [(n, t) for n, t in before_reset if n >= wanted[0]]):
            assert n == m and abs(at_s - (t - first_t)) < 0.002, (n, at_s, t - first_t)
        # The hole of 0.6 s (frames 30-35) is kept: the video is not shortened by the frames the camera dropped.
        times_of = dict(out)
        if 29 in times_of and 36 in times_of:
            assert times_of[36] - times_of[29] > 0.6
        # After the reset the frames go on, one frame period after the last one before it, then at their pace.
        after = [at_s for n, at_s in out if n >= RESET_AT]
        assert all(b > a for a, b in zip(after, after[1:]))
        assert out[-1][1] > out[0][1]


@pytest.mark.timeout(120)
def test_a_file_analysed_without_a_site_frame_rate_plays_at_the_times_filesource_gave_its_frames(vtest, tmp_path):
    """A camera's file with dropped and jittered frames, analysed (`vigie analyze`: FileSource dates frames by
    their pts when the site gives no true frame rate): played from a moment, it gives every frame from there, each
    at the time the analysis gave it, where it used to count frames at the container's rate (and stop at the
    first frame off that grid)."""
    from vigie.sources.file import FileSource
    from vigie.types import TrackPoint, TrackSummary

    times = [(n, t) for n, t in schedule() if n < RESET_AT]
    unique = [(n, t) for k, (n, t) in enumerate(times) if not k or times[k - 1][0] != n]
    pictures = pets_frames(vtest, RESET_AT)
    frames, last = [], -1
    for n, t in unique:
        image = pictures[n].copy()
        image[:44] = GREY
        write_number(image, n)
        last = max(round(t / TB), last + 1)
        frames.append((image, last))
    video = tmp_path / "camera.ts"
    video.write_bytes(encoded(frames))
    site = clip_site(rate=None)  # no true frame rate: the file's own timestamps date its frames
    t0 = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(microsecond=0)
    dated = [(f.seq, f.timestamp) for f in FileSource(video, "cam-a", recording_start=t0)]
    assert len(dated) == len(unique)
    # A track seen from frame 3 on, its points dated as the analysis dated them (the playback's anchor).
    points = [TrackPoint(seq=s, timestamp=at, xyxy=(10.0, 60.0, 40.0, 120.0), confidence=0.9) for s, at in dated[3:20]]
    track = TrackSummary(
        camera_id="cam-a", track_no=1, class_name="person", first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp, points=points, median_height_px=60.0, median_width_px=30.0,
    )  # fmt: skip
    with SQLiteStore(tmp_path / "var") as store:
        store.upsert_cameras(site.cameras)
        aid = store.begin_analysis("cam-a", str(video), "ab" * 32)
        store.add_tracks(aid, [track]).result()
        store.finish_analysis(aid, "complete", len(dated), len(dated))
        for k in (0, 10, 25):
            seq, at = dated[k]
            start, out = played(store, site, at)
            wanted = [unique[s][0] for s, _ in dated[k:]]
            assert [n for n, _ in out] == wanted, k  # every frame from there, to the end of the file
            assert abs((start - at).total_seconds()) < 0.002
            for (n, shown), (_, when) in zip(out, dated[k:]):
                assert abs(shown - (when - at).total_seconds()) < 0.002, (n, shown)
