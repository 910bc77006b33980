"""/delete: erase every row about the person, after two explicit taps (bot.flows.privacy)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.flows import Refused
from bot.flows import privacy as privacy_flow
from bot.handlers import ids, pressed
from bot.services import services


async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete: ask, then ask again; nothing is erased without both taps."""
    await ui.send(context.bot, ids(update)[1], views.delete_ask())


async def delete_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /delete buttons."""
    query, press = pressed(update, cb.DeletePress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    result = await privacy_flow.press(services(context), user_id, stage=press.stage, code=press.code)
    match result:
        case Refused(reason=reason):
            await ui.answer(query, reason)
        case privacy_flow.Asked(code=code):
            await ui.answer(query)
            view = views.delete_confirm(code) if code else views.View(views.KEPT)
            await ui.edit(context.bot, chat_id, query.message.message_id, view)
        case privacy_flow.Erased():
            await ui.answer(query, views.ERASED)
            await ui.edit(context.bot, chat_id, query.message.message_id, views.View(views.DELETED))
