"""Daily prompt settings: /reminders (/settings), /pause, /resume, their buttons, typed times and zones."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import callbacks as cb
from bot import i18n, ui, views
from bot.coaching.redflags import detect_red_flags
from bot.coaching.schedule import EVERY_DAY, WEEKDAYS, format_time
from bot.coaching.times import EitherHalf, read_time
from bot.coaching.zones import is_zone, resolve_zone, zone_at
from bot.handlers import ids, pressed
from bot.i18n import _
from bot.prompt_clock import reschedule
from bot.services import Services, services
from storage import prompts as prompt_repo
from storage import repo
from storage.models import Preferences, User

# Changes a person's settings; returns a note to show above the screen.
Change = Callable[[Preferences, User], str]


async def _apply(svc: Services, user_id: int, change: Change | None = None) -> views.View:
    """Apply a change (or none), recompute the next prompt, commit, and render the settings screen."""
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        user = await repo.get_user(db, user_id=user_id)
        assert user is not None
        before = _schedule_of(prefs)
        note = change(prefs, user) if change else ""
        # Only a real change moves the next prompt: one that is due but not yet sent must stay put.
        if _schedule_of(prefs) != before:
            now = svc.clock.now()
            today = now.astimezone(ZoneInfo(prefs.timezone)).date()
            # Today's prompt already went out: a later time today must not bring a second one (nor
            # one soon after it, see MIN_PROMPT_GAP).
            # After a zone change, a prompt may even be recorded for a later local date than today.
            last = await prompt_repo.last_daily(db, user_id=user_id)
            done = last.local_date if last is not None and last.local_date >= today else None
            reschedule(prefs, user, now, after_day=done, last_due=last.due_at if last else None)
    return views.reminders(
        on=prefs.reminders_on,
        time_text=prefs.reminder_time,
        days=prefs.reminder_days,
        tz_key=prefs.timezone,
        paused=prefs.prompts_paused,
        next_at=prefs.next_prompt_at,
        note=note,
    )


def _schedule_of(prefs: Preferences) -> tuple[object, ...]:
    return (prefs.reminders_on, prefs.reminder_time, prefs.reminder_days, prefs.timezone, prefs.prompts_paused)


async def reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders and /settings: the daily prompt settings with the next prompt's time."""
    user_id, chat_id = ids(update)
    await ui.send(context.bot, chat_id, await _apply(services(context), user_id))


async def pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause: no daily prompts until /resume."""
    await _set_paused(update, context, paused=True)


async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: daily prompts again, from the next due time."""
    await _set_paused(update, context, paused=False)


async def _set_paused(update: Update, context: ContextTypes.DEFAULT_TYPE, *, paused: bool) -> None:
    user_id, chat_id = ids(update)
    svc = services(context)

    def change(prefs: Preferences, _user: User) -> str:
        prefs.prompts_paused = paused
        return ""

    await _apply(svc, user_id, change)
    async with svc.db.transaction() as db:
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
    nxt = prefs.next_prompt_at if prefs.reminders_on else None
    await ui.send(context.bot, chat_id, views.paused_prompts(nxt, prefs.timezone, paused))


