"""Tiled detection: the grid covers the frame, and a person cut by a tile
border comes out as one box."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vigie.config import TilingConfig
from vigie.detect.tiling import TiledDetector, merge, tile_grid
from vigie.types import CLASS_ID, Detections


class RedBlobDetector:
    """A stand-in detector: every red blob of the image it is given is a person."""

    def __init__(self, min_height: int = 0) -> None:
        self.calls = 0
        self.min_height = min_height

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        red = ((image[:, :, 2] > 200) & (image[:, :, 0] < 50) & (image[:, :, 1] < 50)).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(red)
        boxes = [[x, y, x + w - 1, y + h - 1] for x, y, w, h, _ in stats[1:] if h >= self.min_height]
        if not boxes:
            return Detections.empty()
        return Detections(np.array(boxes, float), np.full(len(boxes), 0.9), np.full(len(boxes), CLASS_ID["person"]))


def scene(*people: tuple[int, int, int, int], size=(400, 400)) -> np.ndarray:
    img = np.full((size[1], size[0], 3), 90, np.uint8)
    for x1, y1, x2, y2 in people:
        img[y1 : y2 + 1, x1 : x2 + 1] = (0, 0, 255)
    return img


@pytest.mark.parametrize(
    "w, h, rows, cols, overlap",
    [(400, 400, 2, 2, 0.2), (1920, 1080, 3, 3, 0.25), (768, 576, 1, 2, 0.0), (640, 480, 3, 2, 0.5)],
)
def test_tile_grid_covers_the_frame_with_the_overlap_asked(w, h, rows, cols, overlap):
    tiles = tile_grid(w, h, rows, cols, overlap)
    assert len(tiles) == rows * cols
    covered = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in tiles:
        covered[y1:y2, x1:x2] = True
    assert covered.all()
    if cols > 1:
        (a, _, a2, _), (b, _, _, _) = tiles[0], tiles[1]
        assert (a2 - b) / (a2 - a) == pytest.approx(overlap, abs=0.02)


@pytest.mark.parametrize(
    "person, overlap",
    [
        ((180, 150, 240, 300), 0.1),  # wider than the overlap strip: cut in both tiles, pieces joined
        ((200, 150, 230, 300), 0.3),  # inside the overlap strip: whole in both tiles, one kept
        ((220, 150, 260, 300), 0.3),  # cut in the left tile, whole in the right one: the whole one wins
        ((150, 180, 320, 230), 0.1),  # a lying figure across the vertical border
    ],
    ids=["cut in both tiles", "whole in two tiles", "cut in one tile", "across the border, lying"],
)
def test_a_person_cut_by_a_tile_border_comes_out_as_one_box(person, overlap):
    detector = TiledDetector(
        RedBlobDetector(), TilingConfig(enabled=True, rows=2, cols=2, overlap=overlap, full_frame=False)
    )
    found = detector.detect(scene(person))
    assert len(found) == 1
    assert np.allclose(found.xyxy[0], person, atol=1.0)


def test_full_frame_and_tiles_find_each_person_once():
    people = [(20, 20, 60, 120), (180, 150, 240, 300), (300, 300, 320, 340)]
    inner = RedBlobDetector()
    found = TiledDetector(inner, TilingConfig(enabled=True, rows=2, cols=2, overlap=0.2, full_frame=True)).detect(
        scene(*people)
    )
    assert inner.calls == 5  # the full frame and four tiles
    assert len(found) == 3
    for p in people:
        assert np.abs(found.xyxy - np.array(p)).max(axis=1).min() <= 1.0


def test_tiles_find_small_people_that_the_full_frame_misses():
    # The stand-in detector misses anything under 30 px tall in what it is given;
    # here the full frame is shrunk 4x, as a 1920 px frame is for a 480 px network input.
    class Shrinking(RedBlobDetector):
        def detect(self, image):
            small = (
                cv2.resize(image, (image.shape[1] // 4, image.shape[0] // 4), interpolation=cv2.INTER_NEAREST)
                if image.shape[1] > 400
                else image
            )
            d = super().detect(small)
            k = image.shape[1] / small.shape[1]
            return Detections(d.xyxy * k, d.confidence, d.class_id)

    people = [(50, 50, 65, 90), (300, 250, 315, 290)]
    img = scene(*people, size=(560, 400))
    assert len(Shrinking(min_height=30).detect(img)) == 0
    found = TiledDetector(Shrinking(min_height=30), TilingConfig(enabled=True, rows=2, cols=2, overlap=0.2)).detect(img)
    assert len(found) == 2


def test_merge_keeps_different_classes_apart():
    car, person = CLASS_ID["car"], CLASS_ID["person"]
    dets = Detections(
        np.array([[0, 0, 100, 100], [10, 10, 90, 90]], float), np.array([0.9, 0.8]), np.array([car, person])
    )
    out = merge(dets, np.zeros(2, bool), 0.6)
    assert sorted(out.class_id.tolist()) == sorted([car, person])


def test_aerial_profile_turns_on_tiles_and_camera_motion():
    from vigie.config import CameraConfig, SiteConfig

    site = SiteConfig(
        name="s",
        cameras=[
            CameraConfig(id="drone-1", name="d", lat=43.8, lon=4.36, profile="aerial"),
            CameraConfig(id="fixed-1", name="f", lat=43.8, lon=4.36),
        ],
    )
    aerial = site.analysis_for("drone-1")
    assert aerial.tiling.enabled and aerial.camera_motion and aerial.tiling.full_frame
    assert not site.analysis_for("fixed-1").tiling.enabled


def test_two_whole_people_one_half_in_front_of_the_other_stay_two():
    """In a group, one person's box lies mostly inside the other's: that is
    not a duplicate when neither box was cut by a tile border."""
    person = CLASS_ID["person"]
    back, front = [100, 100, 140, 200], [115, 120, 150, 210]
    dets = Detections(np.array([back, front], float), np.array([0.9, 0.8]), np.array([person, person]))
    assert len(merge(dets, np.zeros(2, bool), 0.6)) == 2
    # the same geometry where the smaller box is a piece cut by a border merges
    assert len(merge(dets, np.array([False, True]), 0.6)) == 1
