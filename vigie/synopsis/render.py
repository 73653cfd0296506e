"""Render a packed synopsis: each object's pixels pasted on the background of its
time, labelled with its original time, faces and plates blurred; an H.264 MP4
(or a VP8 WebM for browsers) and a JSON index of every object in every frame.

Stitching (Pritch et al. section 5, simplified): the synopsis frame's
background is the period background of the matching moment of a time-lapse
over the whole period (frame j of L shows the background of the source time
j/L of the way through), so a synopsis spanning day and night darkens as the
source did. Each object is pasted with an alpha mask: the pixels that differ
from its own period's background inside its box (refined from the motion
mask stored with the tube; an ellipse in the box where neither says anything
useful), feathered at the edge. Objects nearer the camera (lower box bottom
in the image) are pasted last, on top.

Privacy: the crops were cut after the privacy masks were burned in (capture),
and each is blurred before it is pasted:
- a person's head is blurred without a detector: the top HEAD_SHARE of the
  box, its whole width. In a synopsis people are small and many; a face
  detector would miss some faces of a few pixels and cost ~20 ms per person
  and frame (three quarters of the build time on PETS09), where the band
  costs nothing and misses no upright person's face;
- vehicles go through the same Blurrer as every thumbnail and clip (plates,
  and a driver's face), searched on every `face_every`-th frame of a tube, the
  regions found being blurred on the frames between too (grown by half: a
  plate moves little in a few frames).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np

from vigie.files import write_atomic
from vigie.privacy.blur import PLATE_CLASSES, obscure
from vigie.synopsis.build import Placed, Selection
from vigie.times import iso

FONT = cv2.FONT_HERSHEY_SIMPLEX
HEAD_SHARE = 0.2  # of a standing person's box height: the head and some neck (heads are ~1/7 of a body)


@dataclass
class RenderStats:
    frames: int = 0
    object_area: int = 0  # pixels of object masks pasted
    lost_area: int = 0  # of which covered by an object pasted over it in the same frame
    blur_regions: int = 0
    seconds_blur: float = 0.0

    @property
    def lost_fraction(self) -> float:
        return self.lost_area / self.object_area if self.object_area else 0.0


class _Backgrounds:
    """The period backgrounds, decoded once, looked up by source time."""

    def __init__(self, selection: Selection, size: tuple[int, int]) -> None:
        w, h = size
        self.items = []
        for start, end, jpeg in selection.backgrounds:
            img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            if img.shape[1] != w or img.shape[0] != h:
                img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
            self.items.append((start.timestamp(), end.timestamp(), img))

    def at(self, t: float) -> np.ndarray:
        for start, end, img in self.items:
            if start <= t < end:
                return img
        return min(self.items, key=lambda it: min(abs(t - it[0]), abs(t - it[1])))[2]


def object_mask(
    crop: np.ndarray, background: np.ndarray, motion: np.ndarray, box: tuple[int, int, int, int]
) -> np.ndarray:
    """uint8 0/255 mask of the object in its crop: differs from the background, inside the box."""
    x1, y1, x2, y2 = box
    inside = np.zeros(crop.shape[:2], bool)
    inside[y1:y2, x1:x2] = True
    diff = np.abs(crop.astype(np.int16) - background.astype(np.int16)).max(axis=2)
    fg = ((diff > 30) & inside).astype(np.uint8) * 255
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    area = max(1, (x2 - x1) * (y2 - y1))
    if np.count_nonzero(fg) >= 0.15 * area:
        return fg
    if motion is not None and motion.shape == fg.shape and np.count_nonzero(motion & inside) >= 0.15 * area:
        return np.where(inside, motion, 0).astype(np.uint8)
    ellipse = np.zeros_like(fg)
    cv2.ellipse(
        ellipse, ((x1 + x2) // 2, (y1 + y2) // 2), (max(1, (x2 - x1) // 2), max(1, (y2 - y1) // 2)), 0, 0, 360, 255, -1
    )
    return ellipse


def _inner_box(rect: np.ndarray, box: np.ndarray) -> tuple[int, int, int, int]:
    """The object's box in its crop's pixels."""
    x1, y1 = int(rect[0]), int(rect[1])
    return (
        max(0, int(round(box[0])) - x1),
        max(0, int(round(box[1])) - y1),
        int(round(box[2])) - x1,
        int(round(box[3])) - y1,
    )


class _Blur:
    """People's heads, and vehicles' plates and faces, blurred in tube crops (see the module docstring)."""

    def __init__(self, blurrer, every: int) -> None:
        self.blurrer, self.every = blurrer, max(1, every)
        self.found: dict[tuple[int, int], list] = {}  # (track, tube frame) -> regions, relative to the crop

    def apply(self, obj: Placed, k: int, crop: np.ndarray, stats: RenderStats) -> np.ndarray:
        if self.blurrer is None:
            return crop
        import time

        t = time.perf_counter()
        if obj.class_name == "person":
            out = crop.copy()
            x1, y1, x2, y2 = _inner_box(obj.tube.rects[k], obj.tube.boxes[k])
            head = (
                max(0, x1),
                max(0, y1),
                min(crop.shape[1], x2),
                min(crop.shape[0], y1 + max(2, round((y2 - y1) * HEAD_SHARE))),
            )
            if head[2] > head[0] and head[3] > head[1]:
                obscure(out, head, self.blurrer.style)
                stats.blur_regions += 1
            stats.seconds_blur += time.perf_counter() - t
            return out
        if obj.class_name not in PLATE_CLASSES:
            return crop  # bags
        key_frame = k - k % self.every
        regions = []
        for kf in {key_frame, min(len(obj.tube) - 1, key_frame + self.every)}:
            if (obj.track_id, kf) not in self.found:
                image = crop if kf == k else obj.tube.image(kf)
                _, found = self.blurrer.blur_crop(image, obj.class_name)
                # as fractions of the crop: the neighbouring frames' crops differ in size
                h, w = image.shape[:2]
                self.found[(obj.track_id, kf)] = [
                    (r.kind, np.array(r.blurred_xyxy, float) / [w, h, w, h]) for r in found
                ]
            regions += self.found[(obj.track_id, kf)]
        out = crop.copy()
        h, w = crop.shape[:2]
        for kind, rel in regions:
            x1, y1, x2, y2 = rel * [w, h, w, h]
            if k % self.every:  # between two searches: grown by half
                gx, gy = (x2 - x1) / 4, (y2 - y1) / 4
                x1, y1, x2, y2 = x1 - gx, y1 - gy, x2 + gx, y2 + gy
            obscure(
                out,
                (max(0, int(x1)), max(0, int(y1)), min(w, int(np.ceil(x2))), min(h, int(np.ceil(y2)))),
                self.blurrer.style,
            )
        stats.blur_regions += len(regions)
        stats.seconds_blur += time.perf_counter() - t
        return out


def render(
    selection: Selection,
    starts: dict[int, int],
    length: int,
    video: Path,
    index: Path,
    blurrer=None,
    face_every: int = 3,
    label_tz=timezone.utc,
    progress: Callable[[int, int], None] | None = None,
    extra: dict | None = None,
) -> RenderStats:
    """Write the synopsis video and its index; returns what it measured."""
    w, h = selection.frame_size
    w, h = w - w % 2, h - h % 2  # 4:2:0 needs even sides
    backgrounds = _Backgrounds(selection, (w, h))
    span0 = selection.origin.timestamp()
    span1 = max(o.tube.times[o.frames[-1]] for o in selection.objects)
    by_start = sorted(selection.objects, key=lambda o: starts[o.track_id])
    blur = _Blur(blurrer, face_every)
    stats = RenderStats()
    frame_objects: list[list[dict]] = []
    video.parent.mkdir(parents=True, exist_ok=True)
    tmp = video.with_name(f".{video.stem}.partial{video.suffix}")
    webm = video.suffix.lower() == ".webm"
    with av.open(str(tmp), "w", format="webm" if webm else "mp4") as out:
        stream = out.add_stream("libvpx" if webm else "libx264", rate=Fraction(selection.fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = (
            {"b": "2M", "deadline": "realtime", "cpu-used": "8"} if webm else {"crf": "23", "preset": "veryfast"}
        )
        active: list[Placed] = []
        nxt = 0
        for j in range(length):
            while nxt < len(by_start) and starts[by_start[nxt].track_id] <= j:
                active.append(by_start[nxt])
                nxt += 1
            active = [o for o in active if j < starts[o.track_id] + o.length]
            source_t = span0 + (span1 - span0) * (j / max(1, length - 1))
            canvas = backgrounds.at(source_t).copy()
            occupied = np.zeros((h, w), bool)
            shown = []
            # nearer the camera (lower box bottom) pasted last, on top
            for obj in sorted(active, key=lambda o: o.tube.rects[o.frames[j - starts[o.track_id]]][3]):
                k = int(obj.frames[j - starts[obj.track_id]])
                shown.append(_paste(canvas, occupied, obj, k, backgrounds, blur, stats, label_tz, (w, h)))
            frame_objects.append([s for s in shown if s])
            frame = av.VideoFrame.from_ndarray(canvas, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
            stats.frames += 1
            if progress:
                progress(j + 1, length)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(video)
    doc = {
        "camera": selection.camera_id,
        "from": iso(selection.start),
        "to": iso(selection.end),
        "filters": selection.filters,
        "fps": selection.fps,
        "frames": length,
        "width": w,
        "height": h,
        "video": video.name,
        "objects": [
            {
                "track": o.track_id,
                "class": o.class_name,
                "synopsis_start": starts[o.track_id],
                "synopsis_end": starts[o.track_id] + o.length,
                "original_start": iso(_utc(o.tube.times[o.frames[0]])),
                "original_end": iso(_utc(o.tube.times[o.frames[-1]])),
            }
            for o in by_start
        ],
        "frame_objects": frame_objects,
        **(extra or {}),
    }
    write_atomic(index, json.dumps(doc, separators=(",", ":")).encode())
    return stats


def _paste(
    canvas, occupied, obj: Placed, k: int, backgrounds: _Backgrounds, blur: _Blur, stats: RenderStats, label_tz, size
) -> dict | None:
    w, h = size
    rect = obj.tube.rects[k]
    x1, y1, x2, y2 = (int(v) for v in rect)
    x2, y2 = min(x2, w), min(y2, h)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    crop = obj.tube.image(k)[: y2 - y1, : x2 - x1]
    t = float(obj.tube.times[k])
    background = backgrounds.at(t)[y1:y2, x1:x2]
    inner = _inner_box(rect, obj.tube.boxes[k])
    mask = object_mask(crop, background, obj.tube.mask(k)[: y2 - y1, : x2 - x1], inner)
    crop = blur.apply(obj, k, crop, stats)
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (5, 5), 0)[..., None]
    region = canvas[y1:y2, x1:x2]
    region[:] = (alpha * crop + (1 - alpha) * region).astype(np.uint8)
    solid = mask > 0
    stats.object_area += int(solid.sum())
    # object area lost: what this object covers of objects already pasted in this frame
    stats.lost_area += int((solid & occupied[y1:y2, x1:x2]).sum())
    occupied[y1:y2, x1:x2] |= solid
    _label(canvas, datetime.fromtimestamp(t, tz=label_tz).strftime("%H:%M:%S"), x1, y1)
    return {"track": obj.track_id, "box": [round(float(v), 1) for v in obj.tube.boxes[k]], "time": iso(_utc(t))}


def _label(canvas: np.ndarray, text: str, x: int, y: int) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, 0.38, 1)
    x = int(np.clip(x, 0, canvas.shape[1] - tw - 2))
    y = int(np.clip(y - 3, th + 2, canvas.shape[0] - 2))
    cv2.rectangle(canvas, (x, y - th - 2), (x + tw + 2, y + base - 1), (20, 20, 20), -1)
    cv2.putText(canvas, text, (x + 1, y - 1), FONT, 0.38, (255, 255, 255), 1, cv2.LINE_AA)


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), tz=timezone.utc)
