"""A guided session across updates: load it, decide with the coaching domain, commit, return a result value.

Every change is committed before the bot acknowledges it, and is conditional on the session still
being where the person saw it, so stale, double or concurrent presses change nothing. What follows each
result (the next step, the summary, the countdown, the cues) is bot.conversation's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import records, views
from bot.coaching.adapt import adapt, flare_suggested, planned_steps, recent_values
from bot.coaching.plan import PlannedStep, estimate_minutes, fit_length, within_level
from bot.coaching.session import (
    OUTCOMES,
    Position,
    Status,
    StepAction,
    Summary,
    after_rating,
    after_step,
    summarize,
)
from bot.flows import Refused
from bot.services import Services
from content.schema import Role
from storage import prompts as prompt_repo
from storage import repo
from storage.models import RatingContext, RoutineSession

# A pain rating given on the daily prompt is the routine's before-rating if the routine starts this soon.
CARRY_PROMPT_RATING = timedelta(hours=1)


def plan_of(session: RoutineSession) -> list[PlannedStep]:
    return [PlannedStep.from_json(d) for d in session.plan]


def position(session: RoutineSession) -> Position:
    return Position(Status(session.status), session.current_step, len(session.plan))


def flare_routine(svc: Services) -> str | None:
    """The gentle routine offered on a flare day (its role in content), if the content has one."""
    return svc.library.with_role(Role.flare)


def title_of(svc: Services, routine_id: str) -> str:
    """A routine's title in the language being spoken."""
    routine = svc.library.routines.get(routine_id)
    return views.routine_title(routine) if routine else routine_id


async def personal_plan(svc: Services, user_id: int, routine_id: str) -> tuple[list[PlannedStep], list[str]]:
    """The routine as this person should do it today, and a sentence for every way it differs."""
    return plan_for(svc, await records.load(svc, user_id), routine_id)


async def menu_minutes(svc: Services, user_id: int) -> dict[str, int]:
    """How long each routine takes as this person would do it today (their level, length, adaptations)."""
    data = await records.load(svc, user_id)
    return {rid: estimate_minutes(plan_for(svc, data, rid)[0]) for rid in svc.library.routines}


def plan_for(svc: Services, data: records.History, routine_id: str) -> tuple[list[PlannedStep], list[str]]:
    routine = svc.library.routines[routine_id]
    fit = within_level(list(routine.techniques), svc.library, data.prefs.level)
    adapted = adapt(
        routine_id,
        fit.ids,
        svc.library.techniques,
        data.sessions,
        today_pain=None,
        recent_ratings=data.ratings,
        today=data.today(svc.clock.now()),
        tz=data.tz,
    )
    notes = views.level_notes(fit.swapped, fit.left_out, svc.library, data.prefs.level)
    steps = fit_length(planned_steps(adapted, svc.library.techniques), data.prefs.session_length, svc.library)
    return steps, notes + [views.adapt_note(note, svc.library) for note in adapted.notes]


@dataclass(frozen=True)
class Begun:
    """A routine's session opened, committed: `carried` is today's prompt rating taken as its before-rating."""

    session: RoutineSession
    steps: list[PlannedStep]
    notes: list[str]  # a sentence for every way today's plan differs from the routine
    carried: int | None


@dataclass(frozen=True)
class Paused:
    """Nothing started: a red-flag answer pauses coaching."""


@dataclass(frozen=True)
class AlreadyOpen:
    """Nothing started: a session is already open (or another update opened one at the same moment)."""


async def begin(svc: Services, *, user_id: int, routine_id: str) -> Begun | Paused | AlreadyOpen:
    """Open a session for a routine, to ask for the pain rating (bot.conversation.show_begun shows it).

    While a red-flag answer pauses coaching nothing starts, whichever button or command asked.
    """
    async with svc.db.transaction() as db:
        paused = await repo.coaching_paused(db, user_id=user_id)
    if paused:
        return Paused()
    steps, notes = await personal_plan(svc, user_id, routine_id)
    plan = [s.to_json() for s in steps]
    try:
        async with svc.db.transaction() as db:
            if await repo.open_session(db, user_id=user_id) is not None:
                return AlreadyOpen()
            session = await repo.create_session(
                db, user_id=user_id, routine_id=routine_id, plan=plan, status=Status.rating_before, now=svc.clock.now()
            )
            await prompt_repo.remember_routine(db, user_id=user_id, routine_id=routine_id)
            carried = await _carry_prompt_rating(db, svc, session)
    except IntegrityError:
        return AlreadyOpen()  # another update opened one at the same moment
    return Begun(session, steps, notes, carried)


