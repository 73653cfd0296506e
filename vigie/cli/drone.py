"""`vigie drone`: people counted per frame and gatherings found in a drone clip (vigie.drone)."""

from __future__ import annotations

import csv
import json

from vigie.cli.common import site_or_default
from vigie.drone import analyse_drone_clip


def register(sub) -> None:
    d = sub.add_parser(
        "drone", help="a drone clip: people counted per frame (tiles, motion compensation) and gatherings"
    )
    d.add_argument("video")
    d.add_argument("--camera", required=True, help="the drone's camera id in the site file (profile: aerial)")
    d.add_argument("--site", required=True)
    d.add_argument("--min-people", type=int, default=3)
    d.add_argument("--radius-m", type=float, default=2.0, help="people closer than this are together (default 2 m)")
    d.add_argument("--min-duration", type=float, default=5.0, help="seconds a group must last (default 5)")
    d.add_argument("--counts-csv", metavar="FILE", help="write the per-frame counts")
    d.add_argument("--json", action="store_true")
    d.add_argument("--no-progress", action="store_true")
    d.set_defaults(fn=cmd_drone)


def cmd_drone(args) -> int:
    report = analyse_drone_clip(
        args.video,
        args.camera,
        site_or_default(args.site),
        args.min_people,
        args.radius_m,
        args.min_duration,
        progress=not args.no_progress,
    )
    if args.counts_csv:
        with open(args.counts_csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["seq", "time", "people"])
            w.writeheader()
            w.writerows(report.counts)
    events = [
        {
            "start": e.start.isoformat(),
            "end": e.end.isoformat() if e.end else None,
            "tracks": list(e.track_ids),
            "details": e.details,
        }
        for e in report.events
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "camera_id": report.camera_id,
                    "frames": len(report.counts),
                    "max_people": report.max_people,
                    "mean_people": round(report.mean_people, 2),
                    "tracks": report.tracks,
                    "radius_px": report.radius_px,
                    "gatherings": events,
                },
                indent=2,
                default=str,
            )
        )
        return 0
    print(
        f"{report.source}: {len(report.counts)} frames analysed, people per frame: max {report.max_people}, "
        f"mean {report.mean_people:.1f}; {report.tracks} people tracked"
    )
    print(
        f"Gatherings ({args.min_people}+ people within {args.radius_m} m = {report.radius_px or 0:.0f} px, "
        f"{args.min_duration} s or more): {len(events)}"
    )
    for e in events:
        print(f"  {e['start']} - {e['end']}  {e['details'].get('peak_size')} people, tracks {e['tracks']}")
    return 0
