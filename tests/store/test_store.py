from __future__ import annotations

import sqlite3

import pytest
from builders import jpeg_bytes, make_summary

from vigie.config import CameraConfig
from vigie.store.sqlite import SQLiteStore, _migrations
from vigie.times import iso

VERSIONS = [v for v, _ in _migrations()]

CAMERAS = [CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3), CameraConfig(id="cam-b", name="B", lat=43.9, lon=4.4)]


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(CAMERAS)
    yield s
    s.close()


def analyse(store: SQLiteStore, tracks, camera="cam-a", fingerprint="f" * 64, status="complete", finish=True) -> int:
    """One analysis as the pipeline runs it: begin, add tracks, finish."""
    aid = store.begin_analysis(camera, f"/videos/{fingerprint[:8]}.mp4", fingerprint)
    store.add_tracks(aid, tracks).result()
    if finish:
        store.finish_analysis(aid, status, frames_decoded=100, frames_analysed=90)
    return aid


# --- migrations ---------------------------------------------------------------------------------
def test_migrations_create_the_latest_schema_with_the_tables(tmp_path):
    with SQLiteStore(tmp_path) as s:
        assert s.schema_version() == VERSIONS[-1]
    conn = sqlite3.connect(tmp_path / "vigie.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert {
        "schema_version",
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
        "unblur_grants",
        "exports",
        "settings",
        "alerts",
        "stream_gaps",
        "tubes",
        "backgrounds",
    } <= tables


def test_the_roles_migration_keeps_users_and_their_sessions_and_accepts_the_new_roles(tmp_path):
    # A store as it was before migration 10: the users table's CHECK knew four roles.
    conn = sqlite3.connect(tmp_path / "vigie.db")
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for version, sql in _migrations():
        if version < 10:
            conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({version}, 'then');\nCOMMIT;")
    conn.execute(
        "INSERT INTO users (id, username, role, password_hash, created_at) VALUES (7, 'ops', 'operator', 'h', 't')"
    )
    conn.execute("INSERT INTO sessions VALUES ('abc', 7, 't', 'u', 't')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO users (username, role, password_hash, created_at) VALUES ('a', 'analyst', 'h', 't')")
    conn.commit()
    conn.close()

    with SQLiteStore(tmp_path) as s:
        assert s.schema_version() == VERSIONS[-1]
    conn = sqlite3.connect(tmp_path / "vigie.db")
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("SELECT id, username, role FROM users").fetchall() == [(7, "ops", "operator")]
    assert conn.execute("SELECT token_hash, user_id FROM sessions").fetchall() == [("abc", 7)]
    conn.execute("INSERT INTO users (username, role, password_hash, created_at) VALUES ('a', 'analyst', 'h', 't')")
    conn.execute("INSERT INTO users (username, role, password_hash, created_at) VALUES ('m', 'moderator', 'h', 't')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO users (username, role, password_hash, created_at) VALUES ('x', 'mayor', 'h', 't')")
    conn.execute("DELETE FROM users WHERE id = 7")  # the sessions' reference still points at the rebuilt table
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    conn.close()


def test_the_supervisor_migration_keeps_users_grants_and_sessions(tmp_path):
    """Issue 19: migration 15 rebuilds `users` (supervisor, 'none', must_change_password); nothing is lost."""
    conn = sqlite3.connect(tmp_path / "vigie.db")
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    for version, sql in _migrations():
        if version < 15:
            if "-- vigie: rebuilds tables" in sql:
                conn.execute("PRAGMA foreign_keys = OFF")
            conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({version}, 'then');\nCOMMIT;")
    conn.execute(
        "INSERT INTO users (id, username, role, password_hash, created_at) VALUES (7, 'inv', 'investigator', 'h', 't')"
    )
    conn.execute("INSERT INTO sessions VALUES ('abc', 7, 't', 'u', 't')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES ('s', 'supervisor', 'h', 't')"
        )
    conn.commit()
    conn.close()

    with SQLiteStore(tmp_path) as s:
        assert s.schema_version() == VERSIONS[-1]
    conn = sqlite3.connect(tmp_path / "vigie.db")
    conn.execute("PRAGMA foreign_keys = ON")
    assert conn.execute("SELECT id, role, must_change_password FROM users").fetchall() == [(7, "investigator", 0)]
    assert conn.execute("SELECT token_hash, user_id FROM sessions").fetchall() == [("abc", 7)]
    conn.execute("INSERT INTO users (username, role, password_hash, created_at) VALUES ('s', 'supervisor', 'h', 't')")
    conn.execute("INSERT INTO users (username, role, password_hash, created_at) VALUES ('n', 'none', 'h', 't')")
    conn.execute("DELETE FROM users WHERE id = 7")  # the references follow the rebuilt table
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    conn.close()


