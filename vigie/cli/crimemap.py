"""`vigie incidents import|list|remove` and `vigie crimemap report|export`.

Run on the server's console: what they do is audited as the console user
(`console:<login name>`, role 'system'), like `vigie user`. A refused import
lists every row's problem and stores nothing; errors are VigieErrors, printed
by the CLI as one message with exit status 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from vigie.audit.log import append as audit_append
from vigie.cli.common import console_actor, site_or_default
from vigie.clock import flag_instant
from vigie.crimemap import analysis
from vigie.crimemap.importer import ImportRefused, import_file, list_imports, remove_import
from vigie.crimemap.incidents import LAYERS, read_communes
from vigie.crimemap.layers import STATEMENT, Filters, feature_collection, load, report_period
from vigie.crimemap.report import write_report
from vigie.errors import VigieError
from vigie.files import write_atomic
from vigie.i18n import _
from vigie.services import Services

ROLE = "system"
EXPORTS = ("incidents", "density", "hotspots", "communes")


def register(sub) -> None:
    """Add `incidents` and `crimemap` to the `vigie` command's subparsers."""

    i = sub.add_parser(
        "incidents", help="the crime map's imported incidents: import a CSV or GeoJSON file, list, remove"
    )
    isub = i.add_subparsers(dest="incidents_verb", required=True)
    im = isub.add_parser(
        "import",
        help="import a file of incidents (all rows or none): CSV with occurred_at, category, "
        "lat and lon (or x and y with --crs), optional commune, source, ref; or GeoJSON points",
    )
    im.add_argument("file", help="CSV or GeoJSON file (UTF-8)")
    im.add_argument("--source", help="who the incidents come from (required unless the file has a source column)")
    im.add_argument(
        "--crs", help="CRS of the file's x/y coordinates, e.g. EPSG:2154 (Lambert-93); default WGS 84 lat/lon"
    )
    im.add_argument(
        "--site", help="site file: its time zone is the one of times written without an offset (default UTC)"
    )
    im.add_argument("--timezone", help="time zone of times written without an offset (IANA name; default: the site's)")
    im.add_argument("--json", action="store_true", help="print the import's summary as JSON")
    im.set_defaults(fn=cmd_import)
    ls = isub.add_parser("list", help="list the imports, newest first")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(fn=cmd_list)
    rm = isub.add_parser("remove", help="remove an import and all its incidents")
    rm.add_argument("id", type=int, help="import id (vigie incidents list)")
    rm.set_defaults(fn=cmd_remove)

    c = sub.add_parser("crimemap", help="the security council's crime map: printable report, GeoJSON layers")
    csub = c.add_subparsers(dest="crimemap_verb", required=True)
    rp = csub.add_parser("report", help="write the printable report (HTML or PDF, by the --out suffix)")
    rp.add_argument("--out", required=True, metavar="FILE", help="report.html or report.pdf")
    rp.add_argument("--title", help="the report's title (default: the site's name)")
    rp.add_argument("--timezone", help="local time of the hour x weekday chart (IANA name; default: the site's)")
    _filter_flags(rp, LAYERS)
    rp.set_defaults(fn=cmd_report)
    ex = csub.add_parser("export", help="write a map layer as a GeoJSON file")
    ex.add_argument("what", metavar="LAYER", choices=EXPORTS, help="incidents (points), density, hotspots or communes")
    ex.add_argument("--out", required=True, metavar="FILE", help="the .geojson file to write")
    ex.add_argument(
        "--bandwidth-m", type=float, help="density: kernel bandwidth in metres (default: chosen from the data)"
    )
    ex.add_argument("--cell-m", type=float, help="hotspots: grid cell side in metres (default: the site's)")
    _filter_flags(ex, LAYERS)
    ex.set_defaults(fn=cmd_export)


def _filter_flags(p: argparse.ArgumentParser, layers: tuple[str, ...]) -> None:
    p.add_argument(
        "--from",
        dest="start",
        metavar="TIME",
        help="period start: ISO 8601 (UTC unless an offset is given, e.g. 2026-01-01T00:00:00+01:00), "
        'or as people say it in the site\'s zone ("01/12/2026 00:00", "hier 14h")',
    )
    p.add_argument("--to", dest="end", metavar="TIME", help="period end (excluded)")
    p.add_argument("--layer", action="append", choices=layers, help="a layer (repeat for more; default all three)")
    p.add_argument("--category", action="append", help="a category (repeat for more; default all)")
    p.add_argument("--commune", action="append", help="a commune (repeat for more; default all)")
    p.add_argument("--site", help="site file: time zone, cell size, permutations, commune polygons, citizen categories")


