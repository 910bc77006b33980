"""Queries for daily prompts. Claims lock rows with SKIP LOCKED so several clocks never take the same one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col

from storage.models import Preferences, Prompt, PromptKind, PromptStatus, User, utcnow
from storage.repo import NO_SYNC, _insert

# Core tables for the clock's bulk statements: plain rows cost a fraction of ORM objects.
_PREFERENCES = SQLModel.metadata.tables["preferences"]
_PROMPTS = SQLModel.metadata.tables["prompts"]
# A clock's prompts in hand: claimed, or with the request under way.
_IN_HAND = (PromptStatus.claimed, PromptStatus.sending)


@dataclass(frozen=True, slots=True)
class DueSchedule:
    """A claimed schedule: what the clock needs to record the prompt that is due and to set the next one."""

    user_id: int
    timezone: str
    reminder_time: str | None
    reminder_days: int
    active: bool  # reminders on, not paused, not blocked
    due_at: datetime
    local_date: date | None


async def preferences_of(db: AsyncSession, *, user_id: int) -> Preferences:
    stmt = select(Preferences).where(col(Preferences.user_id) == user_id).with_for_update()
    prefs = (await db.execute(stmt.execution_options(populate_existing=True))).scalars().first()
    if prefs is None:
        prefs = Preferences(user_id=user_id)
        db.add(prefs)
        await db.flush()
    return prefs


async def update_preferences(db: AsyncSession, *, prefs: Preferences, **values: Any) -> None:
    """Write these columns of the person's preferences (loaded with `preferences_of`), and show them on `prefs`."""
    if not values:
        return
    values["updated_at"] = utcnow()
    stmt = update(Preferences).where(Preferences.user_id == prefs.user_id).values(**values)  # type: ignore[arg-type]
    await db.execute(stmt, execution_options=NO_SYNC)
    for key, value in values.items():
        set_committed_value(prefs, key, value)


async def claim_due_schedules(db: AsyncSession, *, now: datetime, limit: int) -> list[DueSchedule]:
    """People whose next prompt is due, locked for this transaction (other clocks skip them)."""
    stmt = (
        select(
            col(Preferences.user_id),
            col(Preferences.timezone),
            col(Preferences.reminder_time),
            col(Preferences.reminder_days),
            col(Preferences.reminders_on),
            col(Preferences.prompts_paused),
            col(User.blocked_at),
            col(Preferences.next_prompt_at),
            col(Preferences.next_prompt_date),
        )
        .join(User, col(User.id) == col(Preferences.user_id))
        .where(col(Preferences.next_prompt_at) <= now)
        .order_by(col(Preferences.next_prompt_at))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Preferences)
    )
    return [
        DueSchedule(user_id, zone, at, days, bool(on) and not paused and blocked is None, due, day)
        for user_id, zone, at, days, on, paused, blocked, due, day in (await db.execute(stmt)).all()
        if due is not None  # always: the query asks for due ones
    ]


async def set_next_prompts(db: AsyncSession, rows: Sequence[tuple[int, datetime | None, date | None]]) -> None:
    """Each person's next prompt (user id, UTC instant, local date; None, None for none), in one executemany."""
    if not rows:
        return
    table = _PREFERENCES
    stmt = (
        update(table)
        .where(table.c.user_id == bindparam("uid"))
        .values(
            next_prompt_at=bindparam("at", type_=table.c.next_prompt_at.type),
            next_prompt_date=bindparam("day", type_=table.c.next_prompt_date.type),
        )
    )
    await db.execute(stmt, [{"uid": user_id, "at": at, "day": day} for user_id, at, day in rows])


async def add_prompt(
    db: AsyncSession, *, user_id: int, local_date: date, kind: str, due_at: datetime, status: str
) -> bool:
    """Record a prompt for that person and day; False when that day already has one of this kind."""
    stmt = (
        _insert(db)(Prompt)
        .values(user_id=user_id, local_date=local_date, kind=kind, due_at=due_at, status=status, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "local_date", "kind"])
    )
    result: CursorResult[Any] = await db.execute(stmt)  # type: ignore[assignment]
    return result.rowcount == 1


