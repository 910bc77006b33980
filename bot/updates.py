"""Each Telegram update is handled once, whichever worker it reaches and however often it arrives.

Telegram re-delivers an update when the bot did not confirm it: a poller killed before its next
getUpdates, a webhook answer that came too late. The update_id is claimed in the database before
the handlers run and marked done after, so a re-delivery of a finished update is dropped. A claim
left "working" by a worker that died is taken over once it is older than `STALE`: that update runs
again, and the handlers' state checks (bot.flow) keep what it already committed from doubling.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Literal

from telegram import Update
from telegram.ext import Application

from bot import dbretry
from bot.services import Services
from storage import repo

log = logging.getLogger(__name__)

# Longer than a handler may run, database retries included (bot.dbretry.BUDGET).
STALE = timedelta(seconds=dbretry.BUDGET + 30)
# Telegram keeps an unconfirmed update for 24 hours: a claim older than that can never be needed.
KEEP = timedelta(days=2)

Outcome = Literal["handled", "duplicate", "busy"]
# What Limber has handlers for; Telegram sends nothing else, so no other kind costs an update claim.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


async def handle_once(app: Application[Any, Any, Any, Any, Any, Any], update: object) -> Outcome:
    """Run the handlers for an update unless another delivery of it was (or is being) handled."""
    svc = app.bot_data.get("services")
    if not isinstance(update, Update) or not isinstance(svc, Services):
        await Application.process_update(app, update)
        return "handled"
    update_id, owner = update.update_id, svc.instance

    async def claim() -> str:
        now = svc.clock.now()
        async with svc.db.transaction() as db:
            return await repo.claim_update(db, update_id=update_id, owner=owner, now=now, stale_before=now - STALE)

    try:
        taken = await dbretry.with_retries(claim, "claim_update")
    except Exception:
        # Handling twice beats not at all: the handlers' own checks still hold.
        log.exception("could not claim update %s; handling it anyway", update_id)
        taken = "new"
    if taken == "done":
        log.info("update %s was already handled; dropped", update_id)
        return "duplicate"
    if taken == "busy":
        return "busy"
    await Application.process_update(app, update)

    async def finish() -> None:
        async with svc.db.transaction() as db:
            await repo.finish_update(db, update_id=update_id, owner=owner)

    try:
        await dbretry.with_retries(finish, "finish_update")
    except Exception:
        log.exception("could not mark update %s handled", update_id)
    return "handled"


class LimberApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, with every update (polled or posted to the webhook) going through `handle_once`."""

    async def process_update(self, update: object) -> None:
        await handle_once(self, update)


async def housekeeping(svc: Services) -> None:
    """Forget handled updates Telegram can no longer re-deliver."""
    async with svc.db.transaction() as db:
        dropped = await repo.prune_updates(db, before=svc.clock.now() - KEEP)
    if dropped:
        log.info("forgot %d handled updates", dropped)
