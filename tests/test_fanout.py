"""The prompt fan-out against Telegram's limits, on the real clock: 429s lose nothing, the rate holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import SystemClock
from storage import prompts as prompt_repo
from storage import repo
from tests.factories import BotProcess, Person, emulator_process

PEOPLE = 70


@pytest.fixture
async def outside_api(tmp_path: Path) -> AsyncIterator[str]:
    async with emulator_process(tmp_path / "files") as url:
        yield url


@pytest.fixture
async def live_bot(outside_api: str, database_url: str) -> AsyncIterator[BotProcess]:
    process = BotProcess(outside_api, database_url, SystemClock(), poll=False, role="clock")
    await process.start()
    yield process
    await process.stop()


async def test_fanout_with_429s_loses_nothing_and_keeps_the_rate(live_bot: BotProcess, outside_api: str) -> None:
    api_url = outside_api
    people = [Person(api_url) for _ in range(PEOPLE)]
    now = live_bot.clock.now()
    for person in people:
        await person.send("hi")  # the chat exists on Telegram's side
        async with live_bot.services.db.transaction() as db:
            await repo.ensure_user(db, user_id=person.user_id, chat_id=person.user_id, first_name="A")
        prefs = await live_bot.schedule(person.user_id, at="07:00", tz="UTC")
        async with live_bot.services.db.transaction() as db:
            prefs = await prompt_repo.preferences_of(db, user_id=person.user_id)
            prefs.next_prompt_at, prefs.next_prompt_date = now - timedelta(minutes=1), now.date()
    client = people[0].client
    await client.fail_next("sendMessage", error_code=429, retry_after=1, times=2)
    try:
        report = await live_bot.prompt_pass()
        assert (report.sent, report.retried_429) == (PEOPLE, 2)
        stats = await client.stats()
        assert stats["sent"] == PEOPLE
        assert stats["max_per_second_overall"] <= 30, stats
        assert max(stats["max_per_second_per_chat"].values()) == 1
        for person in people:
            prompts = [m for m in await person.messages() if "Time for today's stretch" in m["text"]]
            assert len(prompts) == 1, person.user_id
        # After each 429 nothing more was sent until retry_after had passed, but for at most one
        # message that was already on its way when the 429 came back.
        calls = await client.calls("sendMessage")
        for index, call in enumerate(calls):
            if call["status"] == 429:
                soon = [
                    c["time"] - call["time"] for c in calls[index + 1 :] if c["ok"] and c["time"] - call["time"] < 0.95
                ]
                assert len(soon) <= 1, soon
        # A second pass finds nothing left to send.
        assert (await live_bot.prompt_pass()).sent == 0
    finally:
        for person in people:
            await person.close()
