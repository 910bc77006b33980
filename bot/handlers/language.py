"""/language: which language Limber speaks to the person, stored with them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.handlers import ids, pressed
from bot.services import services
from storage import repo


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the languages Limber speaks, each in its own name."""
    await ui.send(context.bot, ids(update)[1], views.language_menu(i18n.current(), i18n.languages()))


async def language_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language chosen: stored, then said in that language."""
    query, press = pressed(update, cb.LanguagePress)
    user_id, chat_id = ids(update)
    if press.language not in i18n.languages():
        await ui.answer(query, views.UNKNOWN_BUTTON)
        return
    svc = services(context)
    async with svc.db.transaction() as db:
        await repo.set_language(db, user_id=user_id, language=press.language)
    svc.remember_language(user_id, press.language)
    i18n.use(press.language)
    await ui.answer(query)
    if query.message is not None:
        await ui.edit(context.bot, chat_id, query.message.message_id, views.language_set(press.language))
