"""The buttons under a daily prompt: today's pain, start now, snooze once, skip today."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import callbacks as cb
from bot import flow, ui, views
from bot.handlers import ids, pressed
from bot.i18n import _
from bot.prompt_clock import DEFAULT_ROUTINE
from bot.services import services
from storage import history, repo
from storage import prompts as prompt_repo

SNOOZE = {"z": timedelta(minutes=20), "h": timedelta(hours=1)}


async def prompt_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a prompt; the prompt must be this person's, and snooze/skip only work on its own day."""
    query, press = pressed(update, cb.PromptPress)
    assert query.message is not None
    user_id, chat_id = ids(update)
    svc = services(context)
    now = svc.clock.now()
    note: str | None = None
    async with svc.db.transaction() as db:
        prompt = await prompt_repo.get_prompt(db, prompt_id=press.prompt_id, user_id=user_id)
        if prompt is not None and prompt.status == "unknown" and prompt.message_id is None:
            # The send timed out but Telegram delivered it after all: this press proves it.
            prompt.status, prompt.message_id = "sent", query.message.message_id
        if prompt is None or prompt.message_id != query.message.message_id:
            await ui.answer(query, views.UNKNOWN_BUTTON)
            return
        prefs = await prompt_repo.preferences_of(db, user_id=user_id)
        today = now.astimezone(ZoneInfo(prefs.timezone)).date()
        if press.action.isdigit():
            if prompt.rating is not None:
                await ui.answer(query, _("Already noted: {value}/10.").format(value=prompt.rating))
                return
            prompt.rating = int(press.action)
            await repo.add_rating(db, user_id=user_id, value=prompt.rating, context="prompt", now=now)
            note = views.prompt_rated(prompt.rating)
        elif press.action in ("z", "h", "k") and prompt.local_date != today:
            await ui.answer(query, _("That prompt is from an earlier day."))
            return
        elif press.action == "k":
            prompt.response = "skipped"
            await prompt_repo.cancel_snoozes(db, user_id=user_id, local_date=today)
            # A plain skip; the person may turn it into a rest or flare day just below.
            await history.mark_day(db, user_id=user_id, day=today, kind="skipped")
            note = _("Skipped for today.")
        elif press.action in SNOOZE:
            due = now + SNOOZE[press.action]
            if not await prompt_repo.add_prompt(
                db, user_id=user_id, local_date=prompt.local_date, kind="snooze", due_at=due, status="pending"
            ):
                await ui.answer(query, _("You've already snoozed today's prompt once."))
                return
            prompt.response = "snoozed"
            note = views.snoozed(due.astimezone(ZoneInfo(prefs.timezone)))
        else:
            prompt.response = "started"
            # A routine renamed or removed from the content since: offer the default.
            chosen = prefs.routine_id
            routine_id = chosen if chosen in svc.library.routines else DEFAULT_ROUTINE
    await ui.answer(query, note)
    if press.action == "s":
        await ui.edit(context.bot, chat_id, query.message.message_id, views.View(_("▶ Started.")))
        if not await flow.begin(context.bot, svc, chat_id=chat_id, user_id=user_id, routine_id=routine_id):
            await ui.send(context.bot, chat_id, views.View(_("You already have a routine open: /stretch shows it.")))
        return
    if press.action == "k":
        await ui.edit(context.bot, chat_id, query.message.message_id, views.skip_reason())
        return
    # Ratings keep the prompt's other buttons; snooze closes it.
    keep = views.prompt_action_rows(prompt.id or 0) if press.action.isdigit() else []
    # A message too old for the bot to read arrives without its text.
    shown = query.message.text_html if isinstance(query.message, Message) and query.message.text else ""
    await ui.edit(context.bot, chat_id, query.message.message_id, views.View(f"{shown}\n\n{note}".strip(), keep))
