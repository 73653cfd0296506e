"""The crime map's area-based analyses and report on synthetic incidents (seeded), with known answers."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from pyproj import Geod

from vigie.crimemap import analysis
from vigie.crimemap.analysis import by_commune, density, hotspots, near_repeat, time_pattern
from vigie.crimemap.incidents import CrimeMapError, Incident
from vigie.crimemap.projection import LocalProjection
from vigie.crimemap.report import STATEMENT, write_report

NIMES = LocalProjection(43.8367, 4.3601)
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CLUSTER_CENTRE = np.array([1125.0, 1125.0])  # metres from the centre of Nîmes


def make_incidents(xy, days=None, *, category="burglary", layer="imported", commune="", source="test data"):
    lon, lat = NIMES.to_lonlat(xy[:, 0], xy[:, 1])
    days = np.zeros(len(xy)) if days is None else days
    return [
        Incident(
            id=f"{layer}:{k}",
            layer=layer,
            occurred_at=T0 + timedelta(days=float(days[k])),
            category=category,
            lat=float(lat[k]),
            lon=float(lon[k]),
            commune=commune,
            source=source,
        )
        for k in range(len(xy))
    ]


def uniform_xy(rng, n):
    return rng.uniform(-2500, 2500, (n, 2))  # 5 x 5 km


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(7)
    cluster = CLUSTER_CENTRE + rng.uniform(-125, 125, (80, 2))  # 80 incidents in a 250 m square
    xy = np.vstack([uniform_xy(rng, 300), cluster])
    return make_incidents(xy, rng.uniform(0, 365, len(xy)))


@pytest.fixture(scope="module")
def uniform():
    rng = np.random.default_rng(11)
    return make_incidents(uniform_xy(rng, 300), rng.uniform(0, 365, 300))


def cell_centre_m(feature) -> np.ndarray:
    ring = np.asarray(feature["geometry"]["coordinates"][0][:4])
    x, y = NIMES.to_metres(ring[:, 0], ring[:, 1])
    return np.array([x.mean(), y.mean()])


# ---------------------------------------------------------------- hot spots


@pytest.fixture(scope="module")
def clustered_hotspots(clustered):
    return hotspots(clustered, cell_m=250, permutations=99, seed=1)


def test_hotspots_find_the_planted_cluster_and_nothing_far_from_it(clustered_hotspots):
    result = clustered_hotspots
    cells = result["features"]
    cluster_cells = [f for f in cells if np.abs(cell_centre_m(f) - CLUSTER_CENTRE).max() < 250]
    assert cluster_cells and sum(f["properties"]["count"] for f in cluster_cells) >= 80
    assert all(f["properties"]["class"] == "hot 99%" for f in cluster_cells)
    far = [f for f in cells if np.abs(cell_centre_m(f) - CLUSTER_CENTRE).max() > 600]
    assert len(far) > 300
    assert not [f["properties"] for f in far if f["properties"]["class"].startswith("hot")]
    assert result["classes"]["hot 99%"] >= len(cluster_cells)
    assert 0 < result["fdr_cells"] <= result["classes"]["hot 99%"]


def test_hotspots_on_uniform_points_are_almost_all_not_significant(uniform):
    result = hotspots(uniform, cell_m=250, permutations=99, seed=1)
    n_cells = len(result["features"])
    # Tolerance: 400 tests at a nominal 0.5 % per tail for "99 %" would give ~2 hot
    # cells by chance, and neighbouring Gi* share their counts, so chance hits come
    # in clumps: at most 1 % of the cells. All hot classes together (nominal 5 % at
    # the 90 % level): at most 10 %. None survives the false-discovery-rate threshold.
    assert result["classes"]["hot 99%"] <= 0.01 * n_cells
    hot = sum(result["classes"][c] for c in ("hot 99%", "hot 95%", "hot 90%"))
    assert hot <= 0.10 * n_cells
    assert result["fdr_cells"] == 0


def test_hotspots_result_shape(clustered_hotspots, clustered):
    r = clustered_hotspots
    assert (r["cell_m"], r["permutations"], r["n"]) == (250.0, 99, len(clustered))
    assert r["rows"] * r["cols"] >= len(r["features"])
    assert sum(f["properties"]["count"] for f in r["features"]) == len(clustered)
    assert {f["properties"]["class"] for f in r["features"]} <= set(analysis.GI_CLASSES)
    assert "queen" in r["weights"] and "star=True" in r["weights"]
    ring = r["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1] and 4.2 < ring[0][0] < 4.5 and 43.7 < ring[0][1] < 43.9
    json.dumps(r, allow_nan=False)


# ---------------------------------------------------------------- density


def test_density_chooses_a_bandwidth_and_peaks_at_the_cluster(clustered):
    result = density(clustered)
    assert "cross-validation" in result["bandwidth_method"]
    assert 20 < result["bandwidth_m"] < 1000
    peak = max(result["features"], key=lambda f: f["properties"]["density"])
    assert peak["properties"]["share"] == 1.0
    assert np.hypot(*(cell_centre_m(peak) - CLUSTER_CENTRE)) < 250
    # Incidents per km² summed over the cells gives back the incidents (the few
    # under 1 % of the peak are left out).
    cell_km2 = (result["cell_m"] / 1000) ** 2
    total = sum(f["properties"]["density"] for f in result["features"]) * cell_km2
    assert total == pytest.approx(len(clustered), rel=0.1)
    assert result["n"] == len(clustered)
    json.dumps(result, allow_nan=False)


def test_density_with_a_given_bandwidth_and_cell_size(clustered):
    result = density(clustered, bandwidth_m=300, cell_m=200)
    assert (result["bandwidth_m"], result["bandwidth_method"], result["cell_m"]) == (300.0, "given", 200.0)
    assert result["rows"] * result["cols"] <= 10_000
    assert all(0.01 <= f["properties"]["share"] <= 1 for f in result["features"])


# ---------------------------------------------------------------- near-repeat


@pytest.fixture(scope="module")
def repeats():
    """200 incidents uniform in space and over a year, 60 of them followed within 6 days by one within 80 m."""
    rng = np.random.default_rng(3)
    xy = uniform_xy(rng, 200)
    days = rng.uniform(0, 365, 200)
    first = rng.choice(200, 60, replace=False)
    angle = rng.uniform(0, 2 * np.pi, 60)
    offset = rng.uniform(5, 80, 60)[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return np.vstack([xy, xy[first] + offset]), np.concatenate([days, days[first] + rng.uniform(0.5, 6, 60)])


def test_near_repeat_finds_planted_repeats(repeats):
    xy, days = repeats
    result = near_repeat(make_incidents(xy, days))
    knox, first = result["knox"], result["table"][0]
    assert (knox["delta_m"], knox["tau_days"]) == (100.0, 7.0)
    assert knox["ratio"] > 2 and knox["p_value"] <= 0.02
    assert (first["distance_band"], first["time_band"]) == ("0-100 m", "0-7 days")
    assert first["observed"] == knox["observed"] >= 60
    assert first["ratio"] > 2 and first["p_value"] <= 0.02
    assert result["subsample"] is None and result["n_analysed"] == 260
    json.dumps(result, allow_nan=False)


def test_near_repeat_with_times_shuffled_finds_nothing(repeats):
    xy, days = repeats
    shuffled = np.random.default_rng(5).permutation(days)  # the same places and times, unlinked
    result = near_repeat(make_incidents(xy, shuffled))
    assert result["knox"]["p_value"] > 0.05
    assert result["table"][0]["p_value"] > 0.05


def test_near_repeat_table_covers_every_pair(repeats):
    xy, days = repeats
    result = near_repeat(make_incidents(xy, days), distance_bands_m=(0, 150, 500), time_bands_days=(0, 10))
    table = result["table"]
    assert len(table) == 3 * 2  # two distance bands and beyond, one time band and beyond
    assert sum(r["observed"] for r in table) == 260 * 259 // 2
    assert sum(r["expected"] for r in table) == pytest.approx(260 * 259 // 2, rel=1e-6)
    assert table[-1]["distance_m"] == [500.0, None] and table[-1]["time_days"] == [10.0, None]


def test_near_repeat_subsamples_above_its_limit(repeats, monkeypatch):
    monkeypatch.setattr(analysis, "NEAR_REPEAT_MAX_INCIDENTS", 100)
    xy, days = repeats
    result = near_repeat(make_incidents(xy, days))
    assert (result["n"], result["n_analysed"]) == (260, 100)
    assert "subsample of 100" in result["subsample"]


# ---------------------------------------------------------------- time pattern


def at(utc: str) -> Incident:
    return Incident(
        id=f"alerts:{utc}", layer="alerts", occurred_at=datetime.fromisoformat(utc), category="x", lat=43.8, lon=4.36
    )


def test_time_pattern_counts_in_local_time_across_daylight_saving_changes():
    incidents = [
        at("2024-03-30T21:30:00+00:00"),  # Saturday 22:30 CET
        at("2024-03-31T00:30:00+00:00"),  # Sunday 01:30 CET
        at("2024-03-31T01:30:00+00:00"),  # Sunday 03:30 CEST: 02:xx did not exist
        at("2024-03-31T21:30:00+00:00"),  # Sunday 23:30 CEST
        at("2024-10-27T00:30:00+00:00"),  # Sunday 02:30 CEST
        at("2024-10-27T01:30:00+00:00"),  # Sunday 02:30 CET, the repeated hour
    ]
    result = time_pattern(incidents, "Europe/Paris")
    counts = np.array(result["counts"])
    assert counts.shape == (7, 24) and counts.sum() == 6
    assert counts[5, 22] == 1 and counts[6, 1] == 1 and counts[6, 3] == 1 and counts[6, 23] == 1
    assert counts[6, 2] == 2
    assert result["by_weekday"] == [0, 0, 0, 0, 0, 1, 5]
    assert result["by_hour"][2] == 2 and sum(result["by_hour"]) == 6
    assert result["weekdays"][0] == "Monday" and result["timezone"] == "Europe/Paris"
    json.dumps(result, allow_nan=False)


def test_time_pattern_chi_square_tells_a_peak_from_a_flat_week():
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)  # a Monday; UTC = the zone given below
    flat = [at((start + timedelta(hours=h)).isoformat()) for h in range(168 * 10)]  # 10 per cell
    peaked = flat + [at("2024-01-05T21:15:00+00:00")] * 200  # a Friday, 21 h
    assert time_pattern(flat, "UTC")["chi_square"]["p_value"] == pytest.approx(1.0)
    result = time_pattern(peaked, "UTC")
    assert result["chi_square"]["p_value"] < 1e-12
    assert result["peak"] == {"weekday": "Friday", "hour": 21, "count": 210}


# ---------------------------------------------------------------- per commune


def place(lon, lat, commune="", k=0) -> Incident:
    return Incident(id=f"citizen:{k}", layer="citizen", occurred_at=T0, category="x", lat=lat, lon=lon, commune=commune)


def square(x0, y0, size=1.0) -> list:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


COMMUNES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Alpha", "insee": "30001"},
            "geometry": {"type": "Polygon", "coordinates": square(0, 0)},
        },
        {
            "type": "Feature",
            "properties": {"name": "Beta"},
            "geometry": {"type": "MultiPolygon", "coordinates": [square(1, 0), square(5, 5)]},
        },
    ],
}


def test_by_commune_with_polygons_uses_the_name_then_the_position():
    incidents = [
        place(1.5, 0.5, "alpha ", 0),  # named Alpha (case, spaces), lies in Beta: the name wins
        place(1.5, 0.5, "", 1),  # blank, in Beta
        place(5.5, 5.5, "", 2),  # blank, in Beta's second part
        place(0.5, 0.5, "Gamma", 3),  # unknown name, lies in Alpha
        place(9.0, 9.0, "", 4),  # nowhere
    ]
    result = by_commune(incidents, COMMUNES)
    counts = {f["properties"]["name"]: f["properties"]["count"] for f in result["features"]}
    assert counts == {"Alpha": 2, "Beta": 2}
    assert result["unassigned"] == 1 and result["unmatched_names"] == ["Gamma"]
    assert result["features"][0]["properties"]["insee"] == "30001"
    assert result["features"][1]["geometry"]["type"] == "MultiPolygon"
    json.dumps(result, allow_nan=False)


def test_by_commune_without_polygons_puts_one_point_per_name():
    incidents = [
        place(4.0, 43.0, "Nîmes", 0),
        place(4.2, 43.2, "Nîmes", 1),
        place(4.4, 43.4, "Uzès", 2),
        place(4.5, 43.5, "", 3),
    ]
    result = by_commune(incidents)
    assert [(f["properties"]["name"], f["properties"]["count"]) for f in result["features"]] == [
        ("Nîmes", 2),
        ("Uzès", 1),
    ]
    assert result["features"][0]["geometry"] == {"type": "Point", "coordinates": [4.1, 43.1]}
    assert result["unassigned"] == 1


# ---------------------------------------------------------------- errors

ONE = [place(4.36, 43.83, "", 0)]
BAD_PARAMETERS = [
    (density, {"bandwidth_m": 0}, "bandwidth_m"),
    (density, {"bandwidth_m": float("nan")}, "bandwidth_m"),
    (density, {"bandwidth_m": "wide"}, "bandwidth_m"),
    (density, {"cell_m": -1}, "cell_m"),
    (density, {"max_cells": 0}, "max_cells"),
    (density, {"bandwidth_m": 100, "cell_m": 0.5, "max_cells": 100}, "max_cells=100"),
    (hotspots, {"cell_m": 0}, "cell_m"),
    (hotspots, {"permutations": 10}, "permutations"),
    (hotspots, {"seed": -1}, "seed"),
    (hotspots, {"cell_m": 1e6}, "cell_m"),  # a single cell: nothing to compare
    (near_repeat, {"distance_bands_m": (100, 200)}, "distance_bands_m"),
    (near_repeat, {"distance_bands_m": (0, 200, 100)}, "distance_bands_m"),
    (near_repeat, {"time_bands_days": (0,)}, "time_bands_days"),
    (near_repeat, {"time_bands_days": "weekly"}, "time_bands_days"),
    (near_repeat, {"permutations": 5}, "permutations"),
    (time_pattern, {"timezone": "Mars/Olympus_Mons"}, "timezone"),
    (by_commune, {"communes": {"type": "Feature"}}, "FeatureCollection"),
    (by_commune, {"communes": COMMUNES, "name_property": "nom"}, "'nom'"),
]


@pytest.mark.parametrize(
    "function, kwargs, named", BAD_PARAMETERS, ids=[f"{f.__name__}-{m}" for f, _, m in BAD_PARAMETERS]
)
def test_bad_parameters_are_refused_by_name(function, kwargs, named):
    rng = np.random.default_rng(0)
    incidents = make_incidents(uniform_xy(rng, 30), rng.uniform(0, 30, 30))
    with pytest.raises(CrimeMapError, match=named.replace("(", r"\(")):
        function(incidents, **kwargs)


@pytest.mark.parametrize(
    "function, kwargs",
    [(density, {}), (hotspots, {}), (near_repeat, {}), (time_pattern, {"timezone": "UTC"}), (by_commune, {})],
)
def test_no_incidents_is_an_error(function, kwargs):
    with pytest.raises(CrimeMapError, match="no incidents"):
        function([], **kwargs)


def test_naive_times_and_bad_positions_name_the_incident():
    naive = [Incident("alerts:9", "alerts", datetime(2024, 1, 1, 12), "x", 43.8, 4.3)]
    with pytest.raises(CrimeMapError, match="alerts:9"):
        time_pattern(naive, "UTC")
    nowhere = [place(4.3, 43.8, "", 0), place(float("nan"), 43.8, "", 1), place(4.4, 43.9, "", 2)]
    with pytest.raises(CrimeMapError, match="citizen:1"):
        hotspots(nowhere)


# ---------------------------------------------------------------- report


@pytest.fixture(scope="module")
def report_incidents():
    rng = np.random.default_rng(2)
    xy = np.vstack([uniform_xy(rng, 90), CLUSTER_CENTRE + rng.uniform(-100, 100, (30, 2))])
    days = rng.uniform(0, 60, 120)  # 2024-01-01 to 2024-03-01
    return make_incidents(
        xy[:80], days[:80], category="burglary", commune="Alpha", source="city import 2024"
    ) + make_incidents(xy[80:], days[80:], category="vehicle theft", layer="alerts", source="camera nimes-arenes-01")


def test_report_html_is_self_contained_and_says_it_is_area_based(report_incidents, tmp_path):
    path = write_report(
        report_incidents,
        tmp_path / "council.html",
        title="Conseil local de sécurité",
        timezone="Europe/Paris",
        permutations=99,
        period=(date(2024, 1, 1), date(2024, 1, 31)),
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert STATEMENT in text and "5(1)(d)" in text
    assert text.count('src="data:image/png;base64,') == 5
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "city import 2024" in text and "camera nimes-arenes-01" in text
    assert "Period: 2024-01-01 to 2024-01-31 (Europe/Paris)" in text
    in_january = sum(1 for i in report_incidents if i.occurred_at < datetime(2024, 1, 31, 23, tzinfo=timezone.utc))
    assert f"{in_january:,} incidents." in text
    assert "Knox test:" in text and "Getis-Ord" in text and "GridSearchCV" in text
    assert [p.name for p in tmp_path.iterdir()] == ["council.html"]  # no temporary file left behind


def test_report_html_in_french_for_a_french_council(report_incidents, tmp_path):
    """The report is written in the language of the moment (the site file's, or the request's): in French, its
    headings, statement, dates and numbers are French."""
    from vigie.i18n import gettext, use_language

    with use_language("fr"):
        path = write_report(
            report_incidents,
            tmp_path / "conseil.html",
            title="Conseil local de sécurité",
            timezone="Europe/Paris",
            permutations=99,
            period=(date(2024, 1, 1), date(2024, 1, 31)),
        )
        statement = gettext(STATEMENT)
    text = path.read_text(encoding="utf-8")
    assert '<html lang="fr">' in text and statement != STATEMENT
    assert html.escape(statement, quote=True) in text or statement in text
    assert "Période\u00a0: du 01/01/2024 au 31/01/2024 (Europe/Paris)." in text
    assert "Faits par catégorie et par couche" in text and "Méthodes" in text and "Test de Knox" in text
    assert "Incidents by category and layer" not in text and "Data sources" not in text


# English words that no French sentence of the report uses (library and method names aside, below).
ENGLISH_WORDS = re.compile(
    r"\b(the|of|and|by|with|from|is|are|at|per|between|within|each|chosen|computed|cells?|left|blank|given|"
    r"degrees|freedom|weights|bands?|days|beyond|seed|rule|pairs|expected|density|share|unknown|more than)\b",
    re.IGNORECASE,
)
# Names that stay as they are in French: libraries, their parameters, a published tool.
PROPER_NAMES = re.compile(r"Near Repeat Calculator|Hot Spot Analysis|scikit-learn|\(m/n\)\^\(1/6\)")


def _report_texts(text: str) -> list[str]:
    """Every paragraph, list item, heading, table cell and image caption of an HTML report."""
    import html.parser

    class Texts(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.open, self.found = [], []

        def handle_starttag(self, tag, attrs):
            if tag in ("p", "li", "h1", "h2", "th", "td", "strong"):
                self.open.append(tag)
            if tag == "img":
                self.found.append(dict(attrs).get("alt", ""))

        def handle_endtag(self, tag):
            if self.open and self.open[-1] == tag:
                self.open.pop()

        def handle_data(self, data):
            if self.open and data.strip():
                self.found.append(data.strip())

    parser = Texts()
    parser.feed(text)
    return parser.found


@pytest.mark.parametrize("subsample", [False, True])
def test_the_french_report_has_no_english_paragraph_left(report_incidents, tmp_path, monkeypatch, subsample):
    """Issue 21: the methods, the captions, the tables' headings and bands, the hot-spot and near-repeat texts
    of a French report are all French (the analyses' own descriptions included); the English report keeps them
    in English. With a subsample (a lowered cap), the near-repeat's note too."""
    from vigie.crimemap import analysis
    from vigie.i18n import use_language

    if subsample:
        monkeypatch.setattr(analysis, "NEAR_REPEAT_MAX_INCIDENTS", 100)
    texts = {}
    for lang in ("fr", "en"):
        with use_language(lang):
            path = write_report(
                report_incidents,
                tmp_path / f"report-{lang}.html",
                title="Conseil local de sécurité",
                timezone="Europe/Paris",
                permutations=99,
            )
        texts[lang] = _report_texts(path.read_text(encoding="utf-8"))
    french = [t for t in texts["fr"] if t not in ("city import 2024", "camera nimes-arenes-01")]
    english_left = [t for t in french if ENGLISH_WORDS.search(PROPER_NAMES.sub("", t))]
    assert english_left == []
    methods = texts["fr"][texts["fr"].index("Méthodes") + 1 :][:6]
    assert [m.split("\u00a0:")[0] for m in methods] == [
        "Positions",
        "Densité",
        "Points chauds",
        "Répétition proche",
        "Répartition dans le temps",
        "Communes",
    ]
    assert "0 à 100 m" in texts["fr"] and "plus de 28 jours" in texts["fr"]
    assert any("sous-échantillon aléatoire de 100" in m for m in methods) == subsample
    # the English report: its methods in English, word for word as before
    english = texts["en"]
    methods = english[english.index("Methods") + 1 :][:6]
    assert [m.split(":")[0] for m in methods] == [
        "Positions",
        "Density",
        "Hot spots",
        "Near-repeat",
        "Time pattern",
        "Communes",
    ]
    assert "queen contiguity between grid cells" in methods[2] and "0-100 m" in english
    assert any("random subsample of 100" in m for m in methods) == subsample


def test_the_french_pdf_reports_methods_are_french(report_incidents, tmp_path):
    """The PDF carries the same methods as the HTML: in French, none of their sentences is left in English
    (read back by poppler's pdftotext, as the case export's sheet is: FAILS without it)."""
    import shutil
    import subprocess

    from vigie.i18n import use_language

    assert shutil.which("pdftotext"), "poppler-utils is not installed: `make setup` as root to read the report"
    with use_language("fr"):
        path = write_report(report_incidents, tmp_path / "conseil.pdf", title="Conseil", timezone="Europe/Paris")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, timeout=60).stdout.decode()
    methods = " ".join(text.split("Méthodes", 1)[1].split("Analyse par zones uniquement", 1)[0].split())
    # (split() also splits at the no-break spaces: the words come back joined by plain spaces)
    assert methods.startswith("Positions : projection azimutale") and "Communes : d'après" in methods
    assert ENGLISH_WORDS.findall(PROPER_NAMES.sub("", methods)) == []


