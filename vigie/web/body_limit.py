"""Refuse an over-large /api request body from its declared length, before any of it is read.

FastAPI parses a form (an incident file's upload) before the route runs, spooling it to a
temporary file: without this, a client could make the server write gigabytes to disk before
the route's own size check refused them. Open311's POST reads its body itself, bounded, and
answers in the Open311 error format, so /open311 is left to it. A chunked body (no declared
length) still reaches the route, whose own limit then applies."""
from __future__ import annotations

import json
from typing import Callable

JSON_BODY_LIMIT = 1024 * 1024  # every /api JSON body is small (a search, a setting, a decision)
FORM_SLACK = 1024 * 1024  # room for a multipart form's other fields and boundaries around its file


class BodyLimit:
    """ASGI middleware: 413 {"error": ...} when a request to /api/ declares more bytes than `limit_for(path)`."""

    def __init__(self, app, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
            limit = self.limit_for(scope["path"])
            if declared.isdigit() and int(declared) > limit:
                body = json.dumps({"error": f"the request body is {int(declared):,} bytes, above the {limit:,} bytes "
                                            f"accepted at {scope['path']}"}).encode()
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                        (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def api_body_limit(path: str) -> int:
    """The largest body each /api path accepts: an incident file (and its form) for imports, else a JSON body."""
    if path == "/api/crimemap/imports":
        from vigie.crimemap.importer import MAX_BYTES

        return MAX_BYTES + FORM_SLACK
    return JSON_BODY_LIMIT
