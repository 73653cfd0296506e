"""Open311 GeoReport v2, public (no login): residents report problems about places and events.

Endpoints under /open311/v2/, each in JSON or XML by its suffix: discovery,
services, service definitions, POST requests (a token first; the
service_request_id once a moderator has accepted the report), GET requests
(accepted reports only), tokens, and the sanitised photos of accepted
reports. Errors are the specification's lists (the app's exception handlers
render them for every path under /open311/).

What a sender gives about themselves (email, names, phone, device and account
ids) is kept for moderators and never appears in any answer here.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from vigie.citizen import abuse, photos, reports
from vigie.citizen import open311 as o
from vigie.config import Open311Config
from vigie.i18n import _
from vigie.services import Services
from vigie.web.context import MAX_ID, effective_site
from vigie.web.deps import ServicesDep

BODY_SLACK = 100_000  # bytes of form fields allowed besides the photo
DEFAULT_WINDOW = timedelta(days=90)  # GET requests without dates: the last 90 days (the specification's default)
MAX_IDS = 1000
LIST = 4000  # longest comma-separated list parameter
FIELD_LIMITS = {
    "address_string": 500,
    "address_id": 200,
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "phone": 50,
    "device_id": 200,
    "account_id": 200,
    "jurisdiction_id": 200,
    "service_code": 64,
    "lat": 40,
    "long": 40,
    "media_url": 2000,
}
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
HONEYPOT = "website"  # hidden in Vigie's own form: people never fill it in, form-filling robots do
router = APIRouter(tags=["open311"])


# --- what the schema publishes (the answers themselves are rendered by vigie.citizen.open311) -------------------
class ErrorItem(BaseModel):
    code: int = Field(description="The HTTP status.")
    description: str = Field(description="What is wrong, in words.")


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str = Field(description="realtime, batch or blackbox: here batch (a token, then an id once moderated).")
    keywords: str
    group: str


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue] | None = None


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class Endpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class TokenReply(BaseModel):
    token: str = Field(description="Follow the report with GET tokens/{token}.")
    service_notice: str
    account_id: None = None


class ServiceRequest(BaseModel):
    service_request_id: int
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class TokenState(BaseModel):
    service_request_id: int | None = Field(description="null until a moderator has accepted the report.")
    token: str
    status: str | None = Field(description="Vigie extension: open or closed, once public.")
    status_notes: str | None = Field(description="Vigie extension: the latest notes, or why the report was rejected.")
    moderation: str = Field(description="Vigie extension: pending, accepted, rejected or merged.")


_XML = {"text/xml": {"schema": {"type": "string"}}}
_ERROR_TEXT = {
    400: "Refused: a missing or bad value, an unknown service, spam (the GeoReport v2 error list)",
    401: "Never: these endpoints need no login",
    403: "Never: these endpoints need no role",
    404: "Unknown jurisdiction_id, request or token",
    409: "Never",
    410: "Never",
    413: "The request or its photo is too large",
    422: "Never: malformed requests are answered 400",
    429: "Too many reports from this address; see Retry-After",
    503: "Photos refused: this server has no blurrer",
}


def _responses(model, media: dict | None = None) -> dict:
    """200 as JSON (model) or XML, and every error in the specification's format (overriding the app's)."""
    ok = {"model": model, "content": _XML} if media is None else {"content": media}
    out: dict = {200: {"description": "The answer, in the format the suffix names", **ok}}
    for code, text in _ERROR_TEXT.items():
        out[code] = {"model": list[ErrorItem], "description": text, "content": _XML}
    out[429]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
    return out


_TEXT_FIELDS = {name: {"type": "string", "maxLength": n} for name, n in FIELD_LIMITS.items()}
_FORM = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        **_TEXT_FIELDS,
        "service_code": {
            "type": "string",
            "maxLength": 64,
            "examples": ["streetlight", "graffiti"],
            "description": "One of GET services (the site file's codes; the defaults are shown)",
        },
        "lat": {
            "type": "string",
            "maxLength": 40,
            "examples": ["43.8367"],
            "description": "WGS 84 latitude (lat and long, or address_string, or address_id)",
        },
        "long": {"type": "string", "maxLength": 40, "examples": ["4.3601"], "description": "WGS 84 longitude"},
        "description": {
            "type": "string",
            "examples": ["The street light at the corner of rue Nationale is out."],
            "description": "Describe the place and the problem; never name or describe a person.",
        },
        "attribute[observed_at]": {"type": "string", "description": "When it was seen (W3C date and time)"},
        "attribute[recurrence]": {"type": "string", "enum": ["once", "daily", "weekly", "often"]},
    },
}
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _FORM},
            "multipart/form-data": {
                "schema": {
                    **_FORM,
                    "properties": {
                        **_FORM["properties"],
                        "media": {
                            "type": "string",
                            "format": "binary",
                            "description": "A photo (JPEG, PNG or WebP); faces and plates are blurred before it is kept",
                        },
                    },
                }
            },
        },
    }
}


def _jurisdiction():
    return Query(None, max_length=200, description="Optional: the jurisdiction this server answers for.")


def _fmt():
    # Published as an enum, checked in the route: another suffix gets the specification's 400, naming the two.
    return Path(max_length=16, description="json or xml", json_schema_extra={"enum": list(o.FORMATS)})


def cfg(services: Services) -> Open311Config:
    return o.config_of(services.site)


def jurisdiction(c: Open311Config, value: str | None) -> None:
    if value is not None and value != c.jurisdiction_id:
        raise o.Open311Error(
            404,
            _(
                "jurisdiction_id {value} is not served here; this server answers for {jurisdiction_id}",
                value=repr(value),
                jurisdiction_id=repr(c.jurisdiction_id),
            ),
        )


def agency(services: Services) -> str:
    # The controller as the admin last set it, as the public register shows it.
    site = effective_site(services) if services.site is not None else None
    return getattr(site, "controller", None) or getattr(site, "name", None) or "Vigie"


@router.get("/open311/v2/discovery.{fmt}", response_class=Response, responses=_responses(Discovery))
def discovery(services: ServicesDep, fmt: str = _fmt()) -> Response:
    """Where this GeoReport v2 endpoint is and which formats it speaks."""
    fmt = o.check_format(fmt)
    return o.render(fmt, "discovery", o.discovery(cfg(services), services.public_url, agency(services)))


@router.get("/open311/v2/services.{fmt}", response_class=Response, responses=_responses(list[Service]))
def service_list(services: ServicesDep, fmt: str = _fmt(), jurisdiction_id: str | None = _jurisdiction()) -> Response:
    """The kinds of problems residents may report: about places and events, never about people."""
    fmt = o.check_format(fmt)
    jurisdiction(cfg(services), jurisdiction_id)
    return o.render(fmt, "services", o.services(cfg(services)))


@router.get(
    "/open311/v2/services/{service_code}.{fmt}",
    response_class=Response,
    responses=_responses(ServiceDefinition),
)
def service_definition(
    services: ServicesDep,
    service_code: str = Path(max_length=64),
    fmt: str = _fmt(),
    jurisdiction_id: str | None = _jurisdiction(),
) -> Response:
    """The attributes a service takes."""
    fmt = o.check_format(fmt)
    jurisdiction(cfg(services), jurisdiction_id)
    return o.render(fmt, "service_definition", o.definition(cfg(services), service_code))


@router.post(
    "/open311/v2/requests.{fmt}",
    response_class=Response,
    responses=_responses(list[TokenReply]),
    openapi_extra=_POST_BODY,
)
async def create_request(services: ServicesDep, request: Request, fmt: str = _fmt()) -> Response:
    """Report a problem. The answer is a token: the report is published, under a service_request_id,
    once a moderator has checked it."""
    fmt = o.check_format(fmt)
    c = cfg(services)
    form = await _read_form(request, c.max_photo_bytes + BODY_SLACK)
    address = request.client.host if request.client else "unknown"
    new, notice = _checked(form, c)
    media = await _media(form, c.max_photo_bytes)
    return await run_in_threadpool(_store_request, services, fmt, new, notice, media, address)


def _store_request(
    services: Services, fmt: str, new: reports.NewReport, notice: str, media: bytes | None, address: str
) -> Response:
    # What is refused here (RateLimited 429 with its Retry-After, PhotoError, ReportError) carries its status:
    # the app's handler answers it in the specification's format.
    c, now = cfg(services), datetime.now(timezone.utc)
    reports.precheck(services.store, address, new.description, now, c.reports_per_hour, c.reports_per_day)
    if media is not None:  # after the limits: a flood never reaches the costly blurring
        new.photo = photos.sanitise(
            media,
            max_bytes=c.max_photo_bytes,
            max_pixels=c.max_photo_pixels,
            blurrer=services.blurrer,
            lock=services.blur_lock,
        )
    _id, token = reports.submit(services.store, new, address, now, c.reports_per_hour, c.reports_per_day)
    return o.render(fmt, "service_requests", [{"token": token, "service_notice": notice, "account_id": None}])


@router.get("/open311/v2/requests.{fmt}", response_class=Response, responses=_responses(list[ServiceRequest]))
def request_list(
    services: ServicesDep,
    fmt: str = _fmt(),
    jurisdiction_id: str | None = _jurisdiction(),
    service_request_id: str | None = Query(
        None, max_length=LIST, description="Comma-separated ids; supersedes the other filters."
    ),
    service_code: str | None = Query(None, max_length=LIST, description="Comma-separated service codes."),
    start_date: str | None = Query(None, max_length=64, description="W3C date and time: requested at or after."),
    end_date: str | None = Query(None, max_length=64, description="W3C date and time: requested at or before."),
    status: str | None = Query(None, max_length=64, description="open, closed, or both comma-separated."),
) -> Response:
    """Published (accepted) reports, newest first: by default those of the last 90 days, at most 1000."""
    fmt = o.check_format(fmt)
    c = cfg(services)
    jurisdiction(c, jurisdiction_id)
    if service_request_id is not None:
        rows = reports.public_requests(services.store, ids=_ids(service_request_id))
    else:
        codes = _list(service_code)
        for code in codes:
            o.service(c, code)
        statuses = _list(status)
        bad = [s for s in statuses if s not in reports.STATUSES]
        if bad:
            raise o.Open311Error(400, _("status {value} is not one of open, closed", value=repr(bad[0])))
        start = o.parse_w3c("start_date", start_date) if start_date else None
        end = o.parse_w3c("end_date", end_date) if end_date else None
        if start is not None and end is not None and start > end:
            raise o.Open311Error(400, _("start_date is after end_date"))
        if start is None:  # the specification's default: the 90 days before end_date (or now)
            start = (
                max((end or datetime.now(timezone.utc)), datetime.min.replace(tzinfo=timezone.utc) + DEFAULT_WINDOW)
                - DEFAULT_WINDOW
            )
        rows = reports.public_requests(
            services.store, codes=codes or None, start=start, end=end, statuses=statuses or None
        )
    base = services.public_url
    return o.render(fmt, "service_requests", [o.request_fields(r, c, agency(services), base) for r in rows])


@router.get(
    "/open311/v2/requests/{service_request_id}.{fmt}",
    response_class=Response,
    responses=_responses(list[ServiceRequest]),
)
def one_request(
    services: ServicesDep,
    service_request_id: str = Path(max_length=40),
    fmt: str = _fmt(),
    jurisdiction_id: str | None = _jurisdiction(),
) -> Response:
    """One published report (a duplicate merged into another answers with that other one)."""
    fmt = o.check_format(fmt)
    jurisdiction(cfg(services), jurisdiction_id)
    rid = _id(service_request_id)
    row = reports.public_request(services.store, rid) if rid else None
    if row is None:
        raise o.Open311Error(
            404,
            _("no published service request has id {service_request_id}", service_request_id=repr(service_request_id)),
        )
    fields = o.request_fields(row, cfg(services), agency(services), services.public_url)
    return o.render(fmt, "service_requests", [fields])


@router.get("/open311/v2/tokens/{token}.{fmt}", response_class=Response, responses=_responses(list[TokenState]))
def token_state(
    services: ServicesDep,
    token: str = Path(max_length=100),
    fmt: str = _fmt(),
    jurisdiction_id: str | None = _jurisdiction(),
) -> Response:
    """The service_request_id a token has led to (null while the report waits for a moderator), with its
    moderation, status and notes (Vigie's extension fields)."""
    fmt = o.check_format(fmt)
    jurisdiction(cfg(services), jurisdiction_id)
    state = reports.by_token(services.store, token)
    if state is None:
        raise o.Open311Error(404, _("no report has this token"))
    return o.render(fmt, "service_requests", [o.token_fields(token, state)])


@router.get(
    "/open311/v2/media/{service_request_id}.jpg",
    response_class=Response,
    responses=_responses(None, {"image/jpeg": {}}),
)
def media(services: ServicesDep, service_request_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """The photo of a published report: re-encoded without metadata, faces and plates blurred."""
    data = reports.public_photo(services.store, service_request_id)
    if data is None:
        raise o.Open311Error(
            404,
            _("no published service request {service_request_id} has a photo", service_request_id=service_request_id),
        )
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    )


# --- reading and checking a report ------------------------------------------------------------------------------
async def _read_form(request: Request, limit: int) -> FormData:
    """The form, read into memory up to `limit` bytes: a larger body is refused (413) before it is read."""
    too_large = f"the request is larger than the {limit} bytes accepted (a photo of at most {limit - BODY_SLACK} bytes and the form)"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise o.Open311Error(413, too_large)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise o.Open311Error(
            400,
            _(
                "send the report as a form (application/x-www-form-urlencoded, or multipart/form-data with a photo), not {value}",
                value=ctype or "no content type",
            ),
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise o.Open311Error(413, too_large)

    async def receive():
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    # Parsed from memory: the body was already bounded, and the parser never sees more than it.
    return await Request(request.scope, receive).form(max_files=1, max_fields=100, max_part_size=limit)


def _text(form: FormData, name: str) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise o.Open311Error(400, _("{name} is given {n_values} times", name=name, n_values=len(values)))
    if not values:
        return None
    value = values[0]
    if not isinstance(value, str):
        raise o.Open311Error(400, _("{name} must be a text field, not a file", name=name))
    reason = abuse.control_characters(name, value)
    if reason:
        raise o.Open311Error(400, reason)
    value = value.strip()
    limit = FIELD_LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise o.Open311Error(400, _("{name} is longer than {limit} characters", name=name, limit=limit))
    return value or None


def _coordinate(form: FormData, name: str, bound: float) -> float | None:
    text = _text(form, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise o.Open311Error(400, _("{name} {text} is not a number", name=name, text=repr(text))) from None
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise o.Open311Error(
            400, _("{name} {text} is outside -{bound:g}..{bound:g}", name=name, text=repr(text), bound=bound)
        )
    return value


def _checked(form: FormData, c: Open311Config) -> tuple[reports.NewReport, str]:
    """The report the form describes, every text field checked, cheapest checks first; (report, notice)."""
    jurisdiction(c, _text(form, "jurisdiction_id"))
    if _text(form, HONEYPOT):
        raise o.Open311Error(400, _("the report looks automated: a field people never fill in was filled in"))
    code = _text(form, "service_code") or ""
    o.service(c, code)
    lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    if (lat is None) != (lon is None):
        raise o.Open311Error(400, _("give both lat and long (or an address_string or address_id)"))
    address_string, address_id = _text(form, "address_string"), _text(form, "address_id")
    if lat is None and not address_string and not address_id:
        raise o.Open311Error(400, _("a location is required: lat and long, or address_string, or address_id"))
    description = _description(form, "description", c.max_description_chars)
    reason = abuse.spam_reason(description)
    if reason:
        raise o.Open311Error(400, _("the report looks like spam: {reason}", reason=reason))
    attributes: dict[str, list[str]] = {}
    for key in form.keys():
        m = _ATTRIBUTE.match(key)
        if m:
            values = form.getlist(key)
            if any(not isinstance(v, str) for v in values):
                raise o.Open311Error(400, _("{key} must be a text field, not a file", key=key))
            attributes.setdefault(m.group(1), []).extend(values)
        elif key.startswith("attribute"):
            raise o.Open311Error(400, _("{key} is not an attribute field (attribute[code]=value)", key=repr(key)))
    for values in attributes.values():
        for v in values:
            if abuse.control_characters("attribute", v):
                raise o.Open311Error(400, _("an attribute contains control characters"))
    contact = {f: _text(form, f) for f in reports.CONTACT_FIELDS}
    if contact["email"] and "@" not in contact["email"]:
        raise o.Open311Error(400, _("email {email} is not an email address", email=repr(contact["email"])))
    notice = _(o.SERVICE_NOTICE) + (" " + _(o.MEDIA_URL_NOTICE) if _text(form, "media_url") else "")
    new = reports.NewReport(
        service_code=code,
        lat=lat,
        lon=lon,
        address_string=address_string,
        address_id=address_id,
        description=description,
        attributes=o.check_attributes(attributes),
        contact=contact,
    )
    return new, notice


def _description(form: FormData, name: str, limit: int) -> str:
    text = _text(form, name) or ""  # optional in GeoReport v2: the service and the place may say it all
    if len(text) > limit:
        raise o.Open311Error(
            400,
            _(
                "the description is {n_text} characters long; at most {limit} are accepted",
                n_text=len(text),
                limit=limit,
            ),
        )
    return text


async def _media(form: FormData, max_bytes: int) -> bytes | None:
    """The photo's bytes (at most one past the limit are ever read), or None without one."""
    parts = form.getlist("media")
    if not parts:
        return None
    if len(parts) > 1:
        raise o.Open311Error(400, _("send one photo per report"))
    part = parts[0]
    if not isinstance(part, UploadFile):
        raise o.Open311Error(400, _("media must be a file (a photo sent as multipart/form-data)"))
    await part.seek(0)
    data = await part.read(max_bytes + 1)
    if not data:
        return None  # a form's empty file input: no photo
    photos.check_size(len(data), max_bytes)  # PhotoError 413, answered in the specification's format
    return data


def _list(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _id(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None


def _ids(text: str) -> list[int]:
    out = []
    for part in _list(text):
        i = _id(part)
        if i is None:
            raise o.Open311Error(400, _("service_request_id {part} is not a service request id", part=repr(part)))
        out.append(i)
    if len(out) > MAX_IDS:
        raise o.Open311Error(
            400, _("at most {max_ids} service_request_id values are accepted at once", max_ids=MAX_IDS)
        )
    return out
