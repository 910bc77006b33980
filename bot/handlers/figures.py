"""The ℹ️ Why and ⚠️ Cautions buttons under a step's picture: what its caption leaves out."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.handlers import ids, pressed
from bot.services import services


async def info_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the technique's why or cautions as a message of its own; the step keeps its buttons."""
    query, press = pressed(update, cb.InfoPress)
    _, chat_id = ids(update)
    technique = services(context).library.techniques.get(press.technique_id)
    if technique is None:
        await ui.answer(query, views.UNKNOWN_BUTTON)
        return
    await ui.answer(query)
    await ui.send(context.bot, chat_id, views.technique_info(technique, press.kind))
