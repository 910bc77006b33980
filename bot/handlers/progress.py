"""The person's own data: /progress (chart and numbers), /report (a one-page PDF), /export (CSV and JSON)."""

from __future__ import annotations

import asyncio
from datetime import date
from types import ModuleType

from telegram import Update
from telegram.ext import ContextTypes

from bot import records, ui, views
from bot.coaching.progress import Progress, adherence_line, build_progress, progress_text
from bot.handlers import ids
from bot.i18n import _
from bot.services import services
from storage.history import person_rows


def _reports() -> ModuleType:
    """bot.reports, imported on first use: matplotlib takes a second to load, which every restart would pay."""
    from bot import reports

    return reports


def _titles(context: ContextTypes.DEFAULT_TYPE) -> dict[str, str]:
    return {tid: t.title for tid, t in services(context).library.techniques.items()}


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
    # Rendering takes a few hundred milliseconds of CPU: keep it off the event loop.
    chart = await asyncio.to_thread(_reports().progress_chart, data.ratings, data.sessions, today, data.tz)
    photo = views.Attachment("photo", "limber-progress.png", data=chart)
    await ui.send(context.bot, chat_id, views.View(views.PROGRESS_CHART_CAPTION, attachment=photo))
    await ui.send(context.bot, chat_id, views.View(progress_text(summary, _titles(context)), [views.nav_row()]))


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: a one-page PDF to forward to a physiotherapist or doctor."""
    user_id, chat_id = ids(update)
    data, today, summary = await _summary(context, user_id)

    def render() -> bytes:
        return _reports().report_pdf(
            name=data.user.first_name or "you",
            progress=summary,
            ratings=data.ratings,
            sessions=data.sessions,
            technique_titles=_titles(context),
            routine_titles={rid: r.title for rid, r in services(context).library.routines.items()},
            red_flags=data.red_flags,
            adherence=adherence_line(summary),
            generated=today,
            tz=data.tz,
        )

    pdf = await asyncio.to_thread(render)
    document = views.Attachment("document", f"limber-summary-{today.isoformat()}.pdf", data=pdf)
    caption = _("Your Limber summary, ready to forward to your physiotherapist or doctor. Not medical advice.")
    await ui.send(context.bot, chat_id, views.View(caption, attachment=document))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export: everything stored about the person: every table with their rows (JSON), and a CSV to analyse."""
    user_id, chat_id = ids(update)
    svc = services(context)
    data = await records.load(svc, user_id)
    async with svc.db.transaction() as db:
        tables = await person_rows(db, user_id=user_id)
    now = svc.clock.now()
    csv_bytes = _reports().export_csv(ratings=data.ratings, sessions=data.sessions, tz=data.tz)
    json_bytes = _reports().export_json(tables=tables, tz=data.tz, exported_at=now)
    stamp = data.today(now).isoformat()
    csv_file = views.Attachment("document", f"limber-export-{stamp}.csv", data=csv_bytes)
    await ui.send(context.bot, chat_id, views.View(views.EXPORT_CSV_CAPTION, attachment=csv_file))
    json_file = views.Attachment("document", f"limber-export-{stamp}.json", data=json_bytes)
    await ui.send(context.bot, chat_id, views.View(views.EXPORT_JSON_CAPTION, attachment=json_file))
