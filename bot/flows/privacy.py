"""/delete: erase every row about the person, after two explicit taps.

The one-time code is stored for this person only (any worker may get the second tap): a forged or
replayed stage 2 erases nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot import views
from bot.flows import Refused
from bot.services import Services
from storage import history, repo


@dataclass(frozen=True)
class Asked:
    """Stage 1: the code the second tap must bring back; None at stage 0 (the person kept their data)."""

    code: str | None


@dataclass(frozen=True)
class Erased:
    """Everything about the person is gone."""


async def press(svc: Services, user_id: int, *, stage: int, code: str) -> Asked | Erased | Refused:
    if stage in (0, 1):
        fresh = secrets.token_hex(4) if stage == 1 else None
        async with svc.db.transaction() as db:
            await repo.set_delete_code(db, user_id=user_id, code=fresh)
        return Asked(fresh)
    async with svc.db.transaction() as db:
        expected = await repo.delete_code(db, user_id=user_id)
        if expected is None or not secrets.compare_digest(expected, code):
            return Refused(views.STALE_BUTTON)
        session = await repo.open_session(db, user_id=user_id)
        await history.erase_person(db, user_id=user_id)
    if session is not None and session.id is not None:
        svc.timers.cancel(session.id)
    svc.known_users.discard(user_id)
    svc.languages.pop(user_id, None)
    return Erased()
