"""Search by example photo on real people (issue 18): a phone-like photo of one PETS09-S2L1 person
cut from one half of the sequence finds that person's tracks on the other half.

Setup, as the demo is set up (make demo; tests/conftest.py analysed_demo): vtest.avi cut at its middle
frame (examples/split_recording.py), each half analysed by Vigie as a camera of examples/nimes-demo.yaml
(nimes-esplanade-01, nimes-arenes-01) into a scratch store; no site adaptation (the store as analysed).
Each stored person track is given the ground-truth identity its boxes overlap most (IoU >= 0.5 on at
least half of its points; ids of one person merged with tests/data/pets09_s2l1_same_person.csv).

For every identity seen in both halves, one query photo per direction: from the half the query comes
from, the identity's tallest ground-truth box that no other box overlaps and the frame border does not
cut, cut from the decoded frame with a margin of scene around it (a quarter of its width each side, a
tenth of its height above and below), enlarged 2x (bicubic) and saved as JPEG quality 85, like a
witness's phone photo of a screen. It goes through the whole photo path (vigie.search.photo: the
citizen-photo sanitising, face blurring with the real blurrer, the site's detector to find the person,
the site's appearance backend) and is ranked with the other half's camera as the only filter. Rank-k:
one of the first k hits is a track of that identity (identities with no matched track on the other
half are not counted: nothing could be found).

Also reported: the same without face blurring (the blurrer replaced by one that changes nothing), to
show what blurring the witness photo's face costs.

Run: VIGIE_MODELS=../shared/models .venv/bin/python bench/photo_search.py [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.eval.mot import read_mot  # noqa: E402
from vigie.eval.reid import read_same_person  # noqa: E402
from vigie.pipeline import analyse_file  # noqa: E402
from vigie.search import photo  # noqa: E402
from vigie.search.query import SearchQuery  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.track.matching import iou_matrix  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pets09-s2l1"
SITE = ROOT / "examples" / "nimes-demo.yaml"
SAME_PERSON = ROOT / "tests" / "data" / "pets09_s2l1_same_person.csv"
CAMERAS = ("nimes-esplanade-01", "nimes-arenes-01")


class NoBlur:
    """A blurrer that changes nothing (the comparison without face blurring)."""

    def blur(self, image, vehicle_boxes=None, person_boxes=None):
        return image.copy(), []


def track_identities(store, camera: str, gt: np.ndarray, ids: np.ndarray, frame_offset: int) -> dict[int, int]:
    """{track id: ground-truth identity} for the camera's person tracks (IoU >= 0.5 on half their points)."""
    out = {}
    by_frame = {int(f): np.flatnonzero(gt[:, 0] == f) for f in np.unique(gt[:, 0])}
    boxes = np.c_[gt[:, 2:4], gt[:, 2:4] + gt[:, 4:6]]
    for t in store.list_tracks(limit=100_000):
        if t["camera_id"] != camera or t["class"] != "person":
            continue
        votes: dict[int, int] = {}
        points = store.track_points(t["id"])
        for p in points:
            rows = by_frame.get(int(p["seq"]) + 1 + frame_offset)
            if rows is None:
                continue
            iou = iou_matrix(np.array([[p["x1"], p["y1"], p["x2"], p["y2"]]]), boxes[rows])[0]
            if iou.max() >= 0.5:
                who = int(ids[rows[int(iou.argmax())]])
                votes[who] = votes.get(who, 0) + 1
        if votes:
            who, n = max(votes.items(), key=lambda kv: kv[1])
            if n >= 0.5 * len(points):
                out[t["id"]] = who
    return out


def query_boxes(gt: np.ndarray, ids: np.ndarray, frames: range, size: tuple[int, int]) -> dict[int, tuple[int, list]]:
    """{identity: (frame, box)}: its tallest clean box within `frames`."""
    w, h = size
    best: dict[int, tuple[float, int, list]] = {}
    for f in frames:
        rows = np.flatnonzero(gt[:, 0] == f)
        if not len(rows):
            continue
        boxes = np.c_[gt[rows, 2:4], gt[rows, 2:4] + gt[rows, 4:6]]
        overlap = iou_matrix(boxes, boxes)
        np.fill_diagonal(overlap, 0)
        for k, r in enumerate(rows):
            x1, y1, x2, y2 = boxes[k]
            if overlap[k].max() > 0 or x1 < 5 or y1 < 5 or x2 > w - 5 or y2 > h - 5:
                continue
            who = int(ids[r])
            if y2 - y1 > best.get(who, (0.0,))[0]:
                best[who] = (y2 - y1, f, [x1, y1, x2, y2])
    return {who: (f, box) for who, (_, f, box) in best.items()}


