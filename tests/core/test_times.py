"""vigie.times: the one clock. How times are stored, and the zone rules for times people and files give."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from vigie.errors import VigieError
from vigie.times import from_iso, iso, parse_time

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


@pytest.mark.parametrize(
    "text, naive, expected",
    [
        ("2026-11-20T13:00:00Z", UTC, datetime(2026, 11, 20, 13, tzinfo=UTC)),
        ("2026-11-20T13:00:00z", None, datetime(2026, 11, 20, 13, tzinfo=UTC)),  # a zone given: naive plays no part
        ("2026-11-20T14:00:00+01:00", None, datetime(2026, 11, 20, 13, tzinfo=UTC)),
        ("2026-11-20T13:00:00", UTC, datetime(2026, 11, 20, 13, tzinfo=UTC)),  # without a zone: UTC by default
        ("2026-11-20T14:00:00", PARIS, datetime(2026, 11, 20, 13, tzinfo=UTC)),  # ... or the site's zone (winter)
        ("2026-07-14T14:00:00", PARIS, datetime(2026, 7, 14, 12, tzinfo=UTC)),  # summer time
        ("  2026-11-20T13:00:00Z ", UTC, datetime(2026, 11, 20, 13, tzinfo=UTC)),
    ],
)
def test_a_given_time_is_read_in_its_own_zone_else_the_one_the_caller_names(text, naive, expected):
    got = parse_time(text, "--start", naive=naive)
    assert got == expected and got.tzinfo == UTC


@pytest.mark.parametrize(
    "value, naive, words",
    [
        ("yesterday", UTC, "--start 'yesterday' is not an ISO 8601 time"),
        ("2026-11-20T13:00:00", None, "--start '2026-11-20T13:00:00' needs a time zone"),
        ("0001-01-01T00:00:00+14:00", UTC, "is outside the years 1 to 9999 in UTC"),
        ("9999-12-31T23:59:59-14:00", UTC, "is outside the years 1 to 9999 in UTC"),
    ],
)
def test_a_time_that_cannot_be_read_is_refused_naming_the_flag(value, naive, words):
    with pytest.raises(VigieError, match=words):
        parse_time(value, "--start", naive=naive)


def test_the_caller_chooses_the_error_class():
    class HoldError(VigieError):
        pass

    with pytest.raises(HoldError, match="hold start 'soon'"):
        parse_time("soon", "hold start", error=HoldError)


def test_datetimes_are_accepted_too():
    aware = datetime(2026, 11, 20, 14, tzinfo=PARIS)
    assert parse_time(aware, "x") == datetime(2026, 11, 20, 13, tzinfo=UTC)
    assert parse_time(datetime(2026, 11, 20, 13), "x") == datetime(2026, 11, 20, 13, tzinfo=UTC)
    with pytest.raises(VigieError, match="needs a time zone"):
        parse_time(datetime(2026, 11, 20, 13), "x", naive=None)


def test_stored_times_sort_as_text_and_read_back_exactly():
    t0 = datetime(2026, 11, 20, 13, 0, 0, 123456, tzinfo=UTC)
    times = [t0 + timedelta(microseconds=k * 999_999) for k in range(50)]
    texts = [iso(t) for t in times]
    assert texts == sorted(texts) and texts[0] == "2026-11-20T13:00:00.123456Z"
    assert [from_iso(s) for s in texts] == times
    assert iso(datetime(2026, 11, 20, 14, tzinfo=PARIS)) == "2026-11-20T13:00:00.000000Z"
    assert from_iso("2026-11-20T13:00:00") == datetime(2026, 11, 20, 13, tzinfo=UTC)  # written without a zone: UTC


def test_a_local_time_the_clocks_skip_is_refused_and_a_repeated_hour_is_taken_first():
    with pytest.raises(VigieError, match="'2026-03-29T02:30' does not exist in Europe/Paris"):
        parse_time("2026-03-29T02:30", "--start", naive=PARIS)
    # 25 October 2026, 02:30 happened twice in Paris: first at +02:00, so 00:30 UTC.
    assert parse_time("2026-10-25T02:30", "--start", naive=PARIS) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # The same wall-clock time in UTC is never refused.
    assert parse_time("2026-03-29T02:30", "--start") == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
