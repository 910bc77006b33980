"""Daily prompt settings: on or off, time, days, time zone, pause; and the typed question (a time, a zone).

A change is a pure function from one `Schedule` to the next; `apply` writes the difference through
`storage.prompts.update_preferences`, moves the next prompt when the schedule changed, and returns the
settings `Screen` for the handler to render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.coaching.schedule import EVERY_DAY, WEEKDAYS
from bot.prompt_clock import reschedule
from bot.services import Services
from storage import prompts as prompt_repo
from storage import repo
from storage.models import Preferences

DEFAULT_TIME = "08:00"  # turning prompts on before any time was picked


class Question(StrEnum):
    """What a typed answer is read as (users.awaiting)."""

    time = "time"
    timezone = "timezone"


@dataclass(frozen=True)
class Schedule:
    """The settings that decide when prompts come."""

    reminders_on: bool
    reminder_time: str | None
    reminder_days: int
    timezone: str
    prompts_paused: bool

    @classmethod
    def of(cls, prefs: Preferences) -> Schedule:
        return cls(prefs.reminders_on, prefs.reminder_time, prefs.reminder_days, prefs.timezone, prefs.prompts_paused)


class Note(StrEnum):
    """What the screen says above the settings after a change (rendered by views.reminder_note)."""

    none = ""
    on = "on"
    off = "off"
    time = "time"
    zone = "zone"
    located = "located"  # the zone came from a shared location


@dataclass(frozen=True)
class Change:
    """A new schedule from the old, the note that says it, and whether it answers the typed question."""

    to: Callable[[Schedule], Schedule]
    note: Callable[[Schedule], Note] = lambda _s: Note.none
    answers: bool = False


@dataclass(frozen=True)
class Screen:
    """The settings screen: the schedule, the next prompt's time, and the note about the change."""

    schedule: Schedule
    next_at: datetime | None
    note: Note = Note.none


@dataclass(frozen=True)
class Paused:
    next_at: datetime | None  # None while prompts are off
    timezone: str
    paused: bool


@dataclass(frozen=True)
class Days:
    """The day picker, with the days now chosen; `kept`: the last day left stays on (asked to turn it off)."""

    days: int
    kept: bool = False


def turn(on: bool) -> Change:
    return Change(
        lambda s: replace(s, reminders_on=on, reminder_time=s.reminder_time or DEFAULT_TIME if on else s.reminder_time),
        lambda _s: Note.on if on else Note.off,
    )


def at_time(value: str, *, typed: bool = False) -> Change:
    """`value` as "HH:MM"; typed, it answers the question asked."""
    return Change(lambda s: replace(s, reminder_time=value, reminders_on=True), lambda _s: Note.time, answers=typed)


def on_days(days: int) -> Change:
    return Change(lambda s: replace(s, reminder_days=days))


def in_zone(key: str, *, located: bool = False) -> Change:
    # Setting the zone answers the question, by button, typing or a shared location alike.
    return Change(lambda s: replace(s, timezone=key), lambda _s: Note.located if located else Note.zone, answers=True)


def paused(value: bool) -> Change:
    return Change(lambda s: replace(s, prompts_paused=value))


UNCHANGED = Change(lambda s: s)


def button_change(action: str, arg: str) -> Change:
    """A settings screen button: "o" on/off, "h" a preset time (HHMM), "d" all days or weekdays, "z" a zone,
    "y" + "k" the day picker's Done (back to the screen)."""
    match action:
        case "o":
            return turn(arg == "1")
        case "h":
            return at_time(f"{arg[:2]}:{arg[2:]}")
        case "d":
            return on_days(EVERY_DAY if arg == "a" else WEEKDAYS)
        case "z":
            return in_zone(arg)
        case _:
            return UNCHANGED


async def apply(svc: Services, user_id: int, change: Change = UNCHANGED) -> Screen:
    """Apply a change (or none), recompute the next prompt when the schedule changed, commit; the screen."""
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        user = await repo.get_user(db, user_id=user_id)
        assert user is not None
        before = Schedule.of(prefs)
        after = change.to(before)
        if change.answers:
            await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=None)
        # Only a real change moves the next prompt: one that is due but not yet sent must stay put.
        if after != before:
            changed = {k: v for k, v in vars(after).items() if getattr(before, k) != v}
            await prompt_repo.update_preferences(db, prefs=prefs, **changed)
            now = svc.clock.now()
            today = now.astimezone(ZoneInfo(prefs.timezone)).date()
            # Today's prompt already went out: a later time today must not bring a second one (nor
            # one soon after it, see MIN_PROMPT_GAP).
            # After a zone change, a prompt may even be recorded for a later local date than today.
            last = await prompt_repo.last_daily(db, user_id=user_id)
            done = last.local_date if last is not None and last.local_date >= today else None
            await reschedule(
                db, prefs=prefs, user=user, now=now, after_day=done, last_due=last.due_at if last else None
            )
        return Screen(after, prefs.next_prompt_at, change.note(after))


async def set_paused(svc: Services, user_id: int, *, pause: bool) -> Paused:
    """/pause and /resume."""
    screen = await apply(svc, user_id, paused(pause))
    nxt = screen.next_at if screen.schedule.reminders_on else None
    return Paused(nxt, screen.schedule.timezone, pause)


async def days(svc: Services, user_id: int) -> Days:
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
    return Days(prefs.reminder_days)


async def toggle_day(svc: Services, user_id: int, bit: int) -> Days:
    """A day on the picker on or off; the last day left cannot be turned off."""
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        if prefs.reminder_days & EVERY_DAY == bit:
            return Days(prefs.reminder_days, kept=True)
        await prompt_repo.update_preferences(db, prefs=prefs, reminder_days=prefs.reminder_days ^ bit)
        user = await repo.get_user(db, user_id=user_id)
        assert user is not None
        await reschedule(db, prefs=prefs, user=user, now=svc.clock.now())
        return Days(prefs.reminder_days)


async def ask(svc: Services, user_id: int, question: Question) -> None:
    """The bot asked a question whose answer is typed: the next text is read as that."""
    svc.no_question.discard(user_id)
    async with svc.db.transaction() as db:
        await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=question)


async def forget_question(svc: Services, user_id: int) -> None:
    """Any button press moves on from a typed question, so a later "3" is a rating, not 03:00."""
    if user_id in svc.no_question:
        return
    async with svc.db.transaction() as db:
        await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=None)
    svc.remember(svc.no_question, user_id)


@dataclass(frozen=True)
class Pending:
    """The question a typed text answers, if any; `dropped`: a command ended it (the person moved on)."""

    question: Question | None
    dropped: bool = False


async def pending(svc: Services, user_id: int, text: str) -> Pending:
    """The question `text` answers. A command drops it: /cancel says "never mind", another command just
    goes on as itself."""
    if user_id in svc.no_question:
        return Pending(None)  # no question pending: nothing to look up
    command = text.startswith("/")
    async with svc.db.transaction() as db:
        user = await repo.get_user(db, user_id=user_id)
        awaiting = user.awaiting if user else None
        if awaiting and command:
            await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=None)
    cancelled = bool(awaiting) and command and text.split()[0].split("@")[0] == "/cancel"
    if user is not None and (not awaiting or (command and not cancelled)):
        svc.remember(svc.no_question, user_id)
    if not awaiting or command:
        return Pending(None, dropped=cancelled)
    return Pending(Question(awaiting))
