"""Carries a routine's conversation on after each committed decision: the next step, the summary, the
countdown's edits, the cues.

The session flow (bot.flows.session) decides and commits and returns a result value; the handlers answer
the press and hand that result here. Every send comes after its transaction closed; the small reads and
writes made around them (the live message's id, a cue's id, the countdown's beat) are their own
transactions, never open across a Telegram call.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, Message
from telegram.error import BadRequest

from bot import dbretry, i18n, pictures, ui, views
from bot.coaching.holds import Phase, cue_for, phase_index, seconds_to_phase_end, timer_phases, timer_view
from bot.coaching.plan import PlannedStep, estimate_minutes
from bot.coaching.session import Status, StepAction
from bot.flows import session as session_flow
from bot.flows.session import PainChecked, SessionRated, StepPressed, Stopped, flare_routine, plan_of, title_of
from bot.services import Services
from figures.files import Picture
from storage import repo
from storage.models import RoutineSession

log = logging.getLogger(__name__)


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


async def show_begun(bot: Bot, svc: Services, chat_id: int, begun: session_flow.Begun | session_flow.Paused) -> None:
    """After a routine's session is committed: its preview and the rating before (or, with a rating carried
    over from the daily prompt, its first step); or that coaching is paused."""
    if isinstance(begun, session_flow.Paused):
        await ui.send(bot, chat_id, views.coaching_paused())
        return
    session, steps = begun.session, begun.steps
    note = "\n".join(views.e(n) for n in begun.notes)
    if begun.carried is None:
        await show_current(bot, svc, chat_id, session, note=note)
        return
    title = title_of(svc, session.routine_id)
    await show_current(
        bot,
        svc,
        chat_id,
        session,
        note=views.carried_rating(title, len(steps), estimate_minutes(steps), begun.carried, note),
    )
    await offer_flare(bot, svc, chat_id=chat_id, user_id=session.user_id, session=session, value=begun.carried)


async def offer_flare(
    bot: Bot, svc: Services, *, chat_id: int, user_id: int, session: RoutineSession, value: int
) -> None:
    """Offer the gentle routine when a before-rating is well above the person's recent average."""
    flare = await session_flow.flare_to_offer(svc, user_id=user_id, session=session, value=value)
    if flare is not None and session.id is not None:
        await ui.send(bot, chat_id, views.flare_offer(title_of(svc, session.routine_id), session.id, flare))


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
    await ui.send(bot, chat_id, views.summary(await session_flow.summary_of(svc, session)))


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
