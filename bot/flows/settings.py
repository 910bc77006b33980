"""/settings: focus routine, session length, level, pictures or text only; and why a skipped day was skipped."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot import views
from bot.flows import Refused
from bot.services import Services
from storage import history
from storage import prompts as prompt_repo
from storage.models import DayKind

FOCUS, LENGTH, LEVEL, PICTURES, DAY = "f", "l", "v", "p", "d"
COLUMNS = {FOCUS: "routine_id", LENGTH: "session_length", LEVEL: "level"}


@dataclass(frozen=True)
class Screen:
    routine_id: str | None
    length: str
    level: str
    text_only: bool
    saved: bool = False  # a change was just stored


@dataclass(frozen=True)
class DayMarked:
    kind: DayKind


async def screen(svc: Services, user_id: int) -> Screen:
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
    return Screen(prefs.routine_id, prefs.session_length, prefs.level, prefs.text_only)


async def choose(svc: Services, user_id: int, key: str, value: str) -> Screen | DayMarked | Refused:
    """Store one setting (bot.callbacks checked the value), or mark today as a rest or flare day."""
    if key == FOCUS and value not in svc.library.routines:
        return Refused(views.UNKNOWN_BUTTON)
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        if key == DAY:
            today = svc.clock.now().astimezone(ZoneInfo(prefs.timezone)).date()
            await history.mark_day(db, user_id=user_id, day=today, kind=DayKind(value))
            return DayMarked(DayKind(value))
        if key == PICTURES:
            await prompt_repo.update_preferences(db, prefs=prefs, text_only=value == "text")
        else:
            await prompt_repo.update_preferences(db, prefs=prefs, **{COLUMNS.get(key, "level"): value})
        return Screen(prefs.routine_id, prefs.session_length, prefs.level, prefs.text_only, saved=True)
