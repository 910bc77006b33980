"""Answers for everything no other handler took: nothing a person sends meets silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import i18n, ui, views
from bot.coaching.areas import resolve_area
from bot.coaching.intents import read_intent
from bot.coaching.redflags import read_warning_signs
from bot.handlers import ids
from bot.services import services


async def free_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text that is neither a rating nor a warning sign: offer a routine by that name, or explain."""
    message = update.effective_message
    assert message is not None
    svc = services(context)
    text = message.text or ""
    chat_id = ids(update)[1]
    intent = read_intent(text, i18n.reading())
    if intent is not None:
        first_name = update.effective_user.first_name if update.effective_user else ""
        await ui.send(context.bot, chat_id, views.intent_reply(intent, first_name or ""))
        return
    if read_warning_signs(text).pointer:
        await ui.send(context.bot, chat_id, views.symptom_pointer())
        return
    match = resolve_area(text, svc.library) if len(text) <= 40 else None
    if match is not None and match.exact:
        await ui.send(context.bot, chat_id, views.did_you_mean_start(match.routine_id, svc.library))
        return
    await ui.send(context.bot, chat_id, views.not_understood())


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command Limber doesn't have."""
    message = update.effective_message
    assert message is not None
    command = (message.text or "/").split()[0]
    await ui.send(context.bot, ids(update)[1], views.unknown_command(command))


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, locations...: say what Limber can read."""
    await ui.send(context.bot, ids(update)[1], views.non_text())


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: acting on edits would count a rating twice, so ask to send it again."""
    message = update.edited_message
    if message is not None and message.location is not None:
        return  # a live location moving: not something the person typed
    await ui.send(context.bot, ids(update)[1], views.View(views.EDITED))


async def group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command in a group: Limber coaches in private chats only."""
    chat = update.effective_chat
    assert chat is not None
    await ui.send(context.bot, chat.id, views.View(views.GROUP))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press whose payload no handler accepts: forged, from an old version, or from elsewhere."""
    query = update.callback_query
    assert query is not None
    await ui.answer(query, views.UNKNOWN_BUTTON)
