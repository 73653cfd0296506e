"""The in-memory index of every visible track: numpy columns and appearance vectors.

Why not SQL: a forensic query mixes a dozen filters with a ranking over
millions of tracks. SQLite answers "camera X in this hour" from an index, but
"a person in a red top and dark trousers, in these three districts, this week,
ranked by likeness to this one" reads millions of rows at a few hundred
nanoseconds each. Numpy columns scan the same rows at about a nanosecond.

Layout. One row per visible track (its analysis complete or partial), rows
sorted by (first_seen, id): a time window is a slice found by binary search
(widened back by the longest track, so tracks that began before the window but
were still in view count). Filters narrow the rows with vectorised masks
(Selection). Colours are ranked codes per part, 255 where none.

Vectors. The store's vectors of the current model (current_model), float32
unit vectors, inner product = cosine. A query's vector search is exact over
the rows that passed its filters when they are few (gather + matrix product);
when many pass, an IVF index (faiss) probes the nearest lists with the filter
as a bitmap, and the candidates it returns are re-scored exactly, so the
scores are always true cosines and the order exact among what the probe saw.
Below IVF_MIN vectors there is no IVF index at all.

Persistence. The index is saved under <data>/index/<generation>/ (one .npy per
column). A one-shot CLI process memory-maps it and reads only the pages its
query touches (faiss's file only when a query needs the IVF index); a server
preloads it into memory (see load). The generation names the visible
analyses, the track id range and the vector model, so a changed store gets a
new index and an unchanged one is reused. A rebuild reads the whole store
(minutes at 10 M tracks); adding only the new analyses is not done yet.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from vigie.describe.attributes import PERSON_ATTRIBUTES, VEHICLE_TYPES, YES
from vigie.describe.colours import PALETTE
from vigie.errors import VigieError
from vigie.i18n import gettext
from vigie.search.query import COMPASS, CameraInfo, SearchQuery
from vigie.store import search_reads as reads
from vigie.types import TRACKED_CLASSES
from vigie.zones import polygon_cells

FORMAT = 2  # part of the generation: bump it when the saved layout changes, and old folders stop matching
NONE = 255  # no colour / no direction / unknown class
RANKS = 3  # colour names kept per part
PARTS = ("upper", "lower", "body")
RANK_WEIGHT = np.array([1.0, 0.6, 0.3], np.float32)  # relevance of a colour matched at rank 0, 1, 2
IVF_MIN = 50_000  # fewer vectors than this: exact search only
EXACT_MAX = 200_000  # a filter keeping at most this many rows is searched exactly
NPROBE_MIN = 32
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_COLUMNS = (
    "ids",
    "t0",
    "t1",
    "camera",
    "cls",
    "direction",
    "colours",
    "dwell",
    "height",
    "speed",
    "cells",
    "frame",
    "has_vector",
    "attr_yes",
    "attr_no",
    "vehicle_type",
)


_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - EPOCH


def to_us(t: datetime) -> int:
    """Microseconds since the epoch, exactly (the store's times have microseconds)."""
    return (t - EPOCH) // _US


# --- what the store holds ------------------------------------------------------------
def store_generation(conn) -> str:
    """A short key that changes when what the index holds may have changed (vigie.store.search_reads
    says what it covers); FORMAT is part of it, so a new layout never loads an old folder."""
    key = json.dumps([FORMAT, *reads.generation_parts(conn)])
    return hashlib.sha1(key.encode()).hexdigest()[:16]


# --- selections ---------------------------------------------------------------------------
class Selection:
    """The rows a query keeps: a mask over a time slice while many pass, their positions once few do.

    Scanning a contiguous column costs about a nanosecond a row, gathering a
    few nanoseconds: once under a tenth of the slice is left, later filters
    read only the rows still in play.
    """

    DENSE = 0.1

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, max(lo, hi)
        self.mask: np.ndarray | None = None
        self.pos: np.ndarray | None = None

    def values(self, column: np.ndarray) -> np.ndarray:
        return column[self.lo : self.hi] if self.pos is None else column[self.pos]

    def keep(self, ok: np.ndarray) -> None:
        if self.pos is not None:
            self.pos = self.pos[ok]
            return
        self.mask = ok if self.mask is None else self.mask & ok
        if np.count_nonzero(self.mask) < self.DENSE * len(self.mask):
            self.to_positions()

    def to_positions(self) -> np.ndarray:
        if self.pos is None:
            self.pos = self.rows()
            self.mask = None
        return self.pos

    def rows(self) -> np.ndarray:
        """Positions of the kept rows, ascending (so in time order)."""
        if self.pos is not None:
            return self.pos
        if self.mask is None:
            return np.arange(self.lo, self.hi)
        return self.lo + np.flatnonzero(self.mask)

    def count(self) -> int:
        if self.pos is not None:
            return len(self.pos)
        return self.hi - self.lo if self.mask is None else int(np.count_nonzero(self.mask))

    def drop(self, rows: np.ndarray) -> None:
        if self.pos is not None:
            self.pos = self.pos[~np.isin(self.pos, rows)]
            return
        # A copy: the mask may be a view of an index column.
        self.mask = np.ones(self.hi - self.lo, bool) if self.mask is None else self.mask.copy()
        inside = rows[(rows >= self.lo) & (rows < self.hi)]
        self.mask[inside - self.lo] = False

    def bitmap(self, n: int) -> np.ndarray:
        """The kept rows as a little-endian bitmap over all n rows (faiss's IDSelectorBitmap)."""
        if self.pos is None and self.mask is not None and (self.lo, self.hi) == (0, n):
            return np.packbits(self.mask, bitorder="little")
        bits = np.zeros(n, bool)
        if self.pos is not None:
            bits[self.pos] = True
        else:
            bits[self.lo : self.hi] = True if self.mask is None else self.mask
        return np.packbits(bits, bitorder="little")


def _lut(codes) -> np.ndarray:
    lut = np.zeros(256, bool)
    lut[list(codes)] = True
    return lut


# --- the index -------------------------------------------------------------------------------
class TrackIndex:
    """Columns of every visible track, rows in (first_seen, id) order, and their vectors."""

    def __init__(
        self,
        generation: str,
        model: str | None,
        cameras: list[CameraInfo],
        columns: dict[str, np.ndarray],
        vectors: np.ndarray | None,
        ivf=None,
        ivf_path: Path | None = None,
        max_span: int | None = None,
    ) -> None:
        self.generation, self.model, self.cameras = generation, model, cameras
        self.camera_code = {c.id: i for i, c in enumerate(cameras)}
        for name in _COLUMNS:
            setattr(self, name, columns[name])
        self.n = len(self.ids)
        self.vectors = vectors  # (n, dim) float32, zero rows where has_vector is False; None if no vectors
        self.n_vectors = int(np.count_nonzero(self.has_vector))
        # The longest track: how far back a time window must look for tracks still in view when it starts.
        self.max_span = max_span if max_span is not None else (int((self.t1 - self.t0).max()) if self.n else 0)
        self._ivf, self._ivf_path = ivf, ivf_path
        self.exact_max, self.nprobe_min = EXACT_MAX, NPROBE_MIN

    @property
    def dim(self) -> int:
        return 0 if self.vectors is None else self.vectors.shape[1]

    @property
    def ivf(self):
        """The IVF index, read from disk the first time a query needs it; None below IVF_MIN vectors."""
        if self._ivf is None and self._ivf_path is not None:
            import faiss

            self._ivf = faiss.read_index(str(self._ivf_path))
        return self._ivf

    @property
    def has_ivf(self) -> bool:
        return self._ivf is not None or self._ivf_path is not None

    def nbytes(self) -> int:
        """Memory the index needs when fully resident (columns, vectors, IVF codes and ids)."""
        size = sum(getattr(self, c).nbytes for c in _COLUMNS) + (0 if self.vectors is None else self.vectors.nbytes)
        if self.has_ivf:
            size += self.n_vectors * (self.ivf.sa_code_size() + 8)
        return size

    # --- filters ------------------------------------------------------------------------
    def select(self, q: SearchQuery, with_vectors: bool = False) -> tuple[Selection, dict[str, np.ndarray]]:
        """The rows passing the query's filters, and per zone camera the rows whose points must still be checked.

        Filters run roughly most selective and cheapest first: time (a slice),
        cameras, class, then the rest on what is left.
        """
        lo, hi = 0, self.n
        if q.end is not None:
            hi = int(np.searchsorted(self.t0, to_us(q.end), "left"))
        if q.start is not None:
            lo = int(np.searchsorted(self.t0, to_us(q.start) - self.max_span, "left"))
        sel = Selection(lo, hi)
        if q.start is not None:
            sel.keep(sel.values(self.t1) >= to_us(q.start))
        cameras = self._camera_lut(q)
        if cameras is not None:
            sel.keep(cameras[sel.values(self.camera)])
        if q.classes:
            codes = [TRACKED_CLASSES.index(c) for c in q.classes]
            values = sel.values(self.cls)
            # One class: a comparison runs at memory speed, a table lookup at a third of it.
            sel.keep(values == codes[0] if len(codes) == 1 else _lut(codes)[values])
        if with_vectors and self.n_vectors < self.n:
            sel.keep(sel.values(self.has_vector))
        if q.directions:
            sel.keep(_lut(COMPASS.index(d) for d in q.directions)[sel.values(self.direction)])
        for part, wanted in zip(PARTS, (q.upper, q.lower, q.body)):
            if wanted:
                sel.keep(self._colour_hits(sel.values(self._part(part, q.colour_tolerance)), wanted).any(axis=1))
        # An attribute filter keeps only the tracks whose attribute is known to be so: unknown
        # (too few clean views, a score in between) passes neither --with nor --without.
        if q.with_attributes:
            wanted = _bits(q.with_attributes)
            sel.keep(sel.values(self.attr_yes) & wanted == wanted)
        if q.without_attributes:
            wanted = _bits(q.without_attributes)
            sel.keep(sel.values(self.attr_no) & wanted == wanted)
        if q.vehicle_types:
            sel.keep(_lut(VEHICLE_TYPES.index(v) for v in q.vehicle_types)[sel.values(self.vehicle_type)])
        for column, low, high in (
            (self.dwell, q.min_dwell, None),
            (self.height, q.min_height, q.max_height),
            (self.speed, q.min_speed, q.max_speed),
        ):
            if low is not None:
                sel.keep(sel.values(column) >= low)  # NaN (no speed) fails both comparisons
            if high is not None:
                sel.keep(sel.values(column) <= high)
        checks = self._zone_candidates(sel, q) if q.zones else {}
        return sel, checks

    def _camera_lut(self, q: SearchQuery) -> np.ndarray | None:
        if not (q.cameras or q.groups or q.communes or q.zones):
            return None
        ok = np.ones(max(len(self.cameras), 1), bool)
        for wanted, attr in ((q.cameras, "id"), (q.groups, "group"), (q.communes, "commune"), (list(q.zones), "id")):
            if wanted:
                ok &= np.array([getattr(c, attr) in wanted for c in self.cameras], bool)
        return ok

    def _part(self, part: str, tolerance: int) -> np.ndarray:
        first = PARTS.index(part) * RANKS
        return self.colours[:, first : first + min(tolerance, RANKS)]

    def colour_names(self, row: int) -> tuple[list[str], list[str], list[str]]:
        """(upper, lower, body) colour names of a row, most dominant first."""
        codes = self.colours[row].reshape(len(PARTS), RANKS)
        return tuple([PALETTE[c] for c in part if c != NONE] for part in codes)  # type: ignore[return-value]

    def attribute_states(self, row: int) -> tuple[list[str], list[str], str | None]:
        """(attributes known present, known absent, vehicle type or None) of a row."""
        yes, no = int(self.attr_yes[row]), int(self.attr_no[row])
        vt = int(self.vehicle_type[row])
        return (
            [a for k, a in enumerate(PERSON_ATTRIBUTES) if yes >> k & 1],
            [a for k, a in enumerate(PERSON_ATTRIBUTES) if no >> k & 1],
            VEHICLE_TYPES[vt] if vt != NONE else None,
        )

    @staticmethod
    def _colour_hits(codes: np.ndarray, wanted: list[str]) -> np.ndarray:
        return _lut(PALETTE.index(c) for c in wanted)[codes]

    def _zone_candidates(self, sel: Selection, q: SearchQuery) -> dict[str, np.ndarray]:
        """Keep rows whose 8x8 cells meet their camera's zone; return those needing the exact point check.

        A foot point in a cell the polygon covers proves the track was in the
        zone; cells it only touches, unknown cells (0) or an unknown frame size
        leave the question to the points.
        """
        pos = sel.to_positions()
        camera, cells, frame = self.camera[pos], self.cells[pos], self.frame[pos]
        keep = np.zeros(len(pos), bool)
        checks: dict[str, np.ndarray] = {}
        for camera_id, polygon in q.zones.items():
            on = camera == self.camera_code[camera_id]
            known = on & (cells != 0) & (frame[:, 0] > 0) & (frame[:, 1] > 0)
            sure, maybe = np.zeros(len(pos), bool), on & ~known
            for w, h in np.unique(frame[known], axis=0):
                touched, covered = polygon_cells(np.asarray(polygon, float), int(w), int(h))
                this = known & (frame[:, 0] == w) & (frame[:, 1] == h)
                in_covered = (cells & np.uint64(covered)) != 0
                sure |= this & in_covered
                maybe |= this & ~in_covered & ((cells & np.uint64(touched)) != 0)
            keep |= sure | maybe
            checks[camera_id] = pos[maybe]
        sel.pos = pos[keep]
        return checks

    # --- ranking -------------------------------------------------------------------------
    def colour_scores(self, rows: np.ndarray, q: SearchQuery) -> np.ndarray:
        """Relevance in [0, 1] of matched rows: per asked part, the weight of the best rank matched, averaged."""
        asked = [(p, w) for p, w in zip(PARTS, (q.upper, q.lower, q.body)) if w]
        score = np.zeros(len(rows), np.float32) if asked else np.ones(len(rows), np.float32)
        for part, wanted in asked:
            hits = self._colour_hits(self._part(part, q.colour_tolerance)[rows], wanted)
            score += np.where(hits.any(axis=1), RANK_WEIGHT[hits.argmax(axis=1)], 0.0)
        return score / max(len(asked), 1)

    def page(self, rows: np.ndarray, sort: str, scores: np.ndarray | None, offset: int, limit: int) -> np.ndarray:
        """Positions in `rows` (ascending, so in time order) of page offset..offset+limit in the query's order.

        Ties go to the earlier row. Only the first offset+limit are sorted: a
        partition finds them in linear time, which matters when a million rows match.
        """
        n = len(rows)
        if sort == "time":
            return np.arange(min(offset, n), min(offset + limit, n))
        if sort == "-time":
            return np.arange(n - 1 - offset, max(n - 1 - offset - limit, -1), -1)
        if sort == "relevance":
            key = -np.asarray(scores, np.float64)
        else:
            column = self.dwell if sort.endswith("dwell") else self.speed
            key = column[rows].astype(np.float64) * (-1 if sort.startswith("-") else 1)
            key[np.isnan(key)] = np.inf  # no speed: last either way
        positions = np.arange(n)
        wanted = offset + limit
        if n > wanted:
            kth = np.partition(key, wanted - 1)[wanted - 1]
            better = key < kth
            tied = key == kth
            take = better | (tied & (np.cumsum(tied) <= wanted - np.count_nonzero(better)))
            positions, key = positions[take], key[take]
        return positions[np.lexsort((positions, key))][offset : offset + limit]

    # --- vectors ---------------------------------------------------------------------------
    def row_of(self, track_id: int, first_seen_us: int) -> int | None:
        """The row of a track, found through its first_seen (rows are in time order)."""
        lo = int(np.searchsorted(self.t0, first_seen_us, "left"))
        hi = int(np.searchsorted(self.t0, first_seen_us, "right"))
        found = np.flatnonzero(self.ids[lo:hi] == track_id)
        return lo + int(found[0]) if len(found) else None

    def same_sighting(self, row: int) -> np.ndarray:
        """Rows on the same camera whose time span overlaps this row's (itself included): other people seen with it."""
        lo = int(np.searchsorted(self.t0, self.t0[row] - self.max_span, "left"))
        hi = int(np.searchsorted(self.t0, self.t1[row], "right"))
        near = (self.camera[lo:hi] == self.camera[row]) & (self.t1[lo:hi] >= self.t0[row])
        return lo + np.flatnonzero(near)

    def nearest(self, vector: np.ndarray, sel: Selection, k: int) -> tuple[np.ndarray, np.ndarray, str]:
        """The k kept rows most similar to `vector` (cosine, best first): (rows, scores, how they were found)."""
        n = sel.count()
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), "none"
        vector = np.ascontiguousarray(vector, np.float32)
        if not self.has_ivf or n <= self.exact_max:
            return (*_best(*self._exact(sel, vector), k), "exact")
        import faiss

        ivf = self.ivf
        bitmap = sel.bitmap(self.n)
        selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
        candidates = min(n, max(4 * k, k + 100))
        # Enough lists that, at this filter's share of rows, some 8x the
        # candidates wanted pass it; never fewer than nprobe_min.
        per_list = n / ivf.nlist
        nprobe = int(min(ivf.nlist, max(self.nprobe_min, math.ceil(8 * candidates / per_list))))
        params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        _, found = ivf.search(vector[None], candidates, params=params)
        rows = np.sort(found[0][found[0] >= 0])
        # Re-score exactly: the IVF codes are quantised, the stored vectors are not.
        return (*_best(rows, _gather_dot(self.vectors, rows, vector), k), f"ivf nprobe={nprobe}/{ivf.nlist}")

    def _exact(self, sel: Selection, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of every kept row: streamed over the slice where most of it is kept, else gathered."""
        if sel.pos is None and sel.count() > 0.4 * (sel.hi - sel.lo):
            # A contiguous product runs at memory speed, about twice a gather's rate per row.
            sims = np.empty(sel.hi - sel.lo, np.float32)
            for start in range(sel.lo, sel.hi, 65536):
                stop = min(start + 65536, sel.hi)
                sims[start - sel.lo : stop - sel.lo] = self.vectors[start:stop] @ vector
            if sel.mask is None:
                return np.arange(sel.lo, sel.hi), sims
            return sel.lo + np.flatnonzero(sel.mask), sims[sel.mask]
        rows = sel.rows()
        return rows, _gather_dot(self.vectors, rows, vector)

    # --- building, saving, loading ----------------------------------------------------------
    @classmethod
    def from_store(cls, store, progress: bool = False, chunk: int = 200_000) -> "TrackIndex":
        """Read every visible track, its colours and its vector from the store, in chunks, in one snapshot."""
        with store.read() as conn:
            reads.begin_snapshot(conn)  # one read snapshot: the generation names exactly what is read
            generation, model = store_generation(conn), reads.current_vector_model(conn)
            cameras = [CameraInfo(*r) for r in reads.camera_rows(conn)]
            visible = np.array(reads.visible_analysis_ids(conn), np.int64)
            total = reads.max_track_id(conn)
            bar = _bar(progress, total, "index: tracks")
            cols = _read_tracks(conn, cameras, visible, chunk, bar)
            by_id = cols["ids"]  # as read: ascending id
            cols["colours"] = _read_colours(conn, by_id, chunk, _bar(progress, total, "index: colours"))
            cols["attr_yes"], cols["attr_no"], cols["vehicle_type"] = _read_attributes(conn, by_id, chunk)
            order = np.lexsort((by_id, cols["t0"]))
            cols = {name: col[order] for name, col in cols.items()}
            row_of_id = np.empty(len(order), np.int64)
            row_of_id[order] = np.arange(len(order))
            vectors, has = _read_vectors(conn, model, by_id, row_of_id, chunk, _bar(progress, total, "index: vectors"))
            cols["has_vector"] = has
        ivf = _build_ivf(vectors, has) if vectors is not None else None
        return cls(generation, model, cameras, cols, vectors, ivf=ivf)

    def save(self, root: Path) -> Path:
        """Write under root/<generation>/ (atomically: a temporary folder renamed) and remove older generations."""
        root.mkdir(parents=True, exist_ok=True)
        final = root / self.generation
        tmp = root / f".{self.generation}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name in _COLUMNS:
            np.save(tmp / f"{name}.npy", getattr(self, name))
        if self.vectors is not None:
            np.save(tmp / "vectors.npy", self.vectors)
        if self._ivf is not None:
            import faiss

            faiss.write_index(self._ivf, str(tmp / "ivf.faiss"))
        meta = {
            "generation": self.generation,
            "model": self.model,
            "cameras": [list(c) for c in self.cameras],
            "max_span": self.max_span,
        }
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if final.exists():  # another process saved the same generation first
            shutil.rmtree(tmp)
        else:
            tmp.rename(final)
        for old in root.iterdir():
            if old != final and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)  # readers keep their memory maps of deleted files
        return final

    @classmethod
    def load(cls, folder: Path, preload: bool = False) -> "TrackIndex":
        """Read a saved index: memory-mapped (a one-shot process reads only what its query touches), or
        preloaded into memory (a server: the kernel cannot evict it under page-cache pressure, so no query
        waits on the disk)."""
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        mode = None if preload else "r"
        cols = {name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in _COLUMNS}
        vectors = np.load(folder / "vectors.npy", mmap_mode=mode) if (folder / "vectors.npy").exists() else None
        ivf_path = folder / "ivf.faiss" if (folder / "ivf.faiss").exists() else None
        ivf = None
        if preload and ivf_path is not None:
            import faiss

            ivf = faiss.read_index(str(ivf_path))
        return cls(
            meta["generation"],
            meta["model"],
            [CameraInfo(*c) for c in meta["cameras"]],
            cols,
            vectors,
            ivf=ivf,
            ivf_path=ivf_path,
            max_span=meta["max_span"],
        )

    @classmethod
    def open(cls, store, generation: str | None = None, progress: bool = False, preload: bool = False) -> "TrackIndex":
        """The saved index of the store's current generation, built and saved first if there is none."""
        if generation is None:
            with store.read() as conn:
                generation = store_generation(conn)
        root = Path(store.data_dir) / "index"
        if (root / generation / "meta.json").exists():
            return cls.load(root / generation, preload)
        index = cls.from_store(store, progress=progress)
        index.save(root)
        return index


# --- reading the store ------------------------------------------------------------------------
def _bar(progress: bool, total: int, desc: str):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="track", unit_scale=True, leave=False)


