"""/settings: focus routine, session length, level, pictures or text only (reminders have their own screen)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.flows.session import flare_routine
from bot.handlers import ids, pressed
from bot.i18n import _
from bot.services import Services, services
from storage import history
from storage import prompts as prompt_repo


async def _screen(svc: Services, user_id: int, note: str = "") -> views.View:
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
    return views.settings(
        svc.library,
        routine_id=prefs.routine_id,
        length=prefs.session_length,
        level=prefs.level,
        note=note,
        text_only=prefs.text_only,
    )


async def settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/settings: what is set, with buttons to change it."""
    user_id, chat_id = ids(update)
    await ui.send(context.bot, chat_id, await _screen(services(context), user_id))


async def setting_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A settings button, or the reason for a skipped day (rest or flare keeps a streak)."""
    query, press = pressed(update, cb.SettingPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    if press.key == "f" and press.value not in svc.library.routines:
        await ui.answer(query, views.UNKNOWN_BUTTON)
        return
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        if press.key == "d":
            today = svc.clock.now().astimezone(ZoneInfo(prefs.timezone)).date()
            await history.mark_day(db, user_id=user_id, day=today, kind=press.value)
        elif press.key == "f":
            prefs.routine_id = press.value
        elif press.key == "l":
            prefs.session_length = press.value
        elif press.key == "p":
            prefs.text_only = press.value == "text"
        else:
            prefs.level = press.value
    if press.key == "d":
        flare = flare_routine(svc)
        relax = svc.library.routines.get(flare) if flare is not None else None
        await ui.answer(query)
        await ui.edit(context.bot, chat_id, query.message.message_id, views.day_marked(press.value, relax))
        return
    await ui.answer(query, _("Saved"))
    await ui.edit(context.bot, chat_id, query.message.message_id, await _screen(svc, user_id, "Saved."))
