"""Crime map figures: time of each area-based analysis and of the printable report on real data.

Toronto Police Service's Major Crime Indicators (vigie.crimemap.datasets), three sets:

- **test**: test.csv, 30,000 incidents 2014-2021;
- **train-2019**: train.csv's incidents of 2019 (about 29,000);
- **train**: train.csv whole, 210,992 incidents.

Each analysis runs with its defaults (hot spots: 250 m cells, 999 permutations;
near-repeat: 99 permutations, a 10,000-incident subsample above that), then
the HTML report (and, for test, the PDF). Baseline, measured in the same run:
loading the set from the wheel's CSV into Incidents; each time is given in
seconds, in incidents per second and as a multiple of that load time. The
figures the analyses find are printed too: bandwidth, hot cells, Knox test,
daily cycle. Libraries are imported before timing (a server has them loaded).

Run: .venv/bin/python bench/crimemap.py [--sets test,train-2019,train] [--no-report] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.crimemap import analysis  # noqa: E402
from vigie.crimemap.datasets import toronto_mci  # noqa: E402
from vigie.crimemap.report import write_report  # noqa: E402

TIMEZONE = "America/Toronto"
SETS = ("test", "train-2019", "train")


def load(name: str) -> tuple[list, float]:
    t = time.perf_counter()
    incidents = toronto_mci("test" if name == "test" else "train")
    if name == "train-2019":
        incidents = [i for i in incidents if i.occurred_at.year == 2019]
    return incidents, time.perf_counter() - t


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


def run(name: str, work: Path, report: bool) -> list[dict]:
    incidents, load_s = load(name)
    n = len(incidents)
    print(f"\n{name}: {n:,} incidents loaded in {load_s:.2f} s ({n / load_s:,.0f} incidents/s)", flush=True)
    steps = [
        ("density", analysis.density, (incidents,), {}),
        ("hotspots", analysis.hotspots, (incidents,), {}),
        ("near_repeat", analysis.near_repeat, (incidents,), {}),
        ("time_pattern", analysis.time_pattern, (incidents, TIMEZONE), {}),
        ("by_commune", analysis.by_commune, (incidents,), {}),
    ]
    if report:
        steps.append(
            (
                "report html",
                write_report,
                (incidents, work / f"{name}.html"),
                {"title": f"Toronto MCI, {name}", "timezone": TIMEZONE},
            )
        )
        if name == "test":
            steps.append(
                (
                    "report pdf",
                    write_report,
                    (incidents, work / f"{name}.pdf"),
                    {"title": f"Toronto MCI, {name}", "timezone": TIMEZONE},
                )
            )
    rows = [
        {
            "set": name,
            "step": "load (baseline)",
            "incidents": n,
            "s": round(load_s, 2),
            "incidents/s": round(n / load_s),
            "x load": 1.0,
        }
    ]
    results = {}
    for step, fn, args, kwargs in steps:
        results[step], seconds = timed(fn, *args, **kwargs)
        rows.append(
            {
                "set": name,
                "step": step,
                "incidents": n,
                "s": round(seconds, 2),
                "incidents/s": round(n / seconds),
                "x load": round(seconds / load_s, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    d, h, nr, tp = (results[k] for k in ("density", "hotspots", "near_repeat", "time_pattern"))
    k = nr["knox"]
    by_hour = tp["by_hour"]
    print(
        f"{name}: bandwidth {d['bandwidth_m']:.0f} m ({d['bandwidth_method']}); density cells {d['cell_m']:.0f} m, "
        f"{len(d['features']):,} shown, peak {d['peak_density']:.0f} incidents/km²"
    )
    print(f"{name}: hot spots on {len(h['features']):,} cells of {h['cell_m']:.0f} m: {h['classes']}; {h['fdr']}")
    print(
        f"{name}: Knox {k['delta_m']:g} m / {k['tau_days']:g} days: {k['observed']} pairs, {k['expected']:.1f} "
        f"expected, ratio {k['ratio']}, p {k['p_value']} ({k['permutations']} permutations)"
        + (f"; {nr['subsample']}" if nr["subsample"] else "")
    )
    print(
        f"{name}: hours (local) fewest {by_hour.index(min(by_hour))} h ({min(by_hour):,}), most "
        f"{by_hour.index(max(by_hour))} h ({max(by_hour):,}); 5 h / 20 h = {by_hour[5] / by_hour[20]:.2f}; "
        f"busiest cell {tp['peak']}; chi-square p {tp['chi_square']['p_value']}"
    )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    ap.add_argument("--no-report", action="store_true", help="time the analyses only")
    ap.add_argument("--keep", metavar="DIR", help="keep the reports here")
    args = ap.parse_args()
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(names) - set(SETS))
    if unknown:
        ap.error(f"unknown sets {unknown}; choose from {', '.join(SETS)}")

    # Imported up front: a server has its libraries loaded, and import time is not analysis time.
    import esda  # noqa: E401,F401
    import matplotlib.backends.backend_pdf  # noqa: E401,F401

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vigie-crimemap-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for name in names:
            rows += run(name, work, not args.no_report)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    keys = list(rows[0])
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(f"{r[k]:,}" if isinstance(r[k], int) else str(r[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