def _filters(args: argparse.Namespace):
    # ISO 8601 without an offset stays UTC; a phrase ("hier 14h-15h", "01/12/2026 00:00") is the site's clock.
    zone = ZoneInfo(site_or_default(args.site).timezone)
    start = None if args.start is None else flag_instant(args.start, "--from", zone=zone, edge="start")
    end = None if args.end is None else flag_instant(args.end, "--to", zone=zone, edge="end")
    return Filters(
        tuple(dict.fromkeys(args.layer)) if args.layer else LAYERS,
        start,
        end,
        tuple(dict.fromkeys(args.category or ())),
        tuple(dict.fromkeys(args.commune or ())),
    )


def _communes(site) -> dict | None:
    return read_communes(site.crime_map.communes) if site.crime_map.communes else None


def _nothing(f) -> VigieError:
    return VigieError(_("no incidents match ({value}): nothing to analyse", value=f.describe()))


# --- incidents ------------------------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace) -> int:
    tz = args.timezone or site_or_default(args.site).timezone
    with Services.from_env() as services:
        store = services.store
        try:
            summary = import_file(
                store,
                args.file,
                file_name=Path(args.file).name,
                source=args.source,
                crs=args.crs,
                timezone=tz,
                user=console_actor(),
                role=ROLE,
            )
        except ImportRefused as exc:
            if exc.problems:
                raise VigieError(f"{exc}\n  " + "\n  ".join(exc.problems)) from None
            raise
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    cats = ", ".join(f"{n} {c}" for c, n in summary["categories"].items())
    print(
        f"Imported {summary['rows']} incidents from {summary['file_name']} as import {summary['id']} "
        f"({summary['format']}, {summary['crs']}): {cats}"
    )
    print(f"From {summary['period']['from'][:19]}Z to {summary['period']['to'][:19]}Z (UTC).")
    if summary["local_times"]:
        print(f"{summary['local_times']} times without an offset were read as {tz} local time.")
    if summary["ignored_columns"]:
        print(f"Ignored (not stored): {', '.join(summary['ignored_columns'])}.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        items = list_imports(store)
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return 0
    if not items:
        print("No incidents imported yet: vigie incidents import FILE --source NAME")
        return 0
    print(f"{'id':>4}  {'imported (UTC)':<19}  {'rows':>7}  {'period (UTC)':<23}  {'source':<24}  file")
    for i in items:
        period = f"{(i['period']['from'] or '')[:10]}..{(i['period']['to'] or '')[:10]}"
        print(
            f"{i['id']:>4}  {i['imported_at'][:19]:<19}  {i['stored']:>7}  {period:<23}  {(i['source'] or '(per row)'):<24.24}  "
            f"{i['file_name']} ({i['format']}, {i['crs']}, by {i['imported_by']})"
        )
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        gone = remove_import(store, args.id, console_actor(), ROLE)
    print(f"Removed import {args.id} ({gone['file_name']}) and its {gone['removed_rows']} incidents.")
    return 0


# --- the map -----------------------------------------------------------------------------------------------------
def cmd_report(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".pdf"):
        raise VigieError(_("--out {out}: the report is written as .html or .pdf", out=out))
    f = _filters(args)
    with Services.from_env(args.site, default_site=True) as services:
        store, site = services.store, services.site
        found = load(store, site, f)
        if not found:
            raise _nothing(f)
        title = (args.title or "").strip() or f"Crime map - {site.name}"
        path = write_report(
            found,
            out,
            title=title,
            timezone=args.timezone or site.timezone,
            communes=_communes(site),
            name_property=site.crime_map.commune_property,
            cell_m=site.crime_map.cell_m,
            permutations=site.crime_map.permutations,
            seed=0,
            period=report_period(f, found),
        )
        audit_append(
            store,
            console_actor(),
            ROLE,
            "crime_report",
            details={
                **f.as_dict(),
                "format": out.suffix.lower().lstrip("."),
                "title": title,
                "incidents": len(found),
                "out": str(path),
            },
        )
    print(f"Report of {len(found)} incidents written to {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    f = _filters(args)
    with Services.from_env(args.site, default_site=True) as services:
        store, site = services.store, services.site
        found = load(store, site, f)
        if args.what == "incidents":
            data = feature_collection(found)
        elif not found:
            raise _nothing(f)
        elif args.what == "communes":
            data = analysis.by_commune(found, _communes(site), name_property=site.crime_map.commune_property)
        elif args.what == "density":
            data = analysis.density(found, bandwidth_m=args.bandwidth_m)
        else:
            data = analysis.hotspots(
                found, cell_m=args.cell_m or site.crime_map.cell_m, permutations=site.crime_map.permutations, seed=0
            )
        data.setdefault("statement", _(STATEMENT))
        out = Path(args.out)
        write_atomic(out, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        audit_append(
            store,
            console_actor(),
            ROLE,
            "view_crime_map",
            details={"endpoint": f"export {args.what}", **f.as_dict(), "incidents": len(found), "out": str(out)},
        )
    print(f"{args.what} of {len(found)} incidents written to {out} ({len(data.get('features', []))} features)")
    return 0
