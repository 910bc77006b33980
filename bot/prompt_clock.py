"""The daily prompt clock: one pass turns due schedules into prompts, then delivers them.

The database is the source of truth: each person's next due time (UTC) is a column, a pass claims
what is due with SKIP LOCKED, and a prompt row, unique per person, local day and kind, is the
outbox. A prompt is marked "sending" before the request and "sent" after, so a crash in between
leaves it "sending" and it is never sent twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot import dbretry, i18n, ui, views
from bot.coaching.plan import estimate_minutes
from bot.coaching.schedule import EVERY_DAY, MIN_PROMPT_GAP, is_late, next_due, parse_time
from bot.flows.session import personal_plan
from bot.ratelimit import FanoutLimiter
from bot.services import Services
from bot.updates import until_stopped
from content import Library
from content.schema import Role
from storage import prompts as prompt_repo
from storage.models import Preferences, Prompt, PromptKind, PromptStatus, User
from storage.repo import language_of

log = logging.getLogger(__name__)
# Schedules, and prompts, claimed per transaction. SQLite runs on the event loop's thread
# (storage.sqlite_inline), so a transaction is time the loop does nothing else: 100 keep one under
# ~10 ms (500 prompts took ~40 ms to claim); a batch of prompts still outlasts three seconds of sending.
BATCH = 100
SEND_RETRIES = 4  # a prompt's attempts; each 429 is one, with the fan-out paused meanwhile
MAX_REQUEUES = 20  # slots given back at the rate limiter's gate before a later pass takes the prompt
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
# A clock at work beats in its claims this often; one silent for STALE_CLAIM is dead, and its claims
# are taken over by the next pass of any clock (with the poll interval, within a minute).
BEAT_SECONDS = 10.0
STALE_CLAIM = timedelta(seconds=30)


def default_routine(library: Library) -> str:
    """What a prompt offers when the person chose no focus routine: the quick one (its role in content)."""
    return library.with_role(Role.quick) or library.routines_in_order()[0].id


_zone = functools.lru_cache(maxsize=None)(ZoneInfo)  # ZoneInfo's own cache keeps only 8 zones for sure


def next_prompt(
    *,
    reminder_time: str | None,
    days: int,
    timezone: str,
    active: bool,
    now: datetime,
    after_day: date | None = None,
    last_due: datetime | None = None,
) -> tuple[datetime | None, date | None]:
    """The next due prompt (UTC instant, local date) from a person's settings; (None, None) when none should come.

    `last_due`, the person's last daily prompt: the next one is at least MIN_PROMPT_GAP after it."""
    at = parse_time(reminder_time or "")
    if not active or at is None or not days & EVERY_DAY:
        return None, None
    if last_due is not None:
        now = max(now, last_due + MIN_PROMPT_GAP)
    day, due = next_due(at=at, days=days, tz=_zone(timezone), after_day=after_day, now=now)
    return due, day


async def reschedule(
    db: AsyncSession,
    *,
    prefs: Preferences,
    user: User,
    now: datetime,
    after_day: date | None = None,
    last_due: datetime | None = None,
) -> None:
    """Set the person's next due prompt from their settings, or clear it when none should come."""
    active = prefs.reminders_on and not prefs.prompts_paused and user.blocked_at is None
    at, day = next_prompt(
        reminder_time=prefs.reminder_time,
        days=prefs.reminder_days,
        timezone=prefs.timezone,
        active=active,
        now=now,
        after_day=after_day,
        last_due=last_due,
    )
    await prompt_repo.update_preferences(db, prefs=prefs, next_prompt_at=at, next_prompt_date=day)


@dataclass
class PassReport:
    scheduled: int = 0
    missed: int = 0
    sent: int = 0
    cancelled: int = 0
    blocked: int = 0
    failed: int = 0
    retried_429: int = 0
    taken_back: int = 0  # dead clocks' claims: pending again, or "unknown" if mid-request


