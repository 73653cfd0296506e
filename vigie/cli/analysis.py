"""`vigie analyze` (a recording, as one camera of the site) and `vigie tracks` (what is stored)."""

from __future__ import annotations

import argparse
import json
import sys

from vigie.cli.common import (
    EXIT_PARTIAL,
    add_executor_arguments,
    add_justification_flags,
    audit_console,
    executor_from_args,
    site_or_default,
)
from vigie.describe.sheet import contact_sheet
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.privacy.pictures import TrackPictures, check_unblurred
from vigie.services import Services
from vigie.times import parse_time


def register(sub) -> None:
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
    t.add_argument(
        "--sheet",
        metavar="FILE",
        help="also write a contact sheet (JPEG) of the listed tracks' best crops (blurred unless --unblurred)",
    )
    add_justification_flags(t, unblurred=True)
    t.set_defaults(fn=cmd_tracks)


def cmd_analyze(args: argparse.Namespace) -> int:
    site = site_or_default(args.site)
    camera = site.camera(args.camera)  # fail on an unknown camera before opening anything
    if args.recording_start:
        camera = camera.model_copy(
            update={"recording_start": parse_time(args.recording_start, "--recording-start:", naive=None)}
        )
        site = site.model_copy(update={"cameras": [camera if c.id == camera.id else c for c in site.cameras]})
    # Without a file: the camera's own recording, its sub-stream first (cheaper to analyse).
    video = args.video or camera.substream or camera.source
    if not video:
        raise VigieError(
            _("camera {id} has no source nor substream in the site file: give a VIDEO to analyse", id=repr(camera.id))
        )
    with Services.from_env() as services, executor_from_args(args) as executor:
        store = services.store
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


def _fmt_colours(names: list[str]) -> str:
    return "/".join(names) if names else "-"


def cmd_tracks(args: argparse.Namespace) -> int:
    check_unblurred(args.unblurred, args.case_ref, args.purpose)
    with Services.from_env() as services:
        store = services.store
        if args.id is not None:
            track = store.get_track(args.id)
            if track is None:
                raise VigieError(_("no stored track has id {id}", id=args.id))
            if args.points:
                track["points"] = store.track_points(args.id)
            rows = [track]
        else:
            rows = store.list_tracks(
                camera_id=args.camera, class_name=args.class_name, limit=args.limit, offset=args.offset
            )
        drawn = None
        if args.sheet:
            pictures = TrackPictures(store, unblurred=args.unblurred)
            drawn = contact_sheet(rows, args.sheet, lambda t: pictures.image(t["id"], t["class"]))
        details = {"track_ids": [t["id"] for t in rows], "sheet": args.sheet}
        if args.id is None:
            details["filters"] = {"camera": args.camera, "class": args.class_name, "offset": args.offset}
        audit_console(store, "view_track", args, details)
        if args.sheet and args.unblurred and pictures.used:
            audit_console(store, "view_unblurred", args, {"track_ids": pictures.used, "files": [args.sheet]})
    if drawn is not None:
        what = "unblurred" if args.unblurred else "faces and plates blurred"
        print(f"Contact sheet of {drawn} tracks written to {args.sheet} ({what})")
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
