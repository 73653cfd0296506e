"""vigie.privacy.schedule: which frames get the whole-frame face search, and faces carried over neighbours.

The schedule's own logic is tested with a recording finder (it answers the faces a table gives for each
frame and records what it was asked), so that every case is exact; the last test runs the real Blurrer
on PETS09 frames and checks that what the whole-frame search finds on one frame is blurred on its
neighbours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vigie.errors import ModelError
from vigie.privacy import blur as B
from vigie.privacy.schedule import FaceSchedule, whole_frame_frames

PETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pets09-s2l1"


class RecordingFinder:
    """Answers the faces of `whole[frame]` to a whole-frame search and `boxed[frame]` to a search in boxes.

    Frames are told apart by their first pixel's value (the frame number): the schedule passes images only.
    """

    style, face_enlarge, margin = "blur", B.FACE_ENLARGE, 0.1

    def __init__(self, whole=None, boxed=None):
        self.whole, self.boxed = whole or {}, boxed or {}
        self.asked_whole, self.asked_boxed = [], []

    @staticmethod
    def _face(box):
        return B.BlurRegion("face", 0.9, B._corners(*box), B.face_window(box, (120, 160, 3)))

    def find_faces(self, image, max_side=None):
        n = int(image[0, 0, 0])
        self.asked_whole.append(n)
        return [self._face(b) for b in self.whole.get(n, [])]

    def find_faces_in(self, image, boxes):
        n = int(image[0, 0, 0])
        self.asked_boxed.append((n, None if boxes is None else len(boxes)))
        return [self._face(b) for b in self.boxed.get(n, [])]

    def find_plates(self, image, boxes):
        return []


TEXTURE = np.random.default_rng(21).integers(0, 256, (120, 160, 3), dtype=np.uint8)  # a blur changes it


def frames(n, persons=None):
    for i in range(n):
        image = TEXTURE.copy()
        image[0, 0] = i
        yield image, persons, None, i


def blurred_at(out, xy):
    """Frame numbers where the pixels around (x, y) were changed by a blur window."""
    x, y = xy
    return [
        p
        for p, image, _ in out
        if not np.array_equal(image[y - 1 : y + 2, x - 1 : x + 2], TEXTURE[y - 1 : y + 2, x - 1 : x + 2])
    ]


@pytest.mark.parametrize(
    "n, expected",
    [(0, []), (1, [0]), (3, [0]), (4, [0, 3]), (6, [0, 5]), (11, [0, 5, 10]), (13, [0, 5, 10]), (14, [0, 5, 10, 13])],
)
def test_whole_frame_frames(n, expected):
    assert whole_frame_frames(n) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 6, 11, 13, 17])
def test_every_frame_is_searched_in_boxes_and_the_whole_frame_on_the_schedule(n):
    finder = RecordingFinder()
    schedule = FaceSchedule(finder, fps=25)
    out = list(schedule.run(frames(n, persons=[(10, 10, 40, 100)])))
    assert [payload for payload, _, _ in out] == list(range(n))  # all frames, in order
    assert finder.asked_boxed == [(i, 1) for i in range(n)]
    assert finder.asked_whole == schedule.searched_whole == whole_frame_frames(n)
    searched = schedule.searched_whole
    # Every frame within `carry` (2) frames of a whole-frame search: the carried faces reach it.
    assert all(min(abs(i - s) for s in searched) <= 2 for i in range(n))


def test_a_face_found_on_a_searched_frame_is_blurred_on_its_neighbours():
    face = (60, 40, 70, 52)
    finder = RecordingFinder(whole={5: [face]})
    out = list(FaceSchedule(finder, fps=25).run(frames(11)))
    assert blurred_at(out, (65, 46)) == [3, 4, 5, 6, 7]
    regions = {payload: r for payload, _, r in out}
    assert len(regions[5]) == 1 and len(regions[4]) == 1 and regions[2] == []
    # Carried windows grow with the distance: frame 3's is larger than frame 4's, which is larger than 5's.
    sizes = [np.subtract(*np.reshape(regions[i][0].blurred_xyxy, (2, 2))[::-1]).prod() for i in (5, 4, 3)]
    assert sizes[0] < sizes[1] < sizes[2]


def test_faces_found_in_boxes_are_carried_too_filling_a_missed_frame():
    face = (20, 20, 30, 32)
    finder = RecordingFinder(boxed={i: [face] for i in (1, 2, 4, 5)})  # the per-box search misses frame 3
    out = list(FaceSchedule(finder, fps=25).run(frames(7, persons=[(10, 10, 40, 100)])))
    assert blurred_at(out, (25, 26)) == [0, 1, 2, 3, 4, 5, 6]


def test_the_last_frame_is_searched_so_the_tail_is_covered():
    face = (100, 60, 112, 74)
    finder = RecordingFinder(whole={13: [face]})
    schedule = FaceSchedule(finder, fps=25)
    out = list(schedule.run(frames(14)))
    assert schedule.searched_whole == [0, 5, 10, 13]
    assert blurred_at(out, (106, 67)) == [11, 12, 13]


def test_the_schedule_must_cover_every_frame():
    with pytest.raises(ValueError, match=r"every \(6\) must be between 1 and 2 \* carry \+ 1 \(5\)"):
        FaceSchedule(RecordingFinder(), every=6, carry=2)
    with pytest.raises(ValueError, match="fps must be > 0"):
        FaceSchedule(RecordingFinder(), fps=0)


def test_the_input_frames_are_not_modified():
    finder = RecordingFinder(whole={0: [(60, 40, 70, 52)]})
    source = list(frames(3))
    out = list(FaceSchedule(finder).run(iter(source)))
    assert all(np.array_equal(img[1:], TEXTURE[1:]) for img, *_ in source)
    assert blurred_at(out, (65, 46)) == [0, 1, 2]


@pytest.mark.timeout(120)
def test_real_faces_found_by_the_whole_frame_search_are_blurred_on_the_neighbouring_frames():
    import cv2

    try:
        B.face_model_path()
    except ModelError as exc:
        pytest.skip(str(exc))
    video = PETS / "vtest.avi"
    if not video.is_file():
        pytest.skip(f"PETS09 not found under {PETS}")
    cap = cv2.VideoCapture(str(video))
    images = []
    while len(images) < 8:
        ok, frame = cap.read()
        if not ok:
            break
        images.append(frame)
    cap.release()
    # Upscaled 2x, PETS09's faces are large enough for the whole-frame search.
    images = [cv2.resize(im, None, fx=2, fy=2) for im in images]
    blurrer = B.Blurrer(plates=False)
    schedule = FaceSchedule(blurrer, fps=7)
    out = list(schedule.run((im, None, None, i) for i, im in enumerate(images)))
    assert schedule.searched_whole == [0, 5]
    found = blurrer.find_faces(images[0])
    assert found, "CenterFace finds no face on PETS09's first frame upscaled 2x"
    for payload, blurred, regions in out[1:3]:  # frames 1 and 2 carry frame 0's faces
        for face in found:
            x1, y1, x2, y2 = (int(v) for v in face.xyxy)
            assert not np.array_equal(blurred[y1:y2, x1:x2], images[payload][y1:y2, x1:x2])
        assert len(regions) >= len(found)
