"""Issue 19, finding 7: every picture the store keeps is sealed at rest (vigie.store.pictures).

The attack reproduced: with read access to the data folder (a backup, a copy of the disk), read the
pictures out of the database and its files. Before the fix only the thumbnails were sealed: the
synopsis tubes (each track's unblurred pixels in every frame) and backgrounds, the example photos
of photo searches, citizens' photos and alert snapshots lay in the database as JPEGs (in an .npz
for the tubes). Each kind is written here through its own code path, then looked for in the file.
A data folder filled by an earlier version is sealed in place, once, losing nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from at_rest import open_to_others, picture_in, pictures_in_database, pictures_in_files
from builders import T0, make_summary

from vigie.alerts import store as alerts
from vigie.citizen import reports
from vigie.config import CameraConfig
from vigie.rules.base import Event
from vigie.search import query_photos
from vigie.services import Services
from vigie.store.pictures import MARKER, PICTURE_COLUMNS
from vigie.store.sqlite import SQLiteStore
from vigie.synopsis.build import select
from vigie.synopsis.capture import Background, TubeFrames, decode_tube, encode_tube

CAMERA = CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, purpose="public safety")
NOW = datetime.now(timezone.utc)


def picture(seed: int, size=(40, 80), ext=".jpg") -> bytes:
    """A real picture: noise (a person's pixels for what the store can tell), encoded by OpenCV."""
    img = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), np.uint8)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def tube(points) -> bytes:
    t = TubeFrames(frame_size=(320, 240))
    for k, p in enumerate(points):
        x1, y1, x2, y2 = (int(v) for v in p.xyxy)
        t.seqs.append(p.seq)
        t.times.append(p.timestamp.timestamp())
        t.rects.append((x1, y1, x2, y2))
        t.boxes.append(tuple(float(v) for v in p.xyxy))
        t.jpegs.append(picture(100 + k, (x2 - x1, y2 - y1)))
        t.masks.append(picture(200 + k, (x2 - x1, y2 - y1), ".png"))
    return encode_tube(t)


def fill(store) -> dict:
    """One of each picture, each through the code that stores it; what each should read back as."""
    store.upsert_cameras([CAMERA])
    summary = make_summary("cam-a", 1, jpeg=picture(1))
    summary.tube = tube(summary.points)
    aid = store.begin_analysis("cam-a", "/videos/x.mp4", "x".ljust(64, "0"))
    store.add_tracks(aid, [summary]).result()
    background = Background("cam-a", T0, T0 + timedelta(minutes=15), 8, picture(2, (320, 240)))
    store.add_backgrounds(aid, [background]).result()
    store.finish_analysis(aid, "complete", 10, 10)
    [track_id] = [t["id"] for t in store.list_tracks()]
    event = Event("zone", "zone_intrusion", "cam-a", T0, None, (track_id,), (0.5, 0.5))
    [alert_id] = alerts.record(store, [event], {alerts.event_key(event): picture(3)})
    report = reports.NewReport("graffiti", 43.84, 4.35, description="Tags on the wall.", photo=picture(4))
    report_id, _token = reports.submit(store, report, "198.51.100.7", NOW, 10, 10)
    reports.decide(store, report_id, "accept", "moderator", "moderator", NOW)
    digest = query_photos.keep_and_audit(store, picture(5), "investigator", "investigator", "PV-1", "witness", {})
    return {
        "track_id": track_id,
        "thumbnail": picture(1),
        "tube": summary.tube,
        "background": background.jpeg,
        "alert_id": alert_id,
        "snapshot": picture(3),
        "report_id": report_id,
        "photo": picture(4),
        "digest": digest,
        "example": picture(5),
    }


@pytest.fixture
def filled(tmp_path):
    with SQLiteStore(tmp_path) as store:
        yield store, fill(store)


def raw_values(db) -> dict[str, list[bytes]]:
    """Every picture column's values, as stored, read behind the store's back."""
    conn = sqlite3.connect(db)
    try:
        return {
            c.table: [bytes(r[0]) for r in conn.execute(f"SELECT {c.column} FROM {c.table}") if r[0] is not None]
            for c in PICTURE_COLUMNS
        }
    finally:
        conn.close()


