"""Blurring video at the speed of video: faces searched on a schedule and carried over neighbouring frames.

A whole-frame CenterFace search costs about 120 ms on a 768x576 frame and 670 ms on a 1080p one (one
thread), against about 11 ms per tracked person box. Issue 21's decision, implemented here:

1. every frame: faces are searched inside the tracked person boxes (upscaled, where CCTV's small faces
   are found: Blurrer.find_faces_in), and plates inside the vehicle boxes;
2. every `every`-th frame (5), the whole frame is searched too (the faces of people no track holds:
   missed detections, a face at a window, a driver);
3. each face found on frame j is also blurred on the frames j-carry .. j+carry around it (carry 2), in a
   window grown by a margin for the distance it may have moved meanwhile (`grow_per_s` of its size per
   second apart: about 4 face widths a second for someone walking across the view). With every <= 2 *
   carry + 1, every frame is within `carry` frames of a whole-frame search, so a face the whole-frame
   search finds on one frame is blurred on all its neighbours until the next search (the last frame is
   searched too when it is more than `carry` frames after the last search);
   the carry also fills the frames where the per-box search flickers.

Carrying faces backwards needs the frames after: frames leave `carry` + 1 frames late (3 frames in a
streamed clip: the one more is for the last frame, whose whole-frame search is only known to be due
when the video ends). `whole_side` optionally caps the whole frame's long side for its search (the
1080p cost), at the price of the faces too small at that scale: bench/blur_schedule.py measures both.

    schedule = FaceSchedule(Blurrer())
    for payload, blurred, regions in schedule.run((image, person_boxes, vehicle_boxes, payload) for ...):
        ...
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from vigie.privacy.blur import BlurRegion, face_window, obscure_all

EVERY = 5  # the whole-frame search, every 5th frame (issue 21)
CARRY = 2  # a face found on a frame is blurred this many frames before and after it
GROW_PER_S = 4.0  # a carried face's window grows by this many face sizes per second apart (walking pace)


def whole_frame_frames(n: int, every: int = EVERY, carry: int = CARRY) -> list[int]:
    """The frames of an n-frame video whose whole frame is searched: every `every`-th, and the last when
    it is more than `carry` frames after the one before (FaceSchedule.run does exactly this)."""
    if n <= 0:
        return []
    chosen = list(range(0, n, every))
    return chosen if n - 1 - chosen[-1] <= carry else chosen + [n - 1]


@dataclass
class _Frame:
    index: int
    image: np.ndarray
    payload: object
    faces: list[BlurRegion] = field(default_factory=list)
    plates: list[BlurRegion] = field(default_factory=list)
    whole: bool = False


class FaceSchedule:
    """Blur a sequence of frames with the schedule above; one instance per video (it keeps a few frames).

    blurrer: a vigie.privacy.blur.Blurrer (its find_faces, find_faces_in, find_plates, style).
    fps: the video's rate, to turn frames apart into seconds for the carried faces' margin.
    """

    def __init__(
        self,
        blurrer,
        fps: float = 25.0,
        every: int = EVERY,
        carry: int = CARRY,
        grow_per_s: float = GROW_PER_S,
        whole_side: int | None = None,
    ) -> None:
        if every < 1 or carry < 0 or every > 2 * carry + 1:
            raise ValueError(
                f"every ({every}) must be between 1 and 2 * carry + 1 ({2 * carry + 1}): "
                "otherwise some frames are not within `carry` frames of a whole-frame search"
            )
        if not fps > 0:
            raise ValueError(f"fps must be > 0, not {fps}")
        self.blurrer, self.fps, self.every, self.carry = blurrer, float(fps), every, carry
        self.grow_per_s, self.whole_side = grow_per_s, whole_side
        self.searched_whole: list[int] = []  # frame indexes whose whole frame was searched, for tests and benches

    def _search_whole(self, f: _Frame) -> None:
        f.faces += self.blurrer.find_faces(f.image, max_side=self.whole_side)
        f.whole = True
        self.searched_whole.append(f.index)

    def run(self, frames: Iterable[tuple]) -> Iterator[tuple[object, np.ndarray, list[BlurRegion]]]:
        """(image, person_boxes, vehicle_boxes, payload) in -> (payload, blurred copy, regions) out, in order.

        Boxes are xyxy in the image's pixels (or None). Regions are the faces and plates blurred on that
        frame: its own, and the faces carried from its neighbours (their windows grown).
        """
        window: deque[_Frame] = deque()
        index = -1
        for index, (image, persons, vehicles, payload) in enumerate(frames):
            f = _Frame(index, image, payload)
            # Step 1: the tracked boxes, every frame.
            f.faces = self.blurrer.find_faces_in(image, persons)
            f.plates = self.blurrer.find_plates(image, vehicles)
            # Step 2: the whole frame, on the schedule.
            if index % self.every == 0:
                self._search_whole(f)
            window.append(f)
            # Step 3: frame index - carry - 1 has all its neighbours searched, and none of them can be the
            # last frame (searched whole at the end when needed): it can go.
            if len(window) > self.carry + 1:
                yield self._emit(window, window[-2 - self.carry])
            while window and window[0].index < index - 1 - 2 * self.carry:
                window.popleft()
        if index < 0:
            return
        # The last frame's whole frame, when no search is within `carry` frames before it.
        last = window[-1]
        if not any(f.whole for f in window if f.index >= last.index - self.carry):
            self._search_whole(last)
        for f in [f for f in window if f.index >= index - self.carry]:
            yield self._emit(window, f)

    def _emit(self, window: deque[_Frame], f: _Frame) -> tuple[object, np.ndarray, list[BlurRegion]]:
        regions: list[BlurRegion] = list(f.plates) + list(f.faces)
        shape = f.image.shape
        for other in window:
            apart = abs(other.index - f.index)
            if apart == 0 or apart > self.carry:
                continue
            grow = self.grow_per_s * apart / self.fps
            for face in other.faces:
                regions.append(
                    BlurRegion(
                        "face",
                        face.score,
                        face.polygon,
                        face_window(face.xyxy, shape, self.blurrer.face_enlarge, self.blurrer.margin + grow),
                    )
                )
        out = f.image.copy()
        obscure_all(out, [r.blurred_xyxy for r in regions], self.blurrer.style)
        return f.payload, out, regions
