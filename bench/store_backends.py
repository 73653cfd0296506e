"""Store backends: insert rate and query latency, PostgreSQL against SQLite, at 1 M tracks.

Each backend gets a fresh store, filled the same way in the same run
(SQLite is the baseline; PostgreSQL 15 is Debian's, started by this script on
127.0.0.1 as the store contract's conftest does it: initdb, pg_ctl, as the
`postgres` user when run as root):

  bulk fill     bench/search_scale.py's city generator and its fill(), which
                writes through store.write(fn) with executemany (pg_dialect
                translates it); --copy uses COPY on PostgreSQL instead. That
                many minus --sample tracks, then on PostgreSQL the id sequences
                are moved past the rows (what any bulk load must do) and
                VACUUM ANALYZE runs (what autovacuum would do soon after);
  insert rate   --sample tracks through the real write path: begin_analysis,
                add_tracks in batches of --batch as the pipeline queues them
                (without waiting), finish_analysis (thumbnail files
                included); analyses of --per-analysis tracks, each track with
                ~100 points, 3-4 colours, a 128-d vector, 16 float16 crop
                descriptors for people, a ~1.4 kB JPEG thumbnail (no synopsis
                tube). Into the store already holding the bulk rows: the
                insert rate of a running city's store. The store totals --tracks;
                the sample's tracks are the ones with points;
  search        the search index built once per store (engine.get_index, then
                reloaded and preloaded as a server does), and search_scale's
                queries (similar, attribute, broad; the same random ones on both
                backends) through vigie.search.engine; the hits of both backends
                must be the same track ids in the same order (checked);
  reads         the web UI's plain reads: store.get_track (random track),
                store.list_tracks(camera_id=..., first page of 100),
                store.track_points (a sample track, ~100 points).

PostgreSQL settings: shared_buffers 1GB, max_wal_size 4GB, fsync, full_page_writes and
synchronous_commit on (the defaults: durable commits, as SQLite's WAL with synchronous=FULL,
the store's default). SQLite's writer gets search_scale's bulk pragmas (synchronous OFF,
1 GiB cache) during the bulk fill only; they are set back to the store's defaults before the
timed sample insert.

Run: .venv/bin/python bench/store_backends.py [--tracks 1000000] [--sample 20000] [--queries 100] [--reads 300] [--copy] [--keep]
Writes bench/out/store_backends.json. Temp data under --workdir (default /tmp/vigie-store-bench), deleted unless --keep.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import search_scale as ss  # noqa: E402
from pg_server import PG_BIN, PgServer  # noqa: E402

from vigie.describe.colours import PALETTE  # noqa: E402
from vigie.search import engine  # noqa: E402
from vigie.search.index import store_generation  # noqa: E402
from vigie.search.query import COMPASS, SearchQuery  # noqa: E402
from vigie.store.base import StoreBase  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.types import TrackPoint, TrackSummary  # noqa: E402

PG_SETTINGS = {
    "shared_buffers": "1GB",
    "max_wal_size": "4GB",
    "max_connections": "100",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
}
CROP_DIM = 640  # float16: 1,280 bytes a crop, as the describer's base descriptors (BENCHMARKS.md section 16)
CROPS = 16  # CropSampler's max_crops


# --- the bulk fill ----------------------------------------------------------------------------------
def copy_fill(store, city: ss.City, n: int, seed: int) -> float:
    """search_scale.fill's rows (same generator, same order), written with COPY on the store's writer connection."""
    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    store.upsert_cameras(city.cameras())
    analyses = [
        (
            cam * ss.DAYS + day + 1,
            city.ids[cam],
            f"/recordings/{city.ids[cam]}/{day:02d}.mp4",
            f"{cam:03d}{day:02d}".ljust(64, "0"),
            "complete",
            ss.now_iso(),
            ss.now_iso(),
        )
        for cam in range(ss.CAMERAS)
        for day in range(ss.DAYS)
    ]
    store.write(
        lambda conn: conn.executemany(
            "INSERT INTO analyses (id, camera_id, source, fingerprint, status, started_at, finished_at) VALUES (?,?,?,?,?,?,?)",
            analyses,
        )
    ).result()
    times = city.times(rng, n)
    cols = (
        "id, analysis_id, camera_id, track_no, class, first_seen, last_seen, dwell_s, median_height_px, median_width_px,"
        " direction, speed_px_s, speed_m_s, n_points, thumbnail_path, cells, frame_width, frame_height"
    )
    pending = []
    for start in range(0, n, ss.CHUNK):
        tracks, colours, vectors = city.tracks(rng, start + 1, times[start : start + ss.CHUNK])

        def job(conn, tracks=tracks, colours=colours, vectors=vectors):
            raw = conn.raw
            for sql, rows in (
                (f"COPY tracks ({cols}) FROM STDIN", tracks),
                ("COPY track_colours FROM STDIN", colours),
                ("COPY track_vectors FROM STDIN", vectors),
            ):
                with raw.cursor().copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            conn._changing = True

        pending.append(store.write(job))
        while len(pending) > 1:
            pending.pop(0).result()
    for fut in pending:
        fut.result()
    return time.perf_counter() - t_start


def after_bulk(store, backend: str, pg: PgServer | None, database: str | None) -> dict:
    """What follows a bulk load: PostgreSQL's sequences past the rows, VACUUM ANALYZE; SQLite's writer back to its defaults."""
    out = {}
    if backend == "postgres":

        def seqs(conn):
            for table in ("analyses", "tracks"):
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

        store.write(seqs).result()
        t0 = time.perf_counter()
        pg.admin("VACUUM ANALYZE", database)
        out["vacuum_analyze_s"] = round(time.perf_counter() - t0, 1)
    else:
        for pragma in ("PRAGMA synchronous = FULL", "PRAGMA cache_size = -2000"):  # the store's own (SQLite's defaults)
            store.write(lambda conn, p=pragma: conn.execute(p)).result()
    return out


# --- the real write path ----------------------------------------------------------------------------
def _thumbnails(rng: np.random.Generator, k: int = 8) -> list[bytes]:
    import cv2

    out = []
    for _ in range(k):
        img = (rng.random((128, 64, 3)) * 40 + rng.integers(0, 200, 3)).astype(np.uint8)
        img = cv2.GaussianBlur(img, (5, 5), 0)
        out.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return out


def sample_tracks(city: ss.City, n: int, per_analysis: int, seed: int) -> list[tuple[str, str, list[TrackSummary]]]:
    """n realistic TrackSummary objects in analyses of per_analysis tracks: (camera, source, tracks) each."""
    rng = np.random.default_rng(seed)
    thumbs = _thumbnails(rng)
    clothes, pc = ss._p(ss.CLOTHES_P)
    body, pb = ss._p(ss.BODY_P)
    classes = list(ss.CLASS_P)
    p_class = np.array(list(ss.CLASS_P.values()))
    out = []
    for a in range(0, n, per_analysis):
        cam = int(rng.choice(ss.CAMERAS, p=city.activity))
        camera_id = city.ids[cam]
        day = int(rng.integers(0, ss.DAYS))
        day_start = ss.START + timedelta(days=day, hours=8)
        tracks = []
        for k in range(min(per_analysis, n - a)):
            cls = classes[int(rng.choice(len(classes), p=p_class))]
            person = cls == "person"
            m = int(rng.integers(20, 181))  # points: ~100 a track at 5 analysed frames per second
            t_first = day_start + timedelta(seconds=float(rng.uniform(0, 3600 * 10)))
            x0, y0 = rng.uniform(100, 1700), rng.uniform(300, 900)
            h = float(rng.lognormal(np.log(120 if person else 90), 0.35))
            w = h * (0.4 if person else 1.6)
            steps = np.cumsum(rng.normal(0, 3, (m, 2)), axis=0)
            ground = city.calibrated[cam]
            points = [
                TrackPoint(
                    seq=j,
                    timestamp=t_first + timedelta(seconds=j / 5),
                    xyxy=(float(x0 + dx), float(y0 + dy - h), float(x0 + dx + w), float(y0 + dy)),
                    confidence=float(rng.uniform(0.3, 0.95)),
                    ground_xy=(float(dx / 30), float(dy / 30)) if ground else None,
                )
                for j, (dx, dy) in enumerate(steps.tolist())
            ]
            v = city.centres[rng.integers(0, ss.CENTRES)] + rng.normal(0, 1.0 / np.sqrt(city.dim), city.dim).astype(
                np.float32
            )
            v = (v / np.linalg.norm(v)).astype(np.float32)
            crops = None
            if person:
                c = rng.random((CROPS, CROP_DIM), dtype=np.float32)
                crops = (c / np.linalg.norm(c, axis=1, keepdims=True)).astype(np.float16)
            speed_px = float(rng.uniform(10, 60))
            tracks.append(
                TrackSummary(
                    camera_id=camera_id,
                    track_no=k + 1,
                    class_name=cls,
                    first_seen=points[0].timestamp,
                    last_seen=points[-1].timestamp,
                    points=points,
                    upper_colours=[
                        PALETTE[c] for c in rng.choice(clothes, int(rng.integers(1, 3)), p=pc, replace=False)
                    ]
                    if person
                    else [],
                    lower_colours=[
                        PALETTE[c] for c in rng.choice(clothes, int(rng.integers(1, 3)), p=pc, replace=False)
                    ]
                    if person
                    else [],
                    body_colours=[]
                    if person
                    else [PALETTE[c] for c in rng.choice(body, int(rng.integers(1, 3)), p=pb, replace=False)],
                    median_height_px=h,
                    median_width_px=w,
                    direction=COMPASS[int(rng.integers(0, 8))],
                    speed_px_s=speed_px,
                    speed_m_s=speed_px / 25 if ground else None,
                    thumbnail_jpeg=thumbs[k % len(thumbs)],
                    thumbnail_seq=m // 2,
                    frame_size=(1920, 1080),
                    crops=crops,
                    crop_seqs=list(range(0, CROPS * 4, 4)) if person else [],
                    crop_base="bench-base" if person else None,
                    vector=v,
                    vector_model=ss.MODEL,
                )
            )
        out.append((camera_id, f"/recordings/sample/{a // per_analysis:04d}.mp4", tracks))
    return out


def insert_sample(store: StoreBase, analyses, batch: int) -> dict:
    """The pipeline's write path, timed end to end (finish_analysis and its thumbnail files included)."""
    n = sum(len(t) for _, _, t in analyses)
    t0 = time.perf_counter()
    for camera_id, source, tracks in analyses:
        aid = store.begin_analysis(camera_id, source, f"sample-{source}".ljust(64, "0"))
        pending = [store.add_tracks(aid, tracks[i : i + batch]) for i in range(0, len(tracks), batch)]
        for fut in pending:
            fut.result()
        store.finish_analysis(aid, "complete", len(tracks) * 10, len(tracks) * 5)
    took = time.perf_counter() - t0
    return {
        "tracks": n,
        "seconds": round(took, 2),
        "tracks_per_s": round(n / took, 1),
        "points": sum(len(s.points) for _, _, t in analyses for s in t),
    }


