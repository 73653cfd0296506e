"""What every store backend shares: the single writer thread and the store's methods.

A backend (sqlite.py, postgres.py) supplies the connection plumbing and its
migrations; the methods here talk to it only through `write(fn)` (fn runs on
the writer thread, in a transaction) and `with self.read() as conn`, with SQL
that SQLite and PostgreSQL run alike (`?` placeholders; pg_dialect.py adapts
them for PostgreSQL).
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import queue
import sqlite3
import threading
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from vigie import files
from vigie.errors import VigieError
from vigie.store.pictures import Pictures
from vigie.store.recordings import RecordingIndex
from vigie.times import iso, now_iso
from vigie.types import TrackSummary
from vigie.zones import cells_of_points

# What is visible: the analyses that finished (complete, or partial for a truncated file), and their
# tracks. The one definition: readers outside this module (rules, stats, search) select with these.
VISIBLE_ANALYSES = "status IN ('complete', 'partial')"
VISIBLE_TRACKS = f"FROM tracks t JOIN analyses a ON a.id = t.analysis_id WHERE a.{VISIBLE_ANALYSES}"


def in_view_sql(start: datetime | None, end: datetime | None) -> tuple[str, list]:
    """SQL conditions (to follow a WHERE) for tracks in view at some moment of [start, end)."""
    sql, args = "", []
    if start is not None:
        sql += " AND t.last_seen >= ?"
        args.append(iso(start))
    if end is not None:
        sql += " AND t.first_seen < ?"
        args.append(iso(end))
    return sql, args


def file_fingerprint(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's content: the same recording under another name is the same source."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


_writing = threading.local()


def writing_store() -> "StoreBase | None":
    """The store whose writer thread this is (None on any other thread): lets a write job
    that was handed only a connection find its store's files, such as the audit key."""
    return getattr(_writing, "store", None)


class _Writer(threading.Thread):
    """Runs write functions one at a time on its own connection, each in a transaction.

    The connection's context manager is the transaction (sqlite3's, or pg_dialect's
    that behaves alike): commit when the function returns, roll back when it raises.
    """

    def __init__(self, conn, owner: "StoreBase | None" = None) -> None:
        super().__init__(name="vigie-store-writer", daemon=True)
        self.conn = conn
        self.owner = owner
        self.jobs: queue.Queue[tuple[Callable[[Any], Any], Future] | None] = queue.Queue()

    def run(self) -> None:
        _writing.store = self.owner  # what writing_store() answers on this thread
        while (job := self.jobs.get()) is not None:
            fn, fut = job
            try:
                with self.conn:  # one transaction per job: all of it or none of it
                    result = fn(self.conn)
                fut.set_result(result)
            except BaseException as exc:  # delivered to the caller through the future
                fut.set_exception(exc)
        self.conn.close()


class _closing:
    """`with store.read() as conn`: a read connection closed on exit."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()


def attribute_rows(track_id: int, t) -> list[tuple]:
    """A summary's attribute rows (track_id, name, value, score) for track_attributes."""
    rows = [(track_id, name, state, None if score != score else score) for name, (state, score) in t.attributes.items()]
    if t.vehicle_type:
        rows.append((track_id, "vehicle_type", t.vehicle_type, None))
    if t.vehicle_colour:
        rows.append((track_id, "vehicle_colour", t.vehicle_colour, None))
    return rows


