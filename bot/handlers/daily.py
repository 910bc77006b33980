"""The buttons under a daily prompt: the flow (bot.flows.prompt) decides and commits, then this answers."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import conversation, ui, views
from bot.flows import Refused
from bot.flows import prompt as prompt_flow
from bot.flows import session as session_flow
from bot.handlers import ids, pressed
from bot.services import services


async def prompt_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a prompt: today's pain, start now, snooze once, skip today."""
    query, press = pressed(update, cb.PromptPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    message_id = query.message.message_id
    result = await prompt_flow.press(
        svc, user_id=user_id, prompt_id=press.prompt_id, message_id=message_id, action=press.action
    )
    bot = context.bot
    match result:
        case Refused(reason=reason):
            await ui.answer(query, reason)
        case prompt_flow.AlreadyRated(value=value):
            await ui.answer(query, views.already_noted(value))
        case prompt_flow.Start(routine_id=routine_id):
            await ui.answer(query)
            await ui.edit(bot, chat_id, message_id, views.View(views.PROMPT_STARTED))
            begun = await session_flow.begin(svc, user_id=user_id, routine_id=routine_id)
            if isinstance(begun, session_flow.AlreadyOpen):
                await ui.send(bot, chat_id, views.View(views.ALREADY_OPEN))
            else:
                await conversation.show_begun(bot, svc, chat_id, begun)
        case prompt_flow.Skipped():
            await ui.answer(query, views.SKIPPED_TODAY)
            await ui.edit(bot, chat_id, message_id, views.skip_reason())
        case prompt_flow.Rated(value=value, prompt_id=prompt_id):
            # A rating keeps the prompt's other buttons; a snooze closes it.
            await _noted(query, bot, chat_id, views.pain_today(value), views.prompt_action_rows(prompt_id))
        case prompt_flow.Snoozed(due=due):
            await _noted(query, bot, chat_id, views.snoozed_until(due), [])


async def _noted(query: CallbackQuery, bot: Bot, chat_id: int, note: str, keep: list[list[views.Button]]) -> None:
    """Answer the press with the note, and add it under the prompt's text."""
    assert query.message is not None
    await ui.answer(query, note)
    # A message too old for the bot to read arrives without its text.
    message = query.message
    shown = message.text_html if isinstance(message, Message) and message.text else ""
    await ui.edit(bot, chat_id, message.message_id, views.prompt_answered(shown, note, keep))
