"""`vigie eval mot|reid` (accuracy against ground truth) and `vigie adapt` (the site's appearance adaptation)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vigie.cli.common import EXIT_PARTIAL, eval_site
from vigie.describe.backends.registry import build_backend
from vigie.errors import VigieError
from vigie.eval.mot import read_mot, read_seqinfo, score, track_video, with_frame_rate, write_mot
from vigie.eval.reid import evaluate_reid
from vigie.eval.reid_dataset import evaluate_dataset
from vigie.files import data_dir
from vigie.i18n import _
from vigie.search.adapt import adapt_store
from vigie.services import Services
from vigie.synopsis.redescribe import redescribe_from_tubes


def register(sub) -> None:
    e = sub.add_parser("eval", help="measure accuracy against ground truth")
    esub = e.add_subparsers(dest="what", required=True)
    m = esub.add_parser("mot", help="multi-object tracking metrics (MOTA, IDF1, ...) against MOTChallenge ground truth")
    m.add_argument("--video", required=True)
    m.add_argument(
        "--gt",
        required=True,
        help="MOTChallenge gt.txt, frame 1 = first decoded frame; a seqinfo.ini beside it or in its parent folder "
        "(SEQ/gt/gt.txt) gives the true frame rate",
    )
    m.add_argument("--site", help="site file whose camera settings to use (default: built-in defaults)")
    m.add_argument("--camera", help="camera of the site file (default: its first)")
    m.add_argument("--out", help="where to write the tracks in MOTChallenge format")
    m.add_argument(
        "--json", action="store_true", help="print one JSON object: mota, idf1, id_switches, precision, recall, ..."
    )
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(fn=cmd_eval_mot)
    r = esub.add_parser(
        "reid", help="re-identification accuracy (rank-1, rank-5, mAP) on ground-truth boxes, per descriptor"
    )
    r.add_argument(
        "--dataset",
        metavar="DIR",
        help="a re-ID set in Market-1501 layout (query/, bounding_box_test/, optional bounding_box_train/): every "
        "appearance backend, the fusion and the adapted default, by the Market-1501 protocol",
    )
    r.add_argument("--video", help="with --gt: a video with MOTChallenge ground truth (PETS09 protocol)")
    r.add_argument("--gt", help="MOTChallenge gt.txt, frame 1 = first decoded frame")
    r.add_argument("--site", help="site file whose camera settings and appearance models to use")
    r.add_argument("--camera", help="camera of the site file (default: its first)")
    r.add_argument(
        "--split",
        choices=("sequence", "identity"),
        default="sequence",
        help="halves of the sequence (default), or of each identity's own frames",
    )
    r.add_argument("--same-person", metavar="CSV", help="ground-truth ids that are one person (one person per line)")
    r.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: with --dataset {"dataset", "queries", "gallery", "variants": [{"name", "default", '
        '"rank1", "rank5", "map", "ms_per_crop", ...}]}; with --video {"variants": [{"name", "crop", "tracklet"}], ...}',
    )
    r.set_defaults(fn=cmd_eval_reid)

    ad = sub.add_parser(
        "adapt",
        help="learn the site's appearance adaptation from its stored tracks (no labels); tracks described by an "
        "older appearance backend are described again from their kept synopsis tubes first",
    )
    ad.add_argument("--site", help="site file whose appearance backend to use (default: the built-in default)")
    ad.add_argument("--no-progress", action="store_true")
    ad.add_argument("--json", action="store_true")
    ad.set_defaults(fn=cmd_adapt)


def cmd_eval_mot(args: argparse.Namespace) -> int:
    gt_path = Path(args.gt)
    if not gt_path.is_file():
        raise VigieError(_("ground truth file {gt_path} does not exist", gt_path=gt_path))
    site, camera_id = eval_site(args)
    try:
        rate = read_seqinfo(gt_path)  # MOTChallenge's true frame rate beats the container's and the site's
    except ValueError as exc:
        raise VigieError(str(exc)) from None
    site = with_frame_rate(site, camera_id, rate)
    rows, pipeline, message = track_video(args.video, site, camera_id, progress=not args.no_progress and not args.json)
    out = Path(args.out) if args.out else data_dir() / "eval" / f"{Path(args.video).stem}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_mot(out, rows)
    try:
        gt = read_mot(gt_path)
    except ValueError as exc:
        raise VigieError(
            _("ground truth file {gt_path} is not in MOTChallenge format: {exc}", gt_path=gt_path, exc=exc)
        ) from None
    scores = score(gt, np.array(rows) if rows else np.zeros((0, 7)))
    if args.json:
        print(json.dumps({**scores.as_dict(), "tracks_file": str(out)}))
    else:
        print(
            f"MOTA {scores.mota:.3f}  IDF1 {scores.idf1:.3f}  ID switches {scores.id_switches}  "
            f"precision {scores.precision:.3f}  recall {scores.recall:.3f}"
        )
        print(
            f"{scores.num_frames} frames, {scores.gt_boxes} true boxes, {scores.false_positives} false positives, "
            f"{scores.misses} misses; {scores.mostly_tracked}/{scores.gt_ids} people mostly tracked"
        )
        print(f"Tracks written in MOTChallenge format to {out}")
    if message:
        print(f"vigie: warning: {message}", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def cmd_eval_reid(args: argparse.Namespace) -> int:
    if args.dataset:
        return _eval_reid_dataset(args)
    if not (args.video and args.gt):
        raise VigieError(_("vigie eval reid needs --dataset DIR, or --video and --gt"))
    for path in (args.video, args.gt, args.same_person):
        if path and not Path(path).is_file():
            raise VigieError(_("file {path} does not exist", path=path))
    site, camera_id = eval_site(args)
    say = None if args.json else (lambda text: print(text, file=sys.stderr))
    report = evaluate_reid(
        args.video, args.gt, site, camera_id, split=args.split, same_person=args.same_person, progress=say
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"Re-identification on {report['gt']} ({report['split']} halves, {report['identities_in_both_halves']} identities "
        f"in both{', same-person ids merged' if report['same_person'] else ''}):"
    )
    print(
        f"{'variant':<10} {'crop r1':>8} {'crop r5':>8} {'crop mAP':>9} {'tracklet r1':>12} {'r5':>6} {'mAP':>6}  description"
    )
    for v in report["variants"]:
        c, t = v["crop"], v["tracklet"]
        print(
            f"{v['name']:<10} {c['rank1']:>8.3f} {c['rank5']:>8.3f} {c['map']:>9.3f} {t['rank1']:>12.3f} {t['rank5']:>6.3f} "
            f"{t['map']:>6.3f}  {v['description']}"
        )
    a = report["adaptation"]
    print(
        f"Adaptation trained on Vigie's own {a['tracks']} tracks ({a['crops']} crops, {a['negative_pairs']} certain "
        f"negative pairs) in {a['seconds']:.1f} s."
    )
    return 0


def _eval_reid_dataset(args: argparse.Namespace) -> int:
    site, camera_id = eval_site(args)
    say = None if args.json else (lambda text: print(text, file=sys.stderr))
    report = evaluate_dataset(args.dataset, models=site.analysis_for(camera_id).appearance.models, progress=say)
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"Re-identification on {report['dataset']}: {report['queries']} queries, {report['gallery']} gallery crops "
        "(Market-1501 protocol; both ways, averaged, where query and gallery are different cameras)"
    )
    print(f"{'variant':<52} {'rank-1':>7} {'rank-5':>7} {'mAP':>6} {'ms/crop':>8}")
    for v in report["variants"]:
        mark = "  <- default" if v["default"] else ""
        print(f"{v['name']:<52} {v['rank1']:>7.3f} {v['rank5']:>7.3f} {v['map']:>6.3f} {v['ms_per_crop']:>8.1f}{mark}")
    print(f"The adaptation learned from {report['adaptation_learned_from']}.")
    return 0


def cmd_adapt(args: argparse.Namespace) -> int:
    with Services.from_env(args.site, default_site=True) as services:
        store, analysis = services.store, services.site.analysis
        a = analysis.appearance
        backend = build_backend(a.backend, a.models, mirrored=a.mirrored)
        bar = None
        if not args.no_progress and not args.json and store.crops_of_other_bases(backend.name)["with_tube"]:
            bar = tqdm(desc=f"describing kept tubes with {backend.name}", unit="track", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        redescribed = redescribe_from_tubes(store, backend, max(2, analysis.search_crops), progress if bar else None)
        if bar:
            bar.close()
        report = adapt_store(store, backend.name)
    if args.json:
        print(json.dumps({**report.as_dict(), "redescribed": redescribed.as_dict()}))
        return 0
    if redescribed.tracks:
        print(
            f"Described {redescribed.tracks} person tracks again with {backend.name} from their kept tubes "
            f"({redescribed.crops} crops; no video decoded)."
        )
    if redescribed.without_tube:
        print(
            f"vigie: warning: {redescribed.without_tube} person tracks were described by an older appearance backend "
            f"and have no kept tube: analyse their recordings again (vigie analyze) to find them by appearance",
            file=sys.stderr,
        )
    print(
        f"Site adaptation {report.name} trained in {report.seconds:.1f} s on {report.tracks} person tracks "
        f"({report.crops} crops, {report.cameras} cameras, {report.negative_pairs} pairs of people seen together)."
    )
    print(
        f"Mean cosine, same track / two people seen together: before {report.same_before:.2f} / {report.different_before:.2f}, "
        f"after {report.same_after:.2f} / {report.different_after:.2f}. Search uses it from now on."
    )
    return 0