# --- queries ----------------------------------------------------------------------------------------
def make_queries(index, count: int, seed: int) -> dict[str, list[tuple[str, SearchQuery, int]]]:
    """search_scale.measure's three kinds, drawn once: (verb, query, reference track id); 10 warm-up ones first."""
    rng = np.random.default_rng(seed)
    with_vector = np.flatnonzero(np.asarray(index.has_vector))
    kinds = ss.query_kinds(rng)
    out = {}
    for kind, make in kinds.items():
        out[kind] = []
        for _ in range(count + 10):
            verb, query = make()
            out[kind].append((verb, query, int(index.ids[int(with_vector[rng.integers(0, len(with_vector))])])))
    return out


def stats(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "mean_ms": round(float(np.mean(ms)), 2),
        "n": len(ms),
    }


def run_queries(store: StoreBase, queries) -> tuple[dict, dict]:
    timings, results = {}, {}
    for kind, items in queries.items():
        times, hits, totals, methods = [], [], [], set()
        for i, (verb, query, tid) in enumerate(items):
            t0 = time.perf_counter()
            result = engine.similar(store, tid, query) if verb == "similar" else engine.search(store, query)
            took = (time.perf_counter() - t0) * 1000
            if i < 10:
                continue
            times.append(took)
            hits.append([h.track_id for h in result.hits])
            totals.append(result.total)
            methods.add(result.method.split(" ")[0])
        timings[kind] = {**stats(times), "mean_matches": int(np.mean(totals)), "method": "+".join(sorted(methods))}
        results[kind] = {"hits": hits, "totals": totals}
    return timings, results