async def add_daily_prompts(db: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[int]:
    """Record many people's daily prompts in one statement (keys: user_id, local_date, due_at, status);
    returns the people whose day had none yet (the others are left as they were)."""
    if not rows:
        return set()
    now = utcnow()
    stmt = (
        _insert(db)(_PROMPTS)
        .on_conflict_do_nothing(index_elements=["user_id", "local_date", "kind"])
        .returning(_PROMPTS.c.user_id)
    )
    result = await db.execute(stmt, [{**row, "kind": PromptKind.daily, "created_at": now} for row in rows])
    return set(result.scalars().all())


async def claim_prompts(db: AsyncSession, *, now: datetime, worker: str, limit: int) -> Sequence[Prompt]:
    """Take due pending prompts (a dead clock's claims are made pending again first: `take_back`)."""
    stmt = (
        select(Prompt)
        .where(
            col(Prompt.due_at) <= now,
            col(Prompt.status) == PromptStatus.pending,
        )
        .order_by(Prompt.due_at)  # type: ignore[arg-type]
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    prompts = (await db.execute(stmt.execution_options(populate_existing=True))).scalars().all()
    await mark_prompts(
        db, prompts=prompts, expect=PromptStatus.pending, status=PromptStatus.claimed, claimed_by=worker, claimed_at=now
    )
    return prompts


async def mark_prompts(db: AsyncSession, *, prompts: Sequence[Prompt], expect: str, status: str, **fields: Any) -> None:
    """Move these prompts (loaded and locked by the caller) from `expect` to `status`, shown on the objects too."""
    if not prompts:
        return
    values = {"status": status, **fields}
    ids = [p.id for p in prompts]
    stmt = update(Prompt).where(col(Prompt.id).in_(ids), col(Prompt.status) == expect).values(**values)
    await db.execute(stmt, execution_options=NO_SYNC)
    for prompt in prompts:
        for key, value in values.items():
            set_committed_value(prompt, key, value)


async def move_prompt(
    db: AsyncSession, *, prompt_id: int, expect: str, status: str, owner: str | None = None, **fields: Any
) -> bool:
    """Change a prompt's status only if it still has the expected one (and, given `owner`, is still its claim:
    a clock that stalled past the stale window finds its prompt taken over)."""
    stmt = update(Prompt).where(Prompt.id == prompt_id, Prompt.status == expect)  # type: ignore[arg-type]
    if owner is not None:
        stmt = stmt.where(Prompt.claimed_by == owner)  # type: ignore[arg-type]
    result: CursorResult[Any] = await db.execute(stmt.values(status=status, **fields))  # type: ignore[assignment]
    return result.rowcount == 1


async def beat_claims(db: AsyncSession, *, worker: str, now: datetime) -> None:
    """A clock at work keeps its claims fresh, so that only a dead one's are taken over."""
    await db.execute(
        update(Prompt)
        .where(Prompt.claimed_by == worker, Prompt.status.in_(_IN_HAND))  # type: ignore[arg-type,attr-defined]
        .values(claimed_at=now)
    )


async def claimants(db: AsyncSession) -> set[str]:
    """The clocks holding prompts claimed or being sent."""
    stmt = select(col(Prompt.claimed_by)).where(col(Prompt.status).in_(_IN_HAND)).distinct()
    return {w for w in (await db.execute(stmt)).scalars().all() if w is not None}


async def take_back(db: AsyncSession, *, workers: Sequence[str] = (), stale_before: datetime | None = None) -> int:
    """Resolve the claims of clocks that are gone (those `workers`, or whoever has not beaten since
    `stale_before`): a claimed prompt is pending again; one left "sending" may have reached the person,
    so it becomes "unknown" and is never sent again."""
    gone: ColumnElement[bool] | None = col(Prompt.claimed_by).in_(list(workers)) if workers else None
    if stale_before is not None:
        stale = col(Prompt.claimed_at) < stale_before
        gone = stale if gone is None else or_(gone, stale)
    if gone is None:
        return 0
    moved = 0
    for was, becomes in (
        (PromptStatus.claimed, PromptStatus.pending),
        (PromptStatus.sending, PromptStatus.unknown),
    ):
        stmt = update(Prompt).where(Prompt.status == was, gone).values(status=becomes)  # type: ignore[arg-type]
        result: CursorResult[Any] = await db.execute(stmt)  # type: ignore[assignment]
        moved += result.rowcount
    return moved


async def get_prompt(db: AsyncSession, *, prompt_id: int, user_id: int) -> Prompt | None:
    """A prompt by id, only if it was sent to this person: ids from buttons are never trusted."""
    stmt = select(Prompt).where(col(Prompt.id) == prompt_id, col(Prompt.user_id) == user_id).with_for_update()
    return (await db.execute(stmt.execution_options(populate_existing=True))).scalars().first()


async def prove_delivered(db: AsyncSession, *, prompt: Prompt, message_id: int) -> bool:
    """A prompt whose send timed out ("unknown") was delivered after all: a press on it proves it."""
    stmt = (
        update(Prompt)
        .where(Prompt.id == prompt.id, Prompt.status == PromptStatus.unknown, Prompt.message_id.is_(None))  # type: ignore[arg-type,union-attr]
        .values(status=PromptStatus.sent, message_id=message_id)
    )
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    if result.rowcount != 1:
        return False
    set_committed_value(prompt, "status", PromptStatus.sent)
    set_committed_value(prompt, "message_id", message_id)
    return True


async def rate_prompt(db: AsyncSession, *, prompt: Prompt, value: int) -> bool:
    """Today's pain on this prompt, once: False when it already has one."""
    stmt = (
        update(Prompt)
        .where(Prompt.id == prompt.id, Prompt.rating.is_(None))  # type: ignore[arg-type,union-attr]
        .values(rating=value)
    )
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    if result.rowcount != 1:
        return False
    set_committed_value(prompt, "rating", value)
    return True


async def respond_to_prompt(db: AsyncSession, *, prompt: Prompt, response: str) -> None:
    """What the person did with the prompt (started, snoozed, skipped); a later answer replaces it."""
    stmt = update(Prompt).where(Prompt.id == prompt.id).values(response=response)  # type: ignore[arg-type]
    await db.execute(stmt, execution_options=NO_SYNC)
    set_committed_value(prompt, "response", response)


async def cancel_snoozes(db: AsyncSession, *, user_id: int, local_date: date) -> None:
    await db.execute(
        update(Prompt)
        .where(
            Prompt.user_id == user_id,  # type: ignore[arg-type]
            Prompt.local_date == local_date,  # type: ignore[arg-type]
            Prompt.kind == PromptKind.snooze,  # type: ignore[arg-type]
            Prompt.status == PromptStatus.pending,  # type: ignore[arg-type]
        )
        .values(status=PromptStatus.cancelled)
    )


async def forget_day(db: AsyncSession, *, user_id: int, local_date: date) -> None:
    """Drop a local day's prompts (the playground's "prompt now" makes the day's prompt come again)."""
    await db.execute(delete(Prompt).where(Prompt.user_id == user_id, Prompt.local_date == local_date))  # type: ignore[arg-type]


async def has_daily(db: AsyncSession, *, user_id: int, local_date: date) -> bool:
    stmt = select(col(Prompt.id)).where(
        col(Prompt.user_id) == user_id,
        col(Prompt.local_date) == local_date,
        col(Prompt.kind) == PromptKind.daily,
    )
    return (await db.execute(stmt)).first() is not None


async def last_daily(db: AsyncSession, *, user_id: int) -> Prompt | None:
    """The person's daily prompt for their latest local date."""
    stmt = (
        select(Prompt)
        .where(Prompt.user_id == user_id, Prompt.kind == PromptKind.daily)  # type: ignore[arg-type]
        .order_by(Prompt.local_date.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    return (await db.execute(stmt)).scalars().first()


async def last_daily_dues(db: AsyncSession, *, user_ids: Sequence[int]) -> dict[int, datetime]:
    """Each person's latest daily prompt (its due time), of those who have one."""
    stmt = (
        select(col(Prompt.user_id), func.max(col(Prompt.due_at)))
        .where(col(Prompt.user_id).in_(set(user_ids)), col(Prompt.kind) == PromptKind.daily)
        .group_by(col(Prompt.user_id))
    )
    return {user_id: at for user_id, at in (await db.execute(stmt)).all()}  # max() keeps the column's UTC type


async def recipients(db: AsyncSession, *, user_ids: Sequence[int]) -> dict[int, str | None]:
    """Of these people, those who still get prompts (not off, paused, blocked or told to get checked), with their routine."""
    stmt = (
        select(col(Preferences.user_id), col(Preferences.routine_id))
        .join(User, col(User.id) == col(Preferences.user_id))
        .where(
            Preferences.user_id.in_(set(user_ids)),  # type: ignore[attr-defined]
            col(Preferences.reminders_on),
            Preferences.prompts_paused.is_(False),  # type: ignore[attr-defined]
            User.blocked_at.is_(None),  # type: ignore[union-attr]
            # Someone who described a warning sign is told to get checked, not to stretch.
            User.coaching_paused_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return {user_id: routine_id for user_id, routine_id in (await db.execute(stmt)).all()}


async def remember_routine(db: AsyncSession, *, user_id: int, routine_id: str) -> None:
    """The routine a person last chose: what their daily prompt offers."""
    await db.execute(
        update(Preferences).where(Preferences.user_id == user_id).values(routine_id=routine_id)  # type: ignore[arg-type]
    )


async def set_blocked(db: AsyncSession, *, user_id: int, at: datetime | None) -> None:
    """Blocked people get no prompts: the schedule is cleared here and rebuilt when they return."""
    await db.execute(update(User).where(User.id == user_id).values(blocked_at=at))  # type: ignore[arg-type]
    if at is not None:
        await db.execute(
            update(Preferences)
            .where(Preferences.user_id == user_id)  # type: ignore[arg-type]
            .values(next_prompt_at=None, next_prompt_date=None)
        )


async def set_awaiting(db: AsyncSession, *, user_id: int, awaiting: str | None) -> None:
    stmt = update(User).where(User.id == user_id)  # type: ignore[arg-type]
    if awaiting is None:
        stmt = stmt.where(User.awaiting.is_not(None))  # type: ignore[union-attr]  # most presses change nothing
    await db.execute(stmt.values(awaiting=awaiting))


async def prompts_for(db: AsyncSession, *, user_id: int) -> Sequence[Prompt]:
    stmt = select(Prompt).where(Prompt.user_id == user_id).order_by(Prompt.due_at, Prompt.id)  # type: ignore[arg-type]
    return (await db.execute(stmt)).scalars().all()
