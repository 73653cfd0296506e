"""Live camera streams (RTSP, HTTP(S)), decoded with PyAV (FFmpeg), that survive
network faults.

`StreamSource` yields `Frame`s for as long as it runs: when the stream drops
(end of stream, read error, read timeout) it reconnects, records the outage
as a gap, and carries on numbering frames where
it stopped, so that stored points never collide across reconnections.

- Retries: a camera that was streaming and dropped is retried every
  `backoff_initial_s` for `fast_retry_s` (most outages are a switch or a
  camera rebooting, and every second waited is a second of video lost once
  it is back); after that, and for a camera that never connected, the wait
  doubles up to `backoff_max_s`, so that a camera off for hours costs little.
- Timestamps are UTC: the connection's anchor plus the frame's position by
  the stream's own clock (PTS from the connection's first frame). The anchor
  is the earliest (wall clock when decoded - position) seen so far: a frame
  is never decoded before it is filmed, so this is tight as soon as decoding
  has kept up once, and frames that waited in the buffers (while FFmpeg
  opened the stream, or the analysis fell behind) keep their real spacing.
  A live camera's PTS restart at every reconnection, so positions are only
  compared within one connection. (A camera clock slower than ours by
  50 ppm puts stamps 0.2 s behind per hour of one connection.) Timestamps
  are kept strictly increasing even if the clock steps back.
- Frames arrive at the stream's rate; about `analysis_fps` of them per second
  are kept, chosen by time (not by count), so a 25 fps or a 12.5 fps stream
  both give 5 analysed frames per second. The time is the stream's own clock
  (PTS from the connection's first frame), so that network jitter, or a burst
  of frames buffered while the reader was busy, does not change the rate.
  `seq` counts every decoded frame, kept or not, across reconnections.
- `lag_s`: how far decoding is behind the stream's clock on this connection
  (it grows when the analysis cannot keep up: frames are never skipped to
  catch up, they queue in the network buffers).
- Timeouts: FFmpeg's own socket timeouts (`timeout` for RTSP, `rw_timeout`
  for HTTP, both in microseconds in this FFmpeg; RTSP's old `stimeout` was
  removed in FFmpeg 5 and is silently ignored) and, for every protocol,
  PyAV's interrupt callback (`av.open(timeout=(open, read))`), so a server
  that accepts the connection and then says nothing cannot hang a reader.
- Passwords in URLs (rtsp://user:pass@host/...) never appear in a message,
  a status or a log line: `mask_url` replaces them.
- Plain files are accepted (for tests and benchmarks): they are played at
  their own frame rate, like a camera, and their end counts as a dropped
  stream (the file is opened again).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import av
import numpy as np

from vigie.errors import VideoError
from vigie.i18n import gettext
from vigie.sources.file import configure_decoder
from vigie.types import Frame

log = logging.getLogger(__name__)

GapCallback = Callable[[str, datetime, datetime, str], None]
StatusCallback = Callable[[str, str, str], None]

CONNECTING, CONNECTED, DROPPED, UNAVAILABLE = "connecting", "connected", "dropped", "unavailable"

_SECRET_KEYS = {
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "access_token",
    "auth",
    "key",
    "apikey",
    "api_key",
    "secret",
    "signature",
    "sig",
}
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]*)@")


class StreamUnavailable(VideoError):
    """A live stream that could not be (re)connected after the allowed attempts."""


def mask_url(url: str) -> str:
    """`url` with any password (user:pass@ or ?password=...) replaced by ***."""
    masked = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", str(url))
    try:
        parts = urlsplit(masked)
    except ValueError:
        return masked
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(k.lower() in _SECRET_KEYS for k, _ in pairs):
            query = urlencode([(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in pairs], safe="*")
            masked = urlunsplit(parts._replace(query=query))
    return masked


def mask_text(text: str, url: str) -> str:
    """`text` (an error message, typically FFmpeg's, which quotes the URL) with
    the URL's secrets masked, wherever and however they appear in it."""
    text = str(text).replace(str(url), mask_url(url))
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    parts = urlsplit(str(url)) if "://" in str(url) else None
    secrets = []
    if parts is not None:
        if parts.password:
            secrets.append(parts.password)
        secrets += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() in _SECRET_KEYS and v]
    for secret in secrets:
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _ConnectionClock:
    """One connection's clock: its first frame's pts, and the wall-clock time of its position 0."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.count = 0
        self.start_mono: float | None = None
        self.first_pts: int | None = None
        self.anchor: datetime | None = None

    def time_of(self, pts: int | None, time_base) -> datetime | None:
        """The UTC time of a pts of this connection, on the anchor as it stands (None while unknown)."""
        if pts is None or time_base is None or self.anchor is None or self.first_pts is None:
            return None
        return self.anchor + timedelta(seconds=float((pts - self.first_pts) * time_base))


class _Drop(Exception):
    """The open connection ended; the reason says how."""


class StreamSource:
    """Iterates the frames of one live camera, reconnecting for ever.

    Iteration ends only when `stop_event` is set (or `stop()` is called), or
    raises `StreamUnavailable` after `max_attempts` consecutive failed
    connections (None: never gives up). A connection counts as successful,
    and resets the attempt count and the backoff, once it delivers a frame.

    on_gap(camera_id, start_utc, end_utc, reason): called when frames flow
    again after a drop; start is the time of the last frame received, end the
    time of the first new one. on_status(camera_id, status, detail): status is
    "connecting", "connected", "dropped" or "unavailable". Callbacks run in
    the iterating thread; an exception in one is logged and ignored.
    """

    def __init__(
        self,
        url: str,
        camera_id: str,
        *,
        analysis_fps: float | None = 5.0,
        max_width: int | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        fast_retry_s: float = 60.0,
        max_attempts: int | None = None,
        on_gap: GapCallback | None = None,
        on_status: StatusCallback | None = None,
        stop_event: threading.Event | None = None,
        clock: Callable[[], datetime] = _utc_now,
        pace_files: bool = True,
        skip_loop_filter: bool = False,
        decode_threads: int = 1,
        recorder=None,
    ) -> None:
        if analysis_fps is not None and analysis_fps <= 0:
            raise ValueError(gettext("analysis_fps must be positive (or None to keep every frame)"))
        if connect_timeout_s <= 0 or read_timeout_s <= 0:
            raise ValueError(gettext("timeouts must be positive"))
        if backoff_initial_s <= 0 or backoff_max_s < backoff_initial_s:
            raise ValueError(gettext("backoff_initial_s must be positive and at most backoff_max_s"))
        if fast_retry_s < 0:
            raise ValueError(gettext("fast_retry_s must be zero or positive"))
        if max_attempts is not None and max_attempts < 1:
            raise ValueError(gettext("max_attempts must be at least 1 (or None: retry for ever)"))
        self.url = str(url)
        self.camera_id = camera_id
        self.display_url = mask_url(self.url)
        self.analysis_fps = analysis_fps
        self.max_width = max_width
        self.connect_timeout_s = float(connect_timeout_s)
        self.read_timeout_s = float(read_timeout_s)
        self.backoff_initial_s = float(backoff_initial_s)
        self.backoff_max_s = float(backoff_max_s)
        self.fast_retry_s = float(fast_retry_s)
        self.max_attempts = max_attempts
        self.on_gap = on_gap
        self.on_status = on_status
        self.stop_event = stop_event if stop_event is not None else threading.Event()
        self.clock = clock
        scheme = urlsplit(self.url).scheme.lower() if "://" in self.url else ""
        self.kind = {"rtsp": "rtsp", "rtsps": "rtsp", "http": "http", "https": "http"}.get(scheme)
        if self.kind is None:
            if scheme and scheme != "file":
                raise VideoError(
                    gettext(
                        "camera {camera_id}: unsupported stream URL {display_url} (rtsp://, http(s):// or a file path)",
                        camera_id=camera_id,
                        display_url=self.display_url,
                    )
                )
            self.kind = "file"
        self.pace = pace_files and self.kind == "file"
        # As FileSource: no H.264/HEVC deblocking (AnalysisConfig.fast_decode), decoding threads
        # (1: one camera per core, and no frame-threading delay on a live stream).
        self.skip_loop_filter = skip_loop_filter
        self.decode_threads = decode_threads
        # recorder (vigie.recording.segments.SegmentWriter): connect(stream), packet(packet, utc) for every
        # packet demuxed, frame(frame, utc) for every frame decoded if it wants_frames, disconnect().
        self.recorder = recorder
        # Counters, readable while iterating (by the same thread) or after.
        self.next_seq = 0  # seq of the next decoded frame: never reused, across reconnections
        self.frames_decoded = 0
        self.frames_yielded = 0
        self.connections = 0  # successful ones (that delivered a frame)
        self.gaps: list[tuple[datetime, datetime, str]] = []
        self.last_error = ""
        self.lag_s = 0.0  # how far decoding is behind the stream's own clock, on this connection
        self.max_lag_s = 0.0
        self._last_ts: datetime | None = None

    # --- public ---------------------------------------------------------------------
    def stop(self) -> None:
        self.stop_event.set()

    def __repr__(self) -> str:
        return f"StreamSource({self.display_url!r}, camera_id={self.camera_id!r})"

    def __iter__(self) -> Iterator[Frame]:
        failures = 0
        delay = self.backoff_initial_s
        gap_start: datetime | None = None  # time of the last frame before the current outage
        gap_reason = ""
        dropped_at: float | None = None  # monotonic time the last working connection dropped
        period = 1.0 / self.analysis_fps if self.analysis_fps else 0.0
        while not self.stop_event.is_set():
            self._status(CONNECTING, f"{self.display_url}" + (f" (attempt {failures + 1})" if failures else ""))
            got_frame = False
            try:
                container = self._open()
            except _Drop as exc:
                reason = str(exc)
            else:
                self._status(CONNECTED, self.display_url)
                try:
                    with container:
                        next_due = None  # stream time from which the next frame is kept
                        for frame, now, position in self._frames(container):
                            if not got_frame:
                                got_frame = True
                                failures, delay, dropped_at = 0, self.backoff_initial_s, None
                                self.connections += 1
                            if gap_start is not None:
                                self._gap(gap_start, now, gap_reason)
                                gap_start = None
                            if period:
                                # By the stream's own clock, so that network jitter and bursts of
                                # buffered frames do not change the rate: analysis_fps per second of video.
                                if next_due is None or not -period <= position - next_due <= period:
                                    next_due = position  # first frame, or a jump in the stream's clock
                                if position < next_due - 1e-3:  # (float sums of the period)
                                    continue  # decoded (the codec needs it) but not kept
                                next_due += period
                            seq = self.next_seq - 1
                            image, scale = self._convert(frame)
                            self.frames_yielded += 1
                            yield Frame(self.camera_id, seq, now, image, scale)
                            if self.stop_event.is_set():
                                return
                        reason = "end of stream"
                except _Drop as exc:
                    reason = str(exc)
            if self.stop_event.is_set():
                return
            self.last_error = reason
            if self._last_ts is not None and gap_start is None:
                gap_start, gap_reason = self._last_ts, reason
            if got_frame:
                dropped_at = time.monotonic()
                self._status(DROPPED, reason)
                log.warning("camera %s: stream %s dropped (%s); reconnecting", self.camera_id, self.display_url, reason)
                # Reconnect at once after a drop: the camera may be back already.
                continue
            failures += 1
            if self.max_attempts is not None and failures >= self.max_attempts:
                message = (
                    f"camera {self.camera_id}: stream {self.display_url} unavailable after "
                    f"{failures} failed connection attempt{'s' if failures > 1 else ''}; last error: {reason}"
                )
                self._status(UNAVAILABLE, message)
                log.error("%s", message)
                raise StreamUnavailable(message)
            fast = dropped_at is not None and time.monotonic() - dropped_at < self.fast_retry_s
            wait = self.backoff_initial_s if fast else delay
            log.info(
                "camera %s: cannot connect to %s (%s); retrying in %.1f s",
                self.camera_id,
                self.display_url,
                reason,
                wait,
            )
            if self.stop_event.wait(wait):
                return
            if not fast:
                delay = min(delay * 2, self.backoff_max_s)

    # --- internals ------------------------------------------------------------------
    def _options(self) -> dict[str, str]:
        if self.kind == "rtsp":
            return {
                "rtsp_transport": "tcp",  # interleaved in the RTSP connection: no lost UDP packets, one socket
                # Socket I/O timeout in microseconds (FFmpeg >= 5; `stimeout` before): a dead
                # server makes reads fail instead of blocking for ever.
                "timeout": str(int(self.read_timeout_s * 1e6)),
                "analyzeduration": "2000000",
            }
        if self.kind == "http":
            return {"rw_timeout": str(int(self.read_timeout_s * 1e6)), "analyzeduration": "2000000"}
        return {}

    def _open(self):
        timeout = None if self.kind == "file" else (self.connect_timeout_s, self.read_timeout_s)
        try:
            container = av.open(self.url, mode="r", options=self._options(), timeout=timeout)
        except av.error.FFmpegError as exc:
            raise _Drop(f"cannot open: {self._describe(exc)}") from None
        except (OSError, ValueError) as exc:
            raise _Drop(f"cannot open: {mask_text(exc, self.url)}") from None
        if not container.streams.video:
            container.close()
            raise _Drop("no video stream")
        return container

    def _describe(self, exc: BaseException) -> str:
        text = getattr(exc, "strerror", None) or str(exc)
        if isinstance(exc, (TimeoutError, av.error.ExitError)) or getattr(exc, "errno", None) == 110:
            text = f"timed out ({text})"
        return mask_text(text, self.url)

    def _frames(self, container) -> Iterator[tuple["av.VideoFrame", datetime, float]]:
        """The connection's decoded frames, each with its (strictly increasing) UTC time
        and its position in seconds by the stream's clock from the connection's first frame.

        Packets are demuxed here and decoded one by one, so that a recorder (vigie.recording) gets
        each packet as it came, after its frames, at its time on the same clock as theirs."""
        stream = configure_decoder(container.streams.video[0], self.skip_loop_filter, self.decode_threads)
        clock = _ConnectionClock(float(stream.average_rate or stream.guessed_rate or 25.0))
        recorder = self.recorder
        if recorder is not None:
            recorder.connect(stream, clock)
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    timed = self._time(frame, clock)
                    if timed is None:  # stopped while a file was being paced
                        return
                    now, offset = timed
                    if recorder is not None and recorder.wants_frames:
                        recorder.frame(frame, now)
                    yield frame, now, offset
                    if self.stop_event.is_set():
                        return
                if recorder is not None and packet.pts is not None:
                    # (no timed frame out of the decoder yet, its delay: now, near enough; a segment's
                    # times are read again from the settled clock when it closes)
                    when = clock.time_of(packet.pts, packet.time_base) or self.clock()
                    recorder.packet(packet, when)
        except av.error.FFmpegError as exc:
            raise _Drop(f"read failed: {self._describe(exc)}") from None
        except OSError as exc:
            raise _Drop(f"read failed: {mask_text(exc, self.url)}") from None
        finally:
            if recorder is not None:
                recorder.disconnect()  # the open segment ends at its last frame: a gap follows

    def _time(self, frame: "av.VideoFrame", c: "_ConnectionClock") -> tuple[datetime, float] | None:
        """The frame's UTC time and its position on the connection's clock (and pacing, for files);
        None when stopped while pacing."""
        c.count += 1
        mono = time.monotonic()
        if c.start_mono is None:
            c.start_mono = mono
        # Position in the stream by its own clock, to measure how far decoding lags it
        # (and to play files at their rate).
        if frame.pts is not None and frame.time_base is not None:
            if c.first_pts is None:
                c.first_pts = frame.pts
            offset = float((frame.pts - c.first_pts) * frame.time_base)
        else:
            offset = (c.count - 1) / c.rate
        if self.pace:
            ahead = c.start_mono + offset - mono
            if ahead > 0 and self.stop_event.wait(ahead):
                return None
            mono = time.monotonic()
        self.lag_s = max(0.0, (mono - c.start_mono) - offset)
        self.max_lag_s = max(self.max_lag_s, self.lag_s)
        # When the frame was filmed: anchor + its position by the stream's clock, the
        # anchor being the earliest wall time - position seen on this connection (a
        # frame cannot be decoded before it was filmed, so every frame bounds the
        # anchor from above; the bound is tight whenever decoding has caught up). So a
        # burst of frames that waited in the buffers (while FFmpeg opened the stream,
        # or the analysis fell behind for a moment) keeps its real spacing.
        wall = self.clock()
        candidate = wall - timedelta(seconds=offset)
        c.anchor = candidate if c.anchor is None else min(c.anchor, candidate)
        now = c.anchor + timedelta(seconds=offset)
        if self._last_ts is not None and now <= self._last_ts:
            now = self._last_ts + timedelta(microseconds=1)
        self._last_ts = now
        self.next_seq += 1
        self.frames_decoded += 1
        return now, offset

    def _convert(self, frame: "av.VideoFrame") -> tuple[np.ndarray, float]:
        """BGR pixels, shrunk in the colour conversion pass where wider than max_width."""
        if self.max_width and frame.width > self.max_width:
            height = 2 * round(frame.height * self.max_width / frame.width / 2)
            small = frame.reformat(width=self.max_width, height=height, format="bgr24", interpolation="AREA")
            return np.ascontiguousarray(small.to_ndarray()), frame.width / self.max_width
        return np.ascontiguousarray(frame.to_ndarray(format="bgr24")), 1.0

    def _gap(self, start: datetime, end: datetime, reason: str) -> None:
        self.gaps.append((start, end, reason))
        log.warning(
            "camera %s: no frames from %s to %s (%.1f s): %s",
            self.camera_id,
            start.isoformat(),
            end.isoformat(),
            (end - start).total_seconds(),
            reason,
        )
        if self.on_gap is not None:
            try:
                self.on_gap(self.camera_id, start, end, reason)
            except Exception:  # a failing listener must not stop the camera
                log.exception("camera %s: on_gap callback failed", self.camera_id)

    def _status(self, status: str, detail: str) -> None:
        log.debug("camera %s: %s %s", self.camera_id, status, detail)
        if self.on_status is not None:
            try:
                self.on_status(self.camera_id, status, detail)
            except Exception:
                log.exception("camera %s: on_status callback failed", self.camera_id)


__all__ = [
    "StreamSource",
    "StreamUnavailable",
    "mask_url",
    "mask_text",
    "CONNECTING",
    "CONNECTED",
    "DROPPED",
    "UNAVAILABLE",
]
