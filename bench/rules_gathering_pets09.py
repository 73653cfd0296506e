"""Gathering events from Vigie's own tracks against the ground truth, on PETS09-S2L1.

1. Runs the pipeline on vtest.avi as camera nimes-esplanade-01 of
   examples/nimes-demo.yaml (its detector, tracker and calibration), keeping
   every person track with its points (ground positions from the calibration).
2. Reference: the same rule run on the ground-truth tracks, positioned by
   gt.txt's world coordinates (metres), timed as the camera times its frames.
3. Maps each Vigie track to the truth identity it covers most (boxes matched
   per frame at IoU >= 0.5, as the MOT metrics do), then matches events one to
   one, greedily by time overlap: a Vigie event matches a reference event if
   their time IoU is at least 0.3 and their members overlap (the mapped
   Vigie members and the truth members share at least half of the smaller
   set; unmapped Vigie tracks count as strangers). Precision: matched Vigie
   events / Vigie events; recall: matched reference events / reference events.
   "time only" drops the member condition.

Settings: the rule's defaults (3 people, 2 m, 5 s) and looser ones, since
S2L1 (people walking) has a single default gathering to find.

Run: .venv/bin/python bench/rules_gathering_pets09.py [--list]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.eval.mot import mot_xyxy, read_mot  # noqa: E402
from vigie.pipeline import open_camera_file, run_frames  # noqa: E402
from vigie.rules.base import RuleContext, RuleTrack  # noqa: E402
from vigie.rules.crowd import GatheringConfig, gathering  # noqa: E402
from vigie.track.matching import assign, iou_matrix  # noqa: E402
from vigie.types import TrackPoint  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
CAMERA = "nimes-esplanade-01"
SETTINGS = [  # (min_people, radius_m, min_duration_s)
    (3, 2.0, 5.0),
    (3, 2.5, 5.0),
    (3, 3.0, 5.0),
    (2, 2.0, 5.0),
    (2, 1.5, 10.0),
]
MIN_TIME_IOU = 0.3
MIN_MEMBER_OVERLAP = 0.5


def vigie_tracks(site) -> tuple[list[RuleTrack], float]:
    source, pipeline = open_camera_file(PETS / "vtest.avi", CAMERA, site)
    summaries = []
    t0 = time.perf_counter()
    run_frames(pipeline, source, summaries.extend)
    seconds = time.perf_counter() - t0
    return [RuleTrack(s.track_no, s.class_name, s.points) for s in summaries if s.class_name == "person"], seconds


def truth_tracks(gt: np.ndarray, start, fps: float) -> list[RuleTrack]:
    out = []
    for tid in np.unique(gt[:, 1]).astype(int):
        rows = gt[gt[:, 1] == tid]
        rows = rows[np.argsort(rows[:, 0])]
        out.append(
            RuleTrack(
                int(tid),
                "person",
                [
                    TrackPoint(
                        int(f) - 1, start + timedelta(seconds=(f - 1) / fps), (x, y, x + w, y + h), 1.0, (wx, wy)
                    )
                    for f, _, x, y, w, h, _, wx, wy, *_ in rows
                ],
            )
        )
    return out


def identity_map(tracks: list[RuleTrack], gt: np.ndarray) -> dict[int, int]:
    """Vigie track id -> the truth id its boxes match most often (IoU >= 0.5, one to one per frame)."""
    by_frame: dict[int, list[tuple[int, tuple]]] = defaultdict(list)
    for t in tracks:
        for p in t.points:
            by_frame[p.seq + 1].append((t.track_id, p.xyxy))
    votes: dict[int, Counter] = defaultdict(Counter)
    for f, hyp in by_frame.items():
        g = gt[gt[:, 0] == f]
        if not len(g):
            continue
        iou = iou_matrix(mot_xyxy(g), np.array([b for _, b in hyp], float))
        matches, _, _ = assign(1.0 - iou, 0.5)
        for i, j in matches:
            votes[hyp[j][0]][int(g[i, 1])] += 1
    return {tid: c.most_common(1)[0][0] for tid, c in votes.items()}


def time_iou(a, b) -> float:
    inter = (min(a.end, b.end) - max(a.start, b.start)).total_seconds()
    union = (max(a.end, b.end) - min(a.start, b.start)).total_seconds()
    return max(inter, 0.0) / union if union > 0 else 0.0


def members_overlap(vigie_ids, truth_ids, mapping) -> float:
    mapped = {mapping.get(i, -i - 1_000_000) for i in vigie_ids}  # unmapped: a stranger of its own
    truth = set(truth_ids)
    return len(mapped & truth) / min(len(mapped), len(truth))


def match(found, reference, mapping, members: bool) -> int:
    pairs = []
    for i, v in enumerate(found):
        for j, r in enumerate(reference):
            tiou = time_iou(v, r)
            if tiou >= MIN_TIME_IOU and (
                not members or members_overlap(v.track_ids, r.track_ids, mapping) >= MIN_MEMBER_OVERLAP
            ):
                pairs.append((tiou, i, j))
    used_v, used_r = set(), set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in used_v and j not in used_r:
            used_v.add(i)
            used_r.add(j)
    return len(used_v)


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "  - "


def main() -> None:
    ap = argparse.ArgumentParser(description="Gathering events on PETS09-S2L1: Vigie's tracks vs the ground truth")
    ap.add_argument("--list", action="store_true", help="list every event")
    args = ap.parse_args()
    site = load_site(ROOT / "examples" / "nimes-demo.yaml")
    camera = site.camera(CAMERA)
    gt = read_mot(PETS / "gt.txt")
    reference_tracks = truth_tracks(gt, camera.recording_start, camera.frame_rate)
    tracks, seconds = vigie_tracks(site)
    mapping = identity_map(tracks, gt)
    print(
        f"PETS09-S2L1, {len(tracks)} Vigie person tracks ({len(mapping)} mapped to {len(set(mapping.values()))} of "
        f"{len(reference_tracks)} truth identities; pipeline {seconds:.0f} s)"
    )
    context = RuleContext(CAMERA, (768, 576))
    print(
        f"{'N':>2} {'R m':>4} {'T s':>4} | {'ref':>3} {'vigie':>5} {'match':>5} {'prec':>5} {'recall':>6} | "
        f"{'time-only prec':>14} {'recall':>6}"
    )
    listing = []
    for n, r, t in SETTINGS:
        config = GatheringConfig(name="bench", min_people=n, radius_m=r, min_duration_s=t)
        ref = gathering(config, reference_tracks, context)
        found = gathering(config, tracks, context)
        m, mt = match(found, ref, mapping, True), match(found, ref, mapping, False)
        print(
            f"{n:>2} {r:>4.1f} {t:>4.0f} | {len(ref):>3} {len(found):>5} {m:>5} {ratio(m, len(found)):>5} "
            f"{ratio(m, len(ref)):>6} | {ratio(mt, len(found)):>14} {ratio(mt, len(ref)):>6}"
        )
        listing.append(((n, r, t), ref, found))
    if args.list:
        start = camera.recording_start
        for (n, r, t), ref, found in listing:
            print(f"\nN={n} R={r} T={t}")
            for label, events, name in (
                ("ref  ", ref, lambda i: i),
                ("vigie", found, lambda i: f"{i}->{mapping.get(i, '?')}"),
            ):
                for e in events:
                    print(
                        f"  {label} {(e.start - start).total_seconds():6.1f}-{(e.end - start).total_seconds():6.1f} s "
                        f"peak {e.details['peak_size']}  members {', '.join(str(name(i)) for i in e.track_ids)}"
                    )


if __name__ == "__main__":
    main()
