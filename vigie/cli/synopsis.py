"""`vigie synopsis`: every object a camera saw in a period (or those a search finds), in a short video."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import cv2
from tqdm import tqdm

from vigie.audit.log import append as audit_append
from vigie.cli.common import add_justification_flags, audit_console, console_actor, site_or_default
from vigie.cli.search import add_attribute_flags, attribute_filters
from vigie.clock import flag_instant
from vigie.errors import VigieError
from vigie.files import data_dir
from vigie.privacy.blur import Blurrer
from vigie.services import Services
from vigie.synopsis.build import SynopsisError
from vigie.synopsis.make import make_synopsis
from vigie.times import parse_time


def register(sub) -> None:
    s = sub.add_parser(
        "synopsis",
        help="a short video showing every object of a period at once, each with its time; "
        "with search filters, only the objects that match",
    )
    s.add_argument("--camera", required=True, help="camera id")
    s.add_argument(
        "--from",
        dest="start",
        required=True,
        metavar="TIME",
        help='period start: ISO 8601 with Z or an offset, or as people say it in the site\'s zone ("hier 14h", "06/12/2026 14:00")',
    )
    s.add_argument("--to", dest="end", required=True, metavar="TIME", help="period end (excluded)")
    add_attribute_flags(s, skip=("cameras", "groups", "communes"))
    s.add_argument(
        "--length",
        dest="length_s",
        type=float,
        metavar="S",
        help="synopsis length in seconds (default: the shortest with at most --max-collision overlap)",
    )
    s.add_argument(
        "--max-collision",
        type=float,
        default=0.05,
        metavar="F",
        help="largest share of object area that may overlap another object (default 0.05)",
    )
    s.add_argument("--format", choices=("mp4", "webm"), default="mp4", help="H.264 MP4 (default) or VP8 WebM")
    s.add_argument("--site", help="site file: its time zone is used for the labels (default UTC)")
    s.add_argument("--still", metavar="FILE.png", help="also write the synopsis frame that shows the most objects")
    s.add_argument(
        "--out", metavar="DIR", help="folder for synopsis.<format> and synopsis.json (default $VIGIE_DATA/synopses/...)"
    )
    s.add_argument(
        "--no-blur",
        action="store_true",
        help="do not blur faces and plates: needs --case, --purpose and an --out outside the data folder; audited",
    )
    add_justification_flags(s, purpose_help="why the synopsis is made (written to the audit log)")
    s.add_argument("--no-progress", action="store_true")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(fn=cmd_synopsis)


def _time(text: str, what: str, zone: ZoneInfo) -> datetime:
    # ISO 8601 is refused without a zone, as the synopsis itself refuses (vigie.synopsis.build); a phrase
    # ("hier 14h-15h", "dernière heure", "06/12/2026 14:00") is in the site's zone (vigie.clock).
    if re.match(r"\s*\d{4}-\d{2}-\d{2}", text):
        return parse_time(text, f"synopsis --{what}:", naive=None, error=SynopsisError)
    return flag_instant(text, f"synopsis --{what}", zone=zone, edge="start" if what == "from" else "end")


def check_unblurred_output(args: argparse.Namespace) -> None:
    """--no-blur writes unblurred footage: only for a case, and never into the data folder, which keeps
    no unblurred picture in the clear (issue 19, finding 7: they are sealed there, or not kept)."""
    if not ((args.case_ref or "").strip() and (args.purpose or "").strip()):
        raise VigieError("--no-blur needs --case and --purpose: an unblurred synopsis is written only for a case")
    if not args.out:
        raise VigieError("--no-blur needs --out: an unblurred synopsis is never written into the data folder")
    data = data_dir().resolve()
    for flag, value in (("--out", args.out), ("--still", args.still)):
        if value and Path(value).resolve().is_relative_to(data):
            raise VigieError(
                f"--no-blur: {flag} {value} is inside the data folder, which keeps no unblurred picture in the "
                "clear: write it elsewhere"
            )


def cmd_synopsis(args: argparse.Namespace) -> int:
    if args.no_blur:
        check_unblurred_output(args)
    timezone = "UTC"
    if args.site:
        timezone = site_or_default(args.site).timezone
    start, end = _time(args.start, "from", ZoneInfo(timezone)), _time(args.end, "to", ZoneInfo(timezone))
    filters = attribute_filters(args)
    blurrer = None
    if not args.no_blur:
        blurrer = Blurrer()
    with Services.from_env() as services:
        store = services.store
        out = (
            Path(args.out)
            if args.out
            else (
                data_dir()
                / "synopses"
                / f"{args.camera}-{start.strftime('%Y%m%dT%H%M%S')}-{end.strftime('%Y%m%dT%H%M%S')}"
            )
        )
        bar = None
        if not args.no_progress:
            bar = tqdm(unit="frame", desc=f"synopsis {args.camera}", dynamic_ncols=True)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = make_synopsis(
                store,
                args.camera,
                start,
                end,
                out,
                filters,
                args.length_s,
                args.max_collision,
                blurrer,
                args.format,
                progress=progress if bar is not None else None,
                label_timezone=timezone,
            )
        finally:
            if bar is not None:  # (a tqdm without a total cannot be tested for truth)
                bar.close()
        audit_append(
            store,
            console_actor(),
            "console",
            "synopsis",
            case_ref=args.case_ref,
            purpose=args.purpose,
            details={
                "camera": args.camera,
                "from": args.start,
                "to": args.end,
                "filters": filters,
                "blurred": blurrer is not None,
                "objects": report.objects,
                "video": report.video,
            },
        )
        if args.still:
            _write_still(Path(report.video), Path(report.index), Path(args.still))
        if blurrer is None:  # as `vigie tracks --unblurred`: which tracks went out unblurred, into which files
            objects = json.loads(Path(report.index).read_text(encoding="utf-8"))["objects"]
            audit_console(
                store,
                "view_unblurred",
                args,
                {
                    "track_ids": sorted({int(o["track"]) for o in objects}),
                    "files": [report.video, report.index, *([args.still] if args.still else [])],
                },
            )
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    print(
        f"{report.objects} objects from {report.source_s / 60:.1f} min of video in {report.synopsis_s:.1f} s "
        f"({report.condensation:.1f}x); overlap {report.collision_fraction:.1%} of object area (boxes), "
        f"{report.lost_fraction:.1%} (masks); {report.inversions} order inversions; built in {report.seconds:.1f} s "
        f"({report.source_s / report.seconds:.0f}x faster than the video)"
    )
    if not report.limit_met:
        print(
            f"the objects overlap more than --max-collision {args.max_collision:.0%} even at their own times "
            "(a busy period): the synopsis keeps the source's length; ask for a --length to condense it anyway"
        )
    if report.without_tube:
        print(f"{report.without_tube} matching tracks have no tube (analysed before Vigie kept them) and are not shown")
    print(f"video: {report.video}\nindex: {report.index}")
    return 0


def _write_still(video: Path, index: Path, out: Path) -> None:
    """The frame of the synopsis that shows the most objects, as a PNG."""

    frames = json.loads(index.read_text())["frame_objects"]
    busiest = max(range(len(frames)), key=lambda j: len(frames[j]))
    with av.open(str(video)) as container:
        for j, frame in enumerate(container.decode(video=0)):
            if j == busiest:
                out.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(out), frame.to_ndarray(format="bgr24"))
                return
