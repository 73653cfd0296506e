"""Builders shared by the tests: the real data's paths, hand-made detections, tracks, sites, pictures.

Import them from here (`from builders import make_summary`); tests/conftest.py holds only fixtures.
Real footage lives outside the repository, in ../shared/data (relative to the repo root); it is
read in place and never copied in.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np
import pytest
import yaml

from vigie.config import SiteConfig
from vigie.track.matching import iou_matrix
from vigie.types import CLASS_ID, Detections, TrackPoint, TrackSummary

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"
PETS09 = SHARED_DATA / "pets09-s2l1"
CUHK03 = SHARED_DATA / "reid-cuhk03-val"
TUD_STADTMITTE = SHARED_DATA / "tud-stadtmitte"
# The trained networks no registry package ships (vigie.models looks here through $VIGIE_MODELS).
SHARED_MODELS = (REPO_ROOT / ".." / "shared" / "models").resolve()
DEMO_SITE = REPO_ROOT / "examples" / "nimes-demo.yaml"
DEMO_CAMERA = "nimes-esplanade-01"

# Debian's `darknet` package ships Darknet's sample photos; their known objects were boxed by hand.
DARKNET_DATA = Path("/usr/share/darknet/data")
PHOTO_HIGH_SCORE = 0.3  # what the photo tests call "found"
# Hand-drawn boxes (x1, y1, x2, y2) of objects in Darknet's sample photos.
DOG_BICYCLE = [115, 125, 570, 440]
DOG_TRUCK = [466, 78, 688, 170]
PERSON_PERSON = [190, 100, 275, 378]
KITE_PEOPLE = [[212, 697, 272, 853], [112, 613, 166, 760], [80, 510, 106, 566]]


CLIP_FRAMES = 60
CLIP_FPS = 7


# --- builders ----------------------------------------------------------------------
def box(cx: float, cy: float, w: float = 40.0, h: float = 100.0) -> list[float]:
    """An xyxy box centred on (cx, cy)."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def make_dets(*rows, track_ids=None, **data) -> Detections:
    """Detections from rows of (xyxy, score, class name); no rows gives an empty batch."""
    if not rows:
        return Detections.empty()
    return Detections(
        np.array([r[0] for r in rows], dtype=float),
        np.array([r[1] for r in rows], dtype=float),
        np.array([CLASS_ID[r[2]] for r in rows]),
        None if track_ids is None else np.asarray(track_ids),
        data,
    )


T0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)


def make_summary(
    camera_id: str = "cam-a",
    track_no: int = 1,
    class_name: str = "person",
    n_points: int = 5,
    start_s: float = 0.0,
    fps: float = 7.0,
    ground: bool = True,
    jpeg: bytes | None = None,
    **fields,
) -> TrackSummary:
    """A TrackSummary built by hand: a box walking right, one point per frame."""
    points = []
    for k in range(n_points):
        t = T0 + timedelta(seconds=start_s + k / fps)
        x = 100.0 + 5 * k
        points.append(
            TrackPoint(
                seq=int(round((start_s * fps))) + k,
                timestamp=t,
                xyxy=(x, 200.0, x + 40.0, 300.0),
                confidence=0.5 + 0.01 * k,
                ground_xy=(1.0 + 0.1 * k, -2.0) if ground else None,
            )
        )
    return TrackSummary(
        camera_id=camera_id,
        track_no=track_no,
        class_name=class_name,
        first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp,
        points=points,
        median_height_px=100.0,
        median_width_px=40.0,
        thumbnail_jpeg=jpeg,
        **fields,
    )


