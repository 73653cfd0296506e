"""Issue 20 (one clock): each import is analysed on its own clock. A Toronto file imported on a Paris site
keeps America/Toronto: its 18:00 incidents are at 18:00 in the hour-by-weekday table, not at midnight
(Paris is 6 hours ahead in winter), while the site's own incidents stay on Paris's clock."""

from __future__ import annotations

from vigie.config import CameraConfig, SiteConfig
from vigie.crimemap.analysis import time_pattern
from vigie.crimemap.importer import import_file, list_imports
from vigie.crimemap.layers import load_incidents
from vigie.store.sqlite import SQLiteStore

SITE = SiteConfig(
    name="Nîmes test", timezone="Europe/Paris", cameras=[CameraConfig(id="cam-a", name="A", lat=43.83, lon=4.36)]
)
KW = dict(source="open data", crs=None, user="analyst", role="analyst")


def _csv(rows: list[str]) -> bytes:
    return ("occurred_at,category,lat,lon\n" + "\n".join(rows) + "\n").encode()


def test_a_toronto_import_is_counted_on_torontos_clock(tmp_path):
    store = SQLiteStore(tmp_path)
    try:
        # Wednesday 2 December 2026, 18:00 local time (no offset in the file: the import's zone says it)
        toronto = _csv([f"2026-12-02T18:{m:02d}:00,assault,43.65,-79.38" for m in range(0, 50, 10)])
        import_file(store, toronto, file_name="toronto.csv", timezone="America/Toronto", **KW)
        nimes = _csv(["2026-12-02T09:30:00,vol,43.83,4.36"])
        import_file(store, nimes, file_name="nimes.csv", timezone="Europe/Paris", **KW)
        zones = {i["file_name"]: i["timezone"] for i in list_imports(store)}
        assert zones == {"toronto.csv": "America/Toronto", "nimes.csv": "Europe/Paris"}

        incidents = load_incidents(store, SITE, layers=["imported"])
        both = time_pattern(incidents, SITE.timezone)
        assert both["counts"][2][18] == 5 and both["counts"][2][9] == 1, both["by_hour"]
        assert both["counts"][3][0] == 0  # not shifted to Thursday midnight, Paris time
        assert both["zones"] == {"America/Toronto": 5, "Europe/Paris": 1}

        only = time_pattern([i for i in incidents if i.category == "assault"], SITE.timezone)
        assert only["timezone"] == "America/Toronto" and only["peak"] == {
            "weekday": "Wednesday",
            "hour": 18,
            "count": 5,
        }
    finally:
        store.close()
