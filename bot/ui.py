"""Sending views through Telegram, absorbing the errors that must not break a conversation.

A view's text or label that is itself a catalog entry (a constant such as `views.STALE_BUTTON`) is
translated here; composed texts were translated piece by piece in the views.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.clock import Clock, SystemClock
from bot.i18n import _
from bot.views import Button, View

log = logging.getLogger(__name__)
RETRIES = 3
BACKOFF = 0.25  # seconds before the first retry of a failed request; doubles each time
# The clock each bot's retries wait on, by id (a Bot's hash changes once it is initialized): the injected one
# (tests move it on instead of waiting out a 429), else the system clock.
_clocks: dict[int, Clock] = {}
_SYSTEM = SystemClock()


def use_clock(bot: Bot, clock: Clock) -> None:
    """Make `bot`'s retries wait on `clock`, for as long as the bot lives."""
    if id(bot) not in _clocks:
        weakref.finalize(bot, _clocks.pop, id(bot), None)
    _clocks[id(bot)] = clock


async def _pause(bot: Bot, seconds: float) -> None:
    await _clocks.get(id(bot), _SYSTEM).sleep(seconds)


def markup(buttons: list[list[Button]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_(b.label), callback_data=b.data) for b in row] for row in buttons]
    )


def reply_markup(view: View) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """A message carries one keyboard: the inline buttons, a reply keyboard, or the removal of one."""
    if view.keyboard:
        rows = [[KeyboardButton(_(b.label), request_location=b.location) for b in row] for row in view.keyboard]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    if view.remove_keyboard:
        return ReplyKeyboardRemove()
    return markup(view.buttons)


async def send(bot: Bot, chat_id: int, view: View) -> Message:
    """Send a view (text, or a photo, animation or document with the text as caption), waiting out a 429 and
    retrying a 5xx or a dropped connection with backoff.

    A timeout is not retried: Telegram may have delivered the message, and a copy would confuse.
    """
    return await _sent(bot, lambda: deliver(bot, chat_id, view))


async def deliver(bot: Bot, chat_id: int, view: View) -> Message:
    """One request for a view, no retry: `send` retries it, and the prompt clock (bot.prompt_clock) paces it
    with the same policy (`retry_delay`)."""
    text, keyboard, attachment = _(view.text), reply_markup(view), view.attachment
    if attachment is None:
        return await bot.send_message(chat_id, text, reply_markup=keyboard)
    media: InputFile | str
    if attachment.file_id is not None:
        media = attachment.file_id
    else:
        assert attachment.data is not None
        media = InputFile(attachment.data, filename=attachment.name)
    caption = text or None
    match attachment.kind:
        case "photo":
            return await bot.send_photo(chat_id, media, caption=caption, reply_markup=keyboard)
        case "animation":
            return await bot.send_animation(chat_id, media, caption=caption, reply_markup=keyboard)
        case "document":
            return await bot.send_document(chat_id, media, caption=caption, reply_markup=keyboard)


def retry_delay(exc: TelegramError, attempt: int, *, retries: int = RETRIES) -> float | None:
    """The one retry policy of every send: seconds to wait before trying again after `attempt` (from 0)
    failed, or None when the error is final: a 429 is waited out, a 5xx or a dropped connection retried
    with backoff; a 400, a 403 or a timeout (Telegram may have delivered it) is not retried."""
    if attempt >= retries - 1:
        return None
    if isinstance(exc, RetryAfter):
        return retry_seconds(exc)
    if isinstance(exc, (BadRequest, TimedOut)) or not isinstance(exc, NetworkError):
        return None
    return BACKOFF * 2**attempt


async def _sent(bot: Bot, request: Callable[[], Awaitable[Message]]) -> Message:
    for attempt in range(RETRIES):
        try:
            return await request()
        except TelegramError as exc:
            delay = retry_delay(exc, attempt)
            if delay is None:
                raise
            await _pause(bot, delay)
    raise AssertionError("unreachable")


async def edit(bot: Bot, chat_id: int, message_id: int, view: View, *, caption: bool = False) -> bool:
    """Edit a message in place; False when it can no longer be edited (deleted, too old, bot blocked).

    `caption`: the message is a picture, whose caption is edited; a wrong guess is corrected once.
    """
    for attempt in range(RETRIES):
        try:
            if caption:
                await bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=_(view.text),
                    reply_markup=markup(view.buttons),
                )
            else:
                await bot.edit_message_text(
                    _(view.text),
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=markup(view.buttons),
                )
            return True
        except RetryAfter as exc:
            if attempt == RETRIES - 1:
                return False
            await _pause(bot, retry_seconds(exc))
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return True
            if attempt < RETRIES - 1 and ("no text in the message" in exc.message or "no caption in" in exc.message):
                caption = not caption  # a picture where text was expected, or the other way round
                continue
            log.info("edit of message %s in chat %s refused: %s", message_id, chat_id, exc.message)
            return False
        except Forbidden:
            return False
        except NetworkError:  # 5xx, timeout, dropped connection: an edit is safe to repeat
            if attempt == RETRIES - 1:
                return False
            await _pause(bot, BACKOFF * 2**attempt)
    return False


async def answer(query: CallbackQuery, text: str | None = None) -> None:
    """Acknowledge a button press. It is cosmetic (what the press did is committed before, and the chat
    message after it is what counts), so a failed answer is retried once and then let go: it must
    never stop the update. A second answer after a timeout that did land is refused, harmlessly."""
    for attempt in range(2):
        try:
            await query.answer(_(text) if text else text)
            return
        except BadRequest as exc:  # too old, or already answered
            log.info("callback answer refused: %s", exc.message)
            return
        except NetworkError as exc:  # 5xx, dropped connection, timeout
            if attempt == 1:
                log.info("callback answer failed twice, let go: %s", exc.message)
                return
            await _pause(query.get_bot(), BACKOFF)
        except TelegramError as exc:  # 429 (the answer's window is too short to wait), 403, anything else
            log.info("callback answer failed, let go: %s", exc.message)
            return


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def delete(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Delete a message; one already gone (or too old to delete) is no error."""
    for attempt in range(RETRIES):
        try:
            return await bot.delete_message(chat_id, message_id)
        except RetryAfter as exc:
            if attempt == RETRIES - 1:
                return False
            await _pause(bot, retry_seconds(exc))
        except (BadRequest, Forbidden) as exc:
            log.info("delete of message %s in chat %s refused: %s", message_id, chat_id, exc)
            return False
        except NetworkError:
            if attempt == RETRIES - 1:
                return False
            await _pause(bot, BACKOFF * 2**attempt)
    return False
