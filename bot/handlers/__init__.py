"""Update handlers, one feature per module; `bot.app.register` wires them in order."""

from __future__ import annotations

from typing import TypeVar

from telegram import CallbackQuery, Update

from bot import callbacks as cb

P = TypeVar("P")


def ids(update: Update) -> tuple[int, int]:
    """(user id, chat id) of an update that has both; handlers are registered only for such updates."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return user.id, chat.id


def pressed(update: Update, kind: type[P]) -> tuple[CallbackQuery, P]:
    """The button press and its parsed payload; the handler's pattern guarantees the kind."""
    query = update.callback_query
    assert query is not None
    press = cb.parse(query.data)
    assert isinstance(press, kind)
    return query, press
