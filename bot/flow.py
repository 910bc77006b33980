"""A guided session across updates: load it, decide with the coaching domain, commit, then talk.

Every change is committed before the bot acknowledges it, and is conditional on the session still
being where the person saw it, so stale, double or concurrent presses change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from telegram import Bot

from bot import dbretry, history, ui, views
from bot.coaching.adapt import adapt, flare_suggested, planned_steps, recent_values
from bot.coaching.plan import PlannedStep, estimate_minutes, fit_length, within_level
from bot.coaching.session import OUTCOMES, Position, Status, StepAction, after_rating, after_step, summarize
from bot.coaching.timer import Phase, seconds_to_phase_end, timer_phases, timer_view
from bot.services import Services
from storage import prompts as prompt_repo
from storage import repo
from storage.models import RoutineSession

log = logging.getLogger(__name__)
FLARE_ROUTINE = "relax"


# Acknowledges the person's action (answers the button press) once the outcome is committed.
Ack = Callable[[str | None], Awaitable[None]]


async def no_ack(_text: str | None) -> None:
    return None


def plan_of(session: RoutineSession) -> list[PlannedStep]:
    return [PlannedStep.from_json(d) for d in session.plan]


def position(session: RoutineSession) -> Position:
    return Position(Status(session.status), session.current_step, len(session.plan))


def title_of(svc: Services, routine_id: str) -> str:
    routine = svc.library.routines.get(routine_id)
    return routine.title if routine else routine_id


def current_view(svc: Services, session: RoutineSession, note: str = "") -> views.View:
    """The message that carries the live buttons for where the session is."""
    assert session.id is not None
    plan = plan_of(session)
    match Status(session.status):
        case Status.rating_before:
            return views.rating_before(
                session.id, title_of(svc, session.routine_id), len(plan), estimate_minutes(plan), note=note
            )
        case Status.rating_after:
            return views.rating_after(session.id, session.stopped)
        case _:
            step = plan[session.current_step]
            timer = None
            if session.timer_started_at is not None:
                phases = _phases(step)
                timer = timer_view(phases, (svc.clock.now() - session.timer_started_at).total_seconds())
            return views.step(
                session_id=session.id,
                index=session.current_step,
                planned=step,
                step_count=len(plan),
                technique=svc.library.techniques.get(step.technique_id),
                timer=timer,
                note=note,
            )


async def show_current(bot: Bot, svc: Services, chat_id: int, session: RoutineSession, note: str = "") -> None:
    """Send the session's current message and make it the one whose buttons count."""
    message = await ui.send(bot, chat_id, current_view(svc, session, note))

    async def remember() -> None:
        async with svc.db.transaction() as db:
            await repo.set_message_if_at(
                db,
                session_id=session.id or 0,
                user_id=session.user_id,
                status=session.status,
                step=session.current_step,
                message_id=message.message_id,
            )

    # The message is out: its buttons must count even if the database blinks right now. Should it
    # stay down, they count anyway: a press for the current step is taken while no id is stored.
    try:
        await dbretry.with_retries(remember, "show_current")
    except Exception as exc:
        if not dbretry.is_transient(exc):
            raise
        log.warning("could not store message %s as session %s's live one", message.message_id, session.id)
        return
    session.message_id = message.message_id


async def personal_plan(svc: Services, user_id: int, routine_id: str) -> tuple[list[PlannedStep], list[str]]:
    """The routine as this person should do it today, and a sentence for every way it differs."""
    data = await history.load(svc, user_id)
    routine = svc.library.routines[routine_id]
    ids, too_hard = within_level(list(routine.techniques), svc.library, data.prefs.level)
    adapted = adapt(
        routine_id,
        ids,
        svc.library.techniques,
        data.sessions,
        today_pain=None,
        recent_ratings=data.ratings,
        today=data.today(svc.clock.now()),
        tz=data.tz,
    )
    notes = [f"Left out {svc.library.techniques[t].title}: above your level ({data.prefs.level})." for t in too_hard]
    steps = fit_length(planned_steps(adapted, svc.library.techniques), data.prefs.session_length, svc.library)
    return steps, notes + adapted.notes


async def begin(bot: Bot, svc: Services, *, chat_id: int, user_id: int, routine_id: str) -> bool:
    """Open a session for a routine and ask for the pain rating; False if one is already open.

    While a red-flag answer pauses coaching nothing starts, whichever button or command asked.
    """
    async with svc.db.transaction() as db:
        paused = await repo.coaching_paused(db, user_id=user_id)
    if paused:
        await ui.send(bot, chat_id, views.coaching_paused())
        return True
    steps, notes = await personal_plan(svc, user_id, routine_id)
    plan = [s.to_json() for s in steps]
    try:
        async with svc.db.transaction() as db:
            if await repo.open_session(db, user_id=user_id) is not None:
                return False
            session = await repo.create_session(
                db, user_id=user_id, routine_id=routine_id, plan=plan, status=Status.rating_before, now=svc.clock.now()
            )
            await prompt_repo.remember_routine(db, user_id=user_id, routine_id=routine_id)
    except IntegrityError:
        return False  # another update opened one at the same moment
    await show_current(bot, svc, chat_id, session, note="\n".join(views.e(n) for n in notes))
    return True


