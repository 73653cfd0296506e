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

Operators see the alerts, snapshots, feed, counts and heat maps of their window
only (the last 24 hours, context.window_start, as their searches); investigators
give a case reference and a purpose for each of them, audited.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ConfigDict, Field

from vigie import stats
from vigie.accounts import users
from vigie.alerts import store as alerts
from vigie.i18n import gettext
from vigie.live.run import gaps
from vigie.services import Services
from vigie.web.context import (
    MAX_ID,
    MAX_OFFSET,
    TEXT,
    ApiError,
    Justification,
    camera_known,
    page,
    record,
    window_start,
)
from vigie.web.deps import CaseRef, Purpose, ServicesDep, allow, allow_body, user_with

router = APIRouter()

Watcher = Annotated[users.User, Depends(user_with("alerts"))]
POLL_S = 1.0  # how often the live feed looks for new alerts
KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle feed


class Decision(Justification):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["validate", "dismiss"]
    note: str | None = Field(None, max_length=1000, description="Why, in a few words (optional).")


def visible_alert(services: Services, user: users.User, alert_id: int) -> dict:
    """The alert, or 404; 403 when its event ended before the role's window (an operator's 24 hours)."""
    alert = alerts.get_alert(services.store, alert_id)
    if alert is None:
        raise ApiError(404, gettext("no alert has id {alert_id}", alert_id=alert_id))
    if not alerts.in_window(alert, window_start(user)):
        raise ApiError(
            403,
            gettext(
                "role {role} may only see alerts of the last 24 hours; alert {alert_id} is older",
                role=repr(user.role),
                alert_id=alert_id,
            ),
        )
    return alert


