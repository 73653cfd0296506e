"""Times as people say them, read in the site's time zone: the grammar that the plain-words search
(vigie.search.text) and every time field (the API, the CLI's --from/--to, the pages) share.

`read_period("hier 14h-15h", now=..., zone=ZoneInfo("Europe/Paris"))` -> a Period in UTC. What it reads:
"14:00 ± 15 min", "14h" (14:00 ± 15 min), "hier 14h-15h", "aujourd'hui 9:30", "il y a 2 h" / "2 hours ago",
"dernière heure" / "last hour", "depuis 14h", "entre 13h et 14h", full dates "06/12/2026 14:00", the
readback "du 06/12/2026 13:45 au 06/12/2026 14:15 (heure de Paris)", and ISO 8601 ("2026-12-06T13:00:00Z").
A time with no day that would start after `now` is the day before (a witness speaks of the past).
Words it does not read make an error that names them: a time field is not a search, nothing is guessed.

`local_text(t, zone)` writes a time the way the pages do: "06/12/2026 14:05 (heure de Paris)".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import UTC, parse_time

_MONTHS = {
    m: n + 1
    for n, names in enumerate(
        zip(
            "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
            "january february march april may june july august september october november december".split(),
            "janv févr mars avr mai juin juil août sept oct nov déc".split(),
            "jan feb mar apr may jun jul aug sep oct nov dec".split(),
        )
    )
    for m in {unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in names}
}
_NUMBER_WORDS = dict(
    zip(
        "un une deux trois quatre cinq six sept huit neuf dix onze douze quinze vingt trente quarante cinquante "
        "a an one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty".split(),
        [1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 40, 50]
        + [1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 40, 50],
    )
)
_UNITS = {"min": 60, "mn": 60, "mins": 60, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}
_UNITS |= {"hr": 3600, "hrs": 3600, "jour": 86400, "jours": 86400, "day": 86400, "days": 86400}
_FR_HOURS = {"h", "heure", "heures"}  # "à 14 heures" is a time, "depuis 2 heures" a duration
_LAST = {"dernieres", "derniers", "derniere", "dernier", "last", "past"}
_PARTS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}

# --- word tables: the time words of vigie.search.text's tables, shared -------------------------------------
TIME_FR: list[tuple[tuple, str]] = [
    (("day", 0), "aujourd'hui|ce jour"),
    (("day", -1), "hier"),
    (("day", -2), "avant hier"),
    *((("weekday", n, False), w) for n, w in enumerate("lundi mardi mercredi jeudi vendredi samedi dimanche".split())),
    *(
        (("weekday", n, True), f"{w} dernier")
        for n, w in enumerate("lundi mardi mercredi jeudi vendredi samedi dimanche".split())
    ),
    (("part", "morning"), "matin|matinée|ce matin"),
    (("part", "afternoon"), "après midi|cet après midi"),
    (("part", "evening"), "soir|soirée|ce soir"),
    (("part", "night"), "nuit|cette nuit|la nuit dernière"),
    (("between",), "entre"),
    (("since",), "depuis"),
    (("before",), "avant|jusqu'à|jusqu'au"),
    (("after",), "après|à partir de"),
    (("around",), "environ|autour de|aux alentours de|à peu près"),
    (("ago",), "il y a"),
    (("last",), "dernier|dernière|derniers|dernières"),
    (("pm",), "±|plus ou moins"),
    (("duration", 3600, True), "la dernière heure|dernière heure"),
    (("duration", 1800, True), "la dernière demi heure|dernière demi heure"),
    (("duration", 1800, False), "une demi heure|demi heure"),
]
TIME_EN: list[tuple[tuple, str]] = [
    (("day", 0), "today"),
    (("day", -1), "yesterday"),
    (("day", -2), "the day before yesterday|day before yesterday"),
    *(
        (("weekday", n, False), w)
        for n, w in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())
    ),
    *(
        (("weekday", n, True), f"last {w}")
        for n, w in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())
    ),
    (("part", "morning"), "morning|this morning"),
    (("part", "afternoon"), "afternoon|this afternoon"),
    (("part", "evening"), "evening|this evening|tonight"),
    (("part", "night"), "night|last night|overnight"),
    (("between",), "between"),
    (("since",), "since"),
    (("before",), "before"),
    (("after",), "after"),
    (("around",), "around|about|approximately|roughly"),
    (("ago",), "ago"),
    (("last",), "last|past|the last|the past|over the last|in the last|during the last|for the last|in the past"),
    (("pm",), "plus or minus|give or take"),
    (("duration", 3600, True), "the last hour|last hour|the past hour|past hour"),
    (("duration", 1800, True), "the last half hour|last half hour|the past half hour"),
    (("duration", 1800, False), "half an hour|half hour"),
]
# The joining words a time needs ("de 13h à 14h", "vers 14h"); the search's tables have their own, as
# they also join colours and places.
_JOIN_FR: list[tuple[tuple, str]] = [
    (("around",), "vers|vers les|aux alentours de"),
    (("and",), "et"),
    (("at",), "à|au|a|le"),
    (("from",), "de|du|d'"),
    (("det",), "la|l'"),
]
_JOIN_EN: list[tuple[tuple, str]] = [
    (("at",), "at|at around|at about|on"),
    (("from",), "from"),
    (("and",), "and"),
    (("join",), "to|till|until"),
    (("det",), "the"),
]

_TOKENS = re.compile(
    r"(?P<date>\d{1,2}/\d{1,2}(?:/\d{2,4})?)(?!\d)"
    r"|(?P<height>\d[.,]?m\s?\d{2}|\d[.,]\d{2}\s?m)(?!\w)"
    r"|(?P<clock>\d{1,2}(?:[:h]\d{2}|h)(?:\s?[ap]\.?m\b\.?)?(?!\w)|\d{1,2}\s?[ap]\.?m\b\.?)"
    r"|(?P<num>\d+)(?:(?:er|re|e|eme|ème|st|nd|rd|th)(?!\w))?"
    r"|(?P<word>(?:aujourd|quelqu)['’]\w+|(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w|$)|[^\W\d_]+)"
    r"|(?P<sep>[,;.!?()\n]|\s-\s)"
    r"|(?P<pm>±|\+/-|\+-)"
    r"|(?P<slash>/)",
    re.IGNORECASE,
)


class Tok(NamedTuple):
    key: str  # folded: lower case, no accents
    kind: str  # the _TOKENS group
    start: int
    end: int


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def tokens(text: str) -> list[Tok]:
    out = []
    for m in _TOKENS.finditer(text):
        kind = m.lastgroup
        key = fold(m.group(kind))
        if kind == "clock":
            key = key.replace(" ", "").replace(".", "")
        elif kind == "pm":
            key = "±"
        elif kind == "slash":
            key = "ou"
        elif kind == "sep":
            key = ","
        out.append(Tok(key, kind, m.start(kind), m.end(kind)))
    return out


def _number(key: str) -> int | None:
    return int(key) if key.isdigit() else _NUMBER_WORDS.get(key)


def clock_of(key: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d{1,2})(?:[:h](\d{2})?)?(am|pm)?", key)
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3) == "pm" and h < 12:
        h += 12
    elif m.group(3) == "am" and h == 12:
        h = 0
    return (h, mi) if (h < 24 and mi < 60) or (h == 24 and mi == 0) else None


def date_of(day: int, month: int, year: int | None) -> tuple | None:
    if year is not None and year < 100:
        year += 2000
    try:
        date(year or 2000, month, day)  # 2000: a leap year, so 29/2 passes until the year is known
    except ValueError:
        return None
    return ("date", day, month, year)


def time_numeric(toks: list[Tok], i: int) -> tuple[int, tuple] | None:
    """A clock time, a duration or a date at toks[i]: (tokens used, item value) or None."""
    keys = [t.key for t in toks[i : i + 5]] + [""] * 5
    kind = toks[i].kind
    if kind == "clock":
        c = clock_of(keys[0])
        return (1, ("clock", *c)) if c else None
    if kind == "date":
        parts = [int(p) for p in keys[0].split("/")]
        d = date_of(parts[0], parts[1], parts[2] if len(parts) > 2 else None)
        return (1, d) if d else None
    if keys[0] in ("midi", "noon"):
        return 1, ("clock", 12, 0)
    if keys[0] in ("minuit", "midnight"):
        return 1, ("clock", 0, 0)
    if keys[0] in _MONTHS and keys[1].isdigit():  # December 3 (2025)
        year = int(keys[2]) if keys[2].isdigit() and len(keys[2]) == 4 else None
        d = date_of(int(keys[1]), _MONTHS[keys[0]], year)
        return (3 if year else 2, d) if d else None
    n = _number(keys[0])
    if n is None or (kind != "num" and keys[1] not in _UNITS.keys() | _FR_HOURS | _LAST):
        return None
    if kind == "num" and keys[1] in _MONTHS:  # 3 décembre (2025)
        year = int(keys[2]) if keys[2].isdigit() and len(keys[2]) == 4 else None
        d = date_of(n, _MONTHS[keys[1]], year)
        return (3 if year else 2, d) if d else None
    last = keys[1] in _LAST
    unit = keys[2] if last else keys[1]
    used = 3 if last else 2
    if unit in _FR_HOURS and not last:  # 14 h 30, 14 heures, depuis 2 heures: decided by the words around it
        minutes = int(keys[2]) if keys[2].isdigit() and int(keys[2]) < 60 and toks[i + 2].kind == "num" else 0
        return (3 if minutes else 2), ("hclock", n, minutes)
    seconds = _UNITS.get(unit) or (3600 if unit in _FR_HOURS else None)
    if seconds:
        return used, ("duration", n * seconds, last)
    if kind == "num" and keys[1] == "o" and keys[2] == "clock":
        c = clock_of(keys[0] + "h")
        return (3, ("clock", *c)) if c else None
    return None


# --- when: items -> a UTC window ----------------------------------------------------------------
def time_window(items: list, now: datetime, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """Mark the items that say when, and return the UTC window they say (None: no time given)."""
    day: date | None = None
    part: str | None = None
    window: tuple | None = None
    since_day = False
    now_local = now.astimezone(zone).replace(tzinfo=None)
    today = now_local.date()

    def kind(j: int) -> str:
        return items[j].kind if 0 <= j < len(items) and not items[j].used else ""

    def use(*js: int) -> None:
        for j in js:
            items[j].used = True

    for j, it in enumerate(items):
        if it.used:
            continue
        k = it.kind
        if k == "hclock" and (kind(j - 1) in ("since", "last", "ago") or kind(j + 1) == "ago"):
            it.kind, it.value, k = "duration", (it.value[0] * 3600 + it.value[1] * 60, False), "duration"
        if k in ("clock", "hclock") and window is None:
            c = it.value
            if (
                kind(j - 1) in ("between", "from")
                and kind(j + 1) in ("and", "at", "join")
                and kind(j + 2)
                in (
                    "clock",
                    "hclock",
                )
            ):
                window = ("range", c, items[j + 2].value)
                use(j - 1, j, j + 1, j + 2)
            elif kind(j + 1) in ("clock", "hclock"):
                window = ("range", c, items[j + 1].value)
                use(j, j + 1)
            elif kind(j - 1) in ("before", "after", "since"):
                window = (kind(j - 1), c)
                use(j - 1, j)
            else:
                margin = 15 * 60
                if kind(j + 1) == "pm" and kind(j + 2) == "duration":
                    margin = items[j + 2].value[0]
                    use(j + 1, j + 2)
                window = ("around", c, margin)
                use(j, *([j - 1] if kind(j - 1) in ("at", "around", "towards") else []))
        elif k == "duration" and window is None:
            if kind(j - 1) in ("since", "last") or it.value[1]:
                window = ("relative", it.value[0])
                use(j, *([j - 1] if kind(j - 1) in ("since", "last") else []))
            elif kind(j + 1) == "ago" or kind(j - 1) == "ago":
                window = ("ago", it.value[0])
                use(j, j + 1 if kind(j + 1) == "ago" else j - 1)
        elif k in ("date", "day", "weekday") and day is None:
            if k == "day":
                day = today + timedelta(days=it.value[0])
            elif k == "weekday":
                back = (today.weekday() - it.value[0]) % 7
                day = today - timedelta(days=back or (7 if it.value[1] else 0))
            else:
                d, m, y = it.value
                if y is None:  # the last such day up to today
                    y = today.year if (m, d) <= (today.month, today.day) else today.year - 1
                try:
                    day = date(y, m, d)
                except ValueError:  # 29/2 of a year without it
                    continue
            use(j)
            if kind(j - 1) == "since":
                since_day = True
                use(j - 1)
        elif k == "part" and part is None:
            part = it.value[0]
            use(j)
            if kind(j - 1) == "since":  # depuis ce matin: from the start of the morning until now
                since_day = True
                use(j - 1)

    def at(base: date, c: tuple[int, int]) -> datetime:
        h, m = c
        if part in ("afternoon", "evening") and h < 12:  # "8h du soir"
            h += 12
        return datetime.combine(base, time()) + timedelta(hours=h, minutes=m)

    def utc(t: datetime) -> datetime:
        return t.replace(tzinfo=zone).astimezone(UTC)  # fold=0: skipped hours read with the old offset

    base = day or today
    midnight = datetime.combine(base, time())
    if window and window[0] in ("relative", "ago"):
        back = now - timedelta(seconds=window[1])
        return (back, now) if window[0] == "relative" else (back - timedelta(minutes=15), back + timedelta(minutes=15))
    if window:
        if window[0] == "range":
            s, e = at(base, window[1]), at(base, window[2])
            e += timedelta(days=1) if e <= s else timedelta()
        elif window[0] == "around":
            t = at(base, window[1])
            s, e = t - timedelta(seconds=window[2]), t + timedelta(seconds=window[2])
        elif window[0] == "before":
            s, e = midnight, at(base, window[1])
            e += timedelta(days=1) if e <= s else timedelta()
        elif window[0] == "after":
            s, e = at(base, window[1]), midnight + timedelta(days=1)
        else:  # since a time
            s = at(base, window[1])
            if day is None and utc(s) > now:
                s -= timedelta(days=1)
            return utc(s), now
        if day is None and utc(s) > now:  # a witness speaks of the past
            s, e = s - timedelta(days=1), e - timedelta(days=1)
        return utc(s), utc(e)
    if since_day:
        first = (-2 if part == "night" else _PARTS[part][0]) if part else 0
        return utc(midnight + timedelta(hours=first)), now
    if part == "night":
        return utc(midnight - timedelta(hours=2)), utc(midnight + timedelta(hours=6))
    if part:
        first, last = _PARTS[part]
        return utc(midnight + timedelta(hours=first)), utc(midnight + timedelta(hours=last))
    if day:
        return utc(midnight), utc(midnight + timedelta(days=1))
    return None


# --- readback in the text's language ---------------------------------------------------------------
def zone_words(zone: tzinfo, lang: str) -> str:
    key = getattr(zone, "key", None) or str(zone)
    if key in ("UTC", "Etc/UTC", "UTC+00:00"):
        return "UTC"
    city = key.rsplit("/", 1)[-1].replace("_", " ")
    return f"heure de {city}" if lang == "fr" else f"{city} time"


def time_line(start: datetime, end: datetime, zone: tzinfo, lang: str) -> str:
    s, e = start.astimezone(zone), end.astimezone(zone)
    fmt = "%d/%m/%Y" if lang == "fr" else "%Y-%m-%d"
    zone_name = zone_words(zone, lang)
    same_day = e.date() == s.date() or (e.date() == s.date() + timedelta(days=1) and e.time() == time())
    if same_day:
        end_clock = "24:00" if e.date() != s.date() else e.strftime("%H:%M")
        if lang == "fr":
            return f"le {s.strftime(fmt)} entre {s.strftime('%H:%M')} et {end_clock} ({zone_name})"
        return f"on {s.strftime(fmt)} between {s.strftime('%H:%M')} and {end_clock} ({zone_name})"
    a, b = s.strftime(fmt + " %H:%M"), e.strftime(fmt + " %H:%M")
    return f"du {a} au {b} ({zone_name})" if lang == "fr" else f"from {a} to {b} ({zone_name})"


# --- time fields: one reader, one writer ----------------------------------------------------------------
class TimeNotUnderstood(VigieError):
    """A time field's text that the grammar above does not read; the message names the words."""


