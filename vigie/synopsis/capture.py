"""What the analysis keeps for video synopsis, so that a synopsis never needs the
source video again (a live camera's video is not recorded by Vigie at all).

- A **tube** per track (Pritch et al.'s space-time tube): for every analysed
  frame where the track was seen, the object's pixels (a JPEG of its box with
  a small margin) and its foreground mask (the motion gate's background
  subtraction inside that box, stored as a PNG). Kept with the track in the
  store (table `tubes`), so it is purged, held and replaced with it.
- A **background** per period of the camera's time (`BackgroundSampler`): the
  temporal median of frames sampled through the period, each with the boxes
  of the objects being tracked left out, so the median is taken over
  object-free pixels ("a background is computed for each period": a night
  synopsis is pasted on a night background).

Both are cut from the decoded frame (at most `analysis.max_width` wide), after
the privacy masks are burned in: masked pixels are never kept. Faces and
plates are blurred when a synopsis is rendered (vigie.synopsis.render).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np

from vigie.i18n import _
from vigie.types import Detections, Frame

TUBE_FORMAT = 1  # the blob layout below; bump if it changes
JPEG_QUALITY = 80
MARGIN = 0.1  # share of the box added on each side: room for the mask's feathered edge


# --- tubes ---------------------------------------------------------------------------------------------------------------
@dataclass
class TubeFrames:
    """One track's tube: per analysed frame, where the object was and what it looked like."""

    seqs: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # UTC, seconds since the epoch
    rects: list[tuple[int, int, int, int]] = field(default_factory=list)  # crop rectangle, decoded-frame pixels
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)  # the object's box, same pixels
    jpegs: list[bytes] = field(default_factory=list)
    masks: list[bytes] = field(default_factory=list)  # PNG, 0/255, the crop's size
    frame_size: tuple[int, int] = (0, 0)  # decoded frame (width, height)


@dataclass(frozen=True)
class StoredTube:
    """A decoded tube blob (see encode_tube)."""

    seqs: np.ndarray  # (n,) int64
    times: np.ndarray  # (n,) float64 UTC seconds
    rects: np.ndarray  # (n, 4) int32 xyxy in decoded-frame pixels: where each crop was cut
    boxes: np.ndarray  # (n, 4) float32 xyxy in decoded-frame pixels: the object's box
    jpegs: list[bytes]
    masks: list[bytes]
    frame_size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.seqs)

    def image(self, k: int) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(self.jpegs[k], np.uint8), cv2.IMREAD_COLOR)

    def mask(self, k: int) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(self.masks[k], np.uint8), cv2.IMREAD_GRAYSCALE)


