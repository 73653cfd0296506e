"""The reads the search index and engine make, as the store's SQL (vigie.search encodes what they return).

Each takes a read connection (`store.read()`, or the engine's long-lived `store.long_reader()`),
so that the index is built from one snapshot: the caller opens it, these only read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from vigie.store.base import VISIBLE_ANALYSES, VISIBLE_TRACKS


def begin_snapshot(conn) -> None:
    """Every read on `conn` from now on sees the store as it is now (until the connection is closed)."""
    conn.execute("BEGIN")


def current_vector_model(conn) -> str | None:
    """The appearance model whose vectors are searched: the newest active adapted one, else the most common."""
    row = conn.execute(
        "SELECT name FROM appearance_models WHERE active = 1 ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    if row:
        return row[0]
    # Distinct models one index seek at a time (a GROUP BY would read every vector row).
    models, name = [], conn.execute("SELECT min(model) FROM track_vectors").fetchone()[0]
    while name is not None:
        models.append(name)
        name = conn.execute("SELECT min(model) FROM track_vectors WHERE model > ?", (name,)).fetchone()[0]
    if len(models) <= 1:
        return models[0] if models else None
    counts = {m: conn.execute("SELECT count(*) FROM track_vectors WHERE model = ?", (m,)).fetchone()[0] for m in models}
    return max(models, key=lambda m: (counts[m], m))


def generation_parts(conn) -> list:
    """What may change what the index holds, cheap at any size: visible analyses (count, newest id,
    last finish), the track id range (new tracks, retention deleting old ones), the newest vector and
    the current model. Vectors rewritten in place under the same model name are not seen."""
    analyses = conn.execute(
        f"SELECT count(*), max(id), max(finished_at) FROM analyses WHERE {VISIBLE_ANALYSES}"
    ).fetchone()
    ids = conn.execute(
        "SELECT (SELECT min(id) FROM tracks), (SELECT max(id) FROM tracks), (SELECT max(track_id) FROM track_vectors)"
    ).fetchone()
    return [*analyses, *ids, current_vector_model(conn)]


def camera_rows(conn) -> list[tuple]:
    """(id, name, commune, group) of every camera, by id."""
    return [tuple(r) for r in conn.execute("SELECT id, name, commune, grp FROM cameras ORDER BY id")]


def visible_analysis_ids(conn) -> list[int]:
    return [r[0] for r in conn.execute(f"SELECT id FROM analyses WHERE {VISIBLE_ANALYSES}")]


def max_track_id(conn) -> int:
    return conn.execute("SELECT max(id) FROM tracks").fetchone()[0] or 0


def track_rows(conn, chunk: int) -> Iterator[list[tuple]]:
    """Every track (visible or not: the caller keeps those of visible analyses), by id, `chunk` rows at a time:
    (id, analysis_id, camera_id, class, first_seen, last_seen (without 'Z'), dwell_s, median_height_px,
    direction, speed_m_s, cells, frame_width, frame_height (0 when unknown))."""
    cur = conn.execute(
        "SELECT id, analysis_id, camera_id, class, rtrim(first_seen, 'Z'), rtrim(last_seen, 'Z'), dwell_s, median_height_px,"
        " direction, speed_m_s, cells, coalesce(frame_width, 0), coalesce(frame_height, 0) FROM tracks ORDER BY id"
    )
    while rows := cur.fetchmany(chunk):
        yield rows


def packed_colour_rows(conn, palette: Sequence[str], ranks: int, chunk: int) -> Iterator[list[tuple]]:
    """(track_id, packed) by track id: each track's colour names packed into one integer while the
    database streams the table in key order (4 bits a slot, palette code + 1; slot (part * ranks + rank),
    parts upper, lower, body), so that Python sees one row per track rather than one per name. The
    CASTs are PostgreSQL's: 36 bits overflow its 32-bit integer, and it shifts a BIGINT by an INTEGER only."""
    code = " ".join(f"WHEN '{name}' THEN {i + 1}" for i, name in enumerate(palette))
    cur = conn.execute(
        f"SELECT track_id, sum(CAST(CASE colour {code} END AS BIGINT)"
        f" << CAST(4 * ((CASE part WHEN 'upper' THEN 0 WHEN 'lower' THEN 1 ELSE 2 END) * {int(ranks)} + rank) AS INTEGER))"
        f" FROM track_colours WHERE rank < {int(ranks)} GROUP BY track_id ORDER BY track_id"
    )
    while rows := cur.fetchmany(chunk):
        yield rows


def attribute_value_rows(conn, chunk: int) -> Iterator[list[tuple]]:
    """(track_id, name, value) of every track attribute, by track id."""
    cur = conn.execute("SELECT track_id, name, value FROM track_attributes ORDER BY track_id")
    while rows := cur.fetchmany(chunk):
        yield rows


def vector_rows(conn, model: str, chunk: int) -> Iterator[list[tuple]]:
    """(track_id, little-endian float32 bytes) of the model's vectors, by track id."""
    cur = conn.execute("SELECT track_id, vector FROM track_vectors WHERE model = ? ORDER BY track_id", (model,))
    while rows := cur.fetchmany(chunk):
        yield rows


def visible_first_seen(conn, track_id: int) -> str | None:
    """When a visible track was first seen (without the 'Z'), or None when no visible track has that id."""
    row = conn.execute(
        f"SELECT rtrim(t.first_seen, 'Z') {VISIBLE_TRACKS} AND t.id = ?",
        (track_id,),
    ).fetchone()
    return row[0] if row else None


def track_points_xxy(conn, track_ids: list[int]) -> list[tuple]:
    """(track_id, x1, x2, y2) of every point of these tracks: where their feet were."""
    return conn.execute(
        f"SELECT track_id, x1, x2, y2 FROM track_points WHERE track_id IN ({','.join('?' * len(track_ids))})",
        track_ids,
    ).fetchall()


def hit_rows(conn, track_ids: list[int]) -> list:
    """What a search hit shows of each of these tracks that is visible (rows with named columns)."""
    return conn.execute(
        "SELECT t.id, t.camera_id, t.class, t.first_seen, t.last_seen, t.dwell_s, t.median_height_px, t.direction,"
        f" t.speed_m_s, t.speed_px_s, t.thumbnail_path {VISIBLE_TRACKS} AND t.id IN ({','.join('?' * len(track_ids))})",
        track_ids,
    ).fetchall()
