"""Search by example photo (issue 18): the upload made safe (size, type, image bombs, EXIF), the photo
described as tracks are and ranked like `similar`, the refusal of another appearance model, the photo
kept with its audit entry (its hash, never its bytes) and purged with its case, the CLI."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from builders import make_summary
from fakes import FakeBlurrer
from PIL import Image

from vigie import cli
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.citizen.photos import PhotoError
from vigie.config import CameraConfig, SiteConfig, default_site
from vigie.describe.reid import track_vector
from vigie.eval.mot import read_mot
from vigie.retention.holds import lift_hold, place_hold
from vigie.retention.purge import purge
from vigie.search import photo
from vigie.search.engine import similar_to_vector
from vigie.search.query import SearchError, SearchQuery
from vigie.search.query_photos import keep_and_audit, stored_photo
from vigie.store.sqlite import SQLiteStore

SITE = SiteConfig(
    name="photo test",
    retention_days=20,
    cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, retention_days=10)],
)


class ColourBackend:
    """A stand-in appearance backend: a crop's mean colour, as a unit vector (3 values)."""

    name = "mean-colour-test"

    def describe_crops(self, crops):
        v = np.array([c.reshape(-1, 3).mean(axis=0) + 1.0 for c in crops], np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _jpeg(bgr: np.ndarray, **save) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1])).save(out, "JPEG", **save)
    return out.getvalue()


def _figure(colour: tuple[int, int, int], size=(60, 150)) -> np.ndarray:
    img = np.full((size[1], size[0], 3), 128, np.uint8)
    img[:] = colour
    return img


COLOURS = [(30, 30, 200), (200, 40, 40), (40, 200, 40), (200, 200, 200), (20, 160, 220)]  # BGR


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path) as s:
        s.upsert_cameras(SITE.cameras)
        yield s


def _add_tracks(store, vectors: list[np.ndarray], model: str, start_s: float = 0.0) -> list[int]:
    tracks = [
        make_summary("cam-a", k + 1, start_s=start_s + 30 * k, vector=v, vector_model=model)
        for k, v in enumerate(vectors)
    ]
    aid = store.begin_analysis("cam-a", "/videos/x.mp4", f"photo-{start_s}".ljust(64, "0"))
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", 10, 10)
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT id FROM tracks WHERE analysis_id=? ORDER BY track_no", (aid,))]


@pytest.fixture
def coloured(store):
    """Five people of one colour each, their vectors by ColourBackend; a reader of that backend, no detector."""
    backend = ColourBackend()
    ids = _add_tracks(store, [backend.describe_crops([_figure(c)])[0] for c in COLOURS], backend.name)
    return store, ids, photo.PhotoReader(backend)


# --- the upload -----------------------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_a_photo_above_the_size_limit_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(photo, "MAX_PHOTO_BYTES", 1000)
    with pytest.raises(PhotoError) as e:
        photo.sanitised(_jpeg(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)), FakeBlurrer())
    assert e.value.status == 413 and "larger than the 1000 bytes" in e.value.message


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "data, words",
    [
        (b"%PDF-1.4 not a picture", "not a JPEG, PNG or WebP"),
        (b"GIF89a" + b"\0" * 64, "not a JPEG, PNG or WebP"),
    ],
)
def test_what_is_not_a_photo_is_refused(data, words):
    with pytest.raises(PhotoError) as e:
        photo.sanitised(data, FakeBlurrer())
    assert e.value.status == 400 and words in e.value.message


@pytest.mark.timeout(30)
def test_a_decompression_bomb_is_refused_from_its_header():
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 MP in some kilobytes
    assert len(out.getvalue()) < 100_000
    with pytest.raises(PhotoError) as e:
        photo.sanitised(out.getvalue(), FakeBlurrer())
    assert e.value.status == 400 and "image bomb" in e.value.message


@pytest.mark.timeout(30)
def test_the_photo_kept_has_no_exif_and_its_faces_went_through_the_blurrer(coloured):
    store, ids, reader = coloured
    exif = Image.Exif()
    exif[0x013B] = "Jean Témoin"  # Artist
    exif[0x8825] = {1: "N", 2: (43.0, 50.0, 12.0)}  # GPS
    data = _jpeg(_figure(COLOURS[0]), exif=exif.tobytes())
    assert b"Jean" in data
    blurrer = FakeBlurrer("none")
    reading, result = photo.search_by_photo(store, SITE, data, blurrer=blurrer, reader=reader)
    keep_and_audit(store, reading.jpeg, "inv", "investigator", "PV-1", "vol", {"total": result.total})
    kept = stored_photo(store, reading.sha256, "PV-1")
    assert kept == reading.jpeg and b"Jean" not in kept and b"Exif" not in kept
    assert not Image.open(io.BytesIO(kept)).getexif()
    # The whole photo was searched for faces as a person box is; text is not searched (no vehicle boxes).
    assert blurrer.calls == [{"shape": (150, 60, 3), "vehicle_boxes": None, "person_boxes": [(0, 0, 60, 150)]}]


