"""Small keyword-only repository functions. Callers own the transaction (`Database.transaction`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from bot.coaching.session import Status
from storage import statements
from storage.models import (
    Claim,
    CueMessage,
    FigureFile,
    HandledUpdate,
    PainRating,
    Preferences,
    Prompt,
    PromptStatus,
    RatingContext,
    RedFlagEvent,
    RoutineSession,
    StepOutcome,
    UpdateStatus,
    User,
    utcnow,
)

OPEN = col(RoutineSession.status) != Status.finished
# For UPDATE and DELETE statements whose loaded objects the caller updates itself (or has none):
# SQLAlchemy would otherwise evaluate the WHERE clause against every object in the session.
NO_SYNC = {"synchronize_session": False}


def _insert(db: AsyncSession) -> Any:
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- users ---------------------------------------------------------------------------------------


async def ensure_user(
    db: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    first_name: str,
    language: str | None = None,
    now: datetime | None = None,
) -> User:
    """Create the person on first contact (race-free across processes) and return the row."""
    now = now or utcnow()
    values = {
        "id": user_id,
        "chat_id": chat_id,
        "first_name": first_name[:64],
        "language": language,
        "created_at": now,
        "updated_at": now,
    }
    await db.execute(_insert(db)(User).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    await db.execute(
        _insert(db)(Preferences)
        .values(user_id=user_id, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    user = await db.get(User, user_id, populate_existing=True)
    assert user is not None
    return user


async def get_user(db: AsyncSession, *, user_id: int) -> User | None:
    return await db.get(User, user_id, populate_existing=True)


async def language_of(db: AsyncSession, *, user_id: int) -> str | None:
    stmt = select(col(User.language)).where(col(User.id) == user_id)
    return (await db.execute(stmt)).scalar_one_or_none()


async def set_language(db: AsyncSession, *, user_id: int, language: str) -> None:
    await db.execute(update(User).where(User.id == user_id).values(language=language))  # type: ignore[arg-type]


async def timezone_of(db: AsyncSession, *, user_id: int) -> str | None:
    """The person's time zone, or None before they have one."""
    stmt = select(col(Preferences.timezone)).where(col(Preferences.user_id) == user_id)
    return (await db.execute(stmt)).scalar_one_or_none()


async def coaching_paused(db: AsyncSession, *, user_id: int) -> bool:
    """True while a red-flag answer has paused coaching for this person."""
    user = await get_user(db, user_id=user_id)
    return user is not None and user.coaching_paused_at is not None


async def set_delete_code(db: AsyncSession, *, user_id: int, code: str | None) -> None:
    await db.execute(update(User).where(User.id == user_id).values(delete_code=code))  # type: ignore[arg-type]


async def delete_code(db: AsyncSession, *, user_id: int) -> str | None:
    """The person's pending /delete code, locked so two confirmations cannot both use it."""
    stmt = select(col(User.delete_code)).where(col(User.id) == user_id).with_for_update()
    return (await db.execute(stmt)).scalar_one_or_none()


async def mark_onboarded(db: AsyncSession, *, user_id: int) -> None:
    await db.execute(
        update(User).where(col(User.id) == user_id, col(User.onboarded_at).is_(None)).values(onboarded_at=utcnow())
    )


# --- routine sessions ----------------------------------------------------------------------------


async def open_session(db: AsyncSession, *, user_id: int) -> RoutineSession | None:
    """The person's unfinished session, locked for this transaction where the backend can."""
    stmt = select(RoutineSession).where(col(RoutineSession.user_id) == user_id, OPEN).with_for_update()
    return (await db.execute(stmt.execution_options(populate_existing=True))).scalars().first()


async def get_session(db: AsyncSession, *, session_id: int, user_id: int) -> RoutineSession | None:
    """A session by id, only if it belongs to this person: ids from buttons are never trusted."""
    stmt = select(RoutineSession).where(col(RoutineSession.id) == session_id, col(RoutineSession.user_id) == user_id)
    return (await db.execute(stmt.with_for_update().execution_options(populate_existing=True))).scalars().first()


