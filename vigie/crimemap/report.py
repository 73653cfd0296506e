"""The printable crime-map report for a security council meeting: one HTML or PDF file.

HTML: one self-contained file (pictures embedded as base64 PNG, print CSS, no
external request). PDF: matplotlib's PdfPages. Both carry the same content:
period and counts, density map, hot-spot map, per-commune counts,
near-repeat table with the Knox test, hour x weekday pattern, methods, the
area-based statement and the data sources. Maps are drawn offline on plain
lon/lat axes (aspect corrected for the latitude) with a scale bar: no tiles.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import tempfile
import textwrap
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from babel.numbers import format_decimal

from vigie.crimemap import analysis
from vigie.crimemap.incidents import CrimeMapError, Incident
from vigie.i18n import N_, current_language, gettext

# The report is written in the language of the moment (vigie.i18n: the request's, or the site file's for the CLI).
STATEMENT = N_(
    "This analysis is area-based only. It describes places (grid cells, communes) and times (hours, weekdays, pairs of incidents close in space and time). It never scores, ranks or predicts any individual person and must not be used to do so: risk assessments of natural persons predicting criminal offences from profiling are prohibited by the EU AI Act (Regulation (EU) 2024/1689, art. 5(1)(d))."
)
# The near-repeat test's permutations: pointpats' Knox permutes in a Python loop, and 99 is the Near
# Repeat Calculator's usual count (p-values to 0.01); the report's `permutations` is for the Gi*.
NEAR_REPEAT_PERMUTATIONS = 99
CLASS_COLOURS = {  # ArcGIS's hot-spot palette order: deep red to deep blue
    "hot 99%": "#b2182b",
    "hot 95%": "#ef8a62",
    "hot 90%": "#fddbc7",
    "cold 90%": "#d1e5f0",
    "cold 95%": "#67a9cf",
    "cold 99%": "#2166ac",
    "not significant": "#eeeeee",
}
DPI = 110


def write_report(
    incidents: Iterable[Incident],
    path,
    *,
    title: str,
    timezone: str,
    communes: dict | None = None,
    name_property: str = "name",
    cell_m: float = 250.0,
    permutations: int = 999,
    seed: int = 0,
    period: tuple | None = None,
) -> Path:
    """Analyse the incidents and write the report to `path` (.html or .pdf), atomically.

    `period`: (start, end) to keep only the incidents in it: aware datetimes
    (start included, end excluded) or dates in the site's time zone (both
    included). Without it, the period is that of the incidents.
    `permutations` and `seed` are the hot spots' (esda Gi*); the near-repeat
    test uses NEAR_REPEAT_PERMUTATIONS.
    """
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".html", ".pdf"):
        raise CrimeMapError(gettext("report path {path} must end in .html or .pdf", path=repr(str(path))))
    if not isinstance(title, str) or not title.strip():
        raise CrimeMapError(gettext("title must be a non-empty string"))
    try:
        zone = ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise CrimeMapError(
            gettext("timezone {timezone} is not an IANA time zone name (e.g. Europe/Paris)", timezone=repr(timezone))
        ) from None
    # The parameters first, so that a CrimeMapError from an analysis below is about the data.
    analysis._positive(cell_m, "cell_m")
    analysis._int_in(permutations, "permutations", 99, 99_999)
    analysis._int_in(seed, "seed", 0, 2**32 - 1)
    items, start, end = _select(incidents, period, zone)

    results = {
        "density": analysis.density(items),
        "time": analysis.time_pattern(items, str(timezone)),
        "communes": analysis.by_commune(items, communes, name_property),
    }
    # Hot spots and near-repeat need enough incidents (cells to compare, pairs): on a
    # small period the report says why they are missing rather than failing.
    missing = {}
    for key, run in (
        ("hotspots", lambda: analysis.hotspots(items, cell_m=cell_m, permutations=permutations, seed=seed)),
        ("near_repeat", lambda: analysis.near_repeat(items, permutations=NEAR_REPEAT_PERMUTATIONS, seed=seed)),
    ):
        try:
            results[key] = run()
        except CrimeMapError as exc:
            results[key], missing[key] = None, exc
    content = _Content(title.strip(), str(timezone), items, start, end, results, missing, communes is not None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            if kind == ".html":
                out.write(_html(content).encode("utf-8"))
            else:
                _pdf(content, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _select(incidents, period, zone: ZoneInfo) -> tuple[list[Incident], datetime, datetime]:
    items = list(incidents) if incidents is not None else []
    if not items:
        raise CrimeMapError(gettext("report: no incidents to report on"))
    times = [analysis._aware(i) for i in items]
    if period is None:
        return items, min(times), max(times)
    if not isinstance(period, (tuple, list)) or len(period) != 2:
        raise CrimeMapError(gettext("period must be a (start, end) pair, got {period}", period=repr(period)))
    start, end = (_bound(v, zone, k) for k, v in enumerate(period))
    if end <= start:
        raise CrimeMapError(
            gettext("period ends ({value}) before it starts ({value2})", value=repr(period[1]), value2=repr(period[0]))
        )
    kept = [i for i, t in zip(items, times) if start <= t < end]
    if not kept:
        raise CrimeMapError(
            gettext(
                "period {value} to {value2} holds none of the {n_items} incidents",
                value=period[0],
                value2=period[1],
                n_items=len(items),
            )
        )
    return kept, start, end - timedelta(microseconds=1)


def _bound(value, zone: ZoneInfo, k: int) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise CrimeMapError(
                gettext(
                    "period {value} {value2} must be timezone-aware",
                    value="start" if k == 0 else "end",
                    value2=repr(value),
                )
            )
        return value
    if isinstance(value, date):  # a whole local day: the end date is included
        return datetime.combine(value + timedelta(days=k), time(0), tzinfo=zone)
    raise CrimeMapError(
        gettext(
            "period {value} must be a date or datetime, got {value2}",
            value="start" if k == 0 else "end",
            value2=repr(value),
        )
    )


def _clocks(time_pattern: dict) -> str:
    """The clock(s) of the hour table: one zone, or each import's own ("America/Toronto: 5, Europe/Paris: 1")."""
    zones = time_pattern.get("zones") or {}
    if len(zones) > 1:
        return gettext(
            "each import's own time zone ({zones})", zones=", ".join(f"{z}: {_int(n)}" for z, n in zones.items())
        )
    return str(time_pattern["timezone"])


