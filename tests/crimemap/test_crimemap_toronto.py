"""The crime map's analyses on real data: Toronto Police Service's Major Crime Indicators (test.csv,
30,000 incidents 2014-2021, positions offset to the nearest intersection). The assertions are
relations the data shows (figures printed with -s), not exact values."""

from __future__ import annotations

import time
import zipfile
from datetime import date

import numpy as np
import pytest

from vigie.crimemap.analysis import hotspots, near_repeat, time_pattern
from vigie.crimemap.datasets import TORONTO_FILES, TORONTO_WHEEL, datasets_dir, toronto_mci
from vigie.crimemap.report import STATEMENT, write_report

pytestmark = pytest.mark.slow

CATEGORIES = {"Assault", "Break and Enter", "Auto Theft", "Robbery", "Theft Over"}
DOWNTOWN = {"lat": (43.635, 43.675), "lon": (-79.41, -79.36)}  # Financial District to Church-Yonge


@pytest.fixture(scope="module")
def toronto():
    return toronto_mci("test")


def of(incidents, category, year):
    return [i for i in incidents if i.category == category and i.occurred_at.year == year]


def test_loads_the_30000_incidents_in_toronto(toronto):
    assert len(toronto) == 30_000 and toronto.skipped["no position (Lat/Long 0 or missing)"] == 0
    assert {i.category for i in toronto} == CATEGORIES
    lats = np.array([i.lat for i in toronto])
    lons = np.array([i.lon for i in toronto])
    assert lats.min() > 43.58 and lats.max() < 43.86 and lons.min() > -79.64 and lons.max() < -79.11
    assert len({i.id for i in toronto}) == 30_000
    assert all(i.layer == "imported" and i.occurred_at.utcoffset().total_seconds() == 0 for i in toronto[:100])
    assert len({i.commune for i in toronto}) == 140  # Toronto's 140 neighbourhoods


def test_hot_spots_of_assaults_in_2019_sit_on_the_busiest_cells_downtown(toronto):
    assaults = of(toronto, "Assault", 2019)
    result = hotspots(assaults, cell_m=250, permutations=999, seed=0)
    cells = result["features"]
    counts = np.array([f["properties"]["count"] for f in cells])
    hot = np.array([f["properties"]["class"] == "hot 99%" for f in cells])
    centres = np.array([np.mean(f["geometry"]["coordinates"][0][:4], axis=0) for f in cells])
    downtown = (
        (centres[:, 1] > DOWNTOWN["lat"][0])
        & (centres[:, 1] < DOWNTOWN["lat"][1])
        & (centres[:, 0] > DOWNTOWN["lon"][0])
        & (centres[:, 0] < DOWNTOWN["lon"][1])
    )
    busiest = np.argsort(-counts)[:10]
    print(
        f"\nassaults 2019: {len(assaults)} incidents, {len(cells)} cells, classes {result['classes']}; "
        f"{result['fdr']}; busiest counts {counts[busiest].tolist()}; mean count hot 99% "
        f"{counts[hot].mean():.2f} vs {counts[~hot].mean():.2f}; hot 99% share downtown {hot[downtown].mean():.0%} "
        f"vs {hot[~downtown].mean():.1%} elsewhere"
    )
    assert result["classes"]["hot 99%"] >= 50 and result["fdr_cells"] >= 50
    assert hot[busiest].all()
    assert counts[hot].mean() > 5 * counts[~hot].mean()
    assert hot[downtown].mean() > 0.4 > 0.05 > hot[~downtown].mean()


def test_break_and_enter_shows_a_near_repeat_excess(toronto):
    one_year = near_repeat(of(toronto, "Break and Enter", 2019))
    knox = one_year["knox"]
    print(f"\nB&E 2019: {one_year['n']} incidents, Knox {knox}")
    for row in one_year["table"][:4]:
        print(
            "  ", row["distance_band"], row["time_band"], row["observed"], row["expected"], row["ratio"], row["p_value"]
        )
    assert knox["ratio"] > 1 and one_year["table"][0]["observed"] == knox["observed"]
    # Over the eight years the excess is plain (a ratio of about 3; every year's ratio is above 1).
    everything = near_repeat([i for i in toronto if i.category == "Break and Enter"])
    print(f"B&E 2014-2021: {everything['n']} incidents, Knox {everything['knox']}")
    assert everything["knox"]["ratio"] > 2 and everything["knox"]["p_value"] <= 0.05


def test_time_pattern_is_the_files_local_hours_and_shows_the_daily_cycle(toronto):
    import pandas as pd

    result = time_pattern(toronto, "America/Toronto")
    by_hour = result["by_hour"]
    print(f"\nby hour {by_hour}\nby weekday {result['by_weekday']}\nchi-square {result['chi_square']}")
    assert by_hour[5] < 0.5 * by_hour[20]
    assert int(np.argmin(by_hour)) in (5, 6)
    assert result["chi_square"]["p_value"] < 1e-100
    # Back to the file: the local hour and weekday it gives (only the hour 2 of the
    # spring change, which does not exist, moves to 3).
    with zipfile.ZipFile(datasets_dir() / TORONTO_WHEEL) as archive:
        df = pd.read_csv(archive.open(TORONTO_FILES["test"]), usecols=["occurrencehour", "occurrencedayofweek"])
    file_hours = np.bincount(df["occurrencehour"], minlength=24)
    moved = np.array(by_hour) - file_hours
    assert moved[2] <= 0 and moved[3] == -moved[2] and np.delete(moved, [2, 3]).tolist() == [0] * 22
    days = df["occurrencedayofweek"].str.strip().value_counts()
    assert all(abs(result["by_weekday"][k] - days[d]) <= 7 for k, d in enumerate(result["weekdays"]))


def test_the_report_builds_from_the_real_data(toronto, tmp_path):
    started = time.perf_counter()
    html = write_report(
        toronto, tmp_path / "toronto.html", title="Toronto, major crime indicators", timezone="America/Toronto"
    )
    took = time.perf_counter() - started
    text = html.read_text(encoding="utf-8")
    print(f"\nHTML report on {len(toronto):,} incidents: {took:.1f} s, {len(text) / 1e3:.0f} kB")
    assert STATEMENT in text and text.count("data:image/png;base64,") == 5
    assert "Toronto Police Service, Major Crime Indicators (open data): 30,000 incidents" in text
    assert "Waterfront Communities-The Island" in text
    assert took < 60

    pdf = write_report(
        of(toronto, "Break and Enter", 2019),
        tmp_path / "toronto-be-2019.pdf",
        title="Toronto, break and enter 2019",
        timezone="America/Toronto",
        period=(date(2019, 1, 1), date(2019, 12, 31)),
    )
    assert pdf.read_bytes().startswith(b"%PDF")
