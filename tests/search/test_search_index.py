"""The search index: filters against a row-by-row reference, ordering, vector search, building and persistence."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from builders import T0, make_summary

from vigie.config import CameraConfig
from vigie.describe.attributes import PERSON_ATTRIBUTES, VEHICLE_TYPES
from vigie.describe.colours import PALETTE
from vigie.errors import VigieError
from vigie.search.index import NONE, TrackIndex, _build_ivf, store_generation, to_us
from vigie.search.query import COMPASS, CameraInfo, SearchQuery
from vigie.store.search_reads import current_vector_model as current_model
from vigie.store.sqlite import SQLiteStore
from vigie.types import TRACKED_CLASSES

US = 1_000_000
CAMERAS = [CameraInfo(f"cam-{i}", f"Camera {i}", "north" if i < 3 else "south", f"g{i % 3}") for i in range(6)]


def synthetic_index(n: int, dim: int = 16, seed: int = 0, ivf: bool = False, clusters: int = 0) -> TrackIndex:
    """An index built from random columns (no store), rows in (first_seen, id) order as from_store makes them."""
    rng = np.random.default_rng(seed)
    t0 = to_us(T0) + rng.integers(0, 3600 * US, n)
    ids = rng.permutation(n) + 1
    order = np.lexsort((ids, t0))
    span = rng.integers(0, 120 * US, n)
    colours = rng.integers(0, len(PALETTE), (n, 9)).astype(np.uint8)
    colours[rng.random((n, 9)) < 0.3] = NONE
    speed = rng.uniform(0, 10, n).astype(np.float32)
    speed[rng.random(n) < 0.3] = np.nan
    direction = rng.integers(0, 9, n).astype(np.uint8)
    direction[direction == 8] = NONE
    if clusters:
        centres = rng.normal(size=(clusters, dim))
        vectors = centres[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    else:
        vectors = rng.normal(size=(n, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    has = rng.random(n) > 0.1
    vectors[~has] = 0
    # Each attribute known present, known absent or unknown: never both bits set.
    states = rng.integers(0, 3, (n, len(PERSON_ATTRIBUTES)))
    weights = 1 << np.arange(len(PERSON_ATTRIBUTES))
    vehicle_type = rng.integers(0, len(VEHICLE_TYPES) + 1, n).astype(np.uint8)
    vehicle_type[vehicle_type == len(VEHICLE_TYPES)] = NONE
    cols = {
        "ids": ids,
        "t0": t0,
        "t1": t0 + span,
        "camera": rng.integers(0, len(CAMERAS), n).astype(np.uint16),
        "cls": rng.choice([0, 0, 2, 5], n).astype(np.uint8),
        "direction": direction,
        "colours": colours,
        "dwell": (span / US).astype(np.float32),
        "height": rng.uniform(20, 300, n).astype(np.float32),
        "speed": speed,
        "cells": np.zeros(n, np.uint64),
        "frame": np.zeros((n, 2), np.uint16),
        "has_vector": has,
        "attr_yes": ((states == 1) @ weights).astype(np.uint8),
        "attr_no": ((states == 2) @ weights).astype(np.uint8),
        "vehicle_type": vehicle_type,
    }
    cols = {k: v[order] for k, v in cols.items()}
    vectors = vectors[order]
    return TrackIndex("test", "m", CAMERAS, cols, vectors, ivf=_build_ivf(vectors, cols["has_vector"]) if ivf else None)


def reference_rows(ix: TrackIndex, q: SearchQuery, with_vectors: bool = False) -> list[int]:
    """The query's meaning, row by row, written plainly."""
    kept = []
    for r in range(ix.n):
        cam = ix.cameras[ix.camera[r]]
        checks = [
            q.start is None or ix.t1[r] >= to_us(q.start),
            q.end is None or ix.t0[r] < to_us(q.end),
            not q.cameras or cam.id in q.cameras,
            not q.groups or cam.group in q.groups,
            not q.communes or cam.commune in q.communes,
            not q.classes or TRACKED_CLASSES[ix.cls[r]] in q.classes,
            not q.directions or (ix.direction[r] != NONE and COMPASS[ix.direction[r]] in q.directions),
            q.min_dwell is None or ix.dwell[r] >= q.min_dwell,
            q.min_height is None or ix.height[r] >= q.min_height,
            q.max_height is None or ix.height[r] <= q.max_height,
            q.min_speed is None or (not np.isnan(ix.speed[r]) and ix.speed[r] >= q.min_speed),
            q.max_speed is None or (not np.isnan(ix.speed[r]) and ix.speed[r] <= q.max_speed),
            not with_vectors or ix.has_vector[r],
            not q.vehicle_types
            or (ix.vehicle_type[r] != NONE and VEHICLE_TYPES[ix.vehicle_type[r]] in q.vehicle_types),
        ]
        present, absent, _ = ix.attribute_states(r)
        checks += [a in present for a in q.with_attributes] + [a in absent for a in q.without_attributes]
        for p, wanted in enumerate((q.upper, q.lower, q.body)):
            names = {PALETTE[c] for c in ix.colours[r, p * 3 : p * 3 + min(q.colour_tolerance, 3)] if c != NONE}
            checks.append(not wanted or bool(names & set(wanted)))
        if all(checks):
            kept.append(r)
    return kept


