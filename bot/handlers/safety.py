"""Red flags: free text describing a warning sign pauses coaching until a two-step confirmation."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.coaching.ratings import Rating, parse_pain
from bot.coaching.redflags import help_contacts, read_warning_signs
from bot.flows import Refused
from bot.flows import safety as safety_flow
from bot.handlers import ids, pressed
from bot.services import services


async def red_flag_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text that describes a red-flag symptom: urge care now and pause coaching."""
    message = update.effective_message
    assert message is not None and message.text is not None
    user_id, chat_id = ids(update)
    finding = read_warning_signs(message.text)
    rating = parse_pain(message.text, i18n.reading())
    flagged = await safety_flow.red_flag(
        services(context), user_id, finding, rating if isinstance(rating, Rating) else None
    )
    await ui.send(context.bot, chat_id, views.red_flag(finding, help_contacts(flagged.timezone)))


async def safety_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation buttons: stage 1 hands out a one-time code, stage 2 must bring it back."""
    query, press = pressed(update, cb.SafetyPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    reason = cb.SAFETY_REASONS.get(press.reason, "")
    result = await safety_flow.confirm(services(context), user_id, stage=press.stage, code=press.code, reason=reason)
    match result:
        case Refused(reason=refusal):
            await ui.answer(query, refusal)
            return
        case safety_flow.Confirm(code=code):
            view = views.red_flag_confirm(code)
        case safety_flow.Cleared():
            view = views.red_flag_cleared()
        case safety_flow.StillPaused():
            view = views.coaching_paused()
    await ui.answer(query)
    await ui.edit(context.bot, chat_id, query.message.message_id, view)
