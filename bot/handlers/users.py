"""Making sure every person who writes has a row, before any other handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.prompts import reschedule
from bot.services import Services, services
from storage import prompts as prompt_repo
from storage import repo


async def track_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Create the person's row on first contact in a private chat; someone who had blocked us is back."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE or user.is_bot or update.my_chat_member:
        return
    svc = services(context)
    if user.id in svc.known_users:
        return
    async with svc.db.transaction() as db:
        row = await repo.ensure_user(
            db, user_id=user.id, chat_id=chat.id, first_name=user.first_name or "", now=svc.clock.now()
        )
        blocked = row.blocked_at is not None
    if blocked:
        await welcome_back(svc, user.id)
    svc.remember(svc.known_users, user.id)


async def welcome_back(svc: Services, user_id: int) -> None:
    """Clear the block and put the person's daily prompts back on schedule."""
    async with svc.db.transaction() as db:
        await prompt_repo.set_blocked(db, user_id=user_id, at=None)
        user = await repo.get_user(db, user_id=user_id)
        if user is None:
            return
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        reschedule(prefs, user, svc.clock.now())
