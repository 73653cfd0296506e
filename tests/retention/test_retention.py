"""Retention (vigie purge) and legal holds: what goes, what stays, all or nothing."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from datetime import timedelta

import numpy as np
import pytest
from builders import T0, jpeg_bytes, make_summary, write_site

from vigie.config import CameraConfig, SiteConfig, load_site
from vigie.errors import ConfigError
from vigie.media.clips import clip_files, clip_path
from vigie.retention import purge as purge_mod
from vigie.retention.holds import HoldError, lift_hold, list_holds, place_hold
from vigie.retention.purge import purge
from vigie.store.sqlite import SQLiteStore

DAY = 86400.0
NOW = T0 + timedelta(days=40)  # tracks at T0 are 40 days old
OLD, RECENT = 0.0, 35 * DAY  # start_s: 40 and 5 days before NOW
CHILD_TABLES = ("track_points", "track_colours", "thumbnails", "track_crops", "track_vectors")


def site(cam_a: int | None = None, cam_b: int | None = None, default: int = 30, legal_max: int = 30) -> SiteConfig:
    return SiteConfig(
        name="t",
        retention_days=default,
        legal_max_retention_days=legal_max,
        cameras=[
            CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3, retention_days=cam_a),
            CameraConfig(id="cam-b", name="B", lat=43.9, lon=4.4, retention_days=cam_b),
        ],
    )


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(site().cameras)
    yield s
    s.close()


def track(no: int, start_s: float, camera: str = "cam-a"):
    """A person track with every kind of row: points, colours, thumbnail, crops, vector."""
    return make_summary(
        camera_id=camera,
        track_no=no,
        start_s=start_s,
        jpeg=jpeg_bytes(),
        upper_colours=["red"],
        lower_colours=["black", "grey"],
        crops=np.ones((2, 8), np.float32),
        crop_seqs=[0, 1],
        crop_base="test-base",
        vector=np.ones(4, np.float32) / 2,
        vector_model="test-model",
    )


_fingerprints = iter(range(10**6))


def analyse(store: SQLiteStore, tracks, camera: str = "cam-a") -> dict[int, int]:
    """Store one finished analysis; returns {track_no: track id}."""
    fp = f"{next(_fingerprints):064d}"
    aid = store.begin_analysis(camera, f"/videos/{fp[-6:]}.mp4", fp)
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", 100, 100)
    with store.read() as conn:
        return {r[0]: r[1] for r in conn.execute("SELECT track_no, id FROM tracks WHERE analysis_id=?", (aid,))}


def rows_of(store: SQLiteStore, track_id: int) -> dict[str, int]:
    with store.read() as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t} WHERE track_id=?", (track_id,)).fetchone()[0]
            for t in CHILD_TABLES
        }
        return counts | {"tracks": conn.execute("SELECT count(*) FROM tracks WHERE id=?", (track_id,)).fetchone()[0]}


def thumb(store: SQLiteStore, track_id: int, camera: str = "cam-a"):
    return store.thumb_dir / camera / f"{track_id}.jpg"


# --- purge -------------------------------------------------------------------------------------------
def test_old_tracks_go_with_all_their_rows_and_files_recent_ones_stay(store):
    ids = analyse(store, [track(1, OLD), track(2, RECENT)])
    old, recent = ids[1], ids[2]
    assert all(n >= 1 for n in rows_of(store, old).values()) and thumb(store, old).is_file()

    report = purge(store, site(), now=NOW)

    assert all(n == 0 for n in rows_of(store, old).values()), rows_of(store, old)
    assert not thumb(store, old).exists()
    assert rows_of(store, recent)["tracks"] == 1 and rows_of(store, recent)["track_points"] == 5
    assert thumb(store, recent).is_file()
    a = {c.camera_id: c for c in report.cameras}["cam-a"]
    assert (a.tracks_removed, a.tracks_held, a.thumbnails_removed, a.analyses_removed) == (1, 0, 1, 0)
    assert a.retention_days == 30 and a.cutoff == "2026-11-30T13:00:00.000000Z"
    assert (report.tracks_removed, report.thumbnails_removed, report.dry_run) == (1, 1, False)
    assert report.seconds >= 0


def test_an_analysis_left_with_no_tracks_is_removed(store):
    analyse(store, [track(1, OLD), track(2, OLD + 60)])
    keep = analyse(store, [track(1, RECENT)])
    report = purge(store, site(), now=NOW)
    assert report.tracks_removed == 2 and report.analyses_removed == 1
    assert [a["id"] for a in store.analyses()] == [store.get_track(keep[1])["analysis_id"]]


def test_per_camera_retention_is_honoured(store):
    a = analyse(store, [track(1, 25 * DAY)])  # 15 days old
    b = analyse(store, [track(1, 25 * DAY, "cam-b")], camera="cam-b")
    report = purge(store, site(cam_a=10), now=NOW)  # cam-a keeps 10 days, cam-b the default 30
    assert store.get_track(a[1]) is None and store.get_track(b[1]) is not None
    by_cam = {c.camera_id: (c.retention_days, c.tracks_removed) for c in report.cameras}
    assert by_cam == {"cam-a": (10, 1), "cam-b": (30, 0)}


def test_a_camera_gone_from_the_site_file_uses_the_site_default(store):
    store.upsert_cameras([CameraConfig(id="cam-old", name="removed", lat=0.0, lon=0.0)])
    ids = analyse(store, [track(1, OLD, "cam-old")], camera="cam-old")
    report = purge(store, site(default=20), now=NOW)
    assert store.get_track(ids[1]) is None
    assert {c.camera_id: c.retention_days for c in report.cameras}["cam-old"] == 20


def test_dry_run_reports_the_same_and_changes_nothing(store):
    ids = analyse(store, [track(1, OLD), track(2, RECENT)])
    before = store.counts()
    dry = purge(store, site(), now=NOW, dry_run=True)
    assert store.counts() == before and thumb(store, ids[1]).is_file()
    real = purge(store, site(), now=NOW)

    def strip(r):
        return [{k: v for k, v in c.items() if k != "seconds"} for c in r.as_dict()["cameras"]]

    assert dry.dry_run and strip(dry) == strip(real) and dry.as_dict()["totals"] == real.as_dict()["totals"]


def test_purge_is_all_or_nothing(store, monkeypatch):
    ids = analyse(store, [track(1, OLD), track(2, OLD + 60)])
    analyse(store, [track(1, OLD, "cam-b")], camera="cam-b")
    before = store.counts()

    def fail(conn, analysis_ids):  # after the first camera's tracks were deleted in the transaction
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setattr(purge_mod, "_delete_analyses", fail)
    with pytest.raises(sqlite3.OperationalError, match="simulated"):
        purge(store, site(), now=NOW)
    assert store.counts() == before
    assert all(thumb(store, t).is_file() for t in ids.values())  # files go only after a commit

    monkeypatch.undo()
    assert purge(store, site(), now=NOW).tracks_removed == 3


def test_orphan_thumbnail_files_are_removed(store):
    ids = analyse(store, [track(1, RECENT)])
    orphan = store.thumb_dir / "cam-a" / "999.jpg"
    orphan.write_bytes(b"left over by a crash")
    other = store.thumb_dir / "cam-a" / "notes.jpg"
    other.write_bytes(b"not a track thumbnail")
    assert purge(store, site(), now=NOW, dry_run=True).orphan_thumbnails_removed == 1 and orphan.exists()
    report = purge(store, site(), now=NOW)
    assert report.orphan_thumbnails_removed == 1 and report.thumbnails_removed == 1
    assert not orphan.exists() and other.exists() and thumb(store, ids[1]).is_file()


# --- cached clips (vigie.media.clips) --------------------------------------------------------------------
def cached_clip(store: SQLiteStore, track_id: int, fmt: str = "webm", camera: str = "cam-a"):
    """A cached clip file as render_clip leaves it (the content does not matter to purge)."""
    path = clip_path(store, camera, track_id, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"blurred clip")
    return path


def test_the_cached_clips_of_purged_tracks_go_after_the_commit(store, monkeypatch):
    ids = analyse(store, [track(1, OLD), track(2, RECENT)])
    old = [cached_clip(store, ids[1]), cached_clip(store, ids[1], "mp4")]
    recent = cached_clip(store, ids[2])

    def fail(conn, analysis_ids):
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setattr(purge_mod, "_delete_analyses", fail)
    with pytest.raises(sqlite3.OperationalError):
        purge(store, site(), now=NOW)
    assert all(p.is_file() for p in old)  # rolled back: the files stay with their rows
    monkeypatch.undo()

    dry = purge(store, site(), now=NOW, dry_run=True)
    assert dry.clips_removed == 2 and all(p.is_file() for p in old)
    report = purge(store, site(), now=NOW)
    assert not any(p.exists() for p in old) and recent.is_file()
    a = {c.camera_id: c for c in report.cameras}["cam-a"]
    assert (a.tracks_removed, a.clips_removed, report.orphan_clips_removed, report.clips_removed) == (1, 2, 0, 2)
    assert report.as_dict()["totals"]["clips_removed"] == 2 and report.as_dict()["cameras"][0]["clips_removed"] == 2
    assert clip_files(store) == {ids[2]: [recent]}


def test_a_held_tracks_clip_stays(store):
    ids = analyse(store, [track(1, OLD)])
    clip = cached_clip(store, ids[1])
    place_hold(store, "PV-3", "evidence", "insp. a", track_ids=[ids[1]])
    report = purge(store, site(), now=NOW)
    assert report.tracks_held == 1 and report.clips_removed == 0 and clip.is_file()


def test_orphan_clips_and_dead_renders_temp_files_are_removed(store):
    ids = analyse(store, [track(1, RECENT)])
    kept = cached_clip(store, ids[1])
    orphans = [cached_clip(store, 999), cached_clip(store, 998, "mp4", camera="cam-gone")]
    other = kept.parent / "notes.webm"  # not <track id>.<fmt>: not ours to delete
    other.write_bytes(b"x")
    dead = kept.parent / f".{ids[1]}.webm.abc123.tmp"
    dead.write_bytes(b"half a clip")
    os.utime(dead, (time.time() - 7200, time.time() - 7200))
    live = kept.parent / f".{ids[1]}.mp4.def456.tmp"  # a render writing now
    live.write_bytes(b"being written")

    dry = purge(store, site(), now=NOW, dry_run=True)
    assert dry.orphan_clips_removed == 3 and all(p.exists() for p in orphans + [dead])
    report = purge(store, site(), now=NOW)
    assert (report.orphan_clips_removed, report.clips_removed, report.tracks_removed) == (3, 3, 0)
    assert not any(p.exists() for p in orphans + [dead])
    assert kept.is_file() and other.is_file() and live.is_file()
    assert dry.as_dict()["totals"] == report.as_dict()["totals"]


# --- holds -------------------------------------------------------------------------------------------
def test_a_hold_by_track_id_keeps_it_until_lifted(store):
    ids = analyse(store, [track(1, OLD), track(2, OLD + 60)])
    hold = place_hold(store, "PV-2026-118", "assault, rue de la Madeleine", "insp. martin", track_ids=[ids[1]])

    report = purge(store, site(), now=NOW)
    assert (report.tracks_removed, report.tracks_held, report.analyses_removed) == (1, 1, 0)
    assert store.get_track(ids[1]) is not None and thumb(store, ids[1]).is_file()
    assert store.get_track(ids[2]) is None

    lift_hold(store, hold, "insp. martin")
    report = purge(store, site(), now=NOW)
    assert (report.tracks_removed, report.tracks_held, report.analyses_removed) == (1, 0, 1)
    assert store.get_track(ids[1]) is None and not thumb(store, ids[1]).exists()


def test_a_hold_on_a_camera_window_keeps_the_tracks_seen_in_it(store):
    # tracks of 5 points at 7 fps, in view for about 0.6 s from T0 + start_s
    ids = analyse(store, [track(1, OLD), track(2, OLD + 600), track(3, OLD + 1200)])
    other = analyse(store, [track(1, OLD + 600, "cam-b")], camera="cam-b")
    place_hold(
        store,
        "PV-2026-119",
        "theft reported at 13:10",
        "insp. durand",
        camera_id="cam-a",
        start=T0 + timedelta(seconds=590),
        end="2026-11-20T13:15:00Z",
    )
    report = purge(store, site(), now=NOW)
    assert [t for t in (1, 2, 3) if store.get_track(ids[t])] == [2]
    assert store.get_track(other[1]) is None  # the window is cam-a's only
    assert report.tracks_held == 1 and report.tracks_removed == 3


def test_the_store_refuses_to_delete_a_held_track_whoever_asks(store):
    ids = analyse(store, [track(1, OLD)])
    place_hold(store, "PV-1", "evidence", "insp. martin", track_ids=[ids[1]])
    with pytest.raises(sqlite3.IntegrityError, match="legal hold"):
        store.write(lambda conn: conn.execute("DELETE FROM tracks WHERE id=?", (ids[1],))).result()
    assert store.get_track(ids[1]) is not None


def test_hold_validation_names_the_problem(store):
    ids = analyse(store, [track(1, RECENT)])
    with pytest.raises(HoldError, match="no stored track has id 424242"):
        place_hold(store, "C", "R", "u", track_ids=[ids[1], 424242])
    with pytest.raises(HoldError, match="case reference"):
        place_hold(store, "  ", "R", "u", track_ids=[ids[1]])
    with pytest.raises(HoldError, match="reason"):
        place_hold(store, "C", "", "u", track_ids=[ids[1]])
    with pytest.raises(HoldError, match="ends .* before it starts"):
        place_hold(store, "C", "R", "u", camera_id="cam-a", start="2026-11-20T14:00:00Z", end="2026-11-20T13:00:00Z")
    with pytest.raises(HoldError, match="camera, start and end"):
        place_hold(store, "C", "R", "u", camera_id="cam-a", start="2026-11-20T14:00:00Z")
    with pytest.raises(HoldError, match="'cam-z' is not in the store"):
        place_hold(store, "C", "R", "u", camera_id="cam-z", start="2026-11-20T13:00:00Z", end="2026-11-20T14:00:00Z")
    with pytest.raises(HoldError, match="not an ISO 8601 time"):
        place_hold(store, "C", "R", "u", camera_id="cam-a", start="yesterday", end="2026-11-20T14:00:00Z")
    with pytest.raises(HoldError, match="track ids or a camera"):
        place_hold(store, "C", "R", "u")
    assert list_holds(store, active_only=False) == []  # nothing half-placed

    hold = place_hold(store, "C", "R", "insp. a", track_ids=[ids[1]])
    lift_hold(store, hold, "insp. b")
    with pytest.raises(HoldError, match="already lifted by insp. b"):
        lift_hold(store, hold, "insp. c")
    with pytest.raises(HoldError, match="no legal hold has id 77"):
        lift_hold(store, 77, "insp. c")


def test_holds_record_who_when_and_why(store):
    ids = analyse(store, [track(1, RECENT), track(2, RECENT + 60)])
    h1 = place_hold(store, "PV-7", "witness statement", "insp. a", track_ids=[ids[2], ids[1]])
    h2 = place_hold(
        store,
        "PV-8",
        "incident",
        "insp. b",
        camera_id="cam-a",
        start="2026-11-20T14:00:00+01:00",
        end="2026-11-20T13:30:00",
    )
    lift_hold(store, h1, "insp. c")
    assert [h["id"] for h in list_holds(store)] == [h2]
    everything = {h["id"]: h for h in list_holds(store, active_only=False)}
    assert everything[h1]["track_ids"] == sorted([ids[1], ids[2]])
    assert (everything[h1]["placed_by"], everything[h1]["lifted_by"], everything[h1]["active"]) == (
        "insp. a",
        "insp. c",
        False,
    )
    assert everything[h1]["placed_at"].endswith("Z") and everything[h1]["lifted_at"].endswith("Z")
    assert (everything[h2]["window_start"], everything[h2]["window_end"]) == (
        "2026-11-20T13:00:00.000000Z",
        "2026-11-20T13:30:00.000000Z",
    )


# --- the site file ---------------------------------------------------------------------------------
def test_retention_above_the_legal_maximum_names_camera_value_and_maximum(tmp_path):
    with pytest.raises(ValueError, match=r"camera 'cam-b': retention_days 45 is above the legal maximum of 30 days"):
        site(cam_b=45)
    with pytest.raises(ValueError, match=r"retention_days 31 is above the legal maximum of 30 days"):
        site(default=31)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        site(cam_a=0)
    assert site(cam_b=45, legal_max=60).retention_for("cam-b") == 45
    assert site(cam_a=7).retention_for("cam-a") == 7 and site(cam_a=7).retention_for("cam-b") == 30
    assert site(default=12).retention_for("not-in-the-file") == 12

    raw = {"name": "t", "cameras": [{"id": "cam-x", "name": "X", "lat": 0, "lon": 0, "retention_days": 90}]}
    with pytest.raises(ConfigError, match=r"camera 'cam-x': retention_days 90 is above the legal maximum of 30 days"):
        load_site(write_site(tmp_path, raw))


# --- the CLI verbs ----------------------------------------------------------------------------------
def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    from vigie.cli.retention import register

    parser = argparse.ArgumentParser(prog="vigie")
    register(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(argv)
    rc = args.fn(args)
    return rc, capsys.readouterr().out


def test_cli_hold_and_purge(tmp_path, monkeypatch, capsys):
    data = tmp_path / "var"
    monkeypatch.setenv("VIGIE_DATA", str(data))
    with SQLiteStore(data) as s:
        s.upsert_cameras(site().cameras)
        ids = analyse(s, [track(1, -400 * DAY), track(2, -400 * DAY + 60)])  # long expired whatever today is
    site_file = write_site(
        tmp_path, {"name": "t", "cameras": [{"id": "cam-a", "name": "A", "lat": 0, "lon": 0, "retention_days": 5}]}
    )

    rc, out = run_cli(
        [
            "hold",
            "place",
            "--case",
            "PV-9",
            "--reason",
            "evidence",
            "--user",
            "insp. a",
            "--track",
            str(ids[1]),
            "--json",
        ],
        capsys,
    )
    hold = json.loads(out)["id"]
    rc, out = run_cli(["hold", "list"], capsys)
    assert rc == 0 and "PV-9" in out and f"tracks {ids[1]}" in out

    rc, out = run_cli(["purge", "--site", str(site_file), "--dry-run", "--json"], capsys)
    cams = {c["camera_id"]: c for c in json.loads(out)["cameras"]}
    assert (
        cams["cam-a"]["retention_days"] == 5
        and cams["cam-a"]["tracks_removed"] == 1
        and cams["cam-a"]["tracks_held"] == 1
    )
    rc, out = run_cli(["purge", "--site", str(site_file)], capsys)
    assert rc == 0 and out.startswith(
        "Removed 1 tracks, 1 thumbnail files, 0 clip files, 0 synopses, 0 analyses and 0 alerts; 1 expired tracks kept"
    )

    run_cli(["hold", "lift", str(hold), "--user", "insp. a"], capsys)
    rc, out = run_cli(["hold", "list", "--all", "--json"], capsys)
    assert json.loads(out)[0]["lifted_by"] == "insp. a"
    rc, out = run_cli(["purge", "--site", str(site_file), "--json"], capsys)
    assert json.loads(out)["totals"] == {
        "tracks_removed": 1,
        "tracks_held": 0,
        "thumbnails_removed": 1,
        "clips_removed": 0,
        "analyses_removed": 1,
        "alerts_removed": 0,
        "segments_removed": 0,
        "segments_held": 0,
        "synopses_removed": 0,
        "citizen_reports_removed": 0,
        "citizen_contacts_cleared": 0,
        "query_photos_removed": 0,
    }


# --- synopses ---------------------------------------------------------------------------------------------
def _synopsis(store, name: str, track_ids: list[int], until, camera: str = "cam-a"):
    folder = store.data_dir / "synopses" / name
    folder.mkdir(parents=True)
    (folder / "synopsis.mp4").write_bytes(b"video")
    (folder / "synopsis.json").write_text(
        json.dumps(
            {
                "camera": camera,
                "from": "2026-01-01T00:00:00.000000Z",
                "to": until.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "objects": [{"track": t} for t in track_ids],
            }
        )
    )
    (folder / "job.json").write_text("{}")  # the web's job file: not an index
    return folder


def test_synopses_go_with_their_period_unless_a_track_is_held(store):
    ids = analyse(store, [track(1, OLD), track(2, OLD + 60), track(3, RECENT)])
    expired = _synopsis(store, "web/a1", [ids[1]], T0 + timedelta(hours=1))
    held = _synopsis(store, "web/b2", [ids[2]], T0 + timedelta(hours=1))
    recent = _synopsis(store, "cam-a-recent", [ids[3]], T0 + timedelta(days=36))
    other_camera = _synopsis(store, "cam-b-old", [], T0 + timedelta(hours=1), camera="cam-b")
    place_hold(store, "PV-9", "evidence", "insp. b", track_ids=[ids[2]])
    dry = purge(store, site(), now=NOW, dry_run=True)
    assert dry.synopses_removed == 2 and expired.is_dir()
    report = purge(store, site(), now=NOW)
    assert report.synopses_removed == 2 and report.as_dict()["totals"]["synopses_removed"] == 2
    assert not expired.exists() and not other_camera.exists()  # cam-b's 30 days passed too
    assert held.is_dir() and recent.is_dir()


# --- citizen reports ---------------------------------------------------------------------------------------
def test_the_purge_removes_old_rejected_citizen_reports_and_says_so(store):
    from datetime import datetime, timezone

    from vigie.times import iso

    now = datetime.now(timezone.utc)

    def report(conn, token: str, decided_days_ago: float) -> None:
        at = iso(now - timedelta(days=decided_days_ago))
        conn.execute(
            "INSERT INTO citizen_reports (service_code, lat, lon, requested_at, updated_at, moderation, moderated_at,"
            " reject_reason, token_hash, client_hash) VALUES ('graffiti', 43.83, 4.36, ?, ?, 'rejected', ?, 'spam', ?, 'c')",
            (at, at, at, token),
        )

    store.write(lambda conn: (report(conn, "old", 31), report(conn, "recent", 2))).result()
    assert purge(store, site(), dry_run=True).citizen_reports_removed == 1
    result = purge(store, site())
    assert result.citizen_reports_removed == 1 and result.as_dict()["totals"]["citizen_reports_removed"] == 1
    with store.read() as conn:
        assert [r[0] for r in conn.execute("SELECT token_hash FROM citizen_reports")] == ["recent"]


# --- issue 19, finding 5: alerts go with their tracks ---------------------------------------------------------
def _alert(store, n: int, track_ids: tuple[int, ...], start_s: float) -> int:
    from vigie.alerts import store as alerts
    from vigie.rules.base import Event

    e = Event(
        f"rule-{n}",
        "zone_intrusion",
        "cam-a",
        T0 + timedelta(seconds=start_s),
        T0 + timedelta(seconds=start_s + 5),
        track_ids,
        (100.0, 200.0),
        {"zone": "fountain"},
    )
    [aid] = alerts.record(store, [e], snapshots={alerts.event_key(e): jpeg_bytes()})
    return aid


def test_an_alert_goes_with_its_tracks_unless_one_is_held_and_the_report_counts_it(store):
    """An alert's snapshot, track ids, position and time survived the purge of its track."""
    ids = analyse(store, [track(1, OLD), track(2, OLD), track(3, RECENT)])
    gone = _alert(store, 1, (ids[1],), OLD + 1)  # its track expires
    kept_by_hold = _alert(store, 2, (ids[1], ids[2]), OLD + 1)  # one of its tracks is held
    recent = _alert(store, 3, (ids[3],), RECENT + 1)
    no_track = _alert(store, 4, (), OLD + 2)  # a crowd or line count with no track: it expires with its time
    place_hold(store, "PV-19", "evidence", "insp. a", track_ids=[ids[2]])

    def alert_ids():
        with store.read() as conn:
            return {r[0] for r in conn.execute("SELECT id FROM alerts")}

    dry = purge(store, site(), now=NOW, dry_run=True)
    assert dry.alerts_removed == 2 and alert_ids() == {gone, kept_by_hold, recent, no_track}
    report = purge(store, site(), now=NOW)
    assert alert_ids() == {kept_by_hold, recent}
    a = {c.camera_id: c for c in report.cameras}["cam-a"]
    assert (a.alerts_removed, report.alerts_removed, report.as_dict()["totals"]["alerts_removed"]) == (2, 2, 2)
    assert "alert_ids" not in report.as_dict()["cameras"][0]
    with store.read() as conn:  # nothing of them is left: no snapshot, no track id, no position, no time
        assert conn.execute("SELECT count(*) FROM alerts WHERE id IN (?, ?)", (gone, no_track)).fetchone()[0] == 0
    # the hold lifted, its alert goes at the next purge
    [hold] = list_holds(store)
    lift_hold(store, hold["id"], "insp. a")
    assert purge(store, site(), now=NOW).alerts_removed == 1 and alert_ids() == {recent}


