"""The store contract: what every Store backend does, each test run on SQLite and on PostgreSQL.

Behaviour is asserted (ids, fields, errors, what stays after a failure), not
merely that the two backends agree. The modules are exercised through their
own entry points (vigie.audit, vigie.retention, vigie.accounts, vigie.search).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from argon2 import PasswordHasher
from builders import T0, jpeg_bytes, make_summary

from vigie.config import CameraConfig, SiteConfig
from vigie.describe.reid import active_projection
from vigie.errors import VigieError
from vigie.store.sqlite import _migrations
from vigie.times import iso
from vigie.types import TrackPoint, TrackSummary

VERSIONS = [v for v, _ in _migrations()]
CAMERAS = [
    CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, group="centre", commune="Nîmes"),
    CameraConfig(id="cam-b", name="Gare", lat=43.83, lon=4.37, group="gare", commune="Nîmes"),
]
TABLES = (
    "cameras",
    "analyses",
    "tracks",
    "track_colours",
    "track_points",
    "thumbnails",
    "track_crops",
    "track_vectors",
    "appearance_models",
    "audit_log",
    "legal_holds",
    "legal_hold_tracks",
    "users",
    "sessions",
    "enrolments",
    "approvals",
    "unblur_grants",
    "exports",
    "settings",
    "alerts",
    "stream_gaps",
    "tubes",
    "backgrounds",
    "incident_imports",
    "incidents",
    "citizen_reports",
    "citizen_report_hits",
    "citizen_salt",
    "track_attributes",
    "query_photos",
    "recording_segments",
    "session_cases",
    "case_marks",
)


# --- builders ----------------------------------------------------------------------------------------
def full_track(no: int = 1, start_s: float = 0.0, camera: str = "cam-a", **fields) -> TrackSummary:
    """A person track with every kind of row: points, colours, thumbnail, crops, vector."""
    fields = {
        "jpeg": jpeg_bytes(),
        "upper_colours": ["red", "white"],
        "lower_colours": ["black"],
        "crops": np.ones((2, 8), np.float32),
        "crop_seqs": [0, 1],
        "crop_base": "test-base",
        "vector": np.ones(4, np.float32) / 2,
        "vector_model": "test-model",
    } | fields
    return make_summary(camera_id=camera, track_no=no, start_s=start_s, **fields)


_fingerprints = iter(range(10**6))


def analyse(
    store, tracks, camera: str = "cam-a", fingerprint: str | None = None, finish: bool = True
) -> tuple[int, dict[int, int]]:
    """One analysis as the pipeline runs it: (analysis id, {track_no: track id})."""
    fingerprint = fingerprint or f"{next(_fingerprints):064d}"
    aid = store.begin_analysis(camera, f"/videos/{fingerprint[-6:]}.mp4", fingerprint)
    store.add_tracks(aid, tracks).result()
    if finish:
        store.finish_analysis(aid, "complete", frames_decoded=100, frames_analysed=90)
    with store.read() as conn:
        return aid, {
            r["track_no"]: r["id"] for r in conn.execute("SELECT track_no, id FROM tracks WHERE analysis_id=?", (aid,))
        }


@pytest.fixture
def cams(store):
    """The store with two cameras (None where PostgreSQL is missing: the test then fails, see conftest)."""
    if store is not None:
        store.upsert_cameras(CAMERAS)
    return store


# --- migrations and rows ---------------------------------------------------------------------------------
def test_migrations_reach_the_latest_version_with_every_table(store):
    assert store.schema_version() == VERSIONS[-1] == len(VERSIONS)
    with store.read() as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")] == VERSIONS
        for table in TABLES:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == (
                1 if table == "citizen_salt" else 0
            ), table
        salt = conn.execute("SELECT salt FROM citizen_salt WHERE id = 1").fetchone()[0]
    assert len(salt) == 64 and int(salt, 16) >= 0


def test_rows_behave_like_sqlite_rows(cams):
    with cams.read() as conn:
        row = conn.execute("SELECT id, name AS label, lat FROM cameras WHERE id = ?", ("cam-a",)).fetchone()
        assert (row[0], row["label"], row["LAT"], row.keys()) == ("cam-a", "Esplanade", 43.83, ["id", "label", "lat"])
        assert dict(row) == {"id": "cam-a", "label": "Esplanade", "lat": 43.83} and tuple(row) == (
            "cam-a",
            "Esplanade",
            43.83,
        )
        assert conn.execute(
            "SELECT count(*), sum(lat) > 80 FROM cameras WHERE name LIKE '%a%' AND id <> '?'"
        ).fetchone()[:] == (2, 1)
        assert conn.execute("SELECT id FROM cameras WHERE id = 'nowhere'").fetchone() is None
        assert conn.execute("SELECT name FROM cameras WHERE id = :id", {"id": "cam-b"}).fetchone()[0] == "Gare"

    def insert_once(conn):
        row = ("cam-a", "Other", 0.0, 0.0, "", "", "", "t")
        return [
            conn.execute("INSERT OR IGNORE INTO cameras VALUES (?,?,?,?,?,?,?,?)", row).rowcount,
            conn.execute("INSERT OR IGNORE INTO cameras VALUES (?,?,?,?,?,?,?,?)", ("cam-c", *row[1:])).rowcount,
        ]

    assert cams.write(insert_once).result() == [0, 1] and cams.camera("cam-a")["name"] == "Esplanade"


def test_cameras_upsert_in_place(cams):
    cams.upsert_cameras(
        [CameraConfig(id="cam-a", name="Esplanade nord", lat=43.84, lon=4.35, group="centre", commune="Nîmes")]
    )
    assert cams.counts()["cameras"] == 2
    cam = cams.camera("cam-a")
    assert (cam["name"], cam["lat"], cam["lon"], cam["grp"], cam["commune"]) == (
        "Esplanade nord",
        43.84,
        4.35,
        "centre",
        "Nîmes",
    )
    with pytest.raises(VigieError, match="'cam-z' is not in the store's camera register"):
        cams.camera("cam-z")


# --- analyses ----------------------------------------------------------------------------------------------
def test_tracks_are_invisible_until_their_analysis_finishes_then_listed_with_their_fields(cams):
    aid = cams.begin_analysis("cam-a", "/videos/a.mp4", "a" * 64)
    cams.add_tracks(
        aid,
        [
            full_track(1, speed_m_s=1.25, direction="E"),
            full_track(
                2,
                start_s=10,
                upper_colours=["yellow", "blue", "red"],
                attributes={"hat": ("yes", 0.8), "bag": ("unknown", float("nan"))},
            ),
        ],
    ).result()
    assert cams.list_tracks() == [] and cams.get_track(1) is None
    assert cams.counts() == {
        "cameras": 2,
        "analyses": 1,
        "tracks": 2,
        "track_points": 10,
        "track_colours": 7,
        "thumbnails": 2,
        "track_attributes": 2,
        "track_crops": 4,
        "track_vectors": 2,
    }

    cams.finish_analysis(aid, "complete", 100, 90)
    first, second = cams.list_tracks()
    assert isinstance(first["id"], int) and second["id"] > first["id"]
    assert {
        k: first[k]
        for k in (
            "analysis_id",
            "camera_id",
            "track_no",
            "class",
            "first_seen",
            "n_points",
            "direction",
            "speed_m_s",
            "source",
            "upper",
            "lower",
            "body",
        )
    } == {
        "analysis_id": aid,
        "camera_id": "cam-a",
        "track_no": 1,
        "class": "person",
        "first_seen": "2026-11-20T13:00:00.000000Z",
        "n_points": 5,
        "direction": "E",
        "speed_m_s": 1.25,
        "source": "/videos/a.mp4",
        "upper": ["red", "white"],
        "lower": ["black"],
        "body": [],
    }
    assert second["upper"] == ["yellow", "blue", "red"]  # the stored order, not the alphabet's
    assert first["attributes"] == {} and second["attributes"] == {"bag": "unknown", "hat": "yes"}
    assert cams.get_track(second["id"]) == second
    assert [t["track_no"] for t in cams.list_tracks(limit=1, offset=1)] == [2]
    assert cams.list_tracks(camera_id="cam-b") == [] and len(cams.list_tracks(class_name="person")) == 2
    points = cams.track_points(first["id"])
    assert [p["seq"] for p in points] == [0, 1, 2, 3, 4]
    assert (points[1]["x1"], points[1]["y2"], points[1]["ground_x"], points[1]["t"]) == (
        105.0,
        300.0,
        1.1,
        iso(T0 + timedelta(seconds=1 / 7)),
    )
    thumb = cams.thumb_dir / "cam-a" / f"{first['id']}.jpg"
    assert first["thumbnail_path"] == str(thumb) and cams.thumbnail_file(thumb) == jpeg_bytes()
    assert jpeg_bytes() not in thumb.read_bytes() and cams.thumbnail(first["id"]) == jpeg_bytes()  # sealed at rest
    [analysis] = cams.analyses()
    assert (analysis["status"], analysis["frames_decoded"], analysis["frames_analysed"]) == ("complete", 100, 90)
    crops = cams.person_crops("test-base")
    assert [c["id"] for c in crops] == [first["id"], second["id"]] and crops[0]["crops"].shape == (2, 8)
    assert [c["id"] for c in cams.person_crops("test-base", newest=1)] == [second["id"]]


def test_a_reanalysis_of_the_same_file_replaces_the_earlier_one(cams):
    _, before = analyse(cams, [full_track(1), full_track(2)], fingerprint="f" * 64)
    counts = cams.counts()
    second, after = analyse(cams, [full_track(1), full_track(2)], fingerprint="f" * 64)
    assert [a["id"] for a in cams.analyses()] == [second]
    assert sorted(t["id"] for t in cams.list_tracks()) == sorted(after.values())
    assert not set(before.values()) & set(after.values())
    assert cams.counts() == counts
    assert not any((cams.thumb_dir / "cam-a" / f"{t}.jpg").exists() for t in before.values())
    other, _ = analyse(cams, [full_track(1)], camera="cam-b", fingerprint="f" * 64)  # same file, other camera: kept
    assert [a["id"] for a in cams.analyses()] == [second, other]


def test_a_crashed_running_analysis_is_dropped_when_the_file_is_analysed_again(cams):
    analyse(cams, [full_track(1), full_track(2)], fingerprint="c" * 64, finish=False)
    assert cams.counts()["tracks"] == 2 and cams.list_tracks() == []
    again = cams.begin_analysis("cam-a", "/videos/c.mp4", "c" * 64)  # (SQLite may give the crashed one's id again)
    assert [(a["id"], a["status"]) for a in cams.analyses()] == [(again, "running")]
    assert cams.counts()["tracks"] == 0 and cams.counts()["track_points"] == 0


def test_a_legal_hold_prevents_the_replacement(cams):
    from vigie.retention.holds import list_holds, place_hold

    first, ids = analyse(cams, [full_track(1), full_track(2)], fingerprint="h" * 64)
    hold = place_hold(cams, "CASE-2026-0042", "assault on the esplanade", "inv1", track_ids=[ids[1]])
    assert [h["id"] for h in list_holds(cams)] == [hold] and list_holds(cams)[0]["track_ids"] == [ids[1]]
    with pytest.raises(VigieError, match="legal hold"):
        analyse(cams, [full_track(1)], fingerprint="h" * 64)
    assert sorted(t["id"] for t in cams.list_tracks()) == sorted(
        ids.values()
    )  # the held analysis is still the visible one
    assert [a["status"] for a in cams.analyses()] == ["complete", "running"]
    with pytest.raises(sqlite3.IntegrityError, match="a track under an active legal hold cannot be deleted"):
        cams.write(lambda conn: conn.execute("DELETE FROM tracks WHERE id = ?", (ids[1],))).result()


def test_a_failed_write_rolls_back_as_a_whole_and_keeps_earlier_data(cams):
    _, ids = analyse(cams, [full_track(1)])
    before = cams.counts()

    def half_done(conn):
        conn.execute("UPDATE cameras SET name = 'renamed' WHERE id = 'cam-a'")
        conn.execute("INSERT INTO cameras VALUES (?,?,?,?,?,?,?,?)", ("cam-c", "C", 1.0, 2.0, "", "", "", "t"))
        conn.execute("INSERT INTO cameras VALUES (?,?,?,?,?,?,?,?)", ("cam-c", "C", 1.0, 2.0, "", "", "", "t"))

    with pytest.raises(sqlite3.IntegrityError):
        cams.write(half_done).result()
    aid = cams.begin_analysis("cam-a", "/v.mp4", "d" * 64)
    with pytest.raises(sqlite3.IntegrityError):  # UNIQUE (analysis_id, track_no)
        cams.add_tracks(aid, [full_track(1), full_track(1)]).result()
    with pytest.raises(sqlite3.IntegrityError):  # CHECK (status IN ...)
        cams.write(lambda conn: conn.execute("UPDATE analyses SET status = 'lost' WHERE id = ?", (aid,))).result()
    with pytest.raises(sqlite3.OperationalError):
        cams.write(lambda conn: conn.execute("SELECT * FROM no_such_table")).result()

    assert cams.camera("cam-a")["name"] == "Esplanade" and cams.counts() == before | {"analyses": 2}
    assert [t["id"] for t in cams.list_tracks()] == [ids[1]]
    assert (
        cams.write(lambda conn: conn.execute("SELECT count(*) FROM cameras").fetchone()[0]).result() == 2
    )  # the writer lives on


def test_a_read_transaction_sees_one_snapshot_and_reads_cannot_write(cams):
    with cams.read() as conn:
        conn.execute("BEGIN")
        assert conn.execute("SELECT count(*) FROM cameras").fetchone()[0] == 2
        cams.upsert_cameras([CameraConfig(id="cam-c", name="C", lat=1.0, lon=2.0)])
        assert conn.execute("SELECT count(*) FROM cameras").fetchone()[0] == 2
    assert cams.counts()["cameras"] == 3
    with cams.read() as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM cameras")
    assert cams.counts()["cameras"] == 3


def test_projections_replace_vectors_in_one_transaction(cams):
    from vigie.describe.reid import Projection

    _, ids = analyse(cams, [full_track(1), full_track(2)])
    proj = Projection("site-1", "test-base", np.zeros(8), np.eye(8, 4))
    cams.save_projection(
        proj, tracks=2, crops=4, report={"ok": True}, vectors=[(ids[1], np.arange(4, dtype=np.float32))]
    )
    active = active_projection(cams)
    assert (active.name, active.base) == ("site-1", "test-base") and np.array_equal(active.matrix, proj.matrix)
    [model] = cams.appearance_models()
    assert (model["name"], model["active"], model["tracks"], model["report"]) == (
        "site-1",
        1,
        2,
        {"ok": True},
    ) and "params" not in model
    with cams.read() as conn:
        rows = {
            r[0]: (r[1], np.frombuffer(r[2], "<f4").tolist())
            for r in conn.execute("SELECT track_id, model, vector FROM track_vectors")
        }
    assert rows == {ids[1]: ("site-1", [0.0, 1.0, 2.0, 3.0]), ids[2]: ("test-model", [0.5] * 4)}


# --- audit log -----------------------------------------------------------------------------------------------
def test_the_audit_log_chains_and_is_append_only(store):
    from vigie.audit.log import append, query, verify

    for k in range(3):
        append(store, f"user{k}", "investigator", "search", case_ref="CASE-1", purpose="p", details={"k": k})
    entries = query(store)
    assert [(e.seq, e.user, e.details_dict()) for e in entries] == [
        (1, "user0", {"k": 0}),
        (2, "user1", {"k": 1}),
        (3, "user2", {"k": 2}),
    ]
    assert entries[1].prev_hash == entries[0].hash and [e.seq for e in query(store, user="user1")] == [2]
    assert verify(store).ok and verify(store).entries == 3
    for sql in (
        "UPDATE audit_log SET role = 'admin' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="audit log is append-only"):
            store.write(lambda conn, sql=sql: conn.execute(sql)).result()
    assert verify(store).ok and [e.hash for e in query(store)] == [e.hash for e in entries]


# --- forensic search ------------------------------------------------------------------------------------------
def walker(camera: str, no: int, start_s: float, **fields) -> TrackSummary:
    points = [
        TrackPoint(
            seq=k,
            timestamp=T0 + timedelta(seconds=start_s + k),
            xyxy=(100.0 + 10 * k, 200.0, 140.0 + 10 * k, 300.0),
            confidence=0.9,
        )
        for k in range(4)
    ]
    return TrackSummary(
        camera_id=camera,
        track_no=no,
        class_name="person",
        first_seen=points[0].timestamp,
        last_seen=points[-1].timestamp,
        points=points,
        median_height_px=100.0,
        median_width_px=40.0,
        frame_size=(800, 400),
        **fields,
    )


def test_the_search_engine_finds_by_attributes_and_by_likeness(cams):
    from vigie.search.engine import search, similar
    from vigie.search.query import SearchQuery

    def vec(*v):
        v = np.asarray(v, np.float32)
        return v / np.linalg.norm(v)

    _, a = analyse(
        cams,
        [
            walker("cam-a", 1, 0, upper_colours=["blue", "red"], vector=vec(1, 0, 0), vector_model="plain"),
            walker("cam-a", 2, 100, upper_colours=["red", "white"], vector=vec(0, 1, 0), vector_model="plain"),
            walker(
                "cam-a",
                3,
                200,
                upper_colours=["green"],
                lower_colours=["black"],
                vector=vec(0.9, 0.1, 0),
                vector_model="plain",
            ),
        ],
    )
    _, b = analyse(
        cams,
        [walker("cam-b", 1, 300, upper_colours=["white", "red"], vector=vec(1, 0.05, 0), vector_model="plain")],
        camera="cam-b",
    )

    strict = search(cams, SearchQuery(upper=["red"], colour_tolerance=1))
    assert [h.track_id for h in strict.hits] == [a[2]] and strict.total == 1 and strict.hits[0].score == 1.0
    loose = search(cams, SearchQuery(upper=["red"]))
    assert [h.track_id for h in loose.hits] == [a[2], a[1], b[1]] and [h.score for h in loose.hits] == [1.0, 0.6, 0.6]
    hit = loose.hits[0]
    assert (hit.camera_id, hit.camera_name, hit.first_seen, hit.upper, hit.dwell_s) == (
        "cam-a",
        "Esplanade",
        iso(T0 + timedelta(seconds=100)),
        ["red", "white"],
        pytest.approx(3.0),
    )
    assert [h.track_id for h in search(cams, SearchQuery(cameras=["cam-b"])).hits] == [b[1]]
    assert [h.track_id for h in search(cams, SearchQuery(lower=["black"])).hits] == [a[3]]

    like = similar(cams, a[1])
    assert like.model == "plain" and [h.track_id for h in like.hits] == [b[1], a[3], a[2]]
    assert like.hits[0].score == pytest.approx(float(vec(1, 0.05, 0) @ vec(1, 0, 0)), abs=1e-4)

    _, c = analyse(
        cams,
        [walker("cam-b", 2, 400, upper_colours=["red"], vector=vec(1, 0, 0), vector_model="plain")],
        camera="cam-b",
    )
    assert [h.track_id for h in similar(cams, a[1], k=1).hits] == [
        c[2]
    ]  # a finished analysis is searchable at the next query


# --- retention --------------------------------------------------------------------------------------------------
def test_the_purge_removes_old_tracks_and_keeps_a_held_one(cams):
    from vigie.retention.holds import lift_hold, place_hold
    from vigie.retention.purge import purge

    day = 86400.0
    site = SiteConfig(
        name="t",
        retention_days=30,
        legal_max_retention_days=30,
        cameras=[CameraConfig(id=c.id, name=c.name, lat=c.lat, lon=c.lon) for c in CAMERAS],
    )
    now = T0 + timedelta(days=40)
    _, old = analyse(cams, [full_track(1, 0.0), full_track(2, 60.0)])
    _, recent = analyse(cams, [full_track(1, 35 * day)])
    hold = place_hold(cams, "PV-2026-118", "assault, rue de la Madeleine", "insp. martin", track_ids=[old[1]])

    report = purge(cams, site, now=now)
    a = {c.camera_id: c for c in report.cameras}["cam-a"]
    assert (a.tracks_removed, a.tracks_held, a.thumbnails_removed, a.analyses_removed) == (1, 1, 1, 0)
    assert cams.get_track(old[1]) is not None and (cams.thumb_dir / "cam-a" / f"{old[1]}.jpg").is_file()
    assert cams.get_track(old[2]) is None and not (cams.thumb_dir / "cam-a" / f"{old[2]}.jpg").exists()
    assert cams.get_track(recent[1]) is not None
    with cams.read() as conn:
        assert conn.execute("SELECT count(*) FROM track_points WHERE track_id = ?", (old[2],)).fetchone()[0] == 0

    lift_hold(cams, hold, "insp. martin")
    report = purge(cams, site, now=now)
    assert (report.tracks_removed, report.tracks_held, report.analyses_removed) == (1, 0, 1)
    assert [t["id"] for t in cams.list_tracks()] == [recent[1]]


# --- recordings ---------------------------------------------------------------------------------------------
def segment_file(store, camera: str, start_s: float, size: int = 1000) -> str:
    """A segment file under the store's data folder (the index only checks that it is there); its relative path."""
    rel = f"recordings/{camera}/{start_s:08.3f}.ts"
    path = store.data_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x47" * size)
    return rel


