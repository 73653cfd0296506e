"""Upgrade a store's appearance vectors to a new backend without decoding any video again.

A person track analysed with an older appearance backend keeps that backend's crop
descriptors (`track_crops`), which a new backend cannot read. Where the track's synopsis
tube is kept (its pixels in every analysed frame, vigie.synopsis.capture), its crops are
cut out of the tube again and described by the new backend: up to `max_crops` frames
spread over the track, the same budget as a fresh analysis (analysis.search_crops). A track
without a tube (synopsis off, or purged) cannot be upgraded: `vigie adapt` counts them and
says which recordings to analyse again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from vigie.describe.crops import MIN_HEIGHT_PX
from vigie.describe.reid import pool
from vigie.synopsis.capture import decode_tube


@dataclass
class RedescribeReport:
    tracks: int = 0  # re-described from their tubes
    crops: int = 0
    without_crops: int = 0  # tubes whose every box was too small to describe
    without_tube: int = 0  # tracks of another descriptor that no tube can upgrade

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def tube_crops(blob: bytes, max_crops: int) -> tuple[list[int], list[np.ndarray]]:
    """(frame seqs, BGR crops of the object's box) of up to `max_crops` frames spread evenly over the tube."""
    tube = decode_tube(blob)
    usable = [k for k in range(len(tube)) if tube.boxes[k][3] - tube.boxes[k][1] >= MIN_HEIGHT_PX]
    if not usable:
        return [], []
    picks = [usable[int(i)] for i in np.unique(np.linspace(0, len(usable) - 1, min(max_crops, len(usable))).round())]
    seqs, crops = [], []
    for k in picks:
        image = tube.image(k)
        rx1, ry1 = int(tube.rects[k][0]), int(tube.rects[k][1])
        bx1, by1, bx2, by2 = tube.boxes[k]
        x1, y1 = max(0, int(np.floor(bx1)) - rx1), max(0, int(np.floor(by1)) - ry1)
        x2, y2 = min(image.shape[1], int(np.ceil(bx2)) - rx1), min(image.shape[0], int(np.ceil(by2)) - ry1)
        if x2 - x1 >= 2 and y2 - y1 >= 2:
            seqs.append(int(tube.seqs[k]))
            crops.append(image[y1:y2, x1:x2])
    return seqs, crops


def redescribe_from_tubes(
    store, backend, max_crops: int = 16, progress: Callable[[int, int], None] | None = None
) -> RedescribeReport:
    """Describe again, with `backend`, every person track whose crops are of another descriptor and
    whose tube is kept; each track's crops and plain vector are replaced in one transaction."""
    counts = store.crops_of_other_bases(backend.name)
    report = RedescribeReport(without_tube=counts["without_tube"])
    total = counts["with_tube"]
    for done, (track_id, blob) in enumerate(store.tubes_to_redescribe(backend.name), 1):
        seqs, crops = tube_crops(blob, max_crops)
        if crops:
            described = backend.describe_crops(crops)
            store.replace_crops(track_id, backend.name, seqs, described, pool(described))
            report.tracks += 1
            report.crops += len(crops)
        else:
            report.without_crops += 1
        if progress:
            progress(done, total)
    return report
