"""/language: which language Limber speaks to the person, stored with them (bot.flows.language)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.flows import Refused
from bot.flows import language as language_flow
from bot.handlers import ids, pressed
from bot.services import services


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: the languages Limber speaks, each in its own name."""
    await ui.send(context.bot, ids(update)[1], views.language_menu(i18n.current(), i18n.languages()))


async def language_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language chosen: stored, then said in that language."""
    query, press = pressed(update, cb.LanguagePress)
    user_id, chat_id = ids(update)
    chosen = await language_flow.choose(services(context), user_id, press.language)
    if isinstance(chosen, Refused):
        await ui.answer(query, chosen.reason)
        return
    await ui.answer(query)
    if query.message is not None:
        await ui.edit(context.bot, chat_id, query.message.message_id, views.language_set(chosen))
