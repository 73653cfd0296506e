"""Property-based test of the JSON API against its own published OpenAPI schema (schemathesis).

Every operation in /openapi.json is generated from (positive and negative data;
schemathesis' examples, coverage and fuzzing phases), and each generated
request is sent once per role (every role, supervisor included) and once
with no session. No answer may be a server error (5xx, or an exception escaping
the app), and every answer must conform to what the schema publishes for its
status code (body schema, content type, headers).

How it is wired:

- The schema is loaded at import with schemathesis' ASGI loader from an app
  built without a store (publishing the schema reads no data), so that pytest
  gets one test per operation. The requests go to the real app of the `api`
  fixture (`case.call(app=...)`); `test_the_tested_schema_is_the_served_one`
  checks that its schema is the same.
- The `api` fixture (one per module, everything under tmp_path) holds a store
  with the cameras of a real site file (privacy masks, a calibration, a camera
  named like a spreadsheet formula, a source recording), recent and 3-day-old
  tracks with points, colours, thumbnails and appearance vectors, a legal hold,
  an open unblur grant of the investigator's, one user per role logged in
  through POST /api/login, spare users for the admin calls to act on, and a
  fake blurrer.
- Examples added to the loaded schema (EXAMPLES) give the examples phase
  requests that reach deep (stored track ids, a justification, a real camera,
  a hold) and edge values random generation seldom hits: integers past
  SQLite's 64 bits where the schema sets no maximum, times whose UTC offset
  carries them past year 1 or 9999. Hooks steer the fuzzing phase to things
  that exist about half of the time (track_id, hold_id, username; track_ids,
  cameras, camera_id and setting keys in bodies).
- Usernames in admin calls are only ever spare users, never the users whose
  sessions the other cases use (an admin resetting their own password ends
  their sessions, as it should).
- The investigator's request is sent twice: as generated, and with a case
  reference and purpose filled in (query or body, where the operation takes
  both), so that the code behind the justification check runs.
- Logout gets a fresh session per call; every other call uses the shared
  sessions, which are checked to be alive, with their role, after each case.
- Deterministic: fixed seed, derandomized Hypothesis, no example database.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import hypothesis.configuration
import numpy as np
import pytest
import schemathesis
from argon2 import PasswordHasher
from builders import jpeg_bytes, write_site
from fakes import FakeBlurrer
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vigie.accounts import users
from vigie.config import load_site
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.types import TrackPoint, TrackSummary
from vigie.web.app import COOKIE, create_app

PW = "correct horse battery staple"
ROLES = ("operator", "investigator", "auditor", "admin", "analyst", "moderator", "supervisor")
SESSIONS = (*ROLES, None)  # None: no session cookie
SPARE_USERS = {"spare-operator": "operator", "spare-investigator": "investigator", "spare.auditor@nimes": "auditor"}
JUST = {"case_ref": "PV-2026-0142", "purpose": "burglary rue de la Madeleine"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 10  # fuzzing examples per operation; the coverage phase adds its own (boundaries, wrong types)

CAMERAS = ["cam-a", "cam-b", "cam-c"]
TRACK_IDS = list(range(1, 8))  # what a fresh store numbers the fixture's seven tracks (checked there)
FPS = 7
VIDEO_SIZE = (320, 240)
VIDEO_FRAMES = 56

SITE = {
    "name": "Nîmes schemathesis",
    "retention_days": 20,
    "analysis": {"classes": ["person", "bicycle", "car", "motorcycle", "bus", "truck"]},
    "cameras": [
        {
            "id": "cam-a",
            "name": "Esplanade <b>fontaine</b>",
            "lat": 43.83305,
            "lon": 4.35905,
            "commune": "Nîmes",
            "group": "Centre",
            "purpose": "Public space security",
            "retention_days": 10,
            "source": "recording.avi",
            "frame_rate": FPS,
            "privacy_masks": [[[0, 0], [60, 0], [60, 40]], [[250, 180], [319, 180], [319, 239], [250, 239]]],
            "calibration": {
                "image_points": [[20, 230], [300, 230], [260, 100], [60, 100]],
                "ground_points_m": [[-19.09, -8.57], [-15.49, -15.23], [-4.71, -9.78], [-8.80, -0.53]],
            },
        },
        {
            "id": "cam-b",
            "name": "=Gare",
            "lat": 43.83264,
            "lon": 4.36626,
            "commune": "Nîmes",
            "group": "Gare",
            "purpose": "+traffic",
            "source": "recording.avi",
            "frame_rate": FPS,
            "analysis": {"classes": ["car", "bus", "person"], "search_crops": 0},
            "privacy_masks": [[[10, 10], [50, 10], [30, 60]]],
        },
        {
            "id": "cam-c",
            "name": "Marguerittes, mairie",
            "lat": 43.85999,
            "lon": 4.44393,
            "commune": "Marguerittes",
            "group": "Est",
            "purpose": "Public space security",
        },  # no recording
    ],
}


# --- the fixture's content -----------------------------------------------------------------------------------------
def _video(path: Path) -> Path:
    """A short synthetic recording (MPEG-4 part 2 in AVI): a grey square walking right."""
    import av

    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = *VIDEO_SIZE, "yuv420p"
        for i in range(VIDEO_FRAMES):
            img = np.full((VIDEO_SIZE[1], VIDEO_SIZE[0], 3), 40, np.uint8)
            img[100:180, 20 + 4 * i : 50 + 4 * i] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def _summary(
    camera: str, no: int, start: datetime, n: int = 6, seq0: int = 0, cls: str = "person", ground: bool = True, **fields
) -> TrackSummary:
    """A track walking right through the synthetic recording, one point per frame from frame seq0."""
    points = [
        TrackPoint(
            seq=seq0 + k,
            timestamp=start + timedelta(seconds=k / FPS),
            xyxy=(20.0 + 4 * (seq0 + k), 100.0, 50.0 + 4 * (seq0 + k), 180.0),
            confidence=0.5 + 0.01 * k,
            ground_xy=(1.0 + 0.1 * k, -2.0) if ground else None,
        )
        for k in range(n)
    ]
    return TrackSummary(
        camera_id=camera,
        track_no=no,
        class_name=cls,
        first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp,
        points=points,
        median_height_px=80.0,
        median_width_px=30.0,
        frame_size=VIDEO_SIZE,
        **fields,
    )


def _add(store: SQLiteStore, camera: str, source: str, tracks: list, fingerprint: str) -> list[int]:
    aid = store.begin_analysis(camera, source, fingerprint.ljust(64, "0"))
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", VIDEO_FRAMES, VIDEO_FRAMES)
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT id FROM tracks WHERE analysis_id=? ORDER BY track_no", (aid,))]


def _tracks(store: SQLiteStore, video: Path) -> list[int]:
    """Seven tracks on three cameras: recent and three days old, people and vehicles, with and without media."""
    recent = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    old = recent - timedelta(days=3)
    jpg, blue = jpeg_bytes(), jpeg_bytes((255, 0, 0), (32, 64))
    person = dict(vector_model="plain", thumbnail_seq=2)
    ids = _add(
        store,
        "cam-a",
        str(video),
        [
            _summary(
                "cam-a",
                1,
                recent,
                seq0=2,
                thumbnail_jpeg=jpg,
                upper_colours=["red", "white"],
                lower_colours=["blue"],
                direction="E",
                speed_px_s=28.0,
                speed_m_s=1.3,
                vector=_unit([1, 0, 0, 0]),
                **person,
            ),
            _summary(
                "cam-a",
                2,
                recent + timedelta(seconds=3),
                n=12,
                seq0=20,
                thumbnail_jpeg=blue,
                upper_colours=["red"],
                lower_colours=["black", "grey"],
                direction="E",
                speed_px_s=28.0,
                speed_m_s=1.1,
                vector=_unit([1, 0.1, 0, 0]),
                **person,
            ),
            _summary(
                "cam-a", 3, recent + timedelta(seconds=6), n=1, seq0=40, thumbnail_jpeg=jpg, ground=False
            ),  # one point
        ],
        "a1",
    )
    ids += _add(
        store,
        "cam-b",
        str(video),
        [
            _summary(
                "cam-b",
                4,
                recent + timedelta(seconds=1),
                seq0=5,
                cls="car",
                body_colours=["white", "grey"],
                direction="N",
                ground=False,
            ),  # no thumbnail
            _summary(
                "cam-b",
                5,
                old,
                seq0=10,
                thumbnail_jpeg=jpg,
                upper_colours=["red"],
                vector=_unit([0.9, 0.2, 0, 0]),
                ground=False,
                **person,
            ),  # outside the operator's 24 hours
        ],
        "b1",
    )
    ids += _add(
        store,
        "cam-c",
        "/nowhere/cam-c.mp4",
        [  # the recording is gone
            _summary(
                "cam-c",
                6,
                recent + timedelta(seconds=30),
                thumbnail_jpeg=jpg,
                upper_colours=["green"],
                vector=_unit([0, 0, 1, 0]),
                ground=False,
                **person,
            ),
            _summary(
                "cam-c",
                7,
                recent + timedelta(seconds=40),
                cls="bicycle",
                thumbnail_jpeg=blue,
                body_colours=["yellow"],
                ground=False,
            ),
        ],
        "c1",
    )
    return ids


class Api:
    """The app under test, its store and a session per role."""

    def __init__(self, store: SQLiteStore, app, tokens: dict[str, str]) -> None:
        self.store, self.app, self.tokens = store, app, tokens

    def cookies(self, role: str | None, fresh: bool = False) -> dict[str, str]:
        if role is None:
            return {}
        if fresh:  # a session of its own, that the call may end
            return {COOKIE: users.create_session(self.store, users.get_user(self.store, role))}
        return {COOKIE: self.tokens[role]}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from fastapi.testclient import TestClient

    from vigie.retention import holds

    root = tmp_path_factory.mktemp("schemathesis")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIGIE_DATA", str(root / "data"))
        # Hypothesis caches (unicode tables, constants) under tmp_path too, not in the working directory
        mp.setattr(hypothesis.configuration, "__hypothesis_home_directory", root / "hypothesis")
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        video = _video(root / "recording.avi")
        site = load_site(write_site(root, SITE))
        assert sum(len(c.privacy_masks) for c in site.cameras) == 3 and site.cameras[0].source == str(video)
        store = SQLiteStore(root / "data")
        store.upsert_cameras(site.cameras)
        ids = _tracks(store, video)
        assert ids == TRACK_IDS, "a fresh store numbers tracks from 1: TRACK_IDS must follow the fixture"
        for name, role in {**{r: r for r in ROLES}, **SPARE_USERS}.items():
            users.create_user(store, name, role, PW)
        holds.place_hold(
            store, "PV-2025-0007", "kept for trial", "investigator", track_ids=[ids[0], ids[4]], role="investigator"
        )
        # The live alert feed ends at once (after one look at the store): its status code and headers
        # are checked, and no generated call waits on a feed that its 15-minute lifetime would hold open.
        app = create_app(Services(store=store, site=site, blurrer=FakeBlurrer(), alert_feed_s=0.0))
        tokens = {}
        with TestClient(app) as client:
            for role in ROLES:
                client.cookies.clear()
                r = client.post("/api/login", json={"username": role, "password": PW})
                assert r.status_code == 200, r.text
                tokens[role] = r.cookies[COOKIE]
            # what the generated calls should be able to reach
            client.cookies.set(COOKIE, tokens["investigator"])
            r = client.get(f"/api/similar/{ids[0]}", params=JUST)
            assert r.status_code == 200 and r.json()["hits"], r.text
            if (
                "/api/tracks/{track_id}/unblur" in app.openapi()["paths"]
            ):  # an open grant, approved by the supervisor: unblurred media are reachable
                r = client.post(f"/api/tracks/{ids[1]}/unblur", json={**JUST, "reason": "identify the suspect"})
                assert r.status_code == 201, r.text
                client.cookies.set(COOKIE, tokens["supervisor"])
                r = client.post(f"/api/approvals/{r.json()['request_id']}", json={"decision": "approve"})
                assert r.status_code == 200 and r.json()["grant_id"], r.text
            client.cookies.set(COOKIE, tokens["operator"])
            r = client.get(f"/api/tracks/{ids[0]}/thumbnail")
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
        yield Api(store, app, tokens)
        store.close()


# --- the schema ----------------------------------------------------------------------------------------------------
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261120,
        "generation": {"deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
    }
)
# Publishing the schema reads no data: an app without a store publishes the same one (checked below).
SCHEMA_APP = create_app(Services(store=None))
schema = schemathesis.openapi.from_asgi("/openapi.json", SCHEMA_APP, config=CONFIG)
PUBLISHED = copy.deepcopy(schema.raw_schema)  # as the app serves it; raw_schema gets examples below

# Examples added to the loaded schema (not to the app's), by field name, for schemathesis' examples phase: the
# first of each list is an ordinary value that reaches the code behind the checks, the others are edges that
# random generation seldom reaches (integers past SQLite's 64 bits where the schema sets no maximum, times that
# their UTC offset carries past year 1 or 9999). The examples phase pairs the n-th example of every field.
EXAMPLES = {
    "track_id": [TRACK_IDS[0], TRACK_IDS[4], TRACK_IDS[1]],  # recent; 3 days old; under the investigator's grant
    "hold_id": [1, 2, 2**63 - 1],
    "username": [*SPARE_USERS, "nobody"],
    "password": [PW, "wrong password!"],
    # never the sessions' own password: a change would end the shared sessions (see _protect_sessions)
    "current_password": ["not the password", ""],
    "new_password": ["a brand new passphrase", "password1234"],
    "token": ["not-a-live-link-token"],
    "request_id": [1, 2, 2**63 - 1],
    "decision": ["approve", "reject"],
    "case_ref": [JUST["case_ref"]],
    "purpose": [JUST["purpose"]],
    "reason": ["identify the suspect"],
    "start": ["2026-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
    "end": ["2099-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+00:01"],
    "track_ids": [TRACK_IDS[:2], [TRACK_IDS[4]], TRACK_IDS[5:]],
    "cameras": [CAMERAS[:1], CAMERAS[1:]],
    "camera_id": CAMERAS,
    "key": ["controller", "retention_days:cam-a", "retention_days:nowhere"],
    "value": ['Mairie de Nîmes =HYPERLINK("x")', 5, None],
}


def _unbounded_int(field: dict) -> bool:
    return field.get("type") == "integer" and "maximum" not in field and "exclusiveMaximum" not in field


def _with_examples(name: str, field: dict) -> None:
    if name in EXAMPLES:
        field["examples"] = EXAMPLES[name]
    elif _unbounded_int(field):
        field["examples"] = [int(field.get("default", field.get("minimum", 0))), 2**63, 2**63 - 1]


for _path_item in schema.raw_schema["paths"].values():
    for _op in _path_item.values():
        for _param in _op.get("parameters", []):
            _with_examples(_param["name"], _param.setdefault("schema", {}))
for _component in schema.raw_schema.get("components", {}).get("schemas", {}).values():
    for _name, _field in _component.get("properties", {}).items():
        _with_examples(_name, _field)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """About half the generated ids and names become ones that exist."""
    params = dict(path_parameters or {})
    real = {
        "track_id": st.sampled_from(TRACK_IDS),
        "hold_id": st.sampled_from([1, 2]),
        "username": st.sampled_from([*SPARE_USERS, "nobody"]),
    }
    for name, strategy in real.items():
        if name in params:
            return st.one_of(st.just(params), strategy.map(lambda v, name=name: {**params, name: v}))
    return st.just(path_parameters)


@schema.hook
def flatmap_body(context, body):
    """About half the generated bodies that name tracks, cameras or settings name ones that exist."""
    if not isinstance(body, dict):
        return st.just(body)
    real = {
        "track_ids": st.lists(st.sampled_from(TRACK_IDS), min_size=1, max_size=4),
        "cameras": st.lists(st.sampled_from(CAMERAS), min_size=1, max_size=2),
        "camera_id": st.sampled_from(CAMERAS),
        "key": st.sampled_from(EXAMPLES["key"]),
    }
    fields = {
        name: strategy
        for name, strategy in real.items()
        if name in _body_schema(context.operation.method, context.operation.path).get("properties", {})
    }
    if not fields:
        return st.just(body)
    return st.one_of(st.just(body), st.fixed_dictionaries({}, optional=fields).map(lambda values: {**body, **values}))


def _body_schema(method: str, path: str) -> dict:
    op = PUBLISHED["paths"].get(path, {}).get(method.lower(), {})  # the coverage phase also tries undeclared methods
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in body:
        body = PUBLISHED["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body


def _takes_justification(method: str, path: str) -> tuple[bool, bool]:
    """(in the query, in the JSON body): whether the operation takes both case_ref and purpose there."""
    op = PUBLISHED["paths"].get(path, {}).get(method.lower(), {})
    query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    return {"case_ref", "purpose"} <= query, {"case_ref", "purpose"} <= set(
        _body_schema(method, path).get("properties", {})
    )


def _variants(case, role):
    """The case as generated, and for the investigator also with a justification filled in."""
    yield "as generated", case
    if role != "investigator":
        return
    in_query, in_body = _takes_justification(case.method, case.path)
    if in_query:
        yield "with case_ref and purpose", case.derive(query={**(case.query or {}), **JUST})
    elif in_body and isinstance(case.body, dict):
        derived = case.derive()
        derived.body = {**case.body, **JUST}
        yield "with case_ref and purpose", derived


def _protect_sessions(case) -> None:
    """Admin calls act on the spare users, never on the users whose sessions the other cases use
    (Hypothesis draws string constants from the code under test, such as "admin")."""
    name = (case.path_parameters or {}).get("username")
    if isinstance(name, str) and name.strip().casefold() in ROLES:
        case.path_parameters = {**case.path_parameters, "username": next(iter(SPARE_USERS))}
    if isinstance(case.body, dict) and case.body.get("current_password") == PW:  # a change would end every session
        case.body = {**case.body, "current_password": "not the password"}


def _ends_session(case) -> bool:
    return case.path.rstrip("/").endswith("/logout")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_responses_match_the_schema(case, api):
    _protect_sessions(case)
    for role in SESSIONS:
        for variant_name, variant in _variants(case, role):
            try:
                response = variant.call(app=api.app, cookies=api.cookies(role, fresh=_ends_session(case)))
                variant.validate_response(response, checks=CHECKS)
            except Exception as exc:
                exc.add_note(f"session: {role or 'none'}; request {variant_name}")
                raise
    for role in ROLES:  # no call may end or change the sessions the other cases use
        user = users.session_user(api.store, api.tokens[role])
        assert user is not None and user.role == role, f"the shared {role} session was ended or changed by {case!r}"


def test_the_tested_schema_is_the_served_one(api):
    """The requests go to the fixture's app: its schema must be the one the cases were generated from."""
    from fastapi.testclient import TestClient

    assert TestClient(api.app).get("/openapi.json").json() == PUBLISHED


def test_logout_ends_only_its_own_session(api):
    from fastapi.testclient import TestClient

    client = TestClient(api.app)
    client.cookies.set(COOKIE, api.cookies("operator", fresh=True)[COOKIE])
    assert client.post("/api/logout").status_code == 200
    assert client.get("/api/me").status_code == 401
    other = TestClient(api.app)
    other.cookies.set(COOKIE, api.tokens["operator"])
    assert other.get("/api/me").status_code == 200


def test_the_api_has_no_body_trait_anywhere():
    """Issue 18: the person-attribute network's sex and hair outputs are never read; no field of the
    served schema (queries, hits, tracks) can carry them."""
    text = str(PUBLISHED).lower()
    for word in ("is_male", "gender", "longhair", "long_hair", "female"):
        assert word not in text, word
