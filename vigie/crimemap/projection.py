"""A local metric projection for the crime map's analyses, which measure in metres.

Azimuthal equidistant (proj "aeqd") centred on the middle of the incidents'
bounding box, WGS84 ellipsoid: distances from the centre are exact and, over a
city (tens of kilometres), every distance is within a few parts in ten
thousand, well below the precision of any incident's position. Grids built in
metres go back to lon/lat with the inverse, so cells can be drawn as GeoJSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pyproj import Transformer

from vigie.crimemap.incidents import CrimeMapError
from vigie.i18n import _


@dataclass(frozen=True)
class LocalProjection:
    lat0: float
    lon0: float
    _forward: Transformer = field(init=False, repr=False, compare=False)
    _inverse: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lat0) and -90 <= self.lat0 <= 90):
            raise CrimeMapError(_("projection centre latitude {lat0} is not within -90..90", lat0=repr(self.lat0)))
        if not (np.isfinite(self.lon0) and -180 <= self.lon0 <= 180):
            raise CrimeMapError(_("projection centre longitude {lon0} is not within -180..180", lon0=repr(self.lon0)))
        # always_xy: lon, lat order in and out, whatever the CRS's axis order says.
        object.__setattr__(self, "_forward", Transformer.from_crs("EPSG:4326", self.proj, always_xy=True))
        object.__setattr__(self, "_inverse", Transformer.from_crs(self.proj, "EPSG:4326", always_xy=True))

    @property
    def proj(self) -> str:
        return f"+proj=aeqd +lat_0={self.lat0:.7f} +lon_0={self.lon0:.7f} +datum=WGS84 +units=m +no_defs"

    @property
    def description(self) -> str:
        return _(
            "azimuthal equidistant projection centred on {lat}, {lon} (pyproj), in metres",
            lat=format(self.lat0, ".5f"),
            lon=format(self.lon0, ".5f"),
        )

    @classmethod
    def around(cls, lats, lons) -> "LocalProjection":
        """The projection centred on the middle of these points' bounding box."""
        lats, lons = _check_lonlat(lats, lons)
        return cls(float((lats.min() + lats.max()) / 2), float((lons.min() + lons.max()) / 2))

    def to_metres(self, lons, lats) -> tuple[np.ndarray, np.ndarray]:
        lats, lons = _check_lonlat(lats, lons)
        x, y = self._forward.transform(lons, lats)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self._inverse.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _check_lonlat(lats, lons) -> tuple[np.ndarray, np.ndarray]:
    lats = np.atleast_1d(np.asarray(lats, dtype=float))
    lons = np.atleast_1d(np.asarray(lons, dtype=float))
    if lats.shape != lons.shape or lats.size == 0:
        raise CrimeMapError(_("lat and lon must be two non-empty arrays of the same length"))
    bad = ~(np.isfinite(lats) & np.isfinite(lons) & (np.abs(lats) <= 90) & (np.abs(lons) <= 180))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CrimeMapError(
            _(
                "position {i} (lat {value}, lon {value2}) is not a WGS84 lat/lon",
                i=i,
                value=repr(lats[i]),
                value2=repr(lons[i]),
            )
        )
    return lats, lons