async def create_session(
    db: AsyncSession, *, user_id: int, routine_id: str, plan: list[dict[str, Any]], status: str, now: datetime
) -> RoutineSession:
    row = RoutineSession(
        user_id=user_id, routine_id=routine_id, plan=plan, status=status, started_at=now, updated_at=now
    )
    db.add(row)
    await db.flush()
    return row


async def set_message_if_at(
    db: AsyncSession, *, session_id: int, user_id: int, status: str, step: int, message_id: int
) -> bool:
    """Make `message_id` the session's live message, only if the session is still at (status, step)."""
    stmt = (
        update(RoutineSession)
        .where(
            RoutineSession.id == session_id,  # type: ignore[arg-type]
            RoutineSession.user_id == user_id,  # type: ignore[arg-type]
            col(RoutineSession.status) == status,
            col(RoutineSession.current_step) == step,
        )
        .values(message_id=message_id, updated_at=utcnow())
    )
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    return result.rowcount == 1


async def advance_session(
    db: AsyncSession,
    *,
    session: RoutineSession,
    expect_status: str,
    expect_step: int,
    status: str,
    step: int,
    stopped: bool | None = None,
    finished_at: datetime | None = None,
) -> bool:
    """Move a session on only if it is still where the caller saw it (stale or double presses lose).

    The live message is forgotten with the step it showed: until the next one's id is stored, a press
    for the new step is taken from whichever message carries it (bot.flow.press_step)."""
    values: dict[str, Any] = {
        "status": status,
        "current_step": step,
        "message_id": None,
        "timer_started_at": None,
        "timer_owner": None,
        "timer_beat_at": None,
        "updated_at": utcnow(),
    }
    if stopped is not None:
        values["stopped"] = stopped
    if finished_at is not None:
        values["finished_at"] = finished_at
    stmt = (
        update(RoutineSession)
        .where(
            RoutineSession.id == session.id,  # type: ignore[arg-type]
            col(RoutineSession.status) == expect_status,
            col(RoutineSession.current_step) == expect_step,
        )
        .values(**values)
    )
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    if result.rowcount != 1:
        return False
    # The row now holds exactly these values: set them without reading the row back.
    for key, value in values.items():
        set_committed_value(session, key, value)
    return True


async def start_timer(
    db: AsyncSession, *, session: RoutineSession, step: int, at: datetime, message_id: int | None = None
) -> bool:
    """Start the step's countdown if it is not running; `message_id` becomes the live message when none is."""
    values: dict[str, Any] = {
        "timer_started_at": at,
        "timer_owner": None,
        "timer_beat_at": None,
        "updated_at": utcnow(),
    }
    if message_id is not None:
        values["message_id"] = func.coalesce(RoutineSession.message_id, message_id)
    stmt = (
        update(RoutineSession)
        .where(
            RoutineSession.id == session.id,  # type: ignore[arg-type]
            col(RoutineSession.status) == Status.in_progress,
            col(RoutineSession.current_step) == step,
            RoutineSession.timer_started_at.is_(None),  # type: ignore[union-attr]
        )
        .values(**values)
    )
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    if result.rowcount != 1:
        return False
    await db.refresh(session)
    return True


async def running_timers(db: AsyncSession, *, silent_since: datetime | None = None) -> Sequence[RoutineSession]:
    """Sessions with a countdown running; with `silent_since`, only those whose editor has not beaten since."""
    stmt = select(RoutineSession).where(
        col(RoutineSession.status) == Status.in_progress,
        RoutineSession.timer_started_at.is_not(None),  # type: ignore[union-attr]
    )
    if silent_since is not None:
        stmt = stmt.where(
            or_(col(RoutineSession.timer_beat_at).is_(None), col(RoutineSession.timer_beat_at) < silent_since)
        )
    return (await db.execute(stmt)).scalars().all()


