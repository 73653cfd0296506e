"""The search query: one validated object shared by the CLI, the API and the UI.

What a query means, in one place:

- Filters combine with AND; the values of one filter with OR (`upper: [red,
  orange]` is a red or an orange top). `cameras`, `groups`, `communes` and
  `zones` each restrict the cameras, so `cameras: [a]` with `groups: [g]`
  keeps camera a only if it is in group g.
- A colour matches if it is among the track's first `colour_tolerance` ranked
  names for that part (rank 0 = dominant): witnesses and the colour namer both
  get the second colour of a striped top right more often than its order.
- Times are UTC; a time given without an offset is taken as UTC. A track is in
  the window [start, end) if it was seen within it: first_seen < end and
  last_seen >= start.
- Speeds are ground speeds in m/s. Tracks of uncalibrated cameras have none,
  so they never match a speed filter (sizes and dwell work everywhere).
- A zone is a polygon in its camera's source pixels; a track is in it if one
  of its foot points (bottom centre of its box) lies inside (even-odd rule).
  Zones also restrict the search to their cameras.
- `sort`: relevance (best first; colour match for attribute searches, cosine
  for similar ones; ties oldest first), time (oldest first), -time, dwell
  (shortest first), -dwell, speed (slowest first), -speed; tracks without a
  speed come last either way.

The zone geometry (which of the 8x8 image cells a polygon touches or covers,
and which cells a track's foot points occupied) lives here too, because it is
what a zone means; the index uses it to skip tracks that never came near.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any, Iterable, Literal, Mapping, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from vigie.describe.attributes import PERSON_ATTRIBUTES, VEHICLE_TYPES
from vigie.describe.colours import PALETTE
from vigie.describe.config import SEARCHABLE_BY_DEFAULT
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import UTC, place
from vigie.types import TRACKED_CLASSES
from vigie.zones import polygon_area

COMPASS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


class SearchError(VigieError):
    """A search that cannot run as asked. `field` names the query field at fault, `value` its bad value."""

    def __init__(self, message: str, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

    def body(self) -> dict:
        return {**super().body(), "field": self.field}


class CameraInfo(NamedTuple):
    """What a search needs to know of a camera."""

    id: str
    name: str
    commune: str
    group: str


def _names(values: list[str], valid: tuple[str, ...], what: str, normalise=str.lower) -> list[str]:
    out = []
    for v in values:
        n = normalise(v.strip())
        if n not in valid:
            raise ValueError(_("{v} is not {what} (valid: {value})", v=repr(v), what=what, value=", ".join(valid)))
        if n not in out:
            out.append(n)
    return out


def _attribute_name(text: str) -> str:
    """long-sleeves, Long Sleeves and long_sleeves are one attribute."""
    return "_".join(text.lower().replace("-", " ").split())


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return place(v, UTC, "", ValueError)  # pydantic names the field


class SearchQuery(BaseModel):
    """Filters, order and page of a forensic search (see the module docstring for their meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: list[str] = Field(
        default_factory=list, description=f"Object classes, any of: {', '.join(TRACKED_CLASSES)}."
    )
    upper: list[str] = Field(default_factory=list, description="Colour names of the upper body (people), any of them.")
    lower: list[str] = Field(default_factory=list, description="Colour names of the lower body (people), any of them.")
    body: list[str] = Field(default_factory=list, description="Colour names of the whole body (vehicles), any of them.")
    with_attributes: list[str] = Field(
        default_factory=list,
        description=f"People seen with all of these (clothing, carried objects), any of: {', '.join(PERSON_ATTRIBUTES)}.",
    )
    without_attributes: list[str] = Field(
        default_factory=list, description="People seen without any of these (same names as with_attributes)."
    )
    vehicle_types: list[str] = Field(
        default_factory=list, description=f"Vehicle types, any of them: {', '.join(VEHICLE_TYPES)}."
    )
    colour_tolerance: int = Field(
        2, ge=1, description="A colour matches if among the track's first this-many ranked names."
    )
    start: datetime | None = Field(None, description="Start of the time window, UTC unless an offset is given.")
    end: datetime | None = Field(None, description="End of the time window (excluded), UTC unless an offset is given.")
    cameras: list[str] = Field(default_factory=list, description="Camera ids.")
    groups: list[str] = Field(default_factory=list, description="Camera groups (districts, sectors).")
    communes: list[str] = Field(default_factory=list, description="Communes.")
    zones: dict[str, list[tuple[float, float]]] = Field(
        default_factory=dict,
        description="Camera id -> polygon [(x, y), ...] in the camera's source pixels, at least 3 points.",
    )
    directions: list[str] = Field(
        default_factory=list, description=f"Image-space directions, any of: {' '.join(COMPASS)} (N = up)."
    )
    min_speed: float | None = Field(None, ge=0, description="Lowest ground speed, m/s (calibrated cameras only).")
    max_speed: float | None = Field(None, ge=0, description="Highest ground speed, m/s (calibrated cameras only).")
    min_dwell: float | None = Field(None, ge=0, description="Shortest time in view, seconds.")
    min_height: float | None = Field(None, gt=0, description="Smallest median box height, pixels.")
    max_height: float | None = Field(None, gt=0, description="Largest median box height, pixels.")
    sort: Literal["relevance", "time", "-time", "dwell", "-dwell", "speed", "-speed"] = Field(
        "relevance", description="Order of the results."
    )
    limit: int = Field(50, ge=1, le=1000, description="Results per page.")
    offset: int = Field(0, ge=0, le=10**9, description="Results to skip (paging).")

    @field_validator("classes")
    @classmethod
    def _classes(cls, v: list[str]) -> list[str]:
        return _names(v, TRACKED_CLASSES, "a tracked class")

    @field_validator("upper", "lower", "body")
    @classmethod
    def _colours(cls, v: list[str]) -> list[str]:
        return _names(v, PALETTE, "a colour name")

    @field_validator("with_attributes", "without_attributes")
    @classmethod
    def _attributes(cls, v: list[str]) -> list[str]:
        return _names(v, PERSON_ATTRIBUTES, "a clothing or carried-object attribute", normalise=_attribute_name)

    @field_validator("vehicle_types")
    @classmethod
    def _vehicle_types(cls, v: list[str]) -> list[str]:
        return _names(v, VEHICLE_TYPES, "a vehicle type")

    @field_validator("directions")
    @classmethod
    def _directions(cls, v: list[str]) -> list[str]:
        return _names(v, COMPASS, "a compass direction", normalise=str.upper)

    @field_validator("start")
    @classmethod
    def _start(cls, v: datetime | None) -> datetime | None:
        return _utc(v)

    @field_validator("end")
    @classmethod
    def _end(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        v, start = _utc(v), info.data.get("start")
        if v is not None and start is not None and start >= v:
            raise ValueError(
                _(
                    "reversed time window: start {value} is not before end {value2}",
                    value=start.isoformat(),
                    value2=v.isoformat(),
                )
            )
        return v

    @field_validator("max_speed", "max_height")
    @classmethod
    def _range(cls, v: float | None, info: ValidationInfo) -> float | None:
        """min_X must not be above max_X (fields are validated in order, so min_X is known here)."""
        low_name = "min_" + info.field_name.removeprefix("max_")
        low = info.data.get(low_name)
        if v is not None and low is not None and low > v:
            raise ValueError(
                _(
                    "{low_name} {low} is above {field_name} {v}",
                    low_name=low_name,
                    low=low,
                    field_name=info.field_name,
                    v=v,
                )
            )
        return v

    @field_validator("zones")
    @classmethod
    def _zones(cls, v: dict[str, list[tuple[float, float]]]) -> dict[str, list[tuple[float, float]]]:
        for camera, polygon in v.items():
            if len(polygon) < 3:
                raise ValueError(
                    _(
                        "the polygon of camera {camera} needs at least 3 points, got {n_polygon}: {polygon}",
                        camera=repr(camera),
                        n_polygon=len(polygon),
                        polygon=polygon,
                    )
                )
            if not all(math.isfinite(c) for p in polygon for c in p):
                raise ValueError(
                    _(
                        "the polygon of camera {camera} has a coordinate that is not a finite number: {polygon}",
                        camera=repr(camera),
                        polygon=polygon,
                    )
                )
            if polygon_area(np.asarray(polygon, float)) == 0:
                raise ValueError(
                    _(
                        "the polygon of camera {camera} encloses no area: {polygon}",
                        camera=repr(camera),
                        polygon=polygon,
                    )
                )
        return v

    def check_searchable(self, searchable: Iterable[str]) -> None:
        """Raise SearchError if the query filters on an attribute the site hides from search
        (analysis.attributes.searchable: those not accurate enough on real footage)."""
        searchable = set(searchable)
        for field in ("with_attributes", "without_attributes"):
            for name in getattr(self, field):
                if name not in searchable:
                    raise SearchError(
                        _(
                            "search field {field}: {name} is not searchable on this site: the attribute network is not reliable enough for it on real footage (searchable: {value}; docs/BENCHMARKS.md section 24, site setting analysis.attributes.searchable)",
                            field=field,
                            name=repr(name),
                            value=", ".join(sorted(searchable)) or "none",
                        ),
                        field,
                        name,
                    )

    def resolve_places(self, cameras: Iterable[CameraInfo]) -> tuple[SearchQuery, dict[str, dict[str, list[str]]]]:
        """The query with its cameras, groups and communes as the store spells them, and what each name given
        matched ({"cameras": {"esplanade": ["nimes-esplanade-01"]}, ...}).

        People type names, not ids: a camera is matched by its id or its name, case and accents aside, then by
        a part of its name ("esplanade"); groups and communes case and accents aside ("centre" is "Centre").
        Raises SearchError naming every name of a field that matched nothing."""
        cameras = list(cameras)
        read: dict[str, dict[str, list[str]]] = {}
        update: dict[str, list[str]] = {}
        for field, what in (("cameras", "camera"), ("groups", "camera group"), ("communes", "commune")):
            given = getattr(self, field)
            if not given:
                continue
            found = {name: _place_matches(field, name, cameras) for name in given}
            unmatched = [name for name, hits in found.items() if not hits]
            if unmatched:
                known = _known_places(field, cameras)
                shown = ", ".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
                raise SearchError(
                    f"search field {field}: unknown {what} {', '.join(map(repr, unmatched))} (known: {shown or 'none'})",
                    field,
                    unmatched[0],
                )
            read[field] = found
            update[field] = list(dict.fromkeys(v for hits in found.values() for v in hits))
        self.validate_against(cameras, places=False)
        return (self.model_copy(update=update) if update else self), read

    def validate_against(self, cameras: Iterable[CameraInfo], places: bool = True) -> None:
        """Raise SearchError if the query names a camera, group or commune the store does not have
        (spelt as the store spells it: resolve_places reads people's spellings first)."""
        cameras = list(cameras)
        ids = sorted({c.id for c in cameras})
        for field, wanted, known, what in (
            ("cameras", self.cameras, ids, "camera"),
            ("zones", list(self.zones), ids, "camera"),
            ("groups", self.groups, sorted({c.group for c in cameras} - {""}), "camera group"),
            ("communes", self.communes, sorted({c.commune for c in cameras} - {""}), "commune"),
        ):
            if not places and field != "zones":
                continue
            for name in wanted:
                if name not in known:
                    shown = ", ".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
                    raise SearchError(
                        _(
                            "search field {field}: unknown {what} {name} (known: {value})",
                            field=field,
                            what=what,
                            name=repr(name),
                            value=shown or "none",
                        ),
                        field,
                        name,
                    )


def _fold(text: str) -> str:
    """A name as compared: lower case, without accents, single spaces ("Nîmes " and "nimes" are one)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _place_matches(field: str, name: str, cameras: list[CameraInfo]) -> list[str]:
    """The store's spellings that a name given for `field` stands for (empty: none)."""
    wanted = _fold(name)
    if not wanted:
        return []
    if field == "cameras":
        exact = [c.id for c in cameras if wanted in (_fold(c.id), _fold(c.name))]
        return exact or [c.id for c in cameras if wanted in _fold(c.name) or wanted in _fold(c.id)]
    attr = "group" if field == "groups" else "commune"
    return sorted({getattr(c, attr) for c in cameras if getattr(c, attr) and _fold(getattr(c, attr)) == wanted})


def _known_places(field: str, cameras: list[CameraInfo]) -> list[str]:
    if field == "cameras":
        return sorted(c.id for c in cameras)
    attr = "group" if field == "groups" else "commune"
    return sorted({getattr(c, attr) for c in cameras} - {""})


def searchable_attributes(site) -> tuple[str, ...]:
    """The attributes a site lets investigators search by (its analysis.attributes.searchable;
    without a site file, the built-in default)."""
    return tuple(site.analysis.attributes.searchable) if site is not None else SEARCHABLE_BY_DEFAULT


def parse_query(data: Mapping[str, Any]) -> SearchQuery:
    """Validate plain data (CLI flags, JSON) into a SearchQuery, or raise SearchError naming the field and value."""
    try:
        return SearchQuery.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "query"
        if err["type"] == "extra_forbidden":
            known = ", ".join(SearchQuery.model_fields)
            raise SearchError(
                _("search field {field}: no such field (known: {known})", field=field, known=known), field, err["input"]
            ) from None
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] != "value_error":  # pydantic's own messages do not quote the value
            message += f", got {err['input']!r}"
        raise SearchError(
            _("search field {field}: {message}", field=field, message=message), field, err["input"]
        ) from None