@pytest.fixture(scope="module")
def small():
    return synthetic_index(3000)


W0 = T0 + timedelta(minutes=20)
QUERIES = [
    {},
    {"classes": ["person"]},
    {"start": W0, "end": W0 + timedelta(minutes=5)},
    {"start": W0},
    {"end": W0},
    {"cameras": ["cam-1", "cam-4"], "groups": ["g1"]},
    {"communes": ["south"], "classes": ["truck"]},
    {"upper": ["red", "blue"], "colour_tolerance": 1},
    {"upper": ["red", "blue"], "lower": ["black"], "colour_tolerance": 3},
    {"body": ["white"], "classes": ["car"], "start": W0, "end": W0 + timedelta(minutes=30)},
    {"directions": ["N", "SE"], "min_dwell": 60},
    {"min_speed": 2, "max_speed": 3},
    {"min_height": 100, "max_height": 120, "groups": ["g2"]},
    {"start": W0, "end": W0 + timedelta(seconds=30), "cameras": ["cam-0"], "upper": ["grey"]},  # narrow: positions mode
    {"with_attributes": ["backpack"]},
    {"with_attributes": ["hat", "coat"], "without_attributes": ["bag"], "upper": ["red", "black"]},
    {"without_attributes": ["long_trousers", "long_sleeves"], "classes": ["person"]},
    {"vehicle_types": ["van", "truck"], "start": W0},
]


@pytest.mark.parametrize("data", QUERIES)
def test_select_keeps_exactly_the_rows_the_reference_keeps(small, data):
    q = SearchQuery(**data)
    sel, checks = small.select(q)
    assert checks == {}
    assert sel.rows().tolist() == reference_rows(small, q)
    assert sel.count() == len(reference_rows(small, q))


def test_time_window_counts_tracks_still_in_view_when_it_starts(small):
    q = SearchQuery(start=W0, end=W0 + timedelta(minutes=1))
    rows = small.select(q)[0].rows()
    began_before = rows[small.t0[rows] < to_us(W0)]
    assert len(began_before) > 0 and (small.t1[began_before] >= to_us(W0)).all()


def test_colour_scores_rank_dominant_matches_higher(small):
    q = SearchQuery(upper=["red"], lower=["blue"], colour_tolerance=3)
    rows = small.select(q)[0].rows()
    scores = small.colour_scores(rows, q)
    weight = {0: 1.0, 1: 0.6, 2: 0.3}
    for r, s in zip(rows[:200], scores[:200]):
        up = list(small.colours[r, 0:3]).index(PALETTE.index("red"))
        low = list(small.colours[r, 3:6]).index(PALETTE.index("blue"))
        assert s == pytest.approx((weight[up] + weight[low]) / 2)


@pytest.mark.parametrize("sort", ["relevance", "time", "-time", "dwell", "-dwell", "speed", "-speed"])
def test_pages_follow_the_full_order_and_tile_it(small, sort):
    q = SearchQuery(upper=["red", "blue", "black"])
    rows = small.select(q)[0].rows()
    scores = small.colour_scores(rows, q)
    key = {
        "relevance": -scores,
        "time": rows,
        "-time": -rows,
        "dwell": small.dwell[rows],
        "-dwell": -small.dwell[rows],
        "speed": np.nan_to_num(small.speed[rows], nan=np.inf),
        "-speed": np.nan_to_num(-small.speed[rows], nan=np.inf),
    }[sort]
    tie = -rows if sort == "-time" else rows
    full = rows[np.lexsort((tie, key))]
    pages = [rows[small.page(rows, sort, scores, offset, 37)] for offset in range(0, 150, 37)]
    assert np.concatenate(pages).tolist() == full[: len(np.concatenate(pages))].tolist()
    assert len(np.concatenate(pages)) == min(len(rows), 5 * 37)