class _Content:
    """What both formats show: the texts, the tables and the figures."""

    def __init__(self, title, timezone, items, start, end, results, missing, have_polygons):
        self.title, self.timezone, self.items, self.results, self.missing = title, timezone, items, results, missing
        zone = ZoneInfo(timezone)
        self.period = gettext(
            "{start} to {end} ({timezone})",
            start=_date(start.astimezone(zone).date()),
            end=_date(end.astimezone(zone).date()),
            timezone=timezone,
        )
        self.counts = _counts_table(items)
        self.sources = sorted(Counter(i.source or gettext("(no source given)") for i in items).items())
        self.lat0 = float(np.mean([i.lat for i in items]))
        self.figures = {
            "density": _density_figure(self, results["density"]),
            "hotspots": _hotspot_figure(self, results["hotspots"]) if results["hotspots"] else None,
            "communes": _commune_figure(self, results["communes"], have_polygons),
            "near_repeat": _near_repeat_figure(results["near_repeat"]) if results["near_repeat"] else None,
            "time": _time_figure(results["time"]),
        }
        self.knox_headline = (
            _knox_headline(results["near_repeat"])
            if results["near_repeat"]
            else gettext("Near-repeat not computed: {reason}", reason=missing["near_repeat"])
        )
        self.hotspot_summary = (
            _hotspot_summary(results["hotspots"])
            if results["hotspots"]
            else gettext("Hot spots not computed: {reason}", reason=missing["hotspots"])
        )
        self.methods = _methods(results)


# ---------------------------------------------------------------- tables and texts


