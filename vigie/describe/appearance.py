"""The appearance vectors the tracker may ask for, by the name in the site file.

"colour-stripes" is the default: on PETS09 it separates people better than
the ImageNet MobileNetV2 features and costs a hundredth as much
(docs/BENCHMARKS.md); "both" concatenates the two unit vectors and
renormalises, so each weighs the same in the cosine. A trained re-ID network
(omz-*, osnet-*: vigie.describe.backends) may be named too; whether it pays
in association is measured in docs/BENCHMARKS.md §21.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from vigie.describe.backends import describe_boxes
from vigie.describe.backends.registry import NETWORKS, network
from vigie.describe.colour_descriptor import colour_stripes
from vigie.describe.embed import AppearanceEmbedder

Describe = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (image, boxes xyxy) -> (N, D) unit vectors


def build_appearance(name: str, threads: int = 1) -> Describe | None:
    if name == "none":
        return None
    if name == "colour-stripes":
        return colour_stripes
    if name in NETWORKS:
        reid = network(name, threads=threads)
        return lambda image, boxes: describe_boxes(reid, image, boxes)
    embedder = AppearanceEmbedder(threads=threads)
    if name == "mobilenetv2":
        return embedder.embed
    if name == "both":

        def both(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
            return np.hstack([colour_stripes(image, boxes), embedder.embed(image, boxes)]) / np.sqrt(2.0)

        return both
    raise ValueError(f"unknown appearance descriptor {name!r}")
