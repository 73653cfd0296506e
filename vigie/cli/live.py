"""`vigie run`: analyse every camera of the site file that has a stream, live, until stopped."""

from __future__ import annotations

import argparse
import os
import signal

from vigie.alerts.notify import Mqtt, Notifier, Webhook
from vigie.cli.common import add_executor_arguments, executor_from_args
from vigie.errors import VigieError
from vigie.i18n import gettext
from vigie.live.run import LiveRun
from vigie.privacy.blur import Blurrer
from vigie.services import Services


def register(sub) -> None:
    r = sub.add_parser(
        "run", help="analyse the site's live streams (one process, or Ray actor, per camera) until Ctrl-C or SIGTERM"
    )
    r.add_argument("--site", required=True, help="site file; cameras with a `stream` URL are analysed")
    r.add_argument("--fps", type=float, default=5.0, help="analysed frames per second per camera (default 5)")
    r.add_argument(
        "--flush-s",
        type=float,
        default=30.0,
        help="write finished tracks (and run the rules) this often (default 30 s)",
    )
    r.add_argument("--duration", type=float, metavar="S", help="stop by itself after S seconds (tests, trials)")
    r.add_argument("--no-blur", action="store_true", help="alerts without snapshots (no face/plate blurrer loaded)")

    add_executor_arguments(r)
    r.set_defaults(fn=cmd_run)


def _notifier(site):
    targets = [
        Webhook(w.url, secret=os.environ.get(w.secret_env) if w.secret_env else None) for w in site.alerts.webhooks
    ]
    m = site.alerts.mqtt
    if m is not None:
        targets.append(
            Mqtt(m.host, m.port, m.topic_prefix, m.username, os.environ.get(m.password_env) if m.password_env else None)
        )
    return Notifier(targets) if targets else None


def cmd_run(args: argparse.Namespace) -> int:
    if args.fps <= 0 or args.flush_s <= 0:
        raise VigieError(gettext("--fps and --flush-s must be more than 0"))
    blurrer = None
    if not args.no_blur:
        blurrer = Blurrer()
    with Services.from_env() as services, executor_from_args(args) as executor:
        store = services.store
        live = LiveRun(
            args.site, store, flush_s=args.flush_s, analysis_fps=args.fps, blurrer=blurrer, executor=executor
        )
        live.notifier = _notifier(live.site)
        if live.notifier:
            live.notifier.start()
        for sig in (signal.SIGINT, signal.SIGTERM):  # finish the tracks in flight, then exit
            signal.signal(
                sig, lambda *_: (print("vigie run: stopping, finishing the tracks in flight..."), live.stop())
            )
        print(
            f"vigie run: {len(live.cameras)} camera(s): " + ", ".join(f"{c} ({s.url})" for c, s in live.cameras.items())
        )
        try:
            states = live.run(duration_s=args.duration)
        finally:
            if live.notifier:
                live.notifier.stop()
    for cam, s in states.items():
        print(
            f"{cam}: {s.tracks} tracks stored, {s.gaps} gaps, {s.alerts} alerts, {s.frames} frames analysed; last status {s.status}"
            + (f" ({s.detail})" if s.status in ("unavailable", "failed") else "")
        )
        if s.segments or s.segments_lost:
            print(
                f"{cam}: {s.segments} recorded segments indexed, {s.segments_lost} lost (could not be written), "
                f"{s.segments_quota_removed} deleted by the disk quota"
            )
    return 0 if any(s.status not in ("unavailable", "failed") for s in states.values()) else 1
