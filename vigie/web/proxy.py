"""Who is asking: the client's address and scheme, through the reverse proxies the operator trusts.

X-Forwarded-For and X-Forwarded-Proto are whatever the sender writes, so they are believed only on a
request whose peer (the TCP connection's other end) is one of the trusted proxies named by `vigie serve
--forwarded-allow-ips` (Services.trusted_proxies); from anyone else they are ignored and the peer is the
client. uvicorn's own handling of these headers is switched off (`proxy_headers=False`): its default
trusts 127.0.0.1, so any process on the machine, or a proxy that passes the header through, could
pick the address that the rate limits (Open311 reports, logins) are keyed on.

Behind a trusted proxy the client is the right-most address of X-Forwarded-For that is not itself a
trusted proxy: nginx *appends* the address it saw to what the sender wrote, so the left-most entries
are the sender's own invention and only the right-most untrusted one was seen by a proxy of ours.

This middleware rewrites the ASGI scope's client and scheme once, before any route runs, so that every
route (`request.client.host`, `request.url.scheme`) sees the same answer: one setting for the Open311
rate limits, the login throttle and the Secure cookie.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Iterable

from vigie.i18n import _

log = logging.getLogger("vigie.web")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxySettingError(ValueError):
    """A --forwarded-allow-ips entry that is not an address or a network."""


def parse_trusted(spec: str | Iterable[str] | None) -> tuple[Network, ...]:
    """'127.0.0.1, ::1, 10.1.0.0/16' (or a list of such) -> networks; '' or None -> none trusted."""
    if spec is None:
        return ()
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        if item == "*":
            raise ProxySettingError(
                _("--forwarded-allow-ips '*' would let any sender choose its address: name the proxies' addresses")
            )
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ProxySettingError(
                _(
                    "--forwarded-allow-ips: {item} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)",
                    item=repr(item),
                )
            ) from None
    return tuple(out)


def _ip(text: str):
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped if getattr(ip, "ipv4_mapped", None) else ip


def is_trusted(address: str | None, trusted: tuple[Network, ...]) -> bool:
    ip = _ip(address) if address else None
    return ip is not None and any(ip.version == n.version and ip in n for n in trusted)


def forwarded_client(peer: str, x_forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """The client behind a trusted peer: the right-most X-Forwarded-For entry that is not a trusted proxy."""
    hops = [h.strip() for h in x_forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return peer  # a proxy of ours writes addresses only: this entry is not one of theirs
        if not is_trusted(str(ip), trusted):
            return str(ip)
    return str(_ip(hops[0])) if hops else peer  # every hop a proxy of ours: the first one is the client


def _header(scope, name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope.get("headers") or () if k == name]
    return ",".join(values)


class ForwardedHeaders:
    """ASGI middleware: the client's address and scheme, believing X-Forwarded-* from trusted peers only."""

    def __init__(self, app, trusted: Iterable[str] | str | None = ()) -> None:
        self.app = app
        self.trusted = parse_trusted(trusted)
        self._warned = False

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            forwarded = _header(scope, b"x-forwarded-for")
            if is_trusted(peer, self.trusted):
                scope = dict(scope)
                if forwarded:
                    scope["client"] = (forwarded_client(peer, forwarded, self.trusted), 0)
                proto = _header(scope, b"x-forwarded-proto").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
            elif forwarded and not self._warned and _ip(peer) is not None and _ip(peer).is_loopback:
                # A proxy on this machine forwards requests but is not trusted: every client then shares its address.
                self._warned = True
                log.warning(
                    "requests arrive through a proxy at %s that is not trusted: every client shares its address "
                    "(one login throttle, one report limit); start `vigie serve --forwarded-allow-ips %s`",
                    peer,
                    peer,
                )
        await self.app(scope, receive, send)
