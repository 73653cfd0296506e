"""Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2): field names, the service
list and definitions, and rendering as JSON or XML, errors included.

Everything here speaks the specification's own field names. XML is built with
ElementTree (never by pasting strings), from the same plain data as the JSON:
a list under key K becomes <K> holding one element per item, named by
`_ITEM` (the specification's <services><service>, <attributes><attribute>...).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from fastapi.responses import Response

from vigie.config import Open311Config
from vigie.errors import VigieError
from vigie.i18n import N_, _, gettext
from vigie.times import UTC, from_iso, parse_time

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}
PREFIX = "/open311/"
CHANGESET = "2026-11-20T00:00:00Z"  # when this server's Open311 interface last changed (discovery)

# Moderation fits the specification's token flow: a request gets its public id once a person has checked it.
# Marked N_: translated in the language of the request when sent (gettext).
SERVICE_NOTICE = N_("Your report will be published once a moderator has checked it; follow it with this token.")
MEDIA_URL_NOTICE = N_(
    "The media_url was not kept: Vigie only publishes photos it holds and has blurred; send the photo itself as the multipart field 'media'."
)

# Attributes every service takes (the site file lists services, not attributes): both are about the place and
# the event, and both are optional, so a plain GeoReport client that sends none is served the same.
ATTRIBUTES: list[dict] = [
    {
        "variable": True,
        "code": "observed_at",
        "datatype": "datetime",
        "required": False,
        "datatype_description": "W3C date and time, e.g. 2026-11-20T21:30:00+01:00",
        "order": 1,
        "description": N_("When you saw the problem, if not just now."),
    },
    {
        "variable": True,
        "code": "recurrence",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": None,
        "order": 2,
        "description": N_("Does it happen again at this place?"),
        "values": [
            {"key": "once", "name": N_("Once")},
            {"key": "daily", "name": N_("Every day")},
            {"key": "weekly", "name": N_("Every week")},
            {"key": "often", "name": N_("Often, at no fixed time")},
        ],
    },
]

# Element names of list items in XML, by the list's own element name.
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all (control characters but tab, newline, carriage return; lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(VigieError):
    """A request refused in the specification's terms: an HTTP status and a description."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def config_of(site: Any) -> Open311Config:
    """The site's Open311 section, or the defaults when the app runs without a site file."""
    return getattr(site, "open311", None) or Open311Config()


def w3c(stored: str | None) -> str | None:
    """A stored UTC time ('...Z', microseconds) as a W3C datetime to the second."""
    return from_iso(stored).strftime("%Y-%m-%dT%H:%M:%SZ") if stored else None


class _BadW3C(Open311Error):
    def __init__(self, description: str) -> None:
        super().__init__(400, description)


def parse_w3c(name: str, text: str) -> datetime:
    """A W3C datetime (ISO 8601; a time without offset is taken as UTC), or a 400 naming the field."""
    return parse_time(text, name, naive=UTC, error=_BadW3C)


# --- services ---------------------------------------------------------------------------------------
def services(cfg: Open311Config) -> list[dict]:
    """GET services: the specification's fields, in its order."""
    return [
        {
            "service_code": s.code,
            # the default services' English is translated; a site file's own words are shown as written
            "service_name": gettext(s.name),
            "description": gettext(s.description) if s.description else s.description,
            "metadata": bool(ATTRIBUTES),
            "type": "batch",  # batch: a token first, the service_request_id once a moderator has accepted it
            "keywords": ", ".join(s.keywords),
            "group": gettext(s.group) if s.group else s.group,
        }
        for s in cfg.services
    ]


def service(cfg: Open311Config, code: str, status: int = 400):
    """The service of that code; `status` (400 for a request naming it, 404 for its definition) otherwise."""
    for s in cfg.services:
        if s.code == code:
            return s
    if not code:
        raise Open311Error(400, _("service_code is required"))
    known = ", ".join(s.code for s in cfg.services)
    raise Open311Error(
        status,
        _(
            "service_code {code} is not a service of this jurisdiction (services: {known})",
            code=repr(code),
            known=known,
        ),
    )


def definition(cfg: Open311Config, code: str) -> dict:
    """GET services/{service_code}: the service definition."""
    service(cfg, code, 404)
    return {"service_code": code, "attributes": [translated_attribute(a) for a in ATTRIBUTES]}


def translated_attribute(a: dict) -> dict:
    """An attribute's definition in the language of the request."""
    out = {**a, "description": gettext(a["description"])}
    if "values" in a:
        out["values"] = [{**v, "name": gettext(v["name"])} for v in a["values"]]
    return out


