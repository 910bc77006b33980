"""Each Telegram update is handled once, whichever worker it reaches and however often it arrives.

Telegram re-delivers an update when the bot did not confirm it: a poller killed before its next
getUpdates, a webhook answer that came too late. The update_id is claimed in the database before
the handlers run and marked done after, so a re-delivery of a finished update is dropped. A claim
left "working" by a worker that died is taken over once it is older than `STALE`: that update runs
again, and the handlers' state checks (bot.flows.session) keep what it already committed from doubling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, Literal, TypeVar

from telegram import Update
from telegram.error import NetworkError, RetryAfter
from telegram.ext import Application

from bot import dbretry, ui, views
from bot.services import Services
from storage import repo, statements
from storage.models import Claim

log = logging.getLogger(__name__)

# Longer than a handler may run, database retries included (bot.dbretry.BUDGET).
STALE = timedelta(seconds=dbretry.BUDGET + 30)
# Telegram keeps an unconfirmed update for 24 hours: a claim older than that can never be needed.
KEEP = timedelta(days=2)

Outcome = Literal["handled", "duplicate", "busy"]
# What Limber has handlers for; Telegram sends nothing else, so no other kind costs an update claim.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
R = TypeVar("R")


async def handle_once(app: Application[Any, Any, Any, Any, Any, Any], update: object) -> Outcome:
    """Run the handlers for an update unless another delivery of it was (or is being) handled."""
    svc = app.bot_data.get("services")
    if not isinstance(update, Update) or not isinstance(svc, Services):
        await Application.process_update(app, update)
        return "handled"
    update_id, owner = update.update_id, svc.instance

    async def claim() -> str:
        now = svc.clock.now()
        async with svc.db.connection() as conn:
            return await statements.claim_update(
                conn, update_id=update_id, owner=owner, now=now, stale_before=now - STALE
            )

    try:
        taken = await dbretry.with_retries(claim, "claim_update")
    except Exception:
        # Handling twice beats not at all: the handlers' own checks still hold.
        log.exception("could not claim update %s; handling it anyway", update_id)
        taken = Claim.new
    if taken == Claim.done:
        log.info("update %s was already handled; dropped", update_id)
        return "duplicate"
    if taken == Claim.busy:
        return "busy"
    await Application.process_update(app, update)

    async def finish() -> None:
        async with svc.db.connection() as conn:
            await statements.finish_update(conn, update_id=update_id, owner=owner)

    try:
        await dbretry.with_retries(finish, "finish_update")
    except Exception:
        log.exception("could not mark update %s handled", update_id)
    return "handled"


class LimberApplication(Application):
    """PTB's Application, with every update (polled or posted to the webhook) going through `handle_once`.

    Stopping lets the updates and jobs in hand finish for `STOP_GRACE` seconds, then cancels those
    still running (see `until_stopped`): in a database outage they would wait out dbretry's whole
    budget, and a deploy's SIGTERM must not wait a minute. What they committed stays.
    """

    STOP_GRACE = 5.0
    START_TRIES = 5

    async def initialize(self) -> None:
        """PTB's start-up (getMe), retried through a brief Telegram fault instead of failing the process."""
        for attempt in range(self.START_TRIES):
            try:
                await super().initialize()
                return
            except (NetworkError, RetryAfter) as exc:
                if attempt == self.START_TRIES - 1:
                    raise
                delay = ui.retry_seconds(exc) if isinstance(exc, RetryAfter) else ui.BACKOFF * 2**attempt
                log.warning("start-up call to Telegram failed (%s); trying again in %.1f s", exc.message, delay)
                await asyncio.sleep(delay)

    async def process_update(self, update: object) -> None:
        if await until_stopped(self, handle_once(self, update)) is None:
            log.warning("update %s cut short by the shutdown", getattr(update, "update_id", "?"))
            await _sorry(self, update)

    def stopping(self) -> None:
        """The process is about to stop (a signal came): the grace for the work in hand starts now."""
        if "_watchdog" in self.__dict__:
            return
        tasks: set[asyncio.Future[Any]] = self.__dict__.setdefault("_cancellable", set())

        async def cut_short() -> None:
            await asyncio.sleep(self.STOP_GRACE)
            self.__dict__["_cut_short"] = True
            # Again and again: a cancelled transaction rolls back, and on a silent connection that
            # would wait out the statement timeout unless it is cancelled too.
            while tasks:
                for task in list(tasks):
                    task.cancel()
                await asyncio.sleep(0.2)

        self.__dict__["_watchdog"] = asyncio.ensure_future(cut_short())

    async def stop(self) -> None:
        self.stopping()
        try:
            await super().stop()
        finally:
            self.__dict__.pop("_watchdog").cancel()
            self.__dict__.pop("_cut_short", None)


async def until_stopped(app: Application[Any, Any, Any, Any, Any, Any], work: Awaitable[R]) -> R | None:
    """`work` in a task of its own that stopping the application may cancel after its grace (None then).

    A task of its own, so that cancelling it leaves the caller (PTB's update fetcher, APScheduler's
    job) running to its end.
    """
    task = asyncio.ensure_future(work)
    if not isinstance(app, LimberApplication):
        return await task
    tasks: set[asyncio.Future[Any]] = app.__dict__.setdefault("_cancellable", set())
    tasks.add(task)
    if app.__dict__.get("_cut_short"):
        task.cancel()
    try:
        await asyncio.wait({task})
    finally:
        tasks.discard(task)
    return None if task.cancelled() else task.result()


async def _sorry(app: Application[Any, Any, Any, Any, Any, Any], update: object) -> None:
    """Tell the person an update cut short by a shutdown may not be done."""
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None or chat.type != "private":
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await ui.send(app.bot, chat.id, views.View(views.SOMETHING_WRONG))


async def housekeeping(svc: Services) -> None:
    """Forget handled updates Telegram can no longer re-deliver."""
    async with svc.db.transaction() as db:
        dropped = await repo.prune_updates(db, before=svc.clock.now() - KEEP)
    if dropped:
        log.info("forgot %d handled updates", dropped)
