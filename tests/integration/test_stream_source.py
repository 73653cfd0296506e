"""StreamSource against a real RTSP camera on loopback, killed and restarted.

The camera is Debian's ffmpeg playing a 20 s H.264 clip made from PETS09
(vtest.avi) in real time (-re -stream_loop -1 -c copy) and publishing it over
RTSP/TCP to `RtspRelay`, a minimal RTSP server in this module, from which the
StreamSource plays. Debian's ffmpeg 5.1 cannot serve RTSP by itself:
`-rtsp_flags listen` is a demuxer (input) flag, so `-f rtsp -rtsp_flags listen`
as an output is ignored and ffmpeg connects out ("Connection refused").
Killing the camera kills both ffmpeg and the relay (listening socket and
connections): the reader sees its connection die and then connections refused,
as with a real camera that goes off the network.
"""
from __future__ import annotations

import logging
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from vigie.errors import VideoError
from vigie.sources.stream import StreamSource, StreamUnavailable, mask_text, mask_url

FFMPEG = "/usr/bin/ffmpeg"
needs_ffmpeg = pytest.mark.skipif(
    not Path(FFMPEG).is_file(),
    reason="Debian's ffmpeg is missing (/usr/bin/ffmpeg): run `make setup` as root (apt-get install ffmpeg)",
)
CLIP_S = 20
CLIP_FPS = 25
UP_S = 4.0  # seconds the camera streams between outages in the fault test
GOP = 12  # a keyframe every ~0.5 s: a reader that reconnects decodes again within half a second


