"""Pain ratings typed at any time: stored once per message they came from.

When its update runs again (a retry after the commit, a claim taken over, a re-post to another worker),
the stored rating is found, and the handler acknowledges it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.coaching.session import Status
from bot.services import Services
from storage import repo
from storage.models import PainRating, RatingContext


@dataclass(frozen=True)
class Noted:
    """Stored as it came: during a routine's step, or free-standing."""

    value: int
    context: RatingContext


@dataclass(frozen=True)
class ForSession:
    """The open session asks for this rating (before or after): bot.flows.session.rate_session takes it."""

    session_id: int
    before: bool


@dataclass(frozen=True)
class Again:
    """This message's rating was stored by an earlier run of its update."""

    earlier: PainRating


async def record(svc: Services, user_id: int, value: int, source: str) -> Noted | ForSession | Again:
    try:
        async with svc.db.transaction() as db:
            earlier = await repo.rating_from(db, user_id=user_id, source=source)
            session = await repo.open_session(db, user_id=user_id)
            status = Status(session.status) if session else None
            context = RatingContext.during if status is Status.in_progress else RatingContext.free
            if earlier is None and status not in (Status.rating_before, Status.rating_after):
                await repo.add_rating(
                    db,
                    user_id=user_id,
                    value=value,
                    context=context,
                    now=svc.clock.now(),
                    session_id=session.id if session else None,
                    source=source,
                )
    except IntegrityError:  # another run of this update stored it at the same moment
        async with svc.db.transaction() as db:
            earlier = await repo.rating_from(db, user_id=user_id, source=source)
        if earlier is None:
            raise
    if earlier is not None:
        return Again(earlier)
    if status in (Status.rating_before, Status.rating_after):
        assert session is not None and session.id is not None
        return ForSession(session.id, status is Status.rating_before)
    return Noted(value, context)
