"""`vigie serve`: the JSON API and the public register, over the store under $VIGIE_DATA.

Transport. With --certfile and --keyfile the server speaks HTTPS itself. On loopback (the default
127.0.0.1) plain HTTP is allowed: a reverse proxy on the same machine does TLS (docs/DEPLOY.md). On any
other address plain HTTP is refused unless --insecure says that TLS is done by a proxy elsewhere; off
loopback the session cookie is always Secure and replies carry HSTS. X-Forwarded-For and
X-Forwarded-Proto are believed only from --forwarded-allow-ips (vigie.web.proxy), never by uvicorn.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
from datetime import timedelta

import uvicorn

from vigie.audit.anchoring import AnchorScheduler
from vigie.cli.accounts import PUBLIC_URL_ENV, hand_over_first_admin, public_url
from vigie.errors import VigieError
from vigie.i18n import _
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
        "--secure-cookie",
        action="store_true",
        help="mark the session cookie Secure and send HSTS (always so with --certfile or off loopback)",
    )
    s.add_argument("--certfile", metavar="PEM", help="serve HTTPS with this certificate (chain) file")
    s.add_argument("--keyfile", metavar="PEM", help="the certificate's private key file (with --certfile)")
    s.add_argument(
        "--insecure",
        action="store_true",
        help="allow plain HTTP on an address other than loopback (only when a TLS proxy on another machine "
        "is the sole way in)",
    )
    s.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        default=os.environ.get("FORWARDED_ALLOW_IPS", ""),
        help="comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (e.g. 127.0.0.1 for nginx on this machine; default: none, or "
        "$FORWARDED_ALLOW_IPS)",
    )
    s.add_argument(
        "--public-url",
        metavar="URL",
        help="the address residents and apps reach the server at, e.g. https://vigie.example.fr (Open311's "
        "discovery and links; default: this server's own scheme, host and port)",
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to, treat it as reachable from outside


def transport(args: argparse.Namespace) -> tuple[dict, dict]:
    """(the Services settings, uvicorn's keyword arguments) for the transport the flags ask for, or
    VigieError naming what is refused."""
    from vigie.web.guard import origin_of
    from vigie.web.proxy import ProxySettingError, parse_trusted

    tls = bool(args.certfile or args.keyfile)
    if tls and not (args.certfile and args.keyfile):
        raise VigieError(_("HTTPS needs both --certfile and --keyfile"))
    for flag, path in (("--certfile", args.certfile), ("--keyfile", args.keyfile)):
        if path and not os.path.isfile(path):
            raise VigieError(_("{flag} {path} does not exist", flag=flag, path=path))
    loopback = is_loopback(args.host)
    if not loopback and not tls and not args.insecure:
        raise VigieError(
            _(
                "refusing to serve plain HTTP on {host}, which is not loopback: passwords and session cookies would cross the network in clear. Give --certfile and --keyfile, or listen on 127.0.0.1 behind a TLS reverse proxy (docs/DEPLOY.md), or pass --insecure if a TLS proxy on another machine is the only way in",
                host=args.host,
            )
        )
    try:
        trusted = parse_trusted(args.forwarded_allow_ips)
    except ProxySettingError as exc:
        raise VigieError(str(exc)) from None
    scheme = "https" if tls else "http"
    host = args.host if args.host not in ("0.0.0.0", "::", "") else socket.getfqdn()
    host = f"[{host}]" if ":" in host else host
    public_url = (args.public_url or f"{scheme}://{host}:{args.port}").rstrip("/")
    if origin_of(public_url) is None:
        raise VigieError(
            _(
                "--public-url {public_url} is not an http(s) URL such as https://vigie.example.fr",
                public_url=repr(args.public_url),
            )
        )
    settings = {
        "secure_cookie": bool(args.secure_cookie or tls or not loopback or public_url.startswith("https:")),
        "trusted_proxies": tuple(str(n) for n in trusted),
        "public_url": public_url,
    }
    server = {
        "host": args.host,
        "port": args.port,
        "proxy_headers": False,  # vigie.web.proxy reads X-Forwarded-* from the trusted proxies only
        "ssl_certfile": args.certfile,
        "ssl_keyfile": args.keyfile,
        "log_level": "warning",
    }
    return settings, server


def cmd_serve(args: argparse.Namespace) -> int:
    settings, server = transport(args)  # refused before anything is loaded
    if not args.alert_feed_minutes > 0:
        raise VigieError(
            _(
                "--alert-feed-minutes must be more than 0, not {alert_feed_minutes}",
                alert_feed_minutes=args.alert_feed_minutes,
            )
        )
    if args.purge_every_hours < 0:
        raise VigieError(
            _(
                "--purge-every-hours must be 0 (never) or more, not {purge_every_hours}",
                purge_every_hours=args.purge_every_hours,
            )
        )
    blurrer = None
    if not args.no_blur:
        # The server shares one Blurrer (under a lock); rendering a clip is its longest job and
        # the only heavy one while serving, so it gets the machine's cores (up to 4).
        blurrer = Blurrer(threads=max(1, min(4, os.cpu_count() or 1)))
    with Services.from_env(
        args.site,
        blurrer,
        alert_feed_s=60.0 * args.alert_feed_minutes,
        **settings,
    ) as services:
        store, site = services.store, services.site
        # the first admin's one-time enrolment link goes to a 0600 file, never to stdout (service logs keep it)
        print(hand_over_first_admin(store, public_url() if os.environ.get(PUBLIC_URL_ENV) else settings["public_url"]))
        app = create_app(services)
        anchors = AnchorScheduler(store)  # the audit chain's head, outside the database: now, then daily
        anchors.start()
        scheduler = None
        if args.purge_every_hours:
            scheduler = PurgeScheduler(store, site, period=timedelta(hours=args.purge_every_hours))
            scheduler.start()
        scheme = "https" if args.certfile else "http"
        print(
            f"Serving Vigie on {scheme}://{args.host}:{args.port}/ (public address {settings['public_url']}; "
            "public camera register: /register); Ctrl-C stops.",
            flush=True,
        )
        try:
            uvicorn.run(app, **server)
        finally:
            if scheduler is not None:
                scheduler.stop()
            anchors.stop()
    return 0
