"""A routine fitted to the person: stretches that hurt are left out, holds grow and shrink, flares noticed.

Each rule is a small pure function; `adapt` combines them and explains every change in a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.coaching.plan import PlannedStep
from bot.coaching.progress import RatingRecord, SessionRecord, has_done_step, local_day
from bot.coaching.ratings import Verdict, pain_change
from bot.coaching.session import Outcome
from content.schema import Level, Technique

HURT_THRESHOLD = 2
# Hurt marks count together when they fall within this many days of the latest one.
HURT_WINDOW_DAYS = 30
OFFER_BACK_DAYS = 21
GROW_AFTER_SESSIONS = 3
# Holds move in steps of 15% of the content's hold, in whole percent to keep the sums exact.
HOLD_STEP_PERCENT = 15
MIN_HOLD_PERCENT = 70
HOLD_ROUNDING = 5
FLARE_MARGIN = 2
FLARE_MIN_RATINGS = 3
RECENT_DAYS = 7
LEVEL_ORDER = {Level.gentle: 0, Level.beginner: 1, Level.intermediate: 2}


@dataclass(frozen=True)
class AdaptedStep:
    technique_id: str
    hold_seconds: int | None
    reps: int | None


@dataclass(frozen=True)
class HoldAdjustment:
    factor: float  # 1.0 is the content's hold
    last_change: str | None  # "grew", "shrank" or None when the holds never moved


class NoteKind(StrEnum):
    left_out = "left_out"  # count: times it was marked hurting
    kept_anyway = "kept_anyway"  # every stretch hurt: the gentlest stays
    back = "back"  # count: weeks since it last hurt
    holds_shorter = "holds_shorter"
    holds_longer = "holds_longer"  # count: percent, one step of growth
    holds_longer_than_at_first = "holds_longer_than_at_first"  # count: percent; up_to when they differ


@dataclass(frozen=True)
class Note:
    """One way today's routine differs from the standard one (the views say it in words)."""

    kind: NoteKind
    technique_id: str | None = None
    count: int = 0
    up_to: bool = False


@dataclass(frozen=True)
class Adapted:
    steps: list[AdaptedStep]
    notes: list[Note]
    suggest_flare: bool
    left_out: list[str] = field(default_factory=list)
    offered_back: list[str] = field(default_factory=list)


def _hurt_days(sessions: Sequence[SessionRecord], tz: ZoneInfo) -> dict[str, list[date]]:
    days: dict[str, list[date]] = {}
    for s in sessions:
        day = local_day(s.started_at, tz)
        for tid in {tid for tid, outcome in s.outcomes if outcome == Outcome.hurt}:
            days.setdefault(tid, []).append(day)
    return {tid: sorted(ds) for tid, ds in sorted(days.items())}


def _recent_hurts(days: list[date], window_days: int) -> int:
    """Hurt marks within `window_days` of the latest one (that one included)."""
    return sum(1 for d in days if (days[-1] - d).days < window_days)


def hurting_techniques(
    sessions: Sequence[SessionRecord],
    *,
    threshold: int = HURT_THRESHOLD,
    window_days: int = HURT_WINDOW_DAYS,
    today: date,
    tz: ZoneInfo,
) -> dict[str, int]:
    """Techniques to leave out now, with how many times they hurt: marked hurting at least `threshold`
    times (within `window_days` of the latest mark), the latest less than 21 days ago."""
    left: dict[str, int] = {}
    for tid, days in _hurt_days(sessions, tz).items():
        count = _recent_hurts(days, window_days)
        if count >= threshold and (today - days[-1]).days < OFFER_BACK_DAYS:
            left[tid] = count
    return left


def offer_back(
    sessions: Sequence[SessionRecord],
    *,
    threshold: int = HURT_THRESHOLD,
    window_days: int = HURT_WINDOW_DAYS,
    today: date,
    tz: ZoneInfo,
) -> dict[str, int]:
    """Techniques left out earlier that are due back, with the days since they last hurt.

    Due back 21 days after the latest hurt mark, until the person has done them again.
    """
    back: dict[str, int] = {}
    for tid, days in _hurt_days(sessions, tz).items():
        since = (today - days[-1]).days
        if _recent_hurts(days, window_days) < threshold or since < OFFER_BACK_DAYS:
            continue
        returned = days[-1] + timedelta(days=OFFER_BACK_DAYS)
        done_again = any(
            local_day(s.started_at, tz) >= returned and (tid, Outcome.done) in s.outcomes for s in sessions
        )
        if not done_again:
            back[tid] = since
    return back


def hold_adjustment(sessions_for_routine: Sequence[SessionRecord], *, max_factor: float = math.inf) -> HoldAdjustment:
    """Replay the routine's history: +15% after every 3 sessions in a row without a rise in pain,
    -15% after a meaningful rise (not below 70%, not above `max_factor`).

    Only sessions with a done step and both ratings say anything about the holds.
    """
    # Rounded first: 1.15 * 100 is 114.99999999999999 in floats.
    top = math.inf if math.isinf(max_factor) else math.floor(round(max_factor * 100, 6))
    percent, calm = 100, 0
    last: str | None = None
    for s in sorted(sessions_for_routine, key=lambda s: (s.started_at, s.id)):
        if s.before is None or s.after is None or not has_done_step(s):
            continue
        if s.after <= s.before:
            calm += 1
            if calm == GROW_AFTER_SESSIONS:
                percent, calm, last = int(min(percent + HOLD_STEP_PERCENT, top)), 0, "grew"
            continue
        calm = 0
        if pain_change(s.before, s.after).verdict is Verdict.worse:
            percent, last = max(percent - HOLD_STEP_PERCENT, MIN_HOLD_PERCENT), "shrank"
    return HoldAdjustment(percent / 100, last)


