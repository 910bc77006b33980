"""/start: the person is onboarded the first time; a newcomer always sees the welcome first."""

from __future__ import annotations

from bot.services import Services
from storage import repo


async def onboard(svc: Services, user_id: int) -> bool:
    """Mark the person onboarded; True on their first visit."""
    async with svc.db.transaction() as db:
        user = await repo.get_user(db, user_id=user_id)
        first_visit = user is None or user.onboarded_at is None
        await repo.mark_onboarded(db, user_id=user_id)
    return first_visit
