"""The crime map's three layers read from the store as Incidents, each layer kept apart.

- imported: the rows of incident files (vigie.crimemap.importer);
- alerts: video alerts an operator validated, placed at their camera (the
  store's camera register), dated by the alert's start, category = the
  rule's kind (e.g. "gathering"), source = the camera id; alerts still new or
  dismissed are not incidents;
- citizen: citizen reports a moderator accepted (Open311), with a position;
  category = the site's incident_category for the report's service, or the
  service code; merged duplicates are not counted twice.

Filters: a period [start, end), categories, communes (a citizen report has no
commune: a commune filter leaves it out).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from vigie.config import Open311Config
from vigie.crimemap.incidents import LAYERS, CrimeMapError, Incident
from vigie.i18n import N_, _, gettext
from vigie.times import from_iso, iso, place

STATEMENT = N_(
    "This map describes places and times, never people: no individual is scored, profiled or predicted (EU AI Act, art. 5(1)(d)). Hot spots are areas."
)


@dataclass(frozen=True)
class Filters:
    """What a map or an analysis is asked about; empty tuples mean all."""

    layers: tuple[str, ...] = LAYERS
    start: datetime | None = None
    end: datetime | None = None
    categories: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [x for x in self.layers if x not in LAYERS]
        if unknown:
            raise CrimeMapError(
                _("layer {value} is not known; layers: {value2}", value=repr(unknown[0]), value2=", ".join(LAYERS))
            )
        for name, t in (("from", self.start), ("to", self.end)):
            if t is not None:
                place(t, None, f"{name}:", CrimeMapError)  # a time without its zone is refused, naming the field
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise CrimeMapError(
                _("from ({value}) must be before to ({value2})", value=iso(self.start), value2=iso(self.end))
            )

    def as_dict(self) -> dict:
        """For the audit log and the answers: what was asked, times in UTC."""
        return {
            "layers": list(self.layers),
            "from": iso(self.start) if self.start else None,
            "to": iso(self.end) if self.end else None,
            "categories": list(self.categories),
            "communes": list(self.communes),
        }

    def describe(self) -> str:
        """In words, for "no incidents match ..."."""
        parts = [f"layers {', '.join(self.layers)}"]
        if self.start or self.end:
            parts.append(
                f"from {iso(self.start)[:19] + 'Z' if self.start else 'the start'} to "
                f"{iso(self.end)[:19] + 'Z' if self.end else 'now'}"
            )
        if self.categories:
            parts.append(f"categories {', '.join(self.categories)}")
        if self.communes:
            parts.append(f"communes {', '.join(self.communes)}")
        return "; ".join(parts)


def _time_sql(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list]:
    """[start, end) in SQL: every writer stores times with iso(), one spelling that sorts as text in time order."""
    sql, args = "", []
    if start is not None:
        sql += f" AND {column} >= ?"
        args.append(iso(start))
    if end is not None:
        sql += f" AND {column} < ?"
        args.append(iso(end))
    return sql, args


def _imported(conn, f: Filters) -> Iterable[Incident]:
    where, args = _time_sql("n.occurred_at", f.start, f.end)
    # each with its import's time zone: its hours are counted on its own clock (vigie.crimemap.analysis)
    for r in conn.execute(
        "SELECT n.id, n.occurred_at, n.category, n.lat, n.lon, n.commune, n.source, i.timezone"
        " FROM incidents n JOIN incident_imports i ON i.id = n.import_id WHERE 1=1" + where,
        args,
    ):
        yield Incident(
            f"imported:{r[0]}", "imported", from_iso(r[1]), r[2], r[3], r[4], r[5] or "", r[6] or "", r[7] or ""
        )


def _alerts(conn, f: Filters) -> Iterable[Incident]:
    where, args = _time_sql("a.start", f.start, f.end)
    # An alert is an incident once a person confirmed it; it happened where its camera stands.
    for r in conn.execute(
        "SELECT a.id, a.start, a.kind, c.lat, c.lon, c.commune, a.camera_id FROM alerts a"
        " JOIN cameras c ON c.id = a.camera_id WHERE a.status = 'validated'" + where,
        args,
    ):
        yield Incident(f"alerts:{r[0]}", "alerts", from_iso(r[1]), r[2], r[3], r[4], r[5] or "", r[6])


def _citizen(conn, f: Filters, service_categories: dict[str, str]) -> Iterable[Incident]:
    where, args = _time_sql("requested_at", f.start, f.end)
    for r in conn.execute(
        "SELECT id, requested_at, service_code, lat, lon FROM citizen_reports WHERE moderation = 'accepted'"
        " AND lat IS NOT NULL AND lon IS NOT NULL" + where,
        args,
    ):
        yield Incident(
            f"citizen:{r[0]}",
            "citizen",
            from_iso(r[1]),
            service_categories.get(r[2]) or r[2],
            r[3],
            r[4],
            "",
            "open311",
        )


def service_categories(site) -> dict[str, str]:
    """service code -> the citizen layer's category (the service's incident_category, else its code)."""

    services = site.open311.services if site is not None else Open311Config().services
    return {s.code: s.incident_category or s.code for s in services}


def load_incidents(
    store,
    site,
    *,
    layers: Iterable[str] = LAYERS,
    start: datetime | None = None,
    end: datetime | None = None,
    categories: Iterable[str] | None = None,
    communes: Iterable[str] | None = None,
) -> list[Incident]:
    """The incidents of the layers asked for, in [start, end), of those categories and communes, in time order."""
    return load(
        store, site, Filters(tuple(dict.fromkeys(layers)), start, end, tuple(categories or ()), tuple(communes or ()))
    )


def load(store, site, f: Filters) -> list[Incident]:
    out: list[Incident] = []
    with store.read() as conn:
        if "imported" in f.layers:
            out.extend(_imported(conn, f))
        if "alerts" in f.layers:
            out.extend(_alerts(conn, f))
        if "citizen" in f.layers:
            out.extend(_citizen(conn, f, service_categories(site)))
    cats, places = set(f.categories), set(f.communes)
    out = [i for i in out if (not cats or i.category in cats) and (not places or i.commune in places)]
    out.sort(key=lambda i: (i.occurred_at, LAYERS.index(i.layer), i.id))
    return out


def categories_and_counts(incidents: list[Incident]) -> dict:
    """Counts per layer, per category and per layer and category; the categories and communes; the period covered."""
    by_layer = Counter(i.layer for i in incidents)
    by_category = Counter(i.category for i in incidents)
    per: dict[str, Counter] = {layer: Counter() for layer in LAYERS}
    for i in incidents:
        per[i.layer][i.category] += 1
    return {
        "total": len(incidents),
        "by_layer": {layer: by_layer.get(layer, 0) for layer in LAYERS},
        "by_category": dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_layer_category": {layer: dict(sorted(c.items())) for layer, c in per.items()},
        "categories": sorted(by_category),
        "communes": sorted({i.commune for i in incidents if i.commune}),
        "period": (
            {"from": iso(incidents[0].occurred_at), "to": iso(max(i.occurred_at for i in incidents))}
            if incidents
            else None
        ),
    }


def feature_collection(incidents: list[Incident], limit: int | None = None) -> dict:
    """The incidents as GeoJSON points (at most `limit`: the most recent; `truncated` says so)."""
    shown = incidents if limit is None or len(incidents) <= limit else incidents[-limit:]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [i.lon, i.lat]},
                "properties": {
                    "id": i.id,
                    "layer": i.layer,
                    "category": i.category,
                    "occurred_at": iso(i.occurred_at),
                    "commune": i.commune,
                    "source": i.source,
                },
            }
            for i in shown
        ],
        "total": len(incidents),
        "truncated": len(shown) < len(incidents),
        "statement": gettext(STATEMENT),
    }


def report_period(f: Filters, incidents: list[Incident]) -> tuple[datetime, datetime] | None:
    """The report's (start, end) when the filters set one: an open side is closed at the incidents' first or last."""
    if f.start is None and f.end is None or not incidents:
        return None
    return (
        f.start or min(i.occurred_at for i in incidents),
        f.end or max(i.occurred_at for i in incidents) + timedelta(microseconds=1),
    )