def add_segment(store, camera: str, start_s: float, end_s: float, **fields):
    return store.add_recording_segment(
        camera, T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s), segment_file(store, camera, start_s),
        frames=int((end_s - start_s) * 25), codec="h264", **fields,
    )  # fmt: skip


def test_recording_segments_are_indexed_read_by_window_with_their_gaps_and_deleted(cams):
    from vigie.store.recordings import RecordingError

    def at(s: float):
        return T0 + timedelta(seconds=s)

    a1 = add_segment(cams, "cam-a", 0, 6, width=1920, height=1080)
    a3 = add_segment(cams, "cam-a", 20, 26, complete=False)
    a2 = add_segment(cams, "cam-a", 6, 12.04)  # indexed out of order: read in time order
    b1 = add_segment(cams, "cam-b", 3, 9, masked=True)
    assert (a1.bytes, a1.frames, a1.width, a1.masked, a1.complete, a1.container) == (
        1000,
        150,
        1920,
        False,
        True,
        "mpegts",
    )
    assert a1.file(cams.data_dir).is_file() and a1.path == "recordings/cam-a/0000.000.ts"

    segs = cams.recording_segments("cam-a")
    assert [s.id for s in segs] == [a1.id, a2.id, a3.id] and segs[0] == a1
    assert segs[1].start == at(6) and segs[1].end == at(12.04) and not segs[2].complete
    assert [s.id for s in cams.recording_segments("cam-b")] == [b1.id] and cams.recording_segments("cam-b")[0].masked
    # Overlapping [from, to): a segment ending exactly at `from`, or starting at `to`, is outside.
    assert [s.id for s in cams.recording_segments("cam-a", at(6), at(20))] == [a2.id]
    assert [s.id for s in cams.recording_segments("cam-a", at(5.9), at(20.1))] == [a1.id, a2.id, a3.id]
    assert [s.id for s in cams.recording_segments("cam-a", at(13), None)] == [a3.id]
    assert cams.recording_segments("cam-a", at(30), at(40)) == []
    assert cams.recording_segment(a2.id) == a2 and cams.recording_segment(10**6) is None

    gaps = cams.recording_gaps("cam-a", at(-10), at(30))
    assert [(g.start, g.end) for g in gaps] == [(at(-10), at(0)), (at(12.04), at(20)), (at(26), at(30))]
    assert [(g.start, g.end) for g in cams.recording_gaps("cam-a")] == [(at(12.04), at(20))]
    assert cams.recording_gaps("cam-a", at(0), at(12)) == []  # 6.0 -> 6.0 meets
    assert [(g.start, g.end) for g in cams.recording_gaps("cam-a", at(40), at(50))] == [(at(40), at(50))]
    assert gaps[1].as_dict()["duration_s"] == pytest.approx(7.96)

    usage = cams.recording_usage()
    assert usage["cam-a"] == {"segments": 3, "bytes": 3000, "first": iso(at(0)), "last": iso(at(26))}
    assert cams.recording_cameras() == ["cam-a", "cam-b"]
    assert cams.recording_paths("cam-b") == {b1.path}

    # Refused, nothing stored: a missing file, an empty one, a path outside the data folder, backwards
    # times, an unknown container, a path already indexed.
    (cams.data_dir / "recordings/cam-a/empty.ts").write_bytes(b"")
    for path, kwargs, words in [
        ("recordings/cam-a/missing.ts", {}, "not there"),
        ("recordings/cam-a/empty.ts", {}, "empty"),
        ("../elsewhere.ts", {}, "under the data folder"),
        ("/tmp/elsewhere.ts", {}, "not under the data folder"),
        (a1.path, {"container": "avi"}, "container"),
        (a1.path, {"end": at(-1)}, "before its start"),
        (a1.path, {}, "already indexed"),
    ]:
        args = {"start": at(0), "end": at(6)} | kwargs
        with pytest.raises(RecordingError, match=words):
            cams.add_recording_segment("cam-a", path=path, frames=1, codec="h264", **args)
    assert len(cams.recording_segments("cam-a")) == 3

    # Deleting returns the paths to unlink; the rows are gone first.
    assert cams.delete_recording_segments([a1.id, a3.id, 10**6]) == [a1.path, a3.path]
    assert [s.id for s in cams.recording_segments("cam-a")] == [a2.id]
    assert a1.file(cams.data_dir).is_file()  # the caller unlinks the file, after the commit
    assert cams.delete_recording_segments([]) == []


