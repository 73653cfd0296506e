"""A person's (or vehicle's) likely path across the city: `vigie trail`.

Appearance search gives, for one query track, a ranked list of look-alike
tracks on every camera. Ranking alone is not a path: the best look-alike may
be on a camera two kilometres away forty seconds later, which nobody on foot
can do. This module keeps the look-alikes that can all be the same object:

1. each candidate's cosine similarity is turned into a calibrated match
   probability p = sigmoid((s - midpoint) / scale), and candidates below
   `min_similarity` (or of another class) are dropped;
2. two sightings can follow each other only if they are in time order and the
   straight-line (haversine) distance between their cameras, less what each
   camera sees around itself (`view_radius_m`), can be covered in the gap
   between the end of the first and the start of the second at no more than
   the class's speed bound; sightings overlapping in time are compatible only
   on cameras close enough to see the same place (and never on one camera:
   one tracker does not give one object two tracks at once);
3. the chain is the heaviest path, through the query, in the DAG of
   compatible pairs over time-ordered sightings, each sighting weighing the
   log-odds of its match probability. Maximising the sum of log-odds
   maximises the odds that every sighting on the chain is the object (treating
   matches as independent), so one high-similarity but impossible sighting
   loses to a consistent chain of good ones.

Pure: numpy and the standard library, no store access. Positions are the
cameras' WGS84 mounts, so distances are lower bounds of the real walk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from vigie.i18n import _

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), for haversine

# Straight-line speed bounds between camera mounts, in m/s. Streets make a
# real route some 20-40 % longer than the straight line in a European city
# centre, so 3.0 m/s straight-line is about 4 m/s along the streets: a
# sustained jog, which covers a walker (1.4 m/s) with room for bursts of
# running; a short sprint is also absorbed by `view_radius_m`. Bicycles: 8 m/s
# straight-line (~35 km/h on the road). Motor vehicles: 25 m/s straight-line
# (~90 km/h straight, well above the 50 km/h urban limit, because a slightly
# wrong bound that drops the true path is worse than one that keeps a wrong
# link, which the appearance score still has to justify). Buses and trucks
# are slower through town: 20 m/s.
DEFAULT_MAX_SPEED_M_S: dict[str, float] = {
    "person": 3.0,
    "bicycle": 8.0,
    "motorcycle": 25.0,
    "car": 25.0,
    "bus": 20.0,
    "truck": 20.0,
}
FALLBACK_MAX_SPEED_M_S = 25.0  # any class not listed above: the most permissive bound

# Calibration of cosine similarity to match probability. The defaults follow
# the MobileNetV2 vectors' documented cosines on PETS09 (same person 0.85 on
# average, two different people 0.71; vigie.describe.embed): p(0.71) = 0.27,
# p(0.75) = 0.5, p(0.85) = 0.92, p(0.90) = 0.98. Other appearance models
# (adapted projections, colour stripes) should pass their own.
DEFAULT_MIN_SIMILARITY = 0.75
DEFAULT_MATCH_MIDPOINT = 0.75
DEFAULT_MATCH_SCALE = 0.04
DEFAULT_VIEW_RADIUS_M = 30.0  # how far from its mount a street camera sees a person well

_P_CLIP = 1e-6  # keeps log-odds finite


@dataclass(frozen=True)
class Sighting:
    """One track seen on one camera: the unit the trail is made of."""

    track_id: int
    camera_id: str
    lat: float
    lon: float
    first_seen: datetime  # tz-aware UTC
    last_seen: datetime
    similarity: float  # cosine to the query track's appearance vector, 1.0 for the query itself
    class_name: str = "person"
    thumbnail_path: str | None = None

    def __post_init__(self) -> None:
        for name in ("first_seen", "last_seen"):
            t = getattr(self, name)
            if t.tzinfo is None or t.utcoffset() is None:
                raise ValueError(
                    _(
                        "Sighting of track {track_id}: {name} must be timezone-aware (UTC), got {t}",
                        track_id=self.track_id,
                        name=name,
                        t=repr(t),
                    )
                )
        if self.last_seen < self.first_seen:
            raise ValueError(
                _(
                    "Sighting of track {track_id}: last_seen {last_seen} is before first_seen {first_seen}",
                    track_id=self.track_id,
                    last_seen=self.last_seen,
                    first_seen=self.first_seen,
                )
            )
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(
                _(
                    "Sighting of track {track_id}: position ({lat}, {lon}) is not WGS84 lat/lon",
                    track_id=self.track_id,
                    lat=self.lat,
                    lon=self.lon,
                )
            )


@dataclass(frozen=True)
class Link:
    """A hop between two consecutive sightings of the trail.

    `speed_m_s` is the speed the hop needs, the one compared to the bound:
    (distance_m - 2 * view_radius_m, at least 0) / gap_s, and 0 where the
    sightings overlap in time on cameras seeing the same place.
    """

    from_index: int  # positions in Trail.sightings
    to_index: int
    from_track_id: int
    to_track_id: int
    distance_m: float  # haversine between the two cameras' mounts
    gap_s: float  # from the first's last_seen to the second's first_seen (negative: overlap)
    speed_m_s: float
    confidence: float


@dataclass(frozen=True)
class Rejection:
    """A candidate left off the trail, and why, in words and as a code.

    code: "query" (the query's own track again), "class", "below_threshold",
    "too_fast", "overlap", "same_camera_overlap" or "not_best" (compatible
    with its neighbours on the trail, yet a heavier chain goes without it).
    """

    sighting: Sighting
    code: str
    reason: str


@dataclass(frozen=True)
class Trail:
    """The chosen chain, in time order, with its links and what was left out."""

    sightings: tuple[Sighting, ...]
    confidences: tuple[float, ...]  # per sighting: its calibrated match probability, 1.0 for the query
    links: tuple[Link, ...]  # len(sightings) - 1, links[k] joins sightings[k] and sightings[k+1]
    rejected: tuple[Rejection, ...]
    query_index: int
    class_name: str
    max_speed_m_s: float
    min_similarity: float
    view_radius_m: float
    score: float = 0.0  # sum of the log-odds of the sightings other than the query

    @property
    def query(self) -> Sighting:
        return self.sightings[self.query_index]


# --- geometry and calibration ---------------------------------------------------------


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres; numpy-broadcasting, so it fills a pairwise matrix at once."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def max_speed_for(class_name: str) -> float:
    """The default straight-line speed bound of a class (see DEFAULT_MAX_SPEED_M_S)."""
    return DEFAULT_MAX_SPEED_M_S.get(class_name, FALLBACK_MAX_SPEED_M_S)


def match_probability(
    similarity: float, midpoint: float = DEFAULT_MATCH_MIDPOINT, scale: float = DEFAULT_MATCH_SCALE
) -> float:
    """Calibrated probability that a look-alike is the same object: a logistic in the cosine."""
    z = (similarity - midpoint) / scale
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def log_odds(p: float) -> float:
    """The evidence a sighting adds to a chain; additive, so a DP can sum it."""
    p = min(max(p, _P_CLIP), 1.0 - _P_CLIP)
    return math.log(p / (1.0 - p))


def speed_comfort(speed_m_s: float, max_speed_m_s: float) -> float:
    """How easily a hop fits the bound: 1 standing still, 0.5 at the bound, 0 beyond.

    1 - 0.5 (v / v_max)^2: quadratic so that ordinary walking pace barely
    costs (1.4 of 3.0 m/s gives 0.89), while a hop that needs a run the whole
    way gets only half the confidence its endpoints would give.
    """
    if max_speed_m_s <= 0 or speed_m_s > max_speed_m_s:
        return 0.0
    return 1.0 - 0.5 * (speed_m_s / max_speed_m_s) ** 2


def link_confidence(p_from: float, p_to: float, speed_m_s: float, max_speed_m_s: float) -> float:
    """p_from * p_to * comfort: the hop is right only if both ends are the object and the move is easy."""
    return float(min(1.0, max(0.0, p_from * p_to * speed_comfort(speed_m_s, max_speed_m_s))))


# --- words -------------------------------------------------------------------------------


def _fmt_distance(m: float) -> str:
    return f"{m / 1000:.2f} km" if m >= 1000 else f"{m:.0f} m"


def _fmt_gap(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _describe(s: Sighting) -> str:
    return f"track {s.track_id} on {s.camera_id}"


# --- compatibility ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Hop:
    """The verdict on one ordered pair; `detail` says what is wrong, without naming the pair."""

    ok: bool
    code: str  # "" when ok, else "too_fast", "overlap" or "same_camera_overlap"
    detail: str
    distance_m: float
    gap_s: float
    speed_m_s: float  # needed speed; inf where impossible at any speed


def _hop(a: Sighting, b: Sighting, distance_m: float, max_speed: float, view_radius_m: float) -> _Hop:
    """Can the object seen as `a` be seen next as `b` (a starts no later than b)?"""
    gap = (b.first_seen - a.last_seen).total_seconds()
    travel = max(0.0, distance_m - 2.0 * view_radius_m)
    if gap < 0:
        if a.camera_id == b.camera_id:
            return _Hop(
                False, "same_camera_overlap", f"same camera, overlapping by {_fmt_gap(-gap)}", distance_m, gap, math.inf
            )
        if travel > 0:
            return _Hop(
                False,
                "overlap",
                f"{_fmt_distance(distance_m)} apart, overlapping by {_fmt_gap(-gap)}",
                distance_m,
                gap,
                math.inf,
            )
        return _Hop(True, "", "", distance_m, gap, 0.0)
    if travel == 0:
        return _Hop(True, "", "", distance_m, gap, 0.0)
    if gap == 0:
        return _Hop(False, "too_fast", f"{_fmt_distance(distance_m)} with no time between", distance_m, gap, math.inf)
    speed = travel / gap
    if speed > max_speed:
        return _Hop(
            False,
            "too_fast",
            f"{_fmt_distance(distance_m)} in {_fmt_gap(gap)} needs {speed:.1f} m/s > {max_speed:.1f} m/s",
            distance_m,
            gap,
            speed,
        )
    return _Hop(True, "", "", distance_m, gap, speed)


def _reason(h: _Hop, other: Sighting) -> str:
    """A clash in words, naming the trail sighting it is with."""
    if h.code == "too_fast":
        return f"too far from {_describe(other)}: {h.detail}"
    if h.code == "overlap":
        return f"seen at the same time as {_describe(other)}, {h.detail}"
    return f"on the same camera at the same time as {_describe(other)} ({h.detail})"


def _time_key(s: Sighting) -> tuple:
    return (s.first_seen, s.last_seen, s.camera_id, s.track_id)


def _compatibility(nodes: list[Sighting], max_speed: float, view_radius_m: float) -> np.ndarray:
    """ok[i, j]: j may follow i directly on a chain (only i < j in time order is ever true)."""
    n = len(nodes)
    lat = np.array([s.lat for s in nodes])
    lon = np.array([s.lon for s in nodes])
    dist = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    t0 = min(s.first_seen for s in nodes)
    first = np.array([(s.first_seen - t0).total_seconds() for s in nodes])
    last = np.array([(s.last_seen - t0).total_seconds() for s in nodes])
    codes: dict[str, int] = {}
    cam = np.array([codes.setdefault(s.camera_id, len(codes)) for s in nodes])
    gap = first[None, :] - last[:, None]
    travel = np.maximum(0.0, dist - 2.0 * view_radius_m)
    same_cam = cam[:, None] == cam[None, :]
    overlap_ok = (gap < 0) & ~same_cam & (travel == 0)
    # travel <= v * gap, written without a division (gap may be 0)
    move_ok = (gap >= 0) & (travel <= max_speed * gap + 1e-9)
    later = np.triu(np.ones((n, n), dtype=bool), k=1)
    return later & (overlap_ok | move_ok)


# --- the chain ------------------------------------------------------------------------


def _heaviest_chain_through(q: int, weights: np.ndarray, ok: np.ndarray) -> list[int]:
    """Indices of the heaviest path through node q in the DAG `ok` (nodes in topological order).

    Forward pass: best chain ending at j; backward pass: best chain starting
    at i. The prefix and the suffix only meet at q, so joining the best of
    each is the best chain through q. O(n^2), vectorised per node.
    """
    n = len(weights)
    end = np.array(weights, dtype=float)
    prev = np.full(n, -1)
    for j in range(n):
        preds = np.flatnonzero(ok[:j, j])
        if len(preds):
            k = preds[np.argmax(end[preds])]
            if end[k] > 0:
                end[j] += end[k]
                prev[j] = k
    start = np.array(weights, dtype=float)
    nxt = np.full(n, -1)
    for i in range(n - 1, -1, -1):
        succs = i + 1 + np.flatnonzero(ok[i, i + 1 :])
        if len(succs):
            k = succs[np.argmax(start[succs])]
            if start[k] > 0:
                start[i] += start[k]
                nxt[i] = k
    chain = [q]
    while prev[chain[0]] >= 0:
        chain.insert(0, int(prev[chain[0]]))
    while nxt[chain[-1]] >= 0:
        chain.append(int(nxt[chain[-1]]))
    return chain


def _explain(
    c: Sighting, chain: list[Sighting], dist_of, max_speed: float, view_radius_m: float, weight: float
) -> tuple[str, str]:
    """Why a candidate is not on the chain: a clash with its would-be neighbours
    on the trail. A candidate that fits both neighbours and has positive
    weight would have made the chain heavier, so the DP would have taken it:
    otherwise it is its weight."""
    key = _time_key(c)
    before = [s for s in chain if _time_key(s) <= key]
    after = [s for s in chain if _time_key(s) > key]
    pairs = ([(before[-1], c, before[-1])] if before else []) + ([(c, after[0], after[0])] if after else [])
    for a, b, other in pairs:
        h = _hop(a, b, dist_of(a, b), max_speed, view_radius_m)
        if not h.ok:
            return h.code, _reason(h, other)
    if weight <= 0:
        return "not_best", f"match probability too low to add weight to the chain (log-odds {weight:.2f})"
    return "not_best", "a heavier chain of sightings leaves it out"


def build_trail(
    query: Sighting,
    candidates: list[Sighting],
    *,
    max_speed_m_s: float | None = None,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    view_radius_m: float = DEFAULT_VIEW_RADIUS_M,
    match_midpoint: float = DEFAULT_MATCH_MIDPOINT,
    match_scale: float = DEFAULT_MATCH_SCALE,
) -> Trail:
    """The most likely physically possible path of `query`'s object through `candidates`.

    max_speed_m_s: straight-line speed bound between cameras; None takes the
    query class's default (DEFAULT_MAX_SPEED_M_S). min_similarity: cosine
    below which a candidate is not considered. view_radius_m: how far each
    camera sees from its mount; that much of each hop is free, and two
    cameras within twice it may see the object at once. match_midpoint /
    match_scale: the logistic calibration of cosine to match probability.
    The query is always on the trail; candidates with the query's track id
    are ignored (reported as "query").
    """
    if match_scale <= 0:
        raise ValueError(_("match_scale must be positive, got {match_scale}", match_scale=match_scale))
    if view_radius_m < 0:
        raise ValueError(_("view_radius_m must be >= 0, got {view_radius_m}", view_radius_m=view_radius_m))
    bound = max_speed_for(query.class_name) if max_speed_m_s is None else float(max_speed_m_s)
    if bound <= 0:
        raise ValueError(_("max_speed_m_s must be positive, got {bound}", bound=bound))

    rejected: list[Rejection] = []
    kept: list[Sighting] = []
    seen_ids = {query.track_id}
    for c in candidates:
        if c.track_id in seen_ids:
            if c.track_id == query.track_id:
                rejected.append(Rejection(c, "query", "the query track itself"))
            continue  # a duplicate candidate: the first one stands
        seen_ids.add(c.track_id)
        if c.class_name != query.class_name:
            rejected.append(Rejection(c, "class", f"class {c.class_name}, the query is a {query.class_name}"))
        elif c.similarity < min_similarity:
            rejected.append(Rejection(c, "below_threshold", f"similarity {c.similarity:.2f} < {min_similarity:.2f}"))
        else:
            kept.append(c)

    nodes = sorted([query, *kept], key=_time_key)
    q = nodes.index(query)
    prob = [
        1.0 if i == q else match_probability(s.similarity, match_midpoint, match_scale) for i, s in enumerate(nodes)
    ]
    weights = np.array([0.0 if i == q else log_odds(p) for i, p in enumerate(prob)])
    ok = _compatibility(nodes, bound, view_radius_m)
    chain = _heaviest_chain_through(q, weights, ok)

    chain_s = [nodes[i] for i in chain]
    dist_of = lambda a, b: float(haversine_m(a.lat, a.lon, b.lat, b.lon))  # noqa: E731
    links = []
    for k, (i, j) in enumerate(zip(chain, chain[1:])):
        a, b = nodes[i], nodes[j]
        h = _hop(a, b, dist_of(a, b), bound, view_radius_m)
        links.append(
            Link(
                k,
                k + 1,
                a.track_id,
                b.track_id,
                h.distance_m,
                h.gap_s,
                h.speed_m_s,
                link_confidence(prob[i], prob[j], h.speed_m_s, bound),
            )
        )
    on_chain = set(chain)
    for i, c in enumerate(nodes):
        if i not in on_chain:
            code, why = _explain(c, chain_s, dist_of, bound, view_radius_m, float(weights[i]))
            rejected.append(Rejection(c, code, why))

    return Trail(
        sightings=tuple(chain_s),
        confidences=tuple(float(prob[i]) for i in chain),
        links=tuple(links),
        rejected=tuple(rejected),
        query_index=chain.index(q),
        class_name=query.class_name,
        max_speed_m_s=bound,
        min_similarity=min_similarity,
        view_radius_m=view_radius_m,
        score=float(sum(weights[i] for i in chain)),
    )


# --- GeoJSON ------------------------------------------------------------------------


def iso_utc(t: datetime) -> str:
    """ISO 8601 in UTC with a Z and milliseconds, the form the rest of Vigie prints."""
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _position(s: Sighting) -> list[float]:
    return [round(float(s.lon), 7), round(float(s.lat), 7)]  # RFC 7946: [longitude, latitude]


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 3)


def trail_geojson(trail: Trail) -> dict:
    """The trail as an RFC 7946 FeatureCollection, ready for json.dumps and any map.

    One LineString through the sightings in time order (left out when the
    trail has a single sighting: a LineString needs two positions), whose
    properties carry per-vertex `times` (first_seen, ISO 8601 UTC), track and
    camera ids, and per-link confidences, distances, gaps and speeds; then one
    Point per sighting. The trail's settings and the rejected candidates go in
    a foreign member "vigie" (RFC 7946 section 6.1), which GeoJSON readers ignore.
    """
    features: list[dict] = []
    ss = trail.sightings
    if len(ss) >= 2:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [_position(s) for s in ss]},
                "properties": {
                    "kind": "trail",
                    "class_name": trail.class_name,
                    "times": [iso_utc(s.first_seen) for s in ss],
                    "end_times": [iso_utc(s.last_seen) for s in ss],
                    "track_ids": [int(s.track_id) for s in ss],
                    "camera_ids": [s.camera_id for s in ss],
                    "link_confidences": [round(float(link.confidence), 4) for link in trail.links],
                    "link_distances_m": [round(float(link.distance_m), 1) for link in trail.links],
                    "link_gaps_s": [round(float(link.gap_s), 3) for link in trail.links],
                    "link_speeds_m_s": [_finite(link.speed_m_s) for link in trail.links],
                    "max_speed_m_s": trail.max_speed_m_s,
                },
            }
        )
    for k, (s, conf) in enumerate(zip(ss, trail.confidences)):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": _position(s)},
                "properties": {
                    "kind": "sighting",
                    "order": k + 1,
                    "track_id": int(s.track_id),
                    "camera_id": s.camera_id,
                    "class_name": s.class_name,
                    "first_seen": iso_utc(s.first_seen),
                    "last_seen": iso_utc(s.last_seen),
                    "similarity": round(float(s.similarity), 4),
                    "confidence": round(float(conf), 4),
                    "thumbnail_path": s.thumbnail_path,
                    "is_query": k == trail.query_index,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "vigie": {
            "query_track_id": int(trail.query.track_id),
            "class_name": trail.class_name,
            "max_speed_m_s": trail.max_speed_m_s,
            "min_similarity": trail.min_similarity,
            "view_radius_m": trail.view_radius_m,
            "rejected": [
                {
                    "track_id": int(r.sighting.track_id),
                    "camera_id": r.sighting.camera_id,
                    "first_seen": iso_utc(r.sighting.first_seen),
                    "similarity": round(float(r.sighting.similarity), 4),
                    "code": r.code,
                    "reason": r.reason,
                }
                for r in trail.rejected
            ],
        },
    }
