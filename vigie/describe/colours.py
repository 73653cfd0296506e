"""Colour names of clothing and vehicles, from the 11 basic colour terms.

Berlin and Kay's basic terms (black, white, grey, red, orange, yellow, green,
blue, purple, pink, brown) are what witnesses and operators say. Each pixel is
named by rules on HSV (hue decides the chromatic names, value and saturation
the achromatic ones and brown/pink), then a region's names are ranked by
their share of its pixels. Rules rather than nearest-prototype, because CCTV
colours are washed out: a faded red top is low-saturation red, not pink.
"""

from __future__ import annotations

import cv2
import numpy as np

PALETTE: tuple[str, ...] = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
)
_INDEX = {n: i for i, n in enumerate(PALETTE)}


def name_pixels(bgr: np.ndarray) -> np.ndarray:
    """Index into PALETTE for every pixel of an (..., 3) uint8 BGR array."""
    shape = bgr.shape[:-1]
    hsv = cv2.cvtColor(bgr.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_BGR2HSV_FULL).reshape(-1, 3).astype(np.int32)
    hue = hsv[:, 0] * 360 // 256  # degrees
    sat = hsv[:, 1] / 255.0
    val = hsv[:, 2] / 255.0
    out = np.empty(len(hsv), dtype=np.int8)

    # Chromatic names by hue first ...
    out[:] = _INDEX["red"]
    out[(hue >= 15) & (hue < 40)] = _INDEX["orange"]
    out[(hue >= 40) & (hue < 70)] = _INDEX["yellow"]
    out[(hue >= 70) & (hue < 170)] = _INDEX["green"]
    out[(hue >= 170) & (hue < 260)] = _INDEX["blue"]
    out[(hue >= 260) & (hue < 300)] = _INDEX["purple"]
    out[(hue >= 300) & (hue < 340)] = _INDEX["pink"]
    # ... then the light desaturated reds and magentas read as pink,
    out[((hue >= 340) | (hue < 15)) & (val > 0.7) & (sat < 0.5) & (sat >= 0.15)] = _INDEX["pink"]
    # dark oranges and reds read as brown,
    warm = (hue >= 5) & (hue < 45)
    out[warm & (val < 0.6) & (sat >= 0.25)] = _INDEX["brown"]
    out[warm & (val >= 0.6) & (sat >= 0.2) & (sat < 0.45)] = _INDEX["brown"]
    # and too little saturation or light leaves only black, grey and white.
    chroma = sat * val  # how far from the grey axis, in HSV's cone
    achromatic = (chroma < 0.12) | (val < 0.2)
    grey_level = val
    out[achromatic & (grey_level < 0.25)] = _INDEX["black"]
    out[achromatic & (grey_level >= 0.25) & (grey_level < 0.75)] = _INDEX["grey"]
    out[achromatic & (grey_level >= 0.75)] = _INDEX["white"]
    return out.reshape(shape)


def colour_shares(bgr: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Share of each PALETTE name among the (masked) pixels; sums to 1, or all zero."""
    pixels = bgr.reshape(-1, 3)
    if mask is not None:
        pixels = pixels[mask.reshape(-1) > 0]
    if len(pixels) == 0:
        return np.zeros(len(PALETTE))
    counts = np.bincount(name_pixels(pixels), minlength=len(PALETTE)).astype(float)
    return counts / counts.sum()


def dominant_names(shares: np.ndarray, min_share: float = 0.2, max_names: int = 2) -> list[str]:
    """The colour names that cover at least min_share, most first (at least one)."""
    if shares.sum() <= 0:
        return []
    order = np.argsort(shares)[::-1]
    names = [PALETTE[i] for i in order[:max_names] if shares[i] >= min_share]
    return names or [PALETTE[order[0]]]


# Body parts of a standing person, as fractions of the box height: the head and
# feet are left out (hair, skin and pavement are not clothing).
UPPER_BODY = (0.18, 0.50)
LOWER_BODY = (0.52, 0.88)


def body_part(crop: np.ndarray, part: tuple[float, float]) -> tuple[slice, slice]:
    """Rows of the part, and the central columns (the box edges are background)."""
    h, w = crop.shape[:2]
    return slice(int(h * part[0]), max(int(h * part[0]) + 1, int(h * part[1]))), slice(
        int(w * 0.2), max(int(w * 0.2) + 1, int(w * 0.8))
    )
