"""Guided routines: /stretch, the routine menu, and the buttons under each step."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import conversation, ui, views
from bot.coaching.areas import resolve_area
from bot.coaching.session import Status
from bot.flows import Refused
from bot.flows import session as session_flow
from bot.handlers import ids, pressed
from bot.services import Services, services
from storage import repo


async def _paused(svc: Services, user_id: int) -> bool:
    async with svc.db.transaction() as db:
        return await repo.coaching_paused(db, user_id=user_id)


async def stretch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stretch [area]: the routine menu, or start the routine for that area."""
    user_id, chat_id = ids(update)
    svc = services(context)
    if await _paused(svc, user_id):
        await ui.send(context.bot, chat_id, views.coaching_paused())
        return
    typed = " ".join(context.args or [])
    match = resolve_area(typed, svc.library) if typed else None
    if typed and match is None:
        minutes = await session_flow.menu_minutes(svc, user_id)
        await ui.send(context.bot, chat_id, views.unknown_area(typed, svc.library, minutes))
        return
    if match is not None and not match.exact:
        await ui.send(context.bot, chat_id, views.did_you_mean(typed, match.routine_id, svc.library))
        return
    async with svc.db.transaction() as db:
        open_ = await repo.open_session(db, user_id=user_id)
    if open_ is not None:
        await _offer_open(context, svc, chat_id, open_, match.routine_id if match else None)
    elif match is None:
        await ui.send(
            context.bot, chat_id, views.menu(svc.library, minutes_of=await session_flow.menu_minutes(svc, user_id))
        )
    else:
        begun = await session_flow.begin(svc, user_id=user_id, routine_id=match.routine_id)
        if not isinstance(begun, session_flow.AlreadyOpen):
            await conversation.show_begun(context.bot, svc, chat_id, begun)


async def _offer_open(
    context: ContextTypes.DEFAULT_TYPE, svc: Services, chat_id: int, session: repo.RoutineSession, wanted: str | None
) -> None:
    assert session.id is not None
    if wanted == session.routine_id:
        wanted = None  # an old "Start Hips" while Hips is open: Continue is the offer, not Hips again
    view = views.open_session(
        session.id,
        session_flow.title_of(svc, session.routine_id),
        session.current_step,
        len(session.plan),
        session.status,
        wanted,
        session_flow.title_of(svc, wanted) if wanted else None,
    )
    await ui.send(context.bot, chat_id, view)


async def routine_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A routine in the menu: start it (ending the open session first if the person chose that)."""
    query, press = pressed(update, cb.RoutinePress)
    user_id, chat_id = ids(update)
    svc = services(context)
    if press.routine_id not in svc.library.routines:
        await ui.answer(query, views.UNKNOWN_BUTTON)
        return
    if await _paused(svc, user_id):
        await ui.answer(query)
        await ui.send(context.bot, chat_id, views.coaching_paused())
        return
    if press.replace is not None:
        # The person chose to end the open routine for this one: quietly, without its rating after.
        stopped = await session_flow.stop(svc, user_id=user_id, session_id=press.replace, quiet=True)
        if isinstance(stopped, Refused):
            await ui.answer(query, stopped.reason)
            return
        await ui.answer(query, views.STOPPED)
        await conversation.show_stopped(context.bot, svc, chat_id, stopped)
    else:
        await ui.answer(query)
    begun = await session_flow.begin(svc, user_id=user_id, routine_id=press.routine_id)
    if not isinstance(begun, session_flow.AlreadyOpen):
        await conversation.show_begun(context.bot, svc, chat_id, begun)
    else:
        async with svc.db.transaction() as db:
            open_ = await repo.open_session(db, user_id=user_id)
        if open_ is not None:
            await _offer_open(context, svc, chat_id, open_, press.routine_id)


async def continue_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Continue an open session where it was, or stop it."""
    query, press = pressed(update, cb.ContinuePress)
    user_id, chat_id = ids(update)
    svc = services(context)
    if press.stop:
        stopped = await session_flow.stop(svc, user_id=user_id, session_id=press.session_id)
        if isinstance(stopped, Refused):
            await ui.answer(query, stopped.reason)
            return
        await ui.answer(query, views.STOPPED)
        await conversation.show_stopped(context.bot, svc, chat_id, stopped)
        return
    if await _paused(svc, user_id):
        await ui.answer(query)
        await ui.send(context.bot, chat_id, views.coaching_paused())
        return
    async with svc.db.transaction() as db:
        session = await repo.get_session(db, session_id=press.session_id, user_id=user_id)
    if session is None or session.status == Status.finished:
        await ui.answer(query, views.STALE_BUTTON)
        return
    await ui.answer(query)
    if session.message_id is not None:
        await ui.edit(context.bot, chat_id, session.message_id, views.View(views.CONTINUED_BELOW))
    await conversation.show_current(context.bot, svc, chat_id, session)
    if session.timer_started_at is not None:
        conversation.start_countdown(context.bot, svc, chat_id=chat_id, session=session)


async def pain_check_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After a severe rating before a routine: Relax or stop for now."""
    query, press = pressed(update, cb.PainCheckPress)
    user_id, chat_id = ids(update)
    svc = services(context)
    checked = await session_flow.pain_check(
        svc,
        user_id=user_id,
        session_id=press.session_id,
        choice=press.choice,
        message_id=query.message.message_id if query.message else None,
    )
    if isinstance(checked, Refused):
        await ui.answer(query, checked.reason)
        return
    await ui.answer(query, None if checked.switch else views.STOPPED)
    await conversation.show_pain_check(context.bot, svc, chat_id, checked)


async def step_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a step: start timer, done, skip, this hurts, stop."""
    query, press = pressed(update, cb.StepPress)
    user_id, chat_id = ids(update)
    svc = services(context)
    pressed_ = await session_flow.press_step(
        svc,
        user_id=user_id,
        session_id=press.session_id,
        step=press.step,
        action=press.action,
        message_id=query.message.message_id if query.message else None,
    )
    if isinstance(pressed_, Refused):
        await ui.answer(query, pressed_.reason)
        return
    # Committed: from here on only the conversation is updated.
    await ui.answer(query, views.step_answer(press.action))
    await conversation.show_step(context.bot, svc, chat_id, pressed_)