@dataclass(frozen=True)
class Period:
    """What a time field was read as: a UTC window, and the instant named where the text named one
    ("14h", "il y a 2 h", "06/12/2026 14:00": a --from or --to takes it rather than the window's edge)."""

    start: datetime
    end: datetime
    at: datetime | None = None


@dataclass
class _Said:  # an item as time_window reads it
    kind: str
    value: tuple
    words: str
    used: bool = False


def _lexicon(spec: list[tuple[tuple, str]]) -> dict[tuple[str, ...], tuple]:
    table: dict[tuple[str, ...], tuple] = {}
    for entry, phrases in spec:
        for phrase in phrases.split("|"):
            table.setdefault(tuple(t.key for t in tokens(phrase)), entry)
    return table


_TIME_LEX = _lexicon(_JOIN_FR + TIME_FR) | _lexicon(_JOIN_EN + TIME_EN)
_TIME_LONGEST = max(len(k) for k in _TIME_LEX)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?")
_LABEL = re.compile(r"\(([^()]*)\)\s*$")


def zone_city(zone: tzinfo) -> str:
    """'Europe/Paris' -> 'Paris', 'America/New_York' -> 'New York'; UTC -> 'UTC'."""
    key = getattr(zone, "key", None) or str(zone)
    return "UTC" if key in ("UTC", "Etc/UTC", "UTC+00:00") else key.rsplit("/", 1)[-1].replace("_", " ")


