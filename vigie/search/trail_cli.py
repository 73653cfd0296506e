"""`vigie trail TRACK`: the store's side of the trail (vigie.search.trail is pure).

The candidates are the track's most similar tracks (vigie.search.engine.similar,
with the query's filters); each camera's position comes from the store's
camera register, which the site file fills.

Cosines mean different things under different appearance models (plain or
site-adapted), so the cosine -> match probability calibration is measured on
the store itself: a track's two halves pooled separately give "same person"
cosines, two tracks seen together on one camera give "different people"
cosines; the midpoint between their means is where a match is even odds.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np

from vigie.describe.reid import active_projection, pool
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.search.adapt import negative_pairs
from vigie.search.engine import similar
from vigie.search.query import SearchQuery
from vigie.search.trail import Sighting, Trail, build_trail, trail_geojson
from vigie.search.trail_map import render_trail_png, write_trail_map
from vigie.times import from_iso

CALIBRATION_TRACKS = 2000  # the newest tracks with crops are enough to calibrate


def _time(text: str) -> datetime:
    return from_iso(text)


def match_calibration(store) -> dict | None:
    """{midpoint, scale, same, different, pairs} for the current vectors, or None if the store cannot tell."""
    projection = active_projection(store)
    base = projection.base if projection else store.newest_crop_base()
    if base is None:
        return None
    tracks = [t for t in store.person_crops(base, newest=CALIBRATION_TRACKS) if len(t["crops"]) >= 4]
    negatives = negative_pairs(tracks)
    if len(tracks) < 2 or not negatives:
        return None
    vecs = [projection.apply(t["crops"], t["camera_id"]) if projection else t["crops"] for t in tracks]
    same = [float(pool(v[: len(v) // 2]) @ pool(v[len(v) // 2 :])) for v in vecs]
    pooled = [pool(v) for v in vecs]
    different = [float(pooled[i] @ pooled[j]) for i, j in negatives]
    s, d = float(np.mean(same)), float(np.mean(different))
    if s <= d:
        return None
    return {
        "midpoint": (s + d) / 2,
        "scale": max((s - d) / 6, 0.005),
        "same": s,
        "different": d,
        "pairs": len(negatives),
    }


def _sighting(
    cameras: dict,
    camera_id: str,
    track_id: int,
    first_seen: str,
    last_seen: str,
    class_name: str,
    thumbnail_path: str | None,
    similarity: float,
) -> Sighting:
    cam = cameras[camera_id]
    return Sighting(
        track_id=track_id,
        camera_id=camera_id,
        lat=cam["lat"],
        lon=cam["lon"],
        first_seen=_time(first_seen),
        last_seen=_time(last_seen),
        similarity=similarity,
        class_name=class_name,
        thumbnail_path=thumbnail_path,
    )


def trail_for_track(
    store,
    track_id: int,
    query: SearchQuery | None = None,
    candidates: int = 200,
    min_similarity: float | None = None,
    max_speed_m_s: float | None = None,
) -> Trail:

    track = store.get_track(track_id)
    if track is None:
        raise VigieError(_("no stored track has id {track_id}", track_id=track_id))
    result = similar(store, track_id, query, k=candidates)
    calibration = match_calibration(store)
    kwargs = {}
    if calibration:
        kwargs = {
            "match_midpoint": calibration["midpoint"],
            "match_scale": calibration["scale"],
            "min_similarity": calibration["midpoint"],
        }
    if min_similarity is not None:
        kwargs["min_similarity"] = min_similarity
    # The hits carry what a sighting needs; only the cameras' positions are read, once each.
    cameras = {c: store.camera(c) for c in {track["camera_id"], *(h.camera_id for h in result.hits)}}
    found = [
        _sighting(cameras, h.camera_id, h.track_id, h.first_seen, h.last_seen, h.class_name, h.thumbnail_path, h.score)
        for h in result.hits
    ]
    query_sighting = _sighting(
        cameras,
        track["camera_id"],
        track["id"],
        track["first_seen"],
        track["last_seen"],
        track["class"],
        track.get("thumbnail_path"),
        1.0,
    )
    return build_trail(query_sighting, found, max_speed_m_s=max_speed_m_s, **kwargs)


def write_outputs(
    trail: Trail,
    geojson: str | None = None,
    html: str | None = None,
    png: str | None = None,
    pictures=None,
) -> list[Path]:
    """The files asked for; the map inlines `pictures(properties)` (vigie.privacy.pictures: blurred
    crops) where given, and no picture otherwise (the store's thumbnail files are sealed)."""

    data = trail_geojson(trail)
    written = []
    if geojson:
        Path(geojson).parent.mkdir(parents=True, exist_ok=True)
        Path(geojson).write_text(json.dumps(data, indent=1), encoding="utf-8")
        written.append(Path(geojson))
    if html:
        Path(html).parent.mkdir(parents=True, exist_ok=True)
        written.append(write_trail_map(data, Path(html), pictures=pictures or (lambda props: None)))
    if png:
        Path(png).parent.mkdir(parents=True, exist_ok=True)
        written.append(render_trail_png(data, Path(png)))
    return written
