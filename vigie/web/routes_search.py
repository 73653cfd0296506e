"""Camera, track and search routes: the cameras, the tracks, a search, similar tracks, a trail.

Every search goes through the role's window (context.bounded: an operator sees the last 24 hours) and
is audited with its full query; investigators give a case reference and a purpose.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Path, Query
from pydantic import Field

from vigie.describe.attributes import PERSON_ATTRIBUTES, VEHICLE_TYPES
from vigie.describe.colours import PALETTE
from vigie.search.engine import search, similar
from vigie.search.query import SearchQuery, searchable_attributes
from vigie.search.trail import trail_geojson
from vigie.search.trail_cli import trail_for_track
from vigie.web.context import MAX_ID, MAX_OFFSET, TEXT, bounded, page, plain, record, visible_track
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow

router = APIRouter()


class SearchRequest(SearchQuery):
    """A search query plus the justification investigators must give."""

    case_ref: str | None = Field(None, max_length=TEXT, description="Case reference (investigators: required).")
    purpose: str | None = Field(None, max_length=TEXT, description="Purpose of the search (investigators: required).")


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
    if points:
        out["points"] = [plain(p) for p in services.store.track_points(track_id)]
    record(services, user, "view_track", case_ref, purpose, {"track_id": track_id, "points": bool(points)})
    return out


@router.post("/api/search", tags=["search"])
def do_search(services: ServicesDep, user: CurrentUser, body: SearchRequest = Body(...)) -> dict:
    allow(user, "search", body.case_ref, body.purpose)
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
