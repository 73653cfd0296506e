"""Citizen reports through Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2), public, no login.

Conformance, built from the specification: every endpoint in JSON and XML with
its field names and types, the token flow of moderated reports, the GET
requests filters and the 90-day default, errors in both formats. Then what a
public endpoint must withstand: contact details never published, unmoderated
reports never public, hostile uploads (too large, not an image, an image bomb,
EXIF GPS), faces blurred before storage, rate limits, spam; and retention.
"""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from argon2 import PasswordHasher
from builders import english_site
from fakes import FakeBlurrer
from fastapi.testclient import TestClient
from PIL import Image

from vigie.accounts import users
from vigie.citizen import reports
from vigie.config import CameraConfig, Open311Config
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso
from vigie.web.app import create_app

JURISDICTION = "nimes.fr"
SITE = english_site(
    name="Nîmes test",
    controller="Ville de Nîmes, dpo@nimes.example",
    open311=Open311Config(
        jurisdiction_id=JURISDICTION,
        reports_per_hour=5,
        reports_per_day=20,
        max_description_chars=500,
        max_photo_bytes=2_000_000,
        max_photo_pixels=4_000_000,
    ),
    cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36)],
)
CODES = [s.code for s in SITE.open311.services]
BASE = "/open311/v2"
HERE = {"lat": "43.8367", "long": "4.3601"}
# Contact details planted in reports: none of them may ever come out of a public endpoint.
CONTACT = {
    "email": "jeanne.planted@example.org",
    "first_name": "Jeannequiplante",
    "last_name": "Dupontplanted",
    "phone": "+33 6 12 34 56 78",
    "device_id": "device-planted-4242",
    "account_id": "account-planted-777",
}
SERVICE_FIELDS = {
    "service_code": str,
    "service_name": str,
    "description": str,
    "metadata": bool,
    "type": str,
    "keywords": str,
    "group": str,
}
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    store = SQLiteStore(tmp_path)
    blurrer = FakeBlurrer(paint="invert")
    app = create_app(Services(store=store, site=SITE, blurrer=blurrer))
    yield {"store": store, "app": app, "blurrer": blurrer, "tmp": tmp_path}
    store.close()


_addresses = iter(f"198.51.100.{i}" for i in range(1, 255))


def client(env, address: str | None = None) -> TestClient:
    """A client from its own address (so the rate limits of one test do not meet another's)."""
    return TestClient(env["app"], client=(address or next(_addresses), 50000))


def post(c, fmt="json", files=None, **fields):
    data = {
        "service_code": "streetlight",
        **HERE,
        "description": "The street light at the corner of rue Nationale is out.",
        **fields,
    }
    data = {k: v for k, v in data.items() if v is not None}
    return c.post(f"{BASE}/requests.{fmt}", data=data, files=files)


def token_of(r) -> str:
    assert r.status_code == 200, r.text
    [reply] = r.json()
    return reply["token"]


def report_id(env, token: str) -> int:
    with env["store"].read() as conn:
        return conn.execute(
            "SELECT id FROM citizen_reports WHERE token_hash = ?", (reports.token_hash(token),)
        ).fetchone()[0]


def decide(env, token: str, decision: str = "accept", **kw) -> int:
    rid = report_id(env, token)
    reports.decide(env["store"], rid, decision, "moderator", "moderator", datetime.now(timezone.utc), **kw)
    return rid


def submit_accepted(env, c=None, **fields) -> int:
    return decide(env, token_of(post(c or client(env), **fields)))


def xml(r) -> ET.Element:
    assert r.headers["content-type"].startswith("text/xml"), r.headers["content-type"]
    return ET.fromstring(r.content)