def test_every_kind_of_picture_is_sealed_in_the_database_and_its_files(filled, tmp_path):
    store, made = filled
    stored = raw_values(tmp_path / "vigie.db")
    assert {table: len(values) for table, values in stored.items()} == {c.table: 1 for c in PICTURE_COLUMNS}
    for table, [value] in stored.items():
        assert store.pictures.is_sealed(value) and picture_in(value) is None, table
    assert pictures_in_database(tmp_path / "vigie.db") == []  # nor in any other column
    assert pictures_in_files(tmp_path) == []  # nor in the files (the thumbnail), the database's bytes included
    assert open_to_others(tmp_path) == []
    assert (tmp_path / "keys" / "media.key").read_text().strip().encode() not in (tmp_path / "vigie.db").read_bytes()


def test_each_picture_reads_back_as_it_was_stored(filled):
    store, made = filled
    tid = made["track_id"]
    assert store.thumbnail(tid) == made["thumbnail"]
    assert store.thumbnail_file(store.get_track(tid)["thumbnail_path"]) == made["thumbnail"]
    assert store.tubes_of([tid]) == {tid: ("person", made["tube"])}
    assert decode_tube(store.tubes_of([tid])[tid][1]).jpegs[0] == picture(100, (40, 100))
    [(start, end, jpeg)] = store.backgrounds_of("cam-a", T0, T0 + timedelta(hours=1))
    assert jpeg == made["background"] and start < end
    assert alerts.snapshot(store, made["alert_id"]) == made["snapshot"]
    assert reports.photo(store, made["report_id"]) == made["photo"] == reports.public_photo(store, made["report_id"])
    example = query_photos.stored_photo(store, made["digest"], "PV-1")
    assert example == made["example"] and query_photos.sha256_of(example) == made["digest"]  # the audit's hash holds
    # what reads them works: the synopsis's selection decodes the tube and the background
    selection = select(store, "cam-a", T0, T0 + timedelta(minutes=1), {})
    assert [o.track_id for o in selection.objects] == [tid] and selection.backgrounds[0][2] == made["background"]
    assert selection.objects[0].tube.image(0).shape == (100, 40, 3)


def test_a_picture_sealed_under_another_key_is_refused_with_a_clear_error(filled, tmp_path, monkeypatch):
    store, made = filled
    monkeypatch.setenv("VIGIE_MEDIA_KEY", "ab" * 32)
    with SQLiteStore(tmp_path) as other:
        with pytest.raises(Exception, match="media key is not the one it was sealed with"):
            alerts.snapshot(other, made["alert_id"])


