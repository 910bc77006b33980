"""Making sure every person who writes has a row, before any other handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import services
from storage import repo


async def track_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Create the person's row on first contact in a private chat."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE or user.is_bot:
        return
    svc = services(context)
    if user.id in svc.known_users:
        return
    async with svc.db.transaction() as db:
        await repo.ensure_user(db, user_id=user.id, chat_id=chat.id, first_name=user.first_name or "")
    svc.known_users.add(user.id)
