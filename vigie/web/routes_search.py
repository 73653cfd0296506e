"""Camera, track and search routes: the cameras, the tracks, a search, similar tracks, a trail.

Every search goes through the role's window (context.bounded: an operator sees the last 24 hours) and
is audited with its full query; investigators give a case reference and a purpose.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, Field

from vigie.citizen.photos import check_size
from vigie.config import default_site
from vigie.describe.attributes import PERSON_ATTRIBUTES, VEHICLE_TYPES
from vigie.describe.colours import PALETTE
from vigie.i18n import _
from vigie.search import photo as example_photo
from vigie.search.engine import search, similar
from vigie.search.query import CameraInfo, SearchError, SearchQuery, parse_query, searchable_attributes
from vigie.search.query_photos import keep_and_audit
from vigie.search.text import parse_text, refusal_message
from vigie.search.trail import trail_geojson
from vigie.search.trail_cli import trail_for_track
from vigie.store import search_reads
from vigie.web.context import (
    MAX_ID,
    MAX_OFFSET,
    TEXT,
    ErrorBody,
    Justification,
    blurrer,
    bounded,
    justified,
    page,
    plain,
    record,
    visible_track,
)
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow, allow_body, may

router = APIRouter()


class SearchRequest(SearchQuery, Justification):
    """A search query plus the justification investigators must give."""


@router.get("/api/cameras", tags=["cameras"])
def cameras(
    services: ServicesDep,
    user: CurrentUser,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    allow(user, "register_read")
    with services.store.read() as conn:
        total = conn.execute("SELECT count(*) FROM cameras").fetchone()[0]
        rows = [
            dict(r)
            for r in conn.execute(
                'SELECT id, name, lat, lon, commune, grp AS "group", purpose FROM cameras ORDER BY id LIMIT ? OFFSET ?',
                (limit, offset),
            )
        ]
    return page(rows, limit, offset, total)


@router.get("/api/search/vocabulary", tags=["search"])
def vocabulary(services: ServicesDep, user: CurrentUser) -> dict:
    """The words a search can use here: colour names, the clothing and carried-object attributes this
    site lets investigators search by (and those it hides, with why), and vehicle types."""
    allow(user, "register_read")
    searchable = searchable_attributes(services.site)
    return {
        "colours": list(PALETTE),
        "attributes": [a for a in PERSON_ATTRIBUTES if a in searchable],
        "hidden_attributes": [a for a in PERSON_ATTRIBUTES if a not in searchable],
        "vehicle_types": list(VEHICLE_TYPES),
    }


class TextRequest(BaseModel):
    text: str = Field(min_length=1, max_length=500, description="A witness's description in plain French or English.")


@router.post("/api/search/text", tags=["search"])
def read_text(services: ServicesDep, user: CurrentUser, body: TextRequest = Body(...)) -> dict:
    """What a plain-words description is read as (vigie.search.text): the filters, one readback line per
    filter, the words not understood and the words refused (about the person, not their clothing), for
    the person to check and correct before searching. Nothing is searched, so nothing is audited."""
    may(user, "search")
    zone = ZoneInfo(services.site.timezone) if services.site is not None else timezone.utc
    with services.store.read() as conn:
        cameras = [CameraInfo(*r) for r in search_reads.camera_rows(conn)]
    parsed = parse_text(body.text, now=datetime.now(timezone.utc), zone=zone, cameras=cameras)
    filters, hidden = parsed.searchable_filters(searchable_attributes(services.site))
    return {
        "language": parsed.language,
        "filters": parse_query(filters).model_dump(mode="json", exclude_unset=True),
        "readback": parsed.readback,
        "unknown": parsed.unknown,
        "refused": parsed.refused,
        "refusal": refusal_message(parsed.language, parsed.refused) if parsed.refused else None,
        "hidden_attributes": hidden,
    }


@router.get("/api/tracks", tags=["tracks"])
def tracks(
    services: ServicesDep,
    user: CurrentUser,
    camera: str | None = Query(None, max_length=TEXT),
    class_: str | None = Query(None, alias="class", max_length=TEXT),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """Tracks in time order (newest last), through the search index: an operator sees the last 24 hours."""
    allow(user, "search", case_ref, purpose)
    data: dict = {"sort": "time", "limit": limit, "offset": offset}
    if camera:
        data["cameras"] = [camera]
    if class_:
        data["classes"] = [class_]
    query = bounded(user, data)

    result = search(services.store, query)
    record(
        services,
        user,
        "search",
        case_ref,
        purpose,
        {"endpoint": "tracks", "query": query.model_dump(mode="json"), "total": result.total},
    )
    return page([h.model_dump(mode="json") for h in result.hits], limit, offset, result.total)


@router.get("/api/tracks/{track_id}", tags=["tracks"])
def track(
    services: ServicesDep,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
    points: bool = False,
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    allow(user, "view_media_blurred", case_ref, purpose)
    out = plain(visible_track(services, user, track_id))
    out.pop("thumbnail_path", None)  # a server path; the picture is at /thumbnail
    out.pop("cells", None)  # the search index's zone bitmap
    source = out.pop("source", None)  # the server's path: only the recording's file name is shown
    out["source_name"] = source.replace("\\", "/").rsplit("/", 1)[-1] if source else None
    out["thumbnail_url"] = f"/api/tracks/{track_id}/thumbnail"
    out["searchable"] = list(searchable_attributes(services.site))  # the attributes reliable enough to show
    if points:
        out["points"] = [plain(p) for p in services.store.track_points(track_id)]
    record(services, user, "view_track", case_ref, purpose, {"track_id": track_id, "points": bool(points)})
    return out


@router.post("/api/search", tags=["search"])
def do_search(services: ServicesDep, user: CurrentUser, body: SearchRequest = Body(...)) -> dict:
    body = allow_body(user, "search", body)  # none given: the session's open case
    data = body.model_dump(exclude={"case_ref", "purpose"}, exclude_unset=True)
    query = bounded(user, data)
    query.check_searchable(searchable_attributes(services.site))

    result = search(services.store, query)
    details = {"query": query.model_dump(mode="json"), "total": result.total}
    record(services, user, "search", body.case_ref, body.purpose, details)
    return result.model_dump(mode="json")


@router.get("/api/similar/{track_id}", tags=["search"])
def do_similar(
    services: ServicesDep,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    allow(user, "similar", case_ref, purpose)
    visible_track(services, user, track_id)
    query = bounded(user, {"limit": limit, "offset": offset})

    result = similar(services.store, track_id, query)
    details = {"track_id": track_id, "query": query.model_dump(mode="json"), "total": result.total}
    record(services, user, "similar", case_ref, purpose, details)
    return result.model_dump(mode="json")


@router.post(
    "/api/similar/photo",
    tags=["search"],
    responses={413: {"model": ErrorBody, "description": "The photo is above the size limit"}},
)
def do_similar_photo(
    services: ServicesDep,
    user: CurrentUser,
    image: UploadFile = File(
        description="The example photo of a person (JPEG, PNG or WebP): re-encoded without its metadata, faces "
        "blurred, then described as tracks are."
    ),
    case_ref: str | None = Form(None, max_length=TEXT, description="Case reference (investigators: required)."),
    purpose: str | None = Form(None, max_length=TEXT, description="Purpose of the search (investigators: required)."),
    box: str | None = Form(None, max_length=100, description="x1,y1,x2,y2: the person in the photo (default: found)."),
    match_colours: bool = Form(False, description="Also filter on the clothing colours read from the photo."),
    query: str | None = Form(
        None, max_length=20_000, description="The usual filters, order and page: a search query as JSON."
    ),
) -> dict:
    """Tracks that look like the person in an example photo (a witness's phone, another system), ranked by
    appearance as /api/similar ranks them, under the usual filters. The photo is kept only with this
    search's audit entry (which names it by its SHA-256) and purged with its case."""
    case_ref, purpose = justified(user, case_ref, purpose)  # none given: the session's open case
    allow(user, "similar", case_ref, purpose)
    try:
        data = json.loads(query) if query else {}
    except ValueError:
        raise SearchError(_("field query: not JSON (a search query's fields as a JSON object)"), _("query")) from None
    if not isinstance(data, dict):
        raise SearchError(_("field query: a JSON object of search query fields is expected"), _("query"))
    q = bounded(user, data)
    q.check_searchable(searchable_attributes(services.site))
    raw = image.file.read(example_photo.MAX_PHOTO_BYTES + 1)  # never more than the limit and one byte
    check_size(len(raw), example_photo.MAX_PHOTO_BYTES)
    reading, result = example_photo.search_by_photo(
        services.store,
        services.site or default_site(),
        raw,
        q,
        blurrer=blurrer(services),
        lock=services.blur_lock,
        box=example_photo.parse_box(box),
        match_colours=match_colours,
    )
    details = {"photo": reading.summary(), "query": result.query.model_dump(mode="json"), "total": result.total}
    keep_and_audit(services.store, reading.jpeg, user.username, user.role, case_ref, purpose, details)
    crop = base64.b64encode(reading.crop_jpeg).decode()
    return {**result.model_dump(mode="json"), "photo": {**reading.summary(), "crop": f"data:image/jpeg;base64,{crop}"}}


@router.get("/api/trail/{track_id}", tags=["search"])
def do_trail(
    services: ServicesDep,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
    candidates: int = Query(200, ge=1, le=1000),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    allow(user, "trail", case_ref, purpose)
    visible_track(services, user, track_id)

    data = trail_geojson(trail_for_track(services.store, track_id, bounded(user, {}), candidates=candidates))
    sightings = sum(f["properties"].get("kind") == "sighting" for f in data["features"])
    details = {"track_id": track_id, "candidates": candidates, "sightings": sightings}
    record(services, user, "trail", case_ref, purpose, details)
    return data
