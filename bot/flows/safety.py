"""Red flags: a warning sign pauses coaching until a two-step confirmation brings back a one-time code."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot import views
from bot.coaching.ratings import Rating
from bot.coaching.redflags import Finding
from bot.flows import Refused
from bot.services import Services
from storage import repo
from storage.models import RatingContext


@dataclass(frozen=True)
class Flagged:
    """Coaching paused; `timezone` tells which emergency number to show."""

    timezone: str | None


@dataclass(frozen=True)
class Confirm:
    """Stage 1: the code the second tap must bring back."""

    code: str


@dataclass(frozen=True)
class Cleared:
    """Coaching resumes."""


@dataclass(frozen=True)
class StillPaused:
    """Stage 0: the person is not ready to confirm; the code is forgotten."""


async def red_flag(svc: Services, user_id: int, finding: Finding, rating: Rating | None) -> Flagged:
    """Pause coaching; a rating in the same message is still the person's data. A running countdown stops."""
    async with svc.db.transaction() as db:
        await repo.raise_red_flag(db, user_id=user_id, categories=finding.categories)
        zone = await repo.timezone_of(db, user_id=user_id)
        if rating is not None:
            await repo.add_rating(
                db, user_id=user_id, value=rating.value, context=RatingContext.free, now=svc.clock.now()
            )
        session = await repo.open_session(db, user_id=user_id)
    if session is not None and session.id is not None:
        svc.timers.cancel(session.id)
    return Flagged(zone)


async def confirm(
    svc: Services, user_id: int, *, stage: int, code: str, reason: str
) -> Confirm | Cleared | StillPaused | Refused:
    """The confirmation buttons: stage 1 hands out a one-time code, stage 2 must bring it back."""
    async with svc.db.transaction() as db:
        event = await repo.open_red_flag(db, user_id=user_id)
        if event is None:
            return Refused(views.NOT_PAUSED)
        if stage == 1:
            fresh = secrets.token_hex(4)
            await repo.set_red_flag_code(db, event=event, code=fresh)
            return Confirm(fresh)
        if stage == 2 and event.confirm_code is not None and secrets.compare_digest(event.confirm_code, code):
            await repo.clear_red_flags(db, user_id=user_id, reason=reason)
            return Cleared()
        if stage == 0:
            await repo.set_red_flag_code(db, event=event, code=None)
            return StillPaused()
    return Refused(views.STALE_BUTTON)
