"""Re-identification sets in Market-1501 layout, and the Market-1501 protocol.

Layout (what torchreid and fast-reid read): `query/`, `bounding_box_test/` (the
gallery) and, optionally, `bounding_box_train/`; each file named
`PPPP_cC...jpg`: person PPPP (0000: unlabeled; -1: a distractor, never a right
match), camera C. Labels are read for scoring only: nothing learns from them.

Protocol: each query ranks the gallery; the gallery crops of the same person
*and* the same camera are left out (finding someone again on the camera that
just saw them proves nothing), and so are distractors of person -1's junk
images. A query with no right match left is not counted. Scores: rank-1 and
rank-5 (a right match first, or among the first five), and mAP (each query's
precision at every right match, averaged over its matches, then over queries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vigie.errors import VigieError

NAME = re.compile(r"^(-1|\d+)_c(\d+)[^/]*\.(jpe?g|png|bmp)$", re.IGNORECASE)
FOLDERS = ("query", "bounding_box_test", "bounding_box_train")
JUNK = -1  # Market-1501's junk images: left out of every ranking


def parse_name(name: str) -> tuple[int, int]:
    """(person, camera) of a Market-1501 file name such as '0001_c1s1_000151_01.jpg'."""
    m = NAME.match(name)
    if not m:
        raise VigieError(f"{name!r} is not a Market-1501 crop name (PPPP_cC...jpg, e.g. 0001_c1s1_000151_01.jpg)")
    return int(m.group(1)), int(m.group(2))


@dataclass
class CropSet:
    paths: list[Path]
    persons: np.ndarray  # (N,) int
    cameras: np.ndarray  # (N,) int

    def __len__(self) -> int:
        return len(self.paths)

    def images(self) -> list[np.ndarray]:
        out = []
        for p in self.paths:
            image = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if image is None or not image.size:
                raise VigieError(f"{p} is not a readable image")
            out.append(image)
        return out


def read_folder(folder: Path) -> CropSet:
    """Every crop of a folder, in name order; a file that is not an image crop name is an error naming it."""
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    labels = [parse_name(p.name) for p in paths if p.suffix.lower() not in (".txt", ".md", ".db")]
    paths = [p for p in paths if p.suffix.lower() not in (".txt", ".md", ".db")]
    persons = np.array([p for p, _ in labels], dtype=np.int64)
    cameras = np.array([c for _, c in labels], dtype=np.int64)
    return CropSet(paths, persons, cameras)


def read_dataset(root: str | Path) -> dict[str, CropSet]:
    """The folders of a Market-1501 layout set: query and bounding_box_test must exist and hold crops."""
    root = Path(root)
    if not root.is_dir():
        raise VigieError(f"re-identification set {root} is not a folder")
    out = {}
    for name in FOLDERS:
        folder = root / name
        if folder.is_dir():
            out[name] = read_folder(folder)
        elif name != "bounding_box_train":
            raise VigieError(f"{root} has no {name}/ folder: expected the Market-1501 layout ({', '.join(FOLDERS)})")
    for name in ("query", "bounding_box_test"):
        if not len(out[name]):
            raise VigieError(f"{root / name} holds no crops")
    return out


def rank_scores(
    similarity: np.ndarray,
    query_persons: np.ndarray,
    query_cameras: np.ndarray,
    gallery_persons: np.ndarray,
    gallery_cameras: np.ndarray,
) -> dict[str, float]:
    """rank-1, rank-5 and mAP of each query row's ranking of the gallery columns (Market-1501 rules)."""
    r1, r5, aps = [], [], []
    for row, qp, qc in zip(similarity, query_persons, query_cameras):
        keep = ~(((gallery_persons == qp) & (gallery_cameras == qc)) | (gallery_persons == JUNK))
        order = np.argsort(-row[keep], kind="stable")
        right = gallery_persons[keep][order] == qp
        if not right.any():
            continue
        hits = np.flatnonzero(right)
        r1.append(bool(right[0]))
        r5.append(bool(right[:5].any()))
        aps.append(float(np.mean(np.arange(1, len(hits) + 1) / (hits + 1))))
    if not aps:
        raise VigieError("no query has a right match in the gallery (after the same-camera exclusions)")
    return {"rank1": float(np.mean(r1)), "rank5": float(np.mean(r5)), "map": float(np.mean(aps)), "queries": len(aps)}
