"""Daily prompt settings: /reminders (/settings), /pause, /resume, their buttons, typed times and zones.

The flow (bot.flows.reminders) decides and commits; these parse, render its result and send.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.coaching.redflags import detect_red_flags
from bot.coaching.schedule import format_time
from bot.coaching.times import EitherHalf, read_time
from bot.coaching.zones import is_zone, resolve_zone, zone_at
from bot.flows import reminders as reminders_flow
from bot.handlers import ids, pressed
from bot.services import services


def screen_view(screen: reminders_flow.Screen) -> views.View:
    s = screen.schedule
    return views.reminders(
        on=s.reminders_on,
        time_text=s.reminder_time,
        days=s.reminder_days,
        tz_key=s.timezone,
        paused=s.prompts_paused,
        next_at=screen.next_at,
        note=views.reminder_note(screen.note, time_text=s.reminder_time, zone=s.timezone),
    )


async def reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders and /settings: the daily prompt settings with the next prompt's time."""
    user_id, chat_id = ids(update)
    await ui.send(context.bot, chat_id, screen_view(await reminders_flow.apply(services(context), user_id)))


async def pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause: no daily prompts until /resume."""
    await _set_paused(update, context, paused=True)


async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: daily prompts again, from the next due time."""
    await _set_paused(update, context, paused=False)


async def _set_paused(update: Update, context: ContextTypes.DEFAULT_TYPE, *, paused: bool) -> None:
    user_id, chat_id = ids(update)
    result = await reminders_flow.set_paused(services(context), user_id, pause=paused)
    await ui.send(context.bot, chat_id, views.paused_prompts(result.next_at, result.timezone, result.paused))


async def reminder_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button on the settings screen: on/off, a time, days, a time zone."""
    query, press = pressed(update, cb.ReminderPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    message_id = query.message.message_id
    action, arg = press.action, press.arg

    if action == "h" and arg == "x":
        await reminders_flow.ask(svc, user_id, reminders_flow.Question.time)
        await ui.answer(query)
        await ui.send(context.bot, chat_id, views.View(views.ASK_TIME))
        return
    if action == "z" and arg == "x":
        await reminders_flow.ask(svc, user_id, reminders_flow.Question.timezone)
        await ui.answer(query)
        await ui.send(context.bot, chat_id, views.ask_zone())
        return
    if action == "d" and arg == "c":
        picker = await reminders_flow.days(svc, user_id)
        await ui.answer(query)
        await ui.edit(context.bot, chat_id, message_id, views.day_picker(picker.days))
        return
    if action == "z" and not is_zone(arg):
        await ui.answer(query, views.UNKNOWN_BUTTON)
        return
    if action == "y" and arg != "k":
        picker = await reminders_flow.toggle_day(svc, user_id, 1 << int(arg))
        await ui.answer(query, views.KEEP_ONE_DAY if picker.kept else None)
        await ui.edit(context.bot, chat_id, message_id, views.day_picker(picker.days))
        return
    screen = await reminders_flow.apply(svc, user_id, reminders_flow.button_change(action, arg))
    await ui.answer(query)
    await ui.edit(context.bot, chat_id, message_id, screen_view(screen))


async def typed_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text answering a question the bot asked (a time, a time zone): handled here and nowhere else."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    user_id, chat_id = ids(update)
    svc = services(context)
    text = message.text
    asked = await reminders_flow.pending(svc, user_id, text)
    if asked.dropped:
        await ui.send(context.bot, chat_id, views.never_mind())
        raise ApplicationHandlerStop
    if asked.question is None or detect_red_flags(text):
        return
    if asked.question is reminders_flow.Question.time:
        at = read_time(text, i18n.reading())
        if isinstance(at, EitherHalf):
            # "5" is five in the morning or the evening: ask, the question stays open for typing.
            await ui.send(context.bot, chat_id, views.half_day(at.morning, at.evening))
        elif at is None:
            await ui.send(context.bot, chat_id, views.View(views.bad_time(text)))
        else:
            screen = await reminders_flow.apply(svc, user_id, reminders_flow.at_time(format_time(at), typed=True))
            await ui.send(context.bot, chat_id, screen_view(screen))
    else:
        match = resolve_zone(text)
        if match is None:
            await ui.send(context.bot, chat_id, views.View(views.bad_zone(text)))
        elif not match.exact:
            await ui.send(context.bot, chat_id, views.zone_guess(text, match.key))
        else:
            screen = await reminders_flow.apply(svc, user_id, reminders_flow.in_zone(match.key))
            await ui.send(context.bot, chat_id, views.zone_set(screen_view(screen)))
    raise ApplicationHandlerStop


async def forget_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any button press moves on from a typed question, so a later "3" is a rating, not 03:00."""
    if update.effective_user is not None:
        await reminders_flow.forget_question(services(context), update.effective_user.id)


async def location_shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location sets the time zone (looked up offline); the location itself is not stored."""
    message = update.effective_message
    assert message is not None and message.location is not None
    user_id, chat_id = ids(update)
    key = zone_at(message.location.latitude, message.location.longitude)
    if key is None:
        await ui.send(context.bot, chat_id, views.View(views.NO_ZONE_THERE))
        return
    screen = await reminders_flow.apply(services(context), user_id, reminders_flow.in_zone(key, located=True))
    await ui.send(context.bot, chat_id, views.zone_set(screen_view(screen)))