def test_held_footage_is_not_offered_to_the_quota(cams):
    from vigie.retention.holds import lift_hold, place_hold

    _, tracks = analyse(cams, [full_track(1, 13.0)])  # in view from 13 s to about 13.6 s
    segs = [add_segment(cams, "cam-a", s, s + 6) for s in (0, 6, 12, 18, 24, 30)]
    assert [s.id for s in cams.oldest_unheld_segments("cam-a", limit=2)] == [segs[0].id, segs[1].id]

    by_track = place_hold(cams, "PV-1", "assault", "insp. martin", track_ids=[tracks[1]])
    window = place_hold(
        cams, "PV-2", "theft", "insp. martin", camera_id="cam-a",
        start=T0 + timedelta(seconds=1), end=T0 + timedelta(seconds=6),
    )  # fmt: skip
    # The held track keeps the segment it is in view during; the window the one it overlaps (ending at 6 s).
    assert [s.id for s in cams.oldest_unheld_segments("cam-a")] == [s.id for s in segs[1:2] + segs[3:]]
    lift_hold(cams, window, "insp. martin")
    lift_hold(cams, by_track, "insp. martin")
    assert len(cams.oldest_unheld_segments("cam-a")) == 6


def test_the_purge_removes_expired_segments_with_their_files_and_keeps_held_ones(cams):
    from vigie.retention.holds import lift_hold, place_hold
    from vigie.retention.purge import purge

    day = 86400.0
    site = SiteConfig(
        name="t",
        retention_days=30,
        legal_max_retention_days=30,
        cameras=[CameraConfig(id=c.id, name=c.name, lat=c.lat, lon=c.lon) for c in CAMERAS],
    )
    now = T0 + timedelta(days=40)
    _, old = analyse(cams, [full_track(1, 13.0), full_track(2, 100.0)])  # in view at 13 s (held), at 100 s (not)
    old_segs = [add_segment(cams, "cam-a", s, s + 6) for s in (0, 6, 12, 18, 96, 102)]
    recent = add_segment(cams, "cam-a", 35 * day, 35 * day + 6)
    other = add_segment(cams, "cam-b", 0, 6)  # a camera with segments and no track
    hold = place_hold(cams, "PV-2026-118", "assault", "insp. martin", track_ids=[old[1]])
    window = place_hold(
        cams, "PV-2026-119", "theft", "insp. martin", camera_id="cam-a",
        start=T0 + timedelta(seconds=20), end=T0 + timedelta(seconds=22),
    )  # fmt: skip

    dry = purge(cams, site, now=now, dry_run=True)
    report = purge(cams, site, now=now)
    a = {c.camera_id: c for c in report.cameras}["cam-a"]
    assert (a.segments_removed, a.segments_held, a.segment_files_removed) == (4, 2, 4)
    assert (dry.segments_removed, dry.segments_held) == (report.segments_removed, report.segments_held) == (5, 2)
    assert report.as_dict()["totals"]["segments_removed"] == 5
    kept = [s.id for s in cams.recording_segments("cam-a")]
    assert kept == [old_segs[2].id, old_segs[3].id, recent.id]  # the held track's, the window's, the recent one
    for seg in old_segs[:2] + old_segs[4:] + [other]:
        assert not seg.file(cams.data_dir).exists()
    for seg in cams.recording_segments("cam-a"):
        assert seg.file(cams.data_dir).is_file()  # no row points at a missing file

    lift_hold(cams, hold, "insp. martin")
    lift_hold(cams, window, "insp. martin")
    report = purge(cams, site, now=now)
    assert (report.segments_removed, report.segments_held) == (2, 0)
    assert [s.id for s in cams.recording_segments("cam-a")] == [recent.id]