@pytest.mark.timeout(30)
def test_without_a_blurrer_no_photo_is_read(coloured):
    store, _, reader = coloured
    with pytest.raises(PhotoError) as e:
        photo.search_by_photo(store, SITE, _jpeg(_figure(COLOURS[0])), blurrer=None, reader=reader)
    assert e.value.status == 503


# --- ranking ----------------------------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_the_photo_is_ranked_like_similar_under_the_querys_filters(coloured):
    store, ids, reader = coloured
    reading, result = photo.search_by_photo(
        store, SITE, _jpeg(_figure(COLOURS[2])), blurrer=FakeBlurrer("none"), reader=reader
    )
    assert result.kind == "similar" and result.reference_photo == reading.sha256 and result.reference_track is None
    assert result.model == reading.model == ColourBackend.name
    assert result.hits[0].track_id == ids[2] and result.total == 5
    assert reading.found_by == "whole photo" and reading.people == 0 and reading.notes  # no detector: warned
    assert reading.upper == ["green"] and reading.lower == ["green"]
    # The usual filters apply: a time window that leaves out the best match.
    late = SearchQuery(start=datetime(2026, 11, 20, 13, 1, 5, tzinfo=timezone.utc))
    _, later = photo.search_by_photo(
        store, SITE, _jpeg(_figure(COLOURS[2])), late, blurrer=FakeBlurrer("none"), reader=reader
    )
    assert ids[2] not in [h.track_id for h in later.hits] and later.total == 2


@pytest.mark.timeout(30)
def test_a_box_chooses_the_person_and_match_colours_filters_on_what_was_read(coloured):
    store, ids, reader = coloured
    scene = np.full((150, 200, 3), 128, np.uint8)
    scene[:, :60] = COLOURS[0]
    scene[:, 140:] = COLOURS[1]
    reading, result = photo.search_by_photo(
        store, SITE, _jpeg(scene), blurrer=FakeBlurrer("none"), reader=reader, box=photo.parse_box("140,0,200,150")
    )
    assert reading.found_by == "given" and reading.box == (140, 0, 200, 150)
    assert result.hits[0].track_id == ids[1]
    _, matched = photo.search_by_photo(
        store,
        SITE,
        _jpeg(scene),
        blurrer=FakeBlurrer("none"),
        reader=reader,
        box=(140, 0, 200, 150),
        match_colours=True,
    )
    assert matched.query.upper == reading.upper and matched.query.lower == reading.lower
    with pytest.raises(SearchError, match="not x1,y1,x2,y2"):
        photo.parse_box("1,2,3")
    with pytest.raises(SearchError, match="less than 8 pixels"):
        photo.search_by_photo(
            store, SITE, _jpeg(scene), blurrer=FakeBlurrer("none"), reader=reader, box=(300, 0, 400, 9)
        )


@pytest.mark.timeout(30)
def test_a_vector_of_another_model_is_refused_naming_both(coloured):
    store, ids, _ = coloured
    with pytest.raises(SearchError) as e:
        similar_to_vector(store, np.ones(3, np.float32) / np.sqrt(3), "omz-0277+omz-0286:v1")
    assert "'omz-0277+omz-0286:v1'" in str(e.value) and f"'{ColourBackend.name}'" in str(e.value)
    with pytest.raises(SearchError, match="4 values"):
        similar_to_vector(store, np.ones(4, np.float32) / 2, ColourBackend.name)


@pytest.mark.timeout(120)
def test_the_sites_backend_refuses_stored_vectors_of_another_backend(coloured):
    """The real reader (the site's default fusion and detector) against vectors of another model."""
    store, _, _ = coloured
    with pytest.raises(SearchError) as e:
        photo.search_by_photo(store, default_site(), _jpeg(_figure(COLOURS[0])), blurrer=FakeBlurrer("none"))
    assert "omz-0277+omz-0286" in str(e.value) and ColourBackend.name in str(e.value)


