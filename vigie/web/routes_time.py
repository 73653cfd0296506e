"""The site's clock for the pages: its zone, and a time field's text read back.

Every time a person types (a witness's "14h", "hier 14h-15h", "il y a 2 h", "06/12/2026 14:00") is in the
site's time zone, whatever the browser's zone or locale; the pages send the text here and show the
readback ("from 06/12/2026 13:45 to 06/12/2026 14:15 (Paris time)") before using the UTC times it gives.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from vigie.clock import local_text, period_text, read_period, zone_city, zone_label
from vigie.times import UTC, iso
from vigie.web.deps import CurrentUser, ServicesDep

router = APIRouter(tags=["time"])


def site_zone(services) -> ZoneInfo:
    """The site's time zone (the site file's `timezone`; UTC without a site file)."""
    return ZoneInfo(getattr(services.site, "timezone", None) or "UTC")


def clock(services) -> dict:
    """What a page needs to write and read times in the site's zone (/api/time; the pages get it from /static/clock/site.js)."""
    zone = site_zone(services)
    return {"timezone": zone.key, "city": zone_city(zone), "label": zone_label(zone)}


class TimeText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=200, description='A time as people say it: "14h", "hier 14h-15h", "last hour".')


@router.get("/api/time")
def site_clock(services: ServicesDep, user: CurrentUser) -> dict:
    """The site's zone and the time now, in UTC and as the site's clock shows it."""
    zone, now = site_zone(services), datetime.now(UTC)
    return {**clock(services), "now": iso(now), "now_text": local_text(now, zone)}


@router.post("/api/time/read")
def read_time(services: ServicesDep, user: CurrentUser, body: TimeText) -> dict:
    """A time field's text as UTC start/end (and the instant named, if one), with the readback to show.
    400 names the words not understood."""
    zone = site_zone(services)
    period = read_period(body.text, now=datetime.now(UTC), zone=zone)
    return {
        "start": iso(period.start),
        "end": iso(period.end),
        "at": iso(period.at) if period.at else None,
        "readback": period_text(period.start, period.end, zone),
        "at_text": local_text(period.at, zone) if period.at else None,
        **clock(services),
    }
