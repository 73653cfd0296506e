"""Privacy masks: blacked out before anything is analysed, at any decoding scale; the site file checks them."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from vigie.config import CameraConfig
from vigie.privacy.masks import PrivacyMask
from vigie.types import Frame


def frame(image, scale=1.0):
    return Frame(camera_id="c", seq=0, timestamp=datetime(2026, 11, 20, tzinfo=timezone.utc), image=image, scale=scale)


def test_mask_blacks_out_the_polygon_and_nothing_far_from_it():
    f = frame(np.full((100, 200, 3), 200, np.uint8))
    PrivacyMask([[(10, 10), (60, 10), (60, 50), (10, 50)]]).apply(f)
    assert (f.image[12:48, 12:58] == 0).all()
    assert (f.image[60:, :] == 200).all() and (f.image[:, 70:] == 200).all()


def test_mask_follows_frames_decoded_smaller_than_the_main_stream():
    # Polygon in 1920x1080 main-stream pixels; the frame is a 960x540 image (scale 2).
    f = frame(np.full((540, 960, 3), 200, np.uint8), scale=2.0)
    PrivacyMask([[(1000, 200), (1800, 200), (1800, 800), (1000, 800)]]).apply(f)
    assert (f.image[110:390, 510:890] == 0).all()
    assert (f.image[:, :490] == 200).all()


def test_no_mask_changes_nothing():
    image = np.full((10, 10, 3), 7, np.uint8)
    f = frame(image.copy())
    mask = PrivacyMask([])
    mask.apply(f)
    assert not mask and (f.image == image).all()


@pytest.mark.parametrize(
    "masks, message",
    [
        ([[(0, 0), (10, 0)]], "at least 3"),
        ([[(0, 0), (10, -1), (5, 5)]], "negative"),
    ],
)
def test_bad_masks_are_refused_naming_the_mask(masks, message):
    with pytest.raises(ValueError, match=message):
        CameraConfig(id="c", name="C", lat=43.8, lon=4.36, privacy_masks=masks)
