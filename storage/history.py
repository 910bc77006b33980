"""A person's history for progress, reports and export, and erasing every row about them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from storage.models import DayMark, RedFlagEvent, RoutineSession, StepOutcome, User, utcnow
from storage.repo import _insert


async def sessions_with_outcomes(db: AsyncSession, *, user_id: int) -> list[tuple[RoutineSession, list[StepOutcome]]]:
    sessions = (
        (
            await db.execute(
                select(RoutineSession).where(RoutineSession.user_id == user_id).order_by(RoutineSession.started_at)  # type: ignore[arg-type]
            )
        )
        .scalars()
        .all()
    )
    outcomes = (
        (
            await db.execute(
                select(StepOutcome)
                .where(col(StepOutcome.user_id) == user_id)
                .order_by(StepOutcome.session_id, StepOutcome.step_index)  # type: ignore[arg-type]
            )
        )
        .scalars()
        .all()
    )
    by_session: dict[int, list[StepOutcome]] = {}
    for outcome in outcomes:
        by_session.setdefault(outcome.session_id, []).append(outcome)
    return [(s, by_session.get(s.id or 0, [])) for s in sessions]


async def day_marks(db: AsyncSession, *, user_id: int) -> Sequence[DayMark]:
    stmt = select(DayMark).where(DayMark.user_id == user_id).order_by(DayMark.day)  # type: ignore[arg-type]
    return (await db.execute(stmt)).scalars().all()


async def mark_day(db: AsyncSession, *, user_id: int, day: date, kind: str) -> None:
    """Mark a local day (rest, flare or skipped); a later mark for the same day replaces the earlier."""
    table = _insert(db)(DayMark)
    stmt = table.values(user_id=user_id, day=day, kind=kind, created_at=utcnow()).on_conflict_do_update(
        index_elements=["user_id", "day"], set_={"kind": kind}
    )
    await db.execute(stmt)


async def red_flags_of(db: AsyncSession, *, user_id: int) -> Sequence[RedFlagEvent]:
    stmt = select(RedFlagEvent).where(RedFlagEvent.user_id == user_id).order_by(RedFlagEvent.created_at)  # type: ignore[arg-type]
    return (await db.execute(stmt)).scalars().all()


def person_tables() -> list[type[SQLModel]]:
    """Every table with rows about a person, children first (handled updates hold no person's id)."""
    tables = []
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name != "users" and "user_id" not in table.columns:
            continue
        model = next(m for m in SQLModel.__subclasses__() if getattr(m, "__table__", None) is table)
        tables.append(model)
    return tables


async def person_rows(db: AsyncSession, *, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row about the person, table by table (parents first), each row as its column values."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for model in reversed(person_tables()):
        column: Any = model.id if model is User else model.user_id  # type: ignore[attr-defined]
        keys = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
        found = (await db.execute(select(model).where(column == user_id).order_by(*keys))).scalars().all()
        rows[str(model.__tablename__)] = [
            {c.name: getattr(row, c.name) for c in model.__table__.columns}  # type: ignore[attr-defined]
            for row in found
        ]
    return rows


async def erase_person(db: AsyncSession, *, user_id: int) -> None:
    """Delete every row about the person, in every table, in one transaction."""
    for model in person_tables():
        column: Any = model.id if model is User else model.user_id  # type: ignore[attr-defined]
        await db.execute(delete(model).where(column == user_id))