def jpeg_bytes(bgr=(0, 0, 255), size=(16, 24)) -> bytes:
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = bgr
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def demo_raw() -> dict:
    """The demo site file as plain data, to derive variants from."""
    return copy.deepcopy(yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8")))


def english_site(**fields) -> SiteConfig:
    """A site in English (a site is French by default): for tests whose assertions read English messages; the
    French ones are read on French sites and pages (tests/web/test_ui.py, tests/core/test_catalogues.py)."""
    return SiteConfig(language="en", **fields)


def write_site(folder: Path, raw: dict | str, name: str = "site.yaml") -> Path:
    path = folder / name
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


# --- real data --------------------------------------------------------------------------
def copy_data_dir(source: Path, folder: Path) -> Path:
    """A private copy of a VIGIE_DATA folder (e.g. analysed_demo) under `folder`, to change freely."""
    return Path(shutil.copytree(source, Path(folder) / "var"))


def made_once_per_run(tmp_path_factory, name: str, make: Callable[[Path], Path]) -> Path:
    """`make(folder)`'s result (a path under `folder`), made once for the whole test run.

    A session fixture is made once per process, and `make test` runs most tests in two (pytest-xdist): each
    would make the analysed demo (two full analyses) for itself, both at once on a 2-core machine. Here the
    first worker to ask makes it, under a lock, in the run's own temporary folder (pytest-N, above each
    worker's popen-gwK); the others wait for it and share it. Outside xdist: made here, as before. What is
    made this way is read only: copy it (copy_data_dir) to change it."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one run, new each run
    if not run:
        return make(tmp_path_factory.mktemp(name))
    run_dir = tmp_path_factory.getbasetemp().parent  # this run's pytest-N (or --basetemp), shared by its workers
    done = run_dir / f"{name}-{run}.made"  # named by the run: a --basetemp folder outlives it
    with open(run_dir / f"{name}-{run}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, and if the worker dies
        if done.is_file():
            return Path(done.read_text())
        result = make(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=run_dir)))  # a fresh folder if one failed
        done.write_text(str(result))
        return result


def reencode_clip(src: Path, dst: Path, frames: int, fps: int) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        for i, frame in enumerate(inp.decode(video=0)):
            if i >= frames:
                break
            image = frame.to_ndarray(format="bgr24")
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


class CachingDetector:
    """The real YOLOv3-tiny detector, remembering its answer per frame content.

    Decoding is deterministic, so the same frame gives the same pixels and the
    detector the same boxes: repeating an analysis of the same clip costs no
    inference. Only used where a test analyses frames already seen.
    """

    def __init__(self, inner) -> None:
        self.inner = inner
        self.cache: dict[bytes, Detections] = {}
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        key = hashlib.sha1(np.ascontiguousarray(image).data).digest()
        if key not in self.cache:
            self.calls += 1
            self.cache[key] = self.inner.detect(image)
        return self.cache[key]


# --- a camera panning across PETS09 (camera-motion compensation and drone tests) ---------------
PAN_WIDTH = 640  # the panning window's width, of PETS09's 768


def window_x(f: int, step: int = 16, span: int = 128) -> int:
    """Left edge of the panning window at frame f. Triangle wave: 0, 16, ..., 128, 112, ..., 0, ..."""
    period = 2 * span // step
    k = f % period
    return step * (k if k <= period // 2 else period - k)


# --- the web API ------------------------------------------------------------------------------
def logged_in(
    app, username: str | None = None, password: str = "correct horse battery staple", role: str | None = None
):
    """A test client of the app, logged in as `username` (the login is checked, and the role it
    answers when `role` is given), or with no session."""
    from fastapi.testclient import TestClient  # here: only the web tests need it, and it loads httpx

    c = TestClient(app)
    if username:
        r = c.post("/api/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        assert r.json()["username"] == username and (role is None or r.json()["role"] == role)
    return c


# --- Darknet's sample photos (detector tests) ---------------------------------------
def photo(name: str) -> np.ndarray:
    path = DARKNET_DATA / f"{name}.jpg"
    if not path.is_file():
        pytest.skip(
            f"{path} absent: Darknet's sample photos come with the Debian package `darknet` (apt-get install darknet)"
        )
    image = cv2.imread(str(path))
    assert image is not None, f"{path} exists but cannot be decoded"
    return image


def found(dets, names: set[str], box, min_iou: float = 0.5) -> float:
    """Best IoU between `box` and a confident detection of one of `names`."""
    keep = np.isin(dets.class_names, list(names)) & (dets.confidence >= PHOTO_HIGH_SCORE)
    if not keep.any():
        return 0.0
    return float(iou_matrix(np.array([box], np.float32), dets.xyxy[keep]).max())
