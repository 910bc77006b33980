"""/cancel: stop whatever is going on."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import ui, views
from bot.flows import session as session_flow
from bot.handlers import ids
from bot.services import services


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: stop the open routine (asking for the rating after), or say there is nothing to stop."""
    user_id, chat_id = ids(update)
    refusal: list[str | None] = []

    async def remember(text: str | None) -> None:
        refusal.append(text)

    if not await session_flow.stop(context.bot, services(context), remember, chat_id=chat_id, user_id=user_id):
        await ui.send(context.bot, chat_id, views.View(refusal[0] or views.NOTHING_TO_CANCEL, [views.nav_row()]))
