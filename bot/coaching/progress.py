"""A person's progress from their history: streaks, session counts, pain trend, which stretches help.

Pure: records in, numbers, dates and enums out; the words are the views' (bot/views_progress.py). Datetimes are aware UTC; "today" and the person's zone are
parameters, so the same history always gives the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.coaching.ratings import Verdict, is_meaningful

# Marks a person sets themselves; a plain "skipped" prompt is not forgiven.
FORGIVEN_MARKS = frozenset({"rest", "flare"})
MIN_RATED_SESSIONS = 3
MIN_TECHNIQUE_SESSIONS = 3  # rated sessions with a stretch, and as many without it, before ranking it
MIN_TECHNIQUE_GAP = 0.5  # points of difference in mean change
TREND_DAYS = 7
MIN_TREND_RATINGS = 2
ADHERENCE_WEEKS = 4
SHORT_WINDOW = 7  # days: "the last 7 days", rolling, today included
LONG_WINDOW = 30
MAX_TECHNIQUE_LINES = 8


class Missing(StrEnum):
    """What a trend still needs."""

    rated_sessions = "rated_sessions"  # fewer than MIN_RATED_SESSIONS sessions rated before and after
    trend_ratings = "trend_ratings"  # 2 ratings in the first week and 2 in the last 7 days


@dataclass(frozen=True)
class RatingRecord:
    at: datetime  # aware UTC
    value: int  # 0-10
    context: str  # "before", "after", "during", "free" or "prompt"
    session_id: int | None = None


@dataclass(frozen=True)
class SessionRecord:
    id: int
    routine_id: str
    started_at: datetime  # aware UTC
    finished_at: datetime | None
    stopped: bool
    before: int | None
    after: int | None
    outcomes: tuple[tuple[str, str], ...]  # (technique_id, "done" | "skipped" | "hurt"), in step order


@dataclass(frozen=True)
class DayMark:
    day: date  # the person's local date
    kind: str  # "rest" or "flare" (forgiven in streaks) or "skipped" (not forgiven)


@dataclass(frozen=True)
class Trend:
    first_mean: float  # rounded to 0.1: the verdict is judged on the numbers the person sees
    last_mean: float
    verdict: Verdict
    first_start: date
    last_start: date
    first_count: int
    last_count: int


@dataclass(frozen=True)
class TechniqueStats:
    technique_id: str
    sessions: int  # sessions where it was done or marked hurting, rated or not
    average_change: float | None  # mean after - before over `rated_sessions`
    hurt_count: int
    hurt_rate: float  # hurt_count / sessions
    rated_sessions: int = 0
    # The same over rated sessions without it: the comparison that separates it from the rest of the session.
    without_change: float | None = None
    without_sessions: int = 0

    @property
    def difference(self) -> float | None:
        """How much more pain fell with it than without (negative: it goes with a bigger drop)."""
        if self.average_change is None or self.without_change is None:
            return None
        return self.average_change - self.without_change


@dataclass(frozen=True)
class Progress:
    today: date
    sessions_last_7_days: int  # rolling windows ending today, so the shorter never holds more
    sessions_last_30_days: int
    current_streak: int
    longest_streak: int
    average_change: float | None
    rated_sessions: int
    trend: Trend | None
    techniques: list[TechniqueStats]
    missing: Missing | None
    total_sessions: int
    sessions_last_28_days: int
    first_day: date | None  # the first local day with a rating or a session
    hurt_marks: dict[str, int]  # every technique ever marked hurting, with how often
    started: date | None = None  # the first day of using Limber: joining, or earlier history
    days_used: int = 0  # local days from `started` to today, both counted

    @property
    def adherence_days(self) -> int:
        """The span a rate is taken over: the last 4 weeks, or less when Limber is newer than that."""
        return min(7 * ADHERENCE_WEEKS, self.days_used)


def local_day(at: datetime, tz: ZoneInfo) -> date:
    if at.tzinfo is None:
        # A naive datetime would silently be read in the server's zone.
        raise ValueError("naive datetime: history records must be aware UTC datetimes")
    return at.astimezone(tz).date()


def has_done_step(s: SessionRecord) -> bool:
    return any(outcome == "done" for _, outcome in s.outcomes)


def session_days(sessions: Iterable[SessionRecord], tz: ZoneInfo) -> set[date]:
    """Local dates with at least one session where a step was done."""
    return {local_day(s.started_at, tz) for s in sessions if has_done_step(s)}


def streaks(session_days: set[date], marks: Iterable[DayMark], today: date) -> tuple[int, int]:
    """(current, longest) runs of days with a session; marked rest or flare days are stepped over.

    Today without a session yet is stepped over too, so yesterday's run still counts this morning.
    Days after `today` are ignored.
    """
    days = {d for d in session_days if d <= today}
    if not days:
        return 0, 0
    forgiven = {m.day for m in marks if m.kind in FORGIVEN_MARKS}
    run = longest = 0
    day = min(days)
    while day <= today:
        if day in days:
            run += 1
            longest = max(longest, run)
        elif day not in forgiven and day != today:
            run = 0
        day += timedelta(days=1)
    return run, longest


def session_change(s: SessionRecord) -> int | None:
    """After minus before: negative is a drop in pain."""
    if s.before is None or s.after is None:
        return None
    return s.after - s.before


def _tenths(values: Sequence[int]) -> Fraction:
    """The mean rounded half up to 0.1, kept exact."""
    mean = Fraction(sum(values), len(values))
    return Fraction(math.floor(mean * 10 + Fraction(1, 2)), 10)


def _meaningful(first: Fraction, last: Fraction) -> bool:
    # is_meaningful only subtracts, divides and compares, so exact fractions keep the 2-point and 30%
    # edges exact where floats would give 5.3 - 3.3 = 1.9999999999999996.
    return is_meaningful(first, last)  # type: ignore[arg-type]


def pain_trend(ratings: Iterable[RatingRecord], today: date, tz: ZoneInfo) -> Trend | None:
    """Mean pain in the first week of data against the last 7 days, or None with too few ratings.

    The first week is the first 7-day span holding at least 2 ratings (so one stray early rating does
    not block the trend forever); the last window starts after it, so no rating is in both.
    """
    by_day: dict[date, list[int]] = {}
    for r in ratings:
        day = local_day(r.at, tz)
        if day <= today:
            by_day.setdefault(day, []).append(r.value)
    days = sorted(by_day)
    first: list[int] = []
    for first_start in days:
        first = [v for d in days if first_start <= d < first_start + timedelta(days=TREND_DAYS) for v in by_day[d]]
        if len(first) >= MIN_TREND_RATINGS:
            break
    else:
        return None
    last_start = max(today - timedelta(days=TREND_DAYS - 1), first_start + timedelta(days=TREND_DAYS))
    last = [v for d in days if d >= last_start for v in by_day[d]]
    if len(last) < MIN_TREND_RATINGS:
        return None
    a, b = _tenths(first), _tenths(last)
    if not _meaningful(a, b):
        verdict = Verdict.same
    else:
        verdict = Verdict.better if b < a else Verdict.worse
    return Trend(float(a), float(b), verdict, first_start, last_start, len(first), len(last))


def _mean_and_error(values: Sequence[int]) -> tuple[float, float]:
    """The mean and the squared standard error of the mean (sample variance / n)."""
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, variance / len(values)


def separates(with_it: Sequence[int], without: Sequence[int]) -> bool:
    """Enough sessions on each side, and a gap in mean change larger than the noise in either.

    A gap of at least half a point and two standard errors (Welch's, about a 95% separation) is asked:
    a stretch in every session, or one whose sessions differ only by chance, is not ranked.
    """
    if len(with_it) < MIN_TECHNIQUE_SESSIONS or len(without) < MIN_TECHNIQUE_SESSIONS:
        return False
    (a, error_a), (b, error_b) = _mean_and_error(with_it), _mean_and_error(without)
    gap = abs(a - b)
    return gap >= MIN_TECHNIQUE_GAP and gap >= 2 * math.sqrt(error_a + error_b)


def technique_stats(sessions: Iterable[SessionRecord]) -> list[TechniqueStats]:
    """Techniques whose rated sessions differ from the rated sessions without them, most helpful first.

    Crediting a stretch with the whole session's change would credit every stretch in a good session
    alike; comparing sessions with it against sessions without it separates it from the rest.
    """
    sessions = list(sessions)
    seen: dict[str, int] = {}
    hurt: dict[str, int] = {}
    rated: list[tuple[int, set[str]]] = []
    for s in sessions:
        change = session_change(s)
        outcomes: dict[str, set[str]] = {}
        for tid, outcome in s.outcomes:
            outcomes.setdefault(tid, set()).add(outcome)
        present = {tid for tid, kinds in outcomes.items() if kinds & {"done", "hurt"}}
        for tid in present:
            seen[tid] = seen.get(tid, 0) + 1
            if "hurt" in outcomes[tid]:
                hurt[tid] = hurt.get(tid, 0) + 1
        if change is not None and present:
            rated.append((change, present))
    stats = []
    for tid in sorted(seen):
        with_it = [c for c, present in rated if tid in present]
        without = [c for c, present in rated if tid not in present]
        if not separates(with_it, without):
            continue
        stats.append(
            TechniqueStats(
                technique_id=tid,
                sessions=seen[tid],
                average_change=sum(with_it) / len(with_it),
                hurt_count=hurt.get(tid, 0),
                hurt_rate=hurt.get(tid, 0) / seen[tid],
                rated_sessions=len(with_it),
                without_change=sum(without) / len(without),
                without_sessions=len(without),
            )
        )
    return sorted(stats, key=lambda t: (t.difference or 0.0, t.hurt_rate, t.technique_id))


def helping(stats: Iterable[TechniqueStats]) -> list[TechniqueStats]:
    """The ranked techniques that go with a bigger drop in pain than sessions without them."""
    return [t for t in stats if t.difference is not None and t.difference < 0]


def hurt_marks(sessions: Iterable[SessionRecord]) -> dict[str, int]:
    """How many sessions marked each technique as hurting, most often first."""
    counts: dict[str, int] = {}
    for s in sessions:
        for tid in {tid for tid, outcome in s.outcomes if outcome == "hurt"}:
            counts[tid] = counts.get(tid, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _missing(rated: int, trend: Trend | None) -> Missing | None:
    if rated < MIN_RATED_SESSIONS:
        return Missing.rated_sessions
    if trend is None:
        return Missing.trend_ratings
    return None


def build_progress(
    ratings: Sequence[RatingRecord],
    sessions: Sequence[SessionRecord],
    marks: Sequence[DayMark],
    today: date,
    tz: ZoneInfo,
    *,
    joined: date | None = None,
) -> Progress:
    """Everything /progress and /report show. `joined` is the local day the person started with Limber.

    Records dated after `today` (a clock ahead of the person's) are left out of everything. Counts are
    over rolling windows ending today; rates are over the days the person has used Limber at most.
    """
    ratings = [r for r in ratings if local_day(r.at, tz) <= today]
    sessions = [s for s in sessions if local_day(s.started_at, tz) <= today]
    counted = [(local_day(s.started_at, tz), s) for s in sessions if has_done_step(s)]
    four_weeks_from = today - timedelta(days=7 * ADHERENCE_WEEKS - 1)
    current, longest = streaks({d for d, _ in counted}, marks, today)
    changes = [c for c in (session_change(s) for s in sessions) if c is not None]
    trend = pain_trend(ratings, today, tz)
    days = [local_day(r.at, tz) for r in ratings] + [local_day(s.started_at, tz) for s in sessions]
    first_day = min(days, default=None)
    # History can be older than the account (imported or backdated); a future join date is today.
    started = min([d for d in (joined, first_day) if d is not None], default=None)
    started = min(started, today) if started is not None else None
    return Progress(
        today=today,
        sessions_last_7_days=sum(1 for d, _ in counted if d > today - timedelta(days=SHORT_WINDOW)),
        sessions_last_30_days=sum(1 for d, _ in counted if d > today - timedelta(days=LONG_WINDOW)),
        current_streak=current,
        longest_streak=longest,
        average_change=sum(changes) / len(changes) if changes else None,
        rated_sessions=len(changes),
        trend=trend,
        techniques=technique_stats(sessions),
        missing=_missing(len(changes), trend),
        total_sessions=len(counted),
        sessions_last_28_days=sum(1 for d, _ in counted if d >= four_weeks_from),
        first_day=first_day,
        hurt_marks=hurt_marks(sessions),
        started=started,
        days_used=(today - started).days + 1 if started is not None else 0,
    )


def full_recent_week(t: Trend, today: date) -> bool:
    """The trend's last window is the whole last 7 days (young data starts it after the first week)."""
    return t.last_start <= today - timedelta(days=TREND_DAYS - 1)


def weekly_rate(p: Progress) -> float | None:
    """Sessions a week over the days used (4 weeks at most); None under a week, where a rate would be a guess."""
    window = p.adherence_days
    if window < 7:
        return None
    in_window = p.sessions_last_28_days if window == 7 * ADHERENCE_WEEKS else p.total_sessions
    return in_window / window * 7