class StoreBase(RecordingIndex):
    """The store's interface; a backend sets data_dir, thumb_dir, location and _writer, and defines _open_read.
    The recording index's methods (recording_segments, ...) are in recordings.py."""

    data_dir: Path
    thumb_dir: Path
    location: (
        str  # where the rows are (a file path, or a URL without its password): names the store in messages and caches
    )
    _writer: _Writer

    def _init_files(self, data_dir: str | Path) -> None:
        """Thumbnails and the search index are files under data_dir, whatever holds the rows.
        The folder is the service's alone: 0700, its files 0600 (files.make_private)."""
        self.data_dir = files.make_private(data_dir)
        self.thumb_dir = self.data_dir / "thumbnails"

    # --- pictures at rest (vigie.store.pictures: sealed in, opened out) ---------------
    @property
    def pictures(self) -> Pictures:
        """The gateway every picture at rest goes through (sealed under the media key, kept outside
        the database): nothing else seals or opens them."""
        box = self.__dict__.get("_pictures")
        if box is None:
            box = self.__dict__["_pictures"] = Pictures(self.data_dir)
        return box

    def thumbnail(self, track_id: int) -> bytes | None:
        """A track's best crop (JPEG, unblurred: blur it before it leaves the service), or None."""
        with self.read() as conn:
            row = conn.execute("SELECT jpeg FROM thumbnails WHERE track_id=?", (track_id,)).fetchone()
        return self.pictures.open(row[0]) if row and row[0] else None

    def thumbnail_file(self, path: str | Path) -> bytes | None:
        """The picture in a thumbnail file (thumbnails/<camera>/<id>.jpg, sealed), or None if unreadable."""
        return self.pictures.read_file(path)

    def seal_plain_pictures(self) -> dict[str, int]:
        """Seal the pictures an earlier version stored in the clear (every picture column, then the
        picture files: thumbnails, cached clips); how many per table or folder. Once per data folder,
        when open_store opens it (the upgrade of a folder an earlier version filled)."""
        return self.pictures.seal_plain(self)

    def tubes_of(self, track_ids: list[int]) -> dict[int, tuple[str, bytes]]:
        """{track id: (class, tube blob opened)} of those tracks that kept a tube (vigie.synopsis.capture)."""
        out: dict[int, tuple[str, bytes]] = {}
        with self.read() as conn:
            for k in range(0, len(track_ids), 500):  # under SQLite's bound-parameter limit
                chunk = list(track_ids[k : k + 500])
                for tid, cls, data in conn.execute(
                    "SELECT t.id, t.class, u.data FROM tracks t JOIN tubes u ON u.track_id = t.id"
                    f" WHERE t.id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    out[int(tid)] = (cls, self.pictures.open(data))
        return out

    def backgrounds_of(self, camera_id: str, start: datetime, end: datetime) -> list[tuple[str, str, bytes]]:
        """The camera's period backgrounds overlapping [start, end) of finished analyses, in time order:
        (start, end as stored ISO text, JPEG opened)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT b.start, b.end, b.jpeg FROM backgrounds b JOIN analyses a ON a.id = b.analysis_id"
                " WHERE b.camera_id = ? AND a.status <> 'running' AND b.end > ? AND b.start < ? ORDER BY b.start",
                (camera_id, iso(start), iso(end)),
            ).fetchall()
        return [(a, b, self.pictures.open(j)) for a, b, j in rows]

    # --- plumbing --------------------------------------------------------------
    def _open_read(self):
        """A new read-only connection; the caller closes it."""
        raise NotImplementedError

    def long_reader(self):
        """A read-only connection its user keeps open (the search engine's, one per thread)."""
        return self._open_read()

    def data_version(self, conn) -> int | None:
        """A number that changes whenever another connection commits, or None when the backend has none."""
        return None

    def read(self) -> _closing:
        """The store's read API: `with store.read() as conn`, a read-only connection (sqlite3-like rows on
        either backend), closed when the block ends. Writes go through `write`, on the one writer.
        Select visible tracks with VISIBLE_TRACKS (or VISIBLE_ANALYSES on analyses): an analysis is
        seen only once it finished."""
        return _closing(self._open_read())

    def schema_version(self) -> int:
        with self.read() as conn:
            return conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]

    def write(self, fn: Callable[[Any], Any]) -> Future:
        """Queue a write; the future gives its result (or raises its error)."""
        fut: Future = Future()
        ctx = contextvars.copy_context()  # the job sees the caller's context (the audit's client address)
        self._writer.jobs.put((lambda conn: ctx.run(fn, conn), fut))
        return fut

    def close(self) -> None:
        if self._writer.is_alive():
            self._writer.jobs.put(None)
            self._writer.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writes ------------------------------------------------------------------
    def upsert_cameras(self, cameras: Iterable) -> None:
        rows = [(c.id, c.name, c.lat, c.lon, c.commune, c.group, c.purpose, now_iso()) for c in cameras]

        def fn(conn):
            conn.executemany(
                "INSERT INTO cameras VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "name=excluded.name, lat=excluded.lat, lon=excluded.lon, commune=excluded.commune, "
                "grp=excluded.grp, purpose=excluded.purpose, updated_at=excluded.updated_at",
                rows,
            )

        self.write(fn).result()

    def begin_analysis(self, camera_id: str, source: str, fingerprint: str) -> int:
        def fn(conn):
            # A run that crashed left a 'running' analysis of this source: its
            # tracks were never visible; drop them now.
            conn.execute(
                "DELETE FROM analyses WHERE camera_id=? AND fingerprint=? AND status='running'",
                (camera_id, fingerprint),
            )
            cur = conn.execute(
                "INSERT INTO analyses (camera_id, source, fingerprint, status, started_at) VALUES (?,?,?,'running',?)",
                (camera_id, source, fingerprint, now_iso()),
            )
            return cur.lastrowid

        return self.write(fn).result()

    def add_tracks(self, analysis_id: int, tracks: list[TrackSummary]) -> Future:
        """Queue finished tracks of a running analysis (invisible until it finishes)."""
        tracks = list(tracks)

        def fn(conn):
            for t in tracks:
                width, height = t.frame_size or (None, None)
                cells = 0
                if t.frame_size and t.points:
                    boxes = np.array([p.xyxy for p in t.points], dtype=np.float64)
                    cells = cells_of_points(np.c_[(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], width, height)
                cur = conn.execute(
                    "INSERT INTO tracks (analysis_id, camera_id, track_no, class, first_seen, last_seen, dwell_s,"
                    " median_height_px, median_width_px, direction, speed_px_s, speed_m_s, n_points, thumbnail_seq,"
                    " cells, frame_width, frame_height)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        analysis_id,
                        t.camera_id,
                        t.track_no,
                        t.class_name,
                        iso(t.first_seen),
                        iso(t.last_seen),
                        t.dwell_s,
                        t.median_height_px,
                        t.median_width_px,
                        t.direction,
                        t.speed_px_s,
                        t.speed_m_s,
                        len(t.points),
                        t.thumbnail_seq,
                        cells,
                        width,
                        height,
                    ),
                )
                tid = cur.lastrowid
                if t.crops is not None and len(t.crops):
                    conn.executemany(
                        "INSERT INTO track_crops VALUES (?,?,?,?,?)",
                        [
                            (tid, k, seq, t.crop_base, vec.astype("<f2").tobytes())
                            for k, (seq, vec) in enumerate(zip(t.crop_seqs, t.crops))
                        ],
                    )
                if t.vector is not None:
                    conn.execute(
                        "INSERT INTO track_vectors VALUES (?,?,?)",
                        (tid, t.vector_model, t.vector.astype("<f4").tobytes()),
                    )
                colour_rows = [
                    (tid, part, rank, name)
                    for part, names in (
                        ("upper", t.upper_colours),
                        ("lower", t.lower_colours),
                        ("body", t.body_colours),
                    )
                    for rank, name in enumerate(names)
                ]
                conn.executemany("INSERT INTO track_colours VALUES (?,?,?,?)", colour_rows)
                conn.executemany("INSERT INTO track_attributes VALUES (?,?,?,?)", attribute_rows(tid, t))
                conn.executemany(
                    "INSERT INTO track_points VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            tid,
                            p.seq,
                            iso(p.timestamp),
                            *p.xyxy,
                            p.confidence,
                            *(p.ground_xy if p.ground_xy is not None else (None, None)),
                        )
                        for p in t.points
                    ],
                )
                # Unblurred pictures: sealed at rest (vigie.store.pictures).
                if t.thumbnail_jpeg:
                    conn.execute("INSERT INTO thumbnails VALUES (?,?)", (tid, self.pictures.seal(t.thumbnail_jpeg)))
                if t.tube:
                    conn.execute("INSERT INTO tubes VALUES (?,?,?)", (tid, len(t.points), self.pictures.seal(t.tube)))

        return self.write(fn)

    def add_backgrounds(self, analysis_id: int, backgrounds: list) -> Future:
        """Queue a running analysis's period backgrounds (vigie.synopsis.capture.Background), sealed."""
        seal = self.pictures.seal
        rows = [(analysis_id, b.camera_id, iso(b.start), iso(b.end), b.samples, seal(b.jpeg)) for b in backgrounds]
        # "end" quoted: a reserved word in PostgreSQL (and allowed quoted in SQLite).
        return self.write(
            lambda conn: conn.executemany(
                'INSERT INTO backgrounds (analysis_id, camera_id, start, "end", samples, jpeg) VALUES (?,?,?,?,?,?)',
                rows,
            )
        )

    def finish_analysis(
        self, analysis_id: int, status: str, frames_decoded: int, frames_analysed: int, message: str = ""
    ) -> None:
        """Make the analysis visible and retire earlier analyses of the same content, atomically."""

        def fn(conn):
            row = conn.execute("SELECT camera_id, fingerprint FROM analyses WHERE id=?", (analysis_id,)).fetchone()
            old = [
                r[0]
                for r in conn.execute(
                    "SELECT t.id FROM tracks t JOIN analyses a ON a.id=t.analysis_id WHERE a.camera_id=? AND a.fingerprint=? AND a.id<>?",
                    (row["camera_id"], row["fingerprint"], analysis_id),
                )
            ]
            conn.execute(
                "DELETE FROM analyses WHERE camera_id=? AND fingerprint=? AND id<>?",
                (row["camera_id"], row["fingerprint"], analysis_id),
            )
            conn.execute(
                "UPDATE analyses SET status=?, finished_at=?, frames_decoded=?, frames_analysed=?, message=? WHERE id=?",
                (status, now_iso(), frames_decoded, frames_analysed, message, analysis_id),
            )
            return old

        try:
            retired = self.write(fn).result()
        except sqlite3.IntegrityError as exc:  # both backends raise it (pg_dialect maps PostgreSQL's error onto it)
            if "legal hold" not in str(exc):
                raise
            # The earlier analysis of this file holds tracks under a legal hold:
            # they may not be replaced, so the new one stays unpublished.
            raise VigieError(
                f"analysis #{analysis_id} cannot replace the earlier analysis of the same file on this "
                f"camera: some of its tracks are under a legal hold (vigie hold list); the held tracks are kept"
            ) from None
        for tid in retired:  # files of replaced tracks, after the commit that replaced them
            for f in self.thumb_dir.glob(f"*/{tid}.jpg"):
                f.unlink(missing_ok=True)
        self.export_thumbnails(analysis_id)

    def export_thumbnails(self, analysis_id: int) -> None:
        """Write the analysis's thumbnails as files (thumbnails/<camera>/<track id>.jpg), sealed as
        stored (a Fernet token, not a JPEG: `thumbnail_file` opens one), readable by the service only."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT t.id, t.camera_id, th.jpeg FROM tracks t JOIN thumbnails th ON th.track_id=t.id WHERE t.analysis_id=?",
                (analysis_id,),
            ).fetchall()
        for row in rows:
            self.pictures.write_stored_file(self.thumb_dir / row["camera_id"] / f"{row['id']}.jpg", row["jpeg"])
        paths = [(str(self.thumb_dir / r["camera_id"] / f"{r['id']}.jpg"), r["id"]) for r in rows]
        self.write(lambda conn: conn.executemany("UPDATE tracks SET thumbnail_path=? WHERE id=?", paths)).result()

    # --- reads -----------------------------------------------------------------------
    _TRACK_SELECT = f"SELECT t.*, a.source {VISIBLE_TRACKS}"

    @staticmethod
    def _with_colours(conn, rows: list) -> list[dict]:
        """Track rows as dicts with their colour names per part, most dominant first, and their
        attributes ({name: value}: a person's clothing yes / no / unknown, a vehicle's type and colour).

        Read with one plain query per 500 tracks and joined here, rather than with
        SQLite's group_concat, which PostgreSQL lacks (string_agg there)."""
        out = [dict(r) | {"upper": [], "lower": [], "body": [], "attributes": {}} for r in rows]
        by_id = {d["id"]: d for d in out}
        ids = list(by_id)
        for k in range(0, len(ids), 500):  # under SQLite's bound-parameter limit
            chunk = ids[k : k + 500]
            for r in conn.execute(
                f"SELECT track_id, part, colour FROM track_colours WHERE track_id IN ({','.join('?' * len(chunk))})"
                " ORDER BY track_id, part, rank",
                chunk,
            ):
                by_id[r[0]][r[1]].append(r[2])
            for r in conn.execute(
                f"SELECT track_id, name, value FROM track_attributes WHERE track_id IN ({','.join('?' * len(chunk))})"
                " ORDER BY track_id, name",
                chunk,
            ):
                by_id[r[0]]["attributes"][r[1]] = r[2]
        return out

    def list_tracks(
        self, camera_id: str | None = None, class_name: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict]:
        sql, args = self._TRACK_SELECT, []
        if camera_id:
            sql += " AND t.camera_id=?"
            args.append(camera_id)
        if class_name:
            sql += " AND t.class=?"
            args.append(class_name)
        sql += " ORDER BY t.first_seen, t.camera_id, t.track_no LIMIT ? OFFSET ?"
        args += [limit, offset]
        with self.read() as conn:
            return self._with_colours(conn, conn.execute(sql, args).fetchall())

    def get_track(self, track_id: int) -> dict | None:
        with self.read() as conn:
            row = conn.execute(self._TRACK_SELECT + " AND t.id=?", (track_id,)).fetchone()
            return self._with_colours(conn, [row])[0] if row else None

    def track_points(self, track_id: int) -> list[dict]:
        with self.read() as conn:
            return [
                dict(r) for r in conn.execute("SELECT * FROM track_points WHERE track_id=? ORDER BY seq", (track_id,))
            ]

    def camera(self, camera_id: str) -> dict:
        with self.read() as conn:
            row = conn.execute("SELECT * FROM cameras WHERE id=?", (camera_id,)).fetchone()
        if row is None:
            raise VigieError(f"camera {camera_id!r} is not in the store's camera register")
        return dict(row)

    def counts(self) -> dict[str, int]:
        with self.read() as conn:
            return {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in (
                    "cameras",
                    "analyses",
                    "tracks",
                    "track_points",
                    "track_colours",
                    "track_attributes",
                    "thumbnails",
                    "track_crops",
                    "track_vectors",
                )
            }

    def analyses(self) -> list[dict]:
        with self.read() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM analyses ORDER BY id")]

    # --- appearance: crops, vectors, site adaptations --------------------------------
    def active_projection_params(self) -> tuple[str, bytes] | None:
        """The site adaptation in force (`vigie adapt`) as stored, (name, params), or None: plain vectors.
        vigie.describe.reid.active_projection(store) reads it as a Projection."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT name, params FROM appearance_models WHERE active=1 ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
        return (row["name"], row["params"]) if row else None

    def newest_crop_base(self) -> str | None:
        """The descriptor of the newest stored person crops (the site's appearance backend when they were made)."""
        with self.read() as conn:
            row = conn.execute("SELECT base FROM track_crops ORDER BY track_id DESC, k LIMIT 1").fetchone()
        return row[0] if row else None

    def crops_of_other_bases(self, base: str) -> dict[str, int]:
        """Visible person tracks whose stored crops are of another descriptor than `base`:
        {'with_tube': n, 'without_tube': m} (a kept tube lets them be described again)."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT (SELECT count(*) FROM tubes u WHERE u.track_id = t.id) > 0 AS has_tube, count(*) AS n"
                " FROM tracks t JOIN analyses a ON a.id = t.analysis_id"
                f" WHERE a.{VISIBLE_ANALYSES} AND t.class = 'person'"
                " AND EXISTS (SELECT 1 FROM track_crops c WHERE c.track_id = t.id AND c.k = 0 AND c.base <> ?)"
                " GROUP BY has_tube",
                (base,),
            ).fetchall()
        counts = {bool(r[0]): int(r[1]) for r in rows}
        return {"with_tube": counts.get(True, 0), "without_tube": counts.get(False, 0)}

    def tubes_to_redescribe(self, base: str, batch: int = 50):
        """(track id, tube blob) of visible person tracks with a kept tube and crops of another descriptor
        than `base`, in id order, read `batch` at a time."""
        last = 0
        while True:
            with self.read() as conn:
                rows = conn.execute(
                    "SELECT t.id, u.data FROM tracks t JOIN analyses a ON a.id = t.analysis_id"
                    " JOIN tubes u ON u.track_id = t.id"
                    f" WHERE a.{VISIBLE_ANALYSES} AND t.class = 'person' AND t.id > ?"
                    " AND EXISTS (SELECT 1 FROM track_crops c WHERE c.track_id = t.id AND c.k = 0 AND c.base <> ?)"
                    " ORDER BY t.id LIMIT ?",
                    (last, base, batch),
                ).fetchall()
            if not rows:
                return
            for r in rows:
                yield int(r[0]), self.pictures.open(r[1])
            last = int(rows[-1][0])

    def replace_crops(self, track_id: int, base: str, seqs: list[int], crops: np.ndarray, vector: np.ndarray) -> None:
        """A track's crops described anew (descriptor `base`) and its plain vector, in one transaction."""

        def fn(conn):
            conn.execute("DELETE FROM track_crops WHERE track_id = ?", (track_id,))
            conn.executemany(
                "INSERT INTO track_crops VALUES (?,?,?,?,?)",
                [(track_id, k, int(q), base, v.astype("<f2").tobytes()) for k, (q, v) in enumerate(zip(seqs, crops))],
            )
            conn.execute(
                "INSERT INTO track_vectors VALUES (?,?,?)"
                " ON CONFLICT(track_id) DO UPDATE SET model=excluded.model, vector=excluded.vector",
                (track_id, base, vector.astype("<f4").tobytes()),
            )

        self.write(fn).result()

    def person_crops(self, base: str, newest: int | None = None) -> list[dict]:
        """Every visible person track with stored crops of descriptor `base` (or the
        `newest` such tracks): {id, camera_id, first_seen, last_seen, crops (K, D) float32}, in id order."""
        out: dict[int, dict] = {}
        since = ""
        if newest is not None:
            since = (
                " AND t.id >= (SELECT coalesce(min(id), 0) FROM"
                f" (SELECT track_id AS id FROM track_crops WHERE k=0 ORDER BY track_id DESC LIMIT {int(newest)}) AS newest)"
            )
        with self.read() as conn:
            for r in conn.execute(
                "SELECT t.id, t.camera_id, t.first_seen, t.last_seen, c.features FROM track_crops c"
                " JOIN tracks t ON t.id=c.track_id JOIN analyses a ON a.id=t.analysis_id"
                f" WHERE a.{VISIBLE_ANALYSES} AND t.class='person' AND c.base=?" + since + " ORDER BY t.id, c.k",
                (base,),
            ):
                d = out.setdefault(
                    r["id"],
                    {
                        "id": r["id"],
                        "camera_id": r["camera_id"],
                        "first_seen": r["first_seen"],
                        "last_seen": r["last_seen"],
                        "crops": [],
                    },
                )
                d["crops"].append(np.frombuffer(r["features"], dtype="<f2"))
        for d in out.values():
            d["crops"] = np.stack(d["crops"]).astype(np.float32)
        return list(out.values())

    def save_projection(
        self, projection, tracks: int, crops: int, report: dict, vectors: list[tuple[int, np.ndarray]]
    ) -> None:
        """Store a site adaptation (a vigie.describe.reid.Projection: its name, base and to_bytes()),
        make it the one in force, and replace the listed tracks' vectors with its own, in one transaction."""

        def fn(conn):
            conn.execute("UPDATE appearance_models SET active=0")
            conn.execute(
                "INSERT INTO appearance_models VALUES (?,?,?,?,?,?,?,1)",
                (projection.name, projection.base, now_iso(), tracks, crops, projection.to_bytes(), json.dumps(report)),
            )
            conn.executemany(
                "INSERT INTO track_vectors VALUES (?,?,?)"
                " ON CONFLICT(track_id) DO UPDATE SET model=excluded.model, vector=excluded.vector",
                [(tid, projection.name, vec.astype("<f4").tobytes()) for tid, vec in vectors],
            )

        self.write(fn).result()

    def appearance_models(self) -> list[dict]:
        with self.read() as conn:
            return [
                {k: r[k] for k in r.keys() if k != "params"} | {"report": json.loads(r["report"])}
                for r in conn.execute("SELECT * FROM appearance_models ORDER BY created_at")
            ]
