"""Importing incident files (CSV or GeoJSON) for the crime map: all of a file or nothing.

A file is read whole, every row is checked, and only a file without a single
problem is stored: its import record, its rows and the audit entry commit in
one transaction of the store's writer. A refused file is refused with every
problem named by row and field, as a spreadsheet numbers its rows (the header
is row 1), or by GeoJSON feature (the first is feature 1).

CSV: a header row, then one incident per row. Columns (any order, names in any
case): `occurred_at` (ISO 8601; without an offset it is the site's local time),
`category`, then `lat` and `lon` (WGS 84 degrees) or `x` and `y` in the CRS
given for the file (e.g. EPSG:2154, Lambert-93); optional `commune`, `source`
(else the file's source) and `ref` (the file's own id). Other columns are
ignored and never stored: a file may hold names or descriptions of people,
and the map is about places and times only. The delimiter is the one of `,`,
`;` or tab the header uses most; with `;` or tab, `43,8349` is a number.

GeoJSON: a FeatureCollection of Point features, the same names as properties;
coordinates in WGS 84 (RFC 7946), or in the file's CRS (the argument, or the
2008 `crs` member).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigie.audit.log import append_in
from vigie.crimemap.incidents import CrimeMapError
from vigie.i18n import gettext
from vigie.times import EXAMPLE, iso, now_iso, place, read_iso

MAX_BYTES = 20 * 1024 * 1024  # 20 MiB: a year of a city's incidents is a few MiB
MAX_ROWS = 200_000
MAX_TEXT = 100  # category, commune, source, ref
MAX_LISTED = 20  # problems listed in a refusal; the rest are counted
WGS84 = "EPSG:4326"
UTC = timezone.utc  # (import_file's `timezone` argument, the site's zone name, hides the module)
REQUIRED = ("occurred_at", "category")
KNOWN = ("occurred_at", "category", "lat", "lon", "x", "y", "commune", "source", "ref")
_HAS_TIME = re.compile(r"^\s*[+-]?\d{4,}-?\d{2}-?\d{2}[T ]\d", re.IGNORECASE)


class _Unreadable(ValueError):
    """A field's time that cannot be read: its message is the row's problem."""


class ImportRefused(CrimeMapError):
    """A file that cannot be imported; `problems` lists (up to MAX_LISTED) what is wrong, `count` how many there are."""

    def __init__(self, message: str, problems: list[str] | None = None, count: int | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])
        self.count = count if count is not None else len(self.problems)


class FileTooLarge(ImportRefused):
    """Above MAX_BYTES or MAX_ROWS."""


class AlreadyImported(ImportRefused):
    """The same bytes were imported before (`import_id`)."""

    def __init__(self, message: str, import_id: int) -> None:
        super().__init__(message)
        self.import_id = import_id


class ImportNotFound(CrimeMapError):
    """No import has this id."""


@dataclass
class _Row:
    where: str  # "row 12" / "feature 3"
    order: int  # its row or feature number, to list problems in file order
    occurred_at: datetime | None
    category: str
    x: float | None  # lon, or the CRS's x
    y: float | None
    commune: str
    source: str
    ref: str | None
    local: bool  # its time had no offset: read in the site's time zone


class _Problems:
    """Problems in file order (rows, then what the coordinate conversion finds, sorted back by row)."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, order: int, where: str, field: str | None, message: str) -> None:
        self.items.append((order, f"{where}, field {field}: {message}" if field else f"{where}: {message}"))

    def refuse(self, file_name: str) -> None:
        if not self.items:
            return
        texts = [t for _, t in sorted(self.items, key=lambda i: i[0])]
        n = len(texts)
        shown = "; ".join(texts[:3]) + (f"; and {n - 3} more" if n > 3 else "")
        listed = texts[:MAX_LISTED] + ([f"... and {n - MAX_LISTED} more problems"] if n > MAX_LISTED else [])
        raise ImportRefused(
            gettext(
                "{file_name}: {n} problem{value}, nothing was imported: {shown}",
                file_name=file_name,
                n=n,
                value="s" if n != 1 else "",
                shown=shown,
            ),
            listed,
            n,
        )


# --- reading the bytes --------------------------------------------------------------------------------
def plain_name(file_name: str) -> str:
    """The file's own name, never a client's path (an upload may be called '../../etc/passwd')."""
    name = PureWindowsPath(PurePosixPath(file_name or "").name).name.strip()
    return name[:200] or "upload"


