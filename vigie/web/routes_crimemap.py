"""Crime map routes: the security council's incidents, their analyses, the printable report, and imports.

    GET  /api/crimemap/summary          counts per layer and category, categories, communes, period, statement
    GET  /api/crimemap/incidents        the incidents as GeoJSON points (at most MAX_FEATURES, the most recent)
    GET  /api/crimemap/density          kernel density surface (GeoJSON cells), ?bandwidth_m
    GET  /api/crimemap/hotspots         Gi* hot and cold spots on a grid (GeoJSON cells), ?cell_m
    GET  /api/crimemap/near-repeat      Knox test of near-repeat incidents
    GET  /api/crimemap/time-pattern     counts per weekday and hour, in the site's time zone
    GET  /api/crimemap/communes         counts per commune (the site's commune polygons when it has them)
    GET  /api/crimemap/report           the printable report, ?format=html|pdf
    POST /api/crimemap/imports          multipart file + source + crs -> 201 (400 with every row's problem; 413 too large)
    GET  /api/crimemap/imports          the imports, newest first
    POST /api/crimemap/imports/{id}/remove

Every map route takes the same filters: layer (repeatable; default all three), category (repeatable), commune
(repeatable), from and to (ISO 8601 with an offset; [from, to)). The four GeoJSON routes answer a file with
`download=true` (application/geo+json, attachment).

Who may: the analyst role (permission crime_map; imports need incidents_import). Each call is audited:
view_crime_map (with the filters and how many incidents), crime_report, incidents_import (in the import's own
transaction; a refused file is audited too, saying why), incidents_remove.

Zero incidents: the summary and the incidents answer with zeros and no points; an analysis (density, hot
spots, near-repeat, time pattern, per commune, report) of nothing is refused, 400 "no incidents match ...",
rather than drawn as an empty map that would look like a quiet city.
"""

from __future__ import annotations

import json
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response

from vigie.accounts import users
from vigie.config import CrimeMapConfig
from vigie.crimemap import importer as imp
from vigie.crimemap.analysis import by_commune, density, hotspots, near_repeat, time_pattern
from vigie.crimemap.importer import ImportNotFound, list_imports, remove_import
from vigie.crimemap.incidents import LAYERS, Incident, read_communes
from vigie.crimemap.layers import STATEMENT, Filters, categories_and_counts, feature_collection, load, report_period
from vigie.crimemap.report import write_report
from vigie.i18n import _
from vigie.services import Services
from vigie.times import place
from vigie.web.context import MAX_ID, TEXT, ApiError, ErrorBody, record
from vigie.web.deps import ServicesDep, user_with

router = APIRouter(tags=["crime map"])

Reader = Annotated[users.User, Depends(user_with("crime_map"))]
Importer = Annotated[users.User, Depends(user_with("incidents_import"))]
MAX_FEATURES = 50_000  # points sent to a browser map at once
MAX_VALUES = 100  # values of one repeatable filter
GEOJSON = "application/geo+json"
NO_STORE = {"Cache-Control": "no-store"}
# The report is HTML made from imported text (categories, communes): it may show pictures and its own styles, nothing else.
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'"
)
Layer = Literal["imported", "alerts", "citizen"]
GEOJSON_RESPONSES = {200: {"content": {"application/json": {}, GEOJSON: {}}}}