def zone_label(zone: tzinfo) -> str:
    """The label a local time carries, in the language of the moment: "Paris time" / "heure de Paris"."""
    city = zone_city(zone)
    return "UTC" if city == "UTC" else _("{city} time", city=city)


def local_text(t: datetime, zone: tzinfo, seconds: bool = False) -> str:
    """06/12/2026 14:05 (Paris time): dd/mm/yyyy 24 h, whatever the language (as the pages write it)."""
    local = t.astimezone(zone)
    return _(
        "{time} ({zone})", time=local.strftime("%d/%m/%Y %H:%M" + (":%S" if seconds else "")), zone=zone_label(zone)
    )


def period_text(start: datetime, end: datetime, zone: tzinfo) -> str:
    """A window read back for the person who typed it: "from 06/12/2026 13:45 to 06/12/2026 14:15 (Paris time)"."""
    s, e = start.astimezone(zone), end.astimezone(zone)
    return _(
        "from {start} to {end} ({zone})",
        start=s.strftime("%d/%m/%Y %H:%M"),
        end=e.strftime("%d/%m/%Y %H:%M"),
        zone=zone_label(zone),
    )


def _labelled_zone(text: str, zone: tzinfo) -> tuple[str, tzinfo]:
    """A trailing "(heure de Paris)", "(Paris time)" or "(UTC)" says which zone the text is in."""
    m = _LABEL.search(text)
    if not m:
        return text, zone
    said = fold(m.group(1)).strip()
    if said in ("utc", "tu", "gmt"):
        return text[: m.start()], UTC
    city = fold(zone_city(zone))
    if said in (f"heure de {city}", f"{city} time", city, fold(zone_label(zone))):
        return text[: m.start()], zone
    raise TimeNotUnderstood(_("Time zone not understood: \u201c{words}\u201d.", words=m.group(1).strip()))