async def _carry_prompt_rating(db: AsyncSession, svc: Services, session: RoutineSession) -> int | None:
    """Take today's prompt rating, if given within the hour, as the new session's before-rating.

    One question at a time: the person just answered it. The rating row becomes the session's
    "before" (so it is counted once), and the session moves on to its first step.
    """
    assert session.id is not None
    now = svc.clock.now()
    rating = await repo.recent_prompt_rating(db, user_id=session.user_id, since=now - CARRY_PROMPT_RATING)
    if rating is None:
        return None
    nxt = after_rating(position(session))
    if not await repo.advance_session(
        db,
        session=session,
        expect_status=Status.rating_before,
        expect_step=session.current_step,
        status=nxt.status,
        step=nxt.step,
    ):
        return None
    await repo.take_prompt_rating(db, rating=rating, session_id=session.id)
    return rating.value


async def flare_to_offer(svc: Services, *, user_id: int, session: RoutineSession, value: int) -> str | None:
    """The gentle routine to offer when a before-rating is well above the person's recent average."""
    flare = flare_routine(svc)
    if flare is None or session.routine_id == flare or session.id is None:
        return None
    data = await records.load(svc, user_id)
    if flare_suggested(value, recent_values(data.ratings, data.today(svc.clock.now()), data.tz)):
        return flare
    return None


@dataclass(frozen=True)
class StepPressed:
    """A press under a step, committed: the timer started, or the step (or the routine) ended."""

    session: RoutineSession
    step: int  # the step pressed
    action: StepAction
    planned: PlannedStep
    caption: bool  # the step's message is a picture, whose caption is edited
    message_id: int | None


