"""Incidents: the points the crime map is made of, whatever layer they come from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vigie.errors import VigieError
from vigie.i18n import _


class CrimeMapError(VigieError, ValueError):
    """Incidents or an analysis request that cannot be used; the message names the row, field or parameter."""


LAYERS = ("imported", "alerts", "citizen")  # imported files; validated video alerts; accepted citizen reports


@dataclass(frozen=True)
class Incident:
    id: str  # unique across layers: "imported:12", "alerts:4", "citizen:9"
    layer: str  # one of LAYERS
    occurred_at: datetime  # timezone-aware, UTC
    category: str
    lat: float  # WGS84
    lon: float
    commune: str = ""  # "" when unknown
    source: str = ""  # the import's source label, the camera id, or "open311"
    zone: str = ""  # the IANA zone of the incident's own clock (its import's); "" = the site's


def read_communes(path: str | Path) -> dict:
    """The site's commune polygons (crime_map.communes): a GeoJSON FeatureCollection, or an error naming the file."""
    name = Path(path).name
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CrimeMapError(_("the site's communes file {name} cannot be read: {exc}", name=name, exc=exc)) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise CrimeMapError(_("the site's communes file {name} is not a GeoJSON FeatureCollection", name=name))
    return doc