def jpeg(size=(64, 48), colour=(200, 80, 40), **save) -> bytes:
    img = Image.new("RGB", size, colour)
    img.paste((20, 20, 20), (0, 0, size[0] // 4, size[1] // 4))
    buf = io.BytesIO()
    img.save(buf, "JPEG", **save)
    return buf.getvalue()


def photo_file(data: bytes, name="photo.jpg", ctype="image/jpeg"):
    return {"media": (name, data, ctype)}


# --- discovery and services --------------------------------------------------------------------------------------
def test_discovery_in_both_formats(env):
    c = client(env)
    d = c.get(f"{BASE}/discovery.json").json()
    assert set(d) == {"changeset", "contact", "key_service", "endpoints"}
    [ep] = d["endpoints"]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2") and ep["type"] == "production"
    assert set(ep["formats"]) == {"text/xml", "application/json"}
    root = xml(c.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ep["formats"]
    assert root.findtext("endpoints/endpoint/specification") == ep["specification"]


def test_the_contact_is_the_controller_the_admin_last_set(env):
    from vigie.settings import change

    change(env["store"], SITE, "controller", "Ville de Nîmes, DPO: dpo@nimes.example", "adm", "admin")
    c = client(env)
    assert c.get(f"{BASE}/discovery.json").json()["contact"] == "Ville de Nîmes, DPO: dpo@nimes.example"
    rid = submit_accepted(env, c)
    assert (
        c.get(f"{BASE}/requests/{rid}.json").json()[0]["agency_responsible"] == "Ville de Nîmes, DPO: dpo@nimes.example"
    )


def test_services_in_both_formats(env):
    c = client(env)
    r = c.get(f"{BASE}/services.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    services = r.json()
    assert [s["service_code"] for s in services] == CODES
    for s in services:
        assert list(s) == list(SERVICE_FIELDS)  # the specification's fields, in its order
        assert all(isinstance(s[k], t) for k, t in SERVICE_FIELDS.items())
        assert s["type"] in ("realtime", "batch", "blackbox") and s["metadata"] is True
    root = xml(c.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    assert [e.findtext("service_code") for e in root.findall("service")] == CODES
    first = root.find("service")
    assert [child.tag for child in first] == list(SERVICE_FIELDS)
    assert first.findtext("metadata") == "true" and first.findtext("type") == "batch"
    assert c.get(f"{BASE}/services.json", params={"jurisdiction_id": JURISDICTION}).status_code == 200


def test_service_definition_in_both_formats(env):
    c = client(env)
    d = c.get(f"{BASE}/services/nuisance.json").json()
    assert d["service_code"] == "nuisance" and d["attributes"]
    for a in d["attributes"]:
        assert {"variable", "code", "datatype", "required", "datatype_description", "order", "description"} <= set(a)
        assert a["datatype"] in ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
        assert isinstance(a["variable"], bool) and isinstance(a["required"], bool) and isinstance(a["order"], int)
        if a["datatype"].endswith("valuelist"):
            assert a["values"] and all(set(v) == {"key", "name"} for v in a["values"])
    root = xml(c.get(f"{BASE}/services/nuisance.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "nuisance"
    attrs = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attrs] == [a["code"] for a in d["attributes"]]
    listed = [a for a in attrs if a.findtext("datatype") == "singlevaluelist"][0]
    assert [v.findtext("key") for v in listed.findall("values/value")] == ["once", "daily", "weekly", "often"]


# --- posting and following a report --------------------------------------------------------------------------------
def test_post_with_lat_long_gives_a_token_then_an_id_once_accepted(env):
    c = client(env)
    r = post(c, **{"attribute[recurrence]": "weekly", "attribute[observed_at]": "2026-11-19T21:30:00+01:00"})
    [reply] = r.json()
    assert "service_request_id" not in reply and set(reply) == {"token", "service_notice", "account_id"}
    assert "moderator" in reply["service_notice"] and reply["account_id"] is None
    token = reply["token"]
    [state] = c.get(f"{BASE}/tokens/{token}.json").json()
    assert state == {
        "service_request_id": None,
        "token": token,
        "status": None,
        "status_notes": None,
        "moderation": "pending",
    }
    assert c.get(f"{BASE}/requests.json").json() == []  # pending: not public
    rid = decide(env, token)
    [state] = c.get(f"{BASE}/tokens/{token}.json").json()
    assert state["service_request_id"] == rid and state["moderation"] == "accepted" and state["status"] == "open"
    root = xml(c.get(f"{BASE}/tokens/{token}.xml"))
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == str(rid)
    assert root.findtext("request/token") == token
    [req] = c.get(f"{BASE}/requests/{rid}.json").json()
    assert list(req) == list(REQUEST_FIELDS)
    assert (
        req["service_request_id"] == rid
        and req["service_code"] == "streetlight"
        and req["service_name"] == "Street light out"
    )
    assert req["status"] == "open" and req["lat"] == pytest.approx(43.8367) and req["long"] == pytest.approx(4.3601)
    assert req["agency_responsible"] == SITE.controller and req["media_url"] is None
    for key in ("requested_datetime", "updated_datetime"):  # W3C: ISO 8601 with an offset
        assert datetime.fromisoformat(req[key].replace("Z", "+00:00")).tzinfo is not None
    with env["store"].read() as conn:
        attrs = conn.execute("SELECT attributes FROM citizen_reports WHERE id = ?", (rid,)).fetchone()[0]
    assert '"observed_at": "2026-11-19T20:30:00Z"' in attrs and '"recurrence": "weekly"' in attrs


def test_post_with_an_address_in_xml(env):
    c = client(env)
    r = post(
        c,
        "xml",
        lat=None,
        long=None,
        address_string="12 rue de la Madeleine, Nîmes",
        service_code="graffiti",
        description="Tags <b>BOOM</b> & more on the wall of the covered market, Madeleine side.",
    )
    root = xml(r)
    assert r.status_code == 200 and root.tag == "service_requests"
    token = root.findtext("request/token")
    assert token and root.findtext("request/service_notice") and root.find("request/service_request_id") is None
    rid = decide(env, token)
    root = xml(c.get(f"{BASE}/requests/{rid}.xml"))
    req = root.find("request")
    assert [e.tag for e in req] == list(REQUEST_FIELDS)
    assert req.findtext("address") == "12 rue de la Madeleine, Nîmes" and req.findtext("lat") == ""
    assert req.findtext("service_request_id") == str(rid) and req.findtext("status") == "open"
    assert req.findtext("description") == "Tags <b>BOOM</b> & more on the wall of the covered market, Madeleine side."


def test_merged_report_token_leads_to_the_other_request(env):
    c = client(env)
    first = submit_accepted(env, c)
    token = token_of(post(c, description="Same street light, still out tonight near rue Nationale."))
    rid = decide(env, token, "merge", merge_into=first)
    [state] = c.get(f"{BASE}/tokens/{token}.json").json()
    assert state["service_request_id"] == first and state["moderation"] == "merged"
    [req] = c.get(f"{BASE}/requests/{rid}.json").json()  # its own id leads to the report it duplicates
    assert req["service_request_id"] == first
    assert [r["service_request_id"] for r in c.get(f"{BASE}/requests.json").json()] == [first]


def test_pending_and_rejected_reports_are_never_public(env):
    c = client(env)
    pending = report_id(
        env, token_of(post(c, description="Broken bench in the Jardins de la Fontaine.", service_code="damage"))
    )
    rejected_token = token_of(
        post(
            c,
            description="Rubbish bags left by the bins of rue Roussy.",
            service_code="dumping",
            files=photo_file(jpeg()),
        )
    )
    rejected = decide(env, rejected_token, "reject", reason="names a neighbour")
    for rid in (pending, rejected):
        for fmt in ("json", "xml"):
            assert c.get(f"{BASE}/requests/{rid}.{fmt}").status_code == 404
        assert c.get(f"{BASE}/media/{rid}.jpg").status_code == 404
    assert c.get(f"{BASE}/requests.json", params={"service_request_id": f"{pending},{rejected}"}).json() == []
    assert c.get(f"{BASE}/requests.json").json() == []
    [state] = c.get(f"{BASE}/tokens/{rejected_token}.json").json()
    assert (
        state["moderation"] == "rejected"
        and state["service_request_id"] is None
        and state["status_notes"] == "names a neighbour"
    )


def test_contact_details_never_appear_in_a_public_answer(env):
    c = client(env)
    r = post(c, files=photo_file(jpeg()), **CONTACT)
    token = token_of(r)
    rid = decide(env, token)
    reports.update_status(
        env["store"], rid, "closed", "Repaired on Tuesday.", "moderator", "moderator", datetime.now(timezone.utc)
    )
    answers = [r]
    for fmt in ("json", "xml"):
        answers += [
            c.get(f"{BASE}/requests.{fmt}"),
            c.get(f"{BASE}/requests/{rid}.{fmt}"),
            c.get(f"{BASE}/tokens/{token}.{fmt}"),
            c.get(f"{BASE}/requests.{fmt}", params={"service_request_id": str(rid)}),
            c.get(f"{BASE}/services.{fmt}"),
            c.get(f"{BASE}/discovery.{fmt}"),
        ]
    answers.append(c.get(f"{BASE}/media/{rid}.jpg"))
    assert all(a.status_code == 200 for a in answers)
    for a in answers:
        text = a.content.decode("utf-8", "replace")
        for value in CONTACT.values():
            assert value not in text, f"{value} in {a.url}"
        assert "email" not in text and "phone" not in text
    [req] = c.get(f"{BASE}/requests/{rid}.json").json()
    assert req["status"] == "closed" and req["status_notes"] == "Repaired on Tuesday."
    # ... while the store keeps them for moderators
    assert reports.get_report(env["store"], rid)["contact"] == CONTACT


# --- GET requests: filters and defaults ------------------------------------------------------------------------------
def _set_times(env, rid, when: datetime):
    env["store"].write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET requested_at = ?, updated_at = ? WHERE id = ?", (iso(when), iso(when), rid)
        )
    ).result()


def test_get_requests_filters_and_the_90_day_default(env):
    c = client(env)
    now = datetime.now(timezone.utc)
    a = submit_accepted(env, c, service_code="streetlight", description="Light out, place aux Herbes.")
    b = submit_accepted(env, c, service_code="graffiti", description="Tags on the Porte Auguste.")
    old = submit_accepted(env, c, service_code="graffiti", description="Tags on the tram shelter, Gare.")
    d = submit_accepted(env, c, service_code="dumping", description="Mattress left rue Fresque.")
    _set_times(env, a, now - timedelta(days=2))
    _set_times(env, b, now - timedelta(days=10))
    _set_times(env, old, now - timedelta(days=120))
    reports.update_status(env["store"], d, "closed", "Collected.", "moderator", "moderator", now)

    def ids(**params):
        r = c.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert ids() == [d, a, b]  # newest first; the 120-day-old one is outside the default 90 days
    assert ids(service_request_id=f"{old},{a}") == [old, a]  # ids supersede the date window
    assert ids(service_code="graffiti") == [b]
    assert ids(service_code="graffiti,dumping") == [d, b]
    assert ids(status="closed") == [d]
    assert ids(status="open") == [a, b]
    assert ids(start_date=iso(now - timedelta(days=200))) == [d, a, b, old]
    assert ids(start_date=iso(now - timedelta(days=200)), end_date=(now - timedelta(days=5)).isoformat()) == [b, old]
    assert ids(end_date=(now - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S+02:00")) == [b]  # 90 days before end_date
    assert ids(end_date="0001-01-02T00:00:00Z") == []  # 90 days before it would be before the calendar's first day
    root = xml(c.get(f"{BASE}/requests.xml", params={"service_code": "graffiti"}))
    assert [e.findtext("service_request_id") for e in root.findall("request")] == [str(b)]
    for bad in (
        {"status": "pending"},
        {"service_code": "nope"},
        {"start_date": "yesterday"},
        {"start_date": iso(now), "end_date": iso(now - timedelta(days=1))},
        {"service_request_id": "12,abc"},
    ):
        r = c.get(f"{BASE}/requests.json", params=bad)
        assert r.status_code == 400 and r.json()[0]["code"] == 400, bad


def test_get_requests_answers_at_most_1000(env):
    at = iso(datetime.now(timezone.utc))
    rows = [("streetlight", 43.8, 4.3, at, at, "accepted", at, f"t{i}", "c") for i in range(1005)]
    env["store"].write(
        lambda conn: conn.executemany(
            "INSERT INTO citizen_reports (service_code, lat, lon, requested_at, updated_at, moderation, moderated_at, token_hash,"
            " client_hash) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
    ).result()
    assert len(client(env).get(f"{BASE}/requests.json").json()) == 1000


# --- errors ----------------------------------------------------------------------------------------------------------
def _error(r, status: int, fmt: str) -> str:
    assert r.status_code == status, r.text
    if fmt == "json":
        [e] = r.json()
        assert set(e) == {"code", "description"} and e["code"] == status
        return e["description"]
    root = xml(r)
    assert root.tag == "errors" and len(root.findall("error")) == 1
    assert root.findtext("error/code") == str(status)
    return root.findtext("error/description")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_in_the_specification_format(env, fmt):
    c = client(env)
    assert "service_code 'nope'" in _error(post(c, fmt, service_code="nope"), 400, fmt)
    assert "service_code is required" in _error(post(c, fmt, service_code=None), 400, fmt)
    assert "location is required" in _error(post(c, fmt, lat=None, long=None), 400, fmt)
    assert "both lat and long" in _error(post(c, fmt, long=None), 400, fmt)
    assert "outside -90..90" in _error(post(c, fmt, lat="91"), 400, fmt)
    assert "outside -180..180" in _error(post(c, fmt, long="-180.5"), 400, fmt)
    assert "not a number" in _error(post(c, fmt, lat="nan-ish"), 400, fmt)
    assert "not served here" in _error(post(c, fmt, jurisdiction_id="paris.fr"), 404, fmt)
    assert "not served here" in _error(
        c.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "paris.fr"}), 404, fmt
    )
    assert "not served here" in _error(c.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "x"}), 404, fmt)
    assert "no published service request" in _error(c.get(f"{BASE}/requests/999.{fmt}"), 404, fmt)
    assert "no published service request" in _error(c.get(f"{BASE}/requests/abc.{fmt}"), 404, fmt)
    assert "no report has this token" in _error(c.get(f"{BASE}/tokens/nothing.{fmt}"), 404, fmt)
    assert "'nope'" in _error(c.get(f"{BASE}/services/nope.{fmt}"), 404, fmt)
    assert "attribute[colour]" in _error(post(c, fmt, **{"attribute[colour]": "red"}), 400, fmt)
    assert "not one of" in _error(post(c, fmt, **{"attribute[recurrence]": "hourly"}), 400, fmt)
    assert "control characters" in _error(post(c, fmt, description="Light out\x00 here"), 400, fmt)
    assert "not found" in _error(c.get(f"/open311/v2/nothing.{fmt}"), 404, fmt)
    # a malformed request is the specification's 400, never FastAPI's 422
    assert "field" in _error(c.get(f"{BASE}/requests.{fmt}", params={"status": "x" * 100}), 400, fmt)


def test_unknown_format_is_a_400_in_json(env):
    c = client(env)
    for r in (c.get(f"{BASE}/services.yaml"), post(c, "html")):
        assert r.status_code == 400 and "use .json or .xml" in r.json()[0]["description"]


def test_a_json_body_is_refused_naming_the_form(env):
    r = client(env).post(f"{BASE}/requests.json", json={"service_code": "streetlight", **HERE})
    assert r.status_code == 400 and "as a form" in r.json()[0]["description"]


def test_api_errors_keep_their_own_format(env):
    r = TestClient(env["app"]).get("/api/reports")
    assert r.status_code == 401 and "not logged in" in r.json()["error"]


# --- hostile uploads ---------------------------------------------------------------------------------------------------
def test_a_30_mb_upload_is_refused_with_413_unread(env):
    r = post(client(env), files=photo_file(b"\xff\xd8" + b"\0" * 30_000_000))
    assert r.status_code == 413
    assert "larger than" in r.json()[0]["description"] and "bytes" in r.json()[0]["description"]
    assert env["blurrer"].calls == []


def test_a_photo_just_over_its_limit_is_413(env):
    r = post(client(env), files=photo_file(b"\xff\xd8" + b"\0" * 2_000_000))  # the body fits; the photo does not
    assert r.status_code == 413 and "the photo is larger than the 2000000 bytes" in r.json()[0]["description"]


def test_a_huge_form_without_photo_is_413(env):
    r = post(client(env), description="x" * 2_200_000)
    assert r.status_code == 413 and "request is larger" in r.json()[0]["description"]


def test_a_text_file_named_photo_jpg_is_refused(env):
    r = post(client(env), files=photo_file(b"this is not a photo at all\n" * 20))
    assert r.status_code == 400 and r.json()[0]["description"] == "the photo is not a JPEG, PNG or WebP image"
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "GIF")  # an image, but not one of the three formats
    r = post(client(env), files=photo_file(buf.getvalue(), "photo.gif", "image/gif"))
    assert r.status_code == 400 and "not a JPEG, PNG or WebP" in r.json()[0]["description"]


def _png_bomb(side: int = 30000) -> bytes:
    """A real PNG bomb: side x side one-bit pixels, all zero, a few hundred kB compressed (900 megapixels decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\0" * (1 + (side + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def test_an_image_bomb_is_refused_before_decoding(env):
    bomb = _png_bomb()
    assert len(bomb) < 2_000_000
    r = post(client(env), files=photo_file(bomb, "photo.png", "image/png"))
    assert r.status_code == 400
    text = r.json()[0]["description"]
    assert "900000000 pixels" in text and "more than the 4000000 accepted" in text and "image bomb" in text
    assert env["blurrer"].calls == []  # never decoded, never blurred
    r = post(client(env), files=photo_file(_png_bomb(2500), "photo.png", "image/png"))  # under Pillow's own limit: ours
    assert (
        r.status_code == 400
        and "declares 2500x2500 pixels, more than the 4000000 accepted" in r.json()[0]["description"]
    )
    assert env["blurrer"].calls == []


def test_a_truncated_image_is_refused(env):
    r = post(client(env), files=photo_file(jpeg((400, 300))[:300]))
    assert r.status_code == 400 and "could not be decoded" in r.json()[0]["description"]


def test_exif_gps_is_gone_and_orientation_applied(env):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "PlantedCameraMaker"
    exif[0x8825] = {1: "N", 2: (43.0, 50.0, 12.5), 3: "E", 4: (4.0, 21.0, 36.0)}  # GPS IFD
    original = jpeg((80, 40), exif=exif.tobytes(), icc_profile=b"\0" * 128, comment=b"planted comment")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload does carry a GPS position
    c = client(env)
    rid = decide(env, token_of(post(c, files=photo_file(original))))
    [req] = c.get(f"{BASE}/requests/{rid}.json").json()
    assert req["media_url"].endswith(f"/open311/v2/media/{rid}.jpg")
    r = c.get(f"{BASE}/media/{rid}.jpg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    stored = r.content
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and img.size == (40, 80)  # upright: the orientation was applied, then dropped
    assert (
        len(img.getexif()) == 0
        and "exif" not in img.info
        and "icc_profile" not in img.info
        and "comment" not in img.info
    )
    assert b"Exif" not in stored and b"PlantedCameraMaker" not in stored and b"planted comment" not in stored
    assert env["blurrer"].calls == [
        {"shape": (80, 40, 3), "vehicle_boxes": [(0, 0, 40, 80)], "person_boxes": None}
    ]  # text looked for everywhere
    assert stored == reports.photo(env["store"], rid)  # the stored copy is the sanitised one; the upload is not kept


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_reencoded_as_jpeg_and_downscaled(env, fmt):
    buf = io.BytesIO()
    Image.new("RGBA", (3000, 1000), (10, 200, 30, 128)).save(buf, fmt)
    c = client(env)
    rid = decide(env, token_of(post(c, files=photo_file(buf.getvalue(), f"p.{fmt.lower()}", f"image/{fmt.lower()}"))))
    img = Image.open(io.BytesIO(c.get(f"{BASE}/media/{rid}.jpg").content))
    assert img.format == "JPEG" and img.mode == "RGB" and img.size == (2048, 683)


def test_the_fake_blurrer_ran_before_storage(env):
    c = client(env)
    rid = decide(env, token_of(post(c, files=photo_file(jpeg((64, 48), (200, 200, 200))))))
    img = np.asarray(Image.open(io.BytesIO(reports.photo(env["store"], rid))).convert("L"), np.int16)
    assert img[:24, :32].mean() < 100 < img[24:, 32:].mean()  # the inverted quarter is what was stored


def test_without_a_blurrer_photos_are_refused_but_reports_accepted(tmp_path):
    store = SQLiteStore(tmp_path)
    try:
        c = TestClient(create_app(Services(store=store, site=SITE, blurrer=None)), client=("192.0.2.50", 1))
        r = post(c, files=photo_file(jpeg()))
        assert r.status_code == 503 and "no blurrer" in r.json()[0]["description"]
        assert token_of(post(c))
    finally:
        store.close()


@pytest.mark.slow
def test_a_real_face_is_blurred_before_storage(tmp_path, pets09):
    """A real photo of a person (a PETS 2009 pedestrian, upscaled as a phone would send it) through the real
    Blurrer: the face region of the stored photo has lost its detail; the rest is the same picture."""
    import cv2

    from vigie.errors import ModelError
    from vigie.privacy.blur import Blurrer, face_model_path, plate_model_path

    try:
        face_model_path(), plate_model_path()
    except ModelError as exc:
        pytest.skip(str(exc))
    blurrer = Blurrer()
    gt = np.loadtxt(pets09 / "gt.txt", delimiter=",")
    cap = cv2.VideoCapture(str(pets09 / "vtest.avi"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    photo = face = None
    for _f, _id, x, y, w, h, *_ in gt[gt[:, 0] == 1]:
        crop = frame[max(0, int(y)) : int(y + h), max(0, int(x)) : int(x + w)]
        big = cv2.resize(crop, (crop.shape[1] * 5, crop.shape[0] * 5), interpolation=cv2.INTER_CUBIC)
        faces = [
            r for r in blurrer.blur(big, vehicle_boxes=[(0, 0, big.shape[1], big.shape[0])])[1] if r.kind == "face"
        ]
        if faces:
            photo, face = big, faces[0]
            break
    assert photo is not None, "no face found in the PETS09 pedestrians of frame 1"
    sent = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    store = SQLiteStore(tmp_path)
    try:
        env = {"store": store}
        c = TestClient(create_app(Services(store=store, site=SITE, blurrer=blurrer)), client=("192.0.2.60", 1))
        rid = decide(
            env, token_of(post(c, description="Graffiti on the wall behind the bus stop.", files=photo_file(sent)))
        )
        stored = cv2.imdecode(np.frombuffer(reports.photo(store, rid), np.uint8), cv2.IMREAD_COLOR)
    finally:
        store.close()
    assert stored.shape == photo.shape
    x1, y1, x2, y2 = (int(round(v)) for v in face.xyxy)

    def detail(img, box):
        a, b, c_, d = box
        return float(cv2.Laplacian(cv2.cvtColor(img[b:d, a:c_], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    assert detail(stored, (x1, y1, x2, y2)) < 0.3 * detail(photo, (x1, y1, x2, y2))
    below = (
        0,
        min(photo.shape[0] - 10, y2 + 3 * (y2 - y1)),
        photo.shape[1],
        photo.shape[0],
    )  # the legs, far from the face
    assert np.abs(stored[below[1] :, :].astype(int) - photo[below[1] :, :].astype(int)).mean() < 12


# --- abuse ---------------------------------------------------------------------------------------------------------------
def test_the_sixth_report_in_an_hour_is_429_and_survives_a_restart(env):
    c = client(env, "203.0.113.7")
    for i in range(5):
        token_of(post(c, description=f"Street light number {i} is out on boulevard Victor Hugo."))
    r = post(c, description="Yet another light out on boulevard Victor Hugo.")
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 3601
    assert "at most 5 per hour" in r.json()[0]["description"]
    r = post(c, "xml", description="And one more light out on boulevard Victor Hugo.")
    assert r.status_code == 429 and "Retry-After" in r.headers and xml(r).findtext("error/code") == "429"
    assert token_of(post(client(env, "203.0.113.8")))  # another address is still served
    restarted = create_app(Services(store=env["store"], site=SITE, blurrer=env["blurrer"]))
    assert (
        post(TestClient(restarted, client=("203.0.113.7", 1)), description="After a restart, still out.").status_code
        == 429
    )


def test_the_daily_limit_and_old_hits_are_purged(env):
    store, now = env["store"], datetime.now(timezone.utc)
    c = client(env, "203.0.113.20")
    token_of(post(c, description="A light out on the quai de la Fontaine."))
    with store.read() as conn:
        [(who,)] = conn.execute("SELECT DISTINCT client_hash FROM citizen_report_hits").fetchall()
    # 19 more earlier today (beyond the hour) and 30 two days ago
    rows = [(who, iso(now - timedelta(hours=2, minutes=i))) for i in range(19)] + [
        (who, iso(now - timedelta(days=2, minutes=i))) for i in range(30)
    ]
    store.write(lambda conn: conn.executemany("INSERT INTO citizen_report_hits VALUES (?, ?)", rows)).result()
    r = post(c, description="Another light out on the quai de la Fontaine.")
    assert r.status_code == 429 and "at most 20 per day" in r.json()[0]["description"]
    assert int(r.headers["Retry-After"]) > 3600
    assert reports.purge_reports(store, now)["hits"] == 30


def test_the_address_itself_is_never_stored(env):
    token_of(post(client(env, "203.0.113.99")))
    for path in env["tmp"].glob("vigie.db*"):
        assert b"203.0.113.99" not in path.read_bytes()


def test_a_long_description_is_refused_naming_the_limit(env):
    r = post(client(env), description="The light is out. " * 40)
    assert r.status_code == 400 and "at most 500 are accepted" in r.json()[0]["description"]


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"description": "Buy now http://a.example http://b.example www.c.example cheap"}, "more than 2 links"),
        ({"website": "http://spam.example"}, "looks automated"),
        ({"description": "Light out!!!!!!!!!!!!!!!!!!!!!!"}, "same character"),
        ({"description": "$$$ 1234567 %%% 89012 &&& 3456 @@@"}, "mostly symbols or digits"),
        ({"description": "ab ab ab ab ab ab ab ab ab ab ab ab"}, "same few characters"),
    ],
)
def test_spam_is_refused_naming_the_reason(env, fields, reason):
    r = post(client(env), **fields)
    assert r.status_code == 400
    assert "spam" in r.json()[0]["description"] or "automated" in r.json()[0]["description"]
    assert reason in r.json()[0]["description"]


def test_the_same_description_twice_from_one_address_is_refused(env):
    c = client(env)
    token_of(post(c, description="Overflowing bins at the Esplanade."))
    r = post(c, description="overflowing  bins at the esplanade.")
    assert r.status_code == 400 and "already sent" in r.json()[0]["description"]
    assert token_of(post(client(env), description="Overflowing bins at the Esplanade."))  # another sender may


def test_ordinary_descriptions_pass_the_spam_checks(env):
    c = client(env)
    for text in (
        "",
        "Light out",
        "Lampadaire n°12 éteint depuis le 3/11, rue de l'Aspic.",
        "See https://nimes.example/map and www.nimes.example for the place.",
    ):
        token_of(post(c, description=text or None, service_code="damage" if not text else "streetlight"))


# --- retention and the schema --------------------------------------------------------------------------------------------
def test_purge_deletes_rejected_reports_after_30_days_only(env):
    c, store = client(env), env["store"]
    now = datetime.now(timezone.utc)
    old = decide(
        env, token_of(post(c, description="Rejected long ago.", files=photo_file(jpeg()))), "reject", reason="test"
    )
    recent = decide(env, token_of(post(c, description="Rejected recently.")), "reject", reason="test")
    kept = submit_accepted(env, c, description="Accepted long ago.")
    pending = report_id(env, token_of(post(c, description="Still waiting.")))
    store.write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET moderated_at = ? WHERE id IN (?, ?)", (iso(now - timedelta(days=31)), old, kept)
        )
    ).result()
    store.write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET moderated_at = ? WHERE id = ?", (iso(now - timedelta(days=29)), recent)
        )
    ).result()
    assert reports.purge_reports(store, now, dry_run=True) == {"reports": 1, "contacts": 0, "hits": 0, "senders": 0}
    assert reports.purge_reports(store, now) == {"reports": 1, "contacts": 0, "hits": 0, "senders": 0}
    with store.read() as conn:
        assert {r[0] for r in conn.execute("SELECT id FROM citizen_reports")} == {recent, kept, pending}


def test_purge_clears_the_contact_details_of_reports_closed_over_30_days_ago(env):
    c, store = client(env), env["store"]
    now = datetime.now(timezone.utc)
    closed_long_ago = submit_accepted(
        env, c, description="Bench repaired long ago.", email="a@example.org", phone="0600000001"
    )
    closed_recently = submit_accepted(env, c, description="Bench repaired lately.", email="b@example.org")
    still_open = submit_accepted(env, c, description="Bench still broken.", email="c@example.org")
    store.write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET status = 'closed' WHERE id IN (?, ?)", (closed_long_ago, closed_recently)
        )
    ).result()
    store.write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET updated_at = ? WHERE id IN (?, ?)",
            (iso(now - timedelta(days=31)), closed_long_ago, still_open),
        )
    ).result()
    assert reports.purge_reports(store, now, dry_run=True)["contacts"] == 1
    assert reports.purge_reports(store, now)["contacts"] == 1
    with store.read() as conn:
        rows = {r[0]: r[1:] for r in conn.execute("SELECT id, email, phone, description FROM citizen_reports")}
    assert rows[closed_long_ago] == (None, None, "Bench repaired long ago.")  # the place and event stay
    assert rows[closed_recently][0] == "b@example.org" and rows[still_open][0] == "c@example.org"
    assert reports.purge_reports(store, now)["contacts"] == 0


def test_the_schema_publishes_the_open311_endpoints(env):
    paths = TestClient(env["app"]).get("/openapi.json").json()["paths"]
    for p in (
        "discovery.{fmt}",
        "services.{fmt}",
        "services/{service_code}.{fmt}",
        "requests.{fmt}",
        "requests/{service_request_id}.{fmt}",
        "tokens/{token}.{fmt}",
        "media/{service_request_id}.jpg",
    ):
        assert f"{BASE}/{p}" in paths
    post_op = paths[f"{BASE}/requests.{{fmt}}"]["post"]
    assert {"application/x-www-form-urlencoded", "multipart/form-data"} <= set(post_op["requestBody"]["content"])
    assert "Retry-After" in post_op["responses"]["429"]["headers"]


def test_purge_clears_any_contact_after_90_days_and_forgets_senders_after_a_day(env):
    c, store = client(env), env["store"]
    now = datetime.now(timezone.utc)
    never_closed = submit_accepted(env, c, description="Graffiti on the school wall.", email="d@example.org")
    never_moderated = report_id(env, token_of(post(c, description="Bins burnt last night.", phone="0600000002")))
    recent = report_id(env, token_of(post(c, description="Bench broken today.", email="e@example.org")))
    store.write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET requested_at = ? WHERE id IN (?, ?)",
            (iso(now - timedelta(days=91)), never_closed, never_moderated),
        )
    ).result()
    store.write(
        lambda conn: conn.execute(
            "UPDATE citizen_reports SET requested_at = ? WHERE id = ?", (iso(now - timedelta(hours=25)), recent)
        )
    ).result()
    assert reports.purge_reports(store, now) == {"reports": 0, "contacts": 2, "hits": 0, "senders": 3}
    with store.read() as conn:
        rows = {r[0]: r[1:] for r in conn.execute("SELECT id, email, phone, client_hash FROM citizen_reports")}
    assert rows[never_closed] == (None, None, "") and rows[never_moderated] == (None, None, "")
    assert rows[recent] == ("e@example.org", None, "")  # contact kept (days old), sender forgotten (over a day)


def test_one_ipv6_sender_is_its_64_block():
    from vigie.citizen.abuse import sender_key

    assert sender_key("2001:db8:1:2::17") == sender_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert sender_key("2001:db8:1:3::17") != sender_key("2001:db8:1:2::17")
    assert sender_key("203.0.113.20") == sender_key("::ffff:203.0.113.20") == "203.0.113.20"
