"""What the site file publishes: the maps' background (/api/map, logged in) and the public camera register
(/register, .json and .csv: no login), every camera with its purpose, retention, analysis and controller.

Retention and controller are the effective ones (the admin's stored settings over the site file's).
"""

from __future__ import annotations

import csv
import html
import io

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from vigie.describe.attribute_nets import LICENCE as ATTRIBUTE_LICENCE
from vigie.describe.backends.registry import backend_licence
from vigie.detect.registry import LICENCES as DETECTOR_LICENCES
from vigie.services import Services
from vigie.web.context import effective_site
from vigie.web.deps import CurrentUser, ServicesDep
from vigie.web.ui import HEADERS, content_security_policy, map_settings

router = APIRouter()

CSV_COLUMNS = [
    "id",
    "name",
    "commune",
    "group",
    "purpose",
    "lat",
    "lon",
    "retention_days",
    "detection_classes",
    "tracking",
    "detector_model",
    "detector_licence",
    "appearance_search",
    "appearance_model",
    "appearance_licence",
    "attributes",
    "attribute_licence",
    "privacy_masks",
    "controller",
]


@router.get("/api/map", tags=["cameras"])
def map_config(services: ServicesDep, user: CurrentUser) -> dict:
    """Background tiles for the maps (from the site file); tile_url null: a blank background."""

    return map_settings(services.site)


def _analytics_text(a: dict | None) -> str:
    """The register's analysis column in words."""
    if not a:
        return "-"
    parts = ["detects " + ", ".join(a["detection_classes"])]
    if a.get("detector_model"):
        parts[0] += f" (detector {a['detector_model']}: {a['detector_licence']})"
    if a.get("tracking"):
        parts.append("tracks movements")
    if a.get("appearance_search"):
        parts.append(
            f"clothing colour and appearance search (networks {a['appearance_model']}: {a['appearance_licence']})"
        )
    if a.get("attributes"):
        parts.append(f"describes {a['attributes']} (networks: {a['attribute_licence']})")
    n = a.get("privacy_masks", 0)
    parts.append(f"{n} privacy mask{'s' if n != 1 else ''}" if n else "no privacy mask")
    return "; ".join(parts)


def _attributes_text(a) -> str | None:
    """What the attribute networks describe on a camera with these analysis settings, in words."""
    what = []
    if a.attributes.people and "person" in a.classes:
        what.append("people's clothing and carried objects")
    if a.attributes.vehicles and set(a.classes) & {"car", "bus", "truck"}:
        what.append("vehicle type and colour")
    return " and ".join(what) or None


def register_rows(services: Services) -> list[dict]:
    if services.site is None:
        with services.store.read() as conn:
            cams = [
                dict(r)
                for r in conn.execute(
                    'SELECT id, name, lat, lon, commune, grp AS "group", purpose FROM cameras ORDER BY id'
                )
            ]
        return [{**c, "retention_days": None, "analytics": None, "controller": None} for c in cams]
    site = effective_site(services)  # retention and controller as the admin last set them
    rows = []
    for cam in site.cameras:
        a = site.analysis_for(cam.id)
        detector = site.detector_for(cam.id).type
        rows.append(
            {
                "id": cam.id,
                "name": cam.name,
                "commune": cam.commune,
                "group": cam.group,
                "purpose": cam.purpose,
                "lat": cam.lat,
                "lon": cam.lon,
                "retention_days": site.retention_for(cam.id),
                "analytics": {
                    "detection_classes": list(a.classes),
                    "tracking": True,
                    "detector_model": detector,
                    "detector_licence": DETECTOR_LICENCES[detector],
                    "appearance_search": a.search_crops > 0,
                    # Which trained networks describe people, and under which licences (their makers' terms).
                    "appearance_model": a.appearance.backend if a.search_crops > 0 else None,
                    "appearance_licence": backend_licence(a.appearance.backend) if a.search_crops > 0 else None,
                    # Clothing and carried objects, vehicle types: never sex, age, hair or the face.
                    "attributes": _attributes_text(a),
                    "attribute_licence": ATTRIBUTE_LICENCE if _attributes_text(a) else None,
                    "privacy_masks": len(cam.privacy_masks),
                },
                "controller": site.controller or site.name,
            }
        )
    return rows


@router.get("/register.json", tags=["register"])
def register_json(services: ServicesDep) -> dict:
    rows = register_rows(services)
    return {"site": getattr(services.site, "name", None), "cameras": rows, "total": len(rows)}


@router.get("/register.csv", tags=["register"], response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def register_csv(services: ServicesDep) -> Response:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for r in register_rows(services):
        a = r["analytics"] or {}
        flat = {
            **r,
            "detection_classes": " ".join(a.get("detection_classes", [])),
            "tracking": a.get("tracking"),
            "detector_model": a.get("detector_model"),
            "detector_licence": a.get("detector_licence"),
            "appearance_search": a.get("appearance_search"),
            "appearance_model": a.get("appearance_model"),
            "appearance_licence": a.get("appearance_licence"),
            "attributes": a.get("attributes"),
            "attribute_licence": a.get("attribute_licence"),
            "privacy_masks": a.get("privacy_masks"),
        }
        # free text a spreadsheet would run as a formula gets a leading quote
        w.writerow(
            [
                ("'" + v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
                for v in (flat.get(c) for c in CSV_COLUMNS)
            ]
        )
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/register", tags=["register"], response_class=HTMLResponse)
def register_html(services: ServicesDep) -> HTMLResponse:
    e = html.escape
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (
                r["name"],
                r["commune"] or "-",
                r["purpose"] or "-",
                f"{r['lat']:.5f}, {r['lon']:.5f}",
                f"{r['retention_days']} days" if r["retention_days"] is not None else "-",
                _analytics_text(r["analytics"]),
                r["controller"] or "-",
                r["id"],
            )
        )
        + "</tr>"
        for r in register_rows(services)
    )
    title = e(f"Public camera register - {getattr(services.site, 'name', 'Vigie')}")
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><link rel='stylesheet' href='/static/app.css'></head><body><main><h1>{title}</h1>"
        "<p class='muted'>Every camera of this network, why it films, how long what it records is kept and what "
        "automatic analysis runs on it. No face recognition and no identification are ever run; faces and licence "
        "plates are blurred in every picture shown or exported.</p>"
        "<table class='table register'><tr><th>Camera</th><th>Commune</th><th>Purpose</th><th>Position</th>"
        "<th>Retention</th><th>Analysis</th><th>Controller (contact)</th><th>Id</th></tr>"
        f"{rows}</table><p>Download: <a href='/register.json'>JSON</a> · <a href='/register.csv'>CSV</a></p>"
        "</main></body></html>"
    )

    return HTMLResponse(page, headers={**HEADERS, "Content-Security-Policy": content_security_policy()})