def test_reopening_does_not_reapply_migrations_and_keeps_data(tmp_path):
    with SQLiteStore(tmp_path) as s:
        s.upsert_cameras(CAMERAS)
        analyse(s, [make_summary()])
    conn = sqlite3.connect(tmp_path / "vigie.db")
    before = conn.execute("SELECT version, applied_at FROM schema_version").fetchall()
    conn.close()

    with SQLiteStore(tmp_path) as s:  # would fail with "table cameras already exists" if re-applied
        assert s.schema_version() == VERSIONS[-1]
        assert len(s.list_tracks()) == 1
    conn = sqlite3.connect(tmp_path / "vigie.db")
    after = conn.execute("SELECT version, applied_at FROM schema_version").fetchall()
    conn.close()
    assert after == before and [v for v, _ in after] == VERSIONS == list(range(1, len(VERSIONS) + 1))


def test_upsert_cameras_updates_in_place(store):
    store.upsert_cameras([CameraConfig(id="cam-a", name="A renamed", lat=1.0, lon=2.0)])
    assert store.counts()["cameras"] == 2


# --- visibility and replacement ------------------------------------------------------------------
def test_tracks_are_visible_only_after_the_analysis_finishes(store):
    aid = store.begin_analysis("cam-a", "/videos/a.mp4", "a" * 64)
    store.add_tracks(aid, [make_summary(track_no=1), make_summary(track_no=2)]).result()
    assert store.list_tracks() == []
    assert store.counts()["tracks"] == 2  # written, not shown

    store.finish_analysis(aid, "complete", 100, 100)
    rows = store.list_tracks()
    assert sorted(r["track_no"] for r in rows) == [1, 2]
    assert {r["analysis_id"] for r in rows} == {aid}
    assert [a["status"] for a in store.analyses()] == ["complete"]


def test_partial_analysis_is_visible(store):
    analyse(store, [make_summary()], status="partial")
    assert len(store.list_tracks()) == 1


def test_second_analysis_of_the_same_content_replaces_the_first(store):
    analyse(store, [make_summary(track_no=n) for n in (1, 2, 3)])
    counts_once = store.counts()
    second = analyse(store, [make_summary(track_no=n) for n in (1, 2, 3)])

    rows = store.list_tracks()
    assert sorted(r["track_no"] for r in rows) == [1, 2, 3]
    assert {r["analysis_id"] for r in rows} == {second}
    assert store.counts() == counts_once
    assert [a["id"] for a in store.analyses()] == [second]


@pytest.mark.parametrize(
    "other",
    [dict(camera="cam-b"), dict(fingerprint="b" * 64)],
    ids=["same file on another camera", "another file on the same camera"],
)
def test_analyses_of_other_content_or_cameras_are_kept(store, other):
    analyse(store, [make_summary(camera_id="cam-a", track_no=1)])
    analyse(store, [make_summary(camera_id=other.get("camera", "cam-a"), track_no=1)], **other)
    assert len(store.list_tracks()) == 2
    assert len(store.analyses()) == 2


def test_an_analysis_begun_and_never_finished_stays_invisible_and_keeps_the_earlier_one(tmp_path):
    with SQLiteStore(tmp_path) as s:
        s.upsert_cameras(CAMERAS)
        good = analyse(s, [make_summary(track_no=n) for n in (1, 2)])
        analyse(s, [make_summary(track_no=n) for n in (1, 2, 3, 4)], finish=False)  # the process dies here
    with SQLiteStore(tmp_path) as s:  # next start
        rows = s.list_tracks()
        assert sorted(r["track_no"] for r in rows) == [1, 2]
        assert {r["analysis_id"] for r in rows} == {good}
        # and a later complete run of the same content clears the leftovers
        third = analyse(s, [make_summary(track_no=7)])
        assert [r["track_no"] for r in s.list_tracks()] == [7]
        assert [a["id"] for a in s.analyses()] == [third]
        assert s.counts()["tracks"] == 1


# --- round trips --------------------------------------------------------------------------------------
def test_colours_and_attributes_round_trip(store):
    person = make_summary(
        track_no=1,
        upper_colours=["red", "white"],
        lower_colours=["blue"],
        direction="NE",
        speed_px_s=12.5,
        speed_m_s=1.3,
    )
    car = make_summary(track_no=2, class_name="car", body_colours=["grey"], start_s=1.0)
    analyse(store, [person, car])
    rows = {r["track_no"]: r for r in store.list_tracks()}
    assert rows[1]["upper"] == ["red", "white"]
    assert rows[1]["lower"] == ["blue"]
    assert rows[1]["body"] == []
    assert rows[1]["class"] == "person"
    assert rows[1]["direction"] == "NE"
    assert rows[1]["speed_px_s"] == pytest.approx(12.5)
    assert rows[1]["speed_m_s"] == pytest.approx(1.3)
    assert rows[1]["first_seen"] == iso(person.first_seen)
    assert rows[1]["last_seen"] == iso(person.last_seen)
    assert rows[1]["dwell_s"] == pytest.approx(person.dwell_s)
    assert rows[1]["n_points"] == len(person.points)
    assert rows[2]["body"] == ["grey"] and rows[2]["upper"] == [] and rows[2]["lower"] == []
    assert [r["track_no"] for r in store.list_tracks(class_name="car")] == [2]
    assert [r["track_no"] for r in store.list_tracks(camera_id="cam-b")] == []


