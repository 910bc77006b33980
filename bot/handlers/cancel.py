"""/cancel: stop whatever is going on."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import conversation, ui, views
from bot.flows import Refused
from bot.flows import session as session_flow
from bot.handlers import ids
from bot.services import services


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: stop the open routine (asking for the rating after), or say there is nothing to stop."""
    user_id, chat_id = ids(update)
    svc = services(context)
    stopped = await session_flow.stop(svc, user_id=user_id)
    if isinstance(stopped, Refused):
        await ui.send(context.bot, chat_id, views.View(stopped.reason or views.NOTHING_TO_CANCEL, [views.nav_row()]))
        return
    await conversation.show_stopped(context.bot, svc, chat_id, stopped)