def _decode(data: bytes, file_name: str) -> str:
    """UTF-8 (with or without BOM), or UTF-16 with a BOM; anything else is refused rather than guessed."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRefused(
                gettext("{file_name}: starts with a UTF-16 mark but is not UTF-16 text", file_name=file_name)
            ) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportRefused(
                gettext(
                    '{file_name}: unknown encoding, not UTF-8 (byte 0x{value:02x} at offset {start}): save the file as UTF-8 ("CSV UTF-8" in a spreadsheet) and import it again',
                    file_name=file_name,
                    value=data[exc.start],
                    start=exc.start,
                )
            ) from None
    if "\x00" in text:
        raise ImportRefused(
            gettext("{file_name}: holds NUL characters: not a text file (CSV or GeoJSON)", file_name=file_name)
        )
    return text


def _format(file_name: str, text: str) -> str:
    """GeoJSON when the file says so by its name or its first character (no CSV header starts with '{')."""
    if text.lstrip().startswith("{") or Path(file_name).suffix.lower() in (".geojson", ".json"):
        return "geojson"
    return "csv"


# --- one value --------------------------------------------------------------------------------------------
def _text(raw, required: bool) -> tuple[str | None, str | None]:
    """(value, problem)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, "empty" if required else None
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        return None, f"{json.dumps(raw)[:40]} is not a text"
    value = str(raw).strip()
    if len(value) > MAX_TEXT:
        return None, f"{len(value)} characters, more than {MAX_TEXT}"
    return value, None


def _number(raw, decimal_comma: bool) -> tuple[float | None, str | None]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, "empty"
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return None, f"{json.dumps(raw)[:40]} is not a number"
    if isinstance(raw, str):
        s = raw.strip()
        if decimal_comma and s.count(",") == 1 and "." not in s:
            s = s.replace(",", ".")
        try:
            value = float(s)
        except ValueError:
            return None, f"{raw.strip()[:40]!r} is not a number"
    else:
        value = float(raw)
    if not math.isfinite(value):
        return None, f"{raw!r} is not a finite number"
    return value, None


