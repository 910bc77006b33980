"""Onboarding and the screens reached from anywhere: /start, /help, /safety, navigation buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import ui, views
from bot.coaching.redflags import help_contacts
from bot.flows import session as session_flow
from bot.flows import start as start_flow
from bot.handlers import ids, language, pressed, reminders, settings, stretch
from bot.services import services
from content.emergency import Contacts
from storage import repo


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: welcome, what Limber is and is not, the safety card, the main choices.

    A deep link (t.me/<bot>?start=hips, ?start=reminders) then opens that routine or the reminders;
    a newcomer always sees the welcome and its safety card first.
    """
    user_id, chat_id = ids(update)
    svc = services(context)
    first_visit = await start_flow.onboard(svc, user_id)
    payload = (context.args or [""])[0].lower()
    opens_routine = payload in svc.library.routines
    if first_visit or not (opens_routine or payload == "reminders"):
        first_name = update.effective_user.first_name if update.effective_user else ""
        await ui.send(context.bot, chat_id, views.welcome(first_name or ""))
    if opens_routine:
        context.args = [payload]
        await stretch.stretch(update, context)
    elif payload == "reminders":
        await reminders.reminders(update, context)


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what Limber stores, why, for how long, who sees it, and how to take it or erase it."""
    await ui.send(context.bot, ids(update)[1], views.privacy())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: every command and how ratings and buttons work."""
    await ui.send(context.bot, ids(update)[1], views.help_view())


async def safety(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/safety: the warning-sign card, with the person's own emergency number where their zone tells it."""
    await ui.send(context.bot, ids(update)[1], views.safety(await _contacts(update, context)))


async def _contacts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Contacts | None:
    async with services(context).db.transaction() as db:
        zone = await repo.timezone_of(db, user_id=ids(update)[0])
    return help_contacts(zone)


async def nav_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A navigation button: show the routine menu, help or the safety card as a new message."""
    query, press = pressed(update, cb.NavPress)
    await ui.answer(query)
    user_id, chat_id = ids(update)
    if press.target == "menu":
        svc = services(context)
        await ui.send(
            context.bot, chat_id, views.menu(svc.library, minutes_of=await session_flow.menu_minutes(svc, user_id))
        )
    elif press.target == "help":
        await ui.send(context.bot, chat_id, views.help_view())
    elif press.target == "reminders":
        await reminders.reminders(update, context)
    elif press.target == "settings":
        await settings.settings(update, context)
    elif press.target == "language":
        await language.language(update, context)
    else:
        await ui.send(context.bot, chat_id, views.safety(await _contacts(update, context)))