def _counts_table(items: list[Incident]) -> tuple[list[str], list[list]]:
    layers = sorted({i.layer for i in items})
    by = Counter((i.category or gettext("(none)"), i.layer) for i in items)
    categories = sorted({c for c, _ in by}, key=lambda c: -sum(by[c, layer] for layer in layers))
    # a category is shown translated where it is one of Vigie's words (a validated alert's rule type)
    rows = [
        [_category(c)] + [by[c, layer] for layer in layers] + [sum(by[c, layer] for layer in layers)]
        for c in categories
    ]
    rows.append([gettext("Total")] + [sum(by[c, layer] for c in categories) for layer in layers] + [len(items)])
    return [gettext("Category")] + [gettext(LAYER_NAMES.get(layer, layer)) for layer in layers] + [
        gettext("Total")
    ], rows


# Words the analyses return in English, named here for the catalogue (translated where shown).
_WORDS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
    N_("hot 99%"),
    N_("hot 95%"),
    N_("hot 90%"),
    N_("not significant"),
    N_("cold 90%"),
    N_("cold 95%"),
    N_("cold 99%"),
    # rule types: the category of a validated alert on the crime map
    N_("zone intrusion"),
    N_("line crossing"),
    N_("loitering"),
    N_("counter-flow"),
    N_("gathering"),
    N_("crowd density"),
    N_("crowd movement"),
    N_("abandoned object"),
    N_("person on the ground"),
)


def _category(name: str) -> str:
    """A category as the report shows it: a rule type ("zone_intrusion") in words of the language, else as given."""
    words = name.replace("_", " ")
    said = gettext(words)
    return said if said != words else name


# The incident layers' names in the report's tables (the API's identifiers are English words).
LAYER_NAMES = {"imported": N_("imported"), "alerts": N_("alerts"), "citizen": N_("citizen")}


def _commune_rows(result: dict) -> list[list]:
    features = sorted(result["features"], key=lambda f: -f["properties"]["count"])
    n = result["n"]
    rows = [
        [_commune_name(f, result["name_property"]), f["properties"]["count"], _share(f["properties"]["count"], n)]
        for f in features
    ]
    if result["unassigned"]:
        rows.append([gettext(analysis.UNKNOWN_COMMUNE), result["unassigned"], _share(result["unassigned"], n)])
    return rows


def _share(count: int, n: int) -> str:
    """A share as the language writes it: 12.5% in English, 12,5 % in French."""
    return gettext("{percent}%", percent=_fmt(100 * count / n, ".1f"))


def _commune_name(feature: dict, name_property: str) -> str:
    p = feature["properties"]  # polygons keep the site file's name property; points are named "name"
    return str(p.get(name_property) or p.get("name") or "?")


def _near_repeat_rows(result: dict) -> list[list]:
    return [
        [
            r["distance_band"],
            r["time_band"],
            r["observed"],
            _fmt(r["expected"], ".1f"),
            _fmt(r["ratio"], ".2f"),
            _fmt(r["p_value"], ".2f"),
        ]
        for r in result["table"]
    ]


def _hotspot_summary(h: dict) -> str:
    return gettext(
        "{hot99} cells hot at 99 % confidence, {hot95} at 95 %, {hot90} at 90 %; {fdr}.",
        hot99=_int(h["classes"]["hot 99%"]),
        hot95=_int(h["classes"]["hot 95%"]),
        hot90=_int(h["classes"]["hot 90%"]),
        fdr=h["fdr"],
    )


def _date(d: date) -> str:
    """A day as the language writes it: 31/01/2024 in French, ISO 2024-01-31 in English."""
    return d.strftime("%d/%m/%Y") if current_language() == "fr" else d.isoformat()


def _int(n: int) -> str:
    """A count with the language's thousands separator."""
    return format_decimal(n, locale=current_language())


