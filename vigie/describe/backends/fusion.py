"""Several re-ID networks side by side: the default appearance vector.

Each member network describes the crop (and, where `flip`, its left-right mirror too,
the two vectors added and normalised). The members' unit vectors are placed side by
side and divided by the square root of their number, so the fused vector has unit
length and its cosine is the mean of the members' cosines: no member's weight is
learned, so nothing is fitted to one data set.

On CUHK03's two cameras, 0277 + 0286 find the right person first 0.857 of the time
(mAP 0.840), where the better network alone gives 0.845 (0.816); adding 0287 or
OSNet x0.5 lowers it, and mirroring adds 0.002-0.003 for twice the CPU, so it is off
by default (docs/BENCHMARKS.md §21). The site adaptation (vigie.search.adapt) then
removes each camera's own bias from each member's block.
"""

from __future__ import annotations

import numpy as np

from vigie.describe.backends import unit


class Fusion:
    def __init__(self, name: str, members: list, flip: bool = False) -> None:
        self.name, self.members, self.flip = name, members, flip
        self.licence = "; ".join(sorted({m.licence for m in members}))

    @property
    def dim(self) -> int:
        return sum(m.dim for m in self.members)

    @property
    def blocks(self) -> list[int]:
        """Each member's width in the fused vector, in order (the adaptation normalises them one by one)."""
        return [m.dim for m in self.members]

    def check(self) -> None:
        """Every member's model file found and loaded (a ModelError naming the file otherwise)."""
        for member in self.members:
            member.check()

    def describe_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), np.float32)
        parts = []
        for member in self.members:
            v = member.describe_crops(crops)
            if self.flip:
                v = unit(v + member.describe_crops(crops, flip=True))
            parts.append(v)
        return (np.hstack(parts) / np.sqrt(len(parts))).astype(np.float32)
