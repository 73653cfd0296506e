"""`vigie trail`: a track's likely path across the cameras, in time order."""

from __future__ import annotations

import argparse
import json

from vigie.cli.common import add_justification_flags, audit_console
from vigie.cli.search import add_filter_flags, query_from_args
from vigie.privacy.pictures import TrackPictures, check_unblurred
from vigie.search.trail import trail_geojson
from vigie.search.trail_cli import trail_for_track, write_outputs
from vigie.services import Services


def register(sub) -> None:
    tr = sub.add_parser("trail", help="a track's likely path across the cameras, in time order, as GeoJSON and a map")
    tr.add_argument("track", type=int, help="id of the track to follow")
    tr.add_argument("--candidates", type=int, default=200, help="most similar tracks considered (default 200)")
    tr.add_argument(
        "--min-similarity",
        type=float,
        help="cosine below which a track is not a sighting (default: from the appearance model)",
    )
    tr.add_argument(
        "--max-speed-bound",
        type=float,
        metavar="M_S",
        help="fastest straight-line speed between cameras (default by class)",
    )
    tr.add_argument("--geojson", metavar="FILE", help="write the trail as GeoJSON")
    tr.add_argument(
        "--map",
        metavar="FILE",
        help="write a Leaflet map page (HTML, self-contained; its pictures blurred unless --unblurred)",
    )
    tr.add_argument("--png", metavar="FILE", help="write a picture of the trail")
    add_filter_flags(tr)
    add_justification_flags(tr, unblurred=True)
    tr.set_defaults(fn=cmd_trail)


def cmd_trail(args: argparse.Namespace) -> int:
    query = query_from_args(args)
    check_unblurred(args.unblurred, args.case_ref, args.purpose)
    with Services.from_env() as services:
        store = services.store
        trail = trail_for_track(
            store,
            args.track,
            query,
            candidates=args.candidates,
            min_similarity=args.min_similarity,
            max_speed_m_s=args.max_speed_bound,
        )
        pictures = TrackPictures(store, unblurred=args.unblurred)
        written = write_outputs(
            trail,
            geojson=args.geojson,
            html=args.map,
            png=args.png,
            pictures=lambda props: pictures.jpeg(props["track_id"], props.get("class_name") or "person"),
        )
        sightings = [s.track_id for s in trail.sightings]
        outputs = [str(p) for p in written]
        audit_console(store, "trail", args, {"track_id": args.track, "sightings": sightings, "files": outputs})
        if args.unblurred and pictures.used:
            audit_console(store, "view_unblurred", args, {"track_ids": pictures.used, "files": outputs})
    if args.json:
        print(json.dumps(trail_geojson(trail)))
        return 0
    print(
        f"Trail of track {args.track}: {len(trail.sightings)} sightings, bound {trail.max_speed_m_s:g} m/s, "
        f"{len(trail.rejected)} candidates left out."
    )
    for i, s in enumerate(trail.sightings):
        link = trail.links[i - 1] if i else None
        hop = (
            f"  <- {link.distance_m:.0f} m in {link.gap_s:.0f} s ({link.speed_m_s:.1f} m/s), link confidence {link.confidence:.2f}"
            if link
            else ""
        )
        mark = " (query)" if i == trail.query_index else ""
        print(
            f"{i + 1:>3}. {s.first_seen.isoformat()[:19]}Z  {s.camera_id:<24} track {s.track_id:<6} "
            f"similarity {s.similarity:.2f}  confidence {trail.confidences[i]:.2f}{mark}{hop}"
        )
    for path in written:
        print(f"Written: {path}")
    return 0
