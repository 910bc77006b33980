"""A person sending a flood is slowed politely: chatter is dropped, what matters still gets through."""

from __future__ import annotations

from collections import OrderedDict, deque

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.coaching.ratings import parse_pain
from bot.coaching.redflags import detect_red_flags
from bot.services import services

WINDOW_SECONDS = 10.0
LIMIT = 20  # updates per person per window before chatter is dropped
# Presses per window past which even real buttons are dropped: nobody taps that fast by hand, and
# each press costs a transaction (and, were one to fail, a log line).
PRESS_LIMIT = 3 * LIMIT


def _essential(update: Update, count: int) -> bool:
    """What is dropped last: real buttons, pain ratings, warning signs, /cancel (forged presses are not)."""
    if update.my_chat_member is not None:
        return True
    if update.callback_query is not None:
        return count <= PRESS_LIMIT and cb.parse(update.callback_query.data) is not None
    message = update.effective_message
    text = (message.text or "") if message else ""
    return bool(parse_pain(text) or detect_red_flags(text) or text.split(maxsplit=1)[:1] == ["/cancel"])


def kept_in_a_flood(update: object) -> bool:
    """What a full update queue (bot.concurrency) makes room for by dropping waiting chatter."""
    return isinstance(update, Update) and _essential(update, 0)


async def dropped(update: object) -> None:
    """An update a full queue dropped: a press still gets its spinner stopped; chatter goes unanswered."""
    if isinstance(update, Update) and update.callback_query is not None:
        user = update.effective_user
        i18n.use(i18n.choose(user.language_code if user else None))
        await ui.answer(update.callback_query, views.FLOOD_PRESS)


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Count the person's updates; past the limit, drop chatter with one notice per window."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    svc = services(context)
    now = svc.clock.now().timestamp()
    seen = svc.flood.pop(user.id, None) or deque(maxlen=PRESS_LIMIT + 1)
    svc.flood[user.id] = seen  # now the most recently seen
    seen.append(now)
    while seen and now - seen[0] > WINDOW_SECONDS:
        seen.popleft()
    _forget_quiet(svc.flood, svc.flood_noticed, now)
    if len(seen) <= LIMIT or _essential(update, len(seen)):
        return
    # This runs before the person's row is read: speak the language their app is set to.
    i18n.use(svc.languages.get(user.id) or i18n.choose(user.language_code))
    if update.callback_query is not None:
        await ui.answer(update.callback_query, views.FLOOD_PRESS)  # the spinner stops; nothing else runs
    elif svc.flood_noticed.get(user.id, 0.0) < now - WINDOW_SECONDS:
        svc.flood_noticed[user.id] = now
        await ui.send(context.bot, chat.id, views.View(views.FLOOD))
    raise ApplicationHandlerStop


def _forget_quiet(flood: OrderedDict[int, deque[float]], noticed: dict[int, float], now: float) -> None:
    """Drop the people who sent nothing for a whole window (least recently seen first: a few at a time)."""
    while flood:
        user_id, seen = next(iter(flood.items()))
        if seen and now - seen[-1] <= WINDOW_SECONDS:
            return
        del flood[user_id]
        noticed.pop(user_id, None)
