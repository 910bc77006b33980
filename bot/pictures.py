"""Steps as pictures: a technique's figure or animation, uploaded once per bot, then sent again by file_id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Message
from telegram.error import BadRequest

from bot import dbretry, ui, views
from bot.coaching.plan import PlannedStep
from bot.services import Services
from figures.files import Picture
from storage import repo

log = logging.getLogger(__name__)
# What Telegram answers when a file_id names no file it has (or one of another kind).
FILE_REFUSALS = ("wrong file identifier", "file reference", "wrong remote file", "can't use file of type", "file_id")


async def picture_for(svc: Services, technique_id: str) -> Picture | None:
    """The step's picture, rendered on first use (off the event loop) and kept on disk after."""
    if technique_id not in svc.library.poses:
        return None
    return svc.figures.ready(technique_id) or await _drawn(svc, svc.figures.for_step, technique_id)


async def preview_for(svc: Services, title: str, steps: list[PlannedStep]) -> Picture | None:
    """One picture of a routine's steps as planned, each figure labelled with its number, name and time."""
    cells = [(f"{n}. {s.title} · {views.short_dose(s)}", s.technique_id) for n, s in enumerate(steps, 1)]
    cells = [(label, tid) for label, tid in cells if tid in svc.library.poses]
    if not cells:
        return None
    return await _drawn(svc, svc.figures.preview, title, cells)


async def _drawn(svc: Services, draw: Callable[..., Picture | None], *args: Any) -> Picture | None:
    """Draw (or find on disk) off the event loop; a picture that cannot be made leaves the step as text."""
    # One render at a time: each takes a core for a moment, and matplotlib's state is shared.
    async with svc.figure_lock:
        try:
            return await asyncio.to_thread(draw, *args)
        except (OSError, ValueError, RuntimeError):
            log.exception("could not draw a picture into %s", svc.settings.figures_dir)
            return None


def _file_id(message: Message, animated: bool) -> str | None:
    if animated:
        media = message.animation or message.document
        return media.file_id if media else None
    return message.photo[-1].file_id if message.photo else None


async def send_step(
    bot: Bot, svc: Services, chat_id: int, view: views.View, picture: Picture, known: str | None
) -> Message:
    """Send a picture with a caption: by `known`, the file_id this bot was given before, else uploaded and
    its file_id remembered (also when Telegram refuses the known one)."""
    if known is not None:
        try:
            return await ui.send(bot, chat_id, replace(view, attachment=_attachment(picture, file_id=known)))
        except BadRequest as exc:
            if not any(word in exc.message.lower() for word in FILE_REFUSALS):
                raise
            log.info("file_id of %s refused (%s); uploading it again", picture.name, exc.message)

            async def forget() -> None:
                async with svc.db.transaction() as db:
                    await repo.forget_figure_file(db, bot_id=bot.id, name=picture.name, file_id=known)

            await _best_effort(forget, picture)
    upload = _attachment(picture, data=picture.path.read_bytes())
    message = await ui.send(bot, chat_id, replace(view, attachment=upload))
    file_id = _file_id(message, picture.animated)
    if file_id is not None:

        async def remember() -> None:
            async with svc.db.transaction() as db:
                await repo.remember_figure_file(db, bot_id=bot.id, name=picture.name, file_id=file_id)

        await _best_effort(remember, picture)
    return message


def _attachment(picture: Picture, *, data: bytes | None = None, file_id: str | None = None) -> views.Attachment:
    kind: Literal["photo", "animation"] = "animation" if picture.animated else "photo"
    return views.Attachment(kind, picture.path.name, data=data, file_id=file_id)


async def _best_effort(write: Callable[[], Awaitable[None]], picture: Picture) -> None:
    """Keep a file_id through a brief outage; losing it costs one more upload later, never the message."""
    try:
        await dbretry.with_retries(write, "figure file_id")
    except SQLAlchemyError:
        log.warning("file_id of %s not kept: the database is unavailable", picture.name)
