"""/delete: erase every row about the person, after two explicit taps."""

from __future__ import annotations

import secrets

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.handlers import ids, pressed
from bot.services import services
from storage import history, repo
from storage.models import RoutineSession


async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete: ask, then ask again; nothing is erased without both taps."""
    await ui.send(context.bot, ids(update)[1], views.delete_ask())


async def delete_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /delete buttons. The one-time code lives in the bot's memory for this person only: losing it on a
    restart just means asking again, and a forged or replayed stage 2 erases nothing."""
    query, press = pressed(update, cb.DeletePress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    codes: dict[int, str] = context.application.bot_data.setdefault("delete_codes", {})
    if press.stage == 0:
        codes.pop(user_id, None)
        await ui.answer(query)
        await ui.edit(context.bot, chat_id, query.message.message_id, views.View(views.KEPT))
        return
    if press.stage == 1:
        codes[user_id] = secrets.token_hex(4)
        await ui.answer(query)
        await ui.edit(context.bot, chat_id, query.message.message_id, views.delete_confirm(codes[user_id]))
        return
    expected = codes.get(user_id)
    if expected is None or not secrets.compare_digest(expected, press.code):
        await ui.answer(query, views.STALE_BUTTON)
        return
    async with svc.db.transaction() as db:
        session = await repo.open_session(db, user_id=user_id)
        await history.erase_person(db, user_id=user_id)
    codes.pop(user_id, None)
    if isinstance(session, RoutineSession) and session.id is not None:
        svc.timers.cancel(session.id)
    svc.known_users.discard(user_id)
    await ui.answer(query, "Erased")
    await ui.edit(context.bot, chat_id, query.message.message_id, views.View(views.DELETED))