def _knox_headline(result: dict) -> str:
    k = result["knox"]
    ratio = gettext("undefined") if k["ratio"] is None else _fmt(k["ratio"], ".2f")
    verdict = (
        gettext("more pairs than chance: a near-repeat pattern")
        if k["p_value"] is not None and k["p_value"] <= 0.05 and (k["ratio"] or 0) > 1
        else gettext("no significant excess over chance")
    )
    text = gettext(
        "Knox test: {observed} pairs of incidents within {metres} m and {days} days, {expected} expected (ratio {ratio}, permutation p = {p}, {permutations} permutations): {verdict}.",
        observed=k["observed"],
        metres=_fmt(k["delta_m"], "g"),
        days=_fmt(k["tau_days"], "g"),
        expected=_fmt(k["expected"], ".1f"),
        ratio=ratio,
        p=_fmt(k["p_value"], ".2f"),
        permutations=k["permutations"],
        verdict=verdict,
    )
    if result["subsample"]:
        return f"{text} {result['subsample']}."  # two whole sentences, each in the language of the moment
    return text


def _methods(results: dict) -> list[str]:
    """The methods section, one paragraph per analysis, in the language of the moment (the analyses'
    descriptions are written in it too)."""
    d, h, nr, t, c = (results[k] for k in ("density", "hotspots", "near_repeat", "time", "communes"))
    chi = t["chi_square"]
    paragraphs = [
        gettext("Positions: {projection}.", projection=d["projection"]),
        gettext(
            "Density: gaussian kernel density estimate ({kernel}), bandwidth {metres} m chosen by {method}; evaluated on {cell} m cells, in {units}; {omitted} are left blank.",
            kernel=d["kernel"],
            metres=_fmt(d["bandwidth_m"], ".0f"),
            method=d["bandwidth_method"],
            cell=_fmt(d["cell_m"], ".0f"),
            units=d["units"],
            omitted=d["omitted"],
        ),
        gettext(
            "Hot spots: Getis-Ord Gi* (PySAL esda.G_Local, star=True) on counts of incidents per {cell} m square cell ({rows} x {cols} grid); weights: {weights}; study area: {study_area}. {inference}. False discovery rate: {fdr}.",
            cell=_fmt(h["cell_m"], ".0f"),
            rows=_int(h["rows"]),
            cols=_int(h["cols"]),
            weights=h["weights"],
            study_area=h["study_area"],
            inference=h["inference"],
            fdr=h["fdr"],
        )
        if h
        else gettext("Hot spots: not computed (see above)."),
    ]
    if nr:
        fields = {
            "method": nr["method"],
            "distances": _edges(nr["distance_bands_m"], days=False),
            "times": _edges(nr["time_bands_days"], days=True),
            "seed": nr["seed"],
        }
        paragraphs.append(
            gettext(
                "Near-repeat: {method}; distance bands {distances}, time bands {times}, seed {seed}. {subsample}.",
                subsample=nr["subsample"],
                **fields,
            )
            if nr["subsample"]
            else gettext(
                "Near-repeat: {method}; distance bands {distances}, time bands {times}, seed {seed}.", **fields
            )
        )
    else:
        paragraphs.append(gettext("Near-repeat: not computed (see above)."))
    fields = {
        "clock": _clocks(t),
        "test": chi["test"],
        "statistic": _fmt(chi["statistic"], ".1f"),
        "dof": chi["dof"],
        "p": _fmt(chi["p_value"], ".3g"),
    }
    paragraphs.append(
        gettext(
            "Time pattern: counts by weekday and hour in {clock} (zoneinfo); {test}: chi-square {statistic} on {dof} degrees of freedom, p = {p}. Note: {note}.",
            note=chi["note"],
            **fields,
        )
        if chi["note"]
        else gettext(
            "Time pattern: counts by weekday and hour in {clock} (zoneinfo); {test}: chi-square {statistic} on {dof} degrees of freedom, p = {p}.",
            **fields,
        )
    )
    paragraphs.append(gettext("Communes: {assignment}.", assignment=c["assignment"]))
    return paragraphs


