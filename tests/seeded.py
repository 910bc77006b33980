"""Seeded histories for the progress, adapt and report tests: sessions and ratings with known patterns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.coaching.progress import DayMark, RatingRecord, SessionRecord

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
# 60 days ending on Sunday 2 March 2025: the current week began on Monday 24 February.
TODAY = date(2025, 3, 2)
START = TODAY - timedelta(days=59)  # 2 January 2025, day 0
REST_DAY = 40  # 11 February: marked rest, no session
SKIPPED_DAY = 50  # 21 February: a skipped prompt, no session
UNRATED = (5, 15, 25, 35, 45, 55)  # rated before only


def at(day: date, hour: int = 9, minute: int = 0, tz: ZoneInfo = UTC_ZONE) -> datetime:
    """A local wall-clock time on `day`, as the aware UTC datetime storage hands back."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def session(
    sid: int,
    day: date,
    *,
    before: int | None = None,
    after: int | None = None,
    outcomes: Iterable[tuple[str, str]] = (("pelvic-tilt", "done"),),
    routine: str = "hips",
    hour: int = 9,
    minute: int = 0,
    tz: ZoneInfo = UTC_ZONE,
    stopped: bool = False,
) -> SessionRecord:
    started = at(day, hour, minute, tz)
    return SessionRecord(
        id=sid,
        routine_id=routine,
        started_at=started,
        finished_at=started + timedelta(minutes=12),
        stopped=stopped,
        before=before,
        after=after,
        outcomes=tuple(outcomes),
    )


def ratings_of(sessions: Iterable[SessionRecord]) -> list[RatingRecord]:
    """The before and after ratings a session's history implies, 15 minutes apart."""
    out: list[RatingRecord] = []
    for s in sessions:
        if s.before is not None:
            out.append(RatingRecord(s.started_at, s.before, "before", s.id))
        if s.after is not None:
            out.append(RatingRecord(s.started_at + timedelta(minutes=15), s.after, "after", s.id))
    return out


def seeded_outcomes(i: int) -> tuple[tuple[str, str], ...]:
    """Pelvic circles every day; hip hikes in the first 30 days; clamshells on even days, hurting on days 10 and 20."""
    return (
        ("pelvic-circles", "done"),
        ("hip-hike", "done" if i < 30 else "skipped"),
        ("clamshell", "hurt" if i in (10, 20) else "done" if i % 2 == 0 else "skipped"),
    )


def sixty_days(
    *,
    start: date = START,
    days: int = 60,
    tz: ZoneInfo = UTC_ZONE,
    before: Callable[[int], int] = lambda i: 6 if i < 30 else 4,
    after: Callable[[int], int | None] = lambda i: None if i in UNRATED else (4 if i < 30 else 3),
    outcomes: Callable[[int], tuple[tuple[str, str], ...]] = seeded_outcomes,
    skip: Iterable[int] = (REST_DAY, SKIPPED_DAY, 59),
) -> list[SessionRecord]:
    """A session each morning for `days` days, except the `skip` days (by default: a rest day, a skipped
    day, and today, not done yet). Pain 6 → 4 in the first 30 days, then 4 → 3."""
    skipped = set(skip)
    return [
        session(i + 1, start + timedelta(days=i), before=before(i), after=after(i), outcomes=outcomes(i), tz=tz)
        for i in range(days)
        if i not in skipped
    ]


def seeded_marks() -> list[DayMark]:
    return [
        DayMark(START + timedelta(days=REST_DAY), "rest"),
        DayMark(START + timedelta(days=SKIPPED_DAY), "skipped"),
    ]