def _time(raw, zone: ZoneInfo, now: datetime) -> tuple[datetime | None, bool, str | None]:
    """(UTC time, read as local time, problem)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, False, "empty"
    if not isinstance(raw, str):
        return None, False, f"{json.dumps(raw)[:40]} is not an ISO 8601 time"
    s = raw.strip()
    try:
        t = read_iso(s, "", _Unreadable)
        local = t.tzinfo is None
        if not _HAS_TIME.match(s):
            return None, False, f"{s[:40]!r} is a date without a time of day ({EXAMPLE})"
        t = place(t, zone, "", _Unreadable, shown=s[:40])
    except _Unreadable as e:
        return None, False, str(e)
    if t > now:
        return None, local, f"{iso(t)[:19]}Z is in the future"
    return t, local, None


def _row(
    where: str,
    values: dict,
    zone: ZoneInfo,
    tz_name: str,
    now: datetime,
    default_source: str | None,
    xy: tuple[tuple[str, str], ...],
    decimal_comma: bool,
    order: int,
    problems: _Problems,
) -> _Row:
    """Check one row's values (names lower-case); every problem is added, none raised.
    `xy`: the (key, name in messages) of its x (longitude) and y (latitude); () when its geometry was refused."""
    occurred, local, p = _time(values.get("occurred_at"), zone, now)
    if p:
        problems.add(order, where, "occurred_at", p)
    found: dict[str, str | None] = {}
    for name, required in (("category", True), ("commune", False), ("ref", False), ("source", default_source is None)):
        found[name], p = _text(values.get(name), required)
        if p:
            problems.add(
                order,
                where,
                name,
                p + (" (and no source was given for the file)" if name == "source" and p == "empty" else ""),
            )
    coords: list[float | None] = []
    for key, label in xy:
        v, p = _number(values.get(key), decimal_comma)
        if p:
            problems.add(order, where, label, p)
        coords.append(v)
    x, y = (coords + [None, None])[:2]
    return _Row(
        where,
        order,
        occurred,
        found["category"] or "",
        x,
        y,
        found["commune"] or "",
        found["source"] or default_source or "",
        found["ref"],
        local,
    )


# --- the two formats -----------------------------------------------------------------------------------------
def _csv_rows(
    text: str, file_name: str, crs: str | None, default_source: str | None, zone, tz_name, now, problems: _Problems
) -> tuple[list[_Row], str | None, list[str]]:
    """(rows, the coordinates' CRS or None for lat/lon, ignored columns)."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: (first.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportRefused(
            gettext("{file_name}: no header row could be read ({exc})", file_name=file_name, exc=exc)
        ) from None
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise ImportRefused(
            gettext(
                "{file_name}: column {value} appears twice in the header (row 1)",
                file_name=file_name,
                value=repr(dupes[0]),
            )
        )
    has = set(names)
    for name in REQUIRED:
        if name not in has:
            raise ImportRefused(
                gettext(
                    "{file_name}: missing required column {name} (the header, row 1, has: {value})",
                    file_name=file_name,
                    name=repr(name),
                    value=", ".join(repr(n) for n in names if n) or "nothing",
                )
            )
    if crs is None or _is_wgs84(crs):
        if {"lat", "lon"} <= has:
            xy, crs = (("lon", "lon"), ("lat", "lat")), None
        elif {"x", "y"} <= has:
            if crs is None:
                raise ImportRefused(
                    gettext(
                        "{file_name}: columns x and y need the file's CRS (e.g. EPSG:2154 for Lambert-93); give it, or give lat and lon columns in WGS 84",
                        file_name=file_name,
                    )
                )
            xy = (("x", "x"), ("y", "y"))
        else:
            missing = [n for n in ("lat", "lon") if n not in has]
            raise ImportRefused(
                gettext(
                    "{file_name}: missing required column{value} {value2} (WGS 84), or 'x' and 'y' with a CRS such as EPSG:2154",
                    file_name=file_name,
                    value="s" if len(missing) > 1 else "",
                    value2=" and ".join(repr(m) for m in missing),
                )
            )
    else:
        missing = [n for n in ("x", "y") if n not in has]
        if missing:
            raise ImportRefused(
                gettext(
                    "{file_name}: missing required column{value} {value2}: coordinates in {crs} are read from x and y (lat and lon are WGS 84 degrees)",
                    file_name=file_name,
                    value="s" if len(missing) > 1 else "",
                    value2=" and ".join(repr(m) for m in missing),
                    crs=crs,
                )
            )
        xy = (("x", "x"), ("y", "y"))
    if default_source is None and "source" not in has:
        raise ImportRefused(
            gettext(
                "{file_name}: no source: give the file's source (e.g. 'Police municipale') or a source column",
                file_name=file_name,
            )
        )
    unused = {"lat", "lon"} if xy[0][0] == "x" else {"x", "y"}  # the other pair, when a file has both
    ignored = sorted({n for n in names if n and (n not in KNOWN or n in unused)})
    rows: list[_Row] = []
    line, seen = 1, 0
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # a blank line, as spreadsheets leave at the end
            seen += 1
            if seen > MAX_ROWS:
                raise FileTooLarge(
                    gettext(
                        "{file_name}: more than {max_rows:,} rows, the limit per import: split the file",
                        file_name=file_name,
                        max_rows=MAX_ROWS,
                    )
                )
            where = f"row {line}"
            if len(cells) > len(names):
                problems.add(
                    line,
                    where,
                    None,
                    f"{len(cells)} cells, but the header has {len(names)} columns "
                    f"(a '{delimiter}' inside a value without quotes?)",
                )
                continue
            values = {n: c for n, c in zip(names, cells) if n}
            rows.append(_row(where, values, zone, tz_name, now, default_source, xy, delimiter != ",", line, problems))
    except csv.Error as exc:
        raise ImportRefused(
            gettext(
                "{file_name}: row {value} cannot be read as CSV ({exc}); nothing was imported",
                file_name=file_name,
                value=line + 1,
                exc=exc,
            )
        ) from None
    return rows, crs, ignored


