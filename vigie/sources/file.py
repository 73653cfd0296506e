"""Recorded video files, decoded with PyAV (FFmpeg).

Every frame gets its camera id, its sequence number in the file and a UTC
timestamp: the recording start from the site file plus the frame's offset,
taken from the container's time base (or from the true frame rate where the
site file says the container's is wrong, as with PETS09's 10-for-7 fps).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from vigie.errors import VideoError
from vigie.i18n import _
from vigie.types import Frame

log = logging.getLogger(__name__)


def configure_decoder(stream, skip_loop_filter: bool, threads: int):
    """Set up a PyAV video stream's decoder (files and live streams alike); returns the stream."""
    if skip_loop_filter:
        # H.264/HEVC deblocking is a quarter of their decoding time; without
        # it frames differ from the encoder's by ~42 dB PSNR, invisible at
        # the detector's input size (bench/pipeline_speed.py measures both).
        stream.codec_context.options = {"skip_loop_filter": "all"}
    if threads != 1:
        stream.thread_type = "AUTO"
    stream.codec_context.thread_count = threads
    return stream


@dataclass
class VideoInfo:
    path: Path
    width: int
    height: int
    frame_rate: float  # the one used for timestamps
    declared_frames: int  # 0 when the container does not say
    codec: str


class FileSource:
    """Iterates the frames of one video file.

    Errors are raised as VideoError naming the file (and the frame, for decode
    errors). Frames decoded before an error have already been yielded, so the
    pipeline keeps what it could analyse.
    """

    def __init__(
        self,
        path: str | Path,
        camera_id: str,
        recording_start: datetime | None = None,
        frame_rate: float | None = None,
        frame_step: int = 1,
        decode_threads: int = 0,
        skip_loop_filter: bool = False,
        max_width: int | None = None,
        coordinate_width: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.camera_id = camera_id
        self.frame_step = max(1, int(frame_step))
        self.decode_threads = decode_threads
        self.frame_rate_override = frame_rate
        self.skip_loop_filter = skip_loop_filter
        self.max_width = max_width
        # Width of the pixel grid stored coordinates use: the camera's main
        # stream when this file is its smaller sub-stream; this file otherwise.
        self.coordinate_width = coordinate_width
        if not self.path.exists():
            raise VideoError(_("video file {path} does not exist", path=self.path))
        if not self.path.is_file():
            raise VideoError(_("video path {path} is not a file", path=self.path))
        self.info = self._probe(frame_rate)
        if recording_start is None:
            # No recording start in the site file: the file's modification time
            # is the best guess a recorder leaves (it is written as recording ends).
            mtime = datetime.fromtimestamp(self.path.stat().st_mtime, tz=timezone.utc)
            duration = self.info.declared_frames / self.info.frame_rate if self.info.declared_frames else 0.0
            recording_start = mtime - timedelta(seconds=duration)
        self.recording_start = recording_start.astimezone(timezone.utc)
        self.frames_decoded = 0
        self._first_pts: int | None = None

    def _open(self):
        try:
            return av.open(str(self.path), mode="r")
        except av.error.InvalidDataError as exc:
            raise VideoError(
                _("{path} is not a video file that can be decoded ({value})", path=self.path, value=exc.strerror or exc)
            ) from None
        except (av.error.FFmpegError, ValueError) as exc:
            raise VideoError(_("{path} cannot be opened as a video: {exc}", path=self.path, exc=exc)) from None

    def _probe(self, frame_rate: float | None) -> VideoInfo:
        with self._open() as container:
            if not container.streams.video:
                raise VideoError(_("{path} has no video stream", path=self.path))
            stream = container.streams.video[0]
            rate = float(frame_rate or stream.average_rate or stream.guessed_rate or 25.0)
            return VideoInfo(
                path=self.path,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                frame_rate=rate,
                declared_frames=int(stream.frames or 0),
                codec=stream.codec_context.name,
            )

    def _timestamp(self, frame: "av.VideoFrame", seq: int, use_pts: bool) -> datetime:
        if use_pts and frame.pts is not None and frame.time_base is not None:
            # Containers such as MPEG-TS keep the recorder's running clock:
            # the offset counts from the first frame's time, not from zero.
            if self._first_pts is None:
                self._first_pts = frame.pts
            offset = float((frame.pts - self._first_pts) * frame.time_base)
        else:
            offset = seq / self.info.frame_rate
        return self.recording_start + timedelta(seconds=offset)

    def __iter__(self) -> Iterator[Frame]:
        # Where the site file overrides the frame rate, the container's clock is
        # wrong by definition, so time comes from the sequence number instead.
        use_pts = self.frame_rate_override is None
        seq = -1
        self._first_pts = None
        with self._open() as container:
            stream = configure_decoder(container.streams.video[0], self.skip_loop_filter, self.decode_threads)
            try:
                for frame in container.decode(stream):
                    seq += 1
                    self.frames_decoded = seq + 1
                    if seq % self.frame_step:
                        continue  # decoded (the codec needs it) but not converted nor analysed
                    image, scale = self._convert(frame)
                    yield Frame(self.camera_id, seq, self._timestamp(frame, seq, use_pts), image, scale)
            except av.error.FFmpegError as exc:
                raise VideoError(
                    _("{path}: decoding failed at frame {value}: {exc}", path=self.path, value=seq + 1, exc=exc)
                ) from None
        declared = self.info.declared_frames
        if declared and self.frames_decoded < declared * 0.98:
            raise VideoError(
                _(
                    "{path} is truncated or corrupt: it ends at frame {frames_decoded} of the {declared} its header declares",
                    path=self.path,
                    frames_decoded=self.frames_decoded,
                    declared=declared,
                )
            )

    def frames_from(self, start_seq: int) -> Iterator[Frame]:
        """The frames from `start_seq` on, with the same sequence numbers, times and pixels as
        iterating from the start, reached by seeking to the keyframe before it: a chunk of a
        long recording is analysed without decoding everything that precedes it.

        A frame's number comes from its presentation time, which equals its decoding rank
        only in a constant-frame-rate file: a file whose times skip or repeat is refused
        (VideoError) rather than numbered differently from a whole-file analysis."""
        if start_seq <= 0:
            yield from self
            return
        use_pts = self.frame_rate_override is None
        with self._open() as container:
            stream = configure_decoder(container.streams.video[0], self.skip_loop_filter, self.decode_threads)
            # The container's own rate times the presentation times, whatever the site file says.
            native_rate = float(stream.average_rate or stream.guessed_rate or self.info.frame_rate)
            try:
                first = next(container.decode(stream), None)
            except av.error.FFmpegError as exc:
                raise VideoError(_("{path}: decoding failed at frame 1: {exc}", path=self.path, exc=exc)) from None
            if first is None or first.pts is None or first.time_base is None:
                raise VideoError(
                    _(
                        "{path} has no presentation times: it cannot be split into chunks (analyse it whole, with --executor local)",
                        path=self.path,
                    )
                )
            self._first_pts, time_base = first.pts, first.time_base
            # One frame early: a seek lands on the keyframe at or before the time asked.
            target = self._first_pts + int((start_seq - 1) / native_rate / time_base)
            container.seek(max(target, self._first_pts), stream=stream, backward=True, any_frame=False)
            expected = None
            try:
                for frame in container.decode(stream):
                    seq = round(float((frame.pts - self._first_pts) * time_base) * native_rate)
                    if expected is None and seq > start_seq:
                        raise VideoError(
                            _(
                                "{path}: seeking to frame {start_seq} landed on frame {seq}: the file cannot be split into chunks (analyse it with --executor local)",
                                path=self.path,
                                start_seq=start_seq,
                                seq=seq,
                            )
                        )
                    if seq < start_seq:
                        continue
                    if expected is not None and seq != expected:
                        raise VideoError(
                            _(
                                "{path}: frame times jump from frame {value} to {seq} (a variable frame rate): the file cannot be split into chunks (analyse it with --executor local)",
                                path=self.path,
                                value=expected - 1,
                                seq=seq,
                            )
                        )
                    expected = seq + 1
                    self.frames_decoded = seq + 1
                    if seq % self.frame_step:
                        continue
                    image, scale = self._convert(frame)
                    yield Frame(self.camera_id, seq, self._timestamp(frame, seq, use_pts), image, scale)
            except av.error.FFmpegError as exc:
                raise VideoError(
                    _(
                        "{path}: decoding failed at frame {value}: {exc}",
                        path=self.path,
                        value=(expected or start_seq) + 1,
                        exc=exc,
                    )
                ) from None

    def _convert(self, frame: "av.VideoFrame") -> tuple[np.ndarray, float]:
        """BGR pixels, shrunk in the same pass as the colour conversion when the
        source is wider than max_width (swscale's area filter: a 1080p frame
        to 960 px costs 1.6 ms where converting it whole costs 4)."""
        reference = self.coordinate_width or frame.width
        if self.max_width and frame.width > self.max_width:
            height = 2 * round(frame.height * self.max_width / frame.width / 2)
            small = frame.reformat(width=self.max_width, height=height, format="bgr24", interpolation="AREA")
            return np.ascontiguousarray(small.to_ndarray()), reference / self.max_width
        return np.ascontiguousarray(frame.to_ndarray(format="bgr24")), reference / frame.width

    @classmethod
    def for_camera(cls, path: str | Path, camera, analysis, decode_threads: int = 0) -> "FileSource":
        """A source for `camera` (a CameraConfig) with its analysis settings:
        its start time, true frame rate, frame step and decoding shortcuts.
        When `path` is the camera's sub-stream, coordinates are scaled to its
        main stream's pixels."""
        is_substream = camera.substream is not None and Path(path).resolve() == Path(camera.substream).resolve()
        return cls(
            path,
            camera.id,
            camera.recording_start,
            camera.frame_rate,
            analysis.frame_step,
            decode_threads,
            skip_loop_filter=analysis.fast_decode,
            max_width=analysis.max_width,
            coordinate_width=camera.main_stream_size[0] if is_substream else None,
        )
