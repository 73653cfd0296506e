"""Issue 19, finding 7: raw pictures at rest, and the command line's reads.

The attacks reproduced: the data folder, the database and the thumbnails were
world-readable; unblurred crops lay in the clear in the database and in
thumbnails/, were inlined in `vigie trail --map` pages and drawn on `vigie tracks
--sheet` contact sheets; `vigie search`, `similar`, `tracks` and `trail` wrote no
audit entry.
"""

from __future__ import annotations

import base64
import getpass
import os
import re
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from builders import T0, jpeg_bytes, make_summary
from fakes import FakeBlurrer

from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.cli import EXIT_USAGE, main
from vigie.config import CameraConfig
from vigie.keys import MediaBox
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore

RED = (0, 0, 255)
CAMERAS = [
    CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, purpose="public safety"),
    CameraConfig(id="cam-b", name="Gare", lat=43.84, lon=4.37, purpose="public safety"),
]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def add_tracks(store) -> list[int]:
    recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
    ids = []
    for camera, n, start in (("cam-a", 1, recent), ("cam-b", 2, recent + 1500)):
        aid = store.begin_analysis(camera, "/videos/x.mp4", f"{camera}{n}".ljust(64, "0"))
        store.add_tracks(aid, [make_summary(camera, n, start_s=start, jpeg=jpeg_bytes(RED, (48, 96)))]).result()
        store.finish_analysis(aid, "complete", 10, 10)
        with store.read() as conn:
            ids += [r[0] for r in conn.execute("SELECT id FROM tracks WHERE analysis_id=?", (aid,))]
    vecs = [(ids[0], "plain", np.asarray([1, 0, 0], "<f4").tobytes())]
    vecs.append(
        (ids[1], "plain", (np.asarray([1, 0.05, 0], np.float32) / np.linalg.norm([1, 0.05, 0])).astype("<f4").tobytes())
    )
    store.write(lambda conn: conn.executemany("INSERT OR REPLACE INTO track_vectors VALUES (?,?,?)", vecs)).result()
    return ids


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    with SQLiteStore(tmp_path) as store:
        store.upsert_cameras(CAMERAS)
        ids = add_tracks(store)
    # the CLI's blurrer: paints the crop black, and says it was called
    fake = FakeBlurrer()
    monkeypatch.setattr("vigie.privacy.blur.Blurrer", lambda *a, **k: fake)
    return {"dir": tmp_path, "ids": ids, "blurrer": fake}


def console_entries(folder, action=None):
    with SQLiteStore(folder) as store:
        return audit_query(store, action=action, limit=1000)


# --- the folder and its files -------------------------------------------------------------------
def test_the_data_folder_is_the_services_alone(tmp_path):
    folder = tmp_path / "var"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (folder / "thumbnails" / "cam-a").mkdir(parents=True)
    os.chmod(folder / "thumbnails", 0o755)
    old = folder / "thumbnails" / "cam-a" / "1.jpg"
    old.write_bytes(b"x")
    os.chmod(old, 0o644)
    with SQLiteStore(folder) as store:  # an earlier version's folder, open to every user, is closed
        store.upsert_cameras(CAMERAS)
        add_tracks(store)
        assert mode(folder) == 0o700 and mode(folder / "thumbnails") == 0o700 and mode(old) == 0o600
        for f in [folder / "vigie.db", *folder.glob("vigie.db-*"), *(folder / "thumbnails").rglob("*.jpg")]:
            assert mode(f) == 0o600, f
        for d in [p for p in folder.rglob("*") if p.is_dir()]:
            assert mode(d) == 0o700, d


# --- unblurred crops at rest --------------------------------------------------------------------
def test_crops_are_sealed_in_the_database_and_the_files(data):
    folder, ids = data["dir"], data["ids"]
    clear = jpeg_bytes(RED, (48, 96))
    conn = sqlite3.connect(folder / "vigie.db")
    stored = [bytes(r[0]) for r in conn.execute("SELECT jpeg FROM thumbnails")]
    conn.close()
    assert len(stored) == 2 and all(b[:2] != b"\xff\xd8" and clear not in b for b in stored)
    for path in (folder / "thumbnails").rglob("*.jpg"):
        assert path.read_bytes()[:2] != b"\xff\xd8" and cv2.imread(str(path)) is None
    key = folder / "keys" / "media.key"
    assert mode(key) == 0o600 and key.read_text().strip().encode() not in (folder / "vigie.db").read_bytes()
    with SQLiteStore(folder) as store:
        assert store.thumbnail(ids[0]) == clear  # the service opens them with its key


def test_crops_stored_in_the_clear_by_an_earlier_version_are_sealed_once(data):
    folder, ids = data["dir"], data["ids"]
    clear = jpeg_bytes((0, 255, 0), (48, 96))
    path = folder / "thumbnails" / "cam-a" / f"{ids[0]}.jpg"
    conn = sqlite3.connect(folder / "vigie.db")
    conn.execute("UPDATE thumbnails SET jpeg=? WHERE track_id=?", (clear, ids[0]))
    conn.commit()
    conn.close()
    path.write_bytes(clear)
    (folder / ".pictures-sealed").unlink(missing_ok=True)
    with Services.from_env() as services:
        assert services.store.thumbnail(ids[0]) == clear
    conn = sqlite3.connect(folder / "vigie.db")
    row = conn.execute("SELECT jpeg FROM thumbnails WHERE track_id=?", (ids[0],)).fetchone()[0]
    conn.close()
    assert MediaBox.is_sealed(row) and MediaBox.is_sealed(path.read_bytes())
    assert clear not in (folder / "vigie.db").read_bytes()  # secure_delete: the clear pages were overwritten
    assert (folder / ".pictures-sealed").exists()