# --- accounts ----------------------------------------------------------------------------------------------------
def test_accounts_and_sessions(store, monkeypatch):
    from vigie.accounts import users
    from vigie.accounts.users import (
        AccountError,
        AccountLocked,
        AuthenticationFailed,
        authenticate,
        create_session,
        create_user,
        disable_user,
        logout,
        session_user,
    )
    from vigie.audit.log import query, verify

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(users, "MAX_FAILURES", 5)  # the lock-out, off by default, still works on every store
    pw = "correct horse battery"
    alice = create_user(store, "alice", "investigator", pw)
    assert (alice.username, alice.role, alice.disabled) == ("alice", "investigator", False) and isinstance(
        alice.id, int
    )
    with pytest.raises(AccountError, match="already exists"):
        create_user(store, "ALICE", "operator", pw)  # usernames are case-insensitive
    assert authenticate(store, "Alice", pw).username == "alice"
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "alice", "wrong password here")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            authenticate(store, "alice", "wrong password here")
    with pytest.raises(AccountLocked):
        authenticate(store, "alice", pw)

    create_user(store, "bob", "analyst", pw)  # a role of migration 10
    bob = authenticate(store, "bob", pw)
    token = create_session(store, bob)
    assert session_user(store, token).username == "bob" and session_user(store, "forged") is None
    assert logout(store, token) and session_user(store, token) is None
    token = create_session(store, bob)
    disable_user(store, "bob")
    assert session_user(store, token) is None
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    assert [e.action for e in query(store, user="bob")] == ["login", "logout"]
    assert verify(store).ok