def run_reads(
    store: StoreBase, n_tracks: int, sample_ids: np.ndarray, cameras: list[str], count: int, seed: int
) -> dict:
    rng = np.random.default_rng(seed)
    track_ids = rng.integers(1, n_tracks + 1, count + 10).tolist()
    point_ids = rng.choice(sample_ids, count + 10).tolist()
    cams = [cameras[i] for i in rng.integers(0, len(cameras), count + 10)]
    out = {}
    for name, call in (
        ("get_track", lambda i: store.get_track(track_ids[i])),
        ("list_tracks_camera", lambda i: store.list_tracks(camera_id=cams[i])),
        ("track_points", lambda i: store.track_points(int(point_ids[i]))),
    ):
        times, sizes = [], []
        for i in range(count + 10):
            t0 = time.perf_counter()
            got = call(i)
            took = (time.perf_counter() - t0) * 1000
            if i >= 10:
                times.append(took)
                sizes.append(len(got) if isinstance(got, list) else int(got is not None))
        out[name] = {**stats(times), "mean_rows": round(float(np.mean(sizes)), 1)}
    # Where a read's time goes: opening a read connection (each store method opens one), and the
    # search engine's store-changed check on its long-lived reader (SQLite: PRAGMA data_version
    # first, the generation only when it moved; PostgreSQL: the generation at every query).
    times = []
    for i in range(count + 10):
        t0 = time.perf_counter()
        store._open_read().close()
        times.append((time.perf_counter() - t0) * 1000)
    out["open_read_connection"] = stats(times[10:])
    conn = store.long_reader()
    for name, call in (
        ("data_version", lambda: store.data_version(conn)),
        ("store_generation", lambda: store_generation(conn)),
    ):
        times = []
        for i in range(count + 10):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = stats(times[10:])
    if isinstance(conn, sqlite3.Connection):
        conn.close()  # PostgreSQL's long readers are closed with the store
    return out


