"""Two ASGI middlewares every response passes: a same-origin check on state-changing requests, and the
headers that keep replies out of caches and out of content sniffing.

Same-origin requests only. The session cookie is SameSite=strict, but "site" means the registrable
domain: a page on another port of this host, or on a sibling subdomain (reports.city.fr next to
vigie.city.fr), is the same site, so the browser sends it the cookie. A POST without a body (logout,
a password reset) or a multipart form (an incident import) needs no CORS preflight, so such a page could
make the logged-in user's browser change things. Every POST, PUT, PATCH and DELETE is therefore refused
(403) when the browser says it comes from elsewhere: `Sec-Fetch-Site` other than same-origin (or none,
a request the user typed), or, from browsers that do not send it, an `Origin` that is not this server's
own (scheme, host and port, as the client reached it, or the configured public URL). A request with
neither header is not from a browser page (curl, a script, the tests' client) and cannot carry a victim's
cookie by surprise, so it passes. Open311 (/open311/) is exempt: it is a public API for any client
and takes no cookie.

Headers. Every reply gets `X-Content-Type-Options: nosniff`; every JSON reply and everything under
/api/ gets `Cache-Control: no-store` (reports with contact details, users, the audit log and tracks must
not stay in a browser's or a proxy's cache); and when the server is reached over HTTPS (or is not on
loopback: Services.secure_cookie), `Strict-Transport-Security`.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT = ("/open311/",)
HSTS = b"max-age=31536000"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_of(url: str) -> str | None:
    """'https://Vigie.example:443/x' -> 'https://vigie.example'; None when it is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else "")


def _headers(scope) -> dict[bytes, str]:
    return {k: v.decode("latin-1") for k, v in scope.get("headers") or ()}


async def _forbid(send, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SameOrigin:
    """ASGI middleware: 403 on a state-changing request that a browser says comes from another origin."""

    def __init__(self, app, public_url: str | None = None) -> None:
        self.app = app
        self.public_origin = origin_of(public_url) if public_url else None

    def refusal(self, scope) -> str | None:
        headers = _headers(scope)
        fetch_site = headers.get(b"sec-fetch-site", "").strip().lower()
        if fetch_site:
            if fetch_site in ("same-origin", "none"):
                return None
            return f"request refused: it comes from another {'site' if fetch_site == 'cross-site' else 'origin'} (Sec-Fetch-Site: {fetch_site}); use Vigie's own pages"
        origin = headers.get(b"origin")
        if origin is None:
            return None  # not sent by a browser page
        own = origin_of(f"{scope.get('scheme', 'http')}://{headers.get(b'host', '')}")
        if origin_of(origin) is not None and origin_of(origin) in {own, self.public_origin}:
            return None
        return f"request refused: it comes from another origin ({origin[:100]}); use Vigie's own pages"

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE
            and not scope["path"].startswith(EXEMPT)
            and (why := self.refusal(scope))
        ):
            await _forbid(send, why)
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: nosniff everywhere, no-store on JSON and /api/, HSTS over HTTPS."""

    def __init__(self, app, hsts: bool = False) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")
        https = scope.get("scheme") == "https" or self.hsts

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers") or ()]
                names = {k.lower() for k, _ in headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if ctype.startswith(b"application/json"):
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                elif api and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if https and b"strict-transport-security" not in names:
                    headers.append((b"strict-transport-security", HSTS))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