async def run_pass(bot: Bot, svc: Services, limiter: FanoutLimiter) -> PassReport:
    """Claim every due schedule, then send every due prompt; safe to run in several processes at once."""
    report = PassReport()
    await _materialize(svc, report)
    await _deliver(bot, svc, limiter, report)
    return report


async def _materialize(svc: Services, report: PassReport) -> None:
    grace = timedelta(minutes=svc.settings.prompt_grace_minutes)
    while True:
        now = svc.clock.now()
        async with svc.db.transaction() as db:
            # Plain rows and one statement per step for the whole batch: a row at a time, through ORM
            # objects, cost ~1.5 ms a person.
            due = await prompt_repo.claim_due_schedules(db, now=now, limit=BATCH)
            days = [s.local_date or s.due_at.astimezone(_zone(s.timezone)).date() for s in due]
            # Missed while the bot was down: sent if within grace, else recorded as missed.
            late = [is_late(s.due_at, now, grace) for s in due]
            last = await prompt_repo.last_daily_dues(db, user_ids=[s.user_id for s in due]) if due else {}
            # Too soon after the last prompt (the zone changed since): this one is skipped.
            soon = [s.user_id in last and s.due_at < last[s.user_id] + MIN_PROMPT_GAP for s in due]
            added = await prompt_repo.add_daily_prompts(
                db,
                [
                    {
                        "user_id": s.user_id,
                        "local_date": day,
                        "due_at": s.due_at,
                        "status": PromptStatus.missed if gone else PromptStatus.pending,
                    }
                    for s, day, gone, early in zip(due, days, late, soon, strict=True)
                    if not early
                ],
            )  # a day that already has its prompt keeps it
            for s, gone in zip(due, late, strict=True):
                if s.user_id in added:
                    report.missed += gone
                    report.scheduled += not gone
            # The next day that is still sendable: after a long outage today's prompt may be late but
            # inside the grace, and must not be skipped for tomorrow's.
            await prompt_repo.set_next_prompts(
                db,
                [
                    (
                        s.user_id,
                        *next_prompt(
                            reminder_time=s.reminder_time,
                            days=s.reminder_days,
                            timezone=s.timezone,
                            active=s.active,
                            now=now - grace,
                            after_day=day,
                            last_due=last[s.user_id] if early else s.due_at,
                        ),
                    )
                    for s, day, early in zip(due, days, soon, strict=True)
                ],
            )
        if len(due) < BATCH:
            return
        await asyncio.sleep(0)  # the next batch after whatever else waits for the loop


async def take_back_own(svc: Services) -> int:
    """At start-up: the claims of this clock's earlier runs (this host, a process no longer alive) are
    resolved at once, not after the stale window."""
    host = f"{socket.gethostname()}:"
    async with svc.db.transaction() as db:
        gone = [w for w in await prompt_repo.claimants(db) if w.startswith(host) and w != WORKER and not _alive(w)]
        moved = await prompt_repo.take_back(db, workers=gone) if gone else 0
    if moved:
        log.info("took back %d prompts claimed by this clock before it restarted", moved)
    return moved


def _alive(worker: str) -> bool:
    try:
        os.kill(int(worker.split(":")[1]), 0)
    except (IndexError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # someone else's process
        return True
    return True


async def _beat(svc: Services) -> None:
    """Keep this clock's claims fresh while a pass sends (wall time: the stale window is real time)."""
    while True:
        await asyncio.sleep(BEAT_SECONDS)
        try:
            async with svc.db.transaction() as db:
                await prompt_repo.beat_claims(db, worker=WORKER, now=svc.clock.now())
        except Exception as exc:
            if not dbretry.is_transient(exc):
                raise
            log.warning("could not beat prompt claims: database unavailable")


async def _deliver(bot: Bot, svc: Services, limiter: FanoutLimiter, report: PassReport) -> None:
    beat = asyncio.ensure_future(_beat(svc))
    try:
        await _deliver_batches(bot, svc, limiter, report)
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)


