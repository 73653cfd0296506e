"""CenterFace on OpenVINO and on onnxruntime, the cheaper obscuring, the head-part search (issue 21, section 30).

The OpenVINO path must give the faces onnxruntime gives (it is only faster): compared on real PETS09
frames, whole and in the person boxes of gt.txt. Obscuring skips windows nested in one already obscured
and must still leave nothing legible in any window.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from vigie.errors import ModelError
from vigie.privacy import blur as B

PETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pets09-s2l1"


def hf_energy(img, xyxy):
    x1, y1, x2, y2 = xyxy
    grey = cv2.cvtColor(np.ascontiguousarray(img[y1:y2, x1:x2]), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


# --- no model needed -------------------------------------------------------------------
def test_an_unknown_runtime_or_head_part_is_refused():
    with pytest.raises(ValueError, match="runtime"):
        B.FaceDetector(runtime="tensorflow")
    with pytest.raises(ValueError, match="runtime"):
        B.Blurrer(face_runtime="cuda")
    with pytest.raises(ValueError, match="head_part"):
        B.Blurrer(head_part=0.0)
    with pytest.raises(ValueError, match="precision"):
        B.FaceDetector(precision="int8")


@pytest.mark.parametrize("runtime", ["openvino", "onnxruntime", "auto"])
def test_a_missing_model_file_is_a_clear_error_on_every_runtime(tmp_path, runtime):
    with pytest.raises(ModelError, match="does not exist"):
        B.FaceDetector(onnx_path=tmp_path / "none.onnx", runtime=runtime).detect(np.zeros((32, 32, 3), np.uint8))


def test_a_corrupt_model_file_is_a_model_error_naming_it(tmp_path):
    bad = tmp_path / "centerface.onnx"
    bad.write_bytes(b"not an onnx graph")
    for runtime in ("openvino", "onnxruntime"):
        with pytest.raises(ModelError, match="centerface.onnx"):
            B.FaceDetector(onnx_path=bad, runtime=runtime).detect(np.zeros((32, 32, 3), np.uint8))


def test_obscure_all_hides_every_window_nested_or_not_and_nothing_else():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    windows = [(100, 50, 300, 250), (150, 100, 200, 150), (120, 60, 180, 200), (10, 10, 60, 40), (50, 20, 140, 90)]
    out = img.copy()
    B.obscure_all(out, windows)
    mask = np.ones(img.shape[:2], bool)
    for x1, y1, x2, y2 in windows:
        mask[y1:y2, x1:x2] = False
        assert hf_energy(out, (x1, y1, x2, y2)) < 0.05 * hf_energy(img, (x1, y1, x2, y2)), (x1, y1, x2, y2)
    assert np.array_equal(img[mask], out[mask])


def test_obscure_reduces_a_large_window_to_its_coarse_cells():
    """No detail smaller than a third of the window survives: two images with the same 3 x 3 cell means
    (different detail inside the cells) obscure to nearly the same pixels."""
    rng = np.random.default_rng(4)
    cells = rng.integers(40, 215, (3, 3, 3)).astype(np.float64)
    base = np.kron(cells, np.ones((100, 100, 1)))
    a = np.clip(base + rng.normal(0, 30, base.shape), 0, 255).astype(np.uint8)
    b = np.clip(base + rng.normal(0, 30, base.shape), 0, 255).astype(np.uint8)
    for img in (a, b):
        B.obscure(img, (0, 0, 300, 300))
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 3


@pytest.mark.parametrize("size", [(1280, 736), (128, 256), (64, 32)])
def test_centerface_blob_is_the_rgb_resized_image_as_float(size):
    """The blob's numbers are those of the straightforward cvtColor, resize, astype, transpose."""
    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.integers(0, 256, (540, 300, 3), dtype=np.uint8), (0, 0), 2)
    w, h = size
    interp = cv2.INTER_AREA if w < image.shape[1] else cv2.INTER_LINEAR
    rgb = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), (w, h), interpolation=interp)
    expected = rgb.astype(np.float32).transpose(2, 0, 1)[None]
    blob = B.centerface_blob(image, w, h)
    assert blob.shape == (1, 3, h, w) and blob.dtype == np.float32
    assert np.array_equal(blob, expected)


# --- real model, real frames -------------------------------------------------------------
def _require_model_and_pets():
    try:
        B.face_model_path()
    except ModelError as exc:
        pytest.skip(str(exc))
    if importlib.util.find_spec("openvino") is None:
        pytest.skip("the openvino package is not installed")
    if not (PETS / "vtest.avi").is_file():
        pytest.skip(f"PETS09 not found under {PETS}")


