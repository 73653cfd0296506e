"""Media routes: a track's thumbnail and clip, and unblurred-view requests.

Media are blurred by default (faces everywhere, plates on vehicles). An
investigator who needs to see one track unblurred asks for it with a case
reference, a purpose and a reason; a supervisor (never the requester) approves
it (vigie.accounts.approvals, /api/approvals), which opens a short grant for
that user and that track only. The request, the decision and every unblurred
look are audited. Unblurred media are rendered on demand and never written to disk.

Every look is audited, whatever its byte range: a clip is played through a
per-play token (vigie.web.plays): `POST /api/tracks/{id}/play` audits the play
and answers the clip's URL with the token, whose range requests are not audited
again; a clip request without a token is audited itself, each one.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ConfigDict, Field

from vigie.accounts import approvals, users
from vigie.i18n import gettext
from vigie.media import clips
from vigie.services import Services
from vigie.times import now_iso
from vigie.web.context import MAX_ID, ApiError, ErrorBody, Justification, blurrer, record, record_look, visible_track
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow, allow_body, may, with_case
from vigie.web.plays import PLAY_TTL_S, PlaysDep, PlayStarted

router = APIRouter(tags=["media"])

NO_STORE = {"Cache-Control": "no-store"}


class UnblurRequest(Justification):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000, description="Why this track must be seen unblurred.")


class PlayRequest(Justification):
    model_config = ConfigDict(extra="forbid")
    format: Literal["webm", "mp4", "fmp4"] = Field(
        "webm", description="webm, mp4, or fmp4: fragmented MP4 streamed while it is rendered (first picture sooner)."
    )
    unblurred: bool = Field(False, description="Unblurred, under an open unblur grant of the caller's.")


def jpeg_bytes(image) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ApiError(500, gettext("an image could not be encoded as JPEG"))
    return buf.tobytes()


# --- unblur grants ---------------------------------------------------------------------------
def open_grant(services: Services, user: users.User, track_id: int) -> dict | None:
    with services.store.read() as conn:
        row = conn.execute(
            "SELECT * FROM unblur_grants WHERE track_id=? AND username=? AND expires_at>? "
            "ORDER BY expires_at DESC LIMIT 1",
            (track_id, user.username, now_iso()),
        ).fetchone()
    return dict(row) if row else None


def grant_for(services: Services, user: users.User, track_id: int) -> dict:
    """The user's open grant on the track, or 403 saying how to get one."""
    may(user, "view_media_unblurred_request")
    grant = open_grant(services, user, track_id)
    if grant is None:
        raise ApiError(
            403,
            gettext(
                "no open unblur grant of yours on track {track_id}: POST /api/tracks/{track_id}/unblur with a case reference, a purpose and a reason, and wait for a supervisor's approval",
                track_id=track_id,
            ),
        )
    return grant


def justified_look(services: Services, user: users.User, track_id: int, unblurred: bool, case_ref, purpose):
    """(the track, the open grant or None) for a look at its media. An investigator justifies a blurred look
    with the case reference and purpose given, an unblurred one with its grant's (checked at every request)."""
    may(user, "view_media_blurred")
    if not unblurred:
        allow(user, "view_media_blurred", case_ref, purpose)
    track = visible_track(services, user, track_id)
    return track, grant_for(services, user, track_id) if unblurred else None


@router.post("/api/tracks/{track_id}/unblur", status_code=201)
def request_unblur(
    services: ServicesDep, body: UnblurRequest, user: CurrentUser, track_id: int = Path(ge=1, le=MAX_ID)
) -> dict:
    """Ask to see the track unblurred: a pending request, which a supervisor approves or rejects."""
    body = allow_body(user, "view_media_unblurred_request", body)  # none given: the session's open case
    visible_track(services, user, track_id)
    return approvals.request_unblur(services.store, user, track_id, body.case_ref, body.purpose, body.reason)


