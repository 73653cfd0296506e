"""A real RTSP camera on loopback for the live tests: Debian's ffmpeg plays a
clip made from PETS09 (vtest.avi) in real time (-re -stream_loop -1 -c copy)
and publishes it over RTSP/TCP to `RtspRelay`, a minimal RTSP server, from
which readers play. Debian's ffmpeg 5.1 cannot serve RTSP by itself:
`-rtsp_flags listen` is a demuxer (input) flag, so `-f rtsp -rtsp_flags listen`
as an output is ignored and ffmpeg connects out ("Connection refused").
Killing the camera kills both ffmpeg and the relay (listening socket and
connections): a reader sees its connection die and then connections refused,
as with a real camera that goes off the network.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import av
import pytest

FFMPEG = "/usr/bin/ffmpeg"
needs_ffmpeg = pytest.mark.skipif(
    not Path(FFMPEG).is_file(),
    reason="Debian's ffmpeg is missing (/usr/bin/ffmpeg): run `make setup` as root (apt-get install ffmpeg)",
)
CLIP_S = 20
CLIP_FPS = 25
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
            [
                FFMPEG,
                "-nostdin",
                "-loglevel",
                "error",
                "-re",
                "-stream_loop",
                "-1",
                "-i",
                str(self.clip),
                "-c",
                "copy",
                "-f",
                "rtsp",
                "-rtsp_transport",
                "tcp",
                f"rtsp://127.0.0.1:{self.port}/live",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
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


class Restarts(NamedTuple):
    """What run_through_restarts saw: the run's states, and the camera's stretches served (up, killed) and
    outages (killed, back), in UTC as the camera saw them."""

    states: dict
    served: list[tuple[datetime, datetime]]
    outages: list[tuple[datetime, datetime]]


def run_through_restarts(
    live, camera: LoopbackCamera, camera_id: str, up_s: float, outages_s: Sequence[float], said: list[str]
) -> Restarts:
    """Run `live` (a vigie.live.run.LiveRun reading `camera` as `camera_id`) while a thread kills and restarts
    the camera: once the run's worker has connected, `up_s` seconds of stream before each outage (of
    `outages_s` seconds each) and after the last; then the thread stops the run. `said` is what the run
    printed (named when the worker never connects). A failure in the thread fails the caller."""
    served: list[tuple[datetime, datetime]] = []
    outages: list[tuple[datetime, datetime]] = []
    failure: list[BaseException] = []

    def now() -> datetime:
        return datetime.now(timezone.utc)

    def faults() -> None:
        try:
            deadline = time.monotonic() + 60
            while not live.cameras[camera_id].connected:  # the worker loads its models first
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the worker never connected: {said[-5:]}")
                time.sleep(0.1)
            up = now()
            for down_s in outages_s:
                time.sleep(up_s)
                killed = now()
                camera.stop()
                served.append((up, killed))
                time.sleep(down_s)
                camera.start()
                up = now()
                outages.append((killed, up))
            time.sleep(up_s)
            served.append((up, now()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failure.append(exc)
        finally:
            live.stop()

    thread = threading.Thread(target=faults, daemon=True)
    thread.start()
    states = live.run(duration_s=150)
    thread.join(10)
    assert not failure, failure
    return Restarts(states, served, outages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_h264_clip(vtest: Path, path: Path, seconds: int = CLIP_S, fps: int = CLIP_FPS) -> Path:
    """`seconds` of PETS09 as H.264 at `fps` (its frames played faster than filmed), a keyframe every GOP frames."""
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(vtest),
            "-frames:v",
            str(seconds * fps),
            "-vf",
            f"setpts=N/{fps}/TB",
            "-r",
            str(fps),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            str(GOP),
            "-pix_fmt",
            "yuv420p",
            "-an",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    return path


def scaled_clip(src: Path, dst: Path, width: int, height: int) -> Path:
    """The clip at another size, as a camera's sub-stream sends it (H.264, the same key frames)."""
    subprocess.run(
        [FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-vf", f"scale={width}:{height}",
         "-c:v", "libx264", "-preset", "veryfast", "-g", str(GOP), "-pix_fmt", "yuv420p", "-an", str(dst)],
        check=True, timeout=120,
    )  # fmt: skip
    return dst


def recorded_clip(src, dst, frames: int = 210) -> None:
    """The first `frames` frames of the recording as H.264 at 7 fps, as filmed (210: 30 s), for `vigie run` to read as a stream."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=7)
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        for k, frame in enumerate(inp.decode(video=0)):
            if k >= frames:
                break
            for p in stream.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
