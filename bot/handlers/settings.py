"""/settings: focus routine, session length, level, pictures or text only (reminders have their own screen)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.flows import Refused
from bot.flows import settings as settings_flow
from bot.flows.session import flare_routine
from bot.handlers import ids, pressed
from bot.services import Services, services


def _view(svc: Services, screen: settings_flow.Screen) -> views.View:
    return views.settings(
        svc.library,
        routine_id=screen.routine_id,
        length=screen.length,
        level=screen.level,
        note=views.saved_note() if screen.saved else "",
        text_only=screen.text_only,
    )


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: what is set, with buttons to change it."""
    user_id, chat_id = ids(update)
    svc = services(context)
    await ui.send(context.bot, chat_id, _view(svc, await settings_flow.screen(svc, user_id)))


async def setting_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A settings button, or the reason for a skipped day (rest or flare keeps a streak)."""
    query, press = pressed(update, cb.SettingPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    result = await settings_flow.choose(svc, user_id, press.key, press.value)
    match result:
        case Refused(reason=reason):
            await ui.answer(query, reason)
        case settings_flow.DayMarked(kind=kind):
            flare = flare_routine(svc)
            relax = svc.library.routines.get(flare) if flare is not None else None
            await ui.answer(query)
            await ui.edit(context.bot, chat_id, query.message.message_id, views.day_marked(kind, relax))
        case settings_flow.Screen():
            await ui.answer(query, views.SAVED)
            await ui.edit(context.bot, chat_id, query.message.message_id, _view(svc, result))
