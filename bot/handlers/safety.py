"""Red flags: free text describing a warning sign pauses coaching until a two-step confirmation."""

from __future__ import annotations

import secrets

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.coaching.ratings import Rating, parse_pain
from bot.coaching.redflags import help_contacts, read_warning_signs
from bot.handlers import ids, pressed
from bot.i18n import _
from bot.services import services
from storage import repo


async def red_flag_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text that describes a red-flag symptom: urge care now and pause coaching."""
    message = update.effective_message
    assert message is not None and message.text is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    finding = read_warning_signs(message.text)
    rating = parse_pain(message.text, i18n.reading())
    async with svc.db.transaction() as db:
        await repo.raise_red_flag(db, user_id=user_id, categories=finding.categories)
        zone = await repo.timezone_of(db, user_id=user_id)
        # A rating in the same message is still the person's data.
        if isinstance(rating, Rating):
            await repo.add_rating(db, user_id=user_id, value=rating.value, context="free", now=svc.clock.now())
        session = await repo.open_session(db, user_id=user_id)
    if session is not None and session.id is not None:
        svc.timers.cancel(session.id)
    await ui.send(context.bot, chat_id, views.red_flag(finding, help_contacts(zone)))


async def safety_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation buttons: stage 1 hands out a one-time code, stage 2 must bring it back."""
    query, press = pressed(update, cb.SafetyPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    async with svc.db.transaction() as db:
        event = await repo.open_red_flag(db, user_id=user_id)
        if event is None:
            view = None
        elif press.stage == 1:
            code = secrets.token_hex(4)
            await repo.set_red_flag_code(db, event=event, code=code)
            view = views.red_flag_confirm(code)
        elif (
            press.stage == 2
            and event.confirm_code is not None
            and secrets.compare_digest(event.confirm_code, press.code)
        ):
            await repo.clear_red_flags(db, user_id=user_id, reason=cb.SAFETY_REASONS[press.reason])
            view = views.red_flag_cleared()
        elif press.stage == 0:
            await repo.set_red_flag_code(db, event=event, code=None)
            view = views.coaching_paused()
        else:
            view = None
    if view is None:
        await ui.answer(query, _("Coaching isn't paused.") if event is None else views.STALE_BUTTON)
        return
    await ui.answer(query)
    await ui.edit(context.bot, chat_id, query.message.message_id, view)
