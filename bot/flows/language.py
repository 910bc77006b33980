"""/language: which language Limber speaks to the person, stored with them."""

from __future__ import annotations

from bot import i18n, views
from bot.flows import Refused
from bot.services import Services
from storage import repo


async def choose(svc: Services, user_id: int, language: str) -> str | Refused:
    """Store the language and speak it from now on (this update included); the language chosen."""
    if language not in i18n.languages():
        return Refused(views.UNKNOWN_BUTTON)
    async with svc.db.transaction() as db:
        await repo.set_language(db, user_id=user_id, language=language)
    svc.remember_language(user_id, language)
    i18n.use(language)
    return language