@pytest.mark.parametrize(
    "data",
    [
        {"classes": ["person"], "groups": ["g0", "g2"], "start": W0},  # a third of the rows: gathered
        {"start": W0},  # most rows: streamed over the slice
        {"cameras": ["cam-2"], "upper": ["red"], "colour_tolerance": 3},  # few: positions
    ],
)
def test_exact_similarity_equals_brute_force_under_a_filter(small, data):
    q = SearchQuery(**data)
    sel = small.select(q, with_vectors=True)[0]
    target = small.vectors[np.flatnonzero(small.has_vector)[7]]
    rows, scores, method = small.nearest(target, sel, 25)
    allowed = np.array(reference_rows(small, q, with_vectors=True))
    sims = small.vectors[allowed] @ target
    best = allowed[np.argsort(-sims)[:25]]
    assert method == "exact"
    assert rows.tolist() == best.tolist()
    assert np.allclose(scores, np.sort(sims)[::-1][:25], atol=1e-6)


def test_ivf_path_finds_the_true_top_hits_under_a_filter():
    ix = synthetic_index(60_000, dim=32, seed=1, ivf=True, clusters=64)
    assert ix.has_ivf and ix.ivf.nlist == round(np.sqrt(ix.n_vectors))  # about sqrt(n) lists
    ix.exact_max = 1000  # force the IVF path for this filter
    q = SearchQuery(classes=["person"], communes=["north"])
    allowed = np.array(reference_rows_fast(ix, q))
    assert len(allowed) > ix.exact_max
    recalls = []
    for probe in range(20):
        target = ix.vectors[allowed[probe * 97]] * 0.9 + ix.vectors[allowed[probe * 97 + 1]] * 0.1
        target /= np.linalg.norm(target)
        sel = ix.select(q, with_vectors=True)[0]
        rows, scores, method = ix.nearest(target, sel, 10)
        assert method.startswith("ivf")
        assert np.isin(rows, allowed).all()  # the filter holds
        assert np.allclose(scores, ix.vectors[rows] @ target, atol=1e-6)  # true cosines, best first
        assert (np.diff(scores) <= 0).all()
        truth = allowed[np.argsort(-(ix.vectors[allowed] @ target))[:10]]
        assert rows[0] == truth[0]
        recalls.append(len(set(rows.tolist()) & set(truth.tolist())) / 10)
    assert np.mean(recalls) >= 0.95


def reference_rows_fast(ix: TrackIndex, q: SearchQuery) -> list[int]:
    """Class and commune only, vectorised (the plain loop is slow at 60k rows)."""
    north = np.array([c.commune in q.communes for c in ix.cameras])
    person = np.isin(ix.cls, [TRACKED_CLASSES.index(c) for c in q.classes])
    return np.flatnonzero(north[ix.camera] & person & ix.has_vector).tolist()


def test_same_sighting_is_same_camera_overlapping_in_time(small):
    row = 1500
    got = set(small.same_sighting(row).tolist())
    want = {
        r
        for r in range(small.n)
        if small.camera[r] == small.camera[row] and small.t0[r] <= small.t1[row] and small.t1[r] >= small.t0[row]
    }
    assert row in got and got == want


# --- from the store -----------------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(
        [
            CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3, group="centre", commune="Nîmes"),
            CameraConfig(id="cam-b", name="B", lat=43.9, lon=4.4, group="gare", commune="Nîmes"),
        ]
    )
    yield s
    s.close()


def analyse(store: SQLiteStore, tracks, camera="cam-a", fingerprint="f" * 64, status="complete") -> list[int]:
    aid = store.begin_analysis(camera, "/videos/x.mp4", fingerprint)
    store.add_tracks(aid, tracks).result()
    if status != "running":
        store.finish_analysis(aid, status, 10, 10)
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT id FROM tracks WHERE analysis_id=? ORDER BY track_no", (aid,))]


def put_vectors(store: SQLiteStore, vectors: dict[int, np.ndarray], model: str = "plain") -> None:
    rows = [(tid, model, np.asarray(v, "<f4").tobytes()) for tid, v in vectors.items()]
    store.write(lambda conn: conn.executemany("INSERT OR REPLACE INTO track_vectors VALUES (?,?,?)", rows)).result()


