"""Running a query: the index filters and ranks every track, the store gives the page's rows.

The index answers which tracks and in what order; the store stays the source
of what is shown (thumbnail path, speeds, colours as stored), read only for
the page, by primary key. The index of a store is kept per process; each call checks whether the store
changed since (SQLite's PRAGMA data_version where the backend has it, then the
generation), so a finished analysis is searchable at the next query (after a
rebuild; see index.py).
"""

from __future__ import annotations

import threading
from typing import Literal

import numpy as np
from pydantic import BaseModel

from vigie.i18n import _
from vigie.search.index import Selection, TrackIndex, store_generation
from vigie.search.query import SearchError, SearchQuery, parse_query
from vigie.store import search_reads as reads
from vigie.store.base import StoreBase
from vigie.zones import points_in_polygon


class SearchHit(BaseModel):
    rank: int
    score: float  # attribute search: colour match in [0, 1]; similar: cosine to the reference track
    track_id: int
    camera_id: str
    camera_name: str
    class_name: str
    first_seen: str
    last_seen: str
    dwell_s: float
    height_px: float
    direction: str | None
    speed_m_s: float | None
    speed_px_s: float | None
    upper: list[str]
    lower: list[str]
    body: list[str]
    with_attributes: list[str] = []  # people: clothing and carried objects seen (vigie.describe.attributes)
    without_attributes: list[str] = []  # known absent; an attribute in neither list is unknown
    vehicle_type: str | None = None
    thumbnail_path: str | None


class SearchResult(BaseModel):
    kind: Literal["attributes", "similar"]
    query: SearchQuery
    total: int  # tracks that pass the filters (similar: those with a vector, the reference's own sighting excluded)
    method: str  # how the rows were ranked: filter, exact, ivf nprobe=p/n
    reference_track: int | None = None
    reference_photo: str | None = None  # similar to an example photo: its SHA-256 (the photo, not a track)
    model: str | None = None  # appearance model of the vectors compared
    hits: list[SearchHit]
    # how the cameras, groups and communes given were read: {"cameras": {"esplanade": ["nimes-esplanade-01"]}}
    places: dict[str, dict[str, list[str]]] = {}


_INDEXES: dict[str, TrackIndex] = {}
_PRELOAD: dict[str, bool] = {}
_LOCK = threading.Lock()
_LOCAL = threading.local()


class _Reader:
    """A long-lived read connection of this thread to one store, and the store's data_version it last saw.

    SQLite's PRAGMA data_version changes when any other connection commits, so an
    unchanged store costs one pragma per query, not the generation's scan of
    the analyses; and reusing the connection keeps SQLite's page cache warm
    for the page reads. A backend without it (PostgreSQL) gives None: the
    generation is then read at every query.
    """

    def __init__(self, store: StoreBase) -> None:
        self.conn = store.long_reader()
        self.version: int | None = None


def _reader(store: StoreBase) -> _Reader:
    readers = _LOCAL.__dict__.setdefault("readers", {})
    reader = readers.get(store.location)
    if reader is None or getattr(reader.conn, "closed", False):  # a PostgreSQL store closes its readers with it
        reader = readers[store.location] = _Reader(store)
    return reader


def get_index(store: StoreBase, progress: bool = False, preload: bool | None = None) -> TrackIndex:
    """This process's index of the store, reloaded or rebuilt when the store's generation changed.

    preload=True (a server, once at start): hold the index in memory rather
    than memory-mapped, now and at every reload; None keeps the last choice.
    """
    key = store.location
    if preload is not None and preload != _PRELOAD.get(key, False):
        _PRELOAD[key] = preload
        _INDEXES.pop(key, None)
    reader = _reader(store)
    version = store.data_version(reader.conn)
    index = _INDEXES.get(key)
    if index is not None and version is not None and version == reader.version:
        return index
    generation = store_generation(reader.conn)
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None or index.generation != generation:
            index = TrackIndex.open(store, generation, progress=progress, preload=_PRELOAD.get(key, False))
            _INDEXES[key] = index
    reader.version = version
    return index