async def release_timers(db: AsyncSession) -> None:
    """Every running countdown loses its editor (the only process answering buttons restarted)."""
    await db.execute(
        update(RoutineSession)
        .where(RoutineSession.status == Status.in_progress, RoutineSession.timer_started_at.is_not(None))  # type: ignore[arg-type,union-attr]
        .values(timer_owner=None)
    )


async def beat_timer(
    db: AsyncSession, *, session: RoutineSession, owner: str, now: datetime, silent_since: datetime
) -> bool:
    """Keep (or take over from a silent editor) the countdown of a session still at the same step and timer."""
    stmt = (
        update(RoutineSession)
        .where(
            RoutineSession.id == session.id,  # type: ignore[arg-type]
            col(RoutineSession.status) == Status.in_progress,
            col(RoutineSession.current_step) == session.current_step,
            col(RoutineSession.timer_started_at) == session.timer_started_at,
            col(RoutineSession.message_id) == session.message_id,
            or_(
                RoutineSession.timer_owner.is_(None),  # type: ignore[union-attr]
                col(RoutineSession.timer_owner) == owner,
                col(RoutineSession.timer_beat_at) < silent_since,
            ),
        )
        .values(timer_owner=owner, timer_beat_at=now)
    )
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    return result.rowcount == 1


# --- handled updates -----------------------------------------------------------------------------


async def claim_update(db: AsyncSession, *, update_id: int, owner: str, now: datetime, stale_before: datetime) -> Claim:
    """Take an update for handling: "new", or "done" (handled before) or "busy" (being handled elsewhere).

    A claim still "working" since `stale_before` belonged to a worker that died: it is taken over.
    One implementation, prebuilt in storage.statements (bot.updates runs it without a session).
    """
    conn = await db.connection()
    return await statements.claim_update(conn, update_id=update_id, owner=owner, now=now, stale_before=stale_before)


async def finish_update(db: AsyncSession, *, update_id: int, owner: str) -> None:
    await statements.finish_update(await db.connection(), update_id=update_id, owner=owner)


async def release_updates(db: AsyncSession) -> int:
    """Forget unfinished claims (the single poller restarted: nobody else is handling them)."""
    stmt = delete(HandledUpdate).where(HandledUpdate.status == UpdateStatus.working)  # type: ignore[arg-type]
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    return result.rowcount


async def prune_updates(db: AsyncSession, *, before: datetime) -> int:
    """Drop claims older than Telegram would ever re-deliver."""
    stmt = delete(HandledUpdate).where(col(HandledUpdate.claimed_at) < before)
    result: CursorResult[Any] = await db.execute(stmt, execution_options=NO_SYNC)  # type: ignore[assignment]
    return result.rowcount


# --- step outcomes and ratings -------------------------------------------------------------------


async def add_outcome(
    db: AsyncSession, *, session: RoutineSession, step_index: int, technique_id: str, outcome: str
) -> StepOutcome:
    assert session.id is not None  # a stored session
    row = StepOutcome(
        session_id=session.id,
        user_id=session.user_id,
        step_index=step_index,
        technique_id=technique_id,
        outcome=outcome,
    )
    db.add(row)
    await db.flush()
    return row


async def session_outcomes(db: AsyncSession, *, session_id: int) -> Sequence[StepOutcome]:
    stmt = select(StepOutcome).where(StepOutcome.session_id == session_id).order_by(StepOutcome.step_index)  # type: ignore[arg-type]
    return (await db.execute(stmt)).scalars().all()


async def add_rating(
    db: AsyncSession,
    *,
    user_id: int,
    value: int,
    context: str,
    now: datetime,
    session_id: int | None = None,
    source: str | None = None,
) -> PainRating:
    row = PainRating(
        user_id=user_id, value=value, context=context, session_id=session_id, source=source, created_at=now
    )
    db.add(row)
    await db.flush()
    return row