# --- issue 19, finding 4: holds are bounded, and lifted by their placer or a supervisor -----------------------
def test_a_hold_window_is_bounded_and_an_open_ended_one_needs_a_supervisor(store):
    """A hold over a whole camera for all time was accepted, which switched retention off."""
    from vigie.retention.holds import OPEN_END, HoldForbidden

    ids = analyse(store, [track(1, OLD), track(2, OLD + DAY)])
    window = {"camera_id": "cam-a", "role": "investigator", "max_window_days": 7}
    for start, end in (("1970-01-01T00:00:00Z", "9999-12-31T00:00:00Z"), (T0, T0 + timedelta(days=7, seconds=1))):
        with pytest.raises(HoldForbidden, match="hold_max_window_days"):
            place_hold(store, "C", "R", "inv", start=start, end=end, **window)
    with pytest.raises(HoldForbidden, match="supervisor"):
        place_hold(store, "C", "R", "inv", start=T0, open_end=True, **window)
    with pytest.raises(HoldError, match="either end or open_ended"):
        place_hold(store, "C", "R", "sup", start=T0, end=T0 + timedelta(days=1), open_end=True, **window)
    assert list_holds(store, active_only=False) == []
    place_hold(store, "C", "R", "inv", start=T0, end=T0 + timedelta(days=7), **window)  # at the bound
    # a supervisor's open-ended hold keeps every track from its start on, until lifted
    sup = place_hold(
        store,
        "C",
        "R",
        "sup",
        camera_id="cam-a",
        start=T0 + timedelta(hours=12),
        open_end=True,
        role="supervisor",
        max_window_days=7,
    )
    assert {h["id"]: h for h in list_holds(store)}[sup]["window_end"] == OPEN_END
    lift_hold(store, 1, "inv", role="investigator", reason="window no longer needed")
    report = purge(store, site(), now=NOW)
    assert (report.tracks_removed, report.tracks_held) == (1, 1) and rows_of(store, ids[2])["tracks"] == 1


