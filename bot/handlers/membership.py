"""Blocking and unblocking: Telegram tells the bot through my_chat_member updates."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.flows import people
from bot.services import services


async def my_status_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The person blocked the bot (prompts stop) or came back (prompts resume)."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    svc = services(context)
    user_id = change.from_user.id
    if change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
        await people.blocked(svc, user_id)
    elif change.new_chat_member.status == ChatMember.MEMBER:
        await people.welcome_back(svc, user_id)
