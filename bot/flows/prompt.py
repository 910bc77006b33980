"""The buttons under a daily prompt: today's pain, start now, snooze once, skip today.

The prompt must be this person's and the message pressed its own; snooze and skip only work on its day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import views
from bot.flows import Refused
from bot.prompt_clock import default_routine
from bot.services import Services
from storage import history, repo
from storage import prompts as prompt_repo
from storage.models import DayKind, PromptKind, PromptResponse, PromptStatus, RatingContext

SNOOZE = {"z": timedelta(minutes=20), "h": timedelta(hours=1)}
SKIP, START = "k", "s"


@dataclass(frozen=True)
class Rated:
    """Today's pain, noted; the prompt keeps its other buttons."""

    value: int
    prompt_id: int


@dataclass(frozen=True)
class AlreadyRated:
    value: int


@dataclass(frozen=True)
class Skipped:
    """Skipped today; the person may say why (a rest or a flare day) just below."""


@dataclass(frozen=True)
class Snoozed:
    due: datetime  # in the person's zone


@dataclass(frozen=True)
class Start:
    """Open this routine now (bot.flows.session.begin), once the prompt's answer is committed."""

    routine_id: str


Result = Rated | AlreadyRated | Skipped | Snoozed | Start | Refused


async def press(svc: Services, *, user_id: int, prompt_id: int, message_id: int, action: str) -> Result:
    """Decide and commit one press on the prompt's message `message_id`."""
    now = svc.clock.now()
    try:
        async with svc.db.transaction() as db:
            prompt = await prompt_repo.get_prompt(db, prompt_id=prompt_id, user_id=user_id)
            if prompt is not None and prompt.status == PromptStatus.unknown and prompt.message_id is None:
                # The send timed out but Telegram delivered it after all: this press proves it.
                await prompt_repo.prove_delivered(db, prompt=prompt, message_id=message_id)
            if prompt is None or prompt.message_id != message_id:
                raise Refused(views.UNKNOWN_BUTTON)
            prefs = await prompt_repo.preferences_of(db, user_id=user_id)
            zone = ZoneInfo(prefs.timezone)
            today = now.astimezone(zone).date()
            if action.isdigit():
                if prompt.rating is not None:
                    return AlreadyRated(prompt.rating)
                if not await prompt_repo.rate_prompt(db, prompt=prompt, value=int(action)):
                    raise Refused(views.STALE_BUTTON)  # a second press won the race
                await repo.add_rating(db, user_id=user_id, value=int(action), context=RatingContext.prompt, now=now)
                return Rated(int(action), prompt_id)
            if action in (*SNOOZE, SKIP) and prompt.local_date != today:
                raise Refused(views.EARLIER_DAY)
            if action == SKIP:
                await prompt_repo.respond_to_prompt(db, prompt=prompt, response=PromptResponse.skipped)
                await prompt_repo.cancel_snoozes(db, user_id=user_id, local_date=today)
                # A plain skip; the person may turn it into a rest or flare day just below.
                await history.mark_day(db, user_id=user_id, day=today, kind=DayKind.skipped)
                return Skipped()
            if action in SNOOZE:
                due = now + SNOOZE[action]
                if not await prompt_repo.add_prompt(
                    db,
                    user_id=user_id,
                    local_date=prompt.local_date,
                    kind=PromptKind.snooze,
                    due_at=due,
                    status=PromptStatus.pending,
                ):
                    raise Refused(views.SNOOZED_ONCE)
                await prompt_repo.respond_to_prompt(db, prompt=prompt, response=PromptResponse.snoozed)
                return Snoozed(due.astimezone(zone))
            await prompt_repo.respond_to_prompt(db, prompt=prompt, response=PromptResponse.started)
            # A routine renamed or removed from the content since: offer the default.
            chosen = prefs.routine_id
            return Start(chosen if chosen in svc.library.routines else default_routine(svc.library))
    except Refused as refused:
        return refused
