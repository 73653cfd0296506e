"""StreamSource against a real RTSP camera on loopback (tests/loopback_camera.py:
Debian's ffmpeg publishing a 20 s H.264 clip of PETS09 through a minimal RTSP
relay), killed and restarted; and against files and servers that misbehave."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from loopback_camera import FFMPEG, LoopbackCamera, free_port, make_h264_clip, needs_ffmpeg

from vigie.errors import VideoError
from vigie.sources.stream import StreamSource, StreamUnavailable, mask_text, mask_url

# serial: times reconnections and outages in real time, which a second test process would slow.
pytestmark = pytest.mark.serial
UP_S = 4.0  # seconds the camera streams between outages in the fault test


@pytest.fixture(scope="module")
def h264_clip(vtest, tmp_path_factory) -> Path:
    if not Path(FFMPEG).is_file():
        pytest.skip("Debian's ffmpeg is missing (/usr/bin/ffmpeg): run `make setup` as root (apt-get install ffmpeg)")
    return make_h264_clip(vtest, tmp_path_factory.mktemp("live") / "pets09-25fps.mp4")


class Reader:
    """A StreamSource iterated in a thread, recording what it yields and reports."""

    def __init__(self, **kwargs) -> None:
        self.frames: list[tuple[int, datetime, float]] = []  # seq, timestamp, monotonic time received
        self.gaps: list[tuple[str, datetime, datetime, str]] = []
        self.statuses: list[tuple[str, str, str]] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.source = StreamSource(
            on_gap=lambda *g: self.gaps.append(g),
            on_status=lambda *s: self.statuses.append(s),
            stop_event=self.stop,
            **kwargs,
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for frame in self.source:
                self.frames.append((frame.seq, frame.timestamp, time.monotonic()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def wait_frames(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        target = len(self.frames) + n
        while time.monotonic() < deadline and self.error is None:
            if len(self.frames) >= target:
                return True
            time.sleep(0.05)
        return False

    def close(self, timeout: float = 10.0) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the source did not stop"


# --- the fault test --------------------------------------------------------------------------
@pytest.mark.slow
@needs_ffmpeg
def test_survives_three_camera_restarts(h264_clip):
    camera = LoopbackCamera(h264_clip, free_port())
    camera.start()
    reader = Reader(
        url=camera.url,
        camera_id="cam-live",
        analysis_fps=5.0,
        max_width=384,
        connect_timeout_s=2.0,
        read_timeout_s=2.0,
        backoff_initial_s=0.25,
        backoff_max_s=0.5,
    )
    outages = []  # (kill time, back time), UTC
    try:
        assert reader.wait_frames(3, timeout=15), f"no frames from the camera: {reader.error or reader.statuses}"
        time.sleep(UP_S)
        for down_s in (3.0, 4.0, 3.0):
            killed = datetime.now(timezone.utc)
            camera.stop()
            time.sleep(down_s)
            camera.start()
            outages.append((killed, datetime.now(timezone.utc)))
            # Frames flow again after each restart.
            assert reader.wait_frames(3, timeout=10), f"no frames after restart {len(outages)}: {reader.statuses[-3:]}"
            time.sleep(UP_S)
    finally:
        reader.close()
        camera.stop()
    assert reader.error is None, reader.error

    # Exactly three gaps, each as long as the real outage to within 2 s, each around it.
    assert len(reader.gaps) == 3, reader.gaps
    for (cam, start, end, reason), (killed, back) in zip(reader.gaps, outages):
        assert cam == "cam-live" and reason
        real, seen = (back - killed).total_seconds(), (end - start).total_seconds()
        assert abs(seen - real) < 2.0, (seen, real, reason)
        assert start <= killed + timedelta(seconds=0.5) and end >= back
    # Statuses: one drop per outage, connected after each.
    kinds = [s for _, s, _ in reader.statuses]
    assert kinds.count("dropped") == 3 and kinds.count("connected") >= 4 and "unavailable" not in kinds
    # seq never repeats, timestamps increase, counting goes on across reconnections.
    seqs = [s for s, _, _ in reader.frames]
    stamps = [t for _, t, _ in reader.frames]
    assert len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
    assert all(b > a for a, b in zip(stamps, stamps[1:]))
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in stamps)
    # ~5 analysed frames per second of flowing stream, from a 25 fps stream. Frames are chosen
    # by the stream's clock and stamped when decoded: the ~0.2 s of frames FFmpeg buffers while
    # it opens a connection come out in a burst, so each connection's first second is left out.
    bounds = [stamps[0]] + [end for _, _, end, _ in reader.gaps] + [stamps[-1] + timedelta(seconds=1)]
    kept, flowing = 0, 0.0
    for start, stop in zip(bounds, bounds[1:]):
        segment = [t for t in stamps if start + timedelta(seconds=1) <= t < stop]
        kept += len(segment) - 1
        flowing += (segment[-1] - segment[0]).total_seconds()
    rate = kept / flowing
    assert 4.5 <= rate <= 5.5, (rate, kept, flowing)
    assert reader.source.frames_decoded > 4 * len(stamps)  # every frame decoded, one in five kept
    print(
        f"\n{len(stamps)} frames kept of {reader.source.frames_decoded} decoded, {rate:.2f} analysed fps; gaps "
        + ", ".join(
            f"{(e - s).total_seconds():.2f} s (outage {(b - k).total_seconds():.2f} s)"
            for (_, s, e, _), (k, b) in zip(reader.gaps, outages)
        )
    )


@pytest.mark.slow
@needs_ffmpeg
def test_http_stream_and_its_end_as_a_drop(h264_clip):
    """ffmpeg serving MPEG-TS over HTTP to one client (-listen 1), then exiting: a drop, then refused."""
    port = free_port()
    server = subprocess.Popen(
        [
            FFMPEG,
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-i",
            str(h264_clip),
            "-t",
            "3",
            "-c",
            "copy",
            "-f",
            "mpegts",
            "-listen",
            "1",
            f"http://127.0.0.1:{port}/live.ts",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    statuses = []
    source = StreamSource(
        f"http://127.0.0.1:{port}/live.ts",
        "cam-http",
        read_timeout_s=2.0,
        max_attempts=2,
        backoff_initial_s=0.1,
        on_status=lambda *s: statuses.append(s),
    )
    frames = []
    try:
        with pytest.raises(StreamUnavailable, match="cam-http"):
            for frame in source:
                frames.append(frame)
    finally:
        server.kill()
        server.wait()
    assert 8 <= len(frames) <= 20  # ~3 s at 5 frames/s
    assert [s for _, s, _ in statuses].count("dropped") == 1
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})


# --- cameras that never answer --------------------------------------------------------------
@pytest.mark.slow
def test_camera_that_refuses_connections_is_unavailable_after_max_attempts(caplog):
    url = f"rtsp://admin:Sup3rSecret@127.0.0.1:{free_port()}/live"
    statuses = []
    source = StreamSource(
        url,
        "cam-gate",
        max_attempts=3,
        backoff_initial_s=0.05,
        backoff_max_s=0.1,
        on_status=lambda *s: statuses.append(s),
    )
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG), pytest.raises(StreamUnavailable) as info:
        next(iter(source))
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert isinstance(info.value, VideoError)
    assert "cam-gate" in message and "rtsp://admin:***@127.0.0.1" in message and "/live" in message
    assert "3 failed connection attempts" in message and "refused" in message.lower()
    assert [s for _, s, _ in statuses] == ["connecting"] * 3 + ["unavailable"]
    everything = message + repr(statuses) + caplog.text
    assert "Sup3rSecret" not in everything


@pytest.mark.slow
def test_a_server_that_accepts_and_stays_silent_times_out():
    server = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    url = f"rtsp://viewer:pw-123@127.0.0.1:{server.getsockname()[1]}/live"
    source = StreamSource(url, "cam-mute", connect_timeout_s=1.0, read_timeout_s=1.0, max_attempts=1)
    started = time.monotonic()
    try:
        with pytest.raises(StreamUnavailable) as info:
            next(iter(source))
    finally:
        server.close()
    assert time.monotonic() - started < 4  # no hang: FFmpeg's socket timeout (and PyAV's) fire
    assert "cam-mute" in str(info.value) and "pw-123" not in str(info.value)


@pytest.mark.slow
def test_stop_event_set_during_backoff_stops_promptly():
    stop = threading.Event()
    statuses = []
    source = StreamSource(
        f"rtsp://127.0.0.1:{free_port()}/live",
        "cam-stop",
        backoff_initial_s=30.0,
        backoff_max_s=60.0,
        stop_event=stop,
        on_status=lambda *s: statuses.append(s),
    )
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    assert list(source) == []
    assert time.monotonic() - started < 1.5
    assert statuses and statuses[0][1] == "connecting"


# --- without a server ------------------------------------------------------------------------
def test_file_end_counts_as_a_drop_and_seq_goes_on(clip):
    """A file plays as a camera; its end is a dropped stream, opened again; seq never restarts."""
    gaps, statuses = [], []
    stop = threading.Event()
    source = StreamSource(
        str(clip),
        "cam-file",
        analysis_fps=None,
        pace_files=False,
        stop_event=stop,
        on_gap=lambda *g: gaps.append(g),
        on_status=lambda *s: statuses.append(s),
    )
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 150:
            stop.set()
    assert [f.seq for f in frames] == list(range(150))
    assert all(b.timestamp > a.timestamp for a, b in zip(frames, frames[1:]))
    assert len(gaps) == 2 and all(reason == "end of stream" for *_, reason in gaps)
    assert [s for _, s, _ in statuses].count("dropped") == 2
    assert frames[0].image.shape == (576, 768, 3)


def test_a_dropped_camera_is_retried_at_once_then_with_growing_waits(clip, tmp_path):
    """A camera that was streaming is retried every backoff_initial_s for fast_retry_s after it
    drops (the outage is usually short, and every second waited is video lost), then with
    doubling waits up to backoff_max_s. Here the camera is a file deleted once it has played."""
    path = tmp_path / "camera.avi"
    shutil.copy(clip, path)
    attempts, stop = [], threading.Event()

    def on_status(cam, status, detail):
        if status == "dropped":
            path.unlink(missing_ok=True)  # the camera goes away
        elif status == "connecting":
            attempts.append(time.monotonic())
            if len(attempts) >= 14:
                stop.set()

    source = StreamSource(
        str(path),
        "cam-gone",
        analysis_fps=None,
        pace_files=False,
        stop_event=stop,
        backoff_initial_s=0.1,
        backoff_max_s=0.8,
        fast_retry_s=0.6,
        on_status=on_status,
    )
    for _ in source:
        pass
    dropped = attempts[1]  # reconnection is tried at once after the drop
    waits = [b - a for a, b in zip(attempts[1:], attempts[2:])]
    fast = [w for t, w in zip(attempts[1:], waits) if t - dropped < 0.6 - 0.05]
    slow = [w for t, w in zip(attempts[1:], waits) if t - dropped >= 0.6 + 0.05]
    assert len(fast) >= 4 and all(w < 0.25 for w in fast), waits
    # after the fast window: 0.1, 0.2, 0.4, then 0.8 (the cap) each time
    assert slow[-3:] == pytest.approx([0.8] * 3, abs=0.15) and slow[0] < 0.3, waits
    assert all(b >= a - 0.1 for a, b in zip(slow, slow[1:])), waits


def test_unsupported_url_is_refused_with_its_password_masked():
    with pytest.raises(VideoError, match=r"cam-x.*ftp://u:\*\*\*@host/x") as info:
        StreamSource("ftp://u:hunter22@host/x", "cam-x")
    assert "hunter22" not in str(info.value)


def test_password_masking():
    assert mask_url("rtsp://admin:pa:ss@10.0.0.9:554/Streaming/101") == "rtsp://admin:***@10.0.0.9:554/Streaming/101"
    assert mask_url("rtsp://10.0.0.9/live") == "rtsp://10.0.0.9/live"
    assert mask_url("rtsp://user@10.0.0.9/live") == "rtsp://user@10.0.0.9/live"
    assert (
        mask_url("http://cam/video.mjpg?user=a&password=xyz&res=hd")
        == "http://cam/video.mjpg?user=a&password=***&res=hd"
    )
    url = "rtsp://admin:Tr0ub4dor@cam.local/h264"
    assert mask_text(f"Connection refused: {url}", url) == "Connection refused: rtsp://admin:***@cam.local/h264"
    assert "Tr0ub4dor" not in mask_text("auth failed for Tr0ub4dor", url)
    source = StreamSource(url, "cam-m", max_attempts=1)
    assert "Tr0ub4dor" not in repr(source) and source.display_url == "rtsp://admin:***@cam.local/h264"


def test_settings_are_checked():
    for bad in (
        dict(analysis_fps=0),
        dict(read_timeout_s=0),
        dict(backoff_initial_s=5, backoff_max_s=1),
        dict(max_attempts=0),
        dict(fast_retry_s=-1),
    ):
        with pytest.raises(ValueError):
            StreamSource("rtsp://127.0.0.1/x", "cam", **bad)