def test_a_users_language_is_kept_on_the_account(store, monkeypatch):
    """Issue 20 (migration 19) on both backends: the language a user chose is kept, changed and forgotten;
    another user's stays unset; an unknown user or language is refused and changes nothing."""
    from vigie.accounts import users
    from vigie.accounts.language import choose_language, chosen_language
    from vigie.accounts.users import AccountError, create_user
    from vigie.store import user_settings

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    alice = create_user(store, "alice", "investigator", "correct horse battery")
    bob = create_user(store, "bob", "operator", "correct horse battery")
    assert chosen_language(store, alice) is None and chosen_language(store, bob) is None
    assert choose_language(store, alice, "en-GB") == "en"
    assert chosen_language(store, alice) == "en" and chosen_language(store, bob) is None
    assert choose_language(store, alice, "fr") == "fr" and chosen_language(store, alice) == "fr"
    with pytest.raises(AccountError, match="'de'"):
        choose_language(store, alice, "de")
    assert chosen_language(store, alice) == "fr"
    assert user_settings.set_user_language(store, "nobody", "en") is False
    assert user_settings.set_user_language(store, "alice", None) is True
    assert chosen_language(store, alice) is None


def test_enrolment_links_and_approvals(cams, monkeypatch):
    """Issue 19 (finding 1) on both backends: a one-time link sets the owner's password; a supervisor's
    approval opens an unblur grant and applies a media role, and never for their own request."""
    from vigie.accounts import approvals, passwords, users
    from vigie.accounts.roles import Forbidden
    from vigie.audit.log import query, verify

    store = cams
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    _, ids = analyse(store, [full_track(1, start_s=0.0)])
    admin = users.create_user(store, "root1", "admin", "correct horse battery")
    sup = users.create_user(store, "sup", "supervisor", "correct horse battery")
    made = approvals.enrol_new_user(store, admin, "inv", "investigator")
    assert users.get_user(store, "inv").role == "none" and made["request_id"]
    assert passwords.link_info(store, made["link_token"])["username"] == "inv"
    passwords.redeem(store, made["link_token"], "inv's own passphrase")
    with pytest.raises(passwords.LinkInvalid):
        passwords.redeem(store, made["link_token"], "inv's other passphrase")
    approvals.decide(store, sup, made["request_id"], True, "known colleague", 5)
    inv = users.authenticate(store, "inv", "inv's own passphrase")
    assert inv.role == "investigator"
    req = approvals.request_unblur(store, inv, ids[1], "PV-1", "theft", "the jacket's logo")
    with pytest.raises(Forbidden):
        approvals.decide(
            store,
            users.User(sup.id, "INV", "supervisor", sup.created_at, False, 0, None),
            req["request_id"],
            True,
            None,
            5,
        )
    out = approvals.decide(store, sup, req["request_id"], True, None, 5)
    with store.read() as conn:
        grant = conn.execute(
            "SELECT username, approved_by FROM unblur_grants WHERE id = ?", (out["grant_id"],)
        ).fetchone()
    assert tuple(grant) == ("inv", "sup")
    assert [e.details_dict()["decision"] for e in query(store, action="approval")] == ["approved", "approved"]
    assert verify(store).ok


