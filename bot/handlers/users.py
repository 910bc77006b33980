"""Making sure every person who writes has a row, before any other handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import i18n
from bot.flows import people
from bot.services import services


async def track_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Create the person's row on first contact in a private chat; someone who had blocked us is back.

    Also sets the language every later handler of this update speaks: the person's stored one, which
    first contact takes from Telegram's language_code.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None:
        i18n.use(i18n.DEFAULT)  # updates are handled one after another in one task: forget the last person's
        return
    told = i18n.choose(user.language_code)
    i18n.use(told)
    if chat is None or chat.type != chat.PRIVATE or user.is_bot or update.my_chat_member:
        return
    svc = services(context)
    cached = svc.languages.get(user.id)
    if user.id in svc.known_users and cached is not None:
        i18n.use(cached)
        return
    language = await people.arrived(svc, user_id=user.id, chat_id=chat.id, first_name=user.first_name or "", told=told)
    i18n.use(language)
