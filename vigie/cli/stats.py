"""`vigie stats`: counts per class per hour, line counts and heat maps of one camera."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vigie import stats
from vigie.cli.common import site_or_default
from vigie.periods import add_period_flags, period_from_args
from vigie.privacy.blur import Blurrer
from vigie.services import Services


def register(sub) -> None:
    s = sub.add_parser(
        "stats", help="a camera's counts per hour, line-crossing counts, heat maps of where people walk and stop"
    )
    s.add_argument("--camera", required=True)
    s.add_argument(
        "--site", help="site file (its line_crossing rules give the line counts; privacy masks for the picture)"
    )
    add_period_flags(s, "tracks first seen")
    s.add_argument("--heatmap", metavar="FILE.png", help="write where people walked")
    s.add_argument("--stops", metavar="FILE.png", help="write where people stopped")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    site = site_or_default(args.site) if args.site else None
    start, end = period_from_args(args)
    with Services.from_env() as services:
        store = services.store
        hourly = stats.hourly_counts(store, args.camera, start, end)
        lines = stats.line_counts(store, site, args.camera, start, end) if site else {}
        written = []
        if args.heatmap or args.stops:
            background = stats.background_frame(store, args.camera, site, Blurrer())
            for kind, path in (("walk", args.heatmap), ("stop", args.stops)):
                if path:
                    grid, size = stats.heat_map(store, args.camera, kind, start, end)
                    Path(path).write_bytes(stats.heat_map_png(grid, size, background))
                    written.append(path)
    if args.json:
        print(json.dumps({"camera_id": args.camera, "hourly": hourly, "lines": lines, "written": written}, indent=2))
        return 0
    print(f"{args.camera}: tracks per hour (UTC, by first sighting)")
    for row in hourly:
        print(f"  {row['hour']}  {row['class']:<10} {row['tracks']:>6}")
    for name, c in lines.items():
        print(f"  line {name}: in {c['in']}, out {c['out']}")
    for path in written:
        print(f"Written: {path}")
    return 0