def test_report_pdf(report_incidents, tmp_path):
    path = write_report(
        report_incidents, tmp_path / "council.pdf", title="Council", timezone="Europe/Paris", permutations=99
    )
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    # Summary, three maps, communes, near-repeat table and picture, hour x weekday, methods.
    assert int(re.search(rb"/Count (\d+)", data).group(1)) >= 9


def test_report_on_too_few_incidents_says_what_it_could_not_compute(tmp_path):
    two = [place(4.36, 43.83, "Alpha", 0), place(4.3605, 43.8302, "Alpha", 1)]  # 45 m apart: one cell
    text = write_report(two, tmp_path / "two.html", title="Two", timezone="UTC").read_text(encoding="utf-8")
    assert "Hot spots not computed: cell_m=250.0 leaves" in text
    assert "Near-repeat not computed: near_repeat needs at least 3 incidents, got 2" in text
    assert text.count('src="data:image/png;base64,') == 3 and STATEMENT in text


@pytest.mark.parametrize(
    "name, kwargs, named",
    [
        ("council.docx", {}, ".html or .pdf"),
        ("council.pdf", {"cell_m": -250}, "cell_m"),
        ("council.pdf", {"permutations": 9}, "permutations"),
        ("council.html", {"timezone": "Nowhere/Town"}, "timezone"),
        ("council.html", {"period": (date(2030, 1, 1), date(2030, 2, 1))}, "period"),
        ("council.html", {"period": (datetime(2024, 1, 1), datetime(2024, 2, 1))}, "timezone-aware"),
    ],
)
def test_report_refuses_bad_requests(report_incidents, tmp_path, name, kwargs, named):
    args = {"title": "Council", "timezone": "Europe/Paris", **kwargs}
    with pytest.raises(CrimeMapError, match=named):
        write_report(report_incidents, tmp_path / name, **args)
    assert not list(tmp_path.iterdir())


