"""Operator commands answer operators only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.factories import BotProcess, FakeClock, Person

OPERATOR = 777


@pytest.fixture
async def bot(api_url: str, database_url: str, clock: FakeClock) -> AsyncIterator[BotProcess]:
    process = BotProcess(api_url, database_url, clock, admin_ids=[OPERATOR])
    await process.start()
    yield process
    await process.stop()


async def test_usage_is_for_operators_only(bot: BotProcess, api_url: str) -> None:
    someone, operator = Person(api_url), Person(api_url, user_id=OPERATOR)
    try:
        await someone.join()
        await someone.send("/usage")
        refused = await someone.expect()
        assert "I don't know the command /usage" in refused["message"]["text"]
        await someone.send("4")
        await someone.expect("Noted")
        await operator.send("/usage")
        figures = (await operator.expect("Usage"))["message"]["text"]
        assert "People: 2" in figures and "Ratings in the last 24 h: 1" in figures
    finally:
        await someone.close()
        await operator.close()
