"""Update handlers, one feature per module; `bot.app.register` wires them in order."""

from __future__ import annotations

from telegram import Update


def ids(update: Update) -> tuple[int, int]:
    """(user id, chat id) of an update that has both; handlers are registered only for such updates."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return user.id, chat.id
