"""The `vigie` command: one entry point, one verb per job.

Errors the user can fix (bad site file, unreadable video) are printed as one
line naming the problem, with exit status 2; a video that stopped early is
analysed as far as it could be read, stored, and reported with status 3.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from vigie.errors import VigieError

EXIT_USAGE = 2
EXIT_PARTIAL = 3


def _site(path: str | None):
    from vigie.config import default_site, load_site

    return load_site(path) if path else default_site()


def _eval_site(args: argparse.Namespace):
    """(site, camera id) whose settings an evaluation runs with: --site and --camera, or the built-in defaults."""
    if args.site:
        site = _site(args.site)
        return site, args.camera or site.cameras[0].id
    return _site(None), "camera-1"


def _store():
    from vigie.store.sqlite import open_store

    return open_store(os.environ.get("VIGIE_DATA", "./var"))


# --- analyze ---------------------------------------------------------------------
def _aware_time(text: str, what: str):
    from datetime import datetime, timezone

    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise VigieError(f"{what}: {text!r} is not an ISO 8601 time (e.g. 2026-11-20T13:00:00Z)") from None
    if t.tzinfo is None:
        raise VigieError(f"{what}: {text!r} needs a time zone (e.g. 2026-11-20T13:00:00Z)")
    return t.astimezone(timezone.utc)


def _executor(args: argparse.Namespace):
    from vigie.scale import get_executor

    if args.executor == "ray":
        options = {
            k: v
            for k, v in (("chunk_s", getattr(args, "chunk_s", None)), ("workers", getattr(args, "workers", None)))
            if v is not None
        }
        return get_executor("ray", args.address, **options)
    return get_executor(args.executor, args.address)


def cmd_analyze(args: argparse.Namespace) -> int:

    site = _site(args.site)
    camera = site.camera(args.camera)  # fail on an unknown camera before opening anything
    if args.recording_start:
        camera = camera.model_copy(update={"recording_start": _aware_time(args.recording_start, "--recording-start")})
        site = site.model_copy(update={"cameras": [camera if c.id == camera.id else c for c in site.cameras]})
    # Without a file: the camera's own recording, its sub-stream first (cheaper to analyse).
    video = args.video or camera.substream or camera.source
    if not video:
        raise VigieError(f"camera {camera.id!r} has no source nor substream in the site file: give a VIDEO to analyse")
    with _store() as store, _executor(args) as executor:
        report = executor.analyse_file(video, args.camera, site, store, progress=not args.no_progress)
        if args.json:
            print(json.dumps(report.__dict__, indent=2, default=str))
        else:
            fps = report.frames_analysed / report.seconds if report.seconds else 0.0
            classes = ", ".join(f"{n} {c}" for c, n in sorted(report.by_class.items())) or "none"
            print(
                f"Analysed {report.source} as camera {report.camera_id}: {report.frames_decoded} frames decoded, "
                f"{report.frames_analysed} analysed in {report.seconds:.1f} s ({fps:.1f} frames/s)"
            )
            print(
                f"Stored {report.tracks} tracks ({classes}) in {store.location}, analysis #{report.analysis_id} ({report.status})"
            )
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.stage_seconds.items())
            print(f"Time per stage: {stages}")
    if report.message:
        print(f"vigie: warning: {report.message}; the frames before it were analysed and stored", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


# --- tracks -----------------------------------------------------------------------
def _fmt_colours(names: list[str]) -> str:
    return "/".join(names) if names else "-"


def cmd_tracks(args: argparse.Namespace) -> int:
    with _store() as store:
        if args.id is not None:
            track = store.get_track(args.id)
            if track is None:
                raise VigieError(f"no stored track has id {args.id}")
            if args.points:
                track["points"] = store.track_points(args.id)
            rows = [track]
        else:
            rows = store.list_tracks(
                camera_id=args.camera, class_name=args.class_name, limit=args.limit, offset=args.offset
            )
    if args.sheet:
        from vigie.describe.sheet import contact_sheet

        drawn = contact_sheet(rows, args.sheet)
        print(f"Contact sheet of {drawn} tracks written to {args.sheet}")
    if args.json:
        print(json.dumps(rows if args.id is None else rows[0], indent=2))
        return 0
    if not rows:
        print(
            "No stored tracks match."
            if (args.camera or args.class_name)
            else "No tracks stored yet: run `vigie analyze VIDEO --camera ID` first."
        )
        return 0
    header = f"{'id':>6} {'camera':<20} {'no':>4} {'class':<10} {'first seen (UTC)':<23} {'dwell':>6} {'dir':>3} {'px/s':>6} {'m/s':>5} {'h px':>5}  colours (upper | lower | body)  thumbnail"
    print(header)
    for t in rows:
        speed_m = f"{t['speed_m_s']:.2f}" if t["speed_m_s"] is not None else "-"
        speed_px = f"{t['speed_px_s']:.0f}" if t["speed_px_s"] is not None else "-"
        colours = f"{_fmt_colours(t['upper'])} | {_fmt_colours(t['lower'])} | {_fmt_colours(t['body'])}"
        print(
            f"{t['id']:>6} {t['camera_id']:<20.20} {t['track_no']:>4} {t['class']:<10} {t['first_seen'][:23]:<23} "
            f"{t['dwell_s']:>5.1f}s {t['direction'] or '-':>3} {speed_px:>6} {speed_m:>5} {t['median_height_px']:>5.0f}  "
            f"{colours:<30} {t['thumbnail_path'] or '-'}"
        )
    return 0


# --- eval mot ---------------------------------------------------------------------
def cmd_eval_mot(args: argparse.Namespace) -> int:
    import numpy as np

    from vigie.eval.mot import read_mot, score, track_video, write_mot

    gt_path = Path(args.gt)
    if not gt_path.is_file():
        raise VigieError(f"ground truth file {gt_path} does not exist")
    site, camera_id = _eval_site(args)
    rows, pipeline, message = track_video(args.video, site, camera_id, progress=not args.no_progress and not args.json)
    out = (
        Path(args.out)
        if args.out
        else Path(os.environ.get("VIGIE_DATA", "./var")) / "eval" / f"{Path(args.video).stem}.txt"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_mot(out, rows)
    try:
        gt = read_mot(gt_path)
    except ValueError as exc:
        raise VigieError(f"ground truth file {gt_path} is not in MOTChallenge format: {exc}") from None
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


# --- eval reid ---------------------------------------------------------------------
def cmd_eval_reid(args: argparse.Namespace) -> int:
    from vigie.eval.reid import evaluate_reid

    for path in (args.video, args.gt, args.same_person):
        if path and not Path(path).is_file():
            raise VigieError(f"file {path} does not exist")
    site, camera_id = _eval_site(args)
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


# --- adapt -------------------------------------------------------------------------
def cmd_adapt(args: argparse.Namespace) -> int:
    from vigie.search.adapt import adapt_store

    with _store() as store:
        report = adapt_store(store)
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    print(
        f"Site adaptation {report.name} trained in {report.seconds:.1f} s on {report.tracks} person tracks "
        f"({report.crops} crops, {report.cameras} cameras, {report.negative_pairs} pairs of people seen together)."
    )
    print(
        f"Mean cosine, same track / two people seen together: before {report.same_before:.2f} / {report.different_before:.2f}, "
        f"after {report.same_after:.2f} / {report.different_after:.2f}. Search uses it from now on."
    )
    return 0


# --- trail -------------------------------------------------------------------------
def cmd_trail(args: argparse.Namespace) -> int:
    from vigie.search.commands import query_from_args
    from vigie.search.trail_cli import trail_for_track, write_outputs

    query = query_from_args(args)
    with _store() as store:
        trail = trail_for_track(
            store,
            args.track,
            query,
            candidates=args.candidates,
            min_similarity=args.min_similarity,
            max_speed_m_s=args.max_speed_bound,
        )
    written = write_outputs(trail, geojson=args.geojson, html=args.map, png=args.png)
    if args.json:
        from vigie.search.trail import trail_geojson

        print(json.dumps(trail_geojson(trail)))
        return 0
    print(
        f"Trail of track {args.track}: {len(trail.sightings)} sightings, bound {trail.max_speed_m_s:g} m/s, "
        f"{len(trail.rejected)} candidates left out."
    )
    for i, s in enumerate(trail.sightings):
        link = trail.links[i - 1] if i else None
        hop = (
            f"  <- {link.distance_m:.0f} m in {link.gap_s:.0f} s ({link.speed_m_s:.1f} m/s), link confidence {link.confidence:.2f}"
            if link
            else ""
        )
        mark = " (query)" if i == trail.query_index else ""
        print(
            f"{i + 1:>3}. {s.first_seen.isoformat()[:19]}Z  {s.camera_id:<24} track {s.track_id:<6} "
            f"similarity {s.similarity:.2f}  confidence {trail.confidences[i]:.2f}{mark}{hop}"
        )
    for path in written:
        print(f"Written: {path}")
    return 0


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where the work runs: this machine (default) or a Ray cluster (vigie.scale)",
    )
    p.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="--executor ray: the cluster's head (as `ray start --head` printed it); default: a Ray of this machine's own",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigie", description="Open forensic video analytics for a city's cameras.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    sub = p.add_subparsers(dest="verb", required=True)

    a = sub.add_parser("analyze", help="analyse a recorded video as one camera of the site")
    a.add_argument(
        "video",
        nargs="?",
        help="video file (any format FFmpeg reads); default: the camera's substream, else its source",
    )
    a.add_argument("--camera", required=True, help="camera id in the site file")
    a.add_argument("--site", help="site file (YAML); without it, a one-camera site 'camera-1'")
    a.add_argument(
        "--recording-start",
        metavar="TIME",
        help="when the recording began (ISO 8601 with a time zone, e.g. 2026-11-20T13:00:00Z); "
        "overrides the camera's recording_start in the site file",
    )
    a.add_argument("--json", action="store_true", help="print the summary as JSON")
    a.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_executor_arguments(a)
    a.add_argument(
        "--chunk-s",
        type=float,
        metavar="S",
        help="--executor ray: seconds of video per chunk analysed in parallel (default 300)",
    )
    a.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="--executor ray: chunks in flight at once (default: the cluster's CPUs)",
    )
    a.set_defaults(fn=cmd_analyze)

    t = sub.add_parser("tracks", help="list stored tracks and their attributes")
    t.add_argument("--camera", help="only this camera")
    t.add_argument("--class", dest="class_name", help="only this class (person, car, ...)")
    t.add_argument("--id", type=int, help="one track, by its id")
    t.add_argument("--points", action="store_true", help="with --id: include per-frame points")
    t.add_argument("--limit", type=int, default=100)
    t.add_argument("--offset", type=int, default=0)
    t.add_argument("--json", action="store_true", help="print JSON")
    t.add_argument("--sheet", metavar="FILE", help="also write a contact sheet (JPEG) of the listed tracks' best crops")
    t.set_defaults(fn=cmd_tracks)

    e = sub.add_parser("eval", help="measure accuracy against ground truth")
    esub = e.add_subparsers(dest="what", required=True)
    m = esub.add_parser("mot", help="multi-object tracking metrics (MOTA, IDF1, ...) against MOTChallenge ground truth")
    m.add_argument("--video", required=True)
    m.add_argument("--gt", required=True, help="MOTChallenge gt.txt, frame 1 = first decoded frame")
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
    r.add_argument("--video", required=True)
    r.add_argument("--gt", required=True, help="MOTChallenge gt.txt, frame 1 = first decoded frame")
    r.add_argument("--site", help="site file whose camera settings Vigie's own analysis uses (for the adaptation)")
    r.add_argument("--camera", help="camera of the site file (default: its first)")
    r.add_argument(
        "--split",
        choices=("sequence", "identity"),
        default="sequence",
        help="halves of the sequence (default), or of each identity's own frames",
    )
    r.add_argument("--same-person", metavar="CSV", help="ground-truth ids that are one person (one person per line)")
    r.add_argument(
        "--json", action="store_true", help='print {"variants": [{"name", "crop": {...}, "tracklet": {...}}, ...], ...}'
    )
    r.set_defaults(fn=cmd_eval_reid)

    ad = sub.add_parser("adapt", help="learn the site's appearance adaptation from its stored tracks (no labels)")
    ad.add_argument("--json", action="store_true")
    ad.set_defaults(fn=cmd_adapt)

    from vigie.search.commands import add_filter_flags, register

    register(sub)
    from vigie.accounts.commands import register as register_accounts
    from vigie.audit.commands import register as register_audit
    from vigie.retention.commands import register as register_retention

    register_audit(sub)
    register_retention(sub)
    register_accounts(sub)
    from vigie.live.commands import register as register_live
    from vigie.rules.commands import register as register_rules
    from vigie.web.commands import register as register_web

    register_web(sub)
    register_rules(sub)
    register_live(sub)
    from vigie.stats.commands import register as register_stats

    register_stats(sub)
    from vigie.drone import register as register_drone

    register_drone(sub)
    from vigie.synopsis.commands import register as register_synopsis

    register_synopsis(sub)
    from vigie.crimemap.commands import register as register_crimemap

    register_crimemap(sub)
    tr = sub.add_parser("trail", help="a track's likely path across the cameras, in time order, as GeoJSON and a map")
    tr.add_argument("track", type=int, help="id of the track to follow")
    tr.add_argument("--candidates", type=int, default=200, help="most similar tracks considered (default 200)")
    tr.add_argument(
        "--min-similarity",
        type=float,
        help="cosine below which a track is not a sighting (default: from the appearance model)",
    )
    tr.add_argument(
        "--max-speed-bound",
        type=float,
        metavar="M_S",
        help="fastest straight-line speed between cameras (default by class)",
    )
    tr.add_argument("--geojson", metavar="FILE", help="write the trail as GeoJSON")
    tr.add_argument("--map", metavar="FILE", help="write a Leaflet map page (HTML, self-contained)")
    tr.add_argument("--png", metavar="FILE", help="write a picture of the trail")
    add_filter_flags(tr)
    tr.set_defaults(fn=cmd_trail)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.fn(args)
    except VigieError as exc:
        print(f"vigie: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vigie: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `vigie tracks | head`: the reader has all it wanted
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