@router.get("/api/tracks/{track_id}/unblur")
def unblur_status(services: ServicesDep, user: CurrentUser, track_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """The caller's open grant on the track, if any, and whether a request of theirs waits for a supervisor."""
    may(user, "view_media_unblurred_request")
    grant = open_grant(services, user, track_id)
    waiting = None if grant else approvals.pending_unblur(services.store, user.username, track_id)
    return {
        "track_id": track_id,
        "open": grant is not None,
        "expires_at": grant["expires_at"] if grant else None,
        "case_ref": grant["case_ref"] if grant else (waiting["case_ref"] if waiting else None),
        "approved_by": grant.get("approved_by") if grant else None,
        "pending": waiting is not None,
        "request_id": waiting["id"] if waiting else None,
    }


# --- thumbnail ------------------------------------------------------------------------------------
@router.get(
    "/api/tracks/{track_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def thumbnail(
    services: ServicesDep,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
    unblurred: bool = False,
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> Response:
    """The track's best crop: blurred, or unblurred under an open grant of the caller's."""
    track, grant = justified_look(services, user, track_id, unblurred, case_ref, purpose)
    shared_blurrer = None if unblurred else blurrer(services)
    picture = services.store.thumbnail(track_id)  # opened: it is sealed at rest
    if picture is None:
        raise ApiError(404, gettext("track {track_id} has no stored thumbnail", track_id=track_id))
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ApiError(500, gettext("the stored thumbnail of track {track_id} cannot be decoded", track_id=track_id))
    if grant:
        record_look(services, user, "view_track", grant, case_ref, purpose, {"track_id": track_id, "thumbnail": True})
        return Response(picture, media_type="image/jpeg", headers=NO_STORE)
    with services.blur_lock:  # a Blurrer is one per thread; the server shares one
        blurred, regions = shared_blurrer.blur_crop(image, track["class"])
    record(
        services,
        user,
        "view_track",
        case_ref,
        purpose,
        {"track_id": track_id, "thumbnail": True, "blurred_regions": len(regions)},
    )
    return Response(jpeg_bytes(blurred), media_type="image/jpeg", headers=NO_STORE)


# --- clip ---------------------------------------------------------------------------------------------
def clip_bytes(services: Services, track_id: int, blur: bool, fmt: str) -> bytes:
    store, site = services.store, services.site
    if blur:
        shared_blurrer = blurrer(services)
        with services.blur_lock:  # the shared Blurrer is one thread's at a time
            return clips.render_clip(store, track_id, site=site, blurrer=shared_blurrer, blur=True, fmt=fmt).data
    return clips.render_clip(store, track_id, site=site, blurrer=None, blur=False, fmt=fmt).data


@router.get(
    "/api/tracks/{track_id}/clip",
    response_class=Response,
    responses={
        200: {"content": {"video/webm": {}, "video/mp4": {}}, "description": "The clip (fmp4: streamed as rendered)"},
        206: {"content": {"video/webm": {}, "video/mp4": {}}, "description": "A range of it"},
        416: {"model": ErrorBody, "description": "A range outside the clip"},
    },
)
def clip(
    services: ServicesDep,
    plays: PlaysDep,
    request: Request,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
    unblurred: bool = False,
    format: str = Query("webm", pattern="^(webm|mp4|fmp4)$"),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
    play: str | None = Query(
        None,
        max_length=64,
        description="A play's token (POST /api/tracks/{track_id}/play): its ranges, not audited again.",
    ),
) -> Response:
    """The track's clip from its recording, its box drawn, privacy masks burned in, blurred unless granted.

    With `play` (a token from POST /api/tracks/{track_id}/play): a range of that play, already audited (its
    format and blurring are the play's). Without: this request is audited, whatever its range."""
    if play is not None:
        started = plays.check(play, user.username, ("clip", track_id))
        _, _, format, unblurred = started.target
        case_ref, purpose = started.case_ref, started.purpose
    _, grant = justified_look(services, user, track_id, unblurred, case_ref, purpose)
    if format == "fmp4":
        return _streamed_clip(services, user, request, track_id, grant, case_ref, purpose, play is None)
    data = clip_bytes(services, track_id, blur=grant is None, fmt=format)
    # Byte ranges, so that a browser can seek in the clip (the track page opens it at a given moment).
    asked = request.headers.get("range")
    response = byte_range_response(data, asked, f"video/{format}", NO_STORE)
    if play is None and response.status_code in (200, 206):
        audit_play(services, user, track_id, format, grant, case_ref, purpose, {"range": asked})
    return response


def _streamed_clip(services: Services, user, request: Request, track_id: int, grant, case_ref, purpose, audit: bool):
    """The fragmented MP4 clip, sent while it is rendered; once cached (blurred), byte ranges of the file."""
    blur = grant is None
    stream = clips.stream_clip(
        services.store,
        track_id,
        site=services.site,
        blurrer=blurrer(services) if blur else None,
        blur=blur,
        lock=services.blur_lock,
    )
    asked = request.headers.get("range")
    if stream.cached:
        response = byte_range_response(b"".join(stream.chunks), asked, stream.mime, NO_STORE)
    else:
        # Rendering now: no length is known, so no ranges; the player plays the fragments as they come.
        response = StreamingResponse(stream.chunks, media_type=stream.mime, headers=NO_STORE)
    if audit and response.status_code in (200, 206):
        audit_play(services, user, track_id, "fmp4", grant, case_ref, purpose, {"range": asked})
    return response


def audit_play(services: Services, user: users.User, track_id: int, fmt: str, grant, case_ref, purpose, more: dict):
    """One look at a clip in the audit log: view_unblurred under the grant's case (a clip), or view_clip."""
    details = {"track_id": track_id, **({"clip": True} if grant else {}), "format": fmt, **more}
    record_look(services, user, "view_clip", grant, case_ref, purpose, details)


@router.post("/api/tracks/{track_id}/play", status_code=201)
def start_play(
    services: ServicesDep,
    plays: PlaysDep,
    body: PlayRequest,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
) -> PlayStarted:
    """Start a play of the track's clip: audited now, once (view_clip, or view_unblurred under an open grant);
    answers the clip's URL for this play, whose byte ranges the player then fetches without more entries."""
    body = with_case(user, body)  # none given: the session's open case
    _, grant = justified_look(services, user, track_id, body.unblurred, body.case_ref, body.purpose)
    if grant is None:
        blurrer(services)  # 503 now rather than at the first range: clips are only served blurred without a grant
    case_ref, purpose = body.case_ref or None, body.purpose or None
    token, play = plays.issue(user.username, ("clip", track_id, body.format, body.unblurred), case_ref, purpose)
    audit_play(services, user, track_id, body.format, grant, case_ref, purpose, {"play": play.play_id})
    return PlayStarted(
        url=f"/api/tracks/{track_id}/clip?play={token}", play_id=play.play_id, expires_in_s=int(PLAY_TTL_S)
    )


def byte_range_response(data: bytes, asked: str | None, media_type: str, headers: dict) -> Response:
    """The whole body (200), or the one byte range asked for (206, RFC 9110 §14): `bytes=a-b`, `bytes=a-` or
    `bytes=-n`. A range outside the body is 416; one the server does not serve (several ranges, another unit)
    gets the whole body, as the RFC allows."""
    size = len(data)
    whole = {**headers, "Accept-Ranges": "bytes"}
    spec = (asked or "").replace(" ", "")
    if not spec.startswith("bytes=") or "," in spec or spec.count("-") != 1:
        return Response(data, media_type=media_type, headers=whole)
    first, last = spec[len("bytes=") :].split("-")
    if not (first.isdigit() or last.isdigit()) or not all(p.isdigit() or p == "" for p in (first, last)):
        return Response(data, media_type=media_type, headers=whole)
    if first == "":  # the last n bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return Response(
            json.dumps({"error": f"range {asked!r} is outside the clip's {size} bytes"}),
            status_code=416,
            media_type="application/json",
            headers={**whole, "Content-Range": f"bytes */{size}"},
        )
    return Response(
        data[start : end + 1],
        status_code=206,
        media_type=media_type,
        headers={**whole, "Content-Range": f"bytes {start}-{end}/{size}"},
    )
