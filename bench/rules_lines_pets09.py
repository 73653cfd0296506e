"""Line-crossing counts on PETS09-S2L1: Vigie's own tracks against the ground truth.

Runs the demo site's pipeline (examples/nimes-demo.yaml, camera
nimes-esplanade-01) over all 795 frames of vtest.avi, keeps the people's
tracks with their points, and evaluates line-crossing rules
(vigie.rules.geometry) on two lines across the walkway. The same rules on the
ground-truth boxes (gt.txt, one track per identity) give the reference.
Prints, per line and direction, both counts, and the precision and recall of
Vigie's crossing events matched one-to-one to the true ones (same line, same
direction, within --tolerance seconds, closest first).

Lines are drawn bottom to top, so "in" is walking towards the right of the
frame, "out" towards the left (see vigie.rules.geometry's convention).

Run: .venv/bin/python bench/rules_lines_pets09.py [--tolerance 1.0] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.eval.mot import read_mot  # noqa: E402
from vigie.pipeline import open_camera_file, run_frames  # noqa: E402
from vigie.rules.base import RuleContext, RuleTrack  # noqa: E402
from vigie.rules.geometry import LineCrossingConfig, line_crossing  # noqa: E402
from vigie.types import TrackPoint, TrackSummary  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
LINES = {
    # Between the lamp post and the cones on the left: every walkway path passes here.
    "walkway-west": [(340, 330), (380, 170)],
    # Right of the tripod, where paths fan out towards the road.
    "walkway-east": [(500, 420), (560, 200)],
}


def gt_tracks(camera) -> list[RuleTrack]:
    """Ground-truth identities as tracks, timed as the camera times its frames (frame f = seq f-1)."""
    gt = read_mot(PETS / "gt.txt")
    tracks = []
    for tid in map(int, np.unique(gt[:, 1])):
        rows = gt[gt[:, 1] == tid]
        rows = rows[np.argsort(rows[:, 0])]
        points = [
            TrackPoint(
                int(f) - 1,
                camera.recording_start + timedelta(seconds=(f - 1) / camera.frame_rate),
                (x, y, x + w, y + h),
                1.0,
                (wx, wy),
            )
            for f, _, x, y, w, h, _, wx, wy, _ in rows.tolist()
        ]
        tracks.append(RuleTrack(tid, "person", points))
    return tracks


def vigie_tracks(site) -> tuple[list[RuleTrack], float]:
    """The pipeline's finished tracks (people), with their points, and the seconds it took."""
    source, pipeline = open_camera_file(PETS / "vtest.avi", CAMERA, site)
    summaries: list[TrackSummary] = []
    t0 = time.perf_counter()
    message = run_frames(pipeline, source, summaries.extend)
    if message:
        print(f"warning: the source stopped early: {message}", flush=True)
    seconds = time.perf_counter() - t0
    return [RuleTrack(s.track_no, s.class_name, s.points) for s in summaries if s.class_name == "person"], seconds


def match(true_s: list[float], found_s: list[float], tolerance: float) -> list[float]:
    """One-to-one matching of event times (closest first, at most `tolerance` apart): the matched |dt|s."""
    if not true_s or not found_s:
        return []
    cost = np.abs(np.subtract.outer(np.asarray(true_s), np.asarray(found_s)))
    big = 1e6
    rows, cols = linear_sum_assignment(np.where(cost <= tolerance, cost, big))
    return [float(cost[r, c]) for r, c in zip(rows, cols) if cost[r, c] <= tolerance]


def compare(
    config: LineCrossingConfig, truth: list[RuleTrack], found: list[RuleTrack], ctx: RuleContext, tolerance: float
) -> list[dict]:
    """Per direction, then both: counts, and events matched in time (a crossing only matches one of its direction)."""
    t0 = min(p.timestamp for t in truth for p in t.points)
    true_events, found_events = line_crossing(config, truth, ctx), line_crossing(config, found, ctx)

    def times(events, direction):
        return [(e.start - t0).total_seconds() for e in events if e.details["direction"] == direction]

    per = {d: (times(true_events, d), times(found_events, d)) for d in ("in", "out")}
    dts = {d: match(want, got, tolerance) for d, (want, got) in per.items()}
    rows = []
    for direction in ("in", "out", "both"):
        ds = ("in", "out") if direction == "both" else (direction,)
        n_true = sum(len(per[d][0]) for d in ds)
        n_found = sum(len(per[d][1]) for d in ds)
        matched = [dt for d in ds for dt in dts[d]]
        rows.append(
            {
                "line": config.name,
                "direction": direction,
                "truth": n_true,
                "vigie": n_found,
                "matched": len(matched),
                "precision": len(matched) / n_found if n_found else None,
                "recall": len(matched) / n_true if n_true else None,
                "median_abs_dt_s": float(np.median(matched)) if matched else None,
            }
        )
    return rows


def fmt(v, spec=".3f") -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description="Line-crossing counts on PETS09-S2L1, Vigie's tracks vs ground truth")
    ap.add_argument("--tolerance", type=float, default=1.0, help="seconds within which a crossing matches a true one")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    site = load_site(SITE)
    camera = site.camera(CAMERA)
    ctx = RuleContext(CAMERA, (768, 576))
    truth = gt_tracks(camera)
    found, seconds = vigie_tracks(site)
    print(
        f"PETS09-S2L1, 795 frames, {site.detector_for(CAMERA).type}: {len(found)} Vigie person tracks "
        f"({seconds:.0f} s), {len(truth)} true identities; match window {args.tolerance:g} s"
    )
    rows = []
    for name, line in LINES.items():
        config = LineCrossingConfig(name=name, line=line, classes=["person"])
        rows += compare(config, truth, found, ctx, args.tolerance)
    print(
        f"{'line':<14}{'dir':<6}{'truth':>6}{'vigie':>7}{'matched':>9}{'precision':>11}{'recall':>8}{'med |dt| s':>12}"
    )
    for r in rows:
        print(
            f"{r['line']:<14}{r['direction']:<6}{r['truth']:>6}{r['vigie']:>7}{r['matched']:>9}"
            f"{fmt(r['precision']):>11}{fmt(r['recall']):>8}{fmt(r['median_abs_dt_s'], '.2f'):>12}"
        )
    if args.json:
        print(json.dumps({"tolerance_s": args.tolerance, "pipeline_seconds": seconds, "rows": rows}))


if __name__ == "__main__":
    main()