def _advance(bar, last_id: int) -> None:
    if bar is not None:
        bar.update(last_id - bar.n)


def _read_tracks(
    conn: sqlite3.Connection, cameras: list[CameraInfo], visible: np.ndarray, chunk: int, bar
) -> dict[str, np.ndarray]:
    camera_code = {c.id: i for i, c in enumerate(cameras)}
    class_code = {c: i for i, c in enumerate(TRACKED_CLASSES)}
    direction_code = {d: i for i, d in enumerate(COMPASS)}
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("ids", "t0", "t1", "camera", "cls", "direction", "dwell", "height", "speed", "cells", "frame")
    }
    for rows in reads.track_rows(conn, chunk):
        c = list(zip(*rows))
        n = len(rows)
        keep = np.isin(np.array(c[1], np.int64), visible)
        got = {
            "ids": np.array(c[0], np.int64),
            "t0": np.array(c[4], "datetime64[us]").astype(np.int64),
            "t1": np.array(c[5], "datetime64[us]").astype(np.int64),
            "camera": np.fromiter(map(camera_code.__getitem__, c[2]), np.uint16, n),
            "cls": np.fromiter((class_code.get(x, NONE) for x in c[3]), np.uint8, n),
            "direction": np.fromiter((direction_code.get(x, NONE) for x in c[8]), np.uint8, n),
            "dwell": np.array(c[6], np.float32),
            "height": np.array(c[7], np.float32),
            "speed": np.array(c[9], np.float64).astype(np.float32),  # None -> NaN
            "cells": np.array(c[10], np.int64).view(np.uint64),
            "frame": np.c_[np.array(c[11], np.uint16), np.array(c[12], np.uint16)],
        }
        for k, v in got.items():
            parts[k].append(v[keep])
        _advance(bar, rows[-1][0])
    if bar is not None:
        bar.close()
    return {k: np.concatenate(v) if v else np.zeros((0, 2) if k == "frame" else 0, _EMPTY[k]) for k, v in parts.items()}


