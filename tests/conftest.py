"""Shared fixtures: the emulator, a database, the running bot, and a person to talk to it.

Tests that use any of them (or start servers and processes themselves, marked per module) are the
end-to-end layer, marked `e2e`; the rest (pure domain, views, content) run alone with `-m "not e2e"`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot import guard
from emulator import Emulator
from testkit.databases import fresh_postgres, postgres_available
from tests.factories import BotProcess, FakeClock, Person

# Fixtures (here and in test modules) that bring up the emulator, a database, the bot or the playground:
# a test using one, directly or through another fixture, is end to end.
E2E_FIXTURES = frozenset(
    {"api_url", "database_url", "bot", "person", "emulator", "db", "proxied_postgres", "postgres_url", "terminal"}
)


# Fixtures that always bring up PostgreSQL, whatever LIMBER_TEST_DATABASE says: a second pass on
# PostgreSQL (.ci/run) would only repeat these tests.
POSTGRES_FIXTURES = frozenset({"proxied_postgres", "postgres_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if E2E_FIXTURES & names:
            item.add_marker(pytest.mark.e2e)
        if POSTGRES_FIXTURES & names:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def no_telegram_inside_transactions() -> Iterator[None]:
    """Every test fails if the bot awaited a Bot API request inside a database transaction (bot.guard)."""
    guard.VIOLATIONS.clear()
    yield
    called, guard.VIOLATIONS[:] = list(guard.VIOLATIONS), []
    assert not called, f"Bot API requests made inside a database transaction: {called}"


@pytest.fixture
async def api_url(tmp_path: Path) -> AsyncIterator[str]:
    emulator = Emulator(files_dir=tmp_path / "files")
    url = await emulator.start()
    yield url
    await emulator.stop()


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """SQLite by default; LIMBER_TEST_DATABASE=postgresql runs every bot test on a fresh PostgreSQL database."""
    if os.environ.get("LIMBER_TEST_DATABASE", "sqlite") != "postgresql":
        yield f"sqlite:///{tmp_path / 'limber.db'}"
        return
    reason = await postgres_available()
    if reason:
        pytest.skip(reason)
    async with fresh_postgres() as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def bot(api_url: str, database_url: str, clock: FakeClock) -> AsyncIterator[BotProcess]:
    process = BotProcess(api_url, database_url, clock)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
async def person(api_url: str, bot: BotProcess) -> AsyncIterator[Person]:
    someone = Person(api_url)
    yield someone
    await someone.close()
