"""The person's own data: /progress (chart and numbers), /report (a one-page PDF), /export (CSV and JSON)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from types import ModuleType

from telegram import Bot, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import records, ui, views, views_progress
from bot.coaching.progress import Progress, build_progress
from bot.handlers import ids
from bot.services import services
from storage.history import person_rows


def _reports() -> ModuleType:
    """bot.reports, imported on first use: matplotlib takes a second to load, which every restart would pay."""
    from bot import reports

    return reports


log = logging.getLogger(__name__)


def _titles(context: ContextTypes.DEFAULT_TYPE) -> dict[str, str]:
    """Technique titles in the person's language."""
    return {tid: views.technique_title(t) for tid, t in services(context).library.techniques.items()}


async def _making(bot: Bot, chat_id: int, action: ChatAction) -> None:
    """'Sending a photo…' at the top of the chat while the file is made: a courtesy, so a fault is only logged."""
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramError as exc:
        log.info("chat action %s not shown: %s", action, exc.message)


async def _summary(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> tuple[records.History, date, Progress]:
    svc = services(context)
    data = await records.load(svc, user_id)
    today = data.today(svc.clock.now())
    joined = data.user.created_at.astimezone(data.tz).date()
    return data, today, build_progress(data.ratings, data.sessions, data.marks, today, data.tz, joined=joined)


async def progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/progress: pain over 30 days as a chart, then sessions, streaks, trend and what helps."""
    user_id, chat_id = ids(update)
    data, today, summary = await _summary(context, user_id)
    await _making(context.bot, chat_id, ChatAction.UPLOAD_PHOTO)
    # Rendering takes a few hundred milliseconds of CPU: keep it off the event loop.
    chart = await asyncio.to_thread(_reports().progress_chart, data.ratings, data.sessions, today, data.tz)
    photo = views.Attachment("photo", "limber-progress.png", data=chart)
    await ui.send(context.bot, chat_id, views.View(views.PROGRESS_CHART_CAPTION, attachment=photo))
    await ui.send(
        context.bot, chat_id, views.View(views_progress.progress_text(summary, _titles(context)), [views.nav_row()])
    )


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: a one-page PDF to forward to a physiotherapist or doctor."""
    user_id, chat_id = ids(update)
    data, today, summary = await _summary(context, user_id)
    await _making(context.bot, chat_id, ChatAction.UPLOAD_DOCUMENT)

    def render() -> bytes:
        return _reports().report_pdf(
            name=data.user.first_name or "",
            progress=summary,
            ratings=data.ratings,
            sessions=data.sessions,
            technique_titles=_titles(context),
            routine_titles={rid: views.routine_title(r) for rid, r in services(context).library.routines.items()},
            red_flags=data.red_flags,
            generated=today,
            tz=data.tz,
        )

    pdf = await asyncio.to_thread(render)
    document = views.Attachment("document", f"limber-summary-{today.isoformat()}.pdf", data=pdf)
    await ui.send(context.bot, chat_id, views.View(views.REPORT_CAPTION, attachment=document))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export: everything stored about the person: every table with their rows (JSON), and a CSV to analyse."""
    user_id, chat_id = ids(update)
    svc = services(context)
    data = await records.load(svc, user_id)
    async with svc.db.transaction() as db:
        tables = await person_rows(db, user_id=user_id)
    now = svc.clock.now()
    await _making(context.bot, chat_id, ChatAction.UPLOAD_DOCUMENT)
    csv_bytes = _reports().export_csv(ratings=data.ratings, sessions=data.sessions, tz=data.tz)
    json_bytes = _reports().export_json(tables=tables, tz=data.tz, exported_at=now)
    stamp = data.today(now).isoformat()
    csv_file = views.Attachment("document", f"limber-export-{stamp}.csv", data=csv_bytes)
    await ui.send(context.bot, chat_id, views.View(views.EXPORT_CSV_CAPTION, attachment=csv_file))
    json_file = views.Attachment("document", f"limber-export-{stamp}.json", data=json_bytes)
    await ui.send(context.bot, chat_id, views.View(views.EXPORT_JSON_CAPTION, attachment=json_file))