_EMPTY = {
    "ids": np.int64,
    "t0": np.int64,
    "t1": np.int64,
    "camera": np.uint16,
    "cls": np.uint8,
    "direction": np.uint8,
    "dwell": np.float32,
    "height": np.float32,
    "speed": np.float32,
    "cells": np.uint64,
    "frame": np.uint16,
}


def _bits(names) -> int:
    """The attr_yes / attr_no bitmask of these attribute names (bit k: PERSON_ATTRIBUTES[k])."""
    return sum(1 << PERSON_ATTRIBUTES.index(n) for n in names)


def _read_attributes(conn, ids: np.ndarray, chunk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(attr_yes, attr_no) uint8 bitmasks of each track's attributes known present / absent, and its
    vehicle type code (NONE when none), aligned with `ids` (ascending)."""
    yes = np.zeros(len(ids), np.uint8)
    no = np.zeros(len(ids), np.uint8)
    vtype = np.full(len(ids), NONE, np.uint8)
    bit = {a: 1 << k for k, a in enumerate(PERSON_ATTRIBUTES)}
    for rows in reads.attribute_value_rows(conn, chunk):
        tid = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        at, ok = _positions(ids, tid)
        for i, (_, name, value) in zip(at[ok].tolist(), (r for r, k in zip(rows, ok) if k)):
            if name in bit:
                if value == YES:
                    yes[i] |= bit[name]
                elif value == "no":
                    no[i] |= bit[name]
            elif name == "vehicle_type" and value in VEHICLE_TYPES:
                vtype[i] = VEHICLE_TYPES.index(value)
    return yes, no, vtype


def _read_colours(conn: sqlite3.Connection, ids: np.ndarray, chunk: int, bar) -> np.ndarray:
    """(n, 9) uint8 PALETTE codes, [upper rank 0..2, lower 0..2, body 0..2], NONE where absent,
    unpacked from the store's one integer per track (vigie.store.search_reads.packed_colour_rows)."""
    out = np.full((len(ids), len(PARTS) * RANKS), NONE, np.uint8)
    for rows in reads.packed_colour_rows(conn, PALETTE, RANKS, chunk):
        tid = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        packed = np.fromiter((r[1] or 0 for r in rows), np.int64, len(rows))
        at, ok = _positions(ids, tid)
        slots = (packed[ok, None] >> (4 * np.arange(len(PARTS) * RANKS))) & 15
        out[at[ok]] = np.where(slots > 0, slots - 1, NONE).astype(np.uint8)
        _advance(bar, rows[-1][0])
    if bar is not None:
        bar.close()
    return out


def _read_vectors(conn: sqlite3.Connection, model: str | None, ids: np.ndarray, row_of_id: np.ndarray, chunk: int, bar):
    has = np.zeros(len(ids), bool)
    if model is None:
        return None, has
    vectors = None
    for rows in reads.vector_rows(conn, model, chunk):
        tid = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        blob = b"".join(r[1] for r in rows)
        dim = len(rows[0][1]) // 4
        if dim == 0 or len(blob) != len(rows) * dim * 4:
            raise VigieError(
                gettext(
                    "the stored vectors of model {model} do not all have the same length: rebuild them",
                    model=repr(model),
                )
            )
        chunk_vectors = np.frombuffer(blob, "<f4").reshape(len(rows), dim)
        if vectors is None:
            vectors = np.zeros((len(ids), dim), np.float32)
        elif vectors.shape[1] != dim:
            raise VigieError(
                gettext(
                    "the stored vectors of model {model} have {value} and {dim} dimensions: rebuild them",
                    model=repr(model),
                    value=vectors.shape[1],
                    dim=dim,
                )
            )
        at, ok = _positions(ids, tid)
        rows_at = row_of_id[at[ok]]
        vectors[rows_at] = chunk_vectors[ok]
        has[rows_at] = True
        _advance(bar, rows[-1][0])
    if bar is not None:
        bar.close()
    return vectors, has


def _positions(sorted_ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each wanted id sits in sorted_ids, and whether it is there at all (rows of invisible analyses are not)."""
    at = np.searchsorted(sorted_ids, wanted)
    ok = at < len(sorted_ids)
    ok[ok] = sorted_ids[at[ok]] == wanted[ok]
    return at, ok


def _build_ivf(vectors: np.ndarray, has: np.ndarray):
    """IVF over the rows with vectors (faiss ids = rows), or None below IVF_MIN.

    About sqrt(n) lists, k-means on a 40-per-list sample (10 iterations: the
    exact re-scoring makes finer centroids buy little). Codes: flat below 64
    dimensions (small anyway), 8-bit scalar quantisation above (a quarter of
    the memory; the re-scoring restores exact cosines).
    """
    rows = np.flatnonzero(has)
    if len(rows) < IVF_MIN:
        return None
    import faiss

    dim = vectors.shape[1]
    nlist = int(min(65536, max(64, round(math.sqrt(len(rows))))))
    ivf = faiss.index_factory(dim, f"IVF{nlist},{'Flat' if dim < 64 else 'SQ8'}", faiss.METRIC_INNER_PRODUCT)
    faiss.extract_index_ivf(ivf).cp.niter = 10
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(rows, min(len(rows), 40 * nlist), replace=False))
    ivf.train(np.ascontiguousarray(vectors[sample]))
    for start in range(0, len(rows), 500_000):
        part = rows[start : start + 500_000]
        ivf.add_with_ids(np.ascontiguousarray(vectors[part]), part.astype(np.int64))
    return ivf


def _gather_dot(vectors: np.ndarray, rows: np.ndarray, vector: np.ndarray, block: int = 1024) -> np.ndarray:
    """vectors[rows] @ vector through a small reused buffer: one big gather would fault in a fresh
    array page by page and leave the cache; blocks of 1024 rows stay in it (about 3x faster)."""
    out = np.empty(len(rows), np.float32)
    buf = np.empty((block, vectors.shape[1]), np.float32)
    for start in range(0, len(rows), block):
        part = buf[: min(block, len(rows) - start)]
        np.take(vectors, rows[start : start + block], axis=0, out=part)
        out[start : start + len(part)] = part @ vector
    return out


def _best(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores), best first, ties to the earlier row."""
    if len(rows) > k:
        top = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[top], scores[top]
    order = np.lexsort((rows, -scores))
    return rows[order], scores[order].astype(np.float32)
