"""Daily prompt times: parsing, DST-safe due times over a year in many zones, offline zone lookup."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.coaching.schedule import EVERY_DAY, WEEKDAYS, local_due, next_due, parse_time
from bot.coaching.zones import resolve_zone, zone_at
from bot.i18n import speaking
from bot.views import days_text

# Zones with and without DST, both hemispheres, half-hour and 45-minute offsets, 30-minute DST.
ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Africa/Casablanca",
    "Pacific/Auckland",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7:30", time(7, 30)),
        ("19:05", time(19, 5)),
        ("7pm", time(19, 0)),
        ("7 PM", time(19, 0)),
        ("7.30am", time(7, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("0730", time(7, 30)),
        ("at 6", time(6, 0)),
        ("23h15", time(23, 15)),
        ("0", time(0, 0)),
    ],
)
def test_times_people_type(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "7:60", "13pm", "noonish", "", "7:5", "x" * 100, "-1"])
def test_not_a_time(text: str) -> None:
    assert parse_time(text) is None


def test_describe_days() -> None:
    assert days_text(EVERY_DAY) == "every day"
    assert days_text(WEEKDAYS) == "weekdays"
    assert days_text(0b0000101) == "Mon, Wed"
    with speaking("es"):
        assert days_text(0b0000101) == "Lun, Mié"
    with speaking("ru"):
        assert days_text(0b0000101) == "Пн, Ср"


def test_a_skipped_time_fires_at_the_first_valid_minute_after() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 29 March 2026: clocks jump from 02:00 to 03:00.
    due = local_due(date(2026, 3, 29), time(2, 30), berlin)
    assert due.astimezone(berlin).strftime("%H:%M") == "03:00"
    assert due == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_doubled_time_fires_once_at_the_first() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 25 October 2026: 02:00-03:00 happens twice; the first is still summer time (UTC+2).
    assert local_due(date(2026, 10, 25), time(2, 30), berlin) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("at", [time(2, 30), time(1, 30), time(7, 0)])
def test_a_year_of_days_gets_exactly_one_prompt_each(zone: str, at: time) -> None:
    tz = ZoneInfo(zone)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    fired: list[tuple[date, datetime]] = []
    day = None
    while now < datetime(2027, 1, 1, tzinfo=UTC):
        day, due = next_due(at=at, days=EVERY_DAY, tz=tz, after_day=day, now=now)
        fired.append((day, due))
        now = due  # the pass runs exactly at the due instant
    days = [d for d, _ in fired]
    assert len(days) == len(set(days)), "a local day got two prompts"
    first = days[0]
    assert days == [first + timedelta(days=i) for i in range(len(days))], "a local day was skipped"
    for day, due in fired:
        local = due.astimezone(tz)
        assert local.date() == day
        wall = datetime.combine(day, at)
        exists = local.replace(tzinfo=None) == wall
        # Either the chosen wall time, or (in a spring-forward gap) the first valid minute after it.
        assert exists or (local.replace(tzinfo=None) > wall and local.replace(tzinfo=None) - wall <= timedelta(hours=1))


def test_weekdays_only_skip_the_weekend() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=berlin)
    day, due = next_due(at=time(7, 0), days=WEEKDAYS, tz=berlin, after_day=None, now=friday_evening)
    assert day == date(2026, 11, 23) and day.weekday() == 0
    assert due.astimezone(berlin).hour == 7


def test_a_time_later_today_is_today_and_earlier_is_tomorrow() -> None:
    tz = ZoneInfo("Asia/Kolkata")
    now = datetime(2026, 5, 1, 8, 0, tzinfo=tz)
    assert next_due(at=time(9, 0), days=EVERY_DAY, tz=tz, after_day=None, now=now)[0] == date(2026, 5, 1)
    assert next_due(at=time(7, 59), days=EVERY_DAY, tz=tz, after_day=None, now=now)[0] == date(2026, 5, 2)
    # Today's prompt already went out: never today again.
    assert next_due(at=time(9, 0), days=EVERY_DAY, tz=tz, after_day=date(2026, 5, 1), now=now)[0] == date(2026, 5, 2)


@pytest.mark.parametrize(
    ("typed", "key", "exact"),
    [
        ("Europe/Berlin", "Europe/Berlin", True),
        ("europe/berlin", "Europe/Berlin", True),
        ("Berlin", "Europe/Berlin", True),
        ("new york", "America/New_York", True),
        ("San Francisco", "America/Los_Angeles", True),
        ("Munich", "Europe/Berlin", True),
        ("UTC", "UTC", True),
        ("Berlni", "Europe/Berlin", False),
    ],
)
def test_zones_by_name_or_city(typed: str, key: str, exact: bool) -> None:
    match = resolve_zone(typed)
    assert match is not None and (match.key, match.exact) == (key, exact)


def test_unknown_zone_text() -> None:
    assert resolve_zone("atlantis city") is None
    assert resolve_zone("") is None


def test_zone_from_a_location_offline() -> None:
    assert zone_at(52.52, 13.40) == "Europe/Berlin"
    assert zone_at(-33.87, 151.21) == "Australia/Sydney"
    assert zone_at(1.0, 2.0) is None  # open sea
    assert zone_at(123.0, 0.0) is None
