"""The `vigie search` and `vigie similar` verbs: CLI flags -> SearchQuery -> a table or JSON.

Both verbs take the same filter flags, turned into the one SearchQuery model
the API will use too, so a flag and an API field fail with the same message
(the sort order too: it is checked there, not by argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from vigie.cli.common import EXIT_USAGE, add_justification_flags, audit_console
from vigie.i18n import gettext
from vigie.search.engine import search, similar
from vigie.search.query import CameraInfo, SearchError, SearchQuery, parse_query, searchable_attributes
from vigie.search.text import parse_text, refusal_message
from vigie.services import Services
from vigie.store import search_reads
from vigie.times import UTC

_LISTS = (
    ("classes", "--class", "classes, any of them: person,car,..."),
    ("upper", "--upper", "upper-body colour names, any of them: red,orange"),
    ("lower", "--lower", "lower-body colour names, any of them"),
    ("body", "--body", "vehicle body colour names, any of them"),
    ("cameras", "--camera", "camera ids"),
    ("groups", "--group", "camera groups"),
    ("communes", "--commune", "communes"),
    ("directions", "--direction", "image-space directions, any of: N NE E SE S SW W NW (N = up)"),
    (
        "with_attributes",
        "--with",
        "people seen with all of these: hat,long_trousers (the site's searchable attributes)",
    ),
    ("without_attributes", "--without", "people seen without any of these"),
    ("vehicle_types", "--vehicle-type", "vehicle types, any of: car,bus,truck,van"),
)
_NUMBERS = (
    ("min_speed", "--min-speed", "lowest ground speed, m/s (calibrated cameras only)"),
    ("max_speed", "--max-speed", "highest ground speed, m/s (calibrated cameras only)"),
    ("min_dwell", "--min-dwell", "shortest time in view, seconds"),
    ("min_height", "--min-height", "smallest median box height, pixels"),
    ("max_height", "--max-height", "largest median box height, pixels"),
)


def add_attribute_flags(p: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """The flags that filter on what a track is (class, colours, direction, speed, zone...)."""
    for field, flag, text in _LISTS:
        if field not in skip:
            p.add_argument(flag, dest=field, metavar="A,B", help=f"only {text} (comma-separated)")
    p.add_argument(
        "--tolerance",
        dest="colour_tolerance",
        type=int,
        metavar="N",
        help="a colour matches if among the track's first N ranked names (default 2)",
    )
    p.add_argument(
        "--zone",
        dest="zones",
        action="append",
        metavar="CAMERA:X,Y,X,Y,X,Y",
        help="a polygon in the camera's source pixels that a foot point must enter (repeatable)",
    )
    for field, flag, text in _NUMBERS:
        p.add_argument(flag, dest=field, type=float, metavar="X", help=text)


def attribute_filters(args: argparse.Namespace) -> dict:
    """The attribute flags given (add_attribute_flags), as SearchQuery fields."""
    data: dict = {}
    for field, _, _ in _LISTS:
        if getattr(args, field, None) is not None:
            data[field] = [v for v in getattr(args, field).split(",") if v.strip()]
    for field in ("colour_tolerance", *(f for f, _, _ in _NUMBERS)):
        if getattr(args, field) is not None:
            data[field] = getattr(args, field)
    if args.zones:
        data["zones"] = dict(_zone(z) for z in args.zones)
    return data


def add_filter_flags(p: argparse.ArgumentParser) -> None:
    """The filter, order and page flags shared by `search` and `similar`."""
    add_attribute_flags(p)
    p.add_argument(
        "--start", metavar="TIME", help="seen at or after this time (ISO 8601; UTC unless an offset is given)"
    )
    p.add_argument("--end", metavar="TIME", help="seen before this time")
    p.add_argument(
        "--sort",
        help="relevance (default), time (oldest first), -time (newest first; write --sort=-time), dwell, -dwell, speed, -speed",
    )
    p.add_argument("--limit", type=int, help="results per page (1-1000, default 50)")
    p.add_argument("--offset", type=int, help="results to skip")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def query_from_args(args: argparse.Namespace, base: dict | None = None) -> SearchQuery:
    """The flags given, as a validated SearchQuery (flags not given keep the model's defaults).

    base: filters read from --text; a flag given replaces the text's value of its field."""

    data = {**(base or {}), **attribute_filters(args)}
    for field in ("start", "end", "sort", "limit", "offset"):
        if getattr(args, field) is not None:
            data[field] = getattr(args, field)
    return parse_query(data)


def _zone(text: str) -> tuple[str, list[tuple[float, float]]]:
    camera, _, coords = text.partition(":")
    try:
        numbers = [float(v) for v in coords.split(",")]
    except ValueError:
        numbers = []
    if not camera or len(numbers) < 6 or len(numbers) % 2:
        raise SearchError(
            gettext(
                "search field zones: {text} is not CAMERA:X,Y,X,Y,X,Y (at least three x,y points)", text=repr(text)
            ),
            "zones",
            text,
        )
    return camera, list(zip(numbers[::2], numbers[1::2]))


def cmd_search(args: argparse.Namespace) -> int:
    query = query_from_args(args)  # the flags alone first: a bad flag fails before the store opens
    with Services.from_env(getattr(args, "site", None)) as services:
        if getattr(args, "text", None) is not None:
            base = _text_filters(args, services)
            if base is None:
                return EXIT_USAGE
            query = query_from_args(args, base)
        query.check_searchable(searchable_attributes(services.site))
        store = services.store
        result = search(store, query)
        audit_console(store, "search", args, _read_details(result))
    _print(result, args.json)
    return 0


def _read_details(result, **extra) -> dict:
    """What a search or similar command looked at, for its audit entry."""
    return {
        "query": result.query.model_dump(mode="json"),
        "total": result.total,
        "track_ids": [h.track_id for h in result.hits],
        **extra,
    }


def _text_filters(args: argparse.Namespace, services: Services) -> dict | None:
    """--text read back (stdout, or stderr with --json), its unknown and refused words warned on stderr.

    None (the search does not run) when words about the person were refused, so that what runs is
    what was asked without them, or when nothing was understood. Attributes the site hides from
    search that the text implies (a jean: long trousers) are left out with a warning."""
    zone = ZoneInfo(services.site.timezone) if services.site is not None else UTC
    with services.store.read() as conn:
        cameras = [CameraInfo(*r) for r in search_reads.camera_rows(conn)]
    parsed = parse_text(args.text, now=datetime.now(UTC), zone=zone, cameras=cameras)
    fr = parsed.language == "fr"
    out = sys.stderr if args.json else sys.stdout
    print("Compris :" if fr else "Understood:", file=out)
    for line in parsed.readback or ["(rien)" if fr else "(nothing)"]:
        print(f"  {line}", file=out)
    if parsed.unknown:
        warning = "attention : mots non compris :" if fr else "warning: words not understood:"
        print(f"vigie: {warning} {', '.join(parsed.unknown)}", file=sys.stderr)
    if parsed.refused:
        print(f"vigie: {refusal_message(parsed.language, parsed.refused)}", file=sys.stderr)
        return None
    filters, hidden = parsed.searchable_filters(searchable_attributes(services.site))
    if hidden:
        warning = (
            "attention : non cherchable sur ce site, ignoré :"
            if fr
            else "warning: not searchable on this site, left out:"
        )
        print(f"vigie: {warning} {', '.join(hidden)}", file=sys.stderr)
    if not filters:
        nothing = "aucun filtre compris dans --text" if fr else "no filter understood in --text"
        print(f"vigie: error: {nothing}", file=sys.stderr)
        return None
    return filters


def cmd_similar(args: argparse.Namespace) -> int:
    if (args.track is None) == (args.image is None):
        print("vigie: error: give a track id or --image FILE (one of them)", file=sys.stderr)
        return EXIT_USAGE
    if args.image is not None:
        return _similar_to_photo(args)
    if args.box is not None:
        print("vigie: error: --box goes with --image", file=sys.stderr)
        return EXIT_USAGE
    query = query_from_args(args)
    with Services.from_env() as services:
        query.check_searchable(searchable_attributes(services.site))
        store = services.store
        result = similar(store, args.track, query)
        audit_console(store, "similar", args, _read_details(result, track_id=args.track))
    _print(result, args.json)
    return 0


def _photo_blurrer():
    """The face blurrer the photo goes through before it is described (a test replaces it)."""
    from vigie.privacy.blur import Blurrer

    return Blurrer()


def _similar_to_photo(args: argparse.Namespace) -> int:
    """`vigie similar --image FILE`: the photo read, shown, ranked; kept with its audit entry (vigie.search.photo)."""
    from vigie.citizen.photos import check_size
    from vigie.cli.common import console_actor
    from vigie.config import default_site
    from vigie.search import photo
    from vigie.search.query_photos import keep_and_audit

    query = query_from_args(args)
    box = photo.parse_box(args.box)
    with open(args.image, "rb") as f:
        data = f.read(photo.MAX_PHOTO_BYTES + 1)
    check_size(len(data), photo.MAX_PHOTO_BYTES)
    with Services.from_env(args.site) as services:
        query.check_searchable(searchable_attributes(services.site))
        reading, result = photo.search_by_photo(
            services.store,
            services.site or default_site(),
            data,
            query,
            blurrer=_photo_blurrer(),
            box=box,
            match_colours=args.match_colours,
        )
        details = {"photo": reading.summary(), "query": result.query.model_dump(mode="json"), "total": result.total}
        keep_and_audit(services.store, reading.jpeg, console_actor(), "console", args.case_ref, args.purpose, details)
    if args.json:
        print(json.dumps({**result.model_dump(mode="json"), "photo": reading.summary()}, indent=2))
        return 0
    attributes = ", ".join(f"{k}={v}" for k, v in reading.attributes.items()) or "-"
    print(
        f"Photo {reading.sha256[:16]} ({reading.width}x{reading.height}): person at {','.join(map(str, reading.box))} "
        f"({reading.found_by}); upper {'/'.join(reading.upper) or '-'}, lower {'/'.join(reading.lower) or '-'}; "
        f"{attributes}."
    )
    for note in reading.notes:
        print(f"vigie: warning: {note}", file=sys.stderr)
    _print(result, False)
    return 0


def _print(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    q = result.query
    what = f"like track {result.reference_track} ({result.model})" if result.kind == "similar" else "match"
    if result.reference_photo:
        what = f"like the photo {result.reference_photo[:16]} ({result.model})"
    shown = f"{q.offset + 1}-{q.offset + len(result.hits)}" if result.hits else "none"
    print(f"{result.total} tracks {what}; showing {shown} ({result.method}).")
    if not result.hits:
        return
    print(
        f"{'rank':>4} {'score':>6} {'track':>8} {'camera':<20} {'class':<10} {'first seen (UTC)':<23} "
        f"{'colours (upper | lower | body)':<30} {'dir':>3} {'m/s':>5}  thumbnail"
    )
    for h in result.hits:
        colours = " | ".join("/".join(c) or "-" for c in (h.upper, h.lower, h.body))
        speed = f"{h.speed_m_s:.2f}" if h.speed_m_s is not None else "-"
        print(
            f"{h.rank:>4} {h.score:>6.3f} {h.track_id:>8} {h.camera_id:<20.20} {h.class_name:<10} {h.first_seen[:23]:<23} "
            f"{colours:<30} {h.direction or '-':>3} {speed:>5}  {h.thumbnail_path or '-'}"
        )


def register(sub) -> None:
    """Add `search` and `similar` to the `vigie` command's subparsers."""
    s = sub.add_parser(
        "search", help="find stored tracks by class, colours, time, place, direction, speed, dwell, size"
    )
    add_filter_flags(s)
    add_justification_flags(s)
    s.add_argument(
        "--text",
        metavar="WORDS",
        help='a description in plain French or English, e.g. "veste rouge, jean, sac à dos, vers le nord, hier soir": '
        "read back before the search runs; flags given too replace its value of their field; words about the "
        "person (gender, age, origin, face, build) are refused and the search does not run (exit 2)",
    )
    s.add_argument("--site", help="site file: its time zone is that of the times written in --text (default UTC)")
    s.set_defaults(fn=cmd_search)
    m = sub.add_parser("similar", help="tracks of other times and cameras that look like a given track or photo")
    m.add_argument(
        "track", type=int, nargs="?", help="id of the track to compare with (vigie tracks / vigie search give ids)"
    )
    m.add_argument(
        "--image",
        metavar="FILE",
        help="an example photo of a person (JPEG, PNG, WebP) instead of a track: re-encoded without metadata, faces "
        "blurred, described as tracks are; kept with the audit entry and purged with the case",
    )
    m.add_argument("--box", metavar="X1,Y1,X2,Y2", help="with --image: the person in the photo (default: found)")
    m.add_argument(
        "--match-colours",
        action="store_true",
        help="with --image: also filter on the clothing colours read from the photo (where --upper/--lower are not given)",
    )
    add_justification_flags(m, purpose_help="why the search is made (written to the audit log)")
    m.add_argument("--site", help="with --image: site file whose appearance backend and detector read the photo")
    add_filter_flags(m)
    m.set_defaults(fn=cmd_similar)