def encode_tube(t: TubeFrames) -> bytes:
    """One blob: small arrays plus the concatenated JPEGs and PNGs, in an .npz (no pickle)."""

    def packed(chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        sizes = np.array([len(c) for c in chunks], dtype=np.int64)
        return np.frombuffer(b"".join(chunks), dtype=np.uint8), np.r_[0, np.cumsum(sizes)]

    jpeg_data, jpeg_at = packed(t.jpegs)
    mask_data, mask_at = packed(t.masks)
    buf = io.BytesIO()
    np.savez(
        buf,
        format=np.array([TUBE_FORMAT]),
        seqs=np.asarray(t.seqs, np.int64),
        times=np.asarray(t.times, np.float64),
        rects=np.asarray(t.rects, np.int32).reshape(-1, 4),
        boxes=np.asarray(t.boxes, np.float32).reshape(-1, 4),
        frame_size=np.asarray(t.frame_size, np.int32),
        jpeg_data=jpeg_data,
        jpeg_at=jpeg_at,
        mask_data=mask_data,
        mask_at=mask_at,
    )
    return buf.getvalue()


def decode_tube(blob: bytes) -> StoredTube:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        if int(z["format"][0]) != TUBE_FORMAT:
            raise ValueError(
                _("tube format {value} is not {tube_format}", value=int(z["format"][0]), tube_format=TUBE_FORMAT)
            )
        jd, ja, md, ma = z["jpeg_data"].tobytes(), z["jpeg_at"], z["mask_data"].tobytes(), z["mask_at"]
        return StoredTube(
            z["seqs"],
            z["times"],
            z["rects"],
            z["boxes"],
            [jd[ja[i] : ja[i + 1]] for i in range(len(ja) - 1)],
            [md[ma[i] : ma[i + 1]] for i in range(len(ma) - 1)],
            tuple(int(v) for v in z["frame_size"]),
        )


def crop_rect(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The box grown by MARGIN on each side, in whole pixels, inside the frame."""
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
    return (
        max(0, int(np.floor(x1 - mx))),
        max(0, int(np.floor(y1 - my))),
        min(width, int(np.ceil(x2 + mx))),
        min(height, int(np.ceil(y2 + my))),
    )


def foreground_in(
    mask: np.ndarray | None, scale: float, rect: tuple[int, int, int, int], box: np.ndarray
) -> np.ndarray:
    """The motion gate's foreground (a small mask, `scale` small pixels per frame pixel)
    inside `rect`, upsampled smoothly (bilinear, then thresholded) so that a
    person's outline is a blob, not blocks, and limited to the box itself.
    Without a mask (the gate has not run yet), the box."""
    x1, y1, x2, y2 = rect
    w, h = x2 - x1, y2 - y1
    out = np.zeros((h, w), np.uint8)
    bx1, by1, bx2, by2 = (int(round(v)) for v in box)
    inside = (slice(max(0, by1 - y1), max(0, min(h, by2 - y1))), slice(max(0, bx1 - x1), max(0, min(w, bx2 - x1))))
    if mask is None:
        out[inside] = 255
        return out
    mh, mw = mask.shape[:2]
    # the rectangle in small-mask coordinates (sub-pixel: remap takes care of it)
    xs = (np.arange(w, dtype=np.float32) + x1 + 0.5) * scale - 0.5
    ys = (np.arange(h, dtype=np.float32) + y1 + 0.5) * scale - 0.5
    map_x, map_y = np.meshgrid(np.clip(xs, 0, mw - 1), np.clip(ys, 0, mh - 1))
    smooth = cv2.remap(mask, map_x, map_y, interpolation=cv2.INTER_LINEAR)
    out[inside] = np.where(smooth[inside] >= 128, 255, 0).astype(np.uint8)
    return out


class TubeRecorder:
    """Collects each confirmed track's tube frame by frame; `finish(track)` gives its blob."""

    def __init__(self) -> None:
        self._live: dict[int, TubeFrames] = {}

    def observe(self, frame: Frame, tracked: Detections, gate_mask: np.ndarray | None, gate_scale: float) -> None:
        if not len(tracked):
            return
        h, w = frame.image.shape[:2]
        t = frame.timestamp.timestamp()
        for box, tid in zip(tracked.xyxy, tracked.track_id):
            rect = crop_rect(box, w, h)
            x1, y1, x2, y2 = rect
            if x2 - x1 < 2 or y2 - y1 < 2:
                continue
            ok, jpeg = cv2.imencode(".jpg", frame.image[y1:y2, x1:x2], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            ok2, png = cv2.imencode(
                ".png", foreground_in(gate_mask, gate_scale, rect, box), [cv2.IMWRITE_PNG_BILEVEL, 1]
            )
            if not (ok and ok2):
                continue
            tube = self._live.setdefault(int(tid), TubeFrames(frame_size=(w, h)))
            tube.seqs.append(frame.seq)
            tube.times.append(t)
            tube.rects.append(rect)
            tube.boxes.append(tuple(float(v) for v in box))
            tube.jpegs.append(jpeg.tobytes())
            tube.masks.append(png.tobytes())

    def finish(self, track_id: int) -> bytes | None:
        tube = self._live.pop(track_id, None)
        return encode_tube(tube) if tube and tube.seqs else None


# --- backgrounds ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Background:
    """The scene without its objects over [start, end): a JPEG of the decoded frame's size."""

    camera_id: str
    start: datetime
    end: datetime
    samples: int
    jpeg: bytes


class BackgroundSampler:
    """Temporal median of object-free frames, one per period of `period_s` of the camera's time.

    A frame is sampled every `every_s` (doubling when a period has many samples,
    so memory stays bounded), with the tracked objects' boxes, grown a little,
    marked as missing; each pixel's median is over the samples where it was
    free (over all samples where it never was: someone stood there the whole
    period). Sampling happens whether or not the frame is analysed: a still
    scene is exactly what a background is made of.
    """

    MAX_SAMPLES = 32

    def __init__(self, camera_id: str, period_s: float = 900.0, every_s: float = 2.0) -> None:
        self.camera_id, self.period_s, self.base_every_s = camera_id, period_s, every_s
        self._reset(None)

    def _reset(self, start: datetime | None) -> None:
        self.start, self.last, self.seen = start, None, None
        self.every_s = self.base_every_s
        self.frames: list[np.ndarray] = []
        self.free: list[np.ndarray] = []
        self.times: list[datetime] = []

    def _period_start(self, t: datetime) -> datetime:
        epoch = t.timestamp()
        return datetime.fromtimestamp(epoch - epoch % self.period_s, tz=timezone.utc)

    def offer(self, frame: Frame, boxes: np.ndarray) -> Background | None:
        """Sample this frame if due; returns the finished background when a period ends."""
        done = None
        start = self._period_start(frame.timestamp)
        if self.start is not None and start != self.start:
            done = self.finish(until=start if start > self.start else None)
        if self.start is None:
            self._reset(start)
        self.seen = frame.timestamp
        if self.last is None or (frame.timestamp - self.last).total_seconds() >= self.every_s:
            free = np.ones(frame.image.shape[:2], bool)
            h, w = free.shape
            for box in np.asarray(boxes).reshape(-1, 4):
                x1, y1, x2, y2 = crop_rect(box, w, h)
                free[y1:y2, x1:x2] = False
            self.frames.append(frame.image.copy())
            self.free.append(free)
            self.times.append(frame.timestamp)
            self.last = frame.timestamp
            if len(self.frames) >= self.MAX_SAMPLES:  # keep every other sample, sample half as often
                self.frames, self.free, self.times = self.frames[::2], self.free[::2], self.times[::2]
                self.every_s *= 2
        return done

    def finish(self, until: datetime | None = None) -> Background | None:
        """The current period's background: up to `until` (the next period), or to
        the last frame seen (the end of the source)."""
        if not self.frames:
            self._reset(None)
            return None
        image = masked_median(self.frames, self.free)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        end = until or min(self.start + timedelta(seconds=self.period_s), self.seen + timedelta(microseconds=1))
        out = Background(self.camera_id, self.start, end, len(self.frames), jpeg.tobytes()) if ok else None
        self._reset(None)
        return out


def masked_median(frames: list[np.ndarray], free: list[np.ndarray], rows_per_chunk: int = 64) -> np.ndarray:
    """Per-pixel median over the frames where the pixel is free; over all frames where it never is."""
    stack_h = frames[0].shape[0]
    out = np.empty_like(frames[0])
    for r0 in range(0, stack_h, rows_per_chunk):  # in bands of rows: n x 64 x W x 3 floats at most
        band = np.stack([f[r0 : r0 + rows_per_chunk] for f in frames]).astype(np.float32)
        ok = np.stack([m[r0 : r0 + rows_per_chunk] for m in free])
        never = ~ok.any(axis=0)
        ok[:, never] = True
        band[~ok] = np.nan
        out[r0 : r0 + rows_per_chunk] = np.clip(np.round(np.nanmedian(band, axis=0)), 0, 255).astype(np.uint8)
    return out
