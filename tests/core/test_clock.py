"""vigie.clock: times as people say them, read in the site's zone (Europe/Paris here, UTC+1 in December),
whatever the zone of the machine; and written back labelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vigie.clock import TimeNotUnderstood, flag_instant, local_text, period_text, read_period
from vigie.i18n import use_language
from vigie.times import UTC

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)  # 16:30 in Paris


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


# text -> (start, end, instant named or None), all on Paris's clock
TABLE = [
    ("14:00 ± 15 min", paris(6, 13, 45), paris(6, 14, 15), paris(6, 14)),
    ("14:00 ± 30 min", paris(6, 13, 30), paris(6, 14, 30), paris(6, 14)),
    ("14h", paris(6, 13, 45), paris(6, 14, 15), paris(6, 14)),
    ("hier 14h-15h", paris(5, 14), paris(5, 15), None),
    ("hier 14h - 15h", paris(5, 14), paris(5, 15), None),
    ("aujourd'hui 9:30", paris(6, 9, 15), paris(6, 9, 45), paris(6, 9, 30)),
    (
        "il y a 2 h",
        NOW - timedelta(hours=2, minutes=15),
        NOW - timedelta(hours=1, minutes=45),
        NOW - timedelta(hours=2),
    ),
    (
        "2 hours ago",
        NOW - timedelta(hours=2, minutes=15),
        NOW - timedelta(hours=1, minutes=45),
        NOW - timedelta(hours=2),
    ),
    ("dernière heure", NOW - timedelta(hours=1), NOW, None),
    ("last hour", NOW - timedelta(hours=1), NOW, None),
    ("06/12/2026 14:00", paris(6, 13, 45), paris(6, 14, 15), paris(6, 14)),
    ("entre 13h et 14h", paris(6, 13), paris(6, 14), None),
    ("yesterday 2pm", paris(5, 13, 45), paris(5, 14, 15), paris(5, 14)),
    ("depuis 14h", paris(6, 14), NOW, None),
    ("18h", paris(5, 17, 45), paris(5, 18, 15), paris(5, 18)),  # after now: the day before (a witness's past)
    ("14h (UTC)", datetime(2026, 12, 6, 13, 45, tzinfo=UTC), datetime(2026, 12, 6, 14, 15, tzinfo=UTC), None),
    ("du 06/12/2026 13:45 au 06/12/2026 14:15 (heure de Paris)", paris(6, 13, 45), paris(6, 14, 15), None),
    ("from 06/12/2026 13:45 to 06/12/2026 14:15 (Paris time)", paris(6, 13, 45), paris(6, 14, 15), None),
    ("2026-12-06T13:00:00Z", paris(6, 14), paris(6, 14), paris(6, 14)),
    ("2026-12-06T14:00", paris(6, 14), paris(6, 14), paris(6, 14)),  # ISO without an offset: the site's clock
]


@pytest.mark.parametrize("text,start,end,at", TABLE, ids=[row[0] for row in TABLE])
def test_times_as_people_say_them_are_read_on_the_sites_clock(text, start, end, at):
    p = read_period(text, now=NOW, zone=PARIS)
    assert (p.start, p.end) == (start, end)
    if text != "14h (UTC)":
        assert p.at == at


@pytest.mark.parametrize(
    "text,named",
    [("banane", "banane"), ("14h banane", "banane"), ("", "empty"), ("14h (heure de Tokyo)", "heure de Tokyo")],
)
def test_unreadable_times_are_refused_naming_the_words(text, named):
    with pytest.raises(TimeNotUnderstood) as err:
        read_period(text, now=NOW, zone=PARIS)
    assert named in str(err.value)


def test_the_readback_is_read_back_to_the_same_window():
    p = read_period("hier 14h-15h", now=NOW, zone=PARIS)
    with use_language("en"):
        line = period_text(p.start, p.end, PARIS)
    assert line == "from 05/12/2026 14:00 to 05/12/2026 15:00 (Paris time)"
    again = read_period(line, now=NOW, zone=PARIS)
    assert (again.start, again.end) == (p.start, p.end)


def test_local_text_is_labelled_and_never_in_utc():
    with use_language("en"):
        assert local_text(datetime(2026, 7, 1, 12, 5, tzinfo=UTC), PARIS) == "01/07/2026 14:05 (Paris time)"
        assert local_text(datetime(2026, 7, 1, 12, 5, tzinfo=UTC), UTC) == "01/07/2026 12:05 (UTC)"


def test_a_flag_keeps_iso_as_it_was_and_reads_phrases_on_the_sites_clock():
    assert flag_instant("2026-12-06T14:00:00", "--from", zone=PARIS, edge="start") == datetime(
        2026, 12, 6, 14, tzinfo=UTC
    )
    assert flag_instant("06/12/2026 14:00", "--from", zone=PARIS, edge="start", now=NOW) == paris(6, 14)
    assert flag_instant("hier 14h-15h", "--to", zone=PARIS, edge="end", now=NOW) == paris(5, 15)
    with pytest.raises(TimeNotUnderstood, match="--to"):
        flag_instant("demain matin?", "--to", zone=PARIS, edge="end", now=NOW)


@pytest.mark.parametrize("text", ["31/12/9999 23:55", "01/01/0001 00:05 (UTC)", "9999-12-31T23:59:59-14:00"])
def test_times_at_the_edge_of_the_calendar_are_refused_not_crashed(text):
    try:
        read_period(text, now=NOW, zone=PARIS)
    except TimeNotUnderstood:
        pass
