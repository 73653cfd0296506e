"""Segment files: a camera's stream cut into self-contained MPEG-TS files of a few seconds.

The worker that reads a camera (vigie.sources.stream.StreamSource) hands every packet it demuxes
to a `SegmentWriter` before decoding it. Copy: packets are muxed as they came, never decoded
again nor re-encoded (MaskedSegmentWriter, masked.py, is the exception: masks burned in).

Why MPEG-TS: a file cut off mid-write (crash, power loss) is still readable up to its last whole
188-byte packet, it needs no index at its end, and HLS players read it as it is.

Crash safety, step by step:
1. a segment is written under a temp name (`.NAME.part`) beside its final name, in the camera's folder;
2. it is closed at the first key frame `target_s` after its start (a segment must start on a key
   frame to decode alone), when the connection ends, or when the recorder stops;
3. closed, it is sealed whole under the media key (vigie.store.pictures.seal_file: unblurred video at
   rest is encrypted, docs/SECURITY.md finding 7) to its final name (its UTC start, as the connection's
   settled clock gives it; written to a temp file, synced, renamed), the clear `.part` file removed,
   then reported (`on_segment`); the one store writer indexes it (vigie.recording.recorder). A crash
   before the rename leaves a `.part` file in the clear (sealed and salvaged, or removed, at the next
   start: recorder.recover), never an index row. So the only segment ever in the clear on disk is the
   one being written (a few seconds);
4. a write that fails (disk full) discards the segment being written and says so; the next
   segment starts at the next key frame, once `retry_s` has passed.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import av

from vigie.errors import VigieError
from vigie.files import make_private
from vigie.store.pictures import Pictures
from vigie.times import iso

log = logging.getLogger(__name__)

PART = ".part"  # suffix of a segment being written
SUFFIX = ".ts"


@dataclass(frozen=True)
class ClosedSegment:
    """A segment file closed and renamed, to be indexed (the arguments of store.add_recording_segment)."""

    camera_id: str
    start: datetime
    end: datetime
    path: str  # relative to the data folder
    frames: int
    codec: str
    container: str
    width: int | None
    height: int | None
    masked: bool
    complete: bool = True

    def index_args(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def segment_name(start: datetime) -> str:
    """recordings/<camera>/<day>/<name>: the UTC start, sortable, one file per start."""
    return iso(start).replace(":", "").replace("-", "")[:-1] + "Z" + SUFFIX  # 20261207T004512.123456Z.ts


def camera_folder(data_dir: str | Path, camera_id: str) -> Path:
    return Path(data_dir) / "recordings" / camera_id


def part_name(final: Path) -> Path:
    return final.with_name(f".{final.name}{PART}")


class SegmentWriter:
    """Writes one camera's packets as segment files; not thread-safe (the reading thread calls it).

    on_segment(ClosedSegment): called after each rename. on_error(text): a segment lost (disk full, ...)."""

    masked = False
    wants_frames = False  # copy: packets only (MaskedSegmentWriter takes the decoded frames)

    def __init__(
        self,
        camera_id: str,
        data_dir: str | Path,
        on_segment: Callable[[ClosedSegment], None],
        on_error: Callable[[str], None] | None = None,
        target_s: float = 6.0,
        max_s: float = 20.0,
        retry_s: float = 5.0,
    ) -> None:
        self.camera_id = camera_id
        # The recorder may run in a worker process that never opened the store (which is what makes the data
        # folder private): segments are 0600 in 0700 folders whichever process writes them first.
        self.data_dir = make_private(data_dir)
        self.folder = camera_folder(data_dir, camera_id)
        self.pictures = Pictures(self.data_dir)  # segments at rest are sealed under the media key
        self.on_segment, self.on_error = on_segment, on_error
        self.target = timedelta(seconds=target_s)
        self.max = timedelta(seconds=max_s)  # a stream with no key frame for this long is cut anyway
        self.retry = timedelta(seconds=retry_s)
        self._in = None  # the connection's video stream (the template of every segment's stream)
        self._out = None  # the open segment's container
        self._ostream = None
        self._final: Path | None = None
        self._start: datetime | None = None
        self._last: datetime | None = None  # time of the open segment's last packet
        self._clock = None  # the connection's clock (StreamSource's): pts -> UTC, as tight as it has become
        self._pts: tuple[int, int, object] | None = None  # the open segment's lowest and highest pts, time base
        self._prev_end: datetime | None = None
        self._frames = 0
        self._failed_at: datetime | None = None
        self.segments_written = 0
        self.segments_lost = 0

    # --- the reading thread's calls --------------------------------------------------------------
    def connect(self, stream, clock=None) -> None:
        """A new connection: its first segment starts at its first key frame.

        clock.time_of(pts, time_base): the UTC time of a pts on this connection (None while unknown). A
        segment's times are read from it when the segment closes: by then the clock has settled (the frames
        buffered while the connection opened arrive in a burst, and make its first estimates late)."""
        self.disconnect()
        self._in, self._clock = stream, clock
        self._prev_end = None  # the connection's last segment's end: the next one starts there, not before

    def packet(self, packet, when: datetime) -> None:
        """A demuxed packet (copied), filmed at `when` (UTC)."""
        if self._in is None or packet.dts is None or packet.size == 0:
            return
        if packet.is_keyframe and (self._out is None or when - self._start >= self.target):
            self._close()
            self._open(when)
        elif self._out is not None and when - self._start >= self.max:
            self._close()  # no key frame for too long: what follows waits for one
        if self._out is None:
            return
        self._span(packet.pts, packet.time_base)
        try:
            packet.stream = self._ostream
            self._out.mux(packet)
        except (OSError, av.error.FFmpegError) as exc:
            self._fail(exc, when)
            return
        self._frames += 1
        self._last = when

    def disconnect(self) -> None:
        """The connection ended (a gap follows): the open segment is closed at its last frame."""
        self._close()
        self._in = self._clock = None

    def close(self) -> None:
        self.disconnect()

    # --- segments ------------------------------------------------------------------------------
    def _open(self, when: datetime) -> None:
        if self._failed_at is not None and when - self._failed_at < self.retry:
            return
        self._failed_at = None
        final = self.folder / when.strftime("%Y-%m-%d") / segment_name(when)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            self._out = av.open(str(part_name(final)), "w", format="mpegts")
            self._ostream = self._add_stream(self._out)
        except (OSError, av.error.FFmpegError) as exc:
            self._out, self._final = None, final
            self._fail(exc, when)
            return
        self._final, self._start, self._last, self._frames, self._pts = final, when, when, 0, None

    def _add_stream(self, out):
        return out.add_stream_from_template(self._in)

    def _frame_duration(self) -> timedelta:
        rate = self._in.average_rate if self._in is not None else None
        return timedelta(seconds=1 / float(rate)) if rate else timedelta(seconds=0.04)

    def _span(self, pts: int | None, time_base) -> None:
        """Widen the open segment's pts range (frames may come out of order: B-frames)."""
        if pts is None or time_base is None:
            return
        if self._pts is None:
            self._pts = (pts, pts, time_base)
        else:
            lo, hi, tb = self._pts
            self._pts = (min(lo, pts), max(hi, pts), tb)

    def _times(self) -> tuple[datetime, datetime]:
        """The open segment's [start, end): its first frame to just after its last, on the settled clock
        (else as the packets were timed when they came)."""
        step = self._frame_duration()
        if self._clock is not None and self._pts is not None:
            lo, hi, tb = self._pts
            first, last = self._clock.time_of(lo, tb), self._clock.time_of(hi, tb)
            if first is not None and last is not None:
                # The clock only ever moves earlier as it settles; segments of one connection are back to
                # back on the stream's own clock, so the boundary the previous one closed at stands.
                if self._prev_end is not None and first < self._prev_end:
                    first = self._prev_end
                return first, max(first, last + step)
        return self._start, self._last + step

    def _close(self) -> None:
        """Close, sync and rename the open segment (its final name: its settled start)."""
        if self._out is None:
            return
        out, frames = self._out, self._frames
        start, end = self._times()
        self._prev_end = end
        final = self._final.with_name(segment_name(start))
        (width, height), codec = self._dims(), self._codec_name()
        self._out = None
        part = part_name(self._final)
        try:
            out.close()
            if frames == 0:
                part.unlink(missing_ok=True)
                return
            # sealed whole to its final name (synced before the rename), then the clear file removed
            self.pictures.seal_file(part, final)
        except (OSError, VigieError, av.error.FFmpegError) as exc:
            self._fail(exc, end)
            return
        self.segments_written += 1
        rel = final.relative_to(self.data_dir).as_posix()
        self.on_segment(
            ClosedSegment(
                self.camera_id, start, max(end, start), rel, frames, codec, "mpegts", width, height, self.masked
            )
        )

    def _dims(self) -> tuple[int | None, int | None]:
        return self._in.codec_context.width, self._in.codec_context.height

    def _codec_name(self) -> str:
        return self._in.codec_context.name

    def _fail(self, exc: BaseException, when: datetime) -> None:
        """The segment being written is lost (its temp file removed); recording resumes after retry_s."""
        part = part_name(self._final) if self._final else None
        if self._out is not None:
            try:
                self._out.close()
            except (OSError, av.error.FFmpegError):
                pass
            self._out = None
        if part is not None:
            part.unlink(missing_ok=True)
        self.segments_lost += 1
        self._failed_at = when
        full = getattr(exc, "errno", None) == errno.ENOSPC or "No space" in str(exc)
        text = (
            f"camera {self.camera_id}: recording segment lost: "
            + ("the disk is full" if full else str(exc))
            + f"; recording resumes at a key frame in {self.retry.total_seconds():.0f} s"
        )
        log.error("%s", text)
        if self.on_error is not None:
            self.on_error(text)