async def move_session_ratings(db: AsyncSession, *, from_session: int, to_session: int) -> None:
    """Give one session's ratings to another (a routine swapped for another before its first step)."""
    stmt = update(PainRating).where(PainRating.session_id == from_session).values(session_id=to_session)  # type: ignore[arg-type]
    await db.execute(stmt, execution_options=NO_SYNC)


async def recent_prompt_rating(db: AsyncSession, *, user_id: int, since: datetime) -> PainRating | None:
    """The newest rating given on a daily prompt since `since` that no session has taken yet, locked."""
    stmt = (
        select(PainRating)
        .where(
            col(PainRating.user_id) == user_id,
            col(PainRating.context) == RatingContext.prompt,
            PainRating.session_id.is_(None),  # type: ignore[union-attr]
            col(PainRating.created_at) >= since,
        )
        .order_by(PainRating.created_at.desc())  # type: ignore[attr-defined]
        .limit(1)
        .with_for_update()
    )
    return (await db.execute(stmt)).scalars().first()


async def take_prompt_rating(db: AsyncSession, *, rating: PainRating, session_id: int) -> None:
    """A prompt's rating becomes a session's before-rating (counted once, as that)."""
    stmt = (
        update(PainRating)
        .where(col(PainRating.id) == rating.id)
        .values(context=RatingContext.before, session_id=session_id)
    )
    await db.execute(stmt, execution_options=NO_SYNC)
    set_committed_value(rating, "context", RatingContext.before)
    set_committed_value(rating, "session_id", session_id)


def message_source(message_id: int) -> str:
    """The `source` of a rating typed in a message (a private chat's message ids are the person's own)."""
    return f"m{message_id}"


async def rating_from(db: AsyncSession, *, user_id: int, source: str) -> PainRating | None:
    """The rating a message already stored, if its update ran before."""
    stmt = select(PainRating).where(col(PainRating.user_id) == user_id, col(PainRating.source) == source)
    return (await db.execute(stmt)).scalars().first()


async def session_ratings(db: AsyncSession, *, session_id: int) -> dict[str, int]:
    """The before and after ratings of one session, by context."""
    stmt = select(PainRating).where(
        col(PainRating.session_id) == session_id,
        PainRating.context.in_(("before", "after")),  # type: ignore[attr-defined]
    )
    return {r.context: r.value for r in (await db.execute(stmt)).scalars().all()}


async def ratings_for(db: AsyncSession, *, user_id: int) -> Sequence[PainRating]:
    stmt = select(PainRating).where(PainRating.user_id == user_id).order_by(PainRating.created_at)  # type: ignore[arg-type]
    return (await db.execute(stmt)).scalars().all()


# --- red flags -----------------------------------------------------------------------------------


async def open_red_flag(db: AsyncSession, *, user_id: int) -> RedFlagEvent | None:
    stmt = (
        select(RedFlagEvent)
        .where(col(RedFlagEvent.user_id) == user_id, col(RedFlagEvent.cleared_at).is_(None))
        .order_by(RedFlagEvent.id.desc())  # type: ignore[union-attr]
        .with_for_update()
    )
    return (await db.execute(stmt.execution_options(populate_existing=True))).scalars().first()


async def raise_red_flag(db: AsyncSession, *, user_id: int, categories: Sequence[str]) -> RedFlagEvent:
    row = RedFlagEvent(user_id=user_id, categories=",".join(categories)[:200])
    db.add(row)
    await db.execute(update(User).where(User.id == user_id).values(coaching_paused_at=utcnow()))  # type: ignore[arg-type]
    await db.flush()
    return row


