"""`vigie rules check`: run the site file's rules over stored tracks and raise alerts for what fires."""

from __future__ import annotations

import argparse
import json
from typing import get_args

from vigie.cli.common import site_or_default
from vigie.periods import add_period_flags, period_from_args
from vigie.privacy.blur import Blurrer
from vigie.rules.registry import NOT_SUPPORTED, RuleConfig
from vigie.rules.runner import camera_events, raise_alerts
from vigie.services import Services


def register(sub) -> None:
    """Add `rules` to the `vigie` command's subparsers."""
    r = sub.add_parser("rules", help="rules: which exist, and what they flag on stored tracks")
    rsub = r.add_subparsers(dest="rules_verb", required=True)
    ls = rsub.add_parser(
        "list", help="the rule types a site file may use, and the décret's events Vigie does not detect"
    )
    ls.set_defaults(fn=cmd_rules_list)
    c = rsub.add_parser(
        "check", help="evaluate each camera's rules (site file) over its stored tracks; new events become alerts"
    )
    c.add_argument("--site", required=True, help="site file with the cameras' rules")
    c.add_argument("--camera", help="only this camera (default: every camera with rules)")
    add_period_flags(c)
    c.add_argument("--no-alerts", action="store_true", help="print the events only; record no alert")
    c.add_argument("--json", action="store_true")
    c.set_defaults(fn=cmd_rules_check)


def cmd_rules_list(args: argparse.Namespace) -> int:
    for model in get_args(get_args(RuleConfig)[0]):
        doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        print(f"{model.model_fields['type'].default:<18} {doc}")
    for kind, why in NOT_SUPPORTED.items():
        print(f"{kind:<18} not supported: {why}")
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    site = site_or_default(args.site)
    cameras = [site.camera(args.camera)] if args.camera else [c for c in site.cameras if c.rules]
    start, end = period_from_args(args)
    out = []
    with Services.from_env() as services:
        store = services.store
        blurrer = None
        for cam in cameras:
            events = camera_events(store, site, cam.id, start, end)
            ids = []
            if events and not args.no_alerts:
                if blurrer is None:
                    blurrer = Blurrer()
                ids = raise_alerts(store, events, blurrer=blurrer)
            out.append((cam.id, events, ids))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "camera_id": cam,
                        "new_alerts": ids,
                        "events": [
                            {
                                "rule": e.rule,
                                "kind": e.kind,
                                "start": e.start.isoformat(),
                                "end": e.end.isoformat() if e.end else None,
                                "track_ids": list(e.track_ids),
                                "where": list(e.where),
                                "details": e.details,
                            }
                            for e in events
                        ],
                    }
                    for cam, events, ids in out
                ],
                indent=2,
                default=str,
            )
        )
        return 0
    for cam, events, ids in out:
        print(f"{cam}: {len(events)} event(s), {len(ids)} new alert(s)")
        for e in events:
            when = e.start.strftime("%Y-%m-%d %H:%M:%S") + (f" - {e.end.strftime('%H:%M:%S')}" if e.end else "")
            print(
                f"  {when}  {e.kind:<16} {e.rule:<24} tracks {','.join(map(str, e.track_ids))}  {json.dumps(e.details, default=str)}"
            )
    return 0
