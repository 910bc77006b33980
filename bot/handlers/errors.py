"""The last line of defence: log the fault, tell the person kindly, never show a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import ui, views
from bot.flows import people
from bot.logs import LogBudget
from bot.services import services

log = logging.getLogger(__name__)
# Tracebacks per minute for the whole process: anyone who finds a failing input can repeat it.
TRACEBACKS = LogBudget(limit=20, window=60.0)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an exception raised by a handler and apologise to the person, if there is one."""
    if isinstance(context.error, Forbidden) and isinstance(update, Update) and update.effective_user:
        # The person blocked the bot mid-conversation: stop their prompts until they come back.
        await people.blocked(services(context), update.effective_user.id)
        log.info("user blocked the bot; prompts stopped for them")
        raise ApplicationHandlerStop
    if TRACEBACKS.allow():
        left_out = TRACEBACKS.take_suppressed()
        log.error(
            "handler failed for update %s%s",
            getattr(update, "update_id", "?"),
            f" ({left_out} similar failures not logged)" if left_out else "",
            exc_info=context.error,
        )
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await ui.answer(update.callback_query, views.SOMETHING_WRONG)  # ignored if already answered
        # A button may have been answered before the failure: the chat message is what the person sees.
        if update.effective_chat is not None and update.effective_chat.type == "private":
            await ui.send(context.bot, update.effective_chat.id, views.View(views.SOMETHING_WRONG))
    except Exception:  # the apology itself may fail when Telegram is unreachable
        log.warning("could not tell the person about the failure", exc_info=True)
    # One failure, one apology: later handler groups must not act on a half-handled update.
    raise ApplicationHandlerStop