def _edges(edges: list, *, days: bool) -> str:
    bands = ", ".join(f"{_fmt(a, 'g')}-{_fmt(b, 'g')}" for a, b in zip(edges, edges[1:]))
    return gettext("{bands} days and beyond", bands=bands) if days else gettext("{bands} m and beyond", bands=bands)


def _fmt(value, spec: str) -> str:
    """A number formatted by `spec`, with the language's decimal mark (a comma in French)."""
    if value is None:
        return gettext("n/a")
    text = format(value, spec)
    return text.replace(".", ",") if current_language() == "fr" else text


# ---------------------------------------------------------------- figures


def _map_axes(fig, content: _Content, result_title: str):
    ax = fig.add_subplot(1, 1, 1)
    lons = [i.lon for i in content.items]
    lats = [i.lat for i in content.items]
    pad_lon, pad_lat = (max(lons) - min(lons)) * 0.03 + 0.002, (max(lats) - min(lats)) * 0.03 + 0.002
    ax.set_xlim(min(lons) - pad_lon, max(lons) + pad_lon)
    ax.set_ylim(min(lats) - pad_lat, max(lats) + pad_lat)
    # Plain lon/lat axes with equal ground scale both ways at this latitude.
    ax.set_aspect(1 / math.cos(math.radians(content.lat0)))
    ax.set_xlabel(gettext("longitude"))
    ax.set_ylabel(gettext("latitude"))
    ax.set_title(result_title, fontsize=10)
    ax.tick_params(labelsize=7)
    return ax


def _scale_bar(ax, lat0: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    metres_per_degree = 111_320 * math.cos(math.radians(lat0))
    width_m = (x1 - x0) * metres_per_degree
    nice = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)
    length = max(v for v in nice if v <= width_m / 4 or v == 50)  # about a quarter of the map's width
    lx, ly = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.05
    ax.plot([lx, lx + length / metres_per_degree], [ly, ly], color="black", linewidth=3, solid_capstyle="butt")
    ax.text(lx, ly + (y1 - y0) * 0.015, f"{length / 1000:g} km" if length >= 1000 else f"{length} m", fontsize=8)


def _polygons(features: list[dict]) -> list[np.ndarray]:
    return [np.asarray(f["geometry"]["coordinates"][0]) for f in features]


def _density_figure(content: _Content, result: dict):
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 6.5), layout="constrained")
    ax = _map_axes(
        fig,
        content,
        gettext(
            "Incident density, kernel bandwidth {metres} m ({n} incidents)",
            metres=_fmt(result["bandwidth_m"], ".0f"),
            n=_int(result["n"]),
        ),
    )
    values = np.array([f["properties"]["density"] for f in result["features"]])
    # Edges in the face colour: without them, antialiasing draws a seam between adjacent cells.
    # Rasterized: thousands of cells as PDF vector paths are slow to write and to print.
    cells = PolyCollection(
        _polygons(result["features"]), array=values, cmap="magma_r", edgecolors="face", linewidths=0.3, rasterized=True
    )
    ax.add_collection(cells)
    fig.colorbar(cells, ax=ax, shrink=0.7, label=gettext("incidents per km² over the period"))
    ax.text(
        0.99,
        0.01,
        gettext(
            "bandwidth {metres} m, cells {cell} m",
            metres=_fmt(result["bandwidth_m"], ".0f"),
            cell=_fmt(result["cell_m"], ".0f"),
        ),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
    _scale_bar(ax, content.lat0)
    return fig


def _hotspot_figure(content: _Content, result: dict):
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(8, 6.5), layout="constrained")
    ax = _map_axes(
        fig, content, gettext("Hot spots: Getis-Ord Gi* on {cell} m cells", cell=_fmt(result["cell_m"], ".0f"))
    )
    colours = [CLASS_COLOURS[f["properties"]["class"]] for f in result["features"]]
    ax.add_collection(
        PolyCollection(
            _polygons(result["features"]), facecolors=colours, edgecolors=colours, linewidths=0.3, rasterized=True
        )
    )
    handles = [
        Patch(
            facecolor=CLASS_COLOURS[c],
            edgecolor="#999999",
            label=gettext("{name} ({n} cells)", name=gettext(c), n=_int(result["classes"][c])),
        )
        for c in CLASS_COLOURS
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    _scale_bar(ax, content.lat0)
    return fig


def _commune_figure(content: _Content, result: dict, have_polygons: bool):
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 6.5), layout="constrained")
    ax = _map_axes(fig, content, gettext("Incidents per commune"))
    counts = np.array([f["properties"]["count"] for f in result["features"]], dtype=float)
    if have_polygons:
        rings, values = [], []
        for f, count in zip(result["features"], counts):
            g = f["geometry"]
            polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
            for polygon in polygons:
                rings.append(np.asarray(polygon[0]))
                values.append(count)
        coll = PolyCollection(rings, array=np.array(values), cmap="Reds", edgecolors="#555555", linewidths=0.4)
        ax.add_collection(coll)
        fig.colorbar(coll, ax=ax, shrink=0.7, label=gettext("incidents"))
    elif len(counts):
        xy = np.array([f["geometry"]["coordinates"] for f in result["features"]])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=20 + 400 * counts / counts.max(),
            c="#c0392b",
            alpha=0.5,
            edgecolors="#7b241c",
            linewidths=0.4,
        )
        ax.text(
            0.99,
            0.01,
            gettext("each disc at the mean position of its commune's incidents, area by count"),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
        )
    _scale_bar(ax, content.lat0)
    return fig


