"""What the site file publishes: the maps' background (/api/map, logged in) and the public camera register
(/register, .json and .csv: no login), every camera with its purpose, retention, analysis and controller.

Retention and controller are the effective ones (the admin's stored settings over the site file's).
"""

from __future__ import annotations

import csv
import html
import io

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigie.describe.attribute_nets import LICENCE as ATTRIBUTE_LICENCE
from vigie.describe.attributes import VEHICLE_CLASSES
from vigie.describe.backends.registry import backend_licence
from vigie.detect.registry import LICENCES as DETECTOR_LICENCES
from vigie.i18n import N_, _, current_language, known_language
from vigie.services import Services
from vigie.web.context import effective_site
from vigie.web.deps import CurrentUser, ServicesDep
from vigie.web.language import keep_choice
from vigie.web.ui import HEADERS, content_security_policy, language_switch, map_settings

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
    """The register's analysis column in words (in the reader's language)."""
    if not a:
        return "-"
    classes = ", ".join(_(CLASS_NAMES.get(c, c)) for c in a["detection_classes"])
    if a.get("detector_model"):
        parts = [
            _(
                "detects {classes} (detector {model}: {licence})",
                classes=classes,
                model=a["detector_model"],
                licence=a["detector_licence"],
            )
        ]
    else:
        parts = [_("detects {classes}", classes=classes)]
    if a.get("tracking"):
        parts.append(_("tracks movements"))
    if a.get("appearance_search"):
        parts.append(
            _(
                "clothing colour and appearance search (networks {model}: {licence})",
                model=a["appearance_model"],
                licence=a["appearance_licence"],
            )
        )
    if a.get("attributes"):
        parts.append(
            _("describes {what} (networks: {licence})", what=_(a["attributes"]), licence=a["attribute_licence"])
        )
    n = a.get("privacy_masks", 0)
    if n == 1:
        parts.append(_("1 privacy mask"))
    elif n:
        parts.append(_("{n} privacy masks", n=n))
    else:
        parts.append(_("no privacy mask"))
    return "; ".join(parts)


# The detector's classes as the register names them (the site file's words are English identifiers).
CLASS_NAMES = {
    "person": N_("person"),
    "bicycle": N_("bicycle"),
    "car": N_("car"),
    "motorcycle": N_("motorcycle"),
    "bus": N_("bus"),
    "truck": N_("truck"),
    "backpack": N_("backpack"),
    "handbag": N_("handbag"),
    "suitcase": N_("suitcase"),
}
ATTRIBUTE_TEXTS = {
    (True, False): N_("people's clothing and carried objects"),
    (False, True): N_("vehicle type and colour"),
    (True, True): N_("people's clothing and carried objects and vehicle type and colour"),
}


def _attributes_text(a) -> str | None:
    """What the attribute networks describe on a camera with these analysis settings, in English (the
    register's JSON and CSV); the HTML page translates it."""
    people = bool(a.attributes.people and "person" in a.classes)
    vehicles = bool(a.attributes.vehicles and set(a.classes) & set(VEHICLE_CLASSES))
    return ATTRIBUTE_TEXTS.get((people, vehicles))


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
def register_html(services: ServicesDep, request: Request) -> HTMLResponse:
    e = html.escape
    lang = current_language()  # the request's (vigie.web.language)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (
                r["name"],
                r["commune"] or "-",
                r["purpose"] or "-",
                f"{format_decimal(r['lat'], '0.00000', locale=lang)}, {format_decimal(r['lon'], '0.00000', locale=lang)}",
                _("{days} days", days=r["retention_days"]) if r["retention_days"] is not None else "-",
                _analytics_text(r["analytics"]),
                r["controller"] or "-",
                r["id"],
            )
        )
        + "</tr>"
        for r in register_rows(services)
    )
    title = e(_("Public camera register - {site}", site=getattr(services.site, "name", "Vigie")))
    heads = "".join(
        f"<th>{e(h)}</th>"
        for h in (
            _("Camera"),
            _("Commune"),
            _("Purpose of filming"),
            _("Position"),
            _("Retention"),
            _("Analysis"),
            _("Controller (contact)"),
            _("Id"),
        )
    )
    intro = _(
        "Every camera of this network, why it films, how long what it records is kept and what automatic analysis "
        "runs on it. No face recognition and no identification are ever run; faces and licence plates are blurred "
        "in every picture shown or exported."
    )
    download = _("Download:")
    page = (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><link rel='stylesheet' href='/static/app.css'></head><body>"
        f"<div class='lang-bar'>{language_switch(lang)}</div><main><h1>{title}</h1>"
        f"<p class='muted'>{e(intro)}</p>"
        f"<table class='table register'><tr>{heads}</tr>"
        f"{rows}</table><p><span>{e(download)}</span> <a href='/register.json'>JSON</a> · <a href='/register.csv'>CSV</a></p>"
        "</main></body></html>"
    )
    response = HTMLResponse(page, headers={**HEADERS, "Content-Security-Policy": content_security_policy()})
    if known_language(request.query_params.get("lang")):  # the user's choice, kept for the next pages
        keep_choice(request, response, services.store, lang)
    return response
