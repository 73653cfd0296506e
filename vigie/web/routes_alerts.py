"""Alert routes: the control room's list and live feed, snapshots, and the one-click decision.

The live feed is server-sent events (`GET /api/alerts/stream`): the server
polls the store for alerts newer than the last one sent, so alerts written by
any process (the live workers of `vigie run`) reach every open page. A page
that reconnects sends Last-Event-ID and misses nothing.

Each feed ends by itself after `Services.alert_feed_s` (15 minutes by default):
an endless response would hold a worker and a proxy connection for ever, and a
client that never says it left (an ASGI test client answers `http.disconnect`
only once the response is complete) would wait on it for ever. The browser's
EventSource reconnects after the `retry` delay with Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vigie import stats
from vigie.accounts import users
from vigie.alerts import store as alerts
from vigie.live.run import gaps
from vigie.services import Services
from vigie.web.context import MAX_ID, MAX_OFFSET, TEXT, ApiError, camera_known, page, record, window_start
from vigie.web.deps import ServicesDep, user_with

router = APIRouter()

Watcher = Annotated[users.User, Depends(user_with("alerts"))]
POLL_S = 1.0  # how often the live feed looks for new alerts
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle feed


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["validate", "dismiss"]
    note: str | None = Field(None, max_length=1000, description="Why, in a few words (optional).")


@router.get("/api/alerts", tags=["alerts"])
def list_alerts(
    services: ServicesDep,
    user: Watcher,
    status: Literal["new", "validated", "dismissed"] | None = None,
    camera: str | None = Query(None, max_length=TEXT),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    """Alerts, newest first."""
    items, total = alerts.list_alerts(services.store, status=status, camera_id=camera, limit=limit, offset=offset)
    details = {"status": status, "camera": camera, "limit": limit, "offset": offset}
    record(services, user, "view_alerts", None, None, details)
    return page(items, limit, offset, total)


@router.get(
    "/api/alerts/{alert_id}/snapshot",
    tags=["alerts"],
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def alert_snapshot(services: ServicesDep, user: Watcher, alert_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """The alert's snapshot, blurred before it was stored."""
    data = alerts.snapshot(services.store, alert_id)
    if data is None:
        raise ApiError(404, f"alert {alert_id} has no snapshot")
    record(services, user, "view_alerts", None, None, {"alert_id": alert_id, "snapshot": True})
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/api/alerts/{alert_id}/decision", tags=["alerts"])
def decide(services: ServicesDep, body: Decision, user: Watcher, alert_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """Validate or dismiss, once: a second decision is refused, naming the first."""
    if alerts.get_alert(services.store, alert_id) is None:
        raise ApiError(404, f"no alert has id {alert_id}")
    try:
        return alerts.decide(services.store, alert_id, body.decision, user.username, user.role, body.note)
    except alerts.AlertError as exc:  # the alert exists: what the store refuses here is a conflict
        raise ApiError(409, str(exc)) from None


@router.get("/api/gaps", tags=["alerts"])
def stream_gaps(
    services: ServicesDep,
    user: Watcher,
    camera: str | None = Query(None, max_length=TEXT),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    """When live streams were down (vigie run), newest first: camera, from, to, reason."""

    items, total = gaps(services.store, camera, limit, offset)
    return page(items, limit, offset, total)


@router.get("/api/stats/{camera_id}", tags=["stats"])
def camera_stats(services: ServicesDep, user: Watcher, camera_id: str = Path(max_length=128)) -> dict:
    """The camera's tracks per class per hour, and its line-crossing counts (operators: the last 24 hours)."""

    camera_known(services, camera_id)
    since = window_start(user)
    lines = stats.line_counts(services.store, services.site, camera_id, since) if services.site else {}
    record(services, user, "view_alerts", None, None, {"stats": camera_id})
    return {
        "camera_id": camera_id,
        "since": since.isoformat() if since else None,
        "hourly": stats.hourly_counts(services.store, camera_id, since),
        "lines": lines,
    }


@router.get(
    "/api/stats/{camera_id}/heatmap",
    tags=["stats"],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def camera_heatmap(
    services: ServicesDep,
    user: Watcher,
    camera_id: str = Path(max_length=128),
    kind: Literal["walk", "stop"] = "walk",
) -> Response:
    """Where people walked (or stopped), over a blurred frame of the camera when a blurrer is configured."""

    camera_known(services, camera_id)
    grid, size = stats.heat_map(services.store, camera_id, kind, window_start(user))
    background = None
    if services.blurrer is not None:
        with services.blur_lock:
            background = stats.background_frame(services.store, camera_id, services.site, services.blurrer)
    record(services, user, "view_alerts", None, None, {"heatmap": camera_id, "kind": kind})
    return Response(
        stats.heat_map_png(grid, size, background), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


@router.get(
    "/api/alerts/stream",
    tags=["alerts"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    services: ServicesDep,
    request: Request,
    user: Watcher,
    after: int = Query(0, ge=0, le=MAX_ID, description="send alerts after this id"),
    last_event_id: str | None = Header(None, max_length=20),
) -> StreamingResponse:
    """Server-sent events: one `alert` event per new alert (id = alert id), as JSON.

    The feed ends by itself after the server's feed lifetime (15 minutes by default); reconnect
    with Last-Event-ID (browsers' EventSource does) to receive what came after.
    """
    start = after
    if last_event_id and last_event_id.isdigit():
        start = max(start, int(last_event_id))
    record(services, user, "view_alerts", None, None, {"stream": True, "after": start})
    return StreamingResponse(
        _events(request, services, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, services: Services, start: int):
    """The feed: new alerts as they are stored, until the client leaves or the feed's lifetime is over."""
    last, idle = start, 0.0
    ends = time.monotonic() + services.alert_feed_s
    yield "retry: 3000\n\n"
    while not await request.is_disconnected():
        items, _ = await asyncio.to_thread(alerts.list_alerts, services.store, after_id=last, limit=100)
        for a in items:
            last = a["id"]
            yield f"id: {a['id']}\nevent: alert\ndata: {json.dumps(a, default=str)}\n\n"
        left = ends - time.monotonic()
        if left <= 0:
            return  # the lifetime is over: the client reconnects with Last-Event-ID
        idle = 0.0 if items else idle + POLL_S
        if idle >= KEEPALIVE_S:
            idle = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(min(POLL_S, left))
