"""A masked camera's recording: every frame re-encoded with its privacy masks burned in.

Privacy masks are never stored (vigie.privacy.masks): a camera with masks cannot have its packets
copied, so its decoded frames have the masked pixels blacked out (the same pixels as the analysis
blacks out: PrivacyMask.mask_for, one pixel of margin) and are encoded again (H.264, libx264),
one encoder per segment, so that each segment starts on a key frame and decodes alone.

The masks are drawn on the YUV planes directly (no RGB conversion): luma black, chroma neutral,
over the mask's 2x2 blocks on the half-size chroma planes. `max_width` scales the recording down
before encoding (a 1080p camera recorded at 960 px costs about a quarter of the encoding).
Everything else (temp names, renames, errors) is SegmentWriter's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

import av
import numpy as np

from vigie.privacy.masks import PrivacyMask
from vigie.recording.segments import SegmentWriter

TIME_BASE = Fraction(1, 90000)  # MPEG-TS's clock


class MaskedSegmentWriter(SegmentWriter):
    """Re-encodes decoded frames (the `frame` call) with the masks burned in; packets are ignored."""

    masked = True
    wants_frames = True

    def __init__(
        self,
        *args,
        mask: PrivacyMask,
        max_width: int | None = None,
        main_width: int | None = None,
        preset: str = "veryfast",
        crf: int = 23,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not mask:
            raise ValueError("a masked recording needs privacy masks")
        self.mask, self.max_width, self.preset, self.crf = mask, max_width, preset, crf
        self.main_width = main_width  # the main stream's width, where the recorded stream is another one
        self._last_pts = -1
        self._size: tuple[int, int] | None = None
        self._scale = 1.0
        self._origin: datetime | None = None  # the connection's first frame: pts 0
        self._planes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def connect(self, stream, clock=None) -> None:
        super().connect(stream, clock)
        self._origin, self._last_pts = None, -1
        rate = stream.average_rate or stream.guessed_rate or 25
        self._rate = Fraction(rate).limit_denominator(1001)

    def packet(self, packet, when: datetime) -> None:
        """Packets are not copied: frames are re-encoded (`frame`)."""

    def frame(self, frame: "av.VideoFrame", when: datetime) -> None:
        if self._in is None:
            return
        if self._out is None or when - self._start >= self.target:
            self._close()
            self._open(when)
        if self._out is None:
            return
        if self._origin is None:
            self._origin = when
        image = self._masked(frame)
        # Strictly increasing, as the encoder wants (StreamSource's times are; at 90 kHz two may round alike).
        pts = max(round((when - self._origin).total_seconds() / TIME_BASE), self._last_pts + 1)
        image.pts = self._last_pts = pts
        image.time_base = TIME_BASE
        self._span(frame.pts, frame.time_base)
        try:
            for p in self._ostream.encode(image):
                self._out.mux(p)
        except (OSError, av.error.FFmpegError) as exc:
            self._fail(exc, when)
            return
        self._frames += 1
        self._last = when

    # --- masks --------------------------------------------------------------------------------
    def _planes_for(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """(luma mask, chroma mask) for frames of this size (main-stream pixels scaled by width)."""
        key = (width, height)
        if key not in self._planes:
            scale = self._scale_of(width)
            luma = self.mask.mask_for((height, width), scale)
            # A chroma sample is masked when any of its 2x2 luma pixels is.
            padded = np.pad(luma, ((0, height % 2), (0, width % 2)))
            chroma = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).any(axis=(1, 3))
            self._planes[key] = (luma, chroma)
        return self._planes[key]

    def _scale_of(self, width: int) -> float:
        """Main-stream pixels per pixel of this frame (the masks are in the main stream's pixels)."""
        main = self.main_width or (self._in.codec_context.width if self._in is not None else width)
        return main / width if width else 1.0

    def _masked(self, frame: "av.VideoFrame") -> "av.VideoFrame":
        width, height = self._size
        if frame.format.name not in ("yuv420p", "yuvj420p") or (frame.width, frame.height) != (width, height):
            frame = frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")
        full_range = frame.format.name == "yuvj420p"
        yuv = frame.to_ndarray()  # (H * 3/2, W): Y, then U and V at half size
        luma, chroma = self._planes_for(width, height)
        h2, w2 = (height + 1) // 2, (width + 1) // 2
        y = yuv[:height]
        y[luma] = 0 if full_range else 16
        # yuv420p as one array: U then V, each (H/2, W/2), laid out row-major after Y.
        flat = yuv.reshape(-1)
        plane = h2 * w2
        base = width * height
        for k in range(2):
            chroma_plane = flat[base + k * plane : base + (k + 1) * plane].reshape(h2, w2)
            chroma_plane[chroma] = 128
        return av.VideoFrame.from_ndarray(yuv, format="yuvj420p" if full_range else "yuv420p")

    # --- segments: an encoder each --------------------------------------------------------------
    def _add_stream(self, out):
        ctx = self._in.codec_context
        width, height = ctx.width, ctx.height
        if self.max_width and width > self.max_width:
            height = 2 * round(height * self.max_width / width / 2)
            width = self.max_width
        width, height = width - width % 2, height - height % 2
        self._size = (width, height)
        stream = out.add_stream("libx264", rate=self._rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # The encoder's clock too, not 1/rate: frames come as the camera's clock dates them, and the burst of a
        # new connection's buffered frames, a few microseconds apart, would round to one 1/rate tick (the
        # muxer then refuses the repeated timestamps, EINVAL, and the connection's first segment was lost).
        stream.time_base = stream.codec_context.time_base = TIME_BASE
        # A key frame at the start (every segment is an encoder of its own); no B-frames (no reordering
        # delay, and packet order is time order, as a camera's).
        stream.options = {"preset": self.preset, "crf": str(self.crf), "bf": "0", "threads": "1"}
        return stream

    def _codec_name(self) -> str:
        return "h264"

    def _close(self) -> None:
        if self._out is not None:
            try:
                for p in self._ostream.encode(None):  # the encoder's last frames
                    self._out.mux(p)
            except (OSError, av.error.FFmpegError) as exc:
                self._fail(exc, self._last)
                return
        super()._close()

    def _dims(self) -> tuple[int | None, int | None]:
        return self._size or (None, None)

    def _frame_duration(self) -> timedelta:
        return timedelta(seconds=float(1 / self._rate)) if self._rate else timedelta(seconds=0.04)