def phone_photo(frame: np.ndarray, box: list) -> bytes:
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    h, w = frame.shape[:2]
    window = frame[
        int(max(0, y1 - bh / 10)) : int(min(h, y2 + bh / 10)), int(max(0, x1 - bw / 4)) : int(min(w, x2 + bw / 4))
    ]
    big = cv2.resize(window, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    ok, jpeg = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return jpeg.tobytes()


def frames_at(video: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """The decoded frames of these 1-based numbers (only those: the sequence does not fit in memory)."""
    cap, out, f = cv2.VideoCapture(str(video)), {}, 0
    while len(out) < len(wanted):
        ok, image = cap.read()
        if not ok:
            break
        f += 1
        if f in wanted:
            out[f] = image
    cap.release()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    started = time.perf_counter()
    site = load_site(SITE)
    gt = read_mot(DATA / "gt.txt")
    merge = read_same_person(SAME_PERSON)
    ids = np.array([merge.get(int(i), int(i)) for i in gt[:, 1]])
    cap = cv2.VideoCapture(str(DATA / "vtest.avi"))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    half = n // 2  # split_recording.py: frames 1-half, then the rest
    halves = (range(1, half + 1), range(half + 1, n + 1))
    with tempfile.TemporaryDirectory(prefix="vigie-photo-bench-") as scratch:
        scratch = Path(scratch)
        parts = (scratch / "first.mp4", scratch / "second.mp4")
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / "split_recording.py"), str(DATA / "vtest.avi"), *map(str, parts)],
            check=True,
            capture_output=True,
        )
        with SQLiteStore(scratch / "var") as store:
            t0 = time.perf_counter()
            for path, camera in zip(parts, CAMERAS):
                analyse_file(path, camera, site, store, progress=False)
            analysis_s = time.perf_counter() - t0
            identity = {}
            for k, camera in enumerate(CAMERAS):
                identity |= track_identities(store, camera, gt, ids, half * k)
            queries = [query_boxes(gt, ids, r, size) for r in halves]
            wanted = {f for q in queries for f, _ in q.values()}
            frames = frames_at(DATA / "vtest.avi", wanted)
            reader = photo.PhotoReader.for_site(site)
            from vigie.privacy.blur import Blurrer

            results = {}
            for blur_name, blurrer in (("faces blurred", Blurrer()), ("not blurred", NoBlur())):
                for direction, (src, dst) in (("first->second", (0, 1)), ("second->first", (1, 0))):
                    on_other = {who for tid, who in identity.items() if _camera(store, tid) == CAMERAS[dst]}
                    ranks, people = [], []
                    for who, (f, box) in sorted(queries[src].items()):
                        if who not in on_other:
                            continue
                        reading, result = photo.search_by_photo(
                            store,
                            site,
                            phone_photo(frames[f], box),
                            SearchQuery(cameras=[CAMERAS[dst]], limit=50),
                            blurrer=blurrer,
                            reader=reader,
                        )
                        hit = [identity.get(h.track_id) == who for h in result.hits]
                        ranks.append(hit.index(True) + 1 if any(hit) else None)
                        people.append({"identity": who, "frame": f, "found_by": reading.found_by, "rank": ranks[-1]})
                    got = [r for r in ranks if r is not None]
                    results[f"{blur_name}, {direction}"] = {
                        "people": len(ranks),
                        "rank1": sum(r == 1 for r in got) / len(ranks),
                        "rank5": sum(r <= 5 for r in got) / len(ranks),
                        "queries": people,
                    }
            tracks = len(identity)
    report = {
        "analysis_s": round(analysis_s, 1),
        "matched_person_tracks": tracks,
        "model": reader.backend.name,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"PETS09-S2L1 halves as two cameras; {tracks} person tracks matched to identities; model {report['model']}; "
        f"analysis {analysis_s:.0f} s, total {report['seconds']:.0f} s"
    )
    print(f"{'photo':<16} {'direction':<15} {'people':>6} {'rank-1':>7} {'rank-5':>7}")
    for key, r in results.items():
        blur_name, direction = key.split(", ")
        print(f"{blur_name:<16} {direction:<15} {r['people']:>6} {r['rank1']:>7.3f} {r['rank5']:>7.3f}")
        misses = [f"{q['identity']}:{q['rank']}" for q in r["queries"] if q["rank"] != 1]
        if misses:
            print(f"{'':<33}not first (identity:rank): {', '.join(misses)}")


_CAMERA_OF: dict[int, str] = {}


def _camera(store, track_id: int) -> str:
    if track_id not in _CAMERA_OF:
        _CAMERA_OF[track_id] = store.get_track(track_id)["camera_id"]
    return _CAMERA_OF[track_id]


if __name__ == "__main__":
    main()
