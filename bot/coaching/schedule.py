"""Daily prompt times: parsing what people type, and when "7:30 in Berlin" next happens, in UTC.

A day's prompt belongs to a local date. A time that does not exist that day (clocks jump forward)
fires at the first valid minute after it; a time that happens twice (clocks go back) fires at the
first of the two. Stepping from one local date to the next therefore gives exactly one prompt a day.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EVERY_DAY = 0b1111111  # bit 0 is Monday
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000
# At most one prompt a day, whatever the clocks say: a zone change right after a prompt (Kiritimati
# to Pago Pago is 25 hours back) would otherwise bring the "same" local time again an hour later.
MIN_PROMPT_GAP = timedelta(hours=12)
PRESET_TIMES = ("07:00", "08:00", "12:00", "18:00", "20:00", "21:30")

_TIME = re.compile(r"^\s*(?:at\s+)?(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|a|p)?\s*$", re.IGNORECASE)
_COMPACT = re.compile(r"^\s*(\d{2})(\d{2})\s*$")


def parse_time(text: str) -> time | None:
    """ "7:30", "19:05", "7pm", "7.30 am", "0730", "12am" -> a time of day; None when it isn't one."""
    text = text[:20]
    compact = _COMPACT.match(text)
    match = _TIME.match(text) if compact is None else None
    if compact is not None:
        hour, minute, half = int(compact[1]), int(compact[2]), ""
    elif match is not None:
        hour, minute, half = int(match[1]), int(match[2] or 0), (match[3] or "").lower()[:1]
    else:
        return None
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def format_time(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def on_day(mask: int, day: date) -> bool:
    return bool(mask >> day.weekday() & 1)


def local_due(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of `at` on local `day`, moving a skipped time to the first valid minute after."""
    wall = datetime.combine(day, at)
    for minutes in range(0, 24 * 60):
        candidate = (wall + timedelta(minutes=minutes)).replace(tzinfo=tz, fold=0)
        instant = candidate.astimezone(UTC)
        # A wall time exists when it survives the round trip through UTC.
        if instant.astimezone(tz).replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return instant
    raise ValueError(f"no valid local time on {day} in {tz.key}")  # pragma: no cover - no zone skips a day


def next_due(*, at: time, days: int, tz: ZoneInfo, after_day: date | None, now: datetime) -> tuple[date, datetime]:
    """The next local date (after `after_day`, if given) that is a prompt day and is still ahead of `now`."""
    if days & EVERY_DAY == 0:
        raise ValueError("no days chosen")
    day = now.astimezone(tz).date()
    if after_day is not None and after_day >= day:
        day = after_day + timedelta(days=1)
    for _ in range(8 + 366):
        if on_day(days, day):
            due = local_due(day, at, tz)
            if due > now:
                return day, due
        day += timedelta(days=1)
    raise AssertionError("unreachable: some day of the week is chosen")  # pragma: no cover


def is_late(due: datetime, now: datetime, grace: timedelta) -> bool:
    return now - due > grace
