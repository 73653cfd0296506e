"""Forensic search at city scale: query latency on 1 M and 10 M stored tracks.

A real store (the real schema, filled through the store's writer connection)
holds synthetic tracks of a month of a city's network: 600 cameras in 15
communes and 15 groups, busier cameras and daytime hours more often, classes
mostly person then car, clothing colours skewed to black, grey, blue and white,
dwell lognormal, walking and driving speeds (m/s only on the 70 % of cameras
that are calibrated), and appearance vectors drawn around 1024 centres (so an
IVF index sees the clustered data it is built for). The search index is built
through the real path (engine.get_index: TrackIndex.from_store, saved), then
reloaded from disk as a restarted process would, and queried through the
engine's own functions, each call including the store generation check and
reading its page of rows from SQLite:

  similar   filtered similarity: class person, a 3-day window, one camera
            group, the 50 most similar to a random track;
  attribute class person, upper and lower colour, a 3-day window, one group,
            best colour match first, 50 results;
  broad     similarity filtered by class only (most rows pass: the IVF path);

with the recall@50 of the vector searches against exact search under the same
filter. Baseline, measured in the same run: the exact brute-force scan of all
vectors without any filter (numpy matrix-vector product and top 50).

Run: .venv/bin/python bench/search_scale.py --sizes 1000000,10000000 [--dim 128] [--queries 200]
The store goes under --workdir (default /tmp/vigie-search-bench), deleted at the end unless --keep
(--reuse then measures it again without refilling). Queries run on the index as a server holds it:
read back from disk into memory (engine.get_index(preload=True)).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import CameraConfig  # noqa: E402
from vigie.describe.colours import PALETTE  # noqa: E402
from vigie.search import engine  # noqa: E402
from vigie.search.index import to_us  # noqa: E402
from vigie.search.query import COMPASS, SearchQuery  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.times import now_iso  # noqa: E402
from vigie.types import TRACKED_CLASSES  # noqa: E402

CAMERAS, COMMUNES, GROUPS, DAYS = 600, 15, 15, 30
START = datetime(2026, 11, 1, tzinfo=timezone.utc)
CLASS_P = {"person": 0.68, "car": 0.22, "bicycle": 0.04, "motorcycle": 0.02, "bus": 0.01, "truck": 0.03}
CLOTHES_P = {
    "black": 0.26,
    "grey": 0.17,
    "blue": 0.16,
    "white": 0.12,
    "red": 0.06,
    "brown": 0.05,
    "green": 0.04,
    "purple": 0.03,
    "pink": 0.03,
    "yellow": 0.03,
    "orange": 0.05,
}
BODY_P = {
    "white": 0.30,
    "grey": 0.25,
    "black": 0.22,
    "blue": 0.08,
    "red": 0.07,
    "brown": 0.02,
    "green": 0.02,
    "yellow": 0.01,
    "orange": 0.01,
    "purple": 0.01,
    "pink": 0.01,
}
HOURLY = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.5, 3, 4, 4, 4, 4.5, 5, 5, 4.5, 4.5, 5, 5.5, 5, 4, 3, 2.5, 2, 1.5])
CENTRES = 1024
CHUNK = 250_000
MODEL = "bench-plain"
US = 1_000_000


def _p(table: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.array([PALETTE.index(n) for n in table])
    p = np.array(list(table.values()))
    return codes, p / p.sum()


class City:
    """The synthetic network: cameras, their activity, calibration and analyses (one per camera-day)."""

    def __init__(self, rng: np.random.Generator, dim: int) -> None:
        commune_w = 1 / np.arange(1, COMMUNES + 1)  # a big city and smaller towns
        self.commune = rng.choice(COMMUNES, CAMERAS, p=commune_w / commune_w.sum())
        self.group = rng.integers(0, GROUPS, CAMERAS)
        self.ids = [f"cam-{i:03d}" for i in range(CAMERAS)]
        activity = rng.lognormal(0, 0.8, CAMERAS)
        self.activity = activity / activity.sum()
        self.calibrated = rng.random(CAMERAS) < 0.7
        centres = rng.normal(size=(CENTRES, dim))
        self.centres = (centres / np.linalg.norm(centres, axis=1, keepdims=True)).astype(np.float32)
        self.dim = dim

    def cameras(self) -> list[CameraConfig]:
        return [
            CameraConfig(
                id=cid,
                name=f"Camera {i}",
                lat=43.8 + i * 1e-4,
                lon=4.3 + i * 1e-4,
                commune=f"commune-{self.commune[i]:02d}",
                group=f"sector-{self.group[i]:02d}",
            )
            for i, cid in enumerate(self.ids)
        ]

    def times(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Sorted first-seen times (µs) over DAYS days, following the hourly profile."""
        day = rng.integers(0, DAYS, n)
        hour = rng.choice(24, n, p=HOURLY / HOURLY.sum())
        return np.sort(to_us(START) + (day * 86400 + hour * 3600) * US + rng.integers(0, 3600 * US, n))

    def tracks(self, rng: np.random.Generator, first_id: int, t0: np.ndarray):
        """One chunk of tracks (time-ordered) as rows for tracks, track_colours and track_vectors."""
        m = len(t0)
        ids = np.arange(first_id, first_id + m)
        cam = rng.choice(CAMERAS, m, p=self.activity)
        cls = rng.choice(len(CLASS_P), m, p=np.array(list(CLASS_P.values())))
        cls = np.array([TRACKED_CLASSES.index(c) for c in CLASS_P])[cls]
        person = cls == 0
        dwell = np.where(person, rng.lognormal(np.log(8), 1.0, m), rng.lognormal(np.log(4), 0.8, m)).clip(0.5, 7200)
        t1 = t0 + (dwell * US).astype(np.int64)
        height = np.where(person, rng.lognormal(np.log(120), 0.35, m), rng.lognormal(np.log(90), 0.4, m))
        speed = np.where(person, rng.normal(1.3, 0.35, m).clip(0.1), rng.lognormal(np.log(8), 0.5, m))
        speed_px = speed * rng.uniform(15, 40, m)
        direction = rng.integers(0, 9, m)  # 8: none
        day = (t0 - to_us(START)) // (86400 * US)
        analysis = cam * DAYS + day + 1
        first = np.char.add(np.datetime_as_string(t0.astype("datetime64[us]"), unit="us"), "Z").tolist()
        last = np.char.add(np.datetime_as_string(t1.astype("datetime64[us]"), unit="us"), "Z").tolist()
        cell = rng.integers(0, 63, m)
        cells = ((np.uint64(1) << cell.astype(np.uint64)) | (np.uint64(1) << (cell + 1).astype(np.uint64))).view(
            np.int64
        )
        cam_ids = [self.ids[c] for c in cam]
        speed_m = [s if ok else None for s, ok in zip(speed.tolist(), self.calibrated[cam].tolist())]
        directions = [COMPASS[d] if d < 8 else None for d in direction.tolist()]
        classes = [TRACKED_CLASSES[c] for c in cls.tolist()]
        thumbs = [f"thumbnails/{c}/{i}.jpg" for c, i in zip(cam_ids, ids.tolist())]
        track_rows = list(
            zip(
                ids.tolist(),
                analysis.tolist(),
                cam_ids,
                ids.tolist(),
                classes,
                first,
                last,
                dwell.tolist(),
                height.tolist(),
                (height * 0.4).tolist(),
                directions,
                speed_px.tolist(),
                speed_m,
                [1] * m,
                thumbs,
                cells.tolist(),
                [1920] * m,
                [1080] * m,
            )
        )
        colour_rows = self._colours(rng, ids, person)
        z = rng.integers(0, CENTRES, m)
        v = self.centres[z] + rng.normal(0, 1.0 / np.sqrt(self.dim), (m, self.dim)).astype(
            np.float32
        )  # cosine ~0.7 to its centre
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        blob, size = v.astype("<f4").tobytes(), self.dim * 4
        vector_rows = [(tid, MODEL, blob[k * size : (k + 1) * size]) for k, tid in enumerate(ids.tolist())]
        return track_rows, colour_rows, vector_rows

    @staticmethod
    def _colours(rng: np.random.Generator, ids: np.ndarray, person: np.ndarray) -> list[tuple]:
        parts = []
        for part, who, table in (("upper", person, CLOTHES_P), ("lower", person, CLOTHES_P), ("body", ~person, BODY_P)):
            codes, p = _p(table)
            first = codes[rng.choice(len(codes), len(ids), p=p)]
            second = codes[rng.choice(len(codes), len(ids), p=p)]
            two = who & (rng.random(len(ids)) < 0.5) & (second != first)
            parts += [(ids[who], part, 0, first[who]), (ids[two], part, 1, second[two])]
        tid = np.concatenate([p[0] for p in parts])
        part_no = np.concatenate([np.full(len(p[0]), ("upper", "lower", "body").index(p[1])) for p in parts])
        rank = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
        colour = np.concatenate([p[3] for p in parts])
        order = np.lexsort((rank, part_no, tid))  # the table's key order: appends only
        names = np.array(("upper", "lower", "body"))
        return list(
            zip(
                tid[order].tolist(),
                names[part_no[order]].tolist(),
                rank[order].tolist(),
                np.array(PALETTE)[colour[order]].tolist(),
            )
        )


