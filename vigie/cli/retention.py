"""`vigie purge` and `vigie hold place|lift|list`.

The retention modules are imported when a verb runs, so `vigie --help` stays
quick; user errors (a bad site file, an unknown track, a hold lifted twice) are
VigieErrors, printed by the CLI as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import json

from vigie.i18n import _
from vigie.retention.holds import HoldError, lift_hold, list_holds, place_hold
from vigie.retention.scheduler import run_purge
from vigie.services import Services


def register(sub) -> None:
    """Add `purge` and `hold` to the `vigie` command's subparsers."""
    p = sub.add_parser(
        "purge", help="delete tracks older than their camera's retention period, except those under a legal hold"
    )
    p.add_argument(
        "--site",
        help="site file (YAML) giving each camera's retention; without it every camera keeps the default 30 days",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(fn=cmd_purge)

    h = sub.add_parser("hold", help="legal holds: keep a case's tracks past retention")
    hsub = h.add_subparsers(dest="hold_verb", required=True)
    pl = hsub.add_parser(
        "place", help="hold tracks (--track) or a camera's time window (--camera --start --end) for a case"
    )
    pl.add_argument("--case", required=True, help="case reference")
    pl.add_argument("--reason", required=True, help="why the footage must be kept")
    pl.add_argument("--user", required=True, help="investigator placing the hold")
    pl.add_argument("--track", dest="tracks", type=int, nargs="+", metavar="ID", help="track ids to hold")
    pl.add_argument("--camera", help="camera whose window to hold (with --start and --end)")
    pl.add_argument("--start", metavar="TIME", help="window start (ISO 8601; UTC unless an offset is given)")
    pl.add_argument("--end", metavar="TIME", help="window end")
    pl.add_argument("--json", action="store_true", help='print {"id": N}')
    pl.set_defaults(fn=cmd_hold_place)
    li = hsub.add_parser("lift", help="lift a hold: its tracks fall back under retention")
    li.add_argument("id", type=int, help="hold id (vigie hold list)")
    li.add_argument("--user", required=True, help="investigator lifting the hold")
    li.add_argument("--reason", help="why the footage need no longer be kept (the audit entry's purpose)")
    li.set_defaults(fn=cmd_hold_lift)
    ls = hsub.add_parser("list", help="list legal holds (active ones unless --all)")
    ls.add_argument("--all", action="store_true", help="lifted holds too")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(fn=cmd_hold_list)


def cmd_purge(args: argparse.Namespace) -> int:
    # the admin's retention settings apply; a real purge is audited
    with Services.from_env(args.site, default_site=True) as services:
        report = run_purge(services.store, services.site, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    verb = "Would remove" if report.dry_run else "Removed"
    print(
        f"{verb} {report.tracks_removed} tracks, {report.thumbnails_removed} thumbnail files, {report.clips_removed} clip files, "
        f"{report.synopses_removed} synopses, {report.analyses_removed} analyses and {report.alerts_removed} alerts; "
        f"{report.tracks_held} expired tracks "
        f"kept by legal holds ({report.seconds:.2f} s)."
    )
    print(
        f"Citizen reports: {report.citizen_reports_removed} rejected reports removed, the contact details of "
        f"{report.citizen_contacts_cleared} answered reports cleared."
    )
    print(f"Example photos searched with: {report.query_photos_removed} removed (expired, their case not held).")
    print(
        f"Recorded video: {report.segments_removed} expired segments removed, "
        f"{report.segments_held} expired segments kept by legal holds."
    )
    print(
        f"{'camera':<24} {'days':>4}  {'cutoff (UTC)':<20} {'removed':>7} {'held':>5} {'thumbs':>6} {'analyses':>8} {'alerts':>6}"
    )
    for c in report.cameras:
        print(
            f"{c.camera_id:<24.24} {c.retention_days:>4}  {c.cutoff[:19]:<20} {c.tracks_removed:>7} {c.tracks_held:>5} "
            f"{c.thumbnails_removed:>6} {c.analyses_removed:>8} {c.alerts_removed:>6}"
        )
    if report.orphan_thumbnails_removed:
        print(f"{verb} {report.orphan_thumbnails_removed} orphan thumbnail files (their tracks were already gone).")
    return 0


def cmd_hold_place(args: argparse.Namespace) -> int:
    if args.tracks and (args.camera or args.start or args.end):
        raise HoldError(_("give either --track IDs or --camera with --start and --end, not both"))
    with Services.from_env() as services:
        store = services.store
        hold_id = place_hold(
            store,
            args.case,
            args.reason,
            args.user,
            track_ids=args.tracks,
            camera_id=args.camera,
            start=args.start,
            end=args.end,
        )
    print(json.dumps({"id": hold_id}) if args.json else f"Legal hold {hold_id} placed for case {args.case}.")
    return 0


def cmd_hold_lift(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        lift_hold(store, args.id, args.user, reason=args.reason)
    print(f"Legal hold {args.id} lifted by {args.user}.")
    return 0


def cmd_hold_list(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        holds = list_holds(store, active_only=not args.all)
    if args.json:
        print(json.dumps(holds, indent=2))
        return 0
    if not holds:
        print("No active legal holds." if not args.all else "No legal holds.")
        return 0
    for h in holds:
        covers = []
        if h["track_ids"]:
            covers.append("tracks " + ",".join(map(str, h["track_ids"])))
        if h["camera_id"]:
            covers.append(f"{h['camera_id']} {h['window_start'][:19]}Z..{h['window_end'][:19]}Z")
        state = "active" if h["active"] else f"lifted by {h['lifted_by']} at {h['lifted_at'][:19]}Z"
        print(
            f"{h['id']:>4}  case {h['case_ref']}: {'; '.join(covers)}  (placed by {h['placed_by']} at {h['placed_at'][:19]}Z, {state})  {h['reason']}"
        )
    return 0
