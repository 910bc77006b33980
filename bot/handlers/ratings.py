"""Pain ratings 0-10: the rating buttons of a session, and ratings typed at any time."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import conversation, i18n, ui, views
from bot.coaching.ratings import OutOfRange, Several, Unsure, parse_pain
from bot.coaching.session import Status
from bot.flows import Refused
from bot.flows import ratings as ratings_flow
from bot.flows import session as session_flow
from bot.handlers import ids, pressed
from bot.services import Services, services
from storage import repo
from storage.models import PainRating, RatingContext


async def rate_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A number (or Skip) on a session's rating keyboard."""
    query, press = pressed(update, cb.RatePress)
    user_id, chat_id = ids(update)
    svc = services(context)
    rated = await session_flow.rate_session(
        svc,
        user_id=user_id,
        session_id=press.session_id,
        when=press.when,
        value=press.value,
        message_id=query.message.message_id if query.message else None,
    )
    if isinstance(rated, Refused):
        await ui.answer(query, rated.reason)
        return
    await ui.answer(query, views.noted(rated.value))
    await conversation.show_rated(context.bot, svc, chat_id, rated)


async def typed_rating(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A rating typed as text ("4", "pain 4/10", "it's a 7"): for the session's question, or free-standing.

    Stored once per message: when its update runs again (a retry after the commit, a claim taken
    over, a re-post to another worker), the stored rating is found and acknowledged the same way.
    """
    message = update.effective_message
    assert message is not None and message.text is not None
    chat_id = ids(update)[1]
    parsed = parse_pain(message.text, i18n.reading())
    if isinstance(parsed, Unsure):
        # A digit among other words might be a rating: ask rather than store it silently.
        await ui.send(context.bot, chat_id, views.check_rating(parsed.value))
        return
    if isinstance(parsed, Several):
        await ui.send(context.bot, chat_id, views.which_rating(parsed.values))
        return
    if isinstance(parsed, OutOfRange) or parsed is None:
        await ui.send(context.bot, chat_id, views.View(views.rating_out_of_range(parsed.raw if parsed else "")))
        return
    await _record(update, context, parsed.value, repo.message_source(message.message_id))


async def rating_checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The answer to "Was that your pain: 6/10?"."""
    query, press = pressed(update, cb.CheckRatingPress)
    await ui.answer(query)
    if query.message is not None:
        await ui.edit(context.bot, ids(update)[1], query.message.message_id, views.rating_checked(press.value))
    if press.value is not None and query.message is not None:
        # Keyed by the question's message: a second tap on "Yes" finds the rating and says the same.
        await _record(update, context, press.value, repo.message_source(query.message.message_id))


async def _record(update: Update, context: ContextTypes.DEFAULT_TYPE, value: int, source: str) -> None:
    """Store a rating once per message it came from: as the open session's before or after rating when
    it asks for one, else as it comes."""
    user_id, chat_id = ids(update)
    svc = services(context)
    match await ratings_flow.record(svc, user_id, value, source):
        case ratings_flow.Again(earlier=earlier):
            await _noted_again(context, svc, chat_id, earlier)
        case ratings_flow.ForSession(session_id=session_id, before=before):
            rated = await session_flow.rate_session(
                svc,
                user_id=user_id,
                session_id=session_id,
                when="b" if before else "a",
                value=value,
                message_id=None,
                source=source,
            )
            # Typed, there is no button to answer; a refusal (the session moved on meanwhile) says nothing.
            if not isinstance(rated, Refused):
                await conversation.show_rated(context.bot, svc, chat_id, rated)
        case ratings_flow.Noted(value=noted, context=where):
            await ui.send(context.bot, chat_id, views.View(views.rating_noted(noted, where)))


async def _noted_again(context: ContextTypes.DEFAULT_TYPE, svc: Services, chat_id: int, earlier: PainRating) -> None:
    """What the first run of this message said (or was about to say) after storing its rating."""
    if earlier.context not in (RatingContext.before, RatingContext.after) or earlier.session_id is None:
        await ui.send(context.bot, chat_id, views.View(views.rating_noted(earlier.value, earlier.context)))
        return
    async with svc.db.transaction() as db:
        session = await repo.get_session(db, session_id=earlier.session_id, user_id=earlier.user_id)
    if session is None:
        return
    if session.status == Status.finished:
        await conversation.send_summary(context.bot, svc, chat_id, session)
    elif session.message_id is None:  # the step it led to may never have been shown
        await conversation.show_current(context.bot, svc, chat_id, session)