def fill(store: SQLiteStore, city: City, n: int, seed: int) -> float:
    """Write n tracks with colours and vectors through the store's writer; seconds taken."""
    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    store.upsert_cameras(city.cameras())
    analyses = [
        (
            cam * DAYS + day + 1,
            city.ids[cam],
            f"/recordings/{city.ids[cam]}/{day:02d}.mp4",
            f"{cam:03d}{day:02d}".ljust(64, "0"),
            "complete",
            now_iso(),
            now_iso(),
        )
        for cam in range(CAMERAS)
        for day in range(DAYS)
    ]

    def setup(conn):
        conn.executemany(
            "INSERT INTO analyses (id, camera_id, source, fingerprint, status, started_at, finished_at) VALUES (?,?,?,?,?,?,?)",
            analyses,
        )

    for pragma in ("PRAGMA synchronous = OFF", "PRAGMA cache_size = -1048576"):  # bulk load: 1 GiB of page cache
        store.write(lambda conn, p=pragma: conn.execute(p)).result()
    store.write(setup).result()
    times = city.times(rng, n)
    pending = []
    with tqdm(total=n, desc=f"fill {n:,}", unit="track", unit_scale=True) as bar:
        for start in range(0, n, CHUNK):
            tracks, colours, vectors = city.tracks(rng, start + 1, times[start : start + CHUNK])

            def job(conn, tracks=tracks, colours=colours, vectors=vectors):
                conn.executemany(
                    "INSERT INTO tracks (id, analysis_id, camera_id, track_no, class, first_seen, last_seen, dwell_s, median_height_px,"
                    " median_width_px, direction, speed_px_s, speed_m_s, n_points, thumbnail_path, cells, frame_width, frame_height)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    tracks,
                )
                conn.executemany("INSERT INTO track_colours VALUES (?,?,?,?)", colours)
                conn.executemany("INSERT INTO track_vectors VALUES (?,?,?)", vectors)

            pending.append(store.write(job))
            while len(pending) > 1:  # generate the next chunk while this one is written
                pending.pop(0).result()
                bar.update(min(CHUNK, n - bar.n))
        for fut in pending:
            fut.result()
        bar.update(n - bar.n)
    store.write(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()
    return time.perf_counter() - t_start


def rss_gb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, GB."""
    status = Path("/proc/self/status").read_text()
    kb = {
        line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))
    }
    return kb["VmRSS"] / 1e6, kb["VmHWM"] / 1e6


def percentiles(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(np.max(ms)), 1),
    }


def exact_top(index, query: SearchQuery, row: int, k: int) -> np.ndarray:
    """Exact filtered top k (the reference for recall): every kept row scored."""
    sel, _ = index.select(query, with_vectors=True)
    sel.drop(index.same_sighting(row))
    rows = sel.rows()
    sims = np.asarray(index.vectors[rows]) @ np.asarray(index.vectors[row])
    return rows[np.argsort(-sims, kind="stable")[:k]]


def query_kinds(rng: np.random.Generator) -> dict:
    """The benchmark's three kinds of query: name -> a function drawing one, as (verb, SearchQuery)."""
    clothes, p = _p(CLOTHES_P)

    def window() -> tuple[datetime, datetime]:
        start = START + timedelta(days=int(rng.integers(0, DAYS - 3)))
        return start, start + timedelta(days=3)

    def group() -> str:
        return f"sector-{int(rng.integers(0, GROUPS)):02d}"

    return {
        "similar": lambda: (
            "similar",
            SearchQuery(classes=["person"], start=(w := window())[0], end=w[1], groups=[group()], limit=50),
        ),
        "attribute": lambda: (
            "search",
            SearchQuery(
                classes=["person"],
                upper=[PALETTE[rng.choice(clothes, p=p)]],
                lower=[PALETTE[rng.choice(clothes, p=p)]],
                start=(w := window())[0],
                end=w[1],
                groups=[group()],
                sort="relevance",
                limit=50,
            ),
        ),
        "broad": lambda: ("similar", SearchQuery(classes=["person"], limit=50)),
    }


def measure(store: SQLiteStore, index, city: City, queries: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    with_vector = np.flatnonzero(np.asarray(index.has_vector))
    kinds = query_kinds(rng)
    out = {}
    for kind, make in kinds.items():
        times, totals, methods, recalls = [], [], set(), []
        for i in range(queries + 10):  # the first 10 warm up (page faults, faiss file read)
            verb, query = make()
            row = int(with_vector[rng.integers(0, len(with_vector))])
            t0 = time.perf_counter()
            if verb == "similar":
                result = engine.similar(store, int(index.ids[row]), query)
            else:
                result = engine.search(store, query)
            took = (time.perf_counter() - t0) * 1000
            if i < 10:
                continue
            times.append(took)
            totals.append(result.total)
            methods.add(result.method.split(" ")[0])
            if verb == "similar" and i < 10 + min(queries, 30):
                truth = exact_top(index, query, row, 50)
                got = [h.track_id for h in result.hits]
                recalls.append(len(set(got) & set(index.ids[truth].tolist())) / max(len(truth), 1))
        out[kind] = {**percentiles(times), "mean_matches": int(np.mean(totals)), "method": "+".join(sorted(methods))}
        if recalls:
            out[kind]["recall_at_50"] = round(float(np.mean(recalls)), 4)
    return out


def baseline_ms(index, repeats: int = 5) -> float:
    """Exact brute force over every vector, no filter: one matrix-vector product and a top-50 partition."""
    vectors = np.asarray(index.vectors)
    times = []
    for r in range(repeats + 1):
        q = vectors[r * 7919 % len(vectors)]
        t0 = time.perf_counter()
        sims = vectors @ q
        np.argpartition(-sims, 50)[:50]
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times[1:]))