# --- a loopback RTSP camera ----------------------------------------------------------------
class RtspRelay:
    """A minimal RTSP server on 127.0.0.1: one publisher (ffmpeg: ANNOUNCE, SETUP,
    RECORD, RTP interleaved in the TCP connection) and any number of players
    (DESCRIBE, SETUP with TCP interleaved transport, PLAY), to which the
    publisher's interleaved RTP/RTCP packets are copied as they arrive."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sdp = b""
        self.publishing = threading.Event()
        self.players: dict[socket.socket, threading.Lock] = {}
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        for sock in [self.server, *self.conns]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket, data: bytes, lock: threading.Lock) -> None:
        with lock:
            conn.sendall(data)

    def _serve(self, conn: socket.socket) -> None:
        lock = threading.Lock()
        reader = conn.makefile("rb")
        publisher = False
        try:
            while True:
                first = reader.read(1)
                if not first:
                    return
                if first == b"$":  # interleaved packet: channel, 16-bit length, payload
                    head = reader.read(3)
                    payload = reader.read(int.from_bytes(head[1:3], "big"))
                    if publisher:
                        for player, player_lock in list(self.players.items()):
                            try:
                                self._send(player, first + head + payload, player_lock)
                            except OSError:
                                self.players.pop(player, None)
                    continue
                request = (first + reader.readline()).decode().split()
                headers = {}
                while (line := reader.readline().decode()) not in ("\r\n", "\n", ""):
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", 0)))
                method, uri = request[0], request[1]
                status, extra, content = "200 OK", "", b""
                if method == "OPTIONS":
                    extra = "Public: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN, GET_PARAMETER\r\n"
                elif method == "ANNOUNCE":
                    self.sdp, publisher = body, True
                elif method == "DESCRIBE":
                    if self.publishing.wait(5):
                        content = self.sdp
                        extra = f"Content-Base: {uri.rstrip('/')}/\r\nContent-Type: application/sdp\r\n"
                    else:
                        status = "404 Not Found"
                elif method == "SETUP":
                    if "interleaved" not in headers.get("transport", ""):
                        status = "461 Unsupported Transport"
                    else:
                        extra = f"Transport: {headers['transport']}\r\nSession: 4242;timeout=60\r\n"
                elif method in ("RECORD", "PLAY", "GET_PARAMETER", "TEARDOWN"):
                    extra = "Session: 4242\r\n"
                reply = f"RTSP/1.0 {status}\r\nCSeq: {headers.get('cseq', '0')}\r\n{extra}Content-Length: {len(content)}\r\n\r\n"
                self._send(conn, reply.encode() + content, lock)
                if method == "RECORD":
                    self.publishing.set()
                elif method == "PLAY":
                    self.players[conn] = lock
                elif method == "TEARDOWN":
                    return
        except (OSError, ValueError, IndexError):
            return
        finally:
            self.players.pop(conn, None)
            conn.close()


class LoopbackCamera:
    """ffmpeg publishing `clip` in real time, in a loop, through an RtspRelay on `port`."""

    def __init__(self, clip: Path, port: int) -> None:
        self.clip, self.port = clip, port
        self.url = f"rtsp://127.0.0.1:{port}/live"
        self.relay: RtspRelay | None = None
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> None:
        self.relay = RtspRelay(self.port)
        self.proc = subprocess.Popen(
            [FFMPEG, "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip),
             "-c", "copy", "-f", "rtsp", "-rtsp_transport", "tcp", f"rtsp://127.0.0.1:{self.port}/live"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not self.relay.publishing.wait(timeout):
            self.stop()
            raise RuntimeError(f"ffmpeg did not start publishing on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
            self.proc = None
        if self.relay is not None:
            self.relay.close()
            self.relay = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def h264_clip(vtest, tmp_path_factory) -> Path:
    """20 s of PETS09 as H.264 at 25 fps (its frames played faster than filmed), a keyframe every 12 frames."""
    if not Path(FFMPEG).is_file():
        pytest.skip("Debian's ffmpeg is missing (/usr/bin/ffmpeg): run `make setup` as root (apt-get install ffmpeg)")
    path = tmp_path_factory.mktemp("live") / "pets09-25fps.mp4"
    subprocess.run(
        [FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-i", str(vtest), "-frames:v", str(CLIP_S * CLIP_FPS),
         "-vf", f"setpts=N/{CLIP_FPS}/TB", "-r", str(CLIP_FPS), "-c:v", "libx264", "-preset", "veryfast",
         "-g", str(GOP), "-pix_fmt", "yuv420p", "-an", str(path)],
        check=True, timeout=120)
    return path


class Reader:
    """A StreamSource iterated in a thread, recording what it yields and reports."""

    def __init__(self, **kwargs) -> None:
        self.frames: list[tuple[int, datetime, float]] = []  # seq, timestamp, monotonic time received
        self.gaps: list[tuple[str, datetime, datetime, str]] = []
        self.statuses: list[tuple[str, str, str]] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.source = StreamSource(on_gap=lambda *g: self.gaps.append(g), on_status=lambda *s: self.statuses.append(s),
                                   stop_event=self.stop, **kwargs)
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
    reader = Reader(url=camera.url, camera_id="cam-live", analysis_fps=5.0, max_width=384,
                    connect_timeout_s=2.0, read_timeout_s=2.0, backoff_initial_s=0.25, backoff_max_s=0.5)
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
    print(f"\n{len(stamps)} frames kept of {reader.source.frames_decoded} decoded, {rate:.2f} analysed fps; gaps "
          + ", ".join(f"{(e - s).total_seconds():.2f} s (outage {(b - k).total_seconds():.2f} s)"
                      for (_, s, e, _), (k, b) in zip(reader.gaps, outages)))


@pytest.mark.slow
@needs_ffmpeg
def test_http_stream_and_its_end_as_a_drop(h264_clip):
    """ffmpeg serving MPEG-TS over HTTP to one client (-listen 1), then exiting: a drop, then refused."""
    port = free_port()
    server = subprocess.Popen(
        [FFMPEG, "-nostdin", "-loglevel", "error", "-re", "-i", str(h264_clip), "-t", "3", "-c", "copy",
         "-f", "mpegts", "-listen", "1", f"http://127.0.0.1:{port}/live.ts"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    statuses = []
    source = StreamSource(f"http://127.0.0.1:{port}/live.ts", "cam-http", read_timeout_s=2.0, max_attempts=2,
                          backoff_initial_s=0.1, on_status=lambda *s: statuses.append(s))
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
    source = StreamSource(url, "cam-gate", max_attempts=3, backoff_initial_s=0.05, backoff_max_s=0.1,
                          on_status=lambda *s: statuses.append(s))
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
    source = StreamSource(f"rtsp://127.0.0.1:{free_port()}/live", "cam-stop", backoff_initial_s=30.0,
                          backoff_max_s=60.0, stop_event=stop, on_status=lambda *s: statuses.append(s))
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
    source = StreamSource(str(clip), "cam-file", analysis_fps=None, pace_files=False, stop_event=stop,
                          on_gap=lambda *g: gaps.append(g), on_status=lambda *s: statuses.append(s))
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


def test_unsupported_url_is_refused_with_its_password_masked():
    with pytest.raises(VideoError, match=r"cam-x.*ftp://u:\*\*\*@host/x") as info:
        StreamSource("ftp://u:hunter22@host/x", "cam-x")
    assert "hunter22" not in str(info.value)


def test_password_masking():
    assert mask_url("rtsp://admin:pa:ss@10.0.0.9:554/Streaming/101") == "rtsp://admin:***@10.0.0.9:554/Streaming/101"
    assert mask_url("rtsp://10.0.0.9/live") == "rtsp://10.0.0.9/live"
    assert mask_url("rtsp://user@10.0.0.9/live") == "rtsp://user@10.0.0.9/live"
    assert mask_url("http://cam/video.mjpg?user=a&password=xyz&res=hd") == "http://cam/video.mjpg?user=a&password=***&res=hd"
    url = "rtsp://admin:Tr0ub4dor@cam.local/h264"
    assert mask_text(f"Connection refused: {url}", url) == "Connection refused: rtsp://admin:***@cam.local/h264"
    assert "Tr0ub4dor" not in mask_text("auth failed for Tr0ub4dor", url)
    source = StreamSource(url, "cam-m", max_attempts=1)
    assert "Tr0ub4dor" not in repr(source) and source.display_url == "rtsp://admin:***@cam.local/h264"


def test_settings_are_checked():
    for bad in (dict(analysis_fps=0), dict(read_timeout_s=0), dict(backoff_initial_s=5, backoff_max_s=1),
                dict(max_attempts=0)):
        with pytest.raises(ValueError):
            StreamSource("rtsp://127.0.0.1/x", "cam", **bad)

