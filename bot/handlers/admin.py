"""Operator-only commands: refused, without a hint that they exist, to everyone not in ADMIN_IDS."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import ui, views
from bot.handlers import ids
from bot.services import services
from storage import repo


async def usage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/usage: how many people use Limber, for the operators listed in ADMIN_IDS."""
    user_id, chat_id = ids(update)
    svc = services(context)
    if user_id not in svc.settings.admin_ids:
        await ui.send(context.bot, chat_id, views.unknown_command("/usage"))
        return
    async with svc.db.transaction() as db:
        figures = await repo.usage_figures(db, since=svc.clock.now() - timedelta(days=1))
    await ui.send(context.bot, chat_id, views.usage(figures))