async def _deliver_batches(bot: Bot, svc: Services, limiter: FanoutLimiter, report: PassReport) -> None:
    grace = timedelta(minutes=svc.settings.prompt_grace_minutes)
    while True:
        now = svc.clock.now()
        async with svc.db.transaction() as db:
            # A dead clock's claims first: pending again, or "unknown" if it was mid-request.
            report.taken_back += await prompt_repo.take_back(db, stale_before=now - STALE_CLAIM)
            batch = await prompt_repo.claim_prompts(db, now=now, worker=WORKER, limit=BATCH)
            # Who still wants prompts, and with which routine: one query for the whole batch.
            wanted = await prompt_repo.recipients(db, user_ids=[p.user_id for p in batch]) if batch else {}
            unwanted = [p for p in batch if p.user_id not in wanted]
            # Held up past the grace (an outage, retries): too late to be useful today.
            late = [p for p in batch if p.user_id in wanted and is_late(p.due_at, now, grace)]
            claimed = PromptStatus.claimed
            await prompt_repo.mark_prompts(db, prompts=unwanted, expect=claimed, status=PromptStatus.cancelled)
            await prompt_repo.mark_prompts(db, prompts=late, expect=claimed, status=PromptStatus.missed)
            report.cancelled += len(unwanted)
            report.missed += len(late)
        queue: asyncio.Queue[tuple[Prompt, views.View]] = asyncio.Queue()
        for prompt in batch:
            if prompt.status == PromptStatus.claimed:
                routine_id = wanted[prompt.user_id]
                routine_id = routine_id if routine_id in svc.library.routines else default_routine(svc.library)
                # Each person's own plan, read before sending starts: reads between the rate limiter's
                # admission and the request would bunch the sends.
                queue.put_nowait((prompt, await prompt_view(svc, prompt, routine_id)))
        workers = min(svc.settings.fanout_workers, queue.qsize())
        await asyncio.gather(*(_worker(bot, svc, limiter, queue, report) for _ in range(workers)))
        if len(batch) < BATCH:
            return


async def _worker(
    bot: Bot,
    svc: Services,
    limiter: FanoutLimiter,
    queue: asyncio.Queue[tuple[Prompt, views.View]],
    report: PassReport,
) -> None:
    while not queue.empty():
        prompt, view = queue.get_nowait()
        await _send_one(bot, svc, limiter, prompt, view, report)


