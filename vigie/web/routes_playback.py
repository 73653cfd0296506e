"""Playback of a camera's recording from any moment, and its timeline (issue 21).

The access rules are those of clips (routes_media):
- operators: the last 24 hours, blurred;
- investigators: with a case reference and a purpose, blurred;
- unblurred: only under an open, approved unblur grant of the caller's on a track of that camera
  (POST /api/tracks/{id}/unblur, approved by a supervisor), and only over that track's time, a minute
  either side: the grant's case and purpose justify it.

Every play is audited: `POST /api/cameras/{id}/playback` audits the play (view_playback, or
view_unblurred under the grant) and answers the stream's URL with a per-play token (vigie.web.plays);
the player's requests with that token, seeking to other moments within what the play allows, are not
audited again. `GET /api/cameras/{id}/playback?from=...` without a token is audited itself, each time.

The stream is fragmented MP4 (H.264) from the moment asked, sent while it is rendered (vigie.media.playback):
the page feeds it to the browser's Media Source Extensions.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.i18n import gettext
from vigie.media import playback
from vigie.services import Services
from vigie.times import from_iso, iso
from vigie.web.context import (
    MAX_ID,
    ApiError,
    Justification,
    blurrer,
    camera_known,
    record,
    record_look,
    visible_track,
    window_start,
)
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow, may
from vigie.web.plays import PLAY_TTL_S, PlaysDep
from vigie.web.routes_media import NO_STORE, grant_for

router = APIRouter(tags=["playback"])

GRANT_MARGIN = timedelta(seconds=60)  # an unblurred play may start this long before the granted track
MAX_TIMELINE = timedelta(days=7)
EARLIEST, LATEST = 1970, 2200  # years a moment may name: the arithmetic on it stays inside datetime's range
CAMERA_ID = Path(min_length=1, max_length=200)


class PlaybackRequest(Justification):
    model_config = ConfigDict(extra="forbid")
    start: datetime = Field(alias="from", description="The UTC moment to play from (ISO 8601).")
    unblurred: bool = Field(False, description="Unblurred, under an open unblur grant of the caller's on `track_id`.")
    track_id: int | None = Field(None, ge=1, le=MAX_ID, description="The granted track (unblurred plays).")


class PlaybackStarted(BaseModel):
    url: str = Field(description="The stream's URL for this play; change its `from` to seek (not audited again).")
    play_id: str = Field(description="The play's id, named in its audit entry.")
    expires_in_s: int
    window_start: str | None = Field(description="The earliest moment this play may show (ISO UTC), if bounded.")
    window_end: str | None = Field(description="The latest moment this play may show (ISO UTC), if bounded.")


def _utc(value: datetime | str, field: str) -> datetime:
    try:
        t = value if isinstance(value, datetime) else from_iso(value)
    except OverflowError:
        raise ApiError(422, _not_between(field, value), field=field) from None
    except ValueError:
        raise ApiError(
            422, gettext("field {field}: {value} is not an ISO 8601 time", field=field, value=repr(value)), field=field
        ) from None
    if t.tzinfo is None:
        raise ApiError(
            422,
            gettext("field {field}: {value} has no time zone; give UTC, e.g. ...Z", field=field, value=repr(value)),
            field=field,
        )
    try:
        t = t.astimezone(timezone.utc)
    except OverflowError:
        t = None
    if t is None or not (EARLIEST <= t.year <= LATEST):
        raise ApiError(422, _not_between(field, value), field=field)
    return t


def _not_between(field: str, value) -> str:
    return gettext(
        "field {field}: {value} is not a time between {earliest} and {latest}",
        field=field,
        value=repr(value),
        earliest=EARLIEST,
        latest=LATEST,
    )


def _role_window(user: users.User, when: datetime, field: str) -> None:
    lower = window_start(user)
    if lower is not None and when < lower:
        raise ApiError(
            403,
            gettext(
                "field {field}: {time} is outside the last 24 hours, which is all role {role} may see",
                field=field,
                time=iso(when),
                role=repr(user.role),
            ),
            field=field,
        )


def _granted_window(services: Services, user: users.User, camera_id: str, track_id: int | None):
    """(grant, window start, window end) for an unblurred play: the caller's grant on a track of the camera."""
    if track_id is None:
        raise ApiError(
            422,
            gettext("field track_id: an unblurred play names the track whose unblur grant allows it"),
            field="track_id",
        )
    track = visible_track(services, user, track_id)
    if track["camera_id"] != camera_id:
        raise ApiError(
            403,
            gettext(
                "track {track_id} is not of camera {camera}: its grant does not open this camera",
                track_id=track_id,
                camera=repr(camera_id),
            ),
        )
    grant = grant_for(services, user, track_id)
    return grant, from_iso(track["first_seen"]) - GRANT_MARGIN, from_iso(track["last_seen"]) + GRANT_MARGIN


def _check_start(start: datetime, lo: datetime | None, hi: datetime | None) -> None:
    if (lo is not None and start < lo) or (hi is not None and start >= hi):
        raise ApiError(
            403,
            gettext(
                "field from: {time} is outside the window this play allows ({start} to {end})",
                time=iso(start),
                start=iso(lo),
                end=iso(hi),
            ),
            field="from",
        )


