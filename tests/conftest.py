"""Shared fixtures: the emulator, a database, the running bot, and a person to talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator import Emulator
from tests.factories import BotProcess, FakeClock, Person


@pytest.fixture
async def api_url(tmp_path: Path) -> AsyncIterator[str]:
    emulator = Emulator(files_dir=tmp_path / "files")
    url = await emulator.start()
    yield url
    await emulator.stop()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'limber.db'}"


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
