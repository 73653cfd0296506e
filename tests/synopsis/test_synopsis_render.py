"""Pieces of the synopsis renderer that need no video: blurring and masks."""

from __future__ import annotations

import numpy as np

from vigie.synopsis.build import Placed
from vigie.synopsis.capture import StoredTube
from vigie.synopsis.render import HEAD_SHARE, RenderStats, _Blur, object_mask


class _NoDetector:
    """A Blurrer stand-in that must not be called for people (heads need no detector)."""

    style = "blur"

    def blur_crop(self, *a, **k):
        raise AssertionError("the face detector ran on a person")


def _person(rect=(10, 10, 50, 130), box=(14, 20, 46, 120)) -> Placed:
    tube = StoredTube(
        np.array([0]),
        np.array([0.0]),
        np.array([rect], np.int32),
        np.array([box], np.float32),
        [b""],
        [b""],
        (640, 480),
    )
    return Placed(1, "person", tube, np.array([0]), 0)


def test_a_persons_head_band_is_blurred_and_nothing_else():
    obj = _person()
    crop = (np.indices((120, 40)).sum(axis=0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, axis=2)  # checkerboard
    stats = RenderStats()
    out = _Blur(_NoDetector(), every=3).apply(obj, 0, crop, stats)
    # box in the crop: x 4-36, y 10-110; head band: y 10 to 10 + 20 % of 100
    head = out[10 : 10 + int(100 * HEAD_SHARE), 4:36].astype(int)
    assert np.abs(np.diff(head, axis=1)).mean() < 40  # the checkerboard's 255 steps are gone
    assert (out[40:, :] == crop[40:, :]).all() and (out[:10] == crop[:10]).all()  # the body and above it untouched
    assert stats.blur_regions == 1
    assert _Blur(None, every=3).apply(obj, 0, crop, RenderStats()) is crop  # no blurrer: unblurred (investigators)


def test_object_mask_is_what_differs_from_the_background_inside_the_box():
    background = np.full((60, 40, 3), 120, np.uint8)
    crop = background.copy()
    crop[15:45, 12:28] = (30, 30, 200)  # the object
    crop[2:6, 2:6] = 0  # a difference outside the box: not the object
    mask = object_mask(crop, background, None, (8, 10, 32, 50))
    assert mask[20:40, 14:26].all() and not mask[2:6, 2:6].any()
    assert not mask[:, :8].any() and not mask[:, 32:].any()
    # nothing differs (the object stood still into the background): an ellipse in the box
    ellipse = object_mask(background, background, None, (8, 10, 32, 50))
    assert ellipse[30, 20] == 255 and ellipse[11, 9] == 0 and not ellipse[:, :8].any()
