"""The login throttle's effect (issue 19, finding 8): attempts per minute one client gets accepted, and the
memory 50 parallel logins take with the hashing cap against without it.

    python bench/login_throttle.py [--minutes 60] [--parallel 50]

1. Attempts accepted per client. One client (one address) sends a wrong password every second for
   `--minutes` minutes to the real app (POST /api/login through FastAPI's test client), the throttle's
   clock moved by hand so the hour takes seconds. Printed: the attempts checked (not answered 429) in the
   first minute, in the last minute, and over the whole run, against 60 a minute without a throttle. The
   same with a new address per attempt shows the per-name delay (one name guessed from everywhere).
2. Memory under parallel attempts. `--parallel` logins at once, each from its own address, with the real
   argon2id (64 MiB each), in a fresh process per case: the process's peak resident memory (ru_maxrss)
   above what it had before the logins, with hash_slots = 4 (the default) and with hash_slots = parallel
   (no cap, as before issue 19).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PW = "correct horse battery staple"


def app_and_store(folder: Path, cheap: bool):
    from argon2 import PasswordHasher

    from vigie.accounts import users
    from vigie.services import Services
    from vigie.store.sqlite import SQLiteStore
    from vigie.web.app import create_app

    if cheap:
        users.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    store = SQLiteStore(folder)
    users.create_user(store, "admin2", "admin", PW)
    return create_app(Services(store=store)), store


def accepted_per_minute(minutes: int, one_client: bool) -> list[int]:
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        app, store = app_and_store(Path(tmp), cheap=True)
        t = [0.0]
        app.state.login_throttle.clock = lambda: t[0]
        clients = {}
        per_minute = [0] * minutes
        try:
            for second in range(minutes * 60):
                t[0] = float(second)
                address = "203.0.113.9" if one_client else f"10.{second // 65536}.{second // 256 % 256}.{second % 256}"
                c = clients.get(address) or TestClient(app, client=(address, 1))
                if one_client:
                    clients[address] = c
                name = f"guess-{second}" if one_client else "admin2"
                r = c.post("/api/login", json={"username": name, "password": "wrong password!!"})
                assert r.status_code in (401, 429), r.text
                per_minute[second // 60] += r.status_code == 401
        finally:
            store.close()
        return per_minute


def memory_case(parallel: int, slots: int) -> None:
    """Run in a fresh process: print {"rss_before_mib", "rss_peak_mib", "seconds"} as JSON."""
    from fastapi.testclient import TestClient

    from vigie.accounts import users

    with tempfile.TemporaryDirectory() as tmp:
        app, store = app_and_store(Path(tmp), cheap=False)
        throttle = app.state.login_throttle
        throttle.hash_slots, throttle._slots = slots, threading.BoundedSemaphore(slots)
        users._dummy_hash()  # made once, before measuring
        clients = [TestClient(app, client=(f"198.51.100.{i + 1}", 1)) for i in range(parallel)]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        codes: list[int] = []
        start = time.perf_counter()

        def attempt(i: int) -> None:
            codes.append(clients[i].post("/api/login", json={"username": f"u{i}", "password": "wrong!"}).status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(parallel)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.close()
    assert codes.count(401) == parallel, codes
    print(json.dumps({"rss_before_mib": before, "rss_peak_mib": peak, "seconds": seconds}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--parallel", type=int, default=50)
    ap.add_argument("--memory-case", nargs=2, type=int, metavar=("PARALLEL", "SLOTS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_case:
        memory_case(*args.memory_case)
        return 0

    print(f"1. Wrong passwords, one a second for {args.minutes} minutes (without a throttle: 60 a minute)")
    for label, one_client in (("one client, a new name each time", True), ("one name, a new address each time", False)):
        per = accepted_per_minute(args.minutes, one_client)
        print(
            f"   {label}: checked {per[0]} in the first minute, {per[-1]} in the last, "
            f"{sum(per)} in {args.minutes} min ({sum(per) / args.minutes:.1f} a minute on average)"
        )

    print(f"2. {args.parallel} parallel logins with argon2id at 64 MiB, peak memory of the process")
    from vigie.web.throttle import LoginThrottle

    for slots in (LoginThrottle().hash_slots, args.parallel):
        out = subprocess.run(
            [sys.executable, __file__, "--memory-case", str(args.parallel), str(slots)],
            capture_output=True,
            text=True,
            check=True,
        )
        m = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"   hash_slots={slots:>3}: +{m['rss_peak_mib'] - m['rss_before_mib']:.0f} MiB above "
            f"{m['rss_before_mib']:.0f} MiB (peak {m['rss_peak_mib']:.0f} MiB), all {args.parallel} answered "
            f"in {m['seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