@pytest.mark.timeout(240)
def test_a_photo_of_a_tracks_own_crop_finds_that_track_first(pets09, tmp_path):
    """Real people (PETS09-S2L1 ground truth) through the site's real networks and detector: each stored
    track holds one person's crop; a phone-like photo of that crop (enlarged, a margin of scene around
    it, JPEG) finds that track first."""
    gt = read_mot(pets09 / "gt.txt")
    cap = cv2.VideoCapture(str(pets09 / "vtest.avi"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 99)
    ok, frame = cap.read()
    cap.release()
    assert ok
    rows = gt[gt[:, 0] == 100]
    boxes = np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]].astype(int)
    h, w = frame.shape[:2]
    clear = [
        k
        for k, (x1, y1, x2, y2) in enumerate(boxes)
        if y2 - y1 >= 60 and x1 > 15 and y1 > 15 and x2 < w - 15 and y2 < h - 15
        and all(k == j or min(x2, b[2]) <= max(x1, b[0]) or min(y2, b[3]) <= max(y1, b[1]) for j, b in enumerate(boxes))
    ]  # fmt: skip
    assert len(clear) >= 3
    reader = photo.PhotoReader.for_site(default_site())
    crops = [frame[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes[clear]]
    model, _ = track_vector(reader.backend.describe_crops(crops[:1]), None, reader.backend.name)
    with SQLiteStore(tmp_path) as store:
        store.upsert_cameras(SITE.cameras)
        vectors = [track_vector(reader.backend.describe_crops([c]), None, reader.backend.name)[1] for c in crops]
        ids = _add_tracks(store, vectors, model)
        for k, (x1, y1, x2, y2) in enumerate(boxes[clear]):
            bw = x2 - x1
            window = frame[max(0, y1 - bw // 4) : y2 + bw // 4, max(0, x1 - bw // 4) : x2 + bw // 4]
            phone = cv2.resize(window, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            reading, result = photo.search_by_photo(
                store, default_site(), _jpeg(phone, quality=85), blurrer=FakeBlurrer("none"), reader=reader
            )
            assert reading.found_by == "detector" and reading.model == model
            assert result.hits[0].track_id == ids[k], (k, [(x.track_id, x.score) for x in result.hits])


# --- keeping and purging --------------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_the_audit_entry_names_the_photo_by_its_hash_never_its_bytes(coloured):
    store, _, reader = coloured
    reading, result = photo.search_by_photo(
        store, SITE, _jpeg(_figure(COLOURS[3])), blurrer=FakeBlurrer("none"), reader=reader
    )
    details = {"photo": reading.summary(), "total": result.total}
    digest = keep_and_audit(store, reading.jpeg, "inv", "investigator", "PV-7", "vol à l'arraché", details)
    assert digest == reading.sha256
    entry = [e for e in audit_query(store) if e.action == "similar"][-1]
    got = entry.details_dict()
    assert got["photo_sha256"] == digest and got["photo"]["sha256"] == digest and entry.case_ref == "PV-7"
    assert len(entry.details) < 2000 and "jpeg" not in entry.details and "base64" not in entry.details
    assert verify(store).ok
    # Searching again with the same photo keeps one row and audits again.
    keep_and_audit(store, reading.jpeg, "inv", "investigator", "PV-7", "vol", details)
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM query_photos").fetchone()[0] == 1


@pytest.mark.timeout(30)
def test_the_photo_is_purged_with_its_case(coloured):
    store, ids, _ = coloured
    held, loose = _jpeg(_figure(COLOURS[0])), _jpeg(_figure(COLOURS[1]))
    d_held = keep_and_audit(store, held, "inv", "investigator", "PV-9", "vol", {})
    d_loose = keep_and_audit(store, loose, "inv", "investigator", "PV-10", "vol", {})
    hold = place_hold(store, "PV-9", "enquête", "inv", track_ids=[ids[0]])
    soon = datetime.now(timezone.utc) + timedelta(days=5)
    report = purge(store, SITE, now=soon)
    assert report.query_photos_removed == 0 and stored_photo(store, d_loose) is not None
    later = datetime.now(timezone.utc) + timedelta(days=11)  # past the longest camera retention (10 days)
    dry = purge(store, SITE, now=later, dry_run=True)
    assert dry.query_photos_removed == 1 and stored_photo(store, d_loose) is not None
    report = purge(store, SITE, now=later)
    assert report.query_photos_removed == 1 and report.as_dict()["totals"]["query_photos_removed"] == 1
    assert stored_photo(store, d_loose) is None and stored_photo(store, d_held) == held  # its case is held
    lift_hold(store, hold, "inv")
    assert purge(store, SITE, now=later).query_photos_removed == 1
    assert stored_photo(store, d_held) is None


# --- the CLI ------------------------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_cli_similar_by_image(coloured, tmp_path, monkeypatch, capsys):
    store, ids, reader = coloured
    monkeypatch.setenv("VIGIE_DATA", str(store.data_dir))
    monkeypatch.setattr(photo.PhotoReader, "for_site", classmethod(lambda cls, site: reader))
    monkeypatch.setattr(cli.search, "_photo_blurrer", lambda: FakeBlurrer("none"))
    path = tmp_path / "temoin.jpg"
    path.write_bytes(_jpeg(_figure(COLOURS[1])))
    code = cli.main(["similar", "--image", str(path), "--case", "PV-3", "--purpose", "vol", "--limit", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["hits"][0]["track_id"] == ids[1] and len(out["hits"]) == 2
    assert out["photo"]["upper"] == ["blue"] and out["reference_photo"] == out["photo"]["sha256"]
    entry = [e for e in audit_query(store) if e.action == "similar"][-1]
    assert entry.role == "console" and entry.case_ref == "PV-3"
    assert entry.details_dict()["photo_sha256"] == out["photo"]["sha256"]
    assert stored_photo(store, out["photo"]["sha256"], "PV-3") is not None

    assert cli.main(["similar", "--image", str(path)]) == 0
    assert "like the photo" in capsys.readouterr().out
    assert cli.main(["similar", str(ids[0]), "--image", str(path)]) == 2
    assert cli.main(["similar"]) == 2
    assert cli.main(["similar", str(ids[0]), "--box", "1,2,3,4"]) == 2
    assert "one of them" in capsys.readouterr().err