async def _send_one(
    bot: Bot, svc: Services, limiter: FanoutLimiter, prompt: Prompt, view: views.View, report: PassReport
) -> str:
    assert prompt.id is not None
    attempt = requeued = 0
    while attempt < SEND_RETRIES and requeued < MAX_REQUEUES:
        await limiter.acquire(prompt.user_id)
        # "sending" only for the request itself: a crash while waiting leaves it "claimed", to be sent later.
        async with svc.db.transaction() as db:
            if not await prompt_repo.move_prompt(
                db,
                prompt_id=prompt.id,
                expect=PromptStatus.claimed,
                status=PromptStatus.sending,
                owner=WORKER,
                claimed_at=svc.clock.now(),
            ):
                return "taken"  # this clock stalled past the stale window and another one took it over
        if not await limiter.admit(prompt.user_id):
            # Sending now would break the pace (getting here took long) or a "retry after" began meanwhile.
            requeued += 1
            await _back_to_claimed(svc, prompt.id)
            continue
        attempt += 1
        try:
            # The one sender's request, with its retry policy (ui.retry_delay) applied here: a prompt waits
            # "claimed" between attempts, and a 429 pauses the whole fan-out rather than this prompt alone.
            message = await ui.deliver(bot, prompt.user_id, view)
        except RetryAfter as exc:
            limiter.pause(ui.retry_seconds(exc))
            report.retried_429 += 1
            await _back_to_claimed(svc, prompt.id)
            continue  # the same message, once the pause is over
        except Forbidden:
            async with svc.db.transaction() as db:
                await prompt_repo.move_prompt(
                    db, prompt_id=prompt.id, expect=PromptStatus.sending, status=PromptStatus.blocked
                )
                await prompt_repo.set_blocked(db, user_id=prompt.user_id, at=svc.clock.now())
            svc.known_users.discard(prompt.user_id)
            report.blocked += 1
            return PromptStatus.blocked
        except TimedOut:
            # Telegram may have delivered it: never risk a second copy.
            return await _finish(svc, prompt, PromptStatus.unknown, report)
        except BadRequest as exc:
            log.warning("prompt %s refused: %s", prompt.id, exc.message)
            return await _finish(svc, prompt, PromptStatus.failed, report)
        except NetworkError as exc:  # 5xx, connection refused: nothing was delivered
            delay = ui.retry_delay(exc, attempt - 1, retries=SEND_RETRIES)
            log.info("prompt %s: %s; retrying", prompt.id, exc.message)
            await _back_to_claimed(svc, prompt.id)
            if delay is not None:
                await svc.clock.sleep(delay)
            continue
        async with svc.db.transaction() as db:
            await prompt_repo.move_prompt(
                db,
                prompt_id=prompt.id,
                expect=PromptStatus.sending,
                status=PromptStatus.sent,
                sent_at=svc.clock.now(),
                message_id=message.message_id,
            )
        report.sent += 1
        return PromptStatus.sent
    # Still failing: hand it back to a later pass (nothing was delivered).
    async with svc.db.transaction() as db:
        await prompt_repo.move_prompt(db, prompt_id=prompt.id, expect=PromptStatus.claimed, status=PromptStatus.pending)
    return PromptStatus.pending


async def _back_to_claimed(svc: Services, prompt_id: int) -> None:
    async with svc.db.transaction() as db:
        await prompt_repo.move_prompt(db, prompt_id=prompt_id, expect=PromptStatus.sending, status=PromptStatus.claimed)


async def _finish(svc: Services, prompt: Prompt, status: PromptStatus, report: PassReport) -> str:
    async with svc.db.transaction() as db:
        await prompt_repo.move_prompt(db, prompt_id=prompt.id or 0, expect=PromptStatus.sending, status=status)
    report.failed += 1
    return status


async def prompt_view(svc: Services, prompt: Prompt, routine_id: str) -> views.View:
    """The prompt with the routine as Start would make it for this person today (level, length, adaptations),
    in their language: a prompt has no incoming update to say it."""
    routine = svc.library.routines.get(routine_id) or svc.library.routines[default_routine(svc.library)]
    plan, _notes = await personal_plan(svc, prompt.user_id, routine.id)
    async with svc.db.transaction() as db:
        language = await language_of(db, user_id=prompt.user_id)
    with i18n.speaking(language):
        return views.prompt(
            prompt.id or 0,
            views.routine_title(routine),
            len(plan),
            estimate_minutes(plan),
            snooze=prompt.kind == PromptKind.snooze,
        )


async def prompt_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The APScheduler job (PTB JobQueue): one pass; a failure is logged and the next tick tries again."""
    svc: Services = context.application.bot_data["services"]
    limiter: FanoutLimiter = context.application.bot_data["limiter"]
    try:
        report = await until_stopped(context.application, run_pass(context.bot, svc, limiter))
    except Exception as exc:
        if dbretry.is_transient(exc):  # the database is down: the next tick tries again
            log.warning("prompt pass failed: database unavailable (%s)", type(exc).__name__)
        else:
            log.exception("prompt pass failed")
        return
    if report is None:
        return  # cut short by a shutdown: its claims are taken back at the next start (or by another clock)
    if report.scheduled or report.sent or report.missed:
        log.info("prompt pass: %s", report)
