"""The per-camera white balance (vigie.describe.white_balance): estimators on synthetic
backgrounds, its learning from frames, and the describer naming balanced pixels."""

from __future__ import annotations

import typing
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from vigie.config import AnalysisConfig
from vigie.describe import white_balance as wb
from vigie.describe.colours import PALETTE, name_pixels
from vigie.describe.describer import Describer
from vigie.types import CLASS_ID, Detections, Frame

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
TINTS = {  # the light's (B, G, R) relative to green
    "warm (sodium-ish)": (0.8, 1.0, 1.2),
    "cold (blue cast)": (1.2, 1.0, 0.9),
    "green sensor": (0.9, 1.0, 0.9),
    "neutral": (1.0, 1.0, 1.0),
}


def grey_scene(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """Achromatic surfaces (pavement, walls): blocks of greys from dark to light, with noise."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(50, 200, (h // 10, w // 10))
    img = np.repeat(np.repeat(levels, 10, 0), 10, 1)[..., None].repeat(3, axis=2)
    return np.clip(img + rng.normal(0, 2, img.shape), 0, 255)


def lit(scene: np.ndarray, light) -> np.ndarray:
    return np.clip(np.round(scene * np.asarray(light, float)), 0, 255).astype(np.uint8)


def brick_scene(h: int = 120, w: int = 160, grey_share: float = 0.0, seed: int = 1) -> np.ndarray:
    """A red brick square (BGR about 60, 80, 150), some of it pale grey paving."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3))
    img[:] = (60, 80, 150)
    img *= rng.uniform(0.8, 1.2, (h, w, 1))
    rows = int(h * grey_share)
    img[:rows] = grey_scene(h, w, seed)[:rows]
    return np.clip(img, 0, 255)


@pytest.mark.parametrize("method", ["grey-pixels", "grey-world", "shades-of-grey", "grey-edge"])
@pytest.mark.parametrize("tint", list(TINTS), ids=list(TINTS))
def test_a_tinted_grey_background_gives_the_tint_back(method, tint):
    light = np.array(TINTS[tint])
    got = wb.illuminant(lit(grey_scene(), light), method)
    np.testing.assert_allclose(got, light, atol=0.03)
    # The gains turn every grey of the scene grey again.
    balanced = wb.apply_gains(lit(grey_scene(), light), wb.gains_for(got)).reshape(-1, 3).astype(float)
    spread = balanced.max(axis=1) - balanced.min(axis=1)
    assert np.percentile(spread, 95) <= 8


def test_the_gains_keep_a_grey_pixels_luma_and_undo_the_light():
    light = np.array([0.8, 1.0, 1.2])
    gains = wb.gains_for(light)
    seen = 100 * light  # a grey surface under that light
    np.testing.assert_allclose(seen * gains, np.full(3, seen @ wb.LUMA))
    np.testing.assert_allclose(wb.gains_for(np.ones(3)), np.ones(3))


def test_a_red_brick_square_is_not_corrected_to_grey_by_grey_pixels():
    # All bricks: nothing near grey, so no estimate at all (identity) ...
    np.testing.assert_allclose(wb.illuminant(lit(brick_scene(), (1, 1, 1)), "grey-pixels"), np.ones(3))
    # ... and the square's grey paving, under a warm light, gives that light, not the bricks' red.
    light = (0.85, 1.0, 1.1)
    got = wb.illuminant(lit(brick_scene(grey_share=0.25), light), "grey-pixels")
    np.testing.assert_allclose(got, light, atol=0.03)


@pytest.mark.parametrize("method", ["grey-world", "shades-of-grey", "grey-edge"])
def test_a_coloured_scene_moves_the_scene_averaging_estimators_at_most_to_the_bound(method):
    got = wb.illuminant(lit(brick_scene(), (1, 1, 1)), method)
    assert np.all(got >= 1 / wb.MAX_CAST - 1e-9) and np.all(got <= wb.MAX_CAST + 1e-9)
    # Bounded, the correction leaves a red top red and a blue one blue.
    gains = wb.gains_for(got)
    for bgr, name in (((40, 40, 170), "red"), ((150, 70, 40), "blue"), ((30, 30, 30), "black")):
        patch = wb.apply_gains(np.full((4, 4, 3), bgr, np.uint8), gains)
        assert PALETTE[int(np.bincount(name_pixels(patch).ravel()).argmax())] == name, (method, bgr)


def test_blank_or_clipped_backgrounds_and_off_give_the_identity():
    for image in (np.zeros((20, 20, 3), np.uint8), np.full((20, 20, 3), 255, np.uint8)):
        for method in wb.METHODS:
            np.testing.assert_allclose(wb.illuminant(image, method), np.ones(3))
    np.testing.assert_allclose(wb.illuminant(lit(grey_scene(), (0.8, 1, 1.2)), "off"), np.ones(3))
    free = np.zeros((120, 160), bool)  # every pixel had an object on it
    np.testing.assert_allclose(wb.illuminant(lit(grey_scene(), (0.8, 1, 1.2)), "grey-world", free), np.ones(3))


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown white balance"):
        wb.illuminant(lit(grey_scene(), (1, 1, 1)), "retinex")
    with pytest.raises(ValueError, match="unknown white balance"):
        wb.WhiteBalance("retinex")


def test_identity_until_the_first_frame_then_a_quick_estimate_from_it():
    balance = wb.WhiteBalance("grey-pixels")
    np.testing.assert_allclose(balance.gains, np.ones(3))
    crop = np.full((8, 4, 3), (100, 128, 166), np.uint8)
    assert balance.apply(crop) is crop  # unit gains: the pixels as they are
    light = (0.8, 1.0, 1.2)
    balance.offer(cv2.resize(lit(grey_scene(), light), (640, 480), interpolation=cv2.INTER_NEAREST), T0, np.empty(0))
    np.testing.assert_allclose(balance.light, light, atol=0.03)
    off = wb.WhiteBalance("off")
    off.offer(lit(grey_scene(), light), T0, np.empty(0))
    np.testing.assert_allclose(off.gains, np.ones(3))


def test_the_objects_boxes_are_left_out_of_what_it_learns():
    scene = lit(grey_scene(480, 640), (1, 1, 1))
    scene[:, :400] = (200, 60, 30)  # a blue bus fills most of the view
    balance = wb.WhiteBalance("grey-world")
    balance.offer(scene, T0, np.array([[0, 0, 400, 480]]))
    np.testing.assert_allclose(balance.light, np.ones(3), atol=0.03)


def test_each_period_learns_its_own_light_and_samples_are_spaced():
    day, night = (1.0, 1.0, 1.0), (0.8, 1.0, 1.25)
    balance = wb.WhiteBalance("grey-pixels", period_s=600, every_s=2.0)
    start = T0.replace(minute=0)
    for k in range(5):
        balance.offer(lit(grey_scene(seed=k), day), start + timedelta(seconds=k), np.empty(0))
    assert len(balance._frames) == 3  # at 0, 2 and 4 s
    np.testing.assert_allclose(balance.light, day, atol=0.03)
    # Far into the period, the night's light is only one sample among many: still the day's.
    balance.offer(lit(grey_scene(seed=9), night), start + timedelta(seconds=300), np.empty(0))
    np.testing.assert_allclose(balance.light, day, atol=0.03)
    # A new period starts again from its own first sample.
    balance.offer(lit(grey_scene(seed=10), night), start + timedelta(seconds=600), np.empty(0))
    assert len(balance._frames) == 1
    np.testing.assert_allclose(balance.light, night, atol=0.03)


def test_samples_stay_bounded_over_a_long_period():
    balance = wb.WhiteBalance("grey-world", period_s=86400, every_s=1.0)
    for k in range(100):
        balance.offer(lit(grey_scene(seed=k % 3), (1, 1, 1)), T0 + timedelta(seconds=k), np.empty(0))
    assert len(balance._frames) <= wb.WhiteBalance.MAX_SAMPLES
    assert balance.every_s > 1.0


def _person_frame(light) -> tuple[Frame, Detections]:
    """A grey scene and a person in a grey top and grey trousers, all under `light`."""
    scene = grey_scene(480, 640)
    scene[100:300, 300:380] = 128  # the person: mid grey clothes
    return (
        Frame("cam", 0, T0, lit(scene, light)),
        Detections(
            np.array([[300, 100, 380, 300]], np.float32),
            np.ones(1),
            np.array([CLASS_ID["person"]]),
            np.array([1]),
        ),
    )


def test_the_describer_names_balanced_pixels_and_keeps_the_thumbnail_raw():
    light = (0.78, 1.0, 1.3)  # sodium light: grey reads orange-brown
    frame, dets = _person_frame(light)
    raw = Describer("cam")
    raw.observe(frame, dets)
    assert raw.finish(1).upper_colours[0] != "grey"
    balance = wb.WhiteBalance("grey-pixels")
    balance.offer(frame.image, frame.timestamp, dets.xyxy)
    described = Describer("cam", balance=balance)
    described.observe(frame, dets)
    summary = described.finish(1)
    assert summary.upper_colours == ["grey"] and summary.lower_colours == ["grey"]
    thumb = cv2.imdecode(np.frombuffer(summary.thumbnail_jpeg, np.uint8), cv2.IMREAD_COLOR)
    centre = thumb[80:120, 30:50].reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(centre, np.array(light) * 128, atol=6)  # the camera's own colours


def test_the_site_setting_lists_the_methods_and_defaults_to_shades_of_grey():
    field = AnalysisConfig.model_fields["colour_balance"]
    assert set(typing.get_args(field.annotation)) == set(wb.METHODS)
    assert AnalysisConfig().colour_balance == "shades-of-grey"
    assert AnalysisConfig(colour_balance="off").colour_balance == "off"
    with pytest.raises(ValueError, match="colour_balance"):
        AnalysisConfig(colour_balance="retinex")
