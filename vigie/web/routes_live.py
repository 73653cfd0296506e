"""The live wall: 1, 4 or 9 cameras' live sub-streams on one screen (issue 21).

`GET /api/live/cameras` lists the cameras that have a live stream, with their group, for the wall's chooser.
A camera's pictures are a multipart JPEG stream (`multipart/x-mixed-replace`), each part with the UTC time
its frame was decoded (`X-Frame-Time`), from which the page shows the latency. When the camera is lost (its
stream died, or no picture for a few seconds) or live again, a JSON part says so (`X-Feed-State: lost` or
`live`, body {"state", "since", "detail"}): the page shows it on the camera's tile while the server
reconnects (vigie.live.wall). Privacy masks are burned in;
faces are blurred only when the site file says `live_wall_blur: true` (vigie.live.wall).

Watching is audited as every look is: `POST /api/live/{camera_id}/view` audits the view (view_live) and
answers the stream's URL with a per-play token (vigie.web.plays); a stream request without a token is
audited itself. Live viewing is the `live_view` permission (operators, investigators).
"""

from __future__ import annotations

import json
import threading

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from vigie.live.wall import FeedState, Wall
from vigie.times import iso
from vigie.web.context import record
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow
from vigie.web.plays import PLAY_TTL_S, PlaysDep

router = APIRouter(tags=["live"])

BOUNDARY = "vigie-frame"
CAMERA_ID = Path(min_length=1, max_length=64)


class LiveView(BaseModel):
    url: str = Field(description="The camera's picture stream for this view.")
    play_id: str
    expires_in_s: int
    blurred: bool = Field(description="Whether faces are blurred on the wall (the site's live_wall_blur).")


def get_wall(request: Request) -> Wall:
    return request.app.state.wall


@router.get("/api/live/cameras")
def live_cameras(services: ServicesDep, user: CurrentUser) -> dict:
    """The cameras of the site file that have a live stream: id, name, group (no URL: it may hold a password)."""
    allow(user, "live_view")
    cams = [
        {"id": c.id, "name": c.name, "group": c.group, "substream": bool(c.substream)}
        for c in (services.site.cameras if services.site else [])
        if c.stream or c.substream
    ]
    return {"items": cams, "total": len(cams), "blurred": bool(getattr(services.site, "live_wall_blur", False))}


@router.post("/api/live/{camera_id}/view", status_code=201)
def start_view(
    services: ServicesDep,
    plays: PlaysDep,
    request: Request,
    user: CurrentUser,
    camera_id: str = CAMERA_ID,
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> LiveView:
    """Start watching the camera live: audited now, once (view_live); answers the stream's URL."""
    allow(user, "live_view", case_ref, purpose)
    wall = get_wall(request)
    wall.camera(camera_id)  # 404 now for a camera without a stream
    token, play = plays.issue(user.username, ("live", camera_id), case_ref, purpose)
    record(services, user, "view_live", case_ref, purpose, {"camera_id": camera_id, "play": play.play_id})
    return LiveView(
        url=f"/api/live/{camera_id}/pictures?play={token}",
        play_id=play.play_id,
        expires_in_s=int(PLAY_TTL_S),
        blurred=wall.blurrer is not None,
    )


@router.get(
    "/api/live/{camera_id}/pictures",
    response_class=StreamingResponse,
    responses={200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}}},
)
def pictures(
    services: ServicesDep,
    plays: PlaysDep,
    request: Request,
    user: CurrentUser,
    camera_id: str = CAMERA_ID,
    case_ref: CaseRef = None,
    purpose: Purpose = None,
    play: str | None = Query(None, max_length=64, description="A view's token (POST /api/live/{camera_id}/view)."),
) -> StreamingResponse:
    """The camera's live pictures as multipart JPEG, the newest each time (a slow screen skips pictures)."""
    if play is not None:
        started = plays.check(play, user.username, ("live", camera_id))
        case_ref, purpose = started.case_ref, started.purpose
    allow(user, "live_view", case_ref, purpose)
    feed = get_wall(request).feed(camera_id)
    if play is None:
        record(services, user, "view_live", case_ref, purpose, {"camera_id": camera_id})
    stop = threading.Event()

    def parts():
        try:
            for picture in feed.pictures(stop):
                if isinstance(picture, FeedState):
                    body = json.dumps(
                        {"state": picture.state, "since": iso(picture.since), "detail": picture.detail}
                    ).encode()
                    head = (
                        f"--{BOUNDARY}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                        f"X-Feed-State: {picture.state}\r\n\r\n"
                    )
                    yield head.encode() + body + b"\r\n"
                    continue
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(picture.jpeg)}\r\n"
                    f"X-Frame-Time: {iso(picture.captured)}\r\nX-Frame-Seq: {picture.seq}\r\n\r\n"
                )
                yield head.encode() + picture.jpeg + b"\r\n"
        finally:
            stop.set()

    return StreamingResponse(
        parts(),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
