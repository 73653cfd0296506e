"""Refuse an over-large /api request body with 413, before the application has stored it.

FastAPI parses a request's body (an incident file's upload, a JSON document) before the route and
before its session check run, spooling a form to a temporary file: without this, anyone could make
the server write gigabytes to disk or memory before any limit or login applied. A body that declares
its length is refused from the headers, before a byte is read; a chunked one is counted as it arrives
and refused as soon as it passes the limit. Open311's POST reads its body itself, bounded, and answers
in the Open311 error format, so /open311 is left to it."""

from __future__ import annotations

import json
from typing import Callable

from vigie.crimemap import importer
from vigie.search import photo

JSON_BODY_LIMIT = 1024 * 1024  # every /api JSON body is small (a search, a setting, a decision)
FORM_SLACK = 1024 * 1024  # room for a multipart form's other fields and boundaries around its file


class _TooLarge(Exception):
    """Raised into the application when a chunked body passes its limit; BodyLimit answers 413."""


class BodyLimit:
    """ASGI middleware: 413 {"error": ...} when a request to /api/ sends more bytes than `limit_for(path)`."""

    def __init__(self, app, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(
                send,
                f"the request body is {int(declared):,} bytes, above the {limit:,} bytes accepted at {scope['path']}",
            )
            return
        received, too_large, started = 0, False, False
        refusal = f"the request body passed the {limit:,} bytes accepted at {scope['path']}"

        async def counted_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge()
            return message

        async def watched_send(message):
            # FastAPI turns any error while it parses a body into its own 400: once the limit is passed,
            # whatever the application answers is replaced by the 413.
            nonlocal started
            if too_large:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(send, refusal)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if not started:
                started = True
                await _refuse(send, refusal)


async def _refuse(send, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def api_body_limit(path: str) -> int:
    """The largest body each /api path accepts: an incident file or an example photo (and its form), else a JSON body."""
    if path == "/api/crimemap/imports":
        return importer.MAX_BYTES + FORM_SLACK  # read at each call: a test may lower it
    if path == "/api/similar/photo":
        return photo.MAX_PHOTO_BYTES + FORM_SLACK
    return JSON_BODY_LIMIT
