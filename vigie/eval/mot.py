"""CLEAR-MOT and identity metrics against MOTChallenge ground truth.

py-motmetrics does the bookkeeping (matching over time, ID switches, IDF1);
the IoU distances are computed here, because motmetrics 1.4.0's own
iou_matrix calls np.asfarray, which NumPy 2 removed. The code is checked on
the TUD-Campus pair shipped in the motmetrics wheel (MOTA 0.526, IDF1 0.558).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import cv2
import motmetrics as mm
import numpy as np

from vigie.pipeline import frame_progress, open_camera_file, run_frames
from vigie.track.matching import iou_matrix
from vigie.types import CLASS_ID

MAX_IOU_DISTANCE = 0.5  # MOTChallenge: a hypothesis matches a truth box at IoU >= 0.5


def read_seqinfo(gt_path: str | Path) -> float | None:
    """The sequence's frame rate from MOTChallenge's seqinfo.ini, beside gt.txt or in its
    parent folder (the `SEQ/gt/gt.txt` layout); None where there is none.

    A container's frame rate can be wrong (PETS09's AVI says 10 fps; it was filmed at 7),
    and the tracker's motion model and time limits run on the true one."""
    gt = Path(gt_path)
    for folder in (gt.parent, gt.parent.parent):
        ini = folder / "seqinfo.ini"
        if not ini.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(ini, encoding="utf-8")
            rate = parser.getfloat("Sequence", "frameRate", fallback=None)
        except (configparser.Error, ValueError) as exc:
            raise ValueError(f"{ini} is not a MOTChallenge seqinfo.ini: {exc}") from None
        if rate is not None and rate <= 0:
            raise ValueError(f"{ini}: frameRate must be positive, got {rate}")
        return rate
    return None


def with_frame_rate(site, camera_id: str, rate: float | None):
    """The site with camera `camera_id` playing at `rate` frames a second (unchanged where rate is None)."""
    if rate is None:
        return site
    cameras = [c.model_copy(update={"frame_rate": rate}) if c.id == camera_id else c for c in site.cameras]
    return site.model_copy(update={"cameras": cameras})


@dataclass
class MotScores:
    mota: float
    idf1: float
    id_switches: int
    precision: float
    recall: float
    motp_iou: float
    num_frames: int
    gt_boxes: int
    false_positives: int
    misses: int
    mostly_tracked: int
    mostly_lost: int
    gt_ids: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def read_mot(path: str | Path, min_conf: float | None = None) -> np.ndarray:
    """MOTChallenge rows (frame, id, left, top, width, height, conf, ...) as an (N, >=7) array."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    if rows.size == 0:
        return np.zeros((0, 7))
    if min_conf is not None:
        rows = rows[rows[:, 6] >= min_conf]
    return rows


def mot_xyxy(rows: np.ndarray) -> np.ndarray:
    """Corner boxes (x1, y1, x2, y2) of MOT rows (left, top, width, height in columns 2-5)."""
    return np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]


def frames_with_truth(video: str | Path, gt_path: str | Path, indexes=None):
    """(index, BGR frame, (N, 4) ground-truth boxes x1, y1, x2, y2) of a MOTChallenge sequence's video, frame
    index 0 being the ground truth's frame 1; only the frames in `indexes` when given, in order."""
    gt = read_mot(gt_path)
    wanted = None if indexes is None else set(indexes)
    last = max(wanted, default=-1) if wanted is not None else None
    cap = cv2.VideoCapture(str(video))
    try:
        i = 0
        while last is None or i <= last:
            ok, frame = cap.read()
            if not ok:
                break
            if wanted is None or i in wanted:
                yield i, frame, mot_xyxy(gt[gt[:, 0] == i + 1])
            i += 1
    finally:
        cap.release()


def write_mot(path: str | Path, rows: list[tuple[int, int, float, float, float, float, float]]) -> None:
    """Write tracker output in MOTChallenge format: frame,id,left,top,w,h,conf,-1,-1,-1."""
    with open(path, "w") as f:
        for frame, tid, x, y, w, h, conf in rows:
            f.write(f"{frame},{tid},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{conf:.3f},-1,-1,-1\n")


def score(gt: np.ndarray, hyp: np.ndarray) -> MotScores:
    """Compare tracker rows with truth rows (both MOT format, frame-aligned)."""

    hyp = np.asarray(hyp, dtype=float)
    if hyp.size == 0:  # a tracker that output nothing scores, it does not crash
        hyp = np.zeros((0, 7))
    acc = mm.MOTAccumulator(auto_id=False)
    frames = sorted(set(gt[:, 0].astype(int)) | set(hyp[:, 0].astype(int)))
    gt_by = {f: gt[gt[:, 0] == f] for f in frames}
    hyp_by = {f: hyp[hyp[:, 0] == f] for f in frames}
    for f in frames:
        g, h = gt_by[f], hyp_by[f]
        dist = 1.0 - iou_matrix(mot_xyxy(g), mot_xyxy(h))
        dist[dist > MAX_IOU_DISTANCE] = np.nan
        acc.update(g[:, 1].astype(int).tolist(), h[:, 1].astype(int).tolist(), dist, frameid=f)
    mh = mm.metrics.create()
    names = [
        "mota",
        "idf1",
        "num_switches",
        "precision",
        "recall",
        "motp",
        "num_frames",
        "num_objects",
        "num_false_positives",
        "num_misses",
        "mostly_tracked",
        "mostly_lost",
        "num_unique_objects",
    ]
    s = mh.compute(acc, metrics=names, name="run").iloc[0]
    return MotScores(
        mota=float(s["mota"]),
        idf1=float(s["idf1"]),
        id_switches=int(s["num_switches"]),
        precision=float(s["precision"]),
        recall=float(s["recall"]),
        motp_iou=1.0 - float(s["motp"]),
        num_frames=int(s["num_frames"]),
        gt_boxes=int(s["num_objects"]),
        false_positives=int(s["num_false_positives"]),
        misses=int(s["num_misses"]),
        mostly_tracked=int(s["mostly_tracked"]),
        mostly_lost=int(s["mostly_lost"]),
        gt_ids=int(s["num_unique_objects"]),
    )


def track_video(video: str | Path, site, camera_id: str, progress: bool = False):
    """Run the pipeline over a video, keeping every frame's person boxes.

    Returns MOT rows with 1-based frame numbers (MOTChallenge's convention:
    frame 1 is the first decoded frame), and the pipeline (for its timings).
    """

    source, pipeline = open_camera_file(video, camera_id, site)
    rows: list[tuple] = []
    person = CLASS_ID["person"]
    with frame_progress(source, "eval", progress) as advance:

        def on_frame(frame, tracked):
            advance(frame)
            for box, tid, conf, cls in zip(tracked.xyxy, tracked.track_id, tracked.confidence, tracked.class_id):
                if cls == person:
                    x1, y1, x2, y2 = (float(v) * frame.scale for v in box)  # source pixels
                    rows.append((frame.seq + 1, int(tid), x1, y1, x2 - x1, y2 - y1, float(conf)))

        message = run_frames(pipeline, source, lambda _: None, on_frame)
    return rows, pipeline, message
