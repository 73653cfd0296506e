"""Vigie's one clock: how times are stored, and how times that people and files give are read.

Stored: UTC, ISO 8601 with microseconds and 'Z' (`iso`), which sorts as text in time order;
`from_iso` reads it back.

Read (`parse_time`): ISO 8601 text; a 'Z' or an offset says the zone. A time without either
is in the zone the caller names: UTC where nothing else is known (the API, the CLI's period
flags, holds, audit filters), the site's zone where a person of the site typed it, or refused
where a wrong guess would shift a whole recording (`vigie analyze --recording-start`).
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from vigie.errors import VigieError

UTC = timezone.utc
EXAMPLE = "e.g. 2026-11-20T13:00:00Z"


def iso(t: datetime) -> str:
    """UTC ISO 8601 with microseconds and 'Z': sorts as text in time order."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(datetime.now(UTC))


def from_iso(text: str) -> datetime:
    """A stored time (iso()'s text) back as an aware UTC datetime; a time without an offset is UTC."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def read_iso(value: str, what: str, error: type[Exception] = VigieError) -> datetime:
    """ISO 8601 text as a datetime, aware where the text names a zone ('Z', 'z', an offset), naive where not."""
    text = value.strip()
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise error(_named(what, f"{text[:40]!r} is not an ISO 8601 time ({EXAMPLE})")) from None


def place(
    value: datetime, zone: tzinfo | None, what: str, error: type[Exception] = VigieError, shown: str | None = None
) -> datetime:
    """An aware UTC datetime; a naive one is a wall-clock time in `zone` (None: refused).

    A wall-clock time that never happened (the hour the clocks skip in spring) is refused: it is
    a wrong record, not a guess to make. An hour that happened twice (autumn) is taken the first
    time (fold=0). shown: the value as the person wrote it, for the error.
    """
    shown = shown or value.isoformat()
    if value.tzinfo is None:
        if zone is None:
            raise error(_named(what, f"{shown!r} needs a time zone ({EXAMPLE})"))
        placed = value.replace(tzinfo=zone)
        if zone is not UTC and placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
            raise error(_named(what, f"{shown!r} does not exist in {zone} (the clocks skip that hour): give an offset"))
        value = placed
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise error(_named(what, f"{shown} is outside the years 1 to 9999 in UTC")) from None


def parse_time(
    value: str | datetime, what: str, naive: tzinfo | None = UTC, error: type[Exception] = VigieError
) -> datetime:
    """A time someone gave, as an aware UTC datetime.

    value: ISO 8601 text (or a datetime); 'Z', 'z' or an offset says its zone, and a time
    without one is in `naive` (None: refused). what: names the field or flag in the error,
    an `error` whose message says what is wrong with the value.
    """
    shown = value.strip()[:40] if isinstance(value, str) else None
    if isinstance(value, str):
        value = read_iso(value, what, error)
    return place(value, naive, what, error, shown)


def _named(what: str, problem: str) -> str:
    return f"{what} {problem}" if what else problem
