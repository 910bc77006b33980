"""Storage on both backends: migrations match the tables, timestamps stay UTC, writes are conditional."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage import repo
from storage.db import Database, async_url
from storage.models import RoutineSession
from testkit.databases import fresh_postgres, postgres_available

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'limber.db'}")
        await database.migrate()
        yield database
        await database.close()
        return
    reason = await postgres_available()
    if reason:
        pytest.skip(reason)
    async with fresh_postgres() as url:
        database = Database(url)
        await database.migrate()
        yield database
        await database.close()


def test_plain_urls_get_async_drivers() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+inline:///x.db"
    assert async_url("postgresql://u:p@h:5432/d") == "postgresql+asyncpg://u:p@h:5432/d"
    assert async_url("postgres://u@h/d") == "postgresql+asyncpg://u@h/d"
    assert async_url("sqlite+aiosqlite:///y.db") == "sqlite+aiosqlite:///y.db"


async def test_migrations_build_exactly_the_tables(db: Database) -> None:
    def diff(connection: object) -> list[object]:
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)  # type: ignore[arg-type]

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    await db.migrate()  # a second run is a no-op


async def test_timestamps_come_back_as_utc(db: Database) -> None:
    async with db.transaction() as s:
        await repo.ensure_user(s, user_id=10, chat_id=10, first_name="Ana")
        await repo.add_rating(s, user_id=10, value=4, context="free", now=T0)
    async with db.transaction() as s:
        (rating,) = await repo.ratings_for(s, user_id=10)
    assert rating.created_at == T0 and rating.created_at.tzinfo is not None


async def test_ensure_user_is_idempotent(db: Database) -> None:
    for name in ("Ana", "Ana B"):
        async with db.transaction() as s:
            user = await repo.ensure_user(s, user_id=11, chat_id=11, first_name=name)
    assert user.first_name == "Ana"


async def test_one_open_session_per_person(db: Database) -> None:
    async with db.transaction() as s:
        await repo.ensure_user(s, user_id=12, chat_id=12, first_name="")
        await repo.create_session(s, user_id=12, routine_id="hips", plan=[], status="rating_before", now=T0)
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await repo.create_session(s, user_id=12, routine_id="core", plan=[], status="rating_before", now=T0)


async def test_advance_is_conditional_and_outcomes_unique(db: Database) -> None:
    async with db.transaction() as s:
        await repo.ensure_user(s, user_id=13, chat_id=13, first_name="")
        session = await repo.create_session(
            s, user_id=13, routine_id="hips", plan=[{}, {}], status="in_progress", now=T0
        )
    async with db.transaction() as s:
        row = await repo.get_session(s, session_id=session.id or 0, user_id=13)
        assert row is not None
        await repo.add_outcome(s, session=row, step_index=0, technique_id="x", outcome="done")
        assert await repo.advance_session(
            s, session=row, expect_status="in_progress", expect_step=0, status="in_progress", step=1
        )
        assert not await repo.advance_session(
            s, session=row, expect_status="in_progress", expect_step=0, status="in_progress", step=1
        )
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            row = await repo.get_session(s, session_id=session.id or 0, user_id=13)
            assert row is not None
            await repo.add_outcome(s, session=row, step_index=0, technique_id="x", outcome="skipped")
    async with db.transaction() as s:
        assert await repo.get_session(s, session_id=session.id or 0, user_id=999) is None  # not theirs
        outcomes = await repo.session_outcomes(s, session_id=session.id or 0)
    assert [o.outcome for o in outcomes] == ["done"]


async def test_a_failed_transaction_writes_nothing(db: Database) -> None:
    async with db.transaction() as s:
        await repo.ensure_user(s, user_id=14, chat_id=14, first_name="")
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await repo.add_rating(s, user_id=14, value=3, context="free", now=T0)
            raise RuntimeError("boom")
    async with db.transaction() as s:
        assert await repo.ratings_for(s, user_id=14) == []


async def test_red_flag_pauses_and_clears(db: Database) -> None:
    async with db.transaction() as s:
        await repo.ensure_user(s, user_id=15, chat_id=15, first_name="")
        await repo.raise_red_flag(s, user_id=15, categories=["fever"])
    async with db.transaction() as s:
        user = await repo.get_user(s, user_id=15)
        assert user is not None and user.coaching_paused_at is not None
        event = await repo.open_red_flag(s, user_id=15)
        assert event is not None and event.categories == "fever"
        await repo.clear_red_flags(s, user_id=15, reason="checked")
    async with db.transaction() as s:
        user = await repo.get_user(s, user_id=15)
        assert user is not None and user.coaching_paused_at is None
        assert await repo.open_red_flag(s, user_id=15) is None


def test_naive_datetimes_are_refused() -> None:
    row = RoutineSession(user_id=1, routine_id="x", status="s", started_at=datetime(2026, 1, 1) + timedelta(0))
    from storage.models import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(row.started_at, None)  # type: ignore[arg-type]


async def test_a_failed_sqlite_upgrade_leaves_the_previous_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash during a migration must not leave half a schema: the next start migrates cleanly."""
    from alembic.operations import Operations
    from sqlalchemy import inspect

    url = f"sqlite:///{tmp_path / 'half.db'}"
    real_create_table = Operations.create_table
    calls = {"n": 0}

    def crash_after_two_tables(self: Operations, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:  # two tables of the first revision exist by now
            raise RuntimeError("killed mid-migration")
        return real_create_table(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Operations, "create_table", crash_after_two_tables)
    database = Database(url)
    with pytest.raises(RuntimeError, match="killed"):
        await database.migrate()
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert tables == []  # nothing half-done survived
    monkeypatch.undo()
    await database.migrate()
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert "users" in tables and "prompts" in tables
    await database.close()


async def test_inline_sqlite_runs_one_transaction_at_a_time(tmp_path: Path) -> None:
    """A transaction that awaits something else (an answer to Telegram) holds the write lock: another
    task's transaction waits for it on the event loop instead of blocking the loop in SQLite's busy wait."""
    database = Database(f"sqlite:///{tmp_path / 'limber.db'}?timeout=0.5")
    await database.migrate()
    order: list[str] = []
    first_wrote = asyncio.Event()

    async def slow_writer() -> None:
        async with database.transaction() as db:
            await repo.ensure_user(db, user_id=1, chat_id=1, first_name="A")
            first_wrote.set()
            order.append("first wrote")
            await asyncio.sleep(0.8)  # longer than SQLite's busy timeout
            order.append("first done")

    async def second_writer() -> None:
        await first_wrote.wait()
        async with database.transaction() as db:
            order.append("second began")
            await repo.ensure_user(db, user_id=2, chat_id=2, first_name="B")
            async with database.transaction() as nested:  # the same task may nest without waiting
                assert await repo.get_user(nested, user_id=1) is not None

    try:
        await asyncio.wait_for(asyncio.gather(slow_writer(), second_writer()), 10)
        assert order == ["first wrote", "first done", "second began"]
    finally:
        await database.close()