def test_colour_order_is_kept_whatever_the_alphabet(store):
    analyse(store, [make_summary(upper_colours=["yellow", "black"], lower_colours=["white", "brown"])])
    row = store.list_tracks()[0]
    assert row["upper"] == ["yellow", "black"]
    assert row["lower"] == ["white", "brown"]


@pytest.mark.parametrize("ground", [True, False], ids=["calibrated", "uncalibrated"])
def test_points_round_trip(store, ground):
    s = make_summary(n_points=6, ground=ground)
    analyse(store, [s])
    track = store.list_tracks()[0]
    points = store.track_points(track["id"])
    assert [p["seq"] for p in points] == [p.seq for p in s.points]
    for got, want in zip(points, s.points):
        assert got["t"] == iso(want.timestamp)
        assert (got["x1"], got["y1"], got["x2"], got["y2"]) == pytest.approx(want.xyxy)
        assert got["confidence"] == pytest.approx(want.confidence)
        if ground:
            assert (got["ground_x"], got["ground_y"]) == pytest.approx(want.ground_xy)
        else:
            assert got["ground_x"] is None and got["ground_y"] is None


def test_get_track_by_id(store):
    analyse(store, [make_summary(track_no=4)])
    tid = store.list_tracks()[0]["id"]
    assert store.get_track(tid)["track_no"] == 4
    assert store.get_track(tid + 1000) is None


def test_list_tracks_is_in_time_order_and_pages(store):
    analyse(store, [make_summary(track_no=n, start_s=10 - n) for n in range(1, 6)])
    rows = store.list_tracks()
    assert [r["track_no"] for r in rows] == [5, 4, 3, 2, 1]
    assert [r["track_no"] for r in store.list_tracks(limit=2, offset=1)] == [4, 3]


# --- thumbnails ---------------------------------------------------------------------------------------------
def test_thumbnails_are_exported_as_files_named_by_camera_and_track_id(store):
    red, blue = jpeg_bytes((0, 0, 255)), jpeg_bytes((255, 0, 0))
    analyse(store, [make_summary(track_no=1, jpeg=red), make_summary(track_no=2, jpeg=blue), make_summary(track_no=3)])
    rows = {r["track_no"]: r for r in store.list_tracks()}
    for no, data in ((1, red), (2, blue)):
        path = store.data_dir / "thumbnails" / "cam-a" / f"{rows[no]['id']}.jpg"
        assert rows[no]["thumbnail_path"] == str(path)
        # issue 19 (finding 7): an unblurred crop is sealed at rest (it was a clear JPEG), the service's only
        assert path.read_bytes()[:2] != b"\xff\xd8" and data not in path.read_bytes()
        assert store.thumbnail_file(path) == data and store.thumbnail(rows[no]["id"]) == data
        assert path.stat().st_mode & 0o777 == 0o600
    assert rows[3]["thumbnail_path"] is None
    assert len(list((store.data_dir / "thumbnails").rglob("*.jpg"))) == 2
    assert not list((store.data_dir / "thumbnails").rglob("*.tmp"))


def test_replaced_tracks_lose_their_thumbnail_files(store):
    analyse(store, [make_summary(track_no=1, jpeg=jpeg_bytes())])
    old = store.list_tracks()[0]["thumbnail_path"]
    analyse(store, [make_summary(track_no=1, jpeg=jpeg_bytes())])
    new = store.list_tracks()[0]["thumbnail_path"]
    assert new != old
    files = sorted(str(p) for p in (store.data_dir / "thumbnails").rglob("*.jpg"))
    assert files == [new]


def test_unfinished_analysis_writes_no_thumbnail_files(store):
    analyse(store, [make_summary(jpeg=jpeg_bytes())], finish=False)
    assert not list(store.data_dir.glob("thumbnails/**/*.jpg"))


def test_write_errors_reach_the_caller(store):
    aid = store.begin_analysis("cam-a", "/v.mp4", "c" * 64)
    fut = store.add_tracks(aid, [make_summary(track_no=1), make_summary(track_no=1)])  # UNIQUE(analysis_id, track_no)
    with pytest.raises(sqlite3.IntegrityError):
        fut.result()
    store.finish_analysis(aid, "complete", 1, 1)
    assert store.list_tracks() == [], "the failed write was rolled back as a whole"


def test_reanalysing_a_file_whose_tracks_are_held_is_refused_and_keeps_them(store):
    from vigie.errors import VigieError
    from vigie.retention.holds import place_hold

    analyse(store, [make_summary(track_no=1), make_summary(track_no=2)])
    held = [t["id"] for t in store.list_tracks()]
    place_hold(store, "CASE-2026-0042", "assault on the esplanade", "inv1", track_ids=held[:1])
    with pytest.raises(VigieError, match="legal hold"):
        analyse(store, [make_summary(track_no=1)])
    assert [t["id"] for t in store.list_tracks()] == held  # the earlier analysis, held track included, still visible
