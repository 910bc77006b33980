"""A guided session across updates: load it, decide with the coaching domain, commit, then talk.

Every change is committed before the bot acknowledges it, and is conditional on the session still
being where the person saw it, so stale, double or concurrent presses change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Message
from telegram.error import BadRequest

from bot import dbretry, i18n, pictures, records, ui, views
from bot.coaching.adapt import adapt, flare_suggested, planned_steps, recent_values
from bot.coaching.holds import Phase, cue_for, phase_index, seconds_to_phase_end, timer_phases, timer_view
from bot.coaching.plan import PlannedStep, estimate_minutes, fit_length, within_level
from bot.coaching.session import OUTCOMES, Position, Status, StepAction, after_rating, after_step, summarize
from bot.flows import Refused
from bot.services import Services
from content.schema import Role
from figures.files import Picture
from storage import prompts as prompt_repo
from storage import repo
from storage.models import RatingContext, RoutineSession

log = logging.getLogger(__name__)
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


def current_view(svc: Services, session: RoutineSession, note: str = "", *, pictured: bool = False) -> views.View:
    """The message that carries the live buttons for where the session is."""
    assert session.id is not None
    plan = plan_of(session)
    match Status(session.status):
        case Status.rating_before:
            # The routine's preview is in the text, unless it came just before as a picture.
            preview = "" if pictured else views.routine_preview(plan, svc.library)
            return views.rating_before(
                session.id,
                title_of(svc, session.routine_id),
                len(plan),
                estimate_minutes(plan),
                note=note,
                preview=preview,
            )
        case Status.rating_after:
            return views.rating_after(session.id, session.stopped)
        case Status.pain_check:
            flare = flare_routine(svc)
            relax = title_of(svc, flare) if flare is not None else None
            return views.pain_check(
                session.id, title_of(svc, session.routine_id), relax, is_relax=session.routine_id == flare
            )
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
                pictured=pictured,
            )


async def show_current(bot: Bot, svc: Services, chat_id: int, session: RoutineSession, note: str = "") -> None:
    """Send the session's current message and make it the one whose buttons count."""
    # Drawn (on first use) before the transaction, which then reads all a picture needs at once.
    picture = await _picture_of(svc, session)

    async def look_up() -> tuple[int | None, Picture | None, str | None]:
        async with svc.db.transaction() as db:
            cue = await repo.take_cue(db, session_id=session.id) if session.id is not None else None
            shown = picture if picture is not None and not await repo.text_only(db, user_id=session.user_id) else None
            known = await repo.figure_file_id(db, bot_id=bot.id, name=shown.name) if shown is not None else None
        return cue, shown, known

    # What the person did is committed by now: the message must follow it even if the database blinks.
    cue, shown, known = await dbretry.with_retries(look_up, "show_current")
    if cue is not None:
        await ui.delete(bot, chat_id, cue)  # the step or rating that follows a cue replaces it
    message = await _send_current(bot, svc, chat_id, session, note, shown, known)

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


async def _picture_of(svc: Services, session: RoutineSession) -> Picture | None:
    """The picture the current message would have: a step's figure or animation, or the routine's preview."""
    if not svc.settings.step_pictures:
        return None
    plan = plan_of(session)
    if session.status == Status.rating_before:
        return await pictures.preview_for(svc, title_of(svc, session.routine_id), plan)
    if session.status == Status.in_progress:
        return await pictures.picture_for(svc, plan[session.current_step].technique_id)
    return None


async def pictured(svc: Services, session: RoutineSession) -> bool:
    """Whether the session's current message is a picture: a step, with pictures on for this person."""
    if not svc.settings.step_pictures or session.status != Status.in_progress:
        return False
    if plan_of(session)[session.current_step].technique_id not in svc.library.poses:
        return False
    async with svc.db.transaction() as db:
        return not await repo.text_only(db, user_id=session.user_id)