def _when(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None

    def refused(problem: str) -> ApiError:
        return ApiError(422, problem, field=name)

    return place(value, None, f"field {name}:", refused)  # a map period must say its zone


def _values(values: list[str] | None, name: str) -> tuple[str, ...]:
    values = [v.strip() for v in values or [] if v.strip()]
    if len(values) > MAX_VALUES:
        raise ApiError(
            422,
            _(
                "field {name}: at most {max_values} values, got {n_values}",
                name=name,
                max_values=MAX_VALUES,
                n_values=len(values),
            ),
            field=name,
        )
    long = next((v for v in values if len(v) > TEXT), None)
    if long is not None:
        raise ApiError(
            422,
            _("field {name}: a value of {n_long} characters, more than {text}", name=name, n_long=len(long), text=TEXT),
            field=name,
        )
    return tuple(dict.fromkeys(values))


def map_filters(
    layer: list[Layer] | None = Query(None, description="Layers (repeatable): imported, alerts, citizen; default all."),
    category: list[str] | None = Query(None, description="Categories (repeatable); default all."),
    commune: list[str] | None = Query(
        None, description="Communes (repeatable); default all. Citizen reports have no commune."
    ),
    start: datetime | None = Query(None, alias="from", description="Period start, ISO 8601 with an offset."),
    end: datetime | None = Query(None, alias="to", description="Period end (excluded), ISO 8601 with an offset."),
) -> Filters:
    """The filters every map route takes, checked (422 naming the field)."""
    start, end = _when(start, "from"), _when(end, "to")
    if start is not None and end is not None and start >= end:
        raise ApiError(
            422,
            _("field to: {value} must be after from ({value2})", value=end.isoformat(), value2=start.isoformat()),
            field="to",
        )
    return Filters(
        tuple(dict.fromkeys(layer)) if layer else LAYERS,
        start,
        end,
        _values(category, "category"),
        _values(commune, "commune"),
    )


# --- what the site says -------------------------------------------------------------------------------
def site_timezone(services: Services) -> str:
    return getattr(services.site, "timezone", None) or "UTC"


def config(services: Services):

    return services.site.crime_map if services.site is not None else CrimeMapConfig()


class CommuneFiles:
    """An app's commune polygons, each file read once (create_app gives each app its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: dict[str, dict] = {}

    def of(self, cfg) -> dict | None:
        """The polygons of the site's commune file, or None without one."""
        path = cfg.communes
        if not path:
            return None
        with self._lock:
            if path not in self._read:
                self._read[path] = read_communes(path)
            return self._read[path]


async def get_communes(request: Request) -> CommuneFiles:
    return request.app.state.communes


CommunesDep = Annotated[CommuneFiles, Depends(get_communes)]
MapFilters = Annotated[Filters, Depends(map_filters)]
Download = Annotated[bool, Query(description="Answer as a GeoJSON file to save (application/geo+json, attachment).")]


# --- shared steps ----------------------------------------------------------------------------------------
def incidents(services: Services, f: Filters) -> list[Incident]:
    return load(services.store, services.site, f)


def seen(services: Services, user: users.User, endpoint: str, f: Filters, found: list[Incident], **params) -> None:
    details = {"endpoint": endpoint, **f.as_dict(), **params, "incidents": len(found)}
    record(services, user, "view_crime_map", None, None, details)


def need(found: list[Incident], f: Filters) -> None:
    if not found:
        raise ApiError(400, _("no incidents match ({value}): nothing to analyse", value=f.describe()))


def geojson(data: dict, layer: str, download: bool):
    data.setdefault("statement", _(STATEMENT))
    if not download:
        return data
    name = f"vigie-{layer}-{datetime.now(timezone.utc):%Y-%m-%d}.geojson"
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        media_type=GEOJSON,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- the map --------------------------------------------------------------------------------------------------
@router.get("/api/crimemap/summary")
def summary(services: ServicesDep, user: Reader, f: MapFilters) -> dict:
    """Counts per layer and per category, the categories and communes found, the period covered."""
    found = incidents(services, f)
    seen(services, user, "summary", f, found)
    return {
        **categories_and_counts(found),
        "filters": f.as_dict(),
        "layers": list(LAYERS),
        "timezone": site_timezone(services),
        "statement": _(STATEMENT),
    }


@router.get("/api/crimemap/incidents", response_model=None, responses=GEOJSON_RESPONSES)
def incident_points(services: ServicesDep, user: Reader, f: MapFilters, download: Download = False):
    """The incidents as GeoJSON points: id, layer, category, occurred_at (UTC), commune, source."""
    found = incidents(services, f)
    data = feature_collection(found, MAX_FEATURES)
    seen(services, user, "incidents", f, found, download=download, truncated=data["truncated"])
    return geojson(data, "incidents", download)


@router.get("/api/crimemap/density", response_model=None, responses=GEOJSON_RESPONSES)
def density_surface(
    services: ServicesDep,
    user: Reader,
    f: MapFilters,
    bandwidth_m: float | None = Query(
        None, ge=1, le=50_000, description="Kernel bandwidth in metres (default: chosen from the data)."
    ),
    download: Download = False,
):
    """Kernel density of the incidents on a grid (GeoJSON cells), with the bandwidth used and how it was chosen."""

    found = incidents(services, f)
    seen(services, user, "density", f, found, bandwidth_m=bandwidth_m, download=download)
    need(found, f)
    return geojson(density(found, bandwidth_m=bandwidth_m), "density", download)


@router.get("/api/crimemap/hotspots", response_model=None, responses=GEOJSON_RESPONSES)
def hot_spots(
    services: ServicesDep,
    user: Reader,
    f: MapFilters,
    cell_m: float | None = Query(None, gt=10, le=10_000, description="Grid cell side in metres (default: the site's)."),
    download: Download = False,
):
    """Getis-Ord Gi* hot and cold spots on a square grid: areas, with z, pseudo p-value and class per cell."""

    cfg = config(services)
    cell = cell_m or cfg.cell_m
    found = incidents(services, f)
    seen(services, user, "hotspots", f, found, cell_m=cell, permutations=cfg.permutations, download=download)
    need(found, f)
    return geojson(hotspots(found, cell_m=cell, permutations=cfg.permutations, seed=0), "hotspots", download)


@router.get("/api/crimemap/near-repeat")
def near_repeats(services: ServicesDep, user: Reader, f: MapFilters) -> dict:
    """Knox test: are incidents close in space also close in time, more than chance says?"""

    found = incidents(services, f)
    seen(services, user, "near-repeat", f, found)
    need(found, f)
    return {**near_repeat(found), "statement": _(STATEMENT)}


@router.get("/api/crimemap/time-pattern")
def time_patterns(services: ServicesDep, user: Reader, f: MapFilters) -> dict:
    """Counts per weekday and hour in the site's time zone, and whether they differ from an even spread."""

    found = incidents(services, f)
    seen(services, user, "time-pattern", f, found)
    need(found, f)
    # each import on its own clock
    return {**time_pattern(found, site_timezone(services)), "statement": _(STATEMENT)}


@router.get("/api/crimemap/communes", response_model=None, responses=GEOJSON_RESPONSES)
def per_commune(services: ServicesDep, communes: CommunesDep, user: Reader, f: MapFilters, download: Download = False):
    """Incidents per commune: the site's commune polygons when it has them, else a point per commune."""

    found = incidents(services, f)
    seen(services, user, "communes", f, found, download=download)
    need(found, f)
    cfg = config(services)
    return geojson(by_commune(found, communes.of(cfg), name_property=cfg.commune_property), "communes", download)


@router.get(
    "/api/crimemap/report",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def report(
    services: ServicesDep,
    communes: CommunesDep,
    user: Reader,
    f: MapFilters,
    format: Literal["html", "pdf"] = "html",
    title: str | None = Query(None, max_length=TEXT, description="The report's title (default: the site's name)."),
) -> Response:
    """The printable report for the security council: map layers, hot spots, time patterns, per commune."""

    found = incidents(services, f)
    cfg = config(services)
    heading = (title or "").strip() or f"Crime map - {getattr(services.site, 'name', None) or 'Vigie'}"
    need(found, f)
    with tempfile.TemporaryDirectory(prefix="vigie-report-") as tmp:
        path = write_report(
            found,
            Path(tmp) / f"report.{format}",
            title=heading,
            timezone=site_timezone(services),
            communes=communes.of(cfg),
            name_property=cfg.commune_property,
            cell_m=cfg.cell_m,
            permutations=cfg.permutations,
            seed=0,
            period=report_period(f, found),
        )
        data = Path(path).read_bytes()
    record(
        services,
        user,
        "crime_report",
        None,
        None,
        {**f.as_dict(), "format": format, "title": heading, "incidents": len(found), "bytes": len(data)},
    )
    name = f"vigie-crime-report-{datetime.now(timezone.utc):%Y-%m-%d}.{format}"
    if format == "pdf":
        return Response(
            data,
            media_type="application/pdf",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        data,
        media_type="text/html; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'inline; filename="{name}"',
            "Content-Security-Policy": REPORT_CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- imports ----------------------------------------------------------------------------------------------
@router.post(
    "/api/crimemap/imports",
    status_code=201,
    responses={413: {"model": ErrorBody, "description": "The file is above the size or row limit"}},
)
def upload(
    services: ServicesDep,
    user: Importer,
    file: UploadFile = File(description="CSV or GeoJSON of incidents (UTF-8)."),
    source: str | None = Form(None, max_length=100, description="Who the incidents come from (unless each row says)."),
    crs: str | None = Form(
        None, max_length=200, description="CRS of x/y coordinates, e.g. EPSG:2154 (default WGS 84 lat/lon)."
    ),
) -> dict:
    """Import a file of incidents: every row checked, all of it stored or nothing (400 lists each row's problem)."""

    data = file.file.read(imp.MAX_BYTES + 1)  # never more than the limit and one byte
    name = file.filename or "upload"
    try:
        if len(data) > imp.MAX_BYTES:
            raise imp.FileTooLarge(
                _(
                    "{value}: above the limit of {max_bytes:,} bytes (20 MiB) per import: split the file",
                    value=imp.plain_name(name),
                    max_bytes=imp.MAX_BYTES,
                )
            )
        return imp.import_file(
            services.store,
            data,
            file_name=name,
            source=source,
            crs=crs or None,
            timezone=site_timezone(services),
            user=user.username,
            role=user.role,
        )
    except imp.ImportRefused as exc:
        # A refused file changed nothing, but the attempt is on record.
        record(
            services,
            user,
            "incidents_import",
            None,
            None,
            {
                "file_name": imp.plain_name(name),
                "refused": str(exc)[:500],
                "problems": exc.count,
                "bytes": len(data),
            },
        )
        if isinstance(exc, imp.FileTooLarge):
            raise ApiError(413, str(exc)) from None
        if isinstance(exc, imp.AlreadyImported):
            raise ApiError(409, str(exc), import_id=exc.import_id) from None
        raise ApiError(400, str(exc), problems=exc.problems, problem_count=exc.count) from None


@router.get("/api/crimemap/imports")
def imports(services: ServicesDep, user: Importer) -> dict:
    """Every import, newest first: file, SHA-256, source, CRS, who and when, rows, period."""

    items = list_imports(services.store)
    record(services, user, "view_crime_map", None, None, {"endpoint": "imports", "total": len(items)})
    return {"items": items, "total": len(items)}


@router.post("/api/crimemap/imports/{import_id}/remove")
def remove(services: ServicesDep, user: Importer, import_id: int = PathParam(ge=1, le=MAX_ID)) -> dict:
    """Remove an import and all its incidents (audited as incidents_remove)."""

    try:
        return remove_import(services.store, import_id, user.username, user.role)
    except ImportNotFound as exc:
        raise ApiError(404, str(exc)) from None
