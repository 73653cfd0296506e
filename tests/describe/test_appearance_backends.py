"""The appearance backends: each network's pre-processing against a reference, batches, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from builders import CUHK03

from vigie.describe.backends import openvino_ir, osnet
from vigie.describe.backends.registry import build_backend, network
from vigie.errors import ConfigError, ModelError
from vigie.models import find_model

B, G, R = 10, 120, 230


def striped_crop() -> np.ndarray:
    """A 96 x 40 BGR crop: a uniform colour (B, G, R) with a black left column band, to see flips."""
    crop = np.empty((96, 40, 3), np.uint8)
    crop[:] = (B, G, R)
    crop[:, :10] = 0
    return crop


def test_openvino_input_is_bgr_0_255_256x128_unnormalised():
    x = openvino_ir.preprocess([striped_crop()])
    assert x.shape == (1, 3, 256, 128) and x.dtype == np.float32
    assert x[0, :, 128, 100].tolist() == [B, G, R]  # BGR planes, raw 0-255
    assert x[0, :, 128, 0].tolist() == [0, 0, 0]  # the black band stays on the left
    flipped = openvino_ir.preprocess([striped_crop()], flip=True)
    assert flipped[0, :, 128, 127].tolist() == [0, 0, 0] and flipped[0, :, 128, 0].tolist() == [B, G, R]


def test_osnet_input_is_rgb_over_255_imagenet_normalised_256x128():
    x = osnet.preprocess([striped_crop()])
    assert x.shape == (1, 3, 256, 128) and x.dtype == np.float32
    expected = (np.array([R, G, B]) / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(x[0, :, 128, 100], expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["omz-0286", "osnet-x0.25"])
def test_a_batch_gives_the_vectors_of_single_crops(name):
    crops = [
        striped_crop(),
        np.full((60, 30, 3), 200, np.uint8),
        np.random.default_rng(0).integers(0, 255, (128, 50, 3), np.uint8),
    ]
    net = network(name)
    batch = net.describe_crops(crops)
    singles = np.vstack([net.describe_crops([c]) for c in crops])
    assert batch.shape == (3, net.dim) and net.dim in (256, 512)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(batch * singles, axis=1)) > 0.999


@pytest.mark.parametrize("mirrored", [False, True])
def test_the_fusion_is_a_unit_vector_whose_cosine_is_the_mean_of_its_members(mirrored):
    crops = [striped_crop(), np.full((60, 30, 3), 200, np.uint8)]
    fused = build_backend("omz-0277+omz-0286", mirrored=mirrored)
    v = fused.describe_crops(crops)
    assert v.shape == (2, 512) and fused.blocks == [256, 256]
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    members = [m.describe_crops(crops) + (m.describe_crops(crops, flip=True) if mirrored else 0) for m in fused.members]
    members = [m / np.linalg.norm(m, axis=1, keepdims=True) for m in members]
    np.testing.assert_allclose(v[0] @ v[1], np.mean([m[0] @ m[1] for m in members]), atol=1e-5)
    assert "Apache-2.0" in fused.licence
    assert fused.name == ("omz-0277+omz-0286:flip-v1" if mirrored else "omz-0277+omz-0286:v1")


def test_a_missing_model_file_names_every_path_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("VIGIE_MODELS", str(tmp_path / "shared"))
    with pytest.raises(ModelError) as e:
        find_model("reid/nothing.xml", "appearance network omz-0286")
    assert str(tmp_path / "data" / "models" / "reid" / "nothing.xml") in str(e.value)
    assert str(tmp_path / "shared" / "reid" / "nothing.xml") in str(e.value)
    with pytest.raises(ModelError, match="/nowhere/0286.xml"):
        build_backend("omz-0286", models={"omz-0286": "/nowhere/0286.xml"}).describe_crops([striped_crop()])


@pytest.mark.parametrize(("name", "suffix"), [("omz-0286", ".xml"), ("osnet-x0.5", ".onnx")])
def test_a_corrupt_model_file_is_a_clear_error(tmp_path, name, suffix):
    bad = tmp_path / f"broken{suffix}"
    bad.write_bytes(b"<not a model" + bytes(range(256)))
    with pytest.raises(ModelError, match="broken"):
        build_backend(name, models={name: str(bad)}).describe_crops([striped_crop()])


def test_an_unknown_network_is_refused_naming_the_known_ones():
    with pytest.raises(ConfigError, match="omz-0286"):
        build_backend("resnet-9000")
    with pytest.raises(ConfigError, match="once"):
        build_backend("omz-0286+omz-0286")


def test_the_same_person_across_cameras_is_nearer_than_another(tmp_path):
    """A real check of the default backend on real crops: two views of person 1 against person 2."""
    import cv2

    a = cv2.imread(str(CUHK03 / "query" / "0001_c1s1_000000_00.jpg"))
    b = cv2.imread(str(CUHK03 / "bounding_box_test" / "0001_c2s1_000005_00.jpg"))
    others = [cv2.imread(str(p)) for p in sorted((CUHK03 / "bounding_box_test").glob("0002_c2*"))[:3]]
    if a is None or b is None or not others:
        pytest.fail(f"CUHK03 crops not found under {CUHK03}")
    v = build_backend().describe_crops([a, b, *others])
    assert v[0] @ v[1] > max(v[0] @ v[k] for k in range(2, len(v)))


def test_a_camera_with_a_missing_appearance_model_stops_before_any_frame(tmp_path):
    """Found only when the first track ends, a missing file would lose the tracks in flight."""
    from vigie.config import SiteConfig
    from vigie.pipeline import CameraPipeline

    site = SiteConfig.model_validate(
        {
            "name": "t",
            "cameras": [{"id": "cam-a", "name": "A", "lat": 43.8, "lon": 4.36}],
            "analysis": {"appearance": {"models": {"omz-0277": str(tmp_path / "gone.xml")}}},
        }
    )
    with pytest.raises(ModelError, match="gone.xml"):
        CameraPipeline(site.cameras[0], site, 7.0, detector=object())