# --- pictures at rest (issue 19, finding 7) ----------------------------------------------------------
def test_pictures_are_sealed_at_rest_and_an_earlier_versions_are_sealed_in_place(cams, monkeypatch):
    """Tubes, backgrounds and example photos go in sealed and come out as they were; a store with
    pictures in the clear (as an earlier version left them) is sealed in place, paging through every
    picture column (one row a batch here: the composite key of query_photos included)."""
    from vigie.search import query_photos
    from vigie.store import pictures as gateway
    from vigie.synopsis.capture import Background

    store = cams
    tube, jpeg = b"PK\x03\x04 an npz of JPEGs", jpeg_bytes((0, 255, 0))
    track = full_track(1, start_s=0.0, tube=tube)
    fingerprint = f"{next(_fingerprints):064d}"
    aid = store.begin_analysis("cam-a", "/videos/bg.mp4", fingerprint)
    store.add_tracks(aid, [track, full_track(2, start_s=1.0, tube=tube + b"2")]).result()
    store.add_backgrounds(aid, [Background("cam-a", T0, T0 + timedelta(minutes=15), 4, jpeg)]).result()
    store.finish_analysis(aid, "complete", 10, 10)
    tids = sorted(t["id"] for t in store.list_tracks())
    examples = {case: jpeg_bytes((k, 0, 255)) for k, case in enumerate(("PV-1", "PV-2", ""))}
    digests = {
        case: query_photos.keep_and_audit(store, p, "inv", "investigator", case, "p", {})
        for case, p in examples.items()
    }

    def raw(sql):
        with store.read() as conn:
            return [bytes(r[0]) for r in conn.execute(sql)]

    assert all(store.pictures.is_sealed(v) for v in raw("SELECT data FROM tubes") + raw("SELECT jpeg FROM backgrounds"))
    assert all(store.pictures.is_sealed(v) for v in raw("SELECT jpeg FROM query_photos"))
    assert store.tubes_of(tids) == {tids[0]: ("person", tube), tids[1]: ("person", tube + b"2")}
    assert [b[2] for b in store.backgrounds_of("cam-a", T0, T0 + timedelta(hours=1))] == [jpeg]

    def plain(conn):  # what an earlier version stored
        conn.execute("UPDATE tubes SET data = ?", (tube,))
        conn.execute("UPDATE backgrounds SET jpeg = ?", (jpeg,))
        for case, p in examples.items():
            conn.execute("UPDATE query_photos SET jpeg = ? WHERE case_ref = ?", (p, case))

    store.write(plain).result()
    (store.data_dir / gateway.MARKER).unlink(missing_ok=True)
    monkeypatch.setattr(gateway, "PICTURE_COLUMNS", tuple(replace(c, batch=1) for c in gateway.PICTURE_COLUMNS))
    assert store.seal_plain_pictures() == {"tubes": 2, "backgrounds": 1, "query_photos": 3}
    for sql in ("SELECT data FROM tubes", "SELECT jpeg FROM backgrounds", "SELECT jpeg FROM query_photos"):
        assert all(store.pictures.is_sealed(v) for v in raw(sql)), sql
    assert store.tubes_of(tids) == {tids[0]: ("person", tube), tids[1]: ("person", tube)}
    for case, p in examples.items():
        assert query_photos.stored_photo(store, digests[case], case) == p
    assert store.seal_plain_pictures() == {}