def test_only_the_placer_or_a_supervisor_lifts_a_hold_and_always_with_a_reason(store):
    """Any investigator lifted anyone's hold without a reason, and the next purge deleted the footage."""
    from vigie.audit.log import query as audit_query
    from vigie.retention.holds import HoldForbidden

    ids = analyse(store, [track(1, OLD)])
    hold = place_hold(store, "PV-4", "evidence", "insp. a", track_ids=[ids[1]], role="investigator")
    with pytest.raises(HoldForbidden, match="placed by insp. a: only they or a supervisor"):
        lift_hold(store, hold, "insp. b", role="investigator", reason="not needed")
    for reason in (None, "", "   "):
        with pytest.raises(HoldError, match="reason"):
            lift_hold(store, hold, "insp. a", role="investigator", reason=reason)
    assert purge(store, site(), now=NOW).tracks_held == 1  # still held
    lift_hold(store, hold, "chief", role="supervisor", reason="case closed by the prosecutor")
    entry = audit_query(store, action="hold_lift")[0]
    assert (entry.user, entry.role, entry.case_ref, entry.purpose) == (
        "chief",
        "supervisor",
        "PV-4",
        "case closed by the prosecutor",
    )
    assert entry.details_dict()["placed_by"] == "insp. a"
    assert purge(store, site(), now=NOW).tracks_removed == 1