def hold_factor(sessions_for_routine: Sequence[SessionRecord], *, max_factor: float = math.inf) -> float:
    return hold_adjustment(sessions_for_routine, max_factor=max_factor).factor


def scaled_hold(hold_seconds: int, factor: float, cap_seconds: int) -> int:
    """The hold times the factor, rounded half up to whole 5 s, at least 5 s and at most the cap."""
    if factor == 1.0:
        return hold_seconds
    percent = round(factor * 100)
    # Integer arithmetic: 20 s x 115% is exactly 23 s, rounded to 25 s.
    steps = (hold_seconds * percent + HOLD_ROUNDING * 50) // (HOLD_ROUNDING * 100)
    seconds = max(HOLD_ROUNDING, steps * HOLD_ROUNDING)
    if seconds > cap_seconds:
        seconds = max(HOLD_ROUNDING, cap_seconds // HOLD_ROUNDING * HOLD_ROUNDING)
    return min(seconds, cap_seconds)


def recent_values(ratings: Sequence[RatingRecord], today: date, tz: ZoneInfo, days: int = RECENT_DAYS) -> list[int]:
    """Pain ratings from the `days` local days before today (today's own are the ones being judged)."""
    start = today - timedelta(days=days)
    return [r.value for r in ratings if start <= local_day(r.at, tz) < today]


def flare_suggested(today_pain: int | None, recent: Sequence[int]) -> bool:
    """Today's pain at least 2 points above the recent mean, with at least 3 recent ratings."""
    if today_pain is None or len(recent) < FLARE_MIN_RATINGS:
        return False
    # today >= mean + 2, multiplied out to stay in whole numbers.
    return today_pain * len(recent) >= sum(recent) + FLARE_MARGIN * len(recent)


def gentlest(technique_ids: Sequence[str], techniques: dict[str, Technique], hurts: dict[str, int]) -> str:
    """The gentlest level first, then the fewest hurt marks, then routine order."""
    order = {tid: i for i, tid in enumerate(technique_ids)}
    return min(technique_ids, key=lambda t: (LEVEL_ORDER[techniques[t].level], hurts.get(t, 0), order[t]))


def _hold_note(adjust: HoldAdjustment, factors: set[float], longer: bool) -> Note | None:
    if not factors:
        return None  # only repetitions in this plan: nothing is held
    if adjust.last_change == "shrank":
        return Note(NoteKind.holds_shorter)
    if adjust.last_change == "grew" and longer:
        percent = round((max(factors) - 1) * 100)
        if percent == HOLD_STEP_PERCENT:
            return Note(NoteKind.holds_longer, count=percent)
        return Note(NoteKind.holds_longer_than_at_first, count=percent, up_to=len(factors) > 1)
    return None


def adapt(
    routine_id: str,
    technique_ids: Sequence[str],
    techniques: dict[str, Technique],
    sessions: Sequence[SessionRecord],
    *,
    today_pain: int | None,
    recent_ratings: Sequence[RatingRecord],
    today: date,
    tz: ZoneInfo,
) -> Adapted:
    """The routine as this person should do it today, and why it differs from the standard one."""
    if not technique_ids:
        raise ValueError("a routine needs at least one technique")
    hurts = hurting_techniques(sessions, today=today, tz=tz)
    back = offer_back(sessions, today=today, tz=tz)
    left = [tid for tid in technique_ids if tid in hurts]
    kept = [tid for tid in technique_ids if tid not in hurts]
    notes: list[Note] = []
    kept_anyway: str | None = None
    if not kept:
        kept_anyway = gentlest(technique_ids, techniques, hurts)
        kept = [kept_anyway]
        left.remove(kept_anyway)
    notes.extend(Note(NoteKind.left_out, tid, hurts[tid]) for tid in left)
    if kept_anyway is not None:
        notes.append(Note(NoteKind.kept_anyway, kept_anyway))
    offered = [tid for tid in kept if tid in back]
    notes.extend(Note(NoteKind.back, tid, back[tid] // 7) for tid in offered)

    history = [s for s in sessions if s.routine_id == routine_id]
    steps: list[AdaptedStep] = []
    factors: set[float] = set()
    longer = False
    adjust = hold_adjustment(history)
    for tid in kept:
        t = techniques[tid]
        hold = t.hold_seconds
        if hold is not None:
            # The cap shapes the replay per technique, so a shrink after reaching the cap is felt.
            cap = t.max_hold_seconds or hold
            factor = hold_factor(history, max_factor=cap / hold)
            factors.add(factor)
            hold = scaled_hold(hold, factor, cap)
            longer = longer or hold > (t.hold_seconds or 0)
        steps.append(AdaptedStep(tid, hold, t.reps))
    note = _hold_note(adjust, factors, longer)
    if note:
        notes.append(note)
    flare = flare_suggested(today_pain, recent_values(recent_ratings, today, tz))
    return Adapted(steps, notes, flare, left_out=left, offered_back=offered)


def planned_steps(adapted: Adapted, techniques: dict[str, Technique]) -> list[PlannedStep]:
    """The adapted steps in the shape a session stores."""
    return [
        PlannedStep(
            technique_id=step.technique_id,
            title=techniques[step.technique_id].title,
            hold_seconds=step.hold_seconds,
            reps=step.reps,
            sides=techniques[step.technique_id].sides.value,
            rest_seconds=techniques[step.technique_id].rest_between_sides_seconds,
        )
        for step in adapted.steps
    ]