async def _send_current(
    bot: Bot,
    svc: Services,
    chat_id: int,
    session: RoutineSession,
    note: str,
    picture: Picture | None,
    known: str | None,
) -> Message:
    """The current message, with its picture when it has one: a step as its figure or animation with the step
    as the caption, the rating before the routine after its preview. Text when there is no picture (text only),
    the caption would be too long, or Telegram refuses the picture."""
    if picture is None:
        return await ui.send(bot, chat_id, current_view(svc, session, note))
    if session.status == Status.rating_before:
        plan = plan_of(session)
        caption = views.View(
            views.preview_caption(title_of(svc, session.routine_id), plan, estimate_minutes(plan), svc.library)
        )
        shown = await _send_picture(bot, svc, chat_id, caption, picture, known) is not None
        return await ui.send(bot, chat_id, current_view(svc, session, note, pictured=shown))
    step = await _send_picture(bot, svc, chat_id, current_view(svc, session, note, pictured=True), picture, known)
    return step or await ui.send(bot, chat_id, current_view(svc, session, note))


async def _send_picture(
    bot: Bot, svc: Services, chat_id: int, view: views.View, picture: Picture, known: str | None
) -> Message | None:
    if views.plain_length(view.text) > views.CAPTION_LIMIT:
        return None
    try:
        return await pictures.send_step(bot, svc, chat_id, view, picture, known)
    except BadRequest as exc:
        # Whatever Telegram refuses in a picture, the message still comes, as text.
        log.warning("picture %s refused: %s", picture.name, exc.message)
        return None


async def clear_cue(bot: Bot, svc: Services, chat_id: int, session: RoutineSession) -> None:
    """Delete the last "switch sides"/"time's up" cue: the next cue or step has come."""
    if session.id is None:
        return
    async with svc.db.transaction() as db:
        cue = await repo.take_cue(db, session_id=session.id)
    if cue is not None:
        await ui.delete(bot, chat_id, cue)


async def _cue(bot: Bot, svc: Services, chat_id: int, session: RoutineSession, view: views.View) -> None:
    """A short new message that notifies (an edit makes no sound), replacing the cue before it."""
    assert session.id is not None
    await clear_cue(bot, svc, chat_id, session)
    message = await ui.send(bot, chat_id, view)
    async with svc.db.transaction() as db:
        await repo.set_cue(db, session_id=session.id, message_id=message.message_id)


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
            carried = await _carry_prompt_rating(db, svc, session)
    except IntegrityError:
        return False  # another update opened one at the same moment
    note = "\n".join(views.e(n) for n in notes)
    if carried is None:
        await show_current(bot, svc, chat_id, session, note=note)
        return True
    title = title_of(svc, routine_id)
    await show_current(
        bot, svc, chat_id, session, note=views.carried_rating(title, len(steps), estimate_minutes(steps), carried, note)
    )
    await offer_flare(bot, svc, chat_id=chat_id, user_id=user_id, session=session, value=carried)
    return True


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


async def offer_flare(
    bot: Bot, svc: Services, *, chat_id: int, user_id: int, session: RoutineSession, value: int
) -> None:
    """Offer the gentle routine when a before-rating is well above the person's recent average."""
    flare = flare_routine(svc)
    if flare is None or session.routine_id == flare or session.id is None:
        return
    data = await records.load(svc, user_id)
    if flare_suggested(value, recent_values(data.ratings, data.today(svc.clock.now()), data.tz)):
        await ui.send(bot, chat_id, views.flare_offer(title_of(svc, session.routine_id), session.id, flare))


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


async def show_step(bot: Bot, svc: Services, chat_id: int, pressed: StepPressed) -> None:
    """After a step's press is committed and answered: the countdown, or the closed step and what follows."""
    session, action, planned, message_id = pressed.session, pressed.action, pressed.planned, pressed.message_id
    if action is StepAction.timer:
        start_countdown(bot, svc, chat_id=chat_id, session=session)
        return
    if message_id is not None:
        technique = svc.library.techniques.get(planned.technique_id)
        shown = views.technique_title(technique) if technique else planned.title
        closed = views.step_closed(pressed.step, len(session.plan), shown, action)
        await ui.edit(bot, chat_id, message_id, views.View(closed), caption=pressed.caption)
    await show_current(bot, svc, chat_id, session, note=views.HURT_NOTE if action is StepAction.hurt else "")


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


