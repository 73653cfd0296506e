"""A per-camera white balance for colour naming, learnt from the camera's own background.

Colour names are rules on HSV (vigie.describe.colours), so a camera whose
light or sensor tints everything (sodium lamps, a cheap sensor's blue cast)
shifts every name. The correction is von Kries's: one gain per channel,
applied to a person's pixels before they are named, such that the light's
colour, seen on the scene's achromatic surfaces, becomes grey again.

The light is estimated on the camera's background (temporal median of
frames with the tracked objects left out), never on the people being named:

- "grey-world" (Buchsbaum 1980: the scene's mean is grey): the highest figures
  on PETS09-S2L1 and TUD-Stadtmitte together (docs/BENCHMARKS.md §23), but not
  the default: it moves a borderline red-and-navy top between red and blue from
  one half of PETS09 to the other, so a search for a red top misses it.
  It takes part of a lawn's green or a shop window's warm light for the
  light's colour; what it gains there is mostly a blue gain that lifts dark
  navy out of black, so MAX_CAST bounds it.
- "grey-pixels": the densest cluster of pixel chromaticities (log R/G,
  log B/G) inside the window of plausible casts, refined by the mean of the
  pixels near it. Pavement, walls and sky are near grey under any daylight
  or street lamp; a lawn or a brick square is far outside the window and
  simply not counted, so a scene that is really coloured is left alone, and
  when too few background pixels are near grey the gains stay at 1 (Huo et
  al. 2006, "Robust automatic white balance algorithm using gray color
  points", with the mode instead of a fixed threshold). It finds both
  benchmark cameras neutral within 2 %, so it changes almost nothing there.
- "shades-of-grey" (Finlayson and Trezzi 2004: the Minkowski p=6 mean), the
  default: at least as good as raw pixels on both sequences (lower body
  +0.03 / +0.06 of crops), a gentler grey-world that keeps names stable.
- "grey-edge" (van de Weijer et al. 2007: the mean gradient is grey), for
  comparison.

Every estimate is bounded (MAX_CAST per channel against green), and the gains
keep a grey pixel's luma, so black, grey and white keep their thresholds.

`WhiteBalance` learns the gains for one camera as frames go by: it keeps a
small copy (WIDTH px wide) of a frame every `every_s`, object boxes blanked,
and re-estimates on their masked median; the samples start again each period
(day and night get their own light), the gains carried over until the new
period's first sample. Before any frame is seen, the gains are 1 (identity).
Only colour naming sees balanced pixels: thumbnails, search crops and the
re-ID networks keep the raw ones.
"""

from __future__ import annotations

from datetime import datetime

import cv2
import numpy as np

METHODS: tuple[str, ...] = ("grey-pixels", "grey-world", "shades-of-grey", "grey-edge", "off")
MAX_CAST = 1.3  # the strongest light tint corrected: each channel of the light within [1/1.3, 1.3] x green
LUMA = np.array([0.114, 0.587, 0.299])  # BGR weights (ITU-R BT.601): a grey pixel keeps its luma
# grey-pixels: chromaticity histogram bin, and the radius around the mode whose pixels are averaged
_BIN = 0.02
_RADIUS = 0.06
MIN_GREY_SHARE = 0.05  # of the usable background pixels near the mode, or no estimate
_DARK, _BRIGHT = 30, 245  # usable pixels: above noise, below clipping (max channel, 8-bit)
WIDTH = 160  # the learning copy's width: the light is a global property, detail is not needed


def illuminant(background: np.ndarray, method: str = "grey-pixels", free: np.ndarray | None = None) -> np.ndarray:
    """The light's colour (B, G, R), relative (G = 1), estimated on a BGR uint8 background.

    `free` (H x W bool) marks the pixels to use (False: an object stood there).
    Returns (1, 1, 1) when there is nothing to estimate from, or for "off".
    """
    if method not in METHODS:
        raise ValueError(f"unknown white balance method {method!r} (one of {', '.join(METHODS)})")
    if method == "grey-edge":
        return _grey_edge(background, free)
    px = background.reshape(-1, 3).astype(np.float64)
    if free is not None:
        px = px[np.asarray(free).reshape(-1)]
    if method == "off" or len(px) == 0:
        return np.ones(3)
    top = px.max(axis=1)
    px = px[(top >= _DARK) & (top <= _BRIGHT) & (px.min(axis=1) > 0)]
    if len(px) == 0:
        return np.ones(3)
    if method == "grey-world":
        light = px.mean(axis=0)
    elif method == "shades-of-grey":
        light = np.mean(px**6, axis=0) ** (1 / 6)
    else:
        light = _grey_pixels(px)
    return _bounded(light / light[1])


def _grey_pixels(px: np.ndarray) -> np.ndarray:
    """Mode of the chromaticities inside the plausible-cast window, refined by the mean near it."""
    u = np.log(px[:, 2] / px[:, 1])  # log R/G
    v = np.log(px[:, 0] / px[:, 1])  # log B/G
    lim = np.log(MAX_CAST) + _RADIUS
    inside = (np.abs(u) <= lim) & (np.abs(v) <= lim)
    if inside.sum() < MIN_GREY_SHARE * len(px):
        return np.ones(3)
    nb = int(np.ceil(2 * lim / _BIN))
    hist, ue, ve = np.histogram2d(u[inside], v[inside], bins=nb, range=[[-lim, lim], [-lim, lim]])
    # One bin is noise: the densest neighbourhood of about the refining radius is the mode.
    hist = cv2.GaussianBlur(hist.astype(np.float32), (0, 0), _RADIUS / _BIN / 2)
    i, j = np.unravel_index(int(np.argmax(hist)), hist.shape)
    mu, mv = (ue[i] + ue[i + 1]) / 2, (ve[j] + ve[j + 1]) / 2
    near = inside & ((u - mu) ** 2 + (v - mv) ** 2 <= _RADIUS**2)
    if near.sum() < MIN_GREY_SHARE * len(px):
        return np.ones(3)  # no surface of the scene is near grey: a coloured scene, left alone
    # The mean of the near-grey pixels themselves (not of their log ratios): bright ones weigh more.
    return px[near].mean(axis=0)