async def press_step(
    bot: Bot,
    svc: Services,
    ack: Ack,
    *,
    chat_id: int,
    user_id: int,
    session_id: int,
    step: int,
    action: StepAction,
    message_id: int | None,
) -> bool:
    """A button under a step: start the timer, or end the step (done, skip, hurts) or the routine (stop)."""
    async with svc.db.transaction() as db:
        session = await repo.get_session(db, session_id=session_id, user_id=user_id)
        if session is None:
            return await _refuse(ack, views.UNKNOWN_BUTTON)
        # No id stored: the step's message went out, but its id is not in yet (an outage, or this press
        # overtook it on another worker); the session and step in the payload say it is the current one.
        live = session.message_id is None or session.message_id == message_id
        if session.status != Status.in_progress or session.current_step != step or not live:
            return await _refuse(ack, views.STALE_BUTTON)
        if action is not StepAction.stop and await repo.coaching_paused(db, user_id=user_id):
            return await _refuse(ack, "Coaching is paused: please get checked first.")
        planned = plan_of(session)[step]
        if action is StepAction.timer:
            if session.message_id is None and message_id is not None:
                session.message_id = message_id  # the countdown edits the message pressed
            if not views.has_timer(planned) or not await repo.start_timer(
                db, session=session, step=step, at=svc.clock.now()
            ):
                return await _refuse(ack, "The timer is already running.")
        else:
            nxt = after_step(position(session), action)
            if action in OUTCOMES:
                await repo.add_outcome(
                    db, session=session, step_index=step, technique_id=planned.technique_id, outcome=OUTCOMES[action]
                )
            if not await repo.advance_session(
                db,
                session=session,
                expect_status=Status.in_progress,
                expect_step=step,
                status=nxt.status,
                step=nxt.step,
                stopped=action is StepAction.stop,
            ):
                return await _refuse(ack, views.STALE_BUTTON)
    # Committed: from here on only the conversation is updated.
    await ack(
        {StepAction.timer: "Timer started", StepAction.hurt: "Noted. Ease off.", StepAction.stop: "Stopped"}.get(action)
    )
    if action is StepAction.timer:
        start_countdown(bot, svc, chat_id=chat_id, session=session)
        return True
    svc.timers.cancel(session_id)
    if message_id is not None:
        closed = views.step_closed(step, len(session.plan), planned.title, action)
        await ui.edit(bot, chat_id, message_id, views.View(closed))
    await show_current(bot, svc, chat_id, session, note=views.HURT_NOTE if action is StepAction.hurt else "")
    return True


async def rate_session(
    bot: Bot,
    svc: Services,
    ack: Ack,
    *,
    chat_id: int,
    user_id: int,
    session_id: int,
    when: str,
    value: int | None,
    message_id: int | None,
    source: str | None = None,
) -> bool:
    """A pain rating (or skipping it) before the first step or after the last; `message_id` None when typed,
    `source` the typed message (bot.handlers.ratings)."""
    expected = Status.rating_before if when == "b" else Status.rating_after
    async with svc.db.transaction() as db:
        session = await repo.get_session(db, session_id=session_id, user_id=user_id)
        if session is None:
            return await _refuse(ack, views.UNKNOWN_BUTTON)
        if session.status != expected or (message_id is not None and session.message_id not in (None, message_id)):
            return await _refuse(ack, views.STALE_BUTTON)
        live_message = session.message_id or message_id
        if value is not None:
            await repo.add_rating(
                db,
                user_id=user_id,
                value=value,
                context="before" if when == "b" else "after",
                session_id=session_id,
                now=svc.clock.now(),
                source=source,
            )
        nxt = after_rating(position(session))
        finished = svc.clock.now() if nxt.status is Status.finished else None
        if not await repo.advance_session(
            db,
            session=session,
            expect_status=expected,
            expect_step=session.current_step,
            status=nxt.status,
            step=nxt.step,
            finished_at=finished,
        ):
            return await _refuse(ack, views.STALE_BUTTON)
    await ack(None if value is None else f"Noted: {value}/10")
    rated = f"Pain {'before' if when == 'b' else 'after'}: {value}/10 ✓" if value is not None else "Rating skipped"
    if live_message is not None:
        await ui.edit(bot, chat_id, live_message, views.View(rated))
    if nxt.status is Status.finished:
        await send_summary(bot, svc, chat_id, session)
        return True
    await show_current(bot, svc, chat_id, session)
    if value is not None and session.routine_id != FLARE_ROUTINE and FLARE_ROUTINE in svc.library.routines:
        data = await history.load(svc, user_id)
        if flare_suggested(value, recent_values(data.ratings, data.today(svc.clock.now()), data.tz)):
            await ui.send(bot, chat_id, views.flare_offer(title_of(svc, session.routine_id), session_id))
    return True


