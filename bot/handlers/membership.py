"""Blocking and unblocking: Telegram tells the bot through my_chat_member updates."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.handlers.users import welcome_back
from bot.services import services
from storage import prompts as prompt_repo


async def my_status_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The person blocked the bot (prompts stop) or came back (prompts resume)."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    svc = services(context)
    user_id = change.from_user.id
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        async with svc.db.transaction() as db:
            await prompt_repo.set_blocked(db, user_id=user_id, at=svc.clock.now())
        svc.known_users.discard(user_id)
    elif change.new_chat_member.status == ChatMember.MEMBER:
        await welcome_back(svc, user_id)
