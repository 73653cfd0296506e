import numpy as np
import pytest

from vigie.describe.colours import (
    LOWER_BODY,
    PALETTE,
    UPPER_BODY,
    body_part,
    colour_shares,
    dominant_names,
    name_pixels,
)


def bgr(r: int, g: int, b: int) -> tuple[int, int, int]:
    return (b, g, r)


def solid(colour: tuple[int, int, int], h: int = 10, w: int = 10) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = colour
    return img


@pytest.mark.parametrize(
    "colour, name",
    [
        (bgr(0, 0, 0), "black"),
        (bgr(20, 20, 25), "black"),
        (bgr(255, 255, 255), "white"),
        (bgr(128, 128, 128), "grey"),
        (bgr(90, 90, 95), "grey"),
        (bgr(255, 0, 0), "red"),
        (bgr(220, 20, 60), "red"),  # crimson
        (bgr(139, 0, 0), "red"),  # dark red
        (bgr(128, 0, 0), "red"),  # maroon
        (bgr(255, 165, 0), "orange"),
        (bgr(255, 140, 0), "orange"),  # dark orange
        (bgr(255, 255, 0), "yellow"),
        (bgr(255, 215, 0), "yellow"),  # gold
        (bgr(0, 128, 0), "green"),
        (bgr(0, 255, 0), "green"),
        (bgr(0, 100, 0), "green"),  # dark green
        (bgr(0, 0, 255), "blue"),
        (bgr(0, 0, 128), "blue"),  # navy
        (bgr(173, 216, 230), "blue"),  # light blue
        (bgr(128, 0, 128), "purple"),
        (bgr(75, 0, 130), "purple"),  # indigo
        (bgr(255, 192, 203), "pink"),
        (bgr(255, 105, 180), "pink"),  # hot pink
        (bgr(150, 75, 0), "brown"),
        (bgr(139, 69, 19), "brown"),  # saddle brown
        (bgr(101, 67, 33), "brown"),  # dark brown
        (bgr(210, 180, 140), "brown"),  # tan
    ],
)
def test_name_pixels_on_known_colours(colour, name):
    assert PALETTE[name_pixels(np.array([[colour]], np.uint8))[0, 0]] == name
    # the same answer for a whole patch, keeping the patch's shape
    names = name_pixels(solid(colour, 3, 5))
    assert names.shape == (3, 5)
    assert set(names.ravel().tolist()) == {PALETTE.index(name)}


def test_palette_is_the_eleven_basic_terms():
    assert sorted(PALETTE) == sorted(
        ["black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown"]
    )


def shares(**named: float) -> np.ndarray:
    s = np.zeros(len(PALETTE))
    for name, value in named.items():
        s[PALETTE.index(name)] = value
    return s


@pytest.mark.parametrize(
    "given, kwargs, expected",
    [
        (shares(red=0.6, blue=0.3, grey=0.1), {}, ["red", "blue"]),
        (shares(blue=0.3, red=0.6, grey=0.1), {}, ["red", "blue"]),  # most first, whatever the palette order
        (shares(red=0.4, blue=0.3, grey=0.3), {}, ["red", "blue"]),  # at most two names by default
        (shares(red=0.4, blue=0.35, grey=0.25), {"max_names": 3}, ["red", "blue", "grey"]),
        (shares(red=0.85, blue=0.15), {}, ["red"]),  # 0.15 is under min_share
        (shares(red=0.8, blue=0.2), {}, ["red", "blue"]),  # at min_share counts
        (shares(red=0.16, blue=0.14, **{n: 0.7 / 9 for n in PALETTE if n not in ("red", "blue")}), {}, ["red"]),
        (np.zeros(len(PALETTE)), {}, []),  # nothing seen: no name
        (shares(green=0.5, yellow=0.3, white=0.2), {"min_share": 0.4}, ["green"]),
    ],
    ids=[
        "two",
        "order",
        "max two",
        "max three",
        "under min_share",
        "at min_share",
        "all under min_share: still the top one",
        "nothing",
        "min_share",
    ],
)
def test_dominant_names(given, kwargs, expected):
    assert dominant_names(given, **kwargs) == expected


def test_colour_shares_sum_to_one_in_pixel_proportions():
    img = np.concatenate([solid(bgr(255, 0, 0), 3, 10), solid(bgr(0, 0, 255), 7, 10)])
    s = colour_shares(img)
    assert s.sum() == pytest.approx(1.0)
    assert s[PALETTE.index("red")] == pytest.approx(0.3)
    assert s[PALETTE.index("blue")] == pytest.approx(0.7)


def test_colour_shares_with_a_mask_ignores_masked_out_pixels():
    img = np.concatenate([solid(bgr(255, 0, 0), 4, 10), solid(bgr(0, 128, 0), 6, 10)])
    mask = np.zeros((10, 10), np.uint8)
    mask[:4] = 255  # only the red rows
    mask[4, :3] = 1  # any non-zero value counts as foreground
    s = colour_shares(img, mask)
    assert s[PALETTE.index("red")] == pytest.approx(40 / 43)
    assert s[PALETTE.index("green")] == pytest.approx(3 / 43)
    assert dominant_names(colour_shares(img, mask)) == ["red"]
    assert dominant_names(colour_shares(img)) == ["green", "red"]


def test_colour_shares_of_nothing_is_all_zero():
    img = solid(bgr(255, 0, 0))
    assert colour_shares(img, np.zeros((10, 10), np.uint8)).sum() == 0
    assert colour_shares(np.zeros((0, 5, 3), np.uint8)).sum() == 0


def person_crop(top=bgr(220, 0, 0), bottom=bgr(0, 0, 200), h=200, w=80) -> np.ndarray:
    """A standing person: skin head, top colour, bottom colour, grey pavement at
    the feet, green background on both sides."""
    crop = np.zeros((h, w, 3), np.uint8)
    crop[: int(0.15 * h)] = bgr(224, 172, 105)  # head
    crop[int(0.15 * h) : h // 2] = top
    crop[h // 2 : int(0.9 * h)] = bottom
    crop[int(0.9 * h) :] = bgr(128, 128, 128)  # feet on the pavement
    crop[:, : int(0.15 * w)] = bgr(0, 140, 0)  # background left and right
    crop[:, int(0.85 * w) :] = bgr(0, 140, 0)
    return crop


@pytest.mark.parametrize("h, w", [(200, 80), (97, 31), (40, 15)])
def test_body_parts_of_a_red_top_blue_trousers_person(h, w):
    crop = person_crop(h=h, w=w)
    upper = crop[body_part(crop, UPPER_BODY)]
    lower = crop[body_part(crop, LOWER_BODY)]
    assert dominant_names(colour_shares(upper)) == ["red"]
    assert dominant_names(colour_shares(lower)) == ["blue"]


def test_body_part_of_a_tiny_crop_is_never_empty():
    crop = solid(bgr(255, 0, 0), 2, 2)
    for part in (UPPER_BODY, LOWER_BODY):
        assert crop[body_part(crop, part)].size > 0