def _audit(services, user, camera_id: str, start: datetime, grant, case_ref, purpose, more: dict) -> None:
    details = {"camera_id": camera_id, "from": iso(start), "recording": True, **more}
    record_look(services, user, "view_playback", grant, case_ref, purpose, details)


@router.post("/api/cameras/{camera_id}/playback", status_code=201)
def start_playback(
    services: ServicesDep, plays: PlaysDep, body: PlaybackRequest, user: CurrentUser, camera_id: str = CAMERA_ID
) -> PlaybackStarted:
    """Start a play of the camera's recording: audited now, once; answers the stream's URL for this play."""
    may(user, "view_media_blurred")
    camera_known(services, camera_id)
    start = _utc(body.start, "from")
    lo = hi = grant = None
    if body.unblurred:
        grant, lo, hi = _granted_window(services, user, camera_id, body.track_id)
        _check_start(start, lo, hi)
    else:
        allow(user, "view_media_blurred", body.case_ref, body.purpose)
        _role_window(user, start, "from")
        lo = window_start(user)
        blurrer(services)  # 503 now rather than at the stream: without a grant, footage is only served blurred
    case_ref, purpose = body.case_ref or None, body.purpose or None
    target = ("playback", camera_id, body.unblurred, body.track_id if body.unblurred else None)
    token, play = plays.issue(user.username, target, case_ref, purpose)
    _audit(services, user, camera_id, start, grant, case_ref, purpose, {"play": play.play_id})
    return PlaybackStarted(
        url=f"/api/cameras/{camera_id}/playback?play={token}&from={iso(start)}",
        play_id=play.play_id,
        expires_in_s=int(PLAY_TTL_S),
        window_start=iso(lo) if lo else None,
        window_end=iso(hi) if hi else None,
    )


@router.get(
    "/api/cameras/{camera_id}/playback",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}, "description": "Fragmented MP4 from `from`, sent as rendered"}},
)
def playback_stream(
    services: ServicesDep,
    plays: PlaysDep,
    user: CurrentUser,
    camera_id: str = CAMERA_ID,
    start: str = Query(alias="from", min_length=1, max_length=64, description="The UTC moment to play from."),
    seconds: float = Query(playback.MAX_PLAY_S, gt=0, le=playback.MAX_PLAY_S, description="How long to play at most."),
    unblurred: bool = False,
    track_id: int | None = Query(None, ge=1, le=MAX_ID),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
    play: str | None = Query(None, max_length=64, description="A play's token (POST .../playback)."),
) -> StreamingResponse:
    """The camera's recording from `from`, privacy masks burned in, blurred unless under a grant: fragmented
    MP4 sent while it is rendered, until the footage's next gap. With `play`: a moment of that play, already
    audited. Without: this request is audited."""
    may(user, "view_media_blurred")
    camera_known(services, camera_id)
    when = _utc(start, "from")
    if play is not None:
        started = plays.check(play, user.username, ("playback", camera_id))
        _, _, unblurred, track_id = started.target
        case_ref, purpose = started.case_ref, started.purpose
    grant = hi = None
    if unblurred:
        grant, lo, hi = _granted_window(services, user, camera_id, track_id)  # the grant is checked each time
        _check_start(when, lo, hi)
    else:
        allow(user, "view_media_blurred", case_ref, purpose)
        _role_window(user, when, "from")
    stream = playback.stream_playback(
        services.store,
        services.site,
        camera_id,
        when,
        blurrer=None if unblurred else blurrer(services),
        blur=not unblurred,
        lock=services.blur_lock,
        max_s=seconds,
        until=hi,
    )
    if play is None:
        _audit(services, user, camera_id, when, grant, case_ref, purpose, {})
    headers = {**NO_STORE, "X-Playback-Start": iso(stream.start)}
    return StreamingResponse(stream.chunks, media_type=stream.mime, headers=headers)


@router.get("/api/cameras/{camera_id}/timeline")
def camera_timeline(
    services: ServicesDep,
    user: CurrentUser,
    camera_id: str = CAMERA_ID,
    start: str = Query(alias="from", min_length=1, max_length=64),
    end: str = Query(alias="to", min_length=1, max_length=64),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """What the playback page's timeline shows for the camera over [from, to): the footage, its gaps, the
    tracks and the alerts. Audited as a search (it lists the tracks seen)."""
    allow(user, "view_media_blurred", case_ref, purpose)
    camera_known(services, camera_id)
    t0, t1 = _utc(start, "from"), _utc(end, "to")
    if t1 <= t0 or t1 - t0 > MAX_TIMELINE:
        raise ApiError(422, gettext("field to: must be after from, and at most 7 days after it"), field="to")
    lower = window_start(user)
    if lower is not None:
        if t1 <= lower:
            raise ApiError(
                403, gettext("field to: role {role} may only see the last 24 hours", role=repr(user.role)), field="to"
            )
        t0 = max(t0, lower)
    out = playback.timeline(services.store, services.site, camera_id, t0, t1)
    record(services, user, "search", case_ref, purpose, {"timeline": camera_id, "from": iso(t0), "to": iso(t1)})
    return out