async def reminder_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button on the settings screen: on/off, a time, days, a time zone."""
    query, press = pressed(update, cb.ReminderPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    message_id = query.message.message_id
    action, arg = press.action, press.arg

    if action == "h" and arg == "x":
        await _ask(svc, user_id, "time")
        await ui.answer(query)
        await ui.send(context.bot, chat_id, views.View(views.ASK_TIME))
        return
    if action == "z" and arg == "x":
        await _ask(svc, user_id, "timezone")
        await ui.answer(query)
        await _ask_zone(context, chat_id)
        return
    if action == "d" and arg == "c":
        async with svc.db.transaction() as db:
            prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        await ui.answer(query)
        await ui.edit(context.bot, chat_id, message_id, views.day_picker(prefs.reminder_days))
        return
    if action == "z" and not is_zone(arg):
        await ui.answer(query, views.UNKNOWN_BUTTON)
        return
    if action == "y" and arg != "k":
        bit = 1 << int(arg)
        async with svc.db.transaction() as db:
            prefs = await prompt_repo.preferences_of(db, user_id=user_id)
            if prefs.reminder_days & EVERY_DAY == bit:
                refused = True
            else:
                refused = False
                prefs.reminder_days ^= bit
                user = await repo.get_user(db, user_id=user_id)
                assert user is not None
                reschedule(prefs, user, svc.clock.now())
        await ui.answer(query, _("Keep at least one day.") if refused else None)
        await ui.edit(context.bot, chat_id, message_id, views.day_picker(prefs.reminder_days))
        return
    view = await _apply(svc, user_id, _BUTTON_CHANGES[action](arg))
    await ui.answer(query)
    await ui.edit(context.bot, chat_id, message_id, view)


def _turn(arg: str) -> Change:
    def change(prefs: Preferences, _user: User) -> str:
        prefs.reminders_on = arg == "1"
        if prefs.reminders_on and prefs.reminder_time is None:
            prefs.reminder_time = "08:00"
        return _("Daily prompts are on.") if prefs.reminders_on else _("Daily prompts are off.")

    return change


def _time(arg: str) -> Change:
    def change(prefs: Preferences, _user: User) -> str:
        prefs.reminder_time, prefs.reminders_on = f"{arg[:2]}:{arg[2:]}", True
        return _("Daily prompt at {time}.").format(time=prefs.reminder_time)

    return change


def _days(arg: str) -> Change:
    def change(prefs: Preferences, _user: User) -> str:
        prefs.reminder_days = EVERY_DAY if arg == "a" else WEEKDAYS
        return ""

    return change


def _zone(arg: str, *, located: bool = False) -> Change:
    def change(prefs: Preferences, user: User) -> str:
        prefs.timezone, user.awaiting = arg, None
        if located:
            return _("Time zone set to {zone} from your location.").format(zone=views.e(arg))
        return _("Time zone set to {zone}.").format(zone=views.e(arg))

    return change


_BUTTON_CHANGES: dict[str, Callable[[str], Change]] = {
    "o": _turn,
    "h": _time,
    "d": _days,
    "y": lambda _arg: lambda _p, _u: "",  # "Done" on the day picker: back to the screen
    "z": _zone,
}


async def _ask(svc: Services, user_id: int, what: str) -> None:
    svc.no_question.discard(user_id)
    async with svc.db.transaction() as db:
        await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=what)


async def _ask_zone(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📍 Share my location", request_location=True)]], resize_keyboard=True, one_time_keyboard=True
    )
    await context.bot.send_message(chat_id, _(views.ASK_ZONE), reply_markup=keyboard)


async def _done(context: ContextTypes.DEFAULT_TYPE, chat_id: int, view: views.View) -> None:
    """The settings with the change, in one message that also takes away the location keyboard.

    A message carries one keyboard: removing the reply keyboard leaves no room for the inline buttons,
    so the message says where they are rather than sending a second one.
    """
    await context.bot.send_message(chat_id, views.zone_set(view), reply_markup=ReplyKeyboardRemove())


async def typed_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text answering a question the bot asked (a time, a time zone): handled here and nowhere else."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    user_id, chat_id = ids(update)
    svc = services(context)
    if user_id in svc.no_question:
        return  # no question pending: nothing to look up
    async with svc.db.transaction() as db:
        user = await repo.get_user(db, user_id=user_id)
        awaiting = user.awaiting if user else None
        if awaiting and message.text.startswith("/"):
            # A command means the person moved on; /cancel means "never mind the question".
            await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=None)
            if message.text.split()[0].split("@")[0] != "/cancel":
                awaiting = None
    if user is not None and not awaiting:
        svc.remember(svc.no_question, user_id)
    if awaiting and message.text.startswith("/"):
        await context.bot.send_message(chat_id, _("OK, never mind."), reply_markup=ReplyKeyboardRemove())
        raise ApplicationHandlerStop
    if not awaiting or message.text.startswith("/") or detect_red_flags(message.text):
        return
    text = message.text
    if awaiting == "time":
        at = read_time(text, i18n.reading())
        if isinstance(at, EitherHalf):
            # "5" is five in the morning or the evening: ask, the question stays open for typing.
            await ui.send(context.bot, chat_id, views.half_day(at.morning, at.evening))
        elif at is None:
            await ui.send(context.bot, chat_id, views.View(views.bad_time(text)))
        else:
            view = await _apply(svc, user_id, _typed_time(format_time(at)))
            await ui.send(context.bot, chat_id, view)
    else:
        match = resolve_zone(text)
        if match is None:
            await ui.send(context.bot, chat_id, views.View(views.bad_zone(text)))
        elif not match.exact:
            await ui.send(context.bot, chat_id, views.zone_guess(text, match.key))
        else:
            await _done(context, chat_id, await _apply(svc, user_id, _zone(match.key)))
    raise ApplicationHandlerStop


def _typed_time(value: str) -> Change:
    def change(prefs: Preferences, user: User) -> str:
        prefs.reminder_time, prefs.reminders_on, user.awaiting = value, True, None
        return _("Daily prompt at {time}.").format(time=value)

    return change


async def forget_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any button press moves on from a typed question, so a later "3" is a rating, not 03:00."""
    if update.effective_user is None:
        return
    svc = services(context)
    user_id = update.effective_user.id
    if user_id in svc.no_question:
        return
    async with svc.db.transaction() as db:
        await prompt_repo.set_awaiting(db, user_id=user_id, awaiting=None)
    svc.remember(svc.no_question, user_id)


async def location_shared(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location sets the time zone (looked up offline); the location itself is not stored."""
    message = update.effective_message
    assert message is not None and message.location is not None
    user_id, chat_id = ids(update)
    key = zone_at(message.location.latitude, message.location.longitude)
    if key is None:
        await ui.send(
            context.bot, chat_id, views.View(_("I couldn't find a time zone for that place. Type a city instead."))
        )
        return
    view = await _apply(services(context), user_id, _zone(key, located=True))
    await _done(context, chat_id, view)
