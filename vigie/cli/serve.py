"""`vigie serve`: the JSON API and the public register, over the store under $VIGIE_DATA."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

import uvicorn

from vigie.cli.accounts import PUBLIC_URL_ENV, hand_over_first_admin, public_url
from vigie.errors import VigieError
from vigie.privacy.blur import Blurrer
from vigie.retention.scheduler import PurgeScheduler
from vigie.services import Services
from vigie.web.app import create_app


def register(sub) -> None:
    """Add `serve` to the `vigie` command's subparsers."""
    s = sub.add_parser("serve", help="serve the JSON API (/api/...) and the public camera register (/register)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--site", metavar="FILE", help="site file: the register's cameras, retention and analytics")
    s.add_argument(
        "--no-blur",
        action="store_true",
        help="do not load the face/plate blurrer (thumbnails are then refused, never served unblurred)",
    )
    s.add_argument(
        "--secure-cookie", action="store_true", help="mark the session cookie Secure (when served behind HTTPS)"
    )
    s.add_argument(
        "--purge-every-hours",
        type=float,
        default=24.0,
        metavar="H",
        help="run the retention purge at start and then every H hours (default 24; 0: never, e.g. when "
        "cron runs `vigie purge`)",
    )
    s.add_argument(
        "--alert-feed-minutes",
        type=float,
        default=15.0,
        metavar="M",
        help="end each live alert feed after M minutes (default 15); the page reconnects by itself and misses no alert",
    )
    s.set_defaults(fn=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.alert_feed_minutes > 0:
        raise VigieError(f"--alert-feed-minutes must be more than 0, not {args.alert_feed_minutes}")
    if args.purge_every_hours < 0:
        raise VigieError(f"--purge-every-hours must be 0 (never) or more, not {args.purge_every_hours}")
    blurrer = None
    if not args.no_blur:
        # The server shares one Blurrer (under a lock); rendering a clip is its longest job and
        # the only heavy one while serving, so it gets the machine's cores (up to 4).
        blurrer = Blurrer(threads=max(1, min(4, os.cpu_count() or 1)))
    with Services.from_env(
        args.site,
        blurrer,
        secure_cookie=args.secure_cookie,
        alert_feed_s=60.0 * args.alert_feed_minutes,
    ) as services:
        store, site = services.store, services.site
        # the first admin's one-time enrolment link goes to a 0600 file, never to stdout (service logs keep it)
        print(
            hand_over_first_admin(
                store, public_url() if os.environ.get(PUBLIC_URL_ENV) else f"http://{args.host}:{args.port}"
            )
        )
        app = create_app(services)
        scheduler = None
        if args.purge_every_hours:
            scheduler = PurgeScheduler(store, site, period=timedelta(hours=args.purge_every_hours))
            scheduler.start()
        print(
            f"Serving Vigie on http://{args.host}:{args.port}/ (public camera register: /register); Ctrl-C stops.",
            flush=True,
        )
        try:
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        finally:
            if scheduler is not None:
                scheduler.stop()
    return 0