async def send_summary(bot: Bot, svc: Services, chat_id: int, session: RoutineSession) -> None:
    assert session.id is not None
    async with svc.db.transaction() as db:
        outcomes = [o.outcome for o in await repo.session_outcomes(db, session_id=session.id)]
        ratings = await repo.session_ratings(db, session_id=session.id)
    summary = summarize(
        routine_title=title_of(svc, session.routine_id),
        step_count=len(session.plan),
        outcomes=outcomes,
        started_at=session.started_at,
        finished_at=session.finished_at or svc.clock.now(),
        stopped=session.stopped,
        before=ratings.get("before"),
        after=ratings.get("after"),
    )
    await ui.send(bot, chat_id, views.summary(summary))


async def stop(
    bot: Bot, svc: Services, ack: Ack, *, chat_id: int, user_id: int, session_id: int | None = None, quiet: bool = False
) -> bool:
    """End the open session from wherever it is: a step goes to the rating after, a rating ends it.

    `quiet` ends it outright, without the rating after or a summary (the person chose another routine).
    """
    async with svc.db.transaction() as db:
        session = (
            await repo.get_session(db, session_id=session_id, user_id=user_id)
            if session_id is not None
            else await repo.open_session(db, user_id=user_id)
        )
        if session is None or session.status == Status.finished:
            return await _refuse(ack, views.NOTHING_TO_CANCEL if session_id is None else views.STALE_BUTTON)
        was, live_message = Status(session.status), session.message_id
        if was is Status.in_progress and not quiet:
            nxt = after_step(position(session), StepAction.stop)
        else:
            nxt = Position(Status.finished, session.current_step, len(session.plan))
        if not await repo.advance_session(
            db,
            session=session,
            expect_status=was,
            expect_step=session.current_step,
            status=nxt.status,
            step=nxt.step,
            stopped=True,
            finished_at=svc.clock.now() if nxt.status is Status.finished else None,
        ):
            return await _refuse(ack, views.STALE_BUTTON)
    await ack("Stopped")
    svc.timers.cancel(session.id or 0)
    if live_message is not None:
        closing = "⏹ Stopped" if was is not Status.rating_after else "Rating skipped"
        await ui.edit(bot, chat_id, live_message, views.View(closing))
    if quiet:
        return True
    if was is Status.rating_before:
        await ui.send(
            bot, chat_id, views.View("Routine cancelled before it began. Nothing was recorded.", [views.NAV_ROW])
        )
    elif was is Status.rating_after:
        await send_summary(bot, svc, chat_id, session)
    else:
        await show_current(bot, svc, chat_id, session)
    return True


async def _refuse(ack: Ack, text: str) -> bool:
    await ack(text)
    return False


def _phases(step: PlannedStep) -> list[Phase]:
    return timer_phases(hold_seconds=step.hold_seconds or 0, sides=step.sides, rest_seconds=step.rest_seconds)


def start_countdown(bot: Bot, svc: Services, *, chat_id: int, session: RoutineSession) -> None:
    assert session.id is not None
    svc.timers.start(session.id, _countdown(bot, svc, chat_id=chat_id, session=session))


async def _countdown(bot: Bot, svc: Services, *, chat_id: int, session: RoutineSession) -> None:
    """Edit the step message as the hold runs down, at most one edit every `timer_tick_seconds`."""
    assert session.id is not None and session.timer_started_at is not None and session.message_id is not None
    started, step, message_id = session.timer_started_at, session.current_step, session.message_id
    phases = _phases(plan_of(session)[step])
    tick = svc.settings.timer_tick_seconds
    while True:
        now = svc.clock.now()
        async with svc.db.transaction() as db:
            mine = await repo.beat_timer(
                db, session=session, owner=svc.instance, now=now, silent_since=now - silent_for(svc)
            )
        if not mine:
            return  # the step ended elsewhere (another press, another process), or another worker edits it
        elapsed = (now - started).total_seconds()
        view = current_view(svc, session)
        if not await ui.edit(bot, chat_id, message_id, view) or timer_view(phases, elapsed).finished:
            return
        # Wake at the phase end when it comes first, so "switch sides" shows on time.
        await svc.clock.sleep(max(tick / 2, min(tick, seconds_to_phase_end(phases, elapsed))))


def silent_for(svc: Services) -> timedelta:
    """How long a countdown's editor may go without a beat before another process takes it over."""
    return timedelta(seconds=3 * svc.settings.timer_tick_seconds)


async def resume_countdowns(bot: Bot, svc: Services, *, all_running: bool = False) -> int:
    """Pick up countdowns nobody edits: their start times are in the database.

    `all_running`: this is the only process answering buttons and it just started, so every running
    countdown lost its editor. Otherwise only those whose editor fell silent (a worker died).
    """
    silent_since = None if all_running else svc.clock.now() - silent_for(svc)
    async with svc.db.transaction() as db:
        if all_running:
            await repo.release_timers(db)
        running = await repo.running_timers(db, silent_since=silent_since)
    adopted = 0
    for session in running:
        if session.id is not None and not svc.timers.running(session.id):
            start_countdown(bot, svc, chat_id=session.user_id, session=session)
            adopted += 1
    return adopted