async def press_step(
    svc: Services, *, user_id: int, session_id: int, step: int, action: StepAction, message_id: int | None
) -> StepPressed | Refused:
    """A button under a step: start the timer, or end the step (done, skip, hurts) or the routine (stop)."""
    try:
        async with svc.db.transaction() as db:
            session = await repo.get_session(db, session_id=session_id, user_id=user_id)
            if session is None:
                raise Refused(views.UNKNOWN_BUTTON)
            # No id stored: the step's message went out, but its id is not in yet (an outage, or this press
            # overtook it on another worker); the session and step in the payload say it is the current one.
            live = session.message_id is None or session.message_id == message_id
            if session.status != Status.in_progress or session.current_step != step or not live:
                raise Refused(views.STALE_BUTTON)
            if action is not StepAction.stop and await repo.coaching_paused(db, user_id=user_id):
                raise Refused(views.PAUSED_PRESS)
            planned = plan_of(session)[step]
            # The step's message is a picture unless pictures are off for this person (or the bot).
            caption = (
                svc.settings.step_pictures
                and planned.technique_id in svc.library.poses
                and not await repo.text_only(db, user_id=user_id)
            )
            if action is StepAction.timer:
                # The countdown edits the message pressed when no live one is stored.
                if not views.has_timer(planned) or not await repo.start_timer(
                    db, session=session, step=step, at=svc.clock.now(), message_id=message_id
                ):
                    raise Refused(views.TIMER_RUNNING)
            else:
                nxt = after_step(position(session), action)
                if action in OUTCOMES:
                    await repo.add_outcome(
                        db,
                        session=session,
                        step_index=step,
                        technique_id=planned.technique_id,
                        outcome=OUTCOMES[action],
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
                    raise Refused(views.STALE_BUTTON)
    except Refused as refused:
        return refused
    if action is not StepAction.timer:
        svc.timers.cancel(session_id)
    return StepPressed(session, step, action, planned, bool(caption), message_id)


@dataclass(frozen=True)
class SessionRated:
    """A rating before or after a routine (or skipping it), committed."""

    session: RoutineSession
    before: bool
    value: int | None
    live_message: int | None  # the rating's message, to close
    next_status: Status


async def rate_session(
    svc: Services,
    *,
    user_id: int,
    session_id: int,
    when: str,
    value: int | None,
    message_id: int | None,
    source: str | None = None,
) -> SessionRated | Refused:
    """A pain rating (or skipping it) before the first step or after the last; `message_id` None when typed,
    `source` the typed message (bot.handlers.ratings)."""
    expected = Status.rating_before if when == "b" else Status.rating_after
    try:
        async with svc.db.transaction() as db:
            session = await repo.get_session(db, session_id=session_id, user_id=user_id)
            if session is None:
                raise Refused(views.UNKNOWN_BUTTON)
            if session.status != expected or (message_id is not None and session.message_id not in (None, message_id)):
                raise Refused(views.STALE_BUTTON)
            live_message = session.message_id or message_id
            if value is not None:
                await repo.add_rating(
                    db,
                    user_id=user_id,
                    value=value,
                    context=RatingContext.before if when == "b" else RatingContext.after,
                    session_id=session_id,
                    now=svc.clock.now(),
                    source=source,
                )
            nxt = after_rating(position(session), value if when == "b" else None)
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
                raise Refused(views.STALE_BUTTON)
    except Refused as refused:
        return refused
    return SessionRated(session, when == "b", value, live_message, nxt.status)


@dataclass(frozen=True)
class PainChecked:
    """The answer to the pain check, committed: `new` is the Relax session switched to, if any."""

    session: RoutineSession
    new: RoutineSession | None
    notes: list[str]
    switch: bool
    message_id: int | None


async def pain_check(
    svc: Services, *, user_id: int, session_id: int, choice: str, message_id: int | None
) -> PainChecked | Refused:
    """The answer to a severe rating before a routine: Relax ("r") or stopping for now ("x").

    Switching ends this session unstarted and opens Relax at its first step, taking the rating along.
    """
    switch = choice == "r"
    flare = flare_routine(svc)
    relax, notes = await personal_plan(svc, user_id, flare) if switch and flare is not None else ([], [])
    new: RoutineSession | None = None
    try:
        async with svc.db.transaction() as db:
            session = await repo.get_session(db, session_id=session_id, user_id=user_id)
            if session is None:
                raise Refused(views.UNKNOWN_BUTTON)
            if session.status != Status.pain_check or session.message_id != message_id:
                raise Refused(views.STALE_BUTTON)
            to_relax = switch and session.routine_id != flare
            if to_relax and flare is None:
                raise Refused(views.UNKNOWN_BUTTON)  # never offered without a Relax routine
            go_on = switch and not to_relax  # this is Relax: start it
            nxt = Position(Status.in_progress if go_on else Status.finished, 0, len(session.plan))
            if not await repo.advance_session(
                db,
                session=session,
                expect_status=Status.pain_check,
                expect_step=session.current_step,
                status=nxt.status,
                step=nxt.step,
                stopped=nxt.status is Status.finished,
                finished_at=svc.clock.now() if nxt.status is Status.finished else None,
            ):
                raise Refused(views.STALE_BUTTON)
            if to_relax and flare is not None:
                new = await repo.create_session(
                    db,
                    user_id=user_id,
                    routine_id=flare,
                    plan=[s.to_json() for s in relax],
                    status=Status.in_progress,
                    now=svc.clock.now(),
                )
                await repo.move_session_ratings(db, from_session=session_id, to_session=new.id or 0)
                await prompt_repo.remember_routine(db, user_id=user_id, routine_id=flare)
    except Refused as refused:
        return refused
    return PainChecked(session, new, notes, switch, message_id)


async def summary_of(svc: Services, session: RoutineSession) -> Summary:
    """What the ended session came to: its outcomes and its ratings before and after."""
    assert session.id is not None
    async with svc.db.transaction() as db:
        outcomes = [o.outcome for o in await repo.session_outcomes(db, session_id=session.id)]
        ratings = await repo.session_ratings(db, session_id=session.id)
    return summarize(
        routine_title=title_of(svc, session.routine_id),
        step_count=len(session.plan),
        outcomes=outcomes,
        started_at=session.started_at,
        finished_at=session.finished_at or svc.clock.now(),
        stopped=session.stopped,
        before=ratings.get(RatingContext.before),
        after=ratings.get(RatingContext.after),
    )


@dataclass(frozen=True)
class Stopped:
    """The session ended (or moved to the rating after), committed."""

    session: RoutineSession
    was: Status
    live_message: int | None
    quiet: bool


async def stop(svc: Services, *, user_id: int, session_id: int | None = None, quiet: bool = False) -> Stopped | Refused:
    """End the open session from wherever it is: a step goes to the rating after, a rating ends it.

    `quiet` ends it outright, without the rating after or a summary (the person chose another routine).
    """
    try:
        async with svc.db.transaction() as db:
            session = (
                await repo.get_session(db, session_id=session_id, user_id=user_id)
                if session_id is not None
                else await repo.open_session(db, user_id=user_id)
            )
            if session is None or session.status == Status.finished:
                raise Refused(views.NOTHING_TO_CANCEL if session_id is None else views.STALE_BUTTON)
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
                raise Refused(views.STALE_BUTTON)
    except Refused as refused:
        return refused
    svc.timers.cancel(session.id or 0)
    return Stopped(session, was, live_message, quiet)
