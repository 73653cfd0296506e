"""A few good crops of each person, spread over the track, described for search.

Searching and `vigie adapt` need several views of a person, not one: the
pose, the side seen and the light change as they walk. Each track keeps at
most `max_crops` crops (the pixels of its box, a few kilobytes each), taken
every `interval` observations; when full, every other one is dropped and the
interval doubles, so the kept crops stay evenly spread over a track of any
length. They are described only when the track ends, in one batch: a
network run for each crop kept, none for those dropped on the way. The same
crops feed the attribute network (clothing, carried objects; a vehicle's type
and colour), whose scores are pooled over them.

Only clean views are kept: boxes that no other box overlaps much (an
occluder's clothes are not ours) and that the image border does not cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vigie.describe.embed import crop_windows

MAX_OVERLAP = 0.3  # IoU with any other box
ATTRIBUTE_CROPS = 8  # crops of a track the attribute network sees
MIN_HEIGHT_PX = 32  # in the analysed image
BORDER_PX = 2


@dataclass
class _Crops:
    seen: int = 0
    interval: int = 1
    seqs: list[int] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)


@dataclass
class TakenCrops:
    """What an ended track's kept crops gave: their frames, and for each crop its appearance
    vector and attribute scores (None where the sampler has no such network)."""

    seqs: list[int]
    vectors: np.ndarray | None
    attribute_scores: np.ndarray | None


class CropSampler:
    def __init__(
        self, describe, describe_name: str, max_crops: int = 16, first_interval: int = 2, attributes=None
    ) -> None:
        if max_crops < 2:
            raise ValueError("max_crops must be at least 2")
        self.describe = describe  # (list of BGR crops) -> (N, D) unit vectors; None: no vectors
        self.describe_name = describe_name  # what the vectors are, as stored (track_crops.base)
        self.attributes = attributes  # (list of BGR crops) -> (N, K) scores; None: no attributes
        self.max_crops = max_crops
        self.first_interval = first_interval
        self._live: dict[int, _Crops] = {}

    def offer(self, image: np.ndarray, seq: int, track_ids, boxes: np.ndarray, overlap: np.ndarray) -> None:
        """This frame's boxes of the tracks to sample: the clean ones due are copied."""
        h, w = image.shape[:2]
        take, states = [], []
        for i, tid in enumerate(track_ids):
            st = self._live.setdefault(int(tid), _Crops(interval=self.first_interval))
            st.seen += 1
            if (st.seen - 1) % st.interval:
                continue
            x1, y1, x2, y2 = boxes[i]
            clean = (
                overlap[i] < MAX_OVERLAP
                and y2 - y1 >= MIN_HEIGHT_PX
                and x1 >= BORDER_PX
                and y1 >= BORDER_PX
                and x2 <= w - BORDER_PX
                and y2 <= h - BORDER_PX
            )
            if not clean:
                st.seen -= 1  # try again next frame rather than lose this slot
                continue
            take.append(i)
            states.append(st)
        if not take:
            return
        for st, (x1, y1, x2, y2) in zip(states, crop_windows(image.shape, boxes[take])):
            st.seqs.append(seq)
            st.images.append(image[y1:y2, x1:x2].copy())
            if len(st.images) > self.max_crops:
                st.seqs, st.images = st.seqs[::2], st.images[::2]
                st.interval *= 2

    def take(self, track_id: int) -> tuple[list[int], np.ndarray] | None:
        """The kept (seqs, (K, D) descriptors) of an ended track, described now; None if it has none."""
        taken = self.take_all(track_id)
        return None if taken is None or taken.vectors is None else (taken.seqs, taken.vectors)

    def take_all(self, track_id: int) -> TakenCrops | None:
        """An ended track's kept crops, described now by each network the sampler has; None if it has none."""
        st = self._live.pop(track_id, None)
        if st is None or not st.images:
            return None
        # The attributes pool over at most ATTRIBUTE_CROPS of them, evenly spread: clothing does not
        # change along a track, and their pooled states are the same as from all of them (§24).
        spread = st.images[:: max(1, -(-len(st.images) // ATTRIBUTE_CROPS))]
        return TakenCrops(
            st.seqs,
            None if self.describe is None else np.asarray(self.describe(st.images), dtype=np.float32),
            None if self.attributes is None else np.asarray(self.attributes(spread), dtype=np.float32),
        )

    def drop(self, track_id: int) -> None:
        self._live.pop(track_id, None)