def read_period(text: str, *, now: datetime, zone: tzinfo) -> Period:
    """A time field's text (see the module docstring) as a UTC Period; TimeNotUnderstood names what was not read.

    now: an aware datetime ("hier", "il y a 2 h" count from it); zone: the site's time zone, that of the
    times written (a trailing "(UTC)" says otherwise)."""
    try:
        return _read_period(text, now, zone)
    except (OverflowError, ValueError):  # a date at the edge of the calendar (31/12/9999 23:00 + 15 min)
        raise TimeNotUnderstood(_("Time outside the calendar: “{text}”.", text=" ".join(text.split())[:80])) from None


def _read_period(text: str, now: datetime, zone: tzinfo) -> Period:
    shown = " ".join(text.split())
    if not shown:
        raise TimeNotUnderstood(_("The time is empty: write for example 14:00, yesterday 14h-15h or 06/12/2026 14:00."))
    body, zone = _labelled_zone(shown, zone)
    if _ISO.fullmatch(body.strip()):
        t = parse_time(body.strip(), "", naive=zone, error=TimeNotUnderstood)
        return Period(t, t, t)
    toks = tokens(re.sub(r"\s*[-–]\s*", "-", body))  # "13:00 - 14:00" is a range, as "13:00-14:00"
    items: list[_Said] = []
    i = 0
    while i < len(toks):
        n, value = 1, None
        if toks[i].kind == "sep" and toks[i].key == ",":
            n, value = 1, ("sep",)
        elif hit := time_numeric(toks, i):
            n, value = hit
        else:
            for size in range(min(_TIME_LONGEST, len(toks) - i), 0, -1):
                if entry := _TIME_LEX.get(tuple(t.key for t in toks[i : i + size])):
                    n, value = size, entry
                    break
        words = re.sub(r"\s*[-–]\s*", "-", body)[toks[i].start : toks[i + n - 1].end]
        if value is None:
            raise TimeNotUnderstood(
                _("Time not understood: \u201c{words}\u201d in \u201c{text}\u201d.", words=words, text=shown)
            )
        items.append(_Said(value[0], value[1:], words))
        i += n
    stamps = _two_stamps(items, zone)
    if stamps:
        return Period(*stamps)
    window = time_window(items, now, zone)
    left = [it.words for it in items if not it.used and it.kind not in ("sep", "det", "at", "from", "and", "join")]
    if window is None or left:
        words = ", ".join(f"\u201c{w}\u201d" for w in left) or f"\u201c{shown}\u201d"
        raise TimeNotUnderstood(
            _("Time not understood: {words} (write for example 14:00 or 06/12/2026 14:00).", words=words)
        )
    return Period(*window, _instant(items, window, now))