async def show_rated(bot: Bot, svc: Services, chat_id: int, rated: SessionRated) -> None:
    """After a rating is committed and answered: close its message, then the next step or the summary."""
    session = rated.session
    if rated.live_message is not None:
        await ui.edit(bot, chat_id, rated.live_message, views.View(views.rated(rated.before, rated.value)))
    if rated.next_status is Status.finished:
        await send_summary(bot, svc, chat_id, session)
        return
    await show_current(bot, svc, chat_id, session)
    if rated.next_status is Status.pain_check:
        return  # its message already offers Relax or stopping
    if rated.value is not None:
        await offer_flare(bot, svc, chat_id=chat_id, user_id=session.user_id, session=session, value=rated.value)


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


async def show_pain_check(bot: Bot, svc: Services, chat_id: int, checked: PainChecked) -> None:
    if checked.message_id is not None:
        await ui.edit(bot, chat_id, checked.message_id, views.View(views.pain_check_closed(checked.switch)))
    if checked.new is not None:
        await show_current(bot, svc, chat_id, checked.new, note="\n".join(views.e(n) for n in checked.notes))
    elif checked.switch:
        await show_current(bot, svc, chat_id, checked.session)
    else:
        await ui.send(bot, chat_id, views.pain_check_stopped())


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
        before=ratings.get(RatingContext.before),
        after=ratings.get(RatingContext.after),
    )
    await ui.send(bot, chat_id, views.summary(summary))


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


async def show_stopped(bot: Bot, svc: Services, chat_id: int, stopped: Stopped) -> None:
    """After a stop is committed and answered: close the live message, then what comes next."""
    session, was = stopped.session, stopped.was
    if stopped.live_message is not None:
        closing = views.STOPPED_LINE if was is not Status.rating_after else views.RATING_SKIPPED
        await ui.edit(bot, chat_id, stopped.live_message, views.View(closing))
    await clear_cue(bot, svc, chat_id, session)
    if stopped.quiet:
        return
    if was is Status.rating_before:
        await ui.send(bot, chat_id, views.cancelled_before())
    elif was is Status.pain_check:
        await ui.send(bot, chat_id, views.pain_check_stopped())
    elif was is Status.rating_after:
        await send_summary(bot, svc, chat_id, session)
    else:
        await show_current(bot, svc, chat_id, session)


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
    caption = await pictured(svc, session)
    # Cues sound for phases entered from now on; a resumed countdown does not repeat old ones.
    seen = phase_index(phases, (svc.clock.now() - started).total_seconds())
    while True:
        now = svc.clock.now()
        async with svc.db.transaction() as db:
            mine = await repo.beat_timer(
                db, session=session, owner=svc.instance, now=now, silent_since=now - silent_for(svc)
            )
        if not mine:
            return  # the step ended elsewhere (another press, another process), or another worker edits it
        elapsed = (now - started).total_seconds()
        view = current_view(svc, session, pictured=caption)
        if not await ui.edit(bot, chat_id, message_id, view, caption=caption):
            return
        index = phase_index(phases, elapsed)
        if index != seen:
            seen = index
            cue = cue_for(phases, index)
            if cue is not None:
                await _cue(bot, svc, chat_id, session, views.cue(cue))
        if timer_view(phases, elapsed).finished:
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
        languages = {s.user_id: await repo.language_of(db, user_id=s.user_id) for s in running}
    adopted = 0
    for session in running:
        if session.id is not None and not svc.timers.running(session.id):
            # No update says the language here: the task starts in the stored one and keeps it.
            with i18n.speaking(languages.get(session.user_id)):
                start_countdown(bot, svc, chat_id=session.user_id, session=session)
            adopted += 1
    return adopted