def plant_plain(db, made: dict) -> None:
    """What an earlier version left: every picture column in the clear (and the thumbnail file)."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE thumbnails SET jpeg = ?", (made["thumbnail"],))
        conn.execute("UPDATE tubes SET data = ?", (made["tube"],))
        conn.execute("UPDATE backgrounds SET jpeg = ?", (made["background"],))
        conn.execute("UPDATE alerts SET snapshot = ?", (made["snapshot"],))
        conn.execute("UPDATE citizen_reports SET photo = ?", (made["photo"],))
        conn.execute("UPDATE query_photos SET jpeg = ?", (made["example"],))
    conn.close()


def test_a_data_folder_an_earlier_version_filled_is_sealed_in_place_once(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    with SQLiteStore(tmp_path) as store:
        made = fill(store)
        thumb_file = store.get_track(made["track_id"])["thumbnail_path"]
    plant_plain(tmp_path / "vigie.db", made)
    (tmp_path / ".thumbnails-sealed").write_bytes(b"")  # the first upgrade's marker (thumbnails only)
    with open(thumb_file, "wb") as f:
        f.write(made["thumbnail"])
    assert len(pictures_in_database(tmp_path / "vigie.db")) == 6 and len(pictures_in_files(tmp_path)) >= 2

    with Services.from_env() as services:  # a command or the server starts
        store = services.store
        assert (tmp_path / MARKER).exists() and not (tmp_path / ".thumbnails-sealed").exists()
        tid = made["track_id"]  # nothing lost: each reads back as it was
        assert store.thumbnail(tid) == made["thumbnail"] == store.thumbnail_file(thumb_file)
        assert store.tubes_of([tid])[tid][1] == made["tube"]
        assert store.backgrounds_of("cam-a", T0, T0 + timedelta(hours=1))[0][2] == made["background"]
        assert alerts.snapshot(store, made["alert_id"]) == made["snapshot"]
        assert reports.photo(store, made["report_id"]) == made["photo"]
        assert query_photos.stored_photo(store, made["digest"], "PV-1") == made["example"]
    for table, [value] in raw_values(tmp_path / "vigie.db").items():
        assert value[:5] == b"\x80\x00\x00\x00\x00", table  # a Fernet token, kept as bytes
    # secure_delete: the pages the clear pictures were on are overwritten, the file holds none of them
    assert pictures_in_database(tmp_path / "vigie.db") == [] and pictures_in_files(tmp_path) == []
    assert open_to_others(tmp_path) == []

    before = raw_values(tmp_path / "vigie.db")
    with SQLiteStore(tmp_path) as store:
        assert store.seal_plain_pictures() == {}  # once per data folder: the marker says it is done
    assert raw_values(tmp_path / "vigie.db") == before


def test_the_upgrade_counts_what_it_sealed_and_resumes_a_run_cut_short(tmp_path):
    with SQLiteStore(tmp_path) as store:
        made = fill(store)
    plant_plain(tmp_path / "vigie.db", made)
    with SQLiteStore(tmp_path) as store:
        assert store.seal_plain_pictures() == {c.table: 1 for c in PICTURE_COLUMNS}
        (tmp_path / MARKER).unlink()  # as if cut short before the marker: the next run finds nothing left
        assert store.seal_plain_pictures() == {}
        assert (tmp_path / MARKER).exists()


def test_the_upgrade_never_brings_back_a_photo_removed_while_it_ran(tmp_path, monkeypatch):
    """A moderator deletes a citizen's photo between the upgrade's read and its write: it stays deleted."""
    with SQLiteStore(tmp_path) as store:
        made = fill(store)
    plant_plain(tmp_path / "vigie.db", made)
    with SQLiteStore(tmp_path) as store:
        box = store.pictures.box
        seal = box.seal

        def seal_while_redacted(data: bytes) -> bytes:
            if data == made["photo"]:
                reports.redact(store, made["report_id"], "Tags on the wall.", True, "moderator", "moderator", NOW)
            return seal(data)

        monkeypatch.setattr(box, "seal", seal_while_redacted)
        done = store.seal_plain_pictures()
        assert "citizen_reports" not in done and done["tubes"] == 1
        assert reports.get_report(store, made["report_id"])["has_photo"] is False
        with pytest.raises(reports.ReportError, match="has no photo"):
            reports.photo(store, made["report_id"])


def test_a_sealed_picture_is_a_fernet_token_and_an_altered_one_is_refused():
    """The token is Fernet's, kept as bytes: base64 of it is what `cryptography.fernet` makes and reads."""
    import base64
    import os

    from cryptography.fernet import Fernet

    from vigie.keys import KeyFileError, MediaBox

    key = os.urandom(32)
    box, fernet = MediaBox(key), Fernet(base64.urlsafe_b64encode(key))
    for n in (0, 15, 16, 17, 100_000):
        data = os.urandom(n)
        sealed = box.seal(data)
        assert MediaBox.is_sealed(sealed) and len(sealed) <= n + 73 and data not in sealed or n == 0
        assert fernet.decrypt(base64.urlsafe_b64encode(sealed)) == data  # Fernet reads ours
        assert box.open(base64.urlsafe_b64decode(fernet.encrypt(data))) == data  # we read Fernet's
        assert box.open(fernet.encrypt(data)) == data  # and its text form (the first sealed thumbnails)
    sealed = bytearray(box.seal(picture(1)))
    for at in (0, 5, 12, 30, len(sealed) - 40, len(sealed) - 1):  # version, time, IV, ciphertext, MAC
        altered = bytearray(sealed)
        altered[at] ^= 0x01
        if not MediaBox.is_sealed(bytes(altered)):
            continue  # no longer a token at all: it would be read as a picture in the clear (it is none)
        with pytest.raises(KeyFileError, match="media key is not the one"):
            box.open(bytes(altered))
    with pytest.raises(KeyFileError, match="media key is not the one"):
        box.open(bytes(sealed[:-1]))  # cut short
    with pytest.raises(KeyFileError, match="media key is not the one"):
        MediaBox(os.urandom(32)).open(bytes(sealed))
