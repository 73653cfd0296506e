"""`vigie recordings list|export`: what `vigie run` recorded of a camera, and exports of a period.

    vigie recordings list --camera C [--from T] [--to T] [--json]
    vigie recordings export --camera C --from T --to T --out F.mp4 --case REF --purpose WHY [--unblurred]

`list` prints the camera's segments and the gaps between them (times UTC, ISO 8601); `export` writes
F.mp4 (faces and plates blurred unless --unblurred), F.manifest.json and F.SHA256SUMS. Both are written
to the audit log under the console user's name, with the case and purpose given (an export needs both,
as in the web app).
"""

from __future__ import annotations

import argparse
import json

from vigie.cli.common import add_justification_flags, audit_console, console_actor
from vigie.errors import VigieError
from vigie.services import Services
from vigie.times import iso, parse_time


def register(sub) -> None:
    """Add `recordings` to the `vigie` command's subparsers."""
    r = sub.add_parser("recordings", help="recorded video of cameras with record: true (vigie run): list, export")
    rsub = r.add_subparsers(dest="recordings_verb", required=True)
    ls = rsub.add_parser("list", help="a camera's recorded segments and the gaps between them")
    _period_flags(ls, required=False)
    ls.add_argument("--json", action="store_true", help="print segments and gaps as JSON")
    add_justification_flags(ls)
    ls.set_defaults(fn=cmd_list)

    ex = rsub.add_parser(
        "export", help="one MP4 of a camera's recording over a period, with a manifest and SHA-256 sums"
    )
    _period_flags(ex, required=True)
    ex.add_argument("--out", required=True, metavar="FILE.mp4", help="the MP4 to write (manifest and sums beside it)")
    ex.add_argument("--site", help="site file (privacy masks of the camera; default: the built-in site)")
    add_justification_flags(ex, unblurred=True)
    ex.set_defaults(fn=cmd_export)


def _period_flags(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--camera", required=True, help="camera id")
    p.add_argument(
        "--from",
        dest="start",
        required=required,
        metavar="TIME",
        help="start, ISO 8601 (UTC unless an offset is given)",
    )
    p.add_argument("--to", dest="end", required=required, metavar="TIME", help="end (excluded), ISO 8601")


def _period(args) -> tuple:
    start = parse_time(args.start, "--from") if args.start else None
    end = parse_time(args.end, "--to") if args.end else None
    if start is not None and end is not None and end <= start:
        raise VigieError(f"--to {iso(end)} is not after --from {iso(start)}")
    return start, end


def cmd_list(args: argparse.Namespace) -> int:
    start, end = _period(args)
    with Services.from_env() as services:
        store = services.store
        segments = store.recording_segments(args.camera, start, end)
        gaps = store.recording_gaps(args.camera, start, end)
        audit_console(
            store,
            "view_recordings",
            args,
            {"camera_id": args.camera, "from": iso(start) if start else None, "to": iso(end) if end else None},
        )
    if args.json:
        doc = {
            "camera_id": args.camera,
            "segments": [s.as_dict() for s in segments],
            "gaps": [g.as_dict() for g in gaps],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if not segments:
        print(f"Camera {args.camera} has no recorded segment in this period.")
    else:
        total = sum(s.bytes for s in segments)
        print(
            f"Camera {args.camera}: {len(segments)} segments, {sum(s.duration_s for s in segments):.1f} s, "
            f"{total / 1e6:.1f} MB; {len(gaps)} gaps."
        )
        print(f"{'start (UTC)':<27} {'end (UTC)':<27} {'s':>6} {'frames':>6} {'MB':>6}  file")
        rows = [(s.start, "segment", s) for s in segments] + [(g.start, "gap", g) for g in gaps]
        for _, kind, item in sorted(rows, key=lambda r: (r[0], r[1] == "segment")):
            if kind == "gap":
                print(f"{iso(item.start):<27} {iso(item.end):<27} {item.duration_s:>6.1f}  gap: nothing recorded")
            else:
                flags = ("" if item.complete else " (cut short by a crash)") + (
                    " (masks burned in)" if item.masked else ""
                )
                print(
                    f"{iso(item.start):<27} {iso(item.end):<27} {item.duration_s:>6.1f} {item.frames:>6} "
                    f"{item.bytes / 1e6:>6.2f}  {item.path}{flags}"
                )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from vigie.privacy.pictures import check_unblurred
    from vigie.recording.export import export_recording

    start, end = _period(args)
    if not ((args.case_ref or "").strip() and (args.purpose or "").strip()):
        raise VigieError("an export needs --case and --purpose (written to the audit log)")
    check_unblurred(args.unblurred, args.case_ref, args.purpose)
    blurrer = None
    if not args.unblurred:
        from vigie.privacy.blur import Blurrer  # lazy: loads the face and text models

        blurrer = Blurrer()
    with Services.from_env(args.site, default_site=True) as services:
        result = export_recording(
            services.store,
            services.site,
            args.camera,
            start,
            end,
            args.out,
            blurrer=blurrer,
            user=console_actor(),
            role="console",
            case_ref=args.case_ref,
            purpose=args.purpose,
        )
    what = "faces and plates blurred" if result.blurred else "UNBLURRED"
    print(
        f"Wrote {result.mp4} ({result.frames} frames from {len(result.segments)} segments, {what}), "
        f"{result.manifest.name} and {result.sums.name}; SHA-256 {result.sha256}."
    )
    if result.gaps:
        print(f"The period has {len(result.gaps)} gaps with no recording (listed in the manifest).")
    return 0