def _near_repeat_figure(result: dict):
    from matplotlib.figure import Figure

    d_labels = list(dict.fromkeys(r["distance_band"] for r in result["table"]))
    t_labels = list(dict.fromkeys(r["time_band"] for r in result["table"]))
    ratio = np.full((len(d_labels), len(t_labels)), np.nan)
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    for r in result["table"]:
        a, b = d_labels.index(r["distance_band"]), t_labels.index(r["time_band"])
        ratio[a, b] = np.nan if r["ratio"] is None else r["ratio"]
        # The open-ended bands are the reference pairs: no star there.
        bounded = r["distance_m"][1] is not None and r["time_days"][1] is not None
        star = "*" if bounded and r["p_value"] is not None and r["p_value"] <= 0.05 else ""
        ax.text(
            b,
            a,
            f"{_fmt(r['ratio'], '.2f')}{star}\n{r['observed']} / {_fmt(r['expected'], '.0f')}",
            ha="center",
            va="center",
            fontsize=7,
        )
    spread = max(0.5, float(np.nanmax(np.abs(ratio - 1))) if np.isfinite(ratio).any() else 0.5)
    image = ax.imshow(ratio, cmap="RdBu_r", vmin=1 - spread, vmax=1 + spread, aspect="auto")
    fig.colorbar(image, ax=ax, label=gettext("observed / expected pairs"))
    ax.set_xticks(range(len(t_labels)), t_labels, fontsize=8)
    ax.set_yticks(range(len(d_labels)), d_labels, fontsize=8)
    ax.set_xlabel(gettext("time between the two incidents"))
    ax.set_ylabel(gettext("distance between them"))
    ax.set_title(gettext("Near-repeat: pairs observed / expected (* p <= 0.05 in the bounded bands)"), fontsize=10)
    fig.tight_layout()
    return fig