def test_from_store_reads_visible_tracks_with_their_attributes(store):
    ids = analyse(
        store,
        [
            make_summary(
                track_no=1,
                start_s=30,
                upper_colours=["red", "blue"],
                lower_colours=["black"],
                direction="NE",
                speed_m_s=1.4,
            ),
            make_summary(track_no=2, start_s=10, class_name="car", body_colours=["white", "grey"], speed_m_s=None),
        ],
    )
    analyse(store, [make_summary(track_no=9)], camera="cam-b", fingerprint="e" * 64, status="running")  # invisible
    store.write(
        lambda conn: conn.execute(
            "UPDATE tracks SET cells=?, frame_width=768, frame_height=576 WHERE id=?", (-(1 << 63) | 1 << 9, ids[0])
        )
    ).result()
    put_vectors(store, {ids[0]: [0.6, 0.8, 0], ids[1]: [1, 0, 0]})
    ix = TrackIndex.from_store(store)
    assert ix.ids.tolist() == [ids[1], ids[0]]  # time order
    first = 1
    assert ix.colours[first, :3].tolist() == [PALETTE.index("red"), PALETTE.index("blue"), NONE]
    assert ix.colours[first, 3:6].tolist() == [PALETTE.index("black"), NONE, NONE]
    assert ix.colours[0, 6:].tolist() == [PALETTE.index("white"), PALETTE.index("grey"), NONE]
    assert COMPASS[ix.direction[first]] == "NE" and ix.direction[0] == NONE
    assert ix.speed[first] == pytest.approx(1.4) and np.isnan(ix.speed[0])
    assert int(ix.cells[first]) == (1 << 63) | (1 << 9) and ix.frame[first].tolist() == [768, 576]
    assert TRACKED_CLASSES[ix.cls[0]] == "car"
    assert ix.t0[first] == to_us(T0 + timedelta(seconds=30))
    assert ix.vectors[first].tolist() == pytest.approx([0.6, 0.8, 0]) and ix.dim == 3 and ix.model == "plain"
    assert [c.group for c in ix.cameras] == ["centre", "gare"]


def test_current_model_is_the_active_one_else_the_most_common(store):
    ids = analyse(store, [make_summary(track_no=i) for i in range(1, 4)])
    with store.read() as conn:
        assert current_model(conn) is None
    put_vectors(store, {ids[0]: [1, 0], ids[1]: [0, 1]}, "plain")
    put_vectors(store, {ids[2]: [1, 0]}, "adapted-1")
    with store.read() as conn:
        assert current_model(conn) == "plain"
    store.write(
        lambda conn: conn.execute(
            "INSERT INTO appearance_models (name, base, created_at, tracks, crops, params, active) VALUES ('adapted-1','plain','2026-11-27',3,9,x'00',1)"
        )
    ).result()
    with store.read() as conn:
        assert current_model(conn) == "adapted-1"
    assert TrackIndex.from_store(store).has_vector.sum() == 1


def test_saved_index_loads_back_identical_and_is_rebuilt_when_the_store_changes(store):
    ids = analyse(store, [make_summary(track_no=i, start_s=i, upper_colours=["red"]) for i in range(1, 6)])
    put_vectors(store, {tid: np.eye(4)[k % 4] for k, tid in enumerate(ids)})
    built = TrackIndex.open(store)
    folder = store.data_dir / "index" / built.generation
    assert (folder / "meta.json").exists()
    loaded = TrackIndex.open(store)  # same generation: read back, not rebuilt
    assert isinstance(loaded.ids, np.memmap)
    for name in ("ids", "t0", "t1", "camera", "colours", "speed", "cells", "has_vector"):
        assert np.array_equal(getattr(loaded, name), getattr(built, name), equal_nan=True), name
    assert np.array_equal(loaded.vectors, built.vectors) and loaded.cameras == built.cameras
    preloaded = TrackIndex.load(folder, preload=True)  # a server's copy: in memory, not mapped
    assert not isinstance(preloaded.vectors, np.memmap) and np.array_equal(preloaded.vectors, built.vectors)

    new = analyse(store, [make_summary(track_no=1, upper_colours=["blue"])], camera="cam-b", fingerprint="b" * 64)
    with store.read() as conn:
        generation = store_generation(conn)
    assert generation != built.generation
    rebuilt = TrackIndex.open(store)
    assert rebuilt.generation == generation and new[0] in rebuilt.ids.tolist()
    assert [p.name for p in (store.data_dir / "index").iterdir()] == [generation]  # the old one is gone

    put_vectors(store, {new[0]: [0, 0, 0, 1]})  # a vector written after the analysis finished
    with store.read() as conn:
        assert store_generation(conn) != generation


def test_store_generation_is_cheap_on_a_large_store_shape(store):
    with store.read() as conn:
        plan = " ".join(
            r[-1] for r in conn.execute("EXPLAIN QUERY PLAN SELECT min(model) FROM track_vectors WHERE model > 'a'")
        )
    assert "track_vectors_by_model" in plan  # an index seek, not a scan of every vector


def test_unreadable_vectors_are_a_clear_error(store):
    ids = analyse(store, [make_summary(track_no=1), make_summary(track_no=2, start_s=5)])
    put_vectors(store, {ids[0]: [1, 0, 0], ids[1]: [1, 0]})
    with pytest.raises(VigieError, match="have 3 and 2 dimensions"):
        TrackIndex.from_store(store, chunk=1)
