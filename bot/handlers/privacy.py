"""/delete: erase every row about the person, after two explicit taps."""

from __future__ import annotations

import secrets

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.handlers import ids, pressed
from bot.i18n import _
from bot.services import services
from storage import history, repo
from storage.models import RoutineSession


async def delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/delete: ask, then ask again; nothing is erased without both taps."""
    await ui.send(context.bot, ids(update)[1], views.delete_ask())


async def delete_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The /delete buttons. The one-time code is stored for this person only (any worker may get the
    second tap): a forged or replayed stage 2 erases nothing."""
    query, press = pressed(update, cb.DeletePress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    if press.stage in (0, 1):
        code = secrets.token_hex(4) if press.stage == 1 else None
        async with svc.db.transaction() as db:
            await repo.set_delete_code(db, user_id=user_id, code=code)
        await ui.answer(query)
        view = views.delete_confirm(code) if code else views.View(views.KEPT)
        await ui.edit(context.bot, chat_id, query.message.message_id, view)
        return
    async with svc.db.transaction() as db:
        expected = await repo.delete_code(db, user_id=user_id)
        erase = expected is not None and secrets.compare_digest(expected, press.code)
        session = await repo.open_session(db, user_id=user_id) if erase else None
        if erase:
            await history.erase_person(db, user_id=user_id)
    if not erase:
        await ui.answer(query, views.STALE_BUTTON)
        return
    if isinstance(session, RoutineSession) and session.id is not None:
        svc.timers.cancel(session.id)
    svc.known_users.discard(user_id)
    svc.languages.pop(user_id, None)
    await ui.answer(query, _("Erased"))
    await ui.edit(context.bot, chat_id, query.message.message_id, views.View(views.DELETED))
