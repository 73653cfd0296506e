"""Appearance for search: crop sampling, the learned projection, storage, and the re-ID metrics."""

from __future__ import annotations

import numpy as np
import pytest
from builders import make_summary

from vigie.describe.crops import CropSampler
from vigie.describe.reid import LEGACY_BASE, Projection, active_projection, pool, track_vector
from vigie.errors import ModelError
from vigie.eval.reid import ranking_scores, read_same_person, split_halves
from vigie.search.adapt import AdaptationError, adapt_store, negative_pairs, train
from vigie.store.sqlite import SQLiteStore

CAMERAS = []


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# --- crop sampling ----------------------------------------------------------------------
class CountingDescriber:
    """Describes a crop by its mean brightness; counts the crops it was asked for."""

    def __init__(self):
        self.crops = 0

    def __call__(self, crops):
        self.crops += len(crops)
        return unit(np.array([[float(c.mean()) + 1.0, 1.0] for c in crops]))


def test_sampler_keeps_at_most_max_crops_spread_over_the_whole_track_and_describes_only_those():
    describe = CountingDescriber()
    sampler = CropSampler(describe, "test", max_crops=4, first_interval=1)
    for seq in range(100):
        image = np.full((200, 200, 3), seq, np.uint8)  # each frame's crop tells its frame
        sampler.offer(image, seq, np.array([7]), np.array([[50.0, 50, 90, 150]]), np.zeros(1))
    assert describe.crops == 0  # nothing described while the track lives
    seqs, vectors = sampler.take(7)
    assert 2 <= len(seqs) <= 4 and vectors.shape == (len(seqs), 2)
    assert seqs[0] == 0 and seqs[-1] >= 48  # from the start to at least half-way: spread, not the first frames
    assert describe.crops == len(seqs)  # one description per kept crop, none for those dropped
    np.testing.assert_allclose(vectors, unit(np.array([[s + 1.0, 1.0] for s in seqs])), rtol=1e-6)  # the right crops
    assert sampler.take(7) is None  # taken once


def test_sampler_skips_occluded_cut_and_tiny_boxes():
    sampler = CropSampler(CountingDescriber(), "test", max_crops=8, first_interval=1)
    image = np.zeros((200, 200, 3), np.uint8)
    boxes = np.array([[50.0, 50, 90, 150], [0.0, 50, 30, 150], [100.0, 100, 110, 120], [120.0, 40, 160, 140]])
    sampler.offer(image, 0, np.array([1, 2, 3, 4]), boxes, np.array([0.0, 0.0, 0.0, 0.5]))
    assert sampler.take(1) is not None  # clean
    assert sampler.take(2) is None  # cut by the left border
    assert sampler.take(3) is None  # 20 px tall
    assert sampler.take(4) is None  # half covered by someone else