# --- the command line's pictures ------------------------------------------------------------------
def test_tracks_sheet_is_blurred_and_audited(data, tmp_path, capsys):
    sheet = tmp_path / "out" / "sheet.jpg"
    assert main(["tracks", "--sheet", str(sheet)]) == 0
    assert "Contact sheet of 2 tracks" in capsys.readouterr().out and len(data["blurrer"].calls) == 2
    image = cv2.imread(str(sheet))
    red = (image[:, :, 2] > 200) & (image[:, :, 1] < 60) & (image[:, :, 0] < 60)
    assert not red.any()  # the crops went through the blurrer (the fake paints them black)
    [entry] = console_entries(data["dir"], "view_track")
    assert entry.user == f"console:{getpass.getuser()}" and entry.role == "console"
    assert sorted(entry.details_dict()["track_ids"]) == sorted(data["ids"]) and entry.details_dict()["sheet"] == str(
        sheet
    )


def test_unblurred_output_needs_a_case_and_a_purpose_and_is_audited(data, tmp_path, capsys):
    sheet = tmp_path / "sheet.jpg"
    assert main(["tracks", "--sheet", str(sheet), "--unblurred"]) == EXIT_USAGE
    assert "--unblurred needs --case and --purpose" in capsys.readouterr().err and not sheet.exists()
    assert main(["tracks", "--sheet", str(sheet), "--unblurred", "--case", "PV-7", "--purpose", "theft"]) == 0
    image = cv2.imread(str(sheet))
    assert ((image[:, :, 2] > 200) & (image[:, :, 1] < 60)).any() and not data["blurrer"].calls
    [entry] = console_entries(data["dir"], "view_unblurred")
    assert (entry.case_ref, entry.purpose) == ("PV-7", "theft")
    assert sorted(entry.details_dict()["track_ids"]) == sorted(data["ids"]) and entry.details_dict()["files"] == [
        str(sheet)
    ]


def test_trail_map_inlines_blurred_crops_only(data, tmp_path, monkeypatch, capsys):
    leaflet = tmp_path / "leaflet"
    leaflet.mkdir()
    (leaflet / "leaflet.js").write_text("var L={};", encoding="utf-8")
    (leaflet / "leaflet.css").write_text(".x{}", encoding="utf-8")
    monkeypatch.setattr("vigie.search.trail_map.find_leaflet", lambda folder=None: leaflet)
    page = tmp_path / "trail.html"
    assert main(["trail", str(data["ids"][0]), "--map", str(page), "--min-similarity", "0.5"]) == 0
    uris = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page.read_text(encoding="utf-8"))
    assert len(uris) == 2
    for uri in uris:
        crop = cv2.imdecode(np.frombuffer(base64.b64decode(uri), np.uint8), cv2.IMREAD_COLOR)
        assert crop is not None and crop.max() < 40  # blurred (black), never the red crop
    [entry] = console_entries(data["dir"], "trail")
    assert entry.details_dict()["track_id"] == data["ids"][0] and entry.details_dict()["files"] == [str(page)]
    assert not console_entries(data["dir"], "view_unblurred")


# --- every read is audited ------------------------------------------------------------------------
def test_search_and_similar_are_audited_under_the_console_users_name(data, capsys):
    assert main(["search", "--class", "person", "--case", "PV-9", "--purpose", "missing child"]) == 0
    assert main(["similar", str(data["ids"][0])]) == 0
    assert main(["tracks", "--id", str(data["ids"][1])]) == 0
    entries = console_entries(data["dir"])
    reads = [(e.action, e.user, e.case_ref) for e in entries if e.role == "console"]
    me = f"console:{getpass.getuser()}"
    assert reads == [("search", me, "PV-9"), ("similar", me, None), ("view_track", me, None)]
    search_entry = next(e for e in entries if e.action == "search")
    assert search_entry.purpose == "missing child" and sorted(search_entry.details_dict()["track_ids"]) == sorted(
        data["ids"]
    )
    with SQLiteStore(data["dir"]) as store:
        assert verify(store).ok


def test_an_unblurred_synopsis_needs_a_case_and_is_never_written_into_the_data_folder(data, tmp_path, capsys):
    """`vigie synopsis --no-blur` wrote unblurred video, by default into $VIGIE_DATA/synopses, for anyone."""
    ask = ["synopsis", "--camera", "cam-a", "--from", "2026-11-20T13:00:00Z", "--to", "2026-11-20T13:02:00Z"]
    ask += ["--no-blur", "--no-progress"]
    case = ["--case", "PV-7", "--purpose", "theft"]
    for extra, message in (
        ([], "--no-blur needs --case and --purpose"),
        (["--purpose", "theft"], "--no-blur needs --case and --purpose"),
        (case, "--no-blur needs --out"),
        ([*case, "--out", str(data["dir"] / "synopses" / "x")], "is inside the data folder"),
        ([*case, "--out", str(tmp_path / "s"), "--still", str(data["dir"] / "still.png")], "is inside the data folder"),
    ):
        assert main(ask + extra) == EXIT_USAGE, extra
        assert message in capsys.readouterr().err, extra
    assert not (data["dir"] / "synopses").exists() and not (tmp_path / "s").exists()
    assert console_entries(data["dir"], "synopsis") == []