def run_size(n: int, args) -> dict:
    folder = Path(args.workdir) / f"n{n}"
    reuse = args.reuse and (folder / "vigie.db").exists()
    if not reuse:
        shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(args.seed)
    city = City(rng, args.dim)
    res: dict = {"tracks": n, "dim": args.dim}
    with SQLiteStore(folder) as store:
        res["fill_s"] = None if reuse else round(fill(store, city, n, args.seed + 1), 1)
        res["db_gb"] = round(sum(f.stat().st_size for f in folder.glob("vigie.db*")) / 1e9, 2)
        t0 = time.perf_counter()
        built = engine.get_index(store, progress=True)  # TrackIndex.from_store, then saved under <data>/index/
        res["build_s" if not reuse else "reopen_s"] = round(time.perf_counter() - t0, 1)
        res["ivf_lists"] = built.ivf.nlist if built.has_ivf else 0
        del built
        engine._INDEXES.clear()
        # As a restarted server: the saved index read back into memory.
        t0 = time.perf_counter()
        index = engine.get_index(store, preload=True)
        res["load_s"] = round(time.perf_counter() - t0, 2)
        res["index_gb"] = round(index.nbytes() / 1e9, 2)
        res.update(measure(store, index, city, args.queries, args.seed + 2))
        res["baseline_scan_ms"] = round(baseline_ms(index), 1)
        res["rss_gb"], res["peak_rss_gb"] = (round(x, 2) for x in rss_gb())
        for kind in ("similar", "attribute", "broad"):
            res[kind]["speedup_vs_scan_p50"] = round(res["baseline_scan_ms"] / res[kind]["p50_ms"], 1)
        engine._INDEXES.clear()
        del index
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000", help="comma-separated track counts")
    ap.add_argument("--dim", type=int, default=128, help="appearance vector dimension")
    ap.add_argument("--queries", type=int, default=200, help="timed queries of each kind")
    ap.add_argument("--workdir", default="/tmp/vigie-search-bench", help="where the synthetic stores go")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic stores")
    ap.add_argument("--reuse", action="store_true", help="use a store kept by --keep instead of filling a new one")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        res = run_size(n, args)
        print(json.dumps(res), flush=True)
        results.append(res)
    print()
    print(
        f"{'tracks':>11} {'query':<10} {'p50 ms':>7} {'p95 ms':>7} {'matches':>9} {'method':<11} {'recall@50':>9} {'x scan':>7}"
    )
    for r in results:
        for kind in ("similar", "attribute", "broad"):
            q = r[kind]
            print(
                f"{r['tracks']:>11,} {kind:<10} {q['p50_ms']:>7.1f} {q['p95_ms']:>7.1f} {q['mean_matches']:>9,} {q['method']:<11} "
                f"{q.get('recall_at_50', float('nan')):>9.3f} {q['speedup_vs_scan_p50']:>7.1f}"
            )
        print(
            f"{'':>11} brute-force scan of all vectors (baseline): {r['baseline_scan_ms']:.1f} ms; fill {r['fill_s']} s, "
            f"build {r.get('build_s')} s, load {r['load_s']} s; index {r['index_gb']} GB, RSS {r['rss_gb']} GB (peak {r['peak_rss_gb']})"
        )


if __name__ == "__main__":
    main()