def test_a_session_case_and_case_marks(cams, monkeypatch):
    """Issue 20 (cases) on both backends: a session's open case is replaced by a switch and ends with the
    session; a track's mark per case is replaced, removed, and goes with the track; each change is audited."""
    from vigie.accounts import users
    from vigie.audit.log import query, verify
    from vigie.cases import activity
    from vigie.cases import session as cases

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    alice = users.create_user(cams, "alice", "investigator", "correct horse battery")
    token = users.create_session(cams, alice)
    digest = users.token_hash(token)
    assert cases.current(cams, digest) is None
    cases.open_case(cams, digest, "alice", "investigator", " PV-1 ", "theft")
    assert {k: v for k, v in cases.current(cams, digest).items() if k != "opened_at"} == {
        "case_ref": "PV-1",
        "purpose": "theft",
    }
    cases.open_case(cams, digest, "alice", "investigator", "PV-2", "assault")
    assert cases.current(cams, digest)["case_ref"] == "PV-2"
    with pytest.raises(VigieError, match="purpose"):
        cases.open_case(cams, digest, "alice", "investigator", "PV-3", "  ")
    assert cases.current(cams, digest)["case_ref"] == "PV-2"  # a refused switch keeps the open case
    with pytest.raises(VigieError, match="session has ended"):
        cases.open_case(cams, users.token_hash("no such token"), "alice", "investigator", "PV-3", "x")

    _, ids = analyse(cams, [full_track(1), full_track(2, start_s=30.0)])
    cases.mark_track(cams, "alice", "investigator", "PV-2", "assault", ids[2], "same")
    cases.mark_track(cams, "alice", "investigator", "PV-2", "assault", ids[1], "different")
    cases.mark_track(cams, "alice", "investigator", "PV-2", "assault", ids[1], "same")  # replaced
    cases.mark_track(cams, "alice", "investigator", "PV-9", "other", ids[1], "different")
    assert [(m["track_id"], m["mark"], m["camera_id"]) for m in cases.marks(cams, "PV-2")] == [
        (ids[1], "same", "cam-a"),
        (ids[2], "same", "cam-a"),
    ]
    assert [(m["case_ref"], m["mark"]) for m in cases.marks_of_track(cams, ids[1])] == [
        ("PV-2", "same"),
        ("PV-9", "different"),
    ]
    with pytest.raises(VigieError, match="mark"):
        cases.mark_track(cams, "alice", "investigator", "PV-2", "assault", ids[1], "maybe")
    cases.mark_track(cams, "alice", "investigator", "PV-2", "assault", ids[2], None)
    assert [m["track_id"] for m in cases.marks(cams, "PV-2")] == [ids[1]]
    page = activity.summary(cams, "PV-2", "alice")
    assert page["marks"][0]["track_id"] == ids[1] and page["exports"] == [] and len(page["openings"]) == 1

    assert cases.close_case(cams, digest, "alice", "investigator")["case_ref"] == "PV-2"
    assert cases.close_case(cams, digest, "alice", "investigator") is None
    cases.open_case(cams, digest, "alice", "investigator", "PV-4", "fraud")
    users.logout(cams, token)  # the case ends with the session
    with cams.read() as conn:
        assert conn.execute("SELECT count(*) FROM session_cases").fetchone()[0] == 0
    cams.write(lambda conn: conn.execute("DELETE FROM tracks WHERE id = ?", (ids[1],))).result()  # as the purge
    assert cases.marks(cams, "PV-2") == [] and cases.marks_of_track(cams, ids[1]) == []
    actions = [e.action for e in query(cams, user="alice", limit=100)]
    assert actions.count("case_open") == 3 and actions.count("case_close") == 1 and actions.count("case_mark") == 5
    assert query(cams, action="case_open", limit=10)[1].details_dict() == {"switched_from": "PV-1"}
    assert verify(cams).ok