# --- one backend --------------------------------------------------------------------------------------
def run_backend(backend: str, args, workdir: Path, queries_box: dict, pg: PgServer | None) -> tuple[dict, dict]:
    city = ss.City(np.random.default_rng(args.seed), args.dim)
    data_dir = workdir / f"{backend}-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    database = None
    if backend == "sqlite":
        store: StoreBase = SQLiteStore(data_dir)
    else:
        from vigie.store.postgres import PostgresStore

        database = "vigie_bench"
        pg.admin(f"DROP DATABASE IF EXISTS {database}")
        pg.admin(f"CREATE DATABASE {database}")
        store = PostgresStore(pg.url(database), data_dir)
    res: dict = {"backend": backend}
    bulk_n = args.tracks - args.sample
    try:
        use_copy = args.copy and backend == "postgres"
        print(f"[{backend}] bulk fill of {bulk_n:,} tracks ({'COPY' if use_copy else 'executemany'})", flush=True)
        fill_s = (
            copy_fill(store, city, bulk_n, args.seed + 1) if use_copy else ss.fill(store, city, bulk_n, args.seed + 1)
        )
        res["bulk_fill"] = {
            "tracks": bulk_n,
            "seconds": round(fill_s, 1),
            "tracks_per_s": round(bulk_n / fill_s, 1),
            "method": "COPY" if use_copy else "executemany (search_scale.fill)",
        }
        with store.read() as conn:  # rows written: tracks, their colour names and vectors
            rows = sum(
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("tracks", "track_colours", "track_vectors")
            )
        res["bulk_fill"].update(rows=rows, rows_per_s=round(rows / fill_s, 1))
        res["bulk_fill"].update(after_bulk(store, backend, pg, database))
        print(f"[{backend}] {res['bulk_fill']}", flush=True)
        analyses = sample_tracks(city, args.sample, args.per_analysis, args.seed + 5)
        gc.collect()
        res["insert"] = insert_sample(store, analyses, args.batch)
        res["insert"]["batch"], res["insert"]["per_analysis"] = args.batch, args.per_analysis
        del analyses
        print(f"[{backend}] insert {res['insert']}", flush=True)
        if backend == "postgres":
            pg.admin("ANALYZE", database)  # as autovacuum would after 20 k new tracks and 2 M points
        with store.read() as conn:
            res["tracks_total"] = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
            sample_ids = np.array(
                [r[0] for r in conn.execute("SELECT id FROM tracks WHERE id > ?", (bulk_n,))], np.int64
            )
            if backend == "postgres":
                res["db_gb"] = round(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e9, 2)
        if backend == "sqlite":
            res["db_gb"] = round(sum(f.stat().st_size for f in data_dir.glob("vigie.db*")) / 1e9, 2)
        engine._INDEXES.clear()
        t0 = time.perf_counter()
        built = engine.get_index(store)
        res["index_build_s"] = round(time.perf_counter() - t0, 1)
        del built
        engine._INDEXES.clear()
        t0 = time.perf_counter()
        index = engine.get_index(store, preload=True)
        res["index_load_s"] = round(time.perf_counter() - t0, 2)
        if "queries" not in queries_box:
            queries_box["queries"] = make_queries(index, args.queries, args.seed + 2)
        print(f"[{backend}] index built in {res['index_build_s']} s; queries", flush=True)
        res["queries"], results = run_queries(store, queries_box["queries"])
        del index
        print(f"[{backend}] reads", flush=True)
        res["reads"] = run_reads(store, args.tracks, sample_ids, city.ids, args.reads, args.seed + 3)
        print(json.dumps(res), flush=True)
    finally:
        engine._INDEXES.clear()
        readers = engine._LOCAL.__dict__.get("readers", {})
        for key in list(readers):
            if key == store.location:
                try:
                    readers.pop(key).conn.close()
                except Exception:  # noqa: BLE001
                    pass
        store.close()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database:
                pg.admin(f"DROP DATABASE IF EXISTS {database}")
    return res, results


