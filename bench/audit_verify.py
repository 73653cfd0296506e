"""How long `vigie audit verify` takes on a 1 M-entry chain (issue 19, finding 6).

Builds, in a temporary store, a chain of N entries keyed with HMAC-SHA-256 (as
`append` writes them, but inserted in one transaction so the build is quick),
anchors its head, and times `verify` (the walk the CLI, /api/audit/verify and
the auditor's page run). The baseline, in the same run, is the same chain
unkeyed (plain SHA-256, as before issue 19: a legacy chain) in a second store.
Entries look like real ones: a user, a role, a case, a purpose, a small JSON
details object.

Run: .venv/bin/python bench/audit_verify.py [--entries 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.audit import log  # noqa: E402
from vigie.audit.anchoring import anchor  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402

BATCH = 50_000


def build(store: SQLiteStore, n: int, keyed: bool) -> None:
    """n entries, chained (keyed or not), from seq 1 or after what is there."""
    key = log.chain_key(store) if keyed else None
    with store.read() as conn:
        row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (row[0], row[1]) if row else (0, log.GENESIS)
    at0 = time.time()
    while seq < n:
        rows = []
        for _ in range(min(BATCH, n - seq)):
            seq += 1
            at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at0 + seq)) + ".000Z"
            user = f"inv{seq % 37}"
            details = log.canonical_json({"query": {"upper": ["red"], "cameras": ["cam-a"]}, "returned": seq % 50})
            fields = (seq, at, user, "investigator", "search", f"PV-{seq % 997}", "burglary rue X", details, prev)
            prev = log.entry_hash(*fields, key)
            rows.append((*fields, prev))
        store.write(
            lambda conn, rows=rows: conn.executemany(
                f"INSERT INTO audit_log ({log._COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows
            )
        ).result()


def timed_verify(store: SQLiteStore) -> tuple[float, log.VerifyResult]:
    t = time.perf_counter()
    result = log.verify(store)
    return time.perf_counter() - t, result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    out = {"entries": args.entries}
    with tempfile.TemporaryDirectory() as tmp:
        keyed_dir, legacy_dir = Path(tmp) / "keyed", Path(tmp) / "legacy"
        with SQLiteStore(legacy_dir) as store:
            t = time.perf_counter()
            build(store, args.entries, keyed=False)  # no key file, no anchor: a chain from before issue 19
            out["legacy_build_s"] = time.perf_counter() - t
            s, r = timed_verify(store)
            assert r.ok and r.legacy_entries == args.entries, r.reason
            out["legacy_verify_s"] = s
        with SQLiteStore(keyed_dir) as store:
            log.append(store, "bench", "system", "settings")  # key and anchor file, as the service starts them
            t = time.perf_counter()
            build(store, args.entries, keyed=True)
            out["keyed_build_s"] = time.perf_counter() - t
            anchor(store, "manual")
            s, r = timed_verify(store)
            assert r.ok and r.entries == args.entries and r.anchored_seq == args.entries, r.reason
            out["keyed_verify_s"] = s
            out["db_mib"] = os.path.getsize(keyed_dir / "vigie.db") / 2**20
    out["keyed_us_per_entry"] = 1e6 * out["keyed_verify_s"] / args.entries
    out["ratio_keyed_to_legacy"] = out["keyed_verify_s"] / out["legacy_verify_s"]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"audit chain of {args.entries:,} entries ({out['db_mib']:.0f} MiB database)")
    print(
        f"  verify, keyed (HMAC-SHA-256, 2 anchors): {out['keyed_verify_s']:.1f} s ({out['keyed_us_per_entry']:.1f} us/entry)"
    )
    print(f"  verify, legacy (SHA-256, the baseline):  {out['legacy_verify_s']:.1f} s")
    print(f"  keyed / legacy: {out['ratio_keyed_to_legacy']:.2f}")


if __name__ == "__main__":
    main()