# --- projection and pooling -------------------------------------------------------------
def test_projection_round_trips_through_bytes_and_gives_unit_vectors():
    rng = np.random.default_rng(0)
    p = Projection("adapt-x", LEGACY_BASE, rng.normal(size=6), rng.normal(size=(6, 3)))
    q = Projection.from_bytes("adapt-x", p.to_bytes())
    x = rng.normal(size=(5, 6))
    np.testing.assert_allclose(p.apply(x), q.apply(x), rtol=1e-6)
    assert q.base == LEGACY_BASE and q.dim == 3
    np.testing.assert_allclose(np.linalg.norm(q.apply(x), axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ModelError, match="unreadable"):
        Projection.from_bytes("bad", b"not an npz")


def test_track_vector_is_plain_pool_without_projection():
    crops = unit(np.eye(4)[:2])
    name, vec = track_vector(crops, None)
    assert name == LEGACY_BASE
    np.testing.assert_allclose(vec, unit([1, 1, 0, 0]), atol=1e-6)
    np.testing.assert_allclose(pool(crops), vec)


# --- training ---------------------------------------------------------------------------
def _tracks(rng, people=6, per=8, dim=40, noise=0.6):
    """People differ along 3 directions; a strong nuisance (pose, light) along 5 others varies within each track."""
    ids = rng.normal(size=(people, 3)) * 1.0
    tracks = []
    for p in range(people):
        x = np.zeros((per, dim))
        x[:, :3] = ids[p] + 0.05 * rng.normal(size=(per, 3))
        x[:, 3:8] = noise * 3 * rng.normal(size=(per, 5))
        x[:, 8:] = 0.05 * rng.normal(size=(per, dim - 8))
        # Everyone on one camera, two at a time: p and p+1 overlap in time.
        tracks.append(
            {
                "id": p + 1,
                "camera_id": "c",
                "first_seen": f"2026-11-20T13:{p:02d}:00Z",
                "last_seen": f"2026-11-20T13:{p + 1:02d}:30Z",
                "crops": unit(x),
            }
        )
    return tracks


def test_negatives_are_only_tracks_seen_together_on_one_camera():
    tracks = [
        {"camera_id": "a", "first_seen": "2026-01-01T10:00:00Z", "last_seen": "2026-01-01T10:01:00Z"},
        {"camera_id": "a", "first_seen": "2026-01-01T10:00:30Z", "last_seen": "2026-01-01T10:02:00Z"},
        {"camera_id": "a", "first_seen": "2026-01-01T10:05:00Z", "last_seen": "2026-01-01T10:06:00Z"},
        {"camera_id": "b", "first_seen": "2026-01-01T10:00:00Z", "last_seen": "2026-01-01T10:06:00Z"},
    ]
    assert negative_pairs(tracks) == [(0, 1)]


def test_training_separates_people_better_than_the_raw_descriptor():
    rng = np.random.default_rng(1)
    tracks = _tracks(rng)
    projection, report = train(tracks, pca_dim=20, out_dim=3)
    assert report.tracks == 6 and report.negative_pairs == 5 and projection.dim == 3
    # Held-out crops of the same people: nearest neighbour is the right person far more often.
    test = _tracks(np.random.default_rng(1), per=16)  # same identities (same seed), new nuisance draws

    def nn_accuracy(f):
        X = np.concatenate([f(t["crops"]) for t in test])
        y = np.repeat(np.arange(len(test)), 16)
        s = X @ X.T
        np.fill_diagonal(s, -np.inf)
        return float(np.mean(y[np.argmax(s, axis=1)] == y))

    raw, adapted = nn_accuracy(lambda c: c), nn_accuracy(projection.apply)
    assert adapted > raw + 0.2 and adapted > 0.9
    assert report.same_after - report.different_after > report.same_before - report.different_before


def test_training_refuses_too_few_tracks_or_no_negatives():
    rng = np.random.default_rng(2)
    with pytest.raises(AdaptationError, match="at least 4"):
        train(_tracks(rng, people=3))
    apart = _tracks(rng)
    for k, t in enumerate(apart):
        t["camera_id"] = f"cam{k}"
    with pytest.raises(AdaptationError, match="same time on the same camera"):
        train(apart)


def test_adapt_store_replaces_every_person_vector_and_analyses_use_it_next(tmp_path):
    from vigie.config import CameraConfig

    rng = np.random.default_rng(3)
    with SQLiteStore(tmp_path) as store:
        store.upsert_cameras([CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.36)])
        aid = store.begin_analysis("cam-a", "x.mp4", "f1")
        summaries = []
        for k, t in enumerate(_tracks(rng, dim=24)):
            s = make_summary(track_no=k + 1, start_s=10 * k, n_points=int(15 * 7))
            s.crops, s.crop_seqs, s.crop_base = t["crops"], list(range(len(t["crops"]))), LEGACY_BASE
            s.vector_model, s.vector = track_vector(s.crops, None)
            s.frame_size = (768, 576)
            summaries.append(s)
        store.add_tracks(aid, summaries).result()
        store.finish_analysis(aid, "complete", 10, 10)
        assert active_projection(store) is None
        assert store.counts()["track_vectors"] == 6 and store.counts()["track_crops"] == 48
        report = adapt_store(store)
        projection = active_projection(store)
        assert projection is not None and projection.name == report.name
        with store.read() as conn:
            rows = conn.execute("SELECT model, length(vector) FROM track_vectors").fetchall()
        assert {r[0] for r in rows} == {report.name} and {r[1] for r in rows} == {4 * projection.dim}
        assert [m["name"] for m in store.appearance_models()] == [report.name]
        with store.read() as conn:
            cells = [r[0] for r in conn.execute("SELECT cells FROM tracks")]
        assert all(c != 0 for c in cells)  # the foot points' 8x8 occupancy was stored


