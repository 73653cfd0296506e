"""What sealing every picture at rest costs (issue 19, finding 7; vigie.store.pictures).

PETS09-S2L1 (vtest.avi, 795 frames, 113.6 s) is analysed as the demo's esplanade camera, so the
store holds real tubes, backgrounds and thumbnails. Then, in the same run, against a baseline:

- **space**: the picture columns' bytes sealed, against the same pictures in the clear (the
  baseline); and what Fernet's base64 text form would have taken;
- **synopsis reads**: reading and decoding every tube and background of the period as a synopsis
  does (vigie.synopsis.build.select), sealed, against the same store with the pictures planted in
  the clear (the baseline: the code before the fix read them straight), median of several rounds;
- **sealing on write**: sealing the tubes as the store does on add_tracks, against encoding
  them (encode_tube, which the writer did before as well);
- **the upgrade**: sealing the store in place (Pictures.seal_plain), MB a second.

Run: .venv/bin/python bench/pictures_at_rest.py [--data DIR (keep or reuse the analysed folder)] [--rounds N]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.pipeline import analyse_file  # noqa: E402
from vigie.store.pictures import MARKER, PICTURE_COLUMNS  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.synopsis.build import select  # noqa: E402
from vigie.synopsis.capture import TubeFrames, decode_tube, encode_tube  # noqa: E402

VTEST = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def analysed(data: Path) -> None:
    with SQLiteStore(data) as store:
        with store.read() as conn:
            if conn.execute("SELECT count(*) FROM analyses WHERE status = 'complete'").fetchone()[0]:
                return
        raw = yaml.safe_load(SITE.read_text())
        cam = next(c for c in raw["cameras"] if c["id"] == CAMERA)
        cam.update(recording_start=START.isoformat().replace("+00:00", "Z"), frame_rate=7, source=str(VTEST))
        site_file = data.parent / "site.yaml"
        site_file.write_text(yaml.safe_dump(raw))
        t = time.perf_counter()
        report = analyse_file(VTEST, CAMERA, load_site(site_file), store, progress=False)
        print(f"analysed in {time.perf_counter() - t:.0f} s: {report.tracks} tracks", flush=True)


def column_bytes(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {
            c.table: conn.execute(f"SELECT coalesce(sum(length({c.column})), 0) FROM {c.table}").fetchone()[0]
            for c in PICTURE_COLUMNS
        }
    finally:
        conn.close()


def plant_plain(store) -> None:
    """The store as the code before the fix left it: every picture column in the clear."""
    for c in PICTURE_COLUMNS:
        keys = ", ".join(c.keys)
        with store.read() as conn:
            rows = [tuple(r) for r in conn.execute(f"SELECT {keys}, {c.column} FROM {c.table}")]
        match = " AND ".join(f"{k} = ?" for k in c.keys)
        plain = [(store.pictures.open(r[-1]), *r[:-1]) for r in rows if r[-1] is not None]
        store.write(
            lambda conn, p=plain, t=c: conn.executemany(f"UPDATE {t.table} SET {t.column} = ? WHERE {match}", p)
        ).result()
    (store.data_dir / MARKER).unlink(missing_ok=True)


def select_seconds(store) -> float:
    t = time.perf_counter()
    sel = select(store, CAMERA, START, START + timedelta(seconds=115), {})
    for o in sel.objects:  # decode every crop, as rendering does
        for k in range(len(o.tube)):
            o.tube.image(k)
    return time.perf_counter() - t


def time_selects(sealed, plain, rounds: int) -> tuple[float, float]:
    """Median seconds of the selection on each store, their rounds interleaved (the machine's load
    falls on both alike)."""
    a, b = [], []
    for _ in range(rounds):
        a.append(select_seconds(sealed))
        b.append(select_seconds(plain))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="data folder to analyse into (kept; reused when already analysed)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="vigie-bench-pictures-")) / "var"
    os.environ["VIGIE_DATA"] = str(data)
    analysed(data)
    db = data / "vigie.db"
    plain_dir = data.parent / "var-plain"  # a copy, planted in the clear: the code before the fix
    shutil.rmtree(plain_dir, ignore_errors=True)
    with SQLiteStore(data) as store:
        if not (data / MARKER).exists():
            store.seal_plain_pictures()
        sealed_bytes = column_bytes(db)
        with store.read() as conn:
            tubes = [store.pictures.open(r[0]) for r in conn.execute("SELECT data FROM tubes")]
        text_form = sum(len(base64.urlsafe_b64encode(store.pictures.seal(t))) for t in tubes)

        # sealing on write, against encoding (the writer's share before the fix)
        decoded = [decode_tube(t) for t in tubes]
        t = time.perf_counter()
        for d in decoded:
            encode_tube_from(d)
        t_encode = time.perf_counter() - t
        t = time.perf_counter()
        for blob in tubes:
            store.pictures.seal(blob)
        t_seal = time.perf_counter() - t

    shutil.copytree(data, plain_dir)
    with SQLiteStore(data) as store, SQLiteStore(plain_dir) as plain:
        plant_plain(plain)
        plain_bytes = column_bytes(plain_dir / "vigie.db")
        t_sealed, t_plain = time_selects(store, plain, args.rounds)
        t = time.perf_counter()
        done = plain.seal_plain_pictures()
        t_upgrade = time.perf_counter() - t
    mb = sum(plain_bytes.values()) / 1e6
    print(f"\nPETS09-S2L1 analysed: {len(tubes)} tubes; pictures in the store {mb:.1f} MB in the clear")
    print("| measure | sealed | baseline (clear) | sealed / baseline |\n| --- | --- | --- | --- |")
    for c in PICTURE_COLUMNS:
        if plain_bytes[c.table]:
            s, p = sealed_bytes[c.table], plain_bytes[c.table]
            print(f"| {c.table} bytes | {s:,} | {p:,} | {s / p:.4f} |")
    tube_plain = plain_bytes["tubes"]
    print(f"| tubes as Fernet text (not used) | {text_form:,} | {tube_plain:,} | {text_form / tube_plain:.4f} |")
    print(
        f"| synopsis selection (read + decode every crop), median of {args.rounds} | {t_sealed * 1e3:.0f} ms"
        f" | {t_plain * 1e3:.0f} ms | {t_sealed / t_plain:.3f} |"
    )
    print(
        f"| writing the tubes: seal / encode_tube | {t_seal * 1e3:.0f} ms | {t_encode * 1e3:.0f} ms"
        f" | {t_seal / t_encode:.3f} |"
    )
    print(
        f"| upgrade in place: {sum(done.values())} values, {mb:.1f} MB | {t_upgrade:.2f} s"
        f" | | {mb / t_upgrade:.1f} MB/s |"
    )


def encode_tube_from(stored) -> bytes:
    """encode_tube of a decoded tube (the bytes the writer stores)."""
    frames = TubeFrames(
        seqs=list(stored.seqs),
        times=list(stored.times),
        rects=[tuple(r) for r in stored.rects],
        boxes=[tuple(b) for b in stored.boxes],
        jpegs=stored.jpegs,
        masks=stored.masks,
        frame_size=stored.frame_size,
    )
    return encode_tube(frames)


if __name__ == "__main__":
    main()