def _instant(items: list[_Said], window: tuple[datetime, datetime], now: datetime) -> datetime | None:
    """The instant a text named: one clock time with no range ("14h", "9:30": the window's middle),
    "il y a 2 h" (likewise), or "dernière heure" / "depuis 14h" (None: a window that ends now)."""
    clocks = [it for it in items if it.kind in ("clock", "hclock")]
    ranged = any(it.kind in ("between", "before", "after", "since") for it in items) or len(clocks) > 1
    if window[1] == now or ranged:
        return None
    if clocks or any(it.kind == "ago" for it in items):
        return window[0] + (window[1] - window[0]) / 2
    return None


def _two_stamps(items: list[_Said], zone: tzinfo) -> tuple[datetime, datetime] | None:
    """ "du 06/12/2026 13:45 au 06/12/2026 14:15": two full dates with their times (the readback)."""
    stamps = []
    for j, it in enumerate(items[:-1]):
        nxt = items[j + 1]
        if it.kind == "date" and it.value[2] is not None and nxt.kind in ("clock", "hclock"):
            d, m, y = it.value
            stamps.append(datetime(y, m, d, nxt.value[0] % 24, nxt.value[1]) + timedelta(days=nxt.value[0] // 24))
    if len(stamps) != 2 or stamps[1] < stamps[0]:
        return None
    for it in items:
        it.used = True
    return tuple(s.replace(tzinfo=zone).astimezone(UTC) for s in stamps)  # type: ignore[return-value]


def site_zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def flag_instant(
    text: str, flag: str, *, zone: tzinfo, edge: str, iso_naive: tzinfo | None = UTC, now: datetime | None = None
) -> datetime:
    """A --from/--to value as one UTC instant. ISO 8601 ("2026-12-06T13:00:00Z") reads as it always has
    (a time without an offset is in `iso_naive`, None: refused); anything else is a phrase in the site's
    `zone`: the instant it names ("14h", "06/12/2026 14:00"), or its window's start or end (edge) for a
    range ("hier 14h-15h", "dernière heure"). The error names the flag."""
    if re.match(r"\s*\d{4}-\d{2}-\d{2}", text):
        return parse_time(text, flag, naive=iso_naive)
    try:
        period = read_period(text, now=now or datetime.now(UTC), zone=zone)
    except TimeNotUnderstood as exc:
        raise TimeNotUnderstood(_("{flag}: {problem}", flag=flag, problem=str(exc))) from None
    return period.at or (period.start if edge == "start" else period.end)
