"""What the analysis keeps for video synopsis: tubes and period backgrounds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from vigie.synopsis.capture import (
    BackgroundSampler,
    TubeFrames,
    TubeRecorder,
    crop_rect,
    decode_tube,
    encode_tube,
    foreground_in,
    masked_median,
)
from vigie.types import Detections, Frame

T0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)


def scene(k: int, x: int | None = None) -> np.ndarray:
    """A grey gradient background with a red 'person' 20x60 at x (none if x is None)."""
    img = np.tile(np.linspace(60, 180, 320, dtype=np.uint8)[None, :, None], (240, 1, 3))
    if x is not None:
        img[100:160, x : x + 20] = (0, 0, 220)
    return img


def frame(k: int, x: int | None, fps: float = 5.0) -> Frame:
    return Frame("cam", k, T0 + timedelta(seconds=k / fps), scene(k, x))


def dets(boxes, ids) -> Detections:
    boxes = np.array(boxes, dtype=np.float32).reshape(-1, 4)
    return Detections(
        xyxy=boxes,
        confidence=np.full(len(boxes), 0.9, np.float32),
        class_id=np.zeros(len(boxes), np.int16),
        track_id=np.array(ids, np.int64),
    )


def test_crop_rect_adds_a_margin_inside_the_frame():
    assert crop_rect(np.array([100, 100, 120, 160]), 320, 240) == (98, 94, 122, 166)
    assert crop_rect(np.array([0, 200, 20, 240]), 320, 240) == (0, 196, 22, 240)


def test_foreground_follows_the_small_mask_smoothly_and_stays_in_the_box():
    small = np.zeros((60, 80), np.uint8)  # a quarter-size mask of a 320x240 frame
    small[25:40, 25:30] = 255  # the person: x 100-120, y 100-160 in frame pixels
    box = np.array([100, 100, 120, 160])
    rect = crop_rect(box, 320, 240)
    fg = foreground_in(small, 0.25, rect, box)
    assert fg.shape == (rect[3] - rect[1], rect[2] - rect[0])
    inside = fg[100 - rect[1] : 160 - rect[1], 100 - rect[0] : 120 - rect[0]]
    assert (inside == 255).mean() > 0.8
    outside = fg.copy()
    outside[100 - rect[1] : 160 - rect[1], 100 - rect[0] : 120 - rect[0]] = 0
    assert not outside.any()  # never beyond the box
    assert foreground_in(None, 1.0, rect, box)[100 - rect[1] : 160 - rect[1], 100 - rect[0] : 120 - rect[0]].all()


def test_tube_recorder_round_trip():
    rec = TubeRecorder()
    small = np.zeros((60, 80), np.uint8)
    for k in range(5):
        x = 50 + 10 * k
        small[:] = 0
        small[25:40, x // 4 : (x + 20) // 4] = 255
        rec.observe(frame(k, x), dets([[x, 100, x + 20, 160]], [7]), small, 0.25)
    assert rec.finish(8) is None
    tube = decode_tube(rec.finish(7))
    assert rec.finish(7) is None  # given once
    assert len(tube) == 5 and list(tube.seqs) == [0, 1, 2, 3, 4] and tube.frame_size == (320, 240)
    assert tube.times[1] - tube.times[0] == pytest.approx(0.2)
    assert tube.boxes[2].tolist() == [70, 100, 90, 160]
    for k in range(5):
        x1, y1, x2, y2 = tube.rects[k]
        img, mask = tube.image(k), tube.mask(k)
        assert img.shape[:2] == mask.shape == (y2 - y1, x2 - x1)
        # the red person is where the mask says
        red = (img[..., 2] > 150) & (img[..., 1] < 80)
        assert (mask[red] == 255).mean() > 0.8 and red.sum() > 0.6 * 20 * 60


def test_tube_blob_refuses_another_format():
    blob = encode_tube(TubeFrames([0], [0.0], [(0, 0, 2, 2)], [(0.5, 0.5, 1.5, 1.5)], [b"x"], [b"y"], (4, 4)))
    assert decode_tube(blob).jpegs == [b"x"]
    with pytest.raises(ValueError, match="tube format"):
        import io

        with np.load(io.BytesIO(blob)) as z:
            arrays = dict(z)
        arrays["format"] = np.array([99])
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        decode_tube(buf.getvalue())


def test_masked_median_leaves_out_the_objects():
    frames = [scene(k, 40 + 12 * k) for k in range(9)]
    free = []
    for k in range(9):
        m = np.ones((240, 320), bool)
        m[90:170, 30 + 12 * k : 70 + 12 * k] = False
        free.append(m)
    bg = masked_median(frames, free, rows_per_chunk=50)
    assert np.abs(bg.astype(int) - scene(0).astype(int)).max() <= 1
    # a pixel never free gets the median of every sample (here: the object, present in all)
    still = [scene(k, 100) for k in range(3)]
    blocked = [np.zeros((240, 320), bool) for _ in range(3)]
    assert (masked_median(still, blocked)[120, 110] == (0, 0, 220)).all()


def test_background_sampler_one_per_period_without_the_walker():
    sampler = BackgroundSampler("cam", period_s=60.0, every_s=2.0)
    done = []
    for k in range(0, 5 * 150):  # 150 s at 5 fps: periods 13:00:00, 13:01:00, 13:02:00 (partial)
        x = 10 + (k % 280)
        f = frame(k, x)
        got = sampler.offer(f, np.array([[x, 100, x + 20, 160]]))
        if got:
            done.append(got)
    last = sampler.finish()
    assert [d.start for d in done] == [T0, T0 + timedelta(minutes=1)]
    assert last.start == T0 + timedelta(minutes=2) and last.end == T0 + timedelta(
        seconds=(5 * 150 - 1) / 5, microseconds=1
    )
    assert done[0].end == T0 + timedelta(minutes=1) and 20 <= done[0].samples <= 31
    for bg in (*done, last):
        image = cv2.imdecode(np.frombuffer(bg.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert np.abs(image.astype(int) - scene(0).astype(int)).mean() < 2  # nobody in it
    assert sampler.finish() is None


def test_background_sampler_thins_its_samples():
    sampler = BackgroundSampler("cam", period_s=3600.0, every_s=1.0)
    for k in range(0, 5 * 200):
        sampler.offer(frame(k, None), np.zeros((0, 4)))
    assert len(sampler.frames) < BackgroundSampler.MAX_SAMPLES and sampler.every_s > 1.0
    kept = len(sampler.frames)
    assert sampler.finish().samples == kept
