"""A person's row and reachability: created on first contact, blocked (prompts stop) and back again."""

from __future__ import annotations

from bot.prompt_clock import reschedule
from bot.services import Services
from storage import prompts as prompt_repo
from storage import repo


async def arrived(svc: Services, *, user_id: int, chat_id: int, first_name: str, told: str) -> str:
    """Make sure the person has a row (someone who had blocked the bot is back); the language to speak,
    their stored one, which first contact takes from Telegram's (`told`)."""
    async with svc.db.transaction() as db:
        row = await repo.ensure_user(
            db, user_id=user_id, chat_id=chat_id, first_name=first_name, language=told, now=svc.clock.now()
        )
        blocked = row.blocked_at is not None
        language = row.language or told
    if blocked:
        await welcome_back(svc, user_id)
    svc.remember(svc.known_users, user_id)
    svc.remember_language(user_id, language)
    return language


async def welcome_back(svc: Services, user_id: int) -> None:
    """Clear the block and put the person's daily prompts back on schedule."""
    async with svc.db.transaction() as db:
        await prompt_repo.set_blocked(db, user_id=user_id, at=None)
        user = await repo.get_user(db, user_id=user_id)
        if user is None:
            return
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        await reschedule(db, prefs=prefs, user=user, now=svc.clock.now())


async def blocked(svc: Services, user_id: int) -> None:
    """The person blocked the bot: no prompts until they come back."""
    async with svc.db.transaction() as db:
        await prompt_repo.set_blocked(db, user_id=user_id, at=svc.clock.now())
    svc.known_users.discard(user_id)