def search(store: StoreBase, query: SearchQuery, index: TrackIndex | None = None) -> SearchResult:
    """Tracks matching the query's attributes, best colour match first (or in the query's order)."""
    index = index or get_index(store)
    query, places = query.resolve_places(index.cameras)
    sel, checks = index.select(query)
    _check_zones(store, index, sel, checks, query)
    rows = sel.rows()
    colours_asked = bool(query.upper or query.lower or query.body)
    # Without colours every relevance is 1: the order is time order, no scoring needed.
    sort = "time" if query.sort == "relevance" and not colours_asked else query.sort
    scores = index.colour_scores(rows, query) if sort == "relevance" else None
    page = rows[index.page(rows, sort, scores, query.offset, query.limit)]
    hits = _hits(store, index, page, index.colour_scores(page, query), query.offset)
    return SearchResult(kind="attributes", query=query, total=len(rows), method="filter", hits=hits, places=places)


def similar(
    store: StoreBase,
    track_id: int,
    query: SearchQuery | None = None,
    k: int | None = None,
    index: TrackIndex | None = None,
) -> SearchResult:
    """Tracks of other times and cameras that look most like this one (cosine of appearance vectors).

    The query's filters apply; the track itself and every track on its camera
    whose time span overlaps it are left out: they are other people seen at
    the same moment, or the same sighting cut in two. k (default: the query's
    limit) is how many; `sort` other than relevance reorders that page.
    """
    query = query or SearchQuery()
    if k is not None:
        query = parse_query({**query.model_dump(), "limit": k})
    index = index or get_index(store)
    query, places = query.resolve_places(index.cameras)
    row = _reference_row(store, index, track_id)
    sel, checks = index.select(query, with_vectors=True)
    _check_zones(store, index, sel, checks, query)
    sel.drop(index.same_sighting(row))
    total, method, hits = _nearest_page(store, index, sel, np.asarray(index.vectors[row]), query)
    return SearchResult(
        kind="similar",
        query=query,
        total=total,
        method=method,
        reference_track=track_id,
        model=index.model,
        hits=hits,
        places=places,
    )


def similar_to_vector(
    store: StoreBase,
    vector: np.ndarray,
    model: str,
    query: SearchQuery | None = None,
    reference_photo: str | None = None,
    index: TrackIndex | None = None,
) -> SearchResult:
    """Tracks that look most like an appearance vector made outside the store (an example photo:
    vigie.search.photo), ranked as `similar` ranks them, under the query's filters.

    The vector must be of the stored vectors' model (same backend, same site adaptation):
    cosines between two models' vectors mean nothing, so another model is refused, naming both.
    reference_photo: the photo's SHA-256, said in the result."""
    query = query or SearchQuery()
    index = index or get_index(store)
    query, places = query.resolve_places(index.cameras)
    vector = np.asarray(vector, np.float32).reshape(-1)
    if index.model is None:
        raise SearchError(_("no stored track has an appearance vector yet: nothing to compare the photo with"), "model")
    if model != index.model or vector.shape[0] != index.vectors.shape[1]:
        raise SearchError(
            _(
                "the photo was described with appearance model {model} ({value} values), the stored tracks with {model2} ({value2} values): they cannot be compared (describe the photo with the site's backend and adaptation, or re-describe the tracks)",
                model=repr(model),
                value=vector.shape[0],
                model2=repr(index.model),
                value2=index.vectors.shape[1],
            ),
            "model",
            model,
        )
    sel, checks = index.select(query, with_vectors=True)
    _check_zones(store, index, sel, checks, query)
    total, method, hits = _nearest_page(store, index, sel, vector, query)
    return SearchResult(
        kind="similar",
        query=query,
        total=total,
        method=method,
        reference_photo=reference_photo,
        model=index.model,
        hits=hits,
        places=places,
    )