def pets_frames(indexes):
    gt = np.loadtxt(PETS / "gt.txt", delimiter=",")
    cap = cv2.VideoCapture(str(PETS / "vtest.avi"))
    out, i = [], 0
    while i <= max(indexes):
        ok, frame = cap.read()
        if not ok:
            break
        if i in indexes:
            rows = gt[gt[:, 0] == i + 1]
            out.append((frame, np.array([(x, y, x + w, y + h) for _, _, x, y, w, h, *_ in rows]).reshape(-1, 4)))
        i += 1
    cap.release()
    return out


def assert_same_faces(a, b, tol_px=2.0):
    assert len(a) == len(b), (len(a), len(b))
    if not len(a):
        return
    ka, kb = np.lexsort(a[:, :2].T[::-1]), np.lexsort(b[:, :2].T[::-1])
    np.testing.assert_allclose(a[ka, :4], b[kb, :4], atol=tol_px)
    np.testing.assert_allclose(a[ka, 4], b[kb, 4], atol=0.01)


@pytest.mark.timeout(240)
def test_openvino_finds_the_faces_onnxruntime_finds_on_pets09():
    _require_model_and_pets()
    ov = B.FaceDetector(runtime="openvino")
    ort = B.FaceDetector(runtime="onnxruntime")
    found = 0
    for frame, boxes in pets_frames({0, 120, 400}):
        big = cv2.resize(frame, None, fx=2, fy=2)  # PETS09's faces large enough for the whole frame
        assert_same_faces(ov.detect(big), ort.detect(big))
        for x1, y1, x2, y2 in B._windows(frame.shape, boxes, grow=0.1):
            crop = frame[y1:y2, x1:x2]
            up = 256 / crop.shape[0]
            a, b = ov.detect(crop, upscale=up), ort.detect(crop, upscale=up)
            assert_same_faces(a, b)
            found += len(a)
    assert (ov.runtime, ort.runtime) == ("openvino", "onnxruntime")
    assert found >= 5, "the person crops should hold faces to compare"


@pytest.mark.timeout(240)
def test_the_default_blurrer_runs_openvino_and_blurs_what_onnxruntime_blurs():
    _require_model_and_pets()
    ((frame, boxes),) = pets_frames({200})
    auto = B.Blurrer(plates=False)
    ort = B.Blurrer(plates=False, face_runtime="onnxruntime")
    out_a, regions_a = auto.blur(frame, person_boxes=boxes)
    out_o, regions_o = ort.blur(frame, person_boxes=boxes)
    assert auto.faces.runtime == "openvino"
    assert regions_a, "PETS09 frame 200's person boxes hold faces"
    wa, wo = np.array(sorted(r.blurred_xyxy for r in regions_a)), np.array(sorted(r.blurred_xyxy for r in regions_o))
    assert wa.shape == wo.shape
    assert np.abs(wa - wo).max() <= 2
    assert np.abs(out_a.astype(int) - out_o.astype(int)).mean() < 0.5


@pytest.mark.timeout(240)
def test_head_part_searches_only_the_top_of_an_upright_box_and_a_wide_box_whole():
    _require_model_and_pets()
    ((frame, boxes),) = pets_frames({200})
    big = cv2.resize(frame, None, fx=2, fy=2)
    whole = B.Blurrer(plates=False)
    head = B.Blurrer(plates=False, head_part=0.5)
    upright = [b * 2 for b in boxes if (b[3] - b[1]) > 1.6 * (b[2] - b[0])]
    assert upright
    faces = whole.find_faces_in(big, upright)
    assert faces
    # A face on the upper half of an upright box is found by the head-part search too, and none lower.
    top = head.find_faces_in(big, upright)
    assert top
    for r in top:
        assert any(r.xyxy[1] < b[1] + 0.6 * (b[3] - b[1]) for b in upright)
    # The same person lying down (the frame turned a quarter): the box is wide, searched whole.
    turned = np.ascontiguousarray(np.rot90(big))
    w = big.shape[1]  # np.rot90: (x, y) -> (y, w - x)
    lying = [(y1, w - x2, y2, w - x1) for x1, y1, x2, y2 in upright]
    assert len(head.find_faces_in(turned, lying)) == len(whole.find_faces_in(turned, lying))