def _time_figure(result: dict):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(np.array(result["counts"]), cmap="YlOrRd", aspect="auto")
    fig.colorbar(image, ax=ax, label=gettext("incidents"))
    ax.set_yticks(range(7), [gettext(d)[:3] for d in result["weekdays"]], fontsize=8)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}h" for h in range(0, 24, 2)], fontsize=8)
    ax.set_xlabel(gettext("hour of day ({timezone})", timezone=_clocks(result)))
    ax.set_title(gettext("When: {n} incidents by weekday and hour", n=_int(result["n"])), fontsize=10)
    fig.tight_layout()
    return fig


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# ---------------------------------------------------------------- HTML

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 960px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #aaa; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; }
.statement { border: 2px solid #444; padding: 0.6em 1em; background: #f6f6f6; }
.small { font-size: 0.85em; color: #444; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section { page-break-inside: avoid; break-inside: avoid; }
  h2 { page-break-after: avoid; }
  .page { page-break-before: always; }
}
"""


def _html(c: _Content) -> str:
    e = html.escape
    r = c.results
    t = r["time"]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{current_language()}"><head><meta charset="utf-8">',
        f"<title>{e(c.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(c.title)}</h1>",
        "<p>" + e(gettext("Period: {period}. {n} incidents.", period=c.period, n=_int(len(c.items)))) + "</p>",
        f'<p class="statement">{e(gettext(STATEMENT))}</p>',
        "<section><h2>" + e(gettext("Incidents by category and layer")) + "</h2>",
        _html_table(*c.counts),
        "</section>",
        '<section class="page"><h2>' + e(gettext("Where: density")) + "</h2>",
        _img(c.figures["density"], gettext("density map")),
        '<p class="small">'
        + e(
            gettext(
                "Kernel bandwidth {metres} m, chosen by {method}.",
                metres=_fmt(r["density"]["bandwidth_m"], ".0f"),
                method=r["density"]["bandwidth_method"],
            )
        )
        + "</p></section>",
        '<section class="page"><h2>' + e(gettext("Where: hot spots (Getis-Ord Gi*)")) + "</h2>",
        _img(c.figures["hotspots"], gettext("hot spots")),
        f'<p class="small">{e(c.hotspot_summary)}</p></section>',
        '<section class="page"><h2>' + e(gettext("Where: communes")) + "</h2>",
        _img(c.figures["communes"], gettext("communes")),
        _html_table(COMMUNE_HEADER(), _commune_rows(r["communes"])),
        "</section>",
        '<section class="page"><h2>' + e(gettext("Near-repeat")) + "</h2>",
        f"<p><strong>{e(c.knox_headline)}</strong></p>",
        _img(c.figures["near_repeat"], gettext("near-repeat table")),
        _html_table(NEAR_REPEAT_HEADER(), _near_repeat_rows(r["near_repeat"])) if r["near_repeat"] else "",
        "</section>",
        '<section class="page"><h2>' + e(gettext("When: hour and weekday")) + "</h2>",
        _img(c.figures["time"], gettext("hour by weekday")),
        '<p class="small">'
        + e(
            gettext(
                "Busiest: {weekday} {hour}h ({n} incidents). Uniformity chi-square p = {p}.",
                weekday=gettext(t["peak"]["weekday"]),
                hour=f"{t['peak']['hour']:02d}",
                n=t["peak"]["count"],
                p=_fmt(t["chi_square"]["p_value"], ".3g"),
            )
        )
        + "</p></section>",
        '<section class="page"><h2>' + e(gettext("Methods")) + "</h2><ul>",
        *(f"<li>{e(m)}</li>" for m in c.methods),
        "</ul></section>",
        "<section><h2>" + e(gettext("Area-based analysis only")) + "</h2>",
        f'<p class="statement">{e(gettext(STATEMENT))}</p></section>',
        "<section><h2>" + e(gettext("Data sources")) + "</h2><ul>",
        *("<li>" + e(gettext("{source}: {n} incidents", source=s, n=_int(n))) + "</li>" for s, n in c.sources),
        "</ul></section>",
        "</body></html>",
    ]
    return "\n".join(parts)


def COMMUNE_HEADER() -> list[str]:  # noqa: N802 - a table header, built in the language of the moment
    return [gettext("Commune"), gettext("Incidents"), gettext("Share")]


def NEAR_REPEAT_HEADER() -> list[str]:  # noqa: N802
    return [gettext("Distance"), gettext("Time"), gettext("Observed"), gettext("Expected"), gettext("Ratio"), "p"]


def _html_table(header: list, rows: list[list]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(x))}</th>" for x in header)
    body = "".join("<tr>" + "".join(f"<td>{e(_cell(x))}</td>" for x in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(x) -> str:
    return _int(x) if isinstance(x, int) else str(x)


def _img(fig, alt: str) -> str:
    if fig is None:
        return ""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


# ---------------------------------------------------------------- PDF

A4 = (8.27, 11.69)


def _pdf(c: _Content, out) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(out, metadata={"Title": c.title, "Creator": "Vigie"}) as pdf:
        r = c.results
        lines = [
            ("h1", c.title),
            ("p", gettext("Period: {period}. {n} incidents.", period=c.period, n=_int(len(c.items)))),
            ("box", gettext(STATEMENT)),
            ("h2", gettext("Incidents by category and layer")),
            *_text_table(*c.counts),
            ("h2", gettext("Data sources")),
            *(("p", gettext("{source}: {n} incidents", source=s, n=_int(n))) for s, n in c.sources),
        ]
        _text_pages(pdf, lines)
        for key in ("density", "hotspots", "communes"):
            if c.figures[key] is not None:
                pdf.savefig(c.figures[key], dpi=150)
        if c.figures["hotspots"] is None:
            _text_pages(pdf, [("h2", gettext("Hot spots")), ("p", c.hotspot_summary)])
        commune_rows = _commune_rows(r["communes"])
        _text_pages(pdf, [("h2", gettext("Incidents per commune")), *_text_table(COMMUNE_HEADER(), commune_rows)])
        near_repeat_table = (
            _text_table(NEAR_REPEAT_HEADER(), _near_repeat_rows(r["near_repeat"])) if r["near_repeat"] else []
        )
        _text_pages(pdf, [("h2", gettext("Near-repeat")), ("p", c.knox_headline), *near_repeat_table])
        if c.figures["near_repeat"] is not None:
            pdf.savefig(c.figures["near_repeat"])
        pdf.savefig(c.figures["time"])
        _text_pages(
            pdf,
            [
                ("h2", gettext("Methods")),
                *(("p", m) for m in c.methods),
                ("h2", gettext("Area-based analysis only")),
                ("box", gettext(STATEMENT)),
            ],
        )


def _text_table(header: list, rows: list[list]) -> list[tuple[str, str]]:
    cells = [[str(x) for x in header]] + [[_cell(x) for x in row] for row in rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(header))]
    first = min(widths[0], 40)

    def line(row):
        return "  ".join([row[0][:first].ljust(first)] + [x.rjust(w) for x, w in zip(row[1:], widths[1:])])

    return [("mono", line(cells[0])), ("mono", "-" * len(line(cells[0])))] + [("mono", line(row)) for row in cells[1:]]


def _text_pages(pdf, lines: list[tuple[str, str]]) -> None:
    """Lays out (style, text) lines on A4 pages, wrapping paragraphs, starting a page when one is full."""
    from matplotlib.figure import Figure

    style = {
        "h1": (16, "bold", 95, 0.034),
        "h2": (12, "bold", 95, 0.03),
        "p": (9, "normal", 105, 0.017),
        "box": (9, "bold", 92, 0.017),
        "mono": (7.5, "normal", 200, 0.0135),
    }
    fig, y = None, 0.0
    for kind, text in lines:
        size, weight, width, step = style[kind]
        wrapped = [text] if kind == "mono" else (textwrap.wrap(text, width) or [""])
        for k, piece in enumerate(wrapped):
            if fig is None or y < 0.05:
                if fig is not None:
                    pdf.savefig(fig)
                fig, y = Figure(figsize=A4), 0.95
            if kind in ("h1", "h2") and k == 0:
                y -= step * 0.4
            # parse_math off: a title, category or source with "$...$" is text, not a formula (which could fail).
            fig.text(
                0.07,
                y,
                piece,
                fontsize=size,
                weight=weight,
                va="top",
                parse_math=False,
                family="monospace" if kind == "mono" else "sans-serif",
            )
            y -= step
        y -= step * 0.3
    if fig is not None:
        pdf.savefig(fig)