def compare(a: dict, b: dict) -> dict:
    out = {}
    for kind in a:
        same = sum(x == y for x, y in zip(a[kind]["hits"], b[kind]["hits"]))
        out[kind] = {
            "queries": len(a[kind]["hits"]),
            "identical_hits": same,
            "identical_totals": sum(x == y for x, y in zip(a[kind]["totals"], b[kind]["totals"])),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=1_000_000, help="tracks in each store at the end")
    ap.add_argument("--sample", type=int, default=20_000, help="tracks written through the real write path (timed)")
    ap.add_argument("--batch", type=int, default=10, help="tracks per add_tracks call")
    ap.add_argument("--per-analysis", type=int, default=500, help="tracks per analysis of the sample")
    ap.add_argument("--queries", type=int, default=100, help="timed queries of each kind (10 more warm up)")
    ap.add_argument("--reads", type=int, default=300, help="timed plain reads of each kind")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--copy", action="store_true", help="bulk fill PostgreSQL with COPY rather than executemany")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--workdir", default="/tmp/vigie-store-bench")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "store_backends.json"))
    ap.add_argument("--keep", action="store_true", help="keep the stores (and the PostgreSQL server's folder)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    backends = args.backends.split(",")
    if "postgres" in backends and not (PG_BIN / "initdb").is_file():
        raise SystemExit(f"PostgreSQL is not installed ({PG_BIN}/initdb missing): apt-get install postgresql-15")
    pg = PgServer(workdir / "pg", settings=PG_SETTINGS) if "postgres" in backends else None
    runs, results, queries_box = {}, {}, {}
    try:
        if pg:
            runs["postgres_server"] = pg.admin("SELECT version()")[0][0]
        for backend in backends:
            runs[backend], results[backend] = run_backend(backend, args, workdir, queries_box, pg)
    finally:
        if pg:
            pg.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    out = {"args": vars(args), "pg_settings": PG_SETTINGS, "cpus": os.cpu_count(), "load_avg": os.getloadavg(), **runs}
    if "sqlite" in results and "postgres" in results:
        out["identical"] = compare(results["sqlite"], results["postgres"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print_table(out, backends)
    if "identical" in out:
        bad = {k: v for k, v in out["identical"].items() if v["identical_hits"] != v["queries"]}
        assert not bad, f"the backends' results differ: {bad}"


def print_table(out: dict, backends: list[str]) -> None:
    s, p = out.get("sqlite"), out.get("postgres")
    rows = []
    if s and p:
        rows.append(("insert, real write path (tracks/s)", s["insert"]["tracks_per_s"], p["insert"]["tracks_per_s"]))
        rows.append(("bulk fill (tracks/s)", s["bulk_fill"]["tracks_per_s"], p["bulk_fill"]["tracks_per_s"]))
        rows.append(
            ("bulk fill (rows/s: tracks, colours, vectors)", s["bulk_fill"]["rows_per_s"], p["bulk_fill"]["rows_per_s"])
        )
        rows.append(("index build from the store (s)", s["index_build_s"], p["index_build_s"]))
        rows.append(("database size (GB)", s["db_gb"], p["db_gb"]))
        for kind in ("similar", "attribute", "broad"):
            for stat in ("p50_ms", "p95_ms", "mean_ms"):
                rows.append((f"search {kind} {stat}", s["queries"][kind][stat], p["queries"][kind][stat]))
        for name in (
            "get_track",
            "list_tracks_camera",
            "track_points",
            "open_read_connection",
            "data_version",
            "store_generation",
        ):
            for stat in ("p50_ms", "p95_ms"):
                rows.append((f"{name} {stat}", s["reads"][name][stat], p["reads"][name][stat]))
        print(f"\n{'':<48} {'SQLite':>10} {'PostgreSQL':>11} {'PG/SQLite':>10}")
        for name, a, b in rows:
            print(f"{name:<48} {a:>10} {b:>11} {b / a if a else float('nan'):>10.2f}")
        for name in ("similar", "attribute", "broad"):
            print(
                f"{name}: {s['queries'][name]['mean_matches']:,} matches, method {s['queries'][name]['method']} / {p['queries'][name]['method']}"
            )
        print(f"bulk fill on PostgreSQL: {p['bulk_fill']['method']}")
        print(f"identical results: {out['identical']}")


if __name__ == "__main__":
    main()