def test_projection_round_trips_and_measures_metres():
    projection = LocalProjection.around([43.80, 43.86], [4.30, 4.40])
    x, y = projection.to_metres([4.30, 4.40], [43.83, 43.83])
    geodesic = Geod(ellps="WGS84").inv(4.30, 43.83, 4.40, 43.83)[2]
    assert math.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(geodesic, rel=1e-4)
    lon, lat = projection.to_lonlat(x, y)
    assert np.allclose(lon, [4.30, 4.40]) and np.allclose(lat, [43.83, 43.83])
    with pytest.raises(CrimeMapError, match="lat/lon"):
        projection.to_metres([200.0], [43.0])


def test_the_hot_spot_weights_are_libpysals_queen_grid_restricted_to_the_study_area():
    import libpysal

    from vigie.crimemap.analysis import _queen_weights

    study = np.random.default_rng(3).random((30, 40)) < 0.6
    ids = np.flatnonzero(study.ravel()).tolist()
    reference = libpysal.weights.w_subset(libpysal.weights.lat2W(30, 40, rook=False), ids, silence_warnings=True)
    built = _queen_weights(study)
    assert built.id_order == reference.id_order == ids
    assert all(sorted(built.neighbors[i]) == sorted(reference.neighbors[i]) for i in ids)