async def set_red_flag_code(db: AsyncSession, *, event: RedFlagEvent, code: str | None) -> None:
    stmt = update(RedFlagEvent).where(RedFlagEvent.id == event.id).values(confirm_code=code)  # type: ignore[arg-type]
    await db.execute(stmt, execution_options=NO_SYNC)
    set_committed_value(event, "confirm_code", code)


async def clear_red_flags(db: AsyncSession, *, user_id: int, reason: str) -> None:
    now = utcnow()
    await db.execute(
        update(RedFlagEvent)
        .where(RedFlagEvent.user_id == user_id, RedFlagEvent.cleared_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(cleared_at=now, cleared_reason=reason, confirm_code=None)
    )
    await db.execute(update(User).where(User.id == user_id).values(coaching_paused_at=None))  # type: ignore[arg-type]


# --- operator figures ----------------------------------------------------------------------------


async def usage_figures(db: AsyncSession, *, since: datetime) -> dict[str, int]:
    """Counts for the operator: people, sessions, ratings, prompts; in all and since `since`."""

    async def count(stmt: Any) -> int:
        return int((await db.execute(stmt)).scalar_one())

    return {
        "people": await count(select(func.count()).select_from(User)),
        "sessions": await count(select(func.count()).select_from(RoutineSession)),
        "sessions_recent": await count(
            select(func.count()).select_from(RoutineSession).where(col(RoutineSession.started_at) >= since)
        ),
        "ratings_recent": await count(
            select(func.count()).select_from(PainRating).where(col(PainRating.created_at) >= since)
        ),
        "prompts_sent_recent": await count(
            select(func.count())
            .select_from(Prompt)
            .where(col(Prompt.status) == PromptStatus.sent, col(Prompt.sent_at) >= since)
        ),
        "reminders_on": await count(select(func.count()).select_from(Preferences).where(col(Preferences.reminders_on))),
        # Left "sending" by a clock that died: perhaps delivered, perhaps not; never sent twice.
        "prompts_unknown_recent": await count(
            select(func.count())
            .select_from(Prompt)
            .where(col(Prompt.status) == PromptStatus.unknown, col(Prompt.due_at) >= since)
        ),
    }


# --- figures and cues -------------------------------------------------------------------------------


async def text_only(db: AsyncSession, *, user_id: int) -> bool:
    stmt = select(col(Preferences.text_only)).where(col(Preferences.user_id) == user_id)
    return bool((await db.execute(stmt)).scalar())


async def figure_file_id(db: AsyncSession, *, bot_id: int, name: str) -> str | None:
    row = await db.get(FigureFile, (bot_id, name))
    return row.file_id if row else None


async def remember_figure_file(db: AsyncSession, *, bot_id: int, name: str, file_id: str) -> None:
    """Keep the file_id Telegram returned; the newest wins (one that was rejected is replaced)."""
    stmt = _insert(db)(FigureFile).values(bot_id=bot_id, name=name, file_id=file_id, created_at=utcnow())
    await db.execute(
        stmt.on_conflict_do_update(index_elements=["bot_id", "name"], set_={"file_id": file_id, "created_at": utcnow()})
    )


async def forget_figure_file(db: AsyncSession, *, bot_id: int, name: str, file_id: str) -> None:
    await db.execute(
        delete(FigureFile).where(
            col(FigureFile.bot_id) == bot_id, col(FigureFile.name) == name, col(FigureFile.file_id) == file_id
        ),
        execution_options=NO_SYNC,
    )


async def take_cue(db: AsyncSession, *, session_id: int) -> int | None:
    """The session's cue message, if any, removed from the table: the caller deletes it from the chat."""
    row = await db.get(CueMessage, session_id)
    if row is None:
        return None
    await db.delete(row)
    return row.message_id


async def set_cue(db: AsyncSession, *, session_id: int, message_id: int) -> None:
    stmt = _insert(db)(CueMessage).values(session_id=session_id, message_id=message_id, created_at=utcnow())
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=["session_id"], set_={"message_id": message_id, "created_at": utcnow()}
        )
    )
