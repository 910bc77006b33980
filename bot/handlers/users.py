"""Making sure every person who writes has a row, before any other handler runs."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import i18n
from bot.prompt_clock import reschedule
from bot.services import Services, services
from storage import prompts as prompt_repo
from storage import repo


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
    async with svc.db.transaction() as db:
        row = await repo.ensure_user(
            db, user_id=user.id, chat_id=chat.id, first_name=user.first_name or "", language=told, now=svc.clock.now()
        )
        blocked = row.blocked_at is not None
        language = row.language or told
    i18n.use(language)
    if blocked:
        await welcome_back(svc, user.id)
    svc.remember(svc.known_users, user.id)
    svc.remember_language(user.id, language)


async def welcome_back(svc: Services, user_id: int) -> None:
    """Clear the block and put the person's daily prompts back on schedule."""
    async with svc.db.transaction() as db:
        await prompt_repo.set_blocked(db, user_id=user_id, at=None)
        user = await repo.get_user(db, user_id=user_id)
        if user is None:
            return
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        await reschedule(db, prefs=prefs, user=user, now=svc.clock.now())