def _geojson_rows(
    text: str, file_name: str, crs: str | None, default_source: str | None, zone, tz_name, now, problems: _Problems
) -> tuple[list[_Row], str | None, list[str]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            gettext(
                "{file_name}: not valid JSON (line {lineno}, column {colno}: {msg})",
                file_name=file_name,
                lineno=exc.lineno,
                colno=exc.colno,
                msg=exc.msg,
            )
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise ImportRefused(
            gettext(
                "{file_name}: a GeoJSON FeatureCollection is needed, got {value}",
                file_name=file_name,
                value=repr(str(got)[:40]),
            )
        )
    features = doc.get("features")
    if not isinstance(features, list):
        raise ImportRefused(gettext("{file_name}: field features: a list of features is needed", file_name=file_name))
    if len(features) > MAX_ROWS:
        raise FileTooLarge(
            gettext(
                "{file_name}: {n_features:,} features, more than {max_rows:,}, the limit per import: split the file",
                file_name=file_name,
                n_features=len(features),
                max_rows=MAX_ROWS,
            )
        )
    declared = _declared_crs(doc.get("crs"), file_name)
    if declared and crs and not _same_crs(declared, crs):
        raise ImportRefused(
            gettext(
                "{file_name}: the file declares crs {declared} but {crs} was given",
                file_name=file_name,
                declared=declared,
                crs=crs,
            )
        )
    crs = crs or declared
    if crs is not None and _is_wgs84(crs):
        crs = None  # lon, lat as RFC 7946 has them
    if default_source is None and not any(
        isinstance(f, dict)
        and isinstance(f.get("properties"), dict)
        and any(str(k).lower() == "source" for k in f["properties"])
        for f in features
    ):
        raise ImportRefused(
            gettext(
                "{file_name}: no source: give the file's source (e.g. 'Police municipale') or a source property",
                file_name=file_name,
            )
        )
    rows, ignored = [], set()
    for n, feature in enumerate(features, start=1):
        where = f"feature {n}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.add(n, where, None, "not a GeoJSON Feature")
            continue
        geometry = feature.get("geometry")
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems.add(n, where, "properties", "must be an object")
            continue
        values = {str(k).lower(): v for k, v in props.items()}
        ignored |= {k for k in values if k not in KNOWN}
        xy: tuple = ()  # a refused geometry: its other fields are still checked
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            got = geometry.get("type") if isinstance(geometry, dict) else geometry
            problems.add(n, where, "geometry", f"a Point is needed, got {json.dumps(got)[:40]}")
        else:
            coords = geometry.get("coordinates")
            if not isinstance(coords, list) or len(coords) < 2:
                problems.add(n, where, "coordinates", f"[x, y] is needed, got {json.dumps(coords)[:40]}")
            else:
                values["x"], values["y"] = coords[0], coords[1]
                xy = (("x", "coordinates[0]"), ("y", "coordinates[1]"))
        rows.append(_row(where, values, zone, tz_name, now, default_source, xy, False, n, problems))
    return rows, crs, sorted(ignored)


def _declared_crs(member, file_name: str) -> str | None:
    """The 2008 GeoJSON `crs` member ({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}})."""
    if member is None:
        return None
    name = (
        member.get("properties", {}).get("name")
        if isinstance(member, dict) and isinstance(member.get("properties"), dict)
        else None
    )
    if not isinstance(name, str) or not name.strip():
        raise ImportRefused(
            gettext(
                '{file_name}: field crs: a named CRS is needed ({{"type": "name", "properties": {{"name": "EPSG:2154"}}}})',
                file_name=file_name,
            )
        )
    return name.strip()


# --- coordinates ------------------------------------------------------------------------------------------------
def _crs(crs: str):
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if len(crs) > 200:
        raise ImportRefused(gettext("crs: {n_crs} characters is not a CRS name (e.g. EPSG:2154)", n_crs=len(crs)))
    try:
        return CRS.from_user_input(crs)
    except CRSError:
        raise ImportRefused(
            gettext(
                "crs {value} is not a coordinate reference system pyproj knows (e.g. EPSG:2154 for Lambert-93)",
                value=repr(crs[:60]),
            )
        ) from None


def _is_wgs84(crs: str) -> bool:
    c = _crs(crs)
    return c.to_epsg() == 4326 or c.equals("OGC:CRS84")


def _same_crs(a: str, b: str) -> bool:
    return _crs(a).equals(_crs(b))


def check_crs(crs: str | None) -> str | None:
    """The CRS as given, once pyproj knows it (None stays None); raises ImportRefused naming it."""
    if crs is not None and crs.strip():
        _crs(crs.strip())
        return crs.strip()
    return None


def _to_wgs84(rows: list[_Row], crs: str | None, problems: _Problems) -> list[tuple[float, float]]:
    """(lat, lon) of every row, the rows whose coordinates are unusable named in `problems`."""
    out: list[tuple[float, float]] = [(math.nan, math.nan)] * len(rows)
    usable = [i for i, r in enumerate(rows) if r.x is not None and r.y is not None]
    if crs is None:
        for i in usable:
            r = rows[i]
            lon, lat = r.x, r.y
            bad = [
                (f, word, v, lim)
                for f, word, v, lim in (("lat", "latitude", lat, 90), ("lon", "longitude", lon, 180))
                if not -lim <= v <= lim
            ]
            for f, word, v, lim in bad:
                field = f if r.where.startswith("row") else "coordinates"
                problems.add(r.order, r.where, field, f"{word} {v:g} is outside -{lim}..{lim} (WGS 84 degrees)")
            if not bad and lat == 0 and lon == 0:
                # What a geocoder writes when it found nothing: one such point stretches every map and grid
                # across the Atlantic, so it is named as missing rather than stored.
                field = "lat" if r.where.startswith("row") else "coordinates"
                problems.add(
                    r.order,
                    r.where,
                    field,
                    "position 0, 0 (off the coast of Africa) is a missing position, "
                    "not a place: leave the row out or give its position",
                )
            elif not bad:
                out[i] = (lat, lon)
        return out
    import numpy as np
    from pyproj import Transformer

    source = _crs(crs)
    transformer = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    xs = np.array([rows[i].x for i in usable], dtype=float)
    ys = np.array([rows[i].y for i in usable], dtype=float)
    lons, lats = transformer.transform(xs, ys, errcheck=False) if len(usable) else (xs, ys)
    area = source.area_of_use
    margin = 0.5  # degrees: a point just over a border is still in the city
    for i, lon, lat in zip(usable, np.atleast_1d(lons), np.atleast_1d(lats)):
        r = rows[i]
        field = "x/y" if r.where.startswith("row") else "coordinates"
        lon, lat = float(lon), float(lat)
        inside = math.isfinite(lon) and math.isfinite(lat) and -90 <= lat <= 90 and -180 <= lon <= 180
        if inside and area is not None:
            inside = (
                area.south - margin <= lat <= area.north + margin and area.west - margin <= lon <= area.east + margin
            )
        if not inside:
            where = f" ({area.name})" if area is not None else ""
            problems.add(r.order, r.where, field, f"({r.x:g}, {r.y:g}) is outside the area {crs} covers{where}")
        else:
            out[i] = (lat, lon)
    return out


# --- the import ----------------------------------------------------------------------------------------------------
def _read(path_or_bytes: str | Path | bytes, file_name: str) -> bytes:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    else:
        path = Path(path_or_bytes)
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise FileTooLarge(
                    gettext(
                        "{file_name}: {size:,} bytes, above the limit of {max_bytes:,} bytes (20 MiB) per import: split the file",
                        file_name=file_name,
                        size=size,
                        max_bytes=MAX_BYTES,
                    )
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImportRefused(gettext("file {path} does not exist", path=path)) from None
        except IsADirectoryError:
            raise ImportRefused(gettext("{path} is a folder, not a file", path=path)) from None
        except OSError as exc:
            raise ImportRefused(
                gettext("file {path} cannot be read: {value}", path=path, value=exc.strerror or exc)
            ) from None
    if len(data) > MAX_BYTES:
        raise FileTooLarge(
            gettext(
                "{file_name}: {n_data:,} bytes, above the limit of {max_bytes:,} bytes (20 MiB) per import: split the file",
                file_name=file_name,
                n_data=len(data),
                max_bytes=MAX_BYTES,
            )
        )
    return data


def _earlier(conn, sha: str) -> dict | None:
    row = conn.execute("SELECT id, file_name, imported_at FROM incident_imports WHERE sha256 = ?", (sha,)).fetchone()
    return dict(zip(("id", "file_name", "imported_at"), row)) if row else None


def _already(file_name: str, earlier: dict) -> AlreadyImported:
    return AlreadyImported(
        f"{file_name}: this file was already imported as import {earlier['id']} on {earlier['imported_at'][:19]}Z "
        f"({earlier['file_name']}, same SHA-256): remove that import first to import it again",
        earlier["id"],
    )


def import_file(
    store,
    path_or_bytes: str | Path | bytes,
    *,
    file_name: str,
    source: str | None,
    crs: str | None,
    timezone: str,
    user: str,
    role: str,
) -> dict:
    """Check every row of the file, then store all of it (and audit it) in one transaction, or raise
    ImportRefused (FileTooLarge, AlreadyImported) naming every problem, having stored nothing."""
    name = plain_name(file_name)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportRefused(
            gettext("unknown IANA time zone {timezone} (e.g. Europe/Paris)", timezone=repr(timezone))
        ) from None
    source_text, p = _text(source, False)
    if p:
        raise ImportRefused(gettext("source: {p}", p=p))
    crs = check_crs(crs)
    data = _read(path_or_bytes, name)
    if not data.strip():
        raise ImportRefused(gettext("{name}: the file is empty", name=name))
    sha = hashlib.sha256(data).hexdigest()
    with store.read() as conn:  # said before any row is read; checked again when writing (two imports at once)
        earlier = _earlier(conn, sha)
    if earlier:
        raise _already(name, earlier)
    text = _decode(data, name)
    if not text.strip():
        raise ImportRefused(gettext("{name}: the file is empty", name=name))
    fmt = _format(name, text)
    problems = _Problems()
    now = datetime.now(UTC)
    reader = _csv_rows if fmt == "csv" else _geojson_rows
    rows, coord_crs, ignored = reader(text, name, crs, source_text, zone, timezone, now, problems)
    if not rows and not problems.items:
        raise ImportRefused(
            f"{name}: the file is empty: " + ("a header but no rows" if fmt == "csv" else "no features")
        )
    positions = _to_wgs84(rows, coord_crs, problems)
    problems.refuse(name)

    records = [
        (r.ref, iso(r.occurred_at), r.category, lat, lon, r.commune, r.source) for r, (lat, lon) in zip(rows, positions)
    ]
    imported_at = now_iso()
    file_crs = crs or (WGS84 if coord_crs is None else coord_crs)

    def write(conn):
        conn.execute("BEGIN IMMEDIATE")  # the duplicate check and the insert under one write lock
        again = _earlier(conn, sha)
        if again:
            raise _already(name, again)
        cur = conn.execute(
            "INSERT INTO incident_imports"
            " (file_name, sha256, format, source, crs, imported_at, imported_by, rows, timezone)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (name, sha, fmt, source_text, file_crs, imported_at, user, len(records), timezone),
        )
        import_id = cur.lastrowid
        conn.executemany(
            "INSERT INTO incidents (import_id, ref, occurred_at, category, lat, lon, commune, source)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [(import_id, *r) for r in records],
        )
        append_in(
            conn,
            user,
            role,
            "incidents_import",
            details={
                "import_id": import_id,
                "file_name": name,
                "sha256": sha,
                "rows": len(records),
                "format": fmt,
                "source": source_text,
                "crs": file_crs,
            },
        )
        return import_id

    import_id = store.write(write).result()
    categories: dict[str, int] = {}
    for r in rows:
        categories[r.category] = categories.get(r.category, 0) + 1
    times = [r.occurred_at for r in rows]
    return {
        "id": import_id,
        "file_name": name,
        "sha256": sha,
        "format": fmt,
        "source": source_text,
        "crs": file_crs,
        "imported_at": imported_at,
        "imported_by": user,
        "rows": len(records),
        "categories": dict(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        "period": {"from": iso(min(times)), "to": iso(max(times))},
        "local_times": sum(r.local for r in rows),
        "timezone": timezone,
        "ignored_columns": ignored,
    }


def list_imports(store) -> list[dict]:
    """Every import, newest first, with its rows still stored."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT i.*, (SELECT count(*) FROM incidents n WHERE n.import_id = i.id) AS stored,"
            " (SELECT min(occurred_at) FROM incidents n WHERE n.import_id = i.id) AS first,"
            " (SELECT max(occurred_at) FROM incidents n WHERE n.import_id = i.id) AS last"
            " FROM incident_imports i ORDER BY i.id DESC"
        ).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["period"] = {"from": d.pop("first"), "to": d.pop("last")}
        out.append(d)
    return out


def remove_import(store, import_id: int, user: str, role: str) -> dict:
    """Delete an import and its rows, audited in the same transaction; ImportNotFound when there is none."""

    def write(conn):
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT * FROM incident_imports WHERE id = ?", (import_id,)).fetchone()
        if row is None:
            raise ImportNotFound(
                gettext("no incident import has id {import_id} (vigie incidents list)", import_id=import_id)
            )
        gone = dict(row)
        removed = conn.execute("DELETE FROM incidents WHERE import_id = ?", (import_id,)).rowcount
        conn.execute("DELETE FROM incident_imports WHERE id = ?", (import_id,))
        append_in(
            conn,
            user,
            role,
            "incidents_remove",
            details={"import_id": import_id, "file_name": gone["file_name"], "sha256": gone["sha256"], "rows": removed},
        )
        return {**gone, "removed_rows": removed}

    return store.write(write).result()