def _nearest_page(
    store: StoreBase, index: TrackIndex, sel: Selection, vector: np.ndarray, query: SearchQuery
) -> tuple[int, str, list[SearchHit]]:
    """(candidates, method, the query's page of hits) of the kept rows nearest to `vector`."""
    total = sel.count()
    rows, scores, method = index.nearest(vector, sel, query.offset + query.limit)
    rows, scores = rows[query.offset :], scores[query.offset :]
    if query.sort != "relevance":
        by_time = np.argsort(rows, kind="stable")
        rows, scores = rows[by_time], scores[by_time]
        order = index.page(rows, query.sort, scores, 0, len(rows))
        rows, scores = rows[order], scores[order]
    return total, method, _hits(store, index, rows, scores, query.offset)


def _reference_row(store: StoreBase, index: TrackIndex, track_id: int) -> int:
    first_seen = reads.visible_first_seen(_reader(store).conn, track_id)
    if first_seen is None:
        raise SearchError(_("no stored track has id {track_id}", track_id=track_id), "track_id", track_id)
    row = index.row_of(track_id, int(np.datetime64(first_seen, "us").astype(np.int64)))
    if row is None:
        raise SearchError(
            _(
                "track {track_id} is not in the search index yet (the store changed meanwhile): search again",
                track_id=track_id,
            ),
            "track_id",
            track_id,
        )
    if not index.has_vector[row]:
        which = f"of model {index.model!r}" if index.model else "(none is stored yet)"
        raise SearchError(
            _(
                "track {track_id} has no appearance vector {which}: it cannot be compared",
                track_id=track_id,
                which=which,
            ),
            "track_id",
            track_id,
        )
    return row


def _check_zones(
    store: StoreBase, index: TrackIndex, sel: Selection, checks: dict[str, np.ndarray], query: SearchQuery
) -> None:
    """Drop the candidate rows none of whose foot points lies inside their camera's zone."""
    for camera_id, rows in checks.items():
        if not len(rows):
            continue
        polygon = np.asarray(query.zones[camera_id], float)
        ids = index.ids[rows]
        inside: list[np.ndarray] = []
        conn = _reader(store).conn
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500].tolist()
            points = np.array(reads.track_points_xxy(conn, part), float).reshape(-1, 4)
            feet = np.c_[(points[:, 1] + points[:, 2]) / 2, points[:, 3]]
            inside.append(points[points_in_polygon(feet, polygon), 0].astype(np.int64))
        sel.drop(rows[~np.isin(ids, np.concatenate(inside))])


def _hits(store: StoreBase, index: TrackIndex, rows: np.ndarray, scores: np.ndarray, offset: int) -> list[SearchHit]:
    """The page's tracks as stored, in the given order (a track deleted meanwhile is left out).

    One primary-key read per track; the colour names come from the index,
    which holds the stored ones of this generation, saving the store three
    more reads per track (at 10 M tracks the store outgrows the page cache,
    and every read may be a disk read).
    """
    ids = index.ids[rows].tolist()
    if not ids:
        return []
    found = {r["id"]: r for r in reads.hit_rows(_reader(store).conn, ids)}
    names = {c.id: c.name for c in index.cameras}
    hits = []
    for rank, (tid, row, score) in enumerate(zip(ids, rows.tolist(), scores.tolist()), start=offset + 1):
        if (t := found.get(tid)) is None:
            continue
        upper, lower, body = index.colour_names(row)
        present, absent, vehicle_type = index.attribute_states(row)
        hits.append(
            SearchHit(
                rank=rank,
                score=round(score, 4),
                track_id=tid,
                camera_id=t["camera_id"],
                camera_name=names.get(t["camera_id"], t["camera_id"]),
                class_name=t["class"],
                first_seen=t["first_seen"],
                last_seen=t["last_seen"],
                dwell_s=t["dwell_s"],
                height_px=t["median_height_px"],
                direction=t["direction"],
                speed_m_s=t["speed_m_s"],
                speed_px_s=t["speed_px_s"],
                upper=upper,
                lower=lower,
                body=body,
                with_attributes=present,
                without_attributes=absent,
                vehicle_type=vehicle_type,
                thumbnail_path=t["thumbnail_path"],
            )
        )
    return hits
