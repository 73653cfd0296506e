"""Incidents: the points the crime map is made of, whatever layer they come from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vigie.errors import VigieError

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
