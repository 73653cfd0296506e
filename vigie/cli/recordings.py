"""`vigie recordings list|export`: what `vigie run` recorded of a camera, and exports of a period.

    vigie recordings list --camera C [--from T] [--to T] [--site F] [--json]
    vigie recordings export --camera C --from T --to T --out F.mp4 --case REF --purpose WHY [--unblurred]

`list` prints the camera's segments and the gaps between them on the site's clock (its time zone, named in
the header: "début (heure de Paris)"), in the site's language ($VIGIE_LANG overrides it), as the other
commands do; `--json` gives the times as stored, ISO 8601 in UTC. `export` writes F.mp4 (faces and plates
blurred unless --unblurred), F.manifest.json and F.SHA256SUMS. --from/--to are ISO 8601 (UTC unless an
offset is given) or a time as people say it on the site's clock ("06/12/2026 14:00", "hier 14h").
Both are written to the audit log under the console user's name, with the case and purpose given (an
export needs both, as in the web app).
"""

from __future__ import annotations

import argparse
import json
from zoneinfo import ZoneInfo

from vigie.cli.common import add_justification_flags, audit_console, console_actor, site_or_default
from vigie.clock import flag_instant, local_text, zone_label
from vigie.errors import VigieError
from vigie.i18n import _, current_language
from vigie.services import Services
from vigie.times import iso


def register(sub) -> None:
    """Add `recordings` to the `vigie` command's subparsers."""
    r = sub.add_parser("recordings", help="recorded video of cameras with record: true (vigie run): list, export")
    rsub = r.add_subparsers(dest="recordings_verb", required=True)
    ls = rsub.add_parser("list", help="a camera's recorded segments and the gaps between them")
    _period_flags(ls, required=False)
    ls.add_argument("--site", help="site file: its clock and language for the listing (default: the built-in site)")
    ls.add_argument("--json", action="store_true", help="print segments and gaps as JSON (times ISO 8601, UTC)")
    add_justification_flags(ls)
    ls.set_defaults(fn=cmd_list)

    ex = rsub.add_parser(
        "export", help="one MP4 of a camera's recording over a period, with a manifest and SHA-256 sums"
    )
    _period_flags(ex, required=True)
    ex.add_argument("--out", required=True, metavar="FILE.mp4", help="the MP4 to write (manifest and sums beside it)")
    ex.add_argument(
        "--site", help="site file (privacy masks of the camera, clock and language; default: the built-in site)"
    )
    add_justification_flags(ex, unblurred=True)
    ex.set_defaults(fn=cmd_export)


def _period_flags(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--camera", required=True, help="camera id")
    p.add_argument(
        "--from",
        dest="start",
        required=required,
        metavar="TIME",
        help="start: ISO 8601 (UTC unless an offset is given), or as people say it on the site's clock "
        '("06/12/2026 14:00", "hier 14h")',
    )
    p.add_argument("--to", dest="end", required=required, metavar="TIME", help="end (excluded), as --from")


def _period(args, zone: ZoneInfo) -> tuple:
    start = flag_instant(args.start, "--from", zone=zone, edge="start") if args.start else None
    end = flag_instant(args.end, "--to", zone=zone, edge="end") if args.end else None
    if start is not None and end is not None and end <= start:
        raise VigieError(
            _(
                "--to {end} is not after --from {start}",
                end=local_text(end, zone, seconds=True),
                start=local_text(start, zone, seconds=True),
            )
        )
    return start, end


def _decimal(value: float, spec: str) -> str:
    """A number as the language writes it (a decimal comma in French)."""
    text = format(value, spec)
    return text.replace(".", ",") if current_language() == "fr" else text


def _clock(t, zone: ZoneInfo) -> str:
    """A table cell: the time on the site's clock, to the second (the header names the zone)."""
    return t.astimezone(zone).strftime("%d/%m/%Y %H:%M:%S")


def cmd_list(args: argparse.Namespace) -> int:
    site = site_or_default(args.site)  # from here on, the site's language ($VIGIE_LANG overrides it)
    zone = ZoneInfo(site.timezone)
    start, end = _period(args, zone)
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
    if args.json:  # for programs: the times as stored, UTC
        doc = {
            "camera_id": args.camera,
            "segments": [s.as_dict() for s in segments],
            "gaps": [g.as_dict() for g in gaps],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if not segments:
        print(_("Camera {camera} has no recorded segment in this period.", camera=args.camera))
        return 0
    print(
        _(
            "Camera {camera}: {segments} segments, {seconds} s, {megabytes} MB; {gaps} gaps.",
            camera=args.camera,
            segments=len(segments),
            seconds=_decimal(sum(s.duration_s for s in segments), ".1f"),
            megabytes=_decimal(sum(s.bytes for s in segments) / 1e6, ".1f"),
            gaps=len(gaps),
        )
    )
    label = zone_label(zone)
    start_head, end_head = _("start ({zone})", zone=label), _("end ({zone})", zone=label)
    width = max(19, len(start_head), len(end_head))  # 19: "06/12/2026 14:05:03"
    # (outside the f-strings: Babel does not read calls inside one)
    frames_head, mb_head, file_head, gap_text = _("frames"), _("MB"), _("file"), _("gap: nothing recorded")
    print(f"{start_head:<{width}} {end_head:<{width}} {'s':>6} {frames_head:>6} {mb_head:>6}  {file_head}")
    rows = [(s.start, "segment", s) for s in segments] + [(g.start, "gap", g) for g in gaps]
    for _at, kind, item in sorted(rows, key=lambda r: (r[0], r[1] == "segment")):
        times = f"{_clock(item.start, zone):<{width}} {_clock(item.end, zone):<{width}}"
        if kind == "gap":
            print(f"{times} {_decimal(item.duration_s, '>6.1f')}  {gap_text}")
            continue
        notes = ([_("(cut short by a crash)")] if not item.complete else []) + (
            [_("(masks burned in)")] if item.masked else []
        )
        print(
            f"{times} {_decimal(item.duration_s, '>6.1f')} {item.frames:>6} "
            f"{_decimal(item.bytes / 1e6, '>6.2f')}  {' '.join([item.path, *notes])}"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from vigie.privacy.pictures import check_unblurred
    from vigie.recording.export import export_recording

    zone = ZoneInfo(site_or_default(args.site).timezone)  # the site's clock and language, as `list`
    start, end = _period(args, zone)
    if not ((args.case_ref or "").strip() and (args.purpose or "").strip()):
        raise VigieError(_("an export needs --case and --purpose (written to the audit log)"))
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
    fields = {
        "mp4": result.mp4,
        "frames": result.frames,
        "segments": len(result.segments),
        "manifest": result.manifest.name,
        "sums": result.sums.name,
        "sha256": result.sha256,
    }
    print(
        _(
            "Wrote {mp4} ({frames} frames from {segments} segments, faces and plates blurred), {manifest} and {sums}; SHA-256 {sha256}.",
            **fields,
        )
        if result.blurred
        else _(
            "Wrote {mp4} ({frames} frames from {segments} segments, UNBLURRED), {manifest} and {sums}; SHA-256 {sha256}.",
            **fields,
        )
    )
    print(
        _(
            "Period: from {start} to {end} ({zone}).",
            start=_clock(start, zone),
            end=_clock(end, zone),
            zone=zone_label(zone),
        )
    )
    if result.gaps:
        print(_("The period has {n} gaps with no recording (listed in the manifest).", n=len(result.gaps)))
    return 0
