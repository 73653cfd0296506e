"""The appearance vectors the tracker may ask for, by the name in the site file.

A trained re-ID network (omz-*, osnet-*: vigie.describe.backends) is the default,
omz-0288: on PETS09-S2L1 and TUD-Stadtmitte together it raises IDF1 well above the
colour stripes (docs/BENCHMARKS.md §22). "colour-stripes" (HSV histograms of the upper
and lower body) separates people better than the ImageNet MobileNetV2 features and
costs a hundredth as much; "both" concatenates the two unit vectors and renormalises,
so each weighs the same in the cosine.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from vigie.describe.backends import describe_boxes
from vigie.describe.backends.registry import NETWORKS, network
from vigie.describe.colour_descriptor import colour_stripes
from vigie.describe.embed import AppearanceEmbedder
from vigie.errors import ModelFileMissing

log = logging.getLogger(__name__)

Describe = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (image, boxes xyxy) -> (N, D) unit vectors


def _describer(reid) -> Describe:
    return lambda image, boxes: describe_boxes(reid, image, boxes)


def build_appearance(name: str, threads: int = 1) -> Describe | None:
    if name == "none":
        return None
    if name == "colour-stripes":
        return colour_stripes
    if name in NETWORKS:
        return _describer(network(name, threads=threads))
    embedder = AppearanceEmbedder(threads=threads)
    if name == "mobilenetv2":
        return embedder.embed
    if name == "both":

        def both(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
            return np.hstack([colour_stripes(image, boxes), embedder.embed(image, boxes)]) / np.sqrt(2.0)

        return both
    raise ValueError(f"unknown appearance descriptor {name!r}")


def resolve_appearance(name: str, threads: int = 1) -> tuple[Describe | None, str]:
    """The tracker's appearance function and the name of the descriptor it really is: a re-ID
    network whose model file is absent gives way to the colour stripes, with a warning that
    names the file (a registry package ships no re-ID network; the file is what improves
    identity keeping)."""
    if name in NETWORKS:
        reid = network(name, threads=threads)
        try:
            reid.check()  # loads the file: the same network then serves the tracker
        except ModelFileMissing as exc:
            log.warning(
                "%s; the tracker uses colour stripes instead. With the file, people keep their identity "
                "better through crossings (docs/BENCHMARKS.md section 22: TUD-Stadtmitte IDF1 0.89 instead of 0.77).",
                exc,
            )
            return colour_stripes, "colour-stripes"
        return _describer(reid), name
    return build_appearance(name, threads), name