def check_attributes(given: dict[str, list[str]]) -> dict[str, Any]:
    """attribute[code]=value pairs checked against the definitions: {code: value} (a list for multivaluelist)."""
    known = {a["code"]: a for a in ATTRIBUTES}
    out: dict[str, Any] = {}
    for code, values in given.items():
        a = known.get(code)
        if a is None:
            raise Open311Error(
                400,
                _(
                    "attribute[{code}] is not an attribute of this service (attributes: {value})",
                    code=code,
                    value=", ".join(known),
                ),
            )
        values = [v.strip() for v in values if v.strip()]
        if not values:
            continue
        if a["datatype"] == "multivaluelist":
            keys = {v["key"] for v in a["values"]}
            bad = [v for v in values if v not in keys]
            if bad:
                raise Open311Error(
                    400,
                    _(
                        "attribute[{code}]: {value} is not one of {value2}",
                        code=code,
                        value=repr(bad[0]),
                        value2=", ".join(sorted(keys)),
                    ),
                )
            out[code] = values
            continue
        if len(values) > 1:
            raise Open311Error(
                400, _("attribute[{code}] takes one value, got {n_values}", code=code, n_values=len(values))
            )
        value = values[0]
        if a["datatype"] == "singlevaluelist" and value not in {v["key"] for v in a["values"]}:
            raise Open311Error(
                400,
                _(
                    "attribute[{code}]: {value} is not one of {value2}",
                    code=code,
                    value=repr(value),
                    value2=", ".join(v["key"] for v in a["values"]),
                ),
            )
        if a["datatype"] == "datetime":
            value = parse_w3c(f"attribute[{code}]", value).strftime("%Y-%m-%dT%H:%M:%SZ")
        if len(value) > 200:
            raise Open311Error(400, _("attribute[{code}] is longer than 200 characters", code=code))
        out[code] = value
    for a in ATTRIBUTES:
        if a["required"] and a["code"] not in out:
            raise Open311Error(400, _("attribute[{code}] is required for this service", code=a["code"]))
    return out


def discovery(cfg: Open311Config, base_url: str, contact: str) -> dict:
    """GET discovery: where this endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": gettext("No API key is needed: reports are moderated before they are published."),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url.rstrip("/") + "/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- rendering ---------------------------------------------------------------------------------------
def fmt_of(path: str) -> str:
    """The format a path asks for by its suffix; JSON when it names none we speak (errors must still be readable)."""
    return "xml" if path.lower().endswith(".xml") else "json"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(400, _("format {fmt} is not supported: use .json or .xml", fmt=repr(fmt)))
    return fmt


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, v in value.items():
            _fill(ET.SubElement(parent, key), v)
    elif isinstance(value, list):
        item = _ITEM.get(parent.tag, "item")
        for v in value:
            _fill(ET.SubElement(parent, item), v)
    elif value is not None:  # None: an empty element, as the specification's examples show
        parent.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(fmt: str, root: str, value: Any, status: int = 200, headers: dict | None = None) -> Response:
    """The value as JSON, or as XML under <root>, with the specification's media types."""
    if fmt == "xml":
        return Response(to_xml(root, value), status_code=status, media_type="text/xml; charset=utf-8", headers=headers)
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(path: str, status: int, description: str, retry_after: int | None = None) -> Response:
    """An error as the specification writes it: [{"code", "description"}] or <errors><error>...</error></errors>.
    A malformed request (FastAPI's 422) is the specification's 400."""
    status = 400 if status == 422 else status
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return render(fmt_of(path), "errors", [{"code": status, "description": description}], status, headers)


def is_open311(path: str) -> bool:
    return path.startswith(PREFIX)


# --- requests --------------------------------------------------------------------------------------
def request_fields(row: dict, cfg: Open311Config, agency: str, base_url: str) -> dict:
    """A public report (vigie.citizen.reports' public columns) under the specification's field names.
    Nothing else is ever published: no contact details, no moderation notes."""
    names = {s.code: gettext(s.name) for s in cfg.services}
    photo = f"{base_url.rstrip('/')}/open311/v2/media/{row['id']}.jpg" if row.get("has_photo") else None
    return {
        "service_request_id": row["id"],
        "status": row["status"],
        "status_notes": row["status_notes"] or None,
        "service_name": names.get(row["service_code"], row["service_code"]),
        "service_code": row["service_code"],
        "description": row["description"] or None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": w3c(row["requested_at"]),
        "updated_datetime": w3c(row["updated_at"]),
        "expected_datetime": None,
        "address": row["address_string"],
        "address_id": row["address_id"],
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": photo,
    }


def token_fields(token: str, state: dict) -> dict:
    """GET tokens/{token}: the specification's two fields, plus Vigie's `status`, `status_notes` and
    `moderation` (spec clients ignore fields they do not know)."""
    return {
        "service_request_id": state["service_request_id"],
        "token": token,
        "status": state["status"],
        "status_notes": state["status_notes"],
        "moderation": state["moderation"],
    }