def _grey_edge(background: np.ndarray, free: np.ndarray | None) -> np.ndarray:
    """Van de Weijer et al. 2007: the mean of each channel's gradient magnitude is achromatic."""
    img = cv2.GaussianBlur(background.astype(np.float32), (0, 0), 1.0)
    grad = np.sqrt(cv2.Sobel(img, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(img, cv2.CV_32F, 0, 1) ** 2)
    ok = (background.max(axis=2) <= _BRIGHT) & (background.max(axis=2) >= _DARK)
    if free is not None:
        ok &= np.asarray(free)
    g = grad[ok].astype(np.float64)
    if len(g) == 0 or g[:, 1].sum() <= 0:
        return np.ones(3)
    light = g.mean(axis=0)
    return _bounded(light / light[1])


def _bounded(light: np.ndarray) -> np.ndarray:
    return np.clip(light, 1 / MAX_CAST, MAX_CAST)


def gains_for(light: np.ndarray) -> np.ndarray:
    """Von Kries gains (B, G, R) that turn the light grey, keeping a grey pixel's luma."""
    # A grey surface seen as s * light becomes s * (LUMA . light) on every channel: same luma, no tint.
    light = np.asarray(light, dtype=np.float64)
    return float(LUMA @ light) / light


def apply_gains(bgr: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """The image with each channel multiplied by its gain (uint8, saturating); itself for unit gains."""
    if np.allclose(gains, 1.0):
        return bgr
    levels = np.arange(256, dtype=np.float64)
    lut = np.clip(np.round(levels[:, None] * np.asarray(gains)[None, :]), 0, 255).astype(np.uint8)
    return cv2.LUT(np.ascontiguousarray(bgr), lut.reshape(256, 1, 3))


class WhiteBalance:
    """One camera's gains, learnt from its background period by period; identity until the first frame."""

    MAX_SAMPLES = 16

    def __init__(self, method: str = "grey-world", period_s: float = 900.0, every_s: float = 2.0) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown white balance method {method!r} (one of {', '.join(METHODS)})")
        self.method, self.period_s, self.base_every_s = method, period_s, every_s
        self.gains = np.ones(3)
        self.light = np.ones(3)
        self._period: float | None = None
        self._reset()

    def _reset(self) -> None:
        self.every_s = self.base_every_s
        self._last: datetime | None = None
        self._frames: list[np.ndarray] = []
        self._free: list[np.ndarray] = []

    def offer(self, image: np.ndarray, timestamp: datetime, boxes: np.ndarray) -> None:
        """Sample this frame if due (boxes: the objects to leave out, in the image's pixels)."""
        if self.method == "off":
            return
        epoch = timestamp.timestamp()
        period = epoch - epoch % self.period_s
        if period != self._period:  # a new period: its own light, from its own samples
            self._period = period
            self._reset()
        if self._last is not None and (timestamp - self._last).total_seconds() < self.every_s:
            return
        self._last = timestamp
        h, w = image.shape[:2]
        scale = min(1.0, WIDTH / w)
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        free = np.ones(small.shape[:2], bool)
        for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * scale:
            mx, my = 0.1 * (x2 - x1), 0.1 * (y2 - y1)  # grown a little: blur and the box's slack
            free[
                max(0, int(y1 - my)) : max(0, int(np.ceil(y2 + my))),
                max(0, int(x1 - mx)) : max(0, int(np.ceil(x2 + mx))),
            ] = False
        self._frames.append(small)
        self._free.append(free)
        if len(self._frames) > self.MAX_SAMPLES:  # keep every other sample, sample half as often
            self._frames, self._free = self._frames[::2], self._free[::2]
            self.every_s *= 2
        n = len(self._frames)
        if n & (n - 1) == 0:  # learnt again at 1, 2, 4, 8 and 16 samples: the median costs ~25 ms, the light
            self.learn(*self._background())  # changes slowly, and every sample counts in the next estimate

    def _background(self) -> tuple[np.ndarray, np.ndarray]:
        """Masked temporal median of the samples, and where it has any free sample."""
        stack = np.stack(self._frames).astype(np.float32)
        free = np.stack(self._free)
        if len(stack) == 1:
            return self._frames[0], free[0]
        stack[~free] = np.nan
        seen = free.any(axis=0)
        stack[:, ~seen] = 0.0
        return np.nan_to_num(np.nanmedian(stack, axis=0)).round().astype(np.uint8), seen

    def learn(self, background: np.ndarray, free: np.ndarray | None = None) -> None:
        """Set the gains from a background image (e.g. a finished period's)."""
        self.light = illuminant(background, self.method, free)
        self.gains = gains_for(self.light)

    def apply(self, bgr: np.ndarray) -> np.ndarray:
        return apply_gains(bgr, self.gains)