@router.get("/api/alerts", tags=["alerts"])
def list_alerts(
    services: ServicesDep,
    user: Watcher,
    status: Literal["new", "validated", "dismissed"] | None = None,
    camera: str | None = Query(None, max_length=TEXT),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """Alerts, newest first (operators: those of the last 24 hours)."""
    allow(user, "alerts", case_ref, purpose)
    since = window_start(user)
    items, total = alerts.list_alerts(
        services.store, status=status, camera_id=camera, limit=limit, offset=offset, since=since
    )
    details = {"status": status, "camera": camera, "limit": limit, "offset": offset}
    record(services, user, "view_alerts", case_ref, purpose, details)
    return page(items, limit, offset, total)


@router.get(
    "/api/alerts/{alert_id}/snapshot",
    tags=["alerts"],
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def alert_snapshot(
    services: ServicesDep,
    user: Watcher,
    alert_id: int = Path(ge=1, le=MAX_ID),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> Response:
    """The alert's snapshot, blurred before it was stored (operators: alerts of the last 24 hours)."""
    allow(user, "alerts", case_ref, purpose)
    visible_alert(services, user, alert_id)
    data = alerts.snapshot(services.store, alert_id)
    if data is None:
        raise ApiError(404, gettext("alert {alert_id} has no snapshot", alert_id=alert_id))
    record(services, user, "view_alerts", case_ref, purpose, {"alert_id": alert_id, "snapshot": True})
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/api/alerts/{alert_id}/decision", tags=["alerts"])
def decide(services: ServicesDep, body: Decision, user: Watcher, alert_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """Validate or dismiss, once: a second decision is refused, naming the first."""
    body = allow_body(user, "alerts", body)  # none given: the session's open case
    visible_alert(services, user, alert_id)
    try:
        return alerts.decide(
            services.store,
            alert_id,
            body.decision,
            user.username,
            user.role,
            body.note,
            case_ref=body.case_ref,
            purpose=body.purpose,
        )
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


Hours = Annotated[
    int | None,
    Query(ge=1, le=24 * 366, description="The period: the last so many hours (default: all the role may see)."),
]


def period_start(user, hours: int | None) -> datetime | None:
    """The later of the role's window and the period asked (the dashboard's period selector)."""
    lower, asked = window_start(user), (datetime.now(timezone.utc) - timedelta(hours=hours)) if hours else None
    return max(t for t in (lower, asked) if t is not None) if (lower or asked) else None


@router.get("/api/stats", tags=["stats"])
def stats_overview(
    services: ServicesDep, user: Watcher, hours: Hours = None, case_ref: CaseRef = None, purpose: Purpose = None
) -> dict:
    """Tracks per camera in the period (cameras without any left out): which cameras have something to show."""
    allow(user, "alerts", case_ref, purpose)
    since = period_start(user, hours)
    counts = stats.tracks_per_camera(services.store, since)
    record(services, user, "view_alerts", case_ref, purpose, {"stats": "overview", "hours": hours})
    return {"since": since.isoformat() if since else None, "tracks": counts}


@router.get("/api/stats/{camera_id}", tags=["stats"])
def camera_stats(
    services: ServicesDep,
    user: Watcher,
    camera_id: str = Path(max_length=128),
    hours: Hours = None,
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """The camera's tracks per class per hour, and its line-crossing counts with each line's place in the
    picture (operators: the last 24 hours at most)."""
    allow(user, "alerts", case_ref, purpose)
    camera_known(services, camera_id)
    since = period_start(user, hours)
    lines = stats.line_counts(services.store, services.site, camera_id, since) if services.site else {}
    camera = next((c for c in getattr(services.site, "cameras", None) or [] if c.id == camera_id), None)
    geometry = {r.name: r for r in (camera.rules if camera else []) if r.type == "line_crossing"}
    for name, counts in lines.items():  # where to draw it over the camera's view
        counts["line"] = [list(map(float, p)) for p in geometry[name].line]
    record(services, user, "view_alerts", case_ref, purpose, {"stats": camera_id, "hours": hours})
    return {
        "camera_id": camera_id,
        "since": since.isoformat() if since else None,
        "hourly": stats.hourly_counts(services.store, camera_id, since),
        "lines": lines,
        "frame": list(stats.frame_size(services.store, camera_id)),
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
    hours: Hours = None,
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> Response:
    """Where people walked (or stopped), over a blurred frame of the camera when a blurrer is configured
    (operators: the last 24 hours, the frame too)."""
    allow(user, "alerts", case_ref, purpose)
    camera_known(services, camera_id)
    since = period_start(user, hours)
    grid, size = stats.heat_map(services.store, camera_id, kind, since)
    background = None
    if services.blurrer is not None:
        with services.blur_lock:
            background = stats.background_frame(services.store, camera_id, services.site, services.blurrer, since)
    record(services, user, "view_alerts", case_ref, purpose, {"heatmap": camera_id, "kind": kind})
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
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> StreamingResponse:
    """Server-sent events: one `alert` event per new alert (id = alert id), as JSON (operators: alerts of the
    last 24 hours only).

    The feed ends by itself after the server's feed lifetime (15 minutes by default); reconnect
    with Last-Event-ID (browsers' EventSource does) to receive what came after.
    """
    allow(user, "alerts", case_ref, purpose)
    start = after
    if last_event_id and last_event_id.isdigit():
        start = max(start, int(last_event_id))
    record(services, user, "view_alerts", case_ref, purpose, {"stream": True, "after": start})
    return StreamingResponse(
        _events(request, services, user, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, services: Services, user: users.User, start: int):
    """The feed: new alerts as they are stored, until the client leaves or the feed's lifetime is over;
    each poll bounded to the role's window as it is then (an operator's last 24 hours)."""
    last, idle = start, 0.0
    ends = time.monotonic() + services.alert_feed_s
    yield "retry: 3000\n\n"
    while not await request.is_disconnected():
        polled, _ = await asyncio.to_thread(alerts.list_alerts, services.store, after_id=last, limit=100)
        polled.sort(key=lambda a: a["id"])  # after id 0 the store lists newest first: send in id order, once each
        since = window_start(user)
        items = [a for a in polled if alerts.in_window(a, since)]  # one outside the window is passed over, unsent
        last = polled[-1]["id"] if polled else last
        for a in items:
            yield f"id: {a['id']}\nevent: alert\ndata: {json.dumps(a, default=str)}\n\n"
        left = ends - time.monotonic()
        if left <= 0:
            return  # the lifetime is over: the client reconnects with Last-Event-ID
        idle = 0.0 if items else idle + POLL_S
        if idle >= KEEPALIVE_S:
            idle = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(min(POLL_S, left))
