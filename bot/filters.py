"""Message filters that route free text by what it says (see the order in bot.app.register)."""

from __future__ import annotations

from telegram import Message
from telegram.ext.filters import MessageFilter

from bot import i18n
from bot.coaching.ratings import parse_pain
from bot.coaching.redflags import detect_red_flags


class _RedFlagText(MessageFilter):
    __slots__ = ()

    def filter(self, message: Message) -> bool:
        return bool(message.text and detect_red_flags(message.text))


class _PainRatingText(MessageFilter):
    __slots__ = ()

    def filter(self, message: Message) -> bool:
        return bool(message.text and parse_pain(message.text, i18n.reading()) is not None)


RED_FLAG_TEXT = _RedFlagText(name="RedFlagText")
PAIN_RATING_TEXT = _PainRatingText(name="PainRatingText")