def test_adapt_store_on_an_empty_store_says_what_is_missing(tmp_path):
    with SQLiteStore(tmp_path) as store, pytest.raises(AdaptationError, match="analyse more footage"):
        adapt_store(store)


# --- re-identification metrics ------------------------------------------------------------
def test_ranking_scores_rank1_rank5_and_average_precision():
    sim = np.array([[0.9, 0.8, 0.1], [0.2, 0.9, 0.95]])
    got = ranking_scores(sim, np.array([1, 2]), np.array([1, 2, 3]))
    # query 1: right match first (AP 1); query 2: right match second (AP 0.5)
    assert got["rank1"] == 0.5 and got["rank5"] == 1.0 and got["map"] == pytest.approx(0.75) and got["queries"] == 2


def test_split_halves_by_sequence_and_by_identity():
    frames = np.array([1, 2, 3, 4, 5, 6, 7, 8])
    ids = np.array([1, 1, 1, 1, 2, 2, 2, 2])
    assert split_halves(frames, ids, "sequence").tolist() == [True] * 4 + [False] * 4
    assert split_halves(frames, ids, "identity").tolist() == [True, True, False, False, True, True, False, False]


def test_same_person_file_merges_ids_and_rejects_garbage(tmp_path):
    f = tmp_path / "same.csv"
    f.write_text("# comment\n2,13\n8,14,18\n")
    assert read_same_person(f) == {2: 2, 13: 2, 8: 8, 14: 8, 18: 8}
    f.write_text("2,x\n")
    with pytest.raises(Exception, match="line 1"):
        read_same_person(f)


def test_describing_cut_out_crops_equals_describing_the_boxes():
    from vigie.describe.embed import crop_windows
    from vigie.describe.reid import BaseDescriptor

    rng = np.random.default_rng(4)
    image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    boxes = np.array([[10.4, 20.2, 60.7, 150.9], [200.0, 30.0, 260.0, 200.0]])
    d = BaseDescriptor()
    crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in crop_windows(image.shape, boxes)]
    np.testing.assert_allclose(d.describe_crops(crops), d.describe(image, boxes), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(d.describe_crops(crops), axis=1), 1.0, rtol=1e-5)


def test_adapt_store_on_trained_network_crops_learns_each_cameras_mean(tmp_path):
    """Crops of a fused network descriptor: `vigie adapt` learns a camera normalisation, not XQDA."""
    from vigie.config import CameraConfig
    from vigie.describe.reid import CameraNormalisation

    base = "omz-0277+omz-0286:v1"
    rng = np.random.default_rng(5)
    bias = {"cam-a": rng.normal(size=512) * 0.2, "cam-b": rng.normal(size=512) * 0.2}
    with SQLiteStore(tmp_path) as store:
        store.upsert_cameras([CameraConfig(id=c, name=c, lat=43.8, lon=4.36) for c in bias])
        for cam in bias:
            aid = store.begin_analysis(cam, f"{cam}.mp4", cam)
            summaries = []
            for k in range(4):
                s = make_summary(camera_id=cam, track_no=k + 1, start_s=10 * k, n_points=30)
                blocks = [
                    unit(rng.normal(size=(3, 256)) * 0.05 + bias[cam][:256]),
                    unit(rng.normal(size=(3, 256)) * 0.05 + bias[cam][256:]),
                ]
                s.crops, s.crop_seqs, s.crop_base = np.hstack(blocks) / np.sqrt(2), [0, 1, 2], base
                s.vector_model, s.vector = track_vector(s.crops, None, base)
                s.frame_size = (768, 576)
                summaries.append(s)
            store.add_tracks(aid, summaries).result()
            store.finish_analysis(aid, "complete", 10, 10)
        assert store.newest_crop_base() == base
        report = adapt_store(store)
        adaptation = active_projection(store)
        assert isinstance(adaptation, CameraNormalisation) and adaptation.base == base
        assert set(adaptation.means) == {"cam-a", "cam-b"} and adaptation.blocks == [256, 256]
        assert report.cameras == 2 and report.tracks == 8 and report.crops == 24
        with store.read() as conn:
            rows = conn.execute("SELECT model, length(vector) FROM track_vectors").fetchall()
        assert {r[0] for r in rows} == {report.name} and {r[1] for r in rows} == {4 * 512}
